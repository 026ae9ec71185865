// client_tls.cpp: client certificates and OCSP stapling on the server's TLS
// context.
//
// The state the callbacks need lives in the SSL_CTX's ex_data with a free
// function, so it lives exactly as long as the context: a connection that
// still holds the context (SSL_new takes a reference) can never see it freed.
//
// Client chains are verified by our own cert_verify_callback rather than
// OpenSSL's default, for two reasons: clients commonly send only their leaf,
// so our intermediates must be offered to the path builder without being
// trusted (the verify store holds only anchors), and revocation is checked on
// the leaf after the chain verified. The callback verifies on the
// X509_STORE_CTX that libssl prepared, so libssl keeps the chain it built
// and SSL_get0_verified_chain() and SSL_get_verify_result() report it as
// usual.
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <climits>
#include <ctime>
#include <exception>

#include "idra/pki.hpp"
#include "pki/internal.hpp"

namespace idra::pki {

namespace {

struct X509NameStackFree {
  void operator()(STACK_OF(X509_NAME) * stack) const noexcept {
    sk_X509_NAME_pop_free(stack, X509_NAME_free);
  }
};
using X509NameStackPtr = std::unique_ptr<STACK_OF(X509_NAME), X509NameStackFree>;

struct ClientAuthState {
  ClientAuthConfig config;
};

struct StaplingState {
  std::function<std::vector<unsigned char>()> current;
};

template <class T>
void free_state(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<T*>(ptr);
}

// ex_index returns the SSL_CTX ex_data slot for |T|, registered once with a
// free function that deletes the state when the SSL_CTX is freed; -1 if
// OpenSSL cannot register it.
template <class T>
int ex_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, &free_state<T>);
  return index;
}

// attach stores |state| in |ctx| (which then owns it), deleting what an
// earlier call stored there.
template <class T>
Result<T*> attach(SSL_CTX& ctx, std::unique_ptr<T> state) {
  const int index = ex_index<T>();
  if (index < 0) return internal::openssl_error("cannot register SSL_CTX ex_data");
  auto* old = static_cast<T*>(SSL_CTX_get_ex_data(&ctx, index));
  if (SSL_CTX_set_ex_data(&ctx, index, state.get()) != 1) {
    return internal::openssl_error("cannot store state in the SSL_CTX");
  }
  delete old;
  return state.release();
}

bool push_ref(STACK_OF(X509) * stack, X509* x) {
  X509Ptr ref = up_ref(*x);
  if (sk_X509_push(stack, ref.get()) <= 0) return false;
  ref.release();  // owned by |stack|
  return true;
}

// The grace for expired leaves of the verification running on this thread
// (X509_verify_cert calls accept_lapsed_leaf synchronously, and its callback
// has no argument of its own).
thread_local std::int64_t tls_expired_leaf_grace = 0;
thread_local bool tls_accepted_lapsed_leaf = false;

// accept_lapsed_leaf lets through exactly one failure: an end-entity
// certificate that expired less than the grace period ago.
int accept_lapsed_leaf(int ok, X509_STORE_CTX* store_ctx) {
  if (ok) return ok;
  if (X509_STORE_CTX_get_error(store_ctx) != X509_V_ERR_CERT_HAS_EXPIRED ||
      X509_STORE_CTX_get_error_depth(store_ctx) != 0 || tls_expired_leaf_grace <= 0) {
    return 0;
  }
  const X509* leaf = X509_STORE_CTX_get_current_cert(store_ctx);
  if (leaf == nullptr) return 0;
  const std::time_t limit = std::time(nullptr) - static_cast<std::time_t>(tls_expired_leaf_grace);
  // notAfter >= now - grace: X509_cmp_time returns -1 when notAfter < limit.
  if (X509_cmp_time(X509_get0_notAfter(leaf), const_cast<std::time_t*>(&limit)) < 0) return 0;
  tls_accepted_lapsed_leaf = true;
  return 1;
}

// verify_client replaces X509_verify_cert for client certificates. libssl
// has set up |store_ctx| with the verify store (our anchors), the peer's
// chain as untrusted certificates and the ssl_client purpose.
int verify_client(X509_STORE_CTX* store_ctx, void* arg) {
  const auto* state = static_cast<const ClientAuthState*>(arg);
  STACK_OF(X509)* peer_chain = X509_STORE_CTX_get0_untrusted(store_ctx);
  X509StackPtr untrusted(sk_X509_new_null());
  bool ok = untrusted != nullptr;
  for (int i = 0; ok && peer_chain != nullptr && i < sk_X509_num(peer_chain); ++i) {
    ok = push_ref(untrusted.get(), sk_X509_value(peer_chain, i));
  }
  for (const X509Ptr& x : state->config.untrusted) {
    if (!ok) break;
    if (x) ok = push_ref(untrusted.get(), x.get());
  }
  if (!ok) {
    X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_OUT_OF_MEM);
    return 0;
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(store_ctx);
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT);
  // An intermediate must not be able to act as an anchor.
  X509_VERIFY_PARAM_clear_flags(param, X509_V_FLAG_PARTIAL_CHAIN);

  // set0: |store_ctx| borrows the stack; it is put back before |untrusted|
  // is freed. The verified chain holds its own references.
  X509_STORE_CTX_set0_untrusted(store_ctx, untrusted.get());
  tls_expired_leaf_grace = state->config.expired_leaf_grace.count();
  tls_accepted_lapsed_leaf = false;
  if (tls_expired_leaf_grace > 0) X509_STORE_CTX_set_verify_cb(store_ctx, accept_lapsed_leaf);
  int verified = X509_verify_cert(store_ctx);
  X509_STORE_CTX_set0_untrusted(store_ctx, peer_chain);
  if (verified != 1) return verified < 0 ? 0 : verified;
  // A certificate client never resumes (refuse_certificate_tickets), so the
  // session tickets TLS 1.3 would send it after the handshake are wasted
  // work (libssl serializes the session for each): send none.
  if (SSL* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store_ctx, SSL_get_ex_data_X509_STORE_CTX_idx()))) {
    SSL_set_num_tickets(ssl, 0);
  }
  if (tls_accepted_lapsed_leaf && X509_STORE_CTX_get_error(store_ctx) == X509_V_ERR_CERT_HAS_EXPIRED) {
    // The one error let through above: report the chain as verified.
    X509_STORE_CTX_set_error(store_ctx, X509_V_OK);
  }

  if (state->config.is_revoked) {
    X509* leaf = X509_STORE_CTX_get0_cert(store_ctx);
    bool revoked = true;  // if we cannot tell, we do not let the certificate in
    try {
      revoked = leaf == nullptr || state->config.is_revoked(*leaf);
    } catch (const std::exception&) {
      X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_UNSPECIFIED);
      X509_STORE_CTX_set_error_depth(store_ctx, 0);
      return 0;
    }
    if (revoked) {
      // libssl turns this into the alert certificate_revoked.
      X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_CERT_REVOKED);
      X509_STORE_CTX_set_error_depth(store_ctx, 0);
      X509_STORE_CTX_set_current_cert(store_ctx, leaf);
      return 0;
    }
  }
  return 1;
}

// refuse_certificate_tickets makes a client that resumes a session with a
// certificate do a full handshake instead. A resumed session carries the
// peer certificate but libssl does not restore the verified chain, so
// SSL_get0_verified_chain() would be empty and the client would look
// anonymous; it would also skip the revocation check for a certificate that
// may have been revoked since. Anonymous sessions resume as before.
SSL_TICKET_RETURN refuse_certificate_tickets(SSL*, SSL_SESSION* session, const unsigned char*,
                                             size_t, SSL_TICKET_STATUS status, void*) {
  switch (status) {
    case SSL_TICKET_EMPTY:
    case SSL_TICKET_NO_DECRYPT:
      return SSL_TICKET_RETURN_IGNORE_RENEW;
    case SSL_TICKET_SUCCESS:
    case SSL_TICKET_SUCCESS_RENEW:
      break;
    default:
      return SSL_TICKET_RETURN_ABORT;
  }
  if (session != nullptr && SSL_SESSION_get0_peer(session) != nullptr) {
    return SSL_TICKET_RETURN_IGNORE_RENEW;
  }
  return status == SSL_TICKET_SUCCESS ? SSL_TICKET_RETURN_USE : SSL_TICKET_RETURN_USE_RENEW;
}

// staple_ocsp hands libssl a copy of the current response, which it frees.
int staple_ocsp(SSL* ssl, void* arg) {
  const auto* state = static_cast<const StaplingState*>(arg);
  if (state == nullptr || SSL_get_tlsext_status_type(ssl) != TLSEXT_STATUSTYPE_ocsp) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  std::vector<unsigned char> der;
  try {
    der = state->current();
  } catch (const std::exception&) {
    return SSL_TLSEXT_ERR_NOACK;  // no staple is better than no handshake
  }
  if (der.empty() || der.size() > static_cast<std::size_t>(LONG_MAX)) return SSL_TLSEXT_ERR_NOACK;
  auto* copy = static_cast<unsigned char*>(OPENSSL_memdup(der.data(), der.size()));
  if (copy == nullptr) return SSL_TLSEXT_ERR_NOACK;
  if (SSL_set_tlsext_status_ocsp_resp(ssl, copy, static_cast<long>(der.size())) != 1) {
    OPENSSL_free(copy);
    return SSL_TLSEXT_ERR_NOACK;
  }
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

Result<void> enable_client_auth(SSL_CTX& ctx, ClientAuthConfig config) {
  if (config.trust_anchors.empty()) return make_error("client authentication needs a trust anchor");
  X509StorePtr store(X509_STORE_new());
  X509NameStackPtr ca_names(sk_X509_NAME_new_null());
  if (!store || !ca_names) return internal::openssl_error("cannot set up client verification");
  X509_STORE_set_flags(store.get(), X509_V_FLAG_X509_STRICT);
  auto add_name = [&](const X509& x) -> Result<void> {
    X509NamePtr name(X509_NAME_dup(X509_get_subject_name(&x)));
    if (!name || sk_X509_NAME_push(ca_names.get(), name.get()) <= 0) {
      return internal::openssl_error("cannot build the client CA list");
    }
    name.release();  // owned by |ca_names|
    return {};
  };
  for (const X509Ptr& anchor : config.trust_anchors) {
    if (!anchor) return make_error("a client trust anchor is missing");
    if (X509_STORE_add_cert(store.get(), anchor.get()) != 1) {
      return internal::openssl_error("cannot add a client trust anchor");
    }
    if (auto ok = add_name(*anchor); !ok) return ok;
  }
  // The intermediates' names go into certificate_authorities as well: a
  // client holding only a leaf from our issuing CA matches it against its
  // issuer's name.
  for (const X509Ptr& x : config.untrusted) {
    if (!x) return make_error("a client intermediate certificate is missing");
    if (auto ok = add_name(*x); !ok) return ok;
  }

  auto state = attach(ctx, std::make_unique<ClientAuthState>(ClientAuthState{std::move(config)}));
  if (!state) return state.error();

  if (SSL_CTX_set1_verify_cert_store(&ctx, store.get()) != 1) {
    return internal::openssl_error("cannot set the client verify store");
  }
  SSL_CTX_set_client_CA_list(&ctx, ca_names.release());  // takes ownership
  // Request, do not require: without SSL_VERIFY_FAIL_IF_NO_PEER_CERT a client
  // without a certificate completes the handshake as anonymous.
  SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_cert_verify_callback(&ctx, verify_client, *state);
  // Resumption: libssl refuses to resume under SSL_VERIFY_PEER without a
  // session id context; a distinct one keeps sessions from before
  // enable_client_auth out. Sessions are resumed from tickets only, and not
  // at all for clients with a certificate (refuse_certificate_tickets): the
  // server-side session cache is turned off, because a TLS 1.2 session-id
  // resumption cannot be intercepted and would bypass that rule.
  static constexpr unsigned char kSessionContext[] = "idra-client-auth";
  if (SSL_CTX_set_session_id_context(&ctx, kSessionContext, sizeof kSessionContext - 1) != 1) {
    return internal::openssl_error("cannot set the session id context");
  }
  SSL_CTX_set_session_cache_mode(&ctx, SSL_SESS_CACHE_OFF);
  if (SSL_CTX_set_session_ticket_cb(&ctx, nullptr, refuse_certificate_tickets, nullptr) != 1) {
    return internal::openssl_error("cannot set the session ticket callback");
  }
  return {};
}

Result<void> enable_ocsp_stapling(SSL_CTX& ctx,
                                  std::function<std::vector<unsigned char>()> current) {
  if (!current) return make_error("OCSP stapling needs a response source");
  auto state = attach(ctx, std::make_unique<StaplingState>(StaplingState{std::move(current)}));
  if (!state) return state.error();
  if (SSL_CTX_set_tlsext_status_cb(&ctx, staple_ocsp) != 1 ||
      SSL_CTX_set_tlsext_status_arg(&ctx, *state) != 1) {
    return internal::openssl_error("cannot set the OCSP stapling callback");
  }
  return {};
}

}  // namespace idra::pki
