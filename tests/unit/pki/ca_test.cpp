// Certificate issuance, checked in-process and with the openssl CLI.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "idra/pki.hpp"
#include "unit/pki/test_util.hpp"

namespace idra::pki {
namespace {

using namespace test;  // the helpers of test_util.hpp
using std::chrono::hours;
using std::chrono::seconds;

CertificateAuthority make_root(KeyAlgorithm alg = KeyAlgorithm::kEcP256) {
  return test::make_root("Test Root", alg, "pki");
}

CertificateAuthority make_intermediate(const CertificateAuthority& root,
                                       KeyAlgorithm alg = KeyAlgorithm::kEcP256) {
  return test::make_intermediate(root, "Test Issuing CA", alg, 5 * kYear);
}

LeafRequest server_request() {
  LeafRequest r;
  r.kind = LeafKind::kServer;
  r.subject = {"localhost", "idra tests", ""};
  r.names.dns_names = {"localhost", "Node1.Example.COM"};
  r.names.ip_addresses = {"127.0.0.1", "::1"};
  r.validity = kYear;
  return r;
}

LeafRequest client_request() {
  LeafRequest r;
  r.kind = LeafKind::kClient;
  r.subject = {"device 42", "", ""};
  r.names.uris = {"urn:idra:device:42", "https://id.example.com/device/42"};
  r.names.emails = {"ops@Example.com"};
  r.validity = kYear;
  return r;
}

// openssl_verify runs the CLI on PEM files written into |dir|.
test::CommandResult openssl_verify(const TempDir& dir, const X509& root, const X509& inter,
                                   const X509& leaf, const std::string& extra = "") {
  write_text(dir / "root.pem", to_pem(root));
  write_text(dir / "intermediate.pem", to_pem(inter));
  write_text(dir / "leaf.pem", to_pem(leaf));
  return run(std::string(kOpenssl) + " verify -x509_strict " + extra + " -CAfile " +
             quote(dir / "root.pem") + " -untrusted " + quote(dir / "intermediate.pem") + " " +
             quote(dir / "leaf.pem"));
}

const X509_EXTENSION* extension(const X509& x, int nid) {
  int i = X509_get_ext_by_NID(&x, nid, -1);
  return i < 0 ? nullptr : X509_get_ext(&x, i);
}

std::string octets(const ASN1_OCTET_STRING* s) {
  return s ? std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                         static_cast<std::size_t>(ASN1_STRING_length(s)))
           : std::string();
}

// ---------------------------------------------------------------------------

struct ChainCase {
  const char* name;
  KeyAlgorithm root, inter, leaf;
  int expected_sig_nid;  // of the leaf, signed by |inter|
  friend void PrintTo(const ChainCase& c, std::ostream* os) { *os << c.name; }
};

class PkiChain : public testing::TestWithParam<ChainCase> {};

TEST_P(PkiChain, ServerChainPassesOpensslVerifyStrict) {
  const ChainCase& c = GetParam();
  CertificateAuthority root = make_root(c.root);
  CertificateAuthority inter = make_intermediate(root, c.inter);
  EvpPkeyPtr leaf_key = make_key(c.leaf);
  auto leaf = inter.issue_leaf(*leaf_key, server_request());
  ASSERT_TRUE(leaf) << leaf.error().message;
  EXPECT_EQ(X509_get_signature_nid(leaf->get()), c.expected_sig_nid);

  TempDir dir;
  auto r = openssl_verify(dir, root.certificate(), inter.certificate(), **leaf,
                          "-purpose sslserver -verify_hostname node1.example.com");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("leaf.pem: OK"), std::string::npos) << r.output;
  auto ip = openssl_verify(dir, root.certificate(), inter.certificate(), **leaf,
                           "-purpose sslserver -verify_ip ::1");
  EXPECT_EQ(ip.exit_code, 0) << ip.output;

  const X509* inters[] = {&inter.certificate()};
  auto ok = verify_chain(root.certificate(), inters, **leaf);
  EXPECT_TRUE(ok) << ok.error().message;
}

TEST_P(PkiChain, ClientChainPassesOpensslVerifyStrict) {
  const ChainCase& c = GetParam();
  CertificateAuthority root = make_root(c.root);
  CertificateAuthority inter = make_intermediate(root, c.inter);
  EvpPkeyPtr leaf_key = make_key(c.leaf);
  auto leaf = inter.issue_leaf(*leaf_key, client_request());
  ASSERT_TRUE(leaf) << leaf.error().message;
  TempDir dir;
  auto r =
      openssl_verify(dir, root.certificate(), inter.certificate(), **leaf, "-purpose sslclient");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("leaf.pem: OK"), std::string::npos) << r.output;
}

INSTANTIATE_TEST_SUITE_P(
    Algorithms, PkiChain,
    testing::Values(ChainCase{"P256", KeyAlgorithm::kEcP256, KeyAlgorithm::kEcP256,
                              KeyAlgorithm::kEcP256, NID_ecdsa_with_SHA256},
                    ChainCase{"P384", KeyAlgorithm::kEcP384, KeyAlgorithm::kEcP384,
                              KeyAlgorithm::kEcP384, NID_ecdsa_with_SHA384},
                    ChainCase{"Ed25519", KeyAlgorithm::kEd25519, KeyAlgorithm::kEd25519,
                              KeyAlgorithm::kEd25519, NID_ED25519},
                    ChainCase{"Rsa", KeyAlgorithm::kRsa, KeyAlgorithm::kRsa, KeyAlgorithm::kRsa,
                              NID_sha256WithRSAEncryption},
                    ChainCase{"Mixed", KeyAlgorithm::kEcP384, KeyAlgorithm::kRsa,
                              KeyAlgorithm::kEd25519, NID_sha256WithRSAEncryption},
                    ChainCase{"MixedEc", KeyAlgorithm::kEd25519, KeyAlgorithm::kEcP256,
                              KeyAlgorithm::kRsa, NID_ecdsa_with_SHA256}),
    [](const testing::TestParamInfo<ChainCase>& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------------------

TEST(PkiCa, RootExtensions) {
  CertificateAuthority root = make_root();
  X509* x = const_cast<X509*>(&root.certificate());
  EXPECT_EQ(X509_get_version(x), X509_VERSION_3);
  const X509_EXTENSION* bc = extension(*x, NID_basic_constraints);
  ASSERT_NE(bc, nullptr);
  EXPECT_EQ(X509_EXTENSION_get_critical(bc), 1);
  EXPECT_NE(X509_check_ca(x), 0);
  EXPECT_EQ(X509_get_pathlen(x), -1);
  const X509_EXTENSION* ku = extension(*x, NID_key_usage);
  ASSERT_NE(ku, nullptr);
  EXPECT_EQ(X509_EXTENSION_get_critical(ku), 1);
  EXPECT_EQ(X509_get_key_usage(x), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  ASSERT_NE(X509_get0_subject_key_id(x), nullptr);
  ASSERT_NE(X509_get0_authority_key_id(x), nullptr);
  EXPECT_EQ(octets(X509_get0_subject_key_id(x)), octets(X509_get0_authority_key_id(x)));
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)), 0);
  char buf[256];
  X509_NAME_oneline(X509_get_subject_name(x), buf, sizeof buf);
  EXPECT_STREQ(buf, "/O=idra tests/OU=pki/CN=Test Root");
}

TEST(PkiCa, IntermediateHasPathLenZeroAndCannotIssueCas) {
  CertificateAuthority root = make_root();
  CertificateAuthority inter = make_intermediate(root);
  X509* x = const_cast<X509*>(&inter.certificate());
  EXPECT_EQ(X509_get_pathlen(x), 0);
  EXPECT_EQ(X509_get_key_usage(x), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  EXPECT_EQ(octets(X509_get0_authority_key_id(x)),
            octets(X509_get0_subject_key_id(const_cast<X509*>(&root.certificate()))));
  auto sub = inter.issue_intermediate(make_key(KeyAlgorithm::kEcP256), {"nope", "", ""}, kYear);
  ASSERT_FALSE(sub);
  EXPECT_NE(sub.error().message.find("pathlen:0"), std::string::npos);
}

TEST(PkiCa, LeafExtensions) {
  CertificateAuthority root = make_root();
  CertificateAuthority inter = make_intermediate(root);
  for (KeyAlgorithm alg : {KeyAlgorithm::kEcP256, KeyAlgorithm::kRsa}) {
    EvpPkeyPtr key = make_key(alg);
    auto leaf = inter.issue_leaf(*key, server_request());
    ASSERT_TRUE(leaf) << leaf.error().message;
    X509* x = leaf->get();
    EXPECT_EQ(X509_check_ca(x), 0);
    const uint32_t want_ku = alg == KeyAlgorithm::kRsa
                                 ? static_cast<uint32_t>(KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT)
                                 : static_cast<uint32_t>(KU_DIGITAL_SIGNATURE);
    EXPECT_EQ(X509_get_key_usage(x), want_ku) << to_string(alg);
    EXPECT_EQ(X509_EXTENSION_get_critical(extension(*x, NID_key_usage)), 1);
    EXPECT_EQ(X509_get_extended_key_usage(x), static_cast<uint32_t>(XKU_SSL_SERVER));
    EXPECT_EQ(X509_EXTENSION_get_critical(extension(*x, NID_subject_alt_name)), 0);
    EXPECT_EQ(octets(X509_get0_authority_key_id(x)),
              octets(X509_get0_subject_key_id(const_cast<X509*>(&inter.certificate()))));
    EXPECT_EQ(X509_check_private_key(x, key.get()), 1);
    SubjectAltNames names = subject_alt_names(*x);
    EXPECT_EQ(names.dns_names, (std::vector<std::string>{"localhost", "node1.example.com"}));
    EXPECT_EQ(names.ip_addresses, (std::vector<std::string>{"127.0.0.1", "::1"}));
    EXPECT_TRUE(names.uris.empty());
  }
  EvpPkeyPtr key = make_key(KeyAlgorithm::kEcP256);
  auto client = inter.issue_leaf(*key, client_request());
  ASSERT_TRUE(client) << client.error().message;
  EXPECT_EQ(X509_get_extended_key_usage(client->get()), static_cast<uint32_t>(XKU_SSL_CLIENT));
  SubjectAltNames names = subject_alt_names(**client);
  EXPECT_EQ(names.uris, client_request().names.uris);
  EXPECT_EQ(names.emails, (std::vector<std::string>{"ops@example.com"}));
}

TEST(PkiCa, SerialsAreSixteenPositiveBytesAndDiffer) {
  CertificateAuthority root = make_root();
  CertificateAuthority inter = make_intermediate(root);
  EvpPkeyPtr key = make_key(KeyAlgorithm::kEcP256);
  std::set<std::string> seen;
  std::vector<const X509*> certs = {&root.certificate(), &inter.certificate()};
  std::vector<X509Ptr> leaves;
  for (int i = 0; i < 32; ++i) {
    auto leaf = inter.issue_leaf(*key, server_request());
    ASSERT_TRUE(leaf);
    leaves.push_back(std::move(*leaf));
    certs.push_back(leaves.back().get());
  }
  for (const X509* x : certs) {
    const ASN1_INTEGER* serial = X509_get0_serialNumber(x);
    EXPECT_EQ(ASN1_STRING_type(serial), V_ASN1_INTEGER) << "negative serial";
    ASSERT_EQ(ASN1_STRING_length(serial), 16);
    const unsigned char* bytes = ASN1_STRING_get0_data(serial);
    EXPECT_NE(bytes[0], 0);
    EXPECT_LT(bytes[0], 0x80);
    EXPECT_EQ(serial_hex(*x).size(), 32u);
    seen.insert(serial_hex(*x));
  }
  EXPECT_EQ(seen.size(), certs.size());
}

TEST(PkiCa, ValidityIsBackdatedAndClippedToTheIssuer) {
  CertificateAuthority root = make_root();
  auto inter = root.issue_intermediate(make_key(KeyAlgorithm::kEcP256), {"short", "", ""},
                                       seconds{hours{48}});
  ASSERT_TRUE(inter) << inter.error().message;
  int days = 0;
  int secs = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(&inter->certificate()), nullptr), 1);
  const long long backdate = days * 86400LL + secs;
  EXPECT_GE(backdate, 300);
  EXPECT_LE(backdate, 330);
  const long long left = seconds_until_expiry(inter->certificate()).count();
  EXPECT_GT(left, 48 * 3600 - 30);
  EXPECT_LE(left, 48 * 3600);

  EvpPkeyPtr key = make_key(KeyAlgorithm::kEcP256);
  auto leaf = inter->issue_leaf(*key, server_request());  // asks for a year
  ASSERT_TRUE(leaf);
  EXPECT_EQ(
      ASN1_TIME_compare(X509_get0_notAfter(leaf->get()), X509_get0_notAfter(&inter->certificate())),
      0);
  LeafRequest bad = server_request();
  bad.validity = seconds{0};
  EXPECT_FALSE(inter->issue_leaf(*key, bad));
}

TEST(PkiCa, EmptySubjectMakesSanCritical) {
  CertificateAuthority root = make_root();
  CertificateAuthority inter = make_intermediate(root);
  EvpPkeyPtr key = make_key(KeyAlgorithm::kEcP256);
  LeafRequest r = client_request();
  r.subject = {};
  auto leaf = inter.issue_leaf(*key, r);
  ASSERT_TRUE(leaf) << leaf.error().message;
  EXPECT_EQ(X509_NAME_entry_count(X509_get_subject_name(leaf->get())), 0);
  EXPECT_EQ(X509_EXTENSION_get_critical(extension(**leaf, NID_subject_alt_name)), 1);
  TempDir dir;
  auto v = openssl_verify(dir, root.certificate(), inter.certificate(), **leaf);
  EXPECT_EQ(v.exit_code, 0) << v.output;
}

TEST(PkiCa, RejectsBadNames) {
  CertificateAuthority root = make_root();
  CertificateAuthority inter = make_intermediate(root);
  EvpPkeyPtr key = make_key(KeyAlgorithm::kEcP256);
  auto with_dns = [](std::string name) {
    LeafRequest r = server_request();
    r.names = {};
    r.names.dns_names = {std::move(name)};
    return r;
  };
  for (const char* dns :
       {"", "exa mple.com", "a.com,DNS:evil.com", "-bad.example", "bad-.example", "a..b", "*.com",
        "x.*.example.com", "under_score.example", "10.0.0.1", "trailing.dot."}) {
    auto leaf = inter.issue_leaf(*key, with_dns(dns));
    EXPECT_FALSE(leaf) << "accepted DNS name \"" << dns << "\"";
  }
  EXPECT_TRUE(inter.issue_leaf(*key, with_dns("*.example.com")));
  EXPECT_TRUE(inter.issue_leaf(*key, with_dns(std::string(63, 'a') + ".example")));
  EXPECT_FALSE(inter.issue_leaf(*key, with_dns(std::string(64, 'a') + ".example")));

  LeafRequest r = server_request();
  r.names.ip_addresses = {"1.2.3"};
  EXPECT_FALSE(inter.issue_leaf(*key, r));
  r = client_request();
  r.names.uris = {"no-scheme"};
  EXPECT_FALSE(inter.issue_leaf(*key, r));
  r.names.uris = {"urn:with space"};
  EXPECT_FALSE(inter.issue_leaf(*key, r));
  r = client_request();
  r.names.emails = {"a@b@example.com"};
  EXPECT_FALSE(inter.issue_leaf(*key, r));
  r.names.emails = {"@example.com"};
  EXPECT_FALSE(inter.issue_leaf(*key, r));

  LeafRequest none = server_request();
  none.names = {};
  auto leaf = inter.issue_leaf(*key, none);
  ASSERT_FALSE(leaf);
  EXPECT_NE(leaf.error().message.find("DNS name or IP"), std::string::npos);
  none.kind = LeafKind::kClient;
  EXPECT_FALSE(inter.issue_leaf(*key, none));
  LeafRequest uri_server = server_request();
  uri_server.names.dns_names.clear();
  uri_server.names.ip_addresses.clear();
  uri_server.names.uris = {"spiffe://example.org/server"};
  EXPECT_FALSE(inter.issue_leaf(*key, uri_server));

  LeafRequest long_cn = server_request();
  long_cn.subject.common_name = std::string(65, 'x');
  EXPECT_FALSE(inter.issue_leaf(*key, long_cn));
  LeafRequest ctrl = server_request();
  ctrl.subject.organization = "evil\n";
  EXPECT_FALSE(inter.issue_leaf(*key, ctrl));
  LeafRequest bad_utf8 = server_request();
  bad_utf8.subject.common_name = "\xff\xfe";
  EXPECT_FALSE(inter.issue_leaf(*key, bad_utf8));
  LeafRequest utf8 = server_request();
  utf8.subject.common_name = "Gerät 7";
  EXPECT_TRUE(inter.issue_leaf(*key, utf8));
}

TEST(PkiCa, OpenChecksKeyAndCaFlag) {
  CertificateAuthority root = make_root();
  CertificateAuthority inter = make_intermediate(root);
  auto mismatched = CertificateAuthority::open(up_ref(root.certificate()), up_ref(inter.key()));
  ASSERT_FALSE(mismatched);
  EXPECT_NE(mismatched.error().message.find("does not match"), std::string::npos);
  EvpPkeyPtr key = make_key(KeyAlgorithm::kEcP256);
  auto leaf = inter.issue_leaf(*key, server_request());
  ASSERT_TRUE(leaf);
  auto not_ca = CertificateAuthority::open(std::move(*leaf), std::move(key));
  ASSERT_FALSE(not_ca);
  EXPECT_NE(not_ca.error().message.find("not a CA"), std::string::npos);
  auto reopened = CertificateAuthority::open(up_ref(inter.certificate()), up_ref(inter.key()));
  ASSERT_TRUE(reopened) << reopened.error().message;
  EvpPkeyPtr k2 = make_key(KeyAlgorithm::kEcP256);
  EXPECT_TRUE(reopened->issue_leaf(*k2, server_request()));
}

TEST(PkiCa, VerifyChainRejectsTheWrongRoot) {
  CertificateAuthority root = make_root();
  CertificateAuthority other = make_root();
  CertificateAuthority inter = make_intermediate(root);
  EvpPkeyPtr key = make_key(KeyAlgorithm::kEcP256);
  auto leaf = inter.issue_leaf(*key, server_request());
  ASSERT_TRUE(leaf);
  const X509* inters[] = {&inter.certificate()};
  auto bad = verify_chain(other.certificate(), inters, **leaf);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("does not verify"), std::string::npos);
  EXPECT_FALSE(verify_chain(root.certificate(), {}, **leaf));  // intermediate missing

  TempDir dir;
  auto cli = openssl_verify(dir, other.certificate(), inter.certificate(), **leaf);
  EXPECT_NE(cli.exit_code, 0) << cli.output;
  EXPECT_NE(cli.exit_code, 127) << "openssl CLI missing: " << cli.output;
}

// ---------------------------------------------------------------------------
// Encodings.

TEST(PkiEncoding, PemAndDerRoundTrip) {
  CertificateAuthority root = make_root();
  CertificateAuthority inter = make_intermediate(root);
  std::string pem = to_pem(inter.certificate()) + to_pem(root.certificate());
  auto certs = certificates_from_pem(pem);
  ASSERT_TRUE(certs) << certs.error().message;
  ASSERT_EQ(certs->size(), 2u);
  EXPECT_EQ(X509_cmp(certs->at(0).get(), &inter.certificate()), 0);
  EXPECT_EQ(X509_cmp(certs->at(1).get(), &root.certificate()), 0);
  std::vector<unsigned char> der = to_der(root.certificate());
  auto back = certificate_from_der(der);
  ASSERT_TRUE(back);
  EXPECT_EQ(X509_cmp(back->get(), &root.certificate()), 0);
  der.push_back(0);
  EXPECT_FALSE(certificate_from_der(der));
  EXPECT_FALSE(certificates_from_pem(""));
  EXPECT_FALSE(certificates_from_pem("garbage"));
  std::string damaged = to_pem(root.certificate());
  damaged[40] = '!';
  EXPECT_FALSE(certificates_from_pem(damaged));
}

TEST(PkiEncoding, FingerprintMatchesTheOpensslCli) {
  CertificateAuthority root = make_root();
  std::string fp = sha256_fingerprint_hex(root.certificate());
  EXPECT_EQ(fp.size(), 64u);
  TempDir dir;
  write_text(dir / "root.pem", to_pem(root.certificate()));
  auto r = run(std::string(kOpenssl) + " x509 -noout -fingerprint -sha256 -in " +
               quote(dir / "root.pem"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string cli;
  for (char c : r.output.substr(r.output.find('=') + 1)) {
    if (std::isxdigit(static_cast<unsigned char>(c))) {
      cli.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  EXPECT_EQ(fp, cli);
}

}  // namespace
}  // namespace idra::pki
