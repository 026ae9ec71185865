// gs1_values.cpp: check digits, character sets and the dictionary's linters,
// applied to AI values component by component.
//
// Linters implemented (GS1 Barcode Syntax Tests, reimplemented from their
// descriptions): csum, csumalpha, gcppos1, gcppos2 (minimal: the first four
// digits of the company prefix are digits; no GCP allocation lookup), zero,
// nonzero, nozeroprefix, hasnondigit, importeridx, pieceoftotal, yymmd0,
// yymmdd, yyyymmd0, yyyymmdd, hh, mi, ss, hhmi, yesno, winding, iso5218,
// hyphen, latitude, longitude, pcenc.
//
// Linters deliberately ignored (they need code lists we do not carry, or
// describe data no identifier key uses): iso3166, iso3166999, iso3166alpha2,
// iso3166list, iso4217, iban, mediatype, packagetype, couponcode,
// couponposoffer, posinseqslash, and any linter a newer dictionary adds.
#include <array>
#include <string>

#include "idra/gs1.hpp"
#include "idra/text.hpp"

namespace idra::ids::gs1 {
namespace {

// CSET 82, in the order that gives each character its value for the
// alphanumeric check character pair (GS1 General Specifications).
constexpr std::string_view kCset82 =
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
constexpr std::string_view kCset39 = "#-/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
constexpr std::string_view kCset32 = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

bool in_cset64(char c) { return text::is_alnum(c) || c == '-' || c == '_'; }

std::string ai_label(std::string_view ai) { return "AI (" + std::string(ai) + ")"; }

// LintFailure carries a message and the offset in the component.
struct LintFailure {
  std::size_t offset;
  std::string what;
};
using Lint = std::optional<LintFailure>;

int two_digits(std::string_view s, std::size_t at) {
  return (s[at] - '0') * 10 + (s[at + 1] - '0');
}

bool all_digits_or_empty(std::string_view s) {
  for (char c : s) {
    if (!text::is_digit(c)) return false;
  }
  return true;
}

int days_in_month(int year, int month) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2) {
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return leap ? 29 : 28;
  }
  return kDays[static_cast<std::size_t>(month - 1)];
}

// lint_date checks YYMMDD (|century| false) or YYYYMMDD; |day_zero| allows DD
// = 00 ("day unspecified"). A two-digit year is read within 1972-2071 (the
// GS1 reference linters' horizon), where a year is a leap year exactly when
// it is divisible by 4.
Lint lint_date(std::string_view d, bool four_digit_year, bool day_zero) {
  const std::size_t year_len = four_digit_year ? 4 : 2;
  if (d.size() != year_len + 4 || !all_digits_or_empty(d)) {
    return LintFailure{
        0, "is not a date (" + std::string(four_digit_year ? "YYYYMMDD" : "YYMMDD") + ")"};
  }
  int year = four_digit_year ? two_digits(d, 0) * 100 + two_digits(d, 2) : 2000 + two_digits(d, 0);
  const int month = two_digits(d, year_len);
  const int day = two_digits(d, year_len + 2);
  if (month < 1 || month > 12) return LintFailure{year_len, "has month " + std::to_string(month)};
  if (day == 0 && day_zero) return std::nullopt;
  if (day < 1 || day > days_in_month(year, month)) {
    return LintFailure{year_len + 2, "has day " + std::to_string(day) + ", not a day of month " +
                                         std::to_string(month)};
  }
  return std::nullopt;
}

Lint lint_range(std::string_view d, int max, const char* what) {
  if (d.size() != 2 || !all_digits_or_empty(d) || two_digits(d, 0) > max) {
    return LintFailure{0, std::string("is not a valid ") + what};
  }
  return std::nullopt;
}

Lint lint_csum(std::string_view d) {
  if (!text::all_digits(d) || d.size() < 2) return LintFailure{0, "is too short for a check digit"};
  const std::optional<char> want = check_digit(d.substr(0, d.size() - 1));
  if (!want || *want != d.back()) {
    return LintFailure{d.size() - 1, std::string("has check digit ") + d.back() + ", expected " +
                                         (want ? std::string(1, *want) : std::string("?"))};
  }
  return std::nullopt;
}

Lint lint_csumalpha(std::string_view d) {
  if (d.size() < 2) return LintFailure{0, "is too short for a check character pair"};
  const std::optional<std::string> want = check_pair(d.substr(0, d.size() - 2));
  if (!want) return LintFailure{0, "cannot carry a check character pair"};
  if (d.substr(d.size() - 2) != *want) {
    return LintFailure{d.size() - 2, "has check characters " + std::string(d.substr(d.size() - 2)) +
                                         ", expected " + *want};
  }
  return std::nullopt;
}

Lint lint_gcp(std::string_view d, std::size_t start) {
  // The shortest GS1 Company Prefix has four digits.
  constexpr std::size_t kMinGcp = 4;
  if (d.size() < start + kMinGcp)
    return LintFailure{0, "is too short to hold a GS1 Company Prefix"};
  for (std::size_t i = start; i < start + kMinGcp; ++i) {
    if (!text::is_digit(d[i])) {
      return LintFailure{i, "does not start with a GS1 Company Prefix (digits)"};
    }
  }
  return std::nullopt;
}

Lint lint_pieceoftotal(std::string_view d) {
  if (d.empty() || d.size() % 2 != 0 || !all_digits_or_empty(d)) {
    return LintFailure{0, "is not a piece number and total of equal width"};
  }
  const std::string_view piece = d.substr(0, d.size() / 2);
  const std::string_view total = d.substr(d.size() / 2);
  if (piece.find_first_not_of('0') == std::string_view::npos) {
    return LintFailure{0, "has piece number zero"};
  }
  if (total.find_first_not_of('0') == std::string_view::npos) {
    return LintFailure{piece.size(), "has total zero"};
  }
  if (piece > total) return LintFailure{0, "has a piece number above the total"};
  return std::nullopt;
}

Lint lint_decimal_at_most(std::string_view d, std::string_view max, const char* what) {
  if (!text::all_digits(d) || d.size() != max.size() || d > max) {
    return LintFailure{0, std::string("is not a valid ") + what};
  }
  return std::nullopt;
}

Lint run_linter(std::string_view name, std::string_view d) {
  if (name == "csum") return lint_csum(d);
  if (name == "csumalpha") return lint_csumalpha(d);
  if (name == "gcppos1") return lint_gcp(d, 0);
  if (name == "gcppos2") return lint_gcp(d, 1);
  if (name == "zero") {
    if (d != "0") return LintFailure{0, "must be 0"};
    return std::nullopt;
  }
  if (name == "nonzero") {
    if (d.find_first_not_of('0') == std::string_view::npos)
      return LintFailure{0, "must not be zero"};
    return std::nullopt;
  }
  if (name == "nozeroprefix") {
    if (!d.empty() && d.front() == '0') return LintFailure{0, "must not start with 0"};
    return std::nullopt;
  }
  if (name == "hasnondigit") {
    if (all_digits_or_empty(d)) return LintFailure{0, "must contain a non-digit character"};
    return std::nullopt;
  }
  if (name == "importeridx") {
    if (d.size() != 1 || !(text::is_alnum(d[0]) || d[0] == '-' || d[0] == '_')) {
      return LintFailure{0, "is not an importer index (one of 0-9 A-Z a-z - _)"};
    }
    return std::nullopt;
  }
  if (name == "pieceoftotal") return lint_pieceoftotal(d);
  if (name == "yymmd0") return lint_date(d, false, true);
  if (name == "yymmdd") return lint_date(d, false, false);
  if (name == "yyyymmd0") return lint_date(d, true, true);
  if (name == "yyyymmdd") return lint_date(d, true, false);
  if (name == "hh") return lint_range(d, 23, "hour");
  if (name == "mi") return lint_range(d, 59, "minute");
  if (name == "ss") return lint_range(d, 59, "second");
  if (name == "hhmi") {
    if (d.size() != 4) return LintFailure{0, "is not a time (HHMI)"};
    if (Lint f = lint_range(d.substr(0, 2), 23, "hour")) return f;
    if (Lint f = lint_range(d.substr(2, 2), 59, "minute")) return LintFailure{2, f->what};
    return std::nullopt;
  }
  if (name == "yesno") {
    if (d != "0" && d != "1") return LintFailure{0, "must be 0 or 1"};
    return std::nullopt;
  }
  if (name == "winding") {
    if (d != "0" && d != "1" && d != "9") return LintFailure{0, "must be 0, 1 or 9"};
    return std::nullopt;
  }
  if (name == "iso5218") {
    if (d != "0" && d != "1" && d != "2" && d != "9") return LintFailure{0, "must be 0, 1, 2 or 9"};
    return std::nullopt;
  }
  if (name == "hyphen") {
    if (d.find_first_not_of('-') != std::string_view::npos) return LintFailure{0, "must be '-'"};
    return std::nullopt;
  }
  if (name == "latitude") return lint_decimal_at_most(d, "1800000000", "latitude");
  if (name == "longitude") return lint_decimal_at_most(d, "3600000000", "longitude");
  if (name == "pcenc") {
    for (std::size_t i = 0; i < d.size(); ++i) {
      if (d[i] != '%') continue;
      if (i + 2 >= d.size() || text::hex_value(d[i + 1]) < 0 || text::hex_value(d[i + 2]) < 0) {
        return LintFailure{i, "has '%' not followed by two hexadecimal digits"};
      }
      i += 2;
    }
    return std::nullopt;
  }
  return std::nullopt;  // unknown or deliberately ignored linter
}

Lint check_charset(CharSet cs, std::string_view d) {
  for (std::size_t i = 0; i < d.size(); ++i) {
    const char c = d[i];
    bool ok = false;
    const char* set = "";
    switch (cs) {
      case CharSet::numeric:
        ok = text::is_digit(c);
        set = "a digit";
        break;
      case CharSet::cset82:
        ok = kCset82.find(c) != std::string_view::npos;
        set = "in GS1 character set 82";
        break;
      case CharSet::cset39:
        ok = kCset39.find(c) != std::string_view::npos;
        set = "in GS1 character set 39 (# - / 0-9 A-Z)";
        break;
      case CharSet::cset64:
        ok = in_cset64(c) || c == '=';
        set = "in GS1 character set 64 (base64url)";
        break;
    }
    if (c == '\0') ok = false;
    if (!ok)
      return LintFailure{i, "has character " + text::describe_char(c) + ", which is not " + set};
  }
  if (cs == CharSet::cset64) {
    // Optional '=' padding, only at the end, at most two, to a multiple of 4.
    std::size_t pad = 0;
    while (pad < d.size() && d[d.size() - 1 - pad] == '=') ++pad;
    const std::size_t first_eq = d.find('=');
    if (first_eq != std::string_view::npos && first_eq < d.size() - pad) {
      return LintFailure{first_eq, "has '=' padding before the end"};
    }
    if (pad > 2 || (pad > 0 && d.size() % 4 != 0)) {
      return LintFailure{d.size() - pad, "has invalid base64url padding"};
    }
  }
  return std::nullopt;
}

std::string length_text(std::size_t lo, std::size_t hi) {
  if (lo == hi) return std::to_string(lo);
  return std::to_string(lo) + " to " + std::to_string(hi);
}

}  // namespace

std::optional<char> check_digit(std::string_view digits) {
  if (!text::all_digits(digits)) return std::nullopt;
  // Weights 3, 1, 3, ... from the rightmost digit.
  unsigned sum = 0;
  unsigned weight = 3;
  for (std::size_t i = digits.size(); i-- > 0;) {
    sum += static_cast<unsigned>(digits[i] - '0') * weight;
    weight = weight == 3 ? 1 : 3;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

bool check_digit_valid(std::string_view digits) {
  if (digits.size() < 2 || !text::all_digits(digits)) return false;
  return check_digit(digits.substr(0, digits.size() - 1)) == digits.back();
}

std::optional<std::string> check_pair(std::string_view data) {
  static constexpr std::array<unsigned, 97> kPrimes = {
      2,   3,   5,   7,   11,  13,  17,  19,  23,  29,  31,  37,  41,  43,  47,  53,  59,
      61,  67,  71,  73,  79,  83,  89,  97,  101, 103, 107, 109, 113, 127, 131, 137, 139,
      149, 151, 157, 163, 167, 173, 179, 181, 191, 193, 197, 199, 211, 223, 227, 229, 233,
      239, 241, 251, 257, 263, 269, 271, 277, 281, 283, 293, 307, 311, 313, 317, 331, 337,
      347, 349, 353, 359, 367, 373, 379, 383, 389, 397, 401, 409, 419, 421, 431, 433, 439,
      443, 449, 457, 461, 463, 467, 479, 487, 491, 499, 503, 509};
  if (data.size() > kPrimes.size()) return std::nullopt;
  unsigned sum = 0;
  // The rightmost data character has weight 2, the next 3, then 5, ...
  for (std::size_t i = 0; i < data.size(); ++i) {
    const std::size_t value = kCset82.find(data[i]);
    if (value == std::string_view::npos || data[i] == '\0') return std::nullopt;
    sum += static_cast<unsigned>(value) * kPrimes[data.size() - 1 - i];
  }
  sum %= 1021;
  return std::string{kCset32[sum >> 5], kCset32[sum & 31u]};
}

Result<std::string> normalize_gtin(std::string_view gtin) {
  if (!text::all_digits(gtin))
    return make_error("GTIN " + text::quoted(gtin) + " is not all digits");
  if (gtin.size() != 8 && gtin.size() != 12 && gtin.size() != 13 && gtin.size() != 14) {
    return make_error("GTIN " + text::quoted(gtin) + " has " + std::to_string(gtin.size()) +
                      " digits; a GTIN has 8, 12, 13 or 14");
  }
  std::string out(14 - gtin.size(), '0');
  out += gtin;
  if (!check_digit_valid(out)) {
    return make_error("GTIN " + text::quoted(gtin) + " has check digit " + out.back() +
                      ", expected " + *check_digit(std::string_view(out).substr(0, 13)));
  }
  return out;
}

Result<void> validate_ai_value(std::string_view ai, std::string_view value) {
  const AiEntry* entry = dictionary().find(ai);
  if (entry == nullptr) return make_error(ai_label(ai) + " is not a GS1 Application Identifier");
  return validate_ai_value(*entry, value);
}

Result<void> validate_ai_value(const AiEntry& entry, std::string_view value) {
  const std::string label = ai_label(entry.ai);
  if (value.empty()) return make_error(label + " has an empty value");
  const std::size_t lo = entry.min_length();
  const std::size_t hi = entry.max_length();
  const auto length_error = [&] {
    return make_error(label + " value " + text::quoted(value) + " has " +
                      std::to_string(value.size()) + " characters; " +
                      (entry.title.empty() ? std::string() : entry.title + " ") + "needs " +
                      length_text(lo, hi));
  };
  std::size_t pos = 0;
  for (const Component& comp : entry.components) {
    const std::size_t remaining = value.size() - pos;
    if (remaining == 0) {
      if (comp.optional) break;
      return length_error();
    }
    std::size_t take = 0;
    if (comp.min_length == comp.max_length) {
      if (remaining < comp.min_length) return length_error();
      take = comp.min_length;
    } else {
      take = remaining < comp.max_length ? remaining : comp.max_length;
      if (take < comp.min_length) return length_error();
    }
    const std::string_view data = value.substr(pos, take);
    Lint failure = check_charset(comp.charset, data);
    for (std::size_t k = 0; !failure && k < comp.linters.size(); ++k) {
      failure = run_linter(comp.linters[k], data);
    }
    if (failure) {
      return make_error(label + " value " + text::quoted(value) + " " + failure->what +
                        " (at offset " + std::to_string(pos + failure->offset) + " of the value)");
    }
    pos += take;
  }
  if (pos < value.size()) return length_error();
  return {};
}

}  // namespace idra::ids::gs1
