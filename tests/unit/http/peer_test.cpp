// peer_certificate on the server end of in-memory handshakes (a BIO pair):
// what the TLS layer verified is what a request sees, and nothing else.
#include "http/peer.hpp"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <memory>
#include <utility>

#include "unit/http/test_pki.hpp"

namespace idra::http {
namespace {

using test::shared_pki;
using SessionPtr = std::unique_ptr<SSL_SESSION, decltype(&SSL_SESSION_free)>;

// handshake runs both ends until both finish or one fails. |session| resumes
// a previous client session. Afterwards the client reads once so that TLS 1.3
// session tickets sent after the handshake are processed.
pki::test::MemoryTls handshake(SSL_CTX* client_ctx, SSL_CTX* server_ctx,
                               SSL_SESSION* session = nullptr) {
  ERR_clear_error();
  auto h = pki::test::memory_tls(client_ctx, server_ctx);
  if (session != nullptr) {
    EXPECT_EQ(SSL_set_session(h.client.get(), session), 1);
  }
  pki::test::run_handshake(h);
  if (h.ok) {
    char byte = 0;
    EXPECT_LE(SSL_read(h.client.get(), &byte, 1), 0);  // nothing to read, tickets consumed
  }
  return h;
}

TEST(PeerCertificate, NullWithoutClientCertificate) {
  const auto& p = shared_pki();
  auto server = p.server_ctx(true);
  auto client = p.client_ctx(false);
  auto h = handshake(client.get(), server.get());
  ASSERT_TRUE(h.ok);
  EXPECT_EQ(peer_certificate(h.server.get()), nullptr);
  EXPECT_EQ(peer_certificate(nullptr), nullptr);
}

TEST(PeerCertificate, VerifiedChainLeafFirstAnchorLast) {
  const auto& p = shared_pki();
  auto server = p.server_ctx(true);
  auto client = p.client_ctx(true);
  auto h = handshake(client.get(), server.get());
  ASSERT_TRUE(h.ok);
  auto peer = peer_certificate(h.server.get());
  ASSERT_NE(peer, nullptr);
  ASSERT_EQ(peer->chain_der.size(), 3u);
  EXPECT_EQ(peer->chain_der[0], pki::to_der(*p.client));
  EXPECT_EQ(peer->chain_der[1], pki::to_der(*p.intermediate));
  EXPECT_EQ(peer->chain_der[2], pki::to_der(*p.root));
  EXPECT_EQ(peer->fingerprint, pki::sha256_fingerprint_hex(*p.client));
  ASSERT_EQ(peer->fingerprint.size(), 64u);
  EXPECT_EQ(peer->fingerprint.find_first_not_of("0123456789abcdef"), std::string::npos);
}

// A verify callback that lets a failed verification through (as a server in
// "optional, no CA" mode might) does not turn the certificate into a peer.
TEST(PeerCertificate, NullWhenVerificationFailed) {
  const auto& p = shared_pki();
  auto server = p.server_ctx(false);
  SSL_CTX_set_verify(server.get(), SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
  auto client = p.client_ctx(true);
  auto h = handshake(client.get(), server.get());
  ASSERT_TRUE(h.ok);
  ASSERT_NE(SSL_get0_peer_certificate(h.server.get()), nullptr);
  ASSERT_NE(SSL_get_verify_result(h.server.get()), X509_V_OK);  // no anchor: unable to get issuer
  EXPECT_EQ(peer_certificate(h.server.get()), nullptr);
}

// A resumed session has the peer leaf and the verify result of the full
// handshake but no verified chain: the peer is the leaf alone.
class PeerCertificateResumed : public testing::TestWithParam<int> {};

TEST_P(PeerCertificateResumed, LeafOnly) {
  const auto& p = shared_pki();
  auto server = p.server_ctx(true);
  auto client = p.client_ctx(true);
  SSL_CTX_set_max_proto_version(client.get(), GetParam());
  SSL_CTX_set_session_cache_mode(client.get(), SSL_SESS_CACHE_CLIENT);
  auto first = handshake(client.get(), server.get());
  ASSERT_TRUE(first.ok);
  SessionPtr session(SSL_get1_session(first.client.get()), &SSL_SESSION_free);
  ASSERT_NE(session, nullptr);
  ASSERT_EQ(SSL_SESSION_is_resumable(session.get()), 1);

  auto second = handshake(client.get(), server.get(), session.get());
  ASSERT_TRUE(second.ok);
  ASSERT_EQ(SSL_session_reused(second.server.get()), 1);
  auto peer = peer_certificate(second.server.get());
  ASSERT_NE(peer, nullptr);
  // OpenSSL 3.0 keeps no verified chain for a resumed session; this test is
  // about that case, so it says so if a later OpenSSL starts keeping one.
  ASSERT_EQ(SSL_get0_verified_chain(second.server.get()), nullptr);
  ASSERT_EQ(peer->chain_der.size(), 1u);
  EXPECT_EQ(peer->chain_der.front(), pki::to_der(*p.client));
  EXPECT_EQ(peer->fingerprint, pki::sha256_fingerprint_hex(*p.client));
}

INSTANTIATE_TEST_SUITE_P(Versions, PeerCertificateResumed,
                         testing::Values(TLS1_2_VERSION, TLS1_3_VERSION), [](const auto& info) {
                           return info.param == TLS1_2_VERSION ? "Tls12" : "Tls13";
                         });

TEST(Sha256Hex, KnownVector) {
  const std::string abc = "abc";
  EXPECT_EQ(sha256_hex({reinterpret_cast<const unsigned char*>(abc.data()), abc.size()}),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace idra::http
