// text.hpp: byte-level helpers shared by the identifier parsers and every
// other parser of outside input (implemented in idra_ids, the lowest module).
// Everything here is ASCII- or UTF-8-aware, locale-independent and
// never throws on bad input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "idra/result.hpp"

namespace idra::text {

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
inline bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
inline bool is_alpha(char c) { return is_upper(c) || is_lower(c); }
inline bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
inline char to_upper(char c) { return is_lower(c) ? static_cast<char>(c - 'a' + 'A') : c; }
inline char to_lower(char c) { return is_upper(c) ? static_cast<char>(c - 'A' + 'a') : c; }

// hex_value returns 0-15 for a hexadecimal digit of either case, else -1.
int hex_value(char c);

bool all_digits(std::string_view s);  // false for the empty string
std::string upper_ascii(std::string_view s);
std::string lower_ascii(std::string_view s);
bool iequals(std::string_view a, std::string_view b);  // ASCII case-insensitive
bool istarts_with(std::string_view s, std::string_view prefix);

// is_unreserved is RFC 3986 "unreserved": ALPHA / DIGIT / "-" / "." / "_" / "~".
bool is_unreserved(char c);
// is_sub_delim is RFC 3986 "sub-delims": "!" / "$" / "&" / "'" / "(" / ")" /
// "*" / "+" / "," / ";" / "=".
bool is_sub_delim(char c);

// Utf8Problem describes the first malformed sequence of a string: |offset| is
// the byte where it starts.
struct Utf8Problem {
  std::size_t offset = 0;
  const char* what = "";
};
// check_utf8 rejects truncated and overlong sequences, stray continuation
// bytes, UTF-16 surrogates (U+D800-DFFF) and code points above U+10FFFF.
std::optional<Utf8Problem> check_utf8(std::string_view s);

// decode_utf8 reads the code point at |pos| of a string already accepted by
// check_utf8 and advances |pos| past it.
std::uint32_t decode_utf8(std::string_view s, std::size_t& pos);

// printable renders |s| for an error message: printable ASCII as is, other
// bytes as \xNN, cut after |max_bytes| input bytes with "...".
std::string printable(std::string_view s, std::size_t max_bytes = 64);
// quoted is printable(s) in single quotes.
std::string quoted(std::string_view s, std::size_t max_bytes = 64);
// describe_char names one byte for a message: 'A', ' ' (space) or 0x07.
std::string describe_char(char c);

// percent_encode keeps RFC 3986 unreserved characters except '~' and encodes
// every other byte as %XX with upper-case hex. This is the percent-encoding
// the GS1 Digital Link grammar prescribes for AI values in the path.
std::string percent_encode(std::string_view s);

// percent_decode decodes %XX escapes (either case); with |plus_is_space| a
// '+' becomes a space, as in an HTML form query string. A '%' not followed by
// two hex digits is an Error naming the byte at |base_offset| + its index.
Result<std::string> percent_decode(std::string_view s, bool plus_is_space, std::size_t base_offset);

}  // namespace idra::text
