// EST encodings: base64 bodies, certs-only PKCS#7 and CSR attributes, the
// last two also read back by the openssl CLI.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "idra/pki.hpp"
#include "unit/pki/test_util.hpp"

namespace idra::pki {
namespace {

using namespace test;  // the helpers of test_util.hpp
using std::chrono::hours;

using Bytes = std::vector<unsigned char>;

Bytes bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

std::string text(const Bytes& b) { return std::string(b.begin(), b.end()); }

TEST(PkiEstCodec, Base64RoundTripsWithCrlfLines) {
  for (std::size_t n : {1u, 2u, 3u, 47u, 48u, 49u, 100u, 1000u}) {
    Bytes data(n);
    for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<unsigned char>(i * 37 + n);
    const std::string body = encode_base64_body(data);
    // Lines of 64 characters, each ending in CRLF.
    std::size_t start = 0;
    while (start < body.size()) {
      const std::size_t end = body.find("\r\n", start);
      ASSERT_NE(end, std::string::npos) << "unterminated last line";
      EXPECT_LE(end - start, 64u);
      if (end + 2 < body.size()) {
        EXPECT_EQ(end - start, 64u);
      }
      start = end + 2;
    }
    auto back = decode_base64_body(body, 4096);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(*back, data) << n;
  }
  EXPECT_EQ(encode_base64_body(bytes("hello")), "aGVsbG8=\r\n");
  EXPECT_EQ(encode_base64_body({}), "");
}

TEST(PkiEstCodec, Base64AcceptsWhitespaceAnywhere) {
  auto r = decode_base64_body(" aGVs\r\n bG8g\td29y\nbGQ= \r\n", 100);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(text(*r), "hello world");
  auto two = decode_base64_body("aGk=", 100);
  ASSERT_TRUE(two);
  EXPECT_EQ(text(*two), "hi");
  auto one = decode_base64_body("aA==\r\n", 100);
  ASSERT_TRUE(one);
  EXPECT_EQ(text(*one), "h");
}

TEST(PkiEstCodec, Base64RejectsGarbage) {
  auto expect_bad = [](std::string_view body, std::size_t max = 100) {
    auto r = decode_base64_body(body, max);
    EXPECT_FALSE(r) << "accepted \"" << body << "\"";
  };
  expect_bad("");
  expect_bad(" \r\n\t ");
  expect_bad("aGVsbG8");     // no padding
  expect_bad("aGVs*G8=");    // outside the alphabet
  expect_bad("aGVs-G8=");    // base64url is not base64
  expect_bad("aGVs\vbG8=");  // vertical tab is not allowed whitespace
  expect_bad("aG=sbG8=");    // padding in the middle
  expect_bad("aGk=aGk=");    // data after padding
  expect_bad("a===");        // too much padding
  expect_bad("aGl=");        // non-zero bits under the padding
  expect_bad("-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----");
  std::string zero("aGk=");
  zero[1] = '\0';
  expect_bad(zero);
  // The size limit.
  const std::string body = encode_base64_body(Bytes(300, 0x41));
  EXPECT_TRUE(decode_base64_body(body, 300));
  auto big = decode_base64_body(body, 299);
  ASSERT_FALSE(big);
  EXPECT_NE(big.error().message.find("299"), std::string::npos) << big.error().message;
  EXPECT_FALSE(decode_base64_body(std::string(1 << 20, 'A'), 1000));
}

TEST(PkiEstCodec, CertsOnlyRoundTripsAndOpensslReadsIt) {
  auto root = CertificateAuthority::create_root(make_key(), {"EST Root", "idra tests", ""},
                                                hours{24 * 365});
  ASSERT_TRUE(root) << root.error().message;
  auto inter =
      root->issue_intermediate(make_key(), {"EST Issuing CA", "idra tests", ""}, hours{24 * 300});
  ASSERT_TRUE(inter) << inter.error().message;
  const X509* certs[] = {&inter->certificate(), &root->certificate()};
  const Bytes der = certs_only(certs);

  auto back = certificates_from_certs_only(der);
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ(sha256_fingerprint_hex(*back->at(0)), sha256_fingerprint_hex(inter->certificate()));
  EXPECT_EQ(sha256_fingerprint_hex(*back->at(1)), sha256_fingerprint_hex(root->certificate()));

  TempDir dir;
  write_text(dir / "certs.p7", text(der));
  auto r =
      run(std::string(kOpenssl) + " pkcs7 -inform DER -print_certs -in " + quote(dir / "certs.p7"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("subject=O = idra tests, CN = EST Issuing CA"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("subject=O = idra tests, CN = EST Root"), std::string::npos) << r.output;
  EXPECT_LT(r.output.find("EST Issuing CA"), r.output.find("CN = EST Root")) << "order kept";
  // The base64 form EST sends, decoded by openssl's own base64 reader.
  write_text(dir / "certs.b64", encode_base64_body(der));
  auto b64 = run(std::string(kOpenssl) + " base64 -d -in " + quote(dir / "certs.b64") + " | " +
                 kOpenssl + " pkcs7 -inform DER -print_certs -noout");
  EXPECT_EQ(b64.exit_code, 0) << b64.output;
  // Degenerate: no signers, no encapsulated content.
  auto cms =
      run(std::string(kOpenssl) + " cms -cmsout -print -inform DER -in " + quote(dir / "certs.p7"));
  EXPECT_EQ(cms.exit_code, 0) << cms.output;
  EXPECT_NE(cms.output.find("eContent: <ABSENT>"), std::string::npos) << cms.output;
  EXPECT_NE(cms.output.find("signerInfos:\n      <EMPTY>"), std::string::npos) << cms.output;
}

TEST(PkiEstCodec, CertificatesFromCertsOnlyRejectsOtherInput) {
  EXPECT_FALSE(certificates_from_certs_only({}));
  EXPECT_FALSE(certificates_from_certs_only(bytes("not der")));
  EXPECT_FALSE(certificates_from_certs_only(certs_only({})));  // no certificates
  auto root = CertificateAuthority::create_root(make_key(), {"R", "", ""}, hours{24});
  ASSERT_TRUE(root);
  const X509* one[] = {&root->certificate()};
  Bytes der = certs_only(one);
  der.push_back(0);
  auto trailing = certificates_from_certs_only(der);
  ASSERT_FALSE(trailing);
  EXPECT_NE(trailing.error().message.find("trailing"), std::string::npos);
  EXPECT_FALSE(certificates_from_certs_only(to_der(root->certificate())));
}

std::string asn1parse(const TempDir& dir, const Bytes& der) {
  write_text(dir / "attrs.der", text(der));
  auto r = run(std::string(kOpenssl) + " asn1parse -inform DER -in " + quote(dir / "attrs.der"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return r.output;
}

Profile profile_with(std::vector<KeyAlgorithm> algs) {
  Profile p;
  p.name = "t";
  p.key_algorithms = std::move(algs);
  return p;
}

TEST(PkiEstCodec, CsrAttributesForEachKeyType) {
  TempDir dir;
  const Bytes p256 = csr_attributes(profile_with({KeyAlgorithm::kEcP256}), true);
  // SEQUENCE { challengePassword, ecdsa-with-SHA256, SEQUENCE { id-ecPublicKey,
  // SET { prime256v1 } } }, byte for byte.
  const Bytes expected = {
      0x30, 0x2c,  // CsrAttrs
      0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x07, 0x06,
      0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x30, 0x15,  // Attribute
      0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,              // id-ecPublicKey
      0x31, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
  EXPECT_EQ(p256, expected);
  std::string out = asn1parse(dir, p256);
  for (const char* want :
       {"challengePassword", "ecdsa-with-SHA256", "id-ecPublicKey", "prime256v1"}) {
    EXPECT_NE(out.find(want), std::string::npos) << want << "\n" << out;
  }

  out = asn1parse(dir,
                  csr_attributes(profile_with({KeyAlgorithm::kEcP384, KeyAlgorithm::kRsa}), false));
  EXPECT_EQ(out.find("challengePassword"), std::string::npos) << out;
  EXPECT_NE(out.find("ecdsa-with-SHA384"), std::string::npos) << out;
  EXPECT_NE(out.find("secp384r1"), std::string::npos) << out;

  out = asn1parse(dir, csr_attributes(profile_with({KeyAlgorithm::kEd25519}), false));
  EXPECT_NE(out.find("ED25519"), std::string::npos) << out;

  Profile rsa = profile_with({KeyAlgorithm::kRsa});
  rsa.min_rsa_bits = 3072;
  out = asn1parse(dir, csr_attributes(rsa, false));
  EXPECT_NE(out.find("sha256WithRSAEncryption"), std::string::npos) << out;
  EXPECT_NE(out.find("rsaEncryption"), std::string::npos) << out;
  EXPECT_NE(out.find("INTEGER           :0C00"), std::string::npos) << out;  // 3072

  EXPECT_EQ(csr_attributes(profile_with({}), false), (Bytes{0x30, 0x00}));
}

}  // namespace
}  // namespace idra::pki
