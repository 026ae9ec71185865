// service.cpp: authentication and routing; the handlers live in handles.cpp.
#include <cstdio>
#include <exception>
#include <stdexcept>

#include "audit_trail.hpp"
#include "handlers.hpp"
#include "idra/auth.hpp"
#include "idra/ca.hpp"

namespace idra::api {

std::optional<std::string_view> Request::header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return std::string_view(v);
  }
  return std::nullopt;
}

std::string Principal::id() const {
  if (kind == Kind::anonymous) return "-";
  if (kind == Kind::certificate) return "cert:" + (handle.empty() ? fingerprint.substr(0, 16) : handle);
  return std::to_string(index) + ":" + handle;
}

Service::Service(Config config, store::Store& store, auth::Authenticator& authenticator,
                 ca::Authority* authority, policy::Engine* policies, AuditSinks audit)
    : config_(std::move(config)),
      store_(store),
      auth_(authenticator),
      ca_(authority),
      policies_(policies),
      default_bundle_(policies ? nullptr : default_policy_bundle()),
      audit_(std::move(audit)) {}

std::shared_ptr<const policy::Bundle> Service::policy_bundle() const {
  return policies_ ? policies_->current() : default_bundle_;
}

std::shared_ptr<const policy::Bundle> default_policy_bundle() {
  auto bundle = policy::load_bundle(default_policy_files());
  if (!bundle) {
    std::string message = "the built-in policy set does not load:";
    for (const auto& d : bundle.error()) message += " " + d.str() + ";";
    throw std::logic_error(message);
  }
  return std::move(*bundle);
}

bool Service::ready() const { return store_.healthy(); }

Response Service::busy(std::chrono::seconds retry_after) const {
  Response r = handle_error(3, "", "server too busy; retry later");
  r.headers.emplace_back("retry-after", std::to_string(retry_after.count()));
  return r;
}

namespace {

// canonical_admin makes |creds|' handle canonical; false when it is no handle.
bool canonical_admin(auth::Credentials& creds) {
  const auto admin = ids::parse_handle(creds.handle);
  if (!admin) return false;
  creds.handle = admin->str();
  return true;
}

Response method_not_allowed(std::string_view allow) {
  Response r = plain_error(405, "method not allowed here; allowed: " + std::string(allow));
  r.headers.emplace_back("allow", std::string(allow));
  return r;
}

}  // namespace

bool Service::may_block(const Request& request) const {
  if (request.method != "GET" && request.method != "HEAD") return true;
  const auto authz = request.header("authorization");
  if (!authz) return false;
  auto parsed = auth::parse_basic(*authz);
  if (!parsed || !parsed->ok()) return false;  // answered without Argon2id (an error, or a client certificate)
  if (!canonical_admin(parsed->value())) return false;  // refused at once
  return auth_.would_hash(parsed->value());
}

Response Service::handle(const Request& request) const {
  RequestAudit audit(request, audit_, store_);
  Response response;
  try {
    response = dispatch(request, audit);
  } catch (const std::exception& e) {
    // A broken invariant (for example a record that does not decode): loud
    // in the log, generic to the client.
    std::fprintf(stderr, "{\"level\":\"error\",\"msg\":\"internal error\",\"what\":\"%s\"}\n", e.what());
    response = plain_error(500, "internal error");
  }
  // The record of every request whose record did not commit with a change.
  audit.finish(response);
  return response;
}

Response Service::dispatch(const Request& request, RequestAudit& audit) const {
  auto target = parse_target(request.target);
  if (!target) return plain_error(400, target.error().message);
  const std::string& path = target->path;
  const std::string& method = request.method;

  if (path == "/healthz") {
    if (method != "GET" && method != "HEAD") return method_not_allowed("GET, HEAD");
    return json_response(200, {{"status", "ok"}});
  }
  if (path == "/readyz") {
    if (method != "GET" && method != "HEAD") return method_not_allowed("GET, HEAD");
    const bool ok = ready();
    return json_response(ok ? 200 : 503, {{"status", ok ? "ready" : "not ready"}, {"store", ok}});
  }

  constexpr std::string_view kHandles = "/api/handles";
  constexpr std::string_view kPrefixes = "/api/prefixes/";
  constexpr std::string_view kEst = "/.well-known/est/";
  constexpr std::string_view kCrl = "/crl/";
  constexpr std::string_view kCaAdmin = "/api/ca/";
  constexpr std::string_view kAudit = "/api/audit/";

  // The plain-HTTP listener serves only what relying parties fetch without
  // TLS: CRLs and OCSP.
  const bool revocation_path = path.starts_with(kCrl) || path == "/ocsp" || path.starts_with("/ocsp/");
  if (!request.secure && !revocation_path) {
    return plain_error(404, "only /crl/ and /ocsp are served over plain HTTP; use HTTPS");
  }

  // The client certificate, verified by the TLS layer, says who the client is.
  std::optional<ca::ClientCert> client_cert;
  if (request.peer && ca_ != nullptr) {
    client_cert = ca_->classify(request.peer->chain_der, request.peer->fingerprint, request.now_unix);
  }
  // One policy set for the whole request, however many decisions it takes.
  AccessControl access(store_, config_, policy_bundle());
  auto context = [&](const Principal& p) {
    audit.bind(p, access);
    return Context{request, *target, p, config_, store_, access, audit, ca_, client_cert ? &*client_cert : nullptr};
  };
  auto with_decision = [&](Response r, const Principal& p) {
    r.principal = p.id();
    if (auto d = access.summary()) {
      r.decision = d->allow ? "allow" : "deny";
      r.action = std::move(d->action);
      r.determining = std::move(d->determining);
      r.policy_errors = std::move(d->errors);
    }
    return r;
  };

  // The client certificate's principal: who an EST re-enrollment, or any API
  // request without Basic credentials, acts for.
  // (A certificate lapsed within the grace period acts only for its own
  // re-enrollment: it makes a principal on the EST path, not on the API.)
  Principal principal;
  const bool est_path = path.starts_with(kEst);
  if (client_cert && client_cert->kind != ca::ClientCert::Kind::idevid && (!client_cert->expired || est_path)) {
    principal.kind = Principal::Kind::certificate;
    principal.handle = client_cert->identifier;
    principal.organization = client_cert->organization;
    principal.role = client_cert->role;
    principal.profile = client_cert->profile;
    principal.fingerprint = client_cert->fingerprint;
    principal.node_admin = client_cert->kind == ca::ClientCert::Kind::issued && client_cert->role == "admin";
  }

  if (revocation_path || est_path) {
    if (ca_ == nullptr) return plain_error(404, "this node runs no certificate authority");
    if (config_.read_only && method == "POST" && path.starts_with(kEst)) {
      return handle_error(7, "", "this node is read-only (backup or maintenance); enrollment is refused");
    }
    const Principal nobody;
    Response r = path.starts_with(kEst)   ? est(context(principal), std::string_view(path).substr(kEst.size()))
                 : path.starts_with(kCrl) ? crl(context(nobody), std::string_view(path).substr(kCrl.size()))
                                          : ocsp(context(nobody), std::string_view(path).substr(5));
    r = with_decision(std::move(r), principal);
    if (client_cert) r.principal = "cert:" + (client_cert->identifier.empty() ? client_cert->fingerprint.substr(0, 16) : client_cert->identifier);
    return r;
  }

  // Everything outside /api/ is the web resolver (GS1 Digital Link, IEC
  // 61406 identification links, AAS discovery); it authenticates the same way.
  const bool is_api = path.starts_with("/api/");
  constexpr std::string_view kLookup = "/lookup/";

  // Authenticate: Basic "index:handle" with the secret of that HS_SECKEY, or
  // the client certificate (always, and explicitly with Handle.Net's
  // "Authorization: Handle clientCert=true").
  if (auto authz = request.header("authorization")) {
    auto parsed = auth::parse_basic(*authz);
    if (!parsed) {
      const bool handle_scheme =
          authz->size() >= 7 && (authz->substr(0, 7) == "Handle " || authz->substr(0, 7) == "handle ");
      if (!handle_scheme) return handle_error(402, "", "unsupported Authorization scheme; use Basic with index:handle");
      const bool client_cert_auth = authz->find("clientCert=\"true\"") != std::string_view::npos ||
                                    authz->find("clientCert=true") != std::string_view::npos;
      if (!client_cert_auth) {
        // Handle.Net's challenge-response sessions (Authorization: Handle
        // sessionId=...) are not implemented: say so instead of a bare 401.
        return handle_error(5, "", "Handle session authentication is not supported here; use Basic with index:handle or a client certificate");
      }
      if (principal.kind != Principal::Kind::certificate) {
        return handle_error(402, "", "Authorization says clientCert=\"true\" but no valid client certificate was presented");
      }
    } else {
      if (!parsed->ok()) return handle_error(4, "", parsed->error().message);
      auto& creds = parsed->value();
      if (!canonical_admin(creds)) return handle_error(403, "", "Authentication failed");
      const auto verdict = auth_.verify(creds, request.client_address);
      if (verdict.outcome == auth::Authenticator::Outcome::rate_limited) {
        Response r = handle_error(3, "", "too many failed authentication attempts from this address; retry later");
        r.status = 429;
        r.headers.emplace_back("retry-after", std::to_string(verdict.retry_after.count()));
        return r;
      }
      if (verdict.outcome != auth::Authenticator::Outcome::ok) return handle_error(403, "", "Authentication failed");
      principal = Principal{};
      principal.kind = Principal::Kind::handle;
      principal.handle = creds.handle;
      principal.index = creds.index;
      const std::string id = principal.id();
      principal.node_admin =
          std::find(config_.node_admins.begin(), config_.node_admins.end(), id) != config_.node_admins.end();
    }
  }

  const bool changes = (method == "PUT" || method == "DELETE" || method == "POST") && is_api;
  if (config_.read_only && changes && path != "/api/resolve") {
    return handle_error(7, "", "this node is read-only (backup or maintenance); changes are refused, resolution works");
  }

  const Context ctx = context(principal);
  Response response = [&]() -> Response {
    if (!is_api) {
      if (path == "/.well-known/gs1resolver") return resolver_description(ctx);
      if (path.starts_with(kLookup)) return aas_discovery(ctx, std::string_view(path).substr(kLookup.size()));
      return web_resolve(ctx);
    }
    if (path == "/api/gs1/links") return gs1_links(ctx);
    if (path.starts_with(kCaAdmin)) {
      if (ca_ == nullptr) return plain_error(404, "this node runs no certificate authority");
      return ca_admin(ctx, std::string_view(path).substr(kCaAdmin.size()));
    }
    if (path == kHandles) {
      if (method == "GET" || method == "HEAD") return list_handles(ctx);
      return method_not_allowed("GET, HEAD");
    }
    if (path.starts_with(kHandles) && path.size() > kHandles.size() && path[kHandles.size()] == '/') {
      const std::string_view id = std::string_view(path).substr(kHandles.size() + 1);
      if (method == "GET" || method == "HEAD") return get_handle(ctx, id);
      if (method == "PUT") return put_handle(ctx, id);
      if (method == "DELETE") return delete_handle(ctx, id);
      return method_not_allowed("GET, HEAD, PUT, DELETE");
    }
    if (path == "/api/resolve") {
      if (method == "POST") return batch_resolve(ctx);
      return method_not_allowed("POST");
    }
    if (path == "/api/policy" || path == "/api/policy/reload") {
      // A reload changes no LMDB data: its record commits before the answer.
      if (path == "/api/policy/reload") audit.durable();
      return policy_admin(ctx, policies_, path == "/api/policy/reload");
    }
    if (path.starts_with(kAudit)) return audit_api(ctx, std::string_view(path).substr(kAudit.size()), audit_);
    if (path.starts_with(kPrefixes) && path.size() > kPrefixes.size()) {
      const std::string_view prefix = std::string_view(path).substr(kPrefixes.size());
      if (method == "PUT") return put_prefix(ctx, prefix);
      if (method == "DELETE") return delete_prefix(ctx, prefix);
      return method_not_allowed("PUT, DELETE");
    }
    return plain_error(404, "no such resource: " + path.substr(0, 200));
  }();
  return with_decision(std::move(response), principal);
}

}  // namespace idra::api
