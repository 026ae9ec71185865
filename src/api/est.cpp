// est.cpp: Enrollment over Secure Transport (RFC 7030, with RFC 8951's
// clarifications) under /.well-known/est/[<label>/]<operation>.
//
//   GET  cacerts         the issuing CA and the root, certs-only CMS
//   GET  csrattrs        what a CSR for the profile should carry
//   POST simpleenroll    a one-time token (HTTP Basic: identifier, token) or
//                        a manufacturer IDevID client certificate
//   POST simplereenroll  the client certificate being renewed (mTLS)
//
// A label names a certificate profile ("device", "server", ...); without one
// the token's or the certificate's own profile applies, and csrattrs
// describes the device profile. Bodies are base64 DER both ways; responses
// carry Content-Transfer-Encoding: base64 for clients older than RFC 8951.
#include <sodium.h>

#include "handlers.hpp"
#include "idra/ca.hpp"
#include "idra/text.hpp"

namespace idra::api {
namespace {

constexpr std::string_view kPkcs7 = "application/pkcs7-mime; smime-type=certs-only";

Response base64_response(std::string content_type, std::span<const unsigned char> der) {
  Response r;
  r.status = 200;
  r.headers.emplace_back("content-type", std::move(content_type));
  r.headers.emplace_back("content-transfer-encoding", "base64");
  r.body = pki::encode_base64_body(der);
  return r;
}

Response est_error(const Error& e) {
  const unsigned status = e.code >= 400 && e.code < 600 ? static_cast<unsigned>(e.code) : 500u;
  Response r = plain_error(status, e.message);
  if (status == 401) r.headers.emplace_back("www-authenticate", "Basic realm=\"idra EST\"");
  return r;
}

Response unauthorized(std::string_view message) { return est_error(Error{std::string(message), 401}); }

// challenge is the first answer to an enroll that carries no credentials at
// all (RFC 7030 section 3.2.3): 401 with WWW-Authenticate and an EMPTY body.
// EST clients treat it as a protocol step, not an error, and some (the
// BouncyCastle client's HttpAuth) fail on a challenge whose body they did
// not read; the reason goes into a header instead.
Response challenge(std::string_view message) {
  Response r;
  r.status = 401;
  r.headers.emplace_back("www-authenticate", "Basic realm=\"idra EST\"");
  r.headers.emplace_back("x-idra-message", std::string(message));
  return r;
}

// basic_credentials decodes "Basic base64(user:password)" without reading
// the user part as index:handle. nullopt if the header is not Basic or does
// not decode.
struct BasicPair {
  std::string user;
  std::string password;
  ~BasicPair() { sodium_memzero(password.data(), password.size()); }
};

std::optional<std::unique_ptr<BasicPair>> basic_credentials(std::string_view header) {
  if (header.size() < 6 || !text::iequals(header.substr(0, 6), "basic ")) return std::nullopt;
  std::string_view b64 = header.substr(6);
  while (!b64.empty() && b64.front() == ' ') b64.remove_prefix(1);
  std::string decoded(b64.size(), '\0');
  std::size_t len = 0;
  if (b64.size() > 4096 ||
      sodium_base642bin(reinterpret_cast<unsigned char*>(decoded.data()), decoded.size(), b64.data(), b64.size(),
                        nullptr, &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    return std::nullopt;
  }
  decoded.resize(len);
  const auto colon = decoded.find(':');
  if (colon == std::string::npos) {
    sodium_memzero(decoded.data(), decoded.size());
    return std::nullopt;
  }
  auto pair = std::make_unique<BasicPair>();
  pair->user = decoded.substr(0, colon);
  pair->password = decoded.substr(colon + 1);
  sodium_memzero(decoded.data(), decoded.size());
  // The identifier may be percent-encoded (a handle can hold ':').
  if (auto user = text::percent_decode(pair->user, false, 0)) pair->user = *user;
  return pair;
}

// read_csr checks the media type and decodes the base64 body.
Result<std::vector<unsigned char>> read_csr(const Request& request) {
  auto type = request.header("content-type");
  if (!type || !text::iequals(type->substr(0, std::min<std::size_t>(type->size(), 19)), "application/pkcs10")) {
    return Error{"Content-Type must be application/pkcs10 (a base64 PKCS#10 request)", 415};
  }
  // Base64 is 4/3 of the DER, plus line breaks.
  if (request.body.size() > pki::kMaxCsrBytes * 4 / 3 + pki::kMaxCsrBytes / 32 + 64) {
    return Error{"CSR is larger than " + std::to_string(pki::kMaxCsrBytes) + " bytes", 413};
  }
  auto der = pki::decode_base64_body(request.body, pki::kMaxCsrBytes);
  if (!der) return Error{"body is not base64 DER: " + der.error().message, 400};
  return der;
}

}  // namespace

Response est(const Context& ctx, std::string_view rest) {
  ca::Authority& authority = *ctx.ca;
  const Request& request = ctx.request;
  std::string_view label;
  std::string_view operation = rest;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    label = rest.substr(0, slash);
    operation = rest.substr(slash + 1);
    const pki::Profile* p = authority.profile(label);
    if (label.empty() || p == nullptr || !p->enrollable) {
      return plain_error(404, "no enrollable certificate profile \"" + std::string(label.substr(0, 64)) + "\"");
    }
  }
  const bool get = request.method == "GET" || request.method == "HEAD";
  if (operation == "cacerts") {
    if (!get) return plain_error(405, "cacerts takes GET");
    const X509* certs[] = {&authority.issuer().certificate(), authority.root().get()};
    return base64_response(std::string(kPkcs7), pki::certs_only(certs));
  }
  if (operation == "csrattrs") {
    if (!get) return plain_error(405, "csrattrs takes GET");
    const pki::Profile* p = authority.profile(label.empty() ? "device" : label);
    if (p == nullptr) return plain_error(404, "no device profile");
    return base64_response("application/csrattrs", pki::csr_attributes(*p, false));
  }
  const bool enroll = operation == "simpleenroll";
  const bool reenroll = operation == "simplereenroll";
  if (!enroll && !reenroll) {
    if (operation == "serverkeygen" || operation == "fullcmc") {
      return plain_error(501, "EST " + std::string(operation) + " is not offered; use simpleenroll");
    }
    return plain_error(404, "no EST operation \"" + std::string(operation.substr(0, 64)) + "\"");
  }
  if (request.method != "POST") return plain_error(405, std::string(operation) + " takes POST");

  const ca::ClientCert* cert = ctx.client_cert;

  if (reenroll) {
    if (!cert || cert->kind != ca::ClientCert::Kind::issued) {
      return unauthorized("simplereenroll needs the current certificate, issued by this CA, as the TLS client certificate");
    }
    const std::string profile = label.empty() ? cert->profile : std::string(label);
    ctx.audit.resource(cert->identifier);
    auto d = ctx.access.decide(ctx.principal, Action::reenroll, Resource{cert->identifier, nullptr, nullptr, false, profile});
    if (!d.allow) return est_error(Error{"the policy does not let this certificate re-enroll " + cert->identifier, 403});
    auto csr = read_csr(request);
    if (!csr) return est_error(csr.error());
    auto done = authority.reenroll(*cert, *csr, label, request.now_unix, ctx.audit.ca_hook(200));
    if (!done) return est_error(done.error());
    const X509* out[] = {done->certificate.get()};
    return base64_response(std::string(kPkcs7), pki::certs_only(out));
  }

  // simpleenroll: a token (HTTP Basic) or an IDevID. Authorization first:
  // nothing about the body is looked at for a client that has neither.
  std::optional<std::unique_ptr<BasicPair>> basic;
  if (auto authz = request.header("authorization")) {
    basic = basic_credentials(*authz);
    if (!basic) return unauthorized("EST takes HTTP Basic credentials: the identifier and its enrollment token");
  }
  if (!basic && request.peer && (!cert || cert->kind != ca::ClientCert::Kind::idevid)) {
    // A certificate was presented, so this is no mere challenge: say why it
    // does not do.
    return unauthorized(cert ? "the client certificate is not a manufacturer IDevID; enroll with a token, or use simplereenroll"
                             : "the client certificate is not an IDevID this node can map to an identifier (no serialNumber or hdl: URI)");
  }
  if (!basic && (!cert || cert->kind != ca::ClientCert::Kind::idevid)) {
    return challenge("enrollment needs a one-time token (HTTP Basic: identifier and token) or a manufacturer IDevID certificate");
  }
  // The policy sees the identifier the credential claims; the CA checks the
  // credential itself (and that the CSR and profile fit it) in the enrollment.
  std::string claimed = basic ? (*basic)->user : cert->identifier;
  if (auto id = ids::identify(claimed, ctx.config.mapping)) claimed = id->handle;
  const std::string profile(label.empty() ? std::string_view("device") : label);
  ctx.audit.resource(claimed);
  auto d = ctx.access.decide(ctx.principal, Action::enroll, Resource{claimed, nullptr, nullptr, false, profile});
  if (!d.allow) return est_error(Error{"the policy does not allow enrolling " + claimed.substr(0, 256), 403});
  auto csr = read_csr(request);
  if (!csr) return est_error(csr.error());
  Result<ca::Enrolled> done = basic ? authority.enroll_with_token({(*basic)->user, (*basic)->password}, *csr, label,
                                                                  request.now_unix, ctx.audit.ca_hook(200))
                                    : authority.enroll_with_idevid(*cert, *csr, label, request.now_unix,
                                                                   ctx.audit.ca_hook(200));
  if (!done) return est_error(done.error());
  const X509* out[] = {done->certificate.get()};
  return base64_response(std::string(kPkcs7), pki::certs_only(out));
}

}  // namespace idra::api
