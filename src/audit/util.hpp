// util.hpp: byte helpers shared by the audit module's sources.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "idra/audit.hpp"

namespace idra::audit::util {

// ensure_sodium runs sodium_init once; a failure (no entropy source) is
// fatal for a signer, so it throws std::runtime_error.
void ensure_sodium();

// be64 / read_be64: fixed 8-byte big-endian integers, so that LMDB's byte
// order is numeric order.
std::string be64(std::uint64_t value);
std::uint64_t read_be64(std::string_view bytes);  // bytes.size() >= 8

// base64 is RFC 4648 section 4 with padding.
std::string base64(std::string_view bytes);
// unbase64 decodes canonical padded base64 only: anything that would not
// re-encode to the same text (bad padding, non-zero trailing bits, spaces,
// URL alphabet) is nullopt.
std::optional<std::string> unbase64(std::string_view text);

// valid_utf8 rejects overlong forms, surrogates and code points over U+10FFFF.
bool valid_utf8(std::string_view text);

// append_json_string appends |s| as encode_leaf writes a string: quoted,
// with exactly its escapes and U+FFFD for invalid UTF-8 (record.cpp).
void append_json_string(std::string& out, std::string_view s);
// append_utf8_replacing appends |s| with each byte that starts no valid
// UTF-8 sequence replaced by U+FFFD, as encode_leaf stores it (unquoted,
// unescaped).
void append_utf8_replacing(std::string& out, std::string_view s);

// parse_leaf is decode_leaf without its final check that the leaf is the
// record's canonical encoding: for the indexer, which reads leaves that
// append wrote (a leaf changed since only proposes wrong candidates, which
// the query's decode_leaf then rejects; check_stored finds the change).
Result<AuditRecord> parse_leaf(std::string_view leaf);
// parse_leaf_into is parse_leaf into |record|, whose strings and vectors
// keep their capacity from one leaf to the next (the indexer's loop). On an
// Error |record| holds part of the leaf.
Result<void> parse_leaf_into(std::string_view leaf, AuditRecord& record);

// leaf_hash_into / node_hash_into are leaf_hash / node_hash writing the
// kHashBytes of the hash to |out| (no allocation). |out| may not overlap
// the inputs. They throw only if OpenSSL fails, as leaf_hash does.
void leaf_hash_into(char* out, std::string_view leaf);
void node_hash_into(char* out, std::string_view left, std::string_view right);

// HashKeys is how a log keys its audit_hashes table (audit.hpp, "Storage").
// A log started by this version is marked by_last_leaf at its first append:
// a node is keyed by the last leaf it covers, then its level, so every hash
// is written with an append. A log started before has no mark (or, in tests,
// the mark by_level) and keeps its level-first keys, written with puts.
enum class HashKeys { by_level = 1, by_last_leaf = 2 };

// hash_key is the audit_hashes key of the complete subtree at |level| and
// |index| (the subtree over leaves [index << level, (index + 1) << level)).
std::string hash_key(HashKeys keys, unsigned level, std::uint64_t index);

// hash_keys returns how |view|'s log keys its hashes. Throws (corrupt) on
// a mark other than "1" or "2".
HashKeys hash_keys(const store::ReadView& view);

// mark_hash_keys marks an empty log as keyed by |keys| before its first
// append (tests make by_level logs with it, as earlier versions wrote them).
// Throws std::logic_error if the log is not empty.
void mark_hash_keys(store::WriteView& view, HashKeys keys);

// LeafRef is a leaf to append, by reference: its bytes, its leaf hash
// (kHashBytes) and its time, as in PreparedLeaf.
struct LeafRef {
  std::int64_t time_ms = 0;
  std::string_view leaf;
  std::string_view leaf_hash;
};

// append_leaves is append_prepared for leaves held elsewhere (the
// ReadBatcher's queue): a leaf earlier than its predecessor is stored with
// that time and rehashed, but |leaves| are not changed (so a retried
// transaction stores the same bytes again). Returns the index of the first.
// Throws on a corrupt log.
std::uint64_t append_leaves(store::WriteView& view, std::span<const LeafRef> leaves);

// append_index_terms appends index_terms (audit.hpp) of a record given by
// the fields that are indexed.
void append_index_terms(std::string& out, std::string_view principal_id, std::string_view action,
                        Decision decision, std::span<const std::string> resources);

// parse_u64 accepts "0" or [1-9][0-9]* that fits in 64 bits.
std::optional<std::uint64_t> parse_u64(std::string_view text);

}  // namespace idra::audit::util
