// api_links: the parsers of the web resolver's outside input: GS1_LINK value
// data (parse_link), Accept / Accept-Language (parse_weighted) and link types
// (expand_link_type). Invariants: no crash; a link accepted is written by
// link_data to text that parses back to the same link; link types expand to
// a fixed point; weights are in (0, 1] and ordered; the fast link reader
// and nlohmann's parser agree.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/links.hpp"

namespace {

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "api_links: %s: %.*s\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace links = idra::api::links;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  // The fast reader and the JSON parser agree: the verdict on the input is
  // the verdict on the JSON parser's own rendering of it.
  const auto j = nlohmann::json::parse(in, nullptr, false);
  if (!j.is_discarded() && j.is_object()) {
    const std::string canonical = j.dump();
    auto a = links::parse_link(in);
    auto b = links::parse_link(canonical);
    if (a.ok() != b.ok() || (a.ok() && !(*a == *b))) fail("fast reader and JSON parser disagree", in);
  }
  if (auto link = links::parse_link(in)) {
    const std::string text = links::link_data(*link);
    auto back = links::parse_link(text);
    if (!back || !(*back == *link)) fail("link_data does not parse back", text);
    (void)links::linkset_json("https://id.example.com/01/09506000134352", "", {&*link});
    (void)links::link_header({&*link}, {});
  }
  if (auto type = links::expand_link_type(in)) {
    auto again = links::expand_link_type(*type);
    if (!again || *again != *type) fail("expand_link_type is not a fixed point", *type);
  }
  const auto weighted = links::parse_weighted(in);
  for (std::size_t i = 0; i < weighted.size(); ++i) {
    if (!(weighted[i].q > 0.0 && weighted[i].q <= 1.0)) fail("weight out of range", weighted[i].value);
    if (i > 0 && weighted[i].q > weighted[i - 1].q) fail("weights out of order", weighted[i].value);
  }
  return 0;
}
