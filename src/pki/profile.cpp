// profile.cpp: certificate profiles (pki/profiles/*.json, described in
// pki/profiles/README.md) and the hdl: URI form of identifiers.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

#include "idra/pki.hpp"
#include "pki/internal.hpp"

namespace idra::pki {

namespace {

using nlohmann::json;
using std::chrono::hours;
using std::chrono::seconds;

constexpr seconds kMinProfileValidity{hours{1}};
constexpr seconds kMaxProfileValidity{hours{24 * 7305}};  // 20 years of 365.25 days
constexpr std::size_t kMaxProfileFileBytes = 64 * 1024;

const std::map<std::string_view, KeyAlgorithm, std::less<>> kKeyTypes = {
    {"EC-P256", KeyAlgorithm::kEcP256},
    {"EC-P384", KeyAlgorithm::kEcP384},
    {"Ed25519", KeyAlgorithm::kEd25519},
    {"RSA", KeyAlgorithm::kRsa}};
const std::set<std::string, std::less<>> kKeyUsages = {"digitalSignature", "keyEncipherment",
                                                       "keyAgreement"};
const std::set<std::string, std::less<>> kExtendedKeyUsages = {"clientAuth", "serverAuth",
                                                               "OCSPSigning", "emailProtection"};

std::string_view key_type_name(KeyAlgorithm a) {
  for (const auto& [name, alg] : kKeyTypes) {
    if (alg == a) return name;
  }
  return "?";
}

// parse_validity reads "<n>d" or "<n>h".
std::optional<seconds> parse_validity(const std::string& text) {
  if (text.size() < 2 || text.size() > 8) return std::nullopt;
  const char unit = text.back();
  long long n = 0;
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
    n = n * 10 + (text[i] - '0');
  }
  if (text[0] == '0') return std::nullopt;  // no leading zeros, no zero
  if (unit == 'd') return seconds{n * 86400};
  if (unit == 'h') return seconds{n * 3600};
  return std::nullopt;
}

bool valid_profile_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

// Parser keeps the profile name for messages: "profile \"x\": field: why".
struct Parser {
  std::string_view name;
  Error fail(std::string_view field, std::string_view why) const {
    return make_error("profile \"" + std::string(name) + "\": " + std::string(field) + ": " +
                      std::string(why));
  }
  Result<bool> boolean(const json& v, std::string_view field) const {
    if (!v.is_boolean()) return fail(field, "must be true or false");
    return v.get<bool>();
  }
  Result<std::vector<std::string>> names(const json& v, std::string_view field,
                                         const std::set<std::string, std::less<>>& known) const {
    if (!v.is_array()) return fail(field, "must be an array of strings");
    std::vector<std::string> out;
    for (const json& item : v) {
      if (!item.is_string()) return fail(field, "must be an array of strings");
      const auto& s = item.get_ref<const std::string&>();
      if (!known.contains(s)) {
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        return fail(field, "unknown value \"" + s.substr(0, 64) + "\" (known: " + list + ")");
      }
      if (std::find(out.begin(), out.end(), s) != out.end()) {
        return fail(field, "\"" + s + "\" is listed twice");
      }
      out.push_back(s);
    }
    return out;
  }
  Result<SanRule> rule(const json& v, std::string_view field) const {
    if (v.is_string()) {
      const auto& s = v.get_ref<const std::string&>();
      if (s == "forbidden") return SanRule::kForbidden;
      if (s == "optional") return SanRule::kOptional;
      if (s == "required") return SanRule::kRequired;
    }
    return fail(field, "must be \"forbidden\", \"optional\" or \"required\"");
  }
};

}  // namespace

Result<Profile> parse_profile(std::string_view text, std::string_view name) {
  const Parser p{name};
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return p.fail("JSON", "not valid JSON");
  if (!doc.is_object()) return p.fail("JSON", "must be an object");
  Profile out;
  out.name = std::string(name);
  bool has_role = false;
  bool has_validity = false;
  bool has_key_types = false;
  for (const auto& [key, v] : doc.items()) {
    if (key == "role") {
      if (!v.is_string() || !valid_profile_name(v.get_ref<const std::string&>())) {
        return p.fail(key, "must be a name of lowercase letters, digits, '-' or '_'");
      }
      out.role = v.get<std::string>();
      has_role = true;
    } else if (key == "validity") {
      std::optional<seconds> validity;
      if (v.is_string()) validity = parse_validity(v.get<std::string>());
      if (!validity) return p.fail(key, "must be a string like \"365d\" or \"24h\"");
      if (*validity < kMinProfileValidity || *validity > kMaxProfileValidity) {
        return p.fail(key, "must lie between 1 hour and 20 years");
      }
      out.validity = *validity;
      has_validity = true;
    } else if (key == "key_types") {
      std::set<std::string, std::less<>> known;
      for (const auto& [n, a] : kKeyTypes) known.emplace(n);
      auto list = p.names(v, key, known);
      if (!list) return list.error();
      if (list->empty()) return p.fail(key, "must list at least one key type");
      out.key_algorithms.clear();
      for (const auto& n : *list) out.key_algorithms.push_back(kKeyTypes.find(n)->second);
      has_key_types = true;
    } else if (key == "min_rsa_bits") {
      if (!v.is_number_integer() || v.get<long long>() < kMinRsaBits ||
          v.get<long long>() > kMaxRsaBits) {
        return p.fail(key, "must be an integer from " + std::to_string(kMinRsaBits) + " to " +
                               std::to_string(kMaxRsaBits));
      }
      out.min_rsa_bits = v.get<int>();
    } else if (key == "key_usage") {
      auto list = p.names(v, key, kKeyUsages);
      if (!list) return list.error();
      out.key_usage = std::move(*list);
    } else if (key == "extended_key_usage") {
      auto list = p.names(v, key, kExtendedKeyUsages);
      if (!list) return list.error();
      out.extended_key_usage = std::move(*list);
    } else if (key == "identifier_uri") {
      auto b = p.boolean(v, key);
      if (!b) return b.error();
      out.identifier_uri = *b;
    } else if (key == "san") {
      if (!v.is_object()) return p.fail(key, "must be an object");
      for (const auto& [field, rule_value] : v.items()) {
        SanRule* target = field == "identifier" ? &out.identifier
                          : field == "dns"      ? &out.dns
                          : field == "ip"       ? &out.ip
                          : field == "email"    ? &out.email
                                                : nullptr;
        if (target == nullptr) {
          return p.fail("san." + field.substr(0, 64),
                        "unknown key (known: identifier, dns, ip, email)");
        }
        auto rule = p.rule(rule_value, "san." + field);
        if (!rule) return rule.error();
        *target = *rule;
      }
    } else if (key == "crl_distribution_point" || key == "ocsp_url" || key == "ocsp_no_check" ||
               key == "enrollable") {
      auto b = p.boolean(v, key);
      if (!b) return b.error();
      bool& target = key == "crl_distribution_point" ? out.crl_distribution_point
                     : key == "ocsp_url"             ? out.ocsp_url
                     : key == "ocsp_no_check"        ? out.ocsp_no_check
                                                     : out.enrollable;
      target = *b;
    } else {
      return p.fail(key.substr(0, 64), "unknown key");
    }
  }
  if (!has_role) return p.fail("role", "is required");
  if (!has_validity) return p.fail("validity", "is required");
  if (!has_key_types) return p.fail("key_types", "is required");
  if (out.identifier_uri && out.identifier == SanRule::kForbidden) {
    return p.fail("identifier_uri", "cannot be true when san.identifier is forbidden");
  }
  return out;
}

std::vector<Profile> builtin_profiles() {
  std::vector<Profile> out;
  for (const auto& source : internal::builtin_profile_sources()) {
    auto profile = parse_profile(source.json, source.name);
    // The files are compiled in and covered by tests: a bad one is a broken
    // build, not bad input.
    if (!profile) throw std::logic_error("built-in " + profile.error().message);
    out.push_back(std::move(*profile));
  }
  return out;
}

Result<std::vector<Profile>> load_profiles(const std::filesystem::path& dir) {
  std::vector<Profile> out = builtin_profiles();
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return out;
  if (!std::filesystem::is_directory(dir, ec)) {
    return make_error("profile directory " + dir.string() + " is not a directory");
  }
  std::vector<std::filesystem::path> files;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".json") files.push_back(it->path());
  }
  if (ec) return make_error("cannot list " + dir.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());  // a stable order for the extra profiles
  for (const auto& file : files) {
    const std::string name = file.stem().string();
    if (!valid_profile_name(name)) {
      return make_error(file.string() +
                        ": a profile name is lowercase letters, digits, '-' or '_'");
    }
    auto text =
        internal::read_file(file, kMaxProfileFileBytes, internal::Access::kAny, "profile file");
    if (!text) return text.error();
    auto profile = parse_profile(*text, name);
    if (!profile) return make_error(file.string() + ": " + profile.error().message);
    auto same =
        std::find_if(out.begin(), out.end(), [&](const Profile& p) { return p.name == name; });
    if (same != out.end()) {
      *same = std::move(*profile);
    } else {
      out.push_back(std::move(*profile));
    }
  }
  return out;
}

Result<void> accepts_key(const Profile& profile, const EVP_PKEY& key) {
  auto alg = key_algorithm(key);
  if (!alg) return alg.error();
  std::string accepted;
  for (KeyAlgorithm a : profile.key_algorithms) {
    accepted += (accepted.empty() ? "" : ", ") + std::string(key_type_name(a));
  }
  if (std::find(profile.key_algorithms.begin(), profile.key_algorithms.end(), *alg) ==
      profile.key_algorithms.end()) {
    return make_error("profile \"" + profile.name + "\" does not accept " +
                      std::string(key_type_name(*alg)) + " keys (accepted: " + accepted + ")");
  }
  if (*alg == KeyAlgorithm::kRsa && EVP_PKEY_get_bits(&key) < profile.min_rsa_bits) {
    return make_error("profile \"" + profile.name + "\" needs RSA keys of at least " +
                      std::to_string(profile.min_rsa_bits) + " bits, not " +
                      std::to_string(EVP_PKEY_get_bits(&key)));
  }
  return {};
}

namespace {

// uri_safe: RFC 3986 unreserved, sub-delims, ':', '@' and '/'.
bool uri_safe(unsigned char c) {
  if (std::isalnum(c)) return true;
  return std::strchr("-._~!$&'()*+,;=:@/", c) != nullptr && c != '\0';
}

constexpr char kHex[] = "0123456789ABCDEF";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;  // lower case is not what identifier_uri writes
}

}  // namespace

std::string identifier_uri(std::string_view canonical_handle) {
  std::string out = "hdl:";
  for (char ch : canonical_handle) {
    const auto c = static_cast<unsigned char>(ch);
    if (uri_safe(c)) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::optional<std::string> identifier_from_uri(std::string_view uri) {
  if (uri.size() <= 4 || uri.substr(0, 4) != "hdl:") return std::nullopt;
  // Only the exact form identifier_uri writes is read, so one handle has
  // exactly one URI and comparing URIs is comparing handles.
  std::string out;
  for (std::size_t i = 4; i < uri.size(); ++i) {
    const auto c = static_cast<unsigned char>(uri[i]);
    if (c == '%') {
      if (i + 2 >= uri.size()) return std::nullopt;
      const int hi = hex_value(uri[i + 1]);
      const int lo = hex_value(uri[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      const auto decoded = static_cast<unsigned char>(hi * 16 + lo);
      if (uri_safe(decoded)) return std::nullopt;  // needlessly encoded
      out += static_cast<char>(decoded);
      i += 2;
    } else if (uri_safe(c)) {
      out += static_cast<char>(c);
    } else {
      return std::nullopt;
    }
  }
  return out;
}

}  // namespace idra::pki
