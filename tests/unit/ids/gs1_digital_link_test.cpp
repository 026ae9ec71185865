// GS1 Digital Link URIs and element strings, driven by the dictionary.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string>

#include "idra/gs1.hpp"
#include "unit/ids/test_helpers.hpp"

namespace idra::ids::gs1 {
namespace {

using testing::alpha_pair;
using testing::has_linter;
using testing::sample_value;
using testing::with_mod10;

// Percent-encoding per the Digital Link grammar, written independently.
std::string encode(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_') {
      out.push_back(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
      out += buf;
    }
  }
  return out;
}

std::string error_of(const Result<DigitalLink>& r) { return r.ok() ? "(ok)" : r.error().message; }

// corrupt_check breaks the check digit (csum) or check pair (csumalpha) of a
// sample value of |entry|; empty if the key has neither.
std::string corrupt_check(const AiEntry& entry, const std::string& value) {
  std::size_t pos = 0;
  for (const Component& c : entry.components) {
    if (c.optional) break;
    const std::size_t len = c.min_length == c.max_length ? c.min_length : value.size() - pos;
    if (has_linter(c, "csum")) {
      std::string bad = value;
      char& d = bad[pos + len - 1];
      d = static_cast<char>('0' + (d - '0' + 1) % 10);
      return bad;
    }
    if (has_linter(c, "csumalpha")) {
      std::string bad = value;
      char& d = bad[pos + len - 1];
      d = d == '2' ? '3' : '2';
      return bad;
    }
    pos += len;
  }
  return {};
}

std::vector<const AiEntry*> primary_keys() {
  std::vector<const AiEntry*> out;
  for (const AiEntry& e : dictionary().entries()) {
    if (e.dl_primary_key) out.push_back(&e);
  }
  return out;
}

TEST(Gs1DigitalLink, EveryPrimaryKeyValidAndInvalidCheckDigit) {
  int with_check = 0;
  for (const AiEntry* key : primary_keys()) {
    SCOPED_TRACE("AI (" + key->ai + ")");
    const std::string value = sample_value(*key);
    ASSERT_TRUE(validate_ai_value(*key, value).ok())
        << value << ": " << validate_ai_value(*key, value).error().message;
    const std::string uri = "https://example.com/" + key->ai + "/" + encode(value);
    Result<DigitalLink> dl = parse_digital_link(uri);
    ASSERT_TRUE(dl.ok()) << uri << ": " << error_of(dl);
    EXPECT_EQ(dl->primary_key.ai, key->ai);
    EXPECT_EQ(dl->primary_key.value, value);
    EXPECT_EQ(dl->canonical_path(), "/" + key->ai + "/" + encode(value));
    EXPECT_EQ(dl->stem, "https://example.com");

    Result<std::vector<AiValue>> es = parse_element_string("(" + key->ai + ")" + value);
    ASSERT_TRUE(es.ok()) << es.error().message;

    const std::string bad = corrupt_check(*key, value);
    if (bad.empty()) {
      // No check digit (GINC, GIAI, CPID): an invalid character instead.
      Result<DigitalLink> r =
          parse_digital_link("https://example.com/" + key->ai + "/" + encode(value + "~"));
      ASSERT_FALSE(r.ok());
      EXPECT_NE(r.error().message.find("AI (" + key->ai + ")"), std::string::npos) << error_of(r);
      continue;
    }
    ++with_check;
    Result<DigitalLink> r =
        parse_digital_link("https://example.com/" + key->ai + "/" + encode(bad));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find("AI (" + key->ai + ")"), std::string::npos) << error_of(r);
    EXPECT_NE(r.error().message.find("check"), std::string::npos) << error_of(r);
    EXPECT_FALSE(parse_element_string("(" + key->ai + ")" + bad).ok());
  }
  EXPECT_EQ(with_check, 13);  // all but 401, 8004, 8010
}

TEST(Gs1DigitalLink, EveryQualifierOrderRuleFromTheDictionary) {
  int checked = 0;
  for (const AiEntry* key : primary_keys()) {
    const std::string base = "https://example.com/" + key->ai + "/" + encode(sample_value(*key));
    const auto q = [](const std::string& ai) {
      return "/" + ai + "/" + encode(sample_value(*dictionary().find(ai)));
    };
    for (const auto& alt : key->dl_qualifier_sequences) {
      // All qualifiers in order, and each one alone: valid.
      std::string all = base;
      for (const auto& ai : alt) {
        all += q(ai);
        Result<DigitalLink> one = parse_digital_link(base + q(ai));
        EXPECT_TRUE(one.ok()) << base + q(ai) << ": " << error_of(one);
      }
      Result<DigitalLink> full = parse_digital_link(all);
      ASSERT_TRUE(full.ok()) << all << ": " << error_of(full);
      ASSERT_EQ(full->qualifiers.size(), alt.size());
      for (std::size_t i = 0; i < alt.size(); ++i) EXPECT_EQ(full->qualifiers[i].ai, alt[i]);
      // Every pair swapped: an Error naming both.
      for (std::size_t i = 0; i < alt.size(); ++i) {
        for (std::size_t j = i + 1; j < alt.size(); ++j) {
          const std::string uri = base + q(alt[j]) + q(alt[i]);
          Result<DigitalLink> r = parse_digital_link(uri);
          ASSERT_FALSE(r.ok()) << uri;
          EXPECT_NE(r.error().message.find("(" + alt[i] + ") must come before AI (" + alt[j] + ")"),
                    std::string::npos)
              << error_of(r);
          ++checked;
        }
      }
      // A qualifier twice: an Error.
      if (!alt.empty()) {
        Result<DigitalLink> twice = parse_digital_link(base + q(alt[0]) + q(alt[0]));
        ASSERT_FALSE(twice.ok());
        EXPECT_NE(twice.error().message.find("given twice"), std::string::npos) << error_of(twice);
      }
    }
    // Qualifiers from two alternatives: an Error.
    const auto& alts = key->dl_qualifier_sequences;
    for (std::size_t a = 0; a < alts.size(); ++a) {
      for (std::size_t b = a + 1; b < alts.size(); ++b) {
        for (const auto& qa : alts[a]) {
          for (const auto& qb : alts[b]) {
            if (std::find(alts[b].begin(), alts[b].end(), qa) != alts[b].end()) continue;
            if (std::find(alts[a].begin(), alts[a].end(), qb) != alts[a].end()) continue;
            const std::string uri = base + q(qa) + q(qb);
            Result<DigitalLink> r = parse_digital_link(uri);
            ASSERT_FALSE(r.ok()) << uri;
            EXPECT_NE(r.error().message.find("cannot be used together"), std::string::npos)
                << error_of(r);
            ++checked;
          }
        }
      }
    }
    // An AI that is not a qualifier of this key, in the path: an Error.
    Result<DigitalLink> r = parse_digital_link(base + "/17/250101");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("AI (17)"), std::string::npos) << error_of(r);
    // The key twice. (In a URI the first one would be read as part of the
    // stem, as the GS1 reference parser does; a bare path has no stem.)
    const std::string key_path = "/" + key->ai + "/" + encode(sample_value(*key));
    Result<DigitalLink> twice = parse_digital_link_path(key_path + key_path);
    ASSERT_FALSE(twice.ok());
    EXPECT_NE(twice.error().message.find("given twice"), std::string::npos) << error_of(twice);
  }
  EXPECT_GE(checked, 4);  // 01: 3 swaps + 3 mixes with 235, 8006: 3 swaps, ...
}

struct DlCase {
  std::string uri;
  std::string canonical;  // empty: an Error
  std::string error_part = {};
};

class Gs1DigitalLinkTable : public ::testing::TestWithParam<DlCase> {};

TEST_P(Gs1DigitalLinkTable, Parses) {
  const DlCase& c = GetParam();
  Result<DigitalLink> dl = parse_digital_link(c.uri);
  if (c.canonical.empty()) {
    ASSERT_FALSE(dl.ok()) << c.uri << " -> " << dl->canonical_path();
    EXPECT_NE(dl.error().message.find(c.error_part), std::string::npos) << dl.error().message;
  } else {
    ASSERT_TRUE(dl.ok()) << c.uri << ": " << dl.error().message;
    EXPECT_EQ(dl->canonical_path(), c.canonical);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, Gs1DigitalLinkTable,
    ::testing::Values(
        DlCase{"https://id.gs1.org/01/09506000134352/21/A1", "/01/09506000134352/21/A1"},
        DlCase{"HTTPS://id.gs1.org/01/09506000134352", "/01/09506000134352"},
        DlCase{"http://example.com/01/09506000134352", "/01/09506000134352"},
        DlCase{"https://example.com:8443/01/09506000134352", "/01/09506000134352"},
        DlCase{"https://[2001:db8::1]/01/09506000134352", "/01/09506000134352"},
        // Path stem before the key; a fake AI in the stem.
        DlCase{"https://example.com/some/stem/01/09506000134352", "/01/09506000134352"},
        DlCase{"https://example.com/00/faux/00/106141412345678908", "/00/106141412345678908"},
        // The Digital Link grammar: GTIN-8, -12, -13 SHALL be written as 14
        // digits; the message shows the padded form.
        DlCase{"https://e.com/01/9506000134352", "", "as 09506000134352"},
        DlCase{"https://e.com/01/2112345678900", "", "14 digits"},
        DlCase{"https://e.com/01/" + with_mod10("61414100001"), "", "GTIN-12"},
        DlCase{"https://e.com/01/" + with_mod10("9638507"), "", "GTIN-8"},
        DlCase{"https://e.com/01/12345678901", "", "needs 14"},  // 11 digits: not a GTIN
        // Aliases.
        DlCase{"https://e.com/gtin/09506000134352/cpv/2A/lot/ABC/ser/12",
               "/01/09506000134352/22/2A/10/ABC/21/12"},
        DlCase{"https://e.com/sscc/106141412345678908", "/00/106141412345678908"},
        DlCase{"https://e.com/gln/0614141123452/glnx/400", "/414/0614141123452/254/400"},
        DlCase{"https://e.com/party/0614141123452", "/417/0614141123452"},
        DlCase{"https://e.com/01/09506000134352/ser/A1", "/01/09506000134352/21/A1"},
        DlCase{"https://e.com/GTIN/09506000134352", "",
               "no GS1 primary key"},  // aliases are lower-case
        // Percent-encoding: decoded, re-encoded canonically.
        DlCase{"https://e.com/01/09506000134352/21/A%2FB", "/01/09506000134352/21/A%2FB"},
        DlCase{"https://e.com/01/09506000134352/21/a%2fb", "/01/09506000134352/21/a%2Fb"},
        DlCase{"https://e.com/01/09506000134352/21/%41%42", "/01/09506000134352/21/AB"},
        DlCase{"https://e.com/01/09506000134352/21/!(*)',;:=+",
               "/01/09506000134352/21/%21%28%2A%29%27%2C%3B%3A%3D%2B"},
        DlCase{"https://e.com/01/09506000134352/21/%22%25%26%3C%3E%3F",
               "/01/09506000134352/21/%22%25%26%3C%3E%3F"},
        DlCase{"https://e.com/01/09506000134352/21/A%2", "", "invalid percent-encoding at byte 36"},
        DlCase{"https://e.com/01/09506000134352/21/A%G1", "", "invalid percent-encoding"},
        DlCase{"https://e.com/%zz/01/09506000134352", "", "invalid percent-encoding at byte 14"},
        DlCase{"https://e.com/01/09506000134352?x=%zz", "", "invalid percent-encoding at byte 34"},
        DlCase{"https://e.com/01/09506000134352/21/A%00", "", "0x00"},
        DlCase{"https://e.com/01/09506000134352/21/A%20B", "", "' ' (space)"},
        DlCase{"https://e.com/01/09506000134352/21/%C3%A9", "", "0xC3"},
        DlCase{"https://e.com/01/09506000134352/21/A B", "", "not allowed in a URI"},
        DlCase{"https://e.com/01/09506000134352/21/A\"B", "", "not allowed in a URI"},
        // Query: data attributes validated, others kept, fragment ignored.
        DlCase{"https://e.com/01/09506000134352?17=250101&3103=000500", "/01/09506000134352"},
        DlCase{"https://e.com/01/09506000134352?linkType=gs1:pip&17=250101#x",
               "/01/09506000134352"},
        DlCase{"https://e.com/01/09506000134352?17=251301", "", "AI (17)"},
        DlCase{"https://e.com/01/09506000134352?99999=1", "",
               "is not a GS1 Application Identifier"},
        DlCase{"https://e.com/01/09506000134352?21=A1", "",
               "not allowed as a Digital Link data attribute"},
        DlCase{"https://e.com/01/09506000134352?10=ABC", "", "give it in the path"},
        DlCase{"https://e.com/01/09506000134352/10/ABC?10=ABC", "", "given twice"},
        DlCase{"https://e.com/01/09506000134352?17=250101&17=250102", "", "AI (17) is given twice"},
        DlCase{"https://e.com/01/09506000134352?37=10", "", "cannot be used together"},  // 01 ex=37
        DlCase{"https://e.com/01/09506000134352?3103=000500&3103=000600", "", "given twice"},
        DlCase{"https://e.com/01/09506000134352?17=", "", "empty value"},
        DlCase{"https://e.com/01/09506000134352?240=A+B", "", "' ' (space)"},
        DlCase{"https://e.com/01/09506000134352?240=A%2BB", "/01/09506000134352"},
        // Structure errors.
        DlCase{"https://e.com/01/09506000134352/", "", "empty path segment"},
        DlCase{"https://e.com/01//21/A", "", "AI (01) at byte 14 has an empty value"},
        DlCase{"https://e.com/01/09506000134352/21", "", "AI (21) at byte 32 has no value"},
        DlCase{"https://e.com/01/09506000134352/foo/bar", "",
               "'foo' at byte 32 is not a GS1 Application Identifier"},
        DlCase{"https://e.com/01/09506000134352/17/250101", "", "AI (17) is not a key qualifier"},
        DlCase{"https://e.com/01/09506000134352/21/A1/10/B", "", "(10) must come before AI (21)"},
        DlCase{"https://e.com/01/09506000134352/22/A/235/B", "", "cannot be used together"},
        DlCase{"https://e.com/00/106141412345678908/21/x", "", "takes no key qualifiers"},
        DlCase{"https://e.com/foo/bar", "", "no GS1 primary key"},
        DlCase{"https://e.com/", "", "no Digital Link path"},
        DlCase{"https://e.com", "", "no Digital Link path"},
        DlCase{"ftp://e.com/01/09506000134352", "", "https://"},
        DlCase{"https:///01/09506000134352", "", "no host"},
        DlCase{"https://u@e.com/01/09506000134352", "", "user information"},
        DlCase{"https://e.com:0/01/09506000134352", "", "1-65535"},
        DlCase{"https://e.com:99999/01/09506000134352", "", "1-65535"},
        DlCase{"https://e.com/01/09506000134351", "", "check digit 1, expected 2"}));

// ai_pattern_matches: an "ex=" pattern ("310n": n is any digit) against an AI.
bool ai_pattern_matches(std::string_view pattern, std::string_view ai) {
  if (pattern.size() != ai.size()) return false;
  for (std::size_t i = 0; i < ai.size(); ++i) {
    if (pattern[i] != ai[i] && !(pattern[i] == 'n' && std::isdigit(static_cast<unsigned char>(ai[i])))) return false;
  }
  return true;
}

bool excluded_with(const AiEntry& a, const AiEntry& b) {
  auto excludes = [](const AiEntry& x, const std::string& ai) {
    return std::any_of(x.excludes.begin(), x.excludes.end(), [&](const std::string& p) { return ai_pattern_matches(p, ai); });
  };
  return excludes(a, b.ai) || excludes(b, a.ai);
}

// valid_sample is sample_value, or, when a date or time linter refuses it,
// the same value with its digits replaced by a date and time pattern.
std::string valid_sample(const AiEntry& e) {
  const std::string sample = sample_value(e);
  if (validate_ai_value(e, sample).ok()) return sample;
  for (std::string_view pattern : {"20250101", "250101", "2501011230", "202501011230", "25010125010112"}) {
    std::string v = sample;
    std::size_t k = 0;
    for (char& c : v) {
      if (std::isdigit(static_cast<unsigned char>(c))) c = k < pattern.size() ? pattern[k++] : '0';
    }
    if (validate_ai_value(e, v).ok()) return v;
  }
  return sample;
}

// Every AI of the dictionary in the query string of a GTIN's Digital Link:
// the data attributes ('?' flag) are accepted with a valid value and refused
// with a value outside their character set or length; every other AI is
// refused, naming it.
TEST(Gs1DigitalLink, EveryAiInTheQueryString) {
  const AiEntry* gtin = dictionary().find("01");
  ASSERT_NE(gtin, nullptr);
  const std::string base = "https://id.example.com/01/09506000134352";
  std::size_t accepted = 0, refused = 0, bad_values = 0;
  for (const AiEntry& e : dictionary().entries()) {
    if (e.ai == "01") continue;
    const bool qualifier = std::any_of(gtin->dl_qualifier_sequences.begin(), gtin->dl_qualifier_sequences.end(),
                                       [&](const auto& alt) { return std::find(alt.begin(), alt.end(), e.ai) != alt.end(); });
    const std::string value = valid_sample(e);
    const std::string uri = base + "?" + e.ai + "=" + encode(value);
    Result<DigitalLink> r = parse_digital_link(uri);
    if (e.dl_data_attribute && !qualifier && !excluded_with(e, *gtin)) {
      ASSERT_TRUE(r.ok()) << uri << ": " << error_of(r);
      ASSERT_EQ(r->attributes.size(), 1u) << uri;
      EXPECT_EQ(r->attributes[0], (AiValue{e.ai, value})) << uri;
      ++accepted;
      // A value of the wrong character set or one character too long.
      const Component& first = e.components.front();
      std::string wrong = value;
      if (first.charset == CharSet::numeric) {
        wrong[0] = 'A';
      } else {
        wrong[0] = ' ';  // outside character sets 82, 39 and 64
      }
      Result<DigitalLink> w = parse_digital_link(base + "?" + e.ai + "=" + encode(wrong));
      EXPECT_FALSE(w.ok()) << e.ai << " accepted " << wrong;
      if (!w.ok()) {
        EXPECT_NE(w.error().message.find("(" + e.ai + ")"), std::string::npos) << error_of(w);
      }
      const std::string too_long = value + (first.charset == CharSet::numeric ? "1" : "A");
      if (e.max_length() == value.size()) {
        EXPECT_FALSE(parse_digital_link(base + "?" + e.ai + "=" + encode(too_long)).ok()) << e.ai << " " << too_long;
      }
      // The same attribute twice.
      EXPECT_FALSE(parse_digital_link(uri + "&" + e.ai + "=" + encode(value)).ok()) << e.ai << " twice";
      ++bad_values;
    } else {
      ASSERT_FALSE(r.ok()) << uri << " was accepted";
      EXPECT_NE(r.error().message.find("(" + e.ai + ")"), std::string::npos) << uri << ": " << error_of(r);
      ++refused;
    }
  }
  EXPECT_GT(accepted, 100u);
  EXPECT_GT(refused, 10u);  // the key qualifiers of 01, excluded AIs, AIs without the ? flag
  EXPECT_EQ(bad_values, accepted);
}

TEST(Gs1DigitalLink, PartsAreReported) {
  Result<DigitalLink> dl = parse_digital_link(
      "https://example.com/stem/gtin/09506000134352/lot/A%2FB?3103=000500&linkType=all&flag");
  ASSERT_TRUE(dl.ok()) << dl.error().message;
  EXPECT_EQ(dl->stem, "https://example.com/stem");
  EXPECT_EQ(dl->primary_key, (AiValue{"01", "09506000134352"}));
  EXPECT_EQ(dl->qualifiers, (std::vector<AiValue>{{"10", "A/B"}}));
  EXPECT_EQ(dl->attributes, (std::vector<AiValue>{{"3103", "000500"}}));
  EXPECT_EQ(dl->other_query_params, (std::vector<std::string>{"linkType=all", "flag"}));
  EXPECT_EQ(dl->canonical_path(), "/01/09506000134352/10/A%2FB");
}

TEST(Gs1DigitalLink, BarePath) {
  Result<DigitalLink> dl = parse_digital_link_path("/01/09506000134352/21/A1?17=250101");
  ASSERT_TRUE(dl.ok()) << dl.error().message;
  EXPECT_EQ(dl->canonical_path(), "/01/09506000134352/21/A1");
  EXPECT_EQ(dl->stem, "");
  EXPECT_FALSE(parse_digital_link_path("/01/09506000134352/21/A1?17=250101", false).ok());
  EXPECT_FALSE(parse_digital_link_path("/stem/01/09506000134352").ok());
  EXPECT_FALSE(parse_digital_link_path("01/09506000134352").ok());
  EXPECT_FALSE(parse_digital_link_path("").ok());
  EXPECT_FALSE(parse_digital_link_path("/").ok());
}

TEST(Gs1DigitalLink, Shape) {
  EXPECT_TRUE(has_digital_link_shape("https://a/01/2112345678900"));
  EXPECT_TRUE(has_digital_link_shape("http://a/x/gtin/123"));
  EXPECT_TRUE(has_digital_link_shape("https://a/00/readme"));
  EXPECT_FALSE(has_digital_link_shape("https://a/21/123"));  // a qualifier, not a key
  EXPECT_FALSE(has_digital_link_shape("https://a/x/01"));    // no value
  EXPECT_FALSE(has_digital_link_shape("https://a/x/01/"));   // empty value
  EXPECT_FALSE(has_digital_link_shape("https://a/?01=123"));
  EXPECT_FALSE(has_digital_link_shape("ftp://a/01/123"));
  EXPECT_FALSE(has_digital_link_shape("/01/123"));
}

TEST(Gs1ElementString, Parses) {
  Result<std::vector<AiValue>> es = parse_element_string("(01)09506000134352(21)A1(17)250101");
  ASSERT_TRUE(es.ok()) << es.error().message;
  EXPECT_EQ(*es, (std::vector<AiValue>{{"01", "09506000134352"}, {"21", "A1"}, {"17", "250101"}}));
  Result<DigitalLink> dl = digital_link_from_ai_values(*es);
  ASSERT_TRUE(dl.ok()) << dl.error().message;
  EXPECT_EQ(dl->canonical_path(), "/01/09506000134352/21/A1");
  EXPECT_EQ(dl->attributes, (std::vector<AiValue>{{"17", "250101"}}));

  // Order of AIs in an element string is free; the path order is the dictionary's.
  EXPECT_FALSE(parse_element_string("(01)9506000134352").ok());  // N14 in element strings too
  es = parse_element_string("(21)A1(10)L\\(1)(01)09506000134352");
  ASSERT_TRUE(es.ok()) << es.error().message;
  dl = digital_link_from_ai_values(*es);
  ASSERT_TRUE(dl.ok()) << dl.error().message;
  EXPECT_EQ(dl->canonical_path(), "/01/09506000134352/10/L%281%29/21/A1");
}

TEST(Gs1ElementString, Errors) {
  const auto err = [](std::string_view s) {
    Result<std::vector<AiValue>> es = parse_element_string(s);
    if (!es.ok()) return es.error().message;
    Result<DigitalLink> dl = digital_link_from_ai_values(*es);
    return dl.ok() ? std::string("(ok)") : dl.error().message;
  };
  EXPECT_NE(err("").find("starts with '('"), std::string::npos);
  EXPECT_NE(err("01)09506000134352").find("starts with '('"), std::string::npos);
  EXPECT_NE(err("(01").find("at byte 0"), std::string::npos);
  EXPECT_NE(err("(1)23").find("2 to 4 digits"), std::string::npos);
  EXPECT_NE(err("(999)1").find("AI (999)"), std::string::npos);
  EXPECT_NE(err("(01)").find("AI (01) has an empty value"), std::string::npos);
  EXPECT_NE(err("(01)09506000134351").find("check digit"), std::string::npos);
  EXPECT_NE(err("(01)09506000134352(01)09506000134352").find("given twice"), std::string::npos);
  EXPECT_NE(err("(17)250101(10)A").find("no GS1 primary key"), std::string::npos);
  EXPECT_NE(err("(01)09506000134352(22)A(235)B").find("cannot be used together"),
            std::string::npos);
  EXPECT_NE(err("(01)09506000134352(37)5").find("cannot be used together"), std::string::npos);
}

}  // namespace
}  // namespace idra::ids::gs1
