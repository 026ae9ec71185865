#include "access.hpp"

#include <algorithm>
#include <unordered_map>

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

// Chain is the layer of a prefix chain over a bundle's entities, shared by
// every request of a thread that names a handle under that prefix.
struct Chain {
  std::shared_ptr<const policy::Entities> entities;  // null when it could not be built
  bool chained = false;  // false: no chain (entities are the bundle's own)
};

// chain_layer returns the Prefix chain of |prefix| over |bundle|'s entities:
// for an identifier (|identifier| true) the chain of its prefix when that
// prefix is canonical, else none; for a prefix resource its own chain.
//
// Each thread keeps the chains it built for the bundle it last served (a
// few prefixes are homed on a node, and every resolution under one needs
// the same chain); the cache holds that bundle alive until the thread's
// next decision on a newer one, and starts over past kMaxChains prefixes
// (requests may name prefixes that are not homed).
Chain chain_layer(const std::shared_ptr<const policy::Bundle>& bundle, std::string_view prefix, bool identifier) {
  constexpr std::size_t kMaxChains = 256;
  struct Cache {
    std::shared_ptr<const policy::Bundle> bundle;
    std::unordered_map<std::string, Chain> chains;  // key: 'I' or 'P', then the prefix
  };
  thread_local Cache cache;
  if (cache.bundle != bundle) {
    cache.chains.clear();
    cache.bundle = bundle;
  }
  std::string key;
  key.reserve(prefix.size() + 1);
  key.push_back(identifier ? 'I' : 'P');
  key.append(prefix);
  if (auto it = cache.chains.find(key); it != cache.chains.end()) return it->second;

  Chain chain;
  if (identifier && (prefix.empty() || !ids::canonical_prefix(prefix))) {
    chain.entities = bundle->entities;
  } else {
    std::vector<policy::Entity> entities;
    prefix_chain(prefix, entities);
    chain.chained = !entities.empty();
    auto built = policy::layered(std::move(entities), bundle->entities);
    if (!built) return chain;  // a cycle through entities.json: not cached, the decision denies
    chain.entities = std::make_shared<const policy::Entities>(std::move(*built));
  }
  if (cache.chains.size() >= kMaxChains) cache.chains.clear();
  cache.chains.emplace(std::move(key), chain);
  return chain;
}

// action_uid is Action::"<cedar name>", built once per action.
const policy::EntityUid& action_uid(Action action) {
  static const auto table = [] {
    std::vector<policy::EntityUid> uids;
    for (int a = 0; a <= static_cast<int>(Action::read_policy); ++a) {
      uids.push_back(uid("Action", cedar_action_name(static_cast<Action>(a))));
    }
    return uids;
  }();
  return table[static_cast<std::size_t>(action)];
}

std::string value_id(std::string_view handle, std::uint32_t index) {
  const std::string number = std::to_string(index);
  std::string id;
  id.reserve(handle.size() + 1 + number.size());
  id.append(handle).push_back('#');
  id.append(number);
  return id;
}

policy::Entity value_entity(std::string_view handle, const store::HandleValue& v) {
  policy::Entity e;
  e.uid = uid("Value", value_id(handle, v.index));
  e.parents.push_back(uid("Identifier", handle));
  // In key order, each at the end: no comparisons (every record's values
  // are built for every resolution).
  auto& a = e.attrs;
  a.emplace_hint(a.end(), "adminRead", policy::Value(v.permissions.admin_read));
  a.emplace_hint(a.end(), "adminWrite", policy::Value(v.permissions.admin_write));
  a.emplace_hint(a.end(), "index", policy::Value(static_cast<std::int64_t>(v.index)));
  a.emplace_hint(a.end(), "publicRead", policy::Value(v.permissions.public_read));
  a.emplace_hint(a.end(), "publicWrite", policy::Value(v.permissions.public_write));
  a.emplace_hint(a.end(), "type", policy::Value(v.type));
  return e;
}

// append_field appends |s| with its length first, so that fields cannot run
// into each other.
void append_field(std::string& key, std::string_view s) {
  const auto n = static_cast<std::uint32_t>(s.size());
  key.append(reinterpret_cast<const char*>(&n), sizeof n);
  key.append(s);
}

// append_value_key appends the part of a Value resource's decision key that
// its entity's attributes make (value_entity).
void append_value_key(std::string& key, const store::HandleValue& v) {
  append_field(key, v.type);
  key.append(reinterpret_cast<const char*>(&v.index), sizeof v.index);
  key.push_back(static_cast<char>((v.permissions.admin_read ? 1 : 0) | (v.permissions.admin_write ? 2 : 0) |
                                  (v.permissions.public_read ? 4 : 0) | (v.permissions.public_write ? 8 : 0)));
}

// The thread's decisions about Identifier and Value resources under the
// bundle it served last (AccessControl::decision_key says what they are
// keyed by). Started over when the bundle changes or past kMaxDecisions.
struct DecisionCache {
  static constexpr std::size_t kMaxDecisions = 16384;
  std::shared_ptr<const policy::Bundle> bundle;
  std::unordered_map<std::string, policy::Decision> decisions;
};
DecisionCache& decision_cache(const std::shared_ptr<const policy::Bundle>& bundle) {
  thread_local DecisionCache cache;
  if (cache.bundle != bundle) {
    cache.decisions.clear();
    cache.bundle = bundle;
  }
  return cache;
}

// deny_reason is the log's reason for a denial |d|.
std::string deny_reason(std::string_view action_name, const policy::Decision& d) {
  std::string reason = d.determining.empty() ? "no policy permits " + std::string(action_name) : "forbidden by ";
  for (std::size_t i = 0; i < d.determining.size(); ++i) reason += (i ? ", " : "") + d.determining[i];
  if (!d.errors.empty()) {
    reason += " (errors:";
    for (const auto& e : d.errors) reason += " " + e.policy_id + ": " + e.message + ";";
    reason += ")";
  }
  return reason;
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
  const std::string prefix = prefix_of_handle(canonical_handle);
  for (std::string_view p = prefix; !p.empty(); p = ids::prefix_parent(p)) {
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

const store::Record* AccessControl::admin_record(const std::string& handle) const {
  for (const auto& [name, record] : admin_records_) {
    if (name == handle) return record ? &*record : nullptr;
  }
  admin_records_.emplace_back(handle, store_.get(handle));
  const auto& record = admin_records_.back().second;
  return record ? &*record : nullptr;
}

bool AccessControl::is_member(const Principal& principal, std::string_view ref_handle,
                              std::uint32_t ref_index, int depth) const {
  const std::string ref = canonical_or_empty(ref_handle);
  if (ref.empty()) return false;
  if (ref == principal.handle && (ref_index == principal.index || ref_index == 0)) return true;
  if (depth >= kMaxGroupDepth) return false;
  // The reference may name a group: an HS_VLIST value whose members are
  // (handle, index) pairs, themselves possibly groups.
  const store::Record* record = admin_record(ref);
  if (record == nullptr) return false;
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
    if (const store::Record* rec = admin_record("0.NA/" + p)) mask |= record_mask(principal, *rec);
  }
  return mask;
}

std::uint16_t AccessControl::parent_prefix_admin_mask(const Principal& principal, std::string_view prefix) const {
  std::uint16_t mask = 0;
  const auto ancestors = ids::prefix_ancestors(prefix);
  for (std::size_t i = 1; i < ancestors.size(); ++i) {
    if (const store::Record* rec = admin_record("0.NA/" + ancestors[i])) mask |= record_mask(principal, *rec);
  }
  return mask;
}

std::uint16_t AccessControl::admin_mask(const Principal& principal, std::string_view handle,
                                        const store::Record* record) const {
  std::uint16_t mask = record ? record_mask(principal, *record) : 0;
  return mask | prefix_admin_mask(principal, prefix_of_handle(handle));
}

void AccessControl::adopt(const Principal& p) const {
  // Every field principal_entity reads, and those the masks depend on.
  if (principal_ && principal_->kind == p.kind && principal_->index == p.index &&
      principal_->node_admin == p.node_admin && principal_->handle == p.handle &&
      principal_->organization == p.organization && principal_->role == p.role &&
      principal_->profile == p.profile && principal_->fingerprint == p.fingerprint) {
    return;
  }
  principal_ = p;
  principal_entity_ = principal_entity(p);
  principal_key_.clear();
  principal_key_.push_back(static_cast<char>(p.kind));
  principal_key_.push_back(p.node_admin ? '1' : '0');
  principal_key_.append(reinterpret_cast<const char*>(&p.index), sizeof p.index);
  for (const std::string* f : {&p.handle, &p.organization, &p.role, &p.profile, &p.fingerprint}) {
    append_field(principal_key_, *f);
  }
  layers_.clear();
  masks_.clear();
}

AccessControl::EntitiesPtr AccessControl::find_layer(char kind, std::string_view key) const {
  for (const Layer& l : layers_) {
    if (l.kind == kind && l.key == key) return l.entities;
  }
  return nullptr;
}

AccessControl::EntitiesPtr AccessControl::layer(char kind, std::string_view key, EntitiesPtr base,
                                                std::vector<policy::Entity> entities) const {
  if (!base) return nullptr;
  auto built = policy::layered(std::move(entities), std::move(base));
  // Only a request whose entities contradict the policy directory's (a
  // cycle through entities.json) fails here: it is denied, and logged.
  if (!built) return nullptr;
  layers_.push_back(Layer{kind, std::string(key), std::make_shared<const policy::Entities>(std::move(*built))});
  return layers_.back().entities;
}

AccessControl::EntitiesPtr AccessControl::identifier_layer(std::string_view handle) const {
  if (auto found = find_layer('I', handle)) return found;
  const std::string prefix = prefix_of_handle(handle);
  const Chain chain = chain_layer(bundle_, prefix, true);
  std::vector<policy::Entity> local;
  local.reserve(2);
  local.push_back(principal_entity_);
  policy::Entity id;
  id.uid = uid("Identifier", handle);
  if (chain.chained) id.parents.push_back(uid("Prefix", prefix));
  local.push_back(std::move(id));
  return layer('I', handle, chain.entities, std::move(local));
}

AccessControl::EntitiesPtr AccessControl::entities_for(Action action, const Resource& r,
                                                       policy::EntityUid& out_resource) const {
  // The layers of a request, top first: the values of a record (over its
  // identifier's layer); the principal and the identifier, or the
  // principal alone; a prefix chain (shared by the thread); the bundle's
  // entities (entities.json and the schema's actions).
  switch (shape_of(action)) {
    case Shape::certificate:
      if (r.target == Resource::Target::certificate) {
        out_resource = uid("Certificate", r.handle);
      } else if (r.target == Resource::Target::authority) {
        out_resource = uid("CertificateAuthority", "ca");
      } else {
        out_resource = uid("Identifier", r.handle);
        return identifier_layer(r.handle);
      }
      break;
    case Shape::handle:
      out_resource = uid("Identifier", r.handle);
      return identifier_layer(r.handle);
    case Shape::value: {
      if (r.value == nullptr) return nullptr;
      out_resource = uid("Value", value_id(r.handle, r.value->index));
      // The values of a stored record are built once per request; a value
      // that is about to be added or written gets a layer of its own.
      const bool in_record = value_in_record(r.record, r.value);
      const char kind = in_record ? 'V' : 'v';
      const std::string key = in_record ? std::string(r.handle)
                                        : std::string(r.handle) + "#" + std::to_string(r.value->index) + "#" +
                                              r.value->type + (r.value->permissions.public_write ? "w" : "-") +
                                              (r.value->permissions.admin_write ? "a" : "-");
      if (auto found = find_layer(kind, key)) return found;
      EntitiesPtr below = identifier_layer(r.handle);
      if (!below) return nullptr;
      std::vector<policy::Entity> values;
      if (in_record) {
        values.reserve(r.record->values.size());
        for (const auto& v : r.record->values) values.push_back(value_entity(r.handle, v));
      } else {
        values.push_back(value_entity(r.handle, *r.value));
      }
      return layer(kind, key, std::move(below), std::move(values));
    }
    case Shape::prefix: {
      out_resource = uid("Prefix", r.handle);
      if (auto found = find_layer('P', r.handle)) return found;
      return layer('P', r.handle, chain_layer(bundle_, r.handle, false).entities, {principal_entity_});
    }
    case Shape::audit:
      out_resource = uid("AuditLog", "log");
      break;
    case Shape::policy_store:
      out_resource = uid("PolicyStore", "policies");
      break;
  }
  // The resource is not an entity of the request: the principal alone.
  if (auto found = find_layer('U', {})) return found;
  return layer('U', {}, bundle_->entities, {principal_entity_});
}

std::uint16_t AccessControl::mask_for(const Principal& principal, Action action, const Resource& r) const {
  const bool prefix_shape = shape_of(action) == Shape::prefix;
  const char kind = action == Action::list_handles ? 'L' : prefix_shape ? 'H' : 'R';
  for (const Mask& m : masks_) {
    if (m.kind == kind && m.handle == r.handle) return m.mask;
  }
  const std::uint16_t mask = action == Action::list_handles ? prefix_admin_mask(principal, r.handle)
                             : prefix_shape                 ? parent_prefix_admin_mask(principal, r.handle)
                                                            : admin_mask(principal, r.handle, r.record);
  masks_.push_back(Mask{kind, std::string(r.handle), mask});
  return mask;
}

const policy::RecordValue& AccessControl::handle_context(std::uint16_t mask, bool public_only,
                                                         std::string_view change) const {
  // The decisions of one request mostly share their context (every value
  // of a record is read with the same one): it is rebuilt when it changes.
  if (context_ && context_->mask == mask && context_->public_only == public_only && context_->change == change) {
    return context_->fields;
  }
  context_ = HandleContext{};  // (not emplace(): clang 14 rejects it for a nested aggregate with initializers)
  context_->mask = mask;
  context_->public_only = public_only;
  context_->change = change;
  context_->fields.emplace("handleAdmin", permission_set(mask));
  context_->fields.emplace("publicOnly", policy::Value(public_only));
  context_->fields.emplace("change", policy::Value(std::string(change)));
  return context_->fields;
}

void AccessControl::remember(std::string_view action_name, bool allow, const policy::Decision* d) const {
  const bool denial = !allow && action_name != "readValue";
  // Only the decisions summary() may report are kept whole.
  if (first_ && (first_denial_ || !denial)) return;
  DecisionRecord rec;
  rec.action = std::string(action_name);
  rec.allow = allow;
  if (d != nullptr) {
    rec.determining = d->determining;
    for (const auto& e : d->errors) rec.errors.push_back(e.policy_id + ": " + e.message);
  }
  if (denial) {
    if (!first_) first_ = rec;
    first_denial_ = std::move(rec);
  } else {
    first_ = std::move(rec);
  }
}

Decision AccessControl::decide(const Principal& principal, Action action, const Resource& r) const {
  const bool anonymous = principal.kind == Principal::Kind::anonymous;
  const std::string_view action_name = cedar_action_name(action);
  auto finish = [&](bool allow, std::string reason, const policy::Decision* d) {
    remember(action_name, allow, d);
    return Decision{allow, allow ? 1 : (anonymous ? 402 : 401), std::move(reason)};
  };
  if (!bundle_) return finish(false, "no policy set is loaded", nullptr);

  adopt(principal);
  // Decisions about an identifier or a stored value's attributes are the
  // thread's to reuse when the bundle allows it (cacheable_).
  const Shape shape = shape_of(action);
  thread_local std::string key;
  const bool cached = cacheable_ && (shape == Shape::handle || (shape == Shape::value && r.value != nullptr));
  if (cached) {
    decision_key(key, action, r.handle, anonymous ? 0 : mask_for(principal, action, r), r.public_only);
    if (shape == Shape::value) append_value_key(key, *r.value);
    if (const policy::Decision* d = cached_decision(key)) {
      return finish(d->allow, d->allow ? std::string{} : deny_reason(action_name, *d), d);
    }
  }
  policy::EntityUid resource;
  const EntitiesPtr entities = entities_for(action, r, resource);
  if (!entities) return finish(false, "the request's entities could not be built", nullptr);

  policy::RecordValue other_context;
  const policy::RecordValue* context = &other_context;
  switch (shape_of(action)) {
    case Shape::handle:
    case Shape::value:
    case Shape::prefix:
      context = &handle_context(anonymous ? 0 : mask_for(principal, action, r), r.public_only, change_of(action));
      break;
    case Shape::certificate:
      other_context.emplace("profile", policy::Value(std::string(r.profile)));
      break;
    case Shape::audit:
    case Shape::policy_store:
      break;
  }

  const policy::Decision d = policy::is_authorized(
      bundle_->policies, policy::RequestRef{principal_entity_.uid, action_uid(action), resource, *context}, *entities);
  if (cached) cache_decision(key, d);
  return finish(d.allow, d.allow ? std::string{} : deny_reason(action_name, d), &d);
}

void AccessControl::decision_key(std::string& key, Action action, std::string_view handle, std::uint16_t mask,
                                 bool public_only) const {
  key.clear();
  key.push_back(static_cast<char>(action));
  key.append(principal_key_);
  // The resource's parents: its identifier (which only the principal's
  // `record` attribute can tell from another) and the prefix chain.
  key.push_back(!principal_->handle.empty() && principal_->handle == handle ? '1' : '0');
  append_field(key, prefix_of_handle(handle));
  key.append(reinterpret_cast<const char*>(&mask), sizeof mask);
  key.push_back(public_only ? '1' : '0');
}

const policy::Decision* AccessControl::cached_decision(const std::string& key) const {
  auto& cache = decision_cache(bundle_);
  const auto it = cache.decisions.find(key);
  return it == cache.decisions.end() ? nullptr : &it->second;
}

void AccessControl::cache_decision(const std::string& key, const policy::Decision& d) const {
  if (!d.errors.empty()) return;
  auto& cache = decision_cache(bundle_);
  if (cache.decisions.size() >= DecisionCache::kMaxDecisions) cache.decisions.clear();
  cache.decisions.insert_or_assign(key, d);
}

std::vector<bool> AccessControl::decide_values(const Principal& principal, std::string_view handle,
                                               const store::Record& record,
                                               std::span<const store::HandleValue* const> values,
                                               bool public_only) const {
  std::vector<bool> allowed(values.size(), false);
  const auto one_by_one = [&] {
    for (std::size_t k = 0; k < values.size(); ++k) {
      allowed[k] = decide(principal, Action::read_value, Resource{handle, &record, values[k], public_only}).allow;
    }
    return allowed;
  };
  if (values.empty()) return allowed;
  if (!bundle_ || !std::all_of(values.begin(), values.end(), [&](const auto* v) { return value_in_record(&record, v); })) {
    return one_by_one();
  }
  adopt(principal);
  const Resource first{handle, &record, values[0], public_only};
  const bool anonymous = principal.kind == Principal::Kind::anonymous;
  const std::uint16_t mask = anonymous ? 0 : mask_for(principal, Action::read_value, first);
  const std::string_view action_name = cedar_action_name(Action::read_value);
  // With a cacheable bundle, every value's decision may be the thread's
  // already: then no entity is built.
  thread_local std::string key;
  std::size_t base_size = 0;
  if (cacheable_) {
    decision_key(key, Action::read_value, handle, mask, public_only);
    base_size = key.size();
    std::vector<const policy::Decision*> hits;
    hits.reserve(values.size());
    for (const store::HandleValue* v : values) {
      key.resize(base_size);
      append_value_key(key, *v);
      const policy::Decision* d = cached_decision(key);
      if (d == nullptr) break;
      hits.push_back(d);
    }
    if (hits.size() == values.size()) {
      for (std::size_t k = 0; k < values.size(); ++k) {
        allowed[k] = hits[k]->allow;
        remember(action_name, hits[k]->allow, hits[k]);
      }
      return allowed;
    }
  }
  policy::EntityUid first_uid;
  const EntitiesPtr entities = entities_for(Action::read_value, first, first_uid);
  if (!entities) return one_by_one();  // each denied and recorded as decide does
  const policy::RecordValue& context = handle_context(mask, public_only, change_of(Action::read_value));
  std::vector<policy::EntityUid> resources;
  resources.reserve(values.size());
  resources.push_back(std::move(first_uid));
  for (std::size_t k = 1; k < values.size(); ++k) resources.push_back(uid("Value", value_id(handle, values[k]->index)));
  const std::vector<policy::Decision> decisions =
      policy::is_authorized_each(bundle_->policies, principal_entity_.uid, action_uid(Action::read_value),
                                 resources, context, *entities);
  for (std::size_t k = 0; k < values.size(); ++k) {
    allowed[k] = decisions[k].allow;
    remember(action_name, decisions[k].allow, &decisions[k]);
    if (cacheable_) {
      key.resize(base_size);
      append_value_key(key, *values[k]);
      cache_decision(key, decisions[k]);
    }
  }
  return allowed;
}

std::optional<DecisionRecord> AccessControl::summary() const {
  if (first_denial_) return first_denial_;
  return first_;
}

}  // namespace idra::api
