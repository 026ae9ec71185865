// ca.cpp: certificate issuance (root, intermediate, leaf) and chain checks.
//
// Fixed extension values go through OpenSSL's v3 configuration strings,
// which are written here and never contain caller input. Subject alternative
// names are caller input and are built as GENERAL_NAMEs directly: a config
// string would let a comma in a "DNS name" add an entry of its own. The
// building blocks (names, validity, signing) are shared with issue.cpp
// through internal.hpp.
#include <openssl/err.h>

#include <climits>
#include <ctime>
#include <stdexcept>

#include "idra/pki.hpp"
#include "pki/internal.hpp"

namespace idra::pki {

namespace {

using std::chrono::seconds;

Result<void> add_ca_extensions(X509* cert, X509* issuer, int path_length) {
  std::string bc = "critical,CA:TRUE";
  if (path_length >= 0) bc += ",pathlen:" + std::to_string(path_length);
  for (auto [nid, value] : {std::pair<int, const char*>{NID_basic_constraints, bc.c_str()},
                            {NID_key_usage, "critical,keyCertSign,cRLSign"},
                            {NID_subject_key_identifier, "hash"},
                            {NID_authority_key_identifier, "keyid:always"}}) {
    if (auto ok = internal::add_fixed_extension(cert, issuer, nid, value); !ok) return ok;
  }
  return {};
}

}  // namespace

namespace internal {

Result<const EVP_MD*> signing_digest(const EVP_PKEY& key) {
  auto alg = key_algorithm(key);
  if (!alg) return make_error("cannot sign with this key: " + alg.error().message);
  switch (*alg) {
    case KeyAlgorithm::kEcP384:
      return EVP_sha384();
    case KeyAlgorithm::kEd25519:
      return static_cast<const EVP_MD*>(nullptr);
    case KeyAlgorithm::kEcP256:
    case KeyAlgorithm::kRsa:
      return EVP_sha256();
  }
  return make_error("unknown key algorithm");
}

}  // namespace internal

Result<CertificateAuthority> CertificateAuthority::create_root(EvpPkeyPtr key,
                                                               const SubjectName& subject,
                                                               seconds validity) {
  if (!key) return make_error("no key for the root CA");
  if (subject.common_name.empty() && subject.organization.empty()) {
    return make_error("a CA subject needs a common name or an organization");
  }
  if (auto alg = key_algorithm(*key); !alg) return alg.error();
  auto name = internal::build_subject_name(subject);
  if (!name) return name.error();
  auto x = internal::start_certificate(**name, *key, validity, nullptr);
  if (!x) return x.error();
  // The root is its own issuer: SKI first, so AKI can copy it.
  if (auto ok = add_ca_extensions(x->get(), x->get(), -1); !ok) return ok.error();
  if (auto ok = internal::sign_certificate(x->get(), *key); !ok) return ok.error();
  return CertificateAuthority(std::move(*x), std::move(key));
}

Result<CertificateAuthority> CertificateAuthority::open(X509Ptr certificate, EvpPkeyPtr key) {
  if (!certificate || !key) return make_error("a CA needs a certificate and a key");
  if (auto alg = key_algorithm(*key); !alg) return alg.error();
  if (X509_check_private_key(certificate.get(), key.get()) != 1) {
    internal::clear_openssl_errors();
    return make_error("the CA private key does not match the CA certificate");
  }
  if (X509_check_ca(certificate.get()) == 0 ||
      (X509_get_extension_flags(certificate.get()) & EXFLAG_BCONS) == 0) {
    return make_error("the certificate is not a CA certificate (basicConstraints CA:TRUE)");
  }
  if ((X509_get_extension_flags(certificate.get()) & EXFLAG_KUSAGE) == 0 ||
      (X509_get_key_usage(certificate.get()) & KU_KEY_CERT_SIGN) == 0) {
    return make_error("the CA certificate's keyUsage does not allow keyCertSign");
  }
  return CertificateAuthority(std::move(certificate), std::move(key));
}

Result<CertificateAuthority> CertificateAuthority::issue_intermediate(EvpPkeyPtr key,
                                                                      const SubjectName& subject,
                                                                      seconds validity,
                                                                      int path_length) const {
  if (!key) return make_error("no key for the intermediate CA");
  if (path_length < 0) return make_error("path length must not be negative");
  const long own = X509_get_pathlen(certificate_.get());
  if (own == 0) return make_error("this CA's pathlen:0 forbids issuing CA certificates");
  if (own > 0 && path_length >= own) {
    return make_error("path length " + std::to_string(path_length) +
                      " is not below this CA's pathlen:" + std::to_string(own));
  }
  if (subject.common_name.empty() && subject.organization.empty()) {
    return make_error("a CA subject needs a common name or an organization");
  }
  if (auto alg = key_algorithm(*key); !alg) return alg.error();
  auto name = internal::build_subject_name(subject);
  if (!name) return name.error();
  auto x = internal::start_certificate(**name, *key, validity, certificate_.get());
  if (!x) return x.error();
  if (auto ok = add_ca_extensions(x->get(), certificate_.get(), path_length); !ok) {
    return ok.error();
  }
  if (auto ok = internal::sign_certificate(x->get(), *key_); !ok) return ok.error();
  return CertificateAuthority(std::move(*x), std::move(key));
}

Result<X509Ptr> CertificateAuthority::issue_leaf(const EVP_PKEY& subject_public_key,
                                                 const LeafRequest& request) const {
  auto subject_alg = key_algorithm(subject_public_key);
  if (!subject_alg) return subject_alg.error();
  const SubjectAltNames& names = request.names;
  if (request.kind == LeafKind::kServer && names.dns_names.empty() && names.ip_addresses.empty()) {
    return make_error("a server certificate needs at least one DNS name or IP address");
  }
  if (names.dns_names.empty() && names.ip_addresses.empty() && names.uris.empty() &&
      names.emails.empty()) {
    return make_error("a client certificate needs at least one subject alternative name");
  }
  auto gens = internal::build_general_names(names);
  if (!gens) return gens.error();
  auto name = internal::build_subject_name(request.subject);
  if (!name) return name.error();
  const bool empty_subject = X509_NAME_entry_count(name->get()) == 0;

  auto x =
      internal::start_certificate(**name, subject_public_key, request.validity, certificate_.get());
  if (!x) return x.error();
  X509* issuer = certificate_.get();
  const char* key_usage = *subject_alg == KeyAlgorithm::kRsa
                              ? "critical,digitalSignature,keyEncipherment"
                              : "critical,digitalSignature";
  const char* eku = request.kind == LeafKind::kServer ? "serverAuth" : "clientAuth";
  for (auto [nid, value] : {std::pair<int, const char*>{NID_basic_constraints, "critical,CA:FALSE"},
                            {NID_key_usage, key_usage},
                            {NID_ext_key_usage, eku},
                            {NID_subject_key_identifier, "hash"},
                            {NID_authority_key_identifier, "keyid:always"}}) {
    if (auto ok = internal::add_fixed_extension(x->get(), issuer, nid, value); !ok)
      return ok.error();
  }
  // RFC 5280 4.2.1.6: with an empty subject the SAN carries the identity and
  // must be critical.
  if (X509_add1_ext_i2d(x->get(), NID_subject_alt_name, gens->get(), empty_subject ? 1 : 0,
                        X509V3_ADD_DEFAULT) != 1) {
    return internal::openssl_error("cannot add subjectAltName");
  }
  if (auto ok = internal::sign_certificate(x->get(), *key_); !ok) return ok.error();
  return std::move(*x);
}

SubjectAltNames subject_alt_names(const X509& certificate) {
  GeneralNamesPtr gens(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(&certificate, NID_subject_alt_name, nullptr, nullptr)));
  if (!gens) return {};
  return internal::alt_names_of(*gens);
}

Result<void> verify_chain(const X509& root, std::span<const X509* const> intermediates,
                          const X509& leaf) {
  X509StorePtr store(X509_STORE_new());
  X509StackPtr untrusted(sk_X509_new_null());
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !untrusted || !ctx) return internal::openssl_error("cannot set up verification");
  if (X509_STORE_add_cert(store.get(), const_cast<X509*>(&root)) != 1) {
    return internal::openssl_error("cannot add the trust anchor");
  }
  for (const X509* cert : intermediates) {
    X509Ptr ref = up_ref(*cert);
    if (sk_X509_push(untrusted.get(), ref.get()) <= 0)
      return internal::openssl_error("sk_X509_push");
    ref.release();  // owned by |untrusted|
  }
  if (X509_STORE_CTX_init(ctx.get(), store.get(), const_cast<X509*>(&leaf), untrusted.get()) != 1) {
    return internal::openssl_error("cannot set up verification");
  }
  X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_X509_STRICT);
  if (X509_verify_cert(ctx.get()) != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    const int depth = X509_STORE_CTX_get_error_depth(ctx.get());
    internal::clear_openssl_errors();
    return make_error(std::string("certificate chain does not verify: ") +
                      X509_verify_cert_error_string(err) + " (at depth " + std::to_string(depth) +
                      ")");
  }
  return {};
}

seconds seconds_until_expiry(const X509& certificate) {
  int days = 0;
  int secs = 0;
  if (ASN1_TIME_diff(&days, &secs, nullptr, X509_get0_notAfter(&certificate)) != 1) {
    internal::clear_openssl_errors();
    return seconds{LLONG_MIN / 2};  // unreadable: treat as long expired
  }
  return seconds{static_cast<long long>(days) * 86400 + secs};
}

}  // namespace idra::pki
