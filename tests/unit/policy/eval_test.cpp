// eval_test: expression evaluation. The table below was produced by running
// each expression as `permit(principal, action, resource) when { <expr> };`
// through cedar-wasm 4.13 (the reference implementation) with the entities
// of kEntities: true/false is the decision, kError a policy error.
#include "policy/eval.hpp"

#include <gtest/gtest.h>

#include <string>

#include "idra/policy.hpp"
#include "policy/ast.hpp"

namespace idra::policy {
namespace {

enum Outcome { kTrue, kFalse, kError };

struct Case {
  const char* expr;
  Outcome outcome;
};

constexpr const char* kEntities = R"([
  {"uid":{"type":"User","id":"a"},"attrs":{"n":1,"r":{"x":1},"s":[1,2]},
   "parents":[{"type":"Group","id":"g"}],"tags":{"t":"v"}},
  {"uid":{"type":"Group","id":"g"},"attrs":{},"parents":[{"type":"Group","id":"h"}]},
  {"uid":{"type":"Action","id":"view"},"attrs":{},"parents":[{"type":"Action","id":"read"}]}
])";

const Case kCases[] = {
    {R"x(ip("10.0.0.1") == ip("10.0.0.1"))x", kTrue},
    {R"x(ip("10.0.0.1/8") == ip("10.0.0.0/8"))x", kFalse},
    {R"x(ip("::ffff:1.2.3.4").isIpv6())x", kError},
    {R"x(ip("::1.2.3.4").isIpv6())x", kError},
    {R"x(ip("1:2:3:4:5:6:1.2.3.4").isIpv6())x", kError},
    {R"x(ip("010.0.0.1").isIpv4())x", kError},
    {R"x(ip("10.0.0.1/08").isIpv4())x", kError},
    {R"x(ip("10.0.0.1/+8").isIpv4())x", kError},
    {R"x(ip("10.0.0.1/33").isIpv4())x", kError},
    {R"x(ip("10.0.0.1/0").isIpv4())x", kTrue},
    {R"x(ip("::1/128").isLoopback())x", kTrue},
    {R"x(ip("::1/127").isLoopback())x", kFalse},
    {R"x(ip("127.0.0.1/7").isLoopback())x", kFalse},
    {R"x(ip("127.0.0.1/8").isLoopback())x", kTrue},
    {R"x(ip("224.0.0.1/3").isMulticast())x", kFalse},
    {R"x(ip("224.0.0.1/4").isMulticast())x", kTrue},
    {R"x(ip("ff00::/8").isMulticast())x", kTrue},
    {R"x(ip("ff00::/7").isMulticast())x", kFalse},
    {R"x(ip("10.0.0.1").isInRange(ip("::/0")))x", kFalse},
    {R"x(ip("10.0.0.0/8").isInRange(ip("10.0.0.0/8")))x", kTrue},
    {R"x(ip("10.0.0.0/7").isInRange(ip("10.0.0.0/8")))x", kFalse},
    {R"x(ip("1::").isIpv6())x", kTrue},
    {R"x(ip("::").isIpv6())x", kTrue},
    {R"x(ip("1:2:3:4:5:6:7::").isIpv6())x", kTrue},
    {R"x(ip("::1:2:3:4:5:6:7").isIpv6())x", kTrue},
    {R"x(ip("1:2:3:4:5:6:7:8:9").isIpv6())x", kError},
    {R"x(ip("12345::").isIpv6())x", kError},
    {R"x(ip(" 10.0.0.1").isIpv4())x", kError},
    {R"x(ip("10.0.0.1/ 8").isIpv4())x", kError},
    {R"x(ip("10.0.0.1/").isIpv4())x", kError},
    {R"x(ip("::1/0128").isIpv6())x", kError},
    {R"x(ip("::1/001").isIpv6())x", kError},
    {R"x(ip("fe80::1%eth0").isIpv6())x", kError},
    {R"x(ip("A::B").isIpv6())x", kTrue},
    {R"x(ip("A::B") == ip("a::b"))x", kTrue},
    {R"x(ip(1))x", kError},
    {R"x(decimal("-0.5") == decimal("0.5"))x", kFalse},
    {R"x(decimal("-0.5").lessThan(decimal("0.0")))x", kTrue},
    {R"x(decimal("1").lessThan(decimal("2.0")))x", kError},
    {R"x(decimal("1.").lessThan(decimal("2.0")))x", kError},
    {R"x(decimal(".5").lessThan(decimal("2.0")))x", kError},
    {R"x(decimal("1.12345").lessThan(decimal("2.0")))x", kError},
    {R"x(decimal("922337203685477.5807").greaterThan(decimal("2.0")))x", kTrue},
    {R"x(decimal("922337203685477.5808").greaterThan(decimal("2.0")))x", kError},
    {R"x(decimal("-922337203685477.5808").lessThan(decimal("2.0")))x", kTrue},
    {R"x(decimal("+1.0").lessThan(decimal("2.0")))x", kError},
    {R"x(decimal("01.0") == decimal("1.0"))x", kTrue},
    {R"x(decimal("1.0") == decimal("1.0000"))x", kTrue},
    {R"x(decimal("1.0") < decimal("2.0"))x", kError},
    {R"x(decimal("1.0").lessThan(1))x", kError},
    {R"x("a".isIpv4())x", kError},
    {R"x(ip("1.2.3.4").isInRange(decimal("1.0")))x", kError},
    {R"x(1 < "a")x", kError},
    {R"x("a" < 1)x", kError},
    {R"x("a" < "b")x", kError},
    {R"x(principal in [Group::"g", 1])x", kError},
    {R"x(principal in [1, Group::"g"])x", kError},
    {R"x(principal in Group::"h")x", kTrue},
    {R"x(principal in [Group::"h"])x", kTrue},
    {R"x(principal in [1])x", kError},
    {R"x(principal in 1)x", kError},
    {R"x(1 in [Group::"h"])x", kError},
    {R"x(User::"zz" in User::"zz")x", kTrue},
    {R"x(User::"zz" in [User::"zz"])x", kTrue},
    {R"x(User::"zz" has x)x", kFalse},
    {R"x(User::"zz".x)x", kError},
    {R"x(User::"zz".x == 1 || true)x", kError},
    {R"x(true || User::"zz".x)x", kTrue},
    {R"x(1 has x)x", kError},
    {R"x("a" has x)x", kError},
    {R"x({x:1} has x)x", kTrue},
    {R"x({x:1} has y)x", kFalse},
    {R"x({x:1}.y)x", kError},
    {R"x(principal has n)x", kTrue},
    {R"x(principal.n == 1)x", kTrue},
    {R"x(principal.r.x == 1)x", kTrue},
    {R"x(principal.s.contains(1))x", kTrue},
    {R"x(principal.s.contains("a"))x", kFalse},
    {R"x(principal.s.containsAll([1]))x", kTrue},
    {R"x(principal.s.containsAny(1))x", kError},
    {R"x([1].isEmpty() == false)x", kTrue},
    {R"x(1.isEmpty())x", kError},
    {R"x([1, "a"] == ["a", 1])x", kTrue},
    {R"x([1, 1] == [1])x", kTrue},
    {R"x({a:1, b:2} == {b:2, a:1})x", kTrue},
    {R"x(principal.hasTag("t"))x", kTrue},
    {R"x(principal.hasTag("u"))x", kFalse},
    {R"x(principal.getTag("t") == "v")x", kTrue},
    {R"x(principal.getTag("u"))x", kError},
    {R"x(User::"zz".hasTag("t"))x", kFalse},
    {R"x(User::"zz".getTag("t"))x", kError},
    {R"x(principal.hasTag(1))x", kError},
    {R"x(1.hasTag("t"))x", kError},
    {R"x("abc" like "a*c")x", kTrue},
    {R"x("a*c" like "a\*c")x", kTrue},
    {R"x("abc" like "a\*c")x", kFalse},
    {R"x(1 like "a")x", kError},
    {R"x(principal is User)x", kTrue},
    {R"x(principal is User in Group::"h")x", kTrue},
    {R"x(principal is Group in Group::"h")x", kFalse},
    {R"x(1 is User)x", kError},
    {R"x(principal is User in 1)x", kError},
    {R"x(principal is Group in 1)x", kFalse},
    {R"x(1 == "a")x", kFalse},
    {R"x(1 == principal)x", kFalse},
    {R"x(if 1 then true else false)x", kError},
    {R"x(if true then true else 1)x", kTrue},
    {R"x(!1)x", kError},
    {R"x(-(1))x", kError},
    {R"x(true && 1)x", kError},
    {R"x(false && 1)x", kFalse},
    {R"x(1 && true)x", kError},
    {R"x(true || 1)x", kTrue},
    {R"x(1 || true)x", kError},
    {R"x(9223372036854775807 + 1 == 0)x", kError},
    {R"x(-9223372036854775807 - 2 == 0)x", kError},
    {R"x(4611686018427387904 * 2 == 0)x", kError},
    {R"x(-(-9223372036854775808) == 0)x", kError},
    {R"x(-9223372036854775808 == -9223372036854775808)x", kTrue},
    {R"x([1, principal.nope] == [1])x", kError},
    {R"x([principal.nope, 1 + "a"] == [1])x", kError},
    {R"x({a: 1 + "a", b: principal.nope} == {})x", kError},
    {R"x(action in Action::"read")x", kTrue},
    {R"x(context has x)x", kFalse},
    {R"x(context.x)x", kError},
    {R"x([1,2].contains(User::"zz".x))x", kError},
    {R"x(ip("1.2.3.4") == "1.2.3.4")x", kFalse},
    {R"x(User::"a" == User::"a")x", kTrue},
    {R"x(principal.r == {x: 1})x", kTrue},
    {R"x(principal.r.isEmpty())x", kError},
    {R"x({b: 1 + "a", a: principal.nope} == {})x", kError},
    {R"x({b: principal.nope, a: 1 + "a"} == {})x", kError},
    {R"x(principal in principal)x", kTrue},
    {R"x(1 in principal.nope)x", kError},
    {R"x(1 + principal.nope)x", kError},
    {R"x(principal.nope + 1)x", kError},
    {R"x("a" + principal.nope)x", kError},
    {R"x([1].contains(principal.nope))x", kError},
    {R"x(principal.nope.contains(1))x", kError},
    {R"x(1.hasTag(principal.nope))x", kError},
    {R"x(principal.hasTag(principal.nope))x", kError},
    {R"x(ip(principal.nope))x", kError},
    {R"x(1.lessThan(principal.nope))x", kError},
    {R"x(principal has nope)x", kFalse},
    {R"x({a:1}["a"] == 1)x", kTrue},
    {R"x(principal["n"] == 1)x", kTrue},
    {R"x("\u{1F600}" like "?")x", kFalse},
    {R"x("\u{1F600}" like "*")x", kTrue},
    {R"x("é" like "*é")x", kTrue},
    {R"x("" like "")x", kTrue},
    {R"x("" like "*")x", kTrue},
    {R"x("abc" like "*")x", kTrue},
    {R"x("abc" like "a*")x", kTrue},
    {R"x("abc" like "*c")x", kTrue},
    {R"x("abc" like "*b*")x", kTrue},
    {R"x("abc" like "a*b*c")x", kTrue},
    {R"x("abc" like "a**c")x", kTrue},
    {R"x("abc" like "ab")x", kFalse},
    {R"x("aaa" like "a*a*a*a")x", kFalse},
    {R"x("aaaa" like "a*a*a*a")x", kTrue},
    {R"x("x*y" like "x\*y")x", kTrue},
    {R"x("日本語" like "日*語")x", kTrue},
    {R"x("日本語" like "日?語")x", kFalse},
    {R"x(User::"a" is User)x", kTrue},
    {R"x(Ns::User::"a" is Ns::User)x", kTrue},
    {R"x(Ns::User::"a" is User)x", kFalse},
    {R"x(principal is User in [Group::"h", Group::"x"])x", kTrue},
    {R"x(principal is User in [Group::"x"])x", kFalse},
    {R"x(principal in [Group::"x", User::"a"])x", kTrue},
    {R"x(principal in [])x", kFalse},
    {R"x(action in [Action::"read"])x", kTrue},
    {R"x(action in Action::"view")x", kTrue},
    {R"x(action == Action::"view")x", kTrue},
    {R"x(resource == Doc::"d")x", kTrue},
    {R"x(resource has x)x", kFalse},
    {R"x(resource.x)x", kError},
    {R"x(context == {})x", kTrue},
    {R"x({} == {})x", kTrue},
    {R"x([] == [])x", kTrue},
    {R"x([[1,2],[3]] == [[3],[2,1]])x", kTrue},
    {R"x([{a:1},{a:1}] == [{a:1}])x", kTrue},
    {R"x([1,2].containsAll([]))x", kTrue},
    {R"x([].containsAny([]))x", kFalse},
    {R"x([1,2].containsAny([2,3]))x", kTrue},
    {R"x([1,2].containsAll([2,3]))x", kFalse},
    {R"x([1,2].containsAll(2))x", kError},
    {R"x([ip("1.2.3.4")].contains(ip("1.2.3.4")))x", kTrue},
    {R"x([decimal("1.0")].contains(decimal("1.00")))x", kTrue},
    {R"x(ip("1.2.3.4/24").isInRange(ip("1.2.3.0/24")))x", kTrue},
    {R"x(ip("1.2.3.4").isInRange(ip("1.2.3.0/24")))x", kTrue},
    {R"x(ip("1.2.4.4").isInRange(ip("1.2.3.0/24")))x", kFalse},
    {R"x(ip("::1").isInRange(ip("::/64")))x", kTrue},
    {R"x(ip("2001:db8::1").isInRange(ip("2001:db8::/32")))x", kTrue},
    {R"x(ip("2001:db9::1").isInRange(ip("2001:db8::/32")))x", kFalse},
    {R"x(ip("0.0.0.0/0").isInRange(ip("0.0.0.0/0")))x", kTrue},
    {R"x(ip("1.2.3.4").isIpv4())x", kTrue},
    {R"x(ip("1.2.3.4").isIpv6())x", kFalse},
    {R"x(ip("1.2.3.256").isIpv4())x", kError},
    {R"x(ip("1.2.3").isIpv4())x", kError},
    {R"x(ip("1.2.3.4.5").isIpv4())x", kError},
    {R"x(ip("1:2:3:4:5:6:7:8").isIpv6())x", kTrue},
    {R"x(ip("1:2:3:4:5:6:7:8/64").isIpv6())x", kTrue},
    {R"x(ip("1:2:3:4:5:6:7:8::").isIpv6())x", kError},
    {R"x(ip("::1:2:3:4:5:6:7:8").isIpv6())x", kError},
    {R"x(ip(":1::").isIpv6())x", kError},
    {R"x(ip("1::2::3").isIpv6())x", kError},
    {R"x(ip("00000::").isIpv6())x", kError},
    {R"x(ip("0000::").isIpv6())x", kTrue},
    {R"x(ip("") == ip(""))x", kError},
    {R"x(ip("1.2.3.4").isLoopback())x", kFalse},
    {R"x(ip("127.255.0.1").isLoopback())x", kTrue},
    {R"x(ip("::2").isLoopback())x", kFalse},
    {R"x(ip("239.255.255.255").isMulticast())x", kTrue},
    {R"x(ip("240.0.0.0").isMulticast())x", kFalse},
    {R"x(ip("1.2.3.4").isInRange(1))x", kError},
    {R"x(ip("1.2.3.4", "x"))x", kError},
    {R"x(decimal("1.5").lessThanOrEqual(decimal("1.5")))x", kTrue},
    {R"x(decimal("1.5").greaterThanOrEqual(decimal("1.6")))x", kFalse},
    {R"x(decimal("-1.5").greaterThan(decimal("-1.6")))x", kTrue},
    {R"x(decimal("1.-5") == decimal("1.5"))x", kError},
    {R"x(decimal("- 1.5") == decimal("1.5"))x", kError},
    {R"x(decimal("1.5 ") == decimal("1.5"))x", kError},
    {R"x(decimal("") == decimal("1.5"))x", kError},
    {R"x(decimal("--1.5") == decimal("1.5"))x", kError},
    {R"x(decimal("99999999999999999999.0") == decimal("1.5"))x", kError},
    {R"x(decimal("-922337203685477.5809") == decimal("1.5"))x", kError},
    {R"x(decimal("1.0") == ip("1.2.3.4"))x", kFalse},
    {R"x(9223372036854775807 * -1 == -9223372036854775807)x", kTrue},
    {R"x(-9223372036854775807 - 1 == -9223372036854775808)x", kTrue},
    {R"x(-9223372036854775808 * -1 == 0)x", kError},
    {R"x(-9223372036854775808 + -1 == 0)x", kError},
    {R"x(1 + 2 * 3 == 7)x", kTrue},
    {R"x(10 - 20 == -10)x", kTrue},
    {R"x(2 < 3 && 3 <= 3 && 4 > 3 && 3 >= 3)x", kTrue},
    {R"x(!(2 < 2))x", kTrue},
    {R"x(if principal.n == 1 then "x" else 1 == "x")x", kError},
    {R"x(if false then 1 + "a" else true)x", kTrue},
    {R"x(if true then 1 + "a" else true)x", kError},
    {R"x(principal.s == [2, 1])x", kTrue},
    {R"x(principal.r has x)x", kTrue},
    {R"x(principal.r has y)x", kFalse},
    {R"x(principal.r.y)x", kError},
    {R"x(principal.n.x)x", kError},
    {R"x(principal.n has x)x", kError},
    {R"x(principal has r.x)x", kTrue},
    {R"x(principal has r.y)x", kFalse},
    {R"x(principal has q.y)x", kFalse},
    {R"x(User::"a" in Group::"g")x", kTrue},
    {R"x(Group::"g" in User::"a")x", kFalse},
    {R"x(Group::"g" in Group::"h")x", kTrue},
    {R"x(Group::"h" in Group::"g")x", kFalse},
    {R"x(Group::"zz" in Group::"zz")x", kTrue},
    {R"x(User::"a" in [1, User::"a"])x", kError},
    {R"x("a" == "a")x", kTrue},
    {R"x("a" != "b")x", kTrue},
    {R"x(1 != 1)x", kFalse},
    {R"x(1 != "a")x", kTrue},
    {R"x(principal != User::"a")x", kFalse},
    {R"x([1, 2] != [2, 1])x", kFalse},
};

class EvalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto entities = Entities::from_json(kEntities);
    ASSERT_TRUE(entities.ok()) << entities.error().message;
    entities_ = std::move(*entities);
    request_.principal = {"User", "a"};
    request_.action = {"Action", "view"};
    request_.resource = {"Doc", "d"};
  }

  // eval parses |text| and evaluates it; a parse failure fails the test.
  Result<Value> eval(std::string_view text, eval::Slots slots = {}) {
    auto expr = ast::parse_expression(text);
    if (!expr.ok()) {
      ADD_FAILURE() << "does not parse: " << text << ": " << expr.error().front().str();
      return make_error("parse");
    }
    eval::Evaluator evaluator(request_, entities_);
    return evaluator.evaluate(**expr, slots);
  }

  std::string error_of(std::string_view text) {
    Result<Value> v = eval(text);
    if (v.ok()) return "no error, value " + to_cedar(*v);
    return v.error().message;
  }

  Entities entities_;
  Request request_;
};

TEST_F(EvalTest, MatchesCedarOnEveryTableCase) {
  for (const Case& c : kCases) {
    Result<Value> v = eval(c.expr);
    Outcome got = kError;
    if (v.ok() && v->is_bool()) got = v->as_bool() ? kTrue : kFalse;
    const char* names[] = {"true", "false", "error"};
    EXPECT_EQ(got, c.outcome) << c.expr << " gave " << names[got]
                              << (v.ok() ? " value " + to_cedar(*v) : " error " + v.error().message)
                              << ", Cedar says " << names[c.outcome];
  }
}

TEST_F(EvalTest, ArithmeticValues) {
  EXPECT_EQ(*eval("1 + 2 * 3"), Value(std::int64_t{7}));
  EXPECT_EQ(*eval("-5 - 5"), Value(std::int64_t{-10}));
  EXPECT_EQ(*eval("-(2)"), Value(std::int64_t{-2}));
  EXPECT_EQ(*eval("9223372036854775807 - 1"), Value(std::int64_t{9223372036854775806}));
  EXPECT_EQ(*eval("-9223372036854775808"), Value(INT64_MIN));
}

TEST_F(EvalTest, ErrorMessagesNameTheProblem) {
  EXPECT_EQ(error_of("1 + \"a\""), "type error: expected long, got string");
  EXPECT_EQ(error_of("if 1 then 2 else 3"), "type error: expected bool, got long");
  EXPECT_EQ(error_of("principal.nope"), "`User::\"a\"` does not have the attribute `nope`");
  EXPECT_EQ(error_of("User::\"zz\".x"), "entity `User::\"zz\"` does not exist");
  EXPECT_EQ(error_of("{a: 1}.b"), "record does not have the attribute `b`");
  EXPECT_EQ(error_of("9223372036854775807 + 1"),
            "integer overflow while attempting to add the values `9223372036854775807` and `1`");
  EXPECT_EQ(error_of("principal.getTag(\"u\")"), "`User::\"a\"` does not have the tag `u`");
  EXPECT_NE(error_of("ip(\"1.2.3\")").find("ipaddr"), std::string::npos);
  EXPECT_NE(error_of("decimal(\"1\")").find("decimal"), std::string::npos);
}

TEST_F(EvalTest, AttributeValuesAreTheStoredOnes) {
  EXPECT_EQ(*eval("principal.r"), Value::record({{"x", Value(std::int64_t{1})}}));
  EXPECT_EQ(*eval("principal.s"), Value::set({Value(std::int64_t{2}), Value(std::int64_t{1})}));
  EXPECT_EQ(*eval("principal.getTag(\"t\")"), Value("v"));
  EXPECT_EQ(*eval("{a: {b: [1]}}.a.b"), Value::set({Value(std::int64_t{1})}));
}

TEST_F(EvalTest, ContextIsReadDirectlyAndAsAWhole) {
  request_.context = {{"ip", Value(IpAddr{false, {10, 0, 0, 1}, 32})},
                      {"n", Value(std::int64_t{3})}};
  EXPECT_EQ(*eval("context.n + 1"), Value(std::int64_t{4}));
  EXPECT_EQ(*eval("context.ip.isInRange(ip(\"10.0.0.0/8\"))"), Value(true));
  EXPECT_EQ(*eval("context has n"), Value(true));
  EXPECT_EQ(*eval("context has m"), Value(false));
  EXPECT_EQ(*eval("context == {n: 3, ip: ip(\"10.0.0.1\")}"), Value(true));
  EXPECT_EQ(error_of("context.m"), "record does not have the attribute `m`");
}

TEST_F(EvalTest, RecordLiteralsEvaluateInKeyOrder) {
  // Cedar keeps record literals in a BTreeMap: `a` is evaluated before `b`
  // whatever the source order, which decides the error reported.
  EXPECT_EQ(error_of("{b: 1 + \"a\", a: principal.nope}"),
            "`User::\"a\"` does not have the attribute `nope`");
  EXPECT_EQ(error_of("{b: principal.nope, a: 1 + \"a\"}"), "type error: expected long, got string");
}

TEST_F(EvalTest, SetsAreCanonical) {
  EXPECT_EQ(to_cedar(*eval("[3, 1, 2, 1]")), "[1, 2, 3]");
  EXPECT_EQ(*eval("[[1, 2], [2, 1]]"),
            Value::set({Value::set({Value(std::int64_t{1}), Value(std::int64_t{2})})}));
}

TEST_F(EvalTest, SlotsEvaluateToTheLinkedEntity) {
  const EntityUid doc{"Doc", "d"};
  auto expr = ast::parse_expression("resource == Doc::\"d\"");
  ASSERT_TRUE(expr.ok());
  ast::Expr slot;
  slot.kind = ast::Kind::slot;
  slot.slot = ast::SlotId::resource;
  eval::Evaluator evaluator(request_, entities_);
  EXPECT_EQ(*evaluator.evaluate(slot, {nullptr, &doc}), Value(doc));
  EXPECT_FALSE(evaluator.evaluate(slot, {}).ok());
}

TEST_F(EvalTest, HandBuiltTreesEvaluate) {
  // principal.n + 1, built without the parser.
  auto var = std::make_unique<ast::Expr>();
  var->kind = ast::Kind::var;
  var->var = ast::Var::principal;
  auto attr = std::make_unique<ast::Expr>();
  attr->kind = ast::Kind::get_attr;
  attr->name = "n";
  attr->args.push_back(std::move(var));
  auto one = std::make_unique<ast::Expr>();
  one->literal = Value(std::int64_t{1});
  ast::Expr add;
  add.kind = ast::Kind::add;
  add.args.push_back(std::move(attr));
  add.args.push_back(std::move(one));
  eval::Evaluator evaluator(request_, entities_);
  EXPECT_EQ(*evaluator.evaluate(add), Value(std::int64_t{2}));
}

TEST(EvalLike, MatchesOverScalarValues) {
  const auto pattern = [](std::u32string_view p) {
    std::vector<ast::PatternElem> out;
    for (char32_t c : p)
      out.push_back(c == U'*' ? ast::PatternElem{true, 0} : ast::PatternElem{false, c});
    return out;
  };
  EXPECT_TRUE(eval::like_matches("", pattern(U"")));
  EXPECT_TRUE(eval::like_matches("", pattern(U"**")));
  EXPECT_FALSE(eval::like_matches("a", pattern(U"")));
  EXPECT_TRUE(eval::like_matches("\xe6\x97\xa5\xe6\x9c\xac", pattern(U"\u65e5*")));
  EXPECT_TRUE(eval::like_matches("\xe6\x97\xa5\xe6\x9c\xac", pattern(U"\u65e5\u672c")));
  EXPECT_FALSE(eval::like_matches("\xe6\x97\xa5", pattern(U"\u65e5\u672c")));
  EXPECT_TRUE(eval::like_matches("abcabcabd", pattern(U"*abd")));
  EXPECT_FALSE(eval::like_matches("abcabcabc", pattern(U"*abd")));
  EXPECT_TRUE(eval::like_matches("a*b", {{false, U'a'}, {false, U'*'}, {false, U'b'}}));
  EXPECT_FALSE(eval::like_matches("axb", {{false, U'a'}, {false, U'*'}, {false, U'b'}}));
  // Invalid UTF-8 never matches a literal character, only a wildcard.
  EXPECT_FALSE(eval::like_matches("\xff", pattern(U"\u00ff")));
  EXPECT_TRUE(eval::like_matches("\xff", pattern(U"*")));
  // Many wildcards against a long text stay fast (no exponential backtracking).
  EXPECT_FALSE(eval::like_matches(std::string(5000, 'a'), pattern(U"*a*a*a*a*a*a*a*a*b")));
}

}  // namespace
}  // namespace idra::policy
