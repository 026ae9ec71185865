// main.cpp: the only place that puts the concrete parts of a node together.
// `idra serve`: open the store, bootstrap the development PKI and the
// administrator on first start, then serve HTTPS until SIGTERM/SIGINT.
#include <sys/stat.h>

#include <boost/asio/ssl/context.hpp>
#include <nlohmann/json.hpp>

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
  auto material = pki::ensure_dev_pki(data, *passphrase, options.tls_names, options.tls_addresses);
  if (!material) return fail(material.error().message);
  auto ssl_ctx = pki::make_server_tls_context(*material);
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
  std::printf("trust anchor: %s\n", material->paths.ca_certificate.c_str());
  std::printf("admin: %s (secret in %s)\n", admin->c_str(), (data / "admin.json").c_str());
  std::fflush(stdout);
  (*server)->run();
  server->reset();
  std::printf("idra stopped\n");
  return 0;  // the store closes (and LMDB syncs) as it goes out of scope
}

}  // namespace

int main(int argc, char** argv) {
  auto command = idra::cli::run(argc, argv);
  if (const int* code = std::get_if<int>(&command)) return *code;
  try {
    return serve(std::move(std::get<idra::cli::ServeOptions>(command)));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "idra serve: fatal: %s\n", e.what());
    return 1;
  }
}
