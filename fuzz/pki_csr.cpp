// pki_csr: parse_csr on arbitrary bytes; a CSR that parses is issued a
// certificate under the built-in device profile by a CA made once.
//
// An issued certificate must verify up to the root and carry the CSR's key;
// anything else aborts. Names in the CSR must never reach the certificate.
#include <openssl/x509.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "idra/pki.hpp"

namespace {

using namespace idra::pki;

struct Fixture {
  CertificateAuthority root;
  CertificateAuthority inter;
  Profile device;
};

EvpPkeyPtr key() {
  auto k = generate_key(KeyAlgorithm::kEcP256);
  if (!k.ok()) throw std::runtime_error(k.error().message);
  return std::move(k).value();
}

Fixture make_fixture() {
  auto root = CertificateAuthority::create_root(key(), {"fuzz root", "", ""},
                                                std::chrono::hours{24 * 3650});
  if (!root.ok()) throw std::runtime_error(root.error().message);
  auto inter =
      root->issue_intermediate(key(), {"fuzz issuing CA", "", ""}, std::chrono::hours{24 * 1825});
  if (!inter.ok()) throw std::runtime_error(inter.error().message);
  for (auto& p : builtin_profiles()) {
    if (p.name == "device") {
      return Fixture{std::move(root).value(), std::move(inter).value(), std::move(p)};
    }
  }
  throw std::runtime_error("no device profile");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Fixture fixture = make_fixture();
  auto csr = parse_csr({data, size});
  if (!csr.ok()) return 0;
  Identity identity;
  identity.identifier = "20.500.12345/fuzz";
  const IssueUrls urls{"http://127.0.0.1:8080/crl/intermediate.crl", "http://127.0.0.1:8080/ocsp"};
  auto cert = issue_certificate(fixture.inter, *csr->public_key, fixture.device, identity, urls);
  if (!cert.ok()) {
    // The device profile accepts every key parse_csr accepts.
    std::fprintf(stderr, "issue_certificate refused a parsed CSR: %s\n",
                 cert.error().message.c_str());
    std::abort();
  }
  const X509* chain[] = {&fixture.inter.certificate()};
  auto verified = verify_chain(fixture.root.certificate(), chain, **cert);
  if (!verified.ok()) {
    std::fprintf(stderr, "issued certificate does not verify: %s\n",
                 verified.error().message.c_str());
    std::abort();
  }
  if (EVP_PKEY_eq(X509_get0_pubkey(cert->get()), csr->public_key.get()) != 1) {
    std::fprintf(stderr, "issued certificate carries another key\n");
    std::abort();
  }
  const SubjectAltNames names = subject_alt_names(**cert);
  if (names.uris != std::vector<std::string>{identifier_uri(identity.identifier)} ||
      !names.dns_names.empty() || !names.emails.empty() || !names.ip_addresses.empty()) {
    std::fprintf(stderr, "issued certificate has names from the CSR\n");
    std::abort();
  }
  return 0;
}
