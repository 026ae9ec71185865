// store_test.cpp: Store semantics over a real LMDB environment in a temp dir.
//
// Suites in tests/unit/store are named store_* because gtest_discover_tests
// names tests "Suite.Test" and `ctest -R store` must select all of them.
#include "idra/store.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "store/lmdb.hpp"
#include "unit/store/temp_dir.hpp"

namespace idra::store {
namespace {

using testing::TempDir;

Options fast() {
  Options o;
  o.durable = false;  // no fsync in unit tests; durability is LMDB's job
  return o;
}

std::unique_ptr<Store> open_store(const std::filesystem::path& dir, Options options = fast()) {
  auto store = Store::open(dir, options);
  if (!store) throw std::runtime_error("open failed: " + store.error().message);
  return std::move(store).value();
}

HandleValue value(std::uint32_t index, std::string type, std::string data) {
  HandleValue v;
  v.index = index;
  v.type = std::move(type);
  v.data = std::move(data);
  return v;
}

Record record(std::initializer_list<HandleValue> values) { return Record{values}; }

// raw_record reads the stored bytes of |handle| with the store closed, so a
// test can compare what is on disk, not what decodes.
std::optional<std::string> raw_record(const std::filesystem::path& dir, std::string_view handle) {
  lmdb::Env::Config config;
  config.durable = false;
  auto env = lmdb::Env::open(dir, config);
  if (!env) throw std::runtime_error(env.error().message);
  lmdb::Dbi dbi;
  {
    auto txn = lmdb::WriteTxn::begin(*env);
    dbi = lmdb::Dbi::open(txn, "records");
    if (!txn.commit().ok()) throw std::runtime_error("commit failed");
  }
  auto txn = lmdb::ReadTxn::begin(*env);
  auto bytes = txn.get(dbi, handle);
  if (!bytes) return std::nullopt;
  return std::string(*bytes);
}

mode_t mode_of(const std::filesystem::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) throw std::runtime_error("stat " + p.string());
  return st.st_mode & 07777;
}

// ---------------------------------------------------------------------------
// Opening

TEST(store_open, CreatesAPrivateDirectoryAndFiles) {
  TempDir tmp;
  auto store = open_store(tmp.path() / "a" / "b" / "db");
  EXPECT_EQ(mode_of(tmp.path() / "a" / "b" / "db"), 0700u);
  EXPECT_EQ(mode_of(tmp.path() / "a" / "b" / "db" / "data.mdb"), 0600u);
  EXPECT_EQ(mode_of(tmp.path() / "a" / "b" / "db" / "lock.mdb"), 0600u);
  EXPECT_TRUE(store->healthy());
  EXPECT_EQ(store->get_meta("schema_version"), "1");
}

TEST(store_open, ReopenKeepsEverything) {
  TempDir tmp;
  Record r = record({value(1, "URL", "https://example.org/"), value(2, "EMAIL", "a@b")});
  {
    auto store = open_store(tmp.db(), Options{});  // durable, as in production
    ASSERT_TRUE(store->put("88.100/a", r).ok());
    ASSERT_TRUE(store->home_prefix("88.100").ok());
    ASSERT_TRUE(store->put_meta("k", "v").ok());
  }
  auto store = open_store(tmp.db());
  EXPECT_EQ(store->get("88.100/a"), r);
  EXPECT_TRUE(store->is_homed("88.100"));
  EXPECT_EQ(store->get_meta("k"), "v");
  EXPECT_EQ(store->record_count(), 1u);
}

TEST(store_open, SchemaVersionMismatchIsAnError) {
  TempDir tmp;
  { open_store(tmp.db()); }
  {
    auto env = lmdb::Env::open(tmp.db(), lmdb::Env::Config{});
    ASSERT_TRUE(env.ok()) << env.error().message;
    auto txn = lmdb::WriteTxn::begin(*env);
    auto meta = lmdb::Dbi::open(txn, "meta");
    txn.put(meta, "schema_version", "2");
    ASSERT_TRUE(txn.commit().ok());
  }
  auto store = Store::open(tmp.db(), fast());
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("schema version \"2\""), std::string::npos)
      << store.error().message;
}

TEST(store_open, RecordsWithoutASchemaVersionAreAnError) {
  TempDir tmp;
  {
    auto env = lmdb::Env::open(tmp.db(), lmdb::Env::Config{});
    ASSERT_TRUE(env.ok()) << env.error().message;
    auto txn = lmdb::WriteTxn::begin(*env);
    auto records = lmdb::Dbi::open(txn, "records");
    txn.put(records, "88.100/a", encode_record(Record{}));
    ASSERT_TRUE(txn.commit().ok());
  }
  auto store = Store::open(tmp.db(), fast());
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("no schema version"), std::string::npos);
}

TEST(store_open, SecondOpenInTheSameProcessIsAnError) {
  TempDir tmp;
  auto first = open_store(tmp.db());
  auto second = Store::open(tmp.db(), fast());
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("already open"), std::string::npos);
  first.reset();
  EXPECT_TRUE(Store::open(tmp.db(), fast()).ok());  // released on close
}

TEST(store_open, AFileInTheWayIsAnError) {
  TempDir tmp;
  std::ofstream(tmp.db()) << "not a directory";
  EXPECT_FALSE(Store::open(tmp.db(), fast()).ok());
}

// ---------------------------------------------------------------------------
// Records

TEST(store_records, PutGetErase) {
  TempDir tmp;
  auto store = open_store(tmp.db());
  EXPECT_FALSE(store->get("88.100/a").has_value());
  Record r = record({value(1, "URL", "one")});
  ASSERT_TRUE(store->put("88.100/a", r).ok());
  EXPECT_EQ(store->get("88.100/a"), r);
  EXPECT_FALSE(store->get("88.100/A").has_value());  // suffixes are case-sensitive keys

  Record replaced = record({value(2, "URL", "two")});
  ASSERT_TRUE(store->put("88.100/a", replaced).ok());
  EXPECT_EQ(store->get("88.100/a"), replaced);
  EXPECT_EQ(store->record_count(), 1u);

  auto erased = store->erase("88.100/a");
  ASSERT_TRUE(erased.ok());
  EXPECT_TRUE(*erased);
  EXPECT_FALSE(store->get("88.100/a").has_value());
  auto again = store->erase("88.100/a");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  EXPECT_EQ(store->record_count(), 0u);
}

TEST(store_records, EmptyRecordIsStoredAndDistinctFromAbsent) {
  TempDir tmp;
  auto store = open_store(tmp.db());
  ASSERT_TRUE(store->put("88.100/empty", Record{}).ok());
  auto got = store->get("88.100/empty");
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(got->values.empty());
}

TEST(store_records, PutSortsValuesByIndex) {
  TempDir tmp;
  auto store = open_store(tmp.db());
  ASSERT_TRUE(
      store->put("88.100/s", record({value(9, "C", ""), value(1, "A", ""), value(5, "B", "")}))
          .ok());
  auto got = store->get("88.100/s");
  ASSERT_TRUE(got.has_value());
  ASSERT_EQ(got->values.size(), 3u);
  EXPECT_EQ(got->values[0].index, 1u);
  EXPECT_EQ(got->values[1].index, 5u);
  EXPECT_EQ(got->values[2].index, 9u);
}

TEST(store_records, PutThrowsOnZeroOrDuplicateIndexAndStoresNothing) {
  TempDir tmp;
  auto store = open_store(tmp.db());
  EXPECT_THROW((void)store->put("88.100/z", record({value(0, "A", "")})), std::invalid_argument);
  EXPECT_THROW((void)store->put("88.100/d", record({value(3, "A", ""), value(3, "B", "")})),
               std::invalid_argument);
  EXPECT_EQ(store->record_count(), 0u);
  EXPECT_TRUE(store->healthy());  // no txn left open, the writer lock is free
  EXPECT_TRUE(store->put("88.100/ok", record({value(1, "A", "")})).ok());
}

TEST(store_records, HandlesBeyondTheKeyLimitAreErrorsNotCrashes) {
  TempDir tmp;
  auto store = open_store(tmp.db());
  const std::string longest = "88.100/" + std::string(511 - 7, 'x');
  ASSERT_TRUE(store->put(longest, record({value(1, "A", "")})).ok());
  EXPECT_TRUE(store->get(longest).has_value());

  const std::string too_long = longest + "y";
  auto put = store->put(too_long, Record{});
  ASSERT_FALSE(put.ok());
  EXPECT_NE(put.error().message.find("512 bytes"), std::string::npos) << put.error().message;
  EXPECT_FALSE(store->get(too_long).has_value());
  EXPECT_FALSE(*store->erase(too_long));
  EXPECT_FALSE(store->put("", Record{}).ok());
  EXPECT_FALSE(store->get("").has_value());
  EXPECT_EQ(store->list(std::string(600, 'P'), 0, 10).total_count, 0u);
}

// ---------------------------------------------------------------------------
// update

TEST(store_update, CreatesModifiesAndDeletes) {
  TempDir tmp;
  auto store = open_store(tmp.db());
  auto created = store->update(
      "88.100/u", [](const std::optional<Record>& current) -> Result<std::optional<Record>> {
        EXPECT_FALSE(current.has_value());
        return std::optional<Record>(record({value(2, "URL", "b"), value(1, "URL", "a")}));
      });
  ASSERT_TRUE(created.ok()) << created.error().message;
  auto got = store->get("88.100/u");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->values.front().index, 1u);  // sorted like put

  auto modified = store->update(
      "88.100/u", [](const std::optional<Record>& current) -> Result<std::optional<Record>> {
        EXPECT_TRUE(current.has_value());
        Record next = *current;
        next.values.push_back(value(3, "EMAIL", "c"));
        return std::optional<Record>(next);
      });
  ASSERT_TRUE(modified.ok());
  EXPECT_EQ(store->get("88.100/u")->values.size(), 3u);

  auto deleted =
      store->update("88.100/u", [](const std::optional<Record>&) -> Result<std::optional<Record>> {
        return std::optional<Record>();
      });
  ASSERT_TRUE(deleted.ok());
  EXPECT_FALSE(store->get("88.100/u").has_value());

  // Deleting what does not exist is not an error.
  EXPECT_TRUE(store
                  ->update("88.100/none",
                           [](const std::optional<Record>&) -> Result<std::optional<Record>> {
                             return std::optional<Record>();
                           })
                  .ok());
}

TEST(store_update, AFailedUpdateLeavesTheRecordByteIdentical) {
  TempDir tmp;
  Record r = record({value(1, "URL", "https://example.org/"), value(100, "HS_ADMIN", "admin")});
  { ASSERT_TRUE(open_store(tmp.db())->put("88.100/keep", r).ok()); }
  const auto before = raw_record(tmp.db(), "88.100/keep");
  ASSERT_TRUE(before.has_value());
  {
    auto store = open_store(tmp.db());
    auto failed = store->update(
        "88.100/keep", [](const std::optional<Record>& current) -> Result<std::optional<Record>> {
          return make_error("denied", 400);
        });
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.error().message, "denied");
    EXPECT_EQ(failed.error().code, 400);

    // An exception from fn and an invalid result also change nothing.
    EXPECT_THROW(
        (void)store->update("88.100/keep",
                            [](const std::optional<Record>&) -> Result<std::optional<Record>> {
                              throw std::runtime_error("boom");
                            }),
        std::runtime_error);
    EXPECT_THROW((void)store->update(
                     "88.100/keep",
                     [](const std::optional<Record>&) -> Result<std::optional<Record>> {
                       return std::optional<Record>(record({value(1, "A", ""), value(1, "B", "")}));
                     }),
                 std::invalid_argument);
    EXPECT_EQ(store->get("88.100/keep"), r);
  }
  EXPECT_EQ(raw_record(tmp.db(), "88.100/keep"), before);
}

// ---------------------------------------------------------------------------
// list

TEST(store_list, OnlyHandlesOfExactlyThePrefix) {
  TempDir tmp;
  auto store = open_store(tmp.db());
  for (const char* h : {"88.100/a", "88.100/b", "88.100/", "88.10/x", "88.100.1/x", "88.1000/y",
                        "88.1/z", "88.100-/w", "88.100./v"}) {
    ASSERT_TRUE(store->put(h, Record{}).ok()) << h;
  }
  HandlePage page = store->list("88.100", 0, 100);
  EXPECT_EQ(page.total_count, 3u);
  EXPECT_EQ(page.handles, (std::vector<std::string>{"88.100/", "88.100/a", "88.100/b"}));

  page = store->list("88.10", 0, 100);
  EXPECT_EQ(page.handles, std::vector<std::string>{"88.10/x"});
  page = store->list("88.100.1", 0, 100);
  EXPECT_EQ(page.handles, std::vector<std::string>{"88.100.1/x"});
  page = store->list("88", 0, 100);
  EXPECT_EQ(page.total_count, 0u);
  EXPECT_TRUE(page.handles.empty());
  EXPECT_EQ(store->list("99.1", 0, 10).total_count, 0u);
}

TEST(store_list, Pages) {
  TempDir tmp;
  auto store = open_store(tmp.db());
  std::vector<std::string> all;
  for (int i = 0; i < 25; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "20.500/item%02d", i);
    all.emplace_back(name);
    ASSERT_TRUE(store->put(name, record({value(1, "URL", std::string(1000, 'x'))})).ok());
  }
  ASSERT_TRUE(store->put("20.5001/other", Record{}).ok());

  std::vector<std::string> seen;
  for (std::uint64_t p = 0; p < 3; ++p) {
    HandlePage page = store->list("20.500", p, 10);
    EXPECT_EQ(page.total_count, 25u);
    EXPECT_EQ(page.handles.size(), p < 2 ? 10u : 5u);
    seen.insert(seen.end(), page.handles.begin(), page.handles.end());
  }
  EXPECT_EQ(seen, all);

  HandlePage past = store->list("20.500", 3, 10);
  EXPECT_EQ(past.total_count, 25u);
  EXPECT_TRUE(past.handles.empty());
  HandlePage none = store->list("20.500", 0, 0);
  EXPECT_EQ(none.total_count, 25u);
  EXPECT_TRUE(none.handles.empty());
  HandlePage huge = store->list("20.500", UINT64_MAX, UINT64_MAX);  // no overflow
  EXPECT_EQ(huge.total_count, 25u);
  EXPECT_TRUE(huge.handles.empty());
  HandlePage everything = store->list("20.500", 0, UINT64_MAX);
  EXPECT_EQ(everything.handles, all);
}

// ---------------------------------------------------------------------------
// Homing and meta

TEST(store_homing, ExactMatchAndSortedList) {
  TempDir tmp;
  auto store = open_store(tmp.db());
  EXPECT_TRUE(store->homed_prefixes().empty());
  for (const char* p : {"88.100", "20.500", "0.NA", "88.100.1"}) {
    ASSERT_TRUE(store->home_prefix(p).ok());
  }
  ASSERT_TRUE(store->home_prefix("88.100").ok());  // idempotent
  EXPECT_TRUE(store->is_homed("88.100"));
  EXPECT_TRUE(store->is_homed("88.100.1"));
  EXPECT_FALSE(store->is_homed("88.10"));
  EXPECT_FALSE(store->is_homed("88"));
  EXPECT_FALSE(store->is_homed("88.1000"));
  EXPECT_FALSE(store->is_homed(""));
  EXPECT_EQ(store->homed_prefixes(),
            (std::vector<std::string>{"0.NA", "20.500", "88.100", "88.100.1"}));

  auto removed = store->unhome_prefix("88.100");
  ASSERT_TRUE(removed.ok());
  EXPECT_TRUE(*removed);
  EXPECT_FALSE(store->is_homed("88.100"));
  EXPECT_TRUE(store->is_homed("88.100.1"));
  EXPECT_FALSE(*store->unhome_prefix("88.100"));
  EXPECT_FALSE(store->home_prefix("").ok());
}

TEST(store_meta, NamedValuesAndTheReservedKey) {
  TempDir tmp;
  auto store = open_store(tmp.db());
  EXPECT_FALSE(store->get_meta("ca_public_key").has_value());
  ASSERT_TRUE(store->put_meta("ca_public_key", std::string("\0\x01\x02", 3)).ok());
  EXPECT_EQ(store->get_meta("ca_public_key"), std::string("\0\x01\x02", 3));
  ASSERT_TRUE(store->put_meta("empty", "").ok());
  EXPECT_EQ(store->get_meta("empty"), "");
  EXPECT_FALSE(store->put_meta("schema_version", "2").ok());
  EXPECT_EQ(store->get_meta("schema_version"), "1");
  EXPECT_EQ(store->record_count(), 0u);  // meta is not records
}

// ---------------------------------------------------------------------------
// Map growth

TEST(store_map, GrowsFromATinyMapAsRecordsArrive) {
  TempDir tmp;
  Options options = fast();
  options.initial_map_bytes = 64 * 1024;
  const std::string blob(16 * 1024, 'g');
  {
    auto store = open_store(tmp.db(), options);
    const std::size_t initial = store->map_bytes();
    EXPECT_LE(initial, std::size_t{64} * 1024);
    for (int i = 0; i < 256; ++i) {  // 4 MiB of records
      ASSERT_TRUE(
          store->put("88.100/g" + std::to_string(i), record({value(1, "DATA", blob)})).ok());
    }
    // One record larger than the whole map at that moment.
    ASSERT_TRUE(
        store->put("88.100/huge", record({value(1, "DATA", std::string(3 << 20, 'h'))})).ok());
    // update across a growth: fn may run again and must see the same state.
    int calls = 0;
    ASSERT_TRUE(
        store
            ->update("88.100/grown",
                     [&](const std::optional<Record>& current) -> Result<std::optional<Record>> {
                       ++calls;
                       EXPECT_FALSE(current.has_value());
                       return std::optional<Record>(
                           record({value(1, "DATA", std::string(8 << 20, 'u'))}));
                     })
            .ok());
    EXPECT_GE(calls, 1);
    EXPECT_GE(store->map_bytes(), std::size_t{12} << 20);
    EXPECT_EQ(store->record_count(), 258u);
    EXPECT_EQ(store->get("88.100/g0")->values[0].data, blob);
    EXPECT_EQ(store->get("88.100/g255")->values[0].data, blob);
  }
  auto store = open_store(tmp.db(), options);  // reopen with the tiny map setting
  EXPECT_EQ(store->record_count(), 258u);
  EXPECT_EQ(store->get("88.100/huge")->values[0].data.size(), std::size_t{3} << 20);
  EXPECT_EQ(store->list("88.100", 0, 1000).total_count, 258u);
  ASSERT_TRUE(store->put("88.100/after", record({value(1, "DATA", blob)})).ok());
  EXPECT_TRUE(store->healthy());
}

// Another process grows the map; this one must adopt the new size
// (MDB_MAP_RESIZED) instead of failing.
TEST(store_map, AdoptsAMapGrownByAnotherProcess) {
  TempDir tmp;
  Options options = fast();
  options.initial_map_bytes = 256 * 1024;
  auto store = open_store(tmp.db(), options);
  ASSERT_TRUE(store->put("88.100/parent", record({value(1, "URL", "p")})).ok());
  const std::size_t before = store->map_bytes();

  pid_t child = ::fork();
  ASSERT_NE(child, -1);
  if (child == 0) {
    // The child opens its own environment (the parent's claim is per
    // process but the registry is copied by fork, so bypass Store and use
    // the layer directly) and writes far more than the parent's map holds.
    int status = 0;
    try {
      lmdb::Env::Config config;
      config.durable = false;
      config.map_bytes = std::size_t{32} << 20;
      auto env = lmdb::Env::open(tmp.db(), config);
      if (!env) _exit(2);
      auto txn = lmdb::WriteTxn::begin(*env);
      auto records = lmdb::Dbi::open(txn, "records");
      const std::string bytes =
          encode_record(record({value(1, "DATA", std::string(4 << 20, 'c'))}));
      for (int i = 0; i < 4; ++i) txn.put(records, "88.100/child" + std::to_string(i), bytes);
      if (!txn.commit().ok()) status = 3;
    } catch (...) {
      status = 4;
    }
    _exit(status);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);

  // Reads and writes in this process now meet MDB_MAP_RESIZED.
  EXPECT_EQ(store->record_count(), 5u);
  EXPECT_EQ(store->get("88.100/child3")->values[0].data.size(), std::size_t{4} << 20);
  ASSERT_TRUE(store->put("88.100/after", record({value(1, "URL", "a")})).ok());
  EXPECT_GT(store->map_bytes(), before);
  EXPECT_EQ(store->list("88.100", 0, 10).total_count, 6u);
}

}  // namespace
}  // namespace idra::store
