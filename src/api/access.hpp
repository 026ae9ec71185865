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
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
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
      : store_(store),
        config_(config),
        bundle_(std::move(bundle)),
        cacheable_(bundle_ && !bundle_->names_type("Identifier") && !bundle_->names_type("Value")) {}

  // decide returns whether |principal| may do |action| on |resource|. It
  // reads admin records (HS_ADMIN, HS_VLIST, 0.NA/<prefix>) from the store;
  // a value that does not decode grants nothing.
  Decision decide(const Principal& principal, Action action, const Resource& resource) const;

  // decide_values decides read_value for each of |values|, values of
  // |record| (the stored record of |handle|), in order: the same decisions
  // as decide() on each (with |public_only|), made in one pass over the
  // policies' index and one entity store. Element k says whether values[k]
  // may be seen.
  std::vector<bool> decide_values(const Principal& principal, std::string_view handle, const store::Record& record,
                                  std::span<const store::HandleValue* const> values, bool public_only) const;

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
  // admin_record reads |handle| (a prefix handle or a group) once per
  // request: the masks of one request read 0.NA/<prefix> several times.
  // Null when there is no such record.
  const store::Record* admin_record(const std::string& handle) const;

  // adopt makes |principal| the one the caches below are for: a decision
  // for another principal than the last one starts them over.
  void adopt(const Principal& principal) const;
  // entities_for returns the entities of a decision on |resource| and names
  // the resource's uid; null when they cannot be built (a cycle through
  // entities.json).
  using EntitiesPtr = std::shared_ptr<const policy::Entities>;
  EntitiesPtr entities_for(Action action, const Resource& resource, policy::EntityUid& out_resource) const;
  // layer builds the layer |kind|/|key| of this request from |entities|
  // over |base| and keeps it; null when |base| is null or building fails.
  EntitiesPtr layer(char kind, std::string_view key, EntitiesPtr base, std::vector<policy::Entity> entities) const;
  // find_layer returns the layer |kind|/|key| built before, or null.
  EntitiesPtr find_layer(char kind, std::string_view key) const;
  // identifier_layer is the principal and Identifier::"<handle>" over the
  // handle's prefix chain.
  EntitiesPtr identifier_layer(std::string_view handle) const;
  std::uint16_t mask_for(const Principal& principal, Action action, const Resource& resource) const;
  const policy::RecordValue& handle_context(std::uint16_t mask, bool public_only, std::string_view change) const;
  // decision_key writes into |key| what a decision of |action| on
  // |handle| (or one of its values: append_value_key adds the value's part)
  // depends on besides the resource's uid: the principal, the handle's
  // prefix, whether the handle is the principal's own record, and the
  // context. Only for cacheable_ bundles (see policy::Bundle::named_types).
  void decision_key(std::string& key, Action action, std::string_view handle, std::uint16_t mask,
                    bool public_only) const;
  // cached_decision returns the thread's cached decision for |key|, or null.
  const policy::Decision* cached_decision(const std::string& key) const;
  // cache_decision keeps |d| for |key| when it carries no error.
  void cache_decision(const std::string& key, const policy::Decision& d) const;
  // remember keeps a decision for summary() when it may be what summary()
  // reports; |d| is null when no policy was evaluated.
  void remember(std::string_view action_name, bool allow, const policy::Decision* d) const;

  const store::Store& store_;
  const Config& config_;
  std::shared_ptr<const policy::Bundle> bundle_;
  // cacheable_: the bundle names no Identifier or Value by uid, so decisions
  // about them are cached per thread (keyed by decision_key).
  const bool cacheable_;

  // Per-request caches, all for principal_ (see adopt): its entity, the
  // entity layers built per resource, the permission masks per handle and
  // kind of action, the last context of the Handle actions.
  struct Layer {
    char kind;
    std::string key;
    EntitiesPtr entities;
  };
  struct Mask {
    char kind;
    std::string handle;
    std::uint16_t mask;
  };
  struct HandleContext {
    std::uint16_t mask = 0;
    bool public_only = false;
    std::string_view change;  // one of change_of's literals
    policy::RecordValue fields;
  };
  // The records admin_record read, in a deque so that they stay where they
  // are while is_member walks one and reads another.
  mutable std::deque<std::pair<std::string, std::optional<store::Record>>> admin_records_;
  mutable std::optional<Principal> principal_;
  mutable policy::Entity principal_entity_;
  mutable std::string principal_key_;  // every field of principal_, length-prefixed (decision_key)
  mutable std::vector<Layer> layers_;
  mutable std::vector<Mask> masks_;
  mutable std::optional<HandleContext> context_;
  // What summary() reports: the first decision, and the first denial of an
  // action other than readValue.
  mutable std::optional<DecisionRecord> first_;
  mutable std::optional<DecisionRecord> first_denial_;
};

}  // namespace idra::api
