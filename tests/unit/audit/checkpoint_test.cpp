// Checkpoints signed by the log, verified as a client would, and tampering
// with the stored log detected against them.
#include <gtest/gtest.h>

#include "helpers.hpp"

namespace idra::audit {
namespace {

using testing::TempStore;

class Checkpoints : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = SignerKey::generate("log.example/audit");
    ASSERT_TRUE(key.ok());
    vkey = key->verifier();
    auto made = Checkpointer::create(
        *s, std::move(key).value(),
        CheckpointerConfig{"log.example/audit", std::chrono::milliseconds(1000)});
    ASSERT_TRUE(made.ok());
    cp = std::move(made).value();
  }

  void append_range(std::uint64_t from, std::uint64_t to) {
    std::vector<AuditRecord> records;
    for (std::uint64_t i = from; i < to; ++i) records.push_back(testing::sample_record(i));
    testing::append_all(*s, records);
  }

  Checkpoint open(const std::string& note) {
    auto c = open_checkpoint(note, vkey, "log.example/audit");
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
    return c.ok() ? *c : Checkpoint{};
  }

  // corrupt overwrites one byte of a stored value, as an attacker with
  // write access to the LMDB file could.
  void corrupt(store::Table table, const std::string& key, std::size_t byte) {
    auto done = s->transact([&](store::WriteView& v) -> Result<void> {
      auto value = v.get(table, key);
      EXPECT_TRUE(value.has_value());
      if (!value) return make_error("no such key");
      (*value)[byte] ^= 0x01;
      v.put(table, key, *value);
      return {};
    });
    ASSERT_TRUE(done.ok());
  }

  TempStore s;
  VerifierKey vkey;
  std::unique_ptr<Checkpointer> cp;
};

TEST_F(Checkpoints, SignedWhenGrownAndAtMostOncePerInterval) {
  EXPECT_FALSE(cp->checkpoint_now()->has_value());  // empty log: nothing to sign
  append_range(0, 10);
  const auto t0 = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
  auto first = cp->maybe_checkpoint(t0);
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_TRUE(first->has_value());
  const Checkpoint c10 = open(**first);
  EXPECT_EQ(c10.size, 10u);
  append_range(10, 25);
  EXPECT_FALSE(cp->maybe_checkpoint(t0 + std::chrono::milliseconds(999))->has_value());
  auto second = cp->maybe_checkpoint(t0 + std::chrono::milliseconds(1000));
  ASSERT_TRUE(second.ok() && second->has_value());
  const Checkpoint c25 = open(**second);
  EXPECT_EQ(c25.size, 25u);
  EXPECT_EQ(cp->latest_checkpoint(), **second);
  // Not grown: nothing new, whatever the time.
  EXPECT_FALSE(cp->maybe_checkpoint(t0 + std::chrono::hours(1))->has_value());

  s->view([&](const store::ReadView& v) {
    EXPECT_EQ(latest_checkpoint(v), **second);
    EXPECT_EQ(checkpoint_at(v, 10), **first);
    EXPECT_FALSE(checkpoint_at(v, 11).has_value());
    // A client: consistency 10 -> 25, inclusion of every leaf in 25.
    auto proof = prove_consistency(v, 10, 25);
    ASSERT_TRUE(proof.ok());
    EXPECT_TRUE(check_consistency(c10.size, c10.root, c25, *proof).ok());
    EXPECT_FALSE(check_consistency(c10.size, c25.root, c25, *proof).ok());
    EXPECT_TRUE(check_consistency(0, empty_root(), c25, {}).ok());
    EXPECT_FALSE(check_consistency(0, c10.root, c25, {}).ok());
    EXPECT_FALSE(check_consistency(26, c25.root, c25, {}).ok());
    EXPECT_TRUE(check_consistency(25, c25.root, c25, {}).ok());
    for (std::uint64_t i = 0; i < 25; ++i) {
      auto inclusion = prove_inclusion(v, i, 25);
      ASSERT_TRUE(inclusion.ok());
      EXPECT_TRUE(check_inclusion(*leaf_at(v, i), i, c25, *inclusion).ok());
      EXPECT_FALSE(check_inclusion(*leaf_at(v, (i + 1) % 25), i, c25, *inclusion).ok());
    }
    EXPECT_TRUE(check_stored(v, 25, c25.root).ok());
  });
  // The same log re-opened by another Checkpointer continues the chain.
  auto again = Checkpointer::create(*s, std::move(SignerKey::generate("x")).value(),
                                    CheckpointerConfig{"log.example/audit", {}});
  ASSERT_TRUE(again.ok());
  append_range(25, 26);
  EXPECT_FALSE((*again)->checkpoint_now().ok());  // latest checkpoint is not by its key
}

TEST_F(Checkpoints, BadOriginRefused) {
  EXPECT_FALSE(Checkpointer::create(*s, std::move(SignerKey::generate("a")).value(),
                                    CheckpointerConfig{"", {}})
                   .ok());
  EXPECT_FALSE(Checkpointer::create(*s, std::move(SignerKey::generate("a")).value(),
                                    CheckpointerConfig{"two\nlines", {}})
                   .ok());
}

TEST_F(Checkpoints, TamperedLeafIsDetected) {
  append_range(0, 40);
  auto note = cp->checkpoint_now();
  ASSERT_TRUE(note.ok() && note->has_value());
  const Checkpoint signed_cp = open(**note);
  std::string leaf_before;
  s->view([&](const store::ReadView& v) { leaf_before = *leaf_at(v, 17); });

  // One byte of leaf 17 changes (its duration digit: still a valid record).
  const std::size_t byte = leaf_before.size() - 2;
  corrupt(store::Table::audit_leaves, util::be64(17), byte);
  s->view([&](const store::ReadView& v) {
    const std::string leaf_after = *leaf_at(v, 17);
    ASSERT_NE(leaf_after, leaf_before);
    ASSERT_TRUE(decode_leaf(leaf_after).ok());  // the forgery is a well-formed record
    auto proof = prove_inclusion(v, 17, signed_cp.size);
    ASSERT_TRUE(proof.ok());
    EXPECT_FALSE(check_inclusion(leaf_after, 17, signed_cp, *proof).ok());
    EXPECT_TRUE(check_inclusion(leaf_before, 17, signed_cp, *proof).ok());
    auto full = check_stored(v, signed_cp.size, signed_cp.root);
    ASSERT_FALSE(full.ok());
    EXPECT_NE(full.error().message.find("leaf 17"), std::string::npos) << full.error().message;
  });
}

TEST_F(Checkpoints, TamperedHashIsDetected) {
  append_range(0, 40);
  auto note = cp->checkpoint_now();
  ASSERT_TRUE(note.ok() && note->has_value());
  const Checkpoint signed_cp = open(**note);

  // Level 3, index 1 covers leaves 8..15: a sibling on leaf 0's path, but
  // not part of the root of 40 (32 + 8).
  const std::string key = util::hash_key(util::HashKeys::by_last_leaf, 3, 1);
  corrupt(store::Table::audit_hashes, key, 0);
  s->view([&](const store::ReadView& v) {
    EXPECT_EQ(*root_at(v, 40), signed_cp.root);
    auto proof = prove_inclusion(v, 0, signed_cp.size);
    ASSERT_TRUE(proof.ok());
    EXPECT_FALSE(check_inclusion(*leaf_at(v, 0), 0, signed_cp, *proof).ok());
    auto full = check_stored(v, signed_cp.size, signed_cp.root);
    ASSERT_FALSE(full.ok());
    EXPECT_NE(full.error().message.find("level 3 index 1 "), std::string::npos)
        << full.error().message;
  });
}

TEST_F(Checkpoints, ForkIsNotSigned) {
  append_range(0, 40);
  auto note = cp->checkpoint_now();
  ASSERT_TRUE(note.ok() && note->has_value());
  const Checkpoint signed_cp = open(**note);

  // Level 3, index 4 covers leaves 32..39: part of the root of 40.
  const std::string key = util::hash_key(util::HashKeys::by_last_leaf, 3, 4);
  corrupt(store::Table::audit_hashes, key, 31);
  s->view([&](const store::ReadView& v) { EXPECT_NE(*root_at(v, 40), signed_cp.root); });
  append_range(40, 41);
  auto refused = cp->checkpoint_now();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("refusing to sign"), std::string::npos)
      << refused.error().message;
  s->view([&](const store::ReadView& v) {
    EXPECT_EQ(latest_checkpoint(v), **note);
    EXPECT_FALSE(check_stored(v, 40, signed_cp.root).ok());
  });
}

TEST_F(Checkpoints, TamperedCheckpointIsDetected) {
  append_range(0, 5);
  auto note = cp->checkpoint_now();
  ASSERT_TRUE(note.ok() && note->has_value());
  corrupt(store::Table::audit_state, "latest_checkpoint", 20);
  s->view([&](const store::ReadView& v) {
    EXPECT_FALSE(open_checkpoint(*latest_checkpoint(v), vkey, "log.example/audit").ok());
  });
  append_range(5, 6);
  EXPECT_FALSE(cp->checkpoint_now().ok());
}

}  // namespace
}  // namespace idra::audit
