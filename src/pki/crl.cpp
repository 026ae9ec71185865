// crl.cpp: X.509 v2 certificate revocation lists (RFC 5280 section 5).
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <climits>
#include <stdexcept>

#include "idra/pki.hpp"
#include "pki/internal.hpp"

namespace idra::pki {

namespace {

using X509RevokedPtr = std::unique_ptr<X509_REVOKED, detail::Free<&X509_REVOKED_free>>;
using Asn1EnumeratedPtr = std::unique_ptr<ASN1_ENUMERATED, detail::Free<&ASN1_ENUMERATED_free>>;
using AuthorityKeyIdPtr = std::unique_ptr<AUTHORITY_KEYID, detail::Free<&AUTHORITY_KEYID_free>>;

struct ReasonName {
  int code;
  std::string_view name;
};

// RFC 5280 5.3.1. certificateHold (6) and removeFromCRL (8) are left out on
// purpose: a revocation here is never undone.
constexpr ReasonName kReasons[] = {
    {0, "unspecified"},        {1, "keyCompromise"}, {2, "cACompromise"},
    {3, "affiliationChanged"}, {4, "superseded"},    {5, "cessationOfOperation"},
    {9, "privilegeWithdrawn"}, {10, "aACompromise"},
};

// RFC 5280 4.1.2.2: serial numbers are at most 20 octets.
constexpr std::size_t kMaxSerialBytes = 20;

// magnitude drops the leading zero bytes of a big-endian serial, so that
// "00 0A" and "0A" sort and compare as the same number.
std::span<const unsigned char> magnitude(std::span<const unsigned char> serial) {
  std::size_t i = 0;
  while (i < serial.size() && serial[i] == 0) ++i;
  return serial.subspan(i);
}

bool serial_less(std::span<const unsigned char> a, std::span<const unsigned char> b) {
  a = magnitude(a);
  b = magnitude(b);
  if (a.size() != b.size()) return a.size() < b.size();
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
}

bool serial_equal(std::span<const unsigned char> a, std::span<const unsigned char> b) {
  a = magnitude(a);
  b = magnitude(b);
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

Result<Asn1TimePtr> time_at(std::int64_t unix_seconds) {
  // ASN1_TIME_set picks UTCTime up to 2049 and GeneralizedTime after, as
  // RFC 5280 5.1.2.4 requires.
  Asn1TimePtr t(ASN1_TIME_set(nullptr, static_cast<time_t>(unix_seconds)));
  if (!t) return internal::openssl_error("cannot encode a CRL time");
  return t;
}

Result<X509RevokedPtr> make_entry(const RevokedEntry& entry) {
  auto serial_bytes = magnitude(entry.serial);
  BignumPtr bn(BN_bin2bn(serial_bytes.data(), static_cast<int>(serial_bytes.size()), nullptr));
  if (!bn) return internal::openssl_error("BN_bin2bn");
  Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!serial) return internal::openssl_error("BN_to_ASN1_INTEGER");
  auto when = time_at(entry.revoked_at);
  if (!when) return when.error();
  X509RevokedPtr revoked(X509_REVOKED_new());
  if (!revoked || X509_REVOKED_set_serialNumber(revoked.get(), serial.get()) != 1 ||
      X509_REVOKED_set_revocationDate(revoked.get(), when->get()) != 1) {
    return internal::openssl_error("cannot fill in a CRL entry");
  }
  // RFC 5280 5.3.1: the reasonCode should be absent rather than unspecified.
  if (entry.reason != 0) {
    Asn1EnumeratedPtr code(ASN1_ENUMERATED_new());
    if (!code || ASN1_ENUMERATED_set(code.get(), entry.reason) != 1 ||
        X509_REVOKED_add1_ext_i2d(revoked.get(), NID_crl_reason, code.get(), 0, 0) != 1) {
      return internal::openssl_error("cannot add a CRL reason code");
    }
  }
  return revoked;
}

}  // namespace

std::optional<int> crl_reason_from_name(std::string_view name) {
  for (const ReasonName& r : kReasons) {
    if (r.name == name) return r.code;
  }
  return std::nullopt;
}

std::string_view crl_reason_name(int reason) {
  for (const ReasonName& r : kReasons) {
    if (r.code == reason) return r.name;
  }
  return {};
}

Result<std::vector<unsigned char>> make_crl(const CertificateAuthority& issuer,
                                            std::span<const RevokedEntry> revoked,
                                            std::uint64_t number, std::int64_t now_unix,
                                            std::chrono::seconds next_update_in) {
  if (next_update_in <= std::chrono::seconds{0}) {
    return make_error("the CRL's nextUpdate must lie after its thisUpdate");
  }
  // Check every entry before building anything, and sort by serial: relying
  // parties binary-search the list, and a stable order makes CRLs diffable.
  std::vector<const RevokedEntry*> entries;
  entries.reserve(revoked.size());
  for (const RevokedEntry& e : revoked) {
    if (magnitude(e.serial).empty()) return make_error("a revoked serial number is empty or zero");
    if (magnitude(e.serial).size() > kMaxSerialBytes) {
      return make_error("a revoked serial number is longer than 20 bytes");
    }
    if (crl_reason_name(e.reason).empty()) {
      return make_error("unknown CRL reason code " + std::to_string(e.reason));
    }
    entries.push_back(&e);
  }
  std::sort(entries.begin(), entries.end(), [](const RevokedEntry* a, const RevokedEntry* b) {
    return serial_less(a->serial, b->serial);
  });
  for (std::size_t i = 1; i < entries.size(); ++i) {
    if (serial_equal(entries[i - 1]->serial, entries[i]->serial)) {
      return make_error("a serial number is listed twice in the CRL");
    }
  }

  const X509& ca = issuer.certificate();
  // X509_get0_subject_key_id only reads, but is declared without const.
  const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(const_cast<X509*>(&ca));
  if (ski == nullptr) {
    return make_error("the issuing CA certificate has no subjectKeyIdentifier for the CRL's AKI");
  }
  auto md = internal::signing_digest(issuer.key());
  if (!md) return md.error();

  X509CrlPtr crl(X509_CRL_new());
  if (!crl) return internal::openssl_error("X509_CRL_new");
  auto this_update = time_at(now_unix);
  if (!this_update) return this_update.error();
  auto next_update = time_at(now_unix + static_cast<std::int64_t>(next_update_in.count()));
  if (!next_update) return next_update.error();
  if (X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(&ca)) != 1 ||
      X509_CRL_set1_lastUpdate(crl.get(), this_update->get()) != 1 ||
      X509_CRL_set1_nextUpdate(crl.get(), next_update->get()) != 1) {
    return internal::openssl_error("cannot fill in the CRL");
  }

  for (const RevokedEntry* e : entries) {
    auto entry = make_entry(*e);
    if (!entry) return entry.error();
    if (X509_CRL_add0_revoked(crl.get(), entry->get()) != 1) {
      return internal::openssl_error("cannot add a CRL entry");
    }
    entry->release();  // owned by |crl|
  }

  Asn1IntegerPtr crl_number(ASN1_INTEGER_new());
  if (!crl_number || ASN1_INTEGER_set_uint64(crl_number.get(), number) != 1 ||
      X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, crl_number.get(), 0, 0) != 1) {
    return internal::openssl_error("cannot add the cRLNumber");
  }
  // The AKI names the key that signs, so clients pick the right issuer
  // certificate when the CA has been re-keyed.
  AuthorityKeyIdPtr aki(AUTHORITY_KEYID_new());
  if (!aki) return internal::openssl_error("AUTHORITY_KEYID_new");
  aki->keyid = ASN1_OCTET_STRING_dup(ski);
  if (aki->keyid == nullptr ||
      X509_CRL_add1_ext_i2d(crl.get(), NID_authority_key_identifier, aki.get(), 0, 0) != 1) {
    return internal::openssl_error("cannot add the authorityKeyIdentifier");
  }

  if (X509_CRL_sign(crl.get(), const_cast<EVP_PKEY*>(&issuer.key()), *md) <= 0) {
    return internal::openssl_error("cannot sign the CRL");
  }
  int len = i2d_X509_CRL(crl.get(), nullptr);
  if (len <= 0) return internal::openssl_error("i2d_X509_CRL");
  std::vector<unsigned char> out(static_cast<std::size_t>(len));
  unsigned char* p = out.data();
  if (i2d_X509_CRL(crl.get(), &p) != len) return internal::openssl_error("i2d_X509_CRL");
  return out;
}

}  // namespace idra::pki
