// access.hpp: the one decision point. Every handler asks decide() before it
// reads or changes anything; no handler checks permissions by itself. The
// decision is the Cedar policy engine's (policies/, see the README): this
// file only turns a request into Cedar's terms, the entities (principal,
// resource hierarchy, values) and the context (the Handle permissions the
// principal holds over the resource, gathered from HS_ADMIN and HS_VLIST
// values of the record and its prefix handles).
//
// An AccessControl lives for one request: it pins the policy bundle that was
// active when the request started (a reload in between does not mix sets),
// caches what it gathered per handle, and records its decisions for the log.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "idra/api.hpp"
#include "idra/policy.hpp"
#include "idra/store.hpp"

namespace idra::api {

enum class Action {
  resolve,          // read a record at all
  read_value,       // see one value of it
  register_handle,  // create a record
  add_value,
  modify_value,
  remove_value,
  delete_handle,
  list_handles,     // resource.handle is the prefix
  home_prefix,      // resource.handle is the prefix
  unhome_prefix,
  enroll,           // resource.handle is the identifier to enroll (EST)
  reenroll,
  issue_token,      // resource.handle is the identifier the token is for
  issue_certificate,
  revoke,           // resource.handle is the identifier or serial
  read_certificates,
  read_audit,
  reload_policy,
  read_policy,
};

// cedar_action_name is the id of |action| in Cedar ("resolve", "readValue", ...).
std::string_view cedar_action_name(Action action);

struct Resource {
  std::string_view handle;                    // canonical handle, prefix, or identifier
  const store::Record* record = nullptr;      // the current record, if any
  const store::HandleValue* value = nullptr;  // the value acted on, if any
  bool public_only = false;                   // read_value: caller asked publicOnly
  std::string_view profile = {};              // certificate actions: the profile concerned
  // certificate actions: what |handle| names.
  enum class Target { identifier, certificate, authority } target = Target::identifier;
};

struct Decision {
  bool allow = false;
  int response_code = 1;  // 402 (authenticate first) or 401 (not permitted) on deny
  // reason is for the log: the determining policies (or "no policy permits")
  // and evaluation errors. Clients are told only that they may not.
  std::string reason;
};

// DecisionRecord is one decision as the log keeps it.
struct DecisionRecord {
  std::string action;
  bool allow = false;
  std::vector<std::string> determining;
  std::vector<std::string> errors;  // "policy-id: message"
};

class AccessControl {
 public:
  // |bundle| is the policy set to decide with; null denies everything (a
  // node always has one; tests may not).
  AccessControl(const store::Store& store, const Config& config, std::shared_ptr<const policy::Bundle> bundle)
      : store_(store), config_(config), bundle_(std::move(bundle)) {}

  // decide returns whether |principal| may do |action| on |resource|. It
  // reads admin records (HS_ADMIN, HS_VLIST, 0.NA/<prefix>) from the store;
  // a value that does not decode grants nothing.
  Decision decide(const Principal& principal, Action action, const Resource& resource) const;

  // summary is what the request's log line carries: the first denial among
  // the decisions made, else the first decision; nullopt when none was made.
  std::optional<DecisionRecord> summary() const;

  const policy::Bundle* bundle() const { return bundle_.get(); }

  // principal_entity builds the Cedar principal of |principal| (also used by
  // `idra policy explain` against a node's data).
  static policy::Entity principal_entity(const Principal& principal);

 private:
  std::uint16_t admin_mask(const Principal& principal, std::string_view handle,
                           const store::Record* record) const;
  std::uint16_t prefix_admin_mask(const Principal& principal, std::string_view prefix) const;
  std::uint16_t parent_prefix_admin_mask(const Principal& principal, std::string_view prefix) const;
  std::uint16_t record_mask(const Principal& principal, const store::Record& record) const;
  bool is_member(const Principal& principal, std::string_view ref_handle, std::uint32_t ref_index,
                 int depth) const;
  const policy::Entities* entities_for(const Principal& principal, Action action, const Resource& resource,
                                       policy::EntityUid& out_resource) const;

  const store::Store& store_;
  const Config& config_;
  std::shared_ptr<const policy::Bundle> bundle_;
  // Per-request caches: the layered entities per resource key, the
  // permission masks per (handle, action kind).
  mutable std::map<std::string, policy::Entities, std::less<>> entities_;
  mutable std::map<std::string, std::uint16_t, std::less<>> masks_;
  mutable std::vector<DecisionRecord> decisions_;
};

}  // namespace idra::api
