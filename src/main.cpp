// main.cpp: the only place that puts the concrete parts of a node together.
// `idra serve`: open the store, bootstrap the development PKI and the
// administrator on first start, then serve HTTPS until SIGTERM/SIGINT.
#include <sys/stat.h>

#include <openssl/pem.h>

#include <boost/asio/ssl/context.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <thread>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "idra/api.hpp"
#include "idra/auth.hpp"
#include "idra/ca.hpp"
#include "idra/cli.hpp"
#include "idra/http.hpp"
#include "idra/ids.hpp"
#include "idra/pki.hpp"
#include "idra/store.hpp"

namespace {

using namespace idra;

constexpr std::uint32_t kAdminSecretIndex = 300;
constexpr std::string_view kBootstrapMetaKey = "bootstrap_admin";

int fail(const std::string& message) {
  std::fprintf(stderr, "idra serve: %s\n", message.c_str());
  return 1;
}

// bootstrap_admin makes sure the bootstrap administrator exists: the record
// 0.NA/<id prefix> with HS_ADMIN and HS_SECKEY (Argon2id hash), the homed id
// prefix, and DATA/admin.json (0600) holding its id and secret. Returns the
// administrator's id ("300:0.NA/IDRA").
Result<std::string> bootstrap_admin(store::Store& store, const std::filesystem::path& data_dir,
                                    const api::Config& config) {
  if (auto existing = store.get_meta(kBootstrapMetaKey)) return *existing;
  const std::string handle = "0.NA/" + config.mapping.prefix;
  const std::string id = std::to_string(kAdminSecretIndex) + ":" + handle;
  std::string secret = auth::random_secret(24);
  auto hash = auth::hash_secret(secret);
  if (!hash) return hash.error();
  // Order matters for a crash in between: the record first, then the file,
  // then the marker. Without the marker the next start does it all again and
  // replaces both the record and the file.
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  if (auto r = store.put(handle, api::admin_record(handle, kAdminSecretIndex, *hash, now)); !r) return r.error();
  if (auto r = store.home_prefix(config.mapping.prefix); !r) return r.error();
  nlohmann::ordered_json creds = {{"id", id}, {"secret", secret}};
  std::string text = creds.dump(2) + "\n";
  auto written = pki::write_file_atomic(data_dir / "admin.json", text, 0600, pki::WriteMode::kReplace);
  std::fill(secret.begin(), secret.end(), '\0');
  std::fill(text.begin(), text.end(), '\0');
  if (!written) return make_error("cannot write admin.json: " + written.error().message);
  if (auto r = store.put_meta(kBootstrapMetaKey, id); !r) return r.error();
  return id;
}

// bootstrap_admin_certificate makes sure DATA/admin/ holds a client
// certificate of the admin profile (admin.pem) and its key (admin.key:
// PKCS#8 PEM encrypted under the node's key passphrase, AES-256-CBC with
// PBKDF2, mode 0600, so that curl and openssl read it with --pass).
Result<void> bootstrap_admin_certificate(ca::Authority& authority, const std::filesystem::path& data_dir,
                                         const pki::Secret& passphrase) {
  const auto dir = data_dir / "admin";
  if (std::filesystem::exists(dir / "admin.pem") && std::filesystem::exists(dir / "admin.key")) return {};
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return make_error("cannot create " + dir.string() + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
  auto key = pki::generate_key(pki::KeyAlgorithm::kEcP256);
  if (!key) return key.error();
  ca::Authority::IssueRequest request;
  request.profile = "admin";
  request.subject.common_name = "idra bootstrap administrator";
  request.subject.organization = "idra";
  request.via = "bootstrap";
  auto issued = authority.issue(**key, request, static_cast<std::int64_t>(std::time(nullptr)));
  if (!issued) return make_error("admin certificate: " + issued.error().message);
  pki::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PKCS8PrivateKey(bio.get(), key->get(), EVP_aes_256_cbc(),
                                            reinterpret_cast<const char*>(passphrase.data()),
                                            static_cast<int>(passphrase.size()), nullptr, nullptr) != 1) {
    return make_error("cannot encode the admin key");
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  const std::string key_pem(data, static_cast<std::size_t>(len));
  if (auto r = pki::write_file_atomic(dir / "admin.key", key_pem, 0600, pki::WriteMode::kReplace); !r) return r;
  std::string chain = pki::to_pem(*issued->certificate) + pki::to_pem(authority.issuer().certificate());
  return pki::write_file_atomic(dir / "admin.pem", chain, 0644, pki::WriteMode::kReplace);
}

int serve(cli::ServeOptions options) {
  const auto& data = options.data_dir;
  std::error_code ec;
  std::filesystem::create_directories(data, ec);
  if (ec) return fail("cannot create data directory " + data.string() + ": " + ec.message());
  ::chmod(data.c_str(), 0700);

  auto store = store::Store::open(data / "db", options.store);
  if (!store) return fail(store.error().message);

  auto passphrase = pki::load_passphrase(data);
  if (!passphrase) return fail(passphrase.error().message);
  // The development PKI always exists (its CA is the trust anchor of later
  // issues' enrollment); an operator's own certificate replaces only the
  // certificate the listener presents.
  auto material = pki::ensure_dev_pki(data, *passphrase, options.tls_names, options.tls_addresses);
  if (!material) return fail(material.error().message);
  std::string presented = material->paths.server_certificate.string();
  Result<pki::SslCtxPtr> ssl_ctx = make_error("unset");
  if (!options.tls_certificate_file.empty()) {
    auto chain = pki::load_certificates(options.tls_certificate_file);
    if (!chain) return fail("tls.certificate_file: " + chain.error().message);
    auto key = pki::load_private_key(options.tls_key_file, *passphrase);
    if (!key) return fail("tls.key_file: " + key.error().message);
    ssl_ctx = pki::make_server_tls_context(*chain, **key);
    presented = options.tls_certificate_file.string();
  } else {
    ssl_ctx = pki::make_server_tls_context(*material);
  }
  if (!ssl_ctx) return fail(ssl_ctx.error().message);

  // The CA: issued certificates, EST, CRL, OCSP, client certificates.
  const auto profiles_dir = options.profiles_dir.empty() ? data / "profiles" : options.profiles_dir;
  auto authority = ca::Authority::open(**store, data, *passphrase, profiles_dir, options.ca, options.api.mapping);
  if (!authority) return fail("certificate authority: " + authority.error().message);
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  if (options.tls_certificate_file.empty()) {
    // The development server certificate was issued by the intermediate
    // outside the database: record it so that OCSP answers (and staples) "good".
    if (auto r = (*authority)->adopt(*material->chain[0], "server", "bootstrap", now); !r) return fail(r.error().message);
  }
  if (auto r = pki::enable_client_auth(**ssl_ctx, (*authority)->client_auth()); !r) return fail(r.error().message);
  if (options.ocsp_stapling && options.tls_certificate_file.empty()) {
    ca::Authority* a = authority->get();
    const X509* leaf = material->chain[0].get();
    auto stapled = pki::enable_ocsp_stapling(**ssl_ctx, [a, leaf] {
      return a->staple(*leaf, static_cast<std::int64_t>(std::time(nullptr)));
    });
    if (!stapled) return fail(stapled.error().message);
  }
  boost::asio::ssl::context tls(ssl_ctx->release());  // the asio context owns it from here

  auto admin = bootstrap_admin(**store, data, options.api);
  if (!admin) return fail("bootstrap: " + admin.error().message);
  options.api.node_admins.push_back(*admin);

  auth::Authenticator authenticator(**store, options.limiter);
  api::Service service(options.api, **store, authenticator, authority->get());
  auto server = http::Server::create(options.server, tls, service);
  if (!server) return fail(server.error().message);
  if (!options.ca_http_base_set && (*server)->plain_port() != 0) {
    const auto& pa = options.server.plain_address;
    const std::string host = pa.find(':') != std::string::npos ? "[" + pa + "]" : pa;
    (*authority)->set_http_base("http://" + host + ":" + std::to_string((*server)->plain_port()));
  }
  if (auto r = bootstrap_admin_certificate(**authority, data, *passphrase); !r) return fail("bootstrap: " + r.error().message);
  // The CRL is regenerated on every revocation and, by this thread, whenever
  // it is older than ca.crl_refresh_seconds, so that relying parties never
  // fetch one past its nextUpdate even when nothing was revoked.
  std::jthread crl_refresher([a = authority->get()](std::stop_token stop) {
    std::mutex mu;
    std::condition_variable_any cv;
    while (!stop.stop_requested()) {
      (void)a->crl(static_cast<std::int64_t>(std::time(nullptr)));
      std::unique_lock lock(mu);
      cv.wait_for(lock, stop, std::chrono::seconds(30), [] { return false; });
    }
  });

  const auto& addr = options.server.address;
  const std::string host = addr.find(':') != std::string::npos ? "[" + addr + "]" : addr;
  std::printf("idra listening on https://%s:%u\n", host.c_str(), static_cast<unsigned>((*server)->port()));
  if (options.tls_certificate_file.empty()) {
    std::printf("trust anchor: %s\n", material->paths.ca_certificate.c_str());
  } else {
    std::printf("certificate: %s\n", presented.c_str());
  }
  if ((*server)->plain_port() != 0) {
    const auto& pa = options.server.plain_address;
    const std::string phost = pa.find(':') != std::string::npos ? "[" + pa + "]" : pa;
    std::printf("plain HTTP (CRL, OCSP) on http://%s:%u\n", phost.c_str(), static_cast<unsigned>((*server)->plain_port()));
  }
  std::printf("admin: %s (secret in %s; client certificate in %s)\n", admin->c_str(), (data / "admin.json").c_str(),
              (data / "admin").c_str());
  std::fflush(stdout);
  (*server)->run();
  server->reset();
  std::printf("idra stopped\n");
  return 0;  // the store closes (and LMDB syncs) as it goes out of scope
}

// run_import loads an NDJSON file into the store, one durable transaction
// per batch. It stops at the first bad line (earlier batches stay written).
int run_import(const cli::ImportOptions& options) {
  auto fail_import = [](const std::string& message) {
    std::fprintf(stderr, "idra import: %s\n", message.c_str());
    return 1;
  };
  std::ifstream file;
  std::istream* in = &std::cin;
  if (options.file != "-") {
    file.open(options.file);
    if (!file) return fail_import("cannot read " + options.file.string());
    in = &file;
  }
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  ::chmod(options.data_dir.c_str(), 0700);
  auto store = store::Store::open(options.data_dir / "db", options.store);
  if (!store) return fail_import(store.error().message);

  const auto started = std::chrono::steady_clock::now();
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  std::vector<std::pair<std::string, store::Record>> batch;
  batch.reserve(options.batch_records);
  std::uint64_t imported = 0, line_no = 0;
  auto flush = [&]() -> Result<void> {
    if (batch.empty()) return {};
    if (auto r = (*store)->put_many(batch); !r) return r;
    imported += batch.size();
    batch.clear();
    return {};
  };
  std::string line;
  while (std::getline(*in, line)) {
    ++line_no;
    if (line.empty() || line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto rec = api::parse_import_line(line, options.api, now);
    if (!rec) {
      (void)flush();
      return fail_import("line " + std::to_string(line_no) + ": " + rec.error().message + " (" +
                         std::to_string(imported) + " records imported before it)");
    }
    if (!api::is_served_here(**store, rec->handle)) {
      const std::string governing = api::prefix_of_handle(rec->handle);
      if (!options.home_prefixes) {
        (void)flush();
        return fail_import("line " + std::to_string(line_no) + ": prefix " + governing +
                           " is not homed here (use --home-prefixes)");
      }
      if (auto r = (*store)->home_prefix(governing); !r) return fail_import(r.error().message);
    }
    batch.emplace_back(std::move(rec->handle), std::move(rec->record));
    if (batch.size() >= options.batch_records) {
      if (auto r = flush(); !r) return fail_import(r.error().message);
    }
  }
  if (auto r = flush(); !r) return fail_import(r.error().message);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const auto used = (*store)->used_bytes();
  const auto count = (*store)->record_count();
  std::printf("imported %llu records in %.2f s (%.0f records/s)\n", static_cast<unsigned long long>(imported),
              seconds, seconds > 0 ? static_cast<double>(imported) / seconds : 0.0);
  std::printf("store: %llu records, %zu bytes used (%.1f bytes/record)\n", static_cast<unsigned long long>(count),
              used, count ? static_cast<double>(used) / static_cast<double>(count) : 0.0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto command = idra::cli::run(argc, argv);
  if (const int* code = std::get_if<int>(&command)) return *code;
  try {
    if (auto* import = std::get_if<idra::cli::ImportOptions>(&command)) return run_import(*import);
    return serve(std::move(std::get<idra::cli::ServeOptions>(command)));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "idra: fatal: %s\n", e.what());
    return 1;
  }
}
