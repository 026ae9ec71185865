// test_pki.hpp: a development PKI and a client certificate for the http
// tests, made once per test binary (Argon2id at its minimum cost).
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "idra/pki.hpp"
#include "unit/pki/test_util.hpp"

namespace idra::http::test {

// TempDir: give it a stem such as "idra-http-...-XXXXXX".
using TempDir = pki::test::TempDir;

template <class T>
T value_or_throw(Result<T> r, const char* what) {
  if (!r) throw std::runtime_error(std::string(what) + ": " + r.error().message);
  return std::move(*r);
}

// Pki is the dev PKI (root, intermediate, server leaf) plus a client leaf
// issued by the intermediate, with its key.
struct Pki {
  TempDir dir{"idra-http-pki-XXXXXX"};
  pki::TlsMaterial material;
  pki::X509Ptr root;
  pki::X509Ptr intermediate;
  pki::X509Ptr client;
  pki::EvpPkeyPtr client_key;

  Pki() {
    const auto passphrase = pki::Secret::copy_of("http-test");
    material =
        value_or_throw(pki::ensure_dev_pki(dir.path(), passphrase, {"localhost"}, {"127.0.0.1"},
                                           pki::KeyEncryptionParams::minimum()),
                       "ensure_dev_pki");
    root = std::move(
        value_or_throw(pki::load_certificates(material.paths.ca_certificate), "ca.pem").at(0));
    auto inter = value_or_throw(pki::load_certificates(material.paths.intermediate_certificate),
                                "intermediate.pem");
    auto inter_key = value_or_throw(
        pki::load_private_key(material.paths.intermediate_key, passphrase), "intermediate.key");
    auto ca = value_or_throw(
        pki::CertificateAuthority::open(pki::up_ref(*inter.at(0)), std::move(inter_key)),
        "CertificateAuthority::open");
    intermediate = std::move(inter.at(0));
    client_key = value_or_throw(pki::generate_key(), "generate_key");
    pki::LeafRequest request;
    request.kind = pki::LeafKind::kClient;
    request.subject.common_name = "device-1";
    request.names.uris = {"hdl:88.100/device-1"};
    client = value_or_throw(ca.issue_leaf(*client_key, request), "issue_leaf");
  }

  // server_ctx is the server's context; with |verify_clients| it requests a
  // client certificate and verifies it against the dev root (what
  // pki::enable_client_auth will do, minus revocation).
  pki::SslCtxPtr server_ctx(bool verify_clients) const {
    auto ctx = value_or_throw(pki::make_server_tls_context(material), "make_server_tls_context");
    if (verify_clients) {
      SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
      X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.get()), root.get());
      static constexpr unsigned char kSid[] = "idra-http-test";
      SSL_CTX_set_session_id_context(ctx.get(), kSid, sizeof kSid - 1);
    }
    return ctx;
  }

  // client_ctx trusts the dev root; with |present_certificate| it presents
  // the client leaf and the intermediate.
  pki::SslCtxPtr client_ctx(bool present_certificate) const {
    pki::SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.get()), root.get());
    if (present_certificate) {
      SSL_CTX_use_certificate(ctx.get(), client.get());
      SSL_CTX_add1_chain_cert(ctx.get(), intermediate.get());
      SSL_CTX_use_PrivateKey(ctx.get(), client_key.get());
    }
    return ctx;
  }
};

// shared_pki is made on first use; its directory is removed at exit.
inline const Pki& shared_pki() {
  static const Pki pki;
  return pki;
}

}  // namespace idra::http::test
