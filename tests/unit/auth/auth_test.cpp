#include "idra/auth.hpp"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include <filesystem>

namespace idra::auth {
namespace {

TEST(Secrets, HashVerifyAndRecognize) {
  auto h = hash_secret("correct horse");
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(is_secret_hash(*h));
  EXPECT_TRUE(verify_secret(*h, "correct horse"));
  EXPECT_FALSE(verify_secret(*h, "correct horsf"));
  EXPECT_FALSE(verify_secret("plain", "plain"));
  EXPECT_NE(*h, hash_secret("correct horse").value());  // salted
  EXPECT_FALSE(is_secret_hash("$argon2i$v=19$m=1"));
}

TEST(Secrets, RandomValues) {
  EXPECT_EQ(random_hex(16).size(), 32u);
  EXPECT_NE(random_hex(16), random_hex(16));
  EXPECT_EQ(random_secret(24).size(), 32u);
}

TEST(ParseBasic, HandleNetAndPlainForms) {
  // "300:0.NA/88.100:s3cret" percent-encoded as Handle.Net clients send it.
  auto enc = parse_basic("Basic MzAwJTNBMC5OQSUyRjg4LjEwMDpzM2NyZXQ=");
  ASSERT_TRUE(enc.has_value());
  ASSERT_TRUE(enc->ok()) << enc->error().message;
  EXPECT_EQ(enc->value().index, 300u);
  EXPECT_EQ(enc->value().handle, "0.NA/88.100");
  EXPECT_EQ(enc->value().secret, "s3cret");
  // The same, not encoded (curl -u '300:0.NA/88.100:s3cret').
  auto plain = parse_basic("basic MzAwOjAuTkEvODguMTAwOnMzY3JldA==");
  ASSERT_TRUE(plain && plain->ok());
  EXPECT_EQ(plain->value().handle, "0.NA/88.100");
  EXPECT_EQ(plain->value().secret, "s3cret");
}

TEST(ParseBasic, Rejections) {
  EXPECT_FALSE(parse_basic("Bearer abc").has_value());
  auto bad64 = parse_basic("Basic !!!");
  ASSERT_TRUE(bad64.has_value());
  EXPECT_FALSE(bad64->ok());
  auto no_index = parse_basic("Basic YWRtaW46cGFzcw==");  // admin:pass
  ASSERT_TRUE(no_index.has_value());
  EXPECT_FALSE(no_index->ok());
  auto zero = parse_basic("Basic MDowLk5BL3g6cw==");  // 0:0.NA/x:s
  ASSERT_TRUE(zero.has_value());
  EXPECT_FALSE(zero->ok());
}

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/idra-auth-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    store::Options o;
    o.durable = false;
    store_ = std::move(store::Store::open(dir_ / "db", o).value());
    store::HandleValue key;
    key.index = 300;
    key.type = "HS_SECKEY";
    key.data = hash_secret("pw").value();
    store::Record rec;
    rec.values = {key};
    ASSERT_TRUE(store_->put("0.NA/X", rec).ok());
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  static Credentials creds(std::string secret, std::uint32_t index = 300) {
    Credentials c;
    c.handle = "0.NA/X";
    c.index = index;
    c.secret = std::move(secret);
    return c;
  }
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(AuthenticatorTest, VerifiesAndLimitsFailures) {
  LimiterConfig limiter;
  limiter.max_failures = 2;
  limiter.window = std::chrono::seconds(10);
  Authenticator a(*store_, limiter);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(a.verify(creds("pw"), "1.1.1.1", t0).outcome, Authenticator::Outcome::ok);
  EXPECT_EQ(a.verify(creds("pw"), "1.1.1.1", t0).outcome, Authenticator::Outcome::ok);  // cached path
  EXPECT_EQ(a.verify(creds("nope"), "1.1.1.1", t0).outcome, Authenticator::Outcome::bad_credentials);
  EXPECT_EQ(a.verify(creds("pw", 301), "1.1.1.1", t0).outcome, Authenticator::Outcome::no_such_key);
  const auto limited = a.verify(creds("pw"), "1.1.1.1", t0);
  EXPECT_EQ(limited.outcome, Authenticator::Outcome::rate_limited);
  EXPECT_GT(limited.retry_after.count(), 0);
  // Another address is not affected; the window passing lifts the limit.
  EXPECT_EQ(a.verify(creds("pw"), "2.2.2.2", t0).outcome, Authenticator::Outcome::ok);
  EXPECT_EQ(a.verify(creds("pw"), "1.1.1.1", t0 + std::chrono::seconds(11)).outcome, Authenticator::Outcome::ok);
}

TEST_F(AuthenticatorTest, ChangedSecretInvalidatesCache) {
  Authenticator a(*store_);
  ASSERT_EQ(a.verify(creds("pw"), "1.1.1.1").outcome, Authenticator::Outcome::ok);
  store::HandleValue key;
  key.index = 300;
  key.type = "HS_SECKEY";
  key.data = hash_secret("new").value();
  store::Record rec;
  rec.values = {key};
  ASSERT_TRUE(store_->put("0.NA/X", rec).ok());
  EXPECT_EQ(a.verify(creds("pw"), "1.1.1.1").outcome, Authenticator::Outcome::bad_credentials);
  EXPECT_EQ(a.verify(creds("new"), "1.1.1.1").outcome, Authenticator::Outcome::ok);
}

// would_hash: only credentials verified before (with the stored key
// unchanged) may skip the blocking pool.
TEST_F(AuthenticatorTest, WouldHashUntilVerifiedAndAfterAKeyChange) {
  Authenticator a(*store_);
  EXPECT_TRUE(a.would_hash(creds("pw")));
  EXPECT_TRUE(a.would_hash(creds("pw", 301)));  // no such key: verify spends a dummy hash
  ASSERT_EQ(a.verify(creds("pw"), "1.1.1.1").outcome, Authenticator::Outcome::ok);
  EXPECT_FALSE(a.would_hash(creds("pw")));
  EXPECT_TRUE(a.would_hash(creds("other")));
  ASSERT_EQ(a.verify(creds("other"), "1.1.1.1").outcome, Authenticator::Outcome::bad_credentials);
  EXPECT_TRUE(a.would_hash(creds("other")));  // failures are not cached
  store::HandleValue key;
  key.index = 300;
  key.type = "HS_SECKEY";
  key.data = hash_secret("pw").value();  // the same secret, a new salt
  store::Record rec;
  rec.values = {key};
  ASSERT_TRUE(store_->put("0.NA/X", rec).ok());
  EXPECT_TRUE(a.would_hash(creds("pw")));
}

}  // namespace
}  // namespace idra::auth

namespace idra::auth {
namespace {

// Request ids: 32 hex characters, never repeated within a thread or across
// threads (each thread has its own key and counter).
TEST(UniqueHex, HexAndNeverRepeated) {
  std::set<std::string> seen;
  auto take = [](std::vector<std::string>& out) {
    for (int i = 0; i < 20000; ++i) out.push_back(unique_hex());
  };
  std::vector<std::string> a, b;
  std::thread other(take, std::ref(b));
  take(a);
  other.join();
  for (const auto* ids : {&a, &b}) {
    for (const auto& id : *ids) {
      ASSERT_EQ(id.size(), 32u);
      ASSERT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
      ASSERT_TRUE(seen.insert(id).second) << "repeated: " << id;
    }
  }
  // Not a counter in the clear: consecutive ids share no long prefix.
  EXPECT_NE(a[0].substr(0, 8), a[1].substr(0, 8));
}

}  // namespace
}  // namespace idra::auth
