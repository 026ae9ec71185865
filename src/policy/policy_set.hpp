// policy_set.hpp: the inside of a PolicySet (internal to src/policy).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "policy/ast.hpp"

namespace idra::policy {

// LinkedPolicy is one policy that takes part in decisions: a static policy,
// or a template with its slots filled.
struct LinkedPolicy {
  std::string id;
  std::shared_ptr<const ast::Policy> policy;  // the static policy, or the template
  std::string template_id;                    // empty for a static policy
  std::optional<EntityUid> principal_slot;
  std::optional<EntityUid> resource_slot;
};

struct NamedTemplate {
  std::string id;
  std::shared_ptr<const ast::Policy> policy;
};

// Bits is a set of policy positions (bit i = policies[i]), one word per 64;
// a bitset is only as long as its highest set bit needs.
using Bits = std::vector<std::uint64_t>;

// PolicyIndex narrows a request to the policies whose head can match, so
// is_authorized evaluates only those. Each map sends a key to the policies
// it admits; a policy whose constraint does not pin the key is in the
// matching `*_any` set. The candidate set of a request is
//   (action_any | action_eq[a] | action_in[a] | action_in[each ancestor of a])
//   & (principal_any | principal_type[type of p]) & (resource_any | resource_type[type of r])
// and every candidate is still checked in full (scope and conditions).
struct PolicyIndex {
  std::size_t words = 0;
  Bits action_any;
  std::unordered_map<EntityUid, Bits, EntityUidHash> action_eq;
  std::unordered_map<EntityUid, Bits, EntityUidHash> action_in;
  Bits principal_any;
  std::unordered_map<std::string, Bits> principal_type;
  Bits resource_any;
  std::unordered_map<std::string, Bits> resource_type;
};

class PolicySetImpl {
 public:
  std::vector<LinkedPolicy> policies;  // in set order
  std::vector<NamedTemplate> templates;
  std::size_t next_auto_id = 0;  // the N of the next "policyN"
  PolicyIndex index;             // kept up to date by index_policy as policies are appended
};

// index_policy adds |set.policies[i]| to |set.index|; rebuild_index
// recomputes the index from all of |set.policies| (authorize.cpp).
void index_policy(PolicySetImpl& set, std::size_t i);
void rebuild_index(PolicySetImpl& set);

}  // namespace idra::policy
