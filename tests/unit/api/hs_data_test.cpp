// hs_data_test.cpp: byte-exact HS_ADMIN / HS_VLIST / HS_SITE / HS_PUBKEY
// vectors, laid out by hand from RFC 3651 section 3.2 and Handle.Net's
// Encoder.java, and every decode failure.
#include "api/hs_data.hpp"

#include <gtest/gtest.h>

#include <string>

namespace idra::api {
namespace {

using namespace std::string_literals;

// bytes builds a byte string from hex, ignoring spaces: bytes("00 0B").
std::string bytes(std::string_view hex) {
  std::string out;
  int hi = -1;
  for (char c : hex) {
    if (c == ' ') continue;
    const int v = (c >= '0' && c <= '9')   ? c - '0'
                  : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                                           : c - 'A' + 10;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<char>(hi * 16 + v));
      hi = -1;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Permissions

TEST(HsDataPerm, BitPositionsMatchHandleNetEncoder) {
  // Encoder.PERM_*: ADD_HANDLE 0x0001 ... READ_VALUE 0x0400, LIST_HDLS 0x0800.
  EXPECT_EQ(permission_bit(Perm::add_handle), 0x0001);
  EXPECT_EQ(permission_bit(Perm::delete_handle), 0x0002);
  EXPECT_EQ(permission_bit(Perm::add_derived_prefix), 0x0004);
  EXPECT_EQ(permission_bit(Perm::delete_derived_prefix), 0x0008);
  EXPECT_EQ(permission_bit(Perm::modify_value), 0x0010);
  EXPECT_EQ(permission_bit(Perm::remove_value), 0x0020);
  EXPECT_EQ(permission_bit(Perm::add_value), 0x0040);
  EXPECT_EQ(permission_bit(Perm::modify_admin), 0x0080);
  EXPECT_EQ(permission_bit(Perm::remove_admin), 0x0100);
  EXPECT_EQ(permission_bit(Perm::add_admin), 0x0200);
  EXPECT_EQ(permission_bit(Perm::read_value), 0x0400);
  EXPECT_EQ(permission_bit(Perm::list_handles), 0x0800);
  EXPECT_EQ(kAllPermissions, 0x0FFF);
}

TEST(HsDataPerm, HasPermission) {
  const std::uint16_t mask = permission_bit(Perm::read_value) | permission_bit(Perm::add_value);
  EXPECT_TRUE(has_permission(mask, Perm::read_value));
  EXPECT_TRUE(has_permission(mask, Perm::add_value));
  EXPECT_FALSE(has_permission(mask, Perm::add_handle));
  EXPECT_FALSE(has_permission(mask, Perm::list_handles));
  EXPECT_FALSE(has_permission(0, Perm::add_handle));
  EXPECT_TRUE(has_permission(kAllPermissions, Perm::list_handles));
}

TEST(HsDataPerm, StringIsTheMaskInBinaryListHandlesFirst) {
  // The usual handle admin: all but derived prefixes and listing.
  EXPECT_EQ(permissions_to_string(0x07F3), "011111110011");
  EXPECT_EQ(permissions_to_string(0), "000000000000");
  EXPECT_EQ(permissions_to_string(kAllPermissions), "111111111111");
  EXPECT_EQ(permissions_to_string(permission_bit(Perm::add_handle)), "000000000001");
  EXPECT_EQ(permissions_to_string(permission_bit(Perm::list_handles)), "100000000000");
  EXPECT_EQ(permissions_to_string(permission_bit(Perm::read_value)), "010000000000");
  // Bits above the twelve permissions are not shown.
  EXPECT_EQ(permissions_to_string(0xF001), "000000000001");
}

TEST(HsDataPerm, StringParses) {
  EXPECT_EQ(permissions_from_string("011111110011"), 0x07F3);
  EXPECT_EQ(permissions_from_string("*"), kAllPermissions);
  EXPECT_EQ(permissions_from_string("1"), 0x0001);
  EXPECT_EQ(permissions_from_string("10"), 0x0002);  // right-aligned
  for (std::uint16_t m = 0; m <= kAllPermissions; ++m) {
    ASSERT_EQ(permissions_from_string(permissions_to_string(m)), m);
  }
  EXPECT_FALSE(permissions_from_string(""));
  EXPECT_FALSE(permissions_from_string("0111111100112"));
  EXPECT_FALSE(permissions_from_string("1111111111111"));  // 13 characters
  EXPECT_FALSE(permissions_from_string("01x1"));
  EXPECT_FALSE(permissions_from_string("**"));
}

TEST(HsDataType, TypeIsMatchesSubtypesCaseInsensitively) {
  EXPECT_TRUE(type_is("HS_ADMIN", "HS_ADMIN"));
  EXPECT_TRUE(type_is("hs_admin", "HS_ADMIN"));
  EXPECT_TRUE(type_is("HS_SITE.PREFIX", "HS_SITE"));
  EXPECT_TRUE(type_is("HS_SITE.6", "HS_SITE"));
  EXPECT_FALSE(type_is("HS_SITEX", "HS_SITE"));
  EXPECT_FALSE(type_is("HS_SIT", "HS_SITE"));
  EXPECT_FALSE(type_is("URL", "HS_SITE"));
  EXPECT_FALSE(type_is("", "HS_SITE"));
}

// ---------------------------------------------------------------------------
// HS_ADMIN: 2-byte permissions, byte-string admin handle, 4-byte index.

const std::string kAdminBytes = bytes("07 F3  00 00 00 0B") + "0.NA/88.100" + bytes("00 00 00 C8");

TEST(HsDataAdmin, EncodesTheRfcLayout) {
  const AdminRef admin{"0.NA/88.100", 200, 0x07F3};
  EXPECT_EQ(encode_admin(admin), kAdminBytes);
  EXPECT_EQ(encode_admin(admin, /*legacy_length=*/true), kAdminBytes + bytes("00 00"));
}

TEST(HsDataAdmin, DecodesTheRfcLayout) {
  bool legacy = true;
  auto admin = decode_admin(kAdminBytes, &legacy);
  ASSERT_TRUE(admin) << admin.error().message;
  EXPECT_EQ(admin->handle, "0.NA/88.100");
  EXPECT_EQ(admin->index, 200u);
  EXPECT_EQ(admin->permissions, 0x07F3);
  EXPECT_FALSE(legacy);
  EXPECT_EQ(encode_admin(*admin), kAdminBytes);
}

TEST(HsDataAdmin, RoundTripsEdgeValues) {
  for (const AdminRef& a : {AdminRef{"", 0, 0}, AdminRef{"x", 0xFFFFFFFF, 0xFFFF},
                            AdminRef{std::string(1000, 'h'), 1, 1}}) {
    auto back = decode_admin(encode_admin(a));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, a);
  }
}

TEST(HsDataAdmin, AcceptsTheLegacyTwoZeroBytes) {
  bool legacy = false;
  auto admin = decode_admin(kAdminBytes + bytes("00 00"), &legacy);
  ASSERT_TRUE(admin);
  EXPECT_TRUE(legacy);
  EXPECT_EQ(admin->handle, "0.NA/88.100");
}

TEST(HsDataAdmin, RejectsEveryTruncation) {
  for (std::size_t n = 0; n < kAdminBytes.size(); ++n) {
    auto r = decode_admin(kAdminBytes.substr(0, n));
    ASSERT_FALSE(r) << "prefix of " << n << " bytes";
    EXPECT_EQ(r.error().code, kHsDataErrorCode);
    EXPECT_NE(r.error().message.find("HS_ADMIN data is truncated"), std::string::npos)
        << r.error().message;
  }
}

TEST(HsDataAdmin, RejectsTrailingBytes) {
  auto one = decode_admin(kAdminBytes + "x");
  ASSERT_FALSE(one);
  EXPECT_EQ(one.error().message, "HS_ADMIN data has 1 unexpected trailing byte(s)");
  EXPECT_FALSE(decode_admin(kAdminBytes + bytes("00 01")));  // not the legacy zeros
  EXPECT_FALSE(decode_admin(kAdminBytes + bytes("00 00 00")));
}

TEST(HsDataAdmin, RejectsALengthPastTheEnd) {
  auto r = decode_admin(bytes("07 F3 FF FF FF FF 00 00 00 C8"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "HS_ADMIN data is truncated in the admin handle");
}

// ---------------------------------------------------------------------------
// HS_VLIST: 4-byte count, then (byte-string handle, 4-byte index) pairs.

const std::string kVlistBytes = bytes("00 00 00 02  00 00 00 0C") + "0.NA/10.1000" +
                                bytes("00 00 00 C8") + bytes("00 00 00 0E") + "10.1000/admins" +
                                bytes("00 00 01 2C");
const std::vector<store::Reference> kVlist = {{"0.NA/10.1000", 200}, {"10.1000/admins", 300}};

TEST(HsDataVlist, EncodesTheRfcLayout) {
  EXPECT_EQ(encode_vlist(kVlist), kVlistBytes);
  EXPECT_EQ(encode_vlist({}), bytes("00 00 00 00"));
}

TEST(HsDataVlist, Decodes) {
  auto v = decode_vlist(kVlistBytes);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(*v, kVlist);
  auto empty = decode_vlist(bytes("00 00 00 00"));
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST(HsDataVlist, RejectsEveryTruncation) {
  for (std::size_t n = 0; n < kVlistBytes.size(); ++n) {
    auto r = decode_vlist(kVlistBytes.substr(0, n));
    ASSERT_FALSE(r) << "prefix of " << n << " bytes";
    EXPECT_NE(r.error().message.find("HS_VLIST data is truncated"), std::string::npos)
        << r.error().message;
  }
}

TEST(HsDataVlist, RejectsTrailingBytesAndForgedCounts) {
  auto trailing = decode_vlist(kVlistBytes + "\0"s);
  ASSERT_FALSE(trailing);
  EXPECT_EQ(trailing.error().message, "HS_VLIST data has 1 unexpected trailing byte(s)");
  // A count of 4 billion members in 4 bytes must fail before allocating.
  auto forged = decode_vlist(bytes("FF FF FF FF"));
  ASSERT_FALSE(forged);
  EXPECT_EQ(forged.error().message, "HS_VLIST data is truncated in the member count or members");
}

// ---------------------------------------------------------------------------
// HS_SITE

SiteInfo example_site() {
  SiteInfo site;
  site.major_protocol_version = 2;
  site.minor_protocol_version = 10;
  site.serial_number = 1;
  site.primary = true;
  site.attributes = {{"desc", "Test"}};
  SiteServer server;
  server.server_id = 1;
  server.address = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 127, 0, 0, 1};
  server.interfaces = {SiteInterface{}};
  site.servers = {server};
  return site;
}

const std::string kSiteBytes = bytes(
    "00 01  02 0A  00 01  80  02  00 00 00 00"  // version, 2.10, serial, primary, hash all, no
                                                // filter
    "00 00 00 01  00 00 00 04 64 65 73 63  00 00 00 04 54 65 73 74"  // desc=Test
    "00 00 00 01  00 00 00 01"                                       // one server, id 1
    "00 00 00 00 00 00 00 00 00 00 00 00 7F 00 00 01"                // 127.0.0.1
    "00 00 00 00"                                                    // no public key
    "00 00 00 01  03 01 00 00 0A 51");                               // admin+query, TCP, 2641

TEST(HsDataSite, EncodesTheJavaLayout) { EXPECT_EQ(encode_site(example_site()), kSiteBytes); }

TEST(HsDataSite, Decodes) {
  auto site = decode_site(kSiteBytes);
  ASSERT_TRUE(site) << site.error().message;
  EXPECT_EQ(*site, example_site());
}

TEST(HsDataSite, RoundTripsEverything) {
  SiteInfo site = example_site();
  site.multi_primary = true;
  site.hash_option = SiteInfo::kHashBySuffix;
  site.hash_filter = "filter";
  site.data_format_version = 0xFFFF;
  site.serial_number = 0x8000;
  site.attributes.push_back({"", ""});
  SiteServer v6;
  v6.server_id = -5;
  v6.address = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  v6.public_key = "key bytes";
  v6.interfaces = {SiteInterface{SiteInterface::kQuery, SiteInterface::kUdp, 2641},
                   SiteInterface{0, 200, -1}};
  site.servers.push_back(v6);
  site.servers.push_back(SiteServer{});
  auto back = decode_site(encode_site(site));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, site);
}

TEST(HsDataSite, RejectsEveryTruncation) {
  for (std::size_t n = 0; n < kSiteBytes.size(); ++n) {
    auto r = decode_site(kSiteBytes.substr(0, n));
    ASSERT_FALSE(r) << "prefix of " << n << " bytes";
    EXPECT_NE(r.error().message.find("HS_SITE data is truncated"), std::string::npos)
        << r.error().message;
  }
}

TEST(HsDataSite, RejectsTrailingBytesReservedBitsAndForgedCounts) {
  auto trailing = decode_site(kSiteBytes + "!");
  ASSERT_FALSE(trailing);
  EXPECT_EQ(trailing.error().message, "HS_SITE data has 1 unexpected trailing byte(s)");

  std::string reserved = kSiteBytes;
  reserved[6] = static_cast<char>(0x81);
  auto r = decode_site(reserved);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "HS_SITE data has reserved primary-mask bits set");

  std::string forged = kSiteBytes.substr(0, 12) + bytes("7F FF FF FF");
  EXPECT_FALSE(decode_site(forged));
}

// ---------------------------------------------------------------------------
// HS_PUBKEY

TEST(HsDataKey, EncodesRsaAsUtilGetBytesFromPublicKey) {
  PublicKey key{KeyKind::rsa, 0, {bytes("01 00 01"), bytes("00 C3 5F")}};
  const std::string expected = bytes("00 00 00 0B") + "RSA_PUB_KEY" + bytes("00 00") +
                               bytes("00 00 00 03 01 00 01") + bytes("00 00 00 03 00 C3 5F");
  EXPECT_EQ(encode_public_key(key), expected);
  auto back = decode_public_key(expected);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, key);
}

TEST(HsDataKey, RoundTripsDsaAndDh) {
  PublicKey dsa{KeyKind::dsa, 0, {"q", "p", "g", "y"}};
  auto d = decode_public_key(encode_public_key(dsa));
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, dsa);
  EXPECT_EQ(encode_public_key(dsa).substr(0, 15), bytes("00 00 00 0B") + "DSA_PUB_KEY");
  PublicKey dh{KeyKind::dh, 7, {"y", "p", "g"}};
  auto h = decode_public_key(encode_public_key(dh));
  ASSERT_TRUE(h);
  EXPECT_EQ(*h, dh);
}

TEST(HsDataKey, RejectsUnknownTypesTruncationAndTrailingBytes) {
  auto unknown = decode_public_key(bytes("00 00 00 0A") + "EC_PUB_KEY" + bytes("00 00"));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message, "HS_PUBKEY data has an unsupported key type");
  const std::string rsa = encode_public_key(PublicKey{KeyKind::rsa, 0, {"e", "n"}});
  for (std::size_t n = 0; n < rsa.size(); ++n)
    ASSERT_FALSE(decode_public_key(rsa.substr(0, n))) << n;
  auto trailing = decode_public_key(rsa + "x");
  ASSERT_FALSE(trailing);
  EXPECT_EQ(trailing.error().message, "HS_PUBKEY data has 1 unexpected trailing byte(s)");
}

TEST(HsDataKey, EncodeRejectsTheWrongNumberOfIntegers) {
  EXPECT_THROW(encode_public_key(PublicKey{KeyKind::rsa, 0, {"only one"}}), std::invalid_argument);
  EXPECT_EQ(key_integer_count(KeyKind::rsa), 2u);
  EXPECT_EQ(key_integer_count(KeyKind::dsa), 4u);
  EXPECT_EQ(key_integer_count(KeyKind::dh), 3u);
}

}  // namespace
}  // namespace idra::api
