// api.hpp: the request handlers, as pure functions from request to response.
//
// The HTTP layer (src/http) parses bytes into a Request, calls
// Service::handle, and writes the Response; nothing here touches a socket,
// so every handler is unit-tested and fuzzed without one.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "idra/ids.hpp"
#include "idra/policy.hpp"
#include "idra/result.hpp"
#include "idra/store.hpp"

namespace idra::auth {
class Authenticator;
}
namespace idra::ca {
class Authority;
}
namespace idra::audit {
class ReadBatcher;
class Checkpointer;
}

namespace idra::api {

using Header = std::pair<std::string, std::string>;
class RequestAudit;  // src/api/audit_trail.hpp

// PeerCertificate is the client certificate of the connection, verified by
// the TLS layer (chain to a configured anchor, revocation) during the
// handshake. It is made once per connection and shared by its requests.
struct PeerCertificate {
  // chain_der is the verified chain: the leaf first, the trust anchor last.
  std::vector<std::vector<unsigned char>> chain_der;
  std::string fingerprint;  // SHA-256 of the leaf DER, 64 lowercase hex digits
};

struct Request {
  std::string method;  // upper case, as sent
  std::string target;  // raw request-target, "/api/handles/88.100/X?index=1"
  std::vector<Header> headers;  // names lower-cased by the HTTP layer
  std::string body;
  std::string client_address;  // "127.0.0.1" or "::1", no port
  // now_unix is the request time; handlers never read the clock themselves.
  std::int64_t now_unix = 0;
  // now_unix_ms is the same time in milliseconds (the audit record's time);
  // 0: now_unix * 1000.
  std::int64_t now_unix_ms = 0;
  // received is when the request arrived (the audit record's duration runs
  // from here); the epoch: when Service::handle starts.
  std::chrono::steady_clock::time_point received{};
  // request_id names the request in the access log, the audit log and the
  // X-Request-Id response header (the HTTP layer makes one per request).
  std::string request_id;
  // peer is the verified client certificate; null when the client sent none.
  std::shared_ptr<const PeerCertificate> peer;
  // secure is false for requests on the plain-HTTP listener (CRL, OCSP).
  bool secure = true;

  // header returns the first header named |lower_name|, or nullopt.
  std::optional<std::string_view> header(std::string_view lower_name) const;
};

struct Response {
  unsigned status = 200;
  std::vector<Header> headers;
  std::string body;
  // principal is the authenticated identity for the access log ("-" if anonymous).
  std::string principal = "-";
  // The policy decision that governed the request, for the logs (never sent
  // to the client): the first denial among the request's decisions, else the
  // first decision. decision is "allow", "deny", or "" when none was made.
  std::string decision;
  std::string action;                       // its Cedar action id
  std::vector<std::string> determining;     // its determining policy ids
  std::vector<std::string> policy_errors;   // "policy-id: message" of policies that errored
};

// Principal is who a request acts for.
struct Principal {
  enum class Kind {
    anonymous,
    handle,       // Basic index:handle with the secret of an HS_SECKEY value
    certificate,  // a verified client certificate (mTLS)
  };
  Kind kind = Kind::anonymous;
  // For Kind::handle: the admin handle, canonical, and the index of its
  // HS_SECKEY value. For Kind::certificate: the certificate's identifier
  // (canonical handle, may be empty) and index 0.
  std::string handle;
  std::uint32_t index = 0;
  bool node_admin = false;   // listed in Config::node_admins, or an admin-profile certificate
  // For Kind::certificate: what the certificate says.
  std::string organization;  // subject O
  std::string role;          // profile role (device, server, partner, auditor, admin) or external CA role
  std::string profile;       // certificate profile of this CA, empty for external CAs
  std::string fingerprint;   // SHA-256 of the certificate, lower-case hex
  // id is "300:0.NA/IDRA" for a handle, "cert:<identifier or fingerprint
  // head>" for a certificate, "-" when anonymous.
  std::string id() const;
};

struct Limits {
  std::size_t max_batch_handles = 1000;   // POST /api/resolve
  std::uint64_t max_page_size = 10000;    // GET /api/handles?prefix=
  std::size_t max_values_per_record = 10000;
};

// AuditSinks is where a Service puts the audit records of the requests it
// answers (see "Audit log" in the README): a change's record commits in the
// change's own transaction; the others go to |reads|.
struct AuditSinks {
  // reads takes the records of requests that changed nothing; null: no
  // request is audited (unit tests, fuzzing, audit.enabled false).
  audit::ReadBatcher* reads = nullptr;
  // checkpoints serves GET /api/audit/checkpoint and /api/audit/key; null:
  // they answer 404.
  audit::Checkpointer* checkpoints = nullptr;
  // pseudonymize_key (16 to 64 bytes) replaces client addresses by their
  // keyed hash (audit::pseudonymize); empty: addresses are logged as they are.
  std::string pseudonymize_key;
};

// ResolverConfig is the web resolver: GS1 Digital Link URIs, IEC 61406
// identification links and AAS discovery, answered on paths outside /api/.
struct ResolverConfig {
  // root is the scheme and authority of this resolver ("https://id.example.com"):
  // the linkset anchors and /.well-known/gs1resolver name it. Empty: "https://"
  // and the request's Host header.
  std::string root;
  std::string name = "idra GS1-Conformant resolver";
  // delegations maps a GS1 company prefix (digits) to the root of the resolver
  // that handles its keys ("https://id.other.example"): requests for them are
  // redirected there (307, rel gs1:handledBy); the longest prefix wins.
  std::vector<std::pair<std::string, std::string>> delegations;
  // identification_link_hosts are the hosts (lower case, ":port" unless 443)
  // whose IEC 61406 identification links this node answers: a request to
  // https://HOST/path is resolved as the identification link of that URL.
  std::vector<std::string> identification_link_hosts;
};

struct Config {
  ids::MappingConfig mapping;
  ResolverConfig resolver;
  // read_only refuses every change with responseCode 7 (Handle.Net's "server
  // backup"), for backups and maintenance; resolution goes on.
  bool read_only = false;
  // node_admins may do anything on this node ("index:handle", canonical).
  std::vector<std::string> node_admins;
  Limits limits;
};

// Service owns nothing but references to the node's parts; it is safe to call
// from many threads at once.
class Service {
 public:
  // |authority| may be null: then EST, CRL, OCSP and the CA administration
  // API answer 404 and client certificates make no principal. |policies| is
  // the policy engine every request is decided by; when null, the built-in
  // default policy set (default_policy_bundle) decides.
  // |audit| says where audit records go (by default nowhere).
  Service(Config config, store::Store& store, auth::Authenticator& authenticator,
          ca::Authority* authority = nullptr, policy::Engine* policies = nullptr, AuditSinks audit = {});

  // handle answers one request. It never throws for anything a client can
  // send; a broken invariant underneath (corrupt database) becomes a 500 with
  // a generic message and is logged to stderr. Every request but /healthz,
  // /readyz and those of the plain-HTTP listener leaves one audit record.
  Response handle(const Request& request) const;

  // busy is the answer when the node is over its load limits (responseCode 3,
  // HTTP 503 with Retry-After): the HTTP layer sends it without running the request.
  Response busy(std::chrono::seconds retry_after) const;

  // audit_unrun writes the audit record of |response|, which the HTTP layer
  // sent without calling handle: busy(), or an error for a request it could
  // not read whole (400 malformed, 408, 413 body too large, 431 header too
  // large). |request| carries what is known: time, client address, request
  // id, peer certificate, and method and target when the header was read.
  // Same rules as handle (nothing for /healthz, /readyz or the plain-HTTP
  // listener); it never throws and never waits for a commit (src/api/audit_trail.cpp).
  void audit_unrun(const Request& request, const Response& response) const;

  // may_block says whether handling |request| may wait for long: any method
  // but GET and HEAD (a write waits for its commit, an issuance signs), or
  // Basic credentials that need Argon2id (not verified before). The HTTP
  // layer runs such requests on its blocking pool and the others inline;
  // reading a client certificate's principal or a cached credential is an
  // LMDB read, as cheap as the request's own.
  bool may_block(const Request& request) const;

  // ready is true when the store answers (for /readyz).
  bool ready() const;

  const Config& config() const { return config_; }

 private:
  Response dispatch(const Request& request, RequestAudit& audit) const;
  std::shared_ptr<const policy::Bundle> policy_bundle() const;
  Config config_;
  store::Store& store_;
  auth::Authenticator& auth_;
  ca::Authority* ca_;
  policy::Engine* policies_;
  std::shared_ptr<const policy::Bundle> default_bundle_;  // when policies_ is null
  AuditSinks audit_;
};

// default_policy_files are the files of policies/ as built into the binary.
std::vector<policy::PolicyFile> default_policy_files();
// default_policy_bundle loads them; a failure is a build defect and throws.
std::shared_ptr<const policy::Bundle> default_policy_bundle();

// status_for_response_code maps a Handle responseCode to the HTTP status
// (Handle.Net v9 semantics). |created| selects 201 for a successful create;
// |resolution| selects 200 for responseCode 200 (values not found) on GET.
unsigned status_for_response_code(int response_code, bool created = false,
                                  bool resolution = false);

}  // namespace idra::api

namespace idra::api {

// admin_record returns the record of an administrator handle: an HS_ADMIN
// value at index 100 naming (|handle|, |secret_index|) with every permission,
// and the HS_SECKEY value at |secret_index| holding |secret_hash| (Argon2id),
// readable by administrators only.
store::Record admin_record(std::string_view handle, std::uint32_t secret_index,
                           std::string_view secret_hash, std::int64_t now_unix);

}  // namespace idra::api

namespace idra::api {

// prefix_of_handle returns the prefix whose administrators govern |handle|:
// its own prefix, or for a prefix handle "0.NA/88.100" the prefix "88.100".
std::string prefix_of_handle(std::string_view canonical_handle);

// is_served_here is true when this node homes the prefix governing
// |canonical_handle| or one of its dotted ancestors ("88.100.1/X" is served
// when "88.100" is homed; "20.5001/X" is not under "20.500").
bool is_served_here(const store::Store& store, std::string_view canonical_handle);

// ImportedRecord is one line of an import file, ready for the store.
struct ImportedRecord {
  std::string handle;  // canonical
  store::Record record;
};

// parse_import_line reads one NDJSON line {"handle": "...", "values": [...]}.
// The identifier may be any spelling (it is mapped to its canonical handle);
// values are read exactly as a PUT body's, and an HS_SECKEY value given in
// clear is stored as its Argon2id hash. Errors say what is wrong with the line.
Result<ImportedRecord> parse_import_line(std::string_view line, const Config& config, std::int64_t now_unix);

}  // namespace idra::api
