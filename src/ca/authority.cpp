// authority.cpp: issued certificates, tokens, enrollment and revocation over
// the store's tables; every change is one LMDB transaction.
#include <openssl/pem.h>
#include <sodium.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iterator>

#include "ca/codec.hpp"
#include "idra/ca.hpp"

namespace idra::ca {
namespace {

Error fail(int status, std::string message) { return Error{std::move(message), status}; }

std::string hex_upper(std::span<const unsigned char> bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

std::vector<unsigned char> bytes_of_hex(std::string_view hex) {
  std::vector<unsigned char> out;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return {};
    out.push_back(static_cast<unsigned char>(hi << 4 | lo));
  }
  return out;
}

// serial_key is the certs key of a serial given in any case, without
// leading zero bytes; empty if it is not hex.
std::string serial_key(std::string_view text) {
  auto bytes = bytes_of_hex(text);
  if (bytes.empty()) return {};
  std::size_t i = 0;
  while (i + 1 < bytes.size() && bytes[i] == 0) ++i;
  return hex_upper(std::span(bytes).subspan(i));
}

std::int64_t unix_of(const ASN1_TIME* t) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::string one_line_subject(const X509& cert) {
  char buf[512];
  X509_NAME_oneline(X509_get_subject_name(&cert), buf, sizeof buf);
  return buf;
}

std::string der_string(const X509& cert) {
  const auto der = pki::to_der(cert);
  return std::string(der.begin(), der.end());
}

std::string subject_field(const X509& cert, int nid) {
  const X509_NAME* name = X509_get_subject_name(&cert);
  const int i = X509_NAME_get_index_by_NID(name, nid, -1);
  if (i < 0) return {};
  const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
  unsigned char* utf8 = nullptr;
  const int n = ASN1_STRING_to_UTF8(&utf8, s);
  if (n < 0) return {};
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

std::string fingerprint_of_der(std::span<const unsigned char> der) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(der.data(), der.size(), md, &n, EVP_sha256(), nullptr);
  std::string out = hex_upper(std::span<const unsigned char>(md, n));
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Result<pki::X509Ptr> certificate_of_pem(const std::string& pem, const std::string& what) {
  auto certs = pki::certificates_from_pem(pem);
  if (!certs) return make_error(what + ": " + certs.error().message);
  return std::move((*certs)[0]);
}

CertEntry entry_of(const X509& cert, std::string_view identifier, std::string_view profile, std::string_view via,
                   std::int64_t now_unix) {
  CertEntry entry;
  entry.serial = pki::serial_hex(cert);
  entry.identifier = std::string(identifier);
  entry.profile = std::string(profile);
  entry.fingerprint = pki::sha256_fingerprint_hex(cert);
  entry.subject = one_line_subject(cert);
  entry.via = std::string(via);
  entry.issued_at = now_unix;
  entry.not_before = unix_of(X509_get0_notBefore(&cert));
  entry.not_after = unix_of(X509_get0_notAfter(&cert));
  entry.der = der_string(cert);
  return entry;
}

store::HandleValue text_value(std::uint32_t index, std::string type, std::string data, std::int64_t now) {
  store::HandleValue v;
  v.index = index;
  v.type = std::move(type);
  v.data = std::move(data);
  v.timestamp = now;
  return v;
}

// set_value replaces or inserts |v| in |record| (kept sorted by index).
void set_value(store::Record& record, store::HandleValue v) {
  auto it = std::lower_bound(record.values.begin(), record.values.end(), v.index,
                             [](const store::HandleValue& a, std::uint32_t i) { return a.index < i; });
  if (it != record.values.end() && it->index == v.index) {
    *it = std::move(v);
  } else {
    record.values.insert(it, std::move(v));
  }
}

bool served_here(const store::Store& store, std::string_view handle) {
  auto parsed = ids::parse_handle(handle);
  if (!parsed) return false;
  for (const auto& p : ids::prefix_ancestors(parsed->prefix)) {
    if (store.is_homed(p)) return true;
  }
  return false;
}

}  // namespace

Authority::Authority(store::Store& store, pki::IssuingCa ca, std::vector<pki::Profile> profiles,
                     Config config, ids::MappingConfig mapping)
    : store_(store),
      ca_(std::move(ca)),
      profiles_(std::move(profiles)),
      config_(std::move(config)),
      mapping_(std::move(mapping)) {}

Authority::~Authority() = default;

Result<std::unique_ptr<Authority>> Authority::open(store::Store& store, const std::filesystem::path& data_dir,
                                                   const pki::Secret& passphrase,
                                                   const std::filesystem::path& profiles_dir, Config config,
                                                   ids::MappingConfig mapping) {
  auto profiles = pki::load_profiles(profiles_dir);
  if (!profiles) return profiles.error();
  const pki::Profile* ocsp = nullptr;
  for (const auto& p : *profiles) {
    if (p.name == "ocsp") ocsp = &p;
  }
  if (ocsp == nullptr) return make_error("no \"ocsp\" certificate profile");
  const pki::IssueUrls urls{config.http_base + "/crl/intermediate.crl", config.http_base + "/ocsp"};
  auto ca = pki::open_issuing_ca(data_dir, passphrase, *ocsp, urls);
  if (!ca) return ca.error();
  std::unique_ptr<Authority> a(
      new Authority(store, std::move(ca).value(), std::move(profiles).value(), std::move(config), std::move(mapping)));
  a->root_fingerprint_ = pki::sha256_fingerprint_hex(*a->ca_.root);
  if (auto r = a->load_root_crl(data_dir, passphrase, static_cast<std::int64_t>(std::time(nullptr))); !r) {
    return r.error();
  }
  for (std::size_t i = 0; i < a->config_.idevid_anchors.size(); ++i) {
    const auto& anchor = a->config_.idevid_anchors[i];
    auto cert = certificate_of_pem(anchor.certificate, "IDevID anchor \"" + anchor.name + "\"");
    if (!cert) return cert.error();
    if (anchor.map_from != "serialNumber" && anchor.map_from != "uri") {
      return make_error("IDevID anchor \"" + anchor.name + "\": map_from must be serialNumber or uri");
    }
    if (anchor.map_from == "serialNumber" && anchor.identifier_template.find("{serial}") == std::string::npos) {
      return make_error("IDevID anchor \"" + anchor.name + "\": identifier_template needs {serial}");
    }
    if (a->profile(anchor.profile) == nullptr) {
      return make_error("IDevID anchor \"" + anchor.name + "\": no profile \"" + anchor.profile + "\"");
    }
    a->idevid_anchors_.emplace_back(std::move(cert).value(), i);
  }
  for (std::size_t i = 0; i < a->config_.external_cas.size(); ++i) {
    const auto& ext = a->config_.external_cas[i];
    auto cert = certificate_of_pem(ext.certificate, "external CA \"" + ext.name + "\"");
    if (!cert) return cert.error();
    a->external_anchors_.emplace_back(std::move(cert).value(), i);
  }
  return a;
}

const pki::Profile* Authority::profile(std::string_view name) const {
  for (const auto& p : profiles_) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

pki::IssueUrls Authority::urls() const {
  return {config_.http_base + "/crl/intermediate.crl", config_.http_base + "/ocsp"};
}

// ---------------------------------------------------------------------------
// Tokens.

Result<std::string> Authority::create_token(std::string_view identifier, std::string_view profile_name,
                                            std::chrono::seconds ttl, std::int64_t now_unix,
                                            const CommitHook& also) {
  auto id = ids::identify(identifier, mapping_);
  if (!id) return fail(400, "identifier: " + id.error().message);
  const pki::Profile* p = profile(profile_name);
  if (p == nullptr) return fail(400, "no certificate profile \"" + std::string(profile_name) + "\"");
  if (!p->enrollable) return fail(400, "profile \"" + p->name + "\" cannot be requested over EST");
  if (ttl.count() <= 0 || ttl > config_.max_token_ttl) {
    return fail(400, "ttl must be between 1 second and " + std::to_string(config_.max_token_ttl.count()) + " seconds");
  }
  if (!served_here(store_, id->handle)) {
    return fail(404, "the prefix of " + id->handle + " is not homed on this node");
  }
  const std::string token_id = auth::random_hex(16);
  std::string secret = auth::random_secret(24);
  auto hash = auth::hash_secret(secret, config_.token_hash);
  if (!hash) return fail(500, hash.error().message);
  codec::TokenEntry entry{id->handle, p->name, *hash, now_unix, now_unix + ttl.count(), 0, {}};
  auto written = store_.transact([&](store::WriteView& v) -> Result<void> {
    v.put(store::Table::tokens, token_id, codec::encode(entry));
    if (also) also(v, {});
    return {};
  });
  if (!written) {
    sodium_memzero(secret.data(), secret.size());
    return fail(500, written.error().message);
  }
  std::string token = token_id + "." + secret;
  sodium_memzero(secret.data(), secret.size());
  return token;
}

// ---------------------------------------------------------------------------
// Enrollment.

namespace {

// check_csr_identity refuses a CSR that names an identifier other than
// |identifier|: an hdl: URI SAN, or a common name that reads as an
// identifier (it contains '/'). Anything else the CSR asks for is ignored.
Result<void> check_csr_identity(const pki::CsrInfo& csr, const std::string& identifier,
                                const ids::MappingConfig& mapping) {
  for (const auto& uri : csr.names.uris) {
    auto named = pki::identifier_from_uri(uri);
    if (!named) continue;
    auto canon = ids::identify(*named, mapping);
    if (!canon || canon->handle != identifier) {
      return fail(400, "the CSR names identifier " + named->substr(0, 200) + " but the enrollment is for " + identifier);
    }
  }
  const std::string& cn = csr.subject.common_name;
  if (cn.find('/') != std::string::npos) {
    auto canon = ids::identify(cn, mapping);
    if (canon && canon->handle != identifier) {
      return fail(400, "the CSR's common name names identifier " + cn.substr(0, 200) +
                           " but the enrollment is for " + identifier);
    }
  }
  return {};
}

}  // namespace

Result<Enrolled> Authority::enroll(const std::string& identifier, const pki::Profile& profile,
                                   const pki::CsrInfo& csr, std::string_view via,
                                   const std::optional<std::string>& token_id, std::int64_t now_unix,
                                   const CommitHook& also) {
  if (auto ok = pki::accepts_key(profile, *csr.public_key); !ok) return fail(400, ok.error().message);
  if (auto ok = check_csr_identity(csr, identifier, mapping_); !ok) return ok.error();
  if (!identifier.empty() && !served_here(store_, identifier)) {
    return fail(404, "the prefix of " + identifier + " is not homed on this node");
  }
  pki::Identity identity;
  identity.identifier = identifier;
  if (identifier.size() <= 64) identity.subject.common_name = identifier;
  auto cert = pki::issue_certificate(ca_.issuer, *csr.public_key, profile, identity, urls());
  if (!cert) return fail(400, cert.error().message);
  return commit(std::move(cert).value(), identifier, profile.name, via, token_id, now_unix, also);
}

Result<Enrolled> Authority::enroll_with_token(const TokenAuth& auth, std::span<const unsigned char> csr_der,
                                              std::string_view label, std::int64_t now_unix,
                                              const CommitHook& also) {
  // The token first: nothing about the CSR is looked at for an unauthorized client.
  const auto dot = auth.token.find('.');
  if (dot != 32 || auth.token.size() > 200) return fail(401, "malformed enrollment token");
  const std::string token_id = auth.token.substr(0, dot);
  const std::string_view secret = std::string_view(auth.token).substr(dot + 1);
  std::optional<std::string> stored;
  store_.view([&](const store::ReadView& v) { stored = v.get(store::Table::tokens, token_id); });
  if (!stored) return fail(401, "unknown enrollment token");
  const auto token = codec::decode_token(*stored);
  if (!auth::verify_secret(token.hash, secret)) return fail(401, "wrong enrollment token");
  auto id = ids::identify(auth.identifier, mapping_);
  if (!id || id->handle != token.identifier) {
    return fail(401, "the enrollment token is for another identifier");
  }
  if (token.used_at != 0) return fail(401, "enrollment token already used");
  if (now_unix >= token.expires_at) return fail(401, "enrollment token expired at " + format_time(token.expires_at));
  if (!label.empty() && label != token.profile) {
    return fail(403, "the token is for profile \"" + token.profile + "\", not \"" + std::string(label) + "\"");
  }
  const pki::Profile* p = profile(token.profile);
  if (p == nullptr) return fail(500, "the token's profile \"" + token.profile + "\" no longer exists");
  auto csr = pki::parse_csr(csr_der);
  if (!csr) return fail(400, "CSR: " + csr.error().message);
  return enroll(token.identifier, *p, *csr, "token", token_id, now_unix, also);
}

Result<Enrolled> Authority::enroll_with_idevid(const ClientCert& idevid, std::span<const unsigned char> csr_der,
                                               std::string_view label, std::int64_t now_unix,
                                               const CommitHook& also) {
  if (idevid.kind != ClientCert::Kind::idevid) return fail(403, "not an IDevID certificate");
  if (!label.empty() && label != idevid.profile) {
    return fail(403, "IDevID enrollment is for profile \"" + idevid.profile + "\", not \"" + std::string(label) + "\"");
  }
  const pki::Profile* p = profile(idevid.profile);
  if (p == nullptr) return fail(500, "no profile \"" + idevid.profile + "\"");
  auto csr = pki::parse_csr(csr_der);
  if (!csr) return fail(400, "CSR: " + csr.error().message);
  return enroll(idevid.identifier, *p, *csr, "idevid", std::nullopt, now_unix, also);
}

Result<Enrolled> Authority::reenroll(const ClientCert& current, std::span<const unsigned char> csr_der,
                                     std::string_view label, std::int64_t now_unix, const CommitHook& also) {
  if (current.kind != ClientCert::Kind::issued) {
    return fail(403, "re-enrollment needs a certificate issued by this CA");
  }
  auto entry = find(current.serial);
  if (!entry) return fail(403, "the client certificate is not known to this CA");
  if (entry->revoked) return fail(403, "the client certificate is revoked");
  if (now_unix > entry->not_after + config_.reenroll_grace.count()) {
    return fail(403, "the client certificate expired more than the re-enrollment grace period ago");
  }
  if (!label.empty() && label != entry->profile) {
    return fail(403, "the certificate is of profile \"" + entry->profile + "\", not \"" + std::string(label) + "\"");
  }
  const pki::Profile* p = profile(entry->profile);
  if (p == nullptr) return fail(500, "the certificate's profile \"" + entry->profile + "\" no longer exists");
  auto csr = pki::parse_csr(csr_der);
  if (!csr) return fail(400, "CSR: " + csr.error().message);
  return enroll(entry->identifier, *p, *csr, "reenroll", std::nullopt, now_unix, also);
}

// ---------------------------------------------------------------------------
// Administration.

Result<Enrolled> Authority::issue(const EVP_PKEY& public_key, const IssueRequest& request, std::int64_t now_unix,
                                  const CommitHook& also) {
  const pki::Profile* p = profile(request.profile);
  if (p == nullptr) return fail(400, "no certificate profile \"" + request.profile + "\"");
  std::string identifier;
  if (!request.identifier.empty()) {
    auto id = ids::identify(request.identifier, mapping_);
    if (!id) return fail(400, "identifier: " + id.error().message);
    identifier = id->handle;
    if (!served_here(store_, identifier)) return fail(404, "the prefix of " + identifier + " is not homed on this node");
  }
  if (auto ok = pki::accepts_key(*p, public_key); !ok) return fail(400, ok.error().message);
  pki::Identity identity;
  identity.identifier = identifier;
  identity.subject = request.subject;
  if (identity.subject.common_name.empty() && identifier.size() <= 64) identity.subject.common_name = identifier;
  identity.names = request.names;
  auto cert = pki::issue_certificate(ca_.issuer, public_key, *p, identity, urls());
  if (!cert) return fail(400, cert.error().message);
  return commit(std::move(cert).value(), identifier, p->name, request.via, std::nullopt, now_unix, also);
}

// commit records a freshly issued certificate in one transaction: its entry
// and indexes, the consumption of |token_id| (re-read inside the
// transaction, so that of two enrollments racing with one token exactly one
// commits) and, when there is an identifier, the values of its record.
Result<Enrolled> Authority::commit(pki::X509Ptr cert, const std::string& identifier, std::string_view profile,
                                   std::string_view via, const std::optional<std::string>& token_id,
                                   std::int64_t now_unix, const CommitHook& also) {
  CertEntry entry = entry_of(*cert, identifier, profile, via, now_unix);
  const std::string pem = pki::to_pem(*cert);
  auto committed = store_.transact([&](store::WriteView& v) -> Result<void> {
    if (token_id) {
      auto stored = v.get(store::Table::tokens, *token_id);
      if (!stored) return fail(401, "unknown enrollment token");
      auto token = codec::decode_token(*stored);
      if (token.used_at != 0) return fail(401, "enrollment token already used");
      token.used_at = now_unix;
      token.used_by_serial = entry.serial;
      v.put(store::Table::tokens, *token_id, codec::encode(token));
    }
    v.put(store::Table::certs, entry.serial, codec::encode(entry));
    v.put(store::Table::cert_index, codec::fingerprint_key(entry.fingerprint), entry.serial);
    if (!identifier.empty()) {
      v.put(store::Table::cert_index, codec::identifier_key(identifier, entry.serial), "");
      store::Record record = v.record(identifier).value_or(store::Record{});
      set_value(record, text_value(kCertIndex, "IDRA_CERT", pem, now_unix));
      set_value(record, text_value(kCertStatusIndex, "IDRA_CERT_STATUS", "valid", now_unix));
      set_value(record, text_value(kCertProfileIndex, "IDRA_CERT_PROFILE", std::string(profile), now_unix));
      set_value(record, text_value(kEnrolledIndex, "IDRA_ENROLLED", format_time(now_unix), now_unix));
      set_value(record, text_value(kCertSerialIndex, "IDRA_CERT_SERIAL", entry.serial, now_unix));
      if (auto r = v.put_record(identifier, record); !r) return fail(400, r.error().message);
    }
    if (also) also(v, std::span<const CertEntry>(&entry, 1));
    return {};
  });
  if (!committed) return committed.error().code ? committed.error() : fail(500, committed.error().message);
  return Enrolled{std::move(entry), std::move(cert)};
}

Result<void> Authority::adopt(const X509& certificate, std::string_view profile_name, std::string_view via,
                              std::int64_t now_unix) {
  if (find(pki::serial_hex(certificate))) return {};
  const CertEntry entry = entry_of(certificate, "", profile_name, via, now_unix);
  return store_.transact([&](store::WriteView& v) -> Result<void> {
    v.put(store::Table::certs, entry.serial, codec::encode(entry));
    v.put(store::Table::cert_index, codec::fingerprint_key(entry.fingerprint), entry.serial);
    return {};
  });
}

std::optional<CertEntry> Authority::find(std::string_view serial_hex) const {
  const std::string key = serial_key(serial_hex);
  if (key.empty()) return std::nullopt;
  std::optional<CertEntry> out;
  store_.view([&](const store::ReadView& v) {
    if (auto bytes = v.get(store::Table::certs, key)) out = codec::decode_cert(*bytes);
  });
  return out;
}

Authority::Page Authority::list(std::string_view identifier, std::string_view cursor, std::size_t limit) const {
  Page page;
  limit = std::clamp<std::size_t>(limit, 1, 1000);
  store_.view([&](const store::ReadView& v) {
    if (identifier.empty()) {
      v.scan(store::Table::certs, "", [&](std::string_view key, std::string_view value) {
        if (!cursor.empty() && key <= cursor) return true;
        if (page.entries.size() == limit) {
          page.next_cursor = page.entries.back().serial;
          return false;
        }
        page.entries.push_back(codec::decode_cert(value));
        return true;
      }, cursor);
      return;
    }
    const std::string prefix = codec::identifier_key_prefix(identifier);
    const std::string start = cursor.empty() ? prefix : prefix + std::string(cursor);
    v.scan(store::Table::cert_index, prefix, [&](std::string_view key, std::string_view) {
      const std::string_view serial = key.substr(prefix.size());
      if (!cursor.empty() && serial <= cursor) return true;
      if (page.entries.size() == limit) {
        page.next_cursor = page.entries.back().serial;
        return false;
      }
      if (auto bytes = v.get(store::Table::certs, serial)) page.entries.push_back(codec::decode_cert(*bytes));
      return true;
    }, start);
  });
  return page;
}

Result<std::vector<CertEntry>> Authority::revoke(std::string_view serial_or_identifier, int reason,
                                                 std::int64_t now_unix, const CommitHook& also) {
  if (pki::crl_reason_name(reason).empty()) return fail(400, "unknown revocation reason code " + std::to_string(reason));
  std::vector<CertEntry> revoked;
  auto committed = store_.transact([&](store::WriteView& v) -> Result<void> {
    revoked.clear();
    std::vector<std::string> serials;
    const std::string as_serial = serial_key(serial_or_identifier);
    bool by_serial = false;
    if (!as_serial.empty() && v.get(store::Table::certs, as_serial)) {
      serials.push_back(as_serial);
      by_serial = true;
    } else {
      auto id = ids::identify(serial_or_identifier, mapping_);
      if (!id) return fail(404, "no certificate with serial or identifier " + std::string(serial_or_identifier.substr(0, 200)));
      const std::string prefix = codec::identifier_key_prefix(id->handle);
      v.scan(store::Table::cert_index, prefix, [&](std::string_view key, std::string_view) {
        serials.emplace_back(key.substr(prefix.size()));
        return true;
      });
      if (serials.empty()) return fail(404, "no certificate was issued for " + id->handle);
    }
    std::vector<std::string> touched_identifiers;
    for (const auto& serial : serials) {
      auto entry = codec::decode_cert(*v.get(store::Table::certs, serial));
      if (entry.revoked) {
        if (by_serial) return fail(409, "certificate " + serial + " is already revoked");
        continue;
      }
      entry.revoked = true;
      entry.revoked_at = now_unix;
      entry.reason = reason;
      v.put(store::Table::certs, serial, codec::encode(entry));
      if (!entry.identifier.empty()) touched_identifiers.push_back(entry.identifier);
      revoked.push_back(std::move(entry));
    }
    if (revoked.empty()) return fail(409, "every certificate of " + std::string(serial_or_identifier.substr(0, 200)) + " is already revoked");
    for (const auto& identifier : touched_identifiers) {
      auto record = v.record(identifier);
      if (!record) continue;
      // The status value speaks for the record's current certificate.
      std::string current;
      for (const auto& value : record->values) {
        if (value.index == kCertSerialIndex) current = value.data;
      }
      const bool current_revoked = std::any_of(revoked.begin(), revoked.end(),
                                               [&](const CertEntry& e) { return e.serial == current; });
      if (!current_revoked) continue;
      set_value(*record, text_value(kCertStatusIndex, "IDRA_CERT_STATUS",
                                    "revoked:" + std::string(pki::crl_reason_name(reason)), now_unix));
      if (auto r = v.put_record(identifier, *record); !r) return fail(500, r.error().message);
    }
    if (also) also(v, revoked);
    return {};
  });
  if (!committed) return committed.error().code ? committed.error() : fail(500, committed.error().message);
  {
    std::lock_guard lock(crl_mu_);
    crl_made_at_ = 0;  // the next crl() call regenerates
  }
  (void)crl(now_unix);
  return revoked;
}

// ---------------------------------------------------------------------------
// Status.

bool Authority::is_revoked(const X509& leaf) const {
  // Only our issuer's certificates have an answer here.
  if (X509_NAME_cmp(X509_get_issuer_name(&leaf), X509_get_subject_name(&ca_.issuer.certificate())) != 0) {
    return false;
  }
  auto entry = find(pki::serial_hex(leaf));
  // A certificate with our issuer's name that we have no record of was not
  // issued by this node's database: refuse it.
  return !entry || entry->revoked;
}

std::optional<ClientCert> Authority::classify(std::span<const std::vector<unsigned char>> chain_der,
                                              std::string_view fingerprint, std::int64_t now_unix) const {
  if (chain_der.empty()) return std::nullopt;
  auto leaf = pki::certificate_from_der(chain_der.front());
  if (!leaf) return std::nullopt;
  const std::string anchor_fp = fingerprint_of_der(chain_der.back());
  ClientCert out;
  out.fingerprint = std::string(fingerprint);
  out.serial = pki::serial_hex(**leaf);
  out.organization = subject_field(**leaf, NID_organizationName);
  if (anchor_fp == root_fingerprint_) {
    auto entry = find(out.serial);
    if (!entry || entry->fingerprint != fingerprint) return std::nullopt;
    out.kind = ClientCert::Kind::issued;
    out.identifier = entry->identifier;
    out.profile = entry->profile;
    const pki::Profile* p = profile(entry->profile);
    out.role = p ? p->role : entry->profile;
    out.expired = now_unix > entry->not_after;
    return out;
  }
  for (const auto& [anchor, i] : idevid_anchors_) {
    if (pki::sha256_fingerprint_hex(*anchor) != anchor_fp) continue;
    const auto& cfg = config_.idevid_anchors[i];
    out.kind = ClientCert::Kind::idevid;
    out.role = "idevid";
    out.profile = cfg.profile;
    std::string identifier;
    if (cfg.map_from == "uri") {
      for (const auto& uri : pki::subject_alt_names(**leaf).uris) {
        if (auto id = pki::identifier_from_uri(uri)) identifier = *id;
      }
    } else {
      const std::string serial = subject_field(**leaf, NID_serialNumber);
      if (!serial.empty()) {
        identifier = cfg.identifier_template;
        identifier.replace(identifier.find("{serial}"), 8, serial);
      }
    }
    if (identifier.empty()) return std::nullopt;
    auto id = ids::identify(identifier, mapping_);
    if (!id) return std::nullopt;
    out.identifier = id->handle;
    return out;
  }
  for (const auto& [anchor, i] : external_anchors_) {
    if (pki::sha256_fingerprint_hex(*anchor) != anchor_fp) continue;
    out.kind = ClientCert::Kind::external;
    out.role = config_.external_cas[i].role;
    for (const auto& uri : pki::subject_alt_names(**leaf).uris) {
      if (auto id = pki::identifier_from_uri(uri)) {
        if (auto canon = ids::identify(*id, mapping_)) out.identifier = canon->handle;
      }
    }
    return out;
  }
  return std::nullopt;
}

pki::ClientAuthConfig Authority::client_auth() const {
  pki::ClientAuthConfig c;
  c.trust_anchors.push_back(pki::up_ref(*ca_.root));
  for (const auto& [anchor, i] : idevid_anchors_) c.trust_anchors.push_back(pki::up_ref(*anchor));
  for (const auto& [anchor, i] : external_anchors_) c.trust_anchors.push_back(pki::up_ref(*anchor));
  c.untrusted.push_back(pki::up_ref(ca_.issuer.certificate()));
  c.is_revoked = [this](const X509& leaf) { return is_revoked(leaf); };
  // A lapsed certificate may still re-enroll (classify marks it expired, and
  // the api grants it nothing else).
  c.expired_leaf_grace = config_.reenroll_grace;
  return c;
}

Result<std::vector<unsigned char>> Authority::build_crl(std::int64_t now_unix) {
  std::vector<pki::RevokedEntry> revoked;
  std::uint64_t number = 1;
  auto committed = store_.transact([&](store::WriteView& v) -> Result<void> {
    revoked.clear();
    v.scan(store::Table::certs, "", [&](std::string_view, std::string_view value) {
      auto e = codec::decode_cert(value);
      // Expired certificates stay listed: relying parties may check old signatures.
      if (e.revoked) revoked.push_back({bytes_of_hex(e.serial), e.revoked_at, e.reason});
      return true;
    });
    if (auto n = v.get(store::Table::ca_state, "crl_number")) number = std::stoull(*n) + 1;
    v.put(store::Table::ca_state, "crl_number", std::to_string(number));
    return {};
  });
  if (!committed) return committed.error();
  return pki::make_crl(ca_.issuer, revoked, number, now_unix, config_.crl_validity);
}

Result<void> Authority::load_root_crl(const std::filesystem::path& data_dir, const pki::Secret& passphrase,
                                      std::int64_t now_unix) {
  constexpr std::int64_t kRenewBefore = 30 * 86400;
  const auto path = data_dir / "tls" / "root.crl";
  const auto key_path = data_dir / "tls" / "root.key";
  std::vector<unsigned char> current;
  std::int64_t next_update = 0;
  std::uint64_t number = 0;
  if (std::ifstream in{path, std::ios::binary}) {
    current.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    const unsigned char* p = current.data();
    pki::X509CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(current.size())));
    if (!crl || X509_CRL_verify(crl.get(), X509_get0_pubkey(ca_.root.get())) != 1) {
      return make_error(path.string() + " is not a CRL signed by the root CA; remove it to have it re-made");
    }
    next_update = X509_CRL_get0_nextUpdate(crl.get()) ? unix_of(X509_CRL_get0_nextUpdate(crl.get())) : 0;
    if (auto* n = static_cast<ASN1_INTEGER*>(X509_CRL_get_ext_d2i(crl.get(), NID_crl_number, nullptr, nullptr))) {
      number = static_cast<std::uint64_t>(ASN1_INTEGER_get(n));
      ASN1_INTEGER_free(n);
    }
  }
  if ((current.empty() || next_update - now_unix < kRenewBefore) && std::filesystem::exists(key_path)) {
    auto key = pki::load_private_key(key_path, passphrase);
    if (!key) return make_error("root key: " + key.error().message);
    auto root = pki::CertificateAuthority::open(pki::up_ref(*ca_.root), std::move(key).value());
    if (!root) return root.error();
    auto made = pki::make_crl(*root, {}, number + 1, now_unix, std::chrono::hours(24 * 365));
    if (!made) return made.error();
    const std::string bytes(made->begin(), made->end());
    if (auto w = pki::write_file_atomic(path, bytes, 0644, pki::WriteMode::kReplace); !w) return w.error();
    current = std::move(made).value();
  }
  root_crl_ = std::move(current);
  return {};
}

std::vector<unsigned char> Authority::crl(std::int64_t now_unix) {
  std::lock_guard lock(crl_mu_);
  if (crl_.empty() || crl_made_at_ == 0 || now_unix - crl_made_at_ >= config_.crl_refresh.count()) {
    auto made = build_crl(now_unix);
    if (made) {
      crl_ = std::move(made).value();
      crl_made_at_ = now_unix;
    } else {
      std::fprintf(stderr, "{\"level\":\"error\",\"msg\":\"CRL generation failed\",\"what\":\"%s\"}\n",
                   made.error().message.c_str());
    }
  }
  return crl_;
}

std::vector<unsigned char> Authority::ocsp(std::span<const unsigned char> request, std::int64_t now_unix) const {
  pki::OcspResponder responder{ca_.root ? &ca_.issuer.certificate() : nullptr, ca_.ocsp_signer.get(),
                               ca_.ocsp_key.get(), config_.ocsp_validity};
  auto lookup = [this](std::span<const unsigned char> serial) {
    pki::StatusAnswer answer;
    auto entry = find(hex_upper(serial));
    if (!entry) return answer;  // unknown
    if (entry->revoked) {
      answer.status = pki::CertStatus::kRevoked;
      answer.revoked_at = entry->revoked_at;
      answer.reason = entry->reason;
    } else {
      answer.status = pki::CertStatus::kGood;
    }
    return answer;
  };
  return pki::ocsp_respond(request, responder, lookup, now_unix);
}

std::vector<unsigned char> Authority::staple(const X509& leaf, std::int64_t now_unix) {
  std::lock_guard lock(staple_mu_);
  if (!staple_.empty() && now_unix - staple_made_at_ < config_.ocsp_validity.count() / 2) return staple_;
  const auto request = pki::ocsp_request_for(leaf, ca_.issuer.certificate());
  staple_ = ocsp(request, now_unix);
  staple_made_at_ = now_unix;
  return staple_;
}

std::string format_time(std::int64_t unix_seconds) {
  if (unix_seconds == 0) return {};
  const std::time_t tt = static_cast<std::time_t>(unix_seconds);
  struct tm tm {};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace idra::ca
