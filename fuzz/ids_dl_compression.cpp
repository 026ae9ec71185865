// ids_dl_compression: compressed GS1 Digital Links on arbitrary bytes,
// checking round trips (BoringSSL fuzz/cert.cc style):
//   decompress(x) ok -> compress (every option) -> decompress: the same link
//   parse_digital_link(x) ok -> digital_link_uri -> parse: the same link;
//                             -> compress -> decompress: the same link
// "The same" is stem, primary key, qualifiers in order, data attributes and
// other query parameters as sets (compression sorts them; other parameters'
// values compared percent-decoded). Any mismatch aborts.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "idra/gs1.hpp"
#include "idra/text.hpp"

namespace {

namespace gs1 = idra::ids::gs1;

[[noreturn]] void fail(const char* what, std::string_view input, const std::string& detail) {
  std::fprintf(stderr, "ids_dl_compression: %s\n  input: %.*s\n  then:  %s\n", what,
               static_cast<int>(input.size()), input.data(), detail.c_str());
  std::abort();
}

std::vector<gs1::AiValue> sorted(std::vector<gs1::AiValue> v) {
  std::sort(v.begin(), v.end(),
            [](const gs1::AiValue& a, const gs1::AiValue& b) { return a.ai < b.ai; });
  return v;
}

std::vector<std::string> normalized(const std::vector<std::string>& params) {
  std::vector<std::string> out;
  for (const std::string& p : params) {
    const std::size_t eq = p.find('=');
    if (eq == std::string::npos) {
      out.push_back(p);
      continue;
    }
    idra::Result<std::string> v = idra::text::percent_decode(p.substr(eq + 1), false, 0);
    out.push_back(v ? p.substr(0, eq + 1) + *v : p);
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool same(const gs1::DigitalLink& a, const gs1::DigitalLink& b) {
  return a.stem == b.stem && a.primary_key == b.primary_key && a.qualifiers == b.qualifiers &&
         sorted(a.attributes) == sorted(b.attributes) &&
         normalized(a.other_query_params) == normalized(b.other_query_params);
}

bool too_long_for_compression(const gs1::DigitalLink& dl) {
  // (8007) IBAN: the reference's 5 length bits hold at most 31 characters.
  return std::any_of(dl.attributes.begin(), dl.attributes.end(),
                     [](const gs1::AiValue& a) { return a.ai == "8007" && a.value.size() > 31; });
}

bool second_key(const gs1::DigitalLink& dl) {
  return std::any_of(dl.attributes.begin(), dl.attributes.end(), [](const gs1::AiValue& a) {
    const gs1::AiEntry* e = gs1::dictionary().find(a.ai);
    return e != nullptr && e->dl_primary_key;
  });
}

// check_compression compresses |dl| with every option and decompresses it.
void check_compression(std::string_view input, const gs1::DigitalLink& dl) {
  for (int variant = 0; variant < 3; ++variant) {
    gs1::CompressionOptions options;
    options.use_optimisations = variant != 1;
    options.compress_other_key_value_pairs = variant != 2;
    const idra::Result<std::string> c = gs1::compress_digital_link(dl, options);
    if (!c) {
      if (c.error().message.empty()) fail("compress: an error without a message", input, "");
      if (too_long_for_compression(dl) || second_key(dl)) continue;
      fail("compress failed", input, c.error().message);
    }
    if (!gs1::has_compressed_digital_link_shape(*c)) fail("compressed has no shape", input, *c);
    const idra::Result<gs1::DigitalLink> back = gs1::decompress_digital_link(*c);
    if (!back) fail("decompress(compress) failed", input, *c + ": " + back.error().message);
    if (!same(dl, *back))
      fail("decompress(compress) differs", input, *c + " -> " + gs1::digital_link_uri(*back));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)gs1::has_compressed_digital_link_shape(input);

  const idra::Result<gs1::DigitalLink> d = gs1::decompress_digital_link(input);
  if (d) {
    if (second_key(*d))
      fail("decompress returned a second primary key", input, gs1::digital_link_uri(*d));
    check_compression(input, *d);
  } else if (d.error().message.empty()) {
    fail("decompress: an error without a message", input, "");
  }

  const idra::Result<gs1::DigitalLink> p = gs1::parse_digital_link(input);
  if (p) {
    const std::string printed = gs1::digital_link_uri(*p);
    const idra::Result<gs1::DigitalLink> again = gs1::parse_digital_link(printed);
    if (!again)
      fail("parse(digital_link_uri) failed", input, printed + ": " + again.error().message);
    if (again->primary_key != p->primary_key || again->qualifiers != p->qualifiers ||
        again->attributes != p->attributes || again->stem != p->stem) {
      fail("parse(digital_link_uri) differs", input, printed);
    }
    check_compression(input, *p);
  }
  return 0;
}
