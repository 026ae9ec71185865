// store_test.cpp: Store semantics over a real LMDB environment in a temp dir.
//
// Suites in tests/unit/store are named store_* because gtest_discover_tests
// names tests "Suite.Test" and `ctest -R store` must select all of them.
#include "idra/store.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "idra/ids.hpp"
#include "store/keys.hpp"
#include "store/lmdb.hpp"
#include "unit/store/temp_dir.hpp"

namespace idra::store {
namespace {

using testing::TempDir;

Options fast() {
  Options o;
  o.durable = false;  // no fsync in unit tests; durability is LMDB's job
  // No background prefault thread: store_map.AdoptsAMapGrownByAnotherProcess
  // forks, and a fork while another thread is inside the sanitizer runtime
  // can deadlock the child. store_prefault tests the thread on its own.
  o.prefault_max_bytes = 0;
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

// with_raw_records runs |body| on the "records" database of the store in
// |dir| through the LMDB layer, in a write txn it then commits, with the
// store closed, so a test can see and plant bytes on disk, not what decodes.
template <class F>
void with_raw_records(const std::filesystem::path& dir, F&& body) {
  lmdb::Env::Config config;
  config.durable = false;
  auto env = lmdb::Env::open(dir, config);
  if (!env) throw std::runtime_error(env.error().message);
  auto txn = lmdb::WriteTxn::begin(*env);
  auto dbi = lmdb::Dbi::open(txn, "records");
  body(txn, dbi);
  if (!txn.commit().ok()) throw std::runtime_error("commit failed");
}

// raw_record returns the stored bytes under |key| (a handle of at most 400
// bytes is its own key).
std::optional<std::string> raw_record(const std::filesystem::path& dir, std::string_view key) {
  std::optional<std::string> out;
  with_raw_records(dir, [&](lmdb::WriteTxn& txn, lmdb::Dbi dbi) {
    if (auto bytes = txn.get(dbi, key)) out = std::string(*bytes);
  });
  return out;
}

void raw_put(const std::filesystem::path& dir, std::string_view key, std::string_view value) {
  with_raw_records(dir, [&](lmdb::WriteTxn& txn, lmdb::Dbi dbi) { txn.put(dbi, key, value); });
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

TEST(store_records, HandlesUpTo2048BytesAreStoredLongerOnesAreErrors) {
  TempDir tmp;
  auto store = open_store(tmp.db());
  const std::string longest = "88.100/" + std::string(ids::kMaxHandleBytes - 7, 'x');
  ASSERT_TRUE(store->put(longest, record({value(1, "A", "")})).ok());
  EXPECT_TRUE(store->get(longest).has_value());

  const std::string too_long = longest + "y";
  auto put = store->put(too_long, Record{});
  ASSERT_FALSE(put.ok());
  EXPECT_NE(put.error().message.find("2049 bytes"), std::string::npos) << put.error().message;
  EXPECT_FALSE(store
                   ->update(too_long,
                            [](const std::optional<Record>&) -> Result<std::optional<Record>> {
                              return std::optional<Record>(Record{});
                            })
                   .ok());
  EXPECT_FALSE(store->get(too_long).has_value());
  EXPECT_FALSE(*store->erase(too_long));
  EXPECT_FALSE(store->put("", Record{}).ok());
  EXPECT_FALSE(store->get("").has_value());
  EXPECT_FALSE(*store->erase(""));
  EXPECT_EQ(store->list(std::string(600, 'P'), 0, 10).total_count, 0u);
  EXPECT_EQ(store->list(std::string(3000, 'P'), 0, 10).total_count, 0u);
  EXPECT_EQ(store->record_count(), 1u);
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

// ---------------------------------------------------------------------------
// Long handles (over 400 bytes: hashed keys, see src/store/keys.hpp)

// handle_of returns "|prefix|/" followed by |fill| up to |bytes| bytes.
std::string handle_of(std::string_view prefix, std::size_t bytes, char fill = 'x') {
  std::string h = std::string(prefix) + "/";
  h.resize(bytes, fill);
  return h;
}

TEST(store_long_handles, EveryOperationAtEveryLength) {
  TempDir tmp;
  auto store = open_store(tmp.db());
  const std::vector<std::size_t> lengths = {399, 400, 401, 432, 433, 434, 511, 512, 1000, 2048};
  for (std::size_t n : lengths) {
    const std::string h = handle_of("88.100", n);
    SCOPED_TRACE(n);
    EXPECT_FALSE(store->get(h).has_value());
    const Record r = record({value(1, "URL", "u" + std::to_string(n))});
    ASSERT_TRUE(store->put(h, r).ok());
    EXPECT_EQ(store->get(h), r);
    EXPECT_FALSE(store->get(h.substr(0, n - 1) + "y").has_value());  // differs in the last byte
  }
  EXPECT_EQ(store->record_count(), lengths.size());
  for (std::size_t n : lengths) {
    const std::string h = handle_of("88.100", n);
    SCOPED_TRACE(n);
    ASSERT_TRUE(
        store
            ->update(h,
                     [&](const std::optional<Record>& current) -> Result<std::optional<Record>> {
                       EXPECT_TRUE(current.has_value());
                       if (!current) return make_error("missing");
                       Record next = *current;
                       next.values.push_back(value(2, "EMAIL", "e"));
                       return std::optional<Record>(next);
                     })
            .ok());
    EXPECT_EQ(store->get(h)->values.size(), 2u);
  }
  // The short two come first; the long ones share their first 400 bytes, so
  // they follow in digest order.
  const HandlePage page = store->list("88.100", 0, 100);
  std::vector<std::string> expected;
  for (std::size_t n : lengths) expected.push_back(handle_of("88.100", n));
  ASSERT_EQ(page.handles.size(), expected.size());
  EXPECT_EQ(page.handles[0], expected[0]);
  EXPECT_EQ(page.handles[1], expected[1]);
  std::vector<std::string> got = page.handles;
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, expected);
  for (std::size_t n : lengths) {
    const std::string h = handle_of("88.100", n);
    SCOPED_TRACE(n);
    EXPECT_TRUE(*store->erase(h));
    EXPECT_FALSE(*store->erase(h));
    EXPECT_FALSE(store->get(h).has_value());
  }
  EXPECT_EQ(store->record_count(), 0u);

  // update creates and deletes long handles too.
  const std::string h = handle_of("88.100", 1500, 'u');
  ASSERT_TRUE(
      store
          ->update(h,
                   [](const std::optional<Record>& current) -> Result<std::optional<Record>> {
                     EXPECT_FALSE(current.has_value());
                     return std::optional<Record>(record({value(7, "A", "a")}));
                   })
          .ok());
  EXPECT_EQ(store->get(h)->values[0].index, 7u);
  ASSERT_TRUE(store
                  ->update(h,
                           [](const std::optional<Record>&) -> Result<std::optional<Record>> {
                             return std::optional<Record>();
                           })
                  .ok());
  EXPECT_FALSE(store->get(h).has_value());
}

TEST(store_long_handles, HandlesSharingTheFirst400BytesStayApart) {
  TempDir tmp;
  const std::string head = handle_of("88.100", 400, 'h');
  const std::vector<std::string> handles = {head, head + "a", head + "b", head + "ab",
                                            head + std::string(1000, 'c')};
  {
    auto store = open_store(tmp.db());
    for (std::size_t i = 0; i < handles.size(); ++i) {
      ASSERT_TRUE(store->put(handles[i], record({value(1, "N", std::to_string(i))})).ok());
    }
    EXPECT_TRUE(*store->erase(head + "a"));
  }
  auto store = open_store(tmp.db());  // and it all survives a reopen
  EXPECT_EQ(store->record_count(), handles.size() - 1);
  for (std::size_t i = 0; i < handles.size(); ++i) {
    if (handles[i] == head + "a") {
      EXPECT_FALSE(store->get(handles[i]).has_value());
      continue;
    }
    ASSERT_TRUE(store->get(handles[i]).has_value()) << i;
    EXPECT_EQ(store->get(handles[i])->values[0].data, std::to_string(i));
  }
  HandlePage page = store->list("88.100", 0, 100);
  ASSERT_EQ(page.handles.size(), 4u);
  EXPECT_EQ(page.handles.front(), head);  // the short one sorts first; the rest by digest
  std::vector<std::string> got = page.handles;
  std::vector<std::string> want = {head, head + "b", head + "ab", head + std::string(1000, 'c')};
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
}

TEST(store_long_handles, ListPagesMixShortAndLongHandlesInKeyOrder) {
  TempDir tmp;
  auto store = open_store(tmp.db());
  std::vector<std::string> mine = {
      "20.500/a",
      handle_of("20.500", 600, 'b'),
      "20.500/c",
      handle_of("20.500/d", 2048, 'd'),
      "20.500/" + std::string(400 - 7, 'e'),  // exactly 400: short
      "20.500/" + std::string(401 - 7, 'e'),  // 401: long, right after it
      "20.500/f",
  };
  std::sort(mine.begin(), mine.end());
  for (const std::string& h : mine) ASSERT_TRUE(store->put(h, record({value(1, "U", h)})).ok());
  // Neighbours in key order that are not under 20.500.
  for (const std::string& h : {handle_of("20.50", 900, 'n'), handle_of("20.5000", 900, 'n'),
                               handle_of("20.500.1", 500, 'n'), std::string("20.5001/z")}) {
    ASSERT_TRUE(store->put(h, Record{}).ok());
  }
  std::vector<std::string> seen;
  for (std::uint64_t p = 0; p < 3; ++p) {
    HandlePage page = store->list("20.500", p, 3);
    EXPECT_EQ(page.total_count, mine.size());
    EXPECT_EQ(page.handles.size(), p < 2 ? 3u : 1u);
    seen.insert(seen.end(), page.handles.begin(), page.handles.end());
  }
  EXPECT_EQ(seen, mine);
  for (const std::string& h : seen) EXPECT_EQ(store->get(h)->values[0].data, h);
  EXPECT_EQ(store->list("20.5000", 0, 10).handles,
            std::vector<std::string>{handle_of("20.5000", 900, 'n')});
}

// A prefix whose "PREFIX/" is longer than 400 bytes: its handles' keys share
// their 400-byte head with other prefixes' handles, which list must skip.
TEST(store_long_handles, PrefixesLongerThanTheKeyHead) {
  TempDir tmp;
  auto store = open_store(tmp.db());
  const std::string p = "88." + std::string(500, 'p');
  const std::string p2 = p + "q";  // same first 400 bytes, other prefix
  const std::vector<std::string> mine = {p + "/", p + "/a", p + "/b" + std::string(1000, 'b')};
  for (const std::string& h : mine) ASSERT_TRUE(store->put(h, Record{}).ok());
  ASSERT_TRUE(store->put(p2 + "/c", Record{}).ok());
  ASSERT_TRUE(store->put(p.substr(0, 400), Record{}).ok());  // the head itself, a short key
  ASSERT_TRUE(store->put(p + "./d", Record{}).ok());

  HandlePage page = store->list(p, 0, 100);
  EXPECT_EQ(page.total_count, 3u);
  std::vector<std::string> got = page.handles;
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, mine);
  page = store->list(p, 1, 1);
  EXPECT_EQ(page.total_count, 3u);
  ASSERT_EQ(page.handles.size(), 1u);
  EXPECT_EQ(store->list(p2, 0, 100).handles, std::vector<std::string>{p2 + "/c"});
  EXPECT_EQ(store->list(p.substr(0, 398), 0, 100).total_count, 0u);
}

TEST(store_long_handles, OnDiskFormat) {
  TempDir tmp;
  const std::string short_h = handle_of("88.100", 400);
  const std::string long_h = handle_of("88.100", 700);
  const Record r = record({value(1, "URL", "https://example.org/")});
  {
    auto store = open_store(tmp.db());
    ASSERT_TRUE(store->put(short_h, r).ok());
    ASSERT_TRUE(store->put(long_h, r).ok());
  }
  EXPECT_EQ(raw_record(tmp.db(), short_h), encode_record(r));  // as the first release wrote it
  const std::string key = keys::record_key(long_h);
  ASSERT_EQ(key.size(), 433u);
  EXPECT_EQ(key.substr(0, 400), long_h.substr(0, 400));
  auto raw = raw_record(tmp.db(), key);
  ASSERT_TRUE(raw.has_value());
  EXPECT_EQ(*raw, std::string("\0\0\x02\xbc", 4) + long_h + encode_record(r));  // 700 = 0x2bc
}

TEST(store_long_handles, AnEntryHoldingAnotherHandleIsABrokenInvariant) {
  TempDir tmp;
  const std::string asked = handle_of("88.100", 800, 'a');
  const std::string other = handle_of("88.100", 800, 'a') + "other";  // same first 400 bytes
  { ASSERT_TRUE(open_store(tmp.db())->put(asked, record({value(1, "A", "")})).ok()); }
  raw_put(tmp.db(), keys::record_key(asked), keys::wrap_long(other, encode_record(Record{})));
  {
    auto store = open_store(tmp.db());
    EXPECT_THROW((void)store->get(asked), std::runtime_error);
    EXPECT_THROW((void)store->put(asked, Record{}), std::runtime_error);
    EXPECT_THROW((void)store->erase(asked), std::runtime_error);
    EXPECT_THROW(
        (void)store->update(
            asked,
            [](const std::optional<Record>& c) -> Result<std::optional<Record>> { return c; }),
        std::runtime_error);
    EXPECT_TRUE(store->healthy());  // nothing was left open
  }
  raw_put(tmp.db(), keys::record_key(asked),
          std::string_view("\0\0\x01", 3));  // truncated envelope
  {
    auto store = open_store(tmp.db());
    EXPECT_THROW((void)store->get(asked), std::runtime_error);
    EXPECT_THROW((void)store->list("88.100", 0, 10), std::runtime_error);
    EXPECT_EQ(store->list("88.100", 5, 10).total_count, 1u);  // counting reads no value
  }
  // A 401..511-byte key that is not a long key was never written by this
  // build: list refuses it rather than returning a handle get cannot find.
  raw_put(tmp.db(), handle_of("88.200", 450), encode_record(Record{}));
  auto store = open_store(tmp.db());
  EXPECT_THROW((void)store->list("88.200", 0, 10), std::runtime_error);
  EXPECT_THROW((void)store->list("88.200", 5, 10), std::runtime_error);
}

// ---------------------------------------------------------------------------
// put_many

TEST(store_put_many, TenThousandRecordsInOneTransactionThroughMapGrowth) {
  TempDir tmp;
  Options options = fast();
  options.initial_map_bytes = 64 * 1024;
  constexpr std::size_t kCount = 10000;
  std::vector<std::pair<std::string, Record>> batch;
  for (std::size_t i = 0; i < kCount; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "20.500/item%05zu", i);
    std::string h = name;
    if (i % 1000 == 7) h = handle_of(h, 401 + i % 1500, 'L');  // some long ones
    batch.emplace_back(h, record({value(2, "EMAIL", "e" + std::to_string(i)),
                                  value(1, "URL", "https://example.org/" + std::to_string(i))}));
  }
  {
    auto store = open_store(tmp.db(), options);
    const std::size_t initial_map = store->map_bytes();
    // A reader sees none or all of the batch: it is one transaction.
    std::atomic<bool> done{false};
    std::atomic<int> torn{0};
    std::atomic<int> reads{0};
    std::thread reader([&] {
      while (!done.load()) {
        const std::uint64_t n = store->record_count();
        if (n != 0 && n != kCount) ++torn;
        ++reads;
      }
    });
    auto put = store->put_many(batch);
    done.store(true);
    reader.join();
    ASSERT_TRUE(put.ok()) << put.error().message;
    EXPECT_EQ(torn.load(), 0);
    EXPECT_GT(reads.load(), 0);
    EXPECT_GT(store->map_bytes(), initial_map * 8)
        << "the map never grew much; the test lost its point";
    EXPECT_EQ(store->record_count(), kCount);
  }
  auto store = open_store(tmp.db(), options);
  EXPECT_EQ(store->record_count(), kCount);
  for (std::size_t i = 0; i < kCount; i += 7) {
    auto got = store->get(batch[i].first);
    ASSERT_TRUE(got.has_value()) << i;
    ASSERT_EQ(got->values.size(), 2u);
    EXPECT_EQ(got->values[0].index, 1u);  // sorted like put
    EXPECT_EQ(got->values[1].data, "e" + std::to_string(i));
  }
  EXPECT_EQ(store->get(batch[1007].first)->values[1].data, "e1007");  // a long one
  EXPECT_EQ(store->list("20.500", 0, 0).total_count, kCount);
}

TEST(store_put_many, ValidatesEverythingBeforeWriting) {
  TempDir tmp;
  auto store = open_store(tmp.db());
  ASSERT_TRUE(store->put("88.100/old", record({value(1, "A", "old")})).ok());
  const Record ok = record({value(1, "A", "new")});

  auto too_long = store->put_many(
      {{"88.100/old", ok}, {"88.100/a", ok}, {handle_of("88.100", ids::kMaxHandleBytes + 1), ok}});
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.error().message.find("record 2"), std::string::npos)
      << too_long.error().message;
  EXPECT_NE(too_long.error().message.find("2049 bytes"), std::string::npos);
  auto empty = store->put_many({{"88.100/a", ok}, {"", ok}});
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("record 1"), std::string::npos);

  EXPECT_THROW(
      (void)store->put_many({{"88.100/old", ok}, {"88.100/z", record({value(0, "A", "")})}}),
      std::invalid_argument);
  EXPECT_THROW(
      (void)store->put_many(
          {{"88.100/old", ok}, {"88.100/d", record({value(3, "A", ""), value(3, "B", "")})}}),
      std::invalid_argument);

  EXPECT_EQ(store->record_count(), 1u);
  EXPECT_EQ(store->get("88.100/old")->values[0].data, "old");
  EXPECT_TRUE(store->healthy());

  EXPECT_TRUE(store->put_many({}).ok());
  // Replacing, and the last of two records for one handle wins.
  ASSERT_TRUE(store
                  ->put_many({{"88.100/old", ok},
                              {"88.100/twice", record({value(1, "A", "first")})},
                              {"88.100/twice", record({value(1, "A", "second")})}})
                  .ok());
  EXPECT_EQ(store->record_count(), 2u);
  EXPECT_EQ(store->get("88.100/old")->values[0].data, "new");
  EXPECT_EQ(store->get("88.100/twice")->values[0].data, "second");
}

// ---------------------------------------------------------------------------
// used_bytes

TEST(store_used_bytes, GrowsWithRecordsAndStaysInsideTheMap) {
  TempDir tmp;
  Options options = fast();
  options.initial_map_bytes = 64 * 1024;
  auto store = open_store(tmp.db(), options);
  const std::size_t empty = store->used_bytes();
  EXPECT_GT(empty, 0u);  // the two meta pages at least
  EXPECT_LE(empty, store->map_bytes());

  std::size_t before = empty;
  const std::string blob(1024, 'b');
  for (int round = 0; round < 4; ++round) {
    std::vector<std::pair<std::string, Record>> batch;
    for (int i = 0; i < 500; ++i) {
      batch.emplace_back("88.100/r" + std::to_string(round) + "-" + std::to_string(i),
                         record({value(1, "DATA", blob)}));
    }
    ASSERT_TRUE(store->put_many(batch).ok());
    const std::size_t now = store->used_bytes();
    EXPECT_GT(now, before) << "round " << round;
    EXPECT_LE(now, store->map_bytes());
    before = now;
  }
  // 2000 records of over 1 KiB each cannot fit in less.
  EXPECT_GE(before, std::size_t{2000} * 1024);
  EXPECT_LT(before, std::size_t{2000} * 1024 * 4);
}

}  // namespace
}  // namespace idra::store

namespace idra::store {
namespace {

// The prefault thread runs while the store is used, resized and closed: it
// must neither crash (ASan runs this) nor hold up a close.
TEST(store_prefault, ReopenUseResizeAndCloseWhilePrefaulting) {
  TempDir tmp;
  Options options;
  options.durable = false;
  options.initial_map_bytes = 256 * 1024;
  const std::string blob(4096, 'p');
  {
    auto store = Store::open(tmp.db(), options);
    ASSERT_TRUE(store.ok()) << store.error().message;
    std::vector<std::pair<std::string, Record>> batch;
    for (int i = 0; i < 3000; ++i) {
      Record r;
      HandleValue v;
      v.index = 1;
      v.type = "DATA";
      v.data = blob;
      r.values = {v};
      batch.emplace_back("88.100/p" + std::to_string(i), r);
    }
    ASSERT_TRUE((*store)->put_many(batch).ok());  // grows the map several times
  }
  for (int round = 0; round < 5; ++round) {
    auto store = Store::open(tmp.db(), options);  // about 12 MiB to prefault
    ASSERT_TRUE(store.ok()) << store.error().message;
    ASSERT_TRUE((*store)->get("88.100/p" + std::to_string(round * 500)).has_value());
    Record r;
    HandleValue v;
    v.index = 1;
    v.type = "DATA";
    v.data = std::string(1 << 20, 'g');
    r.values = {v};
    ASSERT_TRUE((*store)->put("88.100/grow" + std::to_string(round), r).ok());
  }  // each store closes at once, its prefault thread stopped mid-way or done
  options.prefault_max_bytes = 1;  // larger than the limit: nothing is prefaulted
  auto store = Store::open(tmp.db(), options);
  ASSERT_TRUE(store.ok());
  EXPECT_TRUE((*store)->get("88.100/p1").has_value());
}

}  // namespace
}  // namespace idra::store

namespace idra::store {
namespace {
using testing::TempDir;

// ---------------------------------------------------------------------------
// Tables and multi-part transactions.

TEST(StoreTables, TransactCommitsRecordAndTablesTogether) {
  TempDir dir;
  auto store = idra::store::Store::open(dir.path(), fast());
  ASSERT_TRUE(store) << store.error().message;
  idra::store::Record rec;
  HandleValue url;
  url.index = 1;
  url.type = "URL";
  url.data = "https://x";
  rec.values.push_back(url);
  auto ok = (*store)->transact([&](idra::store::WriteView& v) -> idra::Result<void> {
    v.put(idra::store::Table::certs, "serial-1", "cert bytes");
    v.put(idra::store::Table::tokens, "tok", "t");
    return v.put_record("88.1/A", rec);
  });
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ((*store)->get("88.1/A"), rec);
  (*store)->view([&](const idra::store::ReadView& v) {
    EXPECT_EQ(v.get(idra::store::Table::certs, "serial-1"), "cert bytes");
    EXPECT_EQ(v.get(idra::store::Table::tokens, "tok"), "t");
    EXPECT_EQ(v.get(idra::store::Table::tokens, "serial-1"), std::nullopt);  // tables are separate
    EXPECT_EQ(v.record("88.1/A"), rec);
    EXPECT_EQ(v.entries(idra::store::Table::certs), 1u);
  });
}

TEST(StoreTables, FailedTransactLeavesNothing) {
  TempDir dir;
  auto store = idra::store::Store::open(dir.path(), fast());
  ASSERT_TRUE(store);
  idra::store::Record rec;
  HandleValue url;
  url.index = 1;
  url.type = "URL";
  url.data = "https://x";
  rec.values.push_back(url);
  auto failed = (*store)->transact([&](idra::store::WriteView& v) -> idra::Result<void> {
    v.put(idra::store::Table::certs, "serial-1", "cert bytes");
    if (auto r = v.put_record("88.1/A", rec); !r) return r;
    return idra::make_error("token already used");
  });
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message, "token already used");
  EXPECT_FALSE((*store)->get("88.1/A"));
  (*store)->view([&](const idra::store::ReadView& v) {
    EXPECT_FALSE(v.get(idra::store::Table::certs, "serial-1"));
  });
}

TEST(StoreTables, ScanVisitsPrefixInOrderFromStart) {
  TempDir dir;
  auto store = idra::store::Store::open(dir.path(), fast());
  ASSERT_TRUE(store);
  ASSERT_TRUE((*store)->transact([&](idra::store::WriteView& v) -> idra::Result<void> {
    for (const char* k : {"a/1", "a/2", "a/3", "b/1", "a"}) v.put(idra::store::Table::cert_index, k, k);
    EXPECT_THROW(v.put(idra::store::Table::cert_index, "", "x"), std::invalid_argument);
    EXPECT_THROW(v.put(idra::store::Table::cert_index, std::string(600, 'k'), "x"), std::invalid_argument);
    return {};
  }));
  std::vector<std::string> seen;
  (*store)->view([&](const idra::store::ReadView& v) {
    v.scan(idra::store::Table::cert_index, "a/", [&](std::string_view k, std::string_view) {
      seen.emplace_back(k);
      return true;
    });
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"a/1", "a/2", "a/3"}));
  seen.clear();
  (*store)->view([&](const idra::store::ReadView& v) {
    v.scan(idra::store::Table::cert_index, "a/", [&](std::string_view k, std::string_view) {
      seen.emplace_back(k);
      return seen.size() < 1;
    }, "a/2");
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"a/2"}));
}

TEST(StoreTables, SurviveReopen) {
  TempDir dir;
  {
    auto store = idra::store::Store::open(dir.path(), fast());
    ASSERT_TRUE(store);
    ASSERT_TRUE((*store)->transact([&](idra::store::WriteView& v) -> idra::Result<void> {
      v.put(idra::store::Table::ca_state, "crl_number", "7");
      return {};
    }));
  }
  auto store = idra::store::Store::open(dir.path(), fast());
  ASSERT_TRUE(store);
  (*store)->view([&](const idra::store::ReadView& v) {
    EXPECT_EQ(v.get(idra::store::Table::ca_state, "crl_number"), "7");
  });
}

}  // namespace
}  // namespace idra::store
