// lmdb_test.cpp: the RAII layer (src/store/lmdb.hpp).
#include "store/lmdb.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <type_traits>
#include <vector>

#include "unit/store/temp_dir.hpp"

namespace idra::store::lmdb {
namespace {

using idra::store::testing::TempDir;

// The type rules the brief asks for, checked by the compiler.
static_assert(!std::is_same_v<ReadTxn, WriteTxn>);
static_assert(!std::is_convertible_v<ReadTxn&, WriteTxn&>);
static_assert(!std::is_convertible_v<WriteTxn&, ReadTxn&>);
static_assert(std::is_nothrow_move_constructible_v<ReadTxn>);
static_assert(std::is_nothrow_move_constructible_v<WriteTxn>);
static_assert(!std::is_copy_constructible_v<ReadTxn>);
static_assert(!std::is_copy_constructible_v<WriteTxn>);
static_assert(!std::is_copy_constructible_v<Cursor>);
static_assert(!std::is_move_constructible_v<Cursor>);
static_assert(std::is_move_constructible_v<Env>);
static_assert(!std::is_copy_constructible_v<Env>);

struct Fixture {
  TempDir tmp;
  Env env = open_env(tmp.db());
  Dbi dbi;

  Fixture() {
    auto txn = WriteTxn::begin(env);
    dbi = Dbi::open(txn, "t");
    EXPECT_TRUE(txn.commit().ok());
  }
  static Env open_env(const std::filesystem::path& dir) {
    Env::Config config;
    config.durable = false;
    config.map_bytes = std::size_t{1} << 20;
    auto env = Env::open(dir, config);
    if (!env) throw std::runtime_error(env.error().message);
    return std::move(env).value();
  }
  void put(std::string_view key, std::string_view value) {
    auto txn = WriteTxn::begin(env);
    txn.put(dbi, key, value);
    ASSERT_TRUE(txn.commit().ok());
  }
};

TEST(store_lmdb, MissingKeyIsNullopt) {
  Fixture f;
  auto txn = ReadTxn::begin(f.env);
  EXPECT_FALSE(txn.get(f.dbi, "absent").has_value());
}

TEST(store_lmdb, CommitMakesWritesVisible) {
  Fixture f;
  f.put("k", "v");
  auto txn = ReadTxn::begin(f.env);
  auto v = txn.get(f.dbi, "k");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(*v, "v");
  EXPECT_EQ(txn.entries(f.dbi), 1u);
}

TEST(store_lmdb, WriteTxnAbortsInItsDestructor) {
  Fixture f;
  {
    auto txn = WriteTxn::begin(f.env);
    txn.put(f.dbi, "k", "v");
    EXPECT_TRUE(txn.get(f.dbi, "k").has_value());  // visible inside the txn
  }
  auto txn = ReadTxn::begin(f.env);
  EXPECT_FALSE(txn.get(f.dbi, "k").has_value());
}

TEST(store_lmdb, ReadTxnIsASnapshot) {
  Fixture f;
  f.put("k", "old");
  auto before = ReadTxn::begin(f.env);
  f.put("k", "new");  // a reader does not block the writer
  EXPECT_EQ(*before.get(f.dbi, "k"), "old");
  auto after = ReadTxn::begin(f.env);
  EXPECT_EQ(*after.get(f.dbi, "k"), "new");
}

TEST(store_lmdb, MovedTxnsKeepWorking) {
  Fixture f;
  f.put("k", "v");
  auto a = ReadTxn::begin(f.env);
  ReadTxn b = std::move(a);
  EXPECT_EQ(*b.get(f.dbi, "k"), "v");
  EXPECT_THROW((void)a.get(f.dbi, "k"), std::logic_error);  // NOLINT: use after move on purpose
  b = ReadTxn::begin(f.env);
  EXPECT_EQ(*b.get(f.dbi, "k"), "v");

  auto w = WriteTxn::begin(f.env);
  w.put(f.dbi, "k2", "v2");
  WriteTxn w2 = std::move(w);
  ASSERT_TRUE(w2.commit().ok());
  EXPECT_THROW(w2.put(f.dbi, "k3", "v3"), std::logic_error);  // committed: ended
  auto r = ReadTxn::begin(f.env);
  EXPECT_EQ(*r.get(f.dbi, "k2"), "v2");
}

TEST(store_lmdb, DelReportsWhetherTheKeyExisted) {
  Fixture f;
  f.put("k", "v");
  auto txn = WriteTxn::begin(f.env);
  EXPECT_TRUE(txn.del(f.dbi, "k"));
  EXPECT_FALSE(txn.del(f.dbi, "k"));
  ASSERT_TRUE(txn.commit().ok());
}

TEST(store_lmdb, CursorWalksInKeyOrder) {
  Fixture f;
  for (const char* k : {"b", "d", "a", "c"}) f.put(k, std::string("v") + k);
  auto txn = ReadTxn::begin(f.env);
  Cursor cursor(txn, f.dbi);
  std::vector<std::string> keys;
  for (auto e = cursor.first(); e; e = cursor.next()) keys.emplace_back(e->key);
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "b", "c", "d"}));

  auto e = cursor.seek("bb");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->key, "c");
  EXPECT_EQ(e->value, "vc");
  EXPECT_FALSE(cursor.seek("e").has_value());
}

TEST(store_lmdb, CursorInAWriteTxnSeesUncommittedWrites) {
  Fixture f;
  auto txn = WriteTxn::begin(f.env);
  txn.put(f.dbi, "x", "1");
  {
    Cursor cursor(txn, f.dbi);
    auto e = cursor.first();
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->key, "x");
  }
  ASSERT_TRUE(txn.commit().ok());
}

TEST(store_lmdb_DeathTest, MovingATxnWithAnOpenCursorAborts) {
  // "fast" forks at EXPECT_DEATH: the child dies inside the statement, and
  // the parent, which owns |tmp|, still removes the directory.
  GTEST_FLAG_SET(death_test_style, "fast");
  TempDir tmp;
  EXPECT_DEATH(
      {
        Env env = Fixture::open_env(tmp.db());
        auto txn = ReadTxn::begin(env);
        Cursor cursor(txn, Dbi{});  // the main database
        ReadTxn stolen = std::move(txn);
      },
      "open cursor");
}

TEST(store_lmdb, OpenOnAFileIsAnError) {
  TempDir tmp;
  std::ofstream(tmp.path() / "file") << "x";
  auto env = Env::open(tmp.path() / "file", Env::Config{});
  ASSERT_FALSE(env.ok());
  EXPECT_NE(env.error().message.find("not a directory"), std::string::npos);
}

TEST(store_lmdb, MapFullThrowsNeedsResize) {
  TempDir tmp;
  Env::Config config;
  config.durable = false;
  config.map_bytes = 64 * 1024;
  auto env = Env::open(tmp.db(), config);
  ASSERT_TRUE(env.ok()) << env.error().message;
  auto txn = WriteTxn::begin(*env);
  Dbi dbi = Dbi::open(txn, "t");
  try {
    txn.put(dbi, "big", std::string(std::size_t{1} << 20, 'x'));
    FAIL() << "a 1 MiB value fit in a 64 KiB map";
  } catch (const NeedsResize& e) {
    EXPECT_EQ(e.kind(), NeedsResize::Kind::grow);
  }
}

TEST(store_lmdb, OtherErrorsThrowWithTheLmdbMessage) {
  Fixture f;
  auto txn = ReadTxn::begin(f.env);
  try {
    (void)txn.get(f.dbi, "");  // MDB_BAD_VALSIZE
    FAIL() << "an empty key was accepted";
  } catch (const NeedsResize&) {
    FAIL() << "wrong exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("mdb_get"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace idra::store::lmdb

namespace idra::store::lmdb {
namespace {

// A reused read txn is a fresh snapshot: it sees what was committed since
// it was given back, and a snapshot still held does not.
TEST(store_lmdb, ReaderPoolRenewsSnapshots) {
  Fixture f;
  f.put("k", "1");
  {
    ReaderPool pool(f.env);
    auto first = pool.take();
    MDB_txn* raw = first.get();
    EXPECT_EQ(first.get(f.dbi, "k"), "1");
    pool.give(std::move(first));
    f.put("k", "2");
    auto again = pool.take();
    EXPECT_EQ(again.get(), raw);  // the same txn, renewed
    EXPECT_EQ(again.get(f.dbi, "k"), "2");
    // Many at once: each its own txn; giving them all back keeps at most kMaxIdle.
    std::vector<ReadTxn> held;
    for (std::size_t i = 0; i < ReaderPool::kMaxIdle + 4; ++i) held.push_back(pool.take());
    f.put("k", "3");
    EXPECT_EQ(again.get(f.dbi, "k"), "2");
    EXPECT_EQ(held.back().get(f.dbi, "k"), "2");
    for (auto& t : held) pool.give(std::move(t));
    pool.give(std::move(again));
    int readers = 0;
    mdb_reader_list(f.env.get(), [](const char*, void* ctx) { ++*static_cast<int*>(ctx); return 0; }, &readers);
    EXPECT_LE(readers, static_cast<int>(ReaderPool::kMaxIdle) + 1);  // + the header line
    EXPECT_EQ(pool.take().get(f.dbi, "k"), "3");
  }
  // The pool gave its txns up: the env still works and closes cleanly.
  EXPECT_EQ(ReadTxn::begin(f.env).get(f.dbi, "k"), "3");
}

}  // namespace
}  // namespace idra::store::lmdb
