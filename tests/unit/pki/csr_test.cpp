// PKCS#10 parsing: proof of possession, limits, names and attributes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "idra/pki.hpp"
#include "unit/pki/test_util.hpp"

namespace idra::pki {
namespace {

using namespace test;  // the helpers of test_util.hpp

using Bytes = std::vector<unsigned char>;

struct CsrSpec {
  std::string common_name = "device 1";
  std::string organization;
  std::vector<std::string> dns;
  std::vector<std::string> uris;
  std::string challenge_password;
  std::string padding_ou;  // a long OU, to make big requests
};

// make_csr builds and signs a request in-process.
Bytes make_csr(EVP_PKEY& key, const CsrSpec& spec) {
  X509ReqPtr req(X509_REQ_new());
  X509NamePtr name(X509_NAME_new());
  auto add = [&](int nid, const std::string& v) {
    if (!v.empty()) {
      X509_NAME_add_entry_by_NID(name.get(), nid, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(v.data()),
                                 static_cast<int>(v.size()), -1, 0);
    }
  };
  add(NID_organizationName, spec.organization);
  add(NID_commonName, spec.common_name);
  if (!spec.padding_ou.empty()) {
    // Many OUs of up to 64 characters each.
    for (std::size_t i = 0; i < spec.padding_ou.size(); i += 60)
      add(NID_organizationalUnitName, spec.padding_ou.substr(i, 60));
  }
  X509_REQ_set_version(req.get(), X509_REQ_VERSION_1);
  X509_REQ_set_subject_name(req.get(), name.get());
  X509_REQ_set_pubkey(req.get(), &key);
  if (!spec.dns.empty() || !spec.uris.empty()) {
    GeneralNamesPtr gens(GENERAL_NAMES_new());
    auto push = [&](int type, const std::string& v) {
      GENERAL_NAME* g = GENERAL_NAME_new();
      ASN1_IA5STRING* s = ASN1_IA5STRING_new();
      ASN1_STRING_set(s, v.data(), static_cast<int>(v.size()));
      GENERAL_NAME_set0_value(g, type, s);
      sk_GENERAL_NAME_push(gens.get(), g);
    };
    for (const auto& d : spec.dns) push(GEN_DNS, d);
    for (const auto& u : spec.uris) push(GEN_URI, u);
    STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
    X509_EXTENSION* ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens.get());
    sk_X509_EXTENSION_push(exts, ext);
    X509_REQ_add_extensions(req.get(), exts);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  }
  if (!spec.challenge_password.empty()) {
    X509_REQ_add1_attr_by_NID(
        req.get(), NID_pkcs9_challengePassword, MBSTRING_UTF8,
        reinterpret_cast<const unsigned char*>(spec.challenge_password.data()),
        static_cast<int>(spec.challenge_password.size()));
  }
  const EVP_MD* md = EVP_PKEY_is_a(&key, "ED25519") ? nullptr : EVP_sha256();
  if (X509_REQ_sign(req.get(), &key, md) <= 0) throw std::runtime_error("X509_REQ_sign failed");
  int len = i2d_X509_REQ(req.get(), nullptr);
  Bytes out(static_cast<std::size_t>(len));
  unsigned char* p = out.data();
  i2d_X509_REQ(req.get(), &p);
  return out;
}

TEST(PkiCsr, ParsesARequestFromTheOpensslCli) {
  TempDir dir;
  auto r =
      run(std::string(kOpenssl) +
          " req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj '/O=acme/CN=x' "
          "-addext 'subjectAltName=DNS:a.example.com,URI:hdl:20.500.1/x' -outform DER -keyout " +
          quote(dir / "key.pem") + " -out " + quote(dir / "csr.der"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string der = read_text(dir / "csr.der");
  auto csr = parse_csr({reinterpret_cast<const unsigned char*>(der.data()), der.size()});
  ASSERT_TRUE(csr) << csr.error().message;
  EXPECT_EQ(csr->algorithm, KeyAlgorithm::kEcP256);
  EXPECT_EQ(csr->key_bits, 256);
  EXPECT_EQ(csr->subject.common_name, "x");
  EXPECT_EQ(csr->subject.organization, "acme");
  EXPECT_EQ(csr->names.dns_names, std::vector<std::string>{"a.example.com"});
  EXPECT_EQ(csr->names.uris, std::vector<std::string>{"hdl:20.500.1/x"});
  EXPECT_TRUE(csr->challenge_password.empty());
  ASSERT_TRUE(csr->request && csr->public_key);
}

TEST(PkiCsr, ClassifiesEveryKeyTypeAndReadsTheChallengePassword) {
  for (auto [alg, bits] : {std::pair{KeyAlgorithm::kEcP256, 256},
                           {KeyAlgorithm::kEcP384, 384},
                           {KeyAlgorithm::kEd25519, 256},
                           {KeyAlgorithm::kRsa, 2048}}) {
    auto key = make_key(alg, 2048);
    CsrSpec spec;
    spec.challenge_password = "tls-unique:AbC=";
    const Bytes der = make_csr(*key, spec);
    auto csr = parse_csr(der);
    ASSERT_TRUE(csr) << to_string(alg) << ": " << csr.error().message;
    EXPECT_EQ(csr->algorithm, alg);
    EXPECT_EQ(csr->key_bits, bits) << to_string(alg);
    EXPECT_EQ(csr->challenge_password, "tls-unique:AbC=");
    EXPECT_EQ(EVP_PKEY_eq(csr->public_key.get(), key.get()), 1);
  }
}

TEST(PkiCsr, TamperedSignatureIsRejected) {
  auto key = make_key(KeyAlgorithm::kEcP256);
  Bytes der = make_csr(*key, CsrSpec{});
  // Change a byte of the subject's common name: still DER, but the
  // signature no longer covers what is there.
  const std::string cn = "device 1";
  auto at = std::search(der.begin(), der.end(), cn.begin(), cn.end());
  ASSERT_NE(at, der.end());
  *at = 'D';
  auto csr = parse_csr(der);
  ASSERT_FALSE(csr);
  EXPECT_NE(csr.error().message.find("signature"), std::string::npos) << csr.error().message;

  // A request signed by another key than the one it carries.
  auto other = make_key(KeyAlgorithm::kEcP256);
  X509ReqPtr req(X509_REQ_new());
  X509_REQ_set_pubkey(req.get(), key.get());
  ASSERT_GT(X509_REQ_sign(req.get(), other.get(), EVP_sha256()), 0);
  Bytes swapped(static_cast<std::size_t>(i2d_X509_REQ(req.get(), nullptr)));
  unsigned char* p = swapped.data();
  i2d_X509_REQ(req.get(), &p);
  EXPECT_FALSE(parse_csr(swapped));
}

TEST(PkiCsr, SizeLimitTrailingBytesAndGarbage) {
  auto key = make_key(KeyAlgorithm::kEcP256);
  CsrSpec big;
  big.padding_ou = std::string(20000, 'o');
  const Bytes large = make_csr(*key, big);
  ASSERT_GT(large.size(), kMaxCsrBytes);
  auto too_large = parse_csr(large);
  ASSERT_FALSE(too_large);
  EXPECT_NE(too_large.error().message.find("larger than 16384"), std::string::npos)
      << too_large.error().message;

  Bytes trailing = make_csr(*key, CsrSpec{});
  ASSERT_TRUE(parse_csr(trailing));
  trailing.push_back(0);
  auto t = parse_csr(trailing);
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message.find("trailing"), std::string::npos) << t.error().message;

  EXPECT_FALSE(parse_csr(Bytes{}));
  EXPECT_FALSE(parse_csr(Bytes{0x30, 0x03, 0x02, 0x01, 0x00}));
  Bytes truncated = make_csr(*key, CsrSpec{});
  truncated.resize(truncated.size() / 2);
  EXPECT_FALSE(parse_csr(truncated));
  // A certificate is not a request.
  auto root = CertificateAuthority::create_root(make_key(KeyAlgorithm::kEcP256), {"r", "", ""},
                                                std::chrono::hours{24});
  ASSERT_TRUE(root);
  EXPECT_FALSE(parse_csr(to_der(root->certificate())));
}

TEST(PkiCsr, UnsupportedKeyIsRejected) {
  // secp256k1 is a named curve this CA does not issue for.
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  ASSERT_TRUE(ctx);
  ASSERT_EQ(EVP_PKEY_keygen_init(ctx.get()), 1);
  ASSERT_EQ(EVP_PKEY_CTX_set_group_name(ctx.get(), "secp256k1"), 1);
  EVP_PKEY* raw = nullptr;
  ASSERT_EQ(EVP_PKEY_keygen(ctx.get(), &raw), 1);
  EvpPkeyPtr k1(raw);
  auto csr = parse_csr(make_csr(*k1, CsrSpec{}));
  ASSERT_FALSE(csr);
  EXPECT_NE(csr.error().message.find("secp256k1"), std::string::npos) << csr.error().message;
}

}  // namespace
}  // namespace idra::pki
