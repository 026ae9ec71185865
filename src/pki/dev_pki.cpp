// dev_pki.cpp: the development PKI in DATA/tls.
//
// The CA part (root and issuing intermediate) is init_ca's on the first run
// and renew_intermediate_if_needed's later, the same code `idra ca init` and
// the node's CA use. Files are written in dependency order (a key before its
// certificate, the server last), so an interrupted first run leaves an
// incomplete CA that the next run reports instead of silently replacing: a CA
// someone may already trust is never regenerated behind their back. The root
// key alone may be missing: that is an offline root (export_root_key), needed
// only to renew the intermediate.
#include <arpa/inet.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <set>

#include "idra/pki.hpp"
#include "pki/internal.hpp"

namespace idra::pki {

namespace {

using std::chrono::hours;
using std::chrono::seconds;

constexpr seconds kRootValidity{hours{24 * 3653}};          // 10 years
constexpr seconds kIntermediateValidity{hours{24 * 1827}};  // 5 years
constexpr seconds kServerValidity{hours{24 * 365}};         // 1 year

const SubjectName kRootSubject{"idra development root CA", "idra development", ""};
const SubjectName kIntermediateSubject{"idra development issuing CA", "idra development", ""};

using internal::file_exists;

TlsPaths paths_in(const std::filesystem::path& tls) {
  return TlsPaths{tls / "ca.pem",   tls / "intermediate.pem", tls / "server.pem",
                  tls / "root.key", tls / "intermediate.key", tls / "server.key"};
}

Result<void> write_certificates(const std::filesystem::path& path,
                                std::initializer_list<const X509*> certs, WriteMode mode) {
  std::string pem;
  for (const X509* c : certs) pem += to_pem(*c);
  return write_file_atomic(path, pem, 0644, mode);
}

// Normalised name sets, for "are these the names the caller asked for".
struct NameSet {
  std::set<std::string> dns;
  std::set<std::string> ips;
  bool operator==(const NameSet&) const = default;
};

NameSet requested_names(const std::vector<std::string>& dns, const std::vector<std::string>& ips) {
  NameSet out;
  for (const auto& d : dns) {
    std::string lower = d;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    out.dns.insert(lower);
  }
  // Round-trip the IPs through a certificate-style canonical form so that
  // "::1" and "0:0::1" compare equal.
  for (const auto& ip : ips) {
    unsigned char buf[16];
    char text[64] = {};
    if (inet_pton(AF_INET, ip.c_str(), buf) == 1) {
      inet_ntop(AF_INET, buf, text, sizeof text);
    } else if (inet_pton(AF_INET6, ip.c_str(), buf) == 1) {
      inet_ntop(AF_INET6, buf, text, sizeof text);
    } else {
      out.ips.insert(ip);  // invalid: issue_leaf will report it
      continue;
    }
    out.ips.insert(text);
  }
  return out;
}

NameSet certificate_names(const X509& cert) {
  SubjectAltNames san = subject_alt_names(cert);
  return NameSet{{san.dns_names.begin(), san.dns_names.end()},
                 {san.ip_addresses.begin(), san.ip_addresses.end()}};
}

struct Server {
  std::vector<X509Ptr> chain;
  EvpPkeyPtr key;
};

// make_server issues a server certificate for a fresh key, in memory.
Result<Server> make_server(const CertificateAuthority& intermediate,
                           const std::vector<std::string>& dns_names,
                           const std::vector<std::string>& ip_addresses) {
  auto key = generate_key(KeyAlgorithm::kEcP256);
  if (!key) return key.error();
  LeafRequest request;
  request.kind = LeafKind::kServer;
  request.subject = SubjectName{dns_names.empty() ? "idra development server" : dns_names.front(),
                                "idra development", ""};
  request.names.dns_names = dns_names;
  request.names.ip_addresses = ip_addresses;
  request.validity = kServerValidity;
  auto leaf = intermediate.issue_leaf(**key, request);
  if (!leaf) return leaf.error();
  Server out;
  out.chain.push_back(std::move(*leaf));
  out.chain.push_back(up_ref(intermediate.certificate()));
  out.key = std::move(*key);
  return out;
}

// write_server writes the key before the chain: if we stop in between, the
// old chain no longer matches the new key and the next run re-issues.
Result<void> write_server(const Server& server, const TlsPaths& paths, const Secret& passphrase,
                          const KeyEncryptionParams& params, WriteMode mode) {
  if (auto ok = write_private_key(paths.server_key, *server.key, passphrase, mode, params); !ok) {
    return ok;
  }
  return write_certificates(paths.server_certificate,
                            {server.chain[0].get(), server.chain[1].get()}, mode);
}

// load_server returns the existing server material if it is still what was
// asked for; std::nullopt-like empty Server (no chain) if it must be
// re-issued; an Error if it cannot be read (wrong passphrase, bad mode).
Result<Server> load_server(const X509& root, const X509& intermediate, const TlsPaths& paths,
                           const Secret& passphrase, const NameSet& wanted) {
  Server none;
  if (!file_exists(paths.server_certificate) || !file_exists(paths.server_key)) return none;
  auto key = load_private_key(paths.server_key, passphrase);
  if (!key) return key.error();
  auto chain = load_certificates(paths.server_certificate);
  if (!chain || chain->size() != 2) return none;
  const X509& leaf = *chain->front();
  if (X509_check_private_key(&leaf, key->get()) != 1) {
    internal::clear_openssl_errors();
    return none;
  }
  // The chain file must carry the current intermediate, not a predecessor.
  if (X509_cmp(chain->at(1).get(), &intermediate) != 0) return none;
  const X509* inter[] = {&intermediate};
  if (!verify_chain(root, inter, leaf)) return none;
  if (seconds_until_expiry(leaf) < kDevRenewBefore) return none;
  if (!(certificate_names(leaf) == wanted)) return none;
  return Server{std::move(*chain), std::move(*key)};
}

// load_intermediate opens the issuing CA from its two files.
Result<CertificateAuthority> load_intermediate(const TlsPaths& p, const Secret& passphrase) {
  auto certs = load_certificates(p.intermediate_certificate);
  if (!certs) return certs.error();
  if (certs->size() != 1) {
    return make_error(p.intermediate_certificate.string() + " must hold exactly one certificate");
  }
  auto key = load_private_key(p.intermediate_key, passphrase);
  if (!key) return key.error();
  auto inter = CertificateAuthority::open(std::move(certs->front()), std::move(*key));
  if (!inter) return make_error(p.intermediate_certificate.string() + ": " + inter.error().message);
  return inter;
}

}  // namespace

Result<TlsMaterial> ensure_dev_pki(const std::filesystem::path& data_dir, const Secret& passphrase,
                                   const std::vector<std::string>& dns_names,
                                   const std::vector<std::string>& ip_addresses,
                                   const KeyEncryptionParams& params) {
  if (dns_names.empty() && ip_addresses.empty()) {
    return make_error("the development server certificate needs a DNS name or an IP address");
  }
  const std::filesystem::path tls = data_dir / "tls";
  if (auto ok = internal::ensure_private_directory(data_dir); !ok) return ok.error();
  if (auto ok = internal::ensure_private_directory(tls); !ok) return ok.error();

  TlsMaterial out;
  out.paths = paths_in(tls);
  const TlsPaths& p = out.paths;
  const std::filesystem::path* ca_files[] = {&p.ca_certificate, &p.root_key,
                                             &p.intermediate_certificate, &p.intermediate_key};
  // root.key may be absent on its own: an offline root.
  const std::filesystem::path* required_ca_files[] = {
      &p.ca_certificate, &p.intermediate_certificate, &p.intermediate_key};
  const std::filesystem::path* all_files[] = {&p.ca_certificate,           &p.root_key,
                                              &p.intermediate_certificate, &p.intermediate_key,
                                              &p.server_certificate,       &p.server_key};
  const bool none = std::none_of(std::begin(all_files), std::end(all_files),
                                 [](const auto* f) { return file_exists(*f); });

  if (none) {
    CaInitOptions options;
    options.algorithm = KeyAlgorithm::kEcP256;
    options.root_subject = kRootSubject;
    options.intermediate_subject = kIntermediateSubject;
    options.root_validity = kRootValidity;
    options.intermediate_validity = kIntermediateValidity;
    if (auto ok = init_ca(data_dir, passphrase, options, params); !ok) return ok.error();
    auto inter = load_intermediate(p, passphrase);
    if (!inter) return inter.error();
    auto server = make_server(*inter, dns_names, ip_addresses);
    if (!server) {
      // A bad name must not leave a CA behind that this call made and
      // nobody can have trusted yet: the next run starts from scratch.
      for (const auto* f : ca_files) {
        std::error_code ec;
        std::filesystem::remove(*f, ec);
      }
      return server.error();
    }
    if (auto ok = write_server(*server, p, passphrase, params, WriteMode::kCreateOnly); !ok) {
      return ok.error();
    }
    out.chain = std::move(server->chain);
    out.key = std::move(server->key);
    out.created = true;
    out.server_reissued = true;
    return out;
  }

  std::string missing;
  for (const auto* f : required_ca_files) {
    if (!file_exists(*f)) missing += (missing.empty() ? "" : ", ") + f->filename().string();
  }
  if (!missing.empty()) {
    return make_error("the development PKI in " + tls.string() + " is incomplete (missing " +
                      missing +
                      "); remove that directory to create a new one, which "
                      "discards the old CA");
  }

  auto roots = load_certificates(p.ca_certificate);
  if (!roots) return roots.error();
  if (roots->size() != 1)
    return make_error(p.ca_certificate.string() + " must hold exactly one certificate");
  const X509& root = *roots->front();
  if (auto ok = verify_chain(root, {}, root); !ok) {
    return make_error(p.ca_certificate.string() + ": " + ok.error().message);
  }
  auto inter = load_intermediate(p, passphrase);
  if (!inter) return inter.error();

  // An intermediate close to expiry (or no longer chaining to the root, for
  // which a re-issue is the only repair) is replaced, signed by the root.
  auto renewed = internal::renew_intermediate_if_needed(
      p, root, *inter, passphrase, params, kIntermediateSubject, kIntermediateValidity);
  if (!renewed) return renewed.error();
  const bool force_server = *renewed;

  const NameSet wanted = requested_names(dns_names, ip_addresses);
  if (!force_server) {
    auto existing = load_server(root, inter->certificate(), p, passphrase, wanted);
    if (!existing) return existing.error();
    if (!existing->chain.empty()) {
      out.chain = std::move(existing->chain);
      out.key = std::move(existing->key);
      return out;
    }
  }
  auto server = make_server(*inter, dns_names, ip_addresses);
  if (!server) return server.error();
  if (auto ok = write_server(*server, p, passphrase, params, WriteMode::kReplace); !ok) {
    return ok.error();
  }
  out.chain = std::move(server->chain);
  out.key = std::move(server->key);
  out.server_reissued = true;
  return out;
}

}  // namespace idra::pki
