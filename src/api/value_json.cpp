// value_json.cpp: Handle values <-> Handle.Net v9 JSON (GsonUtility).
#include "value_json.hpp"

#include "idra/text.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <unordered_set>

#include "hs_data.hpp"

namespace idra::api {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

constexpr std::int64_t kMaxUint32 = std::numeric_limits<std::uint32_t>::max();
constexpr std::int64_t kMaxInt32 = std::numeric_limits<std::int32_t>::max();
constexpr std::int64_t kMinInt32 = std::numeric_limits<std::int32_t>::min();
// kMaxDataNesting bounds data that holds data (a site's server key is itself
// a "data" object that may be any format, including another site).
constexpr int kMaxDataNesting = 4;

// ---------------------------------------------------------------------------
// Text helpers

// utf8_sequence_length returns the length of the well-formed UTF-8 sequence
// (RFC 3629: no overlongs, surrogates or code points past U+10FFFF) at the
// start of |s|, or 0 if there is none.
std::size_t utf8_sequence_length(std::string_view s) {
  const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = b(0);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (s.size() < n) return 0;
  if (b(1) < lo || b(1) > hi) return 0;
  for (std::size_t i = 2; i < n; ++i) {
    if (b(i) < 0x80 || b(i) > 0xBF) return 0;
  }
  return n;
}

bool valid_utf8(std::string_view s) { return !text::check_utf8(s).has_value(); }

// to_valid_utf8 replaces every byte that starts no well-formed sequence with
// U+FFFD, as Java's new String(bytes, UTF-8) does, so the result can always be
// written as a JSON string.
std::string to_valid_utf8(std::string_view s) {
  if (valid_utf8(s)) return std::string(s);
  std::string out;
  while (!s.empty()) {
    std::size_t n = utf8_sequence_length(s);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      n = 1;
    } else {
      out.append(s.substr(0, n));
    }
    s.remove_prefix(n);
  }
  return out;
}

// looks_like_binary is Handle.Net's Util.looksLikeBinary: not UTF-8, or a
// control character other than 0x09-0x13 (it lets those through as
// "whitespace"), or DEL.
bool looks_like_binary(std::string_view data) {
  if (!valid_utf8(data)) return true;
  for (char ch : data) {
    const auto b = static_cast<unsigned char>(ch);
    if (b >= 0x09 && b <= 0x13) continue;
    if (b < 0x20 || b == 0x7F) return true;
  }
  return false;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// ---------------------------------------------------------------------------
// base64 and hex

constexpr char kB64Std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kB64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64_encode(std::string_view in, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  const auto b = [&](std::size_t k) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(in[k]));
  };
  for (; i + 3 <= in.size(); i += 3) {
    const std::uint32_t v = (b(i) << 16) | (b(i + 1) << 8) | b(i + 2);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  const std::size_t rest = in.size() - i;
  if (rest == 1) {
    const std::uint32_t v = b(i) << 16;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (pad) out += "==";
  } else if (rest == 2) {
    const std::uint32_t v = (b(i) << 16) | (b(i + 1) << 8);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    if (pad) out += '=';
  }
  return out;
}

int base64_digit(char c, bool url_too) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  if (url_too && c == '-') return 62;
  if (url_too && c == '_') return 63;
  return -1;
}

// base64_decode is strict: only alphabet characters (the URL-safe "-_" too
// when |url_too|), '=' padding only at the end and only to a multiple of 4
// (it may be left out), and zero bits after the last byte, so every byte
// string has exactly one accepted encoding per alphabet and padding choice.
std::optional<std::string> base64_decode(std::string_view in, bool url_too) {
  if (in.size() % 4 == 0 && !in.empty() && in.back() == '=') {
    in.remove_suffix(1);
    if (in.back() == '=') in.remove_suffix(1);
  }
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() / 4 * 3 + 2);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int d = base64_digit(c, url_too);
    if (d < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::optional<std::string> hex_decode(std::string_view in) {
  if (in.size() % 2 != 0) return std::nullopt;
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(in.size() / 2);
  for (std::size_t i = 0; i < in.size(); i += 2) {
    const int hi = nibble(in[i]);
    const int lo = nibble(in[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>((hi << 4) | lo));
  }
  return out;
}

// ---------------------------------------------------------------------------
// JSON access helpers. Errors say which field is wrong, by its path below the
// value ("data.value.servers[0].address"), and what it must be.

Error bad(std::string_view path, std::string_view problem) {
  return make_error("field \"" + std::string(path) + "\" " + std::string(problem),
                    kInvalidValueCode);
}

std::string sub(std::string_view path, std::string_view key) {
  return std::string(path) + "." + std::string(key);
}
std::string at(std::string_view path, std::size_t i) {
  return std::string(path) + "[" + std::to_string(i) + "]";
}

const json* member(const json& obj, const char* key) {
  const auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

// as_integer accepts a JSON integer, or a float with an integral value (Gson
// reads 86400.0 as 86400 too).
std::optional<std::int64_t> as_integer(const json& j) {
  if (j.is_number_unsigned()) {
    const auto u = j.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return std::nullopt;
    return static_cast<std::int64_t>(u);
  }
  if (j.is_number_integer()) return j.get<std::int64_t>();
  if (j.is_number_float()) {
    const double d = j.get<double>();
    if (!std::isfinite(d) || d != std::trunc(d) || d < -9.2e18 || d > 9.2e18) return std::nullopt;
    return static_cast<std::int64_t>(d);
  }
  return std::nullopt;
}

Result<std::int64_t> get_integer(const json& j, std::string_view path, std::int64_t lo,
                                 std::int64_t hi) {
  const auto v = as_integer(j);
  if (!v || *v < lo || *v > hi) {
    return bad(path, "must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
  }
  return *v;
}

Result<std::string> get_string(const json& j, std::string_view path) {
  if (!j.is_string()) return bad(path, "must be a string");
  return j.get<std::string>();
}

Result<bool> get_bool(const json& j, std::string_view path) {
  if (!j.is_boolean()) return bad(path, "must be true or false");
  return j.get<bool>();
}

// with_lowercase_keys implements GsonUtility.lowerCaseIfNeeded: site data
// written by Handle.Net before version 8 used "ServerList", "Address",
// "Port", ...; such objects have every key's first letter lowered.
bool has_legacy_keys(const json& obj) {
  return obj.contains("ServerList") || obj.contains("Address") || obj.contains("Port");
}

json with_lowercase_keys(const json& obj) {
  if (!has_legacy_keys(obj)) return obj;
  json out = json::object();
  for (const auto& [key, value] : obj.items()) {
    std::string k = key;
    if (!k.empty() && k[0] >= 'A' && k[0] <= 'Z') k[0] = static_cast<char>(k[0] - 'A' + 'a');
    out[k] = value;
  }
  return out;
}

// ---------------------------------------------------------------------------
// HS_ADMIN <-> {"handle":..,"index":..,"permissions":"011111110011"}

ojson admin_to_json(const AdminRef& admin, bool legacy) {
  ojson j;
  j["handle"] = admin.handle;
  j["index"] = admin.index;
  j["permissions"] = permissions_to_string(admin.permissions);
  if (legacy) j["legacyByteLength"] = true;
  return j;
}

// truthy is GsonUtility's AdminRecordGsonTypeAdapter.isTruthy, for
// permissions given as an array.
bool truthy(const json& j) {
  if (j.is_null()) return false;
  if (j.is_boolean()) return j.get<bool>();
  if (j.is_string()) return !j.get_ref<const std::string&>().empty();
  if (j.is_number()) {
    const double d = j.get<double>();
    return !std::isnan(d) && d != 0.0;
  }
  return true;  // arrays and objects
}

Result<std::uint16_t> admin_permissions_from_json(const json* j, std::string_view path) {
  // Handle.Net accepts the string form, "*", a boolean (all or nothing), a
  // number whose binary digits are the string form, and an array indexed by
  // permission bit; a missing field is no permissions.
  if (!j || j->is_null()) return std::uint16_t{0};
  if (j->is_string()) {
    const auto mask = permissions_from_string(j->get_ref<const std::string&>());
    if (!mask)
      return bad(path, "must be \"*\" or up to 12 characters 0 and 1, such as \"011111110011\"");
    return *mask;
  }
  if (j->is_boolean()) return j->get<bool>() ? kAllPermissions : std::uint16_t{0};
  if (j->is_number()) {
    auto n = get_integer(*j, path, 0, kAllPermissions);
    if (!n) return n.error();
    return static_cast<std::uint16_t>(*n);
  }
  if (j->is_array()) {
    std::uint16_t mask = 0;
    for (std::size_t i = 0; i < j->size() && i < 12; ++i) {
      if (truthy((*j)[i])) mask = static_cast<std::uint16_t>(mask | (1u << i));
    }
    return mask;
  }
  return bad(path, "must be a permission string such as \"011111110011\"");
}

Result<std::string> admin_from_json(const json& j, std::string_view path) {
  if (!j.is_object())
    return bad(path, "must be an object with \"handle\", \"index\" and \"permissions\"");
  AdminRef admin;
  const json* handle = member(j, "handle");
  if (!handle) return bad(sub(path, "handle"), "is missing");
  auto h = get_string(*handle, sub(path, "handle"));
  if (!h) return h.error();
  admin.handle = std::move(*h);
  const json* index = member(j, "index");
  if (!index) return bad(sub(path, "index"), "is missing");
  auto i = get_integer(*index, sub(path, "index"), 0, kMaxUint32);
  if (!i) return i.error();
  admin.index = static_cast<std::uint32_t>(*i);
  auto perms = admin_permissions_from_json(member(j, "permissions"), sub(path, "permissions"));
  if (!perms) return perms.error();
  admin.permissions = *perms;
  bool legacy = false;
  if (const json* l = member(j, "legacyByteLength"); l && !l->is_null()) {
    auto b = get_bool(*l, sub(path, "legacyByteLength"));
    if (!b) return b.error();
    legacy = *b;
  }
  return encode_admin(admin, legacy);
}

// ---------------------------------------------------------------------------
// References (value "references" and HS_VLIST) <-> [{"handle":..,"index":..}]

ojson references_to_json(const std::vector<store::Reference>& refs) {
  ojson arr = ojson::array();
  for (const auto& r : refs) {
    ojson e;
    e["handle"] = to_valid_utf8(r.handle);
    e["index"] = r.index;
    arr.push_back(std::move(e));
  }
  return arr;
}

Result<std::vector<store::Reference>> references_from_json(const json& j, std::string_view path) {
  std::vector<store::Reference> refs;
  if (j.is_null()) return refs;
  if (!j.is_array()) return bad(path, "must be an array of {\"handle\", \"index\"} objects");
  refs.reserve(j.size());
  for (std::size_t i = 0; i < j.size(); ++i) {
    const json& e = j[i];
    const std::string p = at(path, i);
    if (!e.is_object()) return bad(p, "must be an object with \"handle\" and \"index\"");
    const json* handle = member(e, "handle");
    const json* index = member(e, "index");
    if (!handle) return bad(sub(p, "handle"), "is missing");
    if (!index) return bad(sub(p, "index"), "is missing");
    auto h = get_string(*handle, sub(p, "handle"));
    if (!h) return h.error();
    auto n = get_integer(*index, sub(p, "index"), 0, kMaxUint32);
    if (!n) return n.error();
    refs.push_back(store::Reference{std::move(*h), static_cast<std::uint32_t>(*n)});
  }
  return refs;
}

// ---------------------------------------------------------------------------
// HS_PUBKEY <-> {"kty":"RSA","n":..,"e":..} / {"kty":"DSA","y","p","q","g"}
// (GsonUtility.PublicKeyTypeHierarchyAdapter: JWK-style unpadded base64url of
// the unsigned big-endian integers). Diffie-Hellman keys have no JSON form in
// Handle.Net and fall back to base64.

// unsigned_magnitude strips the leading zero bytes of a two's complement
// integer, keeping at least one byte (GsonUtility.unsigned).
std::string_view unsigned_magnitude(std::string_view twos) {
  while (twos.size() > 1 && twos[0] == '\0') twos.remove_prefix(1);
  return twos;
}

// java_bigint_bytes is new BigInteger(1, magnitude).toByteArray(): minimal
// big-endian two's complement of a non-negative number.
std::string java_bigint_bytes(std::string_view magnitude) {
  while (!magnitude.empty() && magnitude[0] == '\0') magnitude.remove_prefix(1);
  if (magnitude.empty()) return std::string(1, '\0');
  std::string out;
  if (static_cast<unsigned char>(magnitude[0]) & 0x80) out.push_back('\0');
  out.append(magnitude);
  return out;
}

std::optional<ojson> key_to_json(const PublicKey& key) {
  const auto b64 = [](std::string_view twos) {
    return base64_encode(unsigned_magnitude(twos), kB64Url, false);
  };
  ojson j;
  if (key.kind == KeyKind::rsa) {
    j["kty"] = "RSA";
    j["n"] = b64(key.integers[1]);
    j["e"] = b64(key.integers[0]);
    return j;
  }
  if (key.kind == KeyKind::dsa) {
    j["kty"] = "DSA";
    j["y"] = b64(key.integers[3]);
    j["p"] = b64(key.integers[1]);
    j["q"] = b64(key.integers[0]);
    j["g"] = b64(key.integers[2]);
    return j;
  }
  return std::nullopt;
}

Result<std::string> key_from_json(const json& j, std::string_view path) {
  if (!j.is_object()) return bad(path, "must be an object with \"kty\" and the key's parameters");
  const json* kty = member(j, "kty");
  if (!kty) return bad(sub(path, "kty"), "is missing");
  auto kind_name = get_string(*kty, sub(path, "kty"));
  if (!kind_name) return kind_name.error();
  PublicKey key;
  std::vector<const char*> names;  // in wire order
  const std::string lower = ascii_lower(*kind_name);
  if (lower == "rsa") {
    key.kind = KeyKind::rsa;
    names = {"e", "n"};
  } else if (lower == "dsa") {
    key.kind = KeyKind::dsa;
    names = {"q", "p", "g", "y"};
  } else {
    return bad(sub(path, "kty"), "must be \"RSA\" or \"DSA\"");
  }
  for (const char* name : names) {
    const json* field = member(j, name);
    const std::string p = sub(path, name);
    if (!field) return bad(p, "is missing");
    auto text = get_string(*field, p);
    if (!text) return text.error();
    auto magnitude = base64_decode(*text, /*url_too=*/true);
    if (!magnitude) return bad(p, "is not valid base64url");
    key.integers.push_back(java_bigint_bytes(*magnitude));
  }
  return encode_public_key(key);
}

// ---------------------------------------------------------------------------
// HS_SITE <-> GsonUtility.SiteInfoGsonTypeAdapter. Java keeps these fields in
// signed types (short, byte, int) and Gson writes them so; so do we, and we
// read either the signed or the unsigned spelling of the same bits.

std::string address_to_string(const std::array<std::uint8_t, 16>& a) {
  bool v4 = true;
  for (std::size_t i = 0; i < 12; ++i) v4 = v4 && a[i] == 0;
  char buf[INET6_ADDRSTRLEN] = {};
  if (v4) {
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", a[12], a[13], a[14], a[15]);
  } else {
    inet_ntop(AF_INET6, a.data(), buf, sizeof buf);
  }
  return buf;
}

std::optional<std::array<std::uint8_t, 16>> parse_address(const std::string& text) {
  std::array<std::uint8_t, 16> out{};
  unsigned char v4[4];
  if (inet_pton(AF_INET, text.c_str(), v4) == 1) {
    // Handle.Net stores IPv4 right-aligned in 16 zero bytes (ServerInfo fill16).
    for (std::size_t i = 0; i < 4; ++i) out[12 + i] = v4[i];
    return out;
  }
  if (inet_pton(AF_INET6, text.c_str(), out.data()) == 1) return out;
  return std::nullopt;
}

std::string protocol_version_string(std::uint8_t major, std::uint8_t minor) {
  return std::to_string(static_cast<std::int8_t>(major)) + "." +
         std::to_string(static_cast<std::int8_t>(minor));
}

std::optional<std::uint8_t> parse_java_byte(std::string_view s) {
  // Byte.parseByte, also accepting 128..255 for the same bits.
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || s.size() > 3) return std::nullopt;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (neg) v = -v;
  if (v < -128 || v > 255) return std::nullopt;
  return static_cast<std::uint8_t>(v);
}

ojson data_to_json_at_depth(std::string_view type, std::string_view data, int depth);
Result<std::string> data_from_json_at(const json& j, std::string_view path, int depth);

ojson server_key_to_json(std::string_view key_bytes, int depth) {
  // ServerInfoGsonTypeAdapter writes the key as "key" data when Java can
  // parse it and as base64 otherwise (never as a string).
  if (!key_bytes.empty()) {
    ojson typed = data_to_json_at_depth("HS_PUBKEY", key_bytes, depth + 1);
    if (typed["format"] == "key") return typed;
  }
  ojson j;
  j["format"] = "base64";
  j["value"] = base64_encode(key_bytes, kB64Std, true);
  return j;
}

std::optional<ojson> site_to_json(const SiteInfo& site, int depth) {
  if (!valid_utf8(site.hash_filter)) return std::nullopt;
  ojson j;
  j["version"] = static_cast<std::int16_t>(site.data_format_version);
  j["protocolVersion"] =
      protocol_version_string(site.major_protocol_version, site.minor_protocol_version);
  j["serialNumber"] = static_cast<std::int16_t>(site.serial_number);
  j["primarySite"] = site.primary;
  j["multiPrimary"] = site.multi_primary;
  if (site.hash_option != SiteInfo::kHashByAll)
    j["hashOption"] = static_cast<std::int8_t>(site.hash_option);
  if (!site.hash_filter.empty()) j["hashFilter"] = site.hash_filter;
  ojson attributes = ojson::array();
  for (const auto& a : site.attributes) {
    if (!valid_utf8(a.name) || !valid_utf8(a.value)) return std::nullopt;
    ojson e;
    e["name"] = a.name;
    e["value"] = a.value;
    attributes.push_back(std::move(e));
  }
  j["attributes"] = std::move(attributes);
  ojson servers = ojson::array();
  for (const auto& s : site.servers) {
    ojson e;
    e["serverId"] = s.server_id;
    e["address"] = address_to_string(s.address);
    e["publicKey"] = server_key_to_json(s.public_key, depth);
    ojson interfaces = ojson::array();
    for (const auto& i : s.interfaces) {
      ojson ie;
      ie["query"] = (i.type & SiteInterface::kQuery) != 0;
      ie["admin"] = (i.type & SiteInterface::kAdmin) != 0;
      switch (i.protocol) {
        case SiteInterface::kUdp:
          ie["protocol"] = "UDP";
          break;
        case SiteInterface::kTcp:
          ie["protocol"] = "TCP";
          break;
        case SiteInterface::kHttp:
          ie["protocol"] = "HTTP";
          break;
        case SiteInterface::kHttps:
          ie["protocol"] = "HTTPS";
          break;
        default:
          ie["protocol"] = static_cast<std::int8_t>(i.protocol);
      }
      ie["port"] = i.port;
      interfaces.push_back(std::move(ie));
    }
    e["interfaces"] = std::move(interfaces);
    servers.push_back(std::move(e));
  }
  j["servers"] = std::move(servers);
  return j;
}

Result<SiteInterface> interface_from_json(const json& in, std::string_view path) {
  if (!in.is_object()) return bad(path, "must be an object with \"protocol\" and \"port\"");
  const json j = with_lowercase_keys(in);
  SiteInterface out;
  bool query = false, admin = false;
  if (const json* q = member(j, "query")) {
    auto b = get_bool(*q, sub(path, "query"));
    if (!b) return b.error();
    query = *b;
  }
  if (const json* a = member(j, "admin")) {
    auto b = get_bool(*a, sub(path, "admin"));
    if (!b) return b.error();
    admin = *b;
  }
  out.type = static_cast<std::uint8_t>((query ? SiteInterface::kQuery : 0) |
                                       (admin ? SiteInterface::kAdmin : 0));
  const json* protocol = member(j, "protocol");
  const std::string ppath = sub(path, "protocol");
  if (!protocol) return bad(ppath, "is missing");
  if (protocol->is_string()) {
    const auto& name = protocol->get_ref<const std::string&>();
    if (name == "UDP") {
      out.protocol = SiteInterface::kUdp;
    } else if (name == "TCP") {
      out.protocol = SiteInterface::kTcp;
    } else if (name == "HTTP") {
      out.protocol = SiteInterface::kHttp;
    } else if (name == "HTTPS") {
      out.protocol = SiteInterface::kHttps;
    } else if (auto b = parse_java_byte(name)) {
      out.protocol = *b;
    } else {
      return bad(ppath, "must be \"UDP\", \"TCP\", \"HTTP\", \"HTTPS\" or a protocol number");
    }
  } else {
    auto n = get_integer(*protocol, ppath, -128, 255);
    if (!n) return n.error();
    out.protocol = static_cast<std::uint8_t>(*n);
  }
  const json* port = member(j, "port");
  if (!port) return bad(sub(path, "port"), "is missing");
  auto p = get_integer(*port, sub(path, "port"), kMinInt32, kMaxInt32);
  if (!p) return p.error();
  out.port = static_cast<std::int32_t>(*p);
  return out;
}

Result<SiteServer> server_from_json(const json& in, std::string_view path, int depth) {
  if (!in.is_object()) return bad(path, "must be an object with \"address\"");
  const bool legacy = has_legacy_keys(in);
  const json j = with_lowercase_keys(in);
  SiteServer out;
  if (const json* id = member(j, "serverId")) {
    auto n = get_integer(*id, sub(path, "serverId"), kMinInt32, kMaxInt32);
    if (!n) return n.error();
    out.server_id = static_cast<std::int32_t>(*n);
  }
  const json* address = member(j, "address");
  if (!address) return bad(sub(path, "address"), "is missing");
  auto text = get_string(*address, sub(path, "address"));
  if (!text) return text.error();
  auto ip = parse_address(*text);
  if (!ip) return bad(sub(path, "address"), "must be an IPv4 or IPv6 address");
  out.address = *ip;
  if (const json* key = member(j, "publicKey")) {
    const std::string kpath = sub(path, "publicKey");
    if (legacy && key->is_string()) {
      // Pre-8 site JSON wrote the key as hex.
      auto bytes = hex_decode(key->get_ref<const std::string&>());
      if (!bytes) return bad(kpath, "must be hex");
      out.public_key = std::move(*bytes);
    } else {
      auto bytes = data_from_json_at(*key, kpath, depth + 1);
      if (!bytes) return bytes.error();
      out.public_key = std::move(*bytes);
    }
  }
  const json* interfaces = member(j, "interfaces");
  if (!interfaces) interfaces = member(j, "interfaceList");
  if (interfaces && !interfaces->is_null()) {
    if (!interfaces->is_array()) return bad(sub(path, "interfaces"), "must be an array");
    for (std::size_t i = 0; i < interfaces->size(); ++i) {
      auto intf = interface_from_json((*interfaces)[i], at(sub(path, "interfaces"), i));
      if (!intf) return intf.error();
      out.interfaces.push_back(*intf);
    }
  }
  return out;
}

Result<std::vector<SiteAttribute>> attributes_from_json(const json& j, std::string_view path) {
  std::vector<SiteAttribute> out;
  if (j.is_null()) return out;
  if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) {
      const json& e = j[i];
      const std::string p = at(path, i);
      if (!e.is_object()) return bad(p, "must be an object with \"name\" and \"value\"");
      const json* name = member(e, "name");
      const json* value = member(e, "value");
      if (!name) return bad(sub(p, "name"), "is missing");
      if (!value) return bad(sub(p, "value"), "is missing");
      auto n = get_string(*name, sub(p, "name"));
      if (!n) return n.error();
      auto v = get_string(*value, sub(p, "value"));
      if (!v) return v.error();
      out.push_back(SiteAttribute{std::move(*n), std::move(*v)});
    }
    return out;
  }
  if (j.is_object()) {
    // The older map form: {"name": "value"} or {"name": ["v1", "v2"]}.
    for (const auto& [key, value] : j.items()) {
      const std::string p = sub(path, key);
      if (value.is_array()) {
        for (std::size_t i = 0; i < value.size(); ++i) {
          auto v = get_string(value[i], at(p, i));
          if (!v) return v.error();
          out.push_back(SiteAttribute{key, std::move(*v)});
        }
      } else {
        auto v = get_string(value, p);
        if (!v) return v.error();
        out.push_back(SiteAttribute{key, std::move(*v)});
      }
    }
    return out;
  }
  return bad(path, "must be an array of {\"name\", \"value\"} objects");
}

Result<std::string> site_from_json(const json& in, std::string_view path, int depth) {
  if (!in.is_object()) return bad(path, "must be an object describing a site");
  const json j = with_lowercase_keys(in);
  SiteInfo site;
  if (const json* v = member(j, "version")) {
    auto n = get_integer(*v, sub(path, "version"), -32768, 65535);
    if (!n) return n.error();
    site.data_format_version = static_cast<std::uint16_t>(*n);
  }
  if (const json* v = member(j, "protocolVersion")) {
    const std::string p = sub(path, "protocolVersion");
    auto text = get_string(*v, p);
    if (!text) return text.error();
    const auto dot = text->find('.');
    std::optional<std::uint8_t> major, minor;
    if (dot != std::string::npos) {
      major = parse_java_byte(std::string_view(*text).substr(0, dot));
      minor = parse_java_byte(std::string_view(*text).substr(dot + 1));
    }
    if (!major || !minor) return bad(p, "must be \"major.minor\", such as \"2.10\"");
    site.major_protocol_version = *major;
    site.minor_protocol_version = *minor;
  }
  if (const json* v = member(j, "serialNumber")) {
    auto n = get_integer(*v, sub(path, "serialNumber"), -32768, 65535);
    if (!n) return n.error();
    site.serial_number = static_cast<std::uint16_t>(*n);
  }
  if (const json* v = member(j, "primarySite")) {
    auto b = get_bool(*v, sub(path, "primarySite"));
    if (!b) return b.error();
    site.primary = *b;
  }
  if (const json* v = member(j, "multiPrimary")) {
    auto b = get_bool(*v, sub(path, "multiPrimary"));
    if (!b) return b.error();
    site.multi_primary = *b;
  }
  if (const json* v = member(j, "hashOption")) {
    auto n = get_integer(*v, sub(path, "hashOption"), -128, 255);
    if (!n) return n.error();
    site.hash_option = static_cast<std::uint8_t>(*n);
  }
  if (const json* v = member(j, "hashFilter")) {
    auto s = get_string(*v, sub(path, "hashFilter"));
    if (!s) return s.error();
    site.hash_filter = std::move(*s);
  }
  if (const json* v = member(j, "attributes")) {
    auto a = attributes_from_json(*v, sub(path, "attributes"));
    if (!a) return a.error();
    site.attributes = std::move(*a);
  }
  const json* servers = member(j, "servers");
  if (!servers) servers = member(j, "serverList");
  if (servers && !servers->is_null()) {
    if (!servers->is_array()) return bad(sub(path, "servers"), "must be an array");
    for (std::size_t i = 0; i < servers->size(); ++i) {
      auto s = server_from_json((*servers)[i], at(sub(path, "servers"), i), depth);
      if (!s) return s.error();
      site.servers.push_back(std::move(*s));
    }
  }
  return encode_site(site);
}

// ---------------------------------------------------------------------------
// "data"

ojson format_value(std::string_view format, ojson value) {
  ojson j;
  j["format"] = format;
  j["value"] = std::move(value);
  return j;
}

ojson text_or_base64(std::string_view data) {
  if (looks_like_binary(data)) return format_value("base64", base64_encode(data, kB64Std, true));
  return format_value("string", std::string(data));
}

// typed_data_to_json renders the typed formats, or nullopt when |data| does
// not decode as |type| (GsonUtility.serializeData then falls through to
// string or base64, and so do we).
std::optional<ojson> typed_data_to_json(std::string_view type, std::string_view data, int depth) {
  if (type_is(type, "HS_ADMIN")) {
    bool legacy = false;
    auto admin = decode_admin(data, &legacy);
    if (!admin || !valid_utf8(admin->handle)) return std::nullopt;
    return format_value("admin", admin_to_json(*admin, legacy));
  }
  if (type_is(type, "HS_VLIST")) {
    auto members = decode_vlist(data);
    if (!members) return std::nullopt;
    for (const auto& m : *members) {
      if (!valid_utf8(m.handle)) return std::nullopt;
    }
    return format_value("vlist", references_to_json(*members));
  }
  if (type_is(type, "HS_SITE") || type_is(type, "HS_NA_DELEGATE")) {
    auto site = decode_site(data);
    if (!site) return std::nullopt;
    auto j = site_to_json(*site, depth);
    if (!j) return std::nullopt;
    return format_value("site", std::move(*j));
  }
  if (type_is(type, "HS_PUBKEY")) {
    auto key = decode_public_key(data);
    if (!key) return std::nullopt;
    auto j = key_to_json(*key);
    if (!j) return std::nullopt;
    return format_value("key", std::move(*j));
  }
  return std::nullopt;
}

ojson data_to_json_at_depth(std::string_view type, std::string_view data, int depth) {
  if (depth <= kMaxDataNesting) {
    if (auto typed = typed_data_to_json(type, data, depth)) {
      // Use the typed form only if it reads back to exactly these bytes: the
      // JSON forms drop what Handle.Net does not model (a key's flags, an
      // interface type past query|admin, non-canonical integers, ...).
      const json back_in(*typed);
      auto back = data_from_json_at(back_in, "data", depth);
      if (back && *back == data) return std::move(*typed);
    }
  }
  return text_or_base64(data);
}

Result<std::string> data_from_json_at(const json& j, std::string_view path, int depth) {
  if (depth > kMaxDataNesting) return bad(path, "nests data objects too deeply");
  if (j.is_string()) return j.get<std::string>();
  if (!j.is_object())
    return bad(path, "must be a string or an object with \"format\" and \"value\"");
  const json* format = member(j, "format");
  if (!format) return bad(sub(path, "format"), "is missing");
  if (!format->is_string()) return bad(sub(path, "format"), "must be a string");
  const json* value = member(j, "value");
  const std::string vpath = sub(path, "value");
  if (!value) return bad(vpath, "is missing");
  const std::string f = ascii_lower(format->get_ref<const std::string&>());
  if (f == "string") return get_string(*value, vpath);
  if (f == "base64") {
    auto text = get_string(*value, vpath);
    if (!text) return text.error();
    auto bytes = base64_decode(*text, /*url_too=*/false);
    if (!bytes) return bad(vpath, "is not valid base64");
    return std::move(*bytes);
  }
  if (f == "hex") {
    auto text = get_string(*value, vpath);
    if (!text) return text.error();
    auto bytes = hex_decode(*text);
    if (!bytes) return bad(vpath, "is not valid hex (an even number of digits 0-9, a-f)");
    return std::move(*bytes);
  }
  if (f == "admin") return admin_from_json(*value, vpath);
  if (f == "vlist") {
    auto refs = references_from_json(*value, vpath);
    if (!refs) return refs.error();
    return encode_vlist(*refs);
  }
  if (f == "site") return site_from_json(*value, vpath, depth);
  if (f == "key") return key_from_json(*value, vpath);
  return bad(sub(path, "format"),
             "is not a known format (string, base64, hex, admin, vlist, site, key)");
}

// ---------------------------------------------------------------------------
// Values

Error in_value(std::string_view who, const Error& e) {
  return make_error(std::string(who) + ": " + e.message, kInvalidValueCode);
}

Result<store::HandleValue> parse_value(const json& j, std::int64_t now_unix, std::string_view who) {
  if (!j.is_object())
    return make_error(std::string(who) + " must be a JSON object", kInvalidValueCode);
  store::HandleValue v;

  const json* index = member(j, "index");
  if (!index) return in_value(who, bad("index", "is missing"));
  auto i = get_integer(*index, "index", 1, kMaxUint32);
  if (!i) return in_value(who, i.error());
  v.index = static_cast<std::uint32_t>(*i);
  const std::string name = "value " + std::to_string(v.index);

  const json* type = member(j, "type");
  if (!type) return in_value(name, bad("type", "is missing"));
  auto t = get_string(*type, "type");
  if (!t) return in_value(name, t.error());
  v.type = std::move(*t);

  const json* data = member(j, "data");
  if (!data) return in_value(name, bad("data", "is missing"));
  auto d = data_from_json_at(*data, "data", 0);
  if (!d) return in_value(name, d.error());
  v.data = std::move(*d);

  if (const json* perms = member(j, "permissions")) {
    // GsonUtility reads the last four characters as admin read, admin
    // write, public read, public write; "*" is all four. We take one to four
    // characters 0/1, right-aligned, and leave missing leading ones default.
    const auto* text = perms->is_string() ? &perms->get_ref<const std::string&>() : nullptr;
    if (text && *text == "*") {
      v.permissions = store::Permissions{true, true, true, true};
    } else {
      const bool ok = text && !text->empty() && text->size() <= 4 &&
                      text->find_first_not_of("01") == std::string::npos;
      if (!ok)
        return in_value(
            name,
            bad("permissions", "must be \"*\" or up to four characters 0 and 1, such as \"1110\""));
      bool* bits[4] = {&v.permissions.admin_read, &v.permissions.admin_write,
                       &v.permissions.public_read, &v.permissions.public_write};
      const std::size_t skip = 4 - text->size();
      for (std::size_t k = 0; k < text->size(); ++k) *bits[skip + k] = (*text)[k] == '1';
    }
  }

  if (const json* ttl = member(j, "ttl")) {
    if (ttl->is_string()) {
      const auto when = parse_timestamp(ttl->get_ref<const std::string&>());
      if (!when || *when < kMinInt32 || *when > kMaxInt32) {
        return in_value(
            name,
            bad("ttl", "is a string, so it must be an ISO 8601 expiry time between 1901 and 2038"));
      }
      v.ttl_type = store::TtlType::absolute;
      v.ttl = static_cast<std::int32_t>(*when);
    } else {
      auto seconds = get_integer(*ttl, "ttl", 0, kMaxInt32);
      if (!seconds) {
        return in_value(
            name,
            bad("ttl",
                "must be a number of seconds from 0 to 2147483647, or an ISO 8601 expiry time"));
      }
      v.ttl_type = store::TtlType::relative;
      v.ttl = static_cast<std::int32_t>(*seconds);
    }
  } else {
    v.ttl = kDefaultTtlSeconds;
  }

  if (const json* ts = member(j, "timestamp")) {
    const auto when =
        ts->is_string() ? parse_timestamp(ts->get_ref<const std::string&>()) : std::nullopt;
    if (!when)
      return in_value(
          name, bad("timestamp", "must be an ISO 8601 time such as \"2026-11-25T09:55:53Z\""));
    v.timestamp = *when;
  } else {
    v.timestamp = now_unix;
  }

  if (const json* refs = member(j, "references")) {
    auto r = references_from_json(*refs, "references");
    if (!r) return in_value(name, r.error());
    v.references = std::move(*r);
  }
  return v;
}

// ---------------------------------------------------------------------------
// Dates: proleptic Gregorian, days since 1970-01-01 (Howard Hinnant's
// algorithms, valid for any year an int64 of seconds can reach).

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
}

bool leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

// Cursor scans a timestamp left to right.
struct Cursor {
  std::string_view s;
  std::size_t pos = 0;

  bool at_end() const { return pos >= s.size(); }
  char peek() const { return at_end() ? '\0' : s[pos]; }
  bool accept(char c) {
    if (peek() != c) return false;
    ++pos;
    return true;
  }
  static bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  }
  void skip_space() {
    while (!at_end() && is_space(s[pos])) ++pos;
  }
  std::size_t digit_run() const {
    std::size_t n = 0;
    while (pos + n < s.size() && s[pos + n] >= '0' && s[pos + n] <= '9') ++n;
    return n;
  }
  // two reads exactly two digits.
  bool two(unsigned& out) {
    if (digit_run() < 2) return false;
    out = static_cast<unsigned>((s[pos] - '0') * 10 + (s[pos + 1] - '0'));
    pos += 2;
    return true;
  }
};

struct Fields {
  std::int64_t year = 0;
  unsigned month = 1, day = 1, hour = 0, minute = 0, second = 0, millis = 0;
  int zone_sign = 0;  // 0: no zone given (UTC)
  unsigned zone_hour = 0, zone_minute = 0;
};

// parse_time reads hh[:mm[:ss[.fff]]] (colons optional, as in Handle.Net).
bool parse_time(Cursor& c, Fields& f) {
  if (!c.two(f.hour)) return false;
  const std::size_t before_minute = c.pos;
  c.accept(':');
  if (!c.two(f.minute)) {
    c.pos = before_minute;
    return true;
  }
  const std::size_t before_second = c.pos;
  c.accept(':');
  if (!c.two(f.second)) {
    c.pos = before_second;
    return true;
  }
  if (c.peek() == '.' || c.peek() == ',') {
    ++c.pos;
    const std::size_t n = c.digit_run();
    if (n == 0) return false;
    // FastDateFormat.millisOfUpToTenthMillis: three digits of milliseconds,
    // rounded by the fourth, the rest ignored.
    unsigned digits[4] = {0, 0, 0, 0};
    for (std::size_t k = 0; k < 4 && k < n; ++k)
      digits[k] = static_cast<unsigned>(c.s[c.pos + k] - '0');
    f.millis = digits[0] * 100 + digits[1] * 10 + digits[2] + (n >= 4 && digits[3] >= 5 ? 1 : 0);
    c.pos += n;
  }
  return true;
}

bool parse_zone(Cursor& c, Fields& f) {
  if (c.accept('Z')) {
    f.zone_sign = 1;
    return true;
  }
  if (c.peek() == '+' || c.peek() == '-') {
    f.zone_sign = c.peek() == '-' ? -1 : 1;
    ++c.pos;
    if (!c.two(f.zone_hour)) return false;
    const std::size_t before = c.pos;
    c.accept(':');
    if (!c.two(f.zone_minute)) c.pos = before;
  }
  return true;
}

// json_depth returns the deepest nesting of arrays and objects in |text|,
// ignoring brackets inside strings. It does not validate: the parser does. It
// runs before parsing because nlohmann's parser callback, which could count
// the depth itself, makes parsing many times slower.
int json_depth(std::string_view text) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

}  // namespace

// ---------------------------------------------------------------------------
// Public functions

std::string format_timestamp(std::int64_t unix_seconds) {
  std::int64_t days = unix_seconds / 86400;
  std::int64_t rest = unix_seconds % 86400;
  if (rest < 0) {
    rest += 86400;
    --days;
  }
  std::int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, y, m, d);
  // Written by hand: this runs for every value of every resolution, and
  // snprintf was a measurable part of it.
  std::string out;
  out.reserve(24);
  if (y < 0) out.push_back('-');
  const std::string digits = std::to_string(y < 0 ? -y : y);
  if (digits.size() < 4) out.append(4 - digits.size(), '0');
  out += digits;
  auto two = [&out](char sep, unsigned v) {
    out.push_back(sep);
    out.push_back(static_cast<char>('0' + v / 10));
    out.push_back(static_cast<char>('0' + v % 10));
  };
  two('-', m);
  two('-', d);
  two('T', static_cast<unsigned>(rest / 3600));
  two(':', static_cast<unsigned>(rest / 60 % 60));
  two(':', static_cast<unsigned>(rest % 60));
  out.push_back('Z');
  return out;
}

std::optional<std::int64_t> parse_timestamp(std::string_view text) {
  Cursor c{text};
  c.skip_space();
  Fields f;
  bool negative_year = false;
  if (c.peek() == '+' || c.peek() == '-') {
    negative_year = c.peek() == '-';
    ++c.pos;
  }
  const std::size_t run = c.digit_run();
  // Years have at least four digits; twelve more than cover int64 seconds.
  constexpr std::size_t kMaxYearDigits = 12;
  if (run < 4) return std::nullopt;
  const auto read_year = [&](std::size_t n) {
    std::int64_t y = 0;
    for (std::size_t k = 0; k < n; ++k) y = y * 10 + (c.s[c.pos + k] - '0');
    c.pos += n;
    return negative_year ? -y : y;
  };
  if (c.pos + run < c.s.size() && c.s[c.pos + run] == '-') {
    // Extended form: YYYY-MM[[-]DD[ T hh[:mm[:ss[.fff]]]]]
    if (run > kMaxYearDigits) return std::nullopt;
    f.year = read_year(run);
    c.accept('-');
    if (!c.two(f.month)) return std::nullopt;
    const std::size_t before_day = c.pos;
    c.accept('-');
    if (c.two(f.day)) {
      const std::size_t before_time = c.pos;
      c.skip_space();
      c.accept('T');
      c.skip_space();
      if (c.digit_run() >= 2) {
        if (!parse_time(c, f)) return std::nullopt;
      } else {
        c.pos = before_time;
      }
    } else {
      c.pos = before_day;
    }
  } else {
    // Basic form: YYYYMMDD[ T hhmmss[.fff]]
    if (run < 8 || run - 4 > kMaxYearDigits) return std::nullopt;
    f.year = read_year(run - 4);
    if (!c.two(f.month) || !c.two(f.day)) return std::nullopt;
    const std::size_t before_time = c.pos;
    c.skip_space();
    c.accept('T');
    c.skip_space();
    if (c.digit_run() >= 2) {
      if (!parse_time(c, f)) return std::nullopt;
    } else {
      c.pos = before_time;
    }
  }
  c.skip_space();
  if (!parse_zone(c, f)) return std::nullopt;
  c.skip_space();
  if (!c.at_end()) return std::nullopt;

  if (f.month < 1 || f.month > 12 || f.day < 1 || f.day > days_in_month(f.year, f.month) ||
      f.hour > 23 || f.minute > 59 || f.second > 60 || f.zone_hour > 23 || f.zone_minute > 59) {
    return std::nullopt;
  }
  using i128 = __int128;
  i128 ms = static_cast<i128>(days_from_civil(f.year, f.month, f.day)) * 86400000 +
            static_cast<i128>(f.hour) * 3600000 + f.minute * 60000 + f.second * 1000 + f.millis;
  ms -= static_cast<i128>(f.zone_sign) *
        (static_cast<i128>(f.zone_hour) * 3600000 + f.zone_minute * 60000);
  // Handle.Net: (int) (millis / 1000), which truncates toward zero.
  const i128 seconds = ms / 1000;
  if (seconds < std::numeric_limits<std::int64_t>::min() ||
      seconds > std::numeric_limits<std::int64_t>::max()) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(seconds);
}

nlohmann::ordered_json data_to_json(std::string_view type, std::string_view data) {
  return data_to_json_at_depth(type, data, 0);
}

Result<std::string> data_from_json(const nlohmann::json& data) {
  return data_from_json_at(data, "data", 0);
}

nlohmann::ordered_json value_to_json(const store::HandleValue& value) {
  ojson j;
  j["index"] = value.index;
  j["type"] = to_valid_utf8(value.type);
  j["data"] = data_to_json(value.type, value.data);
  const auto& p = value.permissions;
  if (p != store::Permissions{}) {
    std::string bits;
    for (bool b : {p.admin_read, p.admin_write, p.public_read, p.public_write})
      bits += b ? '1' : '0';
    j["permissions"] = bits;
  }
  if (value.ttl_type == store::TtlType::absolute) {
    j["ttl"] = format_timestamp(value.ttl);
  } else {
    j["ttl"] = value.ttl;
  }
  // Handle.Net leaves out a zero timestamp; we always write it, so that what
  // we write reads back as the same value whatever the reader's clock.
  j["timestamp"] = format_timestamp(value.timestamp);
  if (!value.references.empty()) j["references"] = references_to_json(value.references);
  return j;
}

// append_json_string writes |s| as a JSON string exactly as nlohmann's dump
// does with ensure_ascii off: '"', '\\' and control characters escaped
// (\b \t \n \f \r, else \u00xx), everything else as is. |s| must be valid
// UTF-8 (callers pass only strings that are).
void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\f': out += "\\f"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

namespace {

bool has_typed_form(std::string_view type) {
  return type_is(type, "HS_ADMIN") || type_is(type, "HS_VLIST") || type_is(type, "HS_SITE") ||
         type_is(type, "HS_NA_DELEGATE") || type_is(type, "HS_PUBKEY");
}

}  // namespace

void append_value_json(std::string& out, const store::HandleValue& value) {
  if (has_typed_form(value.type) || !value.references.empty() || !valid_utf8(value.type)) {
    out += value_to_json(value).dump();
    return;
  }
  out += "{\"index\":";
  out += std::to_string(value.index);
  out += ",\"type\":";
  append_json_string(out, value.type);
  if (looks_like_binary(value.data)) {
    out += ",\"data\":{\"format\":\"base64\",\"value\":\"";
    out += base64_encode(value.data, kB64Std, true);
    out += "\"}";
  } else {
    out += ",\"data\":{\"format\":\"string\",\"value\":";
    append_json_string(out, value.data);
    out += "}";
  }
  const auto& p = value.permissions;
  if (p != store::Permissions{}) {
    out += ",\"permissions\":\"";
    for (bool b : {p.admin_read, p.admin_write, p.public_read, p.public_write}) out.push_back(b ? '1' : '0');
    out += "\"";
  }
  if (value.ttl_type == store::TtlType::absolute) {
    out += ",\"ttl\":\"" + format_timestamp(value.ttl) + "\"";
  } else {
    out += ",\"ttl\":" + std::to_string(value.ttl);
  }
  out += ",\"timestamp\":\"" + format_timestamp(value.timestamp) + "\"}";
}

Result<store::HandleValue> value_from_json(const nlohmann::json& json, std::int64_t now_unix) {
  return parse_value(json, now_unix, "value");
}

Result<std::vector<store::HandleValue>> values_from_body(std::string_view body,
                                                         std::int64_t now_unix) {
  if (json_depth(body) > kMaxBodyDepth) {
    return make_error(
        "request body nests JSON more than " + std::to_string(kMaxBodyDepth) + " levels deep",
        kInvalidValueCode);
  }
  json doc;
  try {
    doc = json::parse(body);
  } catch (const json::parse_error& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, ...":
    // keep what the sender can act on.
    std::string what = e.what();
    if (const auto pos = what.find("] "); pos != std::string::npos) what.erase(0, pos + 2);
    return make_error("request body is not valid JSON: " + what, kInvalidValueCode);
  } catch (const json::exception&) {
    return make_error("request body is not valid JSON", kInvalidValueCode);
  }

  std::vector<store::HandleValue> values;
  const json* list = nullptr;
  if (doc.is_array()) {
    list = &doc;
  } else if (doc.is_object() && doc.contains("values")) {
    list = &doc["values"];
    if (list->is_null()) return values;
    if (!list->is_array())
      return make_error("field \"values\" of the request body must be an array", kInvalidValueCode);
  } else if (doc.is_object()) {
    if (!doc.contains("index") || !doc.contains("type") || !doc.contains("data")) {
      return make_error(
          "request body object has neither \"values\" nor the \"index\", \"type\" and \"data\" of "
          "a value",
          kInvalidValueCode);
    }
    auto v = parse_value(doc, now_unix, "value");
    if (!v) return v.error();
    values.push_back(std::move(*v));
    return values;
  } else {
    return make_error(
        "request body must be a JSON array of values, an object with \"values\", or one value "
        "object",
        kInvalidValueCode);
  }

  if (list->size() > kMaxValuesPerBody) {
    return make_error("request body has " + std::to_string(list->size()) + " values; at most " +
                          std::to_string(kMaxValuesPerBody) + " are allowed",
                      kInvalidValueCode);
  }
  values.reserve(list->size());
  std::unordered_set<std::uint32_t> seen;
  for (std::size_t i = 0; i < list->size(); ++i) {
    auto v = parse_value((*list)[i], now_unix, "value at position " + std::to_string(i));
    if (!v) return v.error();
    if (!seen.insert(v->index).second) {
      return make_error("value " + std::to_string(v->index) +
                            ": field \"index\" repeats an index already used in this request body",
                        kInvalidValueCode);
    }
    values.push_back(std::move(*v));
  }
  return values;
}

}  // namespace idra::api
