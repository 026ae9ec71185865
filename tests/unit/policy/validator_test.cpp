// Strict validation of policies against a schema, and request validation.
// Every verdict below was checked against Cedar 4.13 (cedar-wasm).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "idra/policy.hpp"
#include "policy/schema.hpp"

namespace idra::policy {
namespace {

constexpr std::string_view kSchema = R"(
entity User in [Group] {
  name: String,
  age?: Long,
  tags: Set<String>,
  ip?: ipaddr,
  d: decimal,
  friends: Set<User>,
  info: { x?: Bool, y: Long },
} tags Long;
entity Group;
entity Color enum ["red", "green"];
entity Doc in [Group] { owner: User };
action view appliesTo {
  principal: [User],
  resource: [Doc],
  context: { n: Long, s?: String, r: { a?: Long } },
};
action edit in [view] appliesTo {
  principal: [User, Group],
  resource: [Doc, Group],
  context: { n: Long, r: { a: Long } },
};
action unused;
)";

const Schema& schema() {
  static const Schema s = [] {
    auto r = Schema::parse_cedarschema(kSchema, "app.cedarschema");
    if (!r) {
      for (const Diagnostic& d : r.error()) ADD_FAILURE() << d.str();
      return Schema();
    }
    return std::move(*r);
  }();
  return s;
}

std::vector<Diagnostic> check(std::string_view policies) {
  auto set = PolicySet::parse(policies, "p.cedar");
  if (!set) {
    std::string all;
    for (const Diagnostic& d : set.error()) all += d.str() + "\n";
    ADD_FAILURE() << "policy did not parse: " << all << policies;
    return {Diagnostic{"", 0, 0, "parse error"}};
  }
  return validate(schema(), *set);
}

std::string render(const std::vector<Diagnostic>& ds) {
  std::string out;
  for (const Diagnostic& d : ds) out += d.str() + "\n";
  return out;
}

// kHead restricts policies to the `view` action (User principals, Doc
// resources) so that each case shows one problem.
constexpr std::string_view kHead =
    "permit(principal, action == Action::\"view\", resource) when { ";

void expect_valid(std::string_view when) {
  const std::string policy = std::string(kHead) + std::string(when) + " };";
  const std::vector<Diagnostic> errors = check(policy);
  EXPECT_TRUE(errors.empty()) << policy << "\n" << render(errors);
}

// expect_invalid checks that |when| is rejected and that the first error
// names the policy and sits at |column| of line 1 (0: any position).
void expect_invalid(std::string_view when, std::uint32_t column = 0,
                    std::string_view message = "") {
  const std::string policy = std::string(kHead) + std::string(when) + " };";
  const std::vector<Diagnostic> errors = check(policy);
  ASSERT_FALSE(errors.empty()) << policy;
  EXPECT_EQ(errors[0].file, "p.cedar");
  EXPECT_NE(errors[0].message.find("policy `policy0`"), std::string::npos) << errors[0].message;
  if (column != 0) {
    EXPECT_EQ(errors[0].line, 1u);
    EXPECT_EQ(errors[0].column, column) << policy << "\n" << render(errors);
  }
  if (!message.empty()) {
    EXPECT_NE(errors[0].message.find(message), std::string::npos) << render(errors);
  }
}

// The column where the condition starts.
constexpr std::uint32_t kCond = kHead.size() + 1;

TEST(ValidatorNames, UnknownEntityTypesAndActions) {
  auto errors = check("permit(principal == Usr::\"a\", action, resource);");
  ASSERT_EQ(errors.size(), 1u) << render(errors);
  EXPECT_NE(errors[0].message.find("unrecognized entity type `Usr`"), std::string::npos);
  EXPECT_EQ(errors[0].line, 1u);
  EXPECT_EQ(errors[0].column, 8u);

  errors = check("permit(principal, action == Action::\"delete\", resource);");
  ASSERT_FALSE(errors.empty());
  EXPECT_NE(errors[0].message.find("unrecognized action `Action::\"delete\"`"), std::string::npos);

  expect_invalid("principal is Foo", kCond, "unrecognized entity type `Foo`");
  expect_invalid("Foo::\"x\" == principal", kCond, "unrecognized entity type `Foo`");
  expect_invalid("action in Action::\"nope\"", kCond + 10, "unrecognized action");
  // Enumerated entity types only have their listed ids.
  expect_invalid("principal == Color::\"blue\"", kCond + 13, "not one of its choices");
  expect_valid("Color::\"red\" == Color::\"green\"");
}

TEST(ValidatorScope, ImpossibleScopesAreWarningsInCedar) {
  // Cedar reports "unable to find an applicable action" and "policy is
  // impossible" as warnings: such policies are valid.
  EXPECT_TRUE(
      check("permit(principal == Group::\"a\", action == Action::\"view\", resource);").empty());
  EXPECT_TRUE(check("permit(principal, action == Action::\"unused\", resource);").empty());
  EXPECT_TRUE(check("permit(principal, action, resource) when { 1 == \"a\" };").empty());
  // ...and a false scope hides errors of the body: it is never evaluated.
  EXPECT_TRUE(check("permit(principal is Group, action == Action::\"view\", resource) when { "
                    "principal.nope };")
                  .empty());
  // The action hierarchy: edit is in view, so `in view` includes edit's Group principals.
  auto errors = check(
      "permit(principal, action in Action::\"view\", resource) when { principal.name == \"a\" };");
  ASSERT_FALSE(errors.empty());
  EXPECT_NE(errors[0].message.find("attribute `name` on entity type `Group` not found"),
            std::string::npos)
      << render(errors);
  EXPECT_TRUE(check("permit(principal, action == Action::\"view\", resource) when { principal.name "
                    "== \"a\" };")
                  .empty());
  EXPECT_TRUE(check("permit(principal is User, action, resource) when { principal.name == \"a\" };")
                  .empty());
  EXPECT_TRUE(check("permit(principal in Group::\"g\", action, resource is Doc) when { "
                    "resource.owner.name == \"a\" };")
                  .empty());
  // An empty action list is an empty set literal, which strict mode forbids.
  errors = check("permit(principal, action in [], resource);");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].message.find("empty set"), std::string::npos);
}

TEST(ValidatorAttributes, UnknownAndOptional) {
  expect_invalid("principal.nope", kCond, "attribute `nope` on entity type `User` not found");
  expect_invalid("principal has name && principal.age > 1", kCond + 22,
                 "unable to guarantee safety of access to optional attribute `age`");
  expect_valid("principal has age && principal.age > 1");
  // Cedar learns nothing from a false `has`: the right of `||` is unguarded.
  expect_invalid("!(principal has age) || principal.age > 1", kCond + 24);
  expect_invalid("principal has age || principal.age > 1", kCond + 21);
  expect_valid("if principal has age then principal.age > 1 else false");
  expect_invalid("if principal has age then false else principal.age > 1");
  // `||` keeps what both sides know; `if` what both branches know.
  expect_valid("(principal has age || principal has age) && principal.age > 1");
  expect_invalid("(principal has age || principal has name) && principal.age > 1");
  expect_valid("(false || principal has age) && principal.age > 1");
  expect_valid("(principal has age || true) || principal.age > 1");
  expect_valid(
      "(if context.n > 1 then principal has age else principal has age) && principal.age > 0");
  // Context and nested records: optional in view's context, required in edit's.
  expect_invalid("context.s == \"x\"", kCond,
                 "optional attribute `s` in context for Action::\"view\"");
  expect_valid("context has s && context.s == \"x\"");
  expect_invalid("context.r.a > 1", kCond, "optional attribute `a`");
  expect_valid("context has r.a && context.r.a > 1");
  expect_valid("context.r has a && context.r.a > 1");
  expect_invalid("principal.info.x", kCond);
  expect_valid("principal has info.x && principal.info.x");
  // `has` on something that is not an entity or record.
  expect_invalid("principal.name has x", kCond, "unexpected type");
}

TEST(ValidatorTypes, Errors) {
  expect_invalid("principal.age", 0);  // optional, and not a Bool anyway
  expect_invalid("context.n", kCond, "expected Bool but saw Long");
  expect_invalid("context.n == \"a\"", kCond, "not compatible");
  expect_valid("1 == \"a\"");  // two literals: a known `false`, not an error
  expect_invalid("[1] == [\"a\"]", kCond, "not compatible");
  expect_invalid("[1, \"a\"].contains(1)", kCond, "not compatible");
  expect_invalid("[] == []", kCond, "empty set");
  expect_invalid("principal.tags.contains(1)", kCond, "not compatible");
  expect_valid("principal.tags.contains(\"x\")");
  expect_invalid("principal.tags.containsAll([1])", kCond, "not compatible");
  expect_invalid("{a: 1} == {a: \"x\"}", kCond, "not compatible");
  expect_invalid("{a: 1} == {b: 1}", kCond, "not compatible");
  expect_invalid("principal.age like \"a\"", 0);
  expect_invalid("principal like \"a\"", kCond, "expected String");
  expect_valid("principal.name like \"a*\"");
  expect_invalid("context.n + \"a\" > 1", kCond + 12, "expected Long");
  expect_valid("-context.n < 3 && context.n * 2 >= context.n - 1");
  expect_invalid("principal.d < principal.d", kCond, "saw decimal");
  expect_valid("principal.d.lessThan(decimal(\"1.5\"))");
  expect_invalid("if context.n > 1 then 1 else \"a\"", kCond, "not compatible");
  expect_valid("(if false then 1 else \"a\") == \"a\"");
  expect_invalid("principal == principal.friends", 0);
  expect_valid("resource.owner == principal");
  expect_valid("resource.owner in principal.friends");
  expect_invalid("principal in context.n", kCond + 13, "expected an entity or a set of entities");
  expect_invalid("context.n in [principal]", kCond, "expected an entity");
  expect_valid("principal is User");
  expect_valid("action is Action");
  expect_invalid("context.n is User", kCond, "expected an entity");
  expect_invalid("action.foo", kCond, "not found");
}

TEST(ValidatorTypes, TagsAndExtensions) {
  expect_valid("principal.hasTag(\"k\") && principal.getTag(\"k\") > 1");
  expect_invalid("principal.getTag(\"k\") > 1", kCond, "tag");
  expect_valid("resource.hasTag(\"k\") == false");  // Doc has no tags: always false
  expect_valid("ip(\"10.0.0.1\").isInRange(ip(\"10.0.0.0/8\"))");
  expect_invalid("ip(\"1.2.3\").isIpv4()", kCond, "argument validation");
  expect_invalid("decimal(\"1.23456\") == decimal(\"1.0\")", kCond, "argument validation");
  expect_invalid("context has s && ip(context.s).isIpv4()", kCond + 17, "non-literal");
  expect_invalid("ip(\"1.2.3.4\").lessThan(decimal(\"1.0\"))", 0, "expected decimal");
  expect_valid("principal has ip && principal.ip.isLoopback()");
  expect_valid("duration(\"1h30m\") < duration(\"2h\")");
  expect_invalid("duration(\"1x\") < duration(\"2h\")", kCond, "duration");
  expect_invalid("datetime(\"2024-02-30\") == datetime(\"2024-01-01\")", kCond, "datetime");
  expect_valid(
      "datetime(\"2024-02-29T10:00:00.123+0100\").offset(duration(\"1d\")) > "
      "datetime(\"2024-01-01\")");
}

TEST(ValidatorPositions, ErrorsPointAtTheExpression) {
  auto errors = check(
      "@id(\"first\")\npermit(principal, action, resource);\n"
      "@id(\"second\")\nforbid(principal, action == Action::\"view\", resource)\n"
      "when {\n  principal.name == \"a\" &&\n    context.s == \"b\"\n};");
  ASSERT_EQ(errors.size(), 1u) << render(errors);
  EXPECT_EQ(errors[0].file, "p.cedar");
  EXPECT_EQ(errors[0].line, 7u);
  EXPECT_EQ(errors[0].column, 5u);
  EXPECT_NE(errors[0].message.find("policy `second`"), std::string::npos);
  EXPECT_EQ(errors[0].str().rfind("p.cedar:7:5: policy `second`", 0), 0u) << errors[0].str();
}

TEST(ValidatorTemplates, SlotsTakeEveryPossibleType) {
  auto set = PolicySet::parse(
      "@id(\"t\") permit(principal in ?principal, action, resource) when { principal.name == \"a\" "
      "};\n"
      "@id(\"u\") permit(principal == ?principal, action == Action::\"view\", resource in "
      "?resource)"
      " when { resource.owner == principal };",
      "t.cedar");
  ASSERT_TRUE(set.ok());
  auto errors = validate(schema(), *set);
  // Template t: Group principals (edit) have no name.
  ASSERT_EQ(errors.size(), 1u) << render(errors);
  EXPECT_NE(errors[0].message.find("policy `t`"), std::string::npos);
  EXPECT_NE(errors[0].message.find("Group"), std::string::npos);

  // A link to an unknown entity type is reported under the link's id.
  ASSERT_TRUE(
      set->link("u", "link1",
                {{"?principal", EntityUid{"Nope", "x"}}, {"?resource", EntityUid{"Doc", "d"}}})
          .ok());
  errors = validate(schema(), *set);
  bool found = false;
  for (const Diagnostic& d : errors)
    found = found || d.message.find("policy `link1`") != std::string::npos;
  EXPECT_TRUE(found) << render(errors);
}

TEST(ValidatorSchemas, JsonAndNamespaces) {
  auto s = Schema::parse_json(R"({"App": {
      "entityTypes": {"User": {"shape": {"type": "Record", "attributes": {"age": {"type": "Long", "required": false}}}}},
      "actions": {"read": {"appliesTo": {"principalTypes": ["User"], "resourceTypes": ["User"]}}}}})");
  ASSERT_TRUE(s.ok());
  auto set = PolicySet::parse(
      "permit(principal, action == App::Action::\"read\", resource) when { principal.age > 1 };\n"
      "permit(principal, action == App::Action::\"read\", resource) when { principal has age && "
      "principal.age > 1 };\n"
      "permit(principal == User::\"a\", action, resource);");
  ASSERT_TRUE(set.ok());
  auto errors = validate(*s, *set);
  ASSERT_EQ(errors.size(), 2u) << render(errors);
  EXPECT_NE(errors[0].message.find("policy `policy0`"), std::string::npos);
  EXPECT_NE(errors[1].message.find("policy `policy2`"), std::string::npos);
  EXPECT_NE(errors[1].message.find("unrecognized entity type `User`"), std::string::npos);
}

TEST(ValidatorRequest, ChecksActionTypesAndContext) {
  Request ok{EntityUid{"User", "a"}, EntityUid{"Action", "view"}, EntityUid{"Doc", "d"},
             RecordValue{{"n", Value(std::int64_t{1})}, {"r", Value::record({})}}};
  EXPECT_TRUE(validate_request(schema(), ok).ok());

  Request r = ok;
  r.action = EntityUid{"Action", "nope"};
  EXPECT_FALSE(validate_request(schema(), r).ok());
  r = ok;
  r.principal = EntityUid{"Group", "g"};  // view does not apply to Group principals
  EXPECT_FALSE(validate_request(schema(), r).ok());
  r = ok;
  r.resource = EntityUid{"Nope", "x"};
  EXPECT_FALSE(validate_request(schema(), r).ok());
  r = ok;
  r.context.erase("n");  // required
  auto res = validate_request(schema(), r);
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.error().message.find("`n`"), std::string::npos);
  r = ok;
  r.context["n"] = Value("one");
  EXPECT_FALSE(validate_request(schema(), r).ok());
  r = ok;
  r.context["extra"] = Value(true);
  EXPECT_FALSE(validate_request(schema(), r).ok());
  r = ok;
  r.context["s"] = Value("optional");
  EXPECT_TRUE(validate_request(schema(), r).ok());
}

}  // namespace
}  // namespace idra::policy
