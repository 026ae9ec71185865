// store_envelope: keys::unwrap_long on arbitrary bytes (the value of a
// long-handle key, format in src/store/keys.hpp).
//
// unwrap_long must never read out of bounds, and the envelope is canonical:
// whatever unwraps re-wraps to exactly the input bytes, and the handle it
// carries is long, so its record key is a long key starting with the
// handle's first 400 bytes. Any difference aborts.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "store/keys.hpp"

namespace keys = idra::store::keys;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto value = keys::unwrap_long(input);
  if (!value) return 0;

  if (keys::wrap_long(value->handle, value->record_bytes) != input) {
    std::fprintf(stderr, "re-wrapping differs (%zu bytes in)\n", input.size());
    std::abort();
  }
  const std::string key = keys::record_key(value->handle);
  if (!keys::is_long_key(key) || keys::is_short_key(key) ||
      key.compare(0, keys::kInlineHandleBytes, value->handle, 0, keys::kInlineHandleBytes) != 0) {
    std::fprintf(stderr, "the key of a %zu-byte handle is not a long key\n", value->handle.size());
    std::abort();
  }
  return 0;
}
