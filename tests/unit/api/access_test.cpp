// AccessControl: how a request becomes a Cedar request (principal entity,
// resource hierarchy, value entities, context) and what the shipped policy set
// decides with it.
#include <gtest/gtest.h>

#include <filesystem>

#include "api/access.hpp"
#include "api/hs_data.hpp"
#include "idra/api.hpp"
#include "idra/policy.hpp"
#include "idra/store.hpp"

namespace idra::api {
namespace {

std::shared_ptr<const policy::Bundle> bundle_of(std::string cedar) {
  auto b = policy::load_bundle(std::vector<policy::PolicyFile>{{"test.cedar", std::move(cedar), ""}});
  if (!b) {
    std::string m;
    for (const auto& d : b.error()) m += d.str() + "\n";
    ADD_FAILURE() << m;
    return nullptr;
  }
  return *b;
}

class AccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/idra-access-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    store::Options options;
    options.durable = false;
    options.prefault_max_bytes = 0;
    store_ = std::move(store::Store::open(dir_ / "db", options).value());
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  static Principal device(std::string id) {
    Principal p;
    p.kind = Principal::Kind::certificate;
    p.handle = std::move(id);
    p.role = "device";
    p.profile = "device";
    p.organization = "acme";
    p.fingerprint = "ab";
    return p;
  }
  static Principal handle_admin(std::string handle, std::uint32_t index) {
    Principal p;
    p.kind = Principal::Kind::handle;
    p.handle = std::move(handle);
    p.index = index;
    return p;
  }
  static store::HandleValue val(std::uint32_t index, std::string type, bool public_read = true) {
    store::HandleValue v;
    v.index = index;
    v.type = std::move(type);
    v.data = "x";
    v.permissions.public_read = public_read;
    return v;
  }

  // grant_alice_read_value gives 300:88.100/ALICE read_value over 88.100
  // (an HS_ADMIN value of 0.NA/88.100).
  void grant_alice_read_value() {
    store::Record admin_rec;
    store::HandleValue admin;
    admin.index = 100;
    admin.type = "HS_ADMIN";
    admin.data = encode_admin(AdminRef{"88.100/ALICE", 300, static_cast<std::uint16_t>(permission_bit(Perm::read_value))});
    admin_rec.values = {admin};
    ASSERT_TRUE(store_->put("0.NA/88.100", admin_rec).ok());
  }
  // mixed_record: URLs at 1 and 11, an EMAIL, a DESC (public when
  // |public_desc|), an admin-readable SECRET.
  static store::Record mixed_record(bool public_desc) {
    store::Record rec;
    rec.values = {val(1, "URL", false), val(2, "EMAIL", true), val(11, "URL", false), val(12, "DESC", public_desc),
                  val(13, "SECRET", false)};
    rec.values[4].permissions.admin_read = true;
    return rec;
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  Config config_;
};

TEST_F(AccessTest, PrincipalEntities) {
  auto anon = AccessControl::principal_entity(Principal{});
  EXPECT_EQ(anon.uid, (policy::EntityUid{"Anonymous", "anonymous"}));
  EXPECT_TRUE(anon.parents.empty());

  auto dev = AccessControl::principal_entity(device("88.100/D1"));
  EXPECT_EQ(dev.uid, (policy::EntityUid{"Device", "88.100/D1"}));
  EXPECT_EQ(dev.attrs.at("record"), policy::Value(policy::EntityUid{"Identifier", "88.100/D1"}));
  EXPECT_EQ(dev.parents, (std::vector<policy::EntityUid>{{"Role", "device"}, {"Org", "acme"}}));

  Principal partner = device("partner-7");
  partner.role = "partner";
  partner.profile = "partner";
  auto user = AccessControl::principal_entity(partner);
  EXPECT_EQ(user.uid, (policy::EntityUid{"User", "partner-7"}));
  EXPECT_EQ(user.attrs.at("org"), policy::Value(policy::EntityUid{"Org", "acme"}));
  EXPECT_EQ(user.attrs.at("kind"), policy::Value("certificate"));

  Principal admin = handle_admin("0.NA/IDRA", 300);
  admin.node_admin = true;
  auto u = AccessControl::principal_entity(admin);
  EXPECT_EQ(u.uid, (policy::EntityUid{"User", "300:0.NA/IDRA"}));
  EXPECT_EQ(u.parents, (std::vector<policy::EntityUid>{{"Role", "admin"}}));
}

TEST_F(AccessTest, ServedHereWhenThePrefixOrADottedAncestorIsHomed) {
  ASSERT_TRUE(store_->home_prefix("88.100"));
  EXPECT_TRUE(is_served_here(*store_, "88.100/DEV-1"));
  EXPECT_TRUE(is_served_here(*store_, "88.100.1/DEV-1"));
  EXPECT_TRUE(is_served_here(*store_, "88.100.1.7/DEV-1"));
  EXPECT_FALSE(is_served_here(*store_, "88.10/DEV-1"));     // not a dotted ancestor
  EXPECT_FALSE(is_served_here(*store_, "88.1000/DEV-1"));
  EXPECT_FALSE(is_served_here(*store_, "88/DEV-1"));        // an ancestor is not served by a child
  EXPECT_TRUE(is_served_here(*store_, "0.NA/88.100.1"));    // a prefix handle: its prefix decides
  EXPECT_FALSE(is_served_here(*store_, "0.NA/99"));
  ASSERT_TRUE(store_->home_prefix("0.NA"));
  EXPECT_TRUE(is_served_here(*store_, "0.NA/99"));
  ASSERT_TRUE(store_->unhome_prefix("88.100"));
  EXPECT_FALSE(is_served_here(*store_, "88.100.1/DEV-1"));
}

TEST_F(AccessTest, PrefixHierarchyIsDottedNotStringPrefix) {
  auto b = bundle_of(R"(permit (principal, action == Action::"resolve", resource in Prefix::"20.500");)");
  ASSERT_TRUE(b);
  AccessControl access(*store_, config_, b);
  const Principal anon;
  EXPECT_TRUE(access.decide(anon, Action::resolve, Resource{"20.500/X"}).allow);
  EXPECT_TRUE(access.decide(anon, Action::resolve, Resource{"20.500.7.1/X"}).allow);
  EXPECT_FALSE(access.decide(anon, Action::resolve, Resource{"20.5001/X"}).allow);
  EXPECT_FALSE(access.decide(anon, Action::resolve, Resource{"20/X"}).allow);
  // A prefix handle 0.NA/20.500.1 is governed by (and so lies in) 20.500.1.
  EXPECT_TRUE(access.decide(anon, Action::resolve, Resource{"0.NA/20.500.1"}).allow);
  // A prefix resource sits in its own chain.
  auto c = bundle_of(R"(permit (principal, action == Action::"listHandles", resource in Prefix::"20.500");)");
  AccessControl access2(*store_, config_, c);
  EXPECT_TRUE(access2.decide(anon, Action::list_handles, Resource{"20.500.1"}).allow);
  EXPECT_FALSE(access2.decide(anon, Action::list_handles, Resource{"20.5001"}).allow);
}

TEST_F(AccessTest, ValuesCarryTheirPermissionsAndLieInTheirIdentifier) {
  auto b = bundle_of(R"(
    @id("public") permit (principal, action == Action::"readValue", resource) when { resource.publicRead };
    @id("urls") permit (principal, action == Action::"readValue", resource in Identifier::"88.100/R")
      when { resource.type == "URL" && resource.index < 10 };)");
  AccessControl access(*store_, config_, b);
  store::Record rec;
  rec.values = {val(1, "URL", false), val(2, "EMAIL", true), val(11, "URL", false), val(12, "DESC", false)};
  const Principal anon;
  std::vector<std::uint32_t> seen;
  for (const auto& v : rec.values) {
    if (access.decide(anon, Action::read_value, Resource{"88.100/R", &rec, &v}).allow) seen.push_back(v.index);
  }
  EXPECT_EQ(seen, (std::vector<std::uint32_t>{1, 2}));
  const auto s = access.summary();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->action, "readValue");
  EXPECT_TRUE(s->allow);
  EXPECT_EQ(s->determining, (std::vector<std::string>{"urls"}));
}

TEST_F(AccessTest, HandleAdminPermissionsReachTheContext) {
  // 0.NA/88.100 names 200:88.100/ADMINS, a group listing 300:88.100/ALICE.
  store::Record prefix;
  store::HandleValue admin;
  admin.index = 100;
  admin.type = "HS_ADMIN";
  admin.data = encode_admin(AdminRef{"88.100/ADMINS", 200, static_cast<std::uint16_t>(permission_bit(Perm::add_value) | permission_bit(Perm::list_handles))});
  prefix.values = {admin};
  ASSERT_TRUE(store_->put("0.NA/88.100", prefix).ok());
  store::Record group;
  store::HandleValue vlist;
  vlist.index = 200;
  vlist.type = "HS_VLIST";
  vlist.data = encode_vlist({store::Reference{"88.100/ALICE", 300}});
  group.values = {vlist};
  ASSERT_TRUE(store_->put("88.100/ADMINS", group).ok());

  auto b = bundle_of(R"(
    @id("add") permit (principal, action == Action::"update", resource)
      when { context.change == "add" && context.handleAdmin.contains("add_value") };
    @id("list") permit (principal, action == Action::"listHandles", resource)
      when { context.handleAdmin.containsAll(["list_handles"]) };)");
  AccessControl access(*store_, config_, b);
  store::Record rec;
  rec.values = {val(1, "URL")};
  const auto v = val(2, "URL");
  EXPECT_TRUE(access.decide(handle_admin("88.100/ALICE", 300), Action::add_value, Resource{"88.100/R", &rec, &v}).allow);
  EXPECT_FALSE(access.decide(handle_admin("88.100/BOB", 300), Action::add_value, Resource{"88.100/R", &rec, &v}).allow);
  EXPECT_FALSE(access.decide(handle_admin("88.100/ALICE", 300), Action::modify_value, Resource{"88.100/R", &rec, &rec.values[0]}).allow);
  EXPECT_TRUE(access.decide(handle_admin("88.100/ALICE", 300), Action::list_handles, Resource{"88.100"}).allow);
  const auto d = access.decide(Principal{}, Action::list_handles, Resource{"88.100"});
  EXPECT_FALSE(d.allow);
  EXPECT_EQ(d.response_code, 402) << "anonymous callers are told to authenticate";
  EXPECT_FALSE(access.decide(handle_admin("88.100/BOB", 1), Action::list_handles, Resource{"88.100"}).allow);
  EXPECT_EQ(access.decide(handle_admin("88.100/BOB", 1), Action::list_handles, Resource{"88.100"}).response_code, 401);
}

TEST_F(AccessTest, ShippedPoliciesDevicesOwnRecordOnly) {
  AccessControl access(*store_, config_, default_policy_bundle());
  store::Record own, other;
  own.values = {val(1, "URL"), val(2, "IDRA_CERT_STATUS"), val(100, "HS_ADMIN")};
  other.values = {val(1, "URL")};
  const auto d1 = device("88.100/D1");
  EXPECT_TRUE(access.decide(d1, Action::modify_value, Resource{"88.100/D1", &own, &own.values[0]}).allow);
  EXPECT_FALSE(access.decide(d1, Action::modify_value, Resource{"88.100/D1", &own, &own.values[1]}).allow);
  EXPECT_FALSE(access.decide(d1, Action::modify_value, Resource{"88.100/D1", &own, &own.values[2]}).allow);
  EXPECT_FALSE(access.decide(d1, Action::modify_value, Resource{"88.100/D2", &other, &other.values[0]}).allow);
  EXPECT_FALSE(access.decide(d1, Action::delete_handle, Resource{"88.100/D1", &own}).allow);
  EXPECT_TRUE(access.decide(d1, Action::reenroll, Resource{"88.100/D1", nullptr, nullptr, false, "device"}).allow);
  EXPECT_FALSE(access.decide(d1, Action::reenroll, Resource{"88.100/D2", nullptr, nullptr, false, "device"}).allow);
  // The first denial is what the request's log line shows.
  const auto s = access.summary();
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->allow);
  EXPECT_EQ(s->action, "update");
}

TEST_F(AccessTest, NoBundleDeniesEverything) {
  AccessControl access(*store_, config_, nullptr);
  EXPECT_FALSE(access.decide(Principal{}, Action::resolve, Resource{"88.100/X"}).allow);
}


// decide_values makes the read_value decisions of a record together: each
// must be what decide() says alone, and the log's summary the same.
TEST_F(AccessTest, ValuesDecidedTogetherAsAlone) {
  auto b = bundle_of(R"(
    @id("public") permit (principal, action == Action::"readValue", resource) when { resource.publicRead };
    @id("admin-read") permit (principal, action == Action::"readValue", resource)
      when { !context.publicOnly && resource.adminRead && context.handleAdmin.contains("read_value") };
    @id("urls") permit (principal, action == Action::"readValue", resource in Identifier::"88.100/R")
      when { resource.type == "URL" && resource.index < 10 };
    @id("no-desc") forbid (principal, action == Action::"readValue", resource) when { resource.type == "DESC" };
    @id("broken") permit (principal, action == Action::"readValue", resource) when { resource.index.foo };)");
  ASSERT_NO_FATAL_FAILURE(grant_alice_read_value());
  const store::Record rec = mixed_record(true);
  std::vector<const store::HandleValue*> values;
  for (const auto& v : rec.values) values.push_back(&v);
  for (const Principal& who : {Principal{}, handle_admin("88.100/ALICE", 300), handle_admin("88.100/BOB", 300)}) {
    for (const bool public_only : {true, false}) {
      AccessControl together(*store_, config_, b);
      AccessControl alone(*store_, config_, b);
      const std::vector<bool> seen = together.decide_values(who, "88.100/R", rec, values, public_only);
      ASSERT_EQ(seen.size(), values.size());
      for (std::size_t k = 0; k < values.size(); ++k) {
        EXPECT_EQ(seen[k], alone.decide(who, Action::read_value, Resource{"88.100/R", &rec, values[k], public_only}).allow)
            << who.id() << " value " << values[k]->index << " publicOnly " << public_only;
      }
      const auto s1 = together.summary(), s2 = alone.summary();
      ASSERT_TRUE(s1 && s2);
      EXPECT_EQ(s1->allow, s2->allow);
      EXPECT_EQ(s1->determining, s2->determining);
      EXPECT_EQ(s1->errors, s2->errors);
    }
  }
  // Who sees what, to be sure the comparison above covers both outcomes.
  AccessControl access(*store_, config_, b);
  EXPECT_EQ(access.decide_values(Principal{}, "88.100/R", rec, values, true),
            (std::vector<bool>{true, true, false, false, false}));
  EXPECT_EQ(access.decide_values(handle_admin("88.100/ALICE", 300), "88.100/R", rec, values, false),
            (std::vector<bool>{true, true, true, false, true}));
  // A value outside the record is decided alone, and an empty list decides nothing.
  const auto outside = val(3, "URL", true);
  const std::vector<const store::HandleValue*> mixed{&rec.values[1], &outside};
  EXPECT_EQ(access.decide_values(Principal{}, "88.100/R", rec, mixed, true), (std::vector<bool>{true, true}));
  AccessControl fresh(*store_, config_, b);
  EXPECT_TRUE(fresh.decide_values(Principal{}, "88.100/R", rec, {}, true).empty());
  EXPECT_FALSE(fresh.summary());
}

// A bundle that names no Identifier or Value by uid has its decisions about
// them cached per thread. Every cached decision must be the one the policies
// make: the same requests are decided with that bundle (twice, so that the
// second round comes from the cache) and with the same policies plus one
// that names an Identifier, which turns the cache off and changes no
// decision. The policies depend on everything the cache key holds: the
// prefix chain, the principal's own record, the principal's attributes and
// groups, the context's permissions and publicOnly, the values' attributes.
TEST_F(AccessTest, CachedDecisionsAreThePoliciesDecisions) {
  const std::string policies = R"(
    @id("public") permit (principal, action == Action::"readValue", resource) when { resource.publicRead };
    @id("prefix") permit (principal, action == Action::"readValue", resource in Prefix::"88.100")
      when { resource.type == "URL" && resource.index < 10 };
    @id("own") permit (principal is Device, action in [Action::"readValue", Action::"resolve"], resource)
      when { principal has record && resource in principal.record };
    @id("org") permit (principal, action == Action::"readValue", resource)
      when { principal has organization && principal.organization == "beta" && resource.index == 12 };
    @id("admin-read") permit (principal, action == Action::"readValue", resource)
      when { !context.publicOnly && resource.adminRead && context.handleAdmin.contains("read_value") };
    @id("resolve") permit (principal, action == Action::"resolve", resource in Prefix::"88");
    @id("deny-sub") forbid (principal, action, resource in Prefix::"88.100.7") unless { principal in Role::"admin" };)";
  auto cached = bundle_of(policies);
  auto uncached = bundle_of(policies + R"(
    @id("named") forbid (principal, action, resource == Identifier::"99/never");)");
  ASSERT_TRUE(cached && uncached);
  ASSERT_FALSE(cached->names_type("Identifier"));
  ASSERT_TRUE(uncached->names_type("Identifier"));

  ASSERT_NO_FATAL_FAILURE(grant_alice_read_value());
  const store::Record rec = mixed_record(false);
  std::vector<const store::HandleValue*> values;
  for (const auto& v : rec.values) values.push_back(&v);
  auto beta = device("88.200/D1");
  beta.organization = "beta";
  auto node_admin = device("88.100.7/D9");
  node_admin.node_admin = true;
  const std::vector<Principal> principals{Principal{},
                                          handle_admin("88.100/ALICE", 300),
                                          handle_admin("88.100/BOB", 300),
                                          device("88.100/D1"),
                                          device("88.200/D1"),
                                          beta,
                                          node_admin};
  const std::vector<std::string> handles{"88.100/D1", "88.100/X", "88.200/D1", "88.200/X", "88.100.7/D9",
                                         "88.1000/X", "0.NA/88.100", "89/X"};
  std::size_t allowed = 0, denied = 0;
  for (int round = 0; round < 2; ++round) {
    for (const Principal& who : principals) {
      for (const std::string& handle : handles) {
        for (const bool public_only : {true, false}) {
          AccessControl with_cache(*store_, config_, cached);
          AccessControl without(*store_, config_, uncached);
          const auto a = with_cache.decide(who, Action::resolve, Resource{handle, &rec});
          const auto b = without.decide(who, Action::resolve, Resource{handle, &rec});
          EXPECT_EQ(a.allow, b.allow) << who.id() << " resolve " << handle;
          EXPECT_EQ(a.reason, b.reason) << who.id() << " resolve " << handle;
          const auto seen = with_cache.decide_values(who, handle, rec, values, public_only);
          const auto expected = without.decide_values(who, handle, rec, values, public_only);
          EXPECT_EQ(seen, expected) << who.id() << " " << handle << " publicOnly " << public_only << " round " << round;
          for (std::size_t k = 0; k < values.size(); ++k) {
            const Resource r{handle, &rec, values[k], public_only};
            EXPECT_EQ(with_cache.decide(who, Action::read_value, r).allow, expected[k]);
            (expected[k] ? allowed : denied) += 1;
          }
          const auto s1 = with_cache.summary(), s2 = without.summary();
          ASSERT_TRUE(s1 && s2);
          EXPECT_EQ(s1->allow, s2->allow);
          EXPECT_EQ(s1->determining, s2->determining);
        }
      }
    }
  }
  // Both outcomes occur often enough for the comparison to mean something.
  EXPECT_GT(allowed, 100u);
  EXPECT_GT(denied, 100u);
}

// The summary is the first denial of an action other than readValue, else
// the first decision, however many decisions came between.
TEST_F(AccessTest, SummaryKeepsTheFirstDenialOrTheFirstDecision) {
  auto b = bundle_of(R"(
    @id("read") permit (principal, action == Action::"readValue", resource) when { resource.publicRead };
    @id("resolve") permit (principal, action == Action::"resolve", resource);)");
  store::Record rec;
  rec.values = {val(1, "URL", true), val(2, "URL", false)};
  const Principal anon;
  AccessControl access(*store_, config_, b);
  EXPECT_FALSE(access.summary());
  EXPECT_TRUE(access.decide(anon, Action::resolve, Resource{"88.100/R", &rec}).allow);
  EXPECT_FALSE(access.decide(anon, Action::read_value, Resource{"88.100/R", &rec, &rec.values[1]}).allow);
  auto s = access.summary();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->action, "resolve");
  EXPECT_EQ(s->determining, (std::vector<std::string>{"resolve"}));
  EXPECT_FALSE(access.decide(anon, Action::delete_handle, Resource{"88.100/R", &rec}).allow);
  EXPECT_FALSE(access.decide(anon, Action::list_handles, Resource{"88.100"}).allow);
  s = access.summary();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->action, "delete");
  EXPECT_FALSE(s->allow);
  EXPECT_TRUE(s->determining.empty());
}

}  // namespace
}  // namespace idra::api
