// store_record: decode_record on arbitrary bytes.
//
// decode_record must never read out of bounds or crash, and the encoding is
// canonical: whatever decodes re-encodes to exactly the input bytes and
// decodes again to the same Record. Any difference aborts.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "idra/store.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto decoded = idra::store::decode_record(input);
  if (!decoded.ok()) return 0;

  const std::string encoded = idra::store::encode_record(*decoded);
  if (encoded != input) {
    std::fprintf(stderr, "re-encoding differs: %zu bytes in, %zu out\n", input.size(),
                 encoded.size());
    std::abort();
  }
  auto again = idra::store::decode_record(encoded);
  if (!again.ok() || !(*again == *decoded)) {
    std::fprintf(stderr, "second decode differs\n");
    std::abort();
  }
  return 0;
}
