// ReadBatcher: everything submitted is committed, in groups, on time, and
// at shutdown.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "helpers.hpp"

namespace idra::audit {
namespace {

using namespace std::chrono_literals;
using testing::TempStore;

std::uint64_t size_of(store::Store& s) {
  std::uint64_t n = 0;
  s.view([&](const store::ReadView& v) { n = tree_size(v); });
  return n;
}

TEST(ReadBatcher, FlushOnDestruction) {
  TempStore s;
  {
    ReadBatcher batcher(*s, BatcherConfig{64, std::chrono::milliseconds(10'000), 1024, 1s});
    for (std::uint64_t i = 0; i < 1000; ++i) batcher.submit(testing::sample_record(i));
  }
  EXPECT_EQ(size_of(*s), 1000u);
  s->view([&](const store::ReadView& v) {
    for (std::uint64_t i = 0; i < 1000; ++i) {
      EXPECT_EQ(*leaf_at(v, i), encode_leaf(testing::sample_record(i))) << i;
    }
  });
}

TEST(ReadBatcher, CommitsWithinMaxDelayWithoutFlush) {
  TempStore s;
  ReadBatcher batcher(*s, BatcherConfig{1000, 50ms, 4096, 1s});
  batcher.submit(testing::sample_record(0));
  const auto start = std::chrono::steady_clock::now();
  while (size_of(*s) == 0 && std::chrono::steady_clock::now() - start < 5s) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(size_of(*s), 1u);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 30ms);
  EXPECT_EQ(batcher.stats().batches, 1u);
}

TEST(ReadBatcher, GroupsAndFlushFromManyThreads) {
  TempStore s;
  ReadBatcher batcher(*s, BatcherConfig{100, 20ms, 150, 1s, 100});  // small queue: back-pressure
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&batcher, t] {
      for (std::uint64_t i = 0; i < 500; ++i) batcher.submit(testing::sample_record(t * 1000 + i));
    });
  }
  for (auto& t : threads) t.join();
  batcher.flush();
  EXPECT_EQ(size_of(*s), 2000u);
  const BatcherStats stats = batcher.stats();
  EXPECT_EQ(stats.committed, 2000u);
  EXPECT_GE(stats.batches, 20u);
  EXPECT_LT(stats.batches, 2000u);
  EXPECT_EQ(stats.failed_commits, 0u);
  // Every record arrived exactly once.
  std::multiset<std::string> ids;
  s->view([&](const store::ReadView& v) {
    for (std::uint64_t i = 0; i < 2000; ++i) ids.insert(decode_leaf(*leaf_at(v, i))->request_id);
  });
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 2000u);
}

TEST(ReadBatcher, FlushWithNothingQueuedReturns) {
  TempStore s;
  ReadBatcher batcher(*s);
  batcher.flush();
  EXPECT_EQ(batcher.stats().batches, 0u);
}

std::pair<std::uint64_t, std::uint64_t> size_and_indexed(store::Store& s) {
  std::pair<std::uint64_t, std::uint64_t> out;
  s.view([&](const store::ReadView& v) { out = {tree_size(v), indexed_size(v)}; });
  return out;
}

TEST(ReadBatcher, FlushIndexCoversReadsAndChanges) {
  TempStore s;
  BatcherConfig config;
  config.max_delay = 10ms;
  config.index_interval = std::chrono::milliseconds(60'000);  // only when asked
  ReadBatcher batcher(*s, config);
  for (std::uint64_t i = 0; i < 300; ++i) batcher.submit(testing::sample_record(i));
  // A change's record, committed in its own transaction beside the batcher.
  testing::append_all(*s, {testing::sample_record(1000)});
  batcher.flush();
  batcher.flush_index();
  EXPECT_EQ(size_and_indexed(*s), std::make_pair(std::uint64_t{301}, std::uint64_t{301}));
  EXPECT_EQ(batcher.stats().indexed, 301u);
  EXPECT_GE(batcher.stats().index_batches, 1u);
}

TEST(ReadBatcher, IndexesWhenTheTailReachesIndexBatch) {
  TempStore s;
  BatcherConfig config;
  config.max_batch = 50;
  config.max_delay = 5ms;
  config.index_batch = 100;
  config.index_interval = std::chrono::milliseconds(60'000);
  ReadBatcher batcher(*s, config);
  for (std::uint64_t i = 0; i < 1000; ++i) batcher.submit(testing::sample_record(i));
  batcher.flush();
  // The writer indexes after the commit that made the tail reach 100.
  const auto start = std::chrono::steady_clock::now();
  while (size_and_indexed(*s).first - size_and_indexed(*s).second >= 100 &&
         std::chrono::steady_clock::now() - start < 10s) {
    std::this_thread::sleep_for(5ms);
  }
  const auto [size, indexed] = size_and_indexed(*s);
  EXPECT_EQ(size, 1000u);
  EXPECT_LT(size - indexed, 100u);
  EXPECT_GE(batcher.stats().index_batches, 1u);
}

TEST(ReadBatcher, WithIndexingOffQueriesStillFindEverything) {
  TempStore s;
  BatcherConfig config;
  config.index_batch = 0;
  ReadBatcher batcher(*s, config);
  for (std::uint64_t i = 0; i < 200; ++i) batcher.submit(testing::sample_record(i));
  batcher.flush();
  batcher.flush_index();  // returns at once
  EXPECT_EQ(size_and_indexed(*s), std::make_pair(std::uint64_t{200}, std::uint64_t{0}));
  Filter f;
  f.identifier = "IDRA/shared";
  f.limit = 1000;
  std::size_t expected = 0;
  for (std::uint64_t i = 0; i < 200; ++i) expected += i % 6 == 0;
  s->view([&](const store::ReadView& v) { EXPECT_EQ(query(v, f)->entries.size(), expected); });
}

TEST(ReadBatcher, DeepQueueCommitsInBiggerTransactions) {
  TempStore s;
  BatcherConfig config;
  config.max_batch = 10;
  config.max_txn_records = 400;
  config.max_delay = std::chrono::milliseconds(60'000);
  config.queue_capacity = 4096;
  ReadBatcher batcher(*s, config);
  // Another writer holds the store while the records arrive, as a slow
  // fsync would: the queue grows deep behind the first batch.
  std::promise<void> holding, release;
  std::thread other([&] {
    (void)s->transact([&](store::WriteView&) -> Result<void> {
      holding.set_value();
      release.get_future().wait();
      return {};
    });
  });
  holding.get_future().wait();
  for (std::uint64_t i = 0; i < 2000; ++i) batcher.submit(testing::sample_record(i));
  release.set_value();
  other.join();
  batcher.flush();
  const auto stats = batcher.stats();
  EXPECT_EQ(stats.committed, 2000u);
  // One batch waited for the other writer; the rest went max_txn_records
  // at a time, never more.
  EXPECT_GE(stats.batches, 5u);
  EXPECT_LE(stats.batches, 7u);
}

}  // namespace
}  // namespace idra::audit
