// query.cpp: the query string of GET /api/audit/entries -> Filter.
#include <algorithm>
#include <limits>

#include "audit/util.hpp"
#include "idra/audit.hpp"

namespace idra::audit {

namespace {

constexpr std::size_t kMaxQueryBytes = 8192;
constexpr std::size_t kMaxValueBytes = 2048;  // ids::kMaxHandleBytes

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> percent_decode(std::string_view text, std::string_view what) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    const int hi = i + 2 < text.size() ? hex_digit(text[i + 1]) : -1;
    const int lo = i + 2 < text.size() ? hex_digit(text[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return make_error(std::string(what) + ": '%' must be followed by two hex digits");
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  if (!util::valid_utf8(out)) return make_error(std::string(what) + ": not valid UTF-8");
  for (char c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      return make_error(std::string(what) + ": contains a control character");
    }
  }
  return out;
}

bool digits_only(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// days_from_civil is Howard Hinnant's algorithm: days since 1970-01-01.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

// number reads |len| digits at |pos|.
std::optional<unsigned> number(std::string_view s, std::size_t pos, std::size_t len) {
  if (pos + len > s.size()) return std::nullopt;
  unsigned v = 0;
  for (std::size_t i = pos; i < pos + len; ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + static_cast<unsigned>(s[i] - '0');
  }
  return v;
}

}  // namespace

Result<std::int64_t> parse_time(std::string_view text) {
  if (digits_only(text)) {
    auto v = util::parse_u64(text);
    if (!v || *v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return make_error("not a unix time in milliseconds (digits without leading zeros)");
    }
    return static_cast<std::int64_t>(*v);
  }
  // RFC 3339 section 5.6 date-time: YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)
  const Error bad =
      make_error("not unix milliseconds or an RFC 3339 date-time such as 2026-12-01T10:00:00Z");
  auto year = number(text, 0, 4);
  auto month = number(text, 5, 2);
  auto day = number(text, 8, 2);
  auto hour = number(text, 11, 2);
  auto minute = number(text, 14, 2);
  auto second = number(text, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second || text[4] != '-' || text[7] != '-' ||
      (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':') {
    return bad;
  }
  if (*month < 1 || *month > 12 || *day < 1 || *day > days_in_month(*year, *month) || *hour > 23 ||
      *minute > 59 || *second > 59) {
    return make_error("date-time out of range (leap seconds are not accepted)");
  }
  std::size_t pos = 19;
  std::int64_t millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const std::size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (pos - start < 3) millis = millis * 10 + (text[pos] - '0');
      ++pos;
    }
    if (pos == start) return bad;
    for (std::size_t k = pos - start; k < 3; ++k) millis *= 10;
  }
  std::int64_t offset_minutes = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    auto oh = number(text, pos + 1, 2);
    auto om = number(text, pos + 4, 2);
    if (!oh || !om || text[pos + 3] != ':' || *oh > 23 || *om > 59) return bad;
    offset_minutes = (text[pos] == '+' ? 1 : -1) * static_cast<std::int64_t>(*oh * 60 + *om);
    pos += 6;
  } else {
    return bad;
  }
  if (pos != text.size()) return bad;
  const std::int64_t days = days_from_civil(*year, *month, *day);
  const std::int64_t seconds =
      days * 86400 + *hour * 3600 + *minute * 60 + *second - offset_minutes * 60;
  return seconds * 1000 + millis;
}

Result<Filter> parse_query(std::string_view query) {
  if (query.size() > kMaxQueryBytes) {
    return make_error("query string is longer than " + std::to_string(kMaxQueryBytes) + " bytes");
  }
  Filter filter;
  bool seen_from = false, seen_to = false, seen_cursor = false, seen_limit = false;
  std::string_view rest = query;
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view part = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (part.empty()) return make_error("empty parameter in the query string");
    const auto eq = part.find('=');
    auto key = percent_decode(part.substr(0, eq), "parameter name");
    if (!key) return key.error();
    const std::string& k = *key;
    if (eq == std::string_view::npos) return make_error(k + ": needs a value (" + k + "=...)");
    auto value = percent_decode(part.substr(eq + 1), k);
    if (!value) return value.error();
    const std::string& v = *value;
    if (v.empty()) return make_error(k + ": empty value");
    if (v.size() > kMaxValueBytes) {
      return make_error(k + ": longer than " + std::to_string(kMaxValueBytes) + " bytes");
    }
    auto twice = [&] { return make_error(k + ": given more than once"); };
    if (k == "principal" || k == "identifier" || k == "action") {
      std::optional<std::string>& slot = k == "principal"    ? filter.principal
                                         : k == "identifier" ? filter.identifier
                                                             : filter.action;
      if (slot) return twice();
      slot = v;
    } else if (k == "decision") {
      if (filter.decision) return twice();
      if (v == "allow") {
        filter.decision = Decision::allow;
      } else if (v == "deny") {
        filter.decision = Decision::deny;
      } else {
        return make_error("decision: must be allow or deny");
      }
    } else if (k == "from" || k == "to") {
      bool& seen = k == "from" ? seen_from : seen_to;
      if (seen) return twice();
      seen = true;
      auto t = parse_time(v);
      if (!t) return make_error(k + ": " + t.error().message);
      (k == "from" ? filter.from_ms : filter.to_ms) = *t;
    } else if (k == "cursor") {
      if (seen_cursor) return twice();
      seen_cursor = true;
      auto c = util::parse_u64(v);
      if (!c) return make_error("cursor: must be a leaf index (digits, as given in next_cursor)");
      filter.cursor = *c;
    } else if (k == "limit") {
      if (seen_limit) return twice();
      seen_limit = true;
      auto l = util::parse_u64(v);
      if (!l || *l == 0 || *l > kMaxQueryLimit) {
        return make_error("limit: must be 1 to " + std::to_string(kMaxQueryLimit));
      }
      filter.limit = static_cast<std::uint32_t>(*l);
    } else {
      std::size_t shown = std::min<std::size_t>(k.size(), 64);
      while (shown < k.size() && shown > 0 &&
             (static_cast<unsigned char>(k[shown]) & 0xC0) == 0x80) {
        --shown;  // do not cut a UTF-8 sequence
      }
      return make_error("unknown parameter \"" + k.substr(0, shown) +
                        "\" (known: principal, identifier, action, decision, from, to, cursor, "
                        "limit)");
    }
  }
  if (filter.from_ms && filter.to_ms && *filter.from_ms > *filter.to_ms) {
    return make_error("from: is after to");
  }
  return filter;
}

}  // namespace idra::audit
