// ca_commands.cpp: `idra ca ...`. init and export-root work on the data
// directory (the node need not run); the others are clients of the running
// node's CA administration API (/api/ca/), authenticated as the bootstrap
// administrator (DATA/admin.json) unless --auth/--secret-file say otherwise.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "ca_commands.hpp"
#include "client.hpp"
#include "idra/pki.hpp"

namespace idra::cli {
namespace {

constexpr const char* kCaHelp = R"(Usage: idra ca COMMAND [options]

Commands:
  init [--algorithm ec-p256|ec-p384|ed25519|rsa] [--rsa-bits N]
        create the root and issuing CA in DATA/tls (refuses to overwrite)
  export-root --out FILE [--remove]
        copy the encrypted root key out; --remove deletes it from the node (offline root)
  token create IDENTIFIER [--profile device] [--ttl 24h]
        create a one-time enrollment token; prints the token alone
  issue --csr FILE --profile PROFILE [--identifier ID] [--cn NAME] [--org O]
        [--dns NAME]... [--ip ADDR]... [--email ADDR]...
        issue a certificate for a PKCS#10 request (PEM or DER); prints the PEM
  list [--identifier ID] [--limit N] [--cursor SERIAL]
  show SERIAL
  revoke SERIAL|IDENTIFIER [--reason REASON]
        reasons: unspecified keyCompromise cACompromise affiliationChanged
        superseded cessationOfOperation privilegeWithdrawn aACompromise

Options of every command:
  --data DIR          data directory (default ./idra-data): the passphrase and
                      keys for init/export-root; admin.json and tls/ca.pem for the others
  --server URL        node to administer (default https://127.0.0.1:8443)
  --cacert FILE       trust anchor (default DATA/tls/ca.pem)
  --auth ID --secret-file FILE   administrator other than DATA/admin.json

Examples:
  idra ca init --algorithm ec-p384
  idra ca token create 88.100.1/DEV-42 --profile device --ttl 24h
  idra ca revoke 88.100.1/DEV-42 --reason keyCompromise
)";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "idra ca: %s\n(see idra ca --help)\n", message.c_str());
  return 2;
}

int failure(const std::string& message) {
  std::fprintf(stderr, "idra ca: %s\n", message.c_str());
  return 1;
}


struct Common {
  std::string data = "idra-data";
  CallArgs call;
  std::string auth_id;
  std::string secret_file;
};

// credentials fills the call's Authorization from --auth/--secret-file or DATA/admin.json.
Result<void> credentials(Common& c) {
  auto header = basic_from_file(c.secret_file.empty() ? c.data + "/admin.json" : c.secret_file, c.auth_id);
  if (!header) return header.error();
  c.call.authorization = std::move(*header);
  return {};
}

// call_api runs the call and returns the parsed JSON of a 2xx reply.
Result<nlohmann::json> call_api(Common& c) {
  if (auto r = credentials(c); !r) return r.error();
  if (c.call.cacert.empty() && std::filesystem::exists(c.data + "/tls/ca.pem")) c.call.cacert = c.data + "/tls/ca.pem";
  auto reply = https_call(c.call);
  if (!reply) return reply.error();
  if (reply->status < 200 || reply->status >= 300) {
    return make_error("HTTP " + std::to_string(reply->status) + ": " + reply_message(*reply));
  }
  auto j = nlohmann::json::parse(reply->body, nullptr, false);
  if (j.is_discarded()) return make_error("the node's answer is not JSON");
  return j;
}

}  // namespace

int ca_command(int argc, char** argv, int from) {
  if (from >= argc || std::strcmp(argv[from], "--help") == 0 || std::strcmp(argv[from], "-h") == 0) {
    std::fputs(kCaHelp, from >= argc ? stderr : stdout);
    return from >= argc ? 2 : 0;
  }
  std::string cmd = argv[from++];
  if (cmd == "token") {
    if (from >= argc || std::strcmp(argv[from], "create") != 0) return usage_error("did you mean 'idra ca token create'?");
    cmd = "token create";
    ++from;
  }
  Common c;
  std::vector<std::string> positional;
  std::string algorithm = "ec-p256", out, profile, ttl = "24h", reason = "unspecified", csr_file, identifier, cursor;
  std::string cn, org, limit;
  int rsa_bits = pki::kDefaultRsaBits;
  bool remove = false;
  nlohmann::json dns = nlohmann::json::array(), ips = nlohmann::json::array(), emails = nlohmann::json::array();
  for (int i = from; i < argc; ++i) {
    const std::string_view a = argv[i];
    const bool v = i + 1 < argc;
    if (a == "--help" || a == "-h") {
      std::fputs(kCaHelp, stdout);
      return 0;
    }
    if (a == "--data" && v) c.data = argv[++i];
    else if (a == "--server" && v) c.call.server = argv[++i];
    else if (a == "--cacert" && v) c.call.cacert = argv[++i];
    else if (a == "--auth" && v) c.auth_id = argv[++i];
    else if (a == "--secret-file" && v) c.secret_file = argv[++i];
    else if (a == "--algorithm" && v) algorithm = argv[++i];
    else if (a == "--rsa-bits" && v) {
      const std::string n = argv[++i];
      if (n.empty() || n.size() > 5 || n.find_first_not_of("0123456789") != std::string::npos) return usage_error("--rsa-bits must be a number");
      rsa_bits = std::stoi(n);
    } else if (a == "--out" && v) out = argv[++i];
    else if (a == "--remove") remove = true;
    else if (a == "--profile" && v) profile = argv[++i];
    else if (a == "--ttl" && v) ttl = argv[++i];
    else if (a == "--reason" && v) reason = argv[++i];
    else if (a == "--csr" && v) csr_file = argv[++i];
    else if (a == "--identifier" && v) identifier = argv[++i];
    else if (a == "--cursor" && v) cursor = argv[++i];
    else if (a == "--limit" && v) limit = argv[++i];
    else if (a == "--cn" && v) cn = argv[++i];
    else if (a == "--org" && v) org = argv[++i];
    else if (a == "--dns" && v) dns.push_back(argv[++i]);
    else if (a == "--ip" && v) ips.push_back(argv[++i]);
    else if (a == "--email" && v) emails.push_back(argv[++i]);
    else if (a.starts_with("--")) return usage_error("unknown or incomplete option " + std::string(a));
    else positional.emplace_back(a);
  }

  if (cmd == "init" || cmd == "export-root") {
    if (!positional.empty()) return usage_error("unexpected argument " + positional[0]);
    auto passphrase = pki::load_passphrase(c.data);
    if (!passphrase) return failure(passphrase.error().message);
    if (cmd == "export-root") {
      if (out.empty()) return usage_error("export-root needs --out FILE");
      if (auto r = pki::export_root_key(c.data, out, remove); !r) return failure(r.error().message);
      std::printf("root key written to %s%s\n", out.c_str(), remove ? "; removed from the node" : "");
      return 0;
    }
    pki::CaInitOptions options;
    if (algorithm == "ec-p256") options.algorithm = pki::KeyAlgorithm::kEcP256;
    else if (algorithm == "ec-p384") options.algorithm = pki::KeyAlgorithm::kEcP384;
    else if (algorithm == "ed25519") options.algorithm = pki::KeyAlgorithm::kEd25519;
    else if (algorithm == "rsa") options.algorithm = pki::KeyAlgorithm::kRsa;
    else return usage_error("--algorithm must be ec-p256, ec-p384, ed25519 or rsa");
    options.rsa_bits = rsa_bits;
    if (auto r = pki::init_ca(c.data, *passphrase, options); !r) return failure(r.error().message);
    std::printf("CA created in %s/tls (root: ca.pem, issuing CA: intermediate.pem, %s)\n", c.data.c_str(), algorithm.c_str());
    return 0;
  }

  if (cmd == "token create") {
    if (positional.size() != 1) return usage_error("give exactly one identifier");
    c.call.method = "POST";
    c.call.target = "/api/ca/tokens";
    c.call.body = nlohmann::json{{"identifier", positional[0]}, {"profile", profile.empty() ? "device" : profile}, {"ttl", ttl}}.dump();
    auto j = call_api(c);
    if (!j) return failure(j.error().message);
    std::printf("%s\n", (*j)["token"].get<std::string>().c_str());
    return 0;
  }
  if (cmd == "issue") {
    if (csr_file.empty() || profile.empty()) return usage_error("issue needs --csr FILE and --profile PROFILE");
    auto csr = read_text_file(csr_file);
    if (!csr) return failure("cannot read " + csr_file);
    std::string text = *csr;
    if (text.find("-----BEGIN") == std::string::npos) {  // DER: send base64
      std::vector<unsigned char> der(text.begin(), text.end());
      text = pki::encode_base64_body(der);
    }
    c.call.method = "POST";
    c.call.target = "/api/ca/certificates";
    nlohmann::json body = {{"csr", text}, {"profile", profile}};
    if (!identifier.empty()) body["identifier"] = identifier;
    if (!cn.empty()) body["common_name"] = cn;
    if (!org.empty()) body["organization"] = org;
    if (!dns.empty()) body["dns_names"] = dns;
    if (!ips.empty()) body["ip_addresses"] = ips;
    if (!emails.empty()) body["emails"] = emails;
    c.call.body = body.dump();
    auto j = call_api(c);
    if (!j) return failure(j.error().message);
    const std::string pem = (*j)["certificate"].get<std::string>();
    if (!out.empty()) {
      std::ofstream f(out);
      f << pem;
      if (!f) return failure("cannot write " + out);
      std::printf("%s\n", (*j)["serial"].get<std::string>().c_str());
    } else {
      std::fputs(pem.c_str(), stdout);
    }
    return 0;
  }
  if (cmd == "list") {
    c.call.target = "/api/ca/certificates?limit=" + (limit.empty() ? std::string("100") : url_component(limit));
    if (!identifier.empty()) c.call.target += "&identifier=" + url_component(identifier);
    if (!cursor.empty()) c.call.target += "&cursor=" + url_component(cursor);
    auto j = call_api(c);
    if (!j) return failure(j.error().message);
    std::printf("%s\n", j->dump(2).c_str());
    return 0;
  }
  if (cmd == "show") {
    if (positional.size() != 1) return usage_error("give exactly one serial number");
    c.call.target = "/api/ca/certificates/" + url_component(positional[0]);
    auto j = call_api(c);
    if (!j) return failure(j.error().message);
    std::printf("%s\n", j->dump(2).c_str());
    return 0;
  }
  if (cmd == "revoke") {
    if (positional.size() != 1) return usage_error("give exactly one serial number or identifier");
    c.call.method = "POST";
    c.call.target = "/api/ca/revoke";
    c.call.body = nlohmann::json{{"target", positional[0]}, {"reason", reason}}.dump();
    auto j = call_api(c);
    if (!j) return failure(j.error().message);
    for (const auto& e : (*j)["revoked"]) std::printf("revoked %s\n", e["serial"].get<std::string>().c_str());
    return 0;
  }
  return usage_error("unknown command " + cmd);
}

}  // namespace idra::cli
