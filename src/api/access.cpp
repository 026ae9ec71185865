#include "access.hpp"

#include <algorithm>

#include "hs_data.hpp"
#include "idra/ids.hpp"

namespace idra::api {
namespace {

constexpr std::string_view kVlistType = "HS_VLIST";
constexpr std::string_view kAdminType = "HS_ADMIN";
constexpr int kMaxGroupDepth = 4;

std::string canonical_or_empty(std::string_view handle) {
  auto h = ids::parse_handle(handle);
  return h ? h->str() : std::string{};
}

// The Handle permission names, in bit order (hs_data.hpp's Perm).
constexpr std::string_view kPermNames[] = {
    "add_handle",   "delete_handle", "add_derived_prefix", "delete_derived_prefix",
    "modify_value", "remove_value",  "add_value",          "modify_admin",
    "remove_admin", "add_admin",     "read_value",         "list_handles"};

policy::Value permission_set(std::uint16_t mask) {
  policy::SetValue names;
  for (unsigned bit = 0; bit < std::size(kPermNames); ++bit) {
    if ((mask >> bit) & 1u) names.emplace_back(std::string(kPermNames[bit]));
  }
  return policy::Value::set(std::move(names));
}

enum class Shape { handle, value, prefix, certificate, audit, policy_store };

Shape shape_of(Action a) {
  switch (a) {
    case Action::read_value:
    case Action::add_value:
    case Action::modify_value:
    case Action::remove_value:
      return Shape::value;
    case Action::list_handles:
    case Action::home_prefix:
    case Action::unhome_prefix:
      return Shape::prefix;
    case Action::enroll:
    case Action::reenroll:
    case Action::issue_token:
    case Action::issue_certificate:
    case Action::revoke:
    case Action::read_certificates:
      return Shape::certificate;
    case Action::read_audit:
      return Shape::audit;
    case Action::reload_policy:
    case Action::read_policy:
      return Shape::policy_store;
    default:
      return Shape::handle;
  }
}

std::string_view change_of(Action a) {
  switch (a) {
    case Action::add_value: return "add";
    case Action::modify_value: return "modify";
    case Action::remove_value: return "remove";
    case Action::home_prefix: return "home";
    case Action::unhome_prefix: return "unhome";
    default: return "";
  }
}

policy::EntityUid uid(std::string_view type, std::string_view id) {
  return policy::EntityUid{std::string(type), std::string(id)};
}

// prefix_chain appends Prefix entities for |prefix| and its dotted
// ancestors, each in the next ("88.100.1" in "88.100" in "88").
void prefix_chain(std::string_view prefix, std::vector<policy::Entity>& out) {
  const auto chain = ids::prefix_ancestors(prefix);
  for (std::size_t i = 0; i < chain.size(); ++i) {
    policy::Entity e;
    e.uid = uid("Prefix", chain[i]);
    if (i + 1 < chain.size()) e.parents.push_back(uid("Prefix", chain[i + 1]));
    out.push_back(std::move(e));
  }
}

// identifier_entities appends Identifier::"<handle>" and its prefix chain.
void identifier_entities(std::string_view handle, std::vector<policy::Entity>& out) {
  const std::string prefix = prefix_of_handle(handle);
  policy::Entity id;
  id.uid = uid("Identifier", handle);
  if (!prefix.empty() && ids::canonical_prefix(prefix)) {
    id.parents.push_back(uid("Prefix", prefix));
    out.push_back(std::move(id));
    prefix_chain(prefix, out);
  } else {
    out.push_back(std::move(id));
  }
}

std::string value_id(std::string_view handle, std::uint32_t index) {
  return std::string(handle) + "#" + std::to_string(index);
}

policy::Entity value_entity(std::string_view handle, const store::HandleValue& v) {
  policy::Entity e;
  e.uid = uid("Value", value_id(handle, v.index));
  e.parents.push_back(uid("Identifier", handle));
  e.attrs.emplace("type", policy::Value(v.type));
  e.attrs.emplace("index", policy::Value(static_cast<std::int64_t>(v.index)));
  e.attrs.emplace("publicRead", policy::Value(v.permissions.public_read));
  e.attrs.emplace("adminRead", policy::Value(v.permissions.admin_read));
  e.attrs.emplace("publicWrite", policy::Value(v.permissions.public_write));
  e.attrs.emplace("adminWrite", policy::Value(v.permissions.admin_write));
  return e;
}

bool value_in_record(const store::Record* record, const store::HandleValue* v) {
  if (record == nullptr || v == nullptr || record->values.empty()) return false;
  return v >= record->values.data() && v < record->values.data() + record->values.size();
}

}  // namespace

std::string prefix_of_handle(std::string_view canonical_handle) {
  const auto slash = canonical_handle.find('/');
  std::string_view prefix = canonical_handle.substr(0, slash);
  if (prefix == "0.NA" && slash != std::string_view::npos) {
    if (auto p = ids::canonical_prefix(canonical_handle.substr(slash + 1))) return *p;
  }
  return std::string(prefix);
}

bool is_served_here(const store::Store& store, std::string_view canonical_handle) {
  for (const auto& p : ids::prefix_ancestors(prefix_of_handle(canonical_handle))) {
    if (store.is_homed(p)) return true;
  }
  return canonical_handle.starts_with("0.NA/") && store.is_homed("0.NA");
}

std::string_view cedar_action_name(Action action) {
  switch (action) {
    case Action::resolve: return "resolve";
    case Action::read_value: return "readValue";
    case Action::register_handle: return "register";
    case Action::add_value:
    case Action::modify_value:
    case Action::remove_value: return "update";
    case Action::delete_handle: return "delete";
    case Action::list_handles: return "listHandles";
    case Action::home_prefix:
    case Action::unhome_prefix: return "homePrefix";
    case Action::enroll: return "enroll";
    case Action::reenroll: return "reenroll";
    case Action::issue_token: return "issueToken";
    case Action::issue_certificate: return "issueCertificate";
    case Action::revoke: return "revoke";
    case Action::read_certificates: return "readCertificates";
    case Action::read_audit: return "readAudit";
    case Action::reload_policy: return "reloadPolicy";
    case Action::read_policy: return "readPolicy";
  }
  return "unknown";
}

policy::Entity AccessControl::principal_entity(const Principal& p) {
  policy::Entity e;
  auto add_parent = [&](std::string_view type, std::string_view id) {
    if (!id.empty()) e.parents.push_back(uid(type, id));
  };
  switch (p.kind) {
    case Principal::Kind::anonymous:
      e.uid = uid("Anonymous", "anonymous");
      return e;
    case Principal::Kind::handle:
      e.uid = uid("User", std::to_string(p.index) + ":" + p.handle);
      e.attrs.emplace("kind", policy::Value("handle"));
      e.attrs.emplace("organization", policy::Value(""));
      e.attrs.emplace("profile", policy::Value(""));
      e.attrs.emplace("fingerprint", policy::Value(""));
      break;
    case Principal::Kind::certificate:
      if (p.role == "device" && !p.handle.empty()) {
        e.uid = uid("Device", p.handle);
        e.attrs.emplace("record", policy::Value(uid("Identifier", p.handle)));
      } else {
        e.uid = uid("User", p.handle.empty() ? "cert:" + p.fingerprint : p.handle);
        e.attrs.emplace("kind", policy::Value("certificate"));
        if (!p.organization.empty()) e.attrs.emplace("org", policy::Value(uid("Org", p.organization)));
        if (!p.handle.empty()) e.attrs.emplace("record", policy::Value(uid("Identifier", p.handle)));
      }
      e.attrs.emplace("organization", policy::Value(p.organization));
      e.attrs.emplace("profile", policy::Value(p.profile));
      e.attrs.emplace("fingerprint", policy::Value(p.fingerprint));
      add_parent("Role", p.role);
      add_parent("Org", p.organization);
      break;
  }
  if (p.node_admin) add_parent("Role", "admin");
  return e;
}

bool AccessControl::is_member(const Principal& principal, std::string_view ref_handle,
                              std::uint32_t ref_index, int depth) const {
  const std::string ref = canonical_or_empty(ref_handle);
  if (ref.empty()) return false;
  if (ref == principal.handle && (ref_index == principal.index || ref_index == 0)) return true;
  if (depth >= kMaxGroupDepth) return false;
  // The reference may name a group: an HS_VLIST value whose members are
  // (handle, index) pairs, themselves possibly groups.
  const auto record = store_.get(ref);
  if (!record) return false;
  for (const auto& v : record->values) {
    if (v.index != ref_index || v.type != kVlistType) continue;
    auto members = decode_vlist(v.data);
    if (!members) return false;
    for (const auto& m : *members) {
      if (is_member(principal, m.handle, m.index, depth + 1)) return true;
    }
  }
  return false;
}

std::uint16_t AccessControl::record_mask(const Principal& principal, const store::Record& record) const {
  std::uint16_t mask = 0;
  for (const auto& v : record.values) {
    if (v.type != kAdminType) continue;
    auto admin = decode_admin(v.data);
    if (admin && is_member(principal, admin->handle, admin->index, 0)) mask |= admin->permissions;
  }
  return mask;
}

std::uint16_t AccessControl::prefix_admin_mask(const Principal& principal, std::string_view prefix) const {
  std::uint16_t mask = 0;
  for (const auto& p : ids::prefix_ancestors(prefix)) {
    if (const auto rec = store_.get("0.NA/" + p)) mask |= record_mask(principal, *rec);
  }
  return mask;
}

std::uint16_t AccessControl::parent_prefix_admin_mask(const Principal& principal, std::string_view prefix) const {
  std::uint16_t mask = 0;
  const auto ancestors = ids::prefix_ancestors(prefix);
  for (std::size_t i = 1; i < ancestors.size(); ++i) {
    if (const auto rec = store_.get("0.NA/" + ancestors[i])) mask |= record_mask(principal, *rec);
  }
  return mask;
}

std::uint16_t AccessControl::admin_mask(const Principal& principal, std::string_view handle,
                                        const store::Record* record) const {
  std::uint16_t mask = record ? record_mask(principal, *record) : 0;
  return mask | prefix_admin_mask(principal, prefix_of_handle(handle));
}

const policy::Entities* AccessControl::entities_for(const Principal& principal, Action action, const Resource& r,
                                                    policy::EntityUid& out_resource) const {
  const Shape shape = shape_of(action);
  // Keys name the principal too: a request has one, but nothing here
  // should depend on that.
  std::string key = principal.id() + "\n";
  std::vector<policy::Entity> local;
  auto add_principal = [&] { local.push_back(principal_entity(principal)); };
  switch (shape) {
    case Shape::certificate:
      if (r.target == Resource::Target::certificate) {
        out_resource = uid("Certificate", r.handle);
        key += "C:" + std::string(r.handle);
        if (auto it = entities_.find(key); it != entities_.end()) return &it->second;
        add_principal();
        break;
      }
      if (r.target == Resource::Target::authority) {
        out_resource = uid("CertificateAuthority", "ca");
        key += "CA:";
        if (auto it = entities_.find(key); it != entities_.end()) return &it->second;
        add_principal();
        break;
      }
      [[fallthrough]];
    case Shape::handle:
      out_resource = uid("Identifier", r.handle);
      key += "I:" + std::string(r.handle);
      if (auto it = entities_.find(key); it != entities_.end()) return &it->second;
      add_principal();
      identifier_entities(r.handle, local);
      break;
    case Shape::value: {
      if (r.value == nullptr) return nullptr;
      out_resource = uid("Value", value_id(r.handle, r.value->index));
      const bool in_record = value_in_record(r.record, r.value);
      // The values of a stored record are built once per request; a value
      // that is about to be added or written gets a store of its own.
      key += in_record ? "V:" + std::string(r.handle)
                       : "v:" + std::string(r.handle) + "#" + std::to_string(r.value->index) + "#" + r.value->type +
                            (r.value->permissions.public_write ? "w" : "-") +
                            (r.value->permissions.admin_write ? "a" : "-");
      if (auto it = entities_.find(key); it != entities_.end()) return &it->second;
      add_principal();
      identifier_entities(r.handle, local);
      if (in_record) {
        for (const auto& v : r.record->values) local.push_back(value_entity(r.handle, v));
      } else {
        local.push_back(value_entity(r.handle, *r.value));
      }
      break;
    }
    case Shape::prefix:
      out_resource = uid("Prefix", r.handle);
      key += "P:" + std::string(r.handle);
      if (auto it = entities_.find(key); it != entities_.end()) return &it->second;
      add_principal();
      prefix_chain(r.handle, local);
      break;
    case Shape::audit:
      out_resource = uid("AuditLog", "log");
      key += "A:";
      if (auto it = entities_.find(key); it != entities_.end()) return &it->second;
      add_principal();
      break;
    case Shape::policy_store:
      out_resource = uid("PolicyStore", "policies");
      key += "S:";
      if (auto it = entities_.find(key); it != entities_.end()) return &it->second;
      add_principal();
      break;
  }
  auto layered = policy::layered(std::move(local), bundle_->entities);
  if (!layered) {
    // Only a request whose entities contradict the policy directory's (a
    // cycle through entities.json) gets here: it is denied, and logged.
    return nullptr;
  }
  return &entities_.emplace(std::move(key), std::move(*layered)).first->second;
}

Decision AccessControl::decide(const Principal& principal, Action action, const Resource& r) const {
  const bool anonymous = principal.kind == Principal::Kind::anonymous;
  DecisionRecord rec;
  rec.action = std::string(cedar_action_name(action));
  auto finish = [&](bool allow, std::string reason) {
    Decision d{allow, allow ? 1 : (anonymous ? 402 : 401), std::move(reason)};
    decisions_.push_back(std::move(rec));
    return d;
  };
  if (!bundle_) return finish(false, "no policy set is loaded");

  policy::Request request;
  request.principal = principal_entity(principal).uid;
  request.action = uid("Action", rec.action);
  const policy::Entities* entities = entities_for(principal, action, r, request.resource);
  if (entities == nullptr) return finish(false, "the request's entities could not be built");

  switch (shape_of(action)) {
    case Shape::handle:
    case Shape::value:
    case Shape::prefix: {
      std::uint16_t mask = 0;
      if (!anonymous) {
        const bool prefix_shape = shape_of(action) == Shape::prefix;
        std::string key = principal.id() + (action == Action::list_handles ? "\nL:" : prefix_shape ? "\nH:" : "\nR:") +
                          std::string(r.handle);
        if (auto it = masks_.find(key); it != masks_.end()) {
          mask = it->second;
        } else {
          mask = action == Action::list_handles ? prefix_admin_mask(principal, r.handle)
                 : prefix_shape                 ? parent_prefix_admin_mask(principal, r.handle)
                                                : admin_mask(principal, r.handle, r.record);
          masks_.emplace(std::move(key), mask);
        }
      }
      request.context.emplace("handleAdmin", permission_set(mask));
      request.context.emplace("publicOnly", policy::Value(r.public_only));
      request.context.emplace("change", policy::Value(std::string(change_of(action))));
      break;
    }
    case Shape::certificate:
      request.context.emplace("profile", policy::Value(std::string(r.profile)));
      break;
    case Shape::audit:
    case Shape::policy_store:
      break;
  }

  const policy::Decision d = policy::is_authorized(bundle_->policies, request, *entities);
  rec.allow = d.allow;
  rec.determining = d.determining;
  std::string reason;
  for (const auto& e : d.errors) rec.errors.push_back(e.policy_id + ": " + e.message);
  if (!d.allow) {
    reason = d.determining.empty() ? "no policy permits " + rec.action : "forbidden by ";
    for (std::size_t i = 0; i < d.determining.size(); ++i) reason += (i ? ", " : "") + d.determining[i];
    if (!rec.errors.empty()) {
      reason += " (errors:";
      for (const auto& e : rec.errors) reason += " " + e + ";";
      reason += ")";
    }
  }
  return finish(d.allow, std::move(reason));
}

std::optional<DecisionRecord> AccessControl::summary() const {
  if (decisions_.empty()) return std::nullopt;
  for (const auto& d : decisions_) {
    if (!d.allow && d.action != "readValue") return d;
  }
  return decisions_.front();
}

}  // namespace idra::api
