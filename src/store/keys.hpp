// keys.hpp: how a handle becomes a key of the "records" database, private to
// the store module.
//
// LMDB limits keys to mdb_env_get_maxkeysize() bytes (511 in Debian's build)
// while a handle may have ids::kMaxHandleBytes (2048). So:
//
// - A handle of at most kInlineHandleBytes (400) bytes is its own key, and its
//   value is the record encoding (codec.cpp), unchanged from the first
//   release of the store.
// - A longer handle gets the key
//       head:400 bytes (the handle's first 400)  0x00  sha256(handle):32 bytes
//   (kLongKeyBytes = 433 bytes), and its value is an envelope that carries the
//   whole handle in front of the unchanged record encoding:
//       handle_length:u32 (big-endian, 401..2048)  handle  record
//
// Why this shape:
// - The key starts with the handle's first 400 bytes, so the handles of a
//   prefix (keys "PREFIX/...") stay one contiguous key range and list() keeps
//   working with one cursor scan. Key order is handle order, except among
//   long handles that share their first 400 bytes, which sort by digest.
// - A short key has at most 400 bytes and a long key exactly 433 with 0x00 at
//   byte 400 (a canonical handle never holds U+0000), so a key alone says
//   which kind it is; any other key in "records" is a broken invariant.
// - The envelope lets get() check that the stored handle is the one asked
//   for (a head-plus-SHA-256 collision is not a practical concern, but a
//   mismatch is detected and treated as corruption), and lets list() return
//   full handles without a second lookup. Only long keys have envelopes, so
//   stores written before long handles existed read exactly as before.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace idra::store::keys {

inline constexpr std::size_t kInlineHandleBytes = 400;
inline constexpr std::size_t kDigestBytes = 32;
inline constexpr char kLongKeyMarker = '\0';
inline constexpr std::size_t kLongKeyBytes = kInlineHandleBytes + 1 + kDigestBytes;

// record_key returns the "records" key of |handle| (the handle itself, or the
// long form above). |handle| must be non-empty; the store checks the length
// limit before calling. It never fails (libsodium failing to initialise
// throws std::runtime_error: the process cannot work without it).
std::string record_key(std::string_view handle);

// is_long_key says whether |key| has the long form (433 bytes, 0x00 at byte
// 400); it does not say whether the digest is right.
bool is_long_key(std::string_view key);

// is_short_key says whether |key| is a handle stored as its own key.
inline bool is_short_key(std::string_view key) {
  return !key.empty() && key.size() <= kInlineHandleBytes;
}

// wrap_long returns the envelope of |handle| (longer than kInlineHandleBytes)
// around |record_bytes|.
std::string wrap_long(std::string_view handle, std::string_view record_bytes);

// LongValue views an envelope; both views point into the unwrapped bytes.
struct LongValue {
  std::string_view handle;
  std::string_view record_bytes;
};

// unwrap_long splits an envelope. nullopt if |value| is truncated or its
// handle length is outside kInlineHandleBytes+1..2048 (the caller treats that
// as corruption). It never reads past |value| and never decodes the record.
std::optional<LongValue> unwrap_long(std::string_view value);

}  // namespace idra::store::keys
