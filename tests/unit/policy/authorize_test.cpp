// authorize_test: PolicySet (ids, templates, links) and is_authorized
// (Cedar's decision rules, error skipping, determining ids, the index).
#include <gtest/gtest.h>

#include <random>

#include "idra/policy.hpp"
#include "policy/eval.hpp"
#include "policy/policy_set.hpp"

namespace idra::policy {
namespace {

constexpr const char* kEntities = R"([
  {"uid": {"type": "User", "id": "alice"}, "attrs": {"level": 5, "dept": "eng"},
   "parents": [{"type": "Group", "id": "eng"}]},
  {"uid": {"type": "User", "id": "bob"}, "attrs": {"level": 1}, "parents": []},
  {"uid": {"type": "Group", "id": "eng"}, "attrs": {}, "parents": [{"type": "Group", "id": "all"}]},
  {"uid": {"type": "Doc", "id": "d1"}, "attrs": {"owner": {"__entity": {"type": "User", "id": "alice"}}},
   "parents": [{"type": "Folder", "id": "f"}]},
  {"uid": {"type": "Action", "id": "view"}, "attrs": {}, "parents": [{"type": "Action", "id": "read"}]},
  {"uid": {"type": "Action", "id": "read"}, "attrs": {}, "parents": [{"type": "Action", "id": "any"}]},
  {"uid": {"type": "Action", "id": "edit"}, "attrs": {}, "parents": [{"type": "Action", "id": "any"}]}
])";

class AuthorizeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto entities = Entities::from_json(kEntities);
    ASSERT_TRUE(entities.ok()) << entities.error().message;
    entities_ = std::move(*entities);
  }

  static PolicySet parse(std::string_view text) {
    auto set = PolicySet::parse(text, "test.cedar");
    if (!set.ok()) {
      ADD_FAILURE() << "does not parse: " << set.error().front().str();
      return PolicySet();
    }
    return std::move(*set);
  }

  Decision decide(const PolicySet& set, std::string_view principal, std::string_view action,
                  std::string_view resource, RecordValue context = {}) {
    Request r;
    r.principal = *entity_uid_from_text(principal);
    r.action = *entity_uid_from_text(action);
    r.resource = *entity_uid_from_text(resource);
    r.context = std::move(context);
    return is_authorized(set, r, entities_);
  }

  static std::vector<std::string> error_ids(const Decision& d) {
    std::vector<std::string> out;
    for (const EvaluationError& e : d.errors) out.push_back(e.policy_id);
    return out;
  }

  Entities entities_;
};

using Ids = std::vector<std::string>;

TEST_F(AuthorizeTest, DefaultDenyWithNoPolicies) {
  PolicySet empty;
  const Decision d = decide(empty, "User::\"alice\"", "Action::\"view\"", "Doc::\"d1\"");
  EXPECT_FALSE(d.allow);
  EXPECT_TRUE(d.determining.empty());
  EXPECT_TRUE(d.errors.empty());
}

TEST_F(AuthorizeTest, PermitAllowsAndNamesThePolicies) {
  const PolicySet set = parse(R"(
    permit(principal == User::"alice", action == Action::"view", resource);
    permit(principal, action, resource) when { principal.level > 3 };
    permit(principal == User::"bob", action, resource);
  )");
  Decision d = decide(set, "User::\"alice\"", "Action::\"view\"", "Doc::\"d1\"");
  EXPECT_TRUE(d.allow);
  EXPECT_EQ(d.determining, (Ids{"policy0", "policy1"}));
  d = decide(set, "User::\"bob\"", "Action::\"edit\"", "Doc::\"d1\"");
  EXPECT_TRUE(d.allow);
  EXPECT_EQ(d.determining, (Ids{"policy2"}));
}

TEST_F(AuthorizeTest, ForbidOverridesPermit) {
  const PolicySet set = parse(R"(
    permit(principal, action, resource);
    forbid(principal, action, resource) when { principal.level < 3 };
    @id("no-edit") forbid(principal, action == Action::"edit", resource);
  )");
  Decision d = decide(set, "User::\"alice\"", "Action::\"view\"", "Doc::\"d1\"");
  EXPECT_TRUE(d.allow);
  EXPECT_EQ(d.determining, (Ids{"policy0"}));
  d = decide(set, "User::\"bob\"", "Action::\"edit\"", "Doc::\"d1\"");
  EXPECT_FALSE(d.allow);
  EXPECT_EQ(d.determining, (Ids{"policy1", "no-edit"}));
  d = decide(set, "User::\"alice\"", "Action::\"edit\"", "Doc::\"d1\"");
  EXPECT_FALSE(d.allow);
  EXPECT_EQ(d.determining, (Ids{"no-edit"}));
}

TEST_F(AuthorizeTest, ErroringPoliciesAreSkippedAndReported) {
  const PolicySet set = parse(R"(
    permit(principal, action, resource) when { principal.dept == "eng" };
    forbid(principal, action, resource) when { principal.nope };
    forbid(principal, action, resource) when { 1 + "a" == 2 };
    permit(principal, action, resource) when { false } when { 1 };
    permit(principal, action, resource) unless { 7 };
  )");
  // bob has no dept: policy0 errors too; nothing is satisfied.
  Decision d = decide(set, "User::\"bob\"", "Action::\"view\"", "Doc::\"d1\"");
  EXPECT_FALSE(d.allow);
  EXPECT_TRUE(d.determining.empty());
  EXPECT_EQ(error_ids(d), (Ids{"policy0", "policy1", "policy2", "policy4"}));
  // alice: policy0 holds; the erroring forbids do not deny.
  d = decide(set, "User::\"alice\"", "Action::\"view\"", "Doc::\"d1\"");
  EXPECT_TRUE(d.allow);
  EXPECT_EQ(d.determining, (Ids{"policy0"}));
  EXPECT_EQ(error_ids(d), (Ids{"policy1", "policy2", "policy4"}));
  ASSERT_EQ(d.errors.size(), 3u);
  EXPECT_EQ(d.errors[0].message, "`User::\"alice\"` does not have the attribute `nope`");
  EXPECT_EQ(d.errors[1].message, "type error: expected long, got string");
  EXPECT_EQ(d.errors[2].message, "type error: expected bool, got long");
}

TEST_F(AuthorizeTest, ScopeConstraints) {
  const PolicySet set = parse(R"(
    @id("in-group") permit(principal in Group::"all", action, resource);
    @id("is") permit(principal is User, action, resource is Doc);
    @id("is-in") permit(principal is User in Group::"eng", action, resource);
    @id("is-in-wrong-type") permit(principal is Group in Group::"all", action, resource);
    @id("res-eq") permit(principal, action, resource == Doc::"d1");
    @id("res-in") permit(principal, action, resource in Folder::"f");
    @id("act-in") permit(principal, action in Action::"any", resource);
    @id("act-list") permit(principal, action in [Action::"edit", Action::"read"], resource);
    @id("act-eq") permit(principal, action == Action::"read", resource);
  )");
  Decision d = decide(set, "User::\"alice\"", "Action::\"view\"", "Doc::\"d1\"");
  EXPECT_EQ(d.determining,
            (Ids{"in-group", "is", "is-in", "res-eq", "res-in", "act-in", "act-list"}));
  d = decide(set, "User::\"bob\"", "Action::\"edit\"", "Doc::\"other\"");
  EXPECT_EQ(d.determining, (Ids{"is", "act-in", "act-list"}));
  d = decide(set, "Group::\"eng\"", "Action::\"read\"", "Folder::\"f\"");
  EXPECT_EQ(d.determining,
            (Ids{"in-group", "is-in-wrong-type", "res-in", "act-in", "act-list", "act-eq"}));
  // An action that is not in the store is `in` only itself.
  d = decide(set, "User::\"zed\"", "Action::\"other\"", "Thing::\"t\"");
  EXPECT_TRUE(d.determining.empty());
}

TEST_F(AuthorizeTest, IdsCountEveryPolicyAndTemplate) {
  PolicySet set = parse(R"(
    permit(principal, action, resource);
    @id("named") permit(principal, action, resource);
    permit(principal == ?principal, action, resource);
    forbid(principal, action, resource);
  )");
  EXPECT_EQ(set.policy_ids(), (Ids{"policy0", "named", "policy3"}));
  EXPECT_EQ(set.template_ids(), (Ids{"policy2"}));
  EXPECT_EQ(set.size(), 3u);
  ASSERT_TRUE(set.add_text("permit(principal, action, resource);").ok());
  EXPECT_EQ(set.policy_ids().back(), "policy4");
  // Duplicates leave the set unchanged.
  auto dup = set.add_text(
      "permit(principal, action, resource); @id(\"named\") permit(principal, action, resource);");
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().front().message.find("named"), std::string::npos);
  EXPECT_EQ(set.size(), 4u);
  EXPECT_FALSE(set.add_text("@id(\"policy0\") forbid(principal, action, resource);").ok());
  EXPECT_FALSE(set.add_text("@id(\"x\") permit(principal, action, resource); @id(\"x\") "
                            "permit(principal, action, resource);")
                   .ok());
  EXPECT_FALSE(set.add_text("permit(principal, action, resource").ok());  // a parse error
  EXPECT_EQ(set.size(), 4u);
  EXPECT_FALSE(PolicySet::parse("permit(").ok());
}

TEST_F(AuthorizeTest, Annotations) {
  const PolicySet set = parse(R"(
    @id("p") @reason("because") @flag permit(principal, action, resource);
    @id("t") @kind("template") permit(principal in ?principal, action, resource);
  )");
  EXPECT_EQ(set.annotation("p", "reason"), "because");
  EXPECT_EQ(set.annotation("p", "flag"), "");
  EXPECT_EQ(set.annotation("p", "id"), "p");
  EXPECT_EQ(set.annotation("p", "nope"), std::nullopt);
  EXPECT_EQ(set.annotation("t", "kind"), "template");
  EXPECT_EQ(set.annotation("missing", "id"), std::nullopt);
}

TEST_F(AuthorizeTest, TemplatesLinkAndDecide) {
  PolicySet set = parse(R"(
    @id("viewers") permit(principal in ?principal, action == Action::"view", resource == ?resource);
    @id("owners") permit(principal == ?principal, action, resource) when { resource.owner == principal };
    @id("deny") forbid(principal, action, resource is Doc in ?resource) when { resource has secret };
  )");
  EXPECT_EQ(set.size(), 0u);
  EXPECT_EQ(set.template_ids(), (Ids{"viewers", "owners", "deny"}));
  ASSERT_TRUE(set.link("viewers", "eng-d1",
                       {{"?principal", {"Group", "eng"}}, {"?resource", {"Doc", "d1"}}})
                  .ok());
  ASSERT_TRUE(set.link("owners", "alice-owns", {{"principal", {"User", "alice"}}}).ok());
  ASSERT_TRUE(set.link("deny", "deny-f", {{"?resource", {"Folder", "f"}}}).ok());
  EXPECT_EQ(set.policy_ids(), (Ids{"eng-d1", "alice-owns", "deny-f"}));
  Decision d = decide(set, "User::\"alice\"", "Action::\"view\"", "Doc::\"d1\"");
  EXPECT_TRUE(d.allow);
  EXPECT_EQ(d.determining, (Ids{"eng-d1", "alice-owns"}));
  d = decide(set, "User::\"bob\"", "Action::\"view\"", "Doc::\"d1\"");
  EXPECT_FALSE(d.allow);
  d = decide(set, "User::\"alice\"", "Action::\"view\"", "Doc::\"d2\"");
  EXPECT_EQ(d.determining, (Ids{}));
  EXPECT_EQ(error_ids(d), (Ids{"alice-owns"}));  // Doc::"d2" does not exist

  EXPECT_FALSE(set.link("nope", "x", {}).ok());
  EXPECT_FALSE(
      set.link("viewers", "eng-d1", {{"?principal", {"G", "g"}}, {"?resource", {"D", "d"}}}).ok());
  EXPECT_FALSE(
      set.link("viewers", "viewers", {{"?principal", {"G", "g"}}, {"?resource", {"D", "d"}}}).ok());
  EXPECT_FALSE(set.link("viewers", "x", {{"?principal", {"G", "g"}}}).ok());
  EXPECT_FALSE(
      set.link("owners", "x", {{"?principal", {"G", "g"}}, {"?resource", {"D", "d"}}}).ok());
  EXPECT_FALSE(set.link("owners", "x", {{"?other", {"G", "g"}}}).ok());
  EXPECT_EQ(set.size(), 3u);
}

TEST_F(AuthorizeTest, ContextReachesConditions) {
  const PolicySet set = parse(R"(
    permit(principal, action, resource) when { context.ip.isInRange(ip("10.0.0.0/8")) && context.n < 3 };
  )");
  auto ctx = context_from_json(R"({"ip": {"__extn": {"fn": "ip", "arg": "10.1.2.3"}}, "n": 2})");
  ASSERT_TRUE(ctx.ok());
  EXPECT_TRUE(decide(set, "User::\"alice\"", "Action::\"view\"", "Doc::\"d1\"", *ctx).allow);
  const Decision d = decide(set, "User::\"alice\"", "Action::\"view\"", "Doc::\"d1\"");
  EXPECT_FALSE(d.allow);
  EXPECT_EQ(error_ids(d), (Ids{"policy0"}));
}

// The index must never change a decision: compare against evaluating every
// policy for many generated policy sets and requests.
TEST_F(AuthorizeTest, IndexAgreesWithEvaluatingEveryPolicy) {
  std::mt19937 rng(7);
  const std::vector<std::string> principals = {"User::\"alice\"", "User::\"bob\"", "Group::\"eng\"",
                                               "User::\"zed\""};
  const std::vector<std::string> actions = {"Action::\"view\"", "Action::\"read\"",
                                            "Action::\"edit\"", "Action::\"any\"",
                                            "Action::\"other\""};
  const std::vector<std::string> resources = {"Doc::\"d1\"", "Doc::\"d2\"", "Folder::\"f\"",
                                              "Thing::\"t\""};
  const auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
  for (int round = 0; round < 12; ++round) {
    // Enough policies (and links, appended one by one) to span several
    // words of the index's bitsets.
    std::string text =
        "@id(\"tp\") permit(principal in ?principal, action, resource);\n"
        "@id(\"tr\") forbid(principal, action == Action::\"edit\", resource == ?resource);\n";
    for (int i = 0; i < 150; ++i) {
      text += rng() % 4 == 0 ? "forbid(" : "permit(";
      switch (rng() % 5) {
        case 0:
          text += "principal, ";
          break;
        case 1:
          text += "principal == " + pick(principals) + ", ";
          break;
        case 2:
          text += "principal in " + pick(principals) + ", ";
          break;
        case 3:
          text += "principal is User, ";
          break;
        default:
          text += "principal is User in Group::\"all\", ";
          break;
      }
      switch (rng() % 4) {
        case 0:
          text += "action, ";
          break;
        case 1:
          text += "action == " + pick(actions) + ", ";
          break;
        case 2:
          text += "action in " + pick(actions) + ", ";
          break;
        default:
          text += "action in [" + pick(actions) + ", " + pick(actions) + "], ";
          break;
      }
      switch (rng() % 4) {
        case 0:
          text += "resource";
          break;
        case 1:
          text += "resource == " + pick(resources);
          break;
        case 2:
          text += "resource in " + pick(resources);
          break;
        default:
          text += "resource is Doc";
          break;
      }
      text += rng() % 3 == 0 ? ") when { principal.level > 2 };\n" : ");\n";
    }
    PolicySet set = parse(text);
    for (int i = 0; i < 40; ++i) {
      const std::string id = "link" + std::to_string(i);
      const bool principal_slot = rng() % 2 == 0;
      const EntityUid value = *entity_uid_from_text(pick(principal_slot ? principals : resources));
      ASSERT_TRUE(set.link(principal_slot ? "tp" : "tr", id,
                           {{principal_slot ? "?principal" : "?resource", value}})
                      .ok());
    }
    for (int q = 0; q < 20; ++q) {
      Request r{*entity_uid_from_text(pick(principals)),
                *entity_uid_from_text(pick(actions)),
                *entity_uid_from_text(pick(resources)),
                {}};
      const Decision fast = is_authorized(set, r, entities_);
      // Reference: every policy in order, no index.
      Decision slow;
      std::vector<std::string> permits, forbids;
      eval::Evaluator evaluator(r, entities_);
      for (const LinkedPolicy& p : set.impl().policies) {
        const eval::Slots slots{p.principal_slot ? &*p.principal_slot : nullptr,
                                p.resource_slot ? &*p.resource_slot : nullptr};
        Result<bool> holds = evaluator.satisfied(*p.policy, slots);
        if (!holds) {
          slow.errors.push_back({p.id, holds.error().message});
        } else if (*holds) {
          (p.policy->permit ? permits : forbids).push_back(p.id);
        }
      }
      slow.allow = forbids.empty() && !permits.empty();
      slow.determining = forbids.empty() ? permits : forbids;
      ASSERT_EQ(fast.allow, slow.allow) << text;
      ASSERT_EQ(fast.determining, slow.determining) << text;
      ASSERT_EQ(error_ids(fast), error_ids(slow)) << text;
    }
  }
}


// is_authorized_each reuses the candidates and the evaluator's lookups
// across resources: every decision must still be the one is_authorized
// makes alone, whatever the resources' types, order and repeats.
TEST_F(AuthorizeTest, EachResourceDecidedAsAlone) {
  const PolicySet set = parse(R"(
    @id("owner") permit (principal, action == Action::"view", resource) when { resource.owner == principal };
    @id("in-f") permit (principal, action in Action::"read", resource in Folder::"f");
    @id("docs") permit (principal is User, action, resource is Doc) when { principal.level > 2 };
    @id("no-d2") forbid (principal, action, resource == Doc::"d2");
    @id("has") permit (principal, action, resource) when { resource has owner && resource.owner.level > 4 };
    @id("ctx") permit (principal, action, resource) when { context.ok && resource in principal };)");
  const std::vector<std::string> principals = {"User::\"alice\"", "User::\"bob\"", "Group::\"eng\""};
  const std::vector<std::string> actions = {"Action::\"view\"", "Action::\"edit\"", "Action::\"other\""};
  const std::vector<std::string> resources = {"Doc::\"d1\"", "Doc::\"d2\"", "Folder::\"f\"",
                                              "User::\"alice\"", "Group::\"eng\"", "Thing::\"t\""};
  std::mt19937 rng(11);
  const auto pick = [&](const std::vector<std::string>& v) { return *entity_uid_from_text(v[rng() % v.size()]); };
  int allowed = 0, errored = 0;
  for (int q = 0; q < 200; ++q) {
    const EntityUid principal = pick(principals);
    const EntityUid action = pick(actions);
    RecordValue context;
    if (rng() % 3 != 0) context.emplace("ok", Value(rng() % 2 == 0));
    std::vector<EntityUid> batch;
    for (std::size_t n = rng() % 6; n > 0; --n) batch.push_back(pick(resources));
    const std::vector<Decision> each = is_authorized_each(set, principal, action, batch, context, entities_);
    ASSERT_EQ(each.size(), batch.size());
    for (std::size_t k = 0; k < batch.size(); ++k) {
      const Decision alone = is_authorized(set, Request{principal, action, batch[k], context}, entities_);
      ASSERT_EQ(each[k].allow, alone.allow) << batch[k].str();
      ASSERT_EQ(each[k].determining, alone.determining) << batch[k].str();
      ASSERT_EQ(each[k].errors.size(), alone.errors.size()) << batch[k].str();
      for (std::size_t e = 0; e < alone.errors.size(); ++e) {
        EXPECT_EQ(each[k].errors[e].policy_id, alone.errors[e].policy_id);
        EXPECT_EQ(each[k].errors[e].message, alone.errors[e].message);
      }
      allowed += alone.allow ? 1 : 0;
      errored += alone.errors.empty() ? 0 : 1;
    }
  }
  // The cases must cover both outcomes and erroring policies.
  EXPECT_GT(allowed, 20);
  EXPECT_GT(errored, 20);
  EXPECT_TRUE(is_authorized_each(set, pick(principals), pick(actions), {}, {}, entities_).empty());
}

}  // namespace
}  // namespace idra::policy

namespace idra::policy {
namespace {

// named_types lists every entity type a bundle names by uid, wherever the
// uid is: scopes, conditions (also inside sets and records), linked slots,
// unlinked templates, and the entities' uids, parents, attributes and tags.
TEST(NamedTypes, EveryPlaceAUidCanBe) {
  auto b = load_bundle(std::vector<PolicyFile>{
      {"a.cedar",
       R"(permit (principal == P1::"a", action in [Action::"x", N::Action::"y"], resource in R1::"r")
            when { [ {k: [S1::"s"]} ].contains(context.x) };
          forbid (principal is P2 in P3::"g", action, resource) unless { resource.owner == C1::"c" };
          permit (principal == ?principal, action, resource in ?resource) when { resource in T1::"t" };
          @id("unlinked") permit (principal in ?principal, action, resource) when { U1::"u" == resource };)",
       ""},
      {"links.json",
       R"([{"template": "policy2", "id": "l1", "slots": {"?principal": "L1::\"p\"", "?resource": "L2::\"r\""}}])", ""},
      {"entities.json",
       R"([{"uid": {"type": "E1", "id": "e"}, "parents": [{"type": "E2", "id": "p"}],
            "attrs": {"a": {"__entity": {"type": "E3", "id": "x"}}, "s": [{"__entity": {"type": "E4", "id": "y"}}],
                      "r": {"f": {"__entity": {"type": "E5", "id": "z"}}}, "n": 1},
            "tags": {"t": {"__entity": {"type": "E6", "id": "w"}}}}])",
       ""}});
  ASSERT_TRUE(b.ok()) << b.error().front().str();
  const auto& bundle = **b;
  ASSERT_TRUE(bundle.named_types);
  EXPECT_EQ(*bundle.named_types,
            (std::vector<std::string>{"Action", "C1", "E1", "E2", "E3", "E4", "E5", "E6", "L1", "L2", "N::Action", "P1", "P3",
                                      "R1", "S1", "T1", "U1"}));
  EXPECT_TRUE(bundle.names_type("R1"));
  EXPECT_FALSE(bundle.names_type("P2"));  // `is P2` names a type, not an entity
  EXPECT_FALSE(bundle.names_type("Identifier"));
  // A bundle built by hand says nothing: every type may be named.
  Bundle by_hand;
  EXPECT_TRUE(by_hand.names_type("Identifier"));
}

}  // namespace
}  // namespace idra::policy
