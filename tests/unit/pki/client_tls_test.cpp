// Client certificates and OCSP stapling: real TLS handshakes in memory
// between a server context (make_server_tls_context + enable_client_auth)
// and an OpenSSL client.
#include <gtest/gtest.h>
#include <openssl/err.h>

#include <atomic>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>

#include "idra/pki.hpp"
#include "unit/pki/test_util.hpp"

namespace idra::pki {
namespace {

using namespace test;  // the helpers of test_util.hpp

using SslSessionPtr = std::unique_ptr<SSL_SESSION, detail::Free<&SSL_SESSION_free>>;

struct Pki {
  CertificateAuthority root = make_root("TLS Root");
  CertificateAuthority inter = make_intermediate(root, "TLS Issuing CA");
  Leaf server = make_leaf(inter, LeafKind::kServer, "localhost");
  Leaf client = make_leaf(inter, LeafKind::kClient, "device-1");
  Leaf server_as_client = make_leaf(inter, LeafKind::kServer, "localhost");
  CertificateAuthority other_root = make_root("Other Root");
  CertificateAuthority other_inter = make_intermediate(other_root, "Other Issuing CA");
  Leaf stranger = make_leaf(other_inter, LeafKind::kClient, "stranger");
};

// Handshake drives a server and a client SSL over a memory BIO pair until
// both finish or one fails.
struct Handshake {
  SslPtr server;
  SslPtr client;
  int server_result = 0;
  int client_result = 0;

  Handshake(SSL_CTX* server_ctx, SSL_CTX* client_ctx) {
    MemoryTls t = memory_tls(client_ctx, server_ctx);
    server = std::move(t.server);
    client = std::move(t.client);
  }

  // run returns true if both sides completed the handshake. The client's
  // half of TLS 1.3 ends before the server has checked its certificate, so
  // both keep going (and the client reads, to see an alert or tickets) until
  // nothing moves.
  bool run() {
    for (int round = 0; round < 50; ++round) {
      bool progress = false;
      if (server_result != 1) {
        server_result = SSL_do_handshake(server.get());
        if (server_result != 1 &&
            SSL_get_error(server.get(), server_result) != SSL_ERROR_WANT_READ) {
          ERR_clear_error();
          return false;
        }
        progress |= server_result == 1;
      }
      if (client_result != 1) {
        client_result = SSL_do_handshake(client.get());
        if (client_result != 1 &&
            SSL_get_error(client.get(), client_result) != SSL_ERROR_WANT_READ) {
          ERR_clear_error();
          return false;
        }
      } else {
        char byte;
        int n = SSL_read(client.get(), &byte, 1);
        if (n <= 0 && SSL_get_error(client.get(), n) != SSL_ERROR_WANT_READ) {
          ERR_clear_error();
          return false;
        }
      }
      if (server_result == 1 && client_result == 1 && round > 3) return true;
      (void)progress;
    }
    return server_result == 1 && client_result == 1;
  }

  // close marks both ends as cleanly shut down (no close_notify exchange
  // needed for these tests).
  void close() {
    SSL_set_shutdown(server.get(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_set_shutdown(client.get(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  }
};

class PkiClientTls : public testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new Pki(); }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }
  static Pki* pki_;

  void SetUp() override {
    std::vector<X509Ptr> chain;
    chain.push_back(up_ref(*pki_->server.cert));
    chain.push_back(up_ref(pki_->inter.certificate()));
    auto ctx = make_server_tls_context(chain, *pki_->server.key);
    ASSERT_TRUE(ctx) << ctx.error().message;
    server_ctx_ = std::move(*ctx);
  }

  ClientAuthConfig config() {
    ClientAuthConfig c;
    c.trust_anchors.push_back(up_ref(pki_->root.certificate()));
    c.untrusted.push_back(up_ref(pki_->inter.certificate()));
    c.is_revoked = [this](const X509& leaf) {
      ++revocation_checks_;
      last_checked_ = serial_hex(leaf);
      return revoked_serial_ == last_checked_;
    };
    return c;
  }

  // client_ctx verifies the server against the root and presents |leaf|
  // (without its intermediate) if given.
  static SslCtxPtr client_ctx(const Leaf* leaf, int max_version = 0) {
    SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx.get(), max_version);
    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.get()),
                        const_cast<X509*>(&pki_->root.certificate()));
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_mode(ctx.get(), SSL_MODE_NO_AUTO_CHAIN);
    SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_CLIENT);
    if (leaf != nullptr) {
      EXPECT_EQ(SSL_CTX_use_certificate(ctx.get(), leaf->cert.get()), 1);
      EXPECT_EQ(SSL_CTX_use_PrivateKey(ctx.get(), leaf->key.get()), 1);
    }
    return ctx;
  }

  SslCtxPtr server_ctx_{nullptr};
  std::atomic<int> revocation_checks_{0};
  std::string last_checked_;
  std::string revoked_serial_;
};

Pki* PkiClientTls::pki_ = nullptr;

TEST_F(PkiClientTls, NoClientCertificateIsAnonymous) {
  ASSERT_TRUE(enable_client_auth(*server_ctx_, config()));
  SslCtxPtr client = client_ctx(nullptr);
  Handshake h(server_ctx_.get(), client.get());
  ASSERT_TRUE(h.run());
  EXPECT_EQ(SSL_get0_peer_certificate(h.server.get()), nullptr);
  EXPECT_EQ(SSL_get_verify_result(h.server.get()), X509_V_OK);
  EXPECT_EQ(revocation_checks_, 0);
}

TEST_F(PkiClientTls, LeafOnlyVerifiesThroughOurIntermediate) {
  for (int version : {0, TLS1_2_VERSION}) {
    ASSERT_TRUE(enable_client_auth(*server_ctx_, config()));
    SslCtxPtr client = client_ctx(&pki_->client, version);
    Handshake h(server_ctx_.get(), client.get());
    ASSERT_TRUE(h.run()) << version;
    EXPECT_EQ(SSL_get_verify_result(h.server.get()), X509_V_OK);
    STACK_OF(X509)* chain = SSL_get0_verified_chain(h.server.get());
    ASSERT_NE(chain, nullptr);
    ASSERT_EQ(sk_X509_num(chain), 3);
    EXPECT_EQ(X509_cmp(sk_X509_value(chain, 0), pki_->client.cert.get()), 0);
    EXPECT_EQ(X509_cmp(sk_X509_value(chain, 1), &pki_->inter.certificate()), 0);
    EXPECT_EQ(X509_cmp(sk_X509_value(chain, 2), &pki_->root.certificate()), 0);
    EXPECT_EQ(last_checked_, serial_hex(*pki_->client.cert));
  }
  EXPECT_EQ(revocation_checks_, 2);
}

TEST_F(PkiClientTls, ClientCaListNamesAnchorsAndIntermediates) {
  ASSERT_TRUE(enable_client_auth(*server_ctx_, config()));
  STACK_OF(X509_NAME)* names = SSL_CTX_get_client_CA_list(server_ctx_.get());
  ASSERT_EQ(sk_X509_NAME_num(names), 2);
  EXPECT_EQ(
      X509_NAME_cmp(sk_X509_NAME_value(names, 0), X509_get_subject_name(&pki_->root.certificate())),
      0);
  EXPECT_EQ(X509_NAME_cmp(sk_X509_NAME_value(names, 1),
                          X509_get_subject_name(&pki_->inter.certificate())),
            0);
}

TEST_F(PkiClientTls, UnknownCaFailsTheHandshake) {
  ASSERT_TRUE(enable_client_auth(*server_ctx_, config()));
  SslCtxPtr client = client_ctx(&pki_->stranger);
  Handshake h(server_ctx_.get(), client.get());
  EXPECT_FALSE(h.run());
  EXPECT_NE(h.server_result, 1);
  EXPECT_EQ(SSL_get_verify_result(h.server.get()), X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  EXPECT_EQ(revocation_checks_, 0);
}

TEST_F(PkiClientTls, UnknownCaFailsEvenWithItsIntermediateSent) {
  ASSERT_TRUE(enable_client_auth(*server_ctx_, config()));
  SslCtxPtr client = client_ctx(&pki_->stranger);
  ASSERT_EQ(
      SSL_CTX_add1_chain_cert(client.get(), const_cast<X509*>(&pki_->other_inter.certificate())),
      1);
  Handshake h(server_ctx_.get(), client.get());
  EXPECT_FALSE(h.run());
  EXPECT_NE(SSL_get_verify_result(h.server.get()), X509_V_OK);
}

TEST_F(PkiClientTls, IntermediateIsNotAnAnchor) {
  // With only the intermediate as anchor (no partial chains), a client
  // certificate it issued does not verify.
  ClientAuthConfig c;
  c.trust_anchors.push_back(up_ref(pki_->inter.certificate()));
  ASSERT_TRUE(enable_client_auth(*server_ctx_, std::move(c)));
  SslCtxPtr client = client_ctx(&pki_->client);
  Handshake h(server_ctx_.get(), client.get());
  EXPECT_FALSE(h.run());
  EXPECT_NE(SSL_get_verify_result(h.server.get()), X509_V_OK);
}

TEST_F(PkiClientTls, ServerCertificateIsNotAClientCertificate) {
  ASSERT_TRUE(enable_client_auth(*server_ctx_, config()));
  SslCtxPtr client = client_ctx(&pki_->server_as_client);
  Handshake h(server_ctx_.get(), client.get());
  EXPECT_FALSE(h.run());
  EXPECT_EQ(SSL_get_verify_result(h.server.get()), X509_V_ERR_INVALID_PURPOSE);
}

TEST_F(PkiClientTls, RevokedClientFailsTheHandshake) {
  revoked_serial_ = serial_hex(*pki_->client.cert);
  ASSERT_TRUE(enable_client_auth(*server_ctx_, config()));
  SslCtxPtr client = client_ctx(&pki_->client);
  Handshake h(server_ctx_.get(), client.get());
  EXPECT_FALSE(h.run());
  EXPECT_NE(h.server_result, 1);
  EXPECT_EQ(SSL_get_verify_result(h.server.get()), X509_V_ERR_CERT_REVOKED);
  EXPECT_EQ(revocation_checks_, 1);
}

TEST_F(PkiClientTls, RevocationCallbackThatThrowsFailsClosed) {
  ClientAuthConfig c = config();
  c.is_revoked = [](const X509&) -> bool { throw std::runtime_error("store down"); };
  ASSERT_TRUE(enable_client_auth(*server_ctx_, std::move(c)));
  SslCtxPtr client = client_ctx(&pki_->client);
  Handshake h(server_ctx_.get(), client.get());
  EXPECT_FALSE(h.run());
  EXPECT_NE(SSL_get_verify_result(h.server.get()), X509_V_OK);
}

// resume connects twice with |client| and returns whether the server
// resumed the second time; the second handshake's outcome goes to |ok|.
struct Resumption {
  bool first_ok = false;
  bool second_ok = false;
  bool reused = false;
  long verify_result = -1;
  int verified_chain_length = -1;
};

Resumption resume(SSL_CTX* server_ctx, SSL_CTX* client_ctx,
                  const std::function<void()>& between = {}) {
  Resumption r;
  SslSessionPtr session(nullptr);
  {
    Handshake h(server_ctx, client_ctx);
    r.first_ok = h.run();
    if (!r.first_ok) return r;
    session.reset(SSL_get1_session(h.client.get()));
    // Freeing an SSL that was not shut down drops its session from the
    // cache and makes it non-resumable.
    h.close();
  }
  if (between) between();
  Handshake h(server_ctx, client_ctx);
  if (session) SSL_set_session(h.client.get(), session.get());
  r.second_ok = h.run();
  r.reused = SSL_session_reused(h.server.get()) == 1;
  r.verify_result = SSL_get_verify_result(h.server.get());
  STACK_OF(X509)* chain = SSL_get0_verified_chain(h.server.get());
  r.verified_chain_length = chain ? sk_X509_num(chain) : 0;
  h.close();
  return r;
}

TEST_F(PkiClientTls, AnonymousSessionsResumeFromTickets) {
  ASSERT_TRUE(enable_client_auth(*server_ctx_, config()));
  for (int version : {0, TLS1_2_VERSION}) {
    SslCtxPtr client = client_ctx(nullptr, version);
    Resumption r = resume(server_ctx_.get(), client.get());
    EXPECT_TRUE(r.first_ok && r.second_ok) << version;
    EXPECT_TRUE(r.reused) << version;
    EXPECT_EQ(r.verify_result, X509_V_OK);
  }
}

TEST_F(PkiClientTls, CertificateSessionsGetAFullHandshake) {
  // A resumed session would have no verified chain (libssl keeps only the
  // peer certificate), so a certificate client is verified afresh each time.
  ASSERT_TRUE(enable_client_auth(*server_ctx_, config()));
  for (int version : {0, TLS1_2_VERSION}) {
    SslCtxPtr client = client_ctx(&pki_->client, version);
    Resumption r = resume(server_ctx_.get(), client.get());
    EXPECT_TRUE(r.first_ok && r.second_ok) << version;
    EXPECT_FALSE(r.reused) << version;
    EXPECT_EQ(r.verify_result, X509_V_OK);
    EXPECT_EQ(r.verified_chain_length, 3) << version;
  }
  EXPECT_EQ(revocation_checks_, 4);
}

TEST_F(PkiClientTls, Tls12SessionIdsAreNotResumed) {
  ASSERT_TRUE(enable_client_auth(*server_ctx_, config()));
  SslCtxPtr client = client_ctx(&pki_->client, TLS1_2_VERSION);
  SSL_CTX_set_options(client.get(), SSL_OP_NO_TICKET);
  Resumption r = resume(server_ctx_.get(), client.get());
  EXPECT_TRUE(r.first_ok && r.second_ok);
  EXPECT_FALSE(r.reused);
  EXPECT_EQ(r.verified_chain_length, 3);
}

TEST_F(PkiClientTls, RevokedAfterTheFirstHandshakeCannotResume) {
  ASSERT_TRUE(enable_client_auth(*server_ctx_, config()));
  SslCtxPtr client = client_ctx(&pki_->client);
  Resumption r = resume(server_ctx_.get(), client.get(),
                        [&] { revoked_serial_ = serial_hex(*pki_->client.cert); });
  EXPECT_TRUE(r.first_ok);
  EXPECT_FALSE(r.second_ok);
  EXPECT_FALSE(r.reused);
  EXPECT_EQ(r.verify_result, X509_V_ERR_CERT_REVOKED);
}

TEST_F(PkiClientTls, RejectsConfigWithoutAnchors) {
  ClientAuthConfig c;
  EXPECT_FALSE(enable_client_auth(*server_ctx_, std::move(c)));
  ClientAuthConfig null_anchor;
  null_anchor.trust_anchors.emplace_back(nullptr);
  EXPECT_FALSE(enable_client_auth(*server_ctx_, std::move(null_anchor)));
}

// ---------------------------------------------------------------------------
// OCSP stapling.

struct StapleSeen {
  bool called = false;
  std::vector<unsigned char> bytes;
};

int record_staple(SSL* ssl, void* arg) {
  auto* seen = static_cast<StapleSeen*>(arg);
  seen->called = true;
  const unsigned char* data = nullptr;
  long len = SSL_get_tlsext_status_ocsp_resp(ssl, &data);
  if (data != nullptr && len > 0) seen->bytes.assign(data, data + len);
  return 1;
}

TEST_F(PkiClientTls, StaplesTheCurrentResponseWhenAsked) {
  const std::vector<unsigned char> response = {0x30, 0x03, 0x0a, 0x01, 0x00, 0x42};
  int calls = 0;
  ASSERT_TRUE(enable_ocsp_stapling(*server_ctx_, [&] {
    ++calls;
    return response;
  }));
  for (int version : {0, TLS1_2_VERSION}) {
    SslCtxPtr client = client_ctx(nullptr, version);
    StapleSeen seen;
    SSL_CTX_set_tlsext_status_cb(client.get(), record_staple);
    SSL_CTX_set_tlsext_status_arg(client.get(), &seen);
    Handshake h(server_ctx_.get(), client.get());
    ASSERT_EQ(SSL_set_tlsext_status_type(h.client.get(), TLSEXT_STATUSTYPE_ocsp), 1);
    ASSERT_TRUE(h.run()) << version;
    EXPECT_TRUE(seen.called);
    EXPECT_EQ(seen.bytes, response) << version;
  }
  EXPECT_EQ(calls, 2);
}

TEST_F(PkiClientTls, NoStapleUnlessAskedOrAvailable) {
  int calls = 0;
  std::vector<unsigned char> current;
  ASSERT_TRUE(enable_ocsp_stapling(*server_ctx_, [&] {
    ++calls;
    return current;
  }));
  {
    SslCtxPtr client = client_ctx(nullptr);
    Handshake h(server_ctx_.get(), client.get());
    ASSERT_TRUE(h.run());
    EXPECT_EQ(calls, 0);
  }
  {
    SslCtxPtr client = client_ctx(nullptr);
    StapleSeen seen;
    SSL_CTX_set_tlsext_status_cb(client.get(), record_staple);
    SSL_CTX_set_tlsext_status_arg(client.get(), &seen);
    Handshake h(server_ctx_.get(), client.get());
    SSL_set_tlsext_status_type(h.client.get(), TLSEXT_STATUSTYPE_ocsp);
    ASSERT_TRUE(h.run());
    EXPECT_EQ(calls, 1);
    EXPECT_TRUE(seen.bytes.empty());
  }
  EXPECT_FALSE(enable_ocsp_stapling(*server_ctx_, nullptr));
}

TEST_F(PkiClientTls, ClientAuthAndStaplingTogether) {
  const std::vector<unsigned char> response = {0x30, 0x03, 0x0a, 0x01, 0x00};
  ASSERT_TRUE(enable_client_auth(*server_ctx_, config()));
  ASSERT_TRUE(enable_ocsp_stapling(*server_ctx_, [&] { return response; }));
  SslCtxPtr client = client_ctx(&pki_->client);
  StapleSeen seen;
  SSL_CTX_set_tlsext_status_cb(client.get(), record_staple);
  SSL_CTX_set_tlsext_status_arg(client.get(), &seen);
  Handshake h(server_ctx_.get(), client.get());
  SSL_set_tlsext_status_type(h.client.get(), TLSEXT_STATUSTYPE_ocsp);
  ASSERT_TRUE(h.run());
  EXPECT_EQ(seen.bytes, response);
  ASSERT_NE(SSL_get0_verified_chain(h.server.get()), nullptr);
}

}  // namespace
}  // namespace idra::pki

namespace idra::pki {
namespace {

// A certificate that lapsed a moment ago: refused without a grace period,
// let in (and reported as verified) with one; a chain problem besides the
// expiry is never forgiven.
TEST(PkiClientTlsGrace, LapsedLeafOnlyWithinTheGracePeriod) {
  CertificateAuthority root = make_root("Grace Root");
  CertificateAuthority inter = make_intermediate(root, "Grace Issuing CA");
  Leaf server = make_leaf(inter, LeafKind::kServer, "localhost");
  LeafRequest r;
  r.kind = LeafKind::kClient;
  r.names.uris = {"urn:idra:test:lapsed"};
  r.validity = std::chrono::seconds(1);
  Leaf lapsed{nullptr, make_key()};
  auto cert = inter.issue_leaf(*lapsed.key, r);
  ASSERT_TRUE(cert) << cert.error().message;
  lapsed.cert = std::move(*cert);
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));

  auto attempt = [&](std::chrono::seconds grace, const CertificateAuthority& anchor) {
    std::vector<X509Ptr> chain;
    chain.push_back(up_ref(*server.cert));
    chain.push_back(up_ref(inter.certificate()));
    auto ctx = make_server_tls_context(chain, *server.key);
    EXPECT_TRUE(ctx);
    ClientAuthConfig c;
    c.trust_anchors.push_back(up_ref(anchor.certificate()));
    c.untrusted.push_back(up_ref(inter.certificate()));
    c.expired_leaf_grace = grace;
    EXPECT_TRUE(enable_client_auth(**ctx, std::move(c)));
    SslCtxPtr client(SSL_CTX_new(TLS_client_method()));
    X509_STORE_add_cert(SSL_CTX_get_cert_store(client.get()),
                        const_cast<X509*>(&root.certificate()));
    SSL_CTX_set_verify(client.get(), SSL_VERIFY_PEER, nullptr);
    SSL_CTX_use_certificate(client.get(), lapsed.cert.get());
    SSL_CTX_use_PrivateKey(client.get(), lapsed.key.get());
    Handshake h(ctx->get(), client.get());
    const bool ok = h.run();
    return std::pair{ok, SSL_get_verify_result(h.server.get())};
  };
  auto [refused, refused_result] = attempt(std::chrono::seconds(0), root);
  EXPECT_FALSE(refused);
  EXPECT_EQ(refused_result, X509_V_ERR_CERT_HAS_EXPIRED);
  auto [admitted, admitted_result] = attempt(std::chrono::hours(1), root);
  EXPECT_TRUE(admitted);
  EXPECT_EQ(admitted_result, X509_V_OK);
  CertificateAuthority stranger = make_root("Stranger Root");
  auto [foreign, foreign_result] = attempt(std::chrono::hours(1), stranger);
  EXPECT_FALSE(foreign);
}

}  // namespace
}  // namespace idra::pki

namespace idra::pki {
namespace {

// Certificate clients never resume, so they are sent no TLS 1.3 tickets;
// anonymous clients still get theirs.
TEST_F(PkiClientTls, NoTicketsForCertificateClients) {
  ASSERT_TRUE(enable_client_auth(*server_ctx_, config()));
  const Leaf* anonymous = nullptr;
  for (const Leaf* leaf : {anonymous, static_cast<const Leaf*>(&pki_->client)}) {
    SslCtxPtr client = client_ctx(leaf);
    Handshake h(server_ctx_.get(), client.get());
    ASSERT_TRUE(h.run());
    EXPECT_EQ(SSL_version(h.client.get()), TLS1_3_VERSION);
    const SSL_SESSION* session = SSL_get_session(h.client.get());
    ASSERT_NE(session, nullptr);
    EXPECT_EQ(SSL_SESSION_has_ticket(session) == 1, leaf == nullptr) << (leaf ? "certificate" : "anonymous");
  }
}

}  // namespace
}  // namespace idra::pki
