// The development PKI bootstrap.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>
#include <string>

#include "idra/pki.hpp"
#include "unit/pki/test_util.hpp"

namespace idra::pki {
namespace {

using namespace test;  // the helpers of test_util.hpp

const std::vector<std::string> kDns = {"localhost"};
const std::vector<std::string> kIps = {"127.0.0.1", "::1"};

Secret pass() { return Secret::copy_of("dev passphrase"); }

std::map<std::string, std::string> snapshot(const std::filesystem::path& tls) {
  std::map<std::string, std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(tls)) {
    out[e.path().filename().string()] = read_text(e.path());
  }
  return out;
}

TEST(PkiDevPki, CreatesTheFilesWithTheRightModes) {
  TempDir dir;
  const auto data = dir / "data";
  auto m = ensure_dev_pki(data, pass(), kDns, kIps);  // default (interactive) Argon2id cost
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_TRUE(m->created);
  EXPECT_TRUE(m->server_reissued);
  const auto tls = data / "tls";
  EXPECT_EQ(m->paths.ca_certificate, tls / "ca.pem");
  EXPECT_EQ(file_mode(data), 0700u);
  EXPECT_EQ(file_mode(tls), 0700u);
  for (const char* key : {"root.key", "intermediate.key", "server.key"}) {
    EXPECT_EQ(file_mode(tls / key), 0600u) << key;
    EXPECT_EQ(read_text(tls / key).rfind("-----BEGIN IDRA ENCRYPTED PRIVATE KEY-----", 0), 0u);
  }
  for (const char* pem : {"ca.pem", "intermediate.pem", "server.pem"}) {
    EXPECT_EQ(file_mode(tls / pem), 0644u) << pem;
  }
  EXPECT_EQ(snapshot(tls).size(), 6u) << "stray files in " << tls;

  ASSERT_EQ(m->chain.size(), 2u);
  ASSERT_TRUE(m->key);
  EXPECT_EQ(X509_check_private_key(m->chain[0].get(), m->key.get()), 1);
  auto server_pem = load_certificates(tls / "server.pem");
  ASSERT_TRUE(server_pem);
  ASSERT_EQ(server_pem->size(), 2u);
  EXPECT_EQ(sha256_fingerprint_hex(*server_pem->at(0)), sha256_fingerprint_hex(*m->chain[0]));
  EXPECT_EQ(sha256_fingerprint_hex(*server_pem->at(1)), sha256_fingerprint_hex(*m->chain[1]));
  SubjectAltNames names = subject_alt_names(*m->chain[0]);
  EXPECT_EQ(names.dns_names, kDns);
  EXPECT_EQ(names.ip_addresses, kIps);
  auto root_key = load_private_key(tls / "root.key", pass());
  ASSERT_TRUE(root_key) << root_key.error().message;
  auto roots = load_certificates(tls / "ca.pem");
  ASSERT_TRUE(roots);
  EXPECT_EQ(X509_check_private_key(roots->at(0).get(), root_key->get()), 1);
  // Validity: root 10 years, intermediate 5 years, server 1 year.
  EXPECT_GT(seconds_until_expiry(*roots->at(0)).count(), 3650LL * 86400 - 600);
  EXPECT_GT(seconds_until_expiry(*m->chain[1]).count(), 1825LL * 86400 - 600);
  EXPECT_GT(seconds_until_expiry(*m->chain[0]).count(), 364LL * 86400);
  EXPECT_LE(seconds_until_expiry(*m->chain[0]).count(), 365LL * 86400);

  auto r = run(std::string(kOpenssl) + " verify -x509_strict -purpose sslserver " +
               "-verify_hostname localhost -CAfile " + quote(tls / "ca.pem") + " -untrusted " +
               quote(tls / "intermediate.pem") + " " + quote(tls / "server.pem"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(PkiDevPki, SecondCallReusesEverything) {
  TempDir dir;
  auto first = ensure_dev_pki(dir.path(), pass(), kDns, kIps, kFast);
  ASSERT_TRUE(first) << first.error().message;
  const auto before = snapshot(dir / "tls");
  auto second = ensure_dev_pki(dir.path(), pass(), kDns, kIps, kFast);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_FALSE(second->created);
  EXPECT_FALSE(second->server_reissued);
  ASSERT_EQ(second->chain.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(sha256_fingerprint_hex(*first->chain[i]), sha256_fingerprint_hex(*second->chain[i]));
  }
  EXPECT_EQ(EVP_PKEY_eq(first->key.get(), second->key.get()), 1);
  EXPECT_EQ(snapshot(dir / "tls"), before) << "a reuse rewrote files";
  // Same names in another order and spelling are the same names.
  auto third = ensure_dev_pki(dir.path(), pass(), {"LOCALHOST"}, {"0:0::1", "127.0.0.1"}, kFast);
  ASSERT_TRUE(third) << third.error().message;
  EXPECT_FALSE(third->server_reissued);
}

TEST(PkiDevPki, ChangedNamesReissueOnlyTheServer) {
  TempDir dir;
  auto first = ensure_dev_pki(dir.path(), pass(), kDns, kIps, kFast);
  ASSERT_TRUE(first);
  const auto before = snapshot(dir / "tls");
  auto second = ensure_dev_pki(dir.path(), pass(), {"localhost", "idra.test"}, kIps, kFast);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_FALSE(second->created);
  EXPECT_TRUE(second->server_reissued);
  EXPECT_NE(sha256_fingerprint_hex(*first->chain[0]), sha256_fingerprint_hex(*second->chain[0]));
  EXPECT_EQ(sha256_fingerprint_hex(*first->chain[1]), sha256_fingerprint_hex(*second->chain[1]));
  EXPECT_EQ(subject_alt_names(*second->chain[0]).dns_names,
            (std::vector<std::string>{"localhost", "idra.test"}));
  const auto after = snapshot(dir / "tls");
  for (const char* same : {"ca.pem", "root.key", "intermediate.pem", "intermediate.key"}) {
    EXPECT_EQ(after.at(same), before.at(same)) << same;
  }
  EXPECT_NE(after.at("server.pem"), before.at("server.pem"));
  EXPECT_NE(after.at("server.key"), before.at("server.key"));
  EXPECT_EQ(file_mode(dir / "tls" / "server.key"), 0600u);
  EXPECT_EQ(file_mode(dir / "tls" / "server.pem"), 0644u);
  EXPECT_EQ(after.size(), 6u);
}

TEST(PkiDevPki, ExpiringServerCertificateIsReissued) {
  TempDir dir;
  auto first = ensure_dev_pki(dir.path(), pass(), kDns, kIps, kFast);
  ASSERT_TRUE(first);
  // Replace the server certificate with one that expires in 10 days.
  const TlsPaths& p = first->paths;
  auto inter_key = load_private_key(p.intermediate_key, pass());
  ASSERT_TRUE(inter_key);
  auto inter = CertificateAuthority::open(up_ref(*first->chain[1]), std::move(*inter_key));
  ASSERT_TRUE(inter) << inter.error().message;
  LeafRequest r;
  r.subject.common_name = "localhost";
  r.names.dns_names = kDns;
  r.names.ip_addresses = kIps;
  r.validity = std::chrono::hours{24 * 10};
  auto short_leaf = inter->issue_leaf(*first->key, r);
  ASSERT_TRUE(short_leaf);
  ASSERT_TRUE(write_file_atomic(p.server_certificate,
                                to_pem(**short_leaf) + to_pem(*first->chain[1]), 0644,
                                WriteMode::kReplace));
  auto second = ensure_dev_pki(dir.path(), pass(), kDns, kIps, kFast);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_TRUE(second->server_reissued);
  EXPECT_GT(seconds_until_expiry(*second->chain[0]), kDevRenewBefore);
}

TEST(PkiDevPki, ExpiringIntermediateIsReissuedByTheRoot) {
  TempDir dir;
  auto first = ensure_dev_pki(dir.path(), pass(), kDns, kIps, kFast);
  ASSERT_TRUE(first);
  const TlsPaths& p = first->paths;
  auto roots = load_certificates(p.ca_certificate);
  auto root_key = load_private_key(p.root_key, pass());
  ASSERT_TRUE(roots && root_key);
  auto root = CertificateAuthority::open(std::move(roots->front()), std::move(*root_key));
  ASSERT_TRUE(root) << root.error().message;
  auto short_key = generate_key();
  ASSERT_TRUE(short_key);
  auto short_inter = root->issue_intermediate(std::move(*short_key), {"short-lived", "", ""},
                                              std::chrono::hours{24 * 10});
  ASSERT_TRUE(short_inter);
  ASSERT_TRUE(write_private_key(p.intermediate_key, short_inter->key(), pass(), WriteMode::kReplace,
                                kFast));
  ASSERT_TRUE(write_file_atomic(p.intermediate_certificate, to_pem(short_inter->certificate()),
                                0644, WriteMode::kReplace));
  const std::string root_pem = read_text(p.ca_certificate);

  auto second = ensure_dev_pki(dir.path(), pass(), kDns, kIps, kFast);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_FALSE(second->created);
  EXPECT_TRUE(second->server_reissued);
  EXPECT_GT(seconds_until_expiry(*second->chain[1]), kDevRenewBefore);
  EXPECT_NE(sha256_fingerprint_hex(*second->chain[1]),
            sha256_fingerprint_hex(short_inter->certificate()));
  EXPECT_EQ(read_text(p.ca_certificate), root_pem);
  auto r = run(std::string(kOpenssl) + " verify -x509_strict -purpose sslserver -CAfile " +
               quote(p.ca_certificate) + " -untrusted " + quote(p.intermediate_certificate) + " " +
               quote(p.server_certificate));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  auto third = ensure_dev_pki(dir.path(), pass(), kDns, kIps, kFast);
  ASSERT_TRUE(third);
  EXPECT_FALSE(third->server_reissued);
}

TEST(PkiDevPki, MissingServerFilesAreReissued) {
  TempDir dir;
  ASSERT_TRUE(ensure_dev_pki(dir.path(), pass(), kDns, kIps, kFast));
  std::filesystem::remove(dir / "tls" / "server.key");
  auto second = ensure_dev_pki(dir.path(), pass(), kDns, kIps, kFast);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_TRUE(second->server_reissued);
  EXPECT_FALSE(second->created);
  EXPECT_TRUE(std::filesystem::exists(dir / "tls" / "server.key"));
}

TEST(PkiDevPki, WrongPassphraseIsAnError) {
  TempDir dir;
  ASSERT_TRUE(ensure_dev_pki(dir.path(), pass(), kDns, kIps, kFast));
  const auto before = snapshot(dir / "tls");
  auto second = ensure_dev_pki(dir.path(), Secret::copy_of("other"), kDns, kIps, kFast);
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find("wrong passphrase"), std::string::npos)
      << second.error().message;
  EXPECT_EQ(snapshot(dir / "tls"), before);
}

TEST(PkiDevPki, LooseKeyModeIsAnError) {
  TempDir dir;
  ASSERT_TRUE(ensure_dev_pki(dir.path(), pass(), kDns, kIps, kFast));
  ASSERT_EQ(::chmod((dir / "tls" / "server.key").c_str(), 0644), 0);
  auto second = ensure_dev_pki(dir.path(), pass(), kDns, kIps, kFast);
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find("mode 0644"), std::string::npos) << second.error().message;
}

TEST(PkiDevPki, IncompleteCaIsReportedNotReplaced) {
  TempDir dir;
  ASSERT_TRUE(ensure_dev_pki(dir.path(), pass(), kDns, kIps, kFast));
  std::filesystem::remove(dir / "tls" / "intermediate.key");
  const auto before = snapshot(dir / "tls");
  auto second = ensure_dev_pki(dir.path(), pass(), kDns, kIps, kFast);
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find("incomplete"), std::string::npos);
  EXPECT_NE(second.error().message.find("intermediate.key"), std::string::npos);
  EXPECT_EQ(snapshot(dir / "tls"), before);
}

TEST(PkiDevPki, NeedsAName) {
  TempDir dir;
  EXPECT_FALSE(ensure_dev_pki(dir.path(), pass(), {}, {}, kFast));
  auto bad = ensure_dev_pki(dir.path(), pass(), {"bad name"}, {}, kFast);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("bad name"), std::string::npos);
}

}  // namespace
}  // namespace idra::pki
