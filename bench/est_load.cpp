// est_load.cpp: the load generator of bench/est.sh. Not a test.
//
//   est_load MODE --data DIR --port P [--plain-port PP] [--threads N] [--seconds S]
//            [--prefix PFX] [--tokens T] [--devices K] [--server-pid PID]
//
// MODE is one of
//   token     every request opens a NEW TCP + TLS 1.3 connection (full
//             handshake, server verified against DIR/tls/ca.pem) and POSTs
//             /.well-known/est/simpleenroll with HTTP Basic identifier:token
//             and a base64 CSR. Setup (not timed): T one-time tokens for T
//             distinct identifiers PFX/EST-<random>-<i>, created with POST
//             /api/ca/tokens as the administrator of DIR/admin.json over
//             keep-alive connections, and one P-256 CSR per identifier (common
//             name = the identifier). Each token is used once; when they run
//             out before S seconds the run ends there (and says so).
//   reenroll  every request opens a NEW TCP + TLS 1.3 connection presenting a
//             device certificate (mTLS) and POSTs /.well-known/est/simplereenroll
//             with that device's CSR. Setup: K devices enrolled with tokens,
//             used round-robin.
//   tls       (breakdown) a NEW TCP + TLS 1.3 connection and GET /healthz,
//             anonymous: what the connection alone costs, without the CA.
//   mtls      (breakdown) the same presenting a device certificate (K devices
//             enrolled in setup, round-robin): adds client-certificate checks.
//   ocsp      POST /ocsp on the plain-HTTP listener (PP), keep-alive, with a
//             pre-built OCSP request (SHA-1 CertID, no nonce) for one enrolled
//             certificate; a response counts as OK only if it is HTTP 200 and an
//             OCSPResponse with status successful.
//
// Prints one line on stdout:
//   mode=M threads=N seconds=E requests=R ok=O errors=X rps=O/E p50_ms=.. p99_ms=..
//   server_cpu_ms=.. client_cpu_ms=.. other_cores=.. [note=..]
// (CPU milliseconds per OK request over the timed part: the server's from
// /proc/PID/stat with --server-pid PID, else -1; this process's from
// getrusage; other_cores: the CPU everything else on the machine used
// meanwhile, in cores, from /proc/stat: noise when well above 0)
// and on stderr the setup times and every kind of error with its count and
// the first response body. Any response other than 200 is an error.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <csignal>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "est_load: %s\n", what.c_str());
  ERR_print_errors_fp(stderr);
  std::exit(2);
}

struct Options {
  std::string mode;
  std::string data;
  int port = 0;
  int plain_port = 0;
  int threads = 4;
  int seconds = 10;
  std::string prefix = "88.100.1";
  long tokens = 10000;
  int devices = 32;
  int server_pid = 0;  // for the server's CPU time over the timed run
};

// cpu_ms of the process |pid| (utime + stime from /proc/PID/stat), -1 if unknown.
double process_cpu_ms(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto paren = all.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream f(all.substr(paren + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; f >> field; ++i) {  // field 3 is the state; utime is 14, stime 15
    if (i == 14) utime = std::atof(field.c_str());
    if (i == 15) {
      stime = std::atof(field.c_str());
      return (utime + stime) * 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
    }
  }
  return -1;
}

// busy_cpu_ms is the machine's busy CPU time, all cores (/proc/stat: every
// field but idle and iowait), to tell how much CPU others used during a run.
double busy_cpu_ms() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  in >> cpu;
  double busy = 0, v;
  for (int i = 0; i < 8 && in >> v; ++i) {
    if (i != 3 && i != 4) busy += v;  // user nice system [idle iowait] irq softirq steal
  }
  return busy * 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double self_cpu_ms() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return (static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1000.0) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1000.0;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) die("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string base64(const unsigned char* p, std::size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  const int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), p, static_cast<int>(n));
  out.resize(static_cast<std::size_t>(len));
  return out;
}
std::string base64(const std::string& s) { return base64(reinterpret_cast<const unsigned char*>(s.data()), s.size()); }

std::string unbase64(const std::string& text) {
  std::string clean;
  for (char c : text) {
    if (c != '\r' && c != '\n' && c != ' ' && c != '\t') clean.push_back(c);
  }
  std::string out(clean.size() / 4 * 3 + 3, '\0');
  const int len = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(clean.data()), static_cast<int>(clean.size()));
  if (len < 0) return {};
  std::size_t n = static_cast<std::size_t>(len);
  for (std::size_t i = clean.size(); i > 0 && clean[i - 1] == '=' && n > 0; --i) --n;  // padding
  out.resize(n);
  return out;
}

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string percent(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// One HTTP/1.1 connection, TLS or plain.

struct Response {
  int status = 0;
  std::string body;
};

class Conn {
 public:
  Conn() = default;
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  ~Conn() { close(); }

  // open connects to 127.0.0.1:|port|, with TLS when |ctx| is set. Errors go
  // to |err| ("connect", "handshake").
  bool open(int port, SSL_CTX* ctx, std::string& err) {
    close();
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return err = "socket", false;
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval tv{30, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      err = std::string("connect: ") + std::strerror(errno);
      close();
      return false;
    }
    if (ctx != nullptr) {
      ssl_ = SSL_new(ctx);
      SSL_set_fd(ssl_, fd_);
      if (SSL_connect(ssl_) != 1) {
        unsigned long e = ERR_get_error();
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        err = std::string("handshake: ") + buf;
        ERR_clear_error();
        close();
        return false;
      }
    }
    buf_.clear();
    return true;
  }

  bool is_open() const { return fd_ >= 0; }

  void close() {
    if (ssl_ != nullptr) {
      SSL_shutdown(ssl_);  // send close_notify; do not wait for the server's
      SSL_free(ssl_);
      ssl_ = nullptr;
    }
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // roundtrip writes |request| and reads one response. nullopt (and |err|) on
  // a transport error; the connection is then closed.
  std::optional<Response> roundtrip(const std::string& request, std::string& err) {
    if (!write_all(request)) {
      err = "write failed";
      close();
      return std::nullopt;
    }
    std::size_t head_end;
    while ((head_end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) {
        err = "connection closed before the response head";
        close();
        return std::nullopt;
      }
    }
    Response r;
    const std::string head = buf_.substr(0, head_end);
    if (head.size() < 12 || head.compare(0, 5, "HTTP/") != 0) {
      err = "not an HTTP response";
      close();
      return std::nullopt;
    }
    r.status = std::atoi(head.c_str() + 9);
    long length = -1;
    bool close_after = false;
    std::istringstream lines(head);
    std::string line;
    while (std::getline(lines, line)) {
      std::string lower = line;
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
      if (lower.rfind("content-length:", 0) == 0) length = std::atol(lower.c_str() + 15);
      if (lower.rfind("connection:", 0) == 0 && lower.find("close") != std::string::npos) close_after = true;
      if (lower.rfind("transfer-encoding:", 0) == 0) {
        err = "chunked response not supported";
        close();
        return std::nullopt;
      }
    }
    buf_.erase(0, head_end + 4);
    if (length < 0) {
      while (fill()) {
      }
      r.body = std::move(buf_);
      buf_.clear();
      close();
      return r;
    }
    while (buf_.size() < static_cast<std::size_t>(length)) {
      if (!fill()) {
        err = "connection closed inside the body";
        close();
        return std::nullopt;
      }
    }
    r.body = buf_.substr(0, static_cast<std::size_t>(length));
    buf_.erase(0, static_cast<std::size_t>(length));
    if (close_after) close();
    return r;
  }

 private:
  bool write_all(const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
      int n;
      if (ssl_ != nullptr) {
        n = SSL_write(ssl_, s.data() + off, static_cast<int>(s.size() - off));
      } else {
        n = static_cast<int>(::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL));
      }
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }
  bool fill() {
    char tmp[16384];
    int n;
    if (ssl_ != nullptr) {
      n = SSL_read(ssl_, tmp, sizeof tmp);
    } else {
      n = static_cast<int>(::recv(fd_, tmp, sizeof tmp, 0));
    }
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  SSL* ssl_ = nullptr;
  std::string buf_;
};

SSL_CTX* client_context(const std::string& cafile, X509* cert = nullptr, EVP_PKEY* key = nullptr) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) die("SSL_CTX_new");
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  if (SSL_CTX_load_verify_locations(ctx, cafile.c_str(), nullptr) != 1) die("cannot load " + cafile);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  // A device enrolls once: no session is ever resumed, every handshake is full.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  X509_VERIFY_PARAM_set1_ip_asc(SSL_CTX_get0_param(ctx), "127.0.0.1");
  static const unsigned char alpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn);
  if (cert != nullptr) {
    if (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1) {
      die("client certificate/key");
    }
  }
  return ctx;
}

// ---------------------------------------------------------------------------
// Keys, CSRs, certificates.

struct Device {
  std::string identifier;
  EVP_PKEY* key = nullptr;
  std::string csr_b64;  // base64 DER PKCS#10
  std::string token;
  X509* cert = nullptr;
  SSL_CTX* ctx = nullptr;  // mTLS context presenting |cert|
};

void make_csr(Device& d) {
  d.key = EVP_EC_gen("P-256");
  if (d.key == nullptr) die("EVP_EC_gen");
  X509_REQ* req = X509_REQ_new();
  X509_REQ_set_version(req, 0);
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(d.identifier.data()),
                             static_cast<int>(d.identifier.size()), -1, 0);
  if (X509_REQ_set_pubkey(req, d.key) != 1 || X509_REQ_sign(req, d.key, EVP_sha256()) <= 0) die("CSR sign");
  unsigned char* der = nullptr;
  const int len = i2d_X509_REQ(req, &der);
  if (len <= 0) die("i2d_X509_REQ");
  d.csr_b64 = base64(der, static_cast<std::size_t>(len));
  OPENSSL_free(der);
  X509_REQ_free(req);
}

// The certificate of an EST certs-only response body.
X509* first_certificate(const std::string& body_b64) {
  const std::string der = unbase64(body_b64);
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  PKCS7* p7 = d2i_PKCS7(nullptr, &p, static_cast<long>(der.size()));
  if (p7 == nullptr || !PKCS7_type_is_signed(p7) || p7->d.sign->cert == nullptr ||
      sk_X509_num(p7->d.sign->cert) < 1) {
    PKCS7_free(p7);
    return nullptr;
  }
  X509* cert = sk_X509_value(p7->d.sign->cert, 0);
  X509_up_ref(cert);
  PKCS7_free(p7);
  return cert;
}

// ---------------------------------------------------------------------------
// Requests.

std::string host_header(int port) { return "Host: 127.0.0.1:" + std::to_string(port) + "\r\n"; }

std::string post(int port, const std::string& path, const std::string& authorization, const std::string& type,
                 const std::string& body, bool keep_alive) {
  std::string r = "POST " + path + " HTTP/1.1\r\n" + host_header(port);
  if (!authorization.empty()) r += "Authorization: " + authorization + "\r\n";
  r += "Content-Type: " + type + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  if (!keep_alive) r += "Connection: close\r\n";
  r += "\r\n";
  r += body;
  return r;
}

std::string enroll_request(int port, const Device& d) {
  return post(port, "/.well-known/est/simpleenroll", "Basic " + base64(percent(d.identifier) + ":" + d.token),
              "application/pkcs10", d.csr_b64, false);
}
std::string reenroll_request(int port, const Device& d) {
  return post(port, "/.well-known/est/simplereenroll", "", "application/pkcs10", d.csr_b64, false);
}

// ---------------------------------------------------------------------------
// Results.

struct Tally {
  std::vector<double> latency_ms;  // OK requests only
  long ok = 0;
  std::map<std::string, long> errors;       // kind -> count
  std::map<std::string, std::string> first;  // kind -> first body
  void error(const std::string& kind, const std::string& body = {}) {
    ++errors[kind];
    first.emplace(kind, body.substr(0, 300));
  }
  void merge(Tally& other) {
    latency_ms.insert(latency_ms.end(), other.latency_ms.begin(), other.latency_ms.end());
    ok += other.ok;
    for (auto& [k, n] : other.errors) errors[k] += n;
    for (auto& [k, b] : other.first) first.emplace(k, b);
  }
  long error_count() const {
    long n = 0;
    for (auto& [k, c] : errors) n += c;
    return n;
  }
};

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t i = std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

std::string random_tag() {
  unsigned char b[4];
  RAND_bytes(b, sizeof b);
  char out[9];
  std::snprintf(out, sizeof out, "%02x%02x%02x%02x", b[0], b[1], b[2], b[3]);
  return out;
}

// parallel runs fn(i) for i in [0, n) on |threads| threads.
template <class Fn>
void parallel(long n, int threads, Fn&& fn) {
  std::atomic<long> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (long i; (i = next.fetch_add(1)) < n;) fn(t, i);
    });
  }
  for (auto& th : pool) th.join();
}

// ---------------------------------------------------------------------------

class Bench {
 public:
  explicit Bench(Options o) : o_(std::move(o)) {
    cafile_ = o_.data + "/tls/ca.pem";
    ctx_ = client_context(cafile_);
    auto admin = nlohmann::json::parse(read_file(o_.data + "/admin.json"));
    admin_auth_ = "Basic " + base64(percent(admin.at("id").get<std::string>()) + ":" +
                                    admin.at("secret").get<std::string>());
  }

  // devices returns |n| identifiers with a key, a CSR and a one-time token each.
  std::vector<Device> make_devices(long n) {
    const auto t0 = Clock::now();
    const std::string tag = random_tag();
    std::vector<Device> devices(static_cast<std::size_t>(n));
    parallel(n, o_.threads, [&](int, long i) {
      devices[static_cast<std::size_t>(i)].identifier = o_.prefix + "/EST-" + tag + "-" + std::to_string(i);
      make_csr(devices[static_cast<std::size_t>(i)]);
    });
    const auto t1 = Clock::now();
    std::vector<Conn> conns(static_cast<std::size_t>(o_.threads));
    std::atomic<long> failed{0};
    parallel(n, o_.threads, [&](int t, long i) {
      Device& d = devices[static_cast<std::size_t>(i)];
      Conn& c = conns[static_cast<std::size_t>(t)];
      const std::string body = nlohmann::json{{"identifier", d.identifier}, {"profile", "device"}, {"ttl", "1h"}}.dump();
      for (int attempt = 0; attempt < 3; ++attempt) {
        std::string err;
        if (!c.is_open() && !c.open(o_.port, ctx_, err)) continue;
        auto r = c.roundtrip(post(o_.port, "/api/ca/tokens", admin_auth_, "application/json", body, true), err);
        if (!r) continue;
        if (r->status != 201) die("POST /api/ca/tokens: " + std::to_string(r->status) + " " + r->body);
        d.token = nlohmann::json::parse(r->body).at("token").get<std::string>();
        return;
      }
      ++failed;
    });
    if (failed > 0) die(std::to_string(failed.load()) + " tokens could not be created");
    const auto t2 = Clock::now();
    std::fprintf(stderr, "setup: %ld keys+CSRs in %.2f s, %ld tokens in %.2f s (%.0f/s)\n", n,
                 std::chrono::duration<double>(t1 - t0).count(), n, std::chrono::duration<double>(t2 - t1).count(),
                 static_cast<double>(n) / std::chrono::duration<double>(t2 - t1).count());
    return devices;
  }

  // enroll_all enrolls every device with its token (setup for reenroll and ocsp).
  void enroll_all(std::vector<Device>& devices) {
    for (auto& d : devices) {
      Conn c;
      std::string err;
      if (!c.open(o_.port, ctx_, err)) die("setup enroll: " + err);
      auto r = c.roundtrip(enroll_request(o_.port, d), err);
      if (!r || r->status != 200) die("setup enroll: " + (r ? std::to_string(r->status) + " " + r->body : err));
      d.cert = first_certificate(r->body);
      if (d.cert == nullptr) die("setup enroll: no certificate in the response");
      d.ctx = client_context(cafile_, d.cert, d.key);
    }
  }

  // run calls one(thread, i, tally) on every thread until |seconds| pass or
  // one() returns false (out of work).
  template <class Fn>
  void run(Fn&& one) {
    std::vector<Tally> tallies(static_cast<std::size_t>(o_.threads));
    std::atomic<bool> stop{false};
    std::atomic<bool> exhausted{false};
    std::vector<std::thread> pool;
    const double server0 = o_.server_pid ? process_cpu_ms(o_.server_pid) : -1;
    const double client0 = self_cpu_ms();
    const double busy0 = busy_cpu_ms();
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::seconds(o_.seconds);
    std::atomic<long> next{0};
    for (int t = 0; t < o_.threads; ++t) {
      pool.emplace_back([&, t] {
        Tally& tally = tallies[static_cast<std::size_t>(t)];
        while (!stop.load(std::memory_order_relaxed)) {
          if (Clock::now() >= deadline) break;
          if (!one(t, next.fetch_add(1), tally)) {
            exhausted = true;
            break;
          }
        }
        stop = true;  // the first thread to finish ends the run: the rate is over a full house
      });
    }
    for (auto& th : pool) th.join();
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    const double client_ms = self_cpu_ms() - client0;
    const double server_ms = server0 >= 0 ? process_cpu_ms(o_.server_pid) - server0 : -1;
    // Cores' worth of CPU used by anything but this client and the server
    // (other processes, the kernel's own threads): noise in the figure.
    const double others = (busy_cpu_ms() - busy0 - client_ms - std::max(server_ms, 0.0)) / (elapsed * 1000.0);
    Tally all;
    for (auto& t : tallies) all.merge(t);
    const long errors = all.error_count();
    const double p50 = percentile(all.latency_ms, 0.50);
    const double p99 = percentile(all.latency_ms, 0.99);
    // CPU per request: milliseconds of CPU time (all threads) per OK request,
    // for the server (when --server-pid is given) and for this client.
    const double per = all.ok > 0 ? static_cast<double>(all.ok) : 1.0;
    std::printf("mode=%s threads=%d seconds=%.2f requests=%ld ok=%ld errors=%ld rps=%.1f p50_ms=%.2f p99_ms=%.2f "
                "server_cpu_ms=%.3f client_cpu_ms=%.3f other_cores=%.2f%s\n",
                o_.mode.c_str(), o_.threads, elapsed, all.ok + errors, all.ok, errors,
                static_cast<double>(all.ok) / elapsed, p50, p99, server_ms >= 0 ? server_ms / per : -1.0,
                client_ms / per, others, exhausted ? " note=tokens-ran-out" : "");
    for (auto& [kind, n] : all.errors) {
      std::fprintf(stderr, "error: %ld x %s: %s\n", n, kind.c_str(), all.first[kind].c_str());
    }
    std::fflush(stdout);
  }

  // One request on a new connection (TCP + TLS handshake + request + response);
  // OK only for a 200. Latency covers all of it.
  void est_once(const std::string& request, SSL_CTX* ctx, Tally& tally) {
    const auto t0 = Clock::now();
    Conn c;
    std::string err;
    if (!c.open(o_.port, ctx, err)) return tally.error(err.substr(0, err.find(':')), err);
    auto r = c.roundtrip(request, err);
    c.close();
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (!r) return tally.error("transport", err);
    if (r->status != 200) return tally.error("status " + std::to_string(r->status), r->body);
    tally.latency_ms.push_back(ms);
    ++tally.ok;
  }

  int main() {
    if (o_.mode == "token") {
      auto devices = make_devices(o_.tokens);
      run([&](int, long i, Tally& tally) {
        if (i >= static_cast<long>(devices.size())) return false;
        est_once(enroll_request(o_.port, devices[static_cast<std::size_t>(i)]), ctx_, tally);
        return true;
      });
    } else if (o_.mode == "reenroll") {
      auto devices = make_devices(o_.devices);
      enroll_all(devices);
      std::vector<std::string> requests;
      for (auto& d : devices) requests.push_back(reenroll_request(o_.port, d));
      run([&](int, long i, Tally& tally) {
        const std::size_t k = static_cast<std::size_t>(i) % devices.size();
        est_once(requests[k], devices[k].ctx, tally);
        return true;
      });
    } else if (o_.mode == "tls" || o_.mode == "mtls") {
      std::vector<Device> devices;
      if (o_.mode == "mtls") {
        devices = make_devices(o_.devices);
        enroll_all(devices);
      }
      const std::string request = "GET /healthz HTTP/1.1\r\n" + host_header(o_.port) + "Connection: close\r\n\r\n";
      run([&](int, long i, Tally& tally) {
        SSL_CTX* ctx = devices.empty() ? ctx_ : devices[static_cast<std::size_t>(i) % devices.size()].ctx;
        est_once(request, ctx, tally);
        return true;
      });
    } else if (o_.mode == "ocsp") {
      if (o_.plain_port == 0) die("ocsp needs --plain-port");
      auto devices = make_devices(1);
      enroll_all(devices);
      X509* issuer = nullptr;
      {
        BIO* b = BIO_new_file((o_.data + "/tls/intermediate.pem").c_str(), "r");
        if (b == nullptr || (issuer = PEM_read_bio_X509(b, nullptr, nullptr, nullptr)) == nullptr) {
          die("cannot read the issuing CA certificate");
        }
        BIO_free(b);
      }
      OCSP_REQUEST* req = OCSP_REQUEST_new();
      OCSP_CERTID* id = OCSP_cert_to_id(EVP_sha1(), devices[0].cert, issuer);
      if (req == nullptr || id == nullptr || OCSP_request_add0_id(req, id) == nullptr) die("OCSP request");
      unsigned char* der = nullptr;
      const int len = i2d_OCSP_REQUEST(req, &der);
      const std::string body(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
      OPENSSL_free(der);
      OCSP_REQUEST_free(req);
      const std::string request = post(o_.plain_port, "/ocsp", "", "application/ocsp-request", body, true);
      std::vector<Conn> conns(static_cast<std::size_t>(o_.threads));
      run([&](int t, long, Tally& tally) {
        Conn& c = conns[static_cast<std::size_t>(t)];
        const auto t0 = Clock::now();
        std::string err;
        if (!c.is_open() && !c.open(o_.plain_port, nullptr, err)) {
          tally.error("connect", err);
          return true;
        }
        auto r = c.roundtrip(request, err);
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        if (!r) {
          tally.error("transport", err);
          return true;
        }
        if (r->status != 200) {
          tally.error("status " + std::to_string(r->status), r->body);
          return true;
        }
        const unsigned char* p = reinterpret_cast<const unsigned char*>(r->body.data());
        OCSP_RESPONSE* resp = d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(r->body.size()));
        const int status = resp ? OCSP_response_status(resp) : -1;
        OCSP_RESPONSE_free(resp);
        if (status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
          tally.error("ocsp status " + std::to_string(status));
          return true;
        }
        tally.latency_ms.push_back(ms);
        ++tally.ok;
        return true;
      });
    } else {
      die("MODE must be token, reenroll, ocsp, tls or mtls");
    }
    return 0;
  }

 private:
  Options o_;
  std::string cafile_;
  SSL_CTX* ctx_ = nullptr;
  std::string admin_auth_;
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (argc < 2) die("usage: est_load token|reenroll|ocsp|tls|mtls --data DIR --port P [--plain-port PP] [--threads N] "
                    "[--seconds S] [--prefix PFX] [--tokens T] [--devices K] [--server-pid PID]");
  o.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--data") o.data = v;
    else if (k == "--port") o.port = std::atoi(v.c_str());
    else if (k == "--plain-port") o.plain_port = std::atoi(v.c_str());
    else if (k == "--threads") o.threads = std::atoi(v.c_str());
    else if (k == "--seconds") o.seconds = std::atoi(v.c_str());
    else if (k == "--prefix") o.prefix = v;
    else if (k == "--tokens") o.tokens = std::atol(v.c_str());
    else if (k == "--devices") o.devices = std::atoi(v.c_str());
    else if (k == "--server-pid") o.server_pid = std::atoi(v.c_str());
    else die("unknown option " + k);
  }
  if (o.data.empty() || o.port == 0 || o.threads < 1 || o.seconds < 1 || o.tokens < 1 || o.devices < 1) {
    die("--data and --port are required; counts must be positive");
  }
  std::signal(SIGPIPE, SIG_IGN);
  return Bench(std::move(o)).main();
}
