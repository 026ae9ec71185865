// A tree of 2^20 leaves appended through LMDB in transactions of 65536:
// sampled inclusion and consistency proofs at many sizes verify, and
// single-bit changes of a proof, index, size or root make them fail.
//
// Size and index changes are judged by an oracle rather than "must fail":
// RFC 9162 verification binds the index and size only through the shape
// of the path they imply (the sequence of left/right steps), so a changed
// size with the same shape (leaf 0 of a tree of 6 and of 7, say) verifies,
// by design; checkpoints bind size and root together. The oracle replays
// the RFC's control flow without hashing: verification must succeed exactly
// when the changed input gives the identical hashing sequence.
#include <gtest/gtest.h>

#include <chrono>
#include <random>

#include "helpers.hpp"

namespace idra::audit {
namespace {

constexpr std::uint64_t kLeaves = std::uint64_t{1} << 20;
constexpr std::uint64_t kBatch = 65536;

// A small record: the test is about the tree, not the fields.
AuditRecord tiny(std::uint64_t i) {
  AuditRecord r;
  r.time_ms = 1'800'000'000'000 + static_cast<std::int64_t>(i / 16);
  r.principal.id = "p" + std::to_string(i % 5);
  r.action = i % 2 != 0 ? "read" : "write";
  r.resources = {"IDRA/" + std::to_string(i % 101)};
  r.decision = Decision::allow;
  r.request_id = std::to_string(i);
  return r;
}

// inclusion_shape replays RFC 9162 2.1.3.2 without hashes: the side of each
// of |length| steps, or nullopt if verification fails whatever the hashes.
std::optional<std::vector<bool>> inclusion_shape(std::uint64_t index, std::uint64_t size,
                                                 std::size_t length) {
  if (index >= size) return std::nullopt;
  std::uint64_t fn = index, sn = size - 1;
  std::vector<bool> out;
  for (std::size_t i = 0; i < length; ++i) {
    if (sn == 0) return std::nullopt;
    const bool left = (fn & 1) != 0 || fn == sn;
    out.push_back(left);
    if (left && (fn & 1) == 0) {
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return std::nullopt;
  return out;
}

// consistency_shape does the same for RFC 9162 2.1.4.2 (0 < size1 < size2):
// whether root1 is prepended, then per step 1 = into both, 2 = into sr only.
std::optional<std::vector<int>> consistency_shape(std::uint64_t size1, std::uint64_t size2,
                                                  std::size_t length) {
  if (size1 == 0 || size1 >= size2 || length == 0) return std::nullopt;
  std::vector<int> out;
  const bool pow2 = std::has_single_bit(size1);
  out.push_back(pow2 ? 1 : 0);
  const std::size_t steps = length + (pow2 ? 1 : 0) - 1;
  std::uint64_t fn = size1 - 1, sn = size2 - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  for (std::size_t i = 0; i < steps; ++i) {
    if (sn == 0) return std::nullopt;
    if ((fn & 1) != 0 || fn == sn) {
      out.push_back(1);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      out.push_back(2);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return std::nullopt;
  return out;
}

Hash flip(Hash h, std::size_t bit) {
  h[bit / 8] = static_cast<char>(h[bit / 8] ^ (1 << (bit % 8)));
  return h;
}

class BigTree : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    store = new testing::TempStore();
    leaves = new std::vector<Hash>();
    leaves->reserve(kLeaves);
    const auto start = std::chrono::steady_clock::now();
    for (std::uint64_t first = 0; first < kLeaves; first += kBatch) {
      auto done = (**store).transact([&](store::WriteView& v) -> Result<void> {
        leaves->resize(first);  // the body may run twice
        for (std::uint64_t i = first; i < first + kBatch; ++i) {
          leaves->push_back(append(v, tiny(i)).leaf_hash);
        }
        return {};
      });
      ASSERT_TRUE(done.ok()) << done.error().message;
    }
    const auto took = std::chrono::steady_clock::now() - start;
    std::printf("appended %llu leaves in %lld ms\n", static_cast<unsigned long long>(kLeaves),
                static_cast<long long>(
                    std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
  }
  static void TearDownTestSuite() {
    delete leaves;
    delete store;
    leaves = nullptr;
    store = nullptr;
  }

  template <class F>
  static void view(F&& fn) {
    (**store).view([&](const store::ReadView& v) { fn(v); });
  }

  static std::vector<std::uint64_t> sizes() {
    std::vector<std::uint64_t> out = {
        1,    2,    3,     4,     5,     7,      8,      9,      63,      64,          65,     1023,
        1024, 1025, 65535, 65536, 65537, 524287, 524288, 524289, 1000003, kLeaves - 1, kLeaves};
    std::mt19937_64 rng(7);
    for (int i = 0; i < 12; ++i) out.push_back(1 + rng() % kLeaves);
    std::sort(out.begin(), out.end());
    return out;
  }

  static testing::TempStore* store;
  static std::vector<Hash>* leaves;
};

testing::TempStore* BigTree::store = nullptr;
std::vector<Hash>* BigTree::leaves = nullptr;

void check_roots() {
  BigTree::view([&](const store::ReadView& v) {
    ASSERT_EQ(tree_size(v), kLeaves);
    for (std::uint64_t size : {kLeaves, std::uint64_t{1000003}}) {
      EXPECT_EQ(*root_at(v, size),
                root_of(std::span<const Hash>(*BigTree::leaves).subspan(0, size)))
          << size;
    }
  });
}

void check_inclusion() {
  std::mt19937_64 rng(11);
  std::uint64_t checked = 0, accepted_by_shape = 0;
  BigTree::view([&](const store::ReadView& v) {
    for (std::uint64_t size : BigTree::sizes()) {
      const Hash root = *root_at(v, size);
      std::vector<std::uint64_t> indexes = {0, size - 1, size / 2};
      for (int k = 0; k < 3; ++k) indexes.push_back(rng() % size);
      for (std::uint64_t index : indexes) {
        const Proof proof = *prove_inclusion(v, index, size);
        const Hash& leaf = (*BigTree::leaves)[index];
        ASSERT_TRUE(verify_inclusion(leaf, index, size, proof, root).ok()) << index << "/" << size;
        EXPECT_LE(proof.size(), 20u);
        const auto shape = inclusion_shape(index, size, proof.size());
        ASSERT_TRUE(shape.has_value());
        // A random bit of every proof element, of the leaf hash and of the root.
        for (std::size_t e = 0; e < proof.size(); ++e) {
          Proof changed = proof;
          changed[e] = flip(changed[e], rng() % 256);
          EXPECT_FALSE(verify_inclusion(leaf, index, size, changed, root).ok());
        }
        EXPECT_FALSE(verify_inclusion(flip(leaf, rng() % 256), index, size, proof, root).ok());
        EXPECT_FALSE(verify_inclusion(leaf, index, size, proof, flip(root, rng() % 256)).ok());
        // Every bit of the index and of the size.
        for (unsigned bit = 0; bit < 64; ++bit) {
          const std::uint64_t index2 = index ^ (std::uint64_t{1} << bit);
          const std::uint64_t size2 = size ^ (std::uint64_t{1} << bit);
          const bool index_same = inclusion_shape(index2, size, proof.size()) == shape;
          const bool size_same = inclusion_shape(index, size2, proof.size()) == shape;
          EXPECT_FALSE(index_same);  // distinct indexes never share a path
          EXPECT_EQ(verify_inclusion(leaf, index2, size, proof, root).ok(), index_same);
          EXPECT_EQ(verify_inclusion(leaf, index, size2, proof, root).ok(), size_same)
              << index << "/" << size << " bit " << bit;
          accepted_by_shape += size_same ? 1 : 0;
          checked += 2;
        }
        // Dropping or adding an element.
        Proof shorter(proof.begin(), proof.end() - (proof.empty() ? 0 : 1));
        if (!proof.empty()) {
          EXPECT_FALSE(verify_inclusion(leaf, index, size, shorter, root).ok());
        }
        Proof longer = proof;
        longer.push_back(root);
        EXPECT_FALSE(verify_inclusion(leaf, index, size, longer, root).ok());
      }
    }
    // Exhaustively: every bit of every element of one deep proof.
    const std::uint64_t size = 1000003, index = 777777;
    const Proof proof = *prove_inclusion(v, index, size);
    const Hash root = *root_at(v, size);
    for (std::size_t e = 0; e < proof.size(); ++e) {
      for (std::size_t bit = 0; bit < 256; ++bit) {
        Proof changed = proof;
        changed[e] = flip(changed[e], bit);
        ASSERT_FALSE(verify_inclusion((*BigTree::leaves)[index], index, size, changed, root).ok());
      }
    }
  });
  std::printf("index/size bit flips: %llu judged, %llu kept the path shape and verified\n",
              static_cast<unsigned long long>(checked),
              static_cast<unsigned long long>(accepted_by_shape));
}

void check_consistency() {
  std::mt19937_64 rng(13);
  const auto all = BigTree::sizes();
  std::uint64_t pairs = 0;
  BigTree::view([&](const store::ReadView& v) {
    for (std::size_t a = 0; a < all.size(); a += 2) {
      for (std::size_t b = a; b < all.size(); b += 3) {
        const std::uint64_t size1 = all[a], size2 = all[b];
        const Hash root1 = *root_at(v, size1);
        const Hash root2 = *root_at(v, size2);
        const Proof proof = *prove_consistency(v, size1, size2);
        ASSERT_TRUE(verify_consistency(size1, size2, root1, root2, proof).ok())
            << size1 << "->" << size2;
        ++pairs;
        if (size1 == size2) {
          EXPECT_TRUE(proof.empty());
          EXPECT_FALSE(
              verify_consistency(size1, size2, root1, flip(root2, rng() % 256), proof).ok());
          continue;
        }
        for (std::size_t e = 0; e < proof.size(); ++e) {
          Proof changed = proof;
          changed[e] = flip(changed[e], rng() % 256);
          EXPECT_FALSE(verify_consistency(size1, size2, root1, root2, changed).ok());
        }
        for (int k = 0; k < 8; ++k) {
          EXPECT_FALSE(
              verify_consistency(size1, size2, flip(root1, rng() % 256), root2, proof).ok());
          EXPECT_FALSE(
              verify_consistency(size1, size2, root1, flip(root2, rng() % 256), proof).ok());
        }
        const auto shape = consistency_shape(size1, size2, proof.size());
        ASSERT_TRUE(shape.has_value());
        for (unsigned bit = 0; bit < 64; ++bit) {
          const std::uint64_t s1 = size1 ^ (std::uint64_t{1} << bit);
          const std::uint64_t s2 = size2 ^ (std::uint64_t{1} << bit);
          EXPECT_EQ(verify_consistency(s1, size2, root1, root2, proof).ok(),
                    consistency_shape(s1, size2, proof.size()) == shape)
              << size1 << "->" << size2 << " size1 bit " << bit;
          EXPECT_EQ(verify_consistency(size1, s2, root1, root2, proof).ok(),
                    consistency_shape(size1, s2, proof.size()) == shape)
              << size1 << "->" << size2 << " size2 bit " << bit;
        }
        if (!proof.empty()) {
          Proof shorter(proof.begin(), proof.end() - 1);
          EXPECT_FALSE(verify_consistency(size1, size2, root1, root2, shorter).ok());
        }
        Proof longer = proof;
        longer.push_back(root1);
        EXPECT_FALSE(verify_consistency(size1, size2, root1, root2, longer).ok());
      }
    }
  });
  EXPECT_GT(pairs, 50u);
}

void check_queries() {
  BigTree::view([&](const store::ReadView& v) {
    const auto start = std::chrono::steady_clock::now();
    Filter f;
    f.principal = "p3";
    f.identifier = "IDRA/42";
    f.action = "read";
    f.limit = 50;
    auto page = query(v, f);
    ASSERT_TRUE(page.ok());
    ASSERT_EQ(page->entries.size(), 50u);
    for (const Entry& e : page->entries) {
      EXPECT_EQ(e.index % 5, 3u);
      EXPECT_EQ(e.index % 101, 42u);
      EXPECT_EQ(e.index % 2, 1u);
    }
    // p3 and IDRA/42 and read: index = 3 mod 5, 42 mod 101, 1 mod 2, so every
    // 1010th leaf, starting at 143.
    EXPECT_EQ(page->entries.front().index, 143u);
    EXPECT_EQ(page->entries[1].index, 143u + 1010u);
    Filter t;
    t.from_ms = 1'800'000'000'000 + 50'000;
    t.to_ms = 1'800'000'000'000 + 50'001;
    auto window = query(v, t);
    ASSERT_TRUE(window.ok());
    ASSERT_EQ(window->entries.size(), 32u);
    EXPECT_EQ(window->entries.front().index, 50'000u * 16);
    EXPECT_FALSE(window->next_cursor.has_value());
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_LT(took, std::chrono::seconds(2));
  });
}

// One test, so that ctest (which runs each test in a process of its own)
// builds the million-leaf tree once.
TEST_F(BigTree, MillionLeaves) {
  {
    SCOPED_TRACE("roots");
    check_roots();
  }
  {
    SCOPED_TRACE("inclusion");
    check_inclusion();
  }
  {
    SCOPED_TRACE("consistency");
    check_consistency();
  }
  {
    SCOPED_TRACE("queries");
    check_queries();
  }
}

}  // namespace
}  // namespace idra::audit
