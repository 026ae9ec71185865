#include "access.hpp"

#include "hs_data.hpp"
#include "idra/ids.hpp"

namespace idra::api {
namespace {

constexpr std::string_view kAdminType = "HS_ADMIN";
constexpr std::string_view kVlistType = "HS_VLIST";
constexpr int kMaxGroupDepth = 4;

bool is_admin_type(const store::HandleValue* v) { return v != nullptr && v->type == kAdminType; }

Decision allow() { return Decision{true, 1, {}}; }

Decision deny(const Principal& p, std::string reason) {
  // An anonymous caller is told to authenticate; a known one that it may not.
  return Decision{false, p.kind == Principal::Kind::anonymous ? 402 : 401, std::move(reason)};
}

std::string canonical_or_empty(std::string_view handle) {
  auto h = ids::parse_handle(handle);
  return h ? h->str() : std::string{};
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

std::uint16_t AccessControl::admin_mask(const Principal& principal, std::string_view handle,
                                        const store::Record* record) const {
  if (principal.kind == Principal::Kind::anonymous) return 0;
  std::uint16_t mask = record ? record_mask(principal, *record) : 0;
  return mask | prefix_admin_mask(principal, prefix_of_handle(handle));
}

Decision AccessControl::decide(const Principal& principal, Action action, const Resource& r) const {
  const bool node_admin = principal.kind != Principal::Kind::anonymous && principal.node_admin;
  auto need = [&](Perm perm, const char* what) -> Decision {
    if (node_admin) return allow();
    if (has_permission(admin_mask(principal, r.handle, r.record), perm)) return allow();
    return deny(principal, std::string("needs the ") + what + " permission");
  };

  switch (action) {
    case Action::resolve:
      return allow();
    case Action::read_value: {
      if (r.value == nullptr) return deny(principal, "no value");
      if (r.value->permissions.public_read) return allow();
      if (r.public_only) return deny(principal, "value is not public");
      if (node_admin) return allow();
      if (!r.value->permissions.admin_read) return deny(principal, "value is not readable");
      return need(Perm::read_value, "read_value");
    }
    case Action::register_handle:
      return need(Perm::add_handle, "add_handle");
    case Action::add_value:
      return is_admin_type(r.value) ? need(Perm::add_admin, "add_admin") : need(Perm::add_value, "add_value");
    case Action::modify_value:
    case Action::remove_value: {
      if (r.value != nullptr && r.value->permissions.public_write) return allow();
      if (!node_admin && r.value != nullptr && !r.value->permissions.admin_write) {
        return deny(principal, "value is not writable (admin_write is off)");
      }
      if (action == Action::modify_value) {
        return is_admin_type(r.value) ? need(Perm::modify_admin, "modify_admin")
                                      : need(Perm::modify_value, "modify_value");
      }
      return is_admin_type(r.value) ? need(Perm::remove_admin, "remove_admin")
                                    : need(Perm::remove_value, "remove_value");
    }
    case Action::delete_handle:
      return need(Perm::delete_handle, "delete_handle");
    case Action::list_handles:
      if (node_admin) return allow();
      if (has_permission(prefix_admin_mask(principal, r.handle), Perm::list_handles)) return allow();
      return deny(principal, "needs the list_handles permission on the prefix");
    case Action::home_prefix:
    case Action::unhome_prefix: {
      if (node_admin) return allow();
      // An administrator of a parent prefix may home derived prefixes below it.
      const Perm perm = action == Action::home_prefix ? Perm::add_derived_prefix : Perm::delete_derived_prefix;
      std::uint16_t mask = 0;
      const auto ancestors = ids::prefix_ancestors(r.handle);
      for (std::size_t i = 1; i < ancestors.size(); ++i) {
        if (const auto rec = store_.get("0.NA/" + ancestors[i])) mask |= record_mask(principal, *rec);
      }
      if (principal.kind != Principal::Kind::anonymous && has_permission(mask, perm)) return allow();
      return deny(principal, "needs to be a node administrator or hold the derived-prefix permission of a parent prefix");
    }
  }
  return deny(principal, "unknown action");
}

}  // namespace idra::api
