// policy_set.cpp: PolicySet (parsing, ids, template links).
//
// Ids: a policy's `@id("...")` annotation when it has one, else "policyN"
// where N is its position among all the policies and templates added so
// far (Cedar's PolicySet::from_str numbering, so the ids match Cedar's for
// text without @id). Static policies, templates and links share one id space.
#include "policy/policy_set.hpp"

#include <algorithm>
#include <set>

namespace idra::policy {
namespace {

bool id_taken(const PolicySetImpl& set, std::string_view id) {
  return std::any_of(set.policies.begin(), set.policies.end(),
                     [&](const LinkedPolicy& p) { return p.id == id; }) ||
         std::any_of(set.templates.begin(), set.templates.end(),
                     [&](const NamedTemplate& t) { return t.id == id; });
}

const ast::Policy* find_policy(const PolicySetImpl& set, std::string_view id) {
  for (const LinkedPolicy& p : set.policies) {
    if (p.id == id) return p.policy.get();
  }
  for (const NamedTemplate& t : set.templates) {
    if (t.id == id) return t.policy.get();
  }
  return nullptr;
}

Diagnostic diagnostic_at(const ast::Policy& p, std::string message) {
  return Diagnostic{p.file, p.loc.line, p.loc.column, std::move(message)};
}

}  // namespace

PolicySet::PolicySet() : impl_(std::make_unique<PolicySetImpl>()) {}
PolicySet::~PolicySet() = default;
PolicySet::PolicySet(PolicySet&&) noexcept = default;
PolicySet& PolicySet::operator=(PolicySet&&) noexcept = default;

Result<PolicySet, std::vector<Diagnostic>> PolicySet::parse(std::string_view text,
                                                            std::string_view file_name) {
  PolicySet set;
  Result<void, std::vector<Diagnostic>> added = set.add_text(text, file_name);
  if (!added) return added.error();
  return set;
}

Result<void, std::vector<Diagnostic>> PolicySet::add_text(std::string_view text,
                                                          std::string_view file_name) {
  auto parsed = ast::parse_policies(text, file_name);
  if (!parsed) return parsed.error();
  std::vector<Diagnostic> problems;
  std::set<std::string, std::less<>> new_ids;
  std::vector<std::string> ids;
  std::size_t next = impl_->next_auto_id;
  for (const ast::Policy& p : *parsed) {
    const std::string* annotated = p.annotation("id");
    std::string id = annotated != nullptr ? *annotated : "policy" + std::to_string(next);
    ++next;
    if (id_taken(*impl_, id) || !new_ids.insert(id).second) {
      problems.push_back(diagnostic_at(p, "duplicate policy id \"" + id + "\""));
    }
    ids.push_back(std::move(id));
  }
  if (!problems.empty()) return problems;
  for (std::size_t i = 0; i < parsed->size(); ++i) {
    auto policy = std::make_shared<const ast::Policy>(std::move((*parsed)[i]));
    if (policy->is_template()) {
      impl_->templates.push_back({std::move(ids[i]), std::move(policy)});
    } else {
      impl_->policies.push_back(
          {std::move(ids[i]), std::move(policy), "", std::nullopt, std::nullopt});
      index_policy(*impl_, impl_->policies.size() - 1);
    }
  }
  impl_->next_auto_id = next;
  return {};
}

Result<void> PolicySet::link(std::string_view template_id, std::string_view link_id,
                             const std::map<std::string, EntityUid>& slots) {
  auto t = std::find_if(impl_->templates.begin(), impl_->templates.end(),
                        [&](const NamedTemplate& n) { return n.id == template_id; });
  if (t == impl_->templates.end())
    return make_error("no template \"" + std::string(template_id) + "\"");
  if (id_taken(*impl_, link_id))
    return make_error("the policy id \"" + std::string(link_id) + "\" is taken");
  LinkedPolicy linked{std::string(link_id), t->policy, t->id, std::nullopt, std::nullopt};
  for (const auto& [name, uid] : slots) {
    const std::string_view slot =
        name.starts_with('?') ? std::string_view(name).substr(1) : std::string_view(name);
    if (slot == "principal" && t->policy->has_principal_slot()) {
      linked.principal_slot = uid;
    } else if (slot == "resource" && t->policy->has_resource_slot()) {
      linked.resource_slot = uid;
    } else {
      return make_error("template \"" + t->id + "\" has no slot " + name);
    }
  }
  if (t->policy->has_principal_slot() && !linked.principal_slot) {
    return make_error("template \"" + t->id + "\" needs a value for ?principal");
  }
  if (t->policy->has_resource_slot() && !linked.resource_slot) {
    return make_error("template \"" + t->id + "\" needs a value for ?resource");
  }
  impl_->policies.push_back(std::move(linked));
  index_policy(*impl_, impl_->policies.size() - 1);
  return {};
}

std::vector<std::string> PolicySet::policy_ids() const {
  std::vector<std::string> out;
  out.reserve(impl_->policies.size());
  for (const LinkedPolicy& p : impl_->policies) out.push_back(p.id);
  return out;
}

std::vector<std::string> PolicySet::template_ids() const {
  std::vector<std::string> out;
  out.reserve(impl_->templates.size());
  for (const NamedTemplate& t : impl_->templates) out.push_back(t.id);
  return out;
}

std::size_t PolicySet::size() const { return impl_->policies.size(); }

std::optional<std::string> PolicySet::annotation(std::string_view id, std::string_view key) const {
  const ast::Policy* p = find_policy(*impl_, id);
  if (p == nullptr) return std::nullopt;
  const std::string* value = p->annotation(key);
  if (value == nullptr) return std::nullopt;
  return *value;
}

}  // namespace idra::policy
