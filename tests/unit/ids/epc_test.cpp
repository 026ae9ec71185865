// EPC pure-identity URNs (GS1 EPC Tag Data Standard) and their GS1 keys.
#include <gtest/gtest.h>

#include <string>

#include "idra/gs1.hpp"
#include "unit/ids/test_helpers.hpp"

namespace idra::ids::gs1 {
namespace {

using testing::with_mod10;

struct EpcCase {
  std::string urn;
  std::string canonical_urn;  // empty: an Error
  std::string path;           // expected canonical Digital Link path, or error part
};

class EpcTable : public ::testing::TestWithParam<EpcCase> {};

TEST_P(EpcTable, MapsOntoGs1Key) {
  const EpcCase& c = GetParam();
  Result<EpcUrn> epc = parse_epc_urn(c.urn);
  if (c.canonical_urn.empty()) {
    ASSERT_FALSE(epc.ok()) << c.urn << " -> " << epc->key.canonical_path();
    EXPECT_NE(epc.error().message.find(c.path), std::string::npos) << epc.error().message;
    return;
  }
  ASSERT_TRUE(epc.ok()) << c.urn << ": " << epc.error().message;
  EXPECT_EQ(epc->canonical, c.canonical_urn);
  EXPECT_EQ(epc->key.canonical_path(), c.path);
  // The canonical URN maps to the same key.
  Result<EpcUrn> again = parse_epc_urn(epc->canonical);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->canonical, epc->canonical);
  EXPECT_EQ(again->key.canonical_path(), c.path);
  // The Digital Link of the same key names the same record.
  Result<DigitalLink> dl = parse_digital_link_path(c.path);
  ASSERT_TRUE(dl.ok()) << c.path << ": " << dl.error().message;
  EXPECT_EQ(dl->canonical_path(), c.path);
}

// Examples from the EPC Tag Data Standard (sections 6.3 and 7), with the
// check digits computed here independently.
INSTANTIATE_TEST_SUITE_P(
    TagDataStandard, EpcTable,
    ::testing::Values(
        EpcCase{"urn:epc:id:sgtin:0614141.812345.6789", "urn:epc:id:sgtin:0614141.812345.6789",
                "/01/80614141123458/21/6789"},
        EpcCase{"urn:epc:id:sgtin:0614141.112345.400", "urn:epc:id:sgtin:0614141.112345.400",
                "/01/" + with_mod10("1061414112345") + "/21/400"},
        EpcCase{"urn:epc:id:sscc:0614141.1234567890", "urn:epc:id:sscc:0614141.1234567890",
                "/00/106141412345678908"},
        EpcCase{"urn:epc:id:sgln:0614141.12345.400", "urn:epc:id:sgln:0614141.12345.400",
                "/414/0614141123452/254/400"},
        EpcCase{"urn:epc:id:sgln:0614141.12345.0", "urn:epc:id:sgln:0614141.12345.0",
                "/414/0614141123452"},  // extension 0: no extension
        EpcCase{"urn:epc:id:sgln:0614141.12345.00", "urn:epc:id:sgln:0614141.12345.00",
                "/414/0614141123452/254/00"},
        EpcCase{"urn:epc:id:grai:0614141.12345.400", "urn:epc:id:grai:0614141.12345.400",
                "/8003/00614141123452400"},
        EpcCase{"urn:epc:id:giai:0614141.12345400", "urn:epc:id:giai:0614141.12345400",
                "/8004/061414112345400"},
        EpcCase{"urn:epc:id:gsrn:0614141.1234567890", "urn:epc:id:gsrn:0614141.1234567890",
                "/8018/" + with_mod10("06141411234567890")},
        EpcCase{"urn:epc:id:gsrnp:0614141.1234567890", "urn:epc:id:gsrnp:0614141.1234567890",
                "/8017/" + with_mod10("06141411234567890")},
        EpcCase{"urn:epc:id:gdti:0614141.12345.400", "urn:epc:id:gdti:0614141.12345.400",
                "/253/" + with_mod10("061414112345") + "400"},
        EpcCase{"urn:epc:id:sgcn:4012345.67890.04711", "urn:epc:id:sgcn:4012345.67890.04711",
                "/255/" + with_mod10("401234567890") + "04711"},
        EpcCase{"urn:epc:id:ginc:0614141.xyz47%2F11", "urn:epc:id:ginc:0614141.xyz47%2F11",
                "/401/0614141xyz47%2F11"},
        EpcCase{"urn:epc:id:gsin:0614141.123456789", "urn:epc:id:gsin:0614141.123456789",
                "/402/" + with_mod10("0614141123456789")},
        EpcCase{"urn:epc:id:pgln:0614141.12345", "urn:epc:id:pgln:0614141.12345",
                "/417/0614141123452"},
        EpcCase{"urn:epc:id:itip:4012345.012345.01.02.987",
                "urn:epc:id:itip:4012345.012345.01.02.987",
                "/8006/" + with_mod10("0401234512345") + "0102/21/987"},
        EpcCase{"urn:epc:id:upui:1234567.089456.51qIgY)%3C%26Jp3*j7'SDB",
                "urn:epc:id:upui:1234567.089456.51qIgY)%3C%26Jp3*j7'SDB",
                "/01/" + with_mod10("0123456789456") + "/235/51qIgY%29%3C%26Jp3%2Aj7%27SDB"},
        // Spelling variants: case of the URN prefix and scheme, escapes.
        EpcCase{"URN:EPC:ID:SGTIN:0614141.812345.6789", "urn:epc:id:sgtin:0614141.812345.6789",
                "/01/80614141123458/21/6789"},
        EpcCase{"urn:epc:id:sgtin:0614141.812345.A%2fB", "urn:epc:id:sgtin:0614141.812345.A%2FB",
                "/01/80614141123458/21/A%2FB"},
        EpcCase{"urn:epc:id:sgtin:0614141.812345.%41%21", "urn:epc:id:sgtin:0614141.812345.A!",
                "/01/80614141123458/21/A%21"},
        EpcCase{"urn:epc:id:sgtin:0614141.812345.a.b", "urn:epc:id:sgtin:0614141.812345.a.b",
                "/01/80614141123458/21/a.b"},
        EpcCase{"urn:epc:id:sgtin:0614141.812345.%22%25%26%2F%3C%3E%3F",
                "urn:epc:id:sgtin:0614141.812345.%22%25%26%2F%3C%3E%3F",
                "/01/80614141123458/21/%22%25%26%2F%3C%3E%3F"},
        // Errors.
        EpcCase{"urn:epc:id:sgtin:0614141.81234.6789", "", "13 are required"},
        EpcCase{"urn:epc:id:sgtin:0614141.8123456.6789", "", "13 are required"},
        EpcCase{"urn:epc:id:sgtin:06141.81234567.6789", "", "6 to 12"},
        EpcCase{"urn:epc:id:sgtin:061414A.812345.6789", "", "must be digits"},
        EpcCase{"urn:epc:id:sgtin:0614141.812345", "", "expected CompanyPrefix"},
        EpcCase{"urn:epc:id:sgtin:0614141.812345.", "", "serial is empty"},
        EpcCase{"urn:epc:id:sgtin:0614141.812345.A/B", "", "'/'"},
        EpcCase{"urn:epc:id:sgtin:0614141.812345.A#B", "", "'#'"},
        EpcCase{"urn:epc:id:sgtin:0614141.812345.A%2", "", "invalid escape"},
        EpcCase{"urn:epc:id:sgtin:0614141.812345.A%23", "", "not a GS1 character set 82"},
        EpcCase{"urn:epc:id:sgtin:0614141.812345.123456789012345678901", "", "AI (21)"},
        EpcCase{"urn:epc:id:sscc:0614141.123456789", "", "17 are required"},
        EpcCase{"urn:epc:id:grai:0614141.12345.", "", "serial is empty"},
        EpcCase{"urn:epc:id:giai:0614141.", "", "asset reference is empty"},
        EpcCase{"urn:epc:id:giai:0614141.123456789012345678901234", "", "AI (8004)"},
        EpcCase{"urn:epc:id:sgcn:4012345.67890.A", "", "must be digits"},
        EpcCase{"urn:epc:id:itip:4012345.012345.1.02.987", "", "2 digits"},
        EpcCase{"urn:epc:id:itip:4012345.012345.03.02.987", "", "above the total"},
        EpcCase{"urn:epc:id:usdod:abc.123", "", "not supported"},
        EpcCase{"urn:epc:id:sgtin", "", "no ':'"},
        EpcCase{"urn:epc:tag:sgtin-96:3.0614141.812345.6789", "", "pure-identity"},
        EpcCase{"urn:epc:class:lgtin:4012345.012345.998877", "", "pure-identity"},
        EpcCase{"urn:isbn:123", "", "urn:epc:id:"}));

TEST(Epc, SgtinAndDigitalLinkNameTheSameKey) {
  Result<EpcUrn> epc = parse_epc_urn("urn:epc:id:sgtin:0614141.812345.6789");
  Result<DigitalLink> dl = parse_digital_link("https://id.gs1.org/01/80614141123458/21/6789");
  ASSERT_TRUE(epc.ok());
  ASSERT_TRUE(dl.ok());
  EXPECT_EQ(epc->key.primary_key, dl->primary_key);
  EXPECT_EQ(epc->key.qualifiers, dl->qualifiers);
  // Different company-prefix splits of one GTIN name the same key.
  Result<EpcUrn> split = parse_epc_urn("urn:epc:id:sgtin:06141411.82345.6789");
  ASSERT_TRUE(split.ok()) << split.error().message;
  EXPECT_EQ(split->key.canonical_path(), epc->key.canonical_path());
}

}  // namespace
}  // namespace idra::ids::gs1
