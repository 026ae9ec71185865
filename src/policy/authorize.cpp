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

Decision is_authorized(const PolicySet& policies, const Request& request,
                       const Entities& entities) {
  const PolicySetImpl& set = policies.impl();
  const PolicyIndex& index = set.index;
  Decision decision;
  if (set.policies.empty()) return decision;

  thread_local Bits candidates;
  candidates.assign(index.words, 0);
  or_into(candidates, index.action_any);
  if (const Bits* b = lookup(index.action_eq, request.action)) or_into(candidates, *b);
  if (const Bits* b = lookup(index.action_in, request.action)) or_into(candidates, *b);
  if (const std::vector<EntityUid>* ancestors = entities.ancestors(request.action)) {
    for (const EntityUid& ancestor : *ancestors) {
      if (const Bits* b = lookup(index.action_in, ancestor)) or_into(candidates, *b);
    }
  }
  const Bits* principal_bits = lookup(index.principal_type, request.principal.type);
  const Bits* resource_bits = lookup(index.resource_type, request.resource.type);
  for (std::size_t w = 0; w < index.words; ++w) {
    const std::uint64_t p = word(&index.principal_any, w) | word(principal_bits, w);
    const std::uint64_t r = word(&index.resource_any, w) | word(resource_bits, w);
    candidates[w] &= p & r;
  }

  eval::Evaluator evaluator(request, entities);
  bool forbidden = false;
  for (std::size_t w = 0; w < index.words; ++w) {
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

}  // namespace idra::policy
