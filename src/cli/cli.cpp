// cli.cpp: `idra` commands, their help and their arguments.
#include <cstdio>
#include <cstring>
#include <iostream>
#include <optional>

#include "audit_commands.hpp"
#include "ca_commands.hpp"
#include "policy_commands.hpp"
#include "client.hpp"
#include "idra/cli.hpp"
#include "idra/ids.hpp"

namespace idra::cli {

Result<void> parse_listen(std::string_view text, http::ServerConfig& out) {
  // "ADDR:PORT" or "[v6]:PORT".
  std::string_view host, port;
  if (text.starts_with("[")) {
    const auto close = text.find("]:");
    if (close == std::string_view::npos) return make_error("--listen must be ADDR:PORT, for example 127.0.0.1:8443 or [::1]:8443");
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) {
      return make_error("--listen must be ADDR:PORT, for example 127.0.0.1:8443 or [::1]:8443");
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty() || port.empty() || port.size() > 5) return make_error("--listen must be ADDR:PORT with a port 0 to 65535");
  unsigned n = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return make_error("--listen port must be a number 0 to 65535");
    n = n * 10 + static_cast<unsigned>(c - '0');
  }
  if (n > 65535) return make_error("--listen port must be a number 0 to 65535");
  out.address = std::string(host);
  out.port = static_cast<unsigned short>(n);
  return {};
}

namespace {

constexpr const char* kMainHelp = R"(idra: the Identifier Resolution Authority

Usage: idra <command> [options]

Commands:
  serve       run a resolution node (HTTPS, Handle.Net v9 REST API)
  resolve     resolve a handle or any identifier against a node
  id check    parse an identifier and print its canonical handle
  import      load records from an NDJSON file into a data directory
  ca          the certificate authority: init, tokens, issue, list, revoke
  policy      Cedar policies: check, explain a decision, run policy tests
  audit       verify the node's audit log: checkpoints, consistency, inclusion, exports

Run 'idra <command> --help' for the options of one command.

Examples:
  idra serve
  idra resolve 88.100.1/DEV-42
  idra id check https://id.example.com/01/09506000134352/21/A1
)";

constexpr const char* kServeHelp = R"(Usage: idra serve [--data DIR] [--listen ADDR:PORT] [--config FILE]
                  [--threads N] [--io per-thread|shared]

Runs a resolution node. On an empty data directory it bootstraps: the LMDB
environment, a development CA and a server certificate for localhost and
127.0.0.1 (trust anchor DATA/tls/ca.pem), and a bootstrap administrator whose
credentials are written to DATA/admin.json (mode 0600). Later starts reuse them.
SIGTERM or SIGINT stops accepting, finishes requests in flight, closes LMDB.

Options:
  --data DIR          data directory (default ./idra-data)
  --listen ADDR:PORT  address to listen on (default 127.0.0.1:8443; port 0 picks one)
  --config FILE       JSON configuration (see README, "Configuration");
                      command-line options override it
  --threads N         network threads (default: the number of cores)
  --io MODEL          per-thread (default: an io_context and SO_REUSEPORT
                      acceptor per thread) or shared (one io_context, strands)

Examples:
  idra serve
  idra serve --data /var/lib/idra --listen 0.0.0.0:443 --config /etc/idra/idra.json
)";

constexpr const char* kResolveHelp = R"(Usage: idra resolve IDENTIFIER [--server URL] [--cacert FILE]
                    [--type TYPE]... [--index N]... [--auth INDEX:HANDLE --secret-file FILE]

Resolves a handle (or a GS1 Digital Link, EPC URN, OID or IEC 61406 link,
which the node maps to its canonical handle) and prints the record as JSON.
Exit status: 0 found, 1 not found or error, 2 usage.

Options:
  --server URL        node to ask (default https://127.0.0.1:8443)
  --cacert FILE       trust anchor (default ./idra-data/tls/ca.pem if present,
                      else the system's)
  --type TYPE         only values of this type ("URL." includes subtypes); repeatable
  --index N           only the value at this index; repeatable
  --auth ID           authenticate as "index:handle" (secret read from --secret-file)
  --secret-file FILE  file holding the secret (or admin.json: its "secret" is used)

Examples:
  idra resolve 88.100.1/DEV-42
  idra resolve urn:epc:id:sgtin:0614141.812345.6789 --server https://resolver.example:8443
  idra resolve 88.100.1/DEV-42 --type URL --cacert idra-data/tls/ca.pem
)";

constexpr const char* kIdCheckHelp = R"(Usage: idra id check [--scheme handle|gs1|epc|oid|iec61406] [--prefix P] [--json] STRING

Parses STRING, prints its scheme, its canonical spelling and the canonical
handle it maps to. Exit status 1 (with the reason on stderr) when it is not
valid; with --scheme, when it is not valid for that scheme.

Options:
  --scheme S   accept only this scheme
  --prefix P   the node's prefix for foreign identifiers (default IDRA)
  --json       print {"scheme","canonical","handle"} or {"error"} as JSON

Examples:
  idra id check 88.100.1/DEV-42
  idra id check https://id.example.com/01/09506000134352/21/A1
  idra id check --scheme iec61406 https://a/01/2112345678900
  idra id check urn:oid:1.3.6.1.4.1
)";

constexpr const char* kImportHelp = R"(Usage: idra import FILE [--data DIR] [--config FILE] [--batch N] [--home-prefixes]

Loads records from FILE ("-" for standard input), one JSON object per line:
  {"handle": "88.100/X", "values": [{"index": 1, "type": "URL", "data": "https://..."}]}
Identifiers may be any spelling; values are read exactly as PUT bodies are
(HS_SECKEY secrets given in clear are stored as Argon2id hashes). A record
replaces any record of the same handle. Lines are written in batches, one
durable transaction per batch; the first bad line stops the import with its
line number, and earlier batches stay written. Run it while no node serves
the data directory.

Options:
  --data DIR         data directory (default ./idra-data)
  --config FILE      the node's configuration (for id_prefix and limits)
  --batch N          records per transaction (default 10000)
  --home-prefixes    home the prefix of every record instead of refusing
                     records under prefixes this node does not home

Example:
  idra import handles.ndjson --data /var/lib/idra --home-prefixes
)";

bool wants_help(int argc, char** argv, int from) {
  for (int i = from; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) return true;
  }
  return false;
}

int usage(const char* help, const std::string& message) {
  std::fprintf(stderr, "idra: %s\n\n%s", message.c_str(), help);
  return 2;
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

int id_check(int argc, char** argv, int from) {
  if (wants_help(argc, argv, from)) {
    std::fputs(kIdCheckHelp, stdout);
    return 0;
  }
  std::optional<ids::Scheme> scheme;
  ids::MappingConfig mapping;
  bool as_json = false;
  std::optional<std::string> text;
  for (int i = from; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--scheme" && i + 1 < argc) {
      scheme = ids::scheme_from_name(argv[++i]);
      if (!scheme) return usage(kIdCheckHelp, std::string("unknown scheme ") + argv[i]);
    } else if (a == "--prefix" && i + 1 < argc) {
      auto p = ids::canonical_prefix(argv[++i]);
      if (!p) return usage(kIdCheckHelp, "--prefix: " + p.error().message);
      mapping.prefix = *p;
    } else if (a == "--json") {
      as_json = true;
    } else if (a.starts_with("--") && !text) {
      return usage(kIdCheckHelp, "unknown option " + std::string(a));
    } else if (!text) {
      text = std::string(a);
    } else {
      return usage(kIdCheckHelp, "give exactly one identifier");
    }
  }
  if (!text) return usage(kIdCheckHelp, "give an identifier to check");
  auto id = ids::identify(*text, mapping, scheme);
  if (!id) {
    if (as_json) {
      std::printf("{\"error\":%s}\n", json_string(id.error().message).c_str());
    } else {
      std::fprintf(stderr, "invalid: %s\n", id.error().message.c_str());
    }
    return 1;
  }
  const std::string name(ids::scheme_name(id->scheme));
  if (as_json) {
    std::printf("{\"scheme\":%s,\"canonical\":%s,\"handle\":%s}\n", json_string(name).c_str(),
                json_string(id->canonical).c_str(), json_string(id->handle).c_str());
  } else {
    std::printf("scheme:    %s\ncanonical: %s\nhandle:    %s\n", name.c_str(), id->canonical.c_str(), id->handle.c_str());
  }
  return 0;
}

// options_from_config returns the defaults with every --config FILE among
// argv[from..] applied, so that the other command-line options, read
// afterwards, override the file.
Result<ServeOptions> options_from_config(int argc, char** argv, int from) {
  ServeOptions o;
  // CRL and OCSP over plain HTTP on loopback unless configured otherwise.
  o.server.plain_enabled = true;
  o.server.plain_port = 8080;
  for (int i = from; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--config") == 0) {
      if (auto r = load_config(argv[i + 1], o); !r) return r.error();
    }
  }
  return o;
}

std::variant<ServeOptions, int> serve(int argc, char** argv, int from) {
  if (wants_help(argc, argv, from)) {
    std::fputs(kServeHelp, stdout);
    return 0;
  }
  auto configured = options_from_config(argc, argv, from);
  if (!configured) return usage(kServeHelp, configured.error().message);
  ServeOptions o = std::move(configured).value();
  for (int i = from; i < argc; ++i) {
    std::string_view a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--config" && has_value) {
      ++i;
    } else if (a == "--data" && has_value) {
      o.data_dir = argv[++i];
    } else if (a == "--listen" && has_value) {
      if (auto r = parse_listen(argv[++i], o.server); !r) return usage(kServeHelp, r.error().message);
    } else if (a == "--threads" && has_value) {
      const std::string v = argv[++i];
      if (v.empty() || v.size() > 4 || v.find_first_not_of("0123456789") != std::string::npos) {
        return usage(kServeHelp, "--threads must be a number");
      }
      o.server.threads = static_cast<unsigned>(std::stoul(v));
    } else if (a == "--io" && has_value) {
      const std::string v = argv[++i];
      if (v == "per-thread") o.server.io_model = http::IoModel::per_thread;
      else if (v == "shared") o.server.io_model = http::IoModel::shared;
      else return usage(kServeHelp, "--io must be per-thread or shared");
    } else {
      return usage(kServeHelp, "unknown or incomplete option " + std::string(a));
    }
  }
  return o;
}

std::variant<ServeOptions, ImportOptions, int> import_command(int argc, char** argv, int from) {
  if (wants_help(argc, argv, from)) {
    std::fputs(kImportHelp, stdout);
    return 0;
  }
  auto configured = options_from_config(argc, argv, from);
  if (!configured) return usage(kImportHelp, configured.error().message);
  ImportOptions o;
  o.data_dir = configured->data_dir;
  o.api = configured->api;
  o.store = configured->store;
  for (int i = from; i < argc; ++i) {
    std::string_view a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--config" && has_value) {
      ++i;
    } else if (a == "--data" && has_value) {
      o.data_dir = argv[++i];
    } else if (a == "--batch" && has_value) {
      const std::string v = argv[++i];
      if (v.empty() || v.size() > 7 || v.find_first_not_of("0123456789") != std::string::npos || v == "0") {
        return usage(kImportHelp, "--batch must be a number from 1 to 9999999");
      }
      o.batch_records = std::stoul(v);
    } else if (a == "--home-prefixes") {
      o.home_prefixes = true;
    } else if (a.starts_with("--")) {
      return usage(kImportHelp, "unknown or incomplete option " + std::string(a));
    } else if (o.file.empty()) {
      o.file = std::string(a);
    } else {
      return usage(kImportHelp, "give exactly one file");
    }
  }
  if (o.file.empty()) return usage(kImportHelp, "give the file to import");
  return o;
}

}  // namespace

std::variant<ServeOptions, ImportOptions, int> run(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
      std::strcmp(argv[1], "help") == 0) {
    std::fputs(kMainHelp, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string_view cmd = argv[1];
  if (cmd == "--version") {
    std::puts("idra 0.1.0");
    return 0;
  }
  if (cmd == "serve") {
    auto r = serve(argc, argv, 2);
    if (const int* code = std::get_if<int>(&r)) return *code;
    return std::get<ServeOptions>(std::move(r));
  }
  if (cmd == "import") return import_command(argc, argv, 2);
  if (cmd == "ca") return ca_command(argc, argv, 2);
  if (cmd == "policy") return policy_command(argc, argv, 2);
  if (cmd == "audit") return audit_command(argc, argv, 2);
  if (cmd == "id") {
    if (argc >= 3 && std::strcmp(argv[2], "check") == 0) return id_check(argc, argv, 3);
    if (wants_help(argc, argv, 2)) {
      std::fputs(kIdCheckHelp, stdout);
      return 0;
    }
    return usage(kMainHelp, "unknown 'id' command; did you mean 'idra id check'?");
  }
  if (cmd == "resolve") {
    if (wants_help(argc, argv, 2)) {
      std::fputs(kResolveHelp, stdout);
      return 0;
    }
    ResolveArgs args;
    for (int i = 2; i < argc; ++i) {
      std::string_view a = argv[i];
      const bool has_value = i + 1 < argc;
      if (a == "--server" && has_value) args.server = argv[++i];
      else if (a == "--cacert" && has_value) args.cacert = argv[++i];
      else if (a == "--type" && has_value) args.types.emplace_back(argv[++i]);
      else if (a == "--index" && has_value) args.indexes.emplace_back(argv[++i]);
      else if (a == "--auth" && has_value) args.auth_id = argv[++i];
      else if (a == "--secret-file" && has_value) args.secret_file = argv[++i];
      else if (a.starts_with("--")) return usage(kResolveHelp, "unknown or incomplete option " + std::string(a));
      else if (args.identifier.empty()) args.identifier = std::string(a);
      else return usage(kResolveHelp, "give exactly one identifier");
    }
    if (args.identifier.empty()) return usage(kResolveHelp, "give an identifier to resolve");
    return resolve(args);
  }
  return usage(kMainHelp, "unknown command " + std::string(cmd));
}

}  // namespace idra::cli
