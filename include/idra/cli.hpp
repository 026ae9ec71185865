// cli.hpp: the `idra` command line. Client commands (resolve, id check) run
// here; `serve` is parsed here and wired in src/main.cpp, the only place that
// puts the concrete parts of a node together.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <variant>
#include <vector>

#include "idra/api.hpp"
#include "idra/auth.hpp"
#include "idra/ca.hpp"
#include "idra/http.hpp"
#include "idra/store.hpp"

namespace idra::cli {

// AuditOptions configure the node's audit log (README, "Audit log").
struct AuditOptions {
  // enabled false records nothing (for benchmarks that compare); the
  // auditor API then serves what an earlier run recorded.
  bool enabled = true;
  std::size_t batch_size = 8192;           // read records per group commit
  std::chrono::milliseconds max_delay{100};  // a read record waits at most this for its commit (0..100)
  std::size_t max_txn_records = 16384;      // records one commit takes when the queue is deep
  std::size_t queue_capacity = 65536;       // read records queued before submitters wait
  std::size_t index_batch = 16384;          // unindexed records that start an index transaction
  std::chrono::milliseconds index_interval{1000};  // the index is brought up to date at least this often
  std::chrono::milliseconds checkpoint_interval{1000};  // at most one signed checkpoint per interval
  // origin is the checkpoints' first line and the log key's name; empty:
  // the one chosen at first start ("<host name>/idra-audit"). It is fixed
  // at first start: a different one later is a configuration error.
  std::string origin;
  // pseudonymize_key_file holds 16 to 64 bytes (a trailing newline is
  // dropped); with it, client addresses are logged as their keyed hash.
  std::filesystem::path pseudonymize_key_file;
};

struct ServeOptions {
  std::filesystem::path data_dir = "idra-data";
  http::ServerConfig server;
  api::Config api;
  auth::LimiterConfig limiter;
  store::Options store;
  std::vector<std::string> tls_names = {"localhost"};
  std::vector<std::string> tls_addresses = {"127.0.0.1", "::1"};
  // Bring your own certificate: a PEM chain (leaf first) and its private key
  // (PEM, or idra's encrypted key file; mode 0600). Empty: the development PKI.
  std::filesystem::path tls_certificate_file;
  std::filesystem::path tls_key_file;
  // The certificate authority (EST, CRL, OCSP, client certificates).
  ca::Config ca;
  bool ca_http_base_set = false;          // else derived from the plain listener's address
  std::filesystem::path profiles_dir;     // empty: DATA/profiles (missing: the built-in profiles)
  bool ocsp_stapling = true;
  // The policy directory (empty: DATA/policies, written from the built-in
  // set on first start) and how often it is checked for changes (0: only on
  // SIGHUP and POST /api/policy/reload).
  std::filesystem::path policies_dir;
  std::chrono::milliseconds policy_watch_interval{1000};
  AuditOptions audit;
};

// ImportOptions is `idra import`: load an NDJSON file of records into a
// node's data directory (the node must not be running on it).
struct ImportOptions {
  std::filesystem::path data_dir = "idra-data";
  std::filesystem::path file;  // "-" is standard input
  std::size_t batch_records = 10000;  // records per write transaction (one fsync each)
  bool home_prefixes = false;         // home every prefix met instead of refusing it
  api::Config api;
  store::Options store;
};

// run executes the command in |argv|. It returns ServeOptions or
// ImportOptions when the command needs the node's parts (the caller wires
// and runs them), otherwise the exit code of the command it ran: 0 success,
// 1 failure (the identifier is invalid, the handle was not found), 2 usage
// error. Messages go to stdout/stderr.
std::variant<ServeOptions, ImportOptions, int> run(int argc, char** argv);

// load_config applies a JSON config file to |options|; unknown keys, wrong
// types and out-of-range values are Errors naming the key.
Result<void> load_config(const std::filesystem::path& file, ServeOptions& options);

}  // namespace idra::cli
