// json_test: Cedar's JSON value, context and entities formats, and entity
// uids in Cedar syntax. Accept/reject cases follow cedar-wasm 4.13.
#include <gtest/gtest.h>

#include "idra/policy.hpp"
#include "policy/extensions.hpp"

namespace idra::policy {
namespace {

Value L(std::int64_t n) { return Value(n); }

TEST(JsonValueTest, ReadsEveryKind) {
  EXPECT_EQ(*value_from_json("true"), Value(true));
  EXPECT_EQ(*value_from_json("-12"), L(-12));
  EXPECT_EQ(*value_from_json("9223372036854775807"), L(INT64_MAX));
  EXPECT_EQ(*value_from_json("-9223372036854775808"), L(INT64_MIN));
  EXPECT_EQ(*value_from_json("\"s\\u00e9\""), Value("s\xc3\xa9"));
  EXPECT_EQ(*value_from_json("[2, 1, 2]"), Value::set({L(1), L(2)}));
  EXPECT_EQ(*value_from_json(R"({"a": {"b": []}})"),
            Value::record({{"a", Value::record({{"b", Value::set({})}})}}));
  EXPECT_EQ(*value_from_json(R"({"__entity": {"type": "Ns::User", "id": "a"}})"),
            Value(EntityUid{"Ns::User", "a"}));
  EXPECT_EQ(*value_from_json(R"({"__extn": {"fn": "ip", "arg": "10.0.0.1/8"}})"),
            Value(*ext::parse_ip("10.0.0.1/8")));
  EXPECT_EQ(*value_from_json(R"({"__extn": {"fn": "decimal", "arg": "1.25"}})"),
            Value(Decimal{12500}));
  EXPECT_EQ(*value_from_json(R"({"__extn": {"fn": "ip", "args": ["::1"]}})"),
            Value(*ext::parse_ip("::1")));
}

TEST(JsonValueTest, ImplicitEntityFormIsARecordWithoutASchema) {
  // Cedar reads {"type","id"} in an attribute as a record unless a schema
  // says otherwise; only the __entity escape makes an entity.
  EXPECT_EQ(*value_from_json(R"({"type": "User", "id": "a"})"),
            Value::record({{"type", Value("User")}, {"id", Value("a")}}));
  // An escape key next to others is an ordinary record field, and so is an
  // escape whose body does not have the escape's shape.
  for (const char* record :
       {R"({"__entity": {"type": "User", "id": "a"}, "q": 1})", R"({"__entity": "User::\"a\""})",
        R"({"__entity": {"type": "A"}})", R"({"__entity": {"type": 1, "id": "a"}})",
        R"({"__extn": "ip"})", R"({"__extn": {"fn": "ip"}})",
        R"({"__extn": {"fn": "ip", "arg": "1.2.3.4"}, "q": 1})"}) {
    auto v = value_from_json(record);
    ASSERT_TRUE(v.ok()) << record << ": " << v.error().message;
    EXPECT_TRUE(v->is_record()) << record;
  }
  // Extra keys inside an escape's body are ignored.
  EXPECT_EQ(*value_from_json(R"({"__entity": {"type": "User", "id": "a", "q": 1}})"),
            Value(EntityUid{"User", "a"}));
  EXPECT_TRUE(value_from_json(R"({"__extn": {"fn": "ip", "arg": "1.2.3.4", "q": 1}})")->is_ip());
}

TEST(JsonValueTest, RejectsWhatCedarRejects) {
  for (const char* bad :
       {"",
        "nul",
        "null",
        "1.5",
        "1e3",
        "9223372036854775808",
        "-9223372036854775809",
        "[1, null]",
        R"({"a": 1, "a": 2})",
        R"({"__expr": "1"})",
        R"({"__entity": {"type": "User ", "id": "a"}})",
        R"({"__entity": {"type": "if", "id": "a"}})",
        R"({"__entity": {"type": "__cedar::B", "id": "a"}})",
        R"({"__entity": {"type": "A::", "id": "a"}})",
        R"({"__extn": {"fn": "ip", "args": []}})",
        R"({"__extn": {"fn": "ip", "args": ["1.2.3.4", "x"]}})",
        R"({"__extn": {"fn": "ip", "arg": {"__extn": {"fn": "ip", "arg": "1.2.3.4"}}}})",
        R"({"__extn": {"fn": "ip", "arg": "1.2.3"}})",
        R"({"__extn": {"fn": "decimal", "arg": "1"}})",
        R"({"__extn": {"fn": "foo", "arg": "1"}})",
        R"({"__extn": {"fn": "ip", "arg": 1}})",
        "[1] [2]"}) {
    EXPECT_FALSE(value_from_json(bad).ok()) << bad;
  }
  std::string deep(500, '[');
  deep += std::string(500, ']');
  EXPECT_FALSE(value_from_json(deep).ok());
}

TEST(JsonValueTest, ContextMustBeAnObject) {
  auto ctx = context_from_json(R"({"ip": {"__extn": {"fn": "ip", "arg": "10.0.0.1"}}, "n": 3})");
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  EXPECT_EQ(ctx->size(), 2u);
  EXPECT_EQ(ctx->at("n"), L(3));
  EXPECT_TRUE(context_from_json("{}").ok());
  EXPECT_FALSE(context_from_json("[]").ok());
  EXPECT_FALSE(context_from_json("1").ok());
  EXPECT_FALSE(context_from_json(R"({"a": 1.5})").ok());
}

TEST(JsonEntitiesTest, ReadsCedarEntities) {
  auto store = Entities::from_json(R"([
    {"uid": {"type": "User", "id": "a"}, "attrs": {"n": 1, "who": {"__entity": {"type": "User", "id": "b"}}},
     "parents": [{"type": "Group", "id": "g"}, {"__entity": {"type": "Group", "id": "x"}}], "tags": {"t": "v"}},
    {"uid": {"__entity": {"type": "Group", "id": "g"}}, "attrs": {}, "parents": [{"type": "Group", "id": "h"}]},
    {"uid": {"type": "Group", "id": "h", "extra": 1}, "attrs": {}, "parents": [], "extra": true},
    {"uid": {"__entity": {"type": "Group", "id": "x"}, "type": "Ignored", "id": "ignored"}, "attrs": {}, "parents": []}
  ])");
  ASSERT_TRUE(store.ok()) << store.error().message;
  EXPECT_EQ(store->size(), 4u);
  EXPECT_NE(store->find({"Group", "x"}), nullptr);
  const Entity* a = store->find({"User", "a"});
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->attrs.at("n"), L(1));
  EXPECT_EQ(a->attrs.at("who"), Value(EntityUid{"User", "b"}));
  EXPECT_EQ(a->tags.at("t"), Value("v"));
  EXPECT_TRUE(store->in({"User", "a"}, {"Group", "h"}));
  EXPECT_TRUE(store->in({"User", "a"}, {"Group", "x"}));
  EXPECT_TRUE(Entities::from_json("[]").ok());
}

TEST(JsonEntitiesTest, RejectsWhatCedarRejects) {
  for (
      const char* bad : {
          "{}",
          "[1]",
          R"([{"attrs": {}, "parents": []}])",
          R"([{"uid": {"type": "User", "id": "a"}, "parents": []}])",
          R"([{"uid": {"type": "User", "id": "a"}, "attrs": {}}])",
          R"([{"uid": {"type": "User", "id": "a"}, "attrs": [], "parents": []}])",
          R"([{"uid": {"type": "User", "id": "a"}, "attrs": {"x": null}, "parents": []}])",
          R"([{"uid": {"type": "User", "id": "a"}, "attrs": {"x": 1.5}, "parents": []}])",
          R"([{"uid": {"type": "User", "id": "a"}, "attrs": {"x": {"__extn": {"fn": "ip", "arg": "1.2.3"}}}, "parents": []}])",
          R"([{"uid": {"type": "User ", "id": "a"}, "attrs": {}, "parents": []}])",
          R"([{"uid": {"type": "User", "id": "a"}, "attrs": {}, "parents": [{"type": "G"}]}])",
          R"([{"uid": {"type": "User", "id": "a"}, "attrs": {}, "parents": ["User::\"b\""]}])",
          R"([{"uid": "User::\"a\"", "attrs": {}, "parents": []}])",
          R"([{"uid": {"type": "User", "id": 1}, "attrs": {}, "parents": []}])",
          R"([{"uid": {"type": "User", "id": "a"}, "attrs": {}, "parents": [], "tags": {"t": null}}])",
          R"([{"uid": {"type": "User", "id": "a"}, "attrs": null, "parents": []}])",
          R"([{"uid": {"type": "User", "id": "a"}, "attrs": {}, "parents": {}}])",
          R"([{"uid": {"type": "User", "id": "a"}, "attrs": {}, "parents": [], "tags": []}])",
          R"([{"uid": {"type": "User", "id": "a"}, "attrs": {}, "parents": [{"type": "User", "id": "a"}]}])",
          R"([{"uid": {"type": "User", "id": "a"}, "attrs": {}, "parents": [{"type": "User", "id": "b"}]},
               {"uid": {"type": "User", "id": "b"}, "attrs": {}, "parents": [{"type": "User", "id": "a"}]}])",
          R"([{"uid": {"type": "User", "id": "a"}, "attrs": {"x": 1}, "parents": []},
               {"uid": {"type": "User", "id": "a"}, "attrs": {}, "parents": []}])",
      }) {
    EXPECT_FALSE(Entities::from_json(bad).ok()) << bad;
  }
}

TEST(JsonEntitiesTest, ErrorsNameTheEntity) {
  auto r = Entities::from_json(
      R"([{"uid": {"type": "User", "id": "a"}, "attrs": {"x": null}, "parents": []}])");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("User::\"a\""), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("x"), std::string::npos) << r.error().message;
}

TEST(JsonUidTest, ParsesCedarSyntax) {
  EXPECT_EQ(*entity_uid_from_text("User::\"alice\""), (EntityUid{"User", "alice"}));
  EXPECT_EQ(*entity_uid_from_text(" Ns::Sub::Device :: \"d\\\"1\\n\\u{e9}\\x41\" "),
            (EntityUid{"Ns::Sub::Device",
                       "d\"1\n\xc3\xa9"
                       "A"}));
  EXPECT_EQ(*entity_uid_from_text("A::\"\""), (EntityUid{"A", ""}));
  for (const char* bad : {"", "User", "User::", "User::alice", "User::\"a", "::\"a\"", "1A::\"a\"",
                          "if::\"a\"", "User::\"a\" x", "User::\"\\q\"", "User::\"\\u{110000}\"",
                          "User::\"\\xff\"", "User:\"a\""}) {
    EXPECT_FALSE(entity_uid_from_text(bad).ok()) << bad;
  }
}

TEST(JsonUidTest, RoundTripsThroughStr) {
  for (const EntityUid& uid :
       {EntityUid{"A", "plain"}, EntityUid{"A::B", "q\"uote\\back\nline\ttab'"},
        EntityUid{"T", std::string("nul\0x", 5)}, EntityUid{"T", "\x01\x7f\xc3\xa9"}}) {
    auto back = entity_uid_from_text(uid.str());
    ASSERT_TRUE(back.ok()) << uid.str() << ": " << back.error().message;
    EXPECT_EQ(*back, uid);
  }
}

}  // namespace
}  // namespace idra::policy
