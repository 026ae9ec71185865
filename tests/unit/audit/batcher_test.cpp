// ReadBatcher: everything submitted is committed, in groups, on time, and
// at shutdown.
#include <gtest/gtest.h>

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
  ReadBatcher batcher(*s, BatcherConfig{100, 20ms, 150, 1s});  // small queue: back-pressure
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

}  // namespace
}  // namespace idra::audit
