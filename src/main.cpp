// main.cpp: the only place that puts the concrete parts of a node together.
// `idra serve`: open the store, bootstrap the development PKI and the
// administrator on first start, then serve HTTPS until SIGTERM/SIGINT.
#include <sys/stat.h>

#include <boost/asio/ssl/context.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "idra/api.hpp"
#include "idra/auth.hpp"
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
  boost::asio::ssl::context tls(ssl_ctx->release());  // the asio context owns it from here

  auto admin = bootstrap_admin(**store, data, options.api);
  if (!admin) return fail("bootstrap: " + admin.error().message);
  options.api.node_admins.push_back(*admin);

  auth::Authenticator authenticator(**store, options.limiter);
  api::Service service(options.api, **store, authenticator);
  auto server = http::Server::create(options.server, tls, service);
  if (!server) return fail(server.error().message);

  const auto& addr = options.server.address;
  const std::string host = addr.find(':') != std::string::npos ? "[" + addr + "]" : addr;
  std::printf("idra listening on https://%s:%u\n", host.c_str(), static_cast<unsigned>((*server)->port()));
  if (options.tls_certificate_file.empty()) {
    std::printf("trust anchor: %s\n", material->paths.ca_certificate.c_str());
  } else {
    std::printf("certificate: %s\n", presented.c_str());
  }
  std::printf("admin: %s (secret in %s)\n", admin->c_str(), (data / "admin.json").c_str());
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
