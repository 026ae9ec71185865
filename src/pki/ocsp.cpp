// ocsp.cpp: the OCSP responder (RFC 6960, with the RFC 5019 profile) and a
// request builder for stapling and tests.
//
// The responder is reachable by anyone, so the request is parsed with an
// exact length check and a bound on the number of CertIDs, and every failure
// after parsing turns into a fixed status-only response rather than an
// exception: a request can never make the responder stop answering.
#include <openssl/err.h>
#include <openssl/ocsp.h>

#include <climits>
#include <cstring>
#include <stdexcept>

#include "idra/pki.hpp"
#include "pki/internal.hpp"

namespace idra::pki {

namespace {

using OcspRequestPtr = std::unique_ptr<OCSP_REQUEST, detail::Free<&OCSP_REQUEST_free>>;
using OcspResponsePtr = std::unique_ptr<OCSP_RESPONSE, detail::Free<&OCSP_RESPONSE_free>>;
using OcspBasicRespPtr = std::unique_ptr<OCSP_BASICRESP, detail::Free<&OCSP_BASICRESP_free>>;
using OcspCertIdPtr = std::unique_ptr<OCSP_CERTID, detail::Free<&OCSP_CERTID_free>>;
using Asn1GeneralizedTimePtr =
    std::unique_ptr<ASN1_GENERALIZEDTIME, detail::Free<&ASN1_GENERALIZEDTIME_free>>;

// status_only returns the DER OCSPResponse without responseBytes:
// SEQUENCE { ENUMERATED status }. Written out by hand so the error paths
// cannot fail themselves.
std::vector<unsigned char> status_only(int status) {
  return {0x30, 0x03, 0x0a, 0x01, static_cast<unsigned char>(status)};
}

// IssuerHashes are the issuerNameHash and issuerKeyHash of our issuer under
// one hash algorithm.
struct IssuerHashes {
  unsigned char name[EVP_MAX_MD_SIZE];
  unsigned int name_len = 0;
  unsigned char key[EVP_MAX_MD_SIZE];
  unsigned int key_len = 0;
};

// issuer_hashes computes them; false if OpenSSL fails.
bool issuer_hashes(const X509& issuer, const EVP_MD* md, IssuerHashes& out) {
  // RFC 6960 4.1.1: the hash of the DER issuer name, and the hash of the
  // subjectPublicKey BIT STRING's value (X509_pubkey_digest).
  return X509_NAME_digest(X509_get_subject_name(&issuer), md, out.name, &out.name_len) == 1 &&
         X509_pubkey_digest(&issuer, md, out.key, &out.key_len) == 1;
}

bool same_bytes(const ASN1_OCTET_STRING* s, const unsigned char* bytes, unsigned int len) {
  return s != nullptr && ASN1_STRING_length(s) == static_cast<int>(len) &&
         std::memcmp(ASN1_STRING_get0_data(s), bytes, len) == 0;
}

// supported_hash returns the CertID hash algorithm if it is SHA-1 or
// SHA-256, nullptr otherwise.
const EVP_MD* supported_hash(const ASN1_OBJECT* algorithm) {
  switch (OBJ_obj2nid(algorithm)) {
    case NID_sha1:
      return EVP_sha1();
    case NID_sha256:
      return EVP_sha256();
    default:
      return nullptr;
  }
}

// answer_for asks |lookup| about |id| if it names a certificate of
// |issuer|; everything else is unknown.
StatusAnswer answer_for(OCSP_CERTID* id, const X509* issuer, const StatusLookup& lookup) {
  ASN1_OCTET_STRING* name_hash = nullptr;
  ASN1_OBJECT* algorithm = nullptr;
  ASN1_OCTET_STRING* key_hash = nullptr;
  ASN1_INTEGER* serial = nullptr;
  if (issuer == nullptr || OCSP_id_get0_info(&name_hash, &algorithm, &key_hash, &serial, id) != 1 ||
      serial == nullptr) {
    return {};
  }
  const EVP_MD* md = supported_hash(algorithm);
  if (md == nullptr) return {};
  IssuerHashes ours;
  if (!issuer_hashes(*issuer, md, ours)) {
    internal::clear_openssl_errors();
    return {};
  }
  if (!same_bytes(name_hash, ours.name, ours.name_len) ||
      !same_bytes(key_hash, ours.key, ours.key_len)) {
    return {};
  }
  // Our serials are positive; a negative one names nothing we issued.
  if (ASN1_STRING_type(serial) != V_ASN1_INTEGER) return {};
  BignumPtr bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn) {
    internal::clear_openssl_errors();
    return {};
  }
  std::vector<unsigned char> bytes(static_cast<std::size_t>(BN_num_bytes(bn.get())));
  BN_bn2bin(bn.get(), bytes.data());
  return lookup(bytes);
}

// add_status adds one SingleResponse; false if OpenSSL fails.
bool add_status(OCSP_BASICRESP* basic, OCSP_CERTID* id, const StatusAnswer& answer,
                ASN1_TIME* this_update, ASN1_TIME* next_update) {
  int status = V_OCSP_CERTSTATUS_UNKNOWN;
  int reason = OCSP_REVOKED_STATUS_NOSTATUS;
  Asn1GeneralizedTimePtr revoked_at;
  switch (answer.status) {
    case CertStatus::kGood:
      status = V_OCSP_CERTSTATUS_GOOD;
      break;
    case CertStatus::kRevoked:
      status = V_OCSP_CERTSTATUS_REVOKED;
      // As in the CRL: an unspecified reason is left out (RFC 5280 5.3.1).
      if (answer.reason != 0 && !crl_reason_name(answer.reason).empty()) reason = answer.reason;
      revoked_at.reset(ASN1_GENERALIZEDTIME_set(nullptr, static_cast<time_t>(answer.revoked_at)));
      if (!revoked_at) return false;
      break;
    case CertStatus::kUnknown:
      break;
  }
  return OCSP_basic_add1_status(basic, id, status, reason, revoked_at.get(), this_update,
                                next_update) != nullptr;
}

}  // namespace

std::vector<unsigned char> ocsp_respond(std::span<const unsigned char> request,
                                        const OcspResponder& responder, const StatusLookup& lookup,
                                        std::int64_t now_unix) {
  if (request.empty() || request.size() > static_cast<std::size_t>(LONG_MAX)) {
    return status_only(OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
  }
  const unsigned char* p = request.data();
  OcspRequestPtr req(d2i_OCSP_REQUEST(nullptr, &p, static_cast<long>(request.size())));
  if (!req || p != request.data() + request.size()) {
    internal::clear_openssl_errors();
    return status_only(OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
  }
  const int count = OCSP_request_onereq_count(req.get());
  if (count <= 0 || count > kMaxOcspRequestCertIds) {
    return status_only(OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
  }
  if (responder.signer == nullptr || responder.signer_key == nullptr) {
    return status_only(OCSP_RESPONSE_STATUS_INTERNALERROR);
  }
  auto internal_error = [] {
    internal::clear_openssl_errors();
    return status_only(OCSP_RESPONSE_STATUS_INTERNALERROR);
  };
  auto digest = internal::signing_digest(*responder.signer_key);
  if (!digest) return internal_error();

  Asn1GeneralizedTimePtr this_update(
      ASN1_GENERALIZEDTIME_set(nullptr, static_cast<time_t>(now_unix)));
  Asn1GeneralizedTimePtr next_update;
  if (responder.validity > std::chrono::seconds{0}) {
    next_update.reset(ASN1_GENERALIZEDTIME_set(
        nullptr, static_cast<time_t>(now_unix + responder.validity.count())));
    if (!next_update) return internal_error();
  }
  OcspBasicRespPtr basic(OCSP_BASICRESP_new());
  if (!this_update || !basic) return internal_error();

  for (int i = 0; i < count; ++i) {
    OCSP_CERTID* id = OCSP_onereq_get0_id(OCSP_request_onereq_get0(req.get(), i));
    if (id == nullptr) return status_only(OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
    StatusAnswer answer;
    try {
      answer = answer_for(id, responder.issuer, lookup);
    } catch (const std::exception&) {
      // A failing store is our problem, not the client's: say so rather
      // than guess a status.
      return internal_error();
    }
    if (!add_status(basic.get(), id, answer, this_update.get(), next_update.get())) {
      return internal_error();
    }
  }
  // OCSP_copy_nonce copies the request's nonce extension unchanged and
  // adds nothing when there is none (it returns 2 then).
  if (OCSP_copy_nonce(basic.get(), req.get()) <= 0) return internal_error();
  // RFC 5019: responderID byKey; the signer certificate goes into |certs| so
  // clients that trust only the CA can check the delegation.
  if (OCSP_basic_sign(basic.get(), const_cast<X509*>(responder.signer),
                      const_cast<EVP_PKEY*>(responder.signer_key), *digest, nullptr,
                      OCSP_RESPID_KEY) != 1) {
    return internal_error();
  }
  OcspResponsePtr response(OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic.get()));
  if (!response) return internal_error();
  int len = i2d_OCSP_RESPONSE(response.get(), nullptr);
  if (len <= 0) return internal_error();
  std::vector<unsigned char> out(static_cast<std::size_t>(len));
  unsigned char* q = out.data();
  if (i2d_OCSP_RESPONSE(response.get(), &q) != len) return internal_error();
  return out;
}

std::vector<unsigned char> ocsp_request_for(const X509& certificate, const X509& issuer,
                                            std::span<const unsigned char> nonce) {
  OcspRequestPtr req(OCSP_REQUEST_new());
  OcspCertIdPtr id(OCSP_cert_to_id(EVP_sha1(), &certificate, &issuer));
  if (!req || !id || OCSP_request_add0_id(req.get(), id.get()) == nullptr) {
    throw std::runtime_error(internal::openssl_error("cannot build the OCSP request").message);
  }
  id.release();  // owned by |req|
  if (!nonce.empty()) {
    if (nonce.size() > static_cast<std::size_t>(INT_MAX) ||
        OCSP_request_add1_nonce(req.get(), const_cast<unsigned char*>(nonce.data()),
                                static_cast<int>(nonce.size())) != 1) {
      throw std::runtime_error(internal::openssl_error("cannot add the OCSP nonce").message);
    }
  }
  int len = i2d_OCSP_REQUEST(req.get(), nullptr);
  if (len <= 0) throw std::runtime_error(internal::openssl_error("i2d_OCSP_REQUEST").message);
  std::vector<unsigned char> out(static_cast<std::size_t>(len));
  unsigned char* p = out.data();
  if (i2d_OCSP_REQUEST(req.get(), &p) != len) {
    throw std::runtime_error(internal::openssl_error("i2d_OCSP_REQUEST").message);
  }
  return out;
}

}  // namespace idra::pki
