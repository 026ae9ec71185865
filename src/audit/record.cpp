// record.cpp: the canonical leaf encoding of audit records (format in
// include/idra/audit.hpp, encode_leaf) and address pseudonyms.
//
// Why a hand-written JSON subset and not nlohmann::json: the leaf bytes are
// hashed into the tree and must be reproducible by any auditor, byte for
// byte, forever. A general JSON library is free to change number or escape
// spelling between versions; this file fixes them and rejects every other
// spelling, so one record has exactly one leaf.
#include <sodium.h>

#include <charconv>
#include <stdexcept>

#include "audit/util.hpp"
#include "idra/audit.hpp"

namespace idra::audit {

std::string_view principal_kind_name(PrincipalKind kind) {
  switch (kind) {
    case PrincipalKind::anonymous:
      return "anonymous";
    case PrincipalKind::handle:
      return "handle";
    case PrincipalKind::certificate:
      return "certificate";
  }
  throw std::invalid_argument("audit: unknown principal kind");
}

std::string_view decision_name(Decision decision) {
  switch (decision) {
    case Decision::allow:
      return "allow";
    case Decision::deny:
      return "deny";
  }
  throw std::invalid_argument("audit: unknown decision");
}

namespace {

constexpr char kHex[] = "0123456789abcdef";

// utf8_length returns the length of the valid UTF-8 sequence at |s[i]|, or 0.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  std::size_t len = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  return util::valid_utf8(s.substr(i, len)) ? len : 0;
}

void put_string(std::string& out, std::string_view s) {
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    // Runs of printable ASCII are copied in one go.
    std::size_t plain = i;
    while (plain < s.size()) {
      const auto p = static_cast<unsigned char>(s[plain]);
      if (p < 0x20 || p >= 0x7F || p == '"' || p == '\\') break;
      ++plain;
    }
    out.append(s.data() + i, plain - i);
    i = plain;
    if (i == s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t len = utf8_length(s, i);
    if (len == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD for a byte that starts no valid sequence
      ++i;
      continue;
    }
    if (len == 1) {
      if (c == '"' || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c < 0x20 || c == 0x7F) {
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
      } else {
        out += static_cast<char>(c);
      }
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  out += '"';
}

template <class T>
void put_int(std::string& out, T value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, end);
}

void put_strings(std::string& out, std::span<const std::string> values) {
  out += '[';
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i != 0) out += ',';
    put_string(out, values[i]);
  }
  out += ']';
}

// Parser reads exactly the grammar encode_leaf writes; |fail| holds the
// first problem.
class Parser {
 public:
  explicit Parser(std::string_view in) : in_(in) {}

  bool literal(std::string_view text) {
    // A byte loop, not memcmp: the literals are a few bytes each and a leaf
    // has twenty of them, so a library call per literal was a tenth of the
    // indexer's time.
    bool same = in_.size() - pos_ >= text.size();
    for (std::size_t i = 0; same && i < text.size(); ++i) same = in_[pos_ + i] == text[i];
    if (!same) return error("expected " + std::string(text));
    pos_ += text.size();
    return true;
  }

  bool integer(std::int64_t& out) {
    const std::size_t start = pos_;
    bool negative = false;
    if (peek() == '-') {
      negative = true;
      ++pos_;
    }
    std::string_view digits = take_digits();
    if (digits.empty()) return error("expected an integer");
    if (negative && digits == "0") return error("-0 is not canonical");
    auto [p, ec] = std::from_chars(in_.data() + start, in_.data() + pos_, out);
    if (ec != std::errc() || p != in_.data() + pos_) return error("integer out of range");
    return true;
  }

  template <class U>
  bool unsigned_integer(U& out) {
    const std::size_t start = pos_;
    std::string_view digits = take_digits();
    if (digits.empty()) return error("expected an unsigned integer");
    auto [p, ec] = std::from_chars(in_.data() + start, in_.data() + pos_, out);
    if (ec != std::errc() || p != in_.data() + pos_) return error("integer out of range");
    return true;
  }

  bool string(std::string& out) {
    out.clear();
    if (peek() != '"') return error("expected a string");
    ++pos_;
    while (true) {
      if (pos_ >= in_.size()) return error("unterminated string");
      const auto c = static_cast<unsigned char>(in_[pos_]);
      if (c == '"') {
        ++pos_;
        break;
      }
      if (c < 0x20 || c == 0x7F) return error("raw control character in a string");
      if (c != '\\') {
        out += static_cast<char>(c);
        ++pos_;
        continue;
      }
      if (pos_ + 1 >= in_.size()) return error("unterminated escape");
      const char e = in_[pos_ + 1];
      if (e == '"' || e == '\\') {
        out += e;
        pos_ += 2;
        continue;
      }
      if (e != 'u' || in_.substr(pos_ + 2, 2) != "00" || pos_ + 6 > in_.size()) {
        return error("escape other than \\\", \\\\ or \\u00xx");
      }
      const int hi = hex(in_[pos_ + 4]);
      const int lo = hex(in_[pos_ + 5]);
      if (hi < 0 || lo < 0) return error("bad \\u escape");
      const int value = hi * 16 + lo;
      if (!(value < 0x20 || value == 0x7F)) return error("\\u escape of a character written raw");
      out += static_cast<char>(value);
      pos_ += 6;
    }
    if (!util::valid_utf8(out)) return error("string is not valid UTF-8");
    return true;
  }

  bool strings(std::vector<std::string>& out) {
    if (!literal("[")) return false;
    if (peek() == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      std::string s;
      if (!string(s)) return false;
      out.push_back(std::move(s));
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      return literal("]");
    }
  }

  bool u32s(std::vector<std::uint32_t>& out) {
    if (!literal("[")) return false;
    if (peek() == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      std::uint32_t v = 0;
      if (!unsigned_integer(v)) return false;
      out.push_back(v);
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      return literal("]");
    }
  }

  bool at_end() const { return pos_ == in_.size(); }
  std::size_t pos() const { return pos_; }
  const std::string& problem() const { return problem_; }

  bool error(std::string what) {
    if (problem_.empty()) problem_ = std::move(what);
    return false;
  }

 private:
  char peek() const { return pos_ < in_.size() ? in_[pos_] : '\0'; }
  std::string_view take_digits() {
    const std::size_t start = pos_;
    while (pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9') ++pos_;
    std::string_view digits = in_.substr(start, pos_ - start);
    if (digits.size() > 1 && digits[0] == '0') {
      problem_ = "leading zero";
      return {};
    }
    return digits;
  }
  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;  // uppercase hex is not canonical
  }

  std::string_view in_;
  std::size_t pos_ = 0;
  std::string problem_;
};

}  // namespace

void util::append_json_string(std::string& out, std::string_view s) { put_string(out, s); }

void util::append_utf8_replacing(std::string& out, std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t len = utf8_length(s, i);
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
  }
}

RecordView view_of(const AuditRecord& r) {
  RecordView v;
  v.time_ms = r.time_ms;
  v.request_id = r.request_id;
  v.set_principal(r.principal);
  v.client = r.client;
  v.action = r.action;
  v.resources = r.resources;
  v.value_indexes = r.value_indexes;
  v.decision = r.decision;
  v.policies = r.policies;
  v.http_status = r.http_status;
  v.handle_code = r.handle_code;
  v.duration_us = r.duration_us;
  return v;
}

AuditRecord to_record(const RecordView& v) {
  AuditRecord r;
  r.time_ms = v.time_ms;
  r.request_id = v.request_id;
  r.principal.kind = v.principal_kind;
  r.principal.id = v.principal_id;
  r.principal.organization = v.organization;
  r.principal.role = v.role;
  r.principal.cert_sha256 = v.cert_sha256;
  r.client = v.client;
  r.action = v.action;
  r.resources.assign(v.resources.begin(), v.resources.end());
  r.value_indexes.assign(v.value_indexes.begin(), v.value_indexes.end());
  r.decision = v.decision;
  r.policies.assign(v.policies.begin(), v.policies.end());
  r.http_status = v.http_status;
  r.handle_code = v.handle_code;
  r.duration_us = v.duration_us;
  return r;
}

void encode_leaf_into(std::string& out, const RecordView& r) {
  out += "{\"v\":";
  put_int(out, kLeafVersion);
  out += ",\"time_ms\":";
  put_int(out, r.time_ms);
  out += ",\"request_id\":";
  put_string(out, r.request_id);
  out += ",\"principal\":{\"kind\":";
  put_string(out, principal_kind_name(r.principal_kind));
  out += ",\"id\":";
  put_string(out, r.principal_id);
  out += ",\"org\":";
  put_string(out, r.organization);
  out += ",\"role\":";
  put_string(out, r.role);
  out += ",\"cert_sha256\":";
  put_string(out, r.cert_sha256);
  out += "},\"client\":";
  put_string(out, r.client);
  out += ",\"action\":";
  put_string(out, r.action);
  out += ",\"resources\":";
  put_strings(out, r.resources);
  out += ",\"value_indexes\":[";
  for (std::size_t i = 0; i < r.value_indexes.size(); ++i) {
    if (i != 0) out += ',';
    put_int(out, r.value_indexes[i]);
  }
  out += "],\"decision\":";
  put_string(out, decision_name(r.decision));
  out += ",\"policies\":";
  put_strings(out, r.policies);
  out += ",\"http_status\":";
  put_int(out, r.http_status);
  out += ",\"handle_code\":";
  put_int(out, r.handle_code);
  out += ",\"duration_us\":";
  put_int(out, r.duration_us);
  out += '}';
}

std::string encode_leaf(const RecordView& r) {
  std::string out;
  out.reserve(512);
  encode_leaf_into(out, r);
  return out;
}

std::string encode_leaf(const AuditRecord& r) { return encode_leaf(view_of(r)); }

Result<AuditRecord> decode_leaf(std::string_view leaf) {
  auto r = util::parse_leaf(leaf);
  if (!r) return r;
  // The grammar admits only canonical spellings but for one thing it does
  // not check (invalid UTF-8 comes out as U+FFFD on re-encoding); this
  // re-encoding is the proof, and what makes decode -> encode the identity
  // by construction.
  if (encode_leaf(*r) != leaf) return make_error("audit leaf: not in canonical form");
  return r;
}

Result<AuditRecord> util::parse_leaf(std::string_view leaf) {
  AuditRecord r;
  if (auto parsed = parse_leaf_into(leaf, r); !parsed) return parsed.error();
  return r;
}

Result<void> util::parse_leaf_into(std::string_view leaf, AuditRecord& r) {
  Parser p(leaf);
  r.resources.clear();
  r.value_indexes.clear();
  r.policies.clear();
  std::int64_t version = 0;
  std::string kind;  // short: no allocation
  std::string decision;
  const bool ok =
      p.literal("{\"v\":") && p.integer(version) &&
      (version == kLeafVersion || p.error("unknown leaf version " + std::to_string(version))) &&
      p.literal(",\"time_ms\":") && p.integer(r.time_ms) && p.literal(",\"request_id\":") &&
      p.string(r.request_id) && p.literal(",\"principal\":{\"kind\":") && p.string(kind) &&
      p.literal(",\"id\":") && p.string(r.principal.id) && p.literal(",\"org\":") &&
      p.string(r.principal.organization) && p.literal(",\"role\":") && p.string(r.principal.role) &&
      p.literal(",\"cert_sha256\":") && p.string(r.principal.cert_sha256) &&
      p.literal("},\"client\":") && p.string(r.client) && p.literal(",\"action\":") &&
      p.string(r.action) && p.literal(",\"resources\":") && p.strings(r.resources) &&
      p.literal(",\"value_indexes\":") && p.u32s(r.value_indexes) && p.literal(",\"decision\":") &&
      p.string(decision) && p.literal(",\"policies\":") && p.strings(r.policies) &&
      p.literal(",\"http_status\":") && p.unsigned_integer(r.http_status) &&
      p.literal(",\"handle_code\":") && p.unsigned_integer(r.handle_code) &&
      p.literal(",\"duration_us\":") && p.unsigned_integer(r.duration_us) && p.literal("}") &&
      (p.at_end() || p.error("trailing bytes"));
  if (!ok) {
    return make_error("audit leaf: " + p.problem() + " at byte " + std::to_string(p.pos()));
  }
  if (kind == "anonymous") {
    r.principal.kind = PrincipalKind::anonymous;
  } else if (kind == "handle") {
    r.principal.kind = PrincipalKind::handle;
  } else if (kind == "certificate") {
    r.principal.kind = PrincipalKind::certificate;
  } else {
    return make_error("audit leaf: unknown principal kind");
  }
  if (decision == "allow") {
    r.decision = Decision::allow;
  } else if (decision == "deny") {
    r.decision = Decision::deny;
  } else {
    return make_error("audit leaf: unknown decision");
  }
  return {};
}

std::string pseudonymize(std::string_view address, std::string_view key) {
  if (key.size() < crypto_generichash_KEYBYTES_MIN ||
      key.size() > crypto_generichash_KEYBYTES_MAX) {
    throw std::invalid_argument("audit: pseudonym key must be 16 to 64 bytes");
  }
  util::ensure_sodium();
  unsigned char digest[16];
  crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(address.data()),
                     address.size(), reinterpret_cast<const unsigned char*>(key.data()),
                     key.size());
  std::string out;
  out.reserve(32);
  for (unsigned char b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 0xF];
  }
  return out;
}

}  // namespace idra::audit
