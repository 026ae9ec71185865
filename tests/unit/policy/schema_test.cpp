// Schema parsing in both syntaxes: the same SchemaImpl from equivalent text
// and JSON, name resolution, and every error with its position.
#include "policy/schema.hpp"

#include <gtest/gtest.h>

#include <string>

#include "idra/policy.hpp"

namespace idra::policy {
namespace {

const SchemaImpl& parse_text_ok(const Schema& s) { return s.impl(); }

Schema text_ok(std::string_view text) {
  auto r = Schema::parse_cedarschema(text, "s.cedarschema");
  if (!r) {
    std::string all;
    for (const Diagnostic& d : r.error()) all += d.str() + "\n";
    ADD_FAILURE() << "schema did not parse:\n" << all << text;
    return Schema();
  }
  return std::move(*r);
}

Schema json_ok(std::string_view text) {
  auto r = Schema::parse_json(text, "s.json");
  if (!r) {
    std::string all;
    for (const Diagnostic& d : r.error()) all += d.str() + "\n";
    ADD_FAILURE() << "schema did not parse:\n" << all << text;
    return Schema();
  }
  return std::move(*r);
}

// text_err returns the first diagnostic of a schema that must not parse.
Diagnostic text_err(std::string_view text) {
  auto r = Schema::parse_cedarschema(text, "s.cedarschema");
  if (r) {
    ADD_FAILURE() << "schema parsed but should not:\n" << text;
    return {};
  }
  EXPECT_FALSE(r.error().empty());
  return r.error().front();
}

Diagnostic json_err(std::string_view text) {
  auto r = Schema::parse_json(text, "s.json");
  if (r) {
    ADD_FAILURE() << "schema parsed but should not:\n" << text;
    return {};
  }
  EXPECT_FALSE(r.error().empty());
  return r.error().front();
}

constexpr std::string_view kPhotoText = R"(
// A photo-sharing application.
namespace PhotoApp {
  type Address = { street: String, "zip code"?: String };
  entity User in [UserGroup] = {
    name: String,
    age?: Long,
    address: Address,
    ip: ipaddr,
    limit: __cedar::decimal,
    friends: Set<User>,
  };
  entity UserGroup;
  entity Photo, Album in [Album] { owner: User, tags: Set<String> } tags String;
  entity Color enum ["red", "blue"];
  action viewPhoto, "edit photo" in [Action::"readOnly"] appliesTo {
    principal: [User, UserGroup],
    resource: Photo,
    context: { authenticated: Bool, "source ip"?: ipaddr },
  };
  action readOnly;
  action share in readOnly appliesTo { principal: User, resource: [Photo, Album] };
}
entity Admin;
action "global" in [PhotoApp::Action::"readOnly"] appliesTo { principal: Admin, resource: PhotoApp::Photo };
)";

constexpr std::string_view kPhotoJson = R"({
  "PhotoApp": {
    "commonTypes": {
      "Address": {"type": "Record", "attributes": {
        "street": {"type": "String"},
        "zip code": {"type": "String", "required": false}}}
    },
    "entityTypes": {
      "User": {
        "memberOfTypes": ["UserGroup"],
        "shape": {"type": "Record", "attributes": {
          "name": {"type": "String"},
          "age": {"type": "Long", "required": false},
          "address": {"type": "Address"},
          "ip": {"type": "Extension", "name": "ipaddr"},
          "limit": {"type": "decimal"},
          "friends": {"type": "Set", "element": {"type": "Entity", "name": "User"}}}}
      },
      "UserGroup": {},
      "Photo": {"memberOfTypes": ["Album"],
        "shape": {"type": "Record", "attributes": {
          "owner": {"type": "EntityOrCommon", "name": "User"},
          "tags": {"type": "Set", "element": {"type": "String"}}}},
        "tags": {"type": "String"}},
      "Album": {"memberOfTypes": ["Album"],
        "shape": {"type": "Record", "attributes": {
          "owner": {"type": "Entity", "name": "PhotoApp::User"},
          "tags": {"type": "Set", "element": {"type": "String"}}}},
        "tags": {"type": "String"}},
      "Color": {"enum": ["red", "blue"]}
    },
    "actions": {
      "viewPhoto": {
        "memberOf": [{"id": "readOnly"}],
        "appliesTo": {"principalTypes": ["User", "UserGroup"], "resourceTypes": ["Photo"],
          "context": {"type": "Record", "attributes": {
            "authenticated": {"type": "Boolean"},
            "source ip": {"type": "Extension", "name": "ipaddr", "required": false}}}}
      },
      "edit photo": {
        "memberOf": [{"id": "readOnly", "type": "PhotoApp::Action"}],
        "appliesTo": {"principalTypes": ["User", "UserGroup"], "resourceTypes": ["Photo"],
          "context": {"type": "Record", "attributes": {
            "authenticated": {"type": "Boolean"},
            "source ip": {"type": "Extension", "name": "ipaddr", "required": false}}}}
      },
      "readOnly": {},
      "share": {"memberOf": [{"id": "readOnly"}],
        "appliesTo": {"principalTypes": ["User"], "resourceTypes": ["Photo", "Album"]}}
    }
  },
  "": {
    "entityTypes": {"Admin": {}},
    "actions": {
      "global": {"memberOf": [{"id": "readOnly", "type": "PhotoApp::Action"}],
        "appliesTo": {"principalTypes": ["Admin"], "resourceTypes": ["PhotoApp::Photo"]}}
    }
  }
})";

TEST(SchemaText, ParsesEveryConstruct) {
  Schema s = text_ok(kPhotoText);
  const SchemaImpl& impl = parse_text_ok(s);
  ASSERT_EQ(impl.entity_types.size(), 6u);
  const EntityTypeDef* user = impl.entity_type("PhotoApp::User");
  ASSERT_NE(user, nullptr);
  EXPECT_EQ(user->member_of, std::vector<std::string>{"PhotoApp::UserGroup"});
  ASSERT_EQ(user->attrs.size(), 6u);
  EXPECT_TRUE(user->attrs.at("name").required);
  EXPECT_FALSE(user->attrs.at("age").required);
  EXPECT_EQ(user->attrs.at("age").type.kind, SchemaType::Kind::long_);
  EXPECT_EQ(user->attrs.at("address").type.str(), "{\"street\": String, \"zip code\"?: String}");
  EXPECT_EQ(user->attrs.at("ip").type.str(), "ipaddr");
  EXPECT_EQ(user->attrs.at("limit").type.str(), "decimal");
  EXPECT_EQ(user->attrs.at("friends").type.str(), "Set<PhotoApp::User>");
  const EntityTypeDef* photo = impl.entity_type("PhotoApp::Photo");
  ASSERT_NE(photo, nullptr);
  ASSERT_TRUE(photo->tags.has_value());
  EXPECT_EQ(photo->tags->kind, SchemaType::Kind::string);
  EXPECT_EQ(impl.entity_type("PhotoApp::Album")->attrs.size(), 2u);
  const EntityTypeDef* color = impl.entity_type("PhotoApp::Color");
  ASSERT_NE(color, nullptr);
  ASSERT_TRUE(color->enum_choices.has_value());
  EXPECT_EQ(*color->enum_choices, (std::vector<std::string>{"red", "blue"}));

  const ActionDef* view = impl.action(EntityUid{"PhotoApp::Action", "viewPhoto"});
  ASSERT_NE(view, nullptr);
  EXPECT_EQ(view->principals, (std::vector<std::string>{"PhotoApp::User", "PhotoApp::UserGroup"}));
  EXPECT_EQ(view->resources, std::vector<std::string>{"PhotoApp::Photo"});
  EXPECT_EQ(view->context.attrs.size(), 2u);
  EXPECT_FALSE(view->context.attrs.at("source ip").required);
  ASSERT_NE(impl.action(EntityUid{"PhotoApp::Action", "edit photo"}), nullptr);
  const ActionDef* global = impl.action(EntityUid{"Action", "global"});
  ASSERT_NE(global, nullptr);
  EXPECT_EQ(global->member_of, (std::vector<EntityUid>{{"PhotoApp::Action", "readOnly"}}));
  EXPECT_EQ(global->resources, std::vector<std::string>{"PhotoApp::Photo"});
  // An action without appliesTo applies to nothing.
  EXPECT_TRUE(impl.action(EntityUid{"PhotoApp::Action", "readOnly"})->principals.empty());

  // Derived hierarchy tables.
  EXPECT_EQ(impl.types_in("PhotoApp::UserGroup"),
            (std::set<std::string>{"PhotoApp::User", "PhotoApp::UserGroup"}));
  EXPECT_EQ(impl.types_in("PhotoApp::Album"),
            (std::set<std::string>{"PhotoApp::Album", "PhotoApp::Photo"}));
  const auto& below = impl.action_descendants.at(EntityUid{"PhotoApp::Action", "readOnly"});
  EXPECT_EQ(below.size(), 4u);
  EXPECT_TRUE(below.count(EntityUid{"Action", "global"}));
  EXPECT_TRUE(impl.action_types.count("Action"));
  EXPECT_TRUE(impl.action_types.count("PhotoApp::Action"));
}

TEST(SchemaJson, SameSchemaAsText) {
  Schema text = text_ok(kPhotoText);
  Schema json = json_ok(kPhotoJson);
  EXPECT_TRUE(text.impl().same_content(json.impl()));
  EXPECT_EQ(text.impl().descendant_types, json.impl().descendant_types);
  EXPECT_EQ(text.impl().action_descendants, json.impl().action_descendants);
}

TEST(SchemaText, EmptySchemaAndEmptyRecords) {
  Schema s = text_ok("");
  EXPECT_TRUE(s.impl().entity_types.empty());
  Schema t = text_ok(
      "entity A {}; entity B = {}; action a appliesTo { principal: A, resource: B, context: {} };");
  EXPECT_TRUE(t.impl().entity_type("A")->attrs.empty());
  Schema j = json_ok(R"({"": {"entityTypes": {}, "actions": {}}})");
  EXPECT_TRUE(j.impl().actions.empty());
}

TEST(SchemaText, NameResolution) {
  // A common type shadows the entity type of the same name; names of the
  // empty namespace are found from inside a namespace.
  Schema s = text_ok("namespace N { type B = Long; entity B; entity A { x: B, y: C }; } entity C;");
  const EntityTypeDef* a = s.impl().entity_type("N::A");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->attrs.at("x").type.kind, SchemaType::Kind::long_);
  EXPECT_EQ(a->attrs.at("y").type.str(), "C");
  // An entity type named like a builtin shadows it; __cedar:: still reaches the builtin.
  Schema t =
      text_ok("entity String; entity A { x: String, y: __cedar::String, z: __cedar::Bool };");
  EXPECT_EQ(t.impl().entity_type("A")->attrs.at("x").type.kind, SchemaType::Kind::entity);
  EXPECT_EQ(t.impl().entity_type("A")->attrs.at("y").type.kind, SchemaType::Kind::string);
  // Common types may refer to each other in any order, and to entity types.
  Schema u = text_ok("type A = Set<B>; type B = { e: E }; entity E { a: A };");
  EXPECT_EQ(u.impl().entity_type("E")->attrs.at("a").type.str(), "Set<{\"e\": E}>");
  // Context through a common type.
  Schema v = text_ok(
      "type Ctx = { ok: Bool }; entity U; action a appliesTo { principal: U, resource: U, context: "
      "Ctx };");
  EXPECT_EQ(v.impl().action(EntityUid{"Action", "a"})->context.attrs.size(), 1u);
  // Entity types in memberOf and appliesTo: this namespace first, then the empty one.
  Schema w = text_ok(
      "entity G; namespace N { entity U in [G]; action a appliesTo { principal: U, resource: G }; "
      "}");
  EXPECT_EQ(w.impl().entity_type("N::U")->member_of, std::vector<std::string>{"G"});
  // JSON {"type": "X"} names a common type or a builtin.
  Schema x = json_ok(R"({"": {"commonTypes": {"T": {"type": "Long"}}, "entityTypes": {"A": {"shape":
      {"type": "Record", "attributes": {"t": {"type": "T"}, "b": {"type": "Bool"}, "i": {"type": "ipaddr"}}}}},
      "actions": {}}})");
  EXPECT_EQ(x.impl().entity_type("A")->attrs.at("t").type.kind, SchemaType::Kind::long_);
  EXPECT_EQ(x.impl().entity_type("A")->attrs.at("b").type.kind, SchemaType::Kind::boolean);
  EXPECT_EQ(x.impl().entity_type("A")->attrs.at("i").type.kind, SchemaType::Kind::extension);
}

TEST(SchemaText, DuplicateAttributesKeepTheLast) {
  // Cedar keeps the last declaration of an attribute and never looks at the
  // earlier ones (so an unknown type there is no error).
  Schema s = text_ok("entity A { x: Foo, x: Long, y?: String, y: Bool };");
  EXPECT_EQ(s.impl().entity_type("A")->attrs.at("x").type.kind, SchemaType::Kind::long_);
  EXPECT_TRUE(s.impl().entity_type("A")->attrs.at("y").required);
}

TEST(SchemaText, ListsAndTrailingCommas) {
  // Records and appliesTo may end with a comma; entity type lists may not.
  Schema s = text_ok("entity A { x: Long, }; action a appliesTo { principal: [A], resource: A, };");
  EXPECT_NE(s.impl().action(EntityUid{"Action", "a"}), nullptr);
  Diagnostic d = text_err("entity A; entity B in [A, ];");
  EXPECT_EQ(d.column, 27u);
  Schema t = text_ok("entity A in [];");
  EXPECT_TRUE(t.impl().entity_type("A")->member_of.empty());
}

TEST(SchemaText, Annotations) {
  Schema s = text_ok(R"(@doc("app") namespace N { @doc("user") entity U { @doc("n") name: String };
      @a @b("x") action a appliesTo { principal: U, resource: U }; })");
  EXPECT_NE(s.impl().entity_type("N::U"), nullptr);
  Diagnostic d = text_err("@doc(\"a\") @doc(\"b\") entity U;");
  EXPECT_EQ(d.line, 1u);
  EXPECT_EQ(d.column, 12u);
  EXPECT_NE(d.message.find("duplicate annotations"), std::string::npos);
}

TEST(SchemaText, SyntaxErrorsHavePositions) {
  Diagnostic d = text_err("entity A {\n  x: Long\n  y: String };");
  EXPECT_EQ(d.file, "s.cedarschema");
  EXPECT_EQ(d.line, 3u);
  EXPECT_EQ(d.column, 3u);
  EXPECT_NE(d.message.find("unexpected token `y`"), std::string::npos) << d.message;
  d = text_err("entity A");
  EXPECT_NE(d.message.find("end of input"), std::string::npos);
  d = text_err("entity in;");
  EXPECT_NE(d.message.find("reserved"), std::string::npos);
  d = text_err("entity A { \"x\\q\": Long };");
  EXPECT_NE(d.message.find("escape"), std::string::npos);
  d = text_err("entity Color enum [];");
  EXPECT_EQ(d.column, 20u);
  d = text_err("entity A; action a appliesTo { principal: A };");
  EXPECT_NE(d.message.find("missing `resource`"), std::string::npos);
  d = text_err("entity A; action a appliesTo { principal: [], resource: A };");
  EXPECT_NE(d.message.find("[]"), std::string::npos);
  d = text_err("entity A; action a appliesTo { principal: A, resource: A, principal: A };");
  EXPECT_NE(d.message.find("duplicate"), std::string::npos);
  d = text_err("entity A; action a appliesTo {};");
  EXPECT_EQ(d.column, 31u);
  d = text_err("entity A # ;");
  EXPECT_EQ(d.column, 10u);
  d = text_err(std::string(300, '{'));
  EXPECT_FALSE(d.message.empty());
  d = text_err("type T = " + std::string(1000, 'S'));
  EXPECT_FALSE(d.message.empty());
  std::string deep = "type T = ";
  for (int i = 0; i < 500; ++i) deep += "Set<";
  d = text_err(deep);
  EXPECT_NE(d.message.find("nested too deeply"), std::string::npos);
}

TEST(SchemaText, SemanticErrors) {
  Diagnostic d = text_err("entity A;\nentity A;");
  EXPECT_EQ(d.line, 2u);
  EXPECT_EQ(d.column, 8u);
  EXPECT_NE(d.message.find("declared twice"), std::string::npos);
  d = text_err("entity A {\n  x: Foo };");
  EXPECT_EQ(d.line, 2u);
  EXPECT_EQ(d.column, 6u);
  EXPECT_NE(d.message.find("failed to resolve type: Foo"), std::string::npos);
  d = text_err("entity A in [B];");
  EXPECT_EQ(d.column, 14u);
  d = text_err("entity A; action a appliesTo { principal: A, resource: B };");
  EXPECT_NE(d.message.find("B"), std::string::npos);
  d = text_err("action a in b;");
  EXPECT_NE(d.message.find("undeclared action: Action::\"b\""), std::string::npos);
  d = text_err("action a in b; action b in a;");
  EXPECT_NE(d.message.find("cycle in action hierarchy"), std::string::npos);
  d = text_err("action a in a;");
  EXPECT_NE(d.message.find("cycle"), std::string::npos);
  d = text_err("type T = U; type U = T; entity A { x: T };");
  EXPECT_NE(d.message.find("cycle in common type references"), std::string::npos);
  d = text_err("type T = { a: Set<T> };");
  EXPECT_NE(d.message.find("cycle"), std::string::npos);
  d = text_err("type T = Long; type T = String;");
  EXPECT_NE(d.message.find("declared twice"), std::string::npos);
  d = text_err("type Long = String;");
  EXPECT_NE(d.message.find("reserved"), std::string::npos);
  d = text_err("type Set = String;");
  EXPECT_NE(d.message.find("reserved"), std::string::npos);
  d = text_err("action \"a\"; action a;");
  EXPECT_NE(d.message.find("declared twice"), std::string::npos);
  d = text_err("entity U; namespace N { entity U; }");
  EXPECT_NE(d.message.find("illegally shadows"), std::string::npos);
  d = text_err("type U = Long; namespace N { entity U; }");
  EXPECT_NE(d.message.find("illegally shadows"), std::string::npos);
  d = text_err("action a; namespace N { action a; }");
  EXPECT_NE(d.message.find("illegally shadows"), std::string::npos);
  d = text_err("namespace N { entity A; } namespace N { entity B; }");
  EXPECT_NE(d.message.find("duplicate namespace"), std::string::npos);
  d = text_err("namespace __cedar { entity A; }");
  EXPECT_NE(d.message.find("__cedar"), std::string::npos);
  d = text_err(
      "type T = Long; entity U; action a appliesTo { principal: U, resource: U, context: T };");
  EXPECT_NE(d.message.find("other than `Record`"), std::string::npos);
  d = text_err("entity A { x: Boolean };");
  EXPECT_NE(d.message.find("Boolean"), std::string::npos);
  // A name of another namespace must be qualified.
  d = text_err("namespace N { entity A; } namespace M { entity C in [A]; }");
  EXPECT_NE(d.message.find("A"), std::string::npos);
  // Every error is reported, not only the first.
  auto r = Schema::parse_cedarschema("entity A { x: Foo, y: Bar };", "f");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().size(), 2u);
}

TEST(SchemaJson, Errors) {
  Diagnostic d = json_err("{\"\": {\"entityTypes\": {}, \"actions\": {}");
  EXPECT_NE(d.message.find("invalid JSON"), std::string::npos);
  d = json_err("[]");
  EXPECT_NE(d.message.find("object"), std::string::npos);
  d = json_err(R"({"": {"entityTypes": {}}})");
  EXPECT_NE(d.message.find("missing field `actions`"), std::string::npos);
  d = json_err("{\"\": {\"entityTypes\": {},\n \"actions\": {}, \"foo\": 1}}");
  EXPECT_NE(d.message.find("unknown field `foo`"), std::string::npos);
  EXPECT_EQ(d.line, 2u);
  EXPECT_EQ(d.column, 17u);
  d = json_err(
      "{\"\": {\"entityTypes\": {\"A\": {\"shape\": {\"type\": \"Record\", \"attributes\": {\n"
      "   \"x\": {\"type\": \"B\"}}}}, \"B\": {}}, \"actions\": {}}}");
  EXPECT_NE(d.message.find("failed to resolve type: B"), std::string::npos) << d.message;
  EXPECT_EQ(d.line, 2u);
  EXPECT_EQ(d.column, 4u);
  d = json_err(R"({"": {"entityTypes": {"A": {"shape": {"type": "Long"}}}, "actions": {}}})");
  EXPECT_NE(d.message.find("not a record"), std::string::npos);
  d = json_err(R"({"": {"entityTypes": {"A": {"shape": {"type": "Set"}}}, "actions": {}}})");
  EXPECT_NE(d.message.find("missing field `element`"), std::string::npos);
  d = json_err(
      R"({"": {"entityTypes": {"A": {}}, "actions": {"a": {"appliesTo": {"resourceTypes": ["A"]}}}}})");
  EXPECT_NE(d.message.find("principalTypes"), std::string::npos);
  d = json_err(R"({"": {"entityTypes": {"A": {"enum": []}}, "actions": {}}})");
  EXPECT_NE(d.message.find("enum"), std::string::npos);
  d = json_err(
      R"({"": {"entityTypes": {"A": {"enum": ["a"], "shape": {"type": "Record", "attributes": {}}}}, "actions": {}}})");
  EXPECT_NE(d.message.find("shape"), std::string::npos);
  d = json_err(
      R"({"": {"entityTypes": {"A": {"shape": {"type": "Record", "attributes": {}, "additionalAttributes": true}}}, "actions": {}}})");
  EXPECT_NE(d.message.find("additionalAttributes"), std::string::npos);
  d = json_err(R"({"__cedar": {"entityTypes": {}, "actions": {}}})");
  EXPECT_NE(d.message.find("__cedar"), std::string::npos);
  d = json_err(
      R"({"": {"entityTypes": {"A": {"shape": {"type": "Record", "attributes": {"x": {"type": "Extension", "name": "foo"}}}}}, "actions": {}}})");
  EXPECT_NE(d.message.find("unknown extension type `foo`"), std::string::npos);
  d = json_err(
      R"({"": {"entityTypes": {"A": {"shape": {"type": "Record", "attributes": {"x": {"type": "Entity", "name": "Long"}}}}}, "actions": {}}})");
  EXPECT_NE(d.message.find("Long"), std::string::npos);
  d = json_err(R"({"": {"entityTypes": {}, "actions": {"a": {"memberOf": [{"id": "b"}]}}}})");
  EXPECT_NE(d.message.find("undeclared action"), std::string::npos);
  d = json_err(R"({"": {"entityTypes": {"if": {}}, "actions": {}}})");
  EXPECT_NE(d.message.find("invalid entity type name"), std::string::npos);
  std::string deep(500, '[');
  d = json_err(deep);
  EXPECT_NE(d.message.find("deeply"), std::string::npos);
}

TEST(SchemaJson, EmptyPrincipalListIsAllowed) {
  // Unlike the text syntax, JSON may list no principal types: the action applies to nothing.
  Schema s = json_ok(R"({"": {"entityTypes": {"A": {}}, "actions": {"a": {"appliesTo":
      {"principalTypes": [], "resourceTypes": ["A"]}}}}})");
  EXPECT_TRUE(s.impl().action(EntityUid{"Action", "a"})->principals.empty());
}

}  // namespace
}  // namespace idra::policy
