// api_handler: the whole request handler (authentication, routing, the Handle
// API, EST, the CA administration API, CRL and OCSP, the GS1 / IEC 61406
// web resolver and AAS discovery) as a pure function,
// over a real store and a real CA in a temporary directory.
//
// Input: "METHOD TARGET\n" then "name: value\n" header lines, an empty line,
// and the body. Invariants checked on every input: no crash, no exception,
// a status in 100..599, and every 4xx/5xx with a body is JSON with a message.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "idra/api.hpp"
#include "idra/auth.hpp"
#include "idra/ca.hpp"
#include "idra/pki.hpp"
#include "idra/store.hpp"

namespace {

struct Node {
  std::filesystem::path dir;
  std::unique_ptr<idra::store::Store> store;
  std::unique_ptr<idra::auth::Authenticator> auth;
  std::unique_ptr<idra::ca::Authority> authority;
  std::unique_ptr<idra::api::Service> service;

  Node() {
    char tmpl[] = "/tmp/idra-fuzz-handler-XXXXXX";
    dir = ::mkdtemp(tmpl);
    idra::store::Options options;
    options.durable = false;
    store = std::move(idra::store::Store::open(dir / "db", options).value());
    (void)store->home_prefix("88.100");
    (void)store->home_prefix("IDRA");
    // A known administrator ("300:0.NA/IDRA", secret "fuzz") so that inputs
    // can reach the write paths; its Argon2id check runs once, then is cached.
    const auto hash = idra::auth::hash_secret("fuzz").value();
    (void)store->put("0.NA/IDRA", idra::api::admin_record("0.NA/IDRA", 300, hash, 1700000000));
    auth = std::make_unique<idra::auth::Authenticator>(*store);
    idra::api::Config config;
    config.node_admins = {"300:0.NA/IDRA"};
    // The web resolver: delegations and identification-link hosts reachable.
    config.resolver.delegations = {{"0614141", "https://id.other.example"}};
    config.resolver.identification_link_hosts = {"nameplate.example.com"};
    // The CA, so that EST and /api/ca inputs reach their handlers.
    const auto passphrase = idra::pki::Secret::copy_of("fuzz");
    (void)idra::pki::init_ca(dir, passphrase, {}, idra::pki::KeyEncryptionParams::minimum());
    idra::ca::Config ca_config;
    ca_config.token_hash = {1, 8192};
    authority = std::move(idra::ca::Authority::open(*store, dir, passphrase, dir / "profiles", ca_config, {}).value());
    service = std::make_unique<idra::api::Service>(config, *store, *auth, authority.get());
  }
  ~Node() {
    service.reset();
    authority.reset();
    auth.reset();
    store.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

idra::api::Request parse(std::string_view in) {
  idra::api::Request r;
  r.client_address = "127.0.0.1";
  r.now_unix = 1800000000;
  auto nl = in.find('\n');
  std::string_view first = in.substr(0, nl);
  in = nl == std::string_view::npos ? std::string_view{} : in.substr(nl + 1);
  auto sp = first.find(' ');
  r.method = std::string(first.substr(0, sp));
  r.target = sp == std::string_view::npos ? "/" : std::string(first.substr(sp + 1));
  while (!in.empty()) {
    nl = in.find('\n');
    std::string_view line = in.substr(0, nl);
    in = nl == std::string_view::npos ? std::string_view{} : in.substr(nl + 1);
    if (line.empty()) break;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(line.substr(0, colon));
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    r.headers.emplace_back(std::move(name), std::string(value));
  }
  r.body = std::string(in);
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Node node;
  const auto request = parse(std::string_view(reinterpret_cast<const char*>(data), size));
  const auto response = node.service->handle(request);
  if (response.status < 100 || response.status > 599) std::abort();
  if (response.status >= 400 && !response.body.empty()) {
    const auto body = nlohmann::json::parse(response.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("message") || !body["message"].is_string()) {
      std::abort();
    }
  }
  return 0;
}
