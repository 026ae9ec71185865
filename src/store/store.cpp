// store.cpp: Store over one LMDB environment.
//
// Locking, and why:
// - write_mu_ serializes mutations inside the process. LMDB allows one write
//   txn per environment anyway; taking our mutex first keeps the wait in
//   one visible place and makes "retry after resize" single-threaded.
// - map_mu_ exists only for resizing. mdb_env_set_mapsize remaps the file
//   and may run only while this process has no transaction open, so every
//   transaction (read or write) holds map_mu_ shared for its few
//   microseconds, and a resize holds it exclusive. Readers never wait for a
//   writer's transaction, only for a resize, which happens log2(size) times.
// - libstdc++'s shared_mutex prefers readers, so a steady stream of reads
//   could starve a resize. A resizer therefore raises resize_pending_ and
//   holds resize_gate_ while it waits; new transactions that see the flag
//   queue on the gate instead of joining the shared side.
//
// Keys: a handle of up to 400 bytes is its own key in "records"; a longer
// one (up to ids::kMaxHandleBytes) gets a hashed key and its value carries
// the full handle. The format and the reasons are in keys.hpp.
#include "idra/store.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <thread>
#include <unordered_set>
#include <stdexcept>
#include <string>
#include <utility>

#include "idra/ids.hpp"
#include "store/codec.hpp"
#include "store/keys.hpp"
#include "store/lmdb.hpp"

namespace idra::store {
namespace {

constexpr std::string_view kSchemaVersionKey = "schema_version";
constexpr std::string_view kSchemaVersion = "1";

// kMaxResizes bounds the retries of one operation. Doubling 64 times would
// exceed any address space, so hitting it means LMDB keeps reporting a
// condition a resize cannot fix: a broken invariant.
constexpr int kMaxResizes = 64;

// DirClaim marks an environment directory as open in this process. LMDB must
// not open one environment twice in a process: closing the second handle
// drops the first's fcntl locks and lets another process think it is alone.
// A second Store::open of the same directory is therefore an Error.
class DirClaim {
 public:
  static Result<DirClaim> take(const std::filesystem::path& dir) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) {
      return make_error("cannot stat " + dir.string());
    }
    Id id{st.st_dev, st.st_ino};
    std::lock_guard lock(mu());
    if (!claimed().insert(id).second) {
      return make_error("the store in " + dir.string() + " is already open in this process");
    }
    return DirClaim(id);
  }
  DirClaim(DirClaim&& other) noexcept : id_(std::exchange(other.id_, std::nullopt)) {}
  DirClaim& operator=(DirClaim&&) = delete;
  ~DirClaim() {
    if (!id_) return;
    std::lock_guard lock(mu());
    claimed().erase(*id_);
  }

 private:
  using Id = std::pair<dev_t, ino_t>;
  explicit DirClaim(Id id) : id_(id) {}
  static std::mutex& mu() {
    static std::mutex m;
    return m;
  }
  static std::set<Id>& claimed() {
    static std::set<Id> s;
    return s;
  }
  std::optional<Id> id_;
};

}  // namespace

struct Store::Impl {
  Impl(DirClaim claim_in, lmdb::Env env_in, std::filesystem::path dir_in)
      : claim(std::move(claim_in)), env(std::move(env_in)), dir(std::move(dir_in)) {
    max_key_bytes = env.max_key_bytes();
  }

  // claim is declared first so it is released after the env has closed.
  DirClaim claim;
  lmdb::Env env;
  // readers is declared after env, so it aborts its idle txns before the env closes.
  lmdb::ReaderPool readers{env};
  std::filesystem::path dir;
  lmdb::Dbi records;
  lmdb::Dbi prefixes;
  lmdb::Dbi meta;
  lmdb::Dbi tables[8];  // indexed by Table
  std::size_t max_key_bytes = 0;

  // homed mirrors the "prefixes" database: every resolution asks whether a
  // prefix is homed, and a hash lookup is far cheaper than a transaction.
  // It is loaded at open and updated after each committed home/unhome (this
  // process is the environment's only writer while it is open).
  mutable std::shared_mutex homed_mu;
  // Transparent hashing: is_homed looks a string_view up without a copy.
  struct ViewHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view v) const noexcept { return std::hash<std::string_view>{}(v); }
  };
  std::unordered_set<std::string, ViewHash, std::equal_to<>> homed;

  std::mutex write_mu;
  std::shared_mutex map_mu;
  std::mutex resize_gate;
  std::atomic<bool> resize_pending{false};

  // enter returns the shared hold every transaction keeps while it is open.
  std::shared_lock<std::shared_mutex> enter() {
    if (resize_pending.load(std::memory_order_acquire)) {
      std::lock_guard wait_for_resize(resize_gate);
    }
    return std::shared_lock(map_mu);
  }

  // resize grows the map (doubling it) or adopts the size another process
  // set, with no transaction of this process open.
  void resize(lmdb::NeedsResize::Kind kind) {
    std::lock_guard gate(resize_gate);
    resize_pending.store(true, std::memory_order_release);
    struct Clear {
      std::atomic<bool>& flag;
      ~Clear() { flag.store(false, std::memory_order_release); }
    } clear{resize_pending};
    std::unique_lock exclusive(map_mu);
    if (kind == lmdb::NeedsResize::Kind::grow) {
      env.set_map_bytes(env.map_bytes() * 2);
    } else {
      env.set_map_bytes(0);
    }
  }

  // read runs |body| on a fresh read txn and returns what it returns. The
  // txn ends before read returns, so nothing |body| returns may point into
  // the map.
  template <class F>
  auto read(F&& body) {
    for (int attempt = 0;; ++attempt) {
      try {
        auto hold = enter();
        // The txn goes back to the pool however |body| ends (before |hold|
        // is released: a resize waits for it).
        struct Pooled {
          lmdb::ReaderPool& pool;
          lmdb::ReadTxn txn;
          ~Pooled() { pool.give(std::move(txn)); }
        } pooled{readers, readers.take()};
        return body(static_cast<const lmdb::ReadTxn&>(pooled.txn));
      } catch (const lmdb::NeedsResize&) {
        if (attempt >= kMaxResizes) throw;
      }
      resize(lmdb::NeedsResize::Kind::adopt);
    }
  }

  // write runs |body| (returning a Result) in the write txn and commits it
  // if |body| succeeded. When the map is full or was resized elsewhere the
  // whole attempt is rolled back, the map resized, and |body| run again.
  template <class F>
  auto write(F&& body) -> decltype(body(std::declval<lmdb::WriteTxn&>())) {
    std::lock_guard writer(write_mu);
    for (int attempt = 0;; ++attempt) {
      lmdb::NeedsResize::Kind kind;
      try {
        auto hold = enter();
        auto txn = lmdb::WriteTxn::begin(env);
        auto result = body(txn);
        if (!result.ok()) return result;  // txn aborts: nothing changed
        if (auto committed = txn.commit(); !committed.ok()) return committed.error();
        return result;
      } catch (const lmdb::NeedsResize& e) {
        if (attempt >= kMaxResizes) throw;
        kind = e.kind();
      }
      resize(kind);
    }
  }

  bool key_fits(std::string_view key) const { return !key.empty() && key.size() <= max_key_bytes; }

  static bool handle_fits(std::string_view handle) {
    return !handle.empty() && handle.size() <= ids::kMaxHandleBytes;
  }

  static Error handle_error(std::string_view handle) {
    if (handle.empty()) return make_error("handle is empty");
    return make_error("handle is " + std::to_string(handle.size()) + " bytes long; the limit is " +
                      std::to_string(ids::kMaxHandleBytes));
  }

  Error key_error(std::string_view what, std::string_view key) const {
    if (key.empty()) return make_error(std::string(what) + " is empty");
    return make_error(std::string(what) + " is " + std::to_string(key.size()) +
                      " bytes long; this store indexes at most " + std::to_string(max_key_bytes));
  }

  // corrupt throws for a broken invariant in the entry of |handle|. Long
  // handles are cut short in the message; the head identifies them.
  [[noreturn]] void corrupt(std::string_view handle, std::string_view what) const {
    constexpr std::size_t kShown = 128;
    std::string shown(handle.substr(0, kShown));
    if (handle.size() > kShown) shown += "... (" + std::to_string(handle.size()) + " bytes)";
    throw std::runtime_error("store: the record of " + shown + " in " + dir.string() +
                             " is corrupt: " + std::string(what));
  }

  // decode_stored decodes the record of |handle|; a stored record that does
  // not decode means the database is corrupt, which throws.
  Record decode_stored(std::string_view handle, std::string_view bytes) const {
    auto record = decode_record(bytes);
    if (!record) corrupt(handle, record.error().message);
    return std::move(record).value();
  }

  // stored_value is what "records" holds for |handle| whose encoded record
  // is |record_bytes|: the bytes themselves, or the long-handle envelope.
  static std::string stored_value(std::string_view handle, std::string record_bytes) {
    if (handle.size() <= keys::kInlineHandleBytes) return record_bytes;
    return keys::wrap_long(handle, record_bytes);
  }

  // find returns the encoded record of |handle|, stored under |key|
  // (keys::record_key(handle)), or nullopt. The view points into the map.
  // For a long handle it checks that the entry is |handle|'s: a malformed
  // envelope or another handle under the same key throws.
  std::optional<std::string_view> find(const lmdb::Txn& txn, std::string_view handle,
                                       std::string_view key) const {
    auto value = txn.get(records, key);
    if (!value || handle.size() <= keys::kInlineHandleBytes) return value;
    auto entry = keys::unwrap_long(*value);
    if (!entry) corrupt(handle, "its long-handle envelope is malformed");
    if (entry->handle != handle) {
      corrupt(handle, "its key holds a different handle of " +
                          std::to_string(entry->handle.size()) + " bytes");
    }
    return entry->record_bytes;
  }

  // put_checked puts |value| (from stored_value) under |key|. A long key is read
  // first so that a different handle with the same key is never overwritten.
  void put_checked(lmdb::WriteTxn& txn, std::string_view handle, std::string_view key,
                   std::string_view value) {
    if (handle.size() > keys::kInlineHandleBytes) (void)find(txn, handle, key);
    txn.put(records, key, value);
  }

  // handle_at returns the handle an entry of "records" belongs to; its view
  // points into the map. A key of neither form, or a malformed envelope, is
  // corruption and throws.
  std::string_view handle_at(const lmdb::Cursor::Entry& entry) const {
    if (keys::is_short_key(entry.key)) return entry.key;
    check_key_form(entry.key);
    auto value = keys::unwrap_long(entry.value);
    if (!value || !value->handle.starts_with(entry.key.substr(0, keys::kInlineHandleBytes))) {
      corrupt(entry.key.substr(0, keys::kInlineHandleBytes),
              "its long-handle envelope is malformed");
    }
    return value->handle;
  }

  // check_key_form throws unless |key| is a short or a long record key.
  // Keys of 401..511 bytes were never written by a build that has long keys;
  // finding one means the database is not this build's.
  void check_key_form(std::string_view key) const {
    if (keys::is_short_key(key) || keys::is_long_key(key)) return;
    corrupt(key.substr(0, keys::kInlineHandleBytes),
            "its key of " + std::to_string(key.size()) + " bytes is neither a handle of at most " +
                std::to_string(keys::kInlineHandleBytes) + " bytes nor a long-handle key");
  }

  // prefaulter is declared last so that it stops (and is joined) before
  // anything it uses is destroyed.
  std::jthread prefaulter;
};

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::open(const std::filesystem::path& dir,
                                           const Options& options) {
  if (auto made = lmdb::make_private_dir(dir); !made.ok()) return made.error();
  auto claim = DirClaim::take(dir);
  if (!claim) return claim.error();

  lmdb::Env::Config config;
  config.map_bytes = options.initial_map_bytes;
  config.max_readers = options.max_readers;
  config.durable = options.durable;
  auto env = lmdb::Env::open(dir, config);
  if (!env) return env.error();
  if (env->max_key_bytes() < keys::kLongKeyBytes) {
    return make_error("this LMDB accepts keys of at most " + std::to_string(env->max_key_bytes()) +
                      " bytes; the store needs " + std::to_string(keys::kLongKeyBytes));
  }

  auto impl = std::make_unique<Impl>(std::move(claim).value(), std::move(env).value(), dir);
  Impl& s = *impl;
  auto ready = s.write([&](lmdb::WriteTxn& txn) -> Result<void> {
    // Dbi handles are opened here once; they stay valid after this commits.
    s.records = lmdb::Dbi::open(txn, "records");
    s.prefixes = lmdb::Dbi::open(txn, "prefixes");
    s.meta = lmdb::Dbi::open(txn, "meta");
    s.tables[static_cast<int>(Table::certs)] = lmdb::Dbi::open(txn, "certs");
    s.tables[static_cast<int>(Table::cert_index)] = lmdb::Dbi::open(txn, "cert_index");
    s.tables[static_cast<int>(Table::tokens)] = lmdb::Dbi::open(txn, "tokens");
    s.tables[static_cast<int>(Table::ca_state)] = lmdb::Dbi::open(txn, "ca_state");
    s.tables[static_cast<int>(Table::audit_leaves)] = lmdb::Dbi::open(txn, "audit_leaves");
    s.tables[static_cast<int>(Table::audit_hashes)] = lmdb::Dbi::open(txn, "audit_hashes");
    s.tables[static_cast<int>(Table::audit_index)] = lmdb::Dbi::open(txn, "audit_index");
    s.tables[static_cast<int>(Table::audit_state)] = lmdb::Dbi::open(txn, "audit_state");
    auto version = txn.get(s.meta, kSchemaVersionKey);
    if (!version) {
      if (txn.entries(s.records) != 0 || txn.entries(s.prefixes) != 0) {
        return make_error("the store in " + dir.string() +
                          " holds records but no schema version; refusing to guess");
      }
      txn.put(s.meta, kSchemaVersionKey, kSchemaVersion);
      return {};
    }
    if (*version != kSchemaVersion) {
      return make_error("the store in " + dir.string() + " has schema version \"" +
                        std::string(version->substr(0, 32)) + "\"; this build reads version " +
                        std::string(kSchemaVersion) + " and does not upgrade silently");
    }
    return {};
  });
  if (!ready) return ready.error();
  auto store = std::unique_ptr<Store>(new Store(std::move(impl)));
  for (auto& p : store->homed_prefixes()) store->impl_->homed.insert(std::move(p));
  if (options.prefault_max_bytes != 0) {
    Impl* s = store->impl_.get();
    const std::size_t limit = options.prefault_max_bytes;
    s->prefaulter = std::jthread([s, limit](std::stop_token stop) {
      // In chunks, each under the shared map lock, so that a map resize
      // (which moves the mapping) waits at most one chunk.
      constexpr std::size_t kChunk = std::size_t{64} << 20;
      std::size_t used = 0;
      {
        auto hold = s->enter();
        used = s->env.used_bytes();
      }
      if (used > limit) return;
      for (std::size_t offset = 0; offset < used && !stop.stop_requested(); offset += kChunk) {
        auto hold = s->enter();
        s->env.prefault(offset, std::min(kChunk, used - offset));
      }
    });
  }
  return store;
}

std::optional<Record> Store::get(std::string_view handle) const {
  Impl& s = *impl_;
  if (!Impl::handle_fits(handle)) return std::nullopt;  // no such handle can be stored
  const std::string key = keys::record_key(handle);
  return s.read([&](const lmdb::ReadTxn& txn) -> std::optional<Record> {
    auto bytes = s.find(txn, handle, key);
    if (!bytes) return std::nullopt;
    return s.decode_stored(handle, *bytes);
  });
}

Result<void> Store::put(std::string_view handle, const Record& record) {
  Impl& s = *impl_;
  if (!Impl::handle_fits(handle)) return Impl::handle_error(handle);
  const std::string key = keys::record_key(handle);
  // Encoding throws on an invalid record before any txn exists.
  const std::string value = Impl::stored_value(handle, encode_for_store(record));
  return s.write([&](lmdb::WriteTxn& txn) -> Result<void> {
    s.put_checked(txn, handle, key, value);
    return {};
  });
}

Result<void> Store::put_many(const std::vector<std::pair<std::string, Record>>& records) {
  Impl& s = *impl_;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (!Impl::handle_fits(records[i].first)) {
      return make_error("record " + std::to_string(i) +
                        " of the batch: " + Impl::handle_error(records[i].first).message);
    }
  }
  // Everything is encoded (and so validated, which may throw) before the
  // transaction starts, and a retry after map growth reuses the bytes.
  struct Entry {
    std::string key;
    std::string value;
  };
  std::vector<Entry> entries;
  entries.reserve(records.size());
  for (const auto& [handle, record] : records) {
    entries.push_back(
        {keys::record_key(handle), Impl::stored_value(handle, encode_for_store(record))});
  }
  return s.write([&](lmdb::WriteTxn& txn) -> Result<void> {
    for (std::size_t i = 0; i < entries.size(); ++i) {
      s.put_checked(txn, records[i].first, entries[i].key, entries[i].value);
    }
    return {};
  });
}

Result<void> Store::update(std::string_view handle, const UpdateFn& fn, const CommitHook& also) {
  Impl& s = *impl_;
  if (!Impl::handle_fits(handle)) return Impl::handle_error(handle);
  const std::string key = keys::record_key(handle);
  return s.write([&](lmdb::WriteTxn& txn) -> Result<void> {
    std::optional<Record> current;
    if (auto bytes = s.find(txn, handle, key)) current = s.decode_stored(handle, *bytes);
    Result<std::optional<Record>> next = fn(current);
    if (!next) return next.error();
    if (next->has_value()) {
      // find above already checked a long key's owner.
      txn.put(s.records, key, Impl::stored_value(handle, encode_for_store(**next)));
    } else if (current) {
      txn.del(s.records, key);
    }
    if (also) {
      WriteView view(&s, txn);
      also(view);
    }
    return {};
  });
}

Result<bool> Store::erase(std::string_view handle) {
  Impl& s = *impl_;
  if (!Impl::handle_fits(handle)) return false;
  const std::string key = keys::record_key(handle);
  return s.write([&](lmdb::WriteTxn& txn) -> Result<bool> {
    // A long key is checked first, so that erasing never removes another
    // handle's record.
    if (handle.size() > keys::kInlineHandleBytes && !s.find(txn, handle, key)) return false;
    return txn.del(s.records, key);
  });
}

HandlePage Store::list(std::string_view prefix, std::uint64_t page, std::uint64_t page_size) const {
  Impl& s = *impl_;
  // Handles are canonical "PREFIX/SUFFIX", so the handles of exactly this
  // prefix are those starting with "PREFIX/": "88.100.1/x" sorts after them
  // and "88.10/x" before. A key starts with the first 400 bytes of its
  // handle (keys.hpp), so they are the contiguous key range starting with
  // |head|. When "PREFIX/" itself is longer than 400 bytes that range may
  // also hold other handles with the same first 400 bytes, which are
  // skipped by their full handle.
  const std::string start = std::string(prefix) + "/";
  if (start.size() > ids::kMaxHandleBytes) return {};  // no handle is that long
  const std::string_view head =
      std::string_view(start).substr(0, std::min(start.size(), keys::kInlineHandleBytes));
  const bool filter = start.size() > keys::kInlineHandleBytes;
  constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
  const std::uint64_t first = (page != 0 && page_size > kMax / page) ? kMax : page * page_size;
  const std::uint64_t last = page_size > kMax - first ? kMax : first + page_size;
  return s.read([&](const lmdb::ReadTxn& txn) {
    HandlePage out;
    lmdb::Cursor cursor(txn, s.records);
    // Values are read only for long keys that are on the page or must be
    // filtered, and then only the envelope's handle: record bodies are never
    // decoded or copied.
    for (auto entry = cursor.seek(head); entry && entry->key.starts_with(head);
         entry = cursor.next()) {
      const bool on_page = out.total_count >= first && out.total_count < last;
      if (!filter && !on_page) {
        s.check_key_form(entry->key);
        ++out.total_count;
        continue;
      }
      const std::string_view handle = s.handle_at(*entry);
      if (filter && !handle.starts_with(start)) continue;
      if (on_page) out.handles.emplace_back(handle);
      ++out.total_count;
    }
    return out;
  });
}

Result<void> Store::home_prefix(std::string_view prefix, const CommitHook& also) {
  Impl& s = *impl_;
  if (!s.key_fits(prefix)) return s.key_error("prefix", prefix);
  auto done = s.write([&](lmdb::WriteTxn& txn) -> Result<void> {
    txn.put(s.prefixes, prefix, "");
    if (also) {
      WriteView view(&s, txn);
      also(view);
    }
    return {};
  });
  if (done) {
    std::unique_lock lock(s.homed_mu);
    s.homed.emplace(prefix);
  }
  return done;
}

Result<bool> Store::unhome_prefix(std::string_view prefix, const CommitHook& also) {
  Impl& s = *impl_;
  if (!s.key_fits(prefix)) return false;
  auto removed = s.write([&](lmdb::WriteTxn& txn) -> Result<bool> {
    if (!txn.del(s.prefixes, prefix)) return false;
    if (also) {
      WriteView view(&s, txn);
      also(view);
    }
    return true;
  });
  if (removed) {
    std::unique_lock lock(s.homed_mu);
    if (auto it = s.homed.find(prefix); it != s.homed.end()) s.homed.erase(it);
  }
  return removed;
}

bool Store::is_homed(std::string_view prefix) const {
  Impl& s = *impl_;
  std::shared_lock lock(s.homed_mu);
  return s.homed.find(prefix) != s.homed.end();
}

std::vector<std::string> Store::homed_prefixes() const {
  Impl& s = *impl_;
  return s.read([&](const lmdb::ReadTxn& txn) {
    std::vector<std::string> out;
    lmdb::Cursor cursor(txn, s.prefixes);
    for (auto entry = cursor.first(); entry; entry = cursor.next()) out.emplace_back(entry->key);
    return out;
  });
}

std::optional<std::string> Store::get_meta(std::string_view key) const {
  Impl& s = *impl_;
  if (!s.key_fits(key)) return std::nullopt;
  return s.read([&](const lmdb::ReadTxn& txn) -> std::optional<std::string> {
    auto value = txn.get(s.meta, key);
    if (!value) return std::nullopt;
    return std::string(*value);
  });
}

Result<void> Store::put_meta(std::string_view key, std::string_view value) {
  Impl& s = *impl_;
  if (!s.key_fits(key)) return s.key_error("meta key", key);
  if (key == kSchemaVersionKey) {
    return make_error("meta key \"schema_version\" is reserved for the store itself");
  }
  return s.write([&](lmdb::WriteTxn& txn) -> Result<void> {
    txn.put(s.meta, key, value);
    return {};
  });
}

bool Store::healthy() const {
  Impl& s = *impl_;
  try {
    return s.read([&](const lmdb::ReadTxn& txn) {
      auto version = txn.get(s.meta, kSchemaVersionKey);
      return version && *version == kSchemaVersion;
    });
  } catch (const std::exception&) {
    return false;
  }
}

std::size_t Store::map_bytes() const {
  Impl& s = *impl_;
  auto hold = s.enter();  // the size changes only under the exclusive side
  return s.env.map_bytes();
}

std::size_t Store::used_bytes() const {
  Impl& s = *impl_;
  auto hold = s.enter();  // mdb_env_info reads the meta pages inside the map
  return s.env.used_bytes();
}

std::uint64_t Store::record_count() const {
  Impl& s = *impl_;
  return s.read([&](const lmdb::ReadTxn& txn) -> std::uint64_t { return txn.entries(s.records); });
}

// ---------------------------------------------------------------------------
// Tables and multi-part transactions.

namespace {

const Store::Impl& impl_of(const void* p) { return *static_cast<const Store::Impl*>(p); }

lmdb::Dbi table_dbi(const Store::Impl& s, Table table) {
  const auto i = static_cast<std::size_t>(table);
  if (i >= std::size(s.tables)) throw std::invalid_argument("store: unknown table");
  return s.tables[i];
}

void check_table_key(const Store::Impl& s, std::string_view key) {
  if (!s.key_fits(key)) {
    throw std::invalid_argument("store: table key of " + std::to_string(key.size()) +
                                " bytes (1 to " + std::to_string(s.max_key_bytes) + " allowed)");
  }
}

}  // namespace

std::optional<std::string> ReadView::get(Table table, std::string_view key) const {
  const auto& s = impl_of(impl_);
  if (!s.key_fits(key)) return std::nullopt;
  auto v = txn_.get(table_dbi(s, table), key);
  if (!v) return std::nullopt;
  return std::string(*v);
}

std::optional<Record> ReadView::record(std::string_view handle) const {
  const auto& s = impl_of(impl_);
  if (!Store::Impl::handle_fits(handle)) return std::nullopt;
  auto bytes = s.find(txn_, handle, keys::record_key(handle));
  if (!bytes) return std::nullopt;
  return s.decode_stored(handle, *bytes);
}

void ReadView::scan(Table table, std::string_view prefix,
                    const std::function<bool(std::string_view, std::string_view)>& fn,
                    std::string_view start) const {
  const auto& s = impl_of(impl_);
  lmdb::Cursor cursor(txn_, table_dbi(s, table));
  const std::string_view from = start > prefix ? start : prefix;
  if (from.size() > s.max_key_bytes) return;
  auto entry = from.empty() ? cursor.first() : cursor.seek(from);
  for (; entry; entry = cursor.next()) {
    if (!entry->key.starts_with(prefix)) break;
    if (!fn(entry->key, entry->value)) break;
  }
}

std::uint64_t ReadView::entries(Table table) const {
  return txn_.entries(table_dbi(impl_of(impl_), table));
}

WriteView::WriteView(void* impl, lmdb::WriteTxn& txn)
    : ReadView(impl, txn), mutable_impl_(impl), wtxn_(txn) {}

void WriteView::put(Table table, std::string_view key, std::string_view value) {
  const auto& s = impl_of(impl_);
  check_table_key(s, key);
  wtxn_.put(table_dbi(s, table), key, value);
}

void WriteView::append(Table table, std::string_view key, std::string_view value) {
  const auto& s = impl_of(impl_);
  check_table_key(s, key);
  wtxn_.append(table_dbi(s, table), key, value);
}

bool WriteView::erase(Table table, std::string_view key) {
  const auto& s = impl_of(impl_);
  if (!s.key_fits(key)) return false;
  return wtxn_.del(table_dbi(s, table), key);
}

Result<void> WriteView::put_record(std::string_view handle, const Record& record) {
  auto& s = *static_cast<Store::Impl*>(mutable_impl_);
  if (!Store::Impl::handle_fits(handle)) return Store::Impl::handle_error(handle);
  const std::string key = keys::record_key(handle);
  s.put_checked(wtxn_, handle, key, Store::Impl::stored_value(handle, encode_for_store(record)));
  return {};
}

Result<void> Store::transact(const std::function<Result<void>(WriteView&)>& fn) {
  Impl& s = *impl_;
  return s.write([&](lmdb::WriteTxn& txn) -> Result<void> {
    WriteView view(&s, txn);
    return fn(view);
  });
}

void Store::view(const std::function<void(const ReadView&)>& fn) const {
  Impl& s = *impl_;
  s.read([&](const lmdb::ReadTxn& txn) {
    ReadView view(&s, txn);
    fn(view);
    return 0;
  });
}

}  // namespace idra::store
