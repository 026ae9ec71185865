// identify(): scheme detection, canonical handles, the reverse mapping.
#include <gtest/gtest.h>

#include <string>

#include "idra/ids.hpp"
#include "unit/ids/test_helpers.hpp"

namespace idra::ids {
namespace {

using testing::with_mod10;

const MappingConfig kConfig{"IDRA"};

struct IdCase {
  std::string input;
  std::optional<Scheme> only;
  Scheme scheme;
  std::string canonical;
  std::string handle;  // empty: an Error, |canonical| is then a part of the message
};

std::string describe(const Result<Identifier>& r) {
  if (!r.ok()) return "error: " + r.error().message;
  return std::string(scheme_name(r->scheme)) + " " + r->canonical + " " + r->handle;
}

class IdentifyTable : public ::testing::TestWithParam<IdCase> {};

TEST_P(IdentifyTable, Identifies) {
  const IdCase& c = GetParam();
  Result<Identifier> id = identify(c.input, kConfig, c.only);
  if (c.handle.empty()) {
    ASSERT_FALSE(id.ok()) << c.input << " -> " << describe(id);
    EXPECT_NE(id.error().message.find(c.canonical), std::string::npos) << id.error().message;
    return;
  }
  ASSERT_TRUE(id.ok()) << c.input << " -> " << describe(id);
  EXPECT_EQ(id->scheme, c.scheme) << describe(id);
  EXPECT_EQ(id->canonical, c.canonical);
  EXPECT_EQ(id->handle, c.handle);
  // Round trips: the handle identifies back to itself, and so does the
  // canonical spelling under its own scheme.
  Result<Identifier> by_handle = identify(id->handle, kConfig);
  ASSERT_TRUE(by_handle.ok()) << describe(by_handle);
  EXPECT_EQ(by_handle->handle, id->handle);
  Result<Identifier> by_canonical = identify(id->canonical, kConfig, id->scheme);
  ASSERT_TRUE(by_canonical.ok()) << describe(by_canonical);
  EXPECT_EQ(by_canonical->handle, id->handle);
  Result<Identifier> reverse = identifier_from_handle(id->handle, kConfig);
  ASSERT_TRUE(reverse.ok()) << describe(reverse);
  EXPECT_EQ(reverse->handle, id->handle);
}

const std::string kGtin = "09506000134352";
const std::string kSgtinHandle = "IDRA/gs1/01/80614141123458/21/6789";

INSTANTIATE_TEST_SUITE_P(
    Detection, IdentifyTable,
    ::testing::Values(
        // Handles.
        IdCase{"10.1000/abc", {}, Scheme::handle, "10.1000/abc", "10.1000/abc"},
        IdCase{"hdl:20.500.12345/Xy", {}, Scheme::handle, "20.500.12345/Xy", "20.500.12345/Xy"},
        IdCase{"doi:10.abc/Xy", {}, Scheme::handle, "10.ABC/Xy", "10.ABC/Xy"},
        IdCase{"idra.sub/x", {}, Scheme::handle, "IDRA.SUB/x", "IDRA.SUB/x"},
        // GS1: Digital Link URI, path, element string; spellings agree.
        IdCase{"https://id.gs1.org/01/09506000134352/21/A1?17=250101",
               {},
               Scheme::gs1,
               "/01/09506000134352/21/A1",
               "IDRA/gs1/01/09506000134352/21/A1"},
        IdCase{"http://example.com/stem/gtin/09506000134352/ser/A1",
               {},
               Scheme::gs1,
               "/01/09506000134352/21/A1",
               "IDRA/gs1/01/09506000134352/21/A1"},
        IdCase{"/01/09506000134352/21/A1",
               {},
               Scheme::gs1,
               "/01/09506000134352/21/A1",
               "IDRA/gs1/01/09506000134352/21/A1"},
        IdCase{"(01)09506000134352(21)A1",
               {},
               Scheme::gs1,
               "/01/09506000134352/21/A1",
               "IDRA/gs1/01/09506000134352/21/A1"},
        IdCase{"(21)A1(01)09506000134352", Scheme::gs1, Scheme::gs1, "/01/09506000134352/21/A1",
               "IDRA/gs1/01/09506000134352/21/A1"},
        IdCase{"(21)A1(01)9506000134352", Scheme::gs1, Scheme::gs1, "14 digits", ""},
        // A bare GTIN key is padded: GTIN-13 and its GTIN-14 name one record.
        IdCase{"9506000134352", {}, Scheme::gs1, "/01/09506000134352", "IDRA/gs1/01/09506000134352"},
        IdCase{"09506000134352", Scheme::gs1, Scheme::gs1, "/01/09506000134352",
               "IDRA/gs1/01/09506000134352"},
        IdCase{"9506000134353", {}, Scheme::gs1, "check digit", ""},
        // 13 digits after /01/: not a Digital Link (the grammar wants 14).
        IdCase{"https://a/01/2112345678900", {}, Scheme::gs1, "as 02112345678900", ""},
        IdCase{"https://a/00/106141412345678908",
               {},
               Scheme::gs1,
               "/00/106141412345678908",
               "IDRA/gs1/00/106141412345678908"},
        IdCase{"https://a/01/09506000134352/21/a%2Fb",
               {},
               Scheme::gs1,
               "/01/09506000134352/21/a%2Fb",
               "IDRA/gs1/01/09506000134352/21/a%2Fb"},
        // EPC maps onto the same handle as the Digital Link.
        IdCase{"urn:epc:id:sgtin:0614141.812345.6789",
               {},
               Scheme::epc,
               "urn:epc:id:sgtin:0614141.812345.6789",
               kSgtinHandle},
        IdCase{"https://example.com/01/80614141123458/21/6789",
               {},
               Scheme::gs1,
               "/01/80614141123458/21/6789",
               kSgtinHandle},
        IdCase{"urn:epc:id:sgln:0614141.12345.0",
               {},
               Scheme::epc,
               "urn:epc:id:sgln:0614141.12345.0",
               "IDRA/gs1/414/0614141123452"},
        // OIDs.
        IdCase{
            "urn:oid:1.2.840.113549", {}, Scheme::oid, "1.2.840.113549", "IDRA/oid/1.2.840.113549"},
        IdCase{"2.999", {}, Scheme::oid, "2.999", "IDRA/oid/2.999"},
        IdCase{"1.2.3", Scheme::oid, Scheme::oid, "1.2.3", "IDRA/oid/1.2.3"},
        // IEC 61406.
        IdCase{"https://Example.com:443/sn/A1?x=Y#f",
               {},
               Scheme::iec61406,
               "https://example.com/sn/A1?x=Y",
               "IDRA/iec61406/example.com/sn/A1?x=Y"},
        IdCase{"https://example.com:8443/sn",
               {},
               Scheme::iec61406,
               "https://example.com:8443/sn",
               "IDRA/iec61406/example.com:8443/sn"},
        IdCase{"https://a/01/2112345678901", Scheme::iec61406, Scheme::iec61406,
               "https://a/01/2112345678901", "IDRA/iec61406/a/01/2112345678901"},
        // Handles under the mapping prefix are parsed back and re-canonicalized.
        IdCase{"IDRA/gs1/01/9506000134352", {}, Scheme::gs1, "14 digits", ""},
        IdCase{"idra/GS1/gtin/09506000134352/ser/%41",
               {},
               Scheme::gs1,
               "/01/09506000134352/21/A",
               "IDRA/gs1/01/09506000134352/21/A"},
        IdCase{"hdl:IDRA/gs1/01/09506000134352", Scheme::gs1, Scheme::gs1, "/01/09506000134352",
               "IDRA/gs1/01/09506000134352"},
        IdCase{"IDRA/gs1/01/09506000134352", Scheme::handle, Scheme::gs1, "/01/09506000134352",
               "IDRA/gs1/01/09506000134352"},
        IdCase{"IDRA/oid/1.2.840", {}, Scheme::oid, "1.2.840", "IDRA/oid/1.2.840"},
        IdCase{"IDRA/oid/1.2.840", Scheme::oid, Scheme::oid, "1.2.840", "IDRA/oid/1.2.840"},
        IdCase{"IDRA/iec61406/Example.COM/A?b",
               {},
               Scheme::iec61406,
               "https://example.com/A?b",
               "IDRA/iec61406/example.com/A?b"},
        IdCase{"IDRA/iec61406/a/01/2112345678901",
               {},
               Scheme::iec61406,
               "https://a/01/2112345678901",
               "IDRA/iec61406/a/01/2112345678901"}));

INSTANTIATE_TEST_SUITE_P(
    Errors, IdentifyTable,
    ::testing::Values(
        // A mistyped check digit in a Digital Link is a GS1 error, not an IEC link.
        IdCase{"https://a/01/02112345678901", {}, Scheme::gs1, "check digit 1, expected 0", ""},
        IdCase{"https://example.com/01/09506000134351", {}, Scheme::gs1, "AI (01)", ""},
        IdCase{"https://example.com/sn/1", Scheme::gs1, Scheme::gs1, "no GS1 primary key", ""},
        IdCase{"http://example.com/sn/1", {}, Scheme::iec61406, "not http", ""},
        IdCase{"10.1000/abc", Scheme::oid, Scheme::oid, "", ""},
        IdCase{"1.2.3", Scheme::handle, Scheme::handle, "no '/'", ""},
        IdCase{"urn:oid:1.2.3", Scheme::epc, Scheme::epc, "urn:epc:id:", ""},
        IdCase{"1.40", {}, Scheme::oid, "at most 39", ""},
        IdCase{"urn:epc:id:sgtin:0614141.81234.6789", {}, Scheme::epc, "13 are required", ""},
        IdCase{"(01)09506000134351", {}, Scheme::gs1, "check digit", ""},
        // Mapped handles must be valid foreign identifiers.
        IdCase{"IDRA/gs1/01/09506000134351", {}, Scheme::gs1, "check digit", ""},
        IdCase{"IDRA/gs1/01/09506000134352?17=250101", {}, Scheme::gs1, "percent-encoded", ""},
        IdCase{"IDRA/gs1/stem/01/09506000134352",
               {},
               Scheme::gs1,
               "must start with a GS1 primary key",
               ""},
        IdCase{"IDRA/gs1", {}, Scheme::gs1, "nothing follows", ""},
        IdCase{"IDRA/gs1/", {}, Scheme::gs1, "nothing follows", ""},
        IdCase{"IDRA/oid/1.40", {}, Scheme::oid, "at most 39", ""},
        IdCase{"IDRA/oid/urn:oid:1.2", {}, Scheme::oid, "dotted OID", ""},
        IdCase{"IDRA/iec61406/a b", {}, Scheme::iec61406, "' ' (space)", ""},
        IdCase{"IDRA/whatever/x", {}, Scheme::handle, "IDRA/gs1/...", ""},
        IdCase{"IDRA/oid/1.2.3", Scheme::gs1, Scheme::gs1,
               "names an identifier of scheme oid, not gs1", ""},
        IdCase{"IDRA/gs1/01/09506000134352", Scheme::epc, Scheme::epc, "urn:epc:id:", ""},
        // Handles that would be read as another scheme cannot be used.
        IdCase{"urn:oid:1.2/x", Scheme::handle, Scheme::handle,
               "would be read as an identifier of scheme oid", ""},
        IdCase{"https://example.com/x", Scheme::handle, Scheme::handle, "would be read as", ""},
        IdCase{"(abc)/x", Scheme::handle, Scheme::handle,
               "would be read as an identifier of scheme gs1", ""},
        IdCase{"hdl:hdl:x/y", {}, Scheme::handle, "scheme given twice", ""}));

TEST(Identify, SpellingsOfOneIdentifierShareOneHandle) {
  const std::string gtin13 = "9506000134352";
  const std::string handle = "IDRA/gs1/01/09506000134352/21/A1";
  for (const std::string& spelling :
       {"https://id.gs1.org/01/" + kGtin + "/21/A1", "https://x.example/gtin/" + kGtin + "/ser/A1",
        "HTTPS://X.EXAMPLE/a/b/01/" + kGtin + "/21/%41%31", "/01/" + kGtin + "/21/A1",
        "(01)" + kGtin + "(21)A1", "(21)A1(01)" + kGtin,
        std::string("idra/gs1/01/") + kGtin + "/21/A1",
        std::string("hdl:Idra/gs1/gtin/") + kGtin + "/ser/A1"}) {
    Result<Identifier> id = identify(spelling, kConfig);
    ASSERT_TRUE(id.ok()) << spelling << ": " << id.error().message;
    EXPECT_EQ(id->handle, handle) << spelling;
  }
  // The bare GTIN-13 and its GTIN-14 name one record.
  EXPECT_EQ(identify(gtin13, kConfig)->handle, identify(kGtin, kConfig)->handle);
  // SGTIN and Digital Link of one serialized item.
  EXPECT_EQ(identify("urn:epc:id:sgtin:0614141.812345.6789", kConfig)->handle,
            identify("(01)80614141123458(21)6789", kConfig)->handle);
  EXPECT_EQ(identify("urn:epc:id:sgtin:0614141.112345.400", kConfig)->handle,
            "IDRA/gs1/01/" + with_mod10("1061414112345") + "/21/400");
  EXPECT_EQ(identify("urn:epc:id:sscc:0614141.1234567890", kConfig)->handle,
            identify("https://a/00/106141412345678908", kConfig)->handle);
  EXPECT_EQ(identify("urn:epc:id:sgln:0614141.12345.400", kConfig)->handle,
            identify("https://a/414/0614141123452/254/400", kConfig)->handle);
  EXPECT_EQ(identify("urn:epc:id:grai:0614141.12345.400", kConfig)->handle,
            identify("(8003)00614141123452400", kConfig)->handle);
  EXPECT_EQ(identify("urn:epc:id:giai:0614141.12345400", kConfig)->handle,
            identify("https://a/giai/061414112345400", kConfig)->handle);
  // Serial numbers are case-sensitive: different items.
  EXPECT_NE(identify("(01)" + kGtin + "(21)a1", kConfig)->handle,
            identify("(01)" + kGtin + "(21)A1", kConfig)->handle);
}

TEST(Identify, MappingPrefixIsCanonicalized) {
  Result<Identifier> id = identify("urn:oid:1.2", MappingConfig{"idra.test"});
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->handle, "IDRA.TEST/oid/1.2");
  // Under another mapping prefix, IDRA/... is an ordinary handle.
  Result<Identifier> plain = identify("IDRA/gs1/anything", MappingConfig{"OTHER"});
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_EQ(plain->scheme, Scheme::handle);
  EXPECT_FALSE(identify("1.2", MappingConfig{""}).ok());
  EXPECT_FALSE(identify("1.2", MappingConfig{"a/b"}).ok());
}

TEST(Identify, ReverseMapping) {
  Result<Identifier> gs1 = identifier_from_handle("IDRA/gs1/gtin/09506000134352", kConfig);
  ASSERT_TRUE(gs1.ok()) << gs1.error().message;
  EXPECT_EQ(gs1->scheme, Scheme::gs1);
  EXPECT_EQ(gs1->canonical, "/01/09506000134352");
  EXPECT_EQ(gs1->handle, "IDRA/gs1/01/09506000134352");
  Result<Identifier> iec = identifier_from_handle("IDRA/iec61406/example.com/x", kConfig);
  ASSERT_TRUE(iec.ok());
  EXPECT_EQ(iec->canonical, "https://example.com/x");
  Result<Identifier> plain = identifier_from_handle("10.1000/x", kConfig);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->scheme, Scheme::handle);
  EXPECT_FALSE(identifier_from_handle("IDRA/oid/1.40", kConfig).ok());
  EXPECT_FALSE(identifier_from_handle("https://example.com/x", kConfig).ok());
}

TEST(Identify, HandleLengthLimitAppliesToMappedHandles) {
  // An OID whose handle would exceed 2048 bytes.
  const std::string long_oid = "1.3." + std::string(2040, '7');
  Result<Identifier> id = identify(long_oid, kConfig);
  ASSERT_FALSE(id.ok());
  EXPECT_NE(id.error().message.find("2048"), std::string::npos) << id.error().message;
  const std::string fits = "1.3." + std::string(2048 - std::string("IDRA/oid/1.3.").size(), '7');
  Result<Identifier> ok = identify(fits, kConfig);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->handle.size(), 2048u);
}

}  // namespace
}  // namespace idra::ids
