// OIDs (X.660) and IEC 61406 identification links.
#include <gtest/gtest.h>

#include <string>

#include "idra/ids.hpp"

namespace idra::ids {
namespace {

struct Case {
  std::string input;
  std::string canonical;  // empty: an Error
  std::string error_part = {};
};

class OidTable : public ::testing::TestWithParam<Case> {};

TEST_P(OidTable, Validates) {
  const Case& c = GetParam();
  Result<std::string> oid = canonical_oid(c.input);
  if (c.canonical.empty()) {
    ASSERT_FALSE(oid.ok()) << c.input;
    EXPECT_NE(oid.error().message.find(c.error_part), std::string::npos) << oid.error().message;
  } else {
    ASSERT_TRUE(oid.ok()) << c.input << ": " << oid.error().message;
    EXPECT_EQ(*oid, c.canonical);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, OidTable,
    ::testing::Values(Case{"1.2.840.113549", "1.2.840.113549"},
                      Case{"urn:oid:1.2.840.113549.1.1.11", "1.2.840.113549.1.1.11"},
                      Case{"URN:OID:2.5.4.3", "2.5.4.3"}, Case{"0.0", "0.0"}, Case{"1.39", "1.39"},
                      Case{"0.39.5", "0.39.5"}, Case{"2.999", "2.999"}, Case{"2.40", "2.40"},
                      Case{"2.25.329800735698586629295641978511506172918",  // UUID OID, > 128 bits
                           "2.25.329800735698586629295641978511506172918"},
                      Case{"1.3.6.1.4.1." + std::string(500, '9'),
                           "1.3.6.1.4.1." + std::string(500, '9')},
                      Case{"1.40", "", "at most 39"}, Case{"0.40", "", "at most 39"},
                      Case{"1.100", "", "at most 39"}, Case{"3.1", "", "must be 0, 1 or 2"},
                      Case{"10.1", "", "must be 0, 1 or 2"}, Case{"1.02", "", "leading zero"},
                      Case{"01.2", "", "leading zero"},
                      Case{"1.2.03", "", "leading zero (arc 3 at byte 4)"},
                      Case{"1", "", "at least two arcs"}, Case{"2", "", "at least two arcs"},
                      Case{"", "", "empty OID"}, Case{"urn:oid:", "", "empty OID"},
                      Case{"1..2", "", "empty OID arc"}, Case{"1.2.", "", "empty OID arc"},
                      Case{".1.2", "", "empty OID arc"}, Case{"1.2a", "", "'a' at byte 3"},
                      Case{"1.-2", "", "'-' at byte 2"}, Case{"1.2 ", "", "' ' (space) at byte 3"},
                      Case{"oid:1.2", "", "not a digit"}));

class Iec61406Table : public ::testing::TestWithParam<Case> {};

TEST_P(Iec61406Table, Validates) {
  const Case& c = GetParam();
  Result<IdentificationLink> link = parse_identification_link(c.input);
  if (c.canonical.empty()) {
    ASSERT_FALSE(link.ok()) << c.input << " -> " << link->url();
    EXPECT_NE(link.error().message.find(c.error_part), std::string::npos) << link.error().message;
  } else {
    ASSERT_TRUE(link.ok()) << c.input << ": " << link.error().message;
    EXPECT_EQ(link->url(), c.canonical);
    // Canonical form is stable.
    Result<IdentificationLink> again = parse_identification_link(link->url());
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_EQ(again->url(), c.canonical);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, Iec61406Table,
    ::testing::Values(
        Case{"https://example.com/sn/ABC123", "https://example.com/sn/ABC123"},
        Case{"HTTPS://Example.COM/SN/abc", "https://example.com/SN/abc"},  // path case kept
        Case{"https://example.com:443/x", "https://example.com/x"},
        Case{"https://example.com:0443/x", "https://example.com/x"},
        Case{"https://example.com:8443/x", "https://example.com:8443/x"},
        Case{"https://example.com:/x", "https://example.com/x"},
        Case{"https://example.com", "https://example.com/"},
        Case{"https://example.com/?.1P=1A2B3C&.S=sd09fqw4hrdfj0as89u7",
             "https://example.com/?.1P=1A2B3C&.S=sd09fqw4hrdfj0as89u7"},
        Case{"https://example.com/a?Q=Mixed#Fragment", "https://example.com/a?Q=Mixed"},
        Case{"https://example.com/a?", "https://example.com/a?"},
        Case{"https://example.com/%7e%41b%2f%c3%a9", "https://example.com/~Ab%2F%C3%A9"},
        Case{"https://example.com/a:b@c!$&'()*+,;=-._~",
             "https://example.com/a:b@c!$&'()*+,;=-._~"},
        Case{"https://[2001:DB8::1]/x", "https://[2001:db8::1]/x"},
        Case{"https://192.0.2.1/x", "https://192.0.2.1/x"},
        Case{"https://a/01/2112345678901", "https://a/01/2112345678901"},  // not GS1-checked here
        Case{"https://example.com/" + std::string(235, 'a'),
             "https://example.com/" + std::string(235, 'a')},
        Case{"https://example.com/" + std::string(236, 'a'), "", "at most 255"},
        Case{"https://example.com/" + std::string(230, 'a') + "#" + std::string(10, 'f'), "",
             "at most 255"},
        Case{"https://" + std::string(245, 'a') + ".c", "", "in canonical form"},  // 255 + "/"
        Case{"http://example.com/x", "", "not http"},
        Case{"ftp://example.com/x", "", "is not https"}, Case{"example.com/x", "", "absolute URL"},
        Case{"https:example.com/x", "", "absolute URL"}, Case{"https:///x", "", "no host"},
        Case{"https://user@example.com/x", "", "user information"},
        Case{"https://example.com:99999/x", "", "1-65535"},
        Case{"https://example.com:8a/x", "", "not a number"},
        Case{"https://exa mple.com/x", "", "' ' (space) at byte 11"},
        Case{"https://ex\xC3\xA4mple.com/x", "", "punycode"},
        Case{"https://example.com/a b", "", "' ' (space) at byte 21"},
        Case{"https://example.com/a\tb", "", "control character"},
        Case{"https://example.com/\xC3\xA9", "", "not ASCII"},
        Case{"https://example.com/a%2", "", "invalid percent-encoding at byte 21"},
        Case{"https://example.com/a%zz", "", "invalid percent-encoding"},
        Case{"https://example.com/a\"b", "", "'\"'"}, Case{"https://example.com/a<b", "", "'<'"},
        Case{"https://example.com/a[b", "", "'['"}, Case{"https://example.com/a?b[c", "", "'['"},
        Case{"https://example.com/a#b#c", "", "'#'"},
        Case{"https://example.com/a/../b", "", "'..'"}, Case{"https://example.com/./b", "", "'.'"},
        Case{"https://example.com/a/%2E%2E/b", "", "'..'"},
        Case{"https://[::1/x", "", "closing ']'"}));

}  // namespace
}  // namespace idra::ids
