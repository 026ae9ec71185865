// hs_data.cpp: RFC 3651 section 3.2 typed data, as Handle.Net encodes it.
#include "hs_data.hpp"

#include <limits>
#include <stdexcept>

namespace idra::api {
namespace {

constexpr std::string_view kRsaKeyType = "RSA_PUB_KEY";
constexpr std::string_view kDsaKeyType = "DSA_PUB_KEY";
constexpr std::string_view kDhKeyType = "DH_PUB_KEY";

// Reader walks |bytes| front to back. Every read checks the bytes left first,
// so no length or count from the input can make it read past the end or
// allocate more than the input holds.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}

  std::size_t remaining() const { return bytes_.size() - pos_; }

  bool u8(std::uint8_t& out) {
    if (remaining() < 1) return false;
    out = static_cast<std::uint8_t>(bytes_[pos_++]);
    return true;
  }
  bool u16(std::uint16_t& out) {
    if (remaining() < 2) return false;
    out = static_cast<std::uint16_t>((byte_at(0) << 8) | byte_at(1));
    pos_ += 2;
    return true;
  }
  bool u32(std::uint32_t& out) {
    if (remaining() < 4) return false;
    out = (byte_at(0) << 24) | (byte_at(1) << 16) | (byte_at(2) << 8) | byte_at(3);
    pos_ += 4;
    return true;
  }
  bool i32(std::int32_t& out) {
    std::uint32_t u = 0;
    if (!u32(u)) return false;
    out = static_cast<std::int32_t>(u);
    return true;
  }
  bool fixed(std::size_t n, std::string_view& out) {
    if (remaining() < n) return false;
    out = bytes_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  // byte_string reads a 4-byte length and that many bytes.
  bool byte_string(std::string& out) {
    const std::size_t start = pos_;
    std::uint32_t len = 0;
    std::string_view view;
    if (!u32(len) || !fixed(len, view)) {
      pos_ = start;
      return false;
    }
    out.assign(view);
    return true;
  }
  // count reads a 4-byte element count and checks that |min_element_bytes|
  // per element can still follow, so a forged count cannot make the caller
  // reserve memory the input does not back.
  bool count(std::size_t min_element_bytes, std::uint32_t& out) {
    if (!u32(out)) return false;
    return out <= remaining() / min_element_bytes;
  }

 private:
  std::uint32_t byte_at(std::size_t i) const { return static_cast<std::uint8_t>(bytes_[pos_ + i]); }
  std::string_view bytes_;
  std::size_t pos_ = 0;
};

void put_u8(std::string& out, std::uint8_t v) { out.push_back(static_cast<char>(v)); }
void put_u16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xFF));
}
void put_u32(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>((v >> 16) & 0xFF));
  out.push_back(static_cast<char>((v >> 8) & 0xFF));
  out.push_back(static_cast<char>(v & 0xFF));
}
std::uint32_t checked_count(std::size_t n) {
  if (n > std::numeric_limits<std::uint32_t>::max())
    throw std::length_error("hs_data: field longer than 4 GiB");
  return static_cast<std::uint32_t>(n);
}
void put_bytes(std::string& out, std::string_view bytes) {
  put_u32(out, checked_count(bytes.size()));
  out.append(bytes);
}

Error fail(std::string_view what, std::string_view problem) {
  return make_error(std::string(what) + " data " + std::string(problem), kHsDataErrorCode);
}

Error truncated(std::string_view what, std::string_view field) {
  return fail(what, "is truncated in " + std::string(field));
}

Result<void> expect_end(const Reader& r, std::string_view what) {
  if (r.remaining() != 0) {
    return fail(what, "has " + std::to_string(r.remaining()) + " unexpected trailing byte(s)");
  }
  return {};
}

char ascii_upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

}  // namespace

bool type_is(std::string_view type, std::string_view base) {
  if (type.size() < base.size()) return false;
  for (std::size_t i = 0; i < base.size(); ++i) {
    if (ascii_upper(type[i]) != ascii_upper(base[i])) return false;
  }
  return type.size() == base.size() || type[base.size()] == '.';
}

// ---------------------------------------------------------------------------
// HS_ADMIN

std::string permissions_to_string(std::uint16_t mask) {
  std::string out(12, '0');
  for (int bit = 0; bit < 12; ++bit) {
    if (mask & (1u << bit)) out[static_cast<std::size_t>(11 - bit)] = '1';
  }
  return out;
}

std::optional<std::uint16_t> permissions_from_string(std::string_view text) {
  if (text == "*") return kAllPermissions;
  if (text.empty() || text.size() > 12) return std::nullopt;
  std::uint16_t mask = 0;
  for (char c : text) {
    if (c != '0' && c != '1') return std::nullopt;
    mask = static_cast<std::uint16_t>((mask << 1) | (c == '1' ? 1 : 0));
  }
  return mask;
}

std::string encode_admin(const AdminRef& admin, bool legacy_length) {
  std::string out;
  out.reserve(2 + 4 + admin.handle.size() + 4 + (legacy_length ? 2 : 0));
  put_u16(out, admin.permissions);
  put_bytes(out, admin.handle);
  put_u32(out, admin.index);
  if (legacy_length) put_u16(out, 0);
  return out;
}

Result<AdminRef> decode_admin(std::string_view data, bool* out_legacy_length) {
  constexpr std::string_view kWhat = "HS_ADMIN";
  Reader r(data);
  AdminRef admin;
  if (!r.u16(admin.permissions)) return truncated(kWhat, "the permissions");
  if (!r.byte_string(admin.handle)) return truncated(kWhat, "the admin handle");
  if (!r.u32(admin.index)) return truncated(kWhat, "the admin index");
  // Handle.Net 7.3 and earlier wrote the permissions as 4 bytes but filled
  // only the first 2, leaving two zero bytes at the end.
  const bool legacy =
      r.remaining() == 2 && data.substr(data.size() - 2) == std::string_view("\0\0", 2);
  if (!legacy) {
    if (auto end = expect_end(r, kWhat); !end) return end.error();
  }
  if (out_legacy_length) *out_legacy_length = legacy;
  return admin;
}

// ---------------------------------------------------------------------------
// HS_VLIST

std::string encode_vlist(const std::vector<store::Reference>& members) {
  std::string out;
  put_u32(out, checked_count(members.size()));
  for (const auto& m : members) {
    put_bytes(out, m.handle);
    put_u32(out, m.index);
  }
  return out;
}

Result<std::vector<store::Reference>> decode_vlist(std::string_view data) {
  constexpr std::string_view kWhat = "HS_VLIST";
  Reader r(data);
  std::uint32_t n = 0;
  if (!r.count(8, n)) return truncated(kWhat, "the member count or members");
  std::vector<store::Reference> members(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::string field = "member " + std::to_string(i);
    if (!r.byte_string(members[i].handle)) return truncated(kWhat, field + " handle");
    if (!r.u32(members[i].index)) return truncated(kWhat, field + " index");
  }
  if (auto end = expect_end(r, kWhat); !end) return end.error();
  return members;
}

// ---------------------------------------------------------------------------
// HS_SITE

namespace {
constexpr std::uint8_t kPrimarySite = 0x80;
constexpr std::uint8_t kMultiPrimary = 0x40;
}  // namespace

std::string encode_site(const SiteInfo& site) {
  std::string out;
  put_u16(out, site.data_format_version);
  put_u8(out, site.major_protocol_version);
  put_u8(out, site.minor_protocol_version);
  put_u16(out, site.serial_number);
  put_u8(out, static_cast<std::uint8_t>((site.primary ? kPrimarySite : 0) |
                                        (site.multi_primary ? kMultiPrimary : 0)));
  put_u8(out, site.hash_option);
  put_bytes(out, site.hash_filter);
  put_u32(out, checked_count(site.attributes.size()));
  for (const auto& a : site.attributes) {
    put_bytes(out, a.name);
    put_bytes(out, a.value);
  }
  put_u32(out, checked_count(site.servers.size()));
  for (const auto& s : site.servers) {
    put_u32(out, static_cast<std::uint32_t>(s.server_id));
    out.append(reinterpret_cast<const char*>(s.address.data()), s.address.size());
    put_bytes(out, s.public_key);
    put_u32(out, checked_count(s.interfaces.size()));
    for (const auto& i : s.interfaces) {
      put_u8(out, i.type);
      put_u8(out, i.protocol);
      put_u32(out, static_cast<std::uint32_t>(i.port));
    }
  }
  return out;
}

Result<SiteInfo> decode_site(std::string_view data) {
  constexpr std::string_view kWhat = "HS_SITE";
  Reader r(data);
  SiteInfo site;
  std::uint8_t mask = 0;
  if (!r.u16(site.data_format_version) || !r.u8(site.major_protocol_version) ||
      !r.u8(site.minor_protocol_version) || !r.u16(site.serial_number) || !r.u8(mask) ||
      !r.u8(site.hash_option)) {
    return truncated(kWhat, "the header");
  }
  if (mask & ~(kPrimarySite | kMultiPrimary))
    return fail(kWhat, "has reserved primary-mask bits set");
  site.primary = (mask & kPrimarySite) != 0;
  site.multi_primary = (mask & kMultiPrimary) != 0;
  if (!r.byte_string(site.hash_filter)) return truncated(kWhat, "the hash filter");

  std::uint32_t n = 0;
  if (!r.count(8, n)) return truncated(kWhat, "the attributes");
  site.attributes.resize(n);
  for (auto& a : site.attributes) {
    if (!r.byte_string(a.name) || !r.byte_string(a.value))
      return truncated(kWhat, "the attributes");
  }

  if (!r.count(4 + 16 + 4 + 4, n)) return truncated(kWhat, "the servers");
  site.servers.resize(n);
  for (std::size_t s = 0; s < site.servers.size(); ++s) {
    auto& server = site.servers[s];
    const std::string field = "server " + std::to_string(s);
    std::string_view address;
    if (!r.i32(server.server_id) || !r.fixed(server.address.size(), address))
      return truncated(kWhat, field);
    for (std::size_t i = 0; i < address.size(); ++i)
      server.address[i] = static_cast<std::uint8_t>(address[i]);
    if (!r.byte_string(server.public_key)) return truncated(kWhat, field + " public key");
    std::uint32_t m = 0;
    if (!r.count(6, m)) return truncated(kWhat, field + " interfaces");
    server.interfaces.resize(m);
    for (auto& i : server.interfaces) {
      if (!r.u8(i.type) || !r.u8(i.protocol) || !r.i32(i.port))
        return truncated(kWhat, field + " interfaces");
    }
  }
  if (auto end = expect_end(r, kWhat); !end) return end.error();
  return site;
}

// ---------------------------------------------------------------------------
// HS_PUBKEY

std::size_t key_integer_count(KeyKind kind) {
  switch (kind) {
    case KeyKind::rsa:
      return 2;
    case KeyKind::dsa:
      return 4;
    case KeyKind::dh:
      return 3;
  }
  return 0;
}

std::string encode_public_key(const PublicKey& key) {
  if (key.integers.size() != key_integer_count(key.kind)) {
    throw std::invalid_argument("encode_public_key: wrong number of integers for the key type");
  }
  std::string out;
  switch (key.kind) {
    case KeyKind::rsa:
      put_bytes(out, kRsaKeyType);
      break;
    case KeyKind::dsa:
      put_bytes(out, kDsaKeyType);
      break;
    case KeyKind::dh:
      put_bytes(out, kDhKeyType);
      break;
  }
  put_u16(out, key.flags);
  for (const auto& i : key.integers) put_bytes(out, i);
  return out;
}

Result<PublicKey> decode_public_key(std::string_view data) {
  constexpr std::string_view kWhat = "HS_PUBKEY";
  Reader r(data);
  std::string key_type;
  PublicKey key;
  if (!r.byte_string(key_type)) return truncated(kWhat, "the key type");
  if (key_type == kRsaKeyType) {
    key.kind = KeyKind::rsa;
  } else if (key_type == kDsaKeyType) {
    key.kind = KeyKind::dsa;
  } else if (key_type == kDhKeyType) {
    key.kind = KeyKind::dh;
  } else {
    return fail(kWhat, "has an unsupported key type");
  }
  if (!r.u16(key.flags)) return truncated(kWhat, "the flags");
  key.integers.resize(key_integer_count(key.kind));
  for (auto& i : key.integers) {
    if (!r.byte_string(i)) return truncated(kWhat, "the key parameters");
  }
  if (auto end = expect_end(r, kWhat); !end) return end.error();
  return key;
}

}  // namespace idra::api
