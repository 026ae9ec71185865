// gs1_compression.cpp: compressed GS1 Digital Link URIs.
//
// The bit stream is the one of GS1's reference implementation (the
// GS1DigitalLinkCompressionPrototype in digital-link.js 1.4.3), written from
// its description and behaviour:
//
//   entry    = ai-code value | opt-code value... | 0xF non-gs1-pair
//   ai-code  = the AI's decimal digits, 4 bits each; the first two digits
//              tell how many digits the AI has
//   opt-code = two hex digits, not both 0-9, standing for a list of AIs
//   value    = per component of the AI's format:
//              N fixed:    the number in value_bits(L) bits
//              N variable: length (length_bits(M) bits), number
//              X fixed:    encoding (3 bits), characters
//              X variable: encoding (3 bits), length, characters
//   encoding = 0 digits (as one number), 1 lower-case hex, 2 upper-case hex
//              (4 bits each), 3 base64url (6 bits each), 4 ASCII (7 bits each)
//   non-gs1-pair = key length (7 bits), key in base64url, encoding (3 bits),
//              value length (7 bits), value
//
// The whole is padded with zero bits to a multiple of 6 and written in the
// base64url alphabet. Decoding stops when 8 bits or fewer remain.
//
// The reference reads and writes numbers through JavaScript doubles and does
// not pad decoded numbers to their length, so it loses digits beyond 2^53 and
// leading zeros of all-digit values; it also repeats the bits of an earlier
// component before an alphanumeric one ((253), (8003) with a serial). idra
// does none of these: every number here is arbitrary precision and padded to
// the length the stream gives.
#include "gs1_compression.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "idra/gs1.hpp"
#include "idra/text.hpp"
#include "url.hpp"

namespace idra::ids {
namespace embedded {
extern const unsigned char gs1_dl_compression[];
extern const std::size_t gs1_dl_compression_size;
}  // namespace embedded

namespace gs1 {
namespace {

constexpr std::string_view kBase64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view kHex = "0123456789ABCDEF";
constexpr std::size_t kMaxPairLength = 127;  // 7-bit lengths of non-GS1 keys and values
constexpr std::string_view kWhat = "compressed Digital Link: ";

int base64url_index(char c) {
  if (text::is_upper(c)) return c - 'A';
  if (text::is_lower(c)) return c - 'a' + 26;
  if (text::is_digit(c)) return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

bool all_base64url(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return base64url_index(c) >= 0; });
}

Error fail(std::string message) { return make_error(std::string(kWhat) + std::move(message)); }

std::string ai_label(std::string_view ai) { return "AI (" + std::string(ai) + ")"; }

// ---------------------------------------------------------------------------
// Formats and tables.

// Piece is one component of a value as the bit stream sees it: the reference
// merges the dictionary's components (N1 N13 -> N14; optional N2 N2 -> N..4;
// X2 X..28 -> X..30), so the merging rules below reproduce its table from
// the dictionary (the unit tests compare them for every AI it knows).
struct Piece {
  bool numeric = true;
  bool variable = false;
  std::size_t length = 0;  // L of a fixed piece, M of a variable one
};
using Format = std::vector<Piece>;

std::string format_text(const Format& f) {
  std::string out;
  for (const Piece& p : f) {
    if (!out.empty()) out += ' ';
    out += p.numeric ? 'N' : 'X';
    if (p.variable) out += "..";
    out += std::to_string(p.length);
  }
  return out;
}

// derive_format merges the dictionary's components: a run of mandatory
// fixed-length numeric components is one fixed N; a run of optional numeric
// components one variable N; a run of alphanumeric components one X, fixed
// only when it is a single mandatory fixed component. A variable piece must
// be last (it takes the rest of the value); nullopt otherwise.
std::optional<Format> derive_format(const std::vector<Component>& cs) {
  Format out;
  std::size_t i = 0;
  const auto fixed = [](const Component& c) { return c.min_length == c.max_length; };
  while (i < cs.size()) {
    const Component& c = cs[i];
    Piece p;
    if (c.charset == CharSet::numeric) {
      if (!c.optional && fixed(c)) {
        for (;
             i < cs.size() && cs[i].charset == CharSet::numeric && !cs[i].optional && fixed(cs[i]);
             ++i) {
          p.length += cs[i].max_length;
        }
      } else if (c.optional) {
        p.variable = true;
        for (; i < cs.size() && cs[i].charset == CharSet::numeric && cs[i].optional; ++i) {
          p.length += cs[i].max_length;
        }
      } else {
        p.variable = true;
        p.length = c.max_length;
        ++i;
      }
    } else {
      p.numeric = false;
      const std::size_t start = i;
      for (; i < cs.size() && cs[i].charset != CharSet::numeric; ++i) p.length += cs[i].max_length;
      p.variable = !(i - start == 1 && !c.optional && fixed(c));
    }
    out.push_back(p);
  }
  for (std::size_t k = 0; k + 1 < out.size(); ++k) {
    if (out[k].variable) return std::nullopt;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

std::optional<Format> parse_format(std::string_view text) {
  Format out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view tok = text.substr(pos, end - pos);
    pos = end + 1;
    if (tok.size() < 2 || (tok[0] != 'N' && tok[0] != 'X')) return std::nullopt;
    Piece p;
    p.numeric = tok[0] == 'N';
    tok.remove_prefix(1);
    if (tok.substr(0, 2) == "..") {
      p.variable = true;
      tok.remove_prefix(2);
    }
    if (!text::all_digits(tok) || tok.size() > 3) return std::nullopt;
    p.length = static_cast<std::size_t>(std::atoi(std::string(tok).c_str()));
    if (p.length == 0) return std::nullopt;
    out.push_back(p);
  }
  if (out.empty()) return std::nullopt;
  return out;
}

struct Optimisation {
  std::string code;              // two upper-case hex digits
  std::vector<std::string> ais;  // sorted as strings, as the reference uses them
  std::size_t score = 0;         // characters of AI codes saved: the reference's tie-break
};

struct Tables {
  std::vector<Optimisation> optimisations;  // in file order, which breaks ties
  std::map<std::string, Format, std::less<>> formats;
  std::array<std::uint8_t, 100> ai_digits_by_prefix{};  // 0: no AI starts so
};

[[noreturn]] void defect(const std::string& what) {
  // The embedded tables are part of the build; a bad one is a build defect.
  std::fprintf(stderr, "idra: embedded gs1-dl-compression.txt: %s\n", what.c_str());
  std::abort();
}

Tables build_tables() {
  Tables t;
  for (const AiEntry& e : dictionary().entries()) {
    if (std::optional<Format> f = derive_format(e.components)) t.formats[e.ai] = std::move(*f);
    const int prefix = (e.ai[0] - '0') * 10 + (e.ai[1] - '0');
    std::uint8_t& digits = t.ai_digits_by_prefix[static_cast<std::size_t>(prefix)];
    if (digits != 0 && digits != e.ai.size())
      defect("AIs starting " + e.ai.substr(0, 2) + " differ in length");
    digits = static_cast<std::uint8_t>(e.ai.size());
  }
  const std::string_view text(reinterpret_cast<const char*>(embedded::gs1_dl_compression),
                              embedded::gs1_dl_compression_size);
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> words;
    for (std::size_t w = 0; w < line.size();) {
      std::size_t sp = line.find(' ', w);
      if (sp == std::string_view::npos) sp = line.size();
      if (sp > w) words.emplace_back(line.substr(w, sp - w));
      w = sp + 1;
    }
    if (words.size() >= 4 && words[0] == "opt") {
      Optimisation o;
      o.code = words[1];
      if (o.code.size() != 2 || text::hex_value(o.code[0]) < 0 || text::hex_value(o.code[1]) < 0 ||
          (text::is_digit(o.code[0]) && text::is_digit(o.code[1]))) {
        defect("bad optimisation code " + o.code);
      }
      for (std::size_t k = 2; k < words.size(); ++k) {
        if (dictionary().find(words[k]) == nullptr) defect("unknown AI " + words[k]);
        o.score += words[k].size();
        o.ais.push_back(words[k]);
      }
      std::sort(o.ais.begin(), o.ais.end());
      t.optimisations.push_back(std::move(o));
    } else if (words.size() >= 3 && words[0] == "format") {
      std::string joined = words[2];
      for (std::size_t k = 3; k < words.size(); ++k) joined += " " + words[k];
      std::optional<Format> f = parse_format(joined);
      if (!f || dictionary().find(words[1]) == nullptr)
        defect("bad format line " + std::string(line));
      t.formats[words[1]] = std::move(*f);
    } else {
      defect("bad line " + std::string(line));
    }
  }
  return t;
}

const Tables& tables() {
  static const Tables t = build_tables();
  return t;
}

const Optimisation* find_optimisation(std::string_view code) {
  for (const Optimisation& o : tables().optimisations) {
    if (o.code == code) return &o;
  }
  return nullptr;
}

const Format* find_format(std::string_view ai) {
  const auto& f = tables().formats;
  const auto it = f.find(ai);
  return it == f.end() ? nullptr : &it->second;
}

// ---------------------------------------------------------------------------
// Numbers of any size, as decimal digit strings.

// to_binary writes the decimal |digits| as exactly |bits| binary digits;
// false when the number needs more.
bool to_binary(std::string_view digits, std::size_t bits, std::string& out) {
  std::vector<std::uint8_t> n;  // most significant first
  for (char c : digits) n.push_back(static_cast<std::uint8_t>(c - '0'));
  std::string rev;  // least significant bit first
  while (std::any_of(n.begin(), n.end(), [](std::uint8_t d) { return d != 0; })) {
    int carry = 0;
    for (std::uint8_t& d : n) {
      const int cur = carry * 10 + d;
      d = static_cast<std::uint8_t>(cur / 2);
      carry = cur % 2;
    }
    rev.push_back(carry != 0 ? '1' : '0');
  }
  if (rev.size() > bits) return false;
  out.append(bits - rev.size(), '0');
  out.append(rev.rbegin(), rev.rend());
  return true;
}

// to_decimal reads |bits| as a number and writes it with exactly |digits|
// decimal digits (zero-padded); false when it has more.
bool to_decimal(std::string_view bits, std::size_t digits, std::string& out) {
  std::vector<std::uint8_t> n;  // least significant first
  for (char b : bits) {
    int carry = b == '1' ? 1 : 0;
    for (std::uint8_t& d : n) {
      const int cur = d * 2 + carry;
      d = static_cast<std::uint8_t>(cur % 10);
      carry = cur / 10;
    }
    if (carry != 0) n.push_back(static_cast<std::uint8_t>(carry));
    if (n.size() > digits) return false;
  }
  out.append(digits - n.size(), '0');
  for (auto it = n.rbegin(); it != n.rend(); ++it) out.push_back(static_cast<char>('0' + *it));
  return true;
}

void put_uint(std::string& bits, std::size_t value, std::size_t width) {
  for (std::size_t i = width; i-- > 0;) bits.push_back(((value >> i) & 1U) != 0 ? '1' : '0');
}

// ---------------------------------------------------------------------------
// Encoding.

enum Encoding : std::uint8_t { kDigits = 0, kHexLower = 1, kHexUpper = 2, kBase64 = 3, kAscii = 4 };

// choose_encoding picks the densest encoding that holds |s|, as the
// reference does (an empty string is ASCII).
Encoding choose_encoding(std::string_view s) {
  if (s.empty()) return kAscii;
  if (text::all_digits(s)) return kDigits;
  const auto all = [&](auto pred) { return std::all_of(s.begin(), s.end(), pred); };
  if (all([](char c) { return text::is_digit(c) || (c >= 'A' && c <= 'F'); })) return kHexUpper;
  if (all([](char c) { return text::is_digit(c) || (c >= 'a' && c <= 'f'); })) return kHexLower;
  if (all_base64url(s)) return kBase64;
  return kAscii;
}

// put_chars writes the characters of |s| in encoding |enc| (no length).
void put_chars(std::string& bits, Encoding enc, std::string_view s) {
  switch (enc) {
    case kDigits:
      to_binary(s, compression::value_bits(s.size()), bits);  // fits by construction
      return;
    case kHexLower:
    case kHexUpper:
      for (char c : s) put_uint(bits, static_cast<std::size_t>(text::hex_value(c)), 4);
      return;
    case kBase64:
      for (char c : s) put_uint(bits, static_cast<std::size_t>(base64url_index(c)), 6);
      return;
    case kAscii:
      for (char c : s) put_uint(bits, static_cast<unsigned char>(c), 7);
      return;
  }
}

// put_value encodes the value of |ai| by its format.
Result<void> put_value(std::string& bits, std::string_view ai, std::string_view value) {
  const Format* format = find_format(ai);
  if (format == nullptr) {
    return fail(ai_label(ai) + " has a value format that cannot be compressed");
  }
  std::size_t pos = 0;
  for (const Piece& p : *format) {
    std::string_view part = value.substr(std::min(pos, value.size()));
    if (!p.variable) part = part.substr(0, p.length);
    pos += part.size();
    if (!p.variable && part.size() != p.length) {
      return fail(ai_label(ai) + " value is shorter than its format " + format_text(*format));
    }
    if (p.variable) {
      const std::size_t width = compression::length_bits(p.length);
      if (part.size() >= (std::size_t{1} << width)) {
        return fail(ai_label(ai) + " value is too long to compress (at most " +
                    std::to_string((std::size_t{1} << width) - 1) + " characters after the first " +
                    std::to_string(pos - part.size()) + ")");
      }
    }
    if (p.numeric) {
      if (!part.empty() && !text::all_digits(part)) {
        return fail(ai_label(ai) + " has a non-digit in a numeric component");
      }
      if (p.variable) put_uint(bits, part.size(), compression::length_bits(p.length));
      if (part.empty()) {
        bits.push_back('0');  // value_bits(0) is 1: the reference reads one bit
      } else {
        to_binary(part, compression::value_bits(part.size()), bits);
      }
      continue;
    }
    const Encoding enc = choose_encoding(part);
    if (enc == kAscii && std::any_of(part.begin(), part.end(),
                                     [](char c) { return static_cast<unsigned char>(c) > 0x7F; })) {
      return fail(ai_label(ai) + " has a character outside 7-bit ASCII");
    }
    put_uint(bits, enc, 3);
    if (p.variable) put_uint(bits, part.size(), compression::length_bits(p.length));
    put_chars(bits, enc, part);
  }
  if (pos < value.size()) {
    return fail(ai_label(ai) + " value is longer than its format " + format_text(*format));
  }
  return {};
}

// OtherPair is a non-GS1 query parameter that can go into the bit stream.
struct OtherPair {
  std::string key;
  std::string value;  // percent-decoded
};

std::optional<OtherPair> compressible_pair(std::string_view param) {
  const std::size_t eq = param.find('=');
  if (eq == std::string_view::npos) return std::nullopt;
  const std::string_view key = param.substr(0, eq);
  if (key.empty() || key.size() > kMaxPairLength || !all_base64url(key)) return std::nullopt;
  Result<std::string> value = text::percent_decode(param.substr(eq + 1), false, eq + 1);
  if (!value || value->size() > kMaxPairLength) return std::nullopt;
  if (std::any_of(value->begin(), value->end(),
                  [](char c) { return static_cast<unsigned char>(c) > 0x7F; })) {
    return std::nullopt;
  }
  return OtherPair{std::string(key), std::move(value).value()};
}

std::string to_base64url(std::string bits) {
  if (bits.size() % 6 != 0) bits.append(6 - bits.size() % 6, '0');
  std::string out;
  for (std::size_t i = 0; i < bits.size(); i += 6) {
    std::size_t v = 0;
    for (std::size_t k = 0; k < 6; ++k) v = v * 2 + (bits[i + k] == '1' ? 1 : 0);
    out.push_back(kBase64Url[v]);
  }
  return out;
}

bool is_primary_key(std::string_view ai) {
  const AiEntry* e = dictionary().find(ai);
  return e != nullptr && e->dl_primary_key;
}

std::string query_of(const DigitalLink& link) {
  std::string q;
  const auto add = [&q](const std::string& p) {
    if (!q.empty()) q += '&';
    q += p;
  };
  for (const AiValue& a : link.attributes) add(a.ai + "=" + text::percent_encode(a.value));
  for (const std::string& p : link.other_query_params) add(p);
  return q;
}

// encode_query_value percent-encodes a decompressed non-GS1 value for a query
// string: RFC 3986 query characters stay (as the reference prints them),
// except the separators '&' and ';' (the reference splits on both), '+' (a
// space in forms) and '%'.
std::string encode_query_value(std::string_view v) {
  std::string out;
  for (char c : v) {
    const bool keep = (text::is_unreserved(c) || text::is_sub_delim(c) || c == ':' || c == '@' ||
                       c == '/' || c == '?') &&
                      c != '&' && c != ';' && c != '+';
    if (keep) {
      out.push_back(c);
    } else {
      static constexpr char kUpperHex[] = "0123456789ABCDEF";
      const auto b = static_cast<unsigned char>(c);
      out += '%';
      out += kUpperHex[b >> 4];
      out += kUpperHex[b & 0xF];
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Decoding.

class BitReader {
 public:
  explicit BitReader(std::string_view bits) : bits_(bits) {}
  std::size_t remaining() const { return bits_.size() - pos_; }
  std::size_t position() const { return pos_; }

  // take returns the next |n| bits; an Error names |what| when fewer remain.
  Result<std::string_view> take(std::size_t n, const std::string& what) {
    if (n > remaining()) {
      return fail("the bit stream ends inside " + what + " (" + std::to_string(n) +
                  " bits needed at bit " + std::to_string(pos_) + ", " +
                  std::to_string(remaining()) + " left): it is truncated");
    }
    const std::string_view out = bits_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  Result<std::size_t> uint(std::size_t n, const std::string& what) {
    Result<std::string_view> b = take(n, what);
    if (!b) return b.error();
    std::size_t v = 0;
    for (char c : *b) v = v * 2 + (c == '1' ? 1 : 0);
    return v;
  }

 private:
  std::string_view bits_;
  std::size_t pos_ = 0;
};

// read_chars reads |count| characters in encoding |enc|.
Result<std::string> read_chars(BitReader& in, std::size_t enc, std::size_t count,
                               const std::string& what) {
  std::string out;
  switch (enc) {
    case kDigits: {
      Result<std::string_view> b = in.take(compression::value_bits(count), what);
      if (!b) return b.error();
      if (count == 0) return out;
      if (!to_decimal(*b, count, out)) {
        return fail(what + " holds a number of more than its " + std::to_string(count) + " digits");
      }
      return out;
    }
    case kHexLower:
    case kHexUpper:
      for (std::size_t i = 0; i < count; ++i) {
        Result<std::size_t> v = in.uint(4, what);
        if (!v) return v.error();
        const char c = kHex[*v];
        out.push_back(enc == kHexLower ? text::to_lower(c) : c);
      }
      return out;
    case kBase64:
      for (std::size_t i = 0; i < count; ++i) {
        Result<std::size_t> v = in.uint(6, what);
        if (!v) return v.error();
        out.push_back(kBase64Url[*v]);
      }
      return out;
    case kAscii:
      for (std::size_t i = 0; i < count; ++i) {
        Result<std::size_t> v = in.uint(7, what);
        if (!v) return v.error();
        out.push_back(static_cast<char>(*v));
      }
      return out;
    default:
      return fail(what + " has an unknown character encoding " + std::to_string(enc) +
                  " (0-4 are defined)");
  }
}

Result<std::string> read_value(BitReader& in, const std::string& ai) {
  const Format* format = find_format(ai);
  if (format == nullptr) return fail(ai_label(ai) + " has no compressed format");
  const std::string what = "the value of " + ai_label(ai);
  std::string value;
  for (const Piece& p : *format) {
    std::size_t count = p.length;
    if (p.numeric) {
      if (p.variable) {
        Result<std::size_t> n = in.uint(compression::length_bits(p.length), what);
        if (!n) return n.error();
        count = *n;
      }
      Result<std::string> digits = read_chars(in, kDigits, count, what);
      if (!digits) return digits.error();
      value += *digits;
      continue;
    }
    Result<std::size_t> enc = in.uint(3, what);
    if (!enc) return enc.error();
    if (p.variable) {
      Result<std::size_t> n = in.uint(compression::length_bits(p.length), what);
      if (!n) return n.error();
      count = *n;
    }
    Result<std::string> chars = read_chars(in, *enc, count, what);
    if (!chars) return chars.error();
    value += *chars;
  }
  return value;
}

struct Decoded {
  std::vector<AiValue> ais;
  std::vector<OtherPair> others;
};

Result<Decoded> decode_stream(std::string_view bits) {
  Decoded out;
  BitReader in(bits);
  const auto read_ai_value = [&](const std::string& ai) -> Result<void> {
    Result<std::string> v = read_value(in, ai);
    if (!v) return v.error();
    out.ais.push_back({ai, std::move(v).value()});
    return {};
  };
  while (in.remaining() > 8) {
    const std::size_t at = in.position();
    // More than 8 bits remain: value() cannot fail here.
    const std::size_t h = in.uint(8, "an AI code").value();
    const std::size_t h1 = h >> 4;
    const std::size_t h2 = h & 0xFU;
    if (h1 <= 9 && h2 <= 9) {
      const std::size_t digits = tables().ai_digits_by_prefix[h1 * 10 + h2];
      std::string ai{static_cast<char>('0' + h1), static_cast<char>('0' + h2)};
      if (digits == 0) {
        return fail("no GS1 Application Identifier starts with " + ai + " (at bit " +
                    std::to_string(at) + ")");
      }
      while (ai.size() < digits) {
        Result<std::size_t> d = in.uint(4, "the AI code " + ai + "...");
        if (!d) return d.error();
        if (*d > 9) {
          return fail("AI code " + ai + kHex[*d] + " at bit " + std::to_string(at) +
                      " is not all digits");
        }
        ai.push_back(static_cast<char>('0' + *d));
      }
      if (dictionary().find(ai) == nullptr) {
        return fail(ai_label(ai) + " at bit " + std::to_string(at) +
                    " is not a GS1 Application Identifier");
      }
      if (Result<void> r = read_ai_value(ai); !r) return r.error();
      continue;
    }
    const std::string code{kHex[h1], kHex[h2]};
    if (const Optimisation* o = find_optimisation(code)) {
      for (const std::string& ai : o->ais) {
        if (Result<void> r = read_ai_value(ai); !r) return r.error();
      }
      continue;
    }
    if (h1 != 0xF) {
      return fail("no optimisation is defined for code " + code + " (at bit " + std::to_string(at) +
                  ")");
    }
    // A non-GS1 pair: the 7-bit key length starts right after the 4-bit flag.
    const std::string what = "a non-GS1 query parameter";
    Result<std::size_t> low = in.uint(3, what);
    if (!low) return low.error();
    const std::size_t key_length = h2 * 8 + *low;
    if (key_length == 0)
      return fail("a non-GS1 query parameter at bit " + std::to_string(at) + " has an empty name");
    Result<std::string> key = read_chars(in, kBase64, key_length, what);
    if (!key) return key.error();
    const std::string value_what = "the value of non-GS1 parameter " + text::quoted(*key);
    Result<std::size_t> enc = in.uint(3, value_what);
    if (!enc) return enc.error();
    Result<std::size_t> n = in.uint(7, value_what);
    if (!n) return n.error();
    Result<std::string> value = read_chars(in, *enc, *n, value_what);
    if (!value) return value.error();
    out.others.push_back({std::move(key).value(), std::move(value).value()});
  }
  const std::string_view rest = bits.substr(in.position());
  if (rest.find('1') != std::string_view::npos) {
    return fail("the " + std::to_string(rest.size()) +
                " bits after the last entry must be zero padding; the data is truncated or "
                "corrupt");
  }
  return out;
}

// Split is a compressed URI cut into its stem, compressed segment and query.
struct Split {
  std::string_view stem;
  std::string_view segment;
  std::size_t segment_offset = 0;
  std::optional<std::string_view> query;
};

// is_path_char: RFC 3986 pchar (with '%'), '/', and '[' ']', which
// parse_digital_link lets through in a stem as well.
bool is_path_char(char c) {
  return text::is_unreserved(c) || text::is_sub_delim(c) || c == ':' || c == '@' || c == '/' ||
         c == '%' || c == '[' || c == ']';
}

Result<Split> split_compressed(std::string_view uri) {
  Split s;
  std::string_view path;
  std::size_t path_offset = 0;
  std::string_view before;  // "scheme://authority" or ""
  if (!uri.empty() && uri.front() == '/') {
    const std::size_t end = uri.find_first_of("?#");
    path = uri.substr(0, end);
    if (end != std::string_view::npos && uri[end] == '?') {
      const std::size_t hash = uri.find('#', end);
      s.query = uri.substr(end + 1, hash == std::string_view::npos ? hash : hash - end - 1);
    }
  } else {
    const std::optional<url::Parts> parts = url::split(uri);
    if (!parts || !url::is_http_scheme(parts->scheme)) {
      return fail("a compressed Digital Link is an http(s) URI or a path starting with '/'");
    }
    Result<url::Authority> authority =
        url::parse_authority(parts->authority, parts->authority_offset);
    if (!authority) return fail(authority.error().message);
    path = parts->path;
    path_offset = parts->path_offset;
    before = uri.substr(0, parts->path_offset);
    s.query = parts->query;
  }
  const std::size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) {
    return fail("the URI has no path; the compressed data is its last path segment");
  }
  for (std::size_t i = 0; i < slash; ++i) {
    if (!is_path_char(path[i]) ||
        (path[i] == '%' && (i + 2 >= path.size() || text::hex_value(path[i + 1]) < 0 ||
                            text::hex_value(path[i + 2]) < 0))) {
      return fail("character " + text::describe_char(path[i]) + " at byte " +
                  std::to_string(path_offset + i) + " is not allowed in a URI path");
    }
  }
  s.stem = uri.substr(0, before.size() + slash);
  s.segment = path.substr(slash + 1);
  s.segment_offset = path_offset + slash + 1;
  if (s.segment.empty()) {
    return fail("the last path segment is empty; it must hold the compressed data");
  }
  for (std::size_t i = 0; i < s.segment.size(); ++i) {
    if (base64url_index(s.segment[i]) < 0) {
      return fail("character " + text::describe_char(s.segment[i]) + " at byte " +
                  std::to_string(s.segment_offset + i) +
                  " is not base64url (A-Z a-z 0-9 - _); the last path segment must be the "
                  "compressed data");
    }
  }
  return s;
}

std::string to_bits(std::string_view base64) {
  std::string bits;
  bits.reserve(base64.size() * 6);
  for (char c : base64) put_uint(bits, static_cast<std::size_t>(base64url_index(c)), 6);
  return bits;
}

// reference_order sorts data attributes as digital-link.js prints them: it
// keeps them in a JavaScript object, which lists integer-like keys (AIs
// without a leading zero) first in numeric order, then the rest as inserted.
void reference_order(std::vector<AiValue>& attributes) {
  std::stable_sort(attributes.begin(), attributes.end(), [](const AiValue& a, const AiValue& b) {
    const bool a_int = a.ai[0] != '0';
    const bool b_int = b.ai[0] != '0';
    if (a_int != b_int) return a_int;
    if (!a_int) return false;
    if (a.ai.size() != b.ai.size()) return a.ai.size() < b.ai.size();
    return a.ai < b.ai;
  });
}

}  // namespace

namespace compression {

std::size_t value_bits(std::size_t digits) {
  return static_cast<std::size_t>(
      std::ceil(static_cast<double>(digits) * std::log(10.0) / std::log(2.0) + 0.01));
}

std::size_t length_bits(std::size_t max_length) {
  return static_cast<std::size_t>(
      std::ceil(std::log(static_cast<double>(max_length)) / std::log(2.0) + 0.01));
}

std::optional<std::string> value_format(std::string_view ai) {
  const Format* f = find_format(ai);
  if (f == nullptr) return std::nullopt;
  return format_text(*f);
}

}  // namespace compression

std::string digital_link_uri(const DigitalLink& link) {
  std::string out = link.stem + link.canonical_path();
  const std::string q = query_of(link);
  if (!q.empty()) out += "?" + q;
  return out;
}

Result<std::string> compress_digital_link(const DigitalLink& link,
                                          const CompressionOptions& options) {
  // Check the link as the parser checks a path, so that only what
  // decompresses to a valid link is compressed.
  std::string uncompressed = link.canonical_path();
  if (const std::string q = query_of(link); !q.empty()) uncompressed += "?" + q;
  Result<DigitalLink> checked = parse_digital_link_path(uncompressed, true);
  if (!checked) return fail(checked.error().message);

  std::vector<const AiValue*> ais{&checked->primary_key};
  for (const AiValue& q : checked->qualifiers) ais.push_back(&q);
  for (const AiValue& a : checked->attributes) {
    if (is_primary_key(a.ai)) {
      return fail(ai_label(a.ai) + " is a primary key given as a data attribute of primary key " +
                  ai_label(checked->primary_key.ai) +
                  "; a compressed link cannot say which of the two is the key");
    }
    ais.push_back(&a);
  }
  std::sort(ais.begin(), ais.end(),
            [](const AiValue* a, const AiValue* b) { return a->ai < b->ai; });

  std::string bits;
  if (options.use_optimisations) {
    // Greedy, as the reference: the optimisation saving the most AI digits
    // (the first in table order on ties) until none applies.
    while (true) {
      const Optimisation* best = nullptr;
      for (const Optimisation& o : tables().optimisations) {
        const bool applies = std::all_of(o.ais.begin(), o.ais.end(), [&](const std::string& ai) {
          return std::any_of(ais.begin(), ais.end(), [&](const AiValue* v) { return v->ai == ai; });
        });
        if (applies && (best == nullptr || o.score > best->score)) best = &o;
      }
      if (best == nullptr) break;
      put_uint(bits, static_cast<std::size_t>(text::hex_value(best->code[0])), 4);
      put_uint(bits, static_cast<std::size_t>(text::hex_value(best->code[1])), 4);
      for (const std::string& ai : best->ais) {
        const auto it =
            std::find_if(ais.begin(), ais.end(), [&](const AiValue* v) { return v->ai == ai; });
        if (Result<void> r = put_value(bits, ai, (*it)->value); !r) return r.error();
        ais.erase(it);
      }
    }
  }
  for (const AiValue* v : ais) {
    for (char d : v->ai) put_uint(bits, static_cast<std::size_t>(d - '0'), 4);
    if (Result<void> r = put_value(bits, v->ai, v->value); !r) return r.error();
  }
  std::vector<std::string> kept;  // query parameters left uncompressed
  for (const std::string& p : checked->other_query_params) {
    std::optional<OtherPair> pair =
        options.compress_other_key_value_pairs ? compressible_pair(p) : std::nullopt;
    if (!pair) {
      kept.push_back(p);
      continue;
    }
    put_uint(bits, 0xF, 4);
    put_uint(bits, pair->key.size(), 7);
    put_chars(bits, kBase64, pair->key);
    const Encoding enc = choose_encoding(pair->value);
    put_uint(bits, enc, 3);
    put_uint(bits, pair->value.size(), 7);
    put_chars(bits, enc, pair->value);
  }
  std::string out = link.stem + "/" + to_base64url(std::move(bits));
  for (std::size_t i = 0; i < kept.size(); ++i) out += (i == 0 ? "?" : "&") + kept[i];
  return out;
}

Result<DigitalLink> decompress_digital_link(std::string_view uri) {
  Result<Split> split = split_compressed(uri);
  if (!split) return split.error();
  Result<Decoded> decoded = decode_stream(to_bits(split->segment));
  if (!decoded) return decoded.error();

  std::vector<std::string> keys;
  for (const AiValue& v : decoded->ais) {
    if (is_primary_key(v.ai)) keys.push_back(v.ai);
  }
  if (keys.empty()) {
    return fail("the compressed data holds no primary key (such as (01) GTIN)");
  }
  if (keys.size() > 1) {
    return fail("the compressed data holds more than one primary key: " + ai_label(keys[0]) +
                " and " + ai_label(keys[1]));
  }
  Result<DigitalLink> arranged = digital_link_from_ai_values(decoded->ais);
  if (!arranged) return fail(arranged.error().message);
  reference_order(arranged->attributes);
  // The query parameters of the compressed URI, then the decompressed ones.
  if (split->query) {
    std::size_t pos = 0;
    while (pos <= split->query->size()) {
      std::size_t end = split->query->find('&', pos);
      if (end == std::string_view::npos) end = split->query->size();
      if (end > pos)
        arranged->other_query_params.emplace_back(split->query->substr(pos, end - pos));
      pos = end + 1;
    }
  }
  for (const OtherPair& p : decoded->others) {
    arranged->other_query_params.push_back(p.key + "=" + encode_query_value(p.value));
  }
  // Parse the uncompressed form, so a decompressed link passes every check
  // an uncompressed one does (data attributes allowed in a Digital Link,
  // qualifiers in order, exclusions) and equals what the parser returns for
  // its owl:sameAs URI.
  Result<DigitalLink> dl = parse_digital_link_path(digital_link_uri(*arranged), true);
  if (!dl) return fail(dl.error().message);
  for (const AiValue& a : dl->attributes) {
    if (is_primary_key(a.ai)) {
      // From the query string: compress_digital_link would refuse it.
      return fail("the query string gives a second primary key, " + ai_label(a.ai) + ", besides " +
                  ai_label(dl->primary_key.ai));
    }
  }
  dl->stem = std::string(split->stem);
  return dl;
}

bool has_compressed_digital_link_shape(std::string_view uri) {
  Result<Split> split = split_compressed(uri);
  if (!split || split->segment.size() < 4) return false;
  const auto first = static_cast<std::size_t>(base64url_index(split->segment[0]));
  const auto second = static_cast<std::size_t>(base64url_index(split->segment[1]));
  const std::size_t h1 = first >> 2;
  const std::size_t h2 = ((first & 3U) << 2) | (second >> 4);
  if (h1 <= 9 && h2 <= 9) return tables().ai_digits_by_prefix[h1 * 10 + h2] != 0;
  if (h1 == 0xF) return true;
  return find_optimisation(std::string{kHex[h1], kHex[h2]}) != nullptr;
}

}  // namespace gs1
}  // namespace idra::ids
