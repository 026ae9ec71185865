// hs_data.hpp: the binary encodings of typed Handle data (RFC 3651 section
// 3.2), byte for byte as the Handle.Net Java library (Encoder.java,
// Util.java) writes them.
//
// Every integer is big-endian. A "byte string" is a 4-byte length followed by
// that many bytes; handles and names inside are UTF-8. Each decode_* function
// reads only inside its argument, and rejects truncation and trailing bytes
// with an Error (code kHsDataErrorCode) that says which part is wrong. Each
// encode_* function never fails for data that fits the format (a byte string
// longer than 4 GiB throws std::length_error: callers cannot produce one).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "idra/result.hpp"
#include "idra/store.hpp"

namespace idra::api {

// kHsDataErrorCode is the Handle responseCode of every decode error here:
// Handle.Net reports undecodable data as RC_PROTOCOL_ERROR (4).
inline constexpr int kHsDataErrorCode = 4;

// type_is says whether the value type |type| is |base| or one of its
// period-delimited subtypes, ASCII case-insensitively, as Handle.Net's
// HandleValue.hasType does: type_is("HS_SITE.PREFIX", "HS_SITE") is true.
bool type_is(std::string_view type, std::string_view base);

// ---------------------------------------------------------------------------
// HS_ADMIN (RFC 3651 section 3.2.5)
//
//   2 bytes  permission mask
//   4+n      admin handle (byte string)
//   4 bytes  admin index
//
// Perm is the bit position of each permission in the mask. The positions are
// those of Handle.Net's Encoder.PERM_* constants (0x0001 add handle ... 0x0800
// list handles) and of the RFC's list; AdminRecord.java numbers its perms[]
// array the same way (ADD_HANDLE = 0 ... READ_VALUE = 10, LIST_HANDLES = 11).
// Note that read_value is bit 10, after add_admin, not next to add_value.
enum class Perm : std::uint8_t {
  add_handle = 0,             // 0x0001
  delete_handle = 1,          // 0x0002
  add_derived_prefix = 2,     // 0x0004 (RFC "Add_NA")
  delete_derived_prefix = 3,  // 0x0008 (RFC "Delete_NA")
  modify_value = 4,           // 0x0010
  remove_value = 5,           // 0x0020 (RFC "Delete_Value")
  add_value = 6,              // 0x0040
  modify_admin = 7,           // 0x0080
  remove_admin = 8,           // 0x0100
  add_admin = 9,              // 0x0200
  read_value = 10,            // 0x0400 (RFC "Authorized_Read")
  list_handles = 11,          // 0x0800
};

inline constexpr std::uint16_t kAllPermissions = 0x0FFF;

constexpr std::uint16_t permission_bit(Perm p) {
  return static_cast<std::uint16_t>(1u << static_cast<unsigned>(p));
}

constexpr bool has_permission(std::uint16_t mask, Perm p) {
  return (mask & permission_bit(p)) != 0;
}

// permissions_to_string renders the low 12 bits of |mask| as Handle.Net shows
// them (GsonUtility, HS_ADMIN "permissions"): one '0'/'1' per permission,
// list_handles first and add_handle last, i.e. the mask in binary. The usual
// handle admin, everything but derived prefixes and listing, is 0x07F3,
// "011111110011".
std::string permissions_to_string(std::uint16_t mask);

// permissions_from_string parses that form: "*" is every permission; else up
// to 12 characters '0'/'1', right-aligned (the last one is add_handle, missing
// leading ones are 0). nullopt for anything else.
std::optional<std::uint16_t> permissions_from_string(std::string_view text);

struct AdminRef {
  std::string handle;
  std::uint32_t index = 0;
  std::uint16_t permissions = 0;  // Perm bits
  bool operator==(const AdminRef&) const = default;
};

// encode_admin writes |admin|. With |legacy_length|, it appends the two zero
// bytes that Handle.Net 7.3 and earlier wrote (AdminRecord.legacyByteLength).
std::string encode_admin(const AdminRef& admin, bool legacy_length = false);

// decode_admin reads an HS_ADMIN value. Exactly two trailing zero bytes are the
// legacy layout and are accepted; |out_legacy_length|, if given, says whether
// they were there. Any other trailing byte is an Error.
Result<AdminRef> decode_admin(std::string_view data, bool* out_legacy_length = nullptr);

// ---------------------------------------------------------------------------
// HS_VLIST (RFC 3651 section 3.2.6): a 4-byte count, then count times a
// byte-string handle and a 4-byte index.
std::string encode_vlist(const std::vector<store::Reference>& members);
Result<std::vector<store::Reference>> decode_vlist(std::string_view data);

// ---------------------------------------------------------------------------
// HS_SITE, HS_SITE.PREFIX, HS_NA_DELEGATE (RFC 3651 section 3.2.2;
// Encoder.encodeSiteInfoRecord):
//
//   2  data format version       1  primary mask (0x80 primary, 0x40 multi-primary)
//   1  major protocol version    1  hash option
//   1  minor protocol version    4+n hash filter (byte string)
//   2  serial number             4  attribute count, then (name, value) byte strings
//   4  server count, then per server:
//        4 server id, 16 IP address (IPv4 as 12 zero bytes + 4), 4+n public key
//        (an HS_PUBKEY encoding, or empty), 4 interface count, then per
//        interface: 1 type, 1 protocol, 4 port.
//
// Other bits of the primary mask are reserved: decode_site rejects them so
// that what it returns re-encodes to the same bytes.
struct SiteInterface {
  // type: Interface.ST_* bits.
  static constexpr std::uint8_t kAdmin = 0x01;
  static constexpr std::uint8_t kQuery = 0x02;
  // protocol: Interface.SP_HDL_*.
  static constexpr std::uint8_t kUdp = 0;
  static constexpr std::uint8_t kTcp = 1;
  static constexpr std::uint8_t kHttp = 2;
  static constexpr std::uint8_t kHttps = 3;

  std::uint8_t type = kAdmin | kQuery;
  std::uint8_t protocol = kTcp;
  std::int32_t port = 2641;
  bool operator==(const SiteInterface&) const = default;
};

struct SiteServer {
  std::int32_t server_id = 0;
  std::array<std::uint8_t, 16> address{};
  std::string public_key;  // raw HS_PUBKEY bytes; may be empty
  std::vector<SiteInterface> interfaces;
  bool operator==(const SiteServer&) const = default;
};

struct SiteAttribute {
  std::string name;
  std::string value;
  bool operator==(const SiteAttribute&) const = default;
};

struct SiteInfo {
  static constexpr std::uint8_t kHashByPrefix = 0;
  static constexpr std::uint8_t kHashBySuffix = 1;
  static constexpr std::uint8_t kHashByAll = 2;

  // Defaults are those of a new Java SiteInfo (Common.SITE_RECORD_FORMAT_VERSION,
  // Common.MAJOR_VERSION / MINOR_VERSION = 2.11, SiteInfo.HASH_TYPE_BY_ALL).
  std::uint16_t data_format_version = 1;
  std::uint8_t major_protocol_version = 2;
  std::uint8_t minor_protocol_version = 11;
  std::uint16_t serial_number = 0;
  bool primary = false;
  bool multi_primary = false;
  std::uint8_t hash_option = kHashByAll;
  std::string hash_filter;
  std::vector<SiteAttribute> attributes;
  std::vector<SiteServer> servers;
  bool operator==(const SiteInfo&) const = default;
};

std::string encode_site(const SiteInfo& site);
Result<SiteInfo> decode_site(std::string_view data);

// ---------------------------------------------------------------------------
// HS_PUBKEY (Util.getBytesFromPublicKey): a byte-string key type
// ("RSA_PUB_KEY", "DSA_PUB_KEY", "DH_PUB_KEY"), 2 reserved flag bytes (0),
// then byte-string integers in the order of PublicKey::integers.
enum class KeyKind : std::uint8_t { rsa, dsa, dh };

struct PublicKey {
  KeyKind kind = KeyKind::rsa;
  std::uint16_t flags = 0;
  // integers, in wire order: RSA {e, n}; DSA {q, p, g, y}; DH {y, p, g}. Each
  // is big-endian two's complement as Java's BigInteger.toByteArray() writes
  // it: a leading 0x00 when the top bit of the magnitude is set.
  std::vector<std::string> integers;
  bool operator==(const PublicKey&) const = default;
};

// key_integer_count is how many integers a key of |kind| has (2, 4 or 3).
std::size_t key_integer_count(KeyKind kind);

// encode_public_key writes |key|; it throws std::invalid_argument when
// key.integers does not have key_integer_count(key.kind) entries.
std::string encode_public_key(const PublicKey& key);
Result<PublicKey> decode_public_key(std::string_view data);

}  // namespace idra::api
