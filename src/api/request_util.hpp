// request_util.hpp: request-target parsing and JSON responses shared by the
// handlers. Everything here is pure and total: bad input is an Error.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "idra/api.hpp"
#include "idra/result.hpp"

namespace idra::api {

struct Target {
  std::string path;  // percent-decoded
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order

  std::vector<std::string_view> all(std::string_view name) const;
  std::optional<std::string_view> first(std::string_view name) const;
};

// parse_target splits a request-target into its decoded path and query.
// Errors: not origin-form, bad percent escape, NUL byte, invalid UTF-8 in
// the path. '+' in the query means space (HTML forms, as Handle.Net reads it).
Result<Target> parse_target(std::string_view target);

// percent_decode decodes %XX escapes; nullopt on a malformed escape or a NUL.
std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space);

// parse_bool_param: absent -> fallback; "true"/"false" (any case), "1"/"0";
// anything else is an Error naming the parameter.
Result<bool> parse_bool_param(const Target& target, std::string_view name, bool fallback);

// parse_u32_list: every value of a repeatable numeric parameter.
Result<std::vector<std::uint32_t>> parse_u32_list(const Target& target, std::string_view name);

// parse_u64_param: a single non-negative integer parameter.
Result<std::optional<std::uint64_t>> parse_u64_param(const Target& target, std::string_view name);

// json_response serializes |body| (2-space indented when |pretty|).
Response json_response(unsigned status, const nlohmann::ordered_json& body, bool pretty = false);

// handle_error builds the Handle.Net error body {responseCode, handle?, message}
// with the HTTP status from status_for_response_code.
Response handle_error(int response_code, std::string_view handle, std::string_view message,
                      bool pretty = false);

// plain_error is for errors outside the Handle API (unknown path, 405):
// {"message": ...}.
Response plain_error(unsigned status, std::string_view message);

// is_json_content_type: "application/json" or any "+json" type, parameters ignored.
bool is_json_content_type(std::optional<std::string_view> value);

}  // namespace idra::api
