// The canonical leaf encoding: exact bytes, strict decoding, round trips.
#include <gtest/gtest.h>

#include "helpers.hpp"

namespace idra::audit {
namespace {

AuditRecord example() {
  AuditRecord r;
  r.time_ms = 1764583200123;
  r.request_id = "01J9Z";
  r.principal = {PrincipalKind::certificate, "300:IDRA/alice", "ACME \"Labs\"", "auditor", "ab01"};
  r.client = "3f2a";
  r.action = "handle.read";
  r.resources = {"IDRA/1", "IDRA/\xC3\xA9\\x"};
  r.value_indexes = {1, 4294967295u};
  r.decision = Decision::allow;
  r.policies = {"p1", "p2"};
  r.http_status = 200;
  r.handle_code = 1;
  r.duration_us = 18446744073709551615ull;
  return r;
}

constexpr std::string_view kExampleLeaf =
    R"({"v":1,"time_ms":1764583200123,"request_id":"01J9Z",)"
    R"("principal":{"kind":"certificate","id":"300:IDRA/alice","org":"ACME \"Labs\"",)"
    R"("role":"auditor","cert_sha256":"ab01"},"client":"3f2a","action":"handle.read",)"
    "\"resources\":[\"IDRA/1\",\"IDRA/\xC3\xA9\\\\x\"],\"value_indexes\":[1,4294967295],"
    R"("decision":"allow","policies":["p1","p2"],"http_status":200,"handle_code":1,)"
    R"("duration_us":18446744073709551615})";

TEST(Leaf, ExactBytes) {
  EXPECT_EQ(encode_leaf(example()), kExampleLeaf);
  auto decoded = decode_leaf(kExampleLeaf);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, example());
}

TEST(Leaf, EmptyRecord) {
  const AuditRecord r;
  EXPECT_EQ(encode_leaf(r),
            R"({"v":1,"time_ms":0,"request_id":"","principal":{"kind":"anonymous","id":"",)"
            R"("org":"","role":"","cert_sha256":""},"client":"","action":"","resources":[],)"
            R"("value_indexes":[],"decision":"deny","policies":[],"http_status":0,)"
            R"("handle_code":0,"duration_us":0})");
  EXPECT_EQ(*decode_leaf(encode_leaf(r)), r);
}

TEST(Leaf, Escapes) {
  AuditRecord r;
  r.time_ms = -5;
  r.request_id = std::string("a\0b\x1f\x7f\"\\/\t", 9);
  const std::string leaf = encode_leaf(r);
  EXPECT_NE(leaf.find(R"("time_ms":-5,)"), std::string::npos);
  EXPECT_NE(leaf.find(R"("request_id":"a\u0000b\u001f\u007f\"\\/\u0009")"), std::string::npos)
      << leaf;
  EXPECT_EQ(*decode_leaf(leaf), r);
}

TEST(Leaf, InvalidUtf8IsReplaced) {
  AuditRecord r;
  r.client =
      "a\xFF"
      "b\xC3";                // stray byte, truncated sequence
  r.action = "\xED\xA0\x80";  // a surrogate
  r.request_id = "\xC0\xAF";  // overlong '/'
  const std::string leaf = encode_leaf(r);
  auto back = decode_leaf(leaf);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->client,
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD");
  EXPECT_EQ(back->action, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(back->request_id, "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(encode_leaf(*back), leaf);
}

TEST(Leaf, RejectsEveryOtherSpelling) {
  const std::string good = encode_leaf(example());
  auto replaced = [&](std::string_view from, std::string_view to) {
    std::string s = good;
    const auto at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    s.replace(at, from.size(), to);
    return s;
  };
  const std::vector<std::string> bad = {
      "",
      good + " ",
      good + "\n",
      " " + good,
      replaced("\"v\":1", "\"v\":2"),
      replaced("\"v\":1", "\"v\":01"),
      replaced("\"v\":1,", "\"v\":1, "),
      replaced("1764583200123", "01764583200123"),
      replaced("1764583200123", "1764583200123.0"),
      replaced("1764583200123", "1.764583200123e12"),
      replaced("\"http_status\":200", "\"http_status\":-200"),
      replaced("\"value_indexes\":[1,", "\"value_indexes\":[1 ,"),
      replaced("4294967295", "4294967296"),
      replaced("18446744073709551615", "18446744073709551616"),
      replaced("\"allow\"", "\"Allow\""),
      replaced("\"certificate\"", "\"robot\""),
      replaced("\\\"Labs\\\"", "\\u0022Labs\\u0022"),
      replaced("p1", "p\\u0031"),
      replaced("p1", "p\\/1"),
      replaced("p1", "\\u00"),
      replaced("p1", "p\t1"),
      replaced("\xC3\xA9", "\\u00e9"),
      replaced("\xC3\xA9", "\xC3"),
      replaced("\xC3\xA9", "\xE0\x80\xA9"),
      replaced("\"request_id\":\"01J9Z\",\"principal\"", "\"principal\""),
      replaced("\"client\":\"3f2a\",\"action\":\"handle.read\"",
               "\"action\":\"handle.read\",\"client\":\"3f2a\""),
      good.substr(0, good.size() - 1),
  };
  for (const auto& leaf : bad) {
    EXPECT_FALSE(decode_leaf(leaf).ok()) << leaf;
  }
  AuditRecord control;
  control.client = "\x01";
  std::string upper = encode_leaf(control);
  upper.replace(upper.find("\\u0001"), 6, "\\u0001");
  EXPECT_TRUE(decode_leaf(upper).ok());
  control.client = "\x1f";
  upper = encode_leaf(control);
  upper.replace(upper.find("\\u001f"), 6, "\\u001F");
  EXPECT_FALSE(decode_leaf(upper).ok());
}

TEST(Leaf, SampleRecordsRoundTrip) {
  for (std::uint64_t i = 0; i < 200; ++i) {
    const AuditRecord r = testing::sample_record(i);
    const std::string leaf = encode_leaf(r);
    auto back = decode_leaf(leaf);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(*back, r);
    EXPECT_EQ(encode_leaf(*back), leaf);
  }
}

TEST(Pseudonym, KeyedAndStable) {
  const std::string key(32, 'k');
  const std::string a = pseudonymize("192.0.2.1", key);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(a, pseudonymize("192.0.2.1", key));
  EXPECT_NE(a, pseudonymize("192.0.2.2", key));
  EXPECT_NE(a, pseudonymize("192.0.2.1", std::string(32, 'j')));
  EXPECT_THROW((void)pseudonymize("x", "short"), std::invalid_argument);
  EXPECT_THROW((void)pseudonymize("x", std::string(65, 'k')), std::invalid_argument);
}

}  // namespace
}  // namespace idra::audit
