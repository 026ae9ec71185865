// write_head: the exact bytes of a response head.
#include "http/response_head.hpp"

#include <gtest/gtest.h>

namespace idra::http {
namespace {

api::Response response(unsigned status, std::vector<api::Header> headers, std::string body) {
  api::Response r;
  r.status = status;
  r.headers = std::move(headers);
  r.body = std::move(body);
  return r;
}

TEST(ResponseHead, StatusLineFieldsInOrderAndLength) {
  std::string out = "left over from the last response";
  write_head(out, response(307, {{"location", "https://e.com/p?a=1"}, {"vary", "Accept"}}, "{}"), "ab12", false,
             false);
  EXPECT_EQ(out,
            "HTTP/1.1 307 Temporary Redirect\r\nServer: idra\r\nx-request-id: ab12\r\n"
            "location: https://e.com/p?a=1\r\nvary: Accept\r\nContent-Length: 2\r\n\r\n");
  write_head(out, response(200, {}, ""), "", false, true);
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nServer: idra\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
}

TEST(ResponseHead, NoLengthFor204And304ButForHead) {
  std::string out;
  write_head(out, response(204, {}, ""), "", false, false);
  EXPECT_EQ(out, "HTTP/1.1 204 No Content\r\nServer: idra\r\n\r\n");
  write_head(out, response(304, {{"etag", "\"x\""}}, ""), "", false, false);
  EXPECT_EQ(out, "HTTP/1.1 304 Not Modified\r\nServer: idra\r\netag: \"x\"\r\n\r\n");
  // HEAD: the length of the body a GET would get.
  write_head(out, response(200, {}, "12345"), "", true, false);
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nServer: idra\r\nContent-Length: 5\r\n\r\n");
}

TEST(ResponseHead, NoHeaderCanBeSplitOrInjected) {
  std::string out;
  write_head(out, response(302, {{"location", "/a\r\nSet-Cookie: x=1"}, {"x\nbad", std::string("v\0w", 3)}}, ""), "", false, false);
  EXPECT_EQ(out.find("\r\nSet-Cookie"), std::string::npos);
  EXPECT_NE(out.find("location: /a  Set-Cookie: x=1\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x bad: v w\r\n"), std::string::npos) << out;
  // At either end of a value, and several in a row, each becomes one space.
  std::string edges;
  write_head(edges, response(200, {{"a", "\r\nx\n"}, {"b", std::string("\0\0", 2)}, {"c", "\r"}}, ""), "", false, false);
  EXPECT_NE(edges.find("\r\na:   x \r\nb:   \r\nc:  \r\n"), std::string::npos) << edges;
  // Every line but the last two ends in CRLF, with no bare CR or LF inside.
  std::size_t lines = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] == '\n') {
      ASSERT_GT(i, 0u);
      EXPECT_EQ(out[i - 1], '\r');
      ++lines;
    }
  }
  EXPECT_EQ(lines, 6u);  // status, server, two fields, length, blank
  // A status out of range is a 500.
  write_head(out, response(42, {}, ""), "", false, false);
  EXPECT_TRUE(out.starts_with("HTTP/1.1 500 Internal Server Error\r\n")) << out;
}

}  // namespace
}  // namespace idra::http
