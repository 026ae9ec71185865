// audit.hpp: the tamper-evident audit log.
//
// Every request idra answers becomes one AuditRecord; its canonical encoding
// (encode_leaf) is a leaf of an RFC 6962/9162 Merkle tree kept in LMDB next
// to the data it describes. A mutation and its record are appended in the
// same write transaction; records of reads ride in groups (ReadBatcher).
// Signed checkpoints (C2SP tlog-checkpoint, signed-note with Ed25519) commit
// the log to a (size, root) pair; anyone holding the log's verifier key can
// then check inclusion of a record and consistency between two checkpoints
// without trusting the server.
//
// Layers, each usable alone:
//   records      AuditRecord, encode_leaf/decode_leaf, pseudonymize
//   merkle       pure tree math and RFC 9162 proof verification
//   storage      append/query/proofs over store::ReadView/WriteView
//   notes        signed notes, verifier and signer keys, checkpoints
//   verifier     what `idra audit verify` needs, with no LMDB at all
//   batching     ReadBatcher (group commit of read records), Checkpointer
//   queries      parse_query (GET /api/audit/entries) -> Filter
//
// Hashes and proofs are raw bytes in std::string (32 bytes for SHA-256);
// base64 is only a matter of the notes and of the HTTP layer.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "idra/result.hpp"
#include "idra/store.hpp"

namespace idra::audit {

// ===========================================================================
// Records and their canonical leaf encoding.

enum class PrincipalKind : std::uint8_t { anonymous, handle, certificate };
enum class Decision : std::uint8_t { allow, deny };

std::string_view principal_kind_name(PrincipalKind kind);  // "anonymous", "handle", "certificate"
std::string_view decision_name(Decision decision);         // "allow", "deny"

struct AuditPrincipal {
  PrincipalKind kind = PrincipalKind::anonymous;
  std::string id;            // handle of the principal, or certificate subject id; "" if anonymous
  std::string organization;  // "" when unknown
  std::string role;          // "" when none
  std::string cert_sha256;   // lowercase hex SHA-256 of the client certificate DER; "" if none
  bool operator==(const AuditPrincipal&) const = default;
};

struct AuditRecord {
  std::int64_t time_ms = 0;  // unix milliseconds (see append: never decreases along the log)
  std::string request_id;
  AuditPrincipal principal;
  std::string client;  // client address, pseudonymized by the caller when configured
  std::string action;  // for example "handle.read", "handle.update", "est.enroll"
  std::vector<std::string> resources;        // canonical identifiers (handles) touched
  std::vector<std::uint32_t> value_indexes;  // handle value indexes returned
  Decision decision = Decision::deny;
  std::vector<std::string> policies;  // ids of the determining policies
  std::uint32_t http_status = 0;
  std::uint32_t handle_code = 0;  // Handle System responseCode (0 when not a Handle request)
  std::uint64_t duration_us = 0;
  bool operator==(const AuditRecord&) const = default;
};

// RecordView is an AuditRecord by reference: what encode_leaf and prepare
// read, so that a caller holding the fields elsewhere (a request being
// answered) encodes them without copying them into an AuditRecord first.
// Every view and span must stay valid while it is used.
struct RecordView {
  std::int64_t time_ms = 0;
  std::string_view request_id;
  PrincipalKind principal_kind = PrincipalKind::anonymous;
  std::string_view principal_id;
  std::string_view organization;
  std::string_view role;
  std::string_view cert_sha256;
  std::string_view client;
  std::string_view action;
  std::span<const std::string> resources;
  std::span<const std::uint32_t> value_indexes;
  Decision decision = Decision::deny;
  std::span<const std::string> policies;
  std::uint32_t http_status = 0;
  std::uint32_t handle_code = 0;
  std::uint64_t duration_us = 0;

  // set_principal points the principal fields at |p| (which must outlive the view).
  void set_principal(const AuditPrincipal& p) {
    principal_kind = p.kind;
    principal_id = p.id;
    organization = p.organization;
    role = p.role;
    cert_sha256 = p.cert_sha256;
  }
};

// view_of returns a RecordView of |record| (which must outlive it);
// to_record copies a view back into a record.
RecordView view_of(const AuditRecord& record);
AuditRecord to_record(const RecordView& record);

// kLeafVersion is the value of the "v" field written by encode_leaf.
inline constexpr int kLeafVersion = 1;

// encode_leaf returns the canonical leaf bytes of |record|. It never fails.
// The format (version 1) is one JSON object, no whitespace anywhere, these
// members in exactly this order, every member always present:
//
//   {"v":1,"time_ms":I,"request_id":S,
//    "principal":{"kind":K,"id":S,"org":S,"role":S,"cert_sha256":S},
//    "client":S,"action":S,"resources":[S,...],"value_indexes":[U,...],
//    "decision":D,"policies":[S,...],"http_status":U,"handle_code":U,
//    "duration_us":U}
//
//   I  decimal integer, optional '-' then 0 or [1-9][0-9]*, no "-0"
//   U  decimal integer 0 or [1-9][0-9]*
//   K  "anonymous" | "handle" | "certificate";  D  "allow" | "deny"
//   S  '"' UTF-8 text '"' where exactly these are escaped: '"' as \", '\' as
//      \\, and bytes 0x00-0x1F and 0x7F as \u00xx (lowercase hex); every
//      other character is written as its UTF-8 bytes. A string of the record
//      that is not valid UTF-8 has each offending byte replaced by U+FFFD
//      (so encode_leaf is total; decode_leaf(encode_leaf(r)) is r with that
//      replacement applied).
//   arrays keep the record's order and duplicates; [] when empty.
std::string encode_leaf(const AuditRecord& record);
std::string encode_leaf(const RecordView& record);
// encode_leaf_into is encode_leaf appending to |out| (whose capacity a
// caller may reuse from one record to the next).
void encode_leaf_into(std::string& out, const RecordView& record);

// decode_leaf parses leaf bytes. It accepts exactly the bytes encode_leaf
// writes: any other spelling (whitespace, other member order, other escapes,
// leading zeros, unknown version, invalid UTF-8) is an Error. So for every
// accepted |leaf|, encode_leaf(decode_leaf(leaf)) == leaf.
Result<AuditRecord> decode_leaf(std::string_view leaf);

// pseudonymize returns the lowercase hex of a 16-byte keyed BLAKE2b of
// |address| (libsodium crypto_generichash). The same key maps an address to
// the same pseudonym, so an auditor can correlate requests without learning
// addresses. |key| must be 16 to 64 bytes (a configuration error otherwise:
// throws std::invalid_argument).
std::string pseudonymize(std::string_view address, std::string_view key);

// ===========================================================================
// Merkle tree math (RFC 9162 section 2.1), pure functions.

inline constexpr std::size_t kHashBytes = 32;
using Hash = std::string;  // kHashBytes raw bytes
using Proof = std::vector<Hash>;

Hash sha256(std::string_view bytes);
Hash leaf_hash(std::string_view leaf);                          // SHA-256(0x00 || leaf)
Hash node_hash(std::string_view left, std::string_view right);  // SHA-256(0x01 || l || r)
Hash empty_root();                                              // SHA-256("")

// root_of returns the Merkle tree hash of the leaves whose hashes are |leaf_hashes|.
Hash root_of(std::span<const Hash> leaf_hashes);

// SubtreeFn returns the hash of the complete subtree at |level| and |index|:
// the one over leaves [index << level, (index + 1) << level). It is only
// asked for subtrees inside the tree size it was given with.
using SubtreeFn = std::function<Hash(unsigned level, std::uint64_t index)>;

// root_from returns the root of the first |size| leaves from complete
// subtrees: at most 64 calls of |subtree|.
Hash root_from(std::uint64_t size, const SubtreeFn& subtree);
// inclusion_proof is RFC 9162 PATH(index, D[size]); an Error if index >= size.
Result<Proof> inclusion_proof(std::uint64_t index, std::uint64_t size, const SubtreeFn& subtree);
// consistency_proof is RFC 9162 PROOF(size1, D[size2]); empty when size1 is
// 0 or equals size2; an Error if size1 > size2.
Result<Proof> consistency_proof(std::uint64_t size1, std::uint64_t size2, const SubtreeFn& subtree);

// verify_inclusion checks |proof| per RFC 9162 2.1.3.2. Errors say why; a
// leaf hash or proof element that is not 32 bytes is an Error.
Result<void> verify_inclusion(std::string_view leaf_hash, std::uint64_t index, std::uint64_t size,
                              std::span<const Hash> proof, std::string_view root);
// verify_consistency checks |proof| per RFC 9162 2.1.4.2. Equal sizes need
// an empty proof and equal roots. size1 == 0 is an Error (a proof from the
// empty tree proves nothing; a caller that accepts it checks root1 ==
// empty_root() itself), as is size1 > size2.
Result<void> verify_consistency(std::uint64_t size1, std::uint64_t size2, std::string_view root1,
                                std::string_view root2, std::span<const Hash> proof);

// ===========================================================================
// Storage: the log inside the node's LMDB environment.
//
// Tables (store::Table):
//   audit_leaves  BE64(index) -> leaf bytes
//   audit_hashes  BE64(last leaf it covers) || level (1 byte) -> 32-byte
//                 hash of every complete subtree, so that roots and proofs of
//                 any size read O(log n) hashes and never rehash leaves. The
//                 nodes a leaf completes all end at that leaf, lowest level
//                 first, so the keys only grow and every write is an append.
//                 A log started before this layout (no "hash_keys" mark, or
//                 "1") keeps level (1 byte) || BE64(index at that level).
//   audit_index   't' || BE64(time_ms ^ 2^63) -> BE64(first leaf index at
//                 that time), written by append; and the secondary indexes,
//                 written by index_pending (see below): 'e' || BE64(epoch)
//                 || tag || BE16(length) || value || BE64(last leaf) ->
//                 BE64(first leaf), or empty when first == last: one entry
//                 per run of consecutive leaves [first, last] of one epoch
//                 that share the value; epoch is leaf index >>
//                 kIndexEpochBits and the tag is 'p' principal id, 'r'
//                 resource identifier, 'a' action, 'd' decision (values over
//                 400 bytes as 0xFFFF || SHA-256(value))
//   audit_state   "size" -> BE64(tree size); "time" -> last time_ms;
//                 "indexed" -> BE64(leaves [0, n) whose secondary index
//                 entries are stored); "hash_keys" -> "2" (audit_hashes keyed
//                 by last leaf, written at a new log's first append);
//                 "checkpoint:" || BE64(size) -> signed checkpoint note;
//                 "latest_checkpoint" -> the newest one
//
// Why the secondary indexes are written apart from the leaves, and split in
// epochs: a read names a random identifier, so an index entry written with
// its leaf lands on a random B-tree page that each group commit rewrites and
// syncs (4.4 KB written per 400-byte record, bench/RESULTS.md). append
// therefore writes only what grows at the end of its tables (leaf, hashes,
// time); index_pending writes the index entries later, many leaves per
// transaction, into the current epoch's key range, whose pages the next
// transaction finds again (the epoch's part of the index is small). A query
// reads the indexes up to "indexed" and the leaves after it (the tail, which
// the ReadBatcher keeps short); an index walk visits epochs in order, one
// seek each at most, so it costs one seek per 2^16 leaves of the range asked
// for plus one per candidate, never a scan of entries.

inline constexpr unsigned kIndexEpochBits = 16;

struct Appended {
  std::uint64_t index = 0;
  std::string leaf;  // the bytes stored (time_ms possibly raised, see append)
  Hash leaf_hash;
};

// append adds |record| as the next leaf of the log inside |view|; it commits
// with the caller's transaction or not at all. Time ranges map to leaf
// ranges because time_ms never decreases along the log: a record stamped
// earlier than its predecessor (it waited in a queue, or the clock stepped
// back) is stored with its predecessor's time_ms. The secondary index
// entries are not written here (index_pending); queries find the record
// anyway. Throws on a corrupt log.
Appended append(store::WriteView& view, const AuditRecord& record);
Appended append(store::WriteView& view, const RecordView& record);

// PreparedLeaf is a record encoded and hashed ahead of its append, so that
// the work is done by the thread that made the record, not by the log's
// single writer. It also carries the record's secondary index terms
// (index_terms), so that the writer can index the leaf from memory instead
// of parsing it back (index_pending's |known|).
struct PreparedLeaf {
  std::int64_t time_ms = 0;
  std::string leaf;   // encode_leaf(record)
  Hash leaf_hash;     // leaf_hash(leaf)
  std::string terms;  // index_terms(record)
};
PreparedLeaf prepare(const AuditRecord& record);
PreparedLeaf prepare(const RecordView& record);

// index_terms returns the secondary index terms of |record|, each as the
// index key prefix it is stored under (tag || BE16(length) || value, or tag
// || 0xFFFF || SHA-256(value) for values over 400 bytes), concatenated:
// principal id ('p'), action ('a'), decision ('d'), then each resource
// ('r') in the record's order, duplicates included. It never fails; for a
// leaf read back, index_pending derives the same bytes from the parsed
// record.
std::string index_terms(const RecordView& record);

// append_prepared appends |leaves| in order as append would each record
// (a leaf whose time is earlier than its predecessor's is rewritten with
// that time and rehashed, in place) and returns the index of the first.
// It reads the tree's state once and keeps the right edge of the tree in
// memory, so a batch costs its puts and its hashes only. Throws on a
// corrupt log.
std::uint64_t append_prepared(store::WriteView& view, std::span<PreparedLeaf> leaves);

// indexed_size is the number of leaves, from 0, whose secondary index
// entries are stored (<= tree_size).
std::uint64_t indexed_size(const store::ReadView& view);
// KnownTerms returns the index terms (index_terms) of the leaf at |index|
// when the caller holds them in memory, or an empty view when it does not.
// The terms must be those of the leaf committed at that index, and stay
// valid until index_pending returns. index_pending asks once per leaf, in
// ascending order (and again if its transaction is retried).
using KnownTerms = std::function<std::string_view(std::uint64_t index)>;

// index_pending writes the secondary index entries of up to |max_leaves|
// leaves after indexed_size, in key order, and advances it; it returns how
// many it indexed (0 when the index is complete). The terms of a leaf come
// from |known| when it has them (the common case: the ReadBatcher hands
// over the terms of what it just committed), otherwise from the stored
// leaf, parsed back (leaves of changes, leaves left unindexed by a previous
// run). Both give the same entries. A stored leaf that does not parse is
// corruption: throws.
std::uint64_t index_pending(store::WriteView& view, std::uint64_t max_leaves,
                            const KnownTerms& known = {});

// tree_size is the number of leaves committed.
std::uint64_t tree_size(const store::ReadView& view);
// root_at returns the root of the first |size| leaves; an Error if |size|
// exceeds the tree size. Reads at most 64 stored hashes.
Result<Hash> root_at(const store::ReadView& view, std::uint64_t size);
// leaf_at returns the stored leaf bytes of |index|, nullopt past the end.
std::optional<std::string> leaf_at(const store::ReadView& view, std::uint64_t index);
// prove_inclusion / prove_consistency read O(log n) stored hashes; Errors
// for indexes or sizes outside the tree. A missing stored hash inside the
// tree is corruption and throws.
Result<Proof> prove_inclusion(const store::ReadView& view, std::uint64_t index, std::uint64_t size);
Result<Proof> prove_consistency(const store::ReadView& view, std::uint64_t size1,
                                std::uint64_t size2);

// check_stored recomputes the first |size| leaves' hashes from their bytes
// and every complete subtree above them, compares each with what is stored,
// and checks that the root equals |expected_root| (a root taken from a
// signed checkpoint). O(size); for `idra audit verify --full`. The Error
// names the first discrepancy (a tampered leaf or hash).
Result<void> check_stored(const store::ReadView& view, std::uint64_t size,
                          std::string_view expected_root);

inline constexpr std::uint32_t kDefaultQueryLimit = 100;
inline constexpr std::uint32_t kMaxQueryLimit = 1000;

// Filter selects entries; every member that is set must match. Times are
// unix milliseconds, both ends inclusive.
struct Filter {
  std::optional<std::string> principal;   // principal id
  std::optional<std::string> identifier;  // one of the record's resources
  std::optional<std::string> action;
  std::optional<Decision> decision;
  std::optional<std::int64_t> from_ms;
  std::optional<std::int64_t> to_ms;
  std::uint64_t cursor = 0;                  // first leaf index to consider
  std::uint32_t limit = kDefaultQueryLimit;  // 1..kMaxQueryLimit
  bool operator==(const Filter&) const = default;
};

struct Entry {
  std::uint64_t index = 0;
  std::string leaf;
  AuditRecord record;
};

struct Page {
  std::vector<Entry> entries;                // ascending leaf index
  std::optional<std::uint64_t> next_cursor;  // set iff more entries match
};

// query returns up to filter.limit matching entries with index >= cursor, in
// index order. It never scans the whole log: the time range becomes a leaf
// range by two index seeks; over the indexed leaves the other constraints
// are intersected by a leapfrog join over their indexes (each step one seek
// in the current epoch), so the cost follows the rarest constraint, not the
// log size; the leaves not indexed yet (the tail after indexed_size, kept
// short by the ReadBatcher, see BatcherConfig::index_batch) are read and
// matched one by one (a substring test before any decoding), so an entry
// is found as soon as it is committed. A limit of 0 or over kMaxQueryLimit,
// or from_ms > to_ms, is an Error.
Result<Page> query(const store::ReadView& view, const Filter& filter);

// ===========================================================================
// Signed notes (C2SP signed-note) and checkpoints (C2SP tlog-checkpoint),
// Ed25519 only (signature type 0x01).

// VerifierKey is a parsed vkey "name+hex(key id)+base64(0x01 || public key)".
struct VerifierKey {
  std::string name;
  std::uint32_t id = 0;
  std::string public_key;  // 32 bytes
  bool operator==(const VerifierKey&) const = default;
};

// key_id is SHA-256(name || "\n" || 0x01 || public_key)[:4], big-endian.
std::uint32_t key_id(std::string_view name, std::string_view public_key);
// valid_key_name: non-empty, valid UTF-8, no Unicode space, no '+'.
bool valid_key_name(std::string_view name);

// parse_verifier_key accepts exactly the form above (8 hex digits, standard
// padded base64); a wrong algorithm byte, key length or key id is an Error.
Result<VerifierKey> parse_verifier_key(std::string_view text);
std::string format_verifier_key(const VerifierKey& key);

// SignerKey owns an Ed25519 private key; its memory is zeroed on
// destruction and when moved from. Movable, not copyable.
class SignerKey {
 public:
  // parse accepts "PRIVATE+KEY+name+hex(id)+base64(0x01 || 32-byte seed)"
  // and checks the id against the derived public key.
  static Result<SignerKey> parse(std::string_view text);
  // generate makes a new random key named |name| (an Error for a bad name).
  static Result<SignerKey> generate(std::string_view name);

  SignerKey(SignerKey&& other) noexcept;
  SignerKey& operator=(SignerKey&& other) noexcept;
  SignerKey(const SignerKey&) = delete;
  SignerKey& operator=(const SignerKey&) = delete;
  ~SignerKey();

  const std::string& name() const { return name_; }
  std::uint32_t id() const { return id_; }
  VerifierKey verifier() const;
  // to_string returns the PRIVATE+KEY form: a secret, for key files only.
  std::string to_string() const;
  // sign returns the 64-byte Ed25519 signature of |message|.
  std::string sign(std::string_view message) const;

 private:
  SignerKey() = default;
  void wipe() noexcept;
  std::string name_;
  std::uint32_t id_ = 0;
  unsigned char seed_[32] = {};
  unsigned char secret_[64] = {};  // libsodium form: seed || public key
};

struct NoteSignature {
  std::string name;
  std::uint32_t id = 0;
  std::string signature;  // without the 4-byte key id
};

struct Note {
  std::string text;  // ends with '\n'
  std::vector<NoteSignature> signatures;
};

// 16 post-quantum signatures of up to 5 kB each (the spec's minimum) fit with room to spare.
inline constexpr std::size_t kMaxNoteBytes = 1 << 18;
inline constexpr std::size_t kMaxNoteSignatures = 100;

// parse_note splits a signed note into text and signature lines, with every
// syntactic rule of the spec: valid UTF-8, no control character but '\n',
// text ending in '\n' followed by one blank line, then one or more lines
// "— name base64(id || sig)" (sig at least one byte), each ending in '\n';
// at most kMaxNoteBytes and kMaxNoteSignatures. Signatures are not checked.
Result<Note> parse_note(std::string_view note);

// verify_note parses |note| and checks it against |keys|: signatures whose
// (name, id) matches no key are ignored; a signature of a known key that
// does not verify rejects the whole note; at least one known key must have
// signed. Returns the parsed note with only the verified signatures.
Result<Note> verify_note(std::string_view note, std::span<const VerifierKey> keys);

// sign_note returns |text| (which must be valid note text: non-empty, ending
// in '\n', valid UTF-8, no other control characters) signed by |key|, in
// the signed-note form. An Error for bad text.
Result<std::string> sign_note(std::string_view text, const SignerKey& key);

struct Checkpoint {
  std::string origin;
  std::uint64_t size = 0;
  Hash root;                            // 32 bytes
  std::vector<std::string> extensions;  // extension lines, each non-empty
  bool operator==(const Checkpoint&) const = default;
};

// format_checkpoint returns the note text: origin, decimal size, base64
// root, extension lines, each followed by '\n'. Throws std::invalid_argument
// for an empty or multi-line origin, a root not 32 bytes or a bad extension.
std::string format_checkpoint(const Checkpoint& checkpoint);
// parse_checkpoint parses checkpoint note text strictly (no leading zeros,
// canonical base64 of 32 bytes, non-empty lines, final '\n').
Result<Checkpoint> parse_checkpoint(std::string_view text);

// ===========================================================================
// Verifier: what a client needs, with no LMDB.

// open_checkpoint verifies |note| against |key| (verify_note), parses its
// text, and requires its origin to equal |origin|.
Result<Checkpoint> open_checkpoint(std::string_view note, const VerifierKey& key,
                                   std::string_view origin);
// check_consistency proves that |newer| extends the tree (old_size,
// old_root). old_size 0 needs old_root == empty_root() and an empty proof;
// equal sizes need equal roots and an empty proof.
Result<void> check_consistency(std::uint64_t old_size, std::string_view old_root,
                               const Checkpoint& newer, std::span<const Hash> proof);
// check_inclusion proves that |leaf| is entry |index| of |checkpoint|'s tree.
Result<void> check_inclusion(std::string_view leaf, std::uint64_t index,
                             const Checkpoint& checkpoint, std::span<const Hash> proof);

// ===========================================================================
// Checkpointer: signs and stores checkpoints as the log grows.

struct CheckpointerConfig {
  std::string origin;  // checkpoint origin line; usually the key's name
  std::chrono::milliseconds min_interval{1000};
};

class Checkpointer {
 public:
  // create checks the origin (non-empty, one line, no control characters).
  static Result<std::unique_ptr<Checkpointer>> create(store::Store& store, SignerKey key,
                                                      CheckpointerConfig config);

  // maybe_checkpoint signs a checkpoint of the current tree if it has grown
  // since the latest stored checkpoint and |min_interval| has passed since
  // the last one signed by this object (the first call always may); returns
  // the new note, or nullopt if none was due. Before signing it proves the
  // new tree consistent with the latest stored checkpoint, so it never signs
  // a fork (an Error, and nothing stored, if that fails). Thread-safe.
  Result<std::optional<std::string>> maybe_checkpoint(std::chrono::system_clock::time_point now);
  // checkpoint_now is maybe_checkpoint ignoring the interval.
  Result<std::optional<std::string>> checkpoint_now();

  // latest_checkpoint returns the newest stored checkpoint note, if any.
  std::optional<std::string> latest_checkpoint() const;

  VerifierKey verifier() const { return key_.verifier(); }
  const std::string& origin() const { return config_.origin; }

 private:
  Checkpointer(store::Store& store, SignerKey key, CheckpointerConfig config);
  store::Store& store_;
  SignerKey key_;
  CheckpointerConfig config_;
  std::mutex mu_;
  std::optional<std::chrono::system_clock::time_point> last_signed_;
};

// latest_checkpoint returns the newest stored checkpoint note.
std::optional<std::string> latest_checkpoint(const store::ReadView& view);
// checkpoint_at returns the stored checkpoint note of tree size |size|.
std::optional<std::string> checkpoint_at(const store::ReadView& view, std::uint64_t size);

// ===========================================================================
// ReadBatcher: group commit of the records of reads.

struct BatcherConfig {
  // max_batch: a batch commits as soon as this many records are queued.
  std::size_t max_batch = 8192;
  std::chrono::milliseconds max_delay{100};     // oldest queued record waits at most this
  std::size_t queue_capacity = 1 << 16;         // submit waits while this many are queued
  std::chrono::milliseconds retry_delay{1000};  // after a failed commit
  // max_txn_records: when more than max_batch records queued up while the
  // previous transaction committed (the disk is the bottleneck), one
  // transaction takes up to this many (at least max_batch), so that the
  // rate is not capped at max_batch per fsync.
  std::size_t max_txn_records = 16384;
  // index_batch: the writer brings the secondary indexes up to date, in
  // their own transactions (of up to 4 * index_batch leaves, or
  // max(index_batch, max_txn_records) while reads wait in the queue: a
  // read's record may wait that one transaction beyond max_delay), after
  // any commit that leaves index_batch or more not indexed, when asked
  // (flush_index), and at least every index_interval. So, while indexing
  // succeeds, fewer than index_batch + max_txn_records leaves (32,768 by
  // default) plus the records of changes committed meanwhile wait for
  // their index entries, and on a quiet log none for longer than
  // index_interval; queries read those one by one. 0 turns indexing off
  // (tests). The writer keeps the index terms of the reads it committed
  // until it has indexed them (index_terms, ~100 bytes each), so
  // that it need not parse their leaves back: at most 4 * index_batch +
  // max_txn_records records' worth (81,920 by default); past that (indexing
  // keeps failing) the oldest are dropped, and those leaves are parsed back
  // when their turn comes.

  std::size_t index_batch = 16384;
  std::chrono::milliseconds index_interval{1000};
};

struct BatcherStats {
  std::uint64_t committed = 0;       // records committed
  std::uint64_t batches = 0;         // transactions committed
  std::uint64_t failed_commits = 0;  // transactions that returned an Error (retried)
  std::uint64_t dropped = 0;         // records lost at shutdown after a failed final commit
  std::uint64_t indexed = 0;         // leaves whose index entries this batcher wrote
  std::uint64_t indexed_from_memory = 0;  // of those, indexed from terms it held (not parsed back)
  std::uint64_t index_batches = 0;   // index transactions committed
  std::uint64_t failed_index = 0;    // index transactions that failed (retried later)
};

// ReadBatcher owns one thread, the log's writer for reads, that takes
// records from a bounded queue and appends them through Store::transact:
// a batch commits when max_batch records are queued or its oldest record
// has waited max_delay, and takes everything queued up to max_txn_records
// (in whole chunks of up to min(max_batch, 512) records, in submit order).
// submit encodes and hashes the record in the caller's thread (the writer
// only stores bytes) into a buffer that thread keeps, then copies the bytes
// into the queue's chunks, which are recycled: once warm, a record costs no
// allocation on either side. submit never waits for a commit, and waits
// only while the queue is full (back-pressure: the disk is slower than the
// requests), which a capacity far above max_batch makes rare. A failed
// commit is kept and retried after retry_delay, reported on stderr and in
// stats(). The same thread keeps the secondary indexes up to date
// (index_pending, see BatcherConfig::index_batch), for changes' records
// too, from the index terms of the reads it committed (no leaf parsed
// back); a failure there is reported and retried, and never loses a record
// (queries read what is not indexed). The destructor commits what is
// queued (one attempt) and joins the thread.
class ReadBatcher {
 public:
  ReadBatcher(store::Store& store, BatcherConfig config = {});
  ~ReadBatcher();
  ReadBatcher(const ReadBatcher&) = delete;
  ReadBatcher& operator=(const ReadBatcher&) = delete;

  void submit(const AuditRecord& record);
  void submit(const RecordView& record);
  void submit(const PreparedLeaf& leaf);
  // flush returns once every record submitted before the call is committed
  // (or the batcher is stopping).
  void flush();
  // flush_index returns once every leaf committed before the call is
  // indexed (or the batcher is stopping, or index_batch is 0).
  void flush_index();
  BatcherStats stats() const;

 private:
  using Clock = std::chrono::steady_clock;
  // Slot is one queued record; its bytes are its chunk's bytes from
  // |offset|: the leaf, its hash (kHashBytes), its index terms.
  struct Slot {
    std::int64_t time_ms = 0;
    std::size_t offset = 0;
    std::uint32_t leaf_bytes = 0;
    std::uint32_t terms_bytes = 0;
    Clock::time_point at;
  };
  struct Chunk {
    std::string bytes;
    std::vector<Slot> slots;
  };
  // KnownRun holds the index terms of leaves [first, first + ends.size()),
  // committed and not yet indexed: leaf first + k's are bytes[ends[k - 1],
  // ends[k]) (from 0 for k = 0).
  struct KnownRun {
    std::uint64_t first = 0;
    std::string bytes;
    std::vector<std::uint32_t> ends;
  };

  // enqueue copies one record's bytes into the queue (waits while it is
  // full). |hash| is kHashBytes.
  void enqueue(std::int64_t time_ms, std::string_view leaf, std::string_view hash,
               std::string_view terms);
  void run();
  // commit appends the records of |batch| in one transaction, ordered by
  // time; on success it keeps their index terms (keep-terms, bounded, see
  // BatcherConfig::index_batch) and returns true; on failure it reports on
  // stderr and returns false (|batch| unchanged, to be retried).
  bool commit(std::vector<Chunk>& batch);
  // forget_terms drops the terms of leaves below |indexed|.
  void forget_terms(std::uint64_t indexed);
  std::string_view known_terms(std::uint64_t index);
  std::size_t known_capacity() const;
  // index_some runs index transactions while at least |min_tail| leaves
  // are not indexed (only one while a batch of reads waits); returns false
  // on failure.
  bool index_some(std::uint64_t min_tail);

  store::Store& store_;
  const BatcherConfig config_;
  const std::size_t chunk_records_;
  mutable std::mutex mu_;
  std::condition_variable wake_;       // the writer: records arrived, or stop
  std::condition_variable space_;      // submitters: queue has room
  std::condition_variable committed_;  // flushers: progress made
  std::deque<Chunk> queue_;            // in submit order; the last one fills
  std::size_t queued_ = 0;             // records in queue_
  std::vector<Chunk> spare_;           // emptied chunks, capacity kept, for reuse
  std::uint64_t submitted_ = 0;  // records ever submitted
  std::uint64_t done_ = 0;       // records committed or dropped, in submit order
  std::uint64_t flush_wanted_ = 0;
  std::uint64_t index_wanted_ = 0;  // flush_index: index at least this many leaves
  std::uint64_t indexed_ = 0;       // indexed_size as the writer last saw it
  bool stopping_ = false;
  BatcherStats stats_;
  // The index terms of committed, not yet indexed reads, ascending. Only
  // the writer thread uses them (no lock).
  std::deque<KnownRun> known_;
  std::size_t known_count_ = 0;
  std::size_t known_at_ = 0;  // known_terms' hint: the run it found last
  std::thread thread_;  // last: started after everything above exists
};

// ===========================================================================
// Queries: GET /api/audit/entries?principal=&identifier=&action=&decision=
// &from=&to=&cursor=&limit=

// parse_query parses the query string (without '?') into a Filter.
// Percent-decoding per RFC 3986 ('+' is a literal plus, as in RFC 3986, not
// a space); each key at most once; unknown keys, empty values, bad escapes
// and values that are not valid UTF-8 are Errors. decision is "allow" or
// "deny"; from/to are unix milliseconds (digits) or RFC 3339 date-times
// ("2026-12-01T10:00:00Z", fractional seconds to milliseconds, "Z" or
// "+hh:mm"); cursor is a leaf index; limit 1..kMaxQueryLimit. The Error
// message names the offending key.
Result<Filter> parse_query(std::string_view query_string);

// parse_time parses unix milliseconds or an RFC 3339 date-time.
Result<std::int64_t> parse_time(std::string_view text);

}  // namespace idra::audit
