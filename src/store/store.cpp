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
#include "idra/store.hpp"

#include <sys/stat.h>

#include <atomic>
#include <limits>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <utility>

#include "store/codec.hpp"
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
  std::filesystem::path dir;
  lmdb::Dbi records;
  lmdb::Dbi prefixes;
  lmdb::Dbi meta;
  std::size_t max_key_bytes = 0;

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
        auto txn = lmdb::ReadTxn::begin(env);
        return body(static_cast<const lmdb::ReadTxn&>(txn));
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

  Error key_error(std::string_view what, std::string_view key) const {
    if (key.empty()) return make_error(std::string(what) + " is empty");
    return make_error(std::string(what) + " is " + std::to_string(key.size()) +
                      " bytes long; this store indexes at most " + std::to_string(max_key_bytes));
  }

  // decode_stored decodes the record of |handle|; a stored record that does
  // not decode means the database is corrupt, which throws.
  Record decode_stored(std::string_view handle, std::string_view bytes) const {
    auto record = decode_record(bytes);
    if (!record) {
      throw std::runtime_error("store: the record of " + std::string(handle) + " in " +
                               dir.string() + " is corrupt: " + record.error().message);
    }
    return std::move(record).value();
  }
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

  auto impl = std::make_unique<Impl>(std::move(claim).value(), std::move(env).value(), dir);
  Impl& s = *impl;
  auto ready = s.write([&](lmdb::WriteTxn& txn) -> Result<void> {
    // Dbi handles are opened here once; they stay valid after this commits.
    s.records = lmdb::Dbi::open(txn, "records");
    s.prefixes = lmdb::Dbi::open(txn, "prefixes");
    s.meta = lmdb::Dbi::open(txn, "meta");
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
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

std::optional<Record> Store::get(std::string_view handle) const {
  Impl& s = *impl_;
  if (!s.key_fits(handle)) return std::nullopt;  // no such key can exist
  return s.read([&](const lmdb::ReadTxn& txn) -> std::optional<Record> {
    auto bytes = txn.get(s.records, handle);
    if (!bytes) return std::nullopt;
    return s.decode_stored(handle, *bytes);
  });
}

Result<void> Store::put(std::string_view handle, const Record& record) {
  Impl& s = *impl_;
  if (!s.key_fits(handle)) return s.key_error("handle", handle);
  const std::string bytes = encode_for_store(record);  // throws before any txn
  return s.write([&](lmdb::WriteTxn& txn) -> Result<void> {
    txn.put(s.records, handle, bytes);
    return {};
  });
}

Result<void> Store::update(std::string_view handle, const UpdateFn& fn) {
  Impl& s = *impl_;
  if (!s.key_fits(handle)) return s.key_error("handle", handle);
  return s.write([&](lmdb::WriteTxn& txn) -> Result<void> {
    std::optional<Record> current;
    if (auto bytes = txn.get(s.records, handle)) current = s.decode_stored(handle, *bytes);
    Result<std::optional<Record>> next = fn(current);
    if (!next) return next.error();
    if (next->has_value()) {
      txn.put(s.records, handle, encode_for_store(**next));
    } else {
      txn.del(s.records, handle);
    }
    return {};
  });
}

Result<bool> Store::erase(std::string_view handle) {
  Impl& s = *impl_;
  if (!s.key_fits(handle)) return false;
  return s.write([&](lmdb::WriteTxn& txn) -> Result<bool> { return txn.del(s.records, handle); });
}

HandlePage Store::list(std::string_view prefix, std::uint64_t page, std::uint64_t page_size) const {
  Impl& s = *impl_;
  // Keys are canonical handles "PREFIX/SUFFIX", so the handles of exactly
  // this prefix are the contiguous key range starting with "PREFIX/":
  // "88.100.1/x" sorts after it and "88.10/x" before it.
  const std::string start = std::string(prefix) + "/";
  if (start.size() > s.max_key_bytes) return {};  // no key can be that long
  constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
  const std::uint64_t first = (page != 0 && page_size > kMax / page) ? kMax : page * page_size;
  const std::uint64_t last = page_size > kMax - first ? kMax : first + page_size;
  return s.read([&](const lmdb::ReadTxn& txn) {
    HandlePage out;
    lmdb::Cursor cursor(txn, s.records);
    // Only keys are touched: the value views point into the map and are
    // never read, so record bodies are not decoded or copied.
    for (auto entry = cursor.seek(start); entry && entry->key.starts_with(start);
         entry = cursor.next()) {
      if (out.total_count >= first && out.total_count < last) {
        out.handles.emplace_back(entry->key);
      }
      ++out.total_count;
    }
    return out;
  });
}

Result<void> Store::home_prefix(std::string_view prefix) {
  Impl& s = *impl_;
  if (!s.key_fits(prefix)) return s.key_error("prefix", prefix);
  return s.write([&](lmdb::WriteTxn& txn) -> Result<void> {
    txn.put(s.prefixes, prefix, "");
    return {};
  });
}

Result<bool> Store::unhome_prefix(std::string_view prefix) {
  Impl& s = *impl_;
  if (!s.key_fits(prefix)) return false;
  return s.write([&](lmdb::WriteTxn& txn) -> Result<bool> { return txn.del(s.prefixes, prefix); });
}

bool Store::is_homed(std::string_view prefix) const {
  Impl& s = *impl_;
  if (!s.key_fits(prefix)) return false;
  return s.read([&](const lmdb::ReadTxn& txn) { return txn.get(s.prefixes, prefix).has_value(); });
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

std::uint64_t Store::record_count() const {
  Impl& s = *impl_;
  return s.read([&](const lmdb::ReadTxn& txn) -> std::uint64_t { return txn.entries(s.records); });
}

}  // namespace idra::store
