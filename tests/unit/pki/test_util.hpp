// test_util.hpp: temp directories, file helpers, the openssl CLI, test CAs
// and in-memory TLS handshakes for the pki tests (the http tests use some of
// them too).
#pragma once

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>

#include "idra/pki.hpp"

namespace idra::pki::test {

// TempDir is a fresh directory under $TMPDIR, removed with its contents.
// |stem| is the mkdtemp(3) template for its name.
class TempDir {
 public:
  explicit TempDir(const char* stem = "idra-pki-XXXXXX") {
    std::string tmpl = (std::filesystem::temp_directory_path() / stem).string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_text(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

inline unsigned file_mode(const std::filesystem::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 0xffffffff;
  return st.st_mode & 07777;
}

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// run executes |command| through /bin/sh; an exit code of 127 means the
// program was not found, which the caller's EXPECT turns into a failure.
inline CommandResult run(const std::string& command) {
  CommandResult r;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.output.append(buf, n);
  int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline constexpr const char* kOpenssl = "/usr/bin/openssl";

inline std::string quote(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

// ScopedEnv sets or unsets an environment variable and restores it.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_.c_str(), old_->c_str(), 1);
    else
      ::unsetenv(name_.c_str());
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

// ---------------------------------------------------------------------------
// Keys and CAs.

inline constexpr std::chrono::seconds kYear{std::chrono::hours{24 * 365}};

// kFast is the cheapest Argon2id cost, for key files the test only reopens.
inline const KeyEncryptionParams kFast = KeyEncryptionParams::minimum();

// make_key returns a fresh key; throws on failure.
inline EvpPkeyPtr make_key(KeyAlgorithm alg = KeyAlgorithm::kEcP256, int rsa_bits = kMinRsaBits) {
  auto key = generate_key(alg, rsa_bits);
  if (!key) throw std::runtime_error(key.error().message);
  return std::move(*key);
}

// make_root returns a root CA "CN=|name|, O=idra tests" (OU |unit| unless
// empty) with a fresh |alg| key, valid ten years; throws on failure.
inline CertificateAuthority make_root(const std::string& name,
                                      KeyAlgorithm alg = KeyAlgorithm::kEcP256,
                                      const std::string& unit = "") {
  auto root =
      CertificateAuthority::create_root(make_key(alg), {name, "idra tests", unit}, 10 * kYear);
  if (!root) throw std::runtime_error(root.error().message);
  return std::move(*root);
}

// make_intermediate returns a CA "CN=|name|, O=idra tests" issued by |root|
// with a fresh |alg| key, valid |validity|; throws on failure.
inline CertificateAuthority make_intermediate(const CertificateAuthority& root,
                                              const std::string& name,
                                              KeyAlgorithm alg = KeyAlgorithm::kEcP256,
                                              std::chrono::seconds validity = kYear) {
  auto inter = root.issue_intermediate(make_key(alg), {name, "idra tests", ""}, validity);
  if (!inter) throw std::runtime_error(inter.error().message);
  return std::move(*inter);
}

struct Leaf {
  X509Ptr cert;
  EvpPkeyPtr key;
};

// make_leaf returns a certificate from |ca| with subject CN |name| and a
// fresh P-256 key, valid a year: a server one for DNS "localhost", or a
// client one with the URI urn:idra:test:|name|. Throws on failure.
inline Leaf make_leaf(const CertificateAuthority& ca, LeafKind kind, const std::string& name) {
  LeafRequest r;
  r.kind = kind;
  r.subject = {name, "", ""};
  if (kind == LeafKind::kServer) {
    r.names.dns_names = {"localhost"};
  } else {
    r.names.uris = {"urn:idra:test:" + name};
  }
  r.validity = kYear;
  Leaf leaf{nullptr, make_key()};
  auto cert = ca.issue_leaf(*leaf.key, r);
  if (!cert) throw std::runtime_error(cert.error().message);
  leaf.cert = std::move(*cert);
  return leaf;
}

// ---------------------------------------------------------------------------
// TLS in memory.

// MemoryTls is a client and a server SSL joined by a memory BIO pair, the
// client sending SNI "localhost".
struct MemoryTls {
  bool ok = false;  // set by run_handshake: both ends finished
  SslPtr client;
  SslPtr server;
  unsigned long server_error = 0;  // ERR_peek_error() when the server end failed
};

// memory_tls connects two fresh SSLs of |client_ctx| and |server_ctx|;
// throws on failure.
inline MemoryTls memory_tls(SSL_CTX* client_ctx, SSL_CTX* server_ctx) {
  MemoryTls t;
  t.client.reset(SSL_new(client_ctx));
  t.server.reset(SSL_new(server_ctx));
  if (!t.client || !t.server) throw std::runtime_error("SSL_new");
  BIO* client_bio = nullptr;
  BIO* server_bio = nullptr;
  if (BIO_new_bio_pair(&client_bio, 0, &server_bio, 0) != 1) {
    throw std::runtime_error("BIO_new_bio_pair");
  }
  SSL_set_bio(t.client.get(), client_bio, client_bio);
  SSL_set_bio(t.server.get(), server_bio, server_bio);
  SSL_set_connect_state(t.client.get());
  SSL_set_accept_state(t.server.get());
  SSL_set_tlsext_host_name(t.client.get(), "localhost");
  return t;
}

// run_handshake steps the client, then the server, until both finish or one
// fails (50 rounds at most), and sets |t.ok|.
inline void run_handshake(MemoryTls& t) {
  bool client_done = false;
  bool server_done = false;
  for (int round = 0; round < 50 && !(client_done && server_done); ++round) {
    for (SSL* ssl : {t.client.get(), t.server.get()}) {
      bool& done = ssl == t.client.get() ? client_done : server_done;
      if (done) continue;
      const int r = SSL_do_handshake(ssl);
      if (r == 1) {
        done = true;
        continue;
      }
      const int e = SSL_get_error(ssl, r);
      if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
        if (ssl == t.server.get()) t.server_error = ERR_peek_error();
        return;
      }
    }
  }
  t.ok = client_done && server_done;
}

}  // namespace idra::pki::test
