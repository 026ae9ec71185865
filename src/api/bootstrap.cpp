#include "hs_data.hpp"
#include "idra/api.hpp"
#include "idra/auth.hpp"

namespace idra::api {

store::Record admin_record(std::string_view handle, std::uint32_t secret_index, std::string_view secret_hash,
                           std::int64_t now_unix) {
  std::uint16_t all = 0;
  for (Perm p : {Perm::add_handle, Perm::delete_handle, Perm::add_derived_prefix, Perm::delete_derived_prefix,
                 Perm::modify_value, Perm::remove_value, Perm::add_value, Perm::read_value, Perm::modify_admin,
                 Perm::remove_admin, Perm::add_admin, Perm::list_handles}) {
    all = static_cast<std::uint16_t>(all | permission_bit(p));
  }
  store::HandleValue admin;
  admin.index = 100;
  admin.type = "HS_ADMIN";
  admin.data = encode_admin(AdminRef{std::string(handle), secret_index, all});
  admin.timestamp = now_unix;
  store::HandleValue key;
  key.index = secret_index;
  key.type = std::string(auth::kSecretKeyType);
  key.data = std::string(secret_hash);
  key.timestamp = now_unix;
  key.permissions.public_read = false;
  store::Record record;
  record.values = {admin, key};
  if (secret_index < admin.index) std::swap(record.values[0], record.values[1]);
  return record;
}

}  // namespace idra::api
