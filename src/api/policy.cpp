// policy.cpp: the policy set as the API shows it.
//   GET  /api/policy          the active set: SHA-256, files, policy and template ids
//   POST /api/policy/reload   read policies/ again (refused whole when invalid)
#include "handlers.hpp"

namespace idra::api {
namespace {

using nlohmann::ordered_json;

ordered_json bundle_json(const policy::Bundle& b) {
  return {{"sha256", b.sha256_hex},
          {"files", b.files},
          {"policies", b.policies.policy_ids()},
          {"templates", b.policies.template_ids()},
          {"schema", b.schema != nullptr}};
}

}  // namespace

Response denied(const Decision& d, std::string_view what, std::string_view handle, bool pretty) {
  return handle_error(d.response_code, handle, "Not permitted: " + std::string(what), pretty);
}

Response policy_admin(const Context& ctx, policy::Engine* engine, bool reload) {
  const std::string& method = ctx.request.method;
  if (!reload) {
    if (method != "GET" && method != "HEAD") return plain_error(405, "GET only");
    auto d = ctx.access.decide(ctx.principal, Action::read_policy, Resource{});
    if (!d.allow) return denied(d, "reading the policy set");
    const policy::Bundle* b = ctx.access.bundle();
    ordered_json body = bundle_json(*b);
    body["reloadable"] = engine != nullptr;
    return json_response(200, body);
  }
  if (method != "POST") return plain_error(405, "POST only");
  auto d = ctx.access.decide(ctx.principal, Action::reload_policy, Resource{});
  if (!d.allow) return denied(d, "reloading the policy set");
  if (engine == nullptr) return plain_error(409, "this node runs the built-in policy set; there is nothing to reload");
  auto r = engine->reload();
  if (!r) {
    ordered_json errors = ordered_json::array();
    for (const auto& e : r.error()) errors.push_back(e.str());
    ordered_json body = {{"message", "the policy set in " + engine->directory().string() +
                                         " is invalid; the active set stays"},
                         {"errors", errors}};
    return json_response(422, body);
  }
  ordered_json body = bundle_json(*engine->current());
  body["changed"] = *r;
  return json_response(200, body);
}

}  // namespace idra::api
