// The CA's files: init_ca, open_issuing_ca with its OCSP signer, offline
// roots (export_root_key), and ensure_dev_pki with an offline root.
#include <gtest/gtest.h>

#include <string>

#include "idra/pki.hpp"
#include "unit/pki/test_util.hpp"

namespace idra::pki {
namespace {

using namespace test;  // the helpers of test_util.hpp
using std::chrono::hours;

const IssueUrls kUrls{"http://127.0.0.1:8080/crl/intermediate.crl", "http://127.0.0.1:8080/ocsp"};

Secret pass() { return Secret::copy_of("ca passphrase"); }

Profile ocsp_profile() {
  for (auto& p : builtin_profiles()) {
    if (p.name == "ocsp") return p;
  }
  throw std::runtime_error("no ocsp profile");
}

TEST(PkiCaFiles, InitCaCreatesTheFilesAndRefusesToOverwrite) {
  TempDir dir;
  const auto data = dir / "data";
  CaInitOptions options;
  options.algorithm = KeyAlgorithm::kEcP384;
  ASSERT_TRUE(init_ca(data, pass(), options, kFast));
  const auto tls = data / "tls";
  EXPECT_EQ(file_mode(tls), 0700u);
  EXPECT_EQ(file_mode(tls / "root.key"), 0600u);
  EXPECT_EQ(file_mode(tls / "intermediate.key"), 0600u);
  EXPECT_EQ(file_mode(tls / "ca.pem"), 0644u);
  EXPECT_EQ(file_mode(tls / "intermediate.pem"), 0644u);
  auto r = run(std::string(kOpenssl) + " verify -x509_strict -CAfile " + quote(tls / "ca.pem") +
               " " + quote(tls / "intermediate.pem"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  auto root = load_certificates(tls / "ca.pem");
  ASSERT_TRUE(root);
  char cn[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(root->at(0).get()), NID_commonName, cn,
                            sizeof cn);
  EXPECT_STREQ(cn, "idra root CA");
  auto root_key = load_private_key(tls / "root.key", pass());
  ASSERT_TRUE(root_key) << root_key.error().message;
  EXPECT_EQ(key_algorithm(**root_key).value(), KeyAlgorithm::kEcP384);

  const std::string before = read_text(tls / "root.key");
  auto again = init_ca(data, pass(), options, kFast);
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("refusing to overwrite"), std::string::npos)
      << again.error().message;
  EXPECT_EQ(read_text(tls / "root.key"), before);
  // Even one leftover file is enough to refuse.
  std::filesystem::remove(tls / "ca.pem");
  std::filesystem::remove(tls / "intermediate.pem");
  std::filesystem::remove(tls / "intermediate.key");
  auto partial = init_ca(data, pass(), options, kFast);
  ASSERT_FALSE(partial);
  EXPECT_NE(partial.error().message.find("root.key"), std::string::npos);
}

TEST(PkiCaFiles, OpenIssuingCaCreatesThenReusesTheOcspSigner) {
  TempDir dir;
  ASSERT_TRUE(init_ca(dir.path(), pass(), CaInitOptions{}, kFast));
  auto ca = open_issuing_ca(dir.path(), pass(), ocsp_profile(), kUrls, kFast);
  ASSERT_TRUE(ca) << ca.error().message;
  const auto tls = dir / "tls";
  EXPECT_EQ(file_mode(tls / "ocsp.key"), 0600u);
  ASSERT_TRUE(ca->ocsp_signer && ca->ocsp_key && ca->root);
  EXPECT_EQ(X509_check_private_key(ca->ocsp_signer.get(), ca->ocsp_key.get()), 1);
  EXPECT_EQ(X509_get_extended_key_usage(ca->ocsp_signer.get()),
            static_cast<uint32_t>(XKU_OCSP_SIGN));
  EXPECT_GE(X509_get_ext_by_NID(ca->ocsp_signer.get(), NID_id_pkix_OCSP_noCheck, -1), 0);
  char cn[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(ca->ocsp_signer.get()), NID_commonName, cn,
                            sizeof cn);
  EXPECT_STREQ(cn, "idra OCSP responder");
  const X509* chain[] = {&ca->issuer.certificate()};
  EXPECT_TRUE(verify_chain(*ca->root, chain, *ca->ocsp_signer));
  auto r = run(std::string(kOpenssl) + " verify -x509_strict -CAfile " + quote(tls / "ca.pem") +
               " -untrusted " + quote(tls / "intermediate.pem") + " " + quote(tls / "ocsp.pem"));
  EXPECT_EQ(r.exit_code, 0) << r.output;

  const std::string signer_pem = read_text(tls / "ocsp.pem");
  auto second = open_issuing_ca(dir.path(), pass(), ocsp_profile(), kUrls, kFast);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(sha256_fingerprint_hex(*second->ocsp_signer), sha256_fingerprint_hex(*ca->ocsp_signer));
  EXPECT_EQ(read_text(tls / "ocsp.pem"), signer_pem);

  // A damaged signer certificate is replaced; a wrong passphrase is an error.
  test::write_text(tls / "ocsp.pem", "garbage");
  auto third = open_issuing_ca(dir.path(), pass(), ocsp_profile(), kUrls, kFast);
  ASSERT_TRUE(third) << third.error().message;
  EXPECT_NE(sha256_fingerprint_hex(*third->ocsp_signer), sha256_fingerprint_hex(*ca->ocsp_signer));
  auto wrong = open_issuing_ca(dir.path(), Secret::copy_of("other"), ocsp_profile(), kUrls, kFast);
  EXPECT_FALSE(wrong);

  // A profile that cannot sign OCSP responses is refused.
  Profile not_ocsp = ocsp_profile();
  not_ocsp.extended_key_usage = {"clientAuth"};
  std::filesystem::remove(tls / "ocsp.pem");
  auto refused = open_issuing_ca(dir.path(), pass(), not_ocsp, kUrls, kFast);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("OCSPSigning"), std::string::npos);
}

TEST(PkiCaFiles, MissingCaIsAnError) {
  TempDir dir;
  auto ca = open_issuing_ca(dir.path(), pass(), ocsp_profile(), kUrls, kFast);
  ASSERT_FALSE(ca);
  EXPECT_NE(ca.error().message.find("intermediate.pem"), std::string::npos) << ca.error().message;
}

TEST(PkiCaFiles, ExportRootKeyThenRunWithAnOfflineRoot) {
  TempDir dir;
  const auto data = dir / "data";
  ASSERT_TRUE(init_ca(data, pass(), CaInitOptions{}, kFast));
  const auto tls = data / "tls";
  const std::string key_text = read_text(tls / "root.key");

  // Copy only.
  ASSERT_TRUE(export_root_key(data, dir / "copy.key", false));
  EXPECT_EQ(read_text(dir / "copy.key"), key_text);
  EXPECT_EQ(file_mode(dir / "copy.key"), 0600u);
  EXPECT_TRUE(std::filesystem::exists(tls / "root.key"));
  // Never overwrites.
  auto twice = export_root_key(data, dir / "copy.key", true);
  EXPECT_FALSE(twice);
  EXPECT_TRUE(std::filesystem::exists(tls / "root.key"));

  // Take it offline.
  ASSERT_TRUE(export_root_key(data, dir / "offline.key", true));
  EXPECT_FALSE(std::filesystem::exists(tls / "root.key"));
  EXPECT_EQ(read_text(dir / "offline.key"), key_text);
  auto offline_key = load_private_key(dir / "offline.key", pass());
  ASSERT_TRUE(offline_key) << offline_key.error().message;
  auto gone = export_root_key(data, dir / "again.key", true);
  ASSERT_FALSE(gone);
  EXPECT_NE(gone.error().message.find("no root key"), std::string::npos);

  auto ca = open_issuing_ca(data, pass(), ocsp_profile(), kUrls, kFast);
  ASSERT_TRUE(ca) << ca.error().message;
  EXPECT_TRUE(ca->ocsp_signer);
}

TEST(PkiCaFiles, OfflineRootWithAnExpiringIntermediateIsAClearError) {
  TempDir dir;
  CaInitOptions options;
  options.intermediate_validity = hours{24 * 10};  // inside kDevRenewBefore
  ASSERT_TRUE(init_ca(dir.path(), pass(), options, kFast));
  const auto tls = dir / "tls";
  ASSERT_TRUE(export_root_key(dir.path(), dir / "offline.key", true));
  const std::string inter_pem = read_text(tls / "intermediate.pem");

  auto ca = open_issuing_ca(dir.path(), pass(), ocsp_profile(), kUrls, kFast);
  ASSERT_FALSE(ca);
  const std::string& m = ca.error().message;
  EXPECT_NE(m.find("root key is offline"), std::string::npos) << m;
  EXPECT_NE(m.find("root.key"), std::string::npos) << m;
  EXPECT_NE(m.find("copy the exported root key back"), std::string::npos) << m;
  EXPECT_EQ(read_text(tls / "intermediate.pem"), inter_pem);

  // Bringing the key back renews the intermediate under the same root.
  std::filesystem::copy_file(dir / "offline.key", tls / "root.key");
  std::filesystem::permissions(
      tls / "root.key", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto renewed = open_issuing_ca(dir.path(), pass(), ocsp_profile(), kUrls, kFast);
  ASSERT_TRUE(renewed) << renewed.error().message;
  EXPECT_GT(seconds_until_expiry(renewed->issuer.certificate()), kDevRenewBefore);
  EXPECT_NE(read_text(tls / "intermediate.pem"), inter_pem);
  const X509* chain[] = {&renewed->issuer.certificate()};
  EXPECT_TRUE(verify_chain(*renewed->root, chain, *renewed->ocsp_signer));
  EXPECT_EQ(X509_check_issued(const_cast<X509*>(&renewed->issuer.certificate()),
                              renewed->ocsp_signer.get()),
            X509_V_OK);
}

TEST(PkiCaFiles, DevPkiRunsWithAnOfflineRoot) {
  TempDir dir;
  const std::vector<std::string> dns = {"localhost"};
  auto first = ensure_dev_pki(dir.path(), pass(), dns, {}, kFast);
  ASSERT_TRUE(first) << first.error().message;
  ASSERT_TRUE(export_root_key(dir.path(), dir / "offline.key", true));
  auto second = ensure_dev_pki(dir.path(), pass(), dns, {}, kFast);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_FALSE(second->server_reissued);
  // A new server name needs only the intermediate.
  auto third = ensure_dev_pki(dir.path(), pass(), {"node.example"}, {}, kFast);
  ASSERT_TRUE(third) << third.error().message;
  EXPECT_TRUE(third->server_reissued);

  // An intermediate that needs renewal cannot be renewed without the root.
  auto short_key = generate_key();
  ASSERT_TRUE(short_key);
  auto offline = load_private_key(dir / "offline.key", pass());
  auto roots = load_certificates(dir / "tls" / "ca.pem");
  ASSERT_TRUE(offline && roots);
  auto root = CertificateAuthority::open(std::move(roots->front()), std::move(*offline));
  ASSERT_TRUE(root) << root.error().message;
  auto short_inter =
      root->issue_intermediate(std::move(*short_key), {"short", "", ""}, hours{24 * 5});
  ASSERT_TRUE(short_inter);
  ASSERT_TRUE(write_private_key(dir / "tls" / "intermediate.key", short_inter->key(), pass(),
                                WriteMode::kReplace, kFast));
  ASSERT_TRUE(write_file_atomic(dir / "tls" / "intermediate.pem",
                                to_pem(short_inter->certificate()), 0644, WriteMode::kReplace));
  auto fourth = ensure_dev_pki(dir.path(), pass(), {"node.example"}, {}, kFast);
  ASSERT_FALSE(fourth);
  EXPECT_NE(fourth.error().message.find("root key is offline"), std::string::npos)
      << fourth.error().message;
}

TEST(PkiCaFiles, DevPkiBadNameLeavesNoCaBehind) {
  TempDir dir;
  auto bad = ensure_dev_pki(dir.path(), pass(), {"bad name"}, {}, kFast);
  ASSERT_FALSE(bad);
  EXPECT_FALSE(std::filesystem::exists(dir / "tls" / "ca.pem"));
  EXPECT_FALSE(std::filesystem::exists(dir / "tls" / "root.key"));
  auto good = ensure_dev_pki(dir.path(), pass(), {"localhost"}, {}, kFast);
  ASSERT_TRUE(good) << good.error().message;
  EXPECT_TRUE(good->created);
}

}  // namespace
}  // namespace idra::pki
