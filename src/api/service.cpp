// service.cpp: authentication and routing; the handlers live in handles.cpp.
#include <cstdio>
#include <exception>

#include "handlers.hpp"
#include "idra/auth.hpp"

namespace idra::api {

std::optional<std::string_view> Request::header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return std::string_view(v);
  }
  return std::nullopt;
}

std::string Principal::id() const {
  if (kind == Kind::anonymous) return "-";
  return std::to_string(index) + ":" + handle;
}

Service::Service(Config config, store::Store& store, auth::Authenticator& authenticator)
    : config_(std::move(config)), store_(store), auth_(authenticator) {}

bool Service::ready() const { return store_.healthy(); }

Response Service::busy(std::chrono::seconds retry_after) const {
  Response r = handle_error(3, "", "server too busy; retry later");
  r.headers.emplace_back("retry-after", std::to_string(retry_after.count()));
  return r;
}

namespace {

Response method_not_allowed(std::string_view allow) {
  Response r = plain_error(405, "method not allowed here; allowed: " + std::string(allow));
  r.headers.emplace_back("allow", std::string(allow));
  return r;
}

}  // namespace

Response Service::handle(const Request& request) const {
  try {
    return dispatch(request);
  } catch (const std::exception& e) {
    // A broken invariant (for example a record that does not decode): loud
    // in the log, generic to the client.
    std::fprintf(stderr, "{\"level\":\"error\",\"msg\":\"internal error\",\"what\":\"%s\"}\n", e.what());
    return plain_error(500, "internal error");
  }
}

Response Service::dispatch(const Request& request) const {
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
  const bool is_api = path.starts_with("/api/");
  if (!is_api) return plain_error(404, "no such resource: " + path.substr(0, 200));

  // Authenticate: Basic "index:handle" with the secret of that HS_SECKEY.
  Principal principal;
  if (auto authz = request.header("authorization")) {
    auto parsed = auth::parse_basic(*authz);
    if (!parsed) {
      if (authz->size() >= 7 && (authz->substr(0, 7) == "Handle " || authz->substr(0, 7) == "handle ")) {
        // Handle.Net's challenge-response sessions (Authorization: Handle
        // sessionId=...) are not implemented: say so instead of a bare 401.
        return handle_error(5, "", "Handle session authentication is not supported here; use Basic with index:handle");
      }
      return handle_error(402, "", "unsupported Authorization scheme; use Basic with index:handle");
    }
    if (!parsed->ok()) return handle_error(4, "", parsed->error().message);
    auto& creds = parsed->value();
    auto admin = ids::parse_handle(creds.handle);
    if (!admin) return handle_error(403, "", "Authentication failed");
    creds.handle = admin->str();
    const auto verdict = auth_.verify(creds, request.client_address);
    if (verdict.outcome == auth::Authenticator::Outcome::rate_limited) {
      Response r = handle_error(3, "", "too many failed authentication attempts from this address; retry later");
      r.status = 429;
      r.headers.emplace_back("retry-after", std::to_string(verdict.retry_after.count()));
      return r;
    }
    if (verdict.outcome != auth::Authenticator::Outcome::ok) return handle_error(403, "", "Authentication failed");
    principal.kind = Principal::Kind::handle;
    principal.handle = creds.handle;
    principal.index = creds.index;
    const std::string id = principal.id();
    principal.node_admin =
        std::find(config_.node_admins.begin(), config_.node_admins.end(), id) != config_.node_admins.end();
  }

  const bool changes = method == "PUT" || method == "DELETE" || method == "POST";
  if (config_.read_only && changes && path != "/api/resolve") {
    return handle_error(7, "", "this node is read-only (backup or maintenance); changes are refused, resolution works");
  }

  AccessControl access(store_, config_);
  const Context ctx{request, *target, principal, config_, store_, access};
  Response response = [&]() -> Response {
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
    if (path.starts_with(kPrefixes) && path.size() > kPrefixes.size()) {
      const std::string_view prefix = std::string_view(path).substr(kPrefixes.size());
      if (method == "PUT") return put_prefix(ctx, prefix);
      if (method == "DELETE") return delete_prefix(ctx, prefix);
      return method_not_allowed("PUT, DELETE");
    }
    return plain_error(404, "no such resource: " + path.substr(0, 200));
  }();
  response.principal = principal.id();
  return response;
}

}  // namespace idra::api
