// The Merkle math against every vector of tests/vectors/merkle
// (transparency-dev/merkle testdata) and against a direct MTH.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "helpers.hpp"

namespace idra::audit {
namespace {

using testing::read_file;
using testing::unb64;

Proof proof_of(const nlohmann::json& j) {
  Proof out;
  if (j.is_null()) return out;
  for (const auto& h : j) out.push_back(unb64(h.get<std::string>()));
  return out;
}

TEST(MerkleVectors, AllPass) {
  const std::filesystem::path root = std::filesystem::path(IDRA_TEST_VECTORS) / "merkle";
  int inclusion = 0, consistency = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".json") continue;
    const auto j = nlohmann::json::parse(read_file(entry.path()));
    const bool want_err = j.at("wantErr").get<bool>();
    const std::string name = std::filesystem::relative(entry.path(), root).string();
    if (j.contains("leafIdx")) {
      ++inclusion;
      auto r = verify_inclusion(unb64(j.at("leafHash").get<std::string>()),
                                j.at("leafIdx").get<std::uint64_t>(),
                                j.at("treeSize").get<std::uint64_t>(), proof_of(j.at("proof")),
                                unb64(j.at("root").get<std::string>()));
      EXPECT_EQ(r.ok(), !want_err) << name << (r.ok() ? "" : ": " + r.error().message);
    } else {
      ++consistency;
      auto r =
          verify_consistency(j.at("size1").get<std::uint64_t>(), j.at("size2").get<std::uint64_t>(),
                             unb64(j.at("root1").get<std::string>()),
                             unb64(j.at("root2").get<std::string>()), proof_of(j.at("proof")));
      EXPECT_EQ(r.ok(), !want_err) << name << (r.ok() ? "" : ": " + r.error().message);
    }
  }
  EXPECT_EQ(inclusion + consistency, 196);
  EXPECT_GT(inclusion, 50);
  EXPECT_GT(consistency, 50);
}

TEST(Merkle, KnownHashes) {
  EXPECT_EQ(testing::b64(empty_root()), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
  EXPECT_EQ(testing::b64(leaf_hash("")), "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=");
  EXPECT_EQ(node_hash(leaf_hash("a"), leaf_hash("b")),
            sha256(std::string("\x01", 1) + leaf_hash("a") + leaf_hash("b")));
}

// mth is RFC 9162's definition, verbatim, over leaf hashes.
Hash mth(std::span<const Hash> leaves) {
  if (leaves.empty()) return empty_root();
  if (leaves.size() == 1) return leaves[0];
  std::size_t k = 1;
  while (k * 2 < leaves.size()) k *= 2;
  return node_hash(mth(leaves.subspan(0, k)), mth(leaves.subspan(k)));
}

SubtreeFn subtrees_of(const std::vector<Hash>& leaves) {
  return [&leaves](unsigned level, std::uint64_t index) {
    const std::size_t width = std::size_t{1} << level;
    EXPECT_LE((index + 1) * width, leaves.size());
    return mth(std::span<const Hash>(leaves).subspan(index * width, width));
  };
}

TEST(Merkle, ProofsOfSmallTreesVerifyAndNothingElseDoes) {
  std::vector<Hash> leaves;
  for (int i = 0; i < 40; ++i) leaves.push_back(leaf_hash("leaf " + std::to_string(i)));
  const SubtreeFn fn = subtrees_of(leaves);
  for (std::uint64_t size = 1; size <= leaves.size(); ++size) {
    const Hash root = mth(std::span<const Hash>(leaves).subspan(0, size));
    ASSERT_EQ(root_from(size, fn), root);
    ASSERT_EQ(root_of(std::span<const Hash>(leaves).subspan(0, size)), root);
    for (std::uint64_t i = 0; i < size; ++i) {
      auto proof = inclusion_proof(i, size, fn);
      ASSERT_TRUE(proof.ok());
      ASSERT_TRUE(verify_inclusion(leaves[i], i, size, *proof, root).ok()) << i << "/" << size;
      if (size > 1) {
        EXPECT_FALSE(verify_inclusion(leaves[i], (i + 1) % size, size, *proof, root).ok());
      }
    }
    for (std::uint64_t size1 = 1; size1 <= size; ++size1) {
      const Hash root1 = mth(std::span<const Hash>(leaves).subspan(0, size1));
      auto proof = consistency_proof(size1, size, fn);
      ASSERT_TRUE(proof.ok());
      ASSERT_TRUE(verify_consistency(size1, size, root1, root, *proof).ok())
          << size1 << "->" << size;
      if (size1 < size) {
        EXPECT_FALSE(verify_consistency(size1, size, root, root1, *proof).ok());
        EXPECT_FALSE(verify_consistency(size1 + 1, size, root1, root, *proof).ok());
      }
    }
  }
  EXPECT_FALSE(inclusion_proof(3, 3, fn).ok());
  EXPECT_FALSE(consistency_proof(4, 3, fn).ok());
  EXPECT_TRUE(consistency_proof(0, 3, fn)->empty());
}

}  // namespace
}  // namespace idra::audit
