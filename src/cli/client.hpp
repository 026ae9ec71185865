// client.hpp: the HTTPS client behind `idra resolve`.
#pragma once

#include <string>
#include <vector>

namespace idra::cli {

struct ResolveArgs {
  std::string identifier;
  std::string server = "https://127.0.0.1:8443";
  std::string cacert;  // empty: ./idra-data/tls/ca.pem if present, else the system store
  std::vector<std::string> types;
  std::vector<std::string> indexes;
  std::string auth_id;
  std::string secret_file;
};

// resolve prints the record (pretty JSON) on stdout and returns 0, or prints
// the reason on stderr and returns 1 (not found, TLS failure, bad answer).
int resolve(const ResolveArgs& args);

}  // namespace idra::cli
