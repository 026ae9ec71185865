// main.cpp: the only place that puts the concrete parts of a node together.
// `idra serve`: open the store, bootstrap the development PKI and the
// administrator on first start, then serve HTTPS until SIGTERM/SIGINT.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <boost/asio/ssl/context.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <thread>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "idra/api.hpp"
#include "idra/audit.hpp"
#include "idra/auth.hpp"
#include "idra/ca.hpp"
#include "idra/cli.hpp"
#include "idra/http.hpp"
#include "idra/ids.hpp"
#include "idra/pki.hpp"
#include "idra/policy.hpp"
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

// open_policies opens the policy directory; on the first start with the
// default directory it is written from the built-in set first, so that the
// operator has the files to edit.
Result<std::unique_ptr<policy::Engine>> open_policies(const std::filesystem::path& dir, bool is_default) {
  std::error_code ec;
  if (is_default && !std::filesystem::exists(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (ec) return make_error("cannot create " + dir.string() + ": " + ec.message());
    for (const auto& f : api::default_policy_files()) {
      if (auto r = pki::write_file_atomic(dir / f.name, f.text, 0644, pki::WriteMode::kCreateOnly); !r) return r.error();
    }
  }
  auto engine = policy::Engine::open(dir);
  if (!engine) {
    std::string message = "the policy set in " + dir.string() + " is invalid:";
    for (const auto& d : engine.error()) message += "\n  " + d.str();
    return make_error(message);
  }
  return std::move(*engine);
}

void log_policy(const char* msg, const policy::Bundle& b) {
  std::fprintf(stderr, "{\"level\":\"info\",\"msg\":\"%s\",\"sha256\":\"%s\",\"policies\":%zu}\n", msg,
               b.sha256_hex.c_str(), b.policies.size());
}

// policy_reloader reloads the policy set on SIGHUP (blocked in every thread
// and taken here with sigtimedwait) and, every |interval| when non-zero, when
// a file of the directory changed. A bad set is refused and logged; the
// active one stays.
std::jthread policy_reloader(policy::Engine& engine, std::chrono::milliseconds interval) {
  return std::jthread([&engine, interval](std::stop_token stop) {
    sigset_t hup;
    sigemptyset(&hup);
    sigaddset(&hup, SIGHUP);
    const auto tick = interval.count() > 0 ? std::min<std::chrono::milliseconds>(interval, std::chrono::seconds(1))
                                           : std::chrono::milliseconds(500);
    auto last_look = std::chrono::steady_clock::now();
    while (!stop.stop_requested()) {
      timespec ts{static_cast<time_t>(tick.count() / 1000), static_cast<long>((tick.count() % 1000) * 1000000)};
      const bool signalled = sigtimedwait(&hup, nullptr, &ts) == SIGHUP;
      bool look = signalled;
      if (!look && interval.count() > 0 && std::chrono::steady_clock::now() - last_look >= interval) {
        last_look = std::chrono::steady_clock::now();
        look = engine.changed_on_disk();
      }
      if (!look) continue;
      auto r = engine.reload();
      if (!r) {
        std::string errors;
        for (const auto& d : r.error()) {
          if (!errors.empty()) errors += ",";
          errors += nlohmann::json(d.str()).dump();
        }
        std::fprintf(stderr,
                     "{\"level\":\"error\",\"msg\":\"policy reload refused; the active set stays\",\"sha256\":\"%s\",\"errors\":[%s]}\n",
                     engine.current()->sha256_hex.c_str(), errors.c_str());
      } else if (*r) {
        log_policy("policy set reloaded", *engine.current());
      }
    }
  });
}

constexpr std::string_view kAuditOriginMetaKey = "audit_origin";

// audit_origin returns the origin of this node's audit log: the one fixed at
// its first start, else the configured one, else "<host name>/idra-audit".
// A configured origin that differs from the fixed one is an Error (the
// checkpoints already signed name the old one).
Result<std::string> audit_origin(store::Store& store, const std::string& configured) {
  if (auto fixed = store.get_meta(kAuditOriginMetaKey)) {
    if (!configured.empty() && configured != *fixed) {
      return make_error("audit.origin is \"" + configured + "\" but this node's audit log was started as \"" + *fixed +
                        "\"; the origin cannot change");
    }
    return *fixed;
  }
  std::string origin = configured;
  if (origin.empty()) {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::strcpy(host, "localhost");
    origin = std::string(host) + "/idra-audit";
  }
  if (!audit::valid_key_name(origin)) {
    return make_error("audit.origin \"" + origin + "\" cannot name a key: no spaces and no '+'");
  }
  if (auto r = store.put_meta(kAuditOriginMetaKey, origin); !r) return r.error();
  return origin;
}

// open_audit_key returns the audit log's Ed25519 signing key, named |name|.
// Its seed lives in DATA/audit/log.key, encrypted under the node's key
// passphrase like the CA keys (mode 0600); it is generated on first start.
Result<audit::SignerKey> open_audit_key(const std::filesystem::path& data_dir, const pki::Secret& passphrase,
                                        const std::string& name) {
  const auto dir = data_dir / "audit";
  const auto path = dir / "log.key";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (ec) return make_error("cannot create " + dir.string() + ": " + ec.message());
    ::chmod(dir.c_str(), 0700);
    auto fresh = pki::generate_key(pki::KeyAlgorithm::kEd25519);
    if (!fresh) return fresh.error();
    if (auto r = pki::write_private_key(path, **fresh, passphrase); !r) return r.error();
  }
  auto key = pki::load_private_key(path, passphrase);
  if (!key) return make_error("audit log key " + path.string() + ": " + key.error().message);
  unsigned char raw[1 + 32] = {0x01};  // the signed-note algorithm byte, then the seed
  unsigned char pub[32];
  std::size_t seed_len = 32, pub_len = sizeof pub;
  if (EVP_PKEY_get_raw_private_key(key->get(), raw + 1, &seed_len) != 1 || seed_len != 32 ||
      EVP_PKEY_get_raw_public_key(key->get(), pub, &pub_len) != 1 || pub_len != 32) {
    OPENSSL_cleanse(raw, sizeof raw);
    return make_error("audit log key " + path.string() + " is not an Ed25519 key");
  }
  const std::uint32_t id = audit::key_id(name, std::string_view(reinterpret_cast<const char*>(pub), sizeof pub));
  char id_hex[9];
  std::snprintf(id_hex, sizeof id_hex, "%08x", id);
  unsigned char b64[4 * ((sizeof raw + 2) / 3) + 1];
  EVP_EncodeBlock(b64, raw, sizeof raw);
  OPENSSL_cleanse(raw, sizeof raw);
  std::string text = "PRIVATE+KEY+" + name + "+" + id_hex + "+" + reinterpret_cast<const char*>(b64);
  OPENSSL_cleanse(b64, sizeof b64);
  auto signer = audit::SignerKey::parse(text);
  OPENSSL_cleanse(text.data(), text.size());
  return signer;
}

// read_pseudonymize_key reads audit.pseudonymize_key_file: 16 to 64 bytes,
// one trailing newline dropped.
Result<std::string> read_pseudonymize_key(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return make_error("audit.pseudonymize_key_file: cannot read " + file.string());
  std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (key.ends_with("\r\n")) key.resize(key.size() - 2);
  else if (key.ends_with("\n")) key.pop_back();
  if (key.size() < 16 || key.size() > 64) {
    return make_error("audit.pseudonymize_key_file: the key must be 16 to 64 bytes, not " + std::to_string(key.size()));
  }
  return key;
}

// checkpoint_signer signs a checkpoint whenever the audit log has grown, at
// most once per the checkpointer's interval; it looks every quarter
// interval (10 to 250 ms). Failures (a tampered log: the checkpointer
// refuses to sign a tree inconsistent with its last checkpoint) are logged
// once each time the message changes.
std::jthread checkpoint_signer(store::Store& store, audit::Checkpointer& checkpointer,
                               std::chrono::milliseconds interval) {
  return std::jthread([&store, &checkpointer, interval](std::stop_token stop) {
    const auto tick = std::clamp<std::chrono::milliseconds>(interval / 4, std::chrono::milliseconds(10),
                                                            std::chrono::milliseconds(250));
    std::optional<std::uint64_t> covered;
    std::string last_error;
    std::mutex mu;
    std::condition_variable_any cv;
    while (!stop.stop_requested()) {
      std::uint64_t size = 0;
      store.view([&](const store::ReadView& v) { size = audit::tree_size(v); });
      if (size != covered) {
        auto made = checkpointer.maybe_checkpoint(std::chrono::system_clock::now());
        if (!made) {
          if (made.error().message != last_error) {
            last_error = made.error().message;
            std::fprintf(stderr, "{\"level\":\"error\",\"msg\":\"audit: no checkpoint signed\",\"what\":%s}\n",
                         nlohmann::json(last_error).dump().c_str());
          }
        } else {
          last_error.clear();
          if (made->has_value() || size == 0) covered = size;
        }
      }
      std::unique_lock lock(mu);
      cv.wait_for(lock, stop, tick, [] { return false; });
    }
  });
}

int serve(cli::ServeOptions options) {
  // SIGHUP (reload the policies) is taken by one thread with sigtimedwait;
  // blocked here, before any thread starts, so that every thread inherits it.
  sigset_t hup;
  sigemptyset(&hup);
  sigaddset(&hup, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &hup, nullptr);

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

  auto policies = open_policies(options.policies_dir.empty() ? data / "policies" : options.policies_dir,
                                options.policies_dir.empty());
  if (!policies) return fail(policies.error().message);
  log_policy("policy set active", *(*policies)->current());
  std::jthread reloader = policy_reloader(**policies, options.policy_watch_interval);

  // The audit log: its signing key, the checkpointer, and the group commit
  // of read records.
  std::unique_ptr<audit::Checkpointer> checkpointer;
  std::unique_ptr<audit::ReadBatcher> batcher;
  api::AuditSinks sinks;
  std::jthread signer;
  if (options.audit.enabled) {
    auto origin = audit_origin(**store, options.audit.origin);
    if (!origin) return fail(origin.error().message);
    auto key = open_audit_key(data, *passphrase, *origin);
    if (!key) return fail(key.error().message);
    auto made = audit::Checkpointer::create(**store, std::move(*key),
                                            audit::CheckpointerConfig{*origin, options.audit.checkpoint_interval});
    if (!made) return fail("audit: " + made.error().message);
    checkpointer = std::move(*made);
    audit::BatcherConfig batching;
    batching.max_batch = options.audit.batch_size;
    batching.max_delay = options.audit.max_delay;
    batching.max_txn_records = options.audit.max_txn_records;
    batching.queue_capacity = options.audit.queue_capacity;
    batching.index_batch = options.audit.index_batch;
    batching.index_interval = options.audit.index_interval;
    batcher = std::make_unique<audit::ReadBatcher>(**store, batching);
    sinks.reads = batcher.get();
    sinks.checkpoints = checkpointer.get();
    if (!options.audit.pseudonymize_key_file.empty()) {
      auto pkey = read_pseudonymize_key(options.audit.pseudonymize_key_file);
      if (!pkey) return fail(pkey.error().message);
      sinks.pseudonymize_key = std::move(*pkey);
    }
    signer = checkpoint_signer(**store, *checkpointer, options.audit.checkpoint_interval);
  }

  auth::Authenticator authenticator(**store, options.limiter);
  api::Service service(options.api, **store, authenticator, authority->get(), policies->get(), sinks);
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
  if (checkpointer) {
    std::printf("audit log: %s\n", audit::format_verifier_key(checkpointer->verifier()).c_str());
  }
  std::printf("admin: %s (secret in %s; client certificate in %s)\n", admin->c_str(), (data / "admin.json").c_str(),
              (data / "admin").c_str());
  std::fflush(stdout);
  (*server)->run();
  server->reset();
  if (batcher) {
    // Every request is answered: commit the queued read records and sign
    // the final tree.
    signer.request_stop();
    signer.join();
    batcher->flush();
    if (auto r = checkpointer->checkpoint_now(); !r) {
      std::fprintf(stderr, "{\"level\":\"error\",\"msg\":\"audit: no final checkpoint\",\"what\":%s}\n",
                   nlohmann::json(r.error().message).dump().c_str());
    }
  }
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
