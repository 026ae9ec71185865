// Index terms handed over in memory (PreparedLeaf::terms, the ReadBatcher's
// known terms) give exactly the index entries that parsing the stored
// leaves back gives; a restarted writer indexes the unindexed tail from the
// leaves.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "helpers.hpp"

namespace idra::audit {
namespace {

using namespace std::chrono_literals;
using testing::TempStore;

using Dump = std::vector<std::pair<std::string, std::string>>;

// dump returns every entry of |table|, in key order.
Dump dump(store::Store& s, store::Table table) {
  Dump out;
  s.view([&](const store::ReadView& v) {
    v.scan(table, "", [&](std::string_view key, std::string_view value) {
      out.emplace_back(std::string(key), std::string(value));
      return true;
    });
  });
  return out;
}

std::pair<std::uint64_t, std::uint64_t> size_and_indexed(store::Store& s) {
  std::pair<std::uint64_t, std::uint64_t> out;
  s.view([&](const store::ReadView& v) { out = {tree_size(v), indexed_size(v)}; });
  return out;
}

// parsed_terms is what the indexer derives from a stored leaf.
std::string parsed_terms(std::string_view leaf) {
  auto r = util::parse_leaf(leaf);
  if (!r) throw std::runtime_error(r.error().message);
  std::string out;
  util::append_index_terms(out, r->principal.id, r->action, r->decision, r->resources);
  return out;
}

// varied_record draws from few values, so that runs form, and includes the
// awkward ones: invalid UTF-8 (stored as U+FFFD), control characters,
// values over 400 bytes (indexed by hash), empty and repeated resources.
AuditRecord varied_record(std::mt19937_64& rng, std::uint64_t i) {
  AuditRecord r = testing::sample_record(i);
  const auto pick = [&](std::uint64_t n) { return rng() % n; };
  r.time_ms = 1764583200000 + static_cast<std::int64_t>(i);
  r.principal.id = pick(4) == 0 ? "" : "300:IDRA/user" + std::to_string(pick(3));
  if (pick(50) == 0) r.principal.id = "bad\xff\xfeutf8";
  r.action = pick(8) == 0 ? "handle.update" : "handle.read";
  if (pick(60) == 0) r.action = std::string(450, 'a');
  r.decision = pick(5) == 0 ? Decision::deny : Decision::allow;
  r.resources.clear();
  const std::uint64_t n = pick(4);
  for (std::uint64_t k = 0; k < n; ++k) {
    switch (pick(6)) {
      case 0: r.resources.push_back("88.100/x\x01\"q\\"); break;
      case 1: r.resources.push_back(std::string(401, 'r')); break;
      case 2: r.resources.push_back("88.100/\xc3\x28"); break;  // invalid UTF-8
      case 3: r.resources.push_back("88.100/shared"); break;
      default: r.resources.push_back("88.100/" + std::to_string(pick(1000))); break;
    }
  }
  if (n != 0 && pick(5) == 0) r.resources.push_back(r.resources.front());  // named twice
  return r;
}

TEST(IndexTerms, EqualThoseOfTheLeafParsedBack) {
  std::mt19937_64 rng(7);
  for (std::uint64_t i = 0; i < 2000; ++i) {
    const AuditRecord r = varied_record(rng, i);
    const PreparedLeaf p = prepare(r);
    ASSERT_EQ(p.leaf, encode_leaf(r)) << i;
    ASSERT_EQ(p.leaf_hash, leaf_hash(p.leaf)) << i;
    ASSERT_EQ(p.terms, index_terms(view_of(r))) << i;
    ASSERT_EQ(p.terms, parsed_terms(p.leaf)) << i;
  }
}

TEST(IndexTerms, AreTheIndexKeyPrefixes) {
  AuditRecord r;
  r.principal.id = "300:u";
  r.action = "handle.read";
  r.decision = Decision::allow;
  r.resources = {"88.100/a", std::string(401, 'x')};
  const std::string terms = index_terms(view_of(r));
  const std::string expected = std::string("p\0\x05", 3) + "300:u" + std::string("a\0\x0b", 3) +
                               "handle.read" + std::string("d\0\x05", 3) + "allow" +
                               std::string("r\0\x08", 3) + "88.100/a" + "r\xff\xff" +
                               sha256(std::string(401, 'x'));
  EXPECT_EQ(terms, expected);
}

// Three stores get the same leaves; each is indexed in the same uneven
// steps, from memory for all leaves, for some, or for none. Their indexes
// must be byte for byte equal, and equal to the maximal runs per epoch and
// term worked out here.
TEST(Index, TermsFromMemoryGiveTheEntriesOfParsingBack) {
  constexpr std::uint64_t kCount = (1u << kIndexEpochBits) + 3000;  // crosses an epoch
  std::mt19937_64 rng(11);
  std::vector<PreparedLeaf> leaves;
  leaves.reserve(kCount);
  for (std::uint64_t i = 0; i < kCount; ++i) leaves.push_back(prepare(varied_record(rng, i)));
  std::vector<bool> held(kCount);  // which leaves the "some" store holds in memory
  for (std::uint64_t i = 0; i < kCount; ++i) held[i] = rng() % 3 != 0;

  TempStore all, some, none;
  for (store::Store* s : {&*all, &*some, &*none}) {
    ASSERT_TRUE(s->transact([&](store::WriteView& v) -> Result<void> {
                   std::vector<PreparedLeaf> copy = leaves;
                   (void)append_prepared(v, copy);
                   return {};
                 }).ok());
  }
  std::vector<bool> asked(kCount);  // a retried transaction (map growth) asks again
  const KnownTerms all_known = [&](std::uint64_t i) -> std::string_view {
    asked.at(i) = true;
    return leaves.at(i).terms;
  };
  const KnownTerms some_known = [&](std::uint64_t i) -> std::string_view {
    return held.at(i) ? std::string_view(leaves[i].terms) : std::string_view();
  };
  const std::vector<std::uint64_t> steps = {1, 2, 999, 30000, 16384, 65536};
  auto index_in_steps = [&](store::Store& s, const KnownTerms& known) {
    std::uint64_t done = 0;
    for (std::size_t k = 0; done < kCount; ++k) {
      ASSERT_TRUE(s.transact([&](store::WriteView& v) -> Result<void> {
                     done += index_pending(v, steps[k % steps.size()], known);
                     return {};
                   }).ok());
    }
    EXPECT_EQ(size_and_indexed(s), std::make_pair(kCount, kCount));
  };
  index_in_steps(*all, all_known);
  EXPECT_EQ(std::count(asked.begin(), asked.end(), true), static_cast<std::ptrdiff_t>(kCount));
  index_in_steps(*some, some_known);
  index_in_steps(*none, KnownTerms{});

  const Dump expected_all = dump(*none, store::Table::audit_index);
  EXPECT_EQ(dump(*all, store::Table::audit_index), expected_all);
  EXPECT_EQ(dump(*some, store::Table::audit_index), expected_all);

  // The maximal runs of consecutive leaves per (epoch, term).
  std::map<std::pair<std::uint64_t, std::string>, std::set<std::uint64_t>> at;
  for (std::uint64_t i = 0; i < kCount; ++i) {
    const std::string& t = leaves[i].terms;
    for (std::size_t pos = 0; pos < t.size();) {
      const std::size_t len = static_cast<unsigned char>(t[pos + 1]) == 0xFF
                                  ? 3 + kHashBytes
                                  : 3 + (static_cast<std::size_t>(static_cast<unsigned char>(t[pos + 1])) << 8 |
                                         static_cast<unsigned char>(t[pos + 2]));
      at[{i >> kIndexEpochBits, t.substr(pos, len)}].insert(i);
      pos += len;
    }
  }
  Dump expected;
  for (const auto& [key, indexes] : at) {
    std::vector<std::uint64_t> v(indexes.begin(), indexes.end());
    for (std::size_t k = 0; k < v.size();) {
      std::size_t e = k;
      while (e + 1 < v.size() && v[e + 1] == v[e] + 1) ++e;
      expected.emplace_back("e" + util::be64(key.first) + key.second + util::be64(v[e]),
                            v[k] == v[e] ? std::string() : util::be64(v[k]));
      k = e + 1;
    }
  }
  Dump got_entries;
  for (const auto& e : expected_all) {
    if (e.first[0] == 'e') got_entries.push_back(e);
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(got_entries.size(), expected.size());
  EXPECT_TRUE(got_entries == expected);
}

TEST(Index, UsesTheTermsItIsHanded) {
  // Terms from memory are trusted: a leaf indexed from other terms than its
  // own is found under those (so the memory path is the one taken).
  TempStore s;
  testing::append_all(*s, {testing::sample_record(1), testing::sample_record(2)});
  AuditRecord other = testing::sample_record(1);
  other.resources = {"88.100/only-in-memory"};
  const std::string terms = index_terms(view_of(other));
  ASSERT_TRUE(s->transact([&](store::WriteView& v) -> Result<void> {
                 EXPECT_EQ(index_pending(v, 10,
                                         [&](std::uint64_t i) {
                                           return i == 0 ? std::string_view(terms)
                                                         : std::string_view();
                                         }),
                           2u);
                 return {};
               }).ok());
  bool found = false;
  for (const auto& [key, value] : dump(*s, store::Table::audit_index)) {
    found = found || key.find("88.100/only-in-memory") != std::string::npos;
  }
  EXPECT_TRUE(found);
}

// The leaves of |s| re-appended, in order, to a fresh store and indexed by
// parsing back only: the reference index.
Dump reference_index(store::Store& s) {
  std::vector<AuditRecord> records;
  s.view([&](const store::ReadView& v) {
    const std::uint64_t n = tree_size(v);
    for (std::uint64_t i = 0; i < n; ++i) records.push_back(*decode_leaf(*leaf_at(v, i)));
  });
  TempStore ref;
  testing::append_all(*ref, records);
  EXPECT_TRUE(ref->transact([&](store::WriteView& v) -> Result<void> {
                   (void)index_pending(v, records.size());
                   return {};
                 }).ok());
  return dump(*ref, store::Table::audit_index);
}

TEST(ReadBatcher, IndexesReadsFromMemoryAndChangesFromTheirLeaves) {
  TempStore s;
  BatcherConfig config;
  config.max_batch = 100;
  config.max_delay = 5ms;
  config.index_interval = std::chrono::milliseconds(60'000);  // only when asked
  std::mt19937_64 rng(3);
  {
    ReadBatcher batcher(*s, config);
    for (std::uint64_t i = 0; i < 900; ++i) {
      const AuditRecord r = varied_record(rng, i);
      switch (i % 3) {  // the three ways in
        case 0: batcher.submit(r); break;
        case 1: batcher.submit(view_of(r)); break;
        default: batcher.submit(prepare(r)); break;
      }
      // Changes' records, committed in their own transactions between reads.
      if (i % 250 == 0) testing::append_all(*s, {varied_record(rng, 10'000 + i)});
    }
    batcher.flush();
    batcher.flush_index();
    EXPECT_EQ(size_and_indexed(*s), std::make_pair(std::uint64_t{904}, std::uint64_t{904}));
    const BatcherStats stats = batcher.stats();
    EXPECT_EQ(stats.indexed, 904u);
    EXPECT_EQ(stats.indexed_from_memory, 900u);  // every read's; the 4 changes' parsed back
  }
  EXPECT_EQ(dump(*s, store::Table::audit_index), reference_index(*s));
}

TEST(ReadBatcher, ARestartIndexesTheUnindexedTailFromTheLeaves) {
  TempStore s;
  BatcherConfig config;
  config.max_batch = 64;
  config.index_batch = 1u << 20;                              // never due by size
  config.index_interval = std::chrono::milliseconds(60'000);  // nor by time
  std::mt19937_64 rng(5);
  std::vector<AuditRecord> records;
  for (std::uint64_t i = 0; i < 700; ++i) records.push_back(varied_record(rng, i));
  {
    ReadBatcher first(*s, config);
    for (std::uint64_t i = 0; i < 300; ++i) first.submit(records[i]);
    first.flush();
    first.flush_index();
    for (std::uint64_t i = 300; i < 700; ++i) first.submit(records[i]);
    first.flush();
    // Stopped (as by a crash or a restart) with 400 leaves unindexed.
  }
  EXPECT_EQ(size_and_indexed(*s), std::make_pair(std::uint64_t{700}, std::uint64_t{300}));
  ReadBatcher second(*s, config);
  for (std::uint64_t i = 0; i < 50; ++i) second.submit(varied_record(rng, 1000 + i));
  second.flush();
  second.flush_index();
  EXPECT_EQ(size_and_indexed(*s), std::make_pair(std::uint64_t{750}, std::uint64_t{750}));
  EXPECT_EQ(second.stats().indexed, 450u);
  EXPECT_EQ(second.stats().indexed_from_memory, 50u);  // its own reads only
  EXPECT_EQ(dump(*s, store::Table::audit_index), reference_index(*s));
  // And queries find through the index what a scan finds.
  Filter f;
  f.identifier = "88.100/shared";
  f.limit = kMaxQueryLimit;
  std::size_t expected = 0;
  s->view([&](const store::ReadView& v) {
    for (std::uint64_t i = 0; i < 750; ++i) {
      const AuditRecord r = *decode_leaf(*leaf_at(v, i));
      expected += std::find(r.resources.begin(), r.resources.end(), "88.100/shared") !=
                  r.resources.end();
    }
    EXPECT_GT(expected, 0u);
    EXPECT_EQ(query(v, f)->entries.size(), expected);
  });
}

}  // namespace
}  // namespace idra::audit
