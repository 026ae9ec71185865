// extensions.hpp: Cedar's extension types `ipaddr` and `decimal` (internal
// to src/policy): parsing with Cedar's exact rules, rendering, and the
// methods the evaluator calls.
#pragma once

#include <string>
#include <string_view>

#include "idra/policy.hpp"

namespace idra::policy::ext {

// parse_ip reads `ip("...")`'s argument as Cedar does: a dotted-quad IPv4
// address (no leading zeros) or an IPv6 address (`::` compression allowed,
// IPv4-embedded forms rejected), optionally followed by `/prefix` (decimal,
// at most 3 digits, no leading zero, at most 32 or 128). Host bits are kept:
// ip("10.0.0.1/8") != ip("10.0.0.0/8"). Error says what is wrong.
Result<IpAddr> parse_ip(std::string_view text);

// parse_decimal reads `decimal("...")`'s argument: an optional '-', one or
// more digits, '.', one to four digits; the value scaled by 10^4 must fit
// in an i64. Error on anything else (including overflow).
Result<Decimal> parse_decimal(std::string_view text);

// ip_str renders |ip| in the form parse_ip reads (with "/prefix" only when
// the prefix is shorter than the address).
std::string ip_str(const IpAddr& ip);
// decimal_str renders |d| with at least one fraction digit ("-1.5", "2.0").
std::string decimal_str(Decimal d);

bool ip_is_loopback(const IpAddr& ip);
bool ip_is_multicast(const IpAddr& ip);
// ip_in_range: the addresses of |ip|'s range all lie in |range|'s (false
// across families).
bool ip_in_range(const IpAddr& ip, const IpAddr& range);

}  // namespace idra::policy::ext
