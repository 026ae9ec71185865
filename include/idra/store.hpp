// store.hpp: identifier records in LMDB.
//
// The store only ever sees canonical handles (see ids.hpp); it does not parse
// or validate identifiers. One LMDB environment per node, with named
// sub-databases per concern ("records", "prefixes", "meta").
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "idra/result.hpp"

namespace idra::store {

// ---------------------------------------------------------------------------
// The Handle value model (RFC 3651 section 3.1, Handle.Net v9).

enum class TtlType : std::uint8_t { relative = 0, absolute = 1 };

struct Permissions {
  bool admin_read = true;
  bool admin_write = true;
  bool public_read = true;
  bool public_write = false;
  bool operator==(const Permissions&) const = default;
};

struct Reference {
  std::string handle;
  std::uint32_t index = 0;
  bool operator==(const Reference&) const = default;
};

struct HandleValue {
  std::uint32_t index = 0;  // 0 is reserved and never stored
  std::string type;         // UTF-8, for example "URL", "HS_ADMIN"
  std::string data;         // raw bytes (RFC 3651 encoding for HS_* types)
  TtlType ttl_type = TtlType::relative;
  std::int32_t ttl = 86400;    // seconds if relative, unix time if absolute
  std::int64_t timestamp = 0;  // unix seconds of the last change
  std::vector<Reference> references;
  Permissions permissions;
  bool operator==(const HandleValue&) const = default;
};

// Record is the whole of one handle: its values sorted by index, indexes unique.
struct Record {
  std::vector<HandleValue> values;
  bool operator==(const Record&) const = default;
};

// encode_record returns the versioned binary encoding of |record| (format
// documented in src/store/codec.cpp). It never fails.
std::string encode_record(const Record& record);

// decode_record parses bytes written by encode_record. Any truncation,
// trailing byte, unknown version or out-of-range field is an Error; it never
// reads past |bytes|.
Result<Record> decode_record(std::string_view bytes);

// ---------------------------------------------------------------------------
// The node's record store.

struct Options {
  // initial_map_bytes is the first LMDB map size; the map doubles whenever a
  // write finds it full, so this is not a capacity limit. The map is address
  // space, not disk or memory (the file grows with the data); a large first
  // map spares a node whose audit log grows by gigabytes the remaps, each of
  // which makes every reader wait and fault its pages in again.
  std::size_t initial_map_bytes = std::size_t{16} << 30;
  // durable: fsync on every commit (MDB_NOSYNC off). Turning it off trades
  // crash durability for speed; only benchmarks and tests should.
  bool durable = true;
  unsigned max_readers = 1024;
  // prefault_max_bytes: after open, a background thread maps up to this many
  // bytes of the data file into memory (MADV_POPULATE_READ), so that reads
  // after a restart do not each pay a page fault. 0 turns it off; a store
  // larger than this is not prefaulted at all (it would only churn the cache).
  std::size_t prefault_max_bytes = std::size_t{4} << 30;
};

// Table names a sub-database that another module keeps its own data in; the
// store knows nothing of their encodings. Keys are 1 to 511 bytes.
enum class Table : std::uint8_t {
  certs,         // pki: serial -> issued certificate entry
  cert_index,    // pki: secondary indexes over certs (identifier, fingerprint)
  tokens,        // pki: enrollment token id -> token entry
  ca_state,      // pki: CRL numbers, cached CRLs
  audit_leaves,  // audit: big-endian leaf index -> canonical leaf bytes
  audit_hashes,  // audit: level byte + big-endian index -> complete subtree hash
  audit_index,   // audit: secondary indexes (field tag + value + leaf index)
  audit_state,   // audit: tree size, signed checkpoints by size
};

namespace lmdb {
class Txn;
class WriteTxn;
}  // namespace lmdb

// ReadView is a consistent snapshot inside Store::view or Store::transact.
// It is valid only during the call that handed it out; string_views passed
// to scan callbacks are valid only during the callback.
class ReadView {
 public:
  std::optional<std::string> get(Table table, std::string_view key) const;
  // record returns the record of |handle| as Store::get would.
  std::optional<Record> record(std::string_view handle) const;
  // scan visits the entries whose key starts with |prefix| in byte order,
  // from the first key >= max(|prefix|, |start|), until |fn| returns false.
  void scan(Table table, std::string_view prefix,
            const std::function<bool(std::string_view key, std::string_view value)>& fn,
            std::string_view start = {}) const;
  std::uint64_t entries(Table table) const;

  ReadView(const ReadView&) = delete;
  ReadView& operator=(const ReadView&) = delete;

 protected:
  friend class Store;
  ReadView(const void* impl, const lmdb::Txn& txn) : impl_(impl), txn_(txn) {}
  const void* impl_;
  const lmdb::Txn& txn_;
};

// WriteView adds changes; they commit together when the Store::transact
// body returns success, and none of them do otherwise.
class WriteView : public ReadView {
 public:
  // put stores |value| under |key|; an empty key or one over 511 bytes
  // throws std::invalid_argument (callers build fixed-form keys).
  void put(Table table, std::string_view key, std::string_view value);
  // append is put for a key that sorts after every key of |table| (an
  // append-only table such as audit_leaves): no search, full pages. A key
  // that does not sort last throws std::logic_error; a bad key length
  // std::invalid_argument.
  void append(Table table, std::string_view key, std::string_view value);
  bool erase(Table table, std::string_view key);
  // put_record stores |record| under |handle| with Store::put's rules.
  Result<void> put_record(std::string_view handle, const Record& record);

 private:
  friend class Store;
  WriteView(void* impl, lmdb::WriteTxn& txn);
  void* mutable_impl_;
  lmdb::WriteTxn& wtxn_;
};

// CommitHook adds to a write transaction that a Store operation opened, just
// before it commits (see Store::update). It may run more than once.
using CommitHook = std::function<void(WriteView&)>;

struct HandlePage {
  std::uint64_t total_count = 0;     // handles under the prefix in all
  std::vector<std::string> handles;  // the requested page, in key order (see list)
};

// Store owns the LMDB environment. It is safe to call from many threads at
// once: reads run in their own read-only transactions and never block;
// writes are serialized and each commits durably before returning. No
// transaction outlives the call that opened it.
class Store {
 public:
  // open creates |dir| (mode 0700) and the environment if missing, checks
  // the schema version (an unknown version is an Error, never silently
  // upgraded), and returns the open store.
  static Result<std::unique_ptr<Store>> open(const std::filesystem::path& dir,
                                             const Options& options = {});
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // get returns the record of |handle|, or nullopt if there is none. A
  // stored record that does not decode, or a long handle's entry that holds
  // another handle, is a broken invariant and throws.
  std::optional<Record> get(std::string_view handle) const;

  // put creates or replaces the record of |handle| in one durable write
  // transaction. Values are stored sorted by index. |record| must have unique
  // non-zero indexes (else throws std::invalid_argument: callers validate
  // first). Any handle of 1 to 2048 bytes (ids::kMaxHandleBytes) is stored,
  // whatever LMDB's key limit (see src/store/keys.hpp); an empty or longer
  // handle is an Error, and get/erase treat such a handle as absent.
  Result<void> put(std::string_view handle, const Record& record);

  // put_many creates or replaces every record of |records| in ONE durable
  // write transaction (one fsync), for bulk import: either all are stored or
  // none. Each record follows put's rules, all checked before anything is
  // written: a bad handle length is an Error naming the handle's position, a
  // zero or duplicate index throws std::invalid_argument. A handle that
  // appears twice ends with its last record. The whole batch is held in
  // memory and in one LMDB transaction, so importers send it in chunks (tens
  // of thousands of records), not a whole database at once.
  Result<void> put_many(const std::vector<std::pair<std::string, Record>>& records);

  // update runs |fn| on the current record (nullopt if none) inside one
  // write transaction. If |fn| returns a Record it is stored (sorted, with
  // put's rules); if it returns nullopt the handle is deleted; if it returns
  // an Error nothing changes and the Error is returned. This is how
  // read-modify-write stays atomic. |fn| may run more than once (the
  // transaction is retried after the map grows), so it must have no side
  // effects beyond its return value.
  //
  // |also|, when set, runs in the same transaction after |fn| succeeded and
  // its change is written, right before the commit (the audit record of the
  // change goes there: no change commits without it). It runs again when the
  // transaction is retried, so it too must change nothing but the view.
  using UpdateFn = std::function<Result<std::optional<Record>>(const std::optional<Record>&)>;
  Result<void> update(std::string_view handle, const UpdateFn& fn, const CommitHook& also = {});

  // erase deletes |handle|; false if it did not exist (or is empty or
  // longer than 2048 bytes).
  Result<bool> erase(std::string_view handle);

  // list returns the handles whose prefix is exactly |prefix| (handles
  // "PREFIX/..."), page |page| (0-based) of |page_size| entries, in key
  // order: byte order of the handles, except that handles longer than 400
  // bytes which share their first 400 bytes come in a fixed order of their
  // own (see src/store/keys.hpp).
  HandlePage list(std::string_view prefix, std::uint64_t page, std::uint64_t page_size) const;

  // transact runs |fn| in one write transaction over records and tables and
  // commits durably if it returns success; on an Error nothing it did is
  // kept and the Error is returned. |fn| may run more than once (after map
  // growth), so it must have no side effects beyond the view.
  Result<void> transact(const std::function<Result<void>(WriteView&)>& fn);
  // view runs |fn| on a read snapshot; it may run more than once.
  void view(const std::function<void(const ReadView&)>& fn) const;

  // Prefix homing: which prefixes this node is authoritative for. |also|
  // runs inside the transaction as for update, and only when something
  // changes (home: always; unhome: only when the prefix was homed).
  Result<void> home_prefix(std::string_view prefix, const CommitHook& also = {});
  Result<bool> unhome_prefix(std::string_view prefix, const CommitHook& also = {});  // false if not homed
  bool is_homed(std::string_view prefix) const;         // exact match only
  std::vector<std::string> homed_prefixes() const;

  // meta: small named values (keys' public parts, bootstrap markers). The
  // key "schema_version" belongs to the store; put_meta refuses it.
  std::optional<std::string> get_meta(std::string_view key) const;
  Result<void> put_meta(std::string_view key, std::string_view value);

  // Facts for /readyz and benchmarks.
  bool healthy() const;
  std::size_t map_bytes() const;
  // used_bytes is what the data file actually uses, (last page number + 1) *
  // page size, free pages inside it included; <= map_bytes() unless another
  // process grew the map and this one has not noticed yet.
  std::size_t used_bytes() const;
  std::uint64_t record_count() const;

  struct Impl;

 private:
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace idra::store
