// pki_ocsp_request: ocsp_respond on arbitrary request bytes.
//
// The responder must answer anything with one DER OCSPResponse and never
// crash or read out of bounds. Checked on every input: the answer parses with
// no trailing bytes; a malformed request gets malformedRequest and nothing
// else; a successful answer is signed by our key, has exactly one
// SingleResponse per CertID of the request, repeats its nonce if it had one
// and adds none otherwise. Any difference aborts.
//
// The issuer and signer is a fixed test CA (below, generated with
// `openssl req -x509 -newkey ec`), so seed requests made with
// `openssl ocsp -issuer <that cert> -serial N -reqout seed` match it and
// reach the status lookup: even serials are good, odd ones revoked.
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "idra/pki.hpp"

namespace {

using idra::pki::BioPtr;
using idra::pki::CertStatus;
using idra::pki::EvpPkeyPtr;
using idra::pki::StatusAnswer;
using idra::pki::X509Ptr;
using idra::pki::X509StorePtr;
using OcspRequestPtr = std::unique_ptr<OCSP_REQUEST, idra::pki::detail::Free<&OCSP_REQUEST_free>>;
using OcspResponsePtr =
    std::unique_ptr<OCSP_RESPONSE, idra::pki::detail::Free<&OCSP_RESPONSE_free>>;
using OcspBasicRespPtr =
    std::unique_ptr<OCSP_BASICRESP, idra::pki::detail::Free<&OCSP_BASICRESP_free>>;

constexpr char kCaPem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIByTCCAW+gAwIBAgIUAwja0fiGxPqcfOt4DA7BiXIHMFEwCgYIKoZIzj0EAwIw\n"
    "MTETMBEGA1UECgwKaWRyYSB0ZXN0czEaMBgGA1UEAwwRaWRyYSBmdXp6IE9DU1Ag\n"
    "Q0EwIBcNMjYxMTI1MTMyMTUzWhgPMjEyNjExMDExMzIxNTNaMDExEzARBgNVBAoM\n"
    "CmlkcmEgdGVzdHMxGjAYBgNVBAMMEWlkcmEgZnV6eiBPQ1NQIENBMFkwEwYHKoZI\n"
    "zj0CAQYIKoZIzj0DAQcDQgAEiIpRsm56VPhQzvb1smN6+FNGC0t4zHfQI1fuh/gN\n"
    "KOjRUBLoP+lf6K3AJVfnfZdxifbXinPWxA7+DnudrwNnF6NjMGEwHQYDVR0OBBYE\n"
    "FJv0V2aEgZuRe7Ur83U8pwIwpJnJMB8GA1UdIwQYMBaAFJv0V2aEgZuRe7Ur83U8\n"
    "pwIwpJnJMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgEGMAoGCCqGSM49\n"
    "BAMCA0gAMEUCICWAvtwQ5HU1w6ohr3iT9kSTB2U8Nde8Hl3/lFJJY1uGAiEA4lz3\n"
    "ZHplEmMo7GqdqGoMpSy+JPOW5BQ4iPm6nPt8y0A=\n"
    "-----END CERTIFICATE-----\n";

constexpr char kKeyPem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgWspHPRaw5houUocW\n"
    "swkxAlUpdkOqN5VkDUseTML9NG2hRANCAASIilGybnpU+FDO9vWyY3r4U0YLS3jM\n"
    "d9AjV+6H+A0o6NFQEug/6V/orcAlV+d9l3GJ9teKc9bEDv4Oe52vA2cX\n"
    "-----END PRIVATE KEY-----\n";

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "pki_ocsp_request: %s\n", what);
  std::abort();
}

struct Fixture {
  X509Ptr ca{nullptr};
  EvpPkeyPtr key{nullptr};
  X509StorePtr store{nullptr};
  Fixture() {
    BioPtr cert_bio(BIO_new_mem_buf(kCaPem, -1));
    BioPtr key_bio(BIO_new_mem_buf(kKeyPem, -1));
    ca.reset(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
    key.reset(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
    store.reset(X509_STORE_new());
    if (!ca || !key || !store || X509_STORE_add_cert(store.get(), ca.get()) != 1) {
      fail("cannot load the fixture");
    }
  }
};

const Fixture& fixture() {
  static const Fixture f;
  return f;
}

StatusAnswer by_parity(std::span<const unsigned char> serial) {
  StatusAnswer a;
  if (serial.empty()) return a;  // serial 0: unknown
  if ((serial.back() & 1) == 0) {
    a.status = CertStatus::kGood;
  } else {
    a = {CertStatus::kRevoked, 1'600'000'000, 1};
  }
  return a;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Fixture& f = fixture();
  const idra::pki::OcspResponder responder{f.ca.get(), f.ca.get(), f.key.get(),
                                           std::chrono::hours{1}};
  const std::span<const unsigned char> input(data, size);
  const auto der = idra::pki::ocsp_respond(input, responder, by_parity, 1'700'000'000);

  const unsigned char* p = der.data();
  OcspResponsePtr resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
  if (!resp || p != der.data() + der.size()) fail("the response is not one DER OCSPResponse");
  const int status = OCSP_response_status(resp.get());

  // Parse the request the way the responder must have.
  const unsigned char* q = data;
  OcspRequestPtr req(size > 0 ? d2i_OCSP_REQUEST(nullptr, &q, static_cast<long>(size)) : nullptr);
  const bool well_formed =
      req && q == data + size && OCSP_request_onereq_count(req.get()) > 0 &&
      OCSP_request_onereq_count(req.get()) <= idra::pki::kMaxOcspRequestCertIds;
  if (!well_formed) {
    if (status != OCSP_RESPONSE_STATUS_MALFORMEDREQUEST) fail("bad request not malformedRequest");
    return 0;
  }
  if (status != OCSP_RESPONSE_STATUS_SUCCESSFUL) fail("well-formed request not answered");
  OcspBasicRespPtr basic(OCSP_response_get1_basic(resp.get()));
  if (!basic) fail("no BasicOCSPResponse");
  // OCSP_NOCHECKS: the fixture CA signs for itself, which is not a
  // delegation; the signature is what matters here.
  if (OCSP_basic_verify(basic.get(), nullptr, f.store.get(), OCSP_NOCHECKS) != 1) {
    fail("signature does not verify");
  }
  if (OCSP_resp_count(basic.get()) != OCSP_request_onereq_count(req.get())) {
    fail("not one SingleResponse per CertID");
  }
  const int nonce = OCSP_check_nonce(req.get(), basic.get());
  if (nonce != 1 && nonce != 2) fail("nonce not echoed, or added");
  ERR_clear_error();
  return 0;
}
