// The server TLS context, exercised by in-process handshakes over a BIO pair.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <string>

#include "idra/pki.hpp"
#include "unit/pki/test_util.hpp"

namespace idra::pki {
namespace {

using namespace test;  // the helpers of test_util.hpp

// One development PKI for the whole suite: creating it is the slow part.
class PkiTls : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    auto m = ensure_dev_pki(dir_->path(), Secret::copy_of("pw"), {"localhost"},
                            {"127.0.0.1", "::1"}, KeyEncryptionParams::minimum());
    if (!m) throw std::runtime_error(m.error().message);
    material_ = new TlsMaterial(std::move(*m));
  }
  static void TearDownTestSuite() {
    delete material_;
    delete dir_;
    material_ = nullptr;
    dir_ = nullptr;
  }

  static SslCtxPtr server_ctx() {
    auto ctx = make_server_tls_context(*material_);
    if (!ctx) throw std::runtime_error(ctx.error().message);
    return std::move(*ctx);
  }

  // client_ctx trusts the development root and checks the host name.
  static SslCtxPtr client_ctx() {
    SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
    EXPECT_EQ(SSL_CTX_load_verify_file(ctx.get(), material_->paths.ca_certificate.c_str()), 1);
    return ctx;
  }

  using Handshake = MemoryTls;

  // handshake runs both ends over a memory BIO pair until both finish or
  // one fails.
  static Handshake handshake(SSL_CTX* client_ctx, SSL_CTX* server_ctx,
                             const unsigned char* alpn = nullptr, unsigned alpn_len = 0) {
    ERR_clear_error();
    Handshake h = memory_tls(client_ctx, server_ctx);
    SSL_set1_host(h.client.get(), "localhost");
    if (alpn != nullptr) SSL_set_alpn_protos(h.client.get(), alpn, alpn_len);
    run_handshake(h);
    return h;
  }

  static TempDir* dir_;
  static TlsMaterial* material_;
};

TempDir* PkiTls::dir_ = nullptr;
TlsMaterial* PkiTls::material_ = nullptr;

constexpr unsigned char kOfferH2AndHttp11[] = {2,   'h', '2', 8,   'h', 't',
                                               't', 'p', '/', '1', '.', '1'};
constexpr unsigned char kOfferH2Only[] = {2, 'h', '2'};

std::string alpn_of(SSL* ssl) {
  const unsigned char* p = nullptr;
  unsigned len = 0;
  SSL_get0_alpn_selected(ssl, &p, &len);
  return std::string(reinterpret_cast<const char*>(p), len);
}

TEST_F(PkiTls, ContextSettings) {
  SslCtxPtr ctx = server_ctx();
  EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx.get()), TLS1_2_VERSION);
  const uint64_t opts = SSL_CTX_get_options(ctx.get());
  EXPECT_TRUE(opts & SSL_OP_NO_RENEGOTIATION);
  EXPECT_TRUE(opts & SSL_OP_CIPHER_SERVER_PREFERENCE);
  EXPECT_TRUE(opts & SSL_OP_NO_COMPRESSION);
  EXPECT_FALSE(opts & SSL_OP_NO_TICKET);
  // Every enabled suite is AEAD with forward secrecy.
  SslPtr ssl(SSL_new(ctx.get()));
  STACK_OF(SSL_CIPHER)* ciphers = SSL_get_ciphers(ssl.get());
  ASSERT_NE(ciphers, nullptr);
  ASSERT_GT(sk_SSL_CIPHER_num(ciphers), 0);
  for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
    const SSL_CIPHER* c = sk_SSL_CIPHER_value(ciphers, i);
    EXPECT_TRUE(SSL_CIPHER_is_aead(c)) << SSL_CIPHER_get_name(c);
    const int kx = SSL_CIPHER_get_kx_nid(c);
    EXPECT_TRUE(kx == NID_kx_ecdhe || kx == NID_kx_any) << SSL_CIPHER_get_name(c);
  }
}

TEST_F(PkiTls, Tls13HandshakeVerifiesAndSelectsHttp11) {
  SslCtxPtr server = server_ctx();
  SslCtxPtr client = client_ctx();
  Handshake h = handshake(client.get(), server.get(), kOfferH2AndHttp11, sizeof kOfferH2AndHttp11);
  ASSERT_TRUE(h.ok) << ERR_error_string(ERR_get_error(), nullptr);
  EXPECT_EQ(SSL_version(h.client.get()), TLS1_3_VERSION);
  EXPECT_EQ(SSL_get_verify_result(h.client.get()), X509_V_OK);
  EXPECT_EQ(alpn_of(h.client.get()), "http/1.1");
  // The server sent its chain: leaf and intermediate.
  STACK_OF(X509)* peer_chain = SSL_get_peer_cert_chain(h.client.get());
  ASSERT_NE(peer_chain, nullptr);
  EXPECT_EQ(sk_X509_num(peer_chain), 2);
}

TEST_F(PkiTls, NoAlpnWhenHttp11IsNotOffered) {
  SslCtxPtr server = server_ctx();
  SslCtxPtr client = client_ctx();
  Handshake h = handshake(client.get(), server.get(), kOfferH2Only, sizeof kOfferH2Only);
  ASSERT_TRUE(h.ok);
  EXPECT_EQ(alpn_of(h.client.get()), "");
  Handshake none = handshake(client.get(), server.get());
  ASSERT_TRUE(none.ok);
  EXPECT_EQ(alpn_of(none.client.get()), "");
}

TEST_F(PkiTls, Tls12UsesAnAeadSuite) {
  SslCtxPtr server = server_ctx();
  SslCtxPtr client = client_ctx();
  ASSERT_EQ(SSL_CTX_set_max_proto_version(client.get(), TLS1_2_VERSION), 1);
  Handshake h = handshake(client.get(), server.get(), kOfferH2AndHttp11, sizeof kOfferH2AndHttp11);
  ASSERT_TRUE(h.ok) << ERR_error_string(ERR_get_error(), nullptr);
  EXPECT_EQ(SSL_version(h.client.get()), TLS1_2_VERSION);
  EXPECT_STREQ(SSL_get_cipher_name(h.client.get()), "ECDHE-ECDSA-AES128-GCM-SHA256");
  EXPECT_EQ(alpn_of(h.client.get()), "http/1.1");
}

TEST_F(PkiTls, Tls12RefusesCbcSuites) {
  SslCtxPtr server = server_ctx();
  SslCtxPtr client = client_ctx();
  ASSERT_EQ(SSL_CTX_set_max_proto_version(client.get(), TLS1_2_VERSION), 1);
  ASSERT_EQ(
      SSL_CTX_set_cipher_list(client.get(), "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA"), 1);
  Handshake h = handshake(client.get(), server.get());
  EXPECT_FALSE(h.ok);
  EXPECT_EQ(ERR_GET_REASON(h.server_error), SSL_R_NO_SHARED_CIPHER)
      << ERR_error_string(h.server_error, nullptr);
}

TEST_F(PkiTls, RefusesTls11) {
  SslCtxPtr server = server_ctx();
  SslCtxPtr client = client_ctx();
  // The client must really offer TLS 1.1: lift the system policy (Debian
  // sets MinProtocol TLSv1.2 and security level 2) for this client only.
  ASSERT_EQ(SSL_CTX_set_min_proto_version(client.get(), TLS1_1_VERSION), 1);
  ASSERT_EQ(SSL_CTX_set_max_proto_version(client.get(), TLS1_1_VERSION), 1);
  ASSERT_EQ(SSL_CTX_set_cipher_list(client.get(), "DEFAULT:@SECLEVEL=0"), 1);
  Handshake h = handshake(client.get(), server.get());
  EXPECT_FALSE(h.ok);
  EXPECT_EQ(ERR_GET_REASON(h.server_error), SSL_R_UNSUPPORTED_PROTOCOL)
      << "the server, not the client, must refuse: " << ERR_error_string(h.server_error, nullptr);
}

TEST_F(PkiTls, RefusesRenegotiation) {
  SslCtxPtr server = server_ctx();
  SslCtxPtr client = client_ctx();
  ASSERT_EQ(SSL_CTX_set_max_proto_version(client.get(), TLS1_2_VERSION), 1);
  Handshake h = handshake(client.get(), server.get());
  ASSERT_TRUE(h.ok);
  EXPECT_EQ(SSL_renegotiate(h.server.get()), 0) << "server-initiated renegotiation allowed";
  ERR_clear_error();
}

TEST_F(PkiTls, MismatchedKeyIsAnError) {
  auto other = generate_key();
  ASSERT_TRUE(other);
  auto ctx = make_server_tls_context(material_->chain, **other);
  ASSERT_FALSE(ctx);
  EXPECT_FALSE(make_server_tls_context({}, **other));
}

}  // namespace
}  // namespace idra::pki
