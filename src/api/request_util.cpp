#include "request_util.hpp"

#include <algorithm>
#include <cctype>
#include <limits>

namespace idra::api {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::vector<std::string_view> Target::all(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& [k, v] : query) {
    if (k == name) out.emplace_back(v);
  }
  return out;
}

std::optional<std::string_view> Target::first(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return std::string_view(v);
  }
  return std::nullopt;
}

std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (c == '\0') return std::nullopt;
    out.push_back(c);
  }
  return out;
}

Result<Target> parse_target(std::string_view target) {
  if (target.empty() || target.front() != '/') {
    return make_error("request-target must start with '/'", 4);
  }
  Target out;
  const auto q = target.find('?');
  auto path = percent_decode(target.substr(0, q), false);
  if (!path) return make_error("request path has a malformed percent escape or a NUL byte", 4);
  if (!valid_utf8(*path)) return make_error("request path is not valid UTF-8", 4);
  out.path = std::move(*path);
  if (q != std::string_view::npos) {
    std::string_view rest = target.substr(q + 1);
    if (const auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
    while (!rest.empty()) {
      const auto amp = rest.find('&');
      const std::string_view pair = rest.substr(0, amp);
      rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
      if (pair.empty()) continue;
      const auto eq = pair.find('=');
      auto key = percent_decode(pair.substr(0, eq), true);
      auto value = percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
      if (!key || !value) return make_error("query string has a malformed percent escape or a NUL byte", 4);
      if (!valid_utf8(*key) || !valid_utf8(*value)) return make_error("query string is not valid UTF-8", 4);
      out.query.emplace_back(std::move(*key), std::move(*value));
    }
  }
  return out;
}

Result<bool> parse_bool_param(const Target& target, std::string_view name, bool fallback) {
  const auto v = target.first(name);
  if (!v) return fallback;
  const std::string l = lower(*v);
  if (l == "true" || l == "1" || l.empty()) return true;  // "?pretty" alone means true
  if (l == "false" || l == "0") return false;
  return make_error("parameter " + std::string(name) + " must be true or false, not \"" +
                        std::string(v->substr(0, 64)) + "\"",
                    4);
}

Result<std::optional<std::uint64_t>> parse_u64_param(const Target& target, std::string_view name) {
  const auto v = target.first(name);
  if (!v) return std::optional<std::uint64_t>{};
  if (v->empty() || v->size() > 19 ||
      !std::all_of(v->begin(), v->end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return make_error("parameter " + std::string(name) + " must be a non-negative integer", 4);
  }
  std::uint64_t n = 0;
  for (char c : *v) n = n * 10 + static_cast<std::uint64_t>(c - '0');
  return std::optional<std::uint64_t>{n};
}

Result<std::vector<std::uint32_t>> parse_u32_list(const Target& target, std::string_view name) {
  std::vector<std::uint32_t> out;
  for (const auto v : target.all(name)) {
    if (v.empty() || v.size() > 10 ||
        !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return make_error("parameter " + std::string(name) + " must be an index from 1 to 4294967295", 4);
    }
    std::uint64_t n = 0;
    for (char c : v) n = n * 10 + static_cast<std::uint64_t>(c - '0');
    if (n == 0 || n > std::numeric_limits<std::uint32_t>::max()) {
      return make_error("parameter " + std::string(name) + " must be an index from 1 to 4294967295", 4);
    }
    out.push_back(static_cast<std::uint32_t>(n));
  }
  return out;
}

Response json_response(unsigned status, const nlohmann::ordered_json& body, bool pretty) {
  Response r;
  r.status = status;
  r.body = pretty ? body.dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                  : body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (pretty) r.body.push_back('\n');
  r.headers.emplace_back("content-type", "application/json");
  return r;
}

Response handle_error(int response_code, std::string_view handle, std::string_view message, bool pretty) {
  nlohmann::ordered_json body;
  body["responseCode"] = response_code;
  if (!handle.empty()) body["handle"] = std::string(handle);
  body["message"] = std::string(message);
  Response r = json_response(status_for_response_code(response_code), body, pretty);
  if (response_code == 402) r.headers.emplace_back("www-authenticate", "Basic realm=\"handle\"");
  r.headers.emplace_back("cache-control", "no-store");
  return r;
}

Response plain_error(unsigned status, std::string_view message) {
  nlohmann::ordered_json body;
  body["message"] = std::string(message);
  Response r = json_response(status, body);
  r.headers.emplace_back("cache-control", "no-store");
  return r;
}

bool is_json_content_type(std::optional<std::string_view> value) {
  if (!value) return false;
  std::string v = lower(*value);
  if (const auto semi = v.find(';'); semi != std::string::npos) v.resize(semi);
  while (!v.empty() && v.back() == ' ') v.pop_back();
  while (!v.empty() && v.front() == ' ') v.erase(v.begin());
  return v == "application/json" || (v.starts_with("application/") && v.ends_with("+json"));
}

unsigned status_for_response_code(int rc, bool created, bool resolution) {
  switch (rc) {
    case 1: return created ? 201 : 200;
    case 200: return resolution ? 200 : 400;
    case 100: return 404;
    case 101: case 201: return 409;
    case 4: case 102: case 202: case 301: return 400;
    case 402: return 401;
    case 400: case 401: case 403: case 404: return 403;
    case 5: return 501;
    case 3: case 7: return 503;
    default: return 500;
  }
}

}  // namespace idra::api
