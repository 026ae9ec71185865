// ca_files.cpp: the CA's files in DATA/tls (init_ca, open_issuing_ca) and
// taking the root key offline (export_root_key).
//
// The root key signs only intermediates. Once the intermediate exists the
// root key can live elsewhere (export_root_key with remove); it is read again
// only when the intermediate must be renewed.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "idra/pki.hpp"
#include "pki/internal.hpp"

namespace idra::pki {

namespace {

constexpr std::size_t kMaxKeyFileBytes = 64 * 1024;
const char* const kOcspCommonName = "idra OCSP responder";

struct CaPaths {
  std::filesystem::path root_certificate, root_key, intermediate_certificate, intermediate_key,
      ocsp_certificate, ocsp_key;
};

CaPaths ca_paths(const std::filesystem::path& data_dir) {
  const auto tls = data_dir / "tls";
  return CaPaths{tls / "ca.pem",           tls / "root.key", tls / "intermediate.pem",
                 tls / "intermediate.key", tls / "ocsp.pem", tls / "ocsp.key"};
}

TlsPaths tls_paths(const CaPaths& p) {
  TlsPaths out;
  out.ca_certificate = p.root_certificate;
  out.root_key = p.root_key;
  out.intermediate_certificate = p.intermediate_certificate;
  out.intermediate_key = p.intermediate_key;
  return out;
}

Result<X509Ptr> load_one_certificate(const std::filesystem::path& path) {
  auto certs = load_certificates(path);
  if (!certs) return make_error(path.string() + ": " + certs.error().message);
  if (certs->size() != 1) return make_error(path.string() + " must hold exactly one certificate");
  return std::move(certs->front());
}

// fresh_key_like returns a new key of |old|'s algorithm (and RSA size), for
// a CA key being replaced.
Result<EvpPkeyPtr> fresh_key_like(const EVP_PKEY& old) {
  auto alg = key_algorithm(old);
  if (!alg) return alg.error();
  return generate_key(*alg, *alg == KeyAlgorithm::kRsa ? EVP_PKEY_get_bits(&old) : kDefaultRsaBits);
}

bool has_ocsp_signing(const X509& cert) {
  X509* x = const_cast<X509*>(&cert);  // computes cached extension flags only
  return (X509_get_extension_flags(x) & EXFLAG_XKUSAGE) != 0 &&
         (X509_get_extended_key_usage(x) & XKU_OCSP_SIGN) != 0;
}

struct Signer {
  X509Ptr certificate;
  EvpPkeyPtr key;
};

// load_ocsp_signer returns the existing signer if it is still usable; an
// empty Signer when it must be re-issued; an Error when its key cannot be
// read (wrong passphrase, loose mode), which re-issuing would hide.
Result<Signer> load_ocsp_signer(const CaPaths& p, const X509& root, const X509& inter,
                                const Secret& passphrase) {
  Signer none;
  if (!internal::file_exists(p.ocsp_certificate) || !internal::file_exists(p.ocsp_key)) return none;
  auto key = load_private_key(p.ocsp_key, passphrase);
  if (!key) return key.error();
  auto certs = load_certificates(p.ocsp_certificate);
  if (!certs || certs->empty()) return none;
  X509Ptr& cert = certs->front();
  if (X509_check_private_key(cert.get(), key->get()) != 1) {
    internal::clear_openssl_errors();
    return none;
  }
  // Issued by this intermediate (not merely chaining to the root), still
  // valid for a while, and an OCSP signer.
  if (X509_check_issued(const_cast<X509*>(&inter), cert.get()) != X509_V_OK) return none;
  const X509* chain[] = {&inter};
  if (!verify_chain(root, chain, *cert)) return none;
  if (seconds_until_expiry(*cert) < kDevRenewBefore) return none;
  if (!has_ocsp_signing(*cert)) return none;
  return Signer{std::move(cert), std::move(*key)};
}

// remove_files deletes what a failed init_ca wrote (nothing else can have
// used it yet).
void remove_files(const std::vector<std::filesystem::path>& files) {
  for (const auto& f : files) {
    std::error_code ec;
    std::filesystem::remove(f, ec);
  }
}

}  // namespace

namespace internal {

bool file_exists(const std::filesystem::path& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

Result<bool> renew_intermediate_if_needed(const TlsPaths& paths, const X509& root,
                                          CertificateAuthority& inter, const Secret& passphrase,
                                          const KeyEncryptionParams& params,
                                          const std::optional<SubjectName>& subject,
                                          std::chrono::seconds validity) {
  const bool chains = verify_chain(root, {}, inter.certificate()).ok();
  const bool expiring = seconds_until_expiry(inter.certificate()) < kDevRenewBefore;
  if (chains && !expiring) return false;
  const std::string why = chains ? "expires within 30 days" : "does not chain to the root CA";
  if (!file_exists(paths.root_key)) {
    return make_error("the issuing CA " + paths.intermediate_certificate.string() + " " + why +
                      " and must be renewed, but the root key is offline (" +
                      paths.root_key.string() +
                      " is absent): copy the exported root key back to that path (mode 0600) "
                      "and start again; it can be exported again afterwards");
  }
  auto root_key = load_private_key(paths.root_key, passphrase);
  if (!root_key) return root_key.error();
  auto root_ca = CertificateAuthority::open(up_ref(root), std::move(*root_key));
  if (!root_ca) return make_error(paths.ca_certificate.string() + ": " + root_ca.error().message);
  if (seconds_until_expiry(root) < kDevRenewBefore) {
    return make_error("the root CA in " + paths.ca_certificate.string() +
                      " expires within 30 days, so the issuing CA cannot be renewed under it");
  }
  auto new_key = fresh_key_like(inter.key());
  if (!new_key) return new_key.error();
  const SubjectName name =
      subject ? *subject : subject_name_of(*X509_get_subject_name(&inter.certificate()));
  auto renewed = root_ca->issue_intermediate(std::move(*new_key), name, validity, 0);
  if (!renewed) return renewed.error();
  // The key first: if we stop in between, the old certificate no longer
  // matches the key and the next start reports it instead of using a CA
  // that cannot sign.
  const auto replace = WriteMode::kReplace;
  if (auto ok =
          write_private_key(paths.intermediate_key, renewed->key(), passphrase, replace, params);
      !ok) {
    return ok.error();
  }
  if (auto ok = write_file_atomic(paths.intermediate_certificate, to_pem(renewed->certificate()),
                                  0644, replace);
      !ok) {
    return ok.error();
  }
  inter = std::move(*renewed);
  return true;
}

}  // namespace internal

Result<void> init_ca(const std::filesystem::path& data_dir, const Secret& passphrase,
                     const CaInitOptions& options, const KeyEncryptionParams& params) {
  const CaPaths p = ca_paths(data_dir);
  if (auto ok = internal::ensure_private_directory(data_dir); !ok) return ok.error();
  if (auto ok = internal::ensure_private_directory(data_dir / "tls"); !ok) return ok.error();
  std::string present;
  for (const auto* f :
       {&p.root_certificate, &p.root_key, &p.intermediate_certificate, &p.intermediate_key}) {
    if (internal::file_exists(*f))
      present += (present.empty() ? "" : ", ") + f->filename().string();
  }
  if (!present.empty()) {
    return make_error("a CA already exists in " + (data_dir / "tls").string() + " (" + present +
                      "); refusing to overwrite it");
  }
  auto root_key = generate_key(options.algorithm, options.rsa_bits);
  if (!root_key) return root_key.error();
  auto root = CertificateAuthority::create_root(std::move(*root_key), options.root_subject,
                                                options.root_validity);
  if (!root) return make_error("root CA: " + root.error().message);
  auto inter_key = generate_key(options.algorithm, options.rsa_bits);
  if (!inter_key) return inter_key.error();
  auto inter = root->issue_intermediate(std::move(*inter_key), options.intermediate_subject,
                                        options.intermediate_validity, 0);
  if (!inter) return make_error("issuing CA: " + inter.error().message);

  // Keys before certificates. A failure part way removes what this call
  // wrote: nobody can trust a CA that init_ca did not finish.
  const auto create = WriteMode::kCreateOnly;
  std::vector<std::filesystem::path> written;
  auto write_all = [&]() -> Result<void> {
    if (auto ok = write_private_key(p.root_key, root->key(), passphrase, create, params); !ok) {
      return ok;
    }
    written.push_back(p.root_key);
    if (auto ok = write_file_atomic(p.root_certificate, to_pem(root->certificate()), 0644, create);
        !ok) {
      return ok;
    }
    written.push_back(p.root_certificate);
    if (auto ok = write_private_key(p.intermediate_key, inter->key(), passphrase, create, params);
        !ok) {
      return ok;
    }
    written.push_back(p.intermediate_key);
    return write_file_atomic(p.intermediate_certificate, to_pem(inter->certificate()), 0644,
                             create);
  };
  if (auto ok = write_all(); !ok) {
    remove_files(written);
    return ok.error();
  }
  return {};
}

Result<IssuingCa> open_issuing_ca(const std::filesystem::path& data_dir, const Secret& passphrase,
                                  const Profile& ocsp_profile, const IssueUrls& urls,
                                  const KeyEncryptionParams& params) {
  const CaPaths p = ca_paths(data_dir);
  std::string missing;
  for (const auto* f : {&p.root_certificate, &p.intermediate_certificate, &p.intermediate_key}) {
    if (!internal::file_exists(*f))
      missing += (missing.empty() ? "" : ", ") + f->filename().string();
  }
  if (!missing.empty()) {
    return make_error("no CA in " + (data_dir / "tls").string() + " (missing " + missing +
                      "); create one with init_ca (`idra ca init`)");
  }
  auto root = load_one_certificate(p.root_certificate);
  if (!root) return root.error();
  if (auto ok = verify_chain(**root, {}, **root); !ok) {
    return make_error(p.root_certificate.string() + ": " + ok.error().message);
  }
  auto inter_cert = load_one_certificate(p.intermediate_certificate);
  if (!inter_cert) return inter_cert.error();
  auto inter_key = load_private_key(p.intermediate_key, passphrase);
  if (!inter_key) return inter_key.error();
  auto inter = CertificateAuthority::open(std::move(*inter_cert), std::move(*inter_key));
  if (!inter) return make_error(p.intermediate_certificate.string() + ": " + inter.error().message);
  const CaInitOptions defaults;
  auto renewed =
      internal::renew_intermediate_if_needed(tls_paths(p), **root, *inter, passphrase, params,
                                             std::nullopt, defaults.intermediate_validity);
  if (!renewed) return renewed.error();

  auto signer = load_ocsp_signer(p, **root, inter->certificate(), passphrase);
  if (!signer) return signer.error();
  if (!signer->certificate) {
    if (std::find(ocsp_profile.extended_key_usage.begin(), ocsp_profile.extended_key_usage.end(),
                  "OCSPSigning") == ocsp_profile.extended_key_usage.end()) {
      return make_error("profile \"" + ocsp_profile.name +
                        "\" cannot issue the OCSP signer: it lacks extendedKeyUsage OCSPSigning");
    }
    if (ocsp_profile.key_algorithms.empty()) {
      return make_error("profile \"" + ocsp_profile.name + "\" accepts no key type");
    }
    const KeyAlgorithm alg = ocsp_profile.key_algorithms.front();
    auto key = generate_key(alg, std::max(ocsp_profile.min_rsa_bits, kDefaultRsaBits));
    if (!key) return key.error();
    Identity identity;
    identity.subject = SubjectName{kOcspCommonName, "", ""};
    const SubjectName inter_subject =
        internal::subject_name_of(*X509_get_subject_name(&inter->certificate()));
    identity.subject.organization = inter_subject.organization;
    auto cert = issue_certificate(*inter, **key, ocsp_profile, identity, urls);
    if (!cert) return make_error("OCSP signer: " + cert.error().message);
    const auto replace = WriteMode::kReplace;
    if (auto ok = write_private_key(p.ocsp_key, **key, passphrase, replace, params); !ok) {
      return ok.error();
    }
    if (auto ok = write_file_atomic(p.ocsp_certificate, to_pem(**cert), 0644, replace); !ok) {
      return ok.error();
    }
    signer = Signer{std::move(*cert), std::move(*key)};
  }
  return IssuingCa{std::move(*root), std::move(*inter), std::move(signer->certificate),
                   std::move(signer->key)};
}

Result<void> export_root_key(const std::filesystem::path& data_dir,
                             const std::filesystem::path& destination, bool remove) {
  const CaPaths p = ca_paths(data_dir);
  if (!internal::file_exists(p.root_key)) {
    return make_error("there is no root key at " + p.root_key.string() +
                      " (already exported and removed?)");
  }
  auto contents =
      internal::read_file(p.root_key, kMaxKeyFileBytes, internal::Access::kOwnerOnly, "root key");
  if (!contents) return contents.error();
  if (auto ok = write_file_atomic(destination, *contents, 0600, WriteMode::kCreateOnly); !ok) {
    return ok.error();
  }
  if (!remove) return {};
  // Read the copy back before deleting the only other one.
  auto copy = internal::read_file(destination, kMaxKeyFileBytes, internal::Access::kOwnerOnly,
                                  "exported root key");
  if (!copy || *copy != *contents) {
    return make_error("the exported root key at " + destination.string() +
                      " does not read back the same; the node's copy was kept");
  }
  if (::unlink(p.root_key.c_str()) != 0) {
    return internal::errno_error("cannot remove", p.root_key, errno);
  }
  // Make the removal durable like a write.
  internal::UniqueFd dir(
      ::open(p.root_key.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid() || ::fsync(dir.get()) != 0) {
    return internal::errno_error("cannot sync", p.root_key.parent_path(), errno);
  }
  return {};
}

}  // namespace idra::pki
