// value_json_test.cpp: Handle values <-> Handle.Net v9 JSON.
#include "api/value_json.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "api/hs_data.hpp"

namespace idra::api {
namespace {

using json = nlohmann::json;
using namespace std::string_literals;

constexpr std::int64_t kNow = 1795600553;  // 2026-11-25T09:55:53Z

store::HandleValue url_value() {
  store::HandleValue v;
  v.index = 1;
  v.type = "URL";
  v.data = "http://example.org/";
  v.timestamp = kNow;
  return v;
}

// round_trip writes |v| as JSON text, reads it back with another clock, and
// returns what came back.
store::HandleValue round_trip(const store::HandleValue& v) {
  const std::string text = value_to_json(v).dump();
  auto back = value_from_json(json::parse(text), kNow + 999);
  EXPECT_TRUE(back) << text << ": " << back.error().message;
  return back ? *back : store::HandleValue{};
}

Result<store::HandleValue> parse(std::string_view text) {
  return value_from_json(json::parse(text), kNow);
}

// error_of parses |text| as a value and returns the error message ("" if it
// parsed), checking the code on the way.
std::string error_of(std::string_view text) {
  auto r = parse(text);
  if (r) return "";
  EXPECT_EQ(r.error().code, kInvalidValueCode);
  return r.error().message;
}

std::string body_error(std::string_view body) {
  auto r = values_from_body(body, kNow);
  if (r) return "";
  EXPECT_EQ(r.error().code, kInvalidValueCode);
  return r.error().message;
}

// ---------------------------------------------------------------------------
// Timestamps

TEST(ValueJsonTime, Formats) {
  EXPECT_EQ(format_timestamp(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_timestamp(kNow), "2026-11-25T09:55:53Z");
  EXPECT_EQ(format_timestamp(-1), "1969-12-31T23:59:59Z");
  EXPECT_EQ(format_timestamp(1709164800), "2024-02-29T00:00:00Z");
  EXPECT_EQ(format_timestamp(253402300800), "10000-01-01T00:00:00Z");
  EXPECT_EQ(format_timestamp(-62167219200), "0000-01-01T00:00:00Z");
  EXPECT_EQ(format_timestamp(-62167219201), "-0001-12-31T23:59:59Z");
}

TEST(ValueJsonTime, ParsesHandleNetForms) {
  EXPECT_EQ(parse_timestamp("2026-11-25T09:55:53Z"), kNow);
  EXPECT_EQ(parse_timestamp("  2026-11-25T09:55:53Z "), kNow);
  EXPECT_EQ(parse_timestamp("2026-11-25T09:55:53.999Z"), kNow);  // truncated
  EXPECT_EQ(parse_timestamp("2026-11-25T09:55:53,5Z"), kNow);
  EXPECT_EQ(parse_timestamp("2026-11-25T09:55:52.9996Z"), kNow);  // rounds at the 4th digit
  EXPECT_EQ(parse_timestamp("2026-11-25T09:55:53"), kNow);        // no zone is UTC
  EXPECT_EQ(parse_timestamp("2026-11-25 09:55:53Z"), kNow);
  EXPECT_EQ(parse_timestamp("2026-11-25T10:55:53+01:00"), kNow);
  EXPECT_EQ(parse_timestamp("2026-11-25T04:25:53-0530"), kNow);
  EXPECT_EQ(parse_timestamp("2026-11-25T10:55:53+01"), kNow);
  EXPECT_EQ(parse_timestamp("2026-11-25T095553Z"), kNow);  // colons optional
  EXPECT_EQ(parse_timestamp("20261125T095553Z"), kNow);
  EXPECT_EQ(parse_timestamp("20261125T095553.5Z"), kNow);
  EXPECT_EQ(parse_timestamp("2026-11-25T09:55Z"), kNow - 53);
  EXPECT_EQ(parse_timestamp("2026-11-25T09Z"), kNow - 55 * 60 - 53);
  EXPECT_EQ(parse_timestamp("2024-02-29"), 1709164800);
  EXPECT_EQ(parse_timestamp("20240229"), 1709164800);
  EXPECT_EQ(parse_timestamp("2026-11"), 1793491200);
  EXPECT_EQ(parse_timestamp("2026-1101"), 1793491200);
  EXPECT_EQ(parse_timestamp("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_timestamp("10000-01-01T00:00:00Z"), 253402300800);
  EXPECT_EQ(parse_timestamp("-0001-12-31T23:59:59Z"), -62167219201);
  // Handle.Net divides milliseconds by 1000, truncating toward zero.
  EXPECT_EQ(parse_timestamp("1969-12-31T23:59:59.5Z"), 0);
}

TEST(ValueJsonTime, RejectsWhatIsNotATime) {
  for (const char* bad : {"",
                          " ",
                          "now",
                          "2026",
                          "26-11-25",
                          "2026-13-01",
                          "2026-00-10",
                          "2026-02-29",
                          "2026-11-31",
                          "2026-11-00",
                          "2026-11-25T24:00:00Z",
                          "2026-11-25T09:60:00Z",
                          "2026-11-25T09:55:61Z",
                          "2026-11-25T09:55:53ZZ",
                          "2026-11-25T09:55:53Z+01:00",
                          "2026-11-25T09:55:53+24:00",
                          "2026-11-25T",
                          "2026-11-25T09:55:53.Z",
                          "2026-11-25T09:55:53 junk",
                          "1795600553",
                          "9999999999999-01-01"}) {
    EXPECT_FALSE(parse_timestamp(bad)) << bad;
  }
}

TEST(ValueJsonTime, EveryInt64RoundTrips) {
  const std::int64_t lo = std::numeric_limits<std::int64_t>::min();
  const std::int64_t hi = std::numeric_limits<std::int64_t>::max();
  for (std::int64_t t :
       {lo, lo + 1, std::int64_t{-86401}, std::int64_t{-86400}, std::int64_t{-1}, std::int64_t{0},
        std::int64_t{951782400} /* 2000-02-29 */, kNow, std::int64_t{4102444800}, hi - 1, hi}) {
    EXPECT_EQ(parse_timestamp(format_timestamp(t)), t) << format_timestamp(t);
  }
}

// ---------------------------------------------------------------------------
// Output shape

TEST(ValueJsonOut, FastPathWritesExactlyWhatTheTreeWrites) {
  std::vector<store::HandleValue> values;
  for (std::string data : {std::string("https://example.com/a?b=c&d=\"e\""), std::string("tab\tnl\ncr\r\x01\x1f\x7f"),
                           std::string("caf\xc3\xa9 \xe2\x82\xac"), std::string("\xff\xfe binary"), std::string(),
                           std::string("back\\slash /slash"), std::string("\x00nul", 4)}) {
    store::HandleValue v;
    v.index = 7;
    v.type = "URL";
    v.data = data;
    v.timestamp = 1800000000;
    values.push_back(v);
    v.permissions.public_read = false;
    v.ttl_type = store::TtlType::absolute;
    v.ttl = 1900000000;
    v.type = "EMAIL\"q";
    values.push_back(v);
    v.references = {{"0.NA/1", 3}};
    values.push_back(v);
  }
  store::HandleValue admin;
  admin.index = 100;
  admin.type = "HS_ADMIN";
  admin.data = encode_admin(AdminRef{"0.NA/X", 300, 0x07F3});
  values.push_back(admin);
  for (const auto& v : values) {
    std::string fast;
    append_value_json(fast, v);
    EXPECT_EQ(fast, value_to_json(v).dump()) << v.data;
  }
}

TEST(ValueJsonOut, DefaultValueIsCompact) {
  EXPECT_EQ(value_to_json(url_value()).dump(),
            R"({"index":1,"type":"URL","data":{"format":"string","value":"http://example.org/"},)"
            R"("ttl":86400,"timestamp":"2026-11-25T09:55:53Z"})");
}

TEST(ValueJsonOut, NonDefaultPermissionsAbsoluteTtlAndReferences) {
  store::HandleValue v = url_value();
  v.permissions = store::Permissions{true, false, true, false};
  v.ttl_type = store::TtlType::absolute;
  v.ttl = 2147483647;
  v.references = {{"0.NA/88", 100}};
  EXPECT_EQ(
      value_to_json(v).dump(),
      R"({"index":1,"type":"URL","data":{"format":"string","value":"http://example.org/"},)"
      R"("permissions":"1010","ttl":"2038-01-19T03:14:07Z","timestamp":"2026-11-25T09:55:53Z",)"
      R"("references":[{"handle":"0.NA/88","index":100}]})");
}

TEST(ValueJsonOut, StringOrBase64AsHandleNetLooksLikeBinary) {
  const auto format_of = [](std::string_view type, std::string_view data) {
    return data_to_json(type, data)["format"].get<std::string>();
  };
  EXPECT_EQ(format_of("URL", "http://x/"), "string");
  EXPECT_EQ(format_of("URL", ""), "string");
  EXPECT_EQ(format_of("DESC", "tab\tnewline\n\x0e..\x13 are whitespace to Handle.Net"), "string");
  EXPECT_EQ(format_of("DESC", "caf\xC3\xA9 \xF0\x9F\x98\x80"), "string");
  EXPECT_EQ(format_of("DESC", "nul\0"s), "base64");
  EXPECT_EQ(format_of("DESC", "\x01"), "base64");
  EXPECT_EQ(format_of("DESC", "\x14"), "base64");
  EXPECT_EQ(format_of("DESC", "del\x7F"), "base64");
  EXPECT_EQ(format_of("DESC", "\xC3"), "base64");          // truncated UTF-8
  EXPECT_EQ(format_of("DESC", "\xC0\x80"), "base64");      // overlong
  EXPECT_EQ(format_of("DESC", "\xED\xA0\x80"), "base64");  // surrogate
  EXPECT_EQ(data_to_json("DESC", "\x01\x02\x03").dump(), R"({"format":"base64","value":"AQID"})");
  // HS_SECKEY holds the server's Argon2id hash string: plain text.
  EXPECT_EQ(data_to_json("HS_SECKEY", "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA").dump(),
            R"({"format":"string","value":"$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA"})");
}

TEST(ValueJsonOut, AdminFormat) {
  const std::string data = encode_admin(AdminRef{"0.NA/88.100", 200, 0x07F3});
  EXPECT_EQ(
      data_to_json("HS_ADMIN", data).dump(),
      R"({"format":"admin","value":{"handle":"0.NA/88.100","index":200,"permissions":"011111110011"}})");
  EXPECT_EQ(data_to_json("hs_admin", data)["format"], "admin");  // types are case-insensitive
  EXPECT_EQ(data_to_json("URL", data)["format"], "base64");      // only HS_ADMIN is decoded
  EXPECT_EQ(
      data_to_json("HS_ADMIN", encode_admin(AdminRef{"a", 1, 1}, true)).dump(),
      R"({"format":"admin","value":{"handle":"a","index":1,"permissions":"000000000001","legacyByteLength":true}})");
  // Bits past the twelve permissions cannot be shown, so the bytes are.
  EXPECT_EQ(data_to_json("HS_ADMIN", encode_admin(AdminRef{"a", 1, 0x1001}))["format"], "base64");
  // An HS_ADMIN that does not decode falls through, as in GsonUtility.
  EXPECT_EQ(data_to_json("HS_ADMIN", "not an admin")["format"], "string");
}

TEST(ValueJsonOut, VlistFormat) {
  const std::string data = encode_vlist({{"0.NA/10.1000", 200}, {"10.1000/admins", 300}});
  EXPECT_EQ(
      data_to_json("HS_VLIST", data).dump(),
      R"({"format":"vlist","value":[{"handle":"0.NA/10.1000","index":200},{"handle":"10.1000/admins","index":300}]})");
  EXPECT_EQ(data_to_json("HS_VLIST", encode_vlist({{"\xFF", 1}}))["format"], "base64");
}

SiteInfo example_site() {
  SiteInfo site;
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

TEST(ValueJsonOut, SiteFormat) {
  const std::string data = encode_site(example_site());
  EXPECT_EQ(
      data_to_json("HS_SITE", data).dump(),
      R"({"format":"site","value":{"version":1,"protocolVersion":"2.10","serialNumber":1,"primarySite":true,)"
      R"("multiPrimary":false,"attributes":[{"name":"desc","value":"Test"}],"servers":[{"serverId":1,)"
      R"("address":"127.0.0.1","publicKey":{"format":"base64","value":""},"interfaces":[{"query":true,)"
      R"("admin":true,"protocol":"TCP","port":2641}]}]}})");
  EXPECT_EQ(data_to_json("HS_SITE.PREFIX", data)["format"], "site");
  EXPECT_EQ(data_to_json("HS_NA_DELEGATE", data)["format"], "site");
}

TEST(ValueJsonOut, SiteSignedFieldsIpv6AndKeys) {
  SiteInfo site = example_site();
  site.serial_number = 0xFFFF;  // Java's short: -1
  site.hash_option = SiteInfo::kHashBySuffix;
  site.hash_filter = "f";
  site.servers[0].address = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  site.servers[0].public_key =
      encode_public_key(PublicKey{KeyKind::rsa, 0, {"\x01\x00\x01"s, "\x00\xC3\x5F"s}});
  site.servers[0].interfaces = {SiteInterface{SiteInterface::kQuery, 9, 80}};
  const auto j = data_to_json("HS_SITE", encode_site(site));
  ASSERT_EQ(j["format"], "site");
  EXPECT_EQ(j["value"]["serialNumber"], -1);
  EXPECT_EQ(j["value"]["hashOption"], 1);
  EXPECT_EQ(j["value"]["hashFilter"], "f");
  EXPECT_EQ(j["value"]["servers"][0]["address"], "2001:db8::1");
  EXPECT_EQ(j["value"]["servers"][0]["publicKey"].dump(),
            R"({"format":"key","value":{"kty":"RSA","n":"w18","e":"AQAB"}})");
  EXPECT_EQ(j["value"]["servers"][0]["interfaces"][0].dump(),
            R"({"query":true,"admin":false,"protocol":9,"port":80})");
  // An interface type past query|admin has no JSON form: the whole value is shown as bytes.
  site.servers[0].interfaces = {SiteInterface{7, 1, 80}};
  EXPECT_EQ(data_to_json("HS_SITE", encode_site(site))["format"], "base64");
}

TEST(ValueJsonOut, KeyFormat) {
  const PublicKey rsa{KeyKind::rsa, 0, {"\x01\x00\x01"s, "\x00\xC3\x5F"s}};
  EXPECT_EQ(data_to_json("HS_PUBKEY", encode_public_key(rsa)).dump(),
            R"({"format":"key","value":{"kty":"RSA","n":"w18","e":"AQAB"}})");
  const PublicKey dsa{KeyKind::dsa, 0, {"\x01", "\x02", "\x03", "\x04"}};
  EXPECT_EQ(data_to_json("HS_PUBKEY", encode_public_key(dsa)).dump(),
            R"({"format":"key","value":{"kty":"DSA","y":"BA","p":"Ag","q":"AQ","g":"Aw"}})");
  // No JSON form in Handle.Net: Diffie-Hellman keys, set flags, non-minimal integers.
  EXPECT_EQ(data_to_json("HS_PUBKEY", encode_public_key(PublicKey{
                                          KeyKind::dh, 0, {"\x01", "\x02", "\x03"}}))["format"],
            "base64");
  EXPECT_EQ(data_to_json("HS_PUBKEY",
                         encode_public_key(PublicKey{KeyKind::rsa, 1, {"\x01", "\x02"}}))["format"],
            "base64");
  EXPECT_EQ(data_to_json("HS_PUBKEY", encode_public_key(PublicKey{
                                          KeyKind::rsa, 0, {"\x00\x01"s, "\x02"}}))["format"],
            "base64");
}

TEST(ValueJsonOut, InvalidUtf8TypeIsReplaced) {
  store::HandleValue v = url_value();
  v.type = "U\xFFL";
  EXPECT_EQ(value_to_json(v)["type"], "U\xEF\xBF\xBDL");
  EXPECT_NO_THROW(value_to_json(v).dump());
}

// ---------------------------------------------------------------------------
// Round trips for every format

TEST(ValueJsonRoundTrip, EveryFormatAndField) {
  std::vector<store::HandleValue> values;
  values.push_back(url_value());
  auto add = [&](std::string type, std::string data) {
    store::HandleValue v = url_value();
    v.index = static_cast<std::uint32_t>(values.size() + 1);
    v.type = std::move(type);
    v.data = std::move(data);
    values.push_back(std::move(v));
  };
  add("DESC", "\x00\x01\xFF"s);
  add("HS_ADMIN", encode_admin(AdminRef{"0.NA/88.100", 200, 0x07F3}));
  add("HS_ADMIN", encode_admin(AdminRef{"0.NA/88.100", 200, 0x07F3}, true));
  add("HS_ADMIN", "broken");
  add("HS_VLIST", encode_vlist({{"0.NA/10.1000", 200}, {"", 0}}));
  add("HS_SITE", encode_site(example_site()));
  add("HS_SITE.PREFIX", encode_site(SiteInfo{}));
  add("HS_PUBKEY",
      encode_public_key(PublicKey{KeyKind::rsa, 0, {"\x01\x00\x01"s, "\x00\xC3\x5F"s}}));
  add("HS_PUBKEY",
      encode_public_key(PublicKey{KeyKind::dsa, 0, {"\x00"s, "\x7F", "\x00\x80"s, "\x01"}}));
  add("HS_PUBKEY", encode_public_key(PublicKey{KeyKind::dh, 0, {"y", "p", "g"}}));
  add("HS_SECKEY", "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA");
  add("EMPTY", "");
  store::HandleValue odd = url_value();
  odd.index = 0xFFFFFFFF;
  odd.ttl_type = store::TtlType::absolute;
  odd.ttl = std::numeric_limits<std::int32_t>::min();
  odd.timestamp = 0;
  odd.permissions = store::Permissions{false, false, false, true};
  odd.references = {{"a", 0}, {"b", 0xFFFFFFFF}};
  values.push_back(odd);
  store::HandleValue zero_ttl = url_value();
  zero_ttl.ttl = 0;
  values.push_back(zero_ttl);
  for (const auto& v : values) EXPECT_EQ(round_trip(v), v) << value_to_json(v).dump();
}

// ---------------------------------------------------------------------------
// Input

TEST(ValueJsonIn, Defaults) {
  auto v = parse(R"({"index":1,"type":"URL","data":"http://example.org/"})");
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(*v, url_value());
  EXPECT_EQ(v->ttl_type, store::TtlType::relative);
  EXPECT_EQ(v->ttl, 86400);
  EXPECT_EQ(v->timestamp, kNow);
  EXPECT_EQ(v->permissions, store::Permissions{});
  EXPECT_TRUE(v->references.empty());
}

TEST(ValueJsonIn, AllFields) {
  auto v = parse(
      R"({"index":7,"type":"EMAIL","data":{"format":"string","value":"a@b"},"permissions":"0101",)"
      R"("ttl":"2038-01-19T03:14:07Z","timestamp":"2020-01-01T00:00:00Z",)"
      R"("references":[{"handle":"0.NA/1","index":3}],"unknownField":true})");
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->index, 7u);
  EXPECT_EQ(v->data, "a@b");
  EXPECT_EQ(v->permissions, (store::Permissions{false, true, false, true}));
  EXPECT_EQ(v->ttl_type, store::TtlType::absolute);
  EXPECT_EQ(v->ttl, 2147483647);
  EXPECT_EQ(v->timestamp, 1577836800);
  EXPECT_EQ(v->references, (std::vector<store::Reference>{{"0.NA/1", 3}}));
}

TEST(ValueJsonIn, PermissionForms) {
  auto star = parse(R"({"index":1,"type":"URL","data":"x","permissions":"*"})");
  ASSERT_TRUE(star);
  EXPECT_EQ(star->permissions, (store::Permissions{true, true, true, true}));
  auto short_form = parse(R"({"index":1,"type":"URL","data":"x","permissions":"01"})");
  ASSERT_TRUE(short_form);  // right-aligned: public read 0, public write 1
  EXPECT_EQ(short_form->permissions, (store::Permissions{true, true, false, true}));
}

TEST(ValueJsonIn, IntegralFloatsAreIntegers) {
  auto v = parse(R"({"index":2.0,"type":"URL","data":"x","ttl":60.0})");
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->index, 2u);
  EXPECT_EQ(v->ttl, 60);
}

TEST(ValueJsonIn, DataFormats) {
  const auto data = [](std::string_view text) {
    auto r = data_from_json(json::parse(text));
    EXPECT_TRUE(r) << text << ": " << r.error().message;
    return r ? *r : std::string("<error>");
  };
  EXPECT_EQ(data(R"("bare")"), "bare");
  EXPECT_EQ(data(R"({"format":"string","value":"s"})"), "s");
  EXPECT_EQ(data(R"({"format":"STRING","value":"s"})"), "s");
  EXPECT_EQ(data(R"({"format":"base64","value":"AQID"})"), "\x01\x02\x03");
  EXPECT_EQ(data(R"({"format":"base64","value":"AQI="})"), "\x01\x02");
  EXPECT_EQ(data(R"({"format":"base64","value":"AQI"})"), "\x01\x02");
  EXPECT_EQ(data(R"({"format":"base64","value":""})"), "");
  EXPECT_EQ(data(R"({"format":"hex","value":"00fF10"})"), "\x00\xFF\x10"s);
  EXPECT_EQ(
      data(
          R"({"format":"admin","value":{"handle":"0.NA/88.100","index":200,"permissions":"011111110011"}})"),
      encode_admin(AdminRef{"0.NA/88.100", 200, 0x07F3}));
  EXPECT_EQ(data(R"({"format":"vlist","value":[{"handle":"a","index":1}]})"),
            encode_vlist({{"a", 1}}));
  EXPECT_EQ(data(R"({"format":"vlist","value":null})"), encode_vlist({}));
  EXPECT_EQ(data(R"({"format":"key","value":{"kty":"rsa","n":"w18","e":"AQAB"}})"),
            encode_public_key(PublicKey{KeyKind::rsa, 0, {"\x01\x00\x01"s, "\x00\xC3\x5F"s}}));
  // Handle.Net's decoder takes either base64 alphabet and padding in keys.
  EXPECT_EQ(data(R"({"format":"key","value":{"kty":"RSA","n":"w18=","e":"AQAB"}})"),
            encode_public_key(PublicKey{KeyKind::rsa, 0, {"\x01\x00\x01"s, "\x00\xC3\x5F"s}}));
  EXPECT_EQ(data(R"({"format":"key","value":{"kty":"DSA","y":"BA","p":"Ag","q":"AQ","g":"Aw"}})"),
            encode_public_key(PublicKey{KeyKind::dsa, 0, {"\x01", "\x02", "\x03", "\x04"}}));
}

TEST(ValueJsonIn, AdminPermissionForms) {
  const auto perms = [](std::string_view permissions_json) {
    const std::string text =
        R"({"format":"admin","value":{"handle":"h","index":1)" +
        (permissions_json.empty() ? std::string()
                                  : ",\"permissions\":" + std::string(permissions_json)) +
        "}}";
    auto r = data_from_json(json::parse(text));
    EXPECT_TRUE(r) << text;
    auto admin = decode_admin(r ? *r : std::string());
    return admin ? admin->permissions : std::uint16_t{0xFFFF};
  };
  EXPECT_EQ(perms(R"("011111110011")"), 0x07F3);
  EXPECT_EQ(perms(R"("*")"), kAllPermissions);
  EXPECT_EQ(perms("true"), kAllPermissions);
  EXPECT_EQ(perms("false"), 0);
  EXPECT_EQ(perms("2035"), 0x07F3);
  EXPECT_EQ(perms("[1,0,\"x\",null,true]"), 0x0015);  // by bit, add_handle first
  EXPECT_EQ(perms(""), 0);
  EXPECT_EQ(perms("null"), 0);
}

TEST(ValueJsonIn, SiteForms) {
  const std::string modern =
      R"({"format":"site","value":{"version":1,"protocolVersion":"2.10","serialNumber":1,"primarySite":true,)"
      R"("multiPrimary":false,"attributes":[{"name":"desc","value":"Test"}],"servers":[{"serverId":1,)"
      R"("address":"127.0.0.1","publicKey":{"format":"base64","value":""},"interfaces":[{"query":true,)"
      R"("admin":true,"protocol":"TCP","port":2641}]}]}})";
  auto m = data_from_json(json::parse(modern));
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(*m, encode_site(example_site()));

  // The pre-8 spelling: capitalized keys, attributes as a map, hex key.
  const std::string legacy =
      R"({"format":"site","value":{"version":1,"protocolVersion":"2.10","serialNumber":1,"primarySite":true,)"
      R"("Attributes":{"desc":"Test"},"ServerList":[{"ServerId":1,"Address":"127.0.0.1","PublicKey":"",)"
      R"("InterfaceList":[{"Query":true,"Admin":true,"Protocol":"TCP","Port":2641}]}]}})";
  auto l = data_from_json(json::parse(legacy));
  ASSERT_TRUE(l) << l.error().message;
  EXPECT_EQ(*l, encode_site(example_site()));

  // Unsigned spellings of Java's signed fields, and missing fields default.
  auto u = data_from_json(json::parse(
      R"({"format":"site","value":{"serialNumber":65535,"servers":[{"address":"::1","interfaces":[{"protocol":200,"port":1}]}]}})"));
  ASSERT_TRUE(u) << u.error().message;
  auto site = decode_site(*u);
  ASSERT_TRUE(site);
  EXPECT_EQ(site->serial_number, 0xFFFF);
  EXPECT_EQ(site->data_format_version, 1);
  EXPECT_EQ(site->minor_protocol_version, 11);
  EXPECT_EQ(site->hash_option, SiteInfo::kHashByAll);
  EXPECT_EQ(site->servers[0].address[15], 1);
  EXPECT_EQ(site->servers[0].interfaces[0].protocol, 200);
  EXPECT_EQ(site->servers[0].interfaces[0].type, 0);
}

TEST(ValueJsonIn, DataErrors) {
  const auto err = [](std::string_view text) {
    auto r = data_from_json(json::parse(text));
    if (r) return std::string();
    EXPECT_EQ(r.error().code, kInvalidValueCode);
    return r.error().message;
  };
  EXPECT_EQ(err("42"), R"(field "data" must be a string or an object with "format" and "value")");
  EXPECT_EQ(err(R"({"value":"x"})"), R"(field "data.format" is missing)");
  EXPECT_EQ(err(R"({"format":"string"})"), R"(field "data.value" is missing)");
  EXPECT_EQ(
      err(R"({"format":"utf16","value":"x"})"),
      R"(field "data.format" is not a known format (string, base64, hex, admin, vlist, site, key))");
  EXPECT_EQ(err(R"({"format":"string","value":5})"), R"(field "data.value" must be a string)");
  for (const char* b64 : {"AQI*", "AQ==AQ==", "A", "AQ=", "AR==", "AQJ=", "AQ-_", " AQID"}) {
    EXPECT_EQ(err(R"({"format":"base64","value":")" + std::string(b64) + "\"}"),
              R"(field "data.value" is not valid base64)")
        << b64;
  }
  EXPECT_EQ(err(R"({"format":"hex","value":"abc"})"),
            R"(field "data.value" is not valid hex (an even number of digits 0-9, a-f))");
  EXPECT_EQ(err(R"({"format":"hex","value":"zz"})"),
            R"(field "data.value" is not valid hex (an even number of digits 0-9, a-f))");
  EXPECT_EQ(err(R"({"format":"admin","value":"x"})"),
            R"(field "data.value" must be an object with "handle", "index" and "permissions")");
  EXPECT_EQ(err(R"({"format":"admin","value":{"index":1}})"),
            R"(field "data.value.handle" is missing)");
  EXPECT_EQ(err(R"({"format":"admin","value":{"handle":"h","index":-1}})"),
            R"(field "data.value.index" must be an integer from 0 to 4294967295)");
  EXPECT_EQ(
      err(R"({"format":"admin","value":{"handle":"h","index":1,"permissions":"0112"}})"),
      R"(field "data.value.permissions" must be "*" or up to 12 characters 0 and 1, such as "011111110011")");
  EXPECT_EQ(err(R"({"format":"admin","value":{"handle":"h","index":1,"permissions":4096}})"),
            R"(field "data.value.permissions" must be an integer from 0 to 4095)");
  EXPECT_EQ(err(R"({"format":"vlist","value":[{"handle":"a"}]})"),
            R"(field "data.value[0].index" is missing)");
  EXPECT_EQ(err(R"({"format":"vlist","value":{}})"),
            R"(field "data.value" must be an array of {"handle", "index"} objects)");
  EXPECT_EQ(err(R"({"format":"key","value":{"kty":"EC"}})"),
            R"(field "data.value.kty" must be "RSA" or "DSA")");
  EXPECT_EQ(err(R"({"format":"key","value":{"kty":"RSA","n":"w18"}})"),
            R"(field "data.value.e" is missing)");
  EXPECT_EQ(err(R"({"format":"key","value":{"kty":"RSA","n":"w1*","e":"AQAB"}})"),
            R"(field "data.value.n" is not valid base64url)");
  EXPECT_EQ(err(R"({"format":"site","value":{"servers":[{"address":"example.org"}]}})"),
            R"(field "data.value.servers[0].address" must be an IPv4 or IPv6 address)");
  EXPECT_EQ(
      err(R"({"format":"site","value":{"servers":[{"address":"1.2.3.4","interfaces":[{"protocol":"SCTP","port":1}]}]}})"),
      R"(field "data.value.servers[0].interfaces[0].protocol" must be "UDP", "TCP", "HTTP", "HTTPS" or a protocol number)");
  EXPECT_EQ(err(R"({"format":"site","value":{"protocolVersion":"2"}})"),
            R"(field "data.value.protocolVersion" must be "major.minor", such as "2.10")");
  EXPECT_EQ(err(R"({"format":"site","value":{"serialNumber":65536}})"),
            R"(field "data.value.serialNumber" must be an integer from -32768 to 65535)");
  EXPECT_EQ(
      err(R"({"format":"site","value":{"servers":[{"address":"1.2.3.4","publicKey":{"format":"site","value":{"servers":[{"address":"1.2.3.4","publicKey":{"format":"site","value":{"servers":[{"address":"1.2.3.4","publicKey":{"format":"site","value":{"servers":[{"address":"1.2.3.4","publicKey":{"format":"site","value":{"servers":[{"address":"1.2.3.4","publicKey":"x"}]}}}]}}}]}}}]}}}]}})"),
      R"(field "data.value.servers[0].publicKey.value.servers[0].publicKey.value.servers[0].publicKey.value.servers[0].publicKey.value.servers[0].publicKey" nests data objects too deeply)");
}

TEST(ValueJsonIn, ValueErrorsNameTheValueAndField) {
  EXPECT_EQ(error_of("[]"), "value must be a JSON object");
  EXPECT_EQ(error_of(R"({"type":"URL","data":"x"})"), R"(value: field "index" is missing)");
  EXPECT_EQ(error_of(R"({"index":0,"type":"URL","data":"x"})"),
            R"(value: field "index" must be an integer from 1 to 4294967295)");
  EXPECT_EQ(error_of(R"({"index":4294967296,"type":"URL","data":"x"})"),
            R"(value: field "index" must be an integer from 1 to 4294967295)");
  EXPECT_EQ(error_of(R"({"index":-1,"type":"URL","data":"x"})"),
            R"(value: field "index" must be an integer from 1 to 4294967295)");
  EXPECT_EQ(error_of(R"({"index":1.5,"type":"URL","data":"x"})"),
            R"(value: field "index" must be an integer from 1 to 4294967295)");
  EXPECT_EQ(error_of(R"({"index":"1","type":"URL","data":"x"})"),
            R"(value: field "index" must be an integer from 1 to 4294967295)");
  EXPECT_EQ(error_of(R"({"index":3,"data":"x"})"), R"(value 3: field "type" is missing)");
  EXPECT_EQ(error_of(R"({"index":3,"type":1,"data":"x"})"),
            R"(value 3: field "type" must be a string)");
  EXPECT_EQ(error_of(R"({"index":3,"type":"URL"})"), R"(value 3: field "data" is missing)");
  EXPECT_EQ(error_of(R"({"index":3,"type":"URL","data":{"format":"base64","value":"!"}})"),
            R"(value 3: field "data.value" is not valid base64)");
  const std::string ttl_error =
      R"(value 3: field "ttl" must be a number of seconds from 0 to 2147483647, or an ISO 8601 expiry time)";
  EXPECT_EQ(error_of(R"({"index":3,"type":"URL","data":"x","ttl":-1})"), ttl_error);
  EXPECT_EQ(error_of(R"({"index":3,"type":"URL","data":"x","ttl":2147483648})"), ttl_error);
  EXPECT_EQ(error_of(R"({"index":3,"type":"URL","data":"x","ttl":true})"), ttl_error);
  EXPECT_EQ(error_of(R"({"index":3,"type":"URL","data":"x","ttl":null})"), ttl_error);
  EXPECT_EQ(
      error_of(R"({"index":3,"type":"URL","data":"x","ttl":"tomorrow"})"),
      R"(value 3: field "ttl" is a string, so it must be an ISO 8601 expiry time between 1901 and 2038)");
  EXPECT_EQ(
      error_of(R"({"index":3,"type":"URL","data":"x","ttl":"2040-01-01T00:00:00Z"})"),
      R"(value 3: field "ttl" is a string, so it must be an ISO 8601 expiry time between 1901 and 2038)");
  const std::string ts_error =
      R"(value 3: field "timestamp" must be an ISO 8601 time such as "2026-11-25T09:55:53Z")";
  EXPECT_EQ(error_of(R"({"index":3,"type":"URL","data":"x","timestamp":"yesterday"})"), ts_error);
  EXPECT_EQ(error_of(R"({"index":3,"type":"URL","data":"x","timestamp":1795600553})"), ts_error);
  const std::string perm_error =
      R"(value 3: field "permissions" must be "*" or up to four characters 0 and 1, such as "1110")";
  EXPECT_EQ(error_of(R"({"index":3,"type":"URL","data":"x","permissions":"11111"})"), perm_error);
  EXPECT_EQ(error_of(R"({"index":3,"type":"URL","data":"x","permissions":"rw"})"), perm_error);
  EXPECT_EQ(error_of(R"({"index":3,"type":"URL","data":"x","permissions":""})"), perm_error);
  EXPECT_EQ(error_of(R"({"index":3,"type":"URL","data":"x","permissions":1110})"), perm_error);
  EXPECT_EQ(error_of(R"({"index":3,"type":"URL","data":"x","references":{}})"),
            R"(value 3: field "references" must be an array of {"handle", "index"} objects)");
  EXPECT_EQ(error_of(R"({"index":3,"type":"URL","data":"x","references":[{"index":1}]})"),
            R"(value 3: field "references[0].handle" is missing)");
  EXPECT_EQ(error_of(R"({"index":3,"type":"URL","data":"x","references":[5]})"),
            R"(value 3: field "references[0]" must be an object with "handle" and "index")");
}

// ---------------------------------------------------------------------------
// Bodies

TEST(ValueJsonBody, ThreeShapes) {
  const std::string one = R"({"index":1,"type":"URL","data":"http://example.org/"})";
  for (const std::string& body : {"[" + one + "]", R"({"values":[)" + one + "]}",
                                  R"({"handle":"0.NA/1","values":[)" + one + "]}", one}) {
    auto r = values_from_body(body, kNow);
    ASSERT_TRUE(r) << body << ": " << r.error().message;
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ(r->front(), url_value());
  }
}

TEST(ValueJsonBody, EmptyBodies) {
  for (const char* body : {"[]", R"({"values":[]})", R"({"values":null})"}) {
    auto r = values_from_body(body, kNow);
    ASSERT_TRUE(r) << body;
    EXPECT_TRUE(r->empty());
  }
}

TEST(ValueJsonBody, Many) {
  auto r = values_from_body(
      R"([{"index":1,"type":"URL","data":"a"},{"index":100,"type":"HS_ADMIN","data":{"format":"admin",)"
      R"("value":{"handle":"0.NA/88","index":200,"permissions":"011111110011"}}},{"index":2,"type":"X","data":"b"}])",
      kNow);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[1].index, 100u);
  EXPECT_EQ((*r)[1].data, encode_admin(AdminRef{"0.NA/88", 200, 0x07F3}));
  EXPECT_EQ((*r)[2].data, "b");
}

TEST(ValueJsonBody, Errors) {
  EXPECT_EQ(body_error(""),
            "request body is not valid JSON: parse error at line 1, column 1: syntax error while "
            "parsing value - unexpected end of input; expected '[', '{', or a literal");
  EXPECT_EQ(body_error("[{"),
            "request body is not valid JSON: parse error at line 1, column 3: syntax error while "
            "parsing object key - unexpected end of input; expected string literal");
  EXPECT_EQ(
      body_error("42"),
      R"(request body must be a JSON array of values, an object with "values", or one value object)");
  EXPECT_EQ(
      body_error(R"({"index":1,"type":"URL"})"),
      R"(request body object has neither "values" nor the "index", "type" and "data" of a value)");
  EXPECT_EQ(body_error(R"({"values":{}})"),
            R"(field "values" of the request body must be an array)");
  EXPECT_EQ(
      body_error(R"([{"index":1,"type":"URL","data":"a"},{"index":0,"type":"URL","data":"a"}])"),
      R"(value at position 1: field "index" must be an integer from 1 to 4294967295)");
  EXPECT_EQ(body_error(R"([{"index":1,"type":"URL","data":"a"},"x"])"),
            "value at position 1 must be a JSON object");
  EXPECT_EQ(
      body_error(R"([{"index":5,"type":"URL","data":"a"},{"index":5,"type":"EMAIL","data":"b"}])"),
      R"(value 5: field "index" repeats an index already used in this request body)");
  EXPECT_EQ(
      body_error(R"([{"index":5,"type":"URL","data":"a","ttl":-5}])"),
      R"(value 5: field "ttl" must be a number of seconds from 0 to 2147483647, or an ISO 8601 expiry time)");
  EXPECT_EQ(body_error(std::string(100, '[') + std::string(100, ']')),
            "request body nests JSON more than 64 levels deep");
}

TEST(ValueJsonBody, AtMostTenThousandValues) {
  const auto body = [](std::size_t n) {
    std::string b = "[";
    for (std::size_t i = 1; i <= n; ++i) {
      if (i > 1) b += ',';
      b += R"({"index":)" + std::to_string(i) + R"(,"type":"T","data":"d"})";
    }
    return b + "]";
  };
  auto ok = values_from_body(body(kMaxValuesPerBody), kNow);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->size(), kMaxValuesPerBody);
  EXPECT_EQ(body_error(body(kMaxValuesPerBody + 1)),
            "request body has 10001 values; at most 10000 are allowed");
}

}  // namespace
}  // namespace idra::api
