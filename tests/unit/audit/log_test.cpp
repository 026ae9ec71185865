// The log in LMDB: roots and proofs against the pure math, time order,
// indexes and queries with cursor paging.
#include <gtest/gtest.h>

#include <map>
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

// A log written before hashes were keyed by last leaf keeps its level-first
// keys and answers exactly as a new one does; a new log's hashes are all
// appends under last-leaf keys.
TEST(Log, BothHashKeyLayoutsGiveTheSameTree) {
  TempStore older, newer;
  auto mark = older->transact([&](store::WriteView& v) -> Result<void> {
    util::mark_hash_keys(v, util::HashKeys::by_level);
    return {};
  });
  ASSERT_TRUE(mark.ok());
  std::vector<AuditRecord> first, second;
  for (std::uint64_t i = 0; i < 37; ++i) first.push_back(testing::sample_record(i));
  for (std::uint64_t i = 37; i < 70; ++i) second.push_back(testing::sample_record(i));
  testing::append_all(*older, first);
  testing::append_all(*newer, first);
  // An older log has no mark at all: it must still read (and grow) level-first.
  auto unmark = older->transact([&](store::WriteView& v) -> Result<void> {
    v.erase(store::Table::audit_state, "hash_keys");
    return {};
  });
  ASSERT_TRUE(unmark.ok());
  for (const auto& r : second) {
    testing::append_all(*older, {r});
    testing::append_all(*newer, {r});
  }
  older->view([&](const store::ReadView& o) {
    newer->view([&](const store::ReadView& n) {
      EXPECT_EQ(util::hash_keys(o), util::HashKeys::by_level);
      EXPECT_EQ(util::hash_keys(n), util::HashKeys::by_last_leaf);
      EXPECT_EQ(*n.get(store::Table::audit_state, "hash_keys"), "2");
      // Level 3, index 4 (leaves 32..39): where each layout keeps it.
      const auto level_first = util::hash_key(util::HashKeys::by_level, 3, 4);
      const auto last_leaf = util::hash_key(util::HashKeys::by_last_leaf, 3, 4);
      EXPECT_EQ(last_leaf, util::be64(39) + std::string(1, '\x03'));
      EXPECT_TRUE(o.get(store::Table::audit_hashes, level_first).has_value());
      EXPECT_FALSE(o.get(store::Table::audit_hashes, last_leaf).has_value());
      EXPECT_TRUE(n.get(store::Table::audit_hashes, last_leaf).has_value());
      EXPECT_FALSE(n.get(store::Table::audit_hashes, level_first).has_value());
      EXPECT_EQ(o.get(store::Table::audit_hashes, level_first), n.get(store::Table::audit_hashes, last_leaf));
      for (std::uint64_t size = 1; size <= 70; ++size) {
        const Hash root = *root_at(n, size);
        ASSERT_EQ(*root_at(o, size), root) << size;
        for (std::uint64_t i = 0; i < size; i += 7) {
          EXPECT_EQ(*prove_inclusion(o, i, size), *prove_inclusion(n, i, size)) << i << " " << size;
        }
        EXPECT_EQ(*prove_consistency(o, 1 + size / 2, size), *prove_consistency(n, 1 + size / 2, size));
      }
      const Hash root = *root_at(n, 70);
      EXPECT_TRUE(check_stored(o, 70, root).ok());
      EXPECT_TRUE(check_stored(n, 70, root).ok());
    });
  });
  // Only an empty log can be marked (a broken invariant: it throws).
  EXPECT_THROW((void)newer->transact([&](store::WriteView& v) -> Result<void> {
    util::mark_hash_keys(v, util::HashKeys::by_level);
    return {};
  }),
               std::logic_error);
  newer->view([&](const store::ReadView& n) { EXPECT_EQ(util::hash_keys(n), util::HashKeys::by_last_leaf); });
}

// A changed layout mark is found by check_stored, not taken on trust.
TEST(Log, ACorruptHashKeyMarkIsAnError) {
  TempStore s;
  testing::append_all(*s, {testing::sample_record(0), testing::sample_record(1)});
  Hash root;
  s->view([&](const store::ReadView& v) { root = *root_at(v, 2); });
  auto bad = s->transact([&](store::WriteView& v) -> Result<void> {
    v.put(store::Table::audit_state, "hash_keys", "3");
    return {};
  });
  ASSERT_TRUE(bad.ok());
  s->view([&](const store::ReadView& v) {
    auto checked = check_stored(v, 2, root);
    ASSERT_FALSE(checked.ok());
    EXPECT_NE(checked.error().message.find("hash key mark"), std::string::npos) << checked.error().message;
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

// Query runs with no leaf indexed (every answer from the tail), some (the
// index and then the tail), and all.
class Query : public ::testing::TestWithParam<std::uint64_t> {
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
    const std::uint64_t indexed = GetParam();
    std::uint64_t done = 0;
    while (done < indexed) {
      std::uint64_t n = 0;
      ASSERT_TRUE(s->transact([&](store::WriteView& v) -> Result<void> {
                     n = index_pending(v, std::min<std::uint64_t>(indexed - done, 250));
                     return {};
                   }).ok());
      ASSERT_GT(n, 0u);
      done += n;
    }
    EXPECT_EQ(
        testing::read<std::uint64_t>(*s, [](const store::ReadView& v) { return indexed_size(v); }),
        indexed);
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

TEST_P(Query, MatchesBruteForceWithPaging) {
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

TEST_P(Query, RejectsBadFilters) {
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

INSTANTIATE_TEST_SUITE_P(Indexed, Query, ::testing::Values(0u, 1u, 333u, 600u));

TEST(Index, EntriesGoToTheirEpochAndDoNotChangeTheLog) {
  TempStore s;
  std::vector<AuditRecord> records;
  for (std::uint64_t i = 0; i < 40; ++i) records.push_back(testing::sample_record(i));
  testing::append_all(*s, records);
  const Hash root_before =
      testing::read<Hash>(*s, [](const store::ReadView& v) { return *root_at(v, 40); });
  std::uint64_t entries_before = 0;
  s->view([&](const store::ReadView& v) { entries_before = v.entries(store::Table::audit_index); });
  std::uint64_t n = 0;
  ASSERT_TRUE(s->transact([&](store::WriteView& v) -> Result<void> {
                 n = index_pending(v, 1000);
                 return {};
               }).ok());
  EXPECT_EQ(n, 40u);
  s->view([&](const store::ReadView& v) {
    EXPECT_EQ(indexed_size(v), 40u);
    EXPECT_EQ(*root_at(v, 40), root_before);
    // One entry per run of consecutive leaves sharing a principal, action,
    // decision or resource, all under epoch 0.
    std::map<std::string, std::vector<std::uint64_t>> leaves;
    for (std::uint64_t i = 0; i < records.size(); ++i) {
      const auto& r = records[i];
      leaves["p" + r.principal.id].push_back(i);
      leaves["a" + r.action].push_back(i);
      leaves[std::string("d") + std::string(decision_name(r.decision))].push_back(i);
      for (const auto& id : std::set<std::string>(r.resources.begin(), r.resources.end()))
        leaves["r" + id].push_back(i);
    }
    std::uint64_t expected = 0;
    for (const auto& [value, at] : leaves) {
      for (std::size_t k = 0; k < at.size(); ++k) expected += k == 0 || at[k] != at[k - 1] + 1;
    }
    EXPECT_LT(expected, 40u * 3);  // runs did form
    EXPECT_EQ(v.entries(store::Table::audit_index) - entries_before, expected);
    std::uint64_t in_epoch0 = 0;
    v.scan(store::Table::audit_index, std::string("e") + util::be64(0),
           [&](std::string_view, std::string_view) {
             ++in_epoch0;
             return true;
           });
    EXPECT_EQ(in_epoch0, expected);
  });
  // Nothing left: a second call indexes nothing.
  ASSERT_TRUE(s->transact([&](store::WriteView& v) -> Result<void> {
                 n = index_pending(v, 1000);
                 return {};
               }).ok());
  EXPECT_EQ(n, 0u);
}

TEST(Index, RunsContinueAcrossTransactionsAndStopAtEpochs) {
  TempStore s;
  // Every leaf the same principal, action, decision and resource: one run
  // per value and epoch, however the indexing is cut into transactions.
  constexpr std::uint64_t kCount = (1u << kIndexEpochBits) + 100;
  ASSERT_TRUE(s->transact([&](store::WriteView& v) -> Result<void> {
                 std::vector<PreparedLeaf> batch;
                 for (std::uint64_t i = 0; i < kCount; ++i) {
                   AuditRecord r;
                   r.time_ms = 1000 + static_cast<std::int64_t>(i);
                   r.action = "resolve";
                   r.resources = {"88.100/x"};
                   batch.push_back(prepare(r));
                 }
                 (void)append_prepared(v, batch);
                 return {};
               }).ok());
  std::uint64_t base = 0;
  s->view([&](const store::ReadView& v) { base = v.entries(store::Table::audit_index); });
  std::uint64_t indexed = 0;
  for (std::uint64_t step : {1u, 2u, 7000u, 60000u, 100000u}) {
    ASSERT_TRUE(s->transact([&](store::WriteView& v) -> Result<void> {
                   indexed += index_pending(v, step);
                   return {};
                 }).ok());
  }
  EXPECT_EQ(indexed, kCount);
  s->view([&](const store::ReadView& v) {
    EXPECT_EQ(v.entries(store::Table::audit_index) - base, 8u);
  });
  for (std::uint64_t cursor : {0u, 5u, 65535u, 65536u, 65600u}) {
    Filter f;
    f.identifier = "88.100/x";
    f.action = "resolve";
    f.decision = Decision::deny;  // a default record's decision
    f.cursor = cursor;
    f.limit = 3;
    auto page =
        testing::read<Page>(*s, [&](const store::ReadView& v) { return query(v, f).value(); });
    ASSERT_EQ(page.entries.size(), 3u);
    EXPECT_EQ(page.entries[0].index, cursor);
    EXPECT_EQ(page.entries[2].index, cursor + 2);
    EXPECT_EQ(page.next_cursor, cursor + 3);
  }
}

TEST(Index, QueriesCrossEpochsAndTheTail) {
  TempStore s;
  // Past the first epoch (2^16 leaves), a rare identifier on both sides of
  // the boundary; the first 70,000 leaves indexed, the rest not.
  constexpr std::uint64_t kCount = (1u << kIndexEpochBits) + 6000;
  const std::vector<std::uint64_t> rare = {5, 65535, 65536, 65537, 69999, 70000, 71000};
  ASSERT_TRUE(s->transact([&](store::WriteView& v) -> Result<void> {
                 std::vector<PreparedLeaf> batch;
                 for (std::uint64_t i = 0; i < kCount; ++i) {
                   AuditRecord r;
                   r.time_ms = 1000 + static_cast<std::int64_t>(i);
                   r.action = "resolve";
                   r.resources = {std::find(rare.begin(), rare.end(), i) != rare.end()
                                      ? "88.100/rare"
                                      : "88.100/common"};
                   batch.push_back(prepare(r));
                 }
                 (void)append_prepared(v, batch);
                 return {};
               }).ok());
  std::uint64_t indexed = 0;
  while (indexed < 70000) {
    ASSERT_TRUE(s->transact([&](store::WriteView& v) -> Result<void> {
                   indexed += index_pending(v, std::min<std::uint64_t>(70000 - indexed, 30000));
                   return {};
                 }).ok());
  }
  Filter f;
  f.identifier = "88.100/rare";
  f.limit = 2;
  std::vector<std::uint64_t> found;
  for (int pages = 0; pages < 10; ++pages) {
    auto page =
        testing::read<Page>(*s, [&](const store::ReadView& v) { return query(v, f).value(); });
    for (const auto& e : page.entries) found.push_back(e.index);
    if (!page.next_cursor) break;
    f.cursor = *page.next_cursor;
  }
  EXPECT_EQ(found, rare);
  // A time range inside the second epoch, with the action as well.
  f = {};
  f.identifier = "88.100/rare";
  f.action = "resolve";
  f.from_ms = 1000 + 65536;
  f.to_ms = 1000 + 70000;
  auto page =
      testing::read<Page>(*s, [&](const store::ReadView& v) { return query(v, f).value(); });
  std::vector<std::uint64_t> got;
  for (const auto& e : page.entries) got.push_back(e.index);
  EXPECT_EQ(got, (std::vector<std::uint64_t>{65536, 65537, 69999, 70000}));
}

TEST(Log, AppendPreparedMatchesAppend) {
  TempStore a, b;
  std::vector<AuditRecord> records;
  for (std::uint64_t i = 0; i < 37; ++i) records.push_back(testing::sample_record(i));
  records[20].time_ms = records[3].time_ms;  // earlier than its predecessor: raised
  testing::append_all(*a, records);
  ASSERT_TRUE(b->transact([&](store::WriteView& v) -> Result<void> {
                 std::vector<PreparedLeaf> batch;
                 for (const auto& r : records) batch.push_back(prepare(r));
                 EXPECT_EQ(append_prepared(v, std::span<PreparedLeaf>(batch).subspan(0, 10)), 0u);
                 EXPECT_EQ(append_prepared(v, std::span<PreparedLeaf>(batch).subspan(10)), 10u);
                 return {};
               }).ok());
  AuditRecord raised = records[20];
  raised.time_ms = records[19].time_ms;
  a->view([&](const store::ReadView& va) {
    b->view([&](const store::ReadView& vb) {
      ASSERT_EQ(tree_size(vb), 37u);
      EXPECT_EQ(*leaf_at(vb, 20), encode_leaf(raised));
      for (std::uint64_t i = 0; i < 37; ++i) EXPECT_EQ(leaf_at(va, i), leaf_at(vb, i)) << i;
      for (std::uint64_t n = 1; n <= 37; ++n) EXPECT_EQ(*root_at(va, n), *root_at(vb, n)) << n;
      std::vector<Hash> hashes;
      for (std::uint64_t i = 0; i < 37; ++i) hashes.push_back(leaf_hash(*leaf_at(vb, i)));
      EXPECT_EQ(*root_at(vb, 37), root_of(hashes));
      EXPECT_TRUE(check_stored(vb, 37, root_of(hashes)).ok());
    });
  });
}

}  // namespace
}  // namespace idra::audit
