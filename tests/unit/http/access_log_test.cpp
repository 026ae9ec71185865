#include "http/access_log.hpp"

#include <gtest/gtest.h>

namespace idra::http {
namespace {

std::string escaped(std::string_view s) {
  std::string out;
  json_escape(out, s);
  return out;
}

TEST(JsonEscape, KeepsEveryLineValidJson) {
  EXPECT_EQ(escaped("plain/path?x=1"), "plain/path?x=1");
  EXPECT_EQ(escaped("a\"b\\c\n"), "a\\\"b\\\\c\\n");
  EXPECT_EQ(escaped(std::string("\x01", 1)), "\\u0001");
  EXPECT_EQ(escaped("caf\xc3\xa9"), "caf\xc3\xa9");  // valid UTF-8 is kept
  EXPECT_EQ(escaped("\xff"), "\\u00ff");              // a stray byte is escaped
  EXPECT_EQ(escaped("\xc3"), "\\u00c3");              // truncated sequence
  // Escapes at either end and between plain runs; DEL is escaped too.
  EXPECT_EQ(escaped("\"a\x7f" "b\\"), "\\\"a\\u007fb\\\\");
  EXPECT_EQ(escaped("ab\tcd\xc3\xa9" "ef\x1f"), "ab\\tcd\xc3\xa9" "ef\\u001f");
  EXPECT_EQ(escaped(""), "");
}

}  // namespace
}  // namespace idra::http
