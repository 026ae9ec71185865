// revocation.cpp: what relying parties fetch to learn whether a certificate
// still stands, over plain HTTP and HTTPS alike:
//   GET  /crl/intermediate.crl   the issuing CA's CRL, DER (application/pkix-crl)
//   GET  /crl/root.crl           the root CA's CRL (see ca::Authority::root_crl)
//   POST /ocsp                   RFC 6960 (application/ocsp-request)
//   GET  /ocsp/<base64 request>  RFC 5019 (the request URL-encoded in the path)
#include <sodium.h>

#include "handlers.hpp"
#include "idra/ca.hpp"

namespace idra::api {
namespace {

constexpr std::size_t kMaxOcspRequestBytes = 8192;

Response ocsp_response(std::vector<unsigned char> der, std::int64_t now, std::chrono::seconds max_age) {
  Response r;
  r.headers.emplace_back("content-type", "application/ocsp-response");
  // RFC 5019 section 6: GET responses may be cached until nextUpdate.
  r.headers.emplace_back("cache-control", "max-age=" + std::to_string(max_age.count()) + ", public, no-transform, must-revalidate");
  (void)now;
  r.body.assign(der.begin(), der.end());
  return r;
}

}  // namespace

Response crl(const Context& ctx, std::string_view name) {
  if (ctx.request.method != "GET" && ctx.request.method != "HEAD") return plain_error(405, "CRLs take GET");
  std::vector<unsigned char> der;
  if (name == "intermediate.crl") {
    der = ctx.ca->crl(ctx.request.now_unix);
  } else if (name == "root.crl") {
    der = ctx.ca->root_crl();
    if (der.empty()) return plain_error(404, "the root CA has no CRL yet (the root key is offline)");
  } else {
    return plain_error(404, "no CRL \"" + std::string(name.substr(0, 64)) +
                                "\"; the issuing CA's is /crl/intermediate.crl, the root's /crl/root.crl");
  }
  if (der.empty()) return plain_error(500, "the CRL could not be generated");
  Response r;
  r.headers.emplace_back("content-type", "application/pkix-crl");
  r.headers.emplace_back("cache-control", "max-age=300");
  r.body.assign(der.begin(), der.end());
  return r;
}

Response ocsp(const Context& ctx, std::string_view rest) {
  const Request& request = ctx.request;
  if (rest.empty()) {
    if (request.method != "POST") return plain_error(405, "POST an OCSP request to /ocsp, or GET /ocsp/<base64 request>");
    auto type = request.header("content-type");
    if (!type || *type != "application/ocsp-request") return plain_error(415, "Content-Type must be application/ocsp-request");
    if (request.body.size() > kMaxOcspRequestBytes) return plain_error(413, "OCSP request is larger than 8192 bytes");
    const auto* bytes = reinterpret_cast<const unsigned char*>(request.body.data());
    return ocsp_response(ctx.ca->ocsp({bytes, request.body.size()}, request.now_unix), request.now_unix,
                         std::chrono::seconds(0));
  }
  if (request.method != "GET" && request.method != "HEAD") return plain_error(405, "GET /ocsp/<base64 request>");
  std::string_view b64 = rest.substr(1);  // after the '/'; the path is already percent-decoded
  if (b64.size() > kMaxOcspRequestBytes * 2) return plain_error(414, "OCSP request is too long");
  std::vector<unsigned char> der(b64.size());
  std::size_t len = 0;
  if (sodium_base642bin(der.data(), der.size(), b64.data(), b64.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    return plain_error(400, "the OCSP request in the path is not base64");
  }
  der.resize(len);
  return ocsp_response(ctx.ca->ocsp(der, request.now_unix), request.now_unix, std::chrono::seconds(300));
}

}  // namespace idra::api
