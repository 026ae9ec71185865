// parse_query and parse_time: the query string of GET /api/audit/entries.
#include <gtest/gtest.h>

#include "helpers.hpp"

namespace idra::audit {
namespace {

TEST(QueryString, Everything) {
  auto f = parse_query(
      "principal=300%3AIDRA%2Falice&identifier=IDRA/a+b%20c&action=handle.read&decision=deny"
      "&from=2026-12-01T10:00:00Z&to=1796126400001&cursor=42&limit=7");
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->principal, "300:IDRA/alice");
  EXPECT_EQ(f->identifier, "IDRA/a+b c");
  EXPECT_EQ(f->action, "handle.read");
  EXPECT_EQ(f->decision, Decision::deny);
  EXPECT_EQ(f->from_ms, 1796119200000);
  EXPECT_EQ(f->to_ms, 1796126400001);
  EXPECT_EQ(f->cursor, 42u);
  EXPECT_EQ(f->limit, 7u);
  EXPECT_EQ(*parse_query(""), Filter{});
  EXPECT_EQ(parse_query("limit=1000")->limit, 1000u);
  EXPECT_EQ(parse_query("identifier=%C3%A9")->identifier, "\xC3\xA9");
}

TEST(QueryString, ErrorsNameTheProblem) {
  const std::pair<const char*, const char*> cases[] = {
      {"colour=red", "unknown parameter \"colour\""},
      {"principal=a&principal=b", "principal: given more than once"},
      {"principal=", "principal: empty value"},
      {"principal", "principal: needs a value"},
      {"principal=a&&action=b", "empty parameter"},
      {"&", "empty parameter"},
      {"identifier=%zz", "identifier: '%' must be followed by two hex digits"},
      {"identifier=%4", "identifier: '%'"},
      {"identifier=%FF", "identifier: not valid UTF-8"},
      {"identifier=a%0Ab", "identifier: contains a control character"},
      {"decision=maybe", "decision: must be allow or deny"},
      {"from=yesterday", "from: not unix milliseconds"},
      {"to=2026-13-01T00:00:00Z", "to: date-time out of range"},
      {"to=2026-02-29T00:00:00Z", "to: date-time out of range"},
      {"from=2026-12-01T10:00:00", "from: not unix"},
      {"from=0123", "from: not a unix time"},
      {"from=99999999999999999999", "from: not a unix time"},
      {"from=2026-12-01T10:00:00Z&to=2026-12-01T09:59:59.999Z", "from: is after to"},
      {"cursor=-1", "cursor: must be a leaf index"},
      {"cursor=01", "cursor: must be a leaf index"},
      {"limit=0", "limit: must be 1 to 1000"},
      {"limit=1001", "limit: must be 1 to 1000"},
      {"limit=ten", "limit: must be 1 to 1000"},
  };
  for (const auto& [query, message] : cases) {
    auto f = parse_query(query);
    ASSERT_FALSE(f.ok()) << query;
    EXPECT_NE(f.error().message.find(message), std::string::npos)
        << query << " -> " << f.error().message;
  }
  EXPECT_FALSE(parse_query(std::string(9000, 'a')).ok());
  EXPECT_FALSE(parse_query("identifier=" + std::string(2049, 'a')).ok());
}

TEST(QueryString, Times) {
  EXPECT_EQ(*parse_time("0"), 0);
  EXPECT_EQ(*parse_time("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*parse_time("1970-01-01t00:00:00.5z"), 500);
  EXPECT_EQ(*parse_time("1970-01-01T00:00:00.123456Z"), 123);
  EXPECT_EQ(*parse_time("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_EQ(*parse_time("1969-12-31T23:00:00-01:00"), 0);
  EXPECT_EQ(*parse_time("2024-02-29T12:00:00Z"), 1709208000000);
  EXPECT_EQ(*parse_time("1969-12-31T23:59:59.999Z"), -1);
  EXPECT_EQ(*parse_time("9223372036854775807"), INT64_MAX);
  for (const char* bad :
       {"", "-1", "1970-01-01", "1970-01-01T00:00Z", "1970-01-01T00:00:60Z", "1970-01-01T24:00:00Z",
        "1970-01-01T00:00:00.Z", "1970-01-01T00:00:00+1:00", "1970-01-01T00:00:00Zjunk",
        "9223372036854775808", "1970-1-01T00:00:00Z"}) {
    EXPECT_FALSE(parse_time(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace idra::audit
