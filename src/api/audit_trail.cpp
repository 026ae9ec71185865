// audit_trail.cpp: RequestAudit (audit_trail.hpp).
#include "audit_trail.hpp"

#include <algorithm>
#include <cstdio>
#include <exception>

namespace idra::api {
namespace {

std::string_view path_of(std::string_view target) {
  const auto q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

bool audited_path(std::string_view path) { return path != "/healthz" && path != "/readyz"; }

}  // namespace

std::uint32_t handle_code_of(std::string_view body) {
  // Handle responses are JSON objects whose first member is responseCode,
  // compact or pretty-printed: {"responseCode":1,... or {\n  "responseCode": 1,...
  std::size_t i = 0;
  auto skip_space = [&] {
    while (i < body.size() && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t')) ++i;
  };
  skip_space();
  if (i >= body.size() || body[i] != '{') return 0;
  ++i;
  skip_space();
  constexpr std::string_view kKey = "\"responseCode\"";
  if (body.substr(i, kKey.size()) != kKey) return 0;
  i += kKey.size();
  skip_space();
  if (i >= body.size() || body[i] != ':') return 0;
  ++i;
  skip_space();
  std::uint32_t code = 0;
  std::size_t digits = 0;
  while (i < body.size() && body[i] >= '0' && body[i] <= '9' && digits < 6) {
    code = code * 10 + static_cast<std::uint32_t>(body[i] - '0');
    ++i;
    ++digits;
  }
  return digits == 0 ? 0 : code;
}

std::string route_action(std::string_view path, unsigned status) {
  if (path.starts_with("/.well-known/est/")) {
    if (path.ends_with("/cacerts")) return "estCaCerts";
    if (path.ends_with("/csrattrs")) return "estCsrAttrs";
  }
  if (path == "/api/audit/checkpoint") return "readCheckpoint";
  if (path == "/api/audit/key") return "readAuditKey";
  if (path.starts_with("/crl/")) return "fetchCrl";
  if (path == "/ocsp" || path.starts_with("/ocsp/")) return "ocsp";
  switch (status) {
    case 400:
    case 408:
    case 411:
    case 413:
    case 415:
    case 422:
    case 431: return "badRequest";
    case 401: return "unauthenticated";
    case 403: return "authenticationFailed";
    case 404: return "notFound";
    case 405: return "methodNotAllowed";
    case 409: return "conflict";
    case 429: return "rateLimited";
    case 500: return "internalError";
    case 501: return "notImplemented";
    case 503: return "unavailable";
    default: return "request";
  }
}

RequestAudit::RequestAudit(const Request& request, const AuditSinks& sinks, store::Store& store)
    : request_(request), sinks_(sinks), store_(store), started_(std::chrono::steady_clock::now()) {
  enabled_ = sinks.reads != nullptr && request.secure && audited_path(path_of(request.target));
  if (!enabled_) return;
  if (request.peer) principal_.cert_sha256 = request.peer->fingerprint;
}

void RequestAudit::bind(const Principal& principal, const AccessControl& access) {
  access_ = &access;
  if (!enabled_) return;
  switch (principal.kind) {
    case Principal::Kind::anonymous: principal_.kind = audit::PrincipalKind::anonymous; break;
    case Principal::Kind::handle: principal_.kind = audit::PrincipalKind::handle; break;
    case Principal::Kind::certificate: principal_.kind = audit::PrincipalKind::certificate; break;
  }
  principal_.id = principal.kind == Principal::Kind::anonymous ? std::string() : principal.id();
  principal_.organization = principal.organization;
  principal_.role = principal.role.empty() && principal.node_admin ? "admin" : principal.role;
}

void RequestAudit::resource(std::string_view id) {
  if (!enabled_ || id.empty()) return;
  for (const auto& r : resources_) {
    if (r == id) return;
  }
  resources_.emplace_back(id);
}

void RequestAudit::value_index(std::uint32_t index) {
  if (enabled_) value_indexes_.push_back(index);
}

audit::AuditRecord RequestAudit::base(unsigned status, std::uint32_t handle_code) const {
  audit::AuditRecord r;
  r.time_ms = request_.now_unix_ms != 0 ? request_.now_unix_ms : request_.now_unix * 1000;
  r.request_id = request_.request_id;
  r.principal = principal_;
  r.client = sinks_.pseudonymize_key.empty() ? request_.client_address
                                             : audit::pseudonymize(request_.client_address, sinks_.pseudonymize_key);
  r.resources = resources_;
  r.value_indexes = value_indexes_;
  r.http_status = status;
  r.handle_code = handle_code;
  const auto from = request_.received == std::chrono::steady_clock::time_point{} ? started_ : request_.received;
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - from).count();
  r.duration_us = us > 0 ? static_cast<std::uint64_t>(us) : 0;
  return r;
}

void RequestAudit::append_in(store::WriteView& view, unsigned status, std::uint32_t handle_code,
                             std::span<const std::string> more_resources) {
  if (!enabled_) return;
  audit::AuditRecord r = base(status, handle_code);
  for (const auto& m : more_resources) {
    if (!m.empty() && std::find(r.resources.begin(), r.resources.end(), m) == r.resources.end()) r.resources.push_back(m);
  }
  // The decisions made so far are all this request makes: a change's
  // decisions come before its commit.
  auto summary = access_ ? access_->summary() : std::nullopt;
  if (summary) {
    r.action = summary->action;
    r.decision = summary->allow ? audit::Decision::allow : audit::Decision::deny;
    r.policies = summary->determining;
  } else {
    r.action = route_action(path_of(request_.target), status);
    r.decision = audit::Decision::allow;
  }
  (void)audit::append(view, r);
  appended_status_ = status;
}

ca::CommitHook RequestAudit::ca_hook(unsigned status) {
  return [this, status](store::WriteView& view, std::span<const ca::CertEntry> entries) {
    std::vector<std::string> more;
    for (const auto& e : entries) {
      more.push_back(e.identifier);
      more.push_back(e.serial);
    }
    append_in(view, status, 0, more);
  };
}

store::CommitHook RequestAudit::store_hook(unsigned status) {
  return [this, status](store::WriteView& view) { append_in(view, status, 1); };
}

audit::RecordView RequestAudit::view(const Response& response, std::string& client,
                                     std::string& action) const {
  audit::RecordView v;
  v.time_ms = request_.now_unix_ms != 0 ? request_.now_unix_ms : request_.now_unix * 1000;
  v.request_id = request_.request_id;
  v.set_principal(principal_);
  if (sinks_.pseudonymize_key.empty()) {
    v.client = request_.client_address;
  } else {
    client = audit::pseudonymize(request_.client_address, sinks_.pseudonymize_key);
    v.client = client;
  }
  v.resources = resources_;
  v.value_indexes = value_indexes_;
  v.http_status = response.status;
  v.handle_code = handle_code_of(response.body);
  const auto from = request_.received == std::chrono::steady_clock::time_point{} ? started_ : request_.received;
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - from).count();
  v.duration_us = us > 0 ? static_cast<std::uint64_t>(us) : 0;
  if (!response.action.empty()) {
    v.action = response.action;
    v.policies = response.determining;
  } else {
    action = route_action(path_of(request_.target), response.status);
    v.action = action;
  }
  if (response.decision == "allow") {
    v.decision = audit::Decision::allow;
  } else if (response.decision == "deny") {
    v.decision = audit::Decision::deny;
  } else {
    // No policy decided (a public endpoint, or refused before any decision).
    v.decision = response.status < 400 ? audit::Decision::allow : audit::Decision::deny;
  }
  return v;
}

audit::AuditRecord RequestAudit::record(const Response& response) const {
  std::string client, action;
  return audit::to_record(view(response, client, action));
}

void RequestAudit::finish(const Response& response) {
  if (!enabled_) return;
  // The change committed with its record, stamped with this status.
  if (appended_status_ && *appended_status_ == response.status) return;
  try {
    // Encoded straight from the request's and the response's fields: no
    // AuditRecord, no copies of its strings.
    std::string client, action;
    const audit::RecordView v = view(response, client, action);
    if (durable_) {
      auto done = store_.transact([&](store::WriteView& w) -> Result<void> {
        (void)audit::append(w, v);
        return {};
      });
      if (done) return;
      std::fprintf(stderr, "{\"level\":\"error\",\"msg\":\"audit: committing a record failed; queued instead\",\"what\":\"%s\"}\n",
                   done.error().message.c_str());
    }
    sinks_.reads->submit(v);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "{\"level\":\"error\",\"msg\":\"audit: the record of a request is lost\",\"what\":\"%s\"}\n", e.what());
  }
}

void Service::audit_unrun(const Request& request, const Response& response) const {
  RequestAudit audit(request, audit_, store_);
  audit.finish(response);
}

}  // namespace idra::api
