// OCSP responder: responses checked with OpenSSL's OCSP API and the openssl
// CLI, requests from our builder and from `openssl ocsp -reqout`.
#include <gtest/gtest.h>
#include <openssl/ocsp.h>
#include <openssl/rand.h>

#include <ctime>
#include <map>
#include <stdexcept>
#include <string>

#include "idra/pki.hpp"
#include "unit/pki/test_util.hpp"

namespace idra::pki {
namespace {

using namespace test;  // the helpers of test_util.hpp
using std::chrono::hours;

using OcspRequestPtr = std::unique_ptr<OCSP_REQUEST, detail::Free<&OCSP_REQUEST_free>>;
using OcspResponsePtr = std::unique_ptr<OCSP_RESPONSE, detail::Free<&OCSP_RESPONSE_free>>;
using OcspBasicRespPtr = std::unique_ptr<OCSP_BASICRESP, detail::Free<&OCSP_BASICRESP_free>>;
using OcspCertIdPtr = std::unique_ptr<OCSP_CERTID, detail::Free<&OCSP_CERTID_free>>;

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509ExtensionPtr ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) throw std::runtime_error("add_ext");
}

// make_ocsp_signer issues a delegated OCSP signer (EKU OCSPSigning) from
// |ca| with plain OpenSSL calls, independent of the profile code.
X509Ptr make_ocsp_signer(const CertificateAuthority& ca, const EVP_PKEY& key) {
  X509Ptr x(X509_new());
  X509* issuer = const_cast<X509*>(&ca.certificate());
  X509NamePtr name(X509_NAME_new());
  X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("test OCSP signer"), -1, -1, 0);
  unsigned char serial_bytes[16];
  RAND_bytes(serial_bytes, sizeof serial_bytes);
  serial_bytes[0] = 0x11;
  BignumPtr bn(BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr));
  Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (X509_set_version(x.get(), X509_VERSION_3) != 1 ||
      X509_set_serialNumber(x.get(), serial.get()) != 1 ||
      X509_set_subject_name(x.get(), name.get()) != 1 ||
      X509_set_issuer_name(x.get(), X509_get_subject_name(issuer)) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(x.get()), -300) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(x.get()), 86400 * 30) == nullptr ||
      X509_set_pubkey(x.get(), const_cast<EVP_PKEY*>(&key)) != 1) {
    throw std::runtime_error("signer fields");
  }
  add_ext(x.get(), issuer, NID_basic_constraints, "critical,CA:FALSE");
  add_ext(x.get(), issuer, NID_key_usage, "critical,digitalSignature");
  add_ext(x.get(), issuer, NID_ext_key_usage, "OCSPSigning");
  add_ext(x.get(), issuer, NID_subject_key_identifier, "hash");
  add_ext(x.get(), issuer, NID_authority_key_identifier, "keyid:always");
  if (X509_sign(x.get(), const_cast<EVP_PKEY*>(&ca.key()), EVP_sha256()) <= 0) {
    throw std::runtime_error("signer sign");
  }
  return x;
}

std::vector<unsigned char> serial_of(const X509& x) {
  BignumPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(&x), nullptr));
  std::vector<unsigned char> out(static_cast<std::size_t>(BN_num_bytes(bn.get())));
  BN_bn2bin(bn.get(), out.data());
  return out;
}

std::vector<unsigned char> der_of(OCSP_REQUEST* req) {
  int len = i2d_OCSP_REQUEST(req, nullptr);
  std::vector<unsigned char> out(static_cast<std::size_t>(len));
  unsigned char* p = out.data();
  i2d_OCSP_REQUEST(req, &p);
  return out;
}

std::string as_string(const std::vector<unsigned char>& v) {
  return std::string(v.begin(), v.end());
}

constexpr std::int64_t kRevokedAt = 1'690'000'000;

// The PKI every test shares: root -> intermediate -> {good, revoked,
// unknown-to-the-store} leaves, a delegated signer, and another CA.
class PkiOcsp : public testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new Pki(); }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }

  struct Pki {
    CertificateAuthority root = make_root("OCSP Root");
    CertificateAuthority inter = make_intermediate(root, "OCSP Issuing CA");
    EvpPkeyPtr signer_key = make_key();
    X509Ptr signer = make_ocsp_signer(inter, *signer_key);
    X509Ptr good = make_leaf(inter, LeafKind::kClient, "good").cert;
    X509Ptr revoked = make_leaf(inter, LeafKind::kClient, "revoked").cert;
    X509Ptr unlisted = make_leaf(inter, LeafKind::kClient, "unlisted").cert;
    CertificateAuthority other_root = make_root("Other Root");
    X509Ptr foreign = make_leaf(other_root, LeafKind::kClient, "foreign").cert;
  };
  static Pki* pki_;

  OcspResponder responder() const {
    return {&pki_->inter.certificate(), pki_->signer.get(), pki_->signer_key.get(), hours{1}};
  }

  StatusLookup lookup() {
    return [this](std::span<const unsigned char> serial) {
      ++lookups_;
      std::vector<unsigned char> s(serial.begin(), serial.end());
      StatusAnswer a;
      if (s == serial_of(*pki_->good)) a.status = CertStatus::kGood;
      if (s == serial_of(*pki_->revoked)) a = {CertStatus::kRevoked, kRevokedAt, 1};
      return a;
    };
  }

  // parse_basic checks a successful response and returns its BasicOCSPResponse.
  static OcspBasicRespPtr parse_basic(const std::vector<unsigned char>& der) {
    const unsigned char* p = der.data();
    OcspResponsePtr resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
    EXPECT_TRUE(resp);
    if (!resp) return OcspBasicRespPtr();
    EXPECT_EQ(p, der.data() + der.size());
    EXPECT_EQ(OCSP_response_status(resp.get()), OCSP_RESPONSE_STATUS_SUCCESSFUL);
    return OcspBasicRespPtr(OCSP_response_get1_basic(resp.get()));
  }

  // verify runs OCSP_basic_verify against a store with root and intermediate.
  static int verify(OCSP_BASICRESP* basic) {
    X509StorePtr store(X509_STORE_new());
    X509_STORE_add_cert(store.get(), const_cast<X509*>(&pki_->root.certificate()));
    X509_STORE_add_cert(store.get(), const_cast<X509*>(&pki_->inter.certificate()));
    return OCSP_basic_verify(basic, nullptr, store.get(), 0);
  }

  struct Found {
    int status = -2;
    int reason = -2;
    std::int64_t revoked_at = 0;
    std::int64_t this_update = 0;
    std::int64_t next_update = 0;
  };

  static std::int64_t unix_time(const ASN1_GENERALIZEDTIME* t) {
    if (t == nullptr) return 0;
    EXPECT_EQ(ASN1_STRING_type(t), V_ASN1_GENERALIZEDTIME);
    struct tm tm {};
    EXPECT_EQ(ASN1_TIME_to_tm(t, &tm), 1);
    return static_cast<std::int64_t>(timegm(&tm));
  }

  static Found find(OCSP_BASICRESP* basic, const X509& cert, const X509& issuer,
                    const EVP_MD* md = EVP_sha1()) {
    OcspCertIdPtr id(OCSP_cert_to_id(md, &cert, &issuer));
    Found f;
    ASN1_GENERALIZEDTIME *rev = nullptr, *thisupd = nullptr, *nextupd = nullptr;
    if (OCSP_resp_find_status(basic, id.get(), &f.status, &f.reason, &rev, &thisupd, &nextupd) !=
        1) {
      return f;
    }
    f.revoked_at = unix_time(rev);
    f.this_update = unix_time(thisupd);
    f.next_update = unix_time(nextupd);
    return f;
  }

  int lookups_ = 0;
};

PkiOcsp::Pki* PkiOcsp::pki_ = nullptr;

TEST_F(PkiOcsp, GoodWithNonce) {
  const unsigned char nonce[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  auto req_der = ocsp_request_for(*pki_->good, pki_->inter.certificate(), nonce);
  const std::int64_t now = std::time(nullptr);
  auto der = ocsp_respond(req_der, responder(), lookup(), now);
  OcspBasicRespPtr basic = parse_basic(der);
  ASSERT_TRUE(basic);
  EXPECT_EQ(verify(basic.get()), 1);
  EXPECT_EQ(lookups_, 1);

  Found f = find(basic.get(), *pki_->good, pki_->inter.certificate());
  EXPECT_EQ(f.status, V_OCSP_CERTSTATUS_GOOD);
  EXPECT_EQ(f.this_update, now);
  EXPECT_EQ(f.next_update, now + 3600);

  const unsigned char* p = req_der.data();
  OcspRequestPtr req(d2i_OCSP_REQUEST(nullptr, &p, static_cast<long>(req_der.size())));
  ASSERT_TRUE(req);
  EXPECT_EQ(OCSP_check_nonce(req.get(), basic.get()), 1);

  // RFC 5019: responderID byKey and the signer certificate included.
  const ASN1_OCTET_STRING* key_id = nullptr;
  const X509_NAME* by_name = nullptr;
  ASSERT_EQ(OCSP_resp_get0_id(basic.get(), &key_id, &by_name), 1);
  EXPECT_NE(key_id, nullptr);
  EXPECT_EQ(by_name, nullptr);
  const STACK_OF(X509)* certs = OCSP_resp_get0_certs(basic.get());
  ASSERT_EQ(sk_X509_num(certs), 1);
  EXPECT_EQ(X509_cmp(sk_X509_value(certs, 0), pki_->signer.get()), 0);
}

TEST_F(PkiOcsp, MissingNonceIsNotAdded) {
  auto req_der = ocsp_request_for(*pki_->good, pki_->inter.certificate());
  OcspBasicRespPtr basic = parse_basic(ocsp_respond(req_der, responder(), lookup(), 1000));
  ASSERT_TRUE(basic);
  EXPECT_LT(OCSP_BASICRESP_get_ext_by_NID(basic.get(), NID_id_pkix_OCSP_Nonce, -1), 0);
  const unsigned char* p = req_der.data();
  OcspRequestPtr req(d2i_OCSP_REQUEST(nullptr, &p, static_cast<long>(req_der.size())));
  EXPECT_EQ(OCSP_check_nonce(req.get(), basic.get()), 2);  // absent in both
}

TEST_F(PkiOcsp, Revoked) {
  auto req_der = ocsp_request_for(*pki_->revoked, pki_->inter.certificate());
  OcspBasicRespPtr basic =
      parse_basic(ocsp_respond(req_der, responder(), lookup(), std::time(nullptr)));
  ASSERT_TRUE(basic);
  EXPECT_EQ(verify(basic.get()), 1);
  Found f = find(basic.get(), *pki_->revoked, pki_->inter.certificate());
  EXPECT_EQ(f.status, V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_EQ(f.reason, OCSP_REVOKED_STATUS_KEYCOMPROMISE);
  EXPECT_EQ(f.revoked_at, kRevokedAt);
}

TEST_F(PkiOcsp, RevokedUnspecifiedHasNoReason) {
  auto req_der = ocsp_request_for(*pki_->revoked, pki_->inter.certificate());
  StatusLookup unspecified = [](std::span<const unsigned char>) {
    return StatusAnswer{CertStatus::kRevoked, kRevokedAt, 0};
  };
  OcspBasicRespPtr basic = parse_basic(ocsp_respond(req_der, responder(), unspecified, 1000));
  ASSERT_TRUE(basic);
  Found f = find(basic.get(), *pki_->revoked, pki_->inter.certificate());
  EXPECT_EQ(f.status, V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_EQ(f.reason, OCSP_REVOKED_STATUS_NOSTATUS);
}

TEST_F(PkiOcsp, UnknownSerialIsUnknown) {
  auto req_der = ocsp_request_for(*pki_->unlisted, pki_->inter.certificate());
  OcspBasicRespPtr basic = parse_basic(ocsp_respond(req_der, responder(), lookup(), 1000));
  ASSERT_TRUE(basic);
  EXPECT_EQ(verify(basic.get()), 1);
  EXPECT_EQ(find(basic.get(), *pki_->unlisted, pki_->inter.certificate()).status,
            V_OCSP_CERTSTATUS_UNKNOWN);
  EXPECT_EQ(lookups_, 1);
}

TEST_F(PkiOcsp, AnotherIssuerIsUnknownWithoutLookup) {
  auto req_der = ocsp_request_for(*pki_->foreign, pki_->other_root.certificate());
  OcspBasicRespPtr basic = parse_basic(ocsp_respond(req_der, responder(), lookup(), 1000));
  ASSERT_TRUE(basic);
  EXPECT_EQ(find(basic.get(), *pki_->foreign, pki_->other_root.certificate()).status,
            V_OCSP_CERTSTATUS_UNKNOWN);
  EXPECT_EQ(lookups_, 0);
  // The right serial under the wrong issuer is no better.
  OcspRequestPtr req(OCSP_REQUEST_new());
  OCSP_request_add0_id(
      req.get(), OCSP_cert_to_id(EVP_sha1(), pki_->good.get(), &pki_->other_root.certificate()));
  basic = parse_basic(ocsp_respond(der_of(req.get()), responder(), lookup(), 1000));
  ASSERT_TRUE(basic);
  EXPECT_EQ(find(basic.get(), *pki_->good, pki_->other_root.certificate()).status,
            V_OCSP_CERTSTATUS_UNKNOWN);
  EXPECT_EQ(lookups_, 0);
}

TEST_F(PkiOcsp, NoIssuerAnswersUnknown) {
  auto req_der = ocsp_request_for(*pki_->good, pki_->inter.certificate());
  OcspResponder r = responder();
  r.issuer = nullptr;
  OcspBasicRespPtr basic = parse_basic(ocsp_respond(req_der, r, lookup(), 1000));
  ASSERT_TRUE(basic);
  EXPECT_EQ(find(basic.get(), *pki_->good, pki_->inter.certificate()).status,
            V_OCSP_CERTSTATUS_UNKNOWN);
  EXPECT_EQ(lookups_, 0);
}

TEST_F(PkiOcsp, Sha256CertId) {
  OcspRequestPtr req(OCSP_REQUEST_new());
  ASSERT_NE(OCSP_request_add0_id(req.get(), OCSP_cert_to_id(EVP_sha256(), pki_->revoked.get(),
                                                            &pki_->inter.certificate())),
            nullptr);
  OcspBasicRespPtr basic =
      parse_basic(ocsp_respond(der_of(req.get()), responder(), lookup(), 1000));
  ASSERT_TRUE(basic);
  EXPECT_EQ(verify(basic.get()), 1);
  EXPECT_EQ(find(basic.get(), *pki_->revoked, pki_->inter.certificate(), EVP_sha256()).status,
            V_OCSP_CERTSTATUS_REVOKED);
  // The SingleResponse repeats the request's CertID, so a SHA-1 id does not match.
  EXPECT_EQ(find(basic.get(), *pki_->revoked, pki_->inter.certificate(), EVP_sha1()).status, -2);
}

TEST_F(PkiOcsp, OtherHashAlgorithmIsUnknown) {
  OcspRequestPtr req(OCSP_REQUEST_new());
  OCSP_request_add0_id(req.get(),
                       OCSP_cert_to_id(EVP_sha384(), pki_->good.get(), &pki_->inter.certificate()));
  OcspBasicRespPtr basic =
      parse_basic(ocsp_respond(der_of(req.get()), responder(), lookup(), 1000));
  ASSERT_TRUE(basic);
  EXPECT_EQ(find(basic.get(), *pki_->good, pki_->inter.certificate(), EVP_sha384()).status,
            V_OCSP_CERTSTATUS_UNKNOWN);
  EXPECT_EQ(lookups_, 0);
}

TEST_F(PkiOcsp, SeveralCertIdsUpToTheLimit) {
  OcspRequestPtr req(OCSP_REQUEST_new());
  for (int i = 0; i < kMaxOcspRequestCertIds; ++i) {
    const X509* cert = (i % 2 == 0) ? pki_->good.get() : pki_->revoked.get();
    OCSP_request_add0_id(req.get(), OCSP_cert_to_id(EVP_sha1(), cert, &pki_->inter.certificate()));
  }
  OcspBasicRespPtr basic =
      parse_basic(ocsp_respond(der_of(req.get()), responder(), lookup(), 1000));
  ASSERT_TRUE(basic);
  EXPECT_EQ(OCSP_resp_count(basic.get()), kMaxOcspRequestCertIds);
  EXPECT_EQ(lookups_, kMaxOcspRequestCertIds);

  OCSP_request_add0_id(req.get(),
                       OCSP_cert_to_id(EVP_sha1(), pki_->good.get(), &pki_->inter.certificate()));
  auto der = ocsp_respond(der_of(req.get()), responder(), lookup(), 1000);
  const std::vector<unsigned char> malformed = {0x30, 0x03, 0x0a, 0x01, 0x01};
  EXPECT_EQ(der, malformed);
}

TEST_F(PkiOcsp, MalformedRequests) {
  const std::vector<unsigned char> malformed = {0x30, 0x03, 0x0a, 0x01,
                                                OCSP_RESPONSE_STATUS_MALFORMEDREQUEST};
  auto good_req = ocsp_request_for(*pki_->good, pki_->inter.certificate());
  std::vector<std::vector<unsigned char>> bad = {
      {},
      {0x00},
      {0x30, 0x00},
      {0x30, 0x80, 0x00, 0x00},
      std::vector<unsigned char>(good_req.begin(), good_req.end() - 1),
  };
  auto trailing = good_req;
  trailing.push_back(0x00);
  bad.push_back(trailing);
  // An OCSPRequest with an empty requestList.
  OcspRequestPtr empty(OCSP_REQUEST_new());
  bad.push_back(der_of(empty.get()));
  for (const auto& b : bad) {
    auto der = ocsp_respond(b, responder(), lookup(), 1000);
    EXPECT_EQ(der, malformed) << b.size();
    const unsigned char* p = der.data();
    OcspResponsePtr resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
    ASSERT_TRUE(resp);
    EXPECT_EQ(OCSP_response_status(resp.get()), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
  }
  EXPECT_EQ(lookups_, 0);
}

TEST_F(PkiOcsp, InternalErrors) {
  const std::vector<unsigned char> internal_error = {0x30, 0x03, 0x0a, 0x01,
                                                     OCSP_RESPONSE_STATUS_INTERNALERROR};
  auto req = ocsp_request_for(*pki_->good, pki_->inter.certificate());
  OcspResponder no_signer = responder();
  no_signer.signer = nullptr;
  EXPECT_EQ(ocsp_respond(req, no_signer, lookup(), 1000), internal_error);
  StatusLookup throws = [](std::span<const unsigned char>) -> StatusAnswer {
    throw std::runtime_error("store down");
  };
  EXPECT_EQ(ocsp_respond(req, responder(), throws, 1000), internal_error);
  // A key that does not belong to the signer certificate.
  EvpPkeyPtr wrong = make_key();
  OcspResponder mismatched = responder();
  mismatched.signer_key = wrong.get();
  EXPECT_EQ(ocsp_respond(req, mismatched, lookup(), 1000), internal_error);
}

TEST_F(PkiOcsp, OpensslCliVerifiesOurResponses) {
  TempDir dir;
  write_text(dir / "chain.pem",
             to_pem(pki_->root.certificate()) + to_pem(pki_->inter.certificate()));
  write_text(dir / "intermediate.pem", to_pem(pki_->inter.certificate()));
  write_text(dir / "good.pem", to_pem(*pki_->good));
  write_text(dir / "revoked.pem", to_pem(*pki_->revoked));
  const std::int64_t now = std::time(nullptr);

  // Our request with a nonce, answered and checked with -reqin (nonce check).
  const unsigned char nonce[] = {0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02, 0x03};
  auto req = ocsp_request_for(*pki_->good, pki_->inter.certificate(), nonce);
  write_text(dir / "req.der", as_string(req));
  write_text(dir / "resp.der", as_string(ocsp_respond(req, responder(), lookup(), now)));
  auto r = run(std::string(kOpenssl) + " ocsp -respin " + quote(dir / "resp.der") + " -reqin " +
               quote(dir / "req.der") + " -CAfile " + quote(dir / "chain.pem") + " -resp_text");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Response verify OK"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Cert Status: good"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("OCSP Nonce"), std::string::npos) << r.output;

  // The CLI's own request, with its status summary per certificate.
  for (const char* which : {"good", "revoked"}) {
    const std::string pem = std::string(which) + ".pem";
    r = run(std::string(kOpenssl) + " ocsp -issuer " + quote(dir / "intermediate.pem") + " -cert " +
            quote(dir / pem) + " -reqout " + quote(dir / "cli-req.der"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    std::string cli_req = read_text(dir / "cli-req.der");
    auto resp = ocsp_respond(
        std::span(reinterpret_cast<const unsigned char*>(cli_req.data()), cli_req.size()),
        responder(), lookup(), now);
    write_text(dir / "cli-resp.der", as_string(resp));
    // -no_nonce: with -cert the CLI compares against a request of its own.
    r = run(std::string(kOpenssl) + " ocsp -respin " + quote(dir / "cli-resp.der") +
            " -no_nonce -issuer " + quote(dir / "intermediate.pem") + " -cert " + quote(dir / pem) +
            " -CAfile " + quote(dir / "chain.pem"));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("Response verify OK"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(pem + ": " + which), std::string::npos) << r.output;
  }
}

}  // namespace
}  // namespace idra::pki
