#include "request_util.hpp"

#include "idra/text.hpp"

#include <algorithm>
#include <cctype>
#include <limits>

namespace idra::api {
namespace {

bool valid_utf8(std::string_view s) { return !text::check_utf8(s).has_value(); }

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
  auto out = text::percent_decode(in, plus_is_space, 0);
  if (!out || out->find('\0') != std::string::npos) return std::nullopt;
  return std::move(out).value();
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
  const std::string l = text::lower_ascii(*v);
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
  std::string v = text::lower_ascii(*value);
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
