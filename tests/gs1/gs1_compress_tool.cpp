// gs1_compress_tool: a test-only filter over idra's Digital Link compression,
// for tests/gs1/compression.test.mjs to compare with digital-link.js. Reads
// one request per line on stdin and writes one answer line per request:
//   c <uri>          compress (optimisations and non-GS1 pairs on)
//   c-noopt <uri>    compress without optimisations
//   c-noother <uri>  compress, non-GS1 query parameters left in the query
//   d <uri>          decompress, print the uncompressed URI
//   p <uri>          parse an uncompressed URI, print it as digital_link_uri
// Answers: "ok <text>" or "error <message>".
#include <iostream>
#include <string>
#include <string_view>

#include "idra/gs1.hpp"

namespace {

using idra::ids::gs1::CompressionOptions;

std::string one_line(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

std::string answer(const idra::Result<std::string>& r) {
  return r.ok() ? "ok " + *r : "error " + one_line(r.error().message);
}

std::string run(std::string_view cmd, std::string_view uri) {
  namespace gs1 = idra::ids::gs1;
  if (cmd == "d" || cmd == "p") {
    const idra::Result<gs1::DigitalLink> dl =
        cmd == "d" ? gs1::decompress_digital_link(uri) : gs1::parse_digital_link(uri);
    if (!dl) return "error " + one_line(dl.error().message);
    return "ok " + gs1::digital_link_uri(*dl);
  }
  CompressionOptions options;
  if (cmd == "c-noopt") {
    options.use_optimisations = false;
  } else if (cmd == "c-noother") {
    options.compress_other_key_value_pairs = false;
  } else if (cmd != "c") {
    return "error unknown command " + std::string(cmd);
  }
  const idra::Result<gs1::DigitalLink> dl = gs1::parse_digital_link(uri);
  if (!dl) return "error " + one_line(dl.error().message);
  return answer(gs1::compress_digital_link(*dl, options));
}

}  // namespace

int main() {
  std::ios::sync_with_stdio(false);
  std::string line;
  while (std::getline(std::cin, line)) {
    const std::size_t sp = line.find(' ');
    const std::string_view l(line);
    std::cout << run(l.substr(0, sp), sp == std::string::npos ? "" : l.substr(sp + 1)) << '\n';
    std::cout.flush();
  }
  return 0;
}
