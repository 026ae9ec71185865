// pki_est_body: an EST simpleenroll body, decode_base64_body then parse_csr.
//
// Whatever decodes must re-encode (encode_base64_body) to text that decodes
// to the same bytes; a CSR that parses must have a key and a request. Any
// difference aborts.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "idra/pki.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto decoded = idra::pki::decode_base64_body(body, idra::pki::kMaxCsrBytes);
  if (!decoded.ok()) return 0;
  if (decoded->empty() || decoded->size() > idra::pki::kMaxCsrBytes) {
    std::fprintf(stderr, "decode_base64_body broke its size contract: %zu\n", decoded->size());
    std::abort();
  }
  const std::string again = idra::pki::encode_base64_body(*decoded);
  auto round = idra::pki::decode_base64_body(again, idra::pki::kMaxCsrBytes);
  if (!round.ok() || *round != *decoded) {
    std::fprintf(stderr, "base64 round trip differs\n");
    std::abort();
  }
  auto csr = idra::pki::parse_csr(*decoded);
  if (csr.ok() && (!csr->request || !csr->public_key)) {
    std::fprintf(stderr, "parse_csr returned no request or key\n");
    std::abort();
  }
  return 0;
}
