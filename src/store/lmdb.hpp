// lmdb.hpp: a small RAII layer over LMDB, private to the store module.
//
// Ownership follows STYLE.md: every LMDB handle is owned from the line that
// creates it. A read-only and a read-write transaction are distinct movable
// types; the write transaction aborts in its destructor unless commit() ran.
// A Cursor borrows its transaction and can be neither copied nor moved, so it
// lives in the scope that opened it; the transaction aborts the process if it
// ends (or is moved) while one of its cursors is still open, because a cursor
// over a finished transaction reads freed memory.
//
// Failure policy: not-found is std::optional. MDB_MAP_FULL and
// MDB_MAP_RESIZED throw NeedsResize, which Store catches to resize the map
// with no transaction open and retry. Any other LMDB error on a read or a
// put is a broken invariant and throws std::runtime_error carrying
// mdb_strerror. Only opening the environment and committing return an Error:
// a missing directory, a permission problem or a full disk are the operator's
// to fix, not bugs.
#pragma once

#include <lmdb.h>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>
#include <stdexcept>
#include <string>
#include <string_view>

#include "idra/result.hpp"

namespace idra::store::lmdb {

// fail throws std::runtime_error("lmdb: |what|: <mdb_strerror(rc)>").
[[noreturn]] void fail(std::string_view what, int rc);

// make_private_dir creates |dir| (and missing parents) with mode 0700 if it
// does not exist; an existing directory is left as it is. Error if |dir|
// cannot be created or exists as something other than a directory.
Result<void> make_private_dir(const std::filesystem::path& dir);

// NeedsResize says the operation must be retried after a resize: |grow| after
// MDB_MAP_FULL (this process must enlarge the map), |adopt| after
// MDB_MAP_RESIZED (another process enlarged it; adopt its size).
class NeedsResize : public std::runtime_error {
 public:
  enum class Kind { grow, adopt };
  explicit NeedsResize(Kind kind);
  Kind kind() const noexcept { return kind_; }

 private:
  Kind kind_;
};

class Env {
 public:
  struct Config {
    std::size_t map_bytes = std::size_t{64} << 20;
    unsigned max_dbs = 16;
    unsigned max_readers = 1024;
    bool durable = true;  // false sets MDB_NOSYNC
  };

  // open creates |dir| (make_private_dir) and opens the
  // environment in it (files mode 0600, MDB_NOTLS), clearing reader slots
  // left by dead processes. Any failure is an Error naming |dir|.
  static Result<Env> open(const std::filesystem::path& dir, const Config& config);

  Env(Env&&) noexcept = default;
  Env& operator=(Env&&) noexcept = default;

  MDB_env* get() const noexcept { return env_.get(); }

  // map_bytes is the current size of the memory map.
  std::size_t map_bytes() const;
  // set_map_bytes resizes the map; 0 adopts the size recorded in the file by
  // whichever process grew it last. No transaction of this process may be
  // open (the caller guarantees it); throws on failure.
  void set_map_bytes(std::size_t bytes);
  // used_bytes is how much of the map the data file uses:
  // (me_last_pgno + 1) * page size, free pages inside included. It reads the
  // last committed meta page, so the caller holds off resizes (as for
  // map_bytes). Throws on failure.
  std::size_t used_bytes() const;
  // max_key_bytes is the largest key LMDB accepts (511 in Debian's build).
  std::size_t max_key_bytes() const noexcept;
  // prefault maps |bytes| of the data file starting at byte |offset| into
  // this process's page tables (MADV_POPULATE_READ, or one read per page on
  // kernels without it), so that the first reads after a start do not each
  // take a page fault. The caller holds off resizes. Never fails: it is an
  // optimization, and the pages fault in on demand anyway.
  void prefault(std::size_t offset, std::size_t bytes) const noexcept;

 private:
  struct Close {
    void operator()(MDB_env* env) const noexcept { mdb_env_close(env); }
  };
  explicit Env(std::unique_ptr<MDB_env, Close> env) : env_(std::move(env)) {}
  std::unique_ptr<MDB_env, Close> env_;
};

class Cursor;
class WriteTxn;

// Dbi names one sub-database. Handles are opened once at startup, inside the
// write transaction that creates the databases, and stay valid for the life
// of the Env once that transaction committed.
class Dbi {
 public:
  Dbi() = default;
  // open opens (creating if missing) the named database in |txn|. Throws on
  // failure (MDB_DBS_FULL is a build bug: Config::max_dbs is too small).
  static Dbi open(WriteTxn& txn, const char* name);
  MDB_dbi get() const noexcept { return dbi_; }

 private:
  explicit Dbi(MDB_dbi dbi) : dbi_(dbi) {}
  MDB_dbi dbi_ = 0;
};

// Txn is what read and write transactions share: lookups and cursors. It
// cannot be created directly.
class Txn {
 public:
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;

  // get returns the value stored under |key| in |dbi|, or nullopt. The view
  // points into the map and is valid until this transaction ends. An empty
  // |key| throws (MDB_BAD_VALSIZE); callers check key lengths first.
  std::optional<std::string_view> get(Dbi dbi, std::string_view key) const;
  // entries is the number of keys in |dbi| (mdb_stat).
  std::size_t entries(Dbi dbi) const;

  MDB_txn* get() const noexcept { return txn_; }

 protected:
  explicit Txn(MDB_txn* txn) noexcept : txn_(txn) {}
  Txn(Txn&& other) noexcept;
  Txn& operator=(Txn&& other) noexcept;
  ~Txn();  // the derived destructor has ended the LMDB txn already

  MDB_txn* live() const;  // txn_, or throws std::logic_error if it ended
  void check_no_cursors() const noexcept;

  MDB_txn* txn_ = nullptr;

 private:
  friend class Cursor;
  mutable int open_cursors_ = 0;
};

// ReadTxn is a read-only snapshot. It never blocks writers and is never held
// across an async wait (MDB_NOTLS lets it start and end on any thread, but
// only one thread may use it at a time).
class ReadTxn : public Txn {
 public:
  friend class ReaderPool;
  // begin starts a snapshot; throws NeedsResize(adopt) on MDB_MAP_RESIZED.
  static ReadTxn begin(const Env& env);
  ReadTxn(ReadTxn&& other) noexcept = default;
  ReadTxn& operator=(ReadTxn&& other) noexcept;
  ~ReadTxn();

 private:
  using Txn::Txn;
};

// ReaderPool keeps ended read transactions for reuse (LMDB's reset/renew):
// renewing one skips what mdb_txn_begin costs on every read, the
// allocation and the search of the reader table under its lock. With
// MDB_NOTLS a reset txn keeps its reader slot, so the pool is bounded
// (kMaxIdle) to leave slots for other processes' readers.
class ReaderPool {
 public:
  explicit ReaderPool(const Env& env) : env_(env) {}
  ReaderPool(const ReaderPool&) = delete;
  ReaderPool& operator=(const ReaderPool&) = delete;
  // Aborts the idle txns: destroy the pool before its Env closes.
  ~ReaderPool();

  // take starts a snapshot on an idle txn, or a new one; throws
  // NeedsResize(adopt) on MDB_MAP_RESIZED (the txn is then aborted).
  ReadTxn take();
  // give ends |txn| (its cursors must be closed) and keeps it for a later
  // take, or aborts it when kMaxIdle are idle already.
  void give(ReadTxn txn) noexcept;

  static constexpr std::size_t kMaxIdle = 16;

 private:
  const Env& env_;
  std::mutex mu_;
  std::vector<MDB_txn*> idle_;  // reset, ready for mdb_txn_renew
};

// WriteTxn is the one write transaction of the environment. It aborts in
// its destructor unless commit() succeeded.
class WriteTxn : public Txn {
 public:
  // begin waits for LMDB's writer lock; throws NeedsResize(adopt) on
  // MDB_MAP_RESIZED.
  static WriteTxn begin(const Env& env);
  WriteTxn(WriteTxn&& other) noexcept = default;
  WriteTxn& operator=(WriteTxn&& other) noexcept;
  ~WriteTxn();

  // put stores |value| under |key|; throws NeedsResize(grow) on
  // MDB_MAP_FULL.
  void put(Dbi dbi, std::string_view key, std::string_view value);
  // append stores |value| under |key|, which must sort after every key of
  // |dbi| (MDB_APPEND: no B-tree search, pages filled completely). A key
  // that does not is a caller's bug: throws std::logic_error. MDB_MAP_FULL
  // throws NeedsResize(grow).
  void append(Dbi dbi, std::string_view key, std::string_view value);
  // del removes |key|; false if it was not there.
  bool del(Dbi dbi, std::string_view key);
  // commit makes the changes durable (fsync unless MDB_NOSYNC) and ends the
  // transaction, whatever the outcome. An I/O failure (EIO, ENOSPC) is an
  // Error and nothing was written; MDB_MAP_FULL throws NeedsResize(grow).
  Result<void> commit();

 private:
  using Txn::Txn;
};

// Cursor walks |dbi| in key order inside |txn|. It borrows |txn| and must be
// destroyed before it (enforced at run time: see Txn). Entries' views are
// valid until the transaction ends.
class Cursor {
 public:
  struct Entry {
    std::string_view key;
    std::string_view value;
  };

  Cursor(const Txn& txn, Dbi dbi);
  ~Cursor();
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;

  // seek moves to the first key >= |key|; nullopt past the end. A |key|
  // longer than the LMDB maximum throws (callers check lengths).
  std::optional<Entry> seek(std::string_view key);
  std::optional<Entry> first();
  std::optional<Entry> next();

 private:
  std::optional<Entry> step(MDB_val* key, MDB_cursor_op op);
  const Txn& txn_;
  MDB_cursor* cursor_ = nullptr;
};

}  // namespace idra::store::lmdb
