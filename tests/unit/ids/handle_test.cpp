// Handle syntax: prefix/suffix, hierarchy, length, UTF-8, schemes.
#include <gtest/gtest.h>

#include <string>

#include "idra/ids.hpp"

namespace idra::ids {
namespace {

struct HandleCase {
  std::string input;
  std::string prefix;  // expected canonical prefix; empty means an Error
  std::string suffix;
  std::string error_part = {};  // substring expected in the error message
};

class HandleParse : public ::testing::TestWithParam<HandleCase> {};

TEST_P(HandleParse, Parses) {
  const HandleCase& c = GetParam();
  Result<Handle> h = parse_handle(c.input);
  if (c.prefix.empty()) {
    ASSERT_FALSE(h.ok()) << c.input << " parsed as " << h->str();
    EXPECT_NE(h.error().message.find(c.error_part), std::string::npos)
        << "message: " << h.error().message;
  } else {
    ASSERT_TRUE(h.ok()) << c.input << ": " << h.error().message;
    EXPECT_EQ(h->prefix, c.prefix);
    EXPECT_EQ(h->suffix, c.suffix);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, HandleParse,
    ::testing::Values(
        HandleCase{"10.1000/abc", "10.1000", "abc"},
        HandleCase{"88.100.1/x/y", "88.100.1", "x/y"},  // split at the first '/'
        HandleCase{"hdl:10.1000/abc", "10.1000", "abc"},
        HandleCase{"HDL:10.1000/abc", "10.1000", "abc"},
        HandleCase{"doi:10.1000/ABC", "10.1000", "ABC"},  // suffix case kept
        HandleCase{"DoI:10.abc/Def", "10.ABC", "Def"},    // prefix upper-cased
        HandleCase{"idra.Sub/Ser/A1", "IDRA.SUB", "Ser/A1"},
        HandleCase{"0.NA/88.100", "0.NA", "88.100"},  // a handle; its prefix is 0.NA
        HandleCase{"10.1000/a b", "10.1000", "a b"},  // spaces are fine in a suffix
        HandleCase{"10.1000/\xC3\xA9t\xC3\xA9", "10.1000", "\xC3\xA9t\xC3\xA9"},
        HandleCase{"\xC3\xA9.x/s", "\xC3\xA9.X", "s"},  // non-ASCII kept, ASCII upper-cased
        HandleCase{"10.1000/", "", "", "empty suffix at byte 8"},
        HandleCase{"hdl:10.1000/", "", "", "empty suffix at byte 12"},
        HandleCase{"/abc", "", "", "empty prefix at byte 0"},
        HandleCase{"10.1000", "", "", "no '/'"}, HandleCase{"", "", "", "empty handle"},
        HandleCase{"hdl:", "", "", "empty handle at byte 4"},
        HandleCase{"hdl:doi:10.1/x", "", "", "scheme given twice at byte 4"},
        HandleCase{".10/x", "", "", "empty prefix segment at byte 0"},
        HandleCase{"10./x", "", "", "empty prefix segment at byte 3"},
        HandleCase{"10..1/x", "", "", "empty prefix segment at byte 3"},
        HandleCase{"10 .1/x", "", "", "whitespace U+0020 at byte 2"},
        HandleCase{"10\t1/x", "", "", "control character U+0009 at byte 2"},
        HandleCase{"10\xC2\xA0"
                   "1/x",
                   "", "", "whitespace U+00A0 at byte 2"},
        HandleCase{"10\xE3\x80\x80"
                   "1/x",
                   "", "", "whitespace U+3000 at byte 2"},
        HandleCase{"10\xC2\x85"
                   "1/x",
                   "", "", "control character U+0085 at byte 2"},
        HandleCase{"10.1/a\nb", "", "", "control character 0x0A at byte 6"},
        HandleCase{"10.1/a\x7F", "", "", "control character 0x7F at byte 6"},
        HandleCase{std::string("10.1/a\0b", 8), "", "", "control character 0x00 at byte 6"},
        // Invalid UTF-8, with the offset of the bad sequence.
        HandleCase{"10.1/a\xC0\xAF", "", "", "invalid UTF-8 at byte 6: overlong"},
        HandleCase{"10.1/\xE0\x80\xAF", "", "", "invalid UTF-8 at byte 5: overlong"},
        HandleCase{"10.1/\xF0\x80\x80\xAF", "", "", "invalid UTF-8 at byte 5: overlong"},
        HandleCase{"10.1/\xED\xA0\x80", "", "", "invalid UTF-8 at byte 5: UTF-16 surrogate"},
        HandleCase{"10.1/\xED\xBF\xBF", "", "", "invalid UTF-8 at byte 5: UTF-16 surrogate"},
        HandleCase{"10.1/\xF4\x90\x80\x80", "", "", "invalid UTF-8 at byte 5: code point above"},
        HandleCase{"10.1/\xF5\x80\x80\x80", "", "", "invalid UTF-8 at byte 5"},
        HandleCase{"10.1/ab\x80", "", "", "invalid UTF-8 at byte 7: continuation byte"},
        HandleCase{"10.1/ab\xC3", "", "", "invalid UTF-8 at byte 7: truncated"},
        HandleCase{"10.1/\xE2\x82x", "", "", "invalid UTF-8 at byte 5: truncated"},
        HandleCase{"hdl:\xFF.1/x", "", "", "invalid UTF-8 at byte 4"}));

TEST(Handle, LengthBoundaryIs2048BytesWithoutScheme) {
  const std::string prefix = "10.1000/";
  const std::string at_limit = prefix + std::string(kMaxHandleBytes - prefix.size(), 'a');
  ASSERT_EQ(at_limit.size(), 2048u);
  EXPECT_TRUE(parse_handle(at_limit).ok());
  EXPECT_TRUE(parse_handle("hdl:" + at_limit).ok());  // the scheme does not count
  const Result<Handle> over = parse_handle(at_limit + "a");
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.error().message.find("2049 bytes"), std::string::npos) << over.error().message;
  EXPECT_FALSE(parse_handle("doi:" + at_limit + "a").ok());
  // Multi-byte characters count in bytes.
  std::string utf8 = prefix;
  while (utf8.size() + 2 <= kMaxHandleBytes) utf8 += "\xC3\xA9";
  EXPECT_TRUE(parse_handle(utf8).ok());
  EXPECT_FALSE(parse_handle(utf8 + "\xC3\xA9").ok());
}

TEST(Handle, ValidMultibyteSequencesAccepted) {
  // Boundaries of each sequence length.
  for (const char* s : {"\xC2\x80", "\xDF\xBF", "\xE0\xA0\x80", "\xED\x9F\xBF", "\xEE\x80\x80",
                        "\xEF\xBF\xBF", "\xF0\x90\x80\x80", "\xF4\x8F\xBF\xBF"}) {
    EXPECT_TRUE(parse_handle(std::string("10.1/") + s).ok()) << s;
  }
}

TEST(Handle, CanonicalPrefix) {
  EXPECT_EQ(*canonical_prefix("88.100.1"), "88.100.1");
  EXPECT_EQ(*canonical_prefix("idra.test"), "IDRA.TEST");
  EXPECT_FALSE(canonical_prefix("0.NA/88.100").ok());
  EXPECT_FALSE(canonical_prefix("").ok());
  EXPECT_FALSE(canonical_prefix("88..1").ok());
  EXPECT_FALSE(canonical_prefix("88.1.").ok());
  EXPECT_FALSE(canonical_prefix("8 8").ok());
  EXPECT_FALSE(canonical_prefix("\xC0\x80").ok());
}

TEST(Handle, Ancestors) {
  EXPECT_EQ(prefix_ancestors("88.100.1"), (std::vector<std::string>{"88.100.1", "88.100", "88"}));
  EXPECT_EQ(prefix_ancestors("88"), (std::vector<std::string>{"88"}));
  EXPECT_EQ(prefix_ancestors("0.NA"), (std::vector<std::string>{"0.NA", "0"}));
  EXPECT_EQ(prefix_parent("88.100.1"), "88.100");
  EXPECT_EQ(prefix_parent("88"), "");
  EXPECT_EQ(prefix_parent(".5"), "");
  EXPECT_TRUE(prefix_ancestors("").empty());
}

TEST(Handle, Within) {
  EXPECT_TRUE(prefix_is_within("88.100.1", "88.100"));
  EXPECT_TRUE(prefix_is_within("88.100.1", "88"));
  EXPECT_TRUE(prefix_is_within("88.100", "88.100"));
  EXPECT_FALSE(prefix_is_within("20.5001", "20.500"));
  EXPECT_FALSE(prefix_is_within("20.500", "20.5001"));
  EXPECT_FALSE(prefix_is_within("88", "88.100"));
  EXPECT_FALSE(prefix_is_within("880", "88"));
  EXPECT_FALSE(prefix_is_within("88", ""));
}

TEST(Handle, SchemeNames) {
  for (Scheme s : {Scheme::handle, Scheme::gs1, Scheme::epc, Scheme::oid, Scheme::iec61406}) {
    EXPECT_EQ(scheme_from_name(scheme_name(s)), s);
  }
  EXPECT_EQ(scheme_from_name("GS1"), std::nullopt);
  EXPECT_EQ(scheme_from_name("doi"), std::nullopt);
}

}  // namespace
}  // namespace idra::ids
