// issue_rate.cpp: raw certificate issuance per second through idra_pki, with
// no HTTP, TLS or store in the way (bench/est.sh runs it).
//
//   bench_issue [SECONDS] [THREADS]
//
// Creates a CA (pki::init_ca, P-256, in a temporary directory that is removed
// afterwards), opens it with pki::open_issuing_ca, then for SECONDS on THREADS
// threads:
//   issue       pki::issue_certificate for one P-256 public key under the
//               built-in "device" profile, a distinct identifier each time
//               (one ECDSA P-256 signature plus building the certificate);
//   csr+issue   pki::parse_csr of a pre-built CSR (its self-signature is
//               verified: one ECDSA verify) followed by the same issuance:
//               the CPU work of one enrollment without transport and store.
// Prints one line per measure:
//   <measure> threads=T count=N seconds=S per_second=R
// Not a test: it passes no verdict.
#include <openssl/pem.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "idra/pki.hpp"

namespace {

using namespace idra;
using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench_issue: %s\n", what.c_str());
  std::exit(1);
}

// A DER PKCS#10 request for |key| with common name |cn|.
std::vector<unsigned char> make_csr(EVP_PKEY* key, const std::string& cn) {
  X509_REQ* req = X509_REQ_new();
  if (req == nullptr) die("X509_REQ_new");
  X509_REQ_set_version(req, 0);
  X509_NAME* name = X509_REQ_get_subject_name(req);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.data()),
                             static_cast<int>(cn.size()), -1, 0);
  if (X509_REQ_set_pubkey(req, key) != 1 || X509_REQ_sign(req, key, EVP_sha256()) <= 0) die("CSR signing");
  unsigned char* der = nullptr;
  const int len = i2d_X509_REQ(req, &der);
  if (len <= 0) die("i2d_X509_REQ");
  std::vector<unsigned char> out(der, der + len);
  OPENSSL_free(der);
  X509_REQ_free(req);
  return out;
}

template <class Fn>
void measure(const char* label, int seconds, int threads, Fn&& one) {
  std::atomic<bool> stop{false};
  std::atomic<long> total{0};
  std::vector<std::thread> pool;
  const auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      long n = 0;
      while (!stop.load(std::memory_order_relaxed)) one(t, n++);
      total += n;
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (auto& th : pool) th.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("%s threads=%d count=%ld seconds=%.2f per_second=%.1f\n", label, threads, total.load(), elapsed,
              static_cast<double>(total.load()) / elapsed);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const int seconds = argc > 1 ? std::atoi(argv[1]) : 5;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 1;
  if (seconds <= 0 || threads <= 0) die("usage: bench_issue [SECONDS] [THREADS]");

  char tmpl[] = "/tmp/idra-bench-issue-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) die("mkdtemp");
  const std::filesystem::path dir = tmpl;
  const auto params = pki::KeyEncryptionParams::minimum();
  const auto pass = pki::Secret::copy_of("bench passphrase");
  const pki::IssueUrls urls{"http://127.0.0.1:8080/crl/intermediate.crl", "http://127.0.0.1:8080/ocsp"};

  pki::Profile device, ocsp;
  for (auto& p : pki::builtin_profiles()) {
    if (p.name == "device") device = p;
    if (p.name == "ocsp") ocsp = p;
  }
  if (device.name.empty() || ocsp.name.empty()) die("no built-in device/ocsp profile");
  if (auto r = pki::init_ca(dir, pass, pki::CaInitOptions{}, params); !r) die(r.error().message);
  auto ca = pki::open_issuing_ca(dir, pass, ocsp, urls, params);
  if (!ca) die(ca.error().message);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);

  auto key = pki::generate_key(pki::KeyAlgorithm::kEcP256);
  if (!key) die(key.error().message);
  const auto csr = make_csr(key->get(), "88.100.1/bench-csr");
  if (auto parsed = pki::parse_csr(csr); !parsed) die("CSR: " + parsed.error().message);

  const pki::CertificateAuthority& issuer = ca->issuer;
  auto issue_one = [&](const EVP_PKEY& public_key, int t, long n) {
    pki::Identity identity;
    identity.identifier = "88.100.1/bench-" + std::to_string(t) + "-" + std::to_string(n);
    identity.subject.common_name = identity.identifier;
    auto cert = pki::issue_certificate(issuer, public_key, device, identity, urls);
    if (!cert) die("issue: " + cert.error().message);
  };
  measure("issue", seconds, threads, [&](int t, long n) { issue_one(**key, t, n); });
  measure("csr+issue", seconds, threads, [&](int t, long n) {
    auto parsed = pki::parse_csr(csr);
    if (!parsed) die("CSR: " + parsed.error().message);
    issue_one(*parsed->public_key, t, n);
  });
  return 0;
}
