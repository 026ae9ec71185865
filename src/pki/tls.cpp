// tls.cpp: the server's TLS context.
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "idra/pki.hpp"
#include "pki/internal.hpp"

namespace idra::pki {

namespace {

// ALPN wire format: length-prefixed protocol names.
constexpr unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

// select_alpn picks "http/1.1" when the client offers it. Otherwise the
// handshake goes on without ALPN (SSL_TLSEXT_ERR_NOACK) rather than failing:
// a client that offers only h2 can still talk HTTP/1.1 after the handshake.
int select_alpn(SSL*, const unsigned char** out, unsigned char* out_len, const unsigned char* in,
                unsigned int in_len, void*) {
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_len, kAlpn, sizeof kAlpn, in, in_len) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

Result<SslCtxPtr> make_server_tls_context(std::span<const X509Ptr> chain, const EVP_PKEY& key) {
  if (chain.empty() || !chain.front()) return make_error("no server certificate");
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return internal::openssl_error("SSL_CTX_new");
  SSL_CTX* c = ctx.get();
  if (SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(c, 0) != 1) {
    return internal::openssl_error("cannot set TLS versions");
  }
  // Security level 2 (112-bit keys: RSA >= 2048, no SHA-1 signatures) no
  // matter what the system's openssl.cnf says.
  SSL_CTX_set_security_level(c, 2);
  if (SSL_CTX_set_cipher_list(c, kTls12CipherList) != 1 ||
      SSL_CTX_set_ciphersuites(c, kTls13CipherSuites) != 1) {
    return internal::openssl_error("cannot set cipher suites");
  }
  if (SSL_CTX_set1_groups_list(c, "X25519:P-256:P-384") != 1) {
    return internal::openssl_error("cannot set key exchange groups");
  }
  SSL_CTX_set_options(
      c, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_clear_options(c, SSL_OP_NO_TICKET);  // session tickets on
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_SERVER);
  static constexpr unsigned char kSessionContext[] = "idra";
  if (SSL_CTX_set_session_id_context(c, kSessionContext, sizeof kSessionContext - 1) != 1) {
    return internal::openssl_error("cannot set the session id context");
  }
  SSL_CTX_set_alpn_select_cb(c, select_alpn, nullptr);

  if (SSL_CTX_use_certificate(c, chain.front().get()) != 1) {
    return internal::openssl_error("cannot use the server certificate");
  }
  for (std::size_t i = 1; i < chain.size(); ++i) {
    if (!chain[i] || SSL_CTX_add1_chain_cert(c, chain[i].get()) != 1) {
      return internal::openssl_error("cannot add a chain certificate");
    }
  }
  if (SSL_CTX_use_PrivateKey(c, const_cast<EVP_PKEY*>(&key)) != 1) {
    return internal::openssl_error("cannot use the server private key");
  }
  if (SSL_CTX_check_private_key(c) != 1) {
    return internal::openssl_error("the server private key does not match its certificate");
  }
  return ctx;
}

Result<SslCtxPtr> make_server_tls_context(const TlsMaterial& material) {
  if (!material.key) return make_error("no server private key");
  return make_server_tls_context(material.chain, *material.key);
}

}  // namespace idra::pki
