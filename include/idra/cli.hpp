// cli.hpp: the `idra` command line. Client commands (resolve, id check) run
// here; `serve` is parsed here and wired in src/main.cpp, the only place that
// puts the concrete parts of a node together.
#pragma once

#include <filesystem>
#include <string>
#include <variant>
#include <vector>

#include "idra/api.hpp"
#include "idra/auth.hpp"
#include "idra/http.hpp"
#include "idra/store.hpp"

namespace idra::cli {

struct ServeOptions {
  std::filesystem::path data_dir = "idra-data";
  http::ServerConfig server;
  api::Config api;
  auth::LimiterConfig limiter;
  store::Options store;
  std::vector<std::string> tls_names = {"localhost"};
  std::vector<std::string> tls_addresses = {"127.0.0.1", "::1"};
};

// run executes the command in |argv|. It returns ServeOptions when the
// command is `serve` (the caller starts the node), otherwise the exit code of
// the command it ran: 0 success, 1 failure (the identifier is invalid, the
// handle was not found), 2 usage error. Messages go to stdout/stderr.
std::variant<ServeOptions, int> run(int argc, char** argv);

// load_config applies a JSON config file to |options|; unknown keys, wrong
// types and out-of-range values are Errors naming the key.
Result<void> load_config(const std::filesystem::path& file, ServeOptions& options);

}  // namespace idra::cli
