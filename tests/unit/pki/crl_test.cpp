// CRLs: parsed back in-process and checked with the openssl CLI.
#include <gtest/gtest.h>
#include <openssl/pem.h>

#include <ctime>
#include <string>

#include "idra/pki.hpp"
#include "unit/pki/test_util.hpp"

namespace idra::pki {
namespace {

using namespace test;  // the helpers of test_util.hpp
using std::chrono::hours;
using std::chrono::seconds;

std::vector<unsigned char> serial_of(const X509& x) {
  BignumPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(&x), nullptr));
  std::vector<unsigned char> out(static_cast<std::size_t>(BN_num_bytes(bn.get())));
  BN_bn2bin(bn.get(), out.data());
  return out;
}

X509CrlPtr parse(const std::vector<unsigned char>& der) {
  const unsigned char* p = der.data();
  X509CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
  EXPECT_TRUE(crl);
  EXPECT_EQ(p, der.data() + der.size());
  return crl;
}

std::string crl_pem(const X509_CRL& crl) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_CRL(bio.get(), const_cast<X509_CRL*>(&crl));
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::int64_t unix_time(const ASN1_TIME* t) {
  struct tm tm {};
  EXPECT_EQ(ASN1_TIME_to_tm(t, &tm), 1);
  return static_cast<std::int64_t>(timegm(&tm));
}

TEST(PkiCrl, ReasonNamesRoundTrip) {
  for (int code : {0, 1, 2, 3, 4, 5, 9, 10}) {
    std::string_view name = crl_reason_name(code);
    ASSERT_FALSE(name.empty()) << code;
    EXPECT_EQ(crl_reason_from_name(name), code) << name;
  }
  EXPECT_EQ(crl_reason_from_name("keyCompromise"), 1);
  EXPECT_EQ(crl_reason_from_name("aACompromise"), 10);
}

TEST(PkiCrl, BadReasonNamesAndCodes) {
  for (const char* bad : {"", "certificateHold", "removeFromCRL", "KeyCompromise", "keycompromise",
                          " keyCompromise", "keyCompromise\n", "1"}) {
    EXPECT_FALSE(crl_reason_from_name(bad).has_value()) << bad;
  }
  for (int bad : {-1, 6, 7, 8, 11, 1000}) EXPECT_TRUE(crl_reason_name(bad).empty()) << bad;
}

TEST(PkiCrl, FieldsEntriesAndSignature) {
  CertificateAuthority root = make_root("CRL Root");
  CertificateAuthority inter = make_intermediate(root, "CRL Issuing CA");
  const std::int64_t now = 1'700'000'000;
  std::vector<RevokedEntry> revoked = {
      {{0x7f, 0x01, 0x02}, now - 100, 1},  // keyCompromise
      {{0x00, 0x05}, now - 50, 0},         // unspecified, leading zero byte
      {{0x40, 0x00}, now - 10, 4},         // superseded
  };
  auto der = make_crl(inter, revoked, 42, now, hours{24});
  ASSERT_TRUE(der) << der.error().message;
  X509CrlPtr crl = parse(*der);
  ASSERT_TRUE(crl);

  EXPECT_EQ(X509_CRL_get_version(crl.get()), X509_CRL_VERSION_2);
  EXPECT_EQ(
      X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), X509_get_subject_name(&inter.certificate())),
      0);
  EXPECT_EQ(unix_time(X509_CRL_get0_lastUpdate(crl.get())), now);
  EXPECT_EQ(unix_time(X509_CRL_get0_nextUpdate(crl.get())), now + 86400);

  Asn1IntegerPtr number(static_cast<ASN1_INTEGER*>(
      X509_CRL_get_ext_d2i(crl.get(), NID_crl_number, nullptr, nullptr)));
  ASSERT_TRUE(number);
  EXPECT_EQ(ASN1_INTEGER_get(number.get()), 42);

  std::unique_ptr<AUTHORITY_KEYID, detail::Free<&AUTHORITY_KEYID_free>> aki(
      static_cast<AUTHORITY_KEYID*>(
          X509_CRL_get_ext_d2i(crl.get(), NID_authority_key_identifier, nullptr, nullptr)));
  ASSERT_TRUE(aki);
  ASSERT_NE(aki->keyid, nullptr);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(
                aki->keyid, X509_get0_subject_key_id(const_cast<X509*>(&inter.certificate()))),
            0);

  // Sorted by serial: 05 < 4000 < 7f0102; reason only where specified.
  STACK_OF(X509_REVOKED)* entries = X509_CRL_get_REVOKED(crl.get());
  ASSERT_EQ(sk_X509_REVOKED_num(entries), 3);
  const long expected_serials[] = {0x05, 0x4000, 0x7f0102};
  const int expected_reasons[] = {-1, 4, 1};
  const std::int64_t expected_times[] = {now - 50, now - 10, now - 100};
  for (int i = 0; i < 3; ++i) {
    const X509_REVOKED* e = sk_X509_REVOKED_value(entries, i);
    EXPECT_EQ(ASN1_INTEGER_get(X509_REVOKED_get0_serialNumber(e)), expected_serials[i]);
    EXPECT_EQ(unix_time(X509_REVOKED_get0_revocationDate(e)), expected_times[i]);
    int crit = 0;
    std::unique_ptr<ASN1_ENUMERATED, detail::Free<&ASN1_ENUMERATED_free>> reason(
        static_cast<ASN1_ENUMERATED*>(X509_REVOKED_get_ext_d2i(e, NID_crl_reason, &crit, nullptr)));
    if (expected_reasons[i] < 0) {
      EXPECT_FALSE(reason) << i;
    } else {
      ASSERT_TRUE(reason) << i;
      EXPECT_EQ(ASN1_ENUMERATED_get(reason.get()), expected_reasons[i]);
      EXPECT_EQ(crit, 0);
    }
  }

  EXPECT_EQ(X509_CRL_verify(crl.get(), X509_get0_pubkey(&inter.certificate())), 1);
  EXPECT_EQ(X509_CRL_verify(crl.get(), X509_get0_pubkey(&root.certificate())), 0);
  EXPECT_EQ(X509_CRL_get_signature_nid(crl.get()), NID_ecdsa_with_SHA256);
}

TEST(PkiCrl, EmptyCrlIsValid) {
  CertificateAuthority root = make_root("CRL Root");
  auto der = make_crl(root, {}, 1, std::time(nullptr), hours{1});
  ASSERT_TRUE(der) << der.error().message;
  X509CrlPtr crl = parse(*der);
  ASSERT_TRUE(crl);
  // revokedCertificates is left out when empty (RFC 5280 5.1.2.6).
  EXPECT_LE(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl.get())), 0);
  EXPECT_EQ(X509_CRL_verify(crl.get(), X509_get0_pubkey(&root.certificate())), 1);
}

struct DigestCase {
  const char* name;
  KeyAlgorithm alg;
  int sig_nid;
  friend void PrintTo(const DigestCase& c, std::ostream* os) { *os << c.name; }
};

class PkiCrlDigest : public testing::TestWithParam<DigestCase> {};

TEST_P(PkiCrlDigest, SignedAsCertificatesAre) {
  CertificateAuthority root = make_root("CRL Root", GetParam().alg);
  std::vector<RevokedEntry> revoked = {{{0x01}, 1'600'000'000, 5}};
  auto der = make_crl(root, revoked, 7, std::time(nullptr), hours{24});
  ASSERT_TRUE(der) << der.error().message;
  X509CrlPtr crl = parse(*der);
  ASSERT_TRUE(crl);
  EXPECT_EQ(X509_CRL_get_signature_nid(crl.get()), GetParam().sig_nid);
  EXPECT_EQ(X509_CRL_verify(crl.get(), X509_get0_pubkey(&root.certificate())), 1);
}

INSTANTIATE_TEST_SUITE_P(
    Algorithms, PkiCrlDigest,
    testing::Values(DigestCase{"P256", KeyAlgorithm::kEcP256, NID_ecdsa_with_SHA256},
                    DigestCase{"P384", KeyAlgorithm::kEcP384, NID_ecdsa_with_SHA384},
                    DigestCase{"Ed25519", KeyAlgorithm::kEd25519, NID_ED25519},
                    DigestCase{"Rsa", KeyAlgorithm::kRsa, NID_sha256WithRSAEncryption}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(PkiCrl, RejectsBadInput) {
  CertificateAuthority root = make_root("CRL Root");
  const std::int64_t now = std::time(nullptr);
  EXPECT_FALSE(make_crl(root, {}, 1, now, seconds{0}));
  EXPECT_FALSE(make_crl(root, {}, 1, now, seconds{-5}));
  std::vector<RevokedEntry> bad_reason = {{{0x01}, now, 6}};  // certificateHold
  auto r = make_crl(root, bad_reason, 1, now, hours{1});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("reason"), std::string::npos) << r.error().message;
  std::vector<RevokedEntry> empty_serial = {{{}, now, 1}};
  EXPECT_FALSE(make_crl(root, empty_serial, 1, now, hours{1}));
  std::vector<RevokedEntry> zero_serial = {{{0x00, 0x00}, now, 1}};
  EXPECT_FALSE(make_crl(root, zero_serial, 1, now, hours{1}));
  std::vector<RevokedEntry> long_serial = {{std::vector<unsigned char>(21, 0x11), now, 1}};
  EXPECT_FALSE(make_crl(root, long_serial, 1, now, hours{1}));
  std::vector<RevokedEntry> twice = {{{0x00, 0x09}, now, 1}, {{0x09}, now, 4}};
  r = make_crl(root, twice, 1, now, hours{1});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("twice"), std::string::npos) << r.error().message;
}

TEST(PkiCrl, OpensslCliParsesAndRevokes) {
  CertificateAuthority root = make_root("CRL Root");
  CertificateAuthority inter = make_intermediate(root, "CRL Issuing CA");
  X509Ptr bad = make_leaf(inter, LeafKind::kClient, "revoked").cert;
  X509Ptr good = make_leaf(inter, LeafKind::kClient, "good").cert;
  const std::int64_t now = std::time(nullptr);
  std::vector<RevokedEntry> revoked = {{serial_of(*bad), now - 60, 1}};
  auto der = make_crl(inter, revoked, 3, now, hours{24});
  ASSERT_TRUE(der) << der.error().message;

  TempDir dir;
  write_text(dir / "crl.der", std::string(der->begin(), der->end()));
  auto text =
      run(std::string(kOpenssl) + " crl -inform DER -noout -text -in " + quote(dir / "crl.der"));
  ASSERT_EQ(text.exit_code, 0) << text.output;
  EXPECT_NE(text.output.find("Version 2"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("X509v3 CRL Number"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("X509v3 Authority Key Identifier"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("Key Compromise"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find(serial_hex(*bad)), std::string::npos) << text.output;

  X509CrlPtr crl = parse(*der);
  ASSERT_TRUE(crl);
  write_text(dir / "crl.pem", crl_pem(*crl));
  write_text(dir / "root.pem", to_pem(root.certificate()));
  write_text(dir / "intermediate.pem", to_pem(inter.certificate()));
  write_text(dir / "bad.pem", to_pem(*bad));
  write_text(dir / "good.pem", to_pem(*good));
  const std::string verify = std::string(kOpenssl) + " verify -crl_check -CAfile " +
                             quote(dir / "root.pem") + " -untrusted " +
                             quote(dir / "intermediate.pem") + " -CRLfile " +
                             quote(dir / "crl.pem") + " ";
  auto revoked_run = run(verify + quote(dir / "bad.pem"));
  EXPECT_NE(revoked_run.exit_code, 0) << revoked_run.output;
  EXPECT_NE(revoked_run.output.find("certificate revoked"), std::string::npos)
      << revoked_run.output;
  auto good_run = run(verify + quote(dir / "good.pem"));
  EXPECT_EQ(good_run.exit_code, 0) << good_run.output;
  EXPECT_NE(good_run.output.find("good.pem: OK"), std::string::npos) << good_run.output;
}

}  // namespace
}  // namespace idra::pki
