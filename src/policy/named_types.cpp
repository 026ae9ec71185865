// named_types.cpp: which entity types a policy set and its entities name by
// uid. A server may cache decisions about entities of the other types (see
// Bundle::named_types in idra/policy.hpp for why that is sound).
#include <set>

#include "idra/policy.hpp"
#include "policy/ast.hpp"
#include "policy/policy_set.hpp"

namespace idra::policy {
namespace {

void add_value(const Value& v, std::set<std::string>& out) {
  if (v.is_entity()) {
    out.insert(v.as_entity().type);
  } else if (v.is_set()) {
    for (const Value& e : v.as_set()) add_value(e, out);
  } else if (v.is_record()) {
    for (const auto& [name, field] : v.as_record()) add_value(field, out);
  }
}

void add_expr(const ast::Expr& e, std::set<std::string>& out) {
  if (e.kind == ast::Kind::literal) add_value(e.literal, out);
  for (const auto& a : e.args) {
    if (a) add_expr(*a, out);
  }
}

void add_scope(const ast::ScopeConstraint& s, std::set<std::string>& out) {
  if (s.entity) out.insert(s.entity->type);
  for (const EntityUid& u : s.entities) out.insert(u.type);
}

void add_policy(const ast::Policy& p, std::set<std::string>& out) {
  add_scope(p.principal, out);
  add_scope(p.action, out);
  add_scope(p.resource, out);
  for (const auto& c : p.conditions) {
    if (c.expr) add_expr(*c.expr, out);
  }
}

}  // namespace

std::vector<std::string> named_entity_types(const PolicySet& policies, const Entities& entities) {
  std::set<std::string> out;
  for (const LinkedPolicy& p : policies.impl().policies) {
    if (p.policy) add_policy(*p.policy, out);
    if (p.principal_slot) out.insert(p.principal_slot->type);
    if (p.resource_slot) out.insert(p.resource_slot->type);
  }
  // Templates not linked take no part in decisions, but a later link could
  // be added to a copy of the set: count them too.
  for (const NamedTemplate& t : policies.impl().templates) {
    if (t.policy) add_policy(*t.policy, out);
  }
  entities.for_each_entity([&](const Entity& e) {
    out.insert(e.uid.type);
    for (const EntityUid& parent : e.parents) out.insert(parent.type);
    for (const auto& [name, v] : e.attrs) add_value(v, out);
    for (const auto& [name, v] : e.tags) add_value(v, out);
  });
  return {out.begin(), out.end()};
}

}  // namespace idra::policy
