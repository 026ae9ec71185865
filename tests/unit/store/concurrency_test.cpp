// concurrency_test.cpp: readers and a writer at once, through map growth.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "idra/store.hpp"
#include "unit/store/temp_dir.hpp"

namespace idra::store {
namespace {

using testing::TempDir;

// generation_record has |values| values all carrying the same generation
// number: a reader that sees two different numbers in one record saw a torn
// write.
Record generation_record(std::uint64_t generation, std::size_t values, std::size_t pad) {
  Record r;
  for (std::size_t i = 0; i < values; ++i) {
    HandleValue v;
    v.index = static_cast<std::uint32_t>(i + 1);
    v.type = "GEN";
    v.data = std::to_string(generation) + ":" + std::string(pad, 'p');
    r.values.push_back(std::move(v));
  }
  return r;
}

bool consistent(const Record& r) {
  for (const HandleValue& v : r.values) {
    if (v.data != r.values.front().data) return false;
  }
  return true;
}

TEST(store_concurrency, FourReadersAndAWriterThroughMapGrowth) {
  TempDir tmp;
  Options options;
  options.durable = false;
  options.initial_map_bytes = 64 * 1024;  // so the map grows under the readers
  auto opened = Store::open(tmp.db(), options);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  Store& store = **opened;
  constexpr int kHot = 8;  // handles rewritten over and over
  for (int i = 0; i < kHot; ++i) {
    ASSERT_TRUE(store.put("88.100/hot" + std::to_string(i), generation_record(0, 4, 16)).ok());
  }
  ASSERT_TRUE(store.home_prefix("88.100").ok());

  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::atomic<std::uint64_t> written{0};
  const std::size_t initial_map = store.map_bytes();

  std::thread writer([&] {
    std::uint64_t generation = 1;
    while (!stop.load()) {
      const std::string hot = "88.100/hot" + std::to_string(generation % kHot);
      if (!store.put(hot, generation_record(generation, 4, 16)).ok()) ++failures;
      // New handles make the map grow and the listing count rise.
      const std::string fresh = "88.100/new" + std::to_string(generation);
      auto r = store.update(
          fresh, [&](const std::optional<Record>& current) -> Result<std::optional<Record>> {
            if (current) return make_error("already there");
            return std::optional<Record>(generation_record(generation, 2, 2000));
          });
      if (!r.ok()) ++failures;
      written.store(generation);
      ++generation;
    }
  });

  std::vector<std::thread> readers;
  std::vector<std::uint64_t> reads(4, 0);
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      std::uint64_t last_total = 0;
      std::uint64_t n = 0;
      while (!stop.load()) {
        auto hot = store.get("88.100/hot" + std::to_string(n % kHot));
        if (!hot || !consistent(*hot)) ++failures;
        const std::uint64_t seen = written.load();
        if (seen > 0) {
          auto fresh = store.get("88.100/new" + std::to_string(seen));
          if (!fresh || !consistent(*fresh)) ++failures;  // committed before written moved
        }
        if (n % 16 == 0) {
          HandlePage page = store.list("88.100", 0, 5);
          if (page.total_count < last_total || page.handles.size() != 5) ++failures;
          last_total = page.total_count;  // handles are only ever added
          if (!store.is_homed("88.100") || store.is_homed("88.10")) ++failures;
          (void)store.record_count();
          (void)store.map_bytes();
        }
        ++n;
      }
      reads[t] = n;
    });
  }

  std::this_thread::sleep_for(std::chrono::seconds(2));
  stop.store(true);
  writer.join();
  for (auto& r : readers) r.join();

  EXPECT_EQ(failures.load(), 0);
  for (int t = 0; t < 4; ++t) EXPECT_GT(reads[t], 0u) << "reader " << t << " never ran";
  EXPECT_GT(written.load(), 10u);
  EXPECT_GT(store.map_bytes(), initial_map) << "the map never grew; the test lost its point";
  EXPECT_EQ(store.record_count(), kHot + written.load());
  EXPECT_TRUE(store.healthy());
}

}  // namespace
}  // namespace idra::store
