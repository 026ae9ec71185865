// internal.hpp: helpers shared by the files of the pki module; not part of
// its interface.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "idra/pki.hpp"
#include "idra/result.hpp"

namespace idra::pki::internal {

// openssl_error drains this thread's OpenSSL error queue and returns an Error
// "|what|: <OpenSSL reasons>". Draining matters: a stale entry would
// otherwise be blamed on the next, unrelated call.
Error openssl_error(std::string_view what);

// clear_openssl_errors drops queued OpenSSL errors after an expected failure.
void clear_openssl_errors();

// ensure_sodium initialises libsodium once; a failure is a broken
// environment and throws std::runtime_error.
void ensure_sodium();

// UniqueFd owns a file descriptor.
class UniqueFd {
 public:
  UniqueFd() noexcept = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  ~UniqueFd();
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  // close reports the result of close(2), which matters after writing.
  int close() noexcept;

 private:
  int fd_ = -1;
};

enum class Access {
  kAny,        // certificates and other public files
  kOwnerOnly,  // keys and passphrases: refuse if group or others have any permission
};

// mode_string formats permission bits as four octal digits ("0644").
std::string mode_string(mode_t mode);

// read_file returns the contents of the regular file |path| (no symlink
// following for the last component), at most |max_bytes|. |what| names the
// file in messages ("private key file"). With Access::kOwnerOnly, a file that
// grants group or others any permission is an Error naming its mode.
Result<std::string> read_file(const std::filesystem::path& path, std::size_t max_bytes,
                              Access access, std::string_view what);

// read_secret_file is read_file for secrets: the bytes go straight into a
// Secret and never through an unwiped buffer. Always Access::kOwnerOnly.
Result<Secret> read_secret_file(const std::filesystem::path& path, std::size_t max_bytes,
                                std::string_view what);

// ensure_private_directory creates |dir| with mode 0700 if it does not exist
// (parents must exist); Error if it exists and is not a directory.
Result<void> ensure_private_directory(const std::filesystem::path& dir);

// errno_message returns "|what| |path|: strerror(errno)".
Error errno_error(std::string_view what, const std::filesystem::path& path, int err);

// ---------------------------------------------------------------------------
// Certificate building blocks shared by CertificateAuthority (ca.cpp) and
// issue_certificate (issue.cpp); defined in issue.cpp, except signing_digest
// (ca.cpp).

// build_subject_name returns |subject| as an X509_NAME (O, OU, CN; empty
// fields left out); Error for a control character or a field that is not
// UTF-8 of 1 to 64 characters.
Result<X509NamePtr> build_subject_name(const SubjectName& subject);

// build_general_names validates every entry of |names| (DNS names are
// lowercased, e-mail domains too) and returns them as GENERAL_NAMES; the
// Error names the first bad entry.
Result<GeneralNamesPtr> build_general_names(const SubjectAltNames& names);

// check_uri accepts an absolute URI of printable ASCII, at most 2048 bytes.
Result<void> check_uri(const std::string& uri);

// start_certificate returns an unsigned v3 certificate with a random 16-byte
// serial, |subject|, |public_key| and validity now - kBackdate to now +
// |validity| (1 second to 50 years) clipped to |issuer|'s notAfter; Error if
// |issuer| has expired. |issuer| is nullptr for a self-signed certificate
// (issuer name = |subject|, no clipping).
Result<X509Ptr> start_certificate(const X509_NAME& subject, const EVP_PKEY& public_key,
                                  std::chrono::seconds validity, const X509* issuer);

// add_fixed_extension adds an extension from an OpenSSL v3 configuration
// string. |value| must never contain caller input.
Result<void> add_fixed_extension(X509* cert, X509* issuer, int nid, const char* value);

// signing_digest returns the digest for signatures (certificates, CRLs, OCSP
// responses) by the CA key |key|: SHA-256 for P-256 and RSA, SHA-384 for
// P-384, nullptr for Ed25519 (pure EdDSA hashes internally).
Result<const EVP_MD*> signing_digest(const EVP_PKEY& key);

// sign_certificate signs |cert| with |key| using signing_digest(|key|).
Result<void> sign_certificate(X509* cert, const EVP_PKEY& key);

// subject_name_of reads CN, O and OU (the first of each) from |name| as UTF-8.
SubjectName subject_name_of(const X509_NAME& name);

// alt_names_of converts GENERAL_NAMES like subject_alt_names does.
SubjectAltNames alt_names_of(const GENERAL_NAMES& names);

// BuiltinProfileSource is one pki/profiles/<name>.json compiled into the
// binary (the file is generated by src/pki/CMakeLists.txt).
struct BuiltinProfileSource {
  std::string_view name;
  std::string_view json;
};
std::span<const BuiltinProfileSource> builtin_profile_sources();

// ---------------------------------------------------------------------------
// The CA files shared by init_ca, open_issuing_ca and ensure_dev_pki.

// renew_intermediate_if_needed replaces |inter| (and the files |paths|
// name) by a new intermediate signed by the root when |inter| does not chain
// to |root| or expires within kDevRenewBefore; the new one has |subject| (the
// current intermediate's when nullopt) and |validity|, and a fresh key of the
// current key's algorithm. The root key is read only then: when it is absent
// (an offline root) the Error says so and how to bring it back. Returns
// whether it renewed.
Result<bool> renew_intermediate_if_needed(const TlsPaths& paths, const X509& root,
                                          CertificateAuthority& inter, const Secret& passphrase,
                                          const KeyEncryptionParams& params,
                                          const std::optional<SubjectName>& subject,
                                          std::chrono::seconds validity);

// file_exists says whether |path| exists (lstat: a dangling link counts).
bool file_exists(const std::filesystem::path& path);

}  // namespace idra::pki::internal
