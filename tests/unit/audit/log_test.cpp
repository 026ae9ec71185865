// The log in LMDB: roots and proofs against the pure math, time order,
// indexes and queries with cursor paging.
#include <gtest/gtest.h>

#include <set>

#include "helpers.hpp"

namespace idra::audit {
namespace {

using testing::TempStore;

std::uint64_t size_of(store::Store& s) {
  std::uint64_t n = 0;
  s.view([&](const store::ReadView& v) { n = tree_size(v); });
  return n;
}

TEST(Log, RootsAndProofsMatchTheMath) {
  TempStore s;
  std::vector<Hash> leaves;
  std::vector<Hash> roots{empty_root()};
  for (std::uint64_t i = 0; i < 70; ++i) {
    auto done = s->transact([&](store::WriteView& v) -> Result<void> {
      auto appended = append(v, testing::sample_record(i));
      EXPECT_EQ(appended.index, i);
      EXPECT_EQ(appended.leaf_hash, leaf_hash(appended.leaf));
      EXPECT_EQ(appended.leaf, encode_leaf(testing::sample_record(i)));
      return {};
    });
    ASSERT_TRUE(done.ok());
    leaves.push_back(leaf_hash(encode_leaf(testing::sample_record(i))));
    roots.push_back(root_of(leaves));
  }
  s->view([&](const store::ReadView& v) {
    ASSERT_EQ(tree_size(v), 70u);
    for (std::uint64_t size = 0; size <= 70; ++size) {
      ASSERT_EQ(*root_at(v, size), roots[size]) << size;
      for (std::uint64_t i = 0; i < size; ++i) {
        auto proof = prove_inclusion(v, i, size);
        ASSERT_TRUE(proof.ok());
        EXPECT_TRUE(verify_inclusion(leaves[i], i, size, *proof, roots[size]).ok());
      }
      for (std::uint64_t size1 = 1; size1 <= size; ++size1) {
        auto proof = prove_consistency(v, size1, size);
        ASSERT_TRUE(proof.ok());
        EXPECT_TRUE(verify_consistency(size1, size, roots[size1], roots[size], *proof).ok());
      }
    }
    EXPECT_FALSE(root_at(v, 71).ok());
    EXPECT_FALSE(prove_inclusion(v, 70, 70).ok());
    EXPECT_FALSE(prove_inclusion(v, 1, 71).ok());
    EXPECT_FALSE(prove_consistency(v, 3, 71).ok());
    EXPECT_EQ(*leaf_at(v, 5), encode_leaf(testing::sample_record(5)));
    EXPECT_FALSE(leaf_at(v, 70).has_value());
    EXPECT_TRUE(check_stored(v, 70, roots[70]).ok());
    EXPECT_TRUE(check_stored(v, 33, roots[33]).ok());
    EXPECT_FALSE(check_stored(v, 33, roots[34]).ok());
  });
}

TEST(Log, ARolledBackTransactionLeavesNoTrace) {
  TempStore s;
  testing::append_all(*s, {testing::sample_record(0)});
  auto failed = s->transact([&](store::WriteView& v) -> Result<void> {
    (void)append(v, testing::sample_record(1));
    return make_error("the mutation failed");
  });
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(size_of(*s), 1u);
}

TEST(Log, TimeNeverDecreases) {
  TempStore s;
  AuditRecord r = testing::sample_record(0);
  r.time_ms = 5000;
  AuditRecord earlier = r;
  earlier.time_ms = 4000;
  AuditRecord later = r;
  later.time_ms = 6000;
  testing::append_all(*s, {r, earlier, later});
  s->view([&](const store::ReadView& v) {
    EXPECT_EQ(decode_leaf(*leaf_at(v, 1))->time_ms, 5000);
    EXPECT_EQ(decode_leaf(*leaf_at(v, 2))->time_ms, 6000);
  });
}

class Query : public ::testing::Test {
 protected:
  static constexpr std::uint64_t kCount = 600;
  void SetUp() override {
    for (std::uint64_t i = 0; i < kCount; ++i) records.push_back(testing::sample_record(i));
    // Two records that share time, and one with a long identifier.
    records[100].time_ms = records[99].time_ms;
    records[200].resources.push_back(std::string(450, 'L'));
    records[201].resources.push_back(std::string(450, 'L') + "x");
    testing::append_all(*s, std::vector<AuditRecord>(records.begin(), records.begin() + 300));
    testing::append_all(*s, std::vector<AuditRecord>(records.begin() + 300, records.end()));
  }

  // expected is the brute-force answer.
  std::vector<std::uint64_t> expected(const Filter& f) {
    std::vector<std::uint64_t> out;
    for (std::uint64_t i = f.cursor; i < kCount; ++i) {
      const AuditRecord& r = records[i];
      if (f.principal && r.principal.id != *f.principal) continue;
      if (f.action && r.action != *f.action) continue;
      if (f.decision && r.decision != *f.decision) continue;
      if (f.from_ms && r.time_ms < *f.from_ms) continue;
      if (f.to_ms && r.time_ms > *f.to_ms) continue;
      if (f.identifier &&
          std::find(r.resources.begin(), r.resources.end(), *f.identifier) == r.resources.end()) {
        continue;
      }
      out.push_back(i);
    }
    return out;
  }

  // all_pages follows next_cursor to the end.
  std::vector<std::uint64_t> all_pages(Filter f) {
    std::vector<std::uint64_t> out;
    for (int pages = 0; pages < 10000; ++pages) {
      Result<Page> page = make_error("unset");
      s->view([&](const store::ReadView& v) { page = query(v, f); });
      EXPECT_TRUE(page.ok());
      if (!page.ok()) break;
      EXPECT_LE(page->entries.size(), f.limit);
      for (const Entry& e : page->entries) {
        out.push_back(e.index);
        EXPECT_EQ(e.record, records[e.index]);
        EXPECT_EQ(e.leaf, encode_leaf(records[e.index]));
      }
      if (!page->next_cursor) break;
      EXPECT_EQ(page->entries.size(), f.limit);
      EXPECT_GT(*page->next_cursor, page->entries.back().index);
      f.cursor = *page->next_cursor;
    }
    return out;
  }

  TempStore s;
  std::vector<AuditRecord> records;
};

TEST_F(Query, MatchesBruteForceWithPaging) {
  const std::int64_t t0 = records[0].time_ms;
  std::vector<Filter> filters;
  filters.push_back({});
  Filter f;
  f.principal = "300:IDRA/user3";
  filters.push_back(f);
  f.action = "handle.update";
  filters.push_back(f);
  f.decision = Decision::deny;
  filters.push_back(f);
  f = {};
  f.identifier = "IDRA/shared";
  filters.push_back(f);
  f.identifier = "IDRA/5";
  f.decision = Decision::allow;
  filters.push_back(f);
  f = {};
  f.from_ms = t0 + 995;
  f.to_ms = t0 + 2000;
  filters.push_back(f);
  f.principal = "300:IDRA/user1";
  filters.push_back(f);
  f = {};
  f.to_ms = t0 + 990;  // the shared time of records 99 and 100
  filters.push_back(f);
  f = {};
  f.from_ms = t0 + 990;
  f.to_ms = t0 + 990;
  filters.push_back(f);
  f = {};
  f.identifier = std::string(450, 'L');
  filters.push_back(f);
  f = {};
  f.principal = "nobody";
  filters.push_back(f);
  f = {};
  f.from_ms = t0 + 100000;
  filters.push_back(f);
  f = {};
  f.to_ms = t0 - 1;
  filters.push_back(f);
  f = {};
  f.principal = "";  // anonymous
  f.action = "handle.read";
  f.cursor = 17;
  filters.push_back(f);

  for (std::uint32_t limit : {1u, 7u, 100u, 1000u}) {
    for (Filter filter : filters) {
      filter.limit = limit;
      EXPECT_EQ(all_pages(filter), expected(filter))
          << "limit " << limit << " principal " << filter.principal.value_or("-") << " identifier "
          << filter.identifier.value_or("-").substr(0, 20);
    }
  }
  Filter big;
  big.from_ms = t0 + 995;
  big.to_ms = t0 + 2000;
  EXPECT_EQ(expected(big).size(), 100u);  // 101..200: record 100 took 99's time
}

TEST_F(Query, RejectsBadFilters) {
  s->view([&](const store::ReadView& v) {
    Filter f;
    f.limit = 0;
    EXPECT_FALSE(query(v, f).ok());
    f.limit = kMaxQueryLimit + 1;
    EXPECT_FALSE(query(v, f).ok());
    f.limit = 10;
    f.from_ms = 5;
    f.to_ms = 4;
    EXPECT_FALSE(query(v, f).ok());
    f = {};
    f.cursor = 1u << 30;
    EXPECT_TRUE(query(v, f)->entries.empty());
    f = {};
    f.from_ms = std::numeric_limits<std::int64_t>::min();
    f.to_ms = std::numeric_limits<std::int64_t>::max();
    EXPECT_EQ(query(v, f)->entries.size(), kDefaultQueryLimit);
  });
}

}  // namespace
}  // namespace idra::audit
