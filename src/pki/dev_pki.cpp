// dev_pki.cpp: the development PKI in DATA/tls.
//
// Files are written in dependency order (a key before its certificate, the
// server last), so an interrupted first run leaves an incomplete CA that the
// next run reports instead of silently replacing: a CA someone may already
// trust is never regenerated behind their back.
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

bool file_exists(const std::filesystem::path& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0;
}

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
  const std::filesystem::path* all_files[] = {&p.ca_certificate,           &p.root_key,
                                              &p.intermediate_certificate, &p.intermediate_key,
                                              &p.server_certificate,       &p.server_key};
  const bool none = std::none_of(std::begin(all_files), std::end(all_files),
                                 [](const auto* f) { return file_exists(*f); });

  if (none) {
    auto root_key = generate_key(KeyAlgorithm::kEcP256);
    if (!root_key) return root_key.error();
    auto root =
        CertificateAuthority::create_root(std::move(*root_key), kRootSubject, kRootValidity);
    if (!root) return root.error();
    auto inter_key = generate_key(KeyAlgorithm::kEcP256);
    if (!inter_key) return inter_key.error();
    auto inter = root->issue_intermediate(std::move(*inter_key), kIntermediateSubject,
                                          kIntermediateValidity, 0);
    if (!inter) return inter.error();
    // Everything is issued before anything is written, so a bad name
    // leaves the directory empty rather than half populated.
    auto server = make_server(*inter, dns_names, ip_addresses);
    if (!server) return server.error();
    const auto create = WriteMode::kCreateOnly;
    if (auto ok = write_private_key(p.root_key, root->key(), passphrase, create, params); !ok) {
      return ok.error();
    }
    if (auto ok = write_certificates(p.ca_certificate, {&root->certificate()}, create); !ok) {
      return ok.error();
    }
    if (auto ok = write_private_key(p.intermediate_key, inter->key(), passphrase, create, params);
        !ok) {
      return ok.error();
    }
    if (auto ok = write_certificates(p.intermediate_certificate, {&inter->certificate()}, create);
        !ok) {
      return ok.error();
    }
    if (auto ok = write_server(*server, p, passphrase, params, create); !ok) return ok.error();
    out.chain = std::move(server->chain);
    out.key = std::move(server->key);
    out.created = true;
    out.server_reissued = true;
    return out;
  }

  std::string missing;
  for (const auto* f : ca_files) {
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
  auto inter_certs = load_certificates(p.intermediate_certificate);
  if (!inter_certs) return inter_certs.error();
  if (inter_certs->size() != 1) {
    return make_error(p.intermediate_certificate.string() + " must hold exactly one certificate");
  }
  auto inter_key = load_private_key(p.intermediate_key, passphrase);
  if (!inter_key) return inter_key.error();
  auto inter = CertificateAuthority::open(std::move(inter_certs->front()), std::move(*inter_key));
  if (!inter) return make_error(p.intermediate_certificate.string() + ": " + inter.error().message);

  // An intermediate close to expiry (or no longer chaining to the root, for
  // which a re-issue is the only repair) is replaced, signed by the root.
  bool force_server = false;
  const bool inter_ok = verify_chain(root, {}, inter->certificate()).ok();
  if (!inter_ok || seconds_until_expiry(inter->certificate()) < kDevRenewBefore) {
    auto root_key = load_private_key(p.root_key, passphrase);
    if (!root_key) return root_key.error();
    auto root_ca = CertificateAuthority::open(up_ref(root), std::move(*root_key));
    if (!root_ca) return make_error(p.ca_certificate.string() + ": " + root_ca.error().message);
    if (seconds_until_expiry(root) < kDevRenewBefore) {
      return make_error("the development root CA in " + p.ca_certificate.string() +
                        " expires within 30 days; remove " + tls.string() +
                        " to create a new development PKI");
    }
    auto new_key = generate_key(KeyAlgorithm::kEcP256);
    if (!new_key) return new_key.error();
    auto renewed = root_ca->issue_intermediate(std::move(*new_key), kIntermediateSubject,
                                               kIntermediateValidity, 0);
    if (!renewed) return renewed.error();
    const auto replace = WriteMode::kReplace;
    if (auto ok =
            write_private_key(p.intermediate_key, renewed->key(), passphrase, replace, params);
        !ok) {
      return ok.error();
    }
    if (auto ok =
            write_certificates(p.intermediate_certificate, {&renewed->certificate()}, replace);
        !ok) {
      return ok.error();
    }
    inter = std::move(renewed);
    force_server = true;
  }

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
