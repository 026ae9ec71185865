// authority_test.cpp: tokens, enrollment in one transaction, revocation,
// listing and classification of client certificates, over a real store and
// a real CA in a temporary directory.
#include "idra/ca.hpp"

#include <gtest/gtest.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include <thread>

#include "unit/pki/test_util.hpp"

namespace idra::ca {
namespace {

using pki::test::TempDir;

std::vector<unsigned char> make_csr(const EVP_PKEY& key, const std::string& cn,
                                    const std::vector<std::string>& uris = {}) {
  pki::X509ReqPtr req(X509_REQ_new());
  X509_REQ_set_version(req.get(), 0);
  X509_REQ_set_pubkey(req.get(), const_cast<EVP_PKEY*>(&key));
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  if (!uris.empty()) {
    STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
    std::string san;
    for (const auto& u : uris) san += (san.empty() ? "URI:" : ",URI:") + u;
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, san.c_str());
    sk_X509_EXTENSION_push(exts, ext);
    X509_REQ_add_extensions(req.get(), exts);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  }
  X509_REQ_sign(req.get(), const_cast<EVP_PKEY*>(&key), EVP_sha256());
  unsigned char* der = nullptr;
  const int n = i2d_X509_REQ(req.get(), &der);
  std::vector<unsigned char> out(der, der + n);
  OPENSSL_free(der);
  return out;
}

class AuthorityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::Store::open(dir_ / "db", fast_store());
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(store).value();
    ASSERT_TRUE(store_->home_prefix("88.100"));
    passphrase_ = pki::Secret::copy_of("test passphrase");
    ASSERT_TRUE(pki::init_ca(dir_.path(), passphrase_, {}, pki::KeyEncryptionParams::minimum()));
    Config config;
    config.token_hash = {1, 8192};  // libsodium's minimum Argon2id cost: tests only
    auto a = Authority::open(*store_, dir_.path(), passphrase_, dir_ / "no-profiles", config, {});
    ASSERT_TRUE(a) << a.error().message;
    authority_ = std::move(a).value();
  }

  static store::Options fast_store() {
    store::Options o;
    o.durable = false;
    o.prefault_max_bytes = 0;
    return o;
  }

  pki::EvpPkeyPtr key() {
    auto k = pki::generate_key();
    EXPECT_TRUE(k);
    return std::move(k).value();
  }

  std::size_t cert_count() { return authority_->list("", "", 1000).entries.size(); }

  std::string value_of(const std::string& handle, std::uint32_t index) {
    auto record = store_->get(handle);
    if (!record) return "<no record>";
    for (const auto& v : record->values) {
      if (v.index == index) return v.data;
    }
    return "<no value>";
  }

  TempDir dir_;
  std::unique_ptr<store::Store> store_;
  pki::Secret passphrase_;
  std::unique_ptr<Authority> authority_;
  const std::int64_t now_ = 1'800'000'000;
};

TEST_F(AuthorityTest, TokenEnrollmentWritesCertificateTokenAndRecordTogether) {
  auto token = authority_->create_token("88.100.1/DEV-1", "device", std::chrono::hours(1), now_);
  ASSERT_TRUE(token) << token.error().message;
  auto k = key();
  auto done = authority_->enroll_with_token({"88.100.1/DEV-1", *token}, make_csr(*k, "88.100.1/DEV-1"), "", now_);
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(done->entry.identifier, "88.100.1/DEV-1");
  EXPECT_EQ(done->entry.profile, "device");
  EXPECT_EQ(done->entry.via, "token");
  EXPECT_EQ(done->entry.serial.size(), 32u);
  EXPECT_EQ(pki::subject_alt_names(*done->certificate).uris, std::vector<std::string>{"hdl:88.100.1/DEV-1"});
  EXPECT_EQ(value_of("88.100.1/DEV-1", kCertStatusIndex), "valid");
  EXPECT_EQ(value_of("88.100.1/DEV-1", kCertSerialIndex), done->entry.serial);
  EXPECT_EQ(value_of("88.100.1/DEV-1", kCertProfileIndex), "device");
  EXPECT_EQ(value_of("88.100.1/DEV-1", kCertIndex), pki::to_pem(*done->certificate));
  ASSERT_TRUE(authority_->find(done->entry.serial));
  // Single use.
  auto again = authority_->enroll_with_token({"88.100.1/DEV-1", *token}, make_csr(*k, "88.100.1/DEV-1"), "", now_);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, 401);
  EXPECT_NE(again.error().message.find("already used"), std::string::npos);
  EXPECT_EQ(cert_count(), 1u);
}

TEST_F(AuthorityTest, RefusedEnrollmentsWriteNothing) {
  auto token = authority_->create_token("88.100.1/DEV-2", "device", std::chrono::hours(1), now_);
  ASSERT_TRUE(token);
  auto k = key();
  struct Case {
    const char* what;
    TokenAuth auth;
    std::vector<unsigned char> csr;
    std::string label;
    std::int64_t now;
    int code;
  };
  auto bad_sig = make_csr(*k, "x");
  bad_sig[bad_sig.size() - 3] ^= 1;
  const std::vector<Case> cases = {
      {"other identifier in CN", {"88.100.1/DEV-2", *token}, make_csr(*k, "88.100.1/DEV-3"), "", now_, 400},
      {"other identifier in SAN", {"88.100.1/DEV-2", *token}, make_csr(*k, "x", {"hdl:88.100.1/DEV-3"}), "", now_, 400},
      {"bad signature", {"88.100.1/DEV-2", *token}, bad_sig, "", now_, 400},
      {"not DER", {"88.100.1/DEV-2", *token}, {1, 2, 3}, "", now_, 400},
      {"wrong secret", {"88.100.1/DEV-2", token->substr(0, token->size() - 1) + "x"}, make_csr(*k, "x"), "", now_, 401},
      {"other identifier as user", {"88.100.1/DEV-9", *token}, make_csr(*k, "x"), "", now_, 401},
      {"malformed token", {"88.100.1/DEV-2", "abc"}, make_csr(*k, "x"), "", now_, 401},
      {"expired", {"88.100.1/DEV-2", *token}, make_csr(*k, "x"), "", now_ + 3600, 401},
      {"other profile label", {"88.100.1/DEV-2", *token}, make_csr(*k, "x"), "server", now_, 403},
  };
  for (const auto& c : cases) {
    auto r = authority_->enroll_with_token(c.auth, c.csr, c.label, c.now);
    ASSERT_FALSE(r) << c.what;
    EXPECT_EQ(r.error().code, c.code) << c.what << ": " << r.error().message;
  }
  EXPECT_EQ(cert_count(), 0u);
  EXPECT_FALSE(store_->get("88.100.1/DEV-2"));
  // The token is still good: nothing consumed it.
  auto ok = authority_->enroll_with_token({"88.100.1/DEV-2", *token}, make_csr(*k, "88.100.1/DEV-2"), "device", now_);
  ASSERT_TRUE(ok) << ok.error().message;
}

TEST_F(AuthorityTest, TokenCreationChecks) {
  EXPECT_EQ(authority_->create_token("88.100.1/X", "nope", std::chrono::hours(1), now_).error().code, 400);
  EXPECT_EQ(authority_->create_token("88.100.1/X", "ocsp", std::chrono::hours(1), now_).error().code, 400);
  EXPECT_EQ(authority_->create_token("88.100.1/X", "device", std::chrono::hours(24 * 365), now_).error().code, 400);
  EXPECT_EQ(authority_->create_token("99.1/X", "device", std::chrono::hours(1), now_).error().code, 404);
  auto t = authority_->create_token("88.100.1/X", "device", std::chrono::hours(1), now_);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->find('.'), 32u);
  // Only the hash is stored: the secret part appears nowhere in the table.
  const std::string secret = t->substr(33);
  store_->view([&](const store::ReadView& v) {
    v.scan(store::Table::tokens, "", [&](std::string_view, std::string_view value) {
      EXPECT_EQ(value.find(secret), std::string_view::npos);
      EXPECT_NE(value.find("$argon2id$"), std::string_view::npos);
      return true;
    });
  });
}

TEST_F(AuthorityTest, OneTokenRacedByManyThreadsEnrollsOnce) {
  auto token = authority_->create_token("88.100.1/RACE", "device", std::chrono::hours(1), now_);
  ASSERT_TRUE(token);
  std::atomic<int> wins{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto k = pki::generate_key();
      auto r = authority_->enroll_with_token({"88.100.1/RACE", *token}, make_csr(**k, "88.100.1/RACE"), "", now_);
      if (r) ++wins;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wins.load(), 1);
  EXPECT_EQ(cert_count(), 1u);
}

TEST_F(AuthorityTest, RevokeByIdentifierUpdatesRecordAndStatus) {
  auto token = authority_->create_token("88.100.1/DEV-R", "device", std::chrono::hours(1), now_);
  auto k = key();
  auto done = authority_->enroll_with_token({"88.100.1/DEV-R", *token}, make_csr(*k, "x"), "", now_);
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_FALSE(authority_->is_revoked(*done->certificate));
  auto revoked = authority_->revoke("88.100.1/DEV-R", 1, now_ + 10);
  ASSERT_TRUE(revoked) << revoked.error().message;
  ASSERT_EQ(revoked->size(), 1u);
  EXPECT_TRUE(authority_->is_revoked(*done->certificate));
  EXPECT_EQ(value_of("88.100.1/DEV-R", kCertStatusIndex), "revoked:keyCompromise");
  auto entry = authority_->find(done->entry.serial);
  ASSERT_TRUE(entry);
  EXPECT_TRUE(entry->revoked);
  EXPECT_EQ(entry->revoked_at, now_ + 10);
  // Again: 409; unknown: 404; bad reason: 400.
  EXPECT_EQ(authority_->revoke(done->entry.serial, 1, now_).error().code, 409);
  EXPECT_EQ(authority_->revoke("88.100.1/NOBODY", 1, now_).error().code, 404);
  EXPECT_EQ(authority_->revoke("88.100.1/DEV-R", 99, now_).error().code, 400);
  // The CRL lists it.
  const auto der = authority_->crl(now_ + 20);
  const unsigned char* p = der.data();
  pki::X509CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
  ASSERT_TRUE(crl);
  X509_REVOKED* found = nullptr;
  EXPECT_EQ(X509_CRL_get0_by_cert(crl.get(), &found, done->certificate.get()), 1);
}

TEST_F(AuthorityTest, ReenrollKeepsIdentifierAndRefusesRevoked) {
  auto token = authority_->create_token("88.100.1/DEV-RE", "device", std::chrono::hours(1), now_);
  auto k = key();
  auto first = authority_->enroll_with_token({"88.100.1/DEV-RE", *token}, make_csr(*k, "x"), "", now_);
  ASSERT_TRUE(first);
  const auto der = pki::to_der(*first->certificate);
  const std::vector<std::vector<unsigned char>> chain = {der, pki::to_der(authority_->issuer().certificate()),
                                                         pki::to_der(*authority_->root())};
  auto who = authority_->classify(chain, first->entry.fingerprint, now_);
  ASSERT_TRUE(who);
  EXPECT_EQ(who->kind, ClientCert::Kind::issued);
  EXPECT_EQ(who->identifier, "88.100.1/DEV-RE");
  EXPECT_EQ(who->role, "device");
  auto k2 = key();
  auto renewed = authority_->reenroll(*who, make_csr(*k2, "x"), "", now_ + 100);
  ASSERT_TRUE(renewed) << renewed.error().message;
  EXPECT_EQ(renewed->entry.identifier, "88.100.1/DEV-RE");
  EXPECT_EQ(renewed->entry.via, "reenroll");
  EXPECT_EQ(value_of("88.100.1/DEV-RE", kCertSerialIndex), renewed->entry.serial);
  EXPECT_EQ(authority_->reenroll(*who, make_csr(*k2, "88.100.1/OTHER"), "", now_).error().code, 400);
  // Far past expiry (beyond the grace period): refused.
  EXPECT_EQ(authority_->reenroll(*who, make_csr(*k2, "x"), "", first->entry.not_after + 8 * 86400).error().code, 403);
  ASSERT_TRUE(authority_->revoke(first->entry.serial, 4, now_));
  EXPECT_EQ(authority_->reenroll(*who, make_csr(*k2, "x"), "", now_).error().code, 403);
  // Listing by identifier: both certificates, in serial order, paged.
  auto page = authority_->list("88.100.1/DEV-RE", "", 1);
  ASSERT_EQ(page.entries.size(), 1u);
  ASSERT_FALSE(page.next_cursor.empty());
  auto rest = authority_->list("88.100.1/DEV-RE", page.next_cursor, 10);
  ASSERT_EQ(rest.entries.size(), 1u);
  EXPECT_TRUE(rest.next_cursor.empty());
  EXPECT_LT(page.entries[0].serial, rest.entries[0].serial);
}

TEST_F(AuthorityTest, ClassifyRejectsForeignAndUnknownChains) {
  // A certificate with our issuer's name that the database does not know.
  auto k = key();
  pki::LeafRequest req;
  req.kind = pki::LeafKind::kClient;
  req.names.uris = {"hdl:88.100.1/GHOST"};
  auto ghost = authority_->issuer().issue_leaf(*k, req);
  ASSERT_TRUE(ghost);
  EXPECT_TRUE(authority_->is_revoked(**ghost)) << "unknown serials of our issuer are refused";
  const std::vector<std::vector<unsigned char>> chain = {pki::to_der(**ghost), pki::to_der(*authority_->root())};
  EXPECT_FALSE(authority_->classify(chain, pki::sha256_fingerprint_hex(**ghost), now_));
  EXPECT_FALSE(authority_->classify({}, "", now_));
}

TEST_F(AuthorityTest, OcspAnswersFromTheDatabase) {
  auto token = authority_->create_token("88.100.1/DEV-O", "device", std::chrono::hours(1), now_);
  auto k = key();
  auto done = authority_->enroll_with_token({"88.100.1/DEV-O", *token}, make_csr(*k, "x"), "", now_);
  ASSERT_TRUE(done);
  auto status_of = [&](std::int64_t now) {
    const auto request = pki::ocsp_request_for(*done->certificate, authority_->issuer().certificate());
    const auto der = authority_->ocsp(request, now);
    const unsigned char* p = der.data();
    std::unique_ptr<OCSP_RESPONSE, decltype(&OCSP_RESPONSE_free)> resp(
        d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())), OCSP_RESPONSE_free);
    EXPECT_TRUE(resp);
    std::unique_ptr<OCSP_BASICRESP, decltype(&OCSP_BASICRESP_free)> basic(OCSP_response_get1_basic(resp.get()),
                                                                          OCSP_BASICRESP_free);
    EXPECT_TRUE(basic);
    OCSP_SINGLERESP* single = OCSP_resp_get0(basic.get(), 0);
    int reason = 0;
    return OCSP_single_get0_status(single, &reason, nullptr, nullptr, nullptr);
  };
  EXPECT_EQ(status_of(now_), V_OCSP_CERTSTATUS_GOOD);
  ASSERT_TRUE(authority_->revoke("88.100.1/DEV-O", 1, now_));
  EXPECT_EQ(status_of(now_), V_OCSP_CERTSTATUS_REVOKED);
}

}  // namespace
}  // namespace idra::ca
