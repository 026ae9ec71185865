#include <gtest/gtest.h>

#include <type_traits>

#include "idra/pki.hpp"

namespace idra::pki {
namespace {

static_assert(!std::is_copy_constructible_v<Secret>);
static_assert(!std::is_copy_assignable_v<Secret>);
static_assert(std::is_nothrow_move_constructible_v<Secret>);

TEST(PkiSecret, SizedSecretStartsZeroed) {
  Secret s(8);
  ASSERT_EQ(s.size(), 8u);
  for (std::size_t i = 0; i < s.size(); ++i) EXPECT_EQ(s.data()[i], 0);
}

TEST(PkiSecret, CopyOfAndView) {
  Secret s = Secret::copy_of("hunter2");
  EXPECT_EQ(s.view(), "hunter2");
  EXPECT_FALSE(s.empty());
  EXPECT_TRUE(Secret().empty());
}

TEST(PkiSecret, EqualityComparesContentsAndLength) {
  EXPECT_TRUE(Secret::copy_of("abc") == Secret::copy_of("abc"));
  EXPECT_FALSE(Secret::copy_of("abc") == Secret::copy_of("abd"));
  EXPECT_FALSE(Secret::copy_of("abc") == Secret::copy_of("abcd"));
  EXPECT_TRUE(Secret() == Secret());
}

TEST(PkiSecret, MoveLeavesSourceEmpty) {
  Secret a = Secret::copy_of("secret");
  Secret b = std::move(a);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_EQ(b.view(), "secret");
  Secret c;
  c = std::move(b);
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(c.view(), "secret");
}

TEST(PkiSecret, PrefixCopiesTheStart) {
  Secret s = Secret::copy_of("passphrase\n");
  EXPECT_EQ(s.prefix(10).view(), "passphrase");
  EXPECT_EQ(s.prefix(100).view(), "passphrase\n");
}

TEST(PkiSecret, RandomSecretsDiffer) {
  Secret a = Secret::random(32);
  Secret b = Secret::random(32);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_FALSE(a == b);
}

TEST(PkiSecret, GoogleTestPrintsOnlyTheLength) {
  EXPECT_EQ(testing::PrintToString(Secret::copy_of("top secret")), "Secret(10 bytes)");
}

}  // namespace
}  // namespace idra::pki
