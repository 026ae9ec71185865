#include "url.hpp"

#include "idra/text.hpp"

namespace idra::ids::url {

std::optional<Parts> split(std::string_view text) {
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  for (std::size_t i = 0; i < colon; ++i) {
    const char c = text[i];
    const bool ok =
        text::is_alpha(c) || (i > 0 && (text::is_digit(c) || c == '+' || c == '-' || c == '.'));
    if (!ok) return std::nullopt;
  }
  if (text.substr(colon, 3) != "://") return std::nullopt;
  Parts p;
  p.scheme = text.substr(0, colon);
  p.authority_offset = colon + 3;
  std::size_t end = text.find_first_of("/?#", p.authority_offset);
  if (end == std::string_view::npos) end = text.size();
  p.authority = text.substr(p.authority_offset, end - p.authority_offset);
  std::size_t pos = end;
  std::size_t path_end = text.find_first_of("?#", pos);
  if (path_end == std::string_view::npos) path_end = text.size();
  p.path_offset = pos;
  p.path = text.substr(pos, path_end - pos);
  pos = path_end;
  if (pos < text.size() && text[pos] == '?') {
    std::size_t query_end = text.find('#', pos);
    if (query_end == std::string_view::npos) query_end = text.size();
    p.query_offset = pos + 1;
    p.query = text.substr(pos + 1, query_end - pos - 1);
    pos = query_end;
  }
  if (pos < text.size() && text[pos] == '#') p.fragment = text.substr(pos + 1);
  return p;
}

bool is_http_scheme(std::string_view scheme, bool* secure) {
  if (text::iequals(scheme, "https")) {
    if (secure != nullptr) *secure = true;
    return true;
  }
  if (text::iequals(scheme, "http")) {
    if (secure != nullptr) *secure = false;
    return true;
  }
  return false;
}

Result<Authority> parse_authority(std::string_view authority, std::size_t offset) {
  if (authority.empty())
    return make_error("URL has no host (at byte " + std::to_string(offset) + ")");
  if (const std::size_t at = authority.find('@'); at != std::string_view::npos) {
    return make_error("user information ('@' at byte " + std::to_string(offset + at) +
                      ") is not allowed in the URL");
  }
  Authority out;
  std::string_view host;
  std::string_view port;
  bool has_port = false;
  if (authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return make_error("IPv6 host at byte " + std::to_string(offset) + " has no closing ']'");
    }
    host = authority.substr(0, close + 1);
    for (std::size_t i = 1; i < close; ++i) {
      const char c = host[i];
      if (!(text::hex_value(c) >= 0 || c == ':' || c == '.')) {
        return make_error("character " + text::describe_char(c) + " at byte " +
                          std::to_string(offset + i) + " is not allowed in an IPv6 host");
      }
    }
    if (close == 1) return make_error("empty IPv6 host at byte " + std::to_string(offset));
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return make_error("unexpected " + text::describe_char(rest.front()) + " at byte " +
                          std::to_string(offset + close + 1) + " after the IPv6 host");
      }
      has_port = true;
      port = rest.substr(1);
    }
  } else {
    const std::size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port = authority.substr(colon + 1);
    }
    if (host.empty()) return make_error("URL has no host (at byte " + std::to_string(offset) + ")");
    for (std::size_t i = 0; i < host.size(); ++i) {
      const char c = host[i];
      if (!(text::is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~')) {
        return make_error("character " + text::describe_char(c) + " at byte " +
                          std::to_string(offset + i) + " is not allowed in a host name");
      }
    }
  }
  out.host = text::lower_ascii(host);
  if (has_port && !port.empty()) {
    const std::size_t port_offset = offset + (port.data() - authority.data());
    if (!text::all_digits(port)) {
      return make_error("port at byte " + std::to_string(port_offset) + " is not a number");
    }
    std::size_t first = port.find_first_not_of('0');
    std::string_view digits =
        first == std::string_view::npos ? std::string_view("0") : port.substr(first);
    unsigned long value = 0;
    for (char c : digits.substr(0, 6)) value = value * 10 + static_cast<unsigned long>(c - '0');
    if (digits.size() > 5 || value > 65535 || value == 0) {
      return make_error("port " + text::quoted(port) + " at byte " + std::to_string(port_offset) +
                        " is not in 1-65535");
    }
    out.port = std::string(digits);
  }
  return out;
}

}  // namespace idra::ids::url
