// handlers.hpp: the API families, one file each (handles.cpp, prefixes.cpp).
// Internal to the api module; Service::handle routes to them.
#pragma once

#include "access.hpp"
#include "audit_trail.hpp"
#include "idra/ca.hpp"
#include "idra/api.hpp"
#include "request_util.hpp"

namespace idra::api {

// Context is everything a handler may use: the parsed request, who sent it,
// and the node's parts. Handlers never touch sockets or the clock.
struct Context {
  const Request& request;
  const Target& target;
  const Principal& principal;
  const Config& config;
  store::Store& store;
  const AccessControl& access;
  // audit is the request's audit record: handlers name what they touched,
  // and a change appends it in its own transaction (audit_trail.hpp).
  RequestAudit& audit;
  ca::Authority* ca = nullptr;  // null: this node runs no CA
  // client_cert says who the verified client certificate belongs to (classified
  // once per request); null without a certificate or when it is nobody's.
  const ca::ClientCert* client_cert = nullptr;
};

Response get_handle(const Context& ctx, std::string_view handle_text);
Response put_handle(const Context& ctx, std::string_view handle_text);
Response delete_handle(const Context& ctx, std::string_view handle_text);
Response list_handles(const Context& ctx);
Response batch_resolve(const Context& ctx);
Response put_prefix(const Context& ctx, std::string_view prefix_text);
Response delete_prefix(const Context& ctx, std::string_view prefix_text);

// est.cpp: RFC 7030 EST under /.well-known/est/ (|rest| is what follows it).
// Runs before Handle authentication: EST's Basic credentials are enrollment
// tokens, not index:handle secrets.
Response est(const Context& ctx, std::string_view rest);
// ca_admin.cpp: /api/ca/... (|rest| follows "/api/ca/"), node administrators only.
Response ca_admin(const Context& ctx, std::string_view rest);
// revocation.cpp: GET /crl/<issuer>.crl, POST /ocsp, GET /ocsp/<base64 request>.
Response crl(const Context& ctx, std::string_view name);
Response ocsp(const Context& ctx, std::string_view rest);
// policy.cpp: GET /api/policy (the active set: its SHA-256, files, policy
// ids) and POST /api/policy/reload. |engine| null: the built-in set, which
// cannot be reloaded.
Response policy_admin(const Context& ctx, policy::Engine* engine, bool reload);
// audit.cpp: /api/audit/... (|rest| follows "/api/audit/"): the checkpoint and
// the log's verifier key (public), entries, proofs and export (readAudit).
Response audit_api(const Context& ctx, std::string_view rest, const AuditSinks& sinks);
// resolver.cpp: the web resolver on every path outside /api/ and the ones
// above: GS1 Digital Link URIs (uncompressed and compressed) and IEC 61406
// identification links, GET/HEAD/OPTIONS, answered from GS1_LINK values
// (links.hpp) with CORS; 404 with a message for anything else.
Response web_resolve(const Context& ctx);
// resolver_description: GET /.well-known/gs1resolver.
Response resolver_description(const Context& ctx);
// gs1_register.cpp: POST /api/gs1/links (an item's links from an element
// string or Digital Link URI, replacing its GS1_LINK values in one commit).
Response gs1_links(const Context& ctx);
// aas.cpp: /lookup/... (|rest| follows "/lookup/"): AAS discovery by asset id.
Response aas_discovery(const Context& ctx, std::string_view rest);
// denied is the answer to a denied decision: the Handle responseCode (402 for
// an anonymous caller, 401 otherwise) and a message saying what was refused,
// never why (the determining policies go to the log).
Response denied(const Decision& d, std::string_view what, std::string_view handle = "", bool pretty = false);

}  // namespace idra::api
