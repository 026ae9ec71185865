// ca.hpp: the node's certificate authority at work: issued certificates and
// their status, one-time enrollment tokens, enrollment (EST), revocation,
// CRLs, OCSP answers, and who a client certificate belongs to.
//
// The cryptography is pki's; this module keeps the CA's state in the store's
// tables (certs, cert_index, tokens, ca_state) and makes every change one
// LMDB transaction: an enrollment writes the certificate, consumes the token
// and creates or updates the device's identifier record together, or writes
// nothing.
#pragma once

#include <chrono>
#include <functional>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "idra/auth.hpp"
#include "idra/ids.hpp"
#include "idra/pki.hpp"
#include "idra/result.hpp"
#include "idra/store.hpp"

namespace idra::ca {

// IdevidAnchor is a manufacturer's IDevID trust anchor (IEEE 802.1AR). A
// device presenting an IDevID that chains to it may enroll for the
// identifier |identifier_template| names, "{serial}" replaced by the
// IDevID subject's serialNumber attribute (or, with map_from "uri", the
// identifier in its hdl: URI SAN).
struct IdevidAnchor {
  std::string name;         // for messages and the record
  std::string certificate;  // PEM of the anchor
  std::string map_from = "serialNumber";  // "serialNumber" or "uri"
  std::string identifier_template;        // "88.100.1/{serial}"
  std::string profile = "device";
};

// ExternalCa is another CA whose client certificates are accepted as
// principals of role |role| (partners, auditors), organization from the
// subject's O.
struct ExternalCa {
  std::string name;
  std::string certificate;  // PEM
  std::string role = "partner";
};

struct Config {
  // http_base is the node's plain-HTTP URL put into certificates (CRL
  // distribution point http_base + "/crl/intermediate.crl", OCSP
  // http_base + "/ocsp").
  std::string http_base = "http://127.0.0.1:8080";
  std::chrono::seconds reenroll_grace{std::chrono::hours{24 * 7}};
  std::chrono::seconds crl_validity{std::chrono::hours{24}};  // nextUpdate - thisUpdate
  std::chrono::seconds crl_refresh{std::chrono::hours{1}};    // regenerated at least this often
  std::chrono::seconds ocsp_validity{std::chrono::hours{1}};
  std::chrono::seconds max_token_ttl{std::chrono::hours{24 * 30}};
  // Argon2id cost of token hashes. A token's secret is 24 random bytes (192
  // bits): no guessing attack is helped by memory hardness, so the default
  // is Argon2id's minimum (t = 1, m = 8 KiB: about 0.06 ms, where 1 MiB
  // costs 2.4 ms and was the largest part of a token enrollment in
  // bench/est.sh). Raise it in the config if a policy says so.
  auth::HashParams token_hash{1, 8192};
  std::vector<IdevidAnchor> idevid_anchors;
  std::vector<ExternalCa> external_cas;
};

// CertEntry is one issued certificate as the CA remembers it.
struct CertEntry {
  std::string serial;       // upper-case hex
  std::string identifier;   // canonical handle, or empty
  std::string profile;
  std::string fingerprint;  // SHA-256 of the DER, lower-case hex
  std::string subject;      // one-line subject
  std::string via;          // token, idevid, reenroll, admin, bootstrap
  std::int64_t issued_at = 0;
  std::int64_t not_before = 0;
  std::int64_t not_after = 0;
  bool revoked = false;
  std::int64_t revoked_at = 0;
  int reason = 0;
  std::string der;

  std::string status() const { return revoked ? "revoked" : "valid"; }
};

// ClientCert is who a verified client certificate chain belongs to.
struct ClientCert {
  enum class Kind {
    issued,    // issued by this CA (the profile says the role)
    idevid,    // a manufacturer IDevID: good for enrollment only
    external,  // an external CA's certificate
  };
  Kind kind = Kind::issued;
  std::string identifier;    // canonical handle (issued: URI SAN; idevid: mapped)
  std::string organization;  // subject O
  std::string role;          // profile role, "idevid", or the external CA's role
  std::string profile;       // issued: the profile; idevid: the profile to enroll under
  std::string fingerprint;
  std::string serial;
  bool expired = false;  // issued and past notAfter (within the TLS grace)
};

struct Enrolled {
  CertEntry entry;
  pki::X509Ptr certificate;
};

// How an enrollment was authorized.
struct TokenAuth {
  std::string identifier;  // the Basic username, any spelling
  std::string token;       // the Basic password
};

// CommitHook adds to the transaction a CA operation commits, right before
// the commit (the audit record of the operation goes there). |entries| are
// the certificates the operation issued or revoked (none for a token). It
// may run more than once (the transaction is retried after map growth), so
// it must change nothing but the view.
using CommitHook = std::function<void(store::WriteView& view, std::span<const CertEntry> entries)>;

// Errors of this module carry an HTTP status in Error::code (400 bad input,
// 401 not authorized to enroll, 403 refused, 404 unknown, 409 conflict, 500).
class Authority {
 public:
  // open loads the issuing CA from |data_dir| (pki::open_issuing_ca) and the
  // profiles from |profiles_dir| (missing: the built-in ones). Errors from
  // either are returned.
  static Result<std::unique_ptr<Authority>> open(store::Store& store,
                                                 const std::filesystem::path& data_dir,
                                                 const pki::Secret& passphrase,
                                                 const std::filesystem::path& profiles_dir,
                                                 Config config, ids::MappingConfig mapping);
  ~Authority();

  // --- certificates and profiles
  const pki::X509Ptr& root() const { return ca_.root; }
  const pki::CertificateAuthority& issuer() const { return ca_.issuer; }
  const pki::Profile* profile(std::string_view name) const;
  const std::vector<pki::Profile>& profiles() const { return profiles_; }
  pki::IssueUrls urls() const;
  // set_http_base changes the URL base put into certificates from now on;
  // call it before serving (it is not synchronized).
  void set_http_base(std::string base) { config_.http_base = std::move(base); }

  // --- tokens
  // create_token returns a fresh one-time token "<id>.<secret>" for
  // |identifier| (any spelling; stored canonical) and |profile| (must be
  // enrollable), valid for |ttl| (<= max_token_ttl). Only the Argon2id hash
  // of the secret is stored.
  Result<std::string> create_token(std::string_view identifier, std::string_view profile,
                                   std::chrono::seconds ttl, std::int64_t now_unix,
                                   const CommitHook& also = {});

  // --- enrollment (EST)
  // enroll_with_token consumes |auth|'s token and issues a certificate for
  // the CSR's key under the token's profile (|label|, if non-empty, must be
  // that profile). The certificate, the token's consumption and the
  // identifier record commit in one transaction. Errors (code): 401 unknown,
  // wrong, used or expired token; 400 bad CSR, an identifier in the CSR that
  // differs, a key type the profile forbids; 404 the identifier's prefix is
  // not served here.
  // Every operation that commits takes |also| (see CommitHook).
  Result<Enrolled> enroll_with_token(const TokenAuth& auth, std::span<const unsigned char> csr_der,
                                     std::string_view label, std::int64_t now_unix,
                                     const CommitHook& also = {});
  // enroll_with_idevid issues for the identifier an IDevID maps to.
  Result<Enrolled> enroll_with_idevid(const ClientCert& idevid, std::span<const unsigned char> csr_der,
                                      std::string_view label, std::int64_t now_unix,
                                      const CommitHook& also = {});
  // reenroll renews |current| (an issued, unrevoked certificate, expired at
  // most reenroll_grace ago) for the same identifier and profile.
  Result<Enrolled> reenroll(const ClientCert& current, std::span<const unsigned char> csr_der,
                            std::string_view label, std::int64_t now_unix, const CommitHook& also = {});

  // --- administration
  struct IssueRequest {
    std::string identifier;  // any spelling, or empty
    std::string profile;
    pki::SubjectName subject;
    pki::SubjectAltNames names;
    std::string via = "admin";
  };
  // issue signs |public_key| under |request| without a token (an
  // administrator's request, the bootstrap). The record is updated as for
  // an enrollment when there is an identifier.
  Result<Enrolled> issue(const EVP_PKEY& public_key, const IssueRequest& request, std::int64_t now_unix,
                         const CommitHook& also = {});
  // adopt records a certificate this CA issued outside the database (the
  // development server certificate), so that OCSP and CRLs know it; a no-op
  // when it is recorded already.
  Result<void> adopt(const X509& certificate, std::string_view profile, std::string_view via,
                     std::int64_t now_unix);
  std::optional<CertEntry> find(std::string_view serial_hex) const;
  struct Page {
    std::vector<CertEntry> entries;
    std::string next_cursor;  // empty on the last page
  };
  // list pages through certificates in serial order, optionally only those
  // of |identifier| (canonical).
  Page list(std::string_view identifier, std::string_view cursor, std::size_t limit) const;
  // revoke revokes one certificate (by serial) or every valid certificate of
  // an identifier, updates the identifier record's status value and the CRL,
  // in one transaction. Errors: 404 nothing found, 400 bad reason, 409
  // already revoked. Returns the revoked entries.
  Result<std::vector<CertEntry>> revoke(std::string_view serial_or_identifier, int reason,
                                        std::int64_t now_unix, const CommitHook& also = {});

  // --- status
  // is_revoked answers the TLS layer's per-handshake question for a leaf of
  // ours (false for certificates of other issuers).
  bool is_revoked(const X509& leaf) const;
  // classify says who a verified chain (leaf first, anchor last) belongs to;
  // nullopt if it is none of ours, an IDevID anchor's or an external CA's.
  std::optional<ClientCert> classify(std::span<const std::vector<unsigned char>> chain_der,
                                     std::string_view fingerprint, std::int64_t now_unix) const;
  // client_auth returns the TLS layer's configuration: anchors, the issuing
  // CA as untrusted intermediate, and is_revoked.
  pki::ClientAuthConfig client_auth() const;

  // crl returns the current DER CRL of the issuing CA, regenerating it if it
  // is older than crl_refresh or a revocation happened since.
  std::vector<unsigned char> crl(std::int64_t now_unix);
  // root_crl returns the root CA's DER CRL (DATA/tls/root.crl): the root
  // signs nothing but the issuing CA, so it lists nothing, and it is
  // re-signed at start whenever the root key is on the node and the CRL is
  // missing or has less than 30 days left (valid one year). With the root
  // offline the file on disk is served as it is (bring the root key back
  // before its nextUpdate). Empty when there is none.
  std::vector<unsigned char> root_crl() const { return root_crl_; }

  // ocsp answers a DER OCSP request.
  std::vector<unsigned char> ocsp(std::span<const unsigned char> request, std::int64_t now_unix) const;
  // staple returns an OCSP response for the server certificate |leaf|, cached
  // for half its validity.
  std::vector<unsigned char> staple(const X509& leaf, std::int64_t now_unix);

  store::Store& store() { return store_; }

 private:
  Authority(store::Store& store, pki::IssuingCa ca, std::vector<pki::Profile> profiles, Config config,
            ids::MappingConfig mapping);
  Result<Enrolled> enroll(const std::string& identifier, const pki::Profile& profile,
                          const pki::CsrInfo& csr, std::string_view via,
                          const std::optional<std::string>& token_id, std::int64_t now_unix,
                          const CommitHook& also);
  Result<Enrolled> commit(pki::X509Ptr cert, const std::string& identifier, std::string_view profile,
                          std::string_view via, const std::optional<std::string>& token_id, std::int64_t now_unix,
                          const CommitHook& also);
  Result<std::vector<unsigned char>> build_crl(std::int64_t now_unix);
  Result<void> load_root_crl(const std::filesystem::path& data_dir, const pki::Secret& passphrase,
                             std::int64_t now_unix);

  store::Store& store_;
  pki::IssuingCa ca_;
  std::vector<pki::Profile> profiles_;
  Config config_;
  ids::MappingConfig mapping_;
  std::vector<std::pair<pki::X509Ptr, std::size_t>> idevid_anchors_;  // anchor, index into config
  std::vector<std::pair<pki::X509Ptr, std::size_t>> external_anchors_;
  std::string root_fingerprint_;

  std::vector<unsigned char> root_crl_;
  std::mutex crl_mu_;
  std::vector<unsigned char> crl_;
  std::int64_t crl_made_at_ = 0;
  std::mutex staple_mu_;
  std::vector<unsigned char> staple_;
  std::int64_t staple_made_at_ = 0;
};

// format_time returns RFC 3339 UTC ("2026-11-25T13:00:00Z"); empty for 0.
std::string format_time(std::int64_t unix_seconds);

// Values the CA writes into a device's identifier record.
inline constexpr std::uint32_t kCertIndex = 500;          // type "IDRA_CERT": the PEM certificate
inline constexpr std::uint32_t kCertStatusIndex = 501;    // "IDRA_CERT_STATUS": valid | revoked:<reason>
inline constexpr std::uint32_t kCertProfileIndex = 502;   // "IDRA_CERT_PROFILE"
inline constexpr std::uint32_t kEnrolledIndex = 503;      // "IDRA_ENROLLED": RFC 3339 UTC time
inline constexpr std::uint32_t kCertSerialIndex = 504;    // "IDRA_CERT_SERIAL": upper-case hex

}  // namespace idra::ca
