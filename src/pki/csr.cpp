// csr.cpp: PKCS#10 certificate signing requests (parse_csr).
//
// Everything here reads bytes from the network: sizes are checked before
// parsing, the whole input must be one request, and nothing the request says
// about its subject is trusted beyond being reported.
#include <openssl/err.h>

#include <climits>

#include "idra/pki.hpp"
#include "pki/internal.hpp"

namespace idra::pki {

namespace {

struct ExtensionStackFree {
  void operator()(STACK_OF(X509_EXTENSION) * stack) const noexcept {
    sk_X509_EXTENSION_pop_free(stack, X509_EXTENSION_free);
  }
};
using ExtensionStackPtr = std::unique_ptr<STACK_OF(X509_EXTENSION), ExtensionStackFree>;

// string_of returns an ASN.1 string attribute value as UTF-8.
Result<std::string> string_of(const ASN1_TYPE& value) {
  switch (value.type) {
    case V_ASN1_PRINTABLESTRING:
    case V_ASN1_UTF8STRING:
    case V_ASN1_IA5STRING:
    case V_ASN1_T61STRING:
    case V_ASN1_BMPSTRING:
    case V_ASN1_UNIVERSALSTRING:
      break;
    default:
      return make_error("the challengePassword is not a string");
  }
  unsigned char* utf8 = nullptr;
  const int len = ASN1_STRING_to_UTF8(&utf8, value.value.asn1_string);
  if (len < 0) return internal::openssl_error("the challengePassword is not a valid string");
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

}  // namespace

Result<CsrInfo> parse_csr(std::span<const unsigned char> der) {
  if (der.size() > kMaxCsrBytes) {
    return make_error("the CSR is larger than " + std::to_string(kMaxCsrBytes) + " bytes");
  }
  if (der.empty()) return make_error("the CSR is empty");
  const unsigned char* p = der.data();
  X509ReqPtr request(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())));
  if (!request) return internal::openssl_error("not a DER PKCS#10 certification request");
  if (p != der.data() + der.size()) return make_error("trailing bytes after the CSR");
  if (X509_REQ_get_version(request.get()) != X509_REQ_VERSION_1) {
    return make_error("unsupported CSR version (only version 1 exists)");
  }

  CsrInfo out;
  EVP_PKEY* key = X509_REQ_get0_pubkey(request.get());
  if (key == nullptr) return internal::openssl_error("the CSR's public key cannot be read");
  auto algorithm = key_algorithm(*key);
  if (!algorithm) return make_error("the CSR's key: " + algorithm.error().message);
  out.public_key = up_ref(*key);
  out.algorithm = *algorithm;
  out.key_bits = EVP_PKEY_get_bits(key);
  // Proof of possession: the request is signed by the key it carries.
  if (X509_REQ_verify(request.get(), key) != 1) {
    internal::clear_openssl_errors();
    return make_error("the CSR's signature does not verify (no proof of possession)");
  }

  if (const X509_NAME* subject = X509_REQ_get_subject_name(request.get())) {
    out.subject = internal::subject_name_of(*subject);
  }

  if (X509_REQ_get_attr_by_NID(request.get(), NID_ext_req, -1) >= 0 ||
      X509_REQ_get_attr_by_NID(request.get(), NID_ms_ext_req, -1) >= 0) {
    ExtensionStackPtr extensions(X509_REQ_get_extensions(request.get()));
    if (!extensions) return internal::openssl_error("the CSR's extension request is damaged");
    int critical = 0;
    GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
        X509V3_get_d2i(extensions.get(), NID_subject_alt_name, &critical, nullptr)));
    if (names) {
      out.names = internal::alt_names_of(*names);
    } else if (critical == -2) {
      return make_error("the CSR requests subjectAltName twice");
    } else if (critical != -1) {
      return internal::openssl_error("the CSR's subjectAltName is damaged");
    }
  }
  internal::clear_openssl_errors();

  const int index = X509_REQ_get_attr_by_NID(request.get(), NID_pkcs9_challengePassword, -1);
  if (index >= 0) {
    if (X509_REQ_get_attr_by_NID(request.get(), NID_pkcs9_challengePassword, index) >= 0) {
      return make_error("the CSR has two challengePassword attributes");
    }
    X509_ATTRIBUTE* attribute = X509_REQ_get_attr(request.get(), index);
    if (X509_ATTRIBUTE_count(attribute) != 1) {
      return make_error("the challengePassword attribute must hold exactly one value");
    }
    const ASN1_TYPE* value = X509_ATTRIBUTE_get0_type(attribute, 0);
    if (value == nullptr) return make_error("the challengePassword attribute is empty");
    auto text = string_of(*value);
    if (!text) return text.error();
    out.challenge_password = std::move(*text);
  }
  out.request = std::move(request);
  return out;
}

}  // namespace idra::pki
