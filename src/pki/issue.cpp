// issue.cpp: profile-driven end-entity issuance (issue_certificate) and the
// certificate building blocks it shares with ca.cpp through internal.hpp.
//
// Like ca.cpp, fixed extension values go through OpenSSL configuration
// strings written here, and everything that comes from a caller (names,
// URLs) is built as ASN.1 structures directly: a comma in a URL must not be
// able to add an entry of its own.
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <tuple>

#include "idra/pki.hpp"
#include "pki/internal.hpp"

namespace idra::pki {

namespace internal {

namespace {

using std::chrono::seconds;

constexpr seconds kMaxValidity{std::chrono::hours{24 * 366 * 50}};

bool is_ldh(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool printable_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

Result<void> check_dns_name(const std::string& name, bool allow_wildcard) {
  auto bad = [&](std::string_view why) {
    return make_error("invalid DNS name \"" + name + "\": " + std::string(why));
  };
  if (name.empty() || name.size() > 253) return bad("length must be 1 to 253");
  in_addr v4{};
  if (inet_pton(AF_INET, name.c_str(), &v4) == 1) {
    return bad("an IP address belongs in the IP list");
  }
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

Result<std::string> parse_ip(const std::string& text) {
  unsigned char buf[16];
  if (inet_pton(AF_INET, text.c_str(), buf) == 1) {
    return std::string(reinterpret_cast<char*>(buf), 4);
  }
  if (inet_pton(AF_INET6, text.c_str(), buf) == 1) {
    return std::string(reinterpret_cast<char*>(buf), 16);
  }
  return make_error("invalid IP address \"" + text + "\"");
}

std::string ip_text(const unsigned char* bytes, int len) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (len == 4) {
    inet_ntop(AF_INET, bytes, buf, sizeof buf);
  } else if (len == 16) {
    inet_ntop(AF_INET6, bytes, buf, sizeof buf);
  } else {
    return "(" + std::to_string(len) + "-byte address)";
  }
  return buf;
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

Result<Asn1IntegerPtr> random_serial() {
  unsigned char bytes[16];
  do {
    if (RAND_bytes(bytes, sizeof bytes) != 1) return openssl_error("RAND_bytes");
    bytes[0] &= 0x7f;
  } while (bytes[0] == 0);
  BignumPtr bn(BN_bin2bn(bytes, sizeof bytes, nullptr));
  if (!bn) return openssl_error("BN_bin2bn");
  Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!serial) return openssl_error("BN_to_ASN1_INTEGER");
  return serial;
}

// uri_name returns a GENERAL_NAME of type URI holding |uri| (validated).
Result<GeneralNamePtr> uri_name(const std::string& uri) {
  if (auto ok = check_uri(uri); !ok) return ok.error();
  GeneralNamePtr gen(GENERAL_NAME_new());
  ASN1_IA5STRING* s = ASN1_IA5STRING_new();
  if (!gen || s == nullptr || ASN1_STRING_set(s, uri.data(), static_cast<int>(uri.size())) != 1) {
    ASN1_IA5STRING_free(s);
    return openssl_error("cannot build a URI name");
  }
  GENERAL_NAME_set0_value(gen.get(), GEN_URI, s);
  return gen;
}

std::string entry_text(const X509_NAME& name, int nid) {
  int i = X509_NAME_get_index_by_NID(&name, nid, -1);
  if (i < 0) return {};
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(&name, i));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) {
    clear_openssl_errors();
    return {};
  }
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

}  // namespace

Result<void> check_uri(const std::string& uri) {
  auto bad = [&](std::string_view why) {
    return make_error("invalid URI \"" + uri.substr(0, 200) + "\": " + std::string(why));
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

Result<X509NamePtr> build_subject_name(const SubjectName& subject) {
  X509NamePtr name(X509_NAME_new());
  if (!name) return openssl_error("X509_NAME_new");
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
      clear_openssl_errors();
      return make_error(std::string("subject ") + f.label +
                        " must be valid UTF-8 of 1 to 64 characters");
    }
  }
  return name;
}

Result<GeneralNamesPtr> build_general_names(const SubjectAltNames& names) {
  GeneralNamesPtr gens(GENERAL_NAMES_new());
  if (!gens) return openssl_error("GENERAL_NAMES_new");
  auto push = [&](int type, std::string_view value) -> Result<void> {
    GeneralNamePtr gen(GENERAL_NAME_new());
    if (!gen) return openssl_error("GENERAL_NAME_new");
    if (type == GEN_IPADD) {
      Asn1OctetStringPtr os(ASN1_OCTET_STRING_new());
      if (!os ||
          ASN1_OCTET_STRING_set(os.get(), reinterpret_cast<const unsigned char*>(value.data()),
                                static_cast<int>(value.size())) != 1) {
        return openssl_error("ASN1_OCTET_STRING_set");
      }
      GENERAL_NAME_set0_value(gen.get(), type, os.release());
    } else {
      ASN1_IA5STRING* s = ASN1_IA5STRING_new();
      if (s == nullptr || ASN1_STRING_set(s, value.data(), static_cast<int>(value.size())) != 1) {
        ASN1_IA5STRING_free(s);
        return openssl_error("ASN1_STRING_set");
      }
      GENERAL_NAME_set0_value(gen.get(), type, s);
    }
    if (sk_GENERAL_NAME_push(gens.get(), gen.get()) <= 0)
      return openssl_error("sk_GENERAL_NAME_push");
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

Result<X509Ptr> start_certificate(const X509_NAME& subject, const EVP_PKEY& public_key,
                                  seconds validity, const X509* issuer) {
  if (validity <= seconds{0} || validity > kMaxValidity) {
    return make_error("certificate validity must be between 1 second and 50 years");
  }
  if (issuer != nullptr && seconds_until_expiry(*issuer) <= seconds{0}) {
    return make_error("the issuing CA certificate has expired");
  }
  X509Ptr x(X509_new());
  if (!x) return openssl_error("X509_new");
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
    return openssl_error("cannot fill in the certificate");
  }
  // A certificate outliving its issuer would fail validation after the
  // issuer expires anyway; say so in the certificate instead.
  if (issuer != nullptr &&
      ASN1_TIME_compare(X509_get0_notAfter(x.get()), X509_get0_notAfter(issuer)) > 0 &&
      X509_set1_notAfter(x.get(), X509_get0_notAfter(issuer)) != 1) {
    return openssl_error("cannot set notAfter");
  }
  return x;
}

Result<void> add_fixed_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509ExtensionPtr ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return openssl_error(std::string("cannot add extension ") + OBJ_nid2sn(nid));
  }
  return {};
}

Result<void> sign_certificate(X509* cert, const EVP_PKEY& key) {
  auto md = signing_digest(key);
  if (!md) return md.error();
  if (X509_sign(cert, const_cast<EVP_PKEY*>(&key), *md) <= 0) {
    return openssl_error("cannot sign the certificate");
  }
  return {};
}

SubjectName subject_name_of(const X509_NAME& name) {
  return SubjectName{entry_text(name, NID_commonName), entry_text(name, NID_organizationName),
                     entry_text(name, NID_organizationalUnitName)};
}

SubjectAltNames alt_names_of(const GENERAL_NAMES& names) {
  SubjectAltNames out;
  for (int i = 0; i < sk_GENERAL_NAME_num(&names); ++i) {
    const GENERAL_NAME* gen = sk_GENERAL_NAME_value(&names, i);
    int type = 0;
    const auto* s = static_cast<const ASN1_STRING*>(GENERAL_NAME_get0_value(gen, &type));
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

}  // namespace internal

namespace {

// check_rule applies one SAN rule of |profile| to |present|.
Result<void> check_rule(const Profile& profile, std::string_view field, SanRule rule,
                        bool present) {
  if (rule == SanRule::kRequired && !present) {
    return make_error("profile \"" + profile.name + "\": san." + std::string(field) +
                      " is required, but the identity has none");
  }
  if (rule == SanRule::kForbidden && present) {
    return make_error("profile \"" + profile.name + "\": san." + std::string(field) +
                      " is forbidden, but the identity has one");
  }
  return {};
}

// usage_list joins |names| into an OpenSSL configuration value after
// checking each against |known|: the profile struct is public, so its
// strings are not trusted to be the parser's.
Result<std::string> usage_list(const Profile& profile, const std::vector<std::string>& names,
                               std::initializer_list<std::string_view> known, const char* field) {
  std::string out;
  for (const std::string& n : names) {
    if (std::find(known.begin(), known.end(), n) == known.end()) {
      return make_error("profile \"" + profile.name + "\": unknown " + field + " \"" + n + "\"");
    }
    out += (out.empty() ? "" : ",") + n;
  }
  return out;
}

}  // namespace

Result<X509Ptr> issue_certificate(const CertificateAuthority& issuer, const EVP_PKEY& public_key,
                                  const Profile& profile, const Identity& identity,
                                  const IssueUrls& urls) {
  if (auto ok = accepts_key(profile, public_key); !ok) return ok.error();
  // URIs carry identifiers, which only the registration record can give.
  if (!identity.names.uris.empty()) {
    return make_error("URI names come only from the identifier, not from the request");
  }
  const bool has_identifier = !identity.identifier.empty();
  for (auto [field, rule, present] : {std::tuple<std::string_view, SanRule, bool>{
                                          "identifier", profile.identifier, has_identifier},
                                      {"dns", profile.dns, !identity.names.dns_names.empty()},
                                      {"ip", profile.ip, !identity.names.ip_addresses.empty()},
                                      {"email", profile.email, !identity.names.emails.empty()}}) {
    if (auto ok = check_rule(profile, field, rule, present); !ok) return ok.error();
  }

  SubjectAltNames names = identity.names;
  if (has_identifier) {
    if (std::any_of(identity.identifier.begin(), identity.identifier.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
      return make_error("the identifier contains a control character");
    }
    if (profile.identifier_uri) names.uris.push_back(identifier_uri(identity.identifier));
  }
  auto gens = internal::build_general_names(names);
  if (!gens) return gens.error();

  SubjectName subject = identity.subject;
  // The identifier names the subject when nothing else does, if it fits the
  // 64 characters X.520 allows a common name.
  if (subject.common_name.empty() && has_identifier && identity.identifier.size() <= 64) {
    subject.common_name = identity.identifier;
  }
  auto name = internal::build_subject_name(subject);
  if (!name) return name.error();
  const bool empty_subject = X509_NAME_entry_count(name->get()) == 0;
  const bool has_san = sk_GENERAL_NAME_num(gens->get()) > 0;
  if (empty_subject && !has_san) {
    return make_error("the certificate would name nobody: no subject and no alternative name");
  }

  auto key_usage = usage_list(profile, profile.key_usage,
                              {"digitalSignature", "keyEncipherment", "keyAgreement"}, "key usage");
  if (!key_usage) return key_usage.error();
  auto eku = usage_list(profile, profile.extended_key_usage,
                        {"clientAuth", "serverAuth", "OCSPSigning", "emailProtection"},
                        "extended key usage");
  if (!eku) return eku.error();

  auto x = internal::start_certificate(**name, public_key, profile.validity, &issuer.certificate());
  if (!x) return x.error();
  X509* cert = x->get();
  X509* ca = const_cast<X509*>(&issuer.certificate());  // read only, for the AKI
  if (auto ok = internal::add_fixed_extension(cert, ca, NID_basic_constraints, "critical,CA:FALSE");
      !ok) {
    return ok.error();
  }
  if (!key_usage->empty()) {
    const std::string value = "critical," + *key_usage;
    if (auto ok = internal::add_fixed_extension(cert, ca, NID_key_usage, value.c_str()); !ok) {
      return ok.error();
    }
  }
  if (!eku->empty()) {
    if (auto ok = internal::add_fixed_extension(cert, ca, NID_ext_key_usage, eku->c_str()); !ok) {
      return ok.error();
    }
  }
  for (auto [nid, value] : {std::pair<int, const char*>{NID_subject_key_identifier, "hash"},
                            {NID_authority_key_identifier, "keyid:always"}}) {
    if (auto ok = internal::add_fixed_extension(cert, ca, nid, value); !ok) return ok.error();
  }
  // RFC 5280 4.2.1.6: with an empty subject the SAN carries the identity and
  // must be critical.
  if (has_san && X509_add1_ext_i2d(cert, NID_subject_alt_name, gens->get(), empty_subject ? 1 : 0,
                                   X509V3_ADD_DEFAULT) != 1) {
    return internal::openssl_error("cannot add subjectAltName");
  }
  if (profile.crl_distribution_point && !urls.crl.empty()) {
    auto uri = internal::uri_name(urls.crl);
    if (!uri) return make_error("CRL URL: " + uri.error().message);
    std::unique_ptr<CRL_DIST_POINTS, detail::Free<&CRL_DIST_POINTS_free>> points(
        CRL_DIST_POINTS_new());
    std::unique_ptr<DIST_POINT, detail::Free<&DIST_POINT_free>> point(DIST_POINT_new());
    DIST_POINT_NAME* dp_name = DIST_POINT_NAME_new();
    GENERAL_NAMES* full = GENERAL_NAMES_new();
    if (!points || !point || dp_name == nullptr || full == nullptr) {
      DIST_POINT_NAME_free(dp_name);
      GENERAL_NAMES_free(full);
      return internal::openssl_error("cannot build the CRL distribution point");
    }
    dp_name->type = 0;  // fullName
    dp_name->name.fullname = full;
    point->distpoint = dp_name;  // |point| owns both from here
    if (sk_GENERAL_NAME_push(full, uri->get()) <= 0) return internal::openssl_error("push");
    uri->release();
    if (sk_DIST_POINT_push(points.get(), point.get()) <= 0) return internal::openssl_error("push");
    point.release();
    if (X509_add1_ext_i2d(cert, NID_crl_distribution_points, points.get(), 0, X509V3_ADD_DEFAULT) !=
        1) {
      return internal::openssl_error("cannot add the CRL distribution point");
    }
  }
  if (profile.ocsp_url && !urls.ocsp.empty()) {
    auto uri = internal::uri_name(urls.ocsp);
    if (!uri) return make_error("OCSP URL: " + uri.error().message);
    std::unique_ptr<AUTHORITY_INFO_ACCESS, detail::Free<&AUTHORITY_INFO_ACCESS_free>> aia(
        AUTHORITY_INFO_ACCESS_new());
    std::unique_ptr<ACCESS_DESCRIPTION, detail::Free<&ACCESS_DESCRIPTION_free>> ad(
        ACCESS_DESCRIPTION_new());
    if (!aia || !ad) return internal::openssl_error("cannot build the AIA extension");
    ASN1_OBJECT_free(ad->method);
    ad->method = OBJ_nid2obj(NID_ad_OCSP);
    GENERAL_NAME_free(ad->location);
    ad->location = uri->release();
    if (sk_ACCESS_DESCRIPTION_push(aia.get(), ad.get()) <= 0) {
      return internal::openssl_error("push");
    }
    ad.release();
    if (X509_add1_ext_i2d(cert, NID_info_access, aia.get(), 0, X509V3_ADD_DEFAULT) != 1) {
      return internal::openssl_error("cannot add the AIA extension");
    }
  }
  if (profile.ocsp_no_check) {
    std::unique_ptr<ASN1_NULL, detail::Free<&ASN1_NULL_free>> null(ASN1_NULL_new());
    if (!null ||
        X509_add1_ext_i2d(cert, NID_id_pkix_OCSP_noCheck, null.get(), 0, X509V3_ADD_DEFAULT) != 1) {
      return internal::openssl_error("cannot add id-pkix-ocsp-nocheck");
    }
  }
  if (auto ok = internal::sign_certificate(cert, issuer.key()); !ok) return ok.error();
  return std::move(*x);
}

}  // namespace idra::pki
