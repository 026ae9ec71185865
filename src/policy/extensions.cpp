// extensions.cpp: the ipaddr and decimal extension types. The parsing rules
// follow Cedar 4.x (cedar-policy-core extensions/ipaddr.rs and decimal.rs,
// which lean on Rust's std::net parsers), checked against cedar-wasm.
#include "policy/extensions.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>

namespace idra::policy::ext {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// parse_v4 is Rust's Ipv4Addr::from_str: four decimal octets of 1 to 3
// digits, no leading zero, each at most 255.
std::optional<std::array<std::uint8_t, 4>> parse_v4(std::string_view s) {
  std::array<std::uint8_t, 4> out{};
  std::size_t pos = 0;
  for (int i = 0; i < 4; ++i) {
    if (i > 0) {
      if (pos >= s.size() || s[pos] != '.') return std::nullopt;
      ++pos;
    }
    const std::size_t start = pos;
    unsigned value = 0;
    while (pos < s.size() && is_digit(s[pos]) && pos - start < 3) {
      value = value * 10 + static_cast<unsigned>(s[pos] - '0');
      ++pos;
    }
    const std::size_t digits = pos - start;
    if (digits == 0 || value > 255) return std::nullopt;
    if (pos < s.size() && is_digit(s[pos])) return std::nullopt;  // a fourth digit
    if (digits > 1 && s[start] == '0') return std::nullopt;
    out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(value);
  }
  if (pos != s.size()) return std::nullopt;
  return out;
}

// read_groups reads up to |limit| colon-separated hex groups of 1 to 4
// digits, the way Rust's Ipv6Addr parser does (a separator is consumed
// only together with the group after it).
std::size_t read_groups(std::string_view s, std::size_t& pos, std::uint16_t* groups,
                        std::size_t limit) {
  for (std::size_t i = 0; i < limit; ++i) {
    std::size_t p = pos;
    if (i > 0) {
      if (p >= s.size() || s[p] != ':') return i;
      ++p;
    }
    const std::size_t start = p;
    unsigned value = 0;
    while (p < s.size() && hex_value(s[p]) >= 0) {
      if (p - start == 4) return i;  // a fifth digit: not a group
      value = value * 16 + static_cast<unsigned>(hex_value(s[p]));
      ++p;
    }
    if (p == start) return i;
    groups[i] = static_cast<std::uint16_t>(value);
    pos = p;
  }
  return limit;
}

std::optional<std::array<std::uint8_t, 16>> parse_v6(std::string_view s) {
  std::array<std::uint16_t, 8> head{};
  std::size_t pos = 0;
  const std::size_t head_size = read_groups(s, pos, head.data(), 8);
  if (head_size < 8) {
    if (s.substr(pos, 2) != "::") return std::nullopt;
    pos += 2;
    std::array<std::uint16_t, 7> tail{};
    const std::size_t limit = 8 - (head_size + 1);
    const std::size_t tail_size = read_groups(s, pos, tail.data(), limit);
    std::copy(tail.begin(), tail.begin() + static_cast<std::ptrdiff_t>(tail_size),
              head.begin() + static_cast<std::ptrdiff_t>(8 - tail_size));
  }
  if (pos != s.size()) return std::nullopt;
  std::array<std::uint8_t, 16> out{};
  for (std::size_t i = 0; i < 8; ++i) {
    out[2 * i] = static_cast<std::uint8_t>(head[i] >> 8);
    out[2 * i + 1] = static_cast<std::uint8_t>(head[i] & 0xff);
  }
  return out;
}

// ip_error words a failure as Cedar does (cedar-wasm 4.13's messages).
Error ip_error(std::string_view message) {
  return make_error("error while evaluating `ipaddr` extension function: " + std::string(message));
}

// range_bounds computes the first and last address of |ip|'s range.
void range_bounds(const IpAddr& ip, std::array<std::uint8_t, 16>& first,
                  std::array<std::uint8_t, 16>& last) {
  const std::size_t len = ip.v6 ? 16 : 4;
  first = ip.bytes;
  last = ip.bytes;
  for (std::size_t i = 0; i < len; ++i) {
    const int bits_before = static_cast<int>(i) * 8;
    const int keep = std::clamp(static_cast<int>(ip.prefix_len) - bits_before, 0, 8);
    const auto mask = static_cast<std::uint8_t>(keep == 0 ? 0 : (0xff << (8 - keep)) & 0xff);
    first[i] = static_cast<std::uint8_t>(ip.bytes[i] & mask);
    last[i] = static_cast<std::uint8_t>(ip.bytes[i] | static_cast<std::uint8_t>(~mask));
  }
}

}  // namespace

Result<IpAddr> parse_ip(std::string_view text) {
  // Cedar rejects IPv4-embedded IPv6 forms (::ffff:1.2.3.4) outright.
  if (text.find(':') != std::string_view::npos && text.find('.') != std::string_view::npos) {
    return ip_error(
        "error parsing IP address from string: We do not accept IPv4 embedded in IPv6 (e.g., "
        "::ffff:127.0.0.1). Found: `" +
        std::string(text) + "`");
  }
  std::string_view addr = text;
  std::optional<std::string_view> prefix;
  if (const std::size_t slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    prefix = text.substr(slash + 1);
  }
  IpAddr ip;
  if (auto v4 = parse_v4(addr)) {
    std::copy(v4->begin(), v4->end(), ip.bytes.begin());
    ip.v6 = false;
  } else if (auto v6 = parse_v6(addr)) {
    ip.bytes = *v6;
    ip.v6 = true;
  } else {
    return ip_error("invalid IP address: " + std::string(text));
  }
  const unsigned max_prefix = ip.v6 ? 128 : 32;
  ip.prefix_len = static_cast<std::uint8_t>(max_prefix);
  if (prefix) {
    if (prefix->empty())
      return ip_error(
          "error parsing prefix from the string ``: cannot parse integer from empty string");
    if (prefix->size() > 3) {
      return ip_error("error parsing prefix: string length " + std::to_string(prefix->size()) +
                      " is too large");
    }
    unsigned value = 0;
    for (char c : *prefix) {
      if (!is_digit(c))
        return ip_error("error parsing prefix `" + std::string(*prefix) +
                        "`: encountered non-digit");
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (prefix->size() > 1 && (*prefix)[0] == '0') {
      return ip_error("error parsing prefix `" + std::string(*prefix) + "`: leading zero(s)");
    }
    if (value > max_prefix) {
      return ip_error("error parsing prefix: " + std::to_string(value) +
                      " is larger than the limit " + std::to_string(max_prefix));
    }
    ip.prefix_len = static_cast<std::uint8_t>(value);
  }
  return ip;
}

Result<Decimal> parse_decimal(std::string_view text) {
  const auto malformed = [&] {
    return make_error("error while evaluating `decimal` extension function: `" + std::string(text) +
                      "` is not a well-formed decimal value");
  };
  const auto overflow = [&] {
    return make_error(
        "error while evaluating `decimal` extension function: overflow when converting to decimal");
  };
  std::size_t pos = 0;
  const bool negative = !text.empty() && text[0] == '-';
  if (negative) ++pos;
  const std::size_t int_start = pos;
  while (pos < text.size() && is_digit(text[pos])) ++pos;
  const std::size_t int_end = pos;
  if (int_end == int_start || pos >= text.size() || text[pos] != '.') return malformed();
  ++pos;
  const std::size_t frac_start = pos;
  while (pos < text.size() && is_digit(text[pos])) ++pos;
  if (pos != text.size() || pos == frac_start) return malformed();
  const std::size_t frac_digits = pos - frac_start;
  if (frac_digits > 4) {
    return make_error(
        "error while evaluating `decimal` extension function: too many digits after the decimal in "
        "`" +
        std::string(text) + "`");
  }
  // Integer part as a signed i64 (so "-922337203685477" fits before scaling).
  std::int64_t whole = 0;
  for (std::size_t i = int_start; i < int_end; ++i) {
    const std::int64_t digit = text[i] - '0';
    if (__builtin_mul_overflow(whole, 10, &whole)) return overflow();
    if (negative ? __builtin_sub_overflow(whole, digit, &whole)
                 : __builtin_add_overflow(whole, digit, &whole)) {
      return overflow();
    }
  }
  std::int64_t frac = 0;
  for (std::size_t i = frac_start; i < pos; ++i) frac = frac * 10 + (text[i] - '0');
  for (std::size_t i = frac_digits; i < 4; ++i) frac *= 10;
  std::int64_t scaled = 0;
  if (__builtin_mul_overflow(whole, std::int64_t{10000}, &scaled)) return overflow();
  if (negative ? __builtin_sub_overflow(scaled, frac, &scaled)
               : __builtin_add_overflow(scaled, frac, &scaled)) {
    return overflow();
  }
  return Decimal{scaled};
}

std::string ip_str(const IpAddr& ip) {
  std::string out;
  if (!ip.v6) {
    for (int i = 0; i < 4; ++i) {
      if (i > 0) out += '.';
      out += std::to_string(ip.bytes[static_cast<std::size_t>(i)]);
    }
  } else {
    std::array<unsigned, 8> groups{};
    for (std::size_t i = 0; i < 8; ++i)
      groups[i] = (unsigned{ip.bytes[2 * i]} << 8) | ip.bytes[2 * i + 1];
    // RFC 5952: compress the longest run (at least two) of zero groups.
    int best_start = -1;
    int best_len = 0;
    for (int i = 0; i < 8;) {
      if (groups[static_cast<std::size_t>(i)] != 0) {
        ++i;
        continue;
      }
      int j = i;
      while (j < 8 && groups[static_cast<std::size_t>(j)] == 0) ++j;
      if (j - i > best_len && j - i >= 2) {
        best_start = i;
        best_len = j - i;
      }
      i = j;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    for (int i = 0; i < 8; ++i) {
      if (i == best_start) {
        out += "::";
        i += best_len - 1;
        continue;
      }
      if (i > 0 && i != best_start + best_len) out += ':';
      const unsigned g = groups[static_cast<std::size_t>(i)];
      bool started = false;
      for (int shift = 12; shift >= 0; shift -= 4) {
        const unsigned nibble = (g >> shift) & 0xf;
        if (nibble != 0 || started || shift == 0) {
          out += kHex[nibble];
          started = true;
        }
      }
    }
  }
  if (ip.prefix_len != (ip.v6 ? 128 : 32)) out += "/" + std::to_string(ip.prefix_len);
  return out;
}

std::string decimal_str(Decimal d) {
  const bool negative = d.scaled < 0;
  const std::uint64_t magnitude = negative ? std::uint64_t{0} - static_cast<std::uint64_t>(d.scaled)
                                           : static_cast<std::uint64_t>(d.scaled);
  std::string frac = std::to_string(magnitude % 10000);
  frac.insert(0, 4 - frac.size(), '0');
  while (frac.size() > 1 && frac.back() == '0') frac.pop_back();
  return (negative ? "-" : "") + std::to_string(magnitude / 10000) + "." + frac;
}

bool ip_is_loopback(const IpAddr& ip) {
  if (!ip.v6) return ip.bytes[0] == 127 && ip.prefix_len >= 8;
  for (std::size_t i = 0; i < 15; ++i) {
    if (ip.bytes[i] != 0) return false;
  }
  return ip.bytes[15] == 1 && ip.prefix_len >= 128;
}

bool ip_is_multicast(const IpAddr& ip) {
  if (!ip.v6) return (ip.bytes[0] & 0xf0) == 0xe0 && ip.prefix_len >= 4;
  return ip.bytes[0] == 0xff && ip.prefix_len >= 8;
}

bool ip_in_range(const IpAddr& ip, const IpAddr& range) {
  if (ip.v6 != range.v6) return false;
  std::array<std::uint8_t, 16> ip_first{}, ip_last{}, range_first{}, range_last{};
  range_bounds(ip, ip_first, ip_last);
  range_bounds(range, range_first, range_last);
  return range_first <= ip_first && ip_last <= range_last;
}

}  // namespace idra::policy::ext
