// The GS1 Barcode Syntax Dictionary: parsing, the embedded copy, values.
#include <gtest/gtest.h>

#include <string>

#include "idra/gs1.hpp"
#include "unit/ids/test_helpers.hpp"

namespace idra::ids::gs1 {
namespace {

using testing::alpha_pair;
using testing::mod10;
using testing::read_vector;
using testing::with_mod10;

TEST(Gs1Dictionary, EmbeddedCopyMatchesTestVector) {
  const std::string vector = read_vector("gs1/gs1-syntax-dictionary.txt");
  ASSERT_FALSE(vector.empty()) << "cannot read " IDRA_TEST_VECTORS "/gs1/gs1-syntax-dictionary.txt";
  EXPECT_EQ(embedded_dictionary_text(), vector);
  // The licence header travels with the data.
  EXPECT_NE(vector.find("Licensed under the Apache License, Version 2.0"), std::string::npos);
  Result<Dictionary> parsed = Dictionary::parse(vector);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->entries().size(), dictionary().entries().size());
}

TEST(Gs1Dictionary, EntriesAreParsed) {
  const Dictionary& d = dictionary();
  const AiEntry* gtin = d.find("01");
  ASSERT_NE(gtin, nullptr);
  EXPECT_EQ(gtin->title, "GTIN");
  EXPECT_TRUE(gtin->predefined_length);
  EXPECT_TRUE(gtin->dl_data_attribute);
  EXPECT_TRUE(gtin->dl_primary_key);
  ASSERT_EQ(gtin->components.size(), 1u);
  EXPECT_EQ(gtin->components[0].charset, CharSet::numeric);
  EXPECT_EQ(gtin->components[0].min_length, 14u);
  EXPECT_EQ(gtin->components[0].max_length, 14u);
  EXPECT_EQ(gtin->components[0].linters, (std::vector<std::string>{"csum", "gcppos2"}));
  EXPECT_EQ(gtin->dl_qualifier_sequences,
            (std::vector<std::vector<std::string>>{{"22", "10", "21"}, {"235"}}));
  EXPECT_EQ(gtin->excludes, (std::vector<std::string>{"255", "37"}));

  const AiEntry* grai = d.find("8003");
  ASSERT_NE(grai, nullptr);
  ASSERT_EQ(grai->components.size(), 3u);
  EXPECT_TRUE(grai->components[2].optional);
  EXPECT_EQ(grai->components[2].charset, CharSet::cset82);
  EXPECT_EQ(grai->components[2].max_length, 16u);
  EXPECT_EQ(grai->min_length(), 14u);
  EXPECT_EQ(grai->max_length(), 30u);
  EXPECT_EQ(grai->dl_qualifier_sequences, (std::vector<std::vector<std::string>>{{}}));

  // Ranges are expanded, flags and attributes copied to each AI.
  for (const char* ai : {"3100", "3103", "3105", "91", "95", "99"}) {
    ASSERT_NE(d.find(ai), nullptr) << ai;
  }
  EXPECT_EQ(d.find("3106"), nullptr);
  EXPECT_EQ(d.find("3103")->excludes, (std::vector<std::string>{"310n"}));
  EXPECT_FALSE(d.find("21")->dl_data_attribute);
  EXPECT_TRUE(d.find("10")->dl_data_attribute);
  EXPECT_EQ(d.find("8010")->components[0].charset, CharSet::cset39);
  EXPECT_EQ(d.find("8030")->components[0].charset, CharSet::cset64);
  EXPECT_EQ(d.find("414")->dl_qualifier_sequences,
            (std::vector<std::vector<std::string>>{{"254"}, {"7040"}}));
  EXPECT_EQ(d.find("999"), nullptr);
  EXPECT_EQ(d.find(""), nullptr);
}

TEST(Gs1Dictionary, EveryPrimaryKeyIsKnownWithKnownQualifiers) {
  int keys = 0;
  for (const AiEntry& e : dictionary().entries()) {
    if (!e.dl_primary_key) continue;
    ++keys;
    ASSERT_FALSE(e.dl_qualifier_sequences.empty()) << e.ai;
    for (const auto& alt : e.dl_qualifier_sequences) {
      for (const auto& q : alt) EXPECT_NE(dictionary().find(q), nullptr) << e.ai << " -> " << q;
    }
  }
  // 00 01 253 255 401 402 414 415 417 8003 8004 8006 8010 8013 8017 8018
  EXPECT_EQ(keys, 16);
}

TEST(Gs1Dictionary, ParseErrorsNameTheLine) {
  EXPECT_FALSE(Dictionary::parse("").ok());
  Result<Dictionary> bad = Dictionary::parse("01 * N14\n02 * Q14\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("line 2"), std::string::npos) << bad.error().message;
  EXPECT_FALSE(Dictionary::parse("01 N..5 N3\n").ok());       // variable before fixed
  EXPECT_FALSE(Dictionary::parse("01 [N3] N3\n").ok());       // mandatory after optional
  EXPECT_FALSE(Dictionary::parse("01 N3\n01 N4\n").ok());     // duplicate AI
  EXPECT_FALSE(Dictionary::parse("3105-3100 N6\n").ok());     // reversed range
  EXPECT_FALSE(Dictionary::parse("01 N3 dlpkey=2a\n").ok());  // bad qualifier
  Result<Dictionary> ok = Dictionary::parse("# comment\n\n01 *? N14,csum dlpkey=21 future=x # T\n");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->find("01")->title, "T");
}

TEST(Gs1Values, CheckDigitAgreesWithIndependentHelper) {
  for (const char* data : {"0950600013435", "8061414112345", "10614141234567890", "061414112345",
                           "0", "9", "12345678901234567", "0211234567890"}) {
    EXPECT_EQ(check_digit(data), mod10(data)) << data;
    EXPECT_TRUE(check_digit_valid(with_mod10(data))) << data;
  }
  EXPECT_EQ(check_digit("0950600013435"), '2');  // GTIN 09506000134352
  EXPECT_EQ(check_digit(""), std::nullopt);
  EXPECT_EQ(check_digit("12a"), std::nullopt);
  EXPECT_FALSE(check_digit_valid("09506000134351"));
  EXPECT_FALSE(check_digit_valid("5"));
}

TEST(Gs1Values, CheckPairAgreesWithIndependentHelper) {
  // Published example (GS1 General Specifications, GMN): 1987654Ad4X4bL5ttr2310c2K.
  EXPECT_EQ(check_pair("1987654Ad4X4bL5ttr2310c"), "2K");
  for (const char* data : {"1987654Ad4X4bL5ttr2310c", "12345678901234567890123", "12345_abcdef",
                           "!\"%&'()*+,-./", "", "z"}) {
    EXPECT_EQ(check_pair(data), alpha_pair(data)) << data;
  }
  EXPECT_EQ(check_pair("a b"), std::nullopt);
  EXPECT_EQ(check_pair(std::string(98, '1')), std::nullopt);
}

TEST(Gs1Values, NormalizeGtin) {
  EXPECT_EQ(*normalize_gtin("9506000134352"), "09506000134352");
  EXPECT_EQ(*normalize_gtin("09506000134352"), "09506000134352");
  EXPECT_EQ(*normalize_gtin(with_mod10("9638507")), "000000" + with_mod10("9638507"));
  EXPECT_EQ(*normalize_gtin(with_mod10("61414100001")), "00" + with_mod10("61414100001"));
  EXPECT_FALSE(normalize_gtin("9506000134351").ok());
  EXPECT_FALSE(normalize_gtin("123456789").ok());  // 9 digits
  EXPECT_FALSE(normalize_gtin("0950600013435A").ok());
}

struct ValueCase {
  std::string ai;
  std::string value;
  bool ok;
  std::string error_part = {};
};

class Gs1ValueTable : public ::testing::TestWithParam<ValueCase> {};

TEST_P(Gs1ValueTable, Validates) {
  const ValueCase& c = GetParam();
  Result<void> r = validate_ai_value(c.ai, c.value);
  EXPECT_EQ(r.ok(), c.ok) << "(" << c.ai << ")" << c.value << ": "
                          << (r.ok() ? std::string("ok") : r.error().message);
  if (!r.ok()) {
    EXPECT_NE(r.error().message.find("AI (" + c.ai + ")"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find(c.error_part), std::string::npos) << r.error().message;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, Gs1ValueTable,
    ::testing::Values(
        ValueCase{"01", "09506000134352", true},
        ValueCase{"01", "09506000134351", false, "check digit 1, expected 2"},
        ValueCase{"01", "0950600013435", false, "needs 14"},
        ValueCase{"01", "095060001343521", false, "needs 14"},
        ValueCase{"01", "0950600013435A", false, "not a digit"},
        ValueCase{"01", "", false, "empty"}, ValueCase{"10", "ABC-123", true},
        ValueCase{"10", "abc!\"%&'()*+,-./:;<=>?_", false, "needs 1 to 20"},
        ValueCase{"10", "AB C", false, "' ' (space)"}, ValueCase{"10", "AB#C", false, "'#'"},
        ValueCase{"10", "AB\xC3\xA9", false, "0xC3"},
        ValueCase{"10", std::string("A\0B", 3), false, "0x00"},
        ValueCase{"21", "!\"%&'()*+,-./:;<=>?", true},  // all CSET 82 symbols
        ValueCase{"21", "_abcxyzABCXYZ0189", true}, ValueCase{"21", "@", false, "character set 82"},
        ValueCase{"21", "~", false, "character set 82"},
        ValueCase{"21", "[", false, "character set 82"},
        ValueCase{"8010", "0614141#-/AZ09", true},  // CSET 39
        ValueCase{"8010", "0614141a", false, "character set 39"},
        ValueCase{"8010", "0614141_", false, "character set 39"},
        ValueCase{"8010", "061A", false, "GS1 Company Prefix"},
        ValueCase{"8030", "AZaz09-_", true},  // CSET 64
        ValueCase{"8030", "AZaz09-_==", false, "padding"}, ValueCase{"8030", "AZaz09==", true},
        ValueCase{"8030", "AZ+/", false, "character set 64"},
        ValueCase{"8003", "00614141123452400", true},
        ValueCase{"8003", "00614141123452", true},  // serial optional
        ValueCase{"8003", "10614141123452", false, "must be 0"},
        ValueCase{"8003", "00614141123453", false, "check digit"},
        ValueCase{"8006", with_mod10("1061414112345") + "0102", true},
        ValueCase{"8006", with_mod10("1061414112345") + "0002", false, "piece number zero"},
        ValueCase{"8006", with_mod10("1061414112345") + "0300", false, "total zero"},
        ValueCase{"8006", with_mod10("1061414112345") + "0302", false, "above the total"},
        ValueCase{"8013", "1987654Ad4X4bL5ttr2310c2K", true},
        ValueCase{"8013", "1987654Ad4X4bL5ttr2310cXK", false, "check characters"},
        ValueCase{"8011", "123", true}, ValueCase{"8011", "0123", false, "must not start with 0"},
        ValueCase{"7040", "1ABC", true}, ValueCase{"7040", "1AB.", false, "importer index"},
        ValueCase{"11", "250228", true}, ValueCase{"11", "240229", true},  // leap year
        ValueCase{"11", "250229", false, "day 29"},
        ValueCase{"11", "250100", true},  // yymmd0: day 00 allowed
        ValueCase{"11", "251301", false, "month 13"}, ValueCase{"11", "250001", false, "month 0"},
        ValueCase{"11", "250431", false, "day 31"},
        ValueCase{"7006", "250100", false, "day 0"},  // yymmdd: day 00 not allowed
        ValueCase{"7006", "000229", true}, ValueCase{"4324", "2501012359", true},
        ValueCase{"4324", "2501012460", false, "hour"},
        ValueCase{"4309", "18000000003600000000", true},
        ValueCase{"4309", "18000000013600000000", false, "latitude"},
        ValueCase{"4300", "A%20B", true}, ValueCase{"4300", "A%2", false, "'%'"},
        ValueCase{"8014", "1987654Ad4X4bL5ttr2310c2K", true}, ValueCase{"3103", "000500", true},
        ValueCase{"3103", "00500", false, "needs 6"},
        ValueCase{"999", "1", false, "not a GS1 Application Identifier"}));

}  // namespace
}  // namespace idra::ids::gs1
