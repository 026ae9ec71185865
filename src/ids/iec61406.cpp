// iec61406.cpp: IEC 61406 identification links (see ids.hpp for the rules
// and where they come from).
#include <string>

#include "idra/ids.hpp"
#include "idra/text.hpp"
#include "url.hpp"

namespace idra::ids {
namespace {

std::string at_byte(std::size_t offset) { return " at byte " + std::to_string(offset); }

// is_pchar_or: RFC 3986 pchar (without pct-encoded, handled by the caller)
// plus the extra characters a component allows ("/" in a path, "/?" in a
// query or fragment).
bool is_pchar(char c) {
  return text::is_unreserved(c) || text::is_sub_delim(c) || c == ':' || c == '@';
}

// normalize_component checks a path, query or fragment and returns it with
// RFC 3986 section 6.2.2 normalization: percent-escapes in upper-case hex,
// escapes of unreserved characters decoded.
Result<std::string> normalize_component(std::string_view s, std::size_t base,
                                        std::string_view extra, const char* what) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      const int hi = i + 1 < s.size() ? text::hex_value(s[i + 1]) : -1;
      const int lo = i + 2 < s.size() ? text::hex_value(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return make_error("invalid percent-encoding" + at_byte(base + i) +
                          ": '%' must be followed by two hexadecimal digits");
      }
      const char decoded = static_cast<char>(hi * 16 + lo);
      if (text::is_unreserved(decoded)) {
        out.push_back(decoded);
      } else {
        out.push_back('%');
        out.push_back(kHex[hi]);
        out.push_back(kHex[lo]);
      }
      i += 2;
      continue;
    }
    if (is_pchar(c) || extra.find(c) != std::string_view::npos) {
      out.push_back(c);
      continue;
    }
    const auto u = static_cast<unsigned char>(c);
    std::string why;
    if (u >= 0x80) {
      why = " is not ASCII; percent-encode its UTF-8 bytes";
    } else if (u < 0x20 || u == 0x7F) {
      why = " (a control character) is not allowed";
    } else if (c == ' ') {
      why = " is not allowed; write %20";
    } else {
      why = std::string(" is not allowed in the ") + what + "; percent-encode it";
    }
    return make_error("character " + text::describe_char(c) + at_byte(base + i) + why);
  }
  return out;
}

}  // namespace

std::string IdentificationLink::url() const {
  std::string out = "https://" + host;
  if (!port.empty()) out += ":" + port;
  out += path;
  if (query) out += "?" + *query;
  return out;
}

Result<IdentificationLink> parse_identification_link(std::string_view input) {
  if (input.size() > kMaxIdentificationLinkChars) {
    return make_error("identification link has " + std::to_string(input.size()) +
                      " characters; IEC 61406 allows at most " +
                      std::to_string(kMaxIdentificationLinkChars));
  }
  const std::optional<url::Parts> parts = url::split(input);
  if (!parts) return make_error("an identification link is an absolute URL: https://host/path");
  bool secure = false;
  if (!url::is_http_scheme(parts->scheme, &secure)) {
    return make_error("identification link scheme " + text::quoted(parts->scheme) +
                      " is not https");
  }
  if (!secure) {
    return make_error(
        "identification links use https, not http (IEC 61406-2 Annex F: an IL "
        "string is a URL with an https scheme)");
  }
  // parse_authority checks the host's characters; name non-ASCII bytes here,
  // where the fix (punycode) is specific to identification links.
  for (std::size_t i = 0; i < parts->authority.size(); ++i) {
    if (static_cast<unsigned char>(parts->authority[i]) >= 0x80) {
      return make_error("non-ASCII byte " + text::describe_char(parts->authority[i]) +
                        at_byte(parts->authority_offset + i) +
                        " in the host; use the punycode form of an internationalized name");
    }
  }
  Result<url::Authority> authority =
      url::parse_authority(parts->authority, parts->authority_offset);
  if (!authority) return authority.error();

  IdentificationLink link;
  link.host = authority->host;
  link.port = authority->port == "443" ? std::string() : authority->port;
  Result<std::string> path = normalize_component(parts->path, parts->path_offset, "/", "path");
  if (!path) return path.error();
  link.path = path->empty() ? std::string("/") : std::move(path).value();
  // Dot segments have a special function (RFC 3986 section 5.2.4); a link
  // that relies on them is ambiguous.
  {
    std::size_t start = 1;
    while (start <= link.path.size()) {
      std::size_t end = link.path.find('/', start);
      if (end == std::string::npos) end = link.path.size();
      const std::string_view seg = std::string_view(link.path).substr(start, end - start);
      if (seg == "." || seg == "..") {
        return make_error("path segment " + text::quoted(seg) +
                          " is not allowed in an identification link");
      }
      start = end + 1;
    }
  }
  if (parts->query) {
    Result<std::string> query =
        normalize_component(*parts->query, parts->query_offset, "/?", "query");
    if (!query) return query.error();
    link.query = std::move(query).value();
  }
  if (parts->fragment) {
    const std::size_t fragment_offset = input.size() - parts->fragment->size();
    Result<std::string> fragment =
        normalize_component(*parts->fragment, fragment_offset, "/?", "fragment");
    if (!fragment) return fragment.error();
  }
  const std::string canonical = link.url();
  if (canonical.size() > kMaxIdentificationLinkChars) {
    return make_error("identification link has " + std::to_string(canonical.size()) +
                      " characters in canonical form; IEC 61406 allows at most " +
                      std::to_string(kMaxIdentificationLinkChars));
  }
  return link;
}

}  // namespace idra::ids
