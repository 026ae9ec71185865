// authorize.cpp: is_authorized and the policy index behind it.
//
// A decision walks only the candidate policies the index admits (by the
// request's action and its ancestors, and by principal and resource type),
// in set order, so the determining ids come out in set order too. The
// candidate bitset lives in a thread-local buffer: a decision allocates
// only for what it returns (ids, error messages) and for values that
// conditions build.
#include <algorithm>

#include "policy/eval.hpp"
#include "policy/policy_set.hpp"

namespace idra::policy {
namespace {

void set_bit(Bits& bits, std::size_t i) {
  if (bits.size() <= i / 64) bits.resize(i / 64 + 1, 0);
  bits[i / 64] |= std::uint64_t{1} << (i % 64);
}

// word reads word |w| of |bits|; a bitset is only as long as its last set
// bit needs (policies are indexed one by one as they are added).
std::uint64_t word(const Bits* bits, std::size_t w) {
  return bits != nullptr && w < bits->size() ? (*bits)[w] : 0;
}

// scope_type is the entity type a principal/resource constraint pins, or
// null when any type can match (`any`, `in E`).
const std::string* scope_type(const ast::ScopeConstraint& c, const std::optional<EntityUid>& slot) {
  using Op = ast::ScopeConstraint::Op;
  switch (c.op) {
    case Op::eq:
      if (c.slot) return slot ? &slot->type : nullptr;
      return c.entity ? &c.entity->type : nullptr;
    case Op::is:
    case Op::is_in:
      return &c.entity_type;
    default:
      return nullptr;
  }
}

void or_into(Bits& acc, const Bits& bits) {
  for (std::size_t w = 0; w < bits.size() && w < acc.size(); ++w) acc[w] |= bits[w];
}

template <class Map, class Key>
const Bits* lookup(const Map& map, const Key& key) {
  auto it = map.find(key);
  return it == map.end() ? nullptr : &it->second;
}

}  // namespace

void index_policy(PolicySetImpl& set, std::size_t i) {
  PolicyIndex& index = set.index;
  const LinkedPolicy& linked = set.policies[i];
  const ast::Policy& p = *linked.policy;
  index.words = std::max(index.words, i / 64 + 1);
  using Op = ast::ScopeConstraint::Op;
  switch (p.action.op) {
    case Op::eq:
      if (p.action.entity) set_bit(index.action_eq[*p.action.entity], i);
      break;
    case Op::in:
      if (p.action.entity) set_bit(index.action_in[*p.action.entity], i);
      break;
    case Op::in_list:
      for (const EntityUid& uid : p.action.entities) set_bit(index.action_in[uid], i);
      break;
    default:
      set_bit(index.action_any, i);
      break;
  }
  if (const std::string* type = scope_type(p.principal, linked.principal_slot)) {
    set_bit(index.principal_type[*type], i);
  } else {
    set_bit(index.principal_any, i);
  }
  if (const std::string* type = scope_type(p.resource, linked.resource_slot)) {
    set_bit(index.resource_type[*type], i);
  } else {
    set_bit(index.resource_any, i);
  }
}

void rebuild_index(PolicySetImpl& set) {
  set.index = PolicyIndex{};
  for (std::size_t i = 0; i < set.policies.size(); ++i) index_policy(set, i);
}

namespace {

// candidates_of fills |out| with the policies whose head the index admits
// for |action| (and its ancestors in |entities|), a principal of type
// |principal_type| and a resource of type |resource_type|.
void candidates_of(const PolicyIndex& index, const EntityUid& action, const Entities& entities,
                   const std::string& principal_type, const std::string& resource_type, Bits& out) {
  out.assign(index.words, 0);
  or_into(out, index.action_any);
  if (const Bits* b = lookup(index.action_eq, action)) or_into(out, *b);
  if (const Bits* b = lookup(index.action_in, action)) or_into(out, *b);
  if (const AncestorList* ancestors = entities.ancestors(action)) {
    for (const EntityUid& ancestor : *ancestors) {
      if (const Bits* b = lookup(index.action_in, ancestor)) or_into(out, *b);
    }
  }
  const Bits* principal_bits = lookup(index.principal_type, principal_type);
  const Bits* resource_bits = lookup(index.resource_type, resource_type);
  for (std::size_t w = 0; w < index.words; ++w) {
    const std::uint64_t p = word(&index.principal_any, w) | word(principal_bits, w);
    const std::uint64_t r = word(&index.resource_any, w) | word(resource_bits, w);
    out[w] &= p & r;
  }
}

// decide evaluates the |candidates| of |set| in set order with |evaluator|.
Decision decide(const PolicySetImpl& set, const Bits& candidates, eval::Evaluator& evaluator) {
  Decision decision;
  bool forbidden = false;
  for (std::size_t w = 0; w < candidates.size(); ++w) {
    std::uint64_t word = candidates[w];
    while (word != 0) {
      const std::size_t i = w * 64 + static_cast<std::size_t>(__builtin_ctzll(word));
      word &= word - 1;
      const LinkedPolicy& linked = set.policies[i];
      const eval::Slots slots{linked.principal_slot ? &*linked.principal_slot : nullptr,
                              linked.resource_slot ? &*linked.resource_slot : nullptr};
      Result<bool> holds = evaluator.satisfied(*linked.policy, slots);
      if (!holds) {
        decision.errors.push_back({linked.id, holds.error().message});
        continue;
      }
      if (!*holds) continue;
      if (linked.policy->permit) {
        if (!forbidden) decision.determining.push_back(linked.id);
      } else {
        if (!forbidden) decision.determining.clear();  // the permits collected so far do not decide
        forbidden = true;
        decision.determining.push_back(linked.id);
      }
    }
  }
  decision.allow = !forbidden && !decision.determining.empty();
  return decision;
}

}  // namespace

Decision is_authorized(const PolicySet& policies, const Request& request,
                       const Entities& entities) {
  return is_authorized(policies, RequestRef{request.principal, request.action, request.resource, request.context},
                       entities);
}

Decision is_authorized(const PolicySet& policies, const RequestRef& request,
                       const Entities& entities) {
  const PolicySetImpl& set = policies.impl();
  if (set.policies.empty()) return Decision{};
  thread_local Bits candidates;
  candidates_of(set.index, request.action, entities, request.principal.type, request.resource.type, candidates);
  eval::Evaluator evaluator(request, entities);
  return decide(set, candidates, evaluator);
}

std::vector<Decision> is_authorized_each(const PolicySet& policies, const EntityUid& principal,
                                         const EntityUid& action, std::span<const EntityUid> resources,
                                         const RecordValue& context, const Entities& entities) {
  const PolicySetImpl& set = policies.impl();
  std::vector<Decision> decisions(resources.size());
  if (set.policies.empty() || resources.empty()) return decisions;
  // The candidates depend on the resource only through its type.
  thread_local Bits candidates;
  const std::string* candidates_type = nullptr;
  eval::Evaluator evaluator(RequestRef{principal, action, resources[0], context}, entities);
  for (std::size_t k = 0; k < resources.size(); ++k) {
    const EntityUid& resource = resources[k];
    if (candidates_type == nullptr || *candidates_type != resource.type) {
      candidates_of(set.index, action, entities, principal.type, resource.type, candidates);
      candidates_type = &resource.type;
    }
    evaluator.set_resource(resource);
    decisions[k] = decide(set, candidates, evaluator);
  }
  return decisions;
}

}  // namespace idra::policy
