// value_test: values, entity uids, the entity store and the extension types.
#include <gtest/gtest.h>

#include <unordered_set>

#include "idra/policy.hpp"
#include "policy/extensions.hpp"

namespace idra::policy {
namespace {

Value L(std::int64_t n) { return Value(n); }

TEST(ValueTest, SetSortsAndDeduplicates) {
  const Value s = Value::set({L(3), L(1), L(3), Value("a"), L(2)});
  ASSERT_TRUE(s.is_set());
  ASSERT_EQ(s.as_set().size(), 4u);
  EXPECT_EQ(s.as_set()[0], L(1));
  EXPECT_EQ(s.as_set()[3], Value("a"));  // longs order before strings
  EXPECT_EQ(s, Value::set({Value("a"), L(2), L(1), L(3)}));
}

TEST(ValueTest, EqualityIsStructuralAndNeverAcrossKinds) {
  EXPECT_EQ(Value::record({{"a", L(1)}, {"b", Value::set({L(1)})}}),
            Value::record({{"b", Value::set({L(1), L(1)})}, {"a", L(1)}}));
  EXPECT_NE(Value::record({{"a", L(1)}}), Value::record({{"a", L(2)}}));
  EXPECT_NE(L(1), Value(true));
  EXPECT_NE(Value("1"), L(1));
  EXPECT_NE(Value(EntityUid{"User", "a"}), Value("User::\"a\""));
  EXPECT_NE(Value(Decimal{10000}), L(1));
  EXPECT_EQ(Value::set({}), Value::set({}));
  EXPECT_NE(Value::set({}), Value::record({}));
}

TEST(ValueTest, OrderIsTotalAndConsistentWithEquality) {
  const std::vector<Value> values = {Value(false),
                                     Value(true),
                                     L(-1),
                                     L(0),
                                     Value(""),
                                     Value("b"),
                                     Value(EntityUid{"A", "x"}),
                                     Value(EntityUid{"B", "a"}),
                                     Value::set({}),
                                     Value::set({L(1)}),
                                     Value::set({L(1), L(2)}),
                                     Value::record({}),
                                     Value::record({{"a", L(1)}}),
                                     Value::record({{"a", L(1)}, {"b", L(1)}}),
                                     Value(IpAddr{}),
                                     Value(Decimal{-1}),
                                     Value(Decimal{1})};
  for (std::size_t i = 0; i < values.size(); ++i) {
    for (std::size_t j = 0; j < values.size(); ++j) {
      const auto c = values[i] <=> values[j];
      EXPECT_EQ(c == 0, values[i] == values[j]) << i << " " << j;
      EXPECT_EQ(c < 0, i < j) << to_cedar(values[i]) << " vs " << to_cedar(values[j]);
    }
  }
}

TEST(ValueTest, TypeNames) {
  EXPECT_EQ(Value(true).type_name(), "bool");
  EXPECT_EQ(L(1).type_name(), "long");
  EXPECT_EQ(Value("s").type_name(), "string");
  EXPECT_EQ(Value(EntityUid{"A", "b"}).type_name(), "entity");
  EXPECT_EQ(Value::set({}).type_name(), "set");
  EXPECT_EQ(Value::record({}).type_name(), "record");
  EXPECT_EQ(Value(IpAddr{}).type_name(), "ipaddr");
  EXPECT_EQ(Value(Decimal{}).type_name(), "decimal");
}

TEST(ValueTest, ToCedarRendersParsableText) {
  EXPECT_EQ(to_cedar(Value::set({L(2), Value(true), Value("a\"b\\c\n")})),
            "[true, 2, \"a\\\"b\\\\c\\n\"]");
  EXPECT_EQ(to_cedar(Value::record({{"k", Value(EntityUid{"Ns::T", "i d"})}})),
            "{\"k\": Ns::T::\"i d\"}");
  EXPECT_EQ(to_cedar(Value(*ext::parse_ip("10.1.2.3/8"))), "ip(\"10.1.2.3/8\")");
  EXPECT_EQ(to_cedar(Value(*ext::parse_decimal("-1.50"))), "decimal(\"-1.5\")");
}

TEST(ValueTest, EntityUidStrAndHash) {
  EXPECT_EQ((EntityUid{"User", "alice"}).str(), "User::\"alice\"");
  EXPECT_EQ((EntityUid{"A::B", "q\"\\"}).str(), "A::B::\"q\\\"\\\\\"");
  std::unordered_set<EntityUid, EntityUidHash> set{{"A", "x"}, {"A", "x"}, {"Ax", ""}, {"A", "y"}};
  EXPECT_EQ(set.size(), 3u);
  EXPECT_NE(EntityUidHash{}({"A", "b"}), EntityUidHash{}({"b", "A"}));
}

TEST(ValueTest, DiagnosticStrLeavesOutUnknownParts) {
  EXPECT_EQ((Diagnostic{"p.cedar", 3, 7, "bad"}).str(), "p.cedar:3:7: bad");
  EXPECT_EQ((Diagnostic{"p.cedar", 3, 0, "bad"}).str(), "p.cedar:3: bad");
  EXPECT_EQ((Diagnostic{"p.cedar", 0, 0, "bad"}).str(), "p.cedar: bad");
  EXPECT_EQ((Diagnostic{"", 2, 1, "bad"}).str(), "2:1: bad");
  EXPECT_EQ((Diagnostic{"", 0, 0, "bad"}).str(), "bad");
}

TEST(ValueIpTest, ParsesWhatCedarParses) {
  for (const char* ok : {"0.0.0.0", "255.255.255.255", "10.0.0.1/0", "10.0.0.1/32", "::", "::1",
                         "1::", "A::b", "1:2:3:4:5:6:7::", "::1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8",
                         "1:2:3:4:5:6:7:8/128", "0000::", "ff00::/8"}) {
    EXPECT_TRUE(ext::parse_ip(ok).ok()) << ok;
  }
  for (const char* bad : {"",
                          "010.0.0.1",
                          "1.2.3.256",
                          "1.2.3",
                          "1.2.3.4.5",
                          " 10.0.0.1",
                          "10.0.0.1/",
                          "10.0.0.1/08",
                          "10.0.0.1/+8",
                          "10.0.0.1/33",
                          "10.0.0.1/ 8",
                          "::1/0128",
                          "::1/001",
                          "::1/129",
                          "::ffff:1.2.3.4",
                          "::1.2.3.4",
                          "1:2:3:4:5:6:1.2.3.4",
                          "1:2:3:4:5:6:7:8:9",
                          "12345::",
                          "00000::",
                          "1:2:3:4:5:6:7:8::",
                          "::1:2:3:4:5:6:7:8",
                          ":1::",
                          "1::2::3",
                          "fe80::1%eth0",
                          "1.2.3.4/8/8",
                          "0x1.2.3.4"}) {
    EXPECT_FALSE(ext::parse_ip(bad).ok()) << bad;
  }
}

TEST(ValueIpTest, KeepsHostBitsAndCaseInsensitiveHex) {
  EXPECT_NE(*ext::parse_ip("10.0.0.1/8"), *ext::parse_ip("10.0.0.0/8"));
  EXPECT_EQ(*ext::parse_ip("A::B"), *ext::parse_ip("a::b"));
  EXPECT_EQ(*ext::parse_ip("::1"), *ext::parse_ip("0:0:0:0:0:0:0:1"));
  EXPECT_EQ(ext::parse_ip("10.0.0.1")->prefix_len, 32);
  EXPECT_EQ(ext::parse_ip("::")->prefix_len, 128);
}

TEST(ValueIpTest, RendersAndRoundTrips) {
  EXPECT_EQ(ext::ip_str(*ext::parse_ip("2001:db8:0:0:1:0:0:1")), "2001:db8::1:0:0:1");
  EXPECT_EQ(ext::ip_str(*ext::parse_ip("0:0:0:0:0:0:0:0")), "::");
  EXPECT_EQ(ext::ip_str(*ext::parse_ip("1:0:2:3:4:5:6:7")), "1:0:2:3:4:5:6:7");
  EXPECT_EQ(ext::ip_str(*ext::parse_ip("FF00::/8")), "ff00::/8");
  for (const char* text : {"1.2.3.4", "1.2.3.4/24", "::1", "1::", "1:2::7:8", "fe80::1:2/64"}) {
    EXPECT_EQ(*ext::parse_ip(ext::ip_str(*ext::parse_ip(text))), *ext::parse_ip(text)) << text;
  }
}

TEST(ValueIpTest, Predicates) {
  const auto ip = [](const char* s) { return *ext::parse_ip(s); };
  EXPECT_TRUE(ext::ip_is_loopback(ip("127.0.0.1/8")));
  EXPECT_FALSE(ext::ip_is_loopback(ip("127.0.0.1/7")));
  EXPECT_TRUE(ext::ip_is_loopback(ip("::1")));
  EXPECT_FALSE(ext::ip_is_loopback(ip("::1/127")));
  EXPECT_TRUE(ext::ip_is_multicast(ip("224.0.0.1/4")));
  EXPECT_FALSE(ext::ip_is_multicast(ip("224.0.0.1/3")));
  EXPECT_FALSE(ext::ip_is_multicast(ip("240.0.0.1")));
  EXPECT_TRUE(ext::ip_is_multicast(ip("ff02::1")));
  EXPECT_TRUE(ext::ip_in_range(ip("10.1.2.3"), ip("10.0.0.0/8")));
  EXPECT_TRUE(ext::ip_in_range(ip("10.0.0.0/8"), ip("10.0.0.0/8")));
  EXPECT_FALSE(ext::ip_in_range(ip("10.0.0.0/7"), ip("10.0.0.0/8")));
  EXPECT_FALSE(ext::ip_in_range(ip("10.0.0.1"), ip("::/0")));
  EXPECT_TRUE(ext::ip_in_range(ip("2001:db8::1"), ip("2001:db8::/32")));
  EXPECT_FALSE(ext::ip_in_range(ip("2001:db9::1"), ip("2001:db8::/32")));
}

TEST(ValueDecimalTest, ParsesWhatCedarParses) {
  EXPECT_EQ(ext::parse_decimal("1.5")->scaled, 15000);
  EXPECT_EQ(ext::parse_decimal("-0.5")->scaled, -5000);
  EXPECT_EQ(ext::parse_decimal("01.0001")->scaled, 10001);
  EXPECT_EQ(ext::parse_decimal("922337203685477.5807")->scaled, INT64_MAX);
  EXPECT_EQ(ext::parse_decimal("-922337203685477.5808")->scaled, INT64_MIN);
  for (const char* bad :
       {"", "1", "1.", ".5", "+1.0", "1.12345", "1.-5", "- 1.5", "1.5 ", "--1.5", "1e3.0",
        "922337203685477.5808", "-922337203685477.5809", "99999999999999999999.0"}) {
    EXPECT_FALSE(ext::parse_decimal(bad).ok()) << bad;
  }
}

TEST(ValueDecimalTest, Renders) {
  EXPECT_EQ(ext::decimal_str(Decimal{15000}), "1.5");
  EXPECT_EQ(ext::decimal_str(Decimal{-5}), "-0.0005");
  EXPECT_EQ(ext::decimal_str(Decimal{0}), "0.0");
  EXPECT_EQ(ext::decimal_str(Decimal{INT64_MIN}), "-922337203685477.5808");
  EXPECT_EQ(ext::parse_decimal(ext::decimal_str(Decimal{INT64_MIN}))->scaled, INT64_MIN);
}

Entity make_entity(EntityUid uid, std::vector<EntityUid> parents) {
  Entity e;
  e.uid = std::move(uid);
  e.parents = std::move(parents);
  return e;
}

TEST(ValueEntitiesTest, InIsTransitiveAndReflexive) {
  const EntityUid a{"U", "a"}, g{"G", "g"}, h{"G", "h"}, outside{"G", "outside"};
  auto store =
      Entities::make({make_entity(a, {g}), make_entity(g, {h, outside}), make_entity(h, {})});
  ASSERT_TRUE(store.ok()) << store.error().message;
  EXPECT_EQ(store->size(), 3u);
  EXPECT_TRUE(store->in(a, a));
  EXPECT_TRUE(store->in(a, g));
  EXPECT_TRUE(store->in(a, h));
  EXPECT_TRUE(store->in(a, outside));  // a parent that is not in the store still counts
  EXPECT_FALSE(store->in(h, a));
  EXPECT_FALSE(store->in(g, a));
  const EntityUid missing{"U", "zz"};
  EXPECT_TRUE(store->in(missing, missing));
  EXPECT_FALSE(store->in(missing, g));
  EXPECT_EQ(store->find(missing), nullptr);
  ASSERT_NE(store->find(a), nullptr);
  EXPECT_EQ(store->find(a)->parents, std::vector<EntityUid>{g});
  ASSERT_NE(store->ancestors(a), nullptr);
  EXPECT_EQ(*store->ancestors(a), (std::vector<EntityUid>{g, h, outside}));
  EXPECT_EQ(store->ancestors(missing), nullptr);
}

TEST(ValueEntitiesTest, DiamondsAndDeepChains) {
  std::vector<Entity> chain;
  for (int i = 0; i < 300; ++i) {
    chain.push_back(make_entity({"N", std::to_string(i)}, {{"N", std::to_string(i + 1)}}));
  }
  chain.push_back(make_entity({"D", "x"}, {{"N", "5"}, {"N", "7"}}));
  auto store = Entities::make(std::move(chain));
  ASSERT_TRUE(store.ok());
  EXPECT_TRUE(store->in({"N", "0"}, {"N", "300"}));
  EXPECT_EQ(store->ancestors({"N", "0"})->size(), 300u);
  EXPECT_EQ(store->ancestors({"D", "x"})->size(), 296u);  // 5..300, each once
}

TEST(ValueEntitiesTest, CyclesAndDuplicatesAreErrors) {
  const EntityUid a{"U", "a"}, b{"U", "b"};
  EXPECT_FALSE(Entities::make({make_entity(a, {b}), make_entity(b, {a})}).ok());
  EXPECT_FALSE(Entities::make({make_entity(a, {a})}).ok());
  // As in Cedar: the same entity listed twice identically is one entity;
  // two different entries for one uid are an error.
  auto same = Entities::make({make_entity(a, {b, b}), make_entity(a, {b})});
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->size(), 1u);
  EXPECT_TRUE(same->in(a, b));
  auto dup = Entities::make({make_entity(a, {}), make_entity(a, {b})});
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message.find("U::\"a\""), std::string::npos);
}


std::vector<EntityUid> listed(const AncestorList* list) { return list != nullptr ? *list : std::vector<EntityUid>{}; }

// Layers: a request's entities over the bundle's, possibly over several
// layers; lookups and `in` cross them, the request's entry adds to the
// base's, and the request's own entities must be consistent.
TEST(ValueEntitiesTest, LayersFollowParentsAcrossLayers) {
  const EntityUid user{"User", "u"}, org{"Org", "acme"}, role{"Role", "partner"}, all{"Role", "all"};
  Entity base_user = make_entity(user, {org});
  base_user.attrs.emplace("level", Value(std::int64_t{3}));
  auto base = Entities::make({base_user, make_entity(org, {role}), make_entity(role, {all})});
  ASSERT_TRUE(base.ok()) << base.error().message;
  auto bottom = std::make_shared<const Entities>(std::move(*base));

  const EntityUid prefix{"Prefix", "88"}, sub{"Prefix", "88.100"}, id{"Identifier", "88.100/X"};
  auto chain = layered({make_entity(sub, {prefix}), make_entity(prefix, {})}, bottom);
  ASSERT_TRUE(chain.ok()) << chain.error().message;
  auto middle = std::make_shared<const Entities>(std::move(*chain));

  Entity request_user = make_entity(user, {});
  request_user.attrs.emplace("kind", Value("certificate"));
  auto top = layered({request_user, make_entity(id, {sub})}, middle);
  ASSERT_TRUE(top.ok()) << top.error().message;
  EXPECT_EQ(top->size(), 2u);
  EXPECT_TRUE(top->in(id, prefix));
  EXPECT_TRUE(top->in(id, sub));
  EXPECT_FALSE(top->in(sub, id));
  EXPECT_EQ(listed(top->ancestors(id)), (std::vector<EntityUid>{prefix, sub}));
  // The request's user keeps the base's parents and attributes.
  EXPECT_TRUE(top->in(user, all));
  EXPECT_EQ(listed(top->ancestors(user)), (std::vector<EntityUid>{org, all, role}));
  ASSERT_NE(top->find(user), nullptr);
  EXPECT_EQ(top->find(user)->attrs.size(), 2u);
  EXPECT_NE(top->find(org), nullptr);
  EXPECT_EQ(top->find({"Prefix", "88.1"}), nullptr);
  EXPECT_EQ(top->ancestors({"Prefix", "88.1"}), nullptr);

  EXPECT_FALSE(layered({make_entity(id, {}), make_entity(id, {})}, middle).ok()) << "a duplicate";
  const EntityUid a{"G", "a"}, b{"G", "b"};
  auto cycle = layered({make_entity(a, {b}), make_entity(b, {a})}, middle);
  ASSERT_FALSE(cycle.ok());
  EXPECT_NE(cycle.error().message.find("cycle"), std::string::npos);
}

// A large layer is hashed and remembers its few types to skip lookups of
// others; one with many types must still find everything.
TEST(ValueEntitiesTest, LargeLayersFindEveryEntity) {
  for (const int types : {1, 4, 5, 9}) {
    std::vector<Entity> entities;
    for (int i = 0; i < 40; ++i) {
      const std::string type = "T" + std::to_string(i % types);
      entities.push_back(make_entity({type, std::to_string(i)}, i > 0 ? std::vector<EntityUid>{{"T0", "0"}} : std::vector<EntityUid>{}));
    }
    auto store = Entities::make(std::move(entities));
    ASSERT_TRUE(store.ok()) << store.error().message;
    for (int i = 0; i < 40; ++i) {
      const EntityUid uid{"T" + std::to_string(i % types), std::to_string(i)};
      ASSERT_NE(store->find(uid), nullptr) << types << " " << uid.str();
      EXPECT_EQ(store->in(uid, {"T0", "0"}), true) << uid.str();
    }
    EXPECT_EQ(store->find({"T" + std::to_string(types), "0"}), nullptr);
    if (types > 1) {
      EXPECT_EQ(store->find({"T0", "1"}), nullptr);
    }
    EXPECT_EQ(store->find({"Other", "0"}), nullptr);
  }
}

}  // namespace
}  // namespace idra::policy
