// access.hpp: the one decision point. Every handler asks decide() before it
// reads or changes anything; no handler checks permissions by itself. Today
// it implements the Handle permission model (HS_ADMIN masks of the record and
// of the prefix handles 0.NA/<prefix>, public/admin read and write bits, the
// node administrators of the configuration); the policy engine replaces its
// body later without changing its callers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "idra/api.hpp"
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
};

struct Resource {
  std::string_view handle;                    // canonical handle or prefix
  const store::Record* record = nullptr;      // the current record, if any
  const store::HandleValue* value = nullptr;  // the value acted on, if any
  bool public_only = false;                   // read_value: caller asked publicOnly
};

struct Decision {
  bool allow = false;
  int response_code = 1;  // 402 (authenticate first) or 401 (not permitted) on deny
  std::string reason;     // for the log and the message; never names a secret
};

class AccessControl {
 public:
  AccessControl(const store::Store& store, const Config& config) : store_(store), config_(config) {}

  // decide returns whether |principal| may do |action| on |resource|. It
  // reads admin records (HS_ADMIN, HS_VLIST, 0.NA/<prefix>) from the store; a
  // value that does not decode grants nothing.
  Decision decide(const Principal& principal, Action action, const Resource& resource) const;

 private:
  std::uint16_t admin_mask(const Principal& principal, std::string_view handle,
                           const store::Record* record) const;
  std::uint16_t prefix_admin_mask(const Principal& principal, std::string_view prefix) const;
  std::uint16_t record_mask(const Principal& principal, const store::Record& record) const;
  bool is_member(const Principal& principal, std::string_view ref_handle, std::uint32_t ref_index,
                 int depth) const;

  const store::Store& store_;
  const Config& config_;
};


}  // namespace idra::api
