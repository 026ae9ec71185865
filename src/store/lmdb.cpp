// lmdb.cpp: the RAII layer described in lmdb.hpp.
#include "store/lmdb.hpp"

#include <algorithm>

#include <unistd.h>

#include <sys/mman.h>

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <system_error>
#include <utility>

namespace idra::store::lmdb {
namespace {

MDB_val to_val(std::string_view bytes) {
  // LMDB takes void* but never writes through a key or a value to put.
  return MDB_val{bytes.size(), const_cast<char*>(bytes.data())};
}

std::string_view to_view(const MDB_val& val) {
  return {static_cast<const char*>(val.mv_data), val.mv_size};
}

std::string describe(int rc) { return mdb_strerror(rc); }

}  // namespace

void fail(std::string_view what, int rc) {
  throw std::runtime_error("lmdb: " + std::string(what) + ": " + describe(rc));
}

NeedsResize::NeedsResize(Kind kind)
    : std::runtime_error(kind == Kind::grow ? "lmdb: map full" : "lmdb: map resized elsewhere"),
      kind_(kind) {}

// ---------------------------------------------------------------------------
// Env

Result<void> make_private_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return {};
  if (std::filesystem::exists(dir, ec)) {
    return make_error(dir.string() + " exists and is not a directory");
  }
  if (dir.has_parent_path()) {
    std::filesystem::create_directories(dir.parent_path(), ec);
    if (ec) return make_error("cannot create " + dir.parent_path().string() + ": " + ec.message());
  }
  // mkdir applies the umask, which can only remove bits from 0700; chmod
  // afterwards so an odd umask (0277) cannot leave a directory we cannot
  // write.
  if (::mkdir(dir.c_str(), 0700) != 0) {
    int err = errno;
    if (err == EEXIST && std::filesystem::is_directory(dir, ec)) return {};  // lost a race
    return make_error("cannot create " + dir.string() + ": " + std::strerror(err));
  }
  if (::chmod(dir.c_str(), 0700) != 0) {
    return make_error("cannot set mode 0700 on " + dir.string() + ": " + std::strerror(errno));
  }
  return {};
}

Result<Env> Env::open(const std::filesystem::path& dir, const Config& config) {
  if (auto made = make_private_dir(dir); !made.ok()) return made.error();

  MDB_env* raw = nullptr;
  if (int rc = mdb_env_create(&raw); rc != 0) {
    return make_error("cannot create an LMDB environment: " + describe(rc));
  }
  std::unique_ptr<MDB_env, Close> env(raw);
  auto configure_error = [&](const char* what, int rc) {
    return make_error(std::string("cannot configure LMDB (") + what + "): " + describe(rc));
  };
  if (int rc = mdb_env_set_maxdbs(env.get(), config.max_dbs); rc != 0) {
    return configure_error("max_dbs", rc);
  }
  if (int rc = mdb_env_set_maxreaders(env.get(), config.max_readers); rc != 0) {
    return configure_error("max_readers", rc);
  }
  if (int rc = mdb_env_set_mapsize(env.get(), config.map_bytes); rc != 0) {
    return configure_error("map size", rc);
  }
  // MDB_NOTLS: read slots belong to the txn, not the thread, so a read txn
  // may start on one worker thread and end on another, and thread pools do
  // not leak slots. MDB_NOSUBDIR stays off: |dir| holds data.mdb/lock.mdb.
  unsigned flags = MDB_NOTLS;
  if (!config.durable) flags |= MDB_NOSYNC;
  if (int rc = mdb_env_open(env.get(), dir.c_str(), flags, 0600); rc != 0) {
    return make_error("cannot open the database in " + dir.string() + ": " + describe(rc));
  }
  int dead = 0;
  if (int rc = mdb_reader_check(env.get(), &dead); rc != 0) {
    return make_error("cannot check the reader table in " + dir.string() + ": " + describe(rc));
  }
  return Env(std::move(env));
}

std::size_t Env::map_bytes() const {
  MDB_envinfo info;
  if (int rc = mdb_env_info(env_.get(), &info); rc != 0) fail("mdb_env_info", rc);
  return info.me_mapsize;
}

std::size_t Env::used_bytes() const {
  MDB_envinfo info;
  if (int rc = mdb_env_info(env_.get(), &info); rc != 0) fail("mdb_env_info", rc);
  MDB_stat st;
  if (int rc = mdb_env_stat(env_.get(), &st); rc != 0) fail("mdb_env_stat", rc);
  return (static_cast<std::size_t>(info.me_last_pgno) + 1) * st.ms_psize;
}

void Env::set_map_bytes(std::size_t bytes) {
  if (int rc = mdb_env_set_mapsize(env_.get(), bytes); rc != 0) fail("mdb_env_set_mapsize", rc);
}

void Env::prefault(std::size_t offset, std::size_t bytes) const noexcept {
  MDB_envinfo info;
  if (mdb_env_info(env_.get(), &info) != 0 || info.me_mapaddr == nullptr) return;
  if (offset >= info.me_mapsize) return;
  bytes = std::min(bytes, info.me_mapsize - offset);
  const long page = ::sysconf(_SC_PAGESIZE);
  auto* begin = static_cast<char*>(info.me_mapaddr) + offset;
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22  // Linux 5.14; glibc 2.36's headers may lack it
#endif
  if (::madvise(begin, bytes, MADV_POPULATE_READ) == 0) return;
  volatile char sink = 0;
  for (std::size_t i = 0; i < bytes; i += static_cast<std::size_t>(page)) sink = sink + begin[i];
}

std::size_t Env::max_key_bytes() const noexcept {
  return static_cast<std::size_t>(mdb_env_get_maxkeysize(env_.get()));
}

// ---------------------------------------------------------------------------
// Dbi

Dbi Dbi::open(WriteTxn& txn, const char* name) {
  MDB_dbi dbi = 0;
  if (int rc = mdb_dbi_open(txn.get(), name, MDB_CREATE, &dbi); rc != 0) {
    fail(std::string("mdb_dbi_open ") + name, rc);
  }
  return Dbi(dbi);
}

// ---------------------------------------------------------------------------
// Txn

Txn::Txn(Txn&& other) noexcept : txn_(std::exchange(other.txn_, nullptr)) {
  other.check_no_cursors();
}

Txn& Txn::operator=(Txn&& other) noexcept {
  check_no_cursors();
  other.check_no_cursors();
  txn_ = std::exchange(other.txn_, nullptr);
  return *this;
}

Txn::~Txn() = default;

void Txn::check_no_cursors() const noexcept {
  if (open_cursors_ != 0) {
    // A cursor that outlives (or is left behind by a move of) its
    // transaction would read freed pages: a bug in this module, never input.
    std::fputs("idra store: LMDB transaction ended with an open cursor\n", stderr);
    std::abort();
  }
}

MDB_txn* Txn::live() const {
  if (txn_ == nullptr) throw std::logic_error("lmdb: transaction already ended");
  return txn_;
}

std::optional<std::string_view> Txn::get(Dbi dbi, std::string_view key) const {
  MDB_val k = to_val(key);
  MDB_val v{};
  int rc = mdb_get(live(), dbi.get(), &k, &v);
  if (rc == MDB_NOTFOUND) return std::nullopt;
  if (rc != 0) fail("mdb_get", rc);
  return to_view(v);
}

std::size_t Txn::entries(Dbi dbi) const {
  MDB_stat st;
  if (int rc = mdb_stat(live(), dbi.get(), &st); rc != 0) fail("mdb_stat", rc);
  return st.ms_entries;
}

// ---------------------------------------------------------------------------
// ReadTxn

ReadTxn ReadTxn::begin(const Env& env) {
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env.get(), nullptr, MDB_RDONLY, &txn);
  if (rc == MDB_MAP_RESIZED) throw NeedsResize(NeedsResize::Kind::adopt);
  if (rc != 0) fail("mdb_txn_begin (read)", rc);
  return ReadTxn(txn);
}

ReadTxn& ReadTxn::operator=(ReadTxn&& other) noexcept {
  if (this != &other) {
    check_no_cursors();
    if (txn_ != nullptr) mdb_txn_abort(txn_);
    txn_ = nullptr;
    Txn::operator=(std::move(other));
  }
  return *this;
}

ReadTxn::~ReadTxn() {
  check_no_cursors();
  if (txn_ != nullptr) mdb_txn_abort(txn_);
}

// ---------------------------------------------------------------------------
// ReaderPool

ReaderPool::~ReaderPool() {
  for (MDB_txn* txn : idle_) mdb_txn_abort(txn);
}

ReadTxn ReaderPool::take() {
  MDB_txn* txn = nullptr;
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      txn = idle_.back();
      idle_.pop_back();
    }
  }
  if (txn == nullptr) return ReadTxn::begin(env_);
  if (int rc = mdb_txn_renew(txn); rc != 0) {
    mdb_txn_abort(txn);
    if (rc == MDB_MAP_RESIZED) throw NeedsResize(NeedsResize::Kind::adopt);
    fail("mdb_txn_renew", rc);
  }
  return ReadTxn(txn);
}

void ReaderPool::give(ReadTxn txn) noexcept {
  txn.check_no_cursors();
  MDB_txn* raw = std::exchange(txn.txn_, nullptr);
  if (raw == nullptr) return;
  mdb_txn_reset(raw);
  {
    std::lock_guard lock(mu_);
    if (idle_.size() < kMaxIdle) {
      idle_.push_back(raw);
      return;
    }
  }
  mdb_txn_abort(raw);
}

// ---------------------------------------------------------------------------
// WriteTxn

WriteTxn WriteTxn::begin(const Env& env) {
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env.get(), nullptr, 0, &txn);
  if (rc == MDB_MAP_RESIZED) throw NeedsResize(NeedsResize::Kind::adopt);
  if (rc != 0) fail("mdb_txn_begin (write)", rc);
  return WriteTxn(txn);
}

WriteTxn& WriteTxn::operator=(WriteTxn&& other) noexcept {
  if (this != &other) {
    check_no_cursors();
    if (txn_ != nullptr) mdb_txn_abort(txn_);
    txn_ = nullptr;
    Txn::operator=(std::move(other));
  }
  return *this;
}

WriteTxn::~WriteTxn() {
  check_no_cursors();
  if (txn_ != nullptr) mdb_txn_abort(txn_);
}

void WriteTxn::put(Dbi dbi, std::string_view key, std::string_view value) {
  MDB_val k = to_val(key);
  MDB_val v = to_val(value);
  int rc = mdb_put(live(), dbi.get(), &k, &v, 0);
  if (rc == MDB_MAP_FULL) throw NeedsResize(NeedsResize::Kind::grow);
  if (rc != 0) fail("mdb_put", rc);
}

void WriteTxn::append(Dbi dbi, std::string_view key, std::string_view value) {
  MDB_val k = to_val(key);
  MDB_val v = to_val(value);
  int rc = mdb_put(live(), dbi.get(), &k, &v, MDB_APPEND);
  if (rc == MDB_MAP_FULL) throw NeedsResize(NeedsResize::Kind::grow);
  if (rc == MDB_KEYEXIST) throw std::logic_error("lmdb: append of a key that does not sort last");
  if (rc != 0) fail("mdb_put (append)", rc);
}

bool WriteTxn::del(Dbi dbi, std::string_view key) {
  MDB_val k = to_val(key);
  int rc = mdb_del(live(), dbi.get(), &k, nullptr);
  if (rc == MDB_NOTFOUND) return false;
  // Deleting can split no page, but it can need a free page for the
  // copy-on-write path; that is MAP_FULL like any write.
  if (rc == MDB_MAP_FULL) throw NeedsResize(NeedsResize::Kind::grow);
  if (rc != 0) fail("mdb_del", rc);
  return true;
}

Result<void> WriteTxn::commit() {
  check_no_cursors();
  // mdb_txn_commit frees the txn whether or not it succeeds.
  int rc = mdb_txn_commit(std::exchange(txn_, nullptr));
  if (rc == 0) return {};
  if (rc == MDB_MAP_FULL) throw NeedsResize(NeedsResize::Kind::grow);
  return make_error("the database could not be written: " + describe(rc));
}

// ---------------------------------------------------------------------------
// Cursor

Cursor::Cursor(const Txn& txn, Dbi dbi) : txn_(txn) {
  if (int rc = mdb_cursor_open(txn.live(), dbi.get(), &cursor_); rc != 0) {
    fail("mdb_cursor_open", rc);
  }
  ++txn_.open_cursors_;
}

Cursor::~Cursor() {
  // Closed explicitly for both kinds of txn: read-only cursors are never
  // freed by LMDB, and closing a write cursor before its txn ends is allowed.
  mdb_cursor_close(cursor_);
  --txn_.open_cursors_;
}

std::optional<Cursor::Entry> Cursor::step(MDB_val* key, MDB_cursor_op op) {
  MDB_val v{};
  int rc = mdb_cursor_get(cursor_, key, &v, op);
  if (rc == MDB_NOTFOUND) return std::nullopt;
  if (rc != 0) fail("mdb_cursor_get", rc);
  return Entry{to_view(*key), to_view(v)};
}

std::optional<Cursor::Entry> Cursor::seek(std::string_view key) {
  MDB_val k = to_val(key);
  return step(&k, MDB_SET_RANGE);
}

std::optional<Cursor::Entry> Cursor::first() {
  MDB_val k{};
  return step(&k, MDB_FIRST);
}

std::optional<Cursor::Entry> Cursor::next() {
  MDB_val k{};
  return step(&k, MDB_NEXT);
}

}  // namespace idra::store::lmdb
