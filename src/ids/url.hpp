// url.hpp: the pieces of an absolute URL that the Digital Link and IEC 61406
// parsers share (private to idra_ids).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "idra/result.hpp"

namespace idra::ids::url {

// Parts are views into the text given to split; offsets are byte offsets in
// that text, for error messages.
struct Parts {
  std::string_view scheme;
  std::string_view authority;
  std::size_t authority_offset = 0;
  std::string_view path;  // "" or starts with '/'
  std::size_t path_offset = 0;
  std::optional<std::string_view> query;  // without '?'
  std::size_t query_offset = 0;
  std::optional<std::string_view> fragment;  // without '#'
};

// split cuts "scheme://authority[path][?query][#fragment]" (RFC 3986
// appendix B). It returns nullopt when |text| has no "scheme://".
std::optional<Parts> split(std::string_view text);

// is_http_scheme is true for "http" or "https" in any case; |secure| tells
// which.
bool is_http_scheme(std::string_view scheme, bool* secure = nullptr);

struct Authority {
  std::string host;  // lower-cased
  std::string port;  // decimal without leading zeros; empty if none was given
};

// parse_authority accepts host[:port] where host is a registered name of
// letters, digits, '-', '.', '_', '~' or an IPv6 literal "[...]" of hex
// digits, ':' and '.'; user information ('@') is an Error. The port, when
// present, is 1-65535.
Result<Authority> parse_authority(std::string_view authority, std::size_t offset);

}  // namespace idra::ids::url
