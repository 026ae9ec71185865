// ca_admin.cpp: the CA administration API, for node administrators (an
// admin-profile client certificate or a node administrator's Basic
// credentials). The `idra ca` commands are its client.
//
//   GET  /api/ca/profiles                   the certificate profiles
//   POST /api/ca/tokens                     {"identifier","profile","ttl"} -> {"token",...}
//   GET  /api/ca/certificates?identifier=&cursor=&limit=
//   GET  /api/ca/certificates/<serial>
//   POST /api/ca/certificates               {"csr","profile","identifier",...} -> issued
//   POST /api/ca/revoke                     {"target": serial or identifier, "reason"}
#include <ctime>

#include "handlers.hpp"
#include "idra/ca.hpp"

namespace idra::api {
namespace {

using nlohmann::ordered_json;

ordered_json entry_json(const ca::CertEntry& e, bool with_pem) {
  ordered_json j = {{"serial", e.serial},
                    {"identifier", e.identifier},
                    {"profile", e.profile},
                    {"status", e.status()},
                    {"subject", e.subject},
                    {"fingerprint", e.fingerprint},
                    {"via", e.via},
                    {"issued_at", ca::format_time(e.issued_at)},
                    {"not_before", ca::format_time(e.not_before)},
                    {"not_after", ca::format_time(e.not_after)}};
  if (e.revoked) {
    j["revoked_at"] = ca::format_time(e.revoked_at);
    j["reason"] = std::string(pki::crl_reason_name(e.reason));
  }
  if (with_pem) {
    const auto* p = reinterpret_cast<const unsigned char*>(e.der.data());
    if (auto cert = pki::certificate_from_der({p, e.der.size()})) j["certificate"] = pki::to_pem(**cert);
  }
  return j;
}

Response ca_error(const Error& e) {
  const unsigned status = e.code >= 400 && e.code < 600 ? static_cast<unsigned>(e.code) : 500u;
  return plain_error(status, e.message);
}

// parse_ttl reads "3600", "3600s", "90m", "24h" or "7d".
std::optional<std::chrono::seconds> parse_ttl(const ordered_json& v) {
  if (v.is_number_unsigned()) return std::chrono::seconds(v.get<std::uint64_t>());
  if (!v.is_string()) return std::nullopt;
  const std::string s = v.get<std::string>();
  if (s.empty() || s.size() > 12) return std::nullopt;
  std::uint64_t n = 0;
  std::size_t i = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) n = n * 10 + static_cast<unsigned>(s[i] - '0');
  if (i == 0) return std::nullopt;
  const std::string unit = s.substr(i);
  const std::uint64_t mult = unit.empty() || unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : unit == "d" ? 86400 : 0;
  if (mult == 0) return std::nullopt;
  return std::chrono::seconds(static_cast<std::int64_t>(n * mult));
}

// csr_der accepts a PEM CERTIFICATE REQUEST or bare base64 DER.
Result<std::vector<unsigned char>> csr_der(std::string text) {
  constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE REQUEST-----";
  constexpr std::string_view kEnd = "-----END CERTIFICATE REQUEST-----";
  if (const auto b = text.find(kBegin); b != std::string::npos) {
    const auto e = text.find(kEnd, b);
    if (e == std::string::npos) return make_error("csr: PEM without its END line");
    text = text.substr(b + kBegin.size(), e - b - kBegin.size());
  }
  return pki::decode_base64_body(text, pki::kMaxCsrBytes);
}

std::vector<std::string> strings_of(const ordered_json& body, const char* key, std::string& error) {
  std::vector<std::string> out;
  if (!body.contains(key)) return out;
  const auto& v = body.at(key);
  if (!v.is_array()) {
    error = std::string(key) + " must be an array of strings";
    return out;
  }
  for (const auto& item : v) {
    if (!item.is_string()) {
      error = std::string(key) + " must be an array of strings";
      return out;
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

Result<ordered_json> json_body(const Request& request) {
  if (!is_json_content_type(request.header("content-type"))) return make_error("Content-Type must be application/json");
  auto body = ordered_json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return make_error("body is not a JSON object");
  return body;
}

std::string string_field(const ordered_json& body, const char* key) {
  if (!body.contains(key) || !body.at(key).is_string()) return {};
  return body.at(key).get<std::string>();
}

}  // namespace

Response ca_admin(const Context& ctx, std::string_view rest) {
  const Request& request = ctx.request;
  ca::Authority& authority = *ctx.ca;
  // Every operation asks the policy (by default: node administrators only).
  auto allowed = [&](Action action, std::string_view what, std::string_view resource, Resource::Target target,
                     std::string_view profile = {}) -> std::optional<Response> {
    Resource r{resource, nullptr, nullptr, false, profile, target};
    auto d = ctx.access.decide(ctx.principal, action, r);
    if (d.allow) return std::nullopt;
    return denied(d, what);
  };
  auto canonical = [&](const std::string& identifier) {
    auto id = ids::identify(identifier, ctx.config.mapping);
    return id ? id->handle : identifier;
  };
  using T = Resource::Target;
  const std::string& method = request.method;

  if (rest == "profiles") {
    if (method != "GET") return plain_error(405, "GET only");
    if (auto no = allowed(Action::read_certificates, "reading the CA's profiles", "", T::authority)) return *no;
    ordered_json list = ordered_json::array();
    for (const auto& p : authority.profiles()) {
      ordered_json eku = p.extended_key_usage;
      list.push_back({{"name", p.name}, {"role", p.role}, {"validity_seconds", p.validity.count()},
                      {"enrollable", p.enrollable}, {"extended_key_usage", eku}});
    }
    return json_response(200, {{"profiles", list}});
  }

  if (rest == "tokens") {
    if (method != "POST") return plain_error(405, "POST only");
    auto body = json_body(request);
    if (!body) return plain_error(400, body.error().message);
    const std::string identifier = string_field(*body, "identifier");
    const std::string profile = body->contains("profile") ? string_field(*body, "profile") : "device";
    if (identifier.empty()) return plain_error(400, "identifier is required");
    if (profile.empty()) return plain_error(400, "profile must be a string");
    std::chrono::seconds ttl{std::chrono::hours{24}};
    if (body->contains("ttl")) {
      auto parsed = parse_ttl(body->at("ttl"));
      if (!parsed) return plain_error(400, "ttl must be seconds or a duration like \"24h\", \"30m\", \"7d\"");
      ttl = *parsed;
    }
    ctx.audit.resource(canonical(identifier));
    if (auto no = allowed(Action::issue_token, "creating an enrollment token", canonical(identifier), T::identifier, profile)) return *no;
    auto token = authority.create_token(identifier, profile, ttl, request.now_unix, ctx.audit.ca_hook(201));
    if (!token) return ca_error(token.error());
    auto id = ids::identify(identifier, ctx.config.mapping);
    return json_response(201, {{"token", *token},
                               {"identifier", id ? id->handle : identifier},
                               {"profile", profile},
                               {"expires", ca::format_time(request.now_unix + ttl.count())}});
  }

  if (rest == "certificates") {
    if (method == "GET" || method == "HEAD") {
      std::string identifier;
      if (auto id = ctx.target.first("identifier")) {
        auto parsed = ids::identify(*id, ctx.config.mapping);
        if (!parsed) return plain_error(400, "identifier: " + parsed.error().message);
        identifier = parsed->handle;
      }
      ctx.audit.resource(identifier);
      if (auto no = allowed(Action::read_certificates, "listing certificates", identifier,
                            identifier.empty() ? T::authority : T::identifier)) {
        return *no;
      }
      auto limit = parse_u64_param(ctx.target, "limit");
      if (!limit) return plain_error(400, limit.error().message);
      const std::string cursor(ctx.target.first("cursor").value_or(""));
      auto page = authority.list(identifier, cursor, static_cast<std::size_t>(limit->value_or(100)));
      ordered_json list = ordered_json::array();
      for (const auto& e : page.entries) list.push_back(entry_json(e, false));
      ordered_json out = {{"certificates", list}};
      if (!page.next_cursor.empty()) out["next_cursor"] = page.next_cursor;
      return json_response(200, out);
    }
    if (method != "POST") return plain_error(405, "GET or POST");
    auto body = json_body(request);
    if (!body) return plain_error(400, body.error().message);
    auto der = csr_der(string_field(*body, "csr"));
    if (!der) return plain_error(400, "csr: " + der.error().message);
    auto csr = pki::parse_csr(*der);
    if (!csr) return plain_error(400, "csr: " + csr.error().message);
    ca::Authority::IssueRequest req;
    req.identifier = string_field(*body, "identifier");
    req.profile = string_field(*body, "profile");
    if (req.profile.empty()) return plain_error(400, "profile is required");
    if (!req.identifier.empty()) ctx.audit.resource(canonical(req.identifier));
    if (auto no = allowed(Action::issue_certificate, "issuing certificates",
                          req.identifier.empty() ? std::string() : canonical(req.identifier),
                          req.identifier.empty() ? T::authority : T::identifier, req.profile)) {
      return *no;
    }
    req.subject.common_name = string_field(*body, "common_name");
    req.subject.organization = string_field(*body, "organization");
    std::string error;
    req.names.dns_names = strings_of(*body, "dns_names", error);
    req.names.ip_addresses = strings_of(*body, "ip_addresses", error);
    req.names.emails = strings_of(*body, "emails", error);
    if (!error.empty()) return plain_error(400, error);
    auto issued = authority.issue(*csr->public_key, req, request.now_unix, ctx.audit.ca_hook(201));
    if (!issued) return ca_error(issued.error());
    return json_response(201, entry_json(issued->entry, true));
  }

  constexpr std::string_view kCertificates = "certificates/";
  if (rest.starts_with(kCertificates)) {
    if (method != "GET" && method != "HEAD") return plain_error(405, "GET only");
    ctx.audit.resource(rest.substr(kCertificates.size(), 64));
    if (auto no = allowed(Action::read_certificates, "reading certificates", rest.substr(kCertificates.size()),
                          T::certificate)) {
      return *no;
    }
    auto entry = authority.find(rest.substr(kCertificates.size()));
    if (!entry) return plain_error(404, "no certificate with serial " + std::string(rest.substr(kCertificates.size(), 80)));
    return json_response(200, entry_json(*entry, true));
  }

  if (rest == "revoke") {
    if (method != "POST") return plain_error(405, "POST only");
    auto body = json_body(request);
    if (!body) return plain_error(400, body.error().message);
    const std::string target = string_field(*body, "target");
    if (target.empty()) return plain_error(400, "target (a serial number or an identifier) is required");
    const std::string reason_name = body->contains("reason") ? string_field(*body, "reason") : "unspecified";
    auto reason = pki::crl_reason_from_name(reason_name);
    if (!reason) {
      return plain_error(400, "unknown reason \"" + reason_name.substr(0, 64) +
                                  "\"; use unspecified, keyCompromise, cACompromise, affiliationChanged, "
                                  "superseded, cessationOfOperation, privilegeWithdrawn or aACompromise");
    }
    // A serial number is 32 hex digits (16 random bytes); anything else names an identifier.
    const bool serial = target.size() == 32 && target.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
    ctx.audit.resource(serial ? target : canonical(target));
    if (auto no = allowed(Action::revoke, "revoking certificates", serial ? target : canonical(target),
                          serial ? T::certificate : T::identifier)) {
      return *no;
    }
    auto revoked = authority.revoke(target, *reason, request.now_unix, ctx.audit.ca_hook(200));
    if (!revoked) return ca_error(revoked.error());
    ordered_json list = ordered_json::array();
    for (const auto& e : *revoked) list.push_back(entry_json(e, false));
    return json_response(200, {{"revoked", list}});
  }
  return plain_error(404, "no such CA resource: " + std::string(rest.substr(0, 100)));
}

}  // namespace idra::api
