#include "peer.hpp"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <vector>

namespace idra::http {

namespace {

// der_of appends the DER of |cert| to |out|; false if encoding fails.
bool der_of(X509* cert, std::vector<std::vector<unsigned char>>& out) {
  const int len = i2d_X509(cert, nullptr);
  if (len <= 0) return false;
  std::vector<unsigned char> der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  if (i2d_X509(cert, &p) != len) return false;
  out.push_back(std::move(der));
  return true;
}

}  // namespace

std::string sha256_hex(std::span<const unsigned char> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), md, &md_len, EVP_sha256(), nullptr) != 1) return {};
  std::string out;
  out.reserve(2 * md_len);
  for (unsigned i = 0; i < md_len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

std::shared_ptr<const api::PeerCertificate> peer_certificate(SSL* ssl) {
  if (ssl == nullptr) return nullptr;
  X509* leaf = SSL_get0_peer_certificate(ssl);
  if (leaf == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return nullptr;

  auto peer = std::make_shared<api::PeerCertificate>();
  STACK_OF(X509)* verified = SSL_get0_verified_chain(ssl);
  const int n = verified != nullptr ? sk_X509_num(verified) : 0;
  if (n > 0) {
    // The verified chain starts with the very certificate the peer
    // presented; anything else would be an OpenSSL invariant broken.
    if (X509_cmp(sk_X509_value(verified, 0), leaf) != 0) return nullptr;
    peer->chain_der.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      if (!der_of(sk_X509_value(verified, i), peer->chain_der)) return nullptr;
    }
  } else {
    // Resumed session: the leaf was verified by the full handshake that
    // created the session (its verify result is kept with it); the chain was
    // not kept. See peer.hpp.
    if (!der_of(leaf, peer->chain_der)) return nullptr;
  }
  peer->fingerprint = sha256_hex(peer->chain_der.front());
  if (peer->fingerprint.empty()) return nullptr;
  return peer;
}

}  // namespace idra::http
