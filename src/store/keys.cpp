// keys.cpp: record keys and long-handle envelopes (format in keys.hpp).
#include "store/keys.hpp"

#include <sodium.h>

#include <array>
#include <cstdint>
#include <stdexcept>

#include "idra/ids.hpp"

namespace idra::store::keys {
namespace {

static_assert(crypto_hash_sha256_BYTES == kDigestBytes);
static_assert(kInlineHandleBytes < ids::kMaxHandleBytes);
constexpr std::size_t kLengthBytes = 4;

std::array<unsigned char, kDigestBytes> sha256(std::string_view bytes) {
  // SHA-256 needs no randomness, but libsodium asks to be initialised before
  // any call; sodium_init is idempotent and thread-safe.
  static const int ready = sodium_init();
  if (ready < 0) throw std::runtime_error("store: libsodium could not be initialised");
  std::array<unsigned char, kDigestBytes> out{};
  crypto_hash_sha256(out.data(), reinterpret_cast<const unsigned char*>(bytes.data()),
                     bytes.size());
  return out;
}

}  // namespace

std::string record_key(std::string_view handle) {
  if (handle.size() <= kInlineHandleBytes) return std::string(handle);
  const auto digest = sha256(handle);
  std::string key;
  key.reserve(kLongKeyBytes);
  key.append(handle.substr(0, kInlineHandleBytes));
  key.push_back(kLongKeyMarker);
  key.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  return key;
}

bool is_long_key(std::string_view key) {
  return key.size() == kLongKeyBytes && key[kInlineHandleBytes] == kLongKeyMarker;
}

std::string wrap_long(std::string_view handle, std::string_view record_bytes) {
  std::string out;
  out.reserve(kLengthBytes + handle.size() + record_bytes.size());
  const auto n = static_cast<std::uint32_t>(handle.size());  // <= 2048: checked by the store
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(n >> shift));
  out.append(handle);
  out.append(record_bytes);
  return out;
}

std::optional<LongValue> unwrap_long(std::string_view value) {
  if (value.size() < kLengthBytes) return std::nullopt;
  std::uint32_t n = 0;
  for (std::size_t i = 0; i < kLengthBytes; ++i) n = (n << 8) | static_cast<std::uint8_t>(value[i]);
  if (n <= kInlineHandleBytes || n > ids::kMaxHandleBytes) return std::nullopt;
  if (n > value.size() - kLengthBytes) return std::nullopt;
  return LongValue{value.substr(kLengthBytes, n), value.substr(kLengthBytes + n)};
}

}  // namespace idra::store::keys
