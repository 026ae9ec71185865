// handle.cpp: Handle System syntax (prefix/suffix, dotted prefix hierarchy).
#include <cstdio>
#include <string>

#include "idra/ids.hpp"
#include "idra/text.hpp"

namespace idra::ids {
namespace {

std::string at_byte(std::size_t offset) { return " at byte " + std::to_string(offset); }

bool is_control(std::uint32_t cp) { return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F); }

// is_whitespace: Unicode White_Space.
bool is_whitespace(std::uint32_t cp) {
  switch (cp) {
    case 0x20:
    case 0x09:
    case 0x0A:
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

std::string describe_code_point(std::uint32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
  return buf;
}

// validate_prefix checks a prefix that is already valid UTF-8; |base| is the
// offset of the prefix in the caller's text.
Result<void> validate_prefix(std::string_view prefix, std::size_t base) {
  if (prefix.empty()) return make_error("empty prefix" + at_byte(base));
  std::size_t segment_start = 0;
  std::size_t pos = 0;
  while (pos < prefix.size()) {
    const std::size_t here = pos;
    const std::uint32_t cp = text::decode_utf8(prefix, pos);
    if (cp == '.') {
      if (here == segment_start) {
        return make_error("empty prefix segment" + at_byte(base + here) +
                          " (a prefix may not start with '.', end with '.' or hold '..')");
      }
      segment_start = pos;
    } else if (cp == '/') {
      return make_error("'/' is not allowed in a prefix" + at_byte(base + here));
    } else if (is_control(cp)) {
      return make_error("control character " + describe_code_point(cp) + at_byte(base + here) +
                        " is not allowed in a prefix");
    } else if (is_whitespace(cp)) {
      return make_error("whitespace " + describe_code_point(cp) + at_byte(base + here) +
                        " is not allowed in a prefix");
    }
  }
  if (segment_start == prefix.size()) {
    return make_error("empty prefix segment" + at_byte(base + prefix.size()) +
                      " (a prefix may not end with '.')");
  }
  return {};
}

}  // namespace

std::string_view scheme_name(Scheme scheme) {
  switch (scheme) {
    case Scheme::handle:
      return "handle";
    case Scheme::gs1:
      return "gs1";
    case Scheme::epc:
      return "epc";
    case Scheme::oid:
      return "oid";
    case Scheme::iec61406:
      return "iec61406";
  }
  return "handle";
}

std::optional<Scheme> scheme_from_name(std::string_view name) {
  for (Scheme s : {Scheme::handle, Scheme::gs1, Scheme::epc, Scheme::oid, Scheme::iec61406}) {
    if (scheme_name(s) == name) return s;
  }
  return std::nullopt;
}

Result<std::string> canonical_prefix(std::string_view prefix) {
  if (prefix.size() > kMaxHandleBytes) {
    return make_error("prefix is " + std::to_string(prefix.size()) + " bytes; the limit is " +
                      std::to_string(kMaxHandleBytes));
  }
  if (std::optional<text::Utf8Problem> bad = text::check_utf8(prefix)) {
    return make_error(std::string("invalid UTF-8") + at_byte(bad->offset) + ": " + bad->what);
  }
  if (Result<void> r = validate_prefix(prefix, 0); !r) return r.error();
  return text::upper_ascii(prefix);
}

Result<Handle> parse_handle(std::string_view input) {
  std::size_t base = 0;
  if (text::istarts_with(input, "hdl:") || text::istarts_with(input, "doi:")) base = 4;
  const std::string_view body = input.substr(base);
  if (base > 0 && (text::istarts_with(body, "hdl:") || text::istarts_with(body, "doi:"))) {
    return make_error("scheme given twice" + at_byte(base));
  }
  if (body.empty()) return make_error("empty handle" + at_byte(base));
  if (body.size() > kMaxHandleBytes) {
    return make_error("handle is " + std::to_string(body.size()) + " bytes; the limit is " +
                      std::to_string(kMaxHandleBytes) + " (exceeded" +
                      at_byte(base + kMaxHandleBytes) + ")");
  }
  if (std::optional<text::Utf8Problem> bad = text::check_utf8(body)) {
    return make_error(std::string("invalid UTF-8") + at_byte(base + bad->offset) + ": " +
                      bad->what);
  }
  const std::size_t slash = body.find('/');
  if (slash == std::string_view::npos) {
    return make_error("no '/' between prefix and suffix (a handle is prefix/suffix)");
  }
  const std::string_view prefix = body.substr(0, slash);
  if (Result<void> r = validate_prefix(prefix, base); !r) return r.error();
  const std::string_view suffix = body.substr(slash + 1);
  if (suffix.empty()) return make_error("empty suffix" + at_byte(base + slash + 1));
  for (std::size_t i = 0; i < suffix.size(); ++i) {
    const auto c = static_cast<unsigned char>(suffix[i]);
    if (c < 0x20 || c == 0x7F) {
      return make_error("control character " + text::describe_char(suffix[i]) +
                        at_byte(base + slash + 1 + i) + " is not allowed in a suffix");
    }
  }
  return Handle{text::upper_ascii(prefix), std::string(suffix)};
}

std::string_view prefix_parent(std::string_view prefix) {
  const std::size_t dot = prefix.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return {};
  return prefix.substr(0, dot);
}

std::vector<std::string> prefix_ancestors(std::string_view prefix) {
  std::vector<std::string> out;
  for (std::string_view p = prefix; !p.empty(); p = prefix_parent(p)) out.emplace_back(p);
  return out;
}

bool prefix_is_within(std::string_view prefix, std::string_view ancestor) {
  if (ancestor.empty()) return false;
  if (prefix == ancestor) return true;
  return prefix.size() > ancestor.size() && prefix.substr(0, ancestor.size()) == ancestor &&
         prefix[ancestor.size()] == '.';
}

}  // namespace idra::ids
