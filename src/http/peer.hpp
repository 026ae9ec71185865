// peer.hpp: the verified client certificate of a TLS connection, read once
// after the handshake. The http layer only reads what the TLS layer decided
// (trust anchors and revocation are configured on the SSL_CTX elsewhere).
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <span>
#include <string>

#include "idra/api.hpp"

namespace idra::http {

// peer_certificate returns the client certificate of |ssl| after a finished
// server-side handshake, or null when the client sent none or when the
// verification result is anything but X509_V_OK (a verify callback that let a
// bad certificate through does not make it a peer).
//
// chain_der is SSL_get0_verified_chain: leaf first, trust anchor last. A
// resumed session carries the peer leaf and the verify result of the full
// handshake that created it, but OpenSSL keeps no verified chain for it; then
// chain_der is {leaf} only (so front() is always the leaf, and back() is the
// anchor only when size() > 1). We never substitute SSL_get_peer_cert_chain,
// which is what the client sent, not what was verified.
//
// Returns null as well if an encoding step fails (out of memory): such a
// connection is treated as anonymous rather than half-identified.
std::shared_ptr<const api::PeerCertificate> peer_certificate(SSL* ssl);

// sha256_hex returns the SHA-256 of |bytes| as 64 lowercase hex digits, or an
// empty string if the digest fails.
std::string sha256_hex(std::span<const unsigned char> bytes);

}  // namespace idra::http
