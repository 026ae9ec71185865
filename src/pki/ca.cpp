// ca.cpp: certificate issuance (root, intermediate, leaf) and chain checks.
//
// Fixed extension values go through OpenSSL's v3 configuration strings,
// which are written here and never contain caller input. Subject alternative
// names are caller input and are built as GENERAL_NAMEs directly: a config
// string would let a comma in a "DNS name" add an entry of its own.
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <ctime>
#include <stdexcept>

#include "idra/pki.hpp"
#include "pki/internal.hpp"

namespace idra::pki {

namespace {

using std::chrono::seconds;

constexpr seconds kMaxValidity{std::chrono::hours{24 * 366 * 50}};

bool is_ldh(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// check_dns_name accepts a lowercased host name of LDH labels, optionally
// with "*" as the whole first label followed by at least two labels.
Result<void> check_dns_name(const std::string& name, bool allow_wildcard) {
  auto bad = [&](std::string_view why) {
    return make_error("invalid DNS name \"" + name + "\": " + std::string(why));
  };
  if (name.empty() || name.size() > 253) return bad("length must be 1 to 253");
  in_addr v4{};
  if (inet_pton(AF_INET, name.c_str(), &v4) == 1)
    return bad("an IP address belongs in the IP list");
  std::size_t start = 0;
  int labels = 0;
  bool wildcard = false;
  while (true) {
    std::size_t dot = name.find('.', start);
    std::string_view label = std::string_view(name).substr(
        start, dot == std::string::npos ? std::string::npos : dot - start);
    if (label.empty()) return bad("empty label");
    if (label.size() > 63) return bad("label longer than 63 characters");
    if (label == "*" && labels == 0 && allow_wildcard) {
      wildcard = true;
    } else {
      if (!std::all_of(label.begin(), label.end(), is_ldh)) {
        return bad("only letters, digits, '-' and '.' are allowed");
      }
      if (label.front() == '-' || label.back() == '-') return bad("label starts or ends with '-'");
    }
    ++labels;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (wildcard && labels < 3) return bad("a wildcard needs at least two labels after it");
  return {};
}

// parse_ip returns the 4 or 16 address bytes of |text|.
Result<std::string> parse_ip(const std::string& text) {
  unsigned char buf[16];
  if (inet_pton(AF_INET, text.c_str(), buf) == 1)
    return std::string(reinterpret_cast<char*>(buf), 4);
  if (inet_pton(AF_INET6, text.c_str(), buf) == 1) {
    return std::string(reinterpret_cast<char*>(buf), 16);
  }
  return make_error("invalid IP address \"" + text + "\"");
}

std::string ip_text(const unsigned char* bytes, int len) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (len == 4)
    inet_ntop(AF_INET, bytes, buf, sizeof buf);
  else if (len == 16)
    inet_ntop(AF_INET6, bytes, buf, sizeof buf);
  else
    return "(" + std::to_string(len) + "-byte address)";
  return buf;
}

bool printable_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

Result<void> check_uri(const std::string& uri) {
  auto bad = [&](std::string_view why) {
    return make_error("invalid URI \"" + uri + "\": " + std::string(why));
  };
  if (uri.size() > 2048) return bad("longer than 2048 characters");
  if (!printable_ascii(uri)) return bad("only printable ASCII without spaces is allowed");
  std::size_t colon = uri.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == uri.size()) {
    return bad("an absolute URI (scheme:rest) is required");
  }
  if (!std::isalpha(static_cast<unsigned char>(uri[0])))
    return bad("scheme must start with a letter");
  for (std::size_t i = 1; i < colon; ++i) {
    char c = uri[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return bad("invalid character in scheme");
    }
  }
  return {};
}

Result<std::string> check_email(const std::string& email) {
  auto bad = [&](std::string_view why) {
    return make_error("invalid email name \"" + email + "\": " + std::string(why));
  };
  if (!printable_ascii(email)) return bad("only printable ASCII without spaces is allowed");
  std::size_t at = email.find('@');
  if (at == std::string::npos || at != email.rfind('@')) return bad("exactly one '@' is required");
  if (at == 0 || at > 64) return bad("the local part must be 1 to 64 characters");
  std::string domain = lowercase(email.substr(at + 1));
  if (auto ok = check_dns_name(domain, false); !ok) return bad("bad domain");
  return email.substr(0, at + 1) + domain;
}

Result<X509NamePtr> build_name(const SubjectName& subject) {
  X509NamePtr name(X509_NAME_new());
  if (!name) return internal::openssl_error("X509_NAME_new");
  struct Field {
    int nid;
    const std::string* value;
    const char* label;
  };
  // Order from general to specific, as RFC 4514 strings read backwards.
  const Field fields[] = {
      {NID_organizationName, &subject.organization, "organization"},
      {NID_organizationalUnitName, &subject.organizational_unit, "organizational unit"},
      {NID_commonName, &subject.common_name, "common name"}};
  for (const Field& f : fields) {
    if (f.value->empty()) continue;
    if (std::any_of(f.value->begin(), f.value->end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
      return make_error(std::string("subject ") + f.label + " contains a control character");
    }
    if (X509_NAME_add_entry_by_NID(name.get(), f.nid, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(f.value->data()),
                                   static_cast<int>(f.value->size()), -1, 0) != 1) {
      internal::clear_openssl_errors();
      return make_error(std::string("subject ") + f.label +
                        " must be valid UTF-8 of 1 to 64 characters");
    }
  }
  return name;
}

// random_serial returns 16 CSPRNG bytes as a positive INTEGER: top bit clear
// so it is not negative, first byte non-zero so DER keeps all 16 bytes.
Result<Asn1IntegerPtr> random_serial() {
  unsigned char bytes[16];
  do {
    if (RAND_bytes(bytes, sizeof bytes) != 1) return internal::openssl_error("RAND_bytes");
    bytes[0] &= 0x7f;
  } while (bytes[0] == 0);
  BignumPtr bn(BN_bin2bn(bytes, sizeof bytes, nullptr));
  if (!bn) return internal::openssl_error("BN_bin2bn");
  Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!serial) return internal::openssl_error("BN_to_ASN1_INTEGER");
  return serial;
}

// signing_digest returns the digest for signatures by |key|; nullptr for
// Ed25519, which hashes internally.
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

Result<void> add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509ExtensionPtr ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return internal::openssl_error(std::string("cannot add extension ") + OBJ_nid2sn(nid));
  }
  return {};
}

// start_certificate returns an unsigned v3 certificate with serial, names,
// validity and public key set. |issuer| is null for a self-signed one.
Result<X509Ptr> start_certificate(const X509_NAME& subject, const EVP_PKEY& public_key,
                                  seconds validity, const X509* issuer) {
  if (validity <= seconds{0} || validity > kMaxValidity) {
    return make_error("certificate validity must be between 1 second and 50 years");
  }
  if (issuer != nullptr && seconds_until_expiry(*issuer) <= seconds{0}) {
    return make_error("the issuing CA certificate has expired");
  }
  X509Ptr x(X509_new());
  if (!x) return internal::openssl_error("X509_new");
  auto serial = random_serial();
  if (!serial) return serial.error();
  const X509_NAME* issuer_name = issuer ? X509_get_subject_name(issuer) : &subject;
  const long validity_s = static_cast<long>(validity.count());
  if (X509_set_version(x.get(), X509_VERSION_3) != 1 ||
      X509_set_serialNumber(x.get(), serial->get()) != 1 ||
      X509_set_subject_name(x.get(), &subject) != 1 ||
      X509_set_issuer_name(x.get(), issuer_name) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(x.get()), -static_cast<long>(kBackdate.count())) ==
          nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(x.get()), static_cast<int>(validity_s / 86400),
                       validity_s % 86400, nullptr) == nullptr ||
      X509_set_pubkey(x.get(), const_cast<EVP_PKEY*>(&public_key)) != 1) {
    return internal::openssl_error("cannot fill in the certificate");
  }
  // A certificate outliving its issuer would fail validation after the
  // issuer expires anyway; say so in the certificate instead.
  if (issuer != nullptr &&
      ASN1_TIME_compare(X509_get0_notAfter(x.get()), X509_get0_notAfter(issuer)) > 0 &&
      X509_set1_notAfter(x.get(), X509_get0_notAfter(issuer)) != 1) {
    return internal::openssl_error("cannot set notAfter");
  }
  return x;
}

Result<void> sign(X509* cert, const EVP_PKEY& key) {
  auto md = signing_digest(key);
  if (!md) return md.error();
  if (X509_sign(cert, const_cast<EVP_PKEY*>(&key), *md) <= 0) {
    return internal::openssl_error("cannot sign the certificate");
  }
  return {};
}

Result<void> add_ca_extensions(X509* cert, X509* issuer, int path_length) {
  std::string bc = "critical,CA:TRUE";
  if (path_length >= 0) bc += ",pathlen:" + std::to_string(path_length);
  for (auto [nid, value] : {std::pair<int, const char*>{NID_basic_constraints, bc.c_str()},
                            {NID_key_usage, "critical,keyCertSign,cRLSign"},
                            {NID_subject_key_identifier, "hash"},
                            {NID_authority_key_identifier, "keyid:always"}}) {
    if (auto ok = add_extension(cert, issuer, nid, value); !ok) return ok;
  }
  return {};
}

Result<GeneralNamesPtr> build_alt_names(const SubjectAltNames& names) {
  GeneralNamesPtr gens(GENERAL_NAMES_new());
  if (!gens) return internal::openssl_error("GENERAL_NAMES_new");
  auto push = [&](int type, std::string_view value) -> Result<void> {
    GeneralNamePtr gen(GENERAL_NAME_new());
    if (!gen) return internal::openssl_error("GENERAL_NAME_new");
    if (type == GEN_IPADD) {
      Asn1OctetStringPtr os(ASN1_OCTET_STRING_new());
      if (!os ||
          ASN1_OCTET_STRING_set(os.get(), reinterpret_cast<const unsigned char*>(value.data()),
                                static_cast<int>(value.size())) != 1) {
        return internal::openssl_error("ASN1_OCTET_STRING_set");
      }
      GENERAL_NAME_set0_value(gen.get(), type, os.release());
    } else {
      ASN1_IA5STRING* s = ASN1_IA5STRING_new();
      if (s == nullptr || ASN1_STRING_set(s, value.data(), static_cast<int>(value.size())) != 1) {
        ASN1_IA5STRING_free(s);
        return internal::openssl_error("ASN1_STRING_set");
      }
      GENERAL_NAME_set0_value(gen.get(), type, s);
    }
    if (sk_GENERAL_NAME_push(gens.get(), gen.get()) <= 0) {
      return internal::openssl_error("sk_GENERAL_NAME_push");
    }
    gen.release();  // now owned by |gens|
    return {};
  };
  for (const std::string& raw : names.dns_names) {
    std::string dns = lowercase(raw);
    if (auto ok = check_dns_name(dns, true); !ok) return ok.error();
    if (auto ok = push(GEN_DNS, dns); !ok) return ok.error();
  }
  for (const std::string& text : names.ip_addresses) {
    auto bytes = parse_ip(text);
    if (!bytes) return bytes.error();
    if (auto ok = push(GEN_IPADD, *bytes); !ok) return ok.error();
  }
  for (const std::string& uri : names.uris) {
    if (auto ok = check_uri(uri); !ok) return ok.error();
    if (auto ok = push(GEN_URI, uri); !ok) return ok.error();
  }
  for (const std::string& email : names.emails) {
    auto canonical = check_email(email);
    if (!canonical) return canonical.error();
    if (auto ok = push(GEN_EMAIL, *canonical); !ok) return ok.error();
  }
  return gens;
}

}  // namespace

Result<CertificateAuthority> CertificateAuthority::create_root(EvpPkeyPtr key,
                                                               const SubjectName& subject,
                                                               seconds validity) {
  if (!key) return make_error("no key for the root CA");
  if (subject.common_name.empty() && subject.organization.empty()) {
    return make_error("a CA subject needs a common name or an organization");
  }
  if (auto alg = key_algorithm(*key); !alg) return alg.error();
  auto name = build_name(subject);
  if (!name) return name.error();
  auto x = start_certificate(**name, *key, validity, nullptr);
  if (!x) return x.error();
  // The root is its own issuer: SKI first, so AKI can copy it.
  if (auto ok = add_ca_extensions(x->get(), x->get(), -1); !ok) return ok.error();
  if (auto ok = sign(x->get(), *key); !ok) return ok.error();
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
  auto name = build_name(subject);
  if (!name) return name.error();
  auto x = start_certificate(**name, *key, validity, certificate_.get());
  if (!x) return x.error();
  if (auto ok = add_ca_extensions(x->get(), certificate_.get(), path_length); !ok) {
    return ok.error();
  }
  if (auto ok = sign(x->get(), *key_); !ok) return ok.error();
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
  auto gens = build_alt_names(names);
  if (!gens) return gens.error();
  auto name = build_name(request.subject);
  if (!name) return name.error();
  const bool empty_subject = X509_NAME_entry_count(name->get()) == 0;

  auto x = start_certificate(**name, subject_public_key, request.validity, certificate_.get());
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
    if (auto ok = add_extension(x->get(), issuer, nid, value); !ok) return ok.error();
  }
  // RFC 5280 4.2.1.6: with an empty subject the SAN carries the identity and
  // must be critical.
  if (X509_add1_ext_i2d(x->get(), NID_subject_alt_name, gens->get(), empty_subject ? 1 : 0,
                        X509V3_ADD_DEFAULT) != 1) {
    return internal::openssl_error("cannot add subjectAltName");
  }
  if (auto ok = sign(x->get(), *key_); !ok) return ok.error();
  return std::move(*x);
}

SubjectAltNames subject_alt_names(const X509& certificate) {
  SubjectAltNames out;
  GeneralNamesPtr gens(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(&certificate, NID_subject_alt_name, nullptr, nullptr)));
  if (!gens) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(gens.get()); ++i) {
    const GENERAL_NAME* gen = sk_GENERAL_NAME_value(gens.get(), i);
    int type = 0;
    const void* value = GENERAL_NAME_get0_value(gen, &type);
    const auto* s = static_cast<const ASN1_STRING*>(value);
    auto text = [&] {
      return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                         static_cast<std::size_t>(ASN1_STRING_length(s)));
    };
    switch (type) {
      case GEN_DNS:
        out.dns_names.push_back(text());
        break;
      case GEN_URI:
        out.uris.push_back(text());
        break;
      case GEN_EMAIL:
        out.emails.push_back(text());
        break;
      case GEN_IPADD:
        out.ip_addresses.push_back(ip_text(ASN1_STRING_get0_data(s), ASN1_STRING_length(s)));
        break;
      default:
        break;
    }
  }
  return out;
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
