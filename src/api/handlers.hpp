// handlers.hpp: the API families, one file each (handles.cpp, prefixes.cpp).
// Internal to the api module; Service::handle routes to them.
#pragma once

#include "access.hpp"
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

}  // namespace idra::api
