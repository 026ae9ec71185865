// test_helpers.hpp: independent reference helpers for the ids tests. The
// check-digit code here is written from the GS1 General Specifications'
// description, separately from src/ids, so a bug in one does not hide a bug
// in the other.
#pragma once

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include "idra/gs1.hpp"

namespace idra::ids::testing {

// mod10 computes the GS1 check digit of |data| (all digits, check digit
// excluded): multiply digits alternately by 3 and 1 starting with 3 at the
// rightmost position, sum, and take the distance to the next multiple of 10.
inline char mod10(std::string_view data) {
  int sum = 0;
  const std::size_t n = data.size();
  for (std::size_t i = 0; i < n; ++i) {
    const int digit = data[i] - '0';
    const bool times_three = (n - i) % 2 == 1;  // rightmost data digit -> weight 3
    sum += times_three ? 3 * digit : digit;
  }
  const int check = (10 - sum % 10) % 10;
  return static_cast<char>('0' + check);
}

inline std::string with_mod10(std::string data) {
  data.push_back(mod10(data));
  return data;
}

// alpha_pair computes the GS1 alphanumeric check character pair: each CSET 82
// character's index times the k-th prime (k counted from the right, starting
// with 2), summed modulo 1021, split into two 5-bit halves indexing CSET 32.
inline std::string alpha_pair(std::string_view data) {
  const std::string cset82 =
      "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
  const std::string cset32 = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
  int primes[128];
  int count = 0;
  for (int candidate = 2; count < 128; ++candidate) {
    bool prime = true;
    for (int d = 2; d * d <= candidate; ++d) {
      if (candidate % d == 0) prime = false;
    }
    if (prime) primes[count++] = candidate;
  }
  long sum = 0;
  for (std::size_t i = 0; i < data.size(); ++i) {
    sum += static_cast<long>(cset82.find(data[i])) * primes[data.size() - 1 - i];
  }
  sum %= 1021;
  return {cset32[static_cast<std::size_t>(sum / 32)], cset32[static_cast<std::size_t>(sum % 32)]};
}

inline bool has_linter(const gs1::Component& c, std::string_view name) {
  for (const auto& l : c.linters) {
    if (l == name) return true;
  }
  return false;
}

// sample_value builds a valid value for |entry| from its mandatory
// components, honouring the linters that constrain content.
inline std::string sample_value(const gs1::AiEntry& entry) {
  std::string out;
  for (const gs1::Component& c : entry.components) {
    if (c.optional) break;
    const std::size_t len =
        c.min_length == c.max_length
            ? c.min_length
            : std::max<std::size_t>(c.min_length, std::min<std::size_t>(c.max_length, 8));
    std::string v;
    for (std::size_t i = 0; i < len; ++i) {
      switch (c.charset) {
        case gs1::CharSet::numeric:
          v.push_back(static_cast<char>('1' + i % 9));
          break;
        case gs1::CharSet::cset82:
          v.push_back(i < 4 ? static_cast<char>('1' + i) : "aB-.x_Z9"[i % 8]);
          break;
        case gs1::CharSet::cset39:
          v.push_back(i < 4 ? static_cast<char>('1' + i) : "AB-#/Z9"[i % 7]);
          break;
        case gs1::CharSet::cset64:
          v.push_back("Ab0-_z"[i % 6]);
          break;
      }
    }
    if (has_linter(c, "zero")) v = "0";
    if (has_linter(c, "importeridx")) v = "A";
    if (has_linter(c, "nozeroprefix") && !v.empty()) v[0] = '1';
    if (has_linter(c, "pieceoftotal"))
      v = std::string(len / 2 - 1, '0') + "1" + std::string(len / 2 - 1, '0') + "2";
    if (has_linter(c, "yymmd0") || has_linter(c, "yymmdd")) v = "250101";
    if (has_linter(c, "hasnondigit") && v.find_first_not_of("0123456789") == std::string::npos)
      v.back() = 'X';
    if (has_linter(c, "csum")) v = with_mod10(v.substr(0, v.size() - 1));
    if (has_linter(c, "csumalpha"))
      v = v.substr(0, v.size() - 2) + alpha_pair(v.substr(0, v.size() - 2));
    out += v;
  }
  return out;
}

// read_vector returns the contents of tests/vectors/<relative>.
inline std::string read_vector(const std::string& relative) {
  std::ifstream in(std::string(IDRA_TEST_VECTORS) + "/" + relative, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace idra::ids::testing
