// codec.hpp: how the CA's entries are stored in the store's tables.
//
//   certs       key: serial (upper-case hex)       value: JSON CertEntry, DER in base64
//   cert_index  key: "id\0<identifier>\0<serial>"  value: empty
//               key: "fp\0<fingerprint>"           value: serial
//   tokens      key: token id (32 lower-case hex)  value: JSON TokenEntry
//   ca_state    key: "crl_number"                  value: decimal
//
// A stored entry that does not decode is a broken invariant and throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "idra/ca.hpp"

namespace idra::ca::codec {

struct TokenEntry {
  std::string identifier;  // canonical handle
  std::string profile;
  std::string hash;  // Argon2id of the secret part
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;
  std::int64_t used_at = 0;       // 0: unused
  std::string used_by_serial;     // the certificate it enrolled
};

std::string encode(const CertEntry& entry);
CertEntry decode_cert(std::string_view bytes);
std::string encode(const TokenEntry& entry);
TokenEntry decode_token(std::string_view bytes);

std::string identifier_key(std::string_view identifier, std::string_view serial);
std::string identifier_key_prefix(std::string_view identifier);
std::string fingerprint_key(std::string_view fingerprint);

std::string base64(std::string_view bytes);
std::optional<std::string> unbase64(std::string_view text);

}  // namespace idra::ca::codec
