// value_json.hpp: Handle values as JSON, as Handle.Net's REST API writes and
// reads them (net.handle.hdllib.GsonUtility, HandleJsonRestApiServlet).
//
// A value is written as
//   {"index":1,"type":"URL","data":{"format":"string","value":"http://..."},
//    "permissions":"1110","ttl":86400,"timestamp":"2026-11-25T09:55:53Z",
//    "references":[{"handle":"0.NA/1","index":1}]}
// where "permissions" (admin read, admin write, public read, public write) is
// present only when not the default "1110", "references" only when there are
// some, and an absolute TTL is written as an ISO 8601 string in "ttl" (Handle.Net
// has no ttlType field: a number is relative, a string absolute).
//
// "data" is {"format":F,"value":V}. Output formats: "admin" (HS_ADMIN),
// "vlist" (HS_VLIST), "site" (HS_SITE, HS_SITE.PREFIX, HS_NA_DELEGATE), "key"
// (RSA or DSA HS_PUBKEY), each only when the bytes decode and the JSON encodes
// back to exactly the same bytes; otherwise "string" when the bytes are text
// (Handle.Net's Util.looksLikeBinary: valid UTF-8 without control characters
// other than 0x09-0x13), else "base64". Input also accepts "hex" and a bare
// JSON string as "data" (its UTF-8 bytes); format names are case-insensitive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "idra/result.hpp"
#include "idra/store.hpp"

namespace idra::api {

// kInvalidValueCode is the Handle responseCode of every Error here.
// Handle.Net's servlet turns every unparsable PUT body into RC_PROTOCOL_ERROR
// (BaseHandleRequestProcessingServlet.errorResponseFromException), which is 4.
inline constexpr int kInvalidValueCode = 4;
inline constexpr std::size_t kMaxValuesPerBody = 10000;
inline constexpr std::int32_t kDefaultTtlSeconds = 86400;
// kMaxBodyDepth bounds the nesting of a PUT body (a value with site data that
// holds a server whose key is site data ... needs far fewer).
inline constexpr int kMaxBodyDepth = 64;

// format_timestamp writes |unix_seconds| as ISO 8601 UTC, "2026-11-25T09:55:53Z"
// (years outside 0000-9999 get more digits and a '-' before zero).
std::string format_timestamp(std::int64_t unix_seconds);

// parse_timestamp reads the forms Handle.Net's FastDateFormat.parseUtc reads:
// "2026-11-25T09:55:53Z", fractions ("...53.123Z", truncated toward zero to
// whole seconds as Handle.Net does), offsets ("+01:00", "-0530"), no zone (UTC),
// a space instead of 'T', date only ("2026-11-25"), year and month only, and
// the basic form "20261125T095553Z". nullopt for anything else or an invalid
// date (month 13, February 30, hour 24, ...).
std::optional<std::int64_t> parse_timestamp(std::string_view text);

// data_to_json returns the "data" object for bytes |data| of a value of type
// |type| (see the header comment). It never fails; its result always parses
// back with data_from_json to |data|.
nlohmann::ordered_json data_to_json(std::string_view type, std::string_view data);

// data_from_json reads a "data" member: a JSON string, or an object with
// "format" and "value". Errors name the offending field relative to "data".
Result<std::string> data_from_json(const nlohmann::json& data);

// value_to_json writes |value|. A type or reference handle that is not valid
// UTF-8 (never the case for values read by value_from_json) is written with
// U+FFFD replacing the bad bytes.
nlohmann::ordered_json value_to_json(const store::HandleValue& value);

// append_value_json appends exactly value_to_json(|value|).dump() to |out|,
// without building a JSON tree for the common values (text or binary data,
// no references): the resolution fast path. Typed HS_* data and references
// take the tree path.
void append_value_json(std::string& out, const store::HandleValue& value);

// append_json_string appends |s| (valid UTF-8) as a JSON string, escaped
// exactly as nlohmann's dump escapes it.
void append_json_string(std::string& out, std::string_view s);

// value_from_json reads one value object. Required: "index" (1..4294967295),
// "type" (string), "data". Defaults: "ttl" 86400 relative, "timestamp"
// |now_unix|, "permissions" admin read+write and public read, no references.
// A relative ttl must be 0..2147483647; an absolute one an ISO 8601 time that
// fits 32 bits. Errors start with "value <index>: field "<name>"" (or "value:"
// when the index itself is bad) and have code kInvalidValueCode.
Result<store::HandleValue> value_from_json(const nlohmann::json& json, std::int64_t now_unix);

// values_from_body reads a PUT body: an array of values, {"values":[...]}
// ("values": null is no values), or one value object (which must have "index",
// "type" and "data", as Handle.Net requires). At most kMaxValuesPerBody values;
// indexes must be unique. A "handle" member next to "values" is not checked
// here: the handler compares it with the handle in the URL.
Result<std::vector<store::HandleValue>> values_from_body(std::string_view body,
                                                         std::int64_t now_unix);

}  // namespace idra::api
