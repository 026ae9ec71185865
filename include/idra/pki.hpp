// pki.hpp: the certificate authority core.
//
// Owners for OpenSSL handles, secrets that wipe themselves, key generation,
// passphrase-encrypted keys at rest, certificate issuance (root, issuing
// intermediate, leaf), the development PKI bootstrap and the server TLS
// context. EST, certificate profiles, CRL and OCSP build on these types.
//
// Ownership: every *Ptr owns exactly one reference to its handle. Functions
// that take `const X&` borrow it for the duration of the call; functions
// that take a *Ptr by value take ownership.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <iosfwd>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "idra/result.hpp"

namespace idra::pki {

// ---------------------------------------------------------------------------
// Owners for OpenSSL handles.

namespace detail {
// Free is the deleter for a handle released by calling |Fn|.
template <auto Fn>
struct Free {
  template <class T>
  void operator()(T* p) const noexcept {
    Fn(p);
  }
};
// X509StackFree releases a STACK_OF(X509) and the reference it holds on
// each certificate.
struct X509StackFree {
  void operator()(STACK_OF(X509) * stack) const noexcept { sk_X509_pop_free(stack, X509_free); }
};
}  // namespace detail

using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, detail::Free<&EVP_PKEY_free>>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, detail::Free<&EVP_PKEY_CTX_free>>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, detail::Free<&EVP_MD_CTX_free>>;
using X509Ptr = std::unique_ptr<X509, detail::Free<&X509_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, detail::Free<&X509_NAME_free>>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, detail::Free<&X509_EXTENSION_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, detail::Free<&X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, detail::Free<&X509_STORE_CTX_free>>;
using X509StackPtr = std::unique_ptr<STACK_OF(X509), detail::X509StackFree>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, detail::Free<&GENERAL_NAMES_free>>;
using GeneralNamePtr = std::unique_ptr<GENERAL_NAME, detail::Free<&GENERAL_NAME_free>>;
using Asn1IntegerPtr = std::unique_ptr<ASN1_INTEGER, detail::Free<&ASN1_INTEGER_free>>;
using Asn1OctetStringPtr =
    std::unique_ptr<ASN1_OCTET_STRING, detail::Free<&ASN1_OCTET_STRING_free>>;
using Asn1TimePtr = std::unique_ptr<ASN1_TIME, detail::Free<&ASN1_TIME_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, detail::Free<&BN_free>>;
using BioPtr = std::unique_ptr<BIO, detail::Free<&BIO_free_all>>;
using Pkcs8Ptr = std::unique_ptr<PKCS8_PRIV_KEY_INFO, detail::Free<&PKCS8_PRIV_KEY_INFO_free>>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, detail::Free<&SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, detail::Free<&SSL_free>>;

// up_ref returns a second owner of |x|.
X509Ptr up_ref(const X509& x);
EvpPkeyPtr up_ref(const EVP_PKEY& key);

// ---------------------------------------------------------------------------
// Secret is a byte string for passphrases, derived keys and decrypted private
// keys. It wipes its bytes (sodium_memzero) when destroyed or moved from,
// compares in constant time for equal lengths (sodium_memcmp), cannot be
// copied implicitly and has no stream output. Its size is fixed at
// construction so the buffer is never reallocated (a reallocation would leave
// an unwiped copy behind).
class Secret {
 public:
  Secret() noexcept = default;
  // Secret(size) holds |size| zero bytes, to be filled through data().
  explicit Secret(std::size_t size);
  ~Secret();
  Secret(Secret&& other) noexcept;
  Secret& operator=(Secret&& other) noexcept;
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;

  // copy_of returns a Secret holding a copy of |bytes|; the caller remains
  // responsible for wiping |bytes|.
  static Secret copy_of(std::string_view bytes);
  // random returns |size| bytes from the system CSPRNG (randombytes_buf).
  static Secret random(std::size_t size);

  // prefix returns a new Secret holding the first min(n, size()) bytes.
  Secret prefix(std::size_t n) const;

  unsigned char* data() noexcept { return bytes_.get(); }
  const unsigned char* data() const noexcept { return bytes_.get(); }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  // view borrows the bytes; do not copy it into a std::string that outlives
  // the call, since nothing would wipe the copy.
  std::string_view view() const noexcept {
    return {reinterpret_cast<const char*>(bytes_.get()), size_};
  }

  // Constant time over the contents; secrets of different lengths are
  // unequal (the length itself is not hidden).
  friend bool operator==(const Secret& a, const Secret& b) noexcept;
  friend std::ostream& operator<<(std::ostream&, const Secret&) = delete;

 private:
  void wipe() noexcept;
  std::unique_ptr<unsigned char[]> bytes_;
  std::size_t size_ = 0;
};

// PrintTo keeps GoogleTest from dumping a Secret's bytes in a failure message.
void PrintTo(const Secret& secret, std::ostream* os);

// ---------------------------------------------------------------------------
// Keys.

enum class KeyAlgorithm {
  kEcP256,   // ECDSA on P-256, SHA-256 signatures (the default)
  kEcP384,   // ECDSA on P-384, SHA-384 signatures
  kEd25519,  // Ed25519 (pure, no pre-hash)
  kRsa,      // RSA, PKCS#1 v1.5 SHA-256 signatures; modulus size given separately
};

inline constexpr int kMinRsaBits = 2048;
inline constexpr int kMaxRsaBits = 8192;
inline constexpr int kDefaultRsaBits = 3072;

std::string_view to_string(KeyAlgorithm algorithm);

// generate_key returns a fresh private key. |rsa_bits| is used only for
// kRsa and must lie in [kMinRsaBits, kMaxRsaBits]; Error otherwise or when
// OpenSSL fails.
Result<EvpPkeyPtr> generate_key(KeyAlgorithm algorithm = KeyAlgorithm::kEcP256,
                                int rsa_bits = kDefaultRsaBits);

// key_algorithm classifies |key|. Keys this CA does not issue for or sign
// with (RSA below kMinRsaBits, curves other than P-256/P-384, DSA, ...) are
// an Error naming the key type.
Result<KeyAlgorithm> key_algorithm(const EVP_PKEY& key);

// ---------------------------------------------------------------------------
// Keys at rest.
//
// Format of an encrypted key file (version 1):
//
//   -----BEGIN IDRA ENCRYPTED PRIVATE KEY-----
//   base64 of the payload, 64 columns
//   -----END IDRA ENCRYPTED PRIVATE KEY-----
//
//   payload  offset  size  field
//            0       1     version = 0x01
//            1       8     Argon2id opslimit, unsigned big-endian
//            9       8     Argon2id memlimit in bytes, unsigned big-endian
//            17      16    salt (crypto_pwhash_SALTBYTES)
//            33      24    nonce (crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
//            57      n+16  XChaCha20-Poly1305 ciphertext of the n-byte PKCS#8
//                          DER PrivateKeyInfo, followed by the 16-byte tag
//
// The 32-byte key is crypto_pwhash(passphrase, salt, opslimit, memlimit,
// crypto_pwhash_ALG_ARGON2ID13). The first 57 bytes (the header) are the
// associated data, so changing the version, the parameters, the salt or the
// nonce makes decryption fail just like changing the ciphertext. A fresh
// salt and nonce are drawn for every encryption.

struct KeyEncryptionParams {
  std::uint64_t opslimit = 2;                              // crypto_pwhash_OPSLIMIT_INTERACTIVE
  std::uint64_t memlimit_bytes = std::uint64_t{64} << 20;  // crypto_pwhash_MEMLIMIT_INTERACTIVE
  // minimum returns libsodium's smallest Argon2id cost: for tests only.
  static KeyEncryptionParams minimum();
};

// The bounds a key file's parameters must lie in: a damaged or hostile file
// cannot make us spend more than this on one derivation.
inline constexpr std::uint64_t kMaxKdfOpslimit = 32;
inline constexpr std::uint64_t kMaxKdfMemlimitBytes = std::uint64_t{1} << 30;

// encrypt_private_key returns the armoured file contents for |key|. Error if
// |params| lie outside libsodium's limits or ours, the passphrase is empty,
// or the key cannot be encoded as PKCS#8.
Result<std::string> encrypt_private_key(const EVP_PKEY& key, const Secret& passphrase,
                                        const KeyEncryptionParams& params = {});

// decrypt_private_key parses text written by encrypt_private_key. A missing
// or damaged armour, a truncated payload, an unknown version, implausible
// parameters, a wrong passphrase and a modified byte are Errors (the last two
// cannot be told apart: the authentication tag is all that checks either).
Result<EvpPkeyPtr> decrypt_private_key(std::string_view armoured, const Secret& passphrase);

enum class WriteMode {
  kCreateOnly,  // Error if the destination exists
  kReplace,     // atomically replace the destination if it exists
};

// write_file_atomic writes |contents| to |path| with exactly |mode|
// permissions: it writes a temporary file in the same directory (created with
// O_CREAT|O_EXCL and |mode|), fsyncs it, moves it into place (link() for
// kCreateOnly so an existing file is never clobbered, rename() for
// kReplace), and fsyncs the directory. On Error nothing is left behind.
Result<void> write_file_atomic(const std::filesystem::path& path, std::string_view contents,
                               unsigned mode, WriteMode write_mode = WriteMode::kCreateOnly);

// write_private_key encrypts |key| and writes it to |path| with mode 0600
// (see write_file_atomic).
Result<void> write_private_key(const std::filesystem::path& path, const EVP_PKEY& key,
                               const Secret& passphrase,
                               WriteMode write_mode = WriteMode::kCreateOnly,
                               const KeyEncryptionParams& params = {});

// load_private_key reads and decrypts |path|. Error if it is not a regular
// file, if group or others have any permission on it (the message gives the
// mode), or for any reason decrypt_private_key gives. A file that is not in
// idra's format is read as a standard PEM private key (an operator's own
// key): plain, or encrypted PKCS#8 under |passphrase|.
Result<EvpPkeyPtr> load_private_key(const std::filesystem::path& path, const Secret& passphrase);

// load_passphrase returns the passphrase that protects the node's keys, from
// the first of:
//   1. the environment variable IDRA_KEY_PASSPHRASE, if set and non-empty;
//   2. the file named by IDRA_KEY_PASSPHRASE_FILE, if that variable is set;
//   3. |data_dir|/secrets/key-passphrase, if it exists;
//   4. otherwise 32 random bytes, base64-encoded and written to
//      |data_dir|/secrets/key-passphrase (directory 0700, file 0600). This
//      is the development default: a passphrase stored next to the keys it
//      protects only guards against a copied key file, so production should
//      use 1 or 2 with a source outside the data directory.
// One trailing "\n" or "\r\n" is removed from file contents. Files must be
// regular, owner-only (mode & 077 == 0) and at most 4096 bytes; an empty
// passphrase is an Error. The passphrase is never logged or put in a message.
Result<Secret> load_passphrase(const std::filesystem::path& data_dir);

// ---------------------------------------------------------------------------
// Encodings.

std::string to_pem(const X509& certificate);
std::vector<unsigned char> to_der(const X509& certificate);
Result<X509Ptr> certificate_from_der(std::span<const unsigned char> der);
// certificates_from_pem returns every CERTIFICATE block of |pem| in order;
// Error if there is none or one is damaged.
Result<std::vector<X509Ptr>> certificates_from_pem(std::string_view pem);
// load_certificates reads |path| (at most 1 MiB) with certificates_from_pem.
Result<std::vector<X509Ptr>> load_certificates(const std::filesystem::path& path);

// sha256_fingerprint_hex returns the SHA-256 of the DER certificate as 64
// lowercase hex digits without separators.
std::string sha256_fingerprint_hex(const X509& certificate);

// serial_hex returns the certificate serial number as uppercase hex.
std::string serial_hex(const X509& certificate);

// ---------------------------------------------------------------------------
// Certificates.

// SubjectName is the distinguished name of a certificate we issue. Empty
// fields are left out; each field is UTF-8 and at most 64 characters.
struct SubjectName {
  std::string common_name;
  std::string organization;
  std::string organizational_unit;
};

struct SubjectAltNames {
  std::vector<std::string> dns_names;     // lowercase LDH names, "*." allowed as first label
  std::vector<std::string> ip_addresses;  // IPv4 dotted quad or IPv6 text
  std::vector<std::string> uris;          // absolute URIs (scheme required)
  std::vector<std::string> emails;        // rfc822Name: local@domain
  bool operator==(const SubjectAltNames&) const = default;
};

// subject_alt_names returns the SAN entries of |certificate| in certificate
// order, IP addresses in canonical text (inet_ntop); unknown name types are
// skipped.
SubjectAltNames subject_alt_names(const X509& certificate);

enum class LeafKind {
  kServer,  // extendedKeyUsage serverAuth; needs a DNS name or an IP address
  kClient,  // extendedKeyUsage clientAuth; needs at least one SAN
};

struct LeafRequest {
  LeafKind kind = LeafKind::kServer;
  SubjectName subject;
  SubjectAltNames names;
  std::chrono::seconds validity{std::chrono::hours{24 * 365}};
};

// How far before "now" a new certificate's notBefore is set, to tolerate
// clock skew between us and relying parties.
inline constexpr std::chrono::seconds kBackdate{std::chrono::minutes{5}};

// CertificateAuthority is a CA certificate with its private key, able to
// issue certificates. Serial numbers are 16 random bytes with the top bit
// clear and a non-zero first byte (a positive INTEGER encoded in exactly 16
// bytes). Signatures use SHA-256 for P-256 and RSA issuers, SHA-384 for
// P-384 and none (pure EdDSA) for Ed25519. notBefore is now - kBackdate;
// notAfter is now + validity, clipped to the issuer's notAfter.
class CertificateAuthority {
 public:
  // create_root returns a self-signed root CA for |key|: basicConstraints
  // critical CA:TRUE (no path length limit), keyUsage critical
  // keyCertSign+cRLSign, subjectKeyIdentifier, authorityKeyIdentifier.
  static Result<CertificateAuthority> create_root(EvpPkeyPtr key, const SubjectName& subject,
                                                  std::chrono::seconds validity);

  // open adopts an existing CA certificate and its private key. Error if the
  // key does not match the certificate, the certificate is not a CA with
  // keyCertSign, or the key algorithm is unsupported.
  static Result<CertificateAuthority> open(X509Ptr certificate, EvpPkeyPtr key);

  // issue_intermediate returns a CA for |key| signed by this one, with
  // basicConstraints critical CA:TRUE,pathlen:|path_length|. Error if this
  // CA's own path length forbids a subordinate CA.
  Result<CertificateAuthority> issue_intermediate(EvpPkeyPtr key, const SubjectName& subject,
                                                  std::chrono::seconds validity,
                                                  int path_length = 0) const;

  // issue_leaf returns an end-entity certificate for |subject_public_key|
  // (only its public half is used): basicConstraints critical CA:FALSE,
  // keyUsage critical digitalSignature (+keyEncipherment for RSA subject
  // keys), extendedKeyUsage by kind, SAN (critical if the subject is empty),
  // SKI, AKI. Every SAN entry is validated; Error names the first bad one.
  Result<X509Ptr> issue_leaf(const EVP_PKEY& subject_public_key, const LeafRequest& request) const;

  const X509& certificate() const noexcept { return *certificate_; }
  const EVP_PKEY& key() const noexcept { return *key_; }
  // release gives up the certificate and key.
  X509Ptr release_certificate() && { return std::move(certificate_); }
  EvpPkeyPtr release_key() && { return std::move(key_); }

 private:
  CertificateAuthority(X509Ptr certificate, EvpPkeyPtr key)
      : certificate_(std::move(certificate)), key_(std::move(key)) {}
  X509Ptr certificate_;
  EvpPkeyPtr key_;
};

// verify_chain checks |leaf| against the single trust anchor |root| through
// |intermediates| at the current time with OpenSSL's X509_V_FLAG_X509_STRICT
// (RFC 5280 profile checks). The Error names the verification failure and
// the depth at which it occurred.
Result<void> verify_chain(const X509& root, std::span<const X509* const> intermediates,
                          const X509& leaf);

// seconds_until_expiry returns notAfter - now (negative once expired).
std::chrono::seconds seconds_until_expiry(const X509& certificate);

// ---------------------------------------------------------------------------
// Development PKI and server TLS.

struct TlsPaths {
  std::filesystem::path ca_certificate;            // DATA/tls/ca.pem: the root, the trust anchor
  std::filesystem::path intermediate_certificate;  // DATA/tls/intermediate.pem
  std::filesystem::path server_certificate;        // DATA/tls/server.pem: leaf + intermediate
  std::filesystem::path root_key;                  // DATA/tls/root.key (encrypted, 0600)
  std::filesystem::path intermediate_key;          // DATA/tls/intermediate.key
  std::filesystem::path server_key;                // DATA/tls/server.key
};

struct TlsMaterial {
  std::vector<X509Ptr> chain;  // server certificate first, then the intermediate
  EvpPkeyPtr key;              // the server certificate's private key
  TlsPaths paths;
  bool created = false;          // this call created the root and intermediate CAs
  bool server_reissued = false;  // this call (re)issued the server certificate
};

// How close to expiry a development certificate is renewed.
inline constexpr std::chrono::seconds kDevRenewBefore{std::chrono::hours{24 * 30}};

// ensure_dev_pki makes |data_dir|/tls hold a development PKI and returns the
// server's TLS material. When none of its six files exist it creates the CA
// part with init_ca (the code `idra ca init` uses): a root CA (10 years) and
// an issuing intermediate (5 years), then a server certificate (1 year) for
// |dns_names| and |ip_addresses|, all P-256, keys encrypted with
// |passphrase|; if the server certificate cannot be issued (a bad name), the
// CA files this call made are removed again. Later calls load the files and
// need ca.pem, intermediate.pem and intermediate.key; root.key alone may be
// missing (an offline root, see export_root_key). They re-issue the
// intermediate (signed by the root, fresh key of the same algorithm) when it
// expires within kDevRenewBefore or does not chain to the root, which needs
// root.key; and re-issue the server certificate (new key, signed by the
// intermediate) when the intermediate was renewed, or when it is missing,
// does not match its key or chain, expires within kDevRenewBefore or names
// other than those requested. Error when the passphrase is wrong, a file is
// damaged or has group/other permissions, one of the three required CA
// files is missing (the message names them; delete the directory to start
// over), or the intermediate must be renewed but root.key is absent (the
// message says to copy the exported root key back) or the root expires
// within kDevRenewBefore.
Result<TlsMaterial> ensure_dev_pki(const std::filesystem::path& data_dir, const Secret& passphrase,
                                   const std::vector<std::string>& dns_names,
                                   const std::vector<std::string>& ip_addresses,
                                   const KeyEncryptionParams& params = {});

// The TLS 1.2 cipher suites the server offers, in preference order: ECDHE
// with AEAD only.
inline constexpr const char* kTls12CipherList =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
inline constexpr const char* kTls13CipherSuites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

// make_server_tls_context returns a server SSL_CTX presenting |chain| (leaf
// first) with |key|: TLS 1.2 minimum, the suites above, server cipher
// preference, session tickets on, no compression, no renegotiation, ALPN
// "http/1.1" selected when the client offers it (no ALPN otherwise). Error if
// the chain is empty, the key does not match the leaf, or OpenSSL refuses a
// setting.
Result<SslCtxPtr> make_server_tls_context(std::span<const X509Ptr> chain, const EVP_PKEY& key);
Result<SslCtxPtr> make_server_tls_context(const TlsMaterial& material);


// ===========================================================================
// Issue 3: profiles, CSRs, EST encodings, CRL, OCSP, CA files, client TLS.
// ===========================================================================

using X509ReqPtr = std::unique_ptr<X509_REQ, detail::Free<&X509_REQ_free>>;
using X509CrlPtr = std::unique_ptr<X509_CRL, detail::Free<&X509_CRL_free>>;

// ---------------------------------------------------------------------------
// Certificate profiles (pki/profiles/*.json; format in pki/profiles/README.md).

enum class SanRule { kForbidden, kOptional, kRequired };

struct Profile {
  std::string name;  // file stem: "device", "server", ...
  std::string role;  // the principal's role: device, server, partner, auditor, admin, ocsp
  std::chrono::seconds validity{std::chrono::hours{24 * 365}};
  std::vector<KeyAlgorithm> key_algorithms;  // subject keys accepted
  int min_rsa_bits = kMinRsaBits;
  std::vector<std::string> key_usage;           // "digitalSignature", "keyEncipherment", "keyAgreement"
  std::vector<std::string> extended_key_usage;  // "clientAuth", "serverAuth", "OCSPSigning", "emailProtection"
  // identifier_uri: the identity's identifier goes into a URI SAN (see
  // identifier_uri() below); |identifier| says whether an identity needs one.
  bool identifier_uri = false;
  SanRule identifier = SanRule::kOptional;
  SanRule dns = SanRule::kForbidden;
  SanRule ip = SanRule::kForbidden;
  SanRule email = SanRule::kForbidden;
  bool crl_distribution_point = true;  // add the CRL URL
  bool ocsp_url = true;                // add AIA id-ad-ocsp
  bool ocsp_no_check = false;          // id-pkix-ocsp-nocheck (the OCSP signer profile)
  bool enrollable = false;             // may be requested over EST
  bool operator==(const Profile&) const = default;
};

// parse_profile reads one profile's JSON. Unknown keys, unknown key types,
// usages or rules, a validity outside [1 hour, 20 years] and a profile with
// no key type are Errors naming the field; |name| is the profile's name.
Result<Profile> parse_profile(std::string_view json, std::string_view name);

// builtin_profiles returns the profiles shipped in pki/profiles/ (compiled
// in): device, server, partner, auditor, admin, ocsp.
std::vector<Profile> builtin_profiles();

// load_profiles returns the built-in profiles, each replaced by
// |dir|/<name>.json when that exists, plus any other <name>.json in |dir|.
// A missing |dir| gives the built-ins; a bad file is an Error naming it.
Result<std::vector<Profile>> load_profiles(const std::filesystem::path& dir);

// accepts_key says whether |profile| allows |key| as a subject key; the
// Error names the key type and the accepted ones.
Result<void> accepts_key(const Profile& profile, const EVP_PKEY& key);

// identifier_uri returns the URI form of a canonical handle in a device
// certificate: "hdl:" followed by the handle, every byte outside RFC 3986
// unreserved, sub-delims, ':', '@' and '/' percent-encoded (upper-case hex).
// identifier_from_uri is its inverse; nullopt for any other URI.
std::string identifier_uri(std::string_view canonical_handle);
std::optional<std::string> identifier_from_uri(std::string_view uri);

// Identity is what a certificate says about its subject; it comes from the
// registration record and the request of an administrator, never from a CSR.
struct Identity {
  std::string identifier;  // canonical handle, or empty
  SubjectName subject;     // common_name defaults to the identifier
  SubjectAltNames names;   // further SANs (dns, ip, email); URIs only from |identifier|
};

// Urls are the node's public URLs put into certificates.
struct IssueUrls {
  std::string crl;   // CRL distribution point, "http://127.0.0.1:8080/crl/intermediate.crl"
  std::string ocsp;  // AIA OCSP, "http://127.0.0.1:8080/ocsp"
};

// issue_certificate returns an end-entity certificate for |public_key|
// signed by |issuer| under |profile|: subject and SANs from |identity|,
// keyUsage/extendedKeyUsage/CRL DP/AIA/ocsp-nocheck from |profile|, validity
// clipped to the issuer's, 16-byte random serial. Error if the key type is
// not accepted, a SAN rule is broken (a required name missing, a forbidden
// one present) or a name is malformed.
Result<X509Ptr> issue_certificate(const CertificateAuthority& issuer, const EVP_PKEY& public_key,
                                  const Profile& profile, const Identity& identity,
                                  const IssueUrls& urls);

// ---------------------------------------------------------------------------
// Certificate signing requests.

inline constexpr std::size_t kMaxCsrBytes = 16 * 1024;

struct CsrInfo {
  X509ReqPtr request;
  EvpPkeyPtr public_key;
  KeyAlgorithm algorithm = KeyAlgorithm::kEcP256;
  int key_bits = 0;
  SubjectName subject;    // what the CSR asks for (never copied into a certificate)
  SubjectAltNames names;  // from the extensionRequest attribute, if any
  std::string challenge_password;  // RFC 2985 challengePassword, if any (tls-unique binding)
};

// parse_csr reads a DER PKCS#10 request of at most kMaxCsrBytes, verifies its
// self-signature (proof of possession) and classifies its key. Errors: too
// large, not DER PKCS#10, trailing bytes, bad signature, unsupported key.
Result<CsrInfo> parse_csr(std::span<const unsigned char> der);

// ---------------------------------------------------------------------------
// EST encodings (RFC 7030 with RFC 8951).

// decode_base64_body decodes a base64 body, ignoring spaces, tabs, CR and LF
// anywhere; at most |max_decoded| bytes out. Error on any other character,
// bad padding or an empty result.
Result<std::vector<unsigned char>> decode_base64_body(std::string_view body, std::size_t max_decoded);

// encode_base64_body returns base64 in lines of 64 characters ending in CRLF.
std::string encode_base64_body(std::span<const unsigned char> der);

// certs_only returns a degenerate CMS SignedData (no signers) holding
// |certificates| in order, DER (application/pkcs7-mime; smime-type=certs-only).
std::vector<unsigned char> certs_only(std::span<const X509* const> certificates);

// certificates_from_certs_only parses such a structure (for clients and tests).
Result<std::vector<X509Ptr>> certificates_from_certs_only(std::span<const unsigned char> der);

// csr_attributes returns the DER CsrAttrs (RFC 7030 section 4.5.2) for
// |profile|: the signature algorithm OID for its first key type and, for EC,
// id-ecPublicKey with the named curve; challengePassword when
// |want_challenge_password|.
std::vector<unsigned char> csr_attributes(const Profile& profile, bool want_challenge_password);

// ---------------------------------------------------------------------------
// CRL.

// RFC 5280 CRLReason codes, by their exact (case-sensitive) ASN.1 names:
// unspecified, keyCompromise,
// cACompromise, affiliationChanged, superseded, cessationOfOperation,
// privilegeWithdrawn, aACompromise (certificateHold and removeFromCRL are
// not used: revocation here is final).
// crl_reason_from_name returns nullopt for any other name;
// crl_reason_name returns "" for any other code.
std::optional<int> crl_reason_from_name(std::string_view name);
std::string_view crl_reason_name(int reason);

struct RevokedEntry {
  std::vector<unsigned char> serial;  // big-endian magnitude, as in the certificate
  std::int64_t revoked_at = 0;        // unix seconds
  int reason = 0;
};

// make_crl returns a DER X.509 v2 CRL signed by |issuer|: thisUpdate
// |now_unix|, nextUpdate now + |next_update_in|, cRLNumber |number|, AKI (the
// issuer's SKI), one entry per |revoked| in ascending serial order with its
// reason code (omitted for unspecified). Error if |next_update_in| is not
// positive, a serial is empty, zero, longer than 20 bytes or listed twice, a
// reason code is not one of the names above, the issuer certificate has no
// SKI, or signing fails.
Result<std::vector<unsigned char>> make_crl(const CertificateAuthority& issuer,
                                            std::span<const RevokedEntry> revoked,
                                            std::uint64_t number, std::int64_t now_unix,
                                            std::chrono::seconds next_update_in);

// ---------------------------------------------------------------------------
// OCSP (RFC 6960, RFC 5019).

enum class CertStatus { kGood, kRevoked, kUnknown };
struct StatusAnswer {
  CertStatus status = CertStatus::kUnknown;
  std::int64_t revoked_at = 0;
  int reason = 0;
};
// StatusLookup answers for a serial (big-endian magnitude) issued by the
// responder's issuer.
using StatusLookup = std::function<StatusAnswer(std::span<const unsigned char> serial)>;

struct OcspResponder {
  const X509* issuer = nullptr;        // the CA whose certificates we answer for
  const X509* signer = nullptr;        // delegated signer (EKU OCSPSigning), issued by |issuer|
  const EVP_PKEY* signer_key = nullptr;
  std::chrono::seconds validity{std::chrono::hours{1}};  // nextUpdate - thisUpdate
};

// The most CertIDs ocsp_respond answers in one request; more is a
// malformedRequest. Clients ask for one (RFC 5019 allows only one); the bound
// keeps a single request from costing many signatures' worth of lookups.
inline constexpr int kMaxOcspRequestCertIds = 32;

// ocsp_respond answers the DER OCSPRequest |request|: one SingleResponse per
// CertID (SHA-1 or SHA-256 hashes); a CertID for another issuer, or with
// another hash algorithm, is "unknown"; the response is signed by the
// delegated signer, includes the signer certificate, a responderID byKey, and
// echoes the nonce extension when present (none is added otherwise).
// thisUpdate is |now_unix|, nextUpdate |now_unix| + validity (left out if
// validity is not positive); producedAt is the signing time by the system
// clock (OpenSSL sets it). Request signatures are not checked. A request
// that is not exactly one DER OCSPRequest, or has no CertID or more than
// kMaxOcspRequestCertIds, gives a DER OCSPResponse with status
// malformedRequest; it never fails otherwise except when there is no signer,
// signing fails or |lookup| throws (internalError response). An issuer of
// nullptr answers "unknown" for everything.
std::vector<unsigned char> ocsp_respond(std::span<const unsigned char> request,
                                        const OcspResponder& responder, const StatusLookup& lookup,
                                        std::int64_t now_unix);

// ocsp_request_for builds a DER OCSPRequest (SHA-1 CertID) for |certificate|
// issued by |issuer|, with a nonce if |nonce| is non-empty (for stapling and
// tests). Only an OpenSSL allocation failure makes it throw (runtime_error).
std::vector<unsigned char> ocsp_request_for(const X509& certificate, const X509& issuer,
                                            std::span<const unsigned char> nonce = {});

// ---------------------------------------------------------------------------
// The CA's files under DATA/tls (see TlsPaths) and offline roots.

struct CaInitOptions {
  KeyAlgorithm algorithm = KeyAlgorithm::kEcP256;
  int rsa_bits = kDefaultRsaBits;
  SubjectName root_subject{"idra root CA", "idra", ""};
  SubjectName intermediate_subject{"idra issuing CA", "idra", ""};
  std::chrono::seconds root_validity{std::chrono::hours{24 * 365 * 10}};
  std::chrono::seconds intermediate_validity{std::chrono::hours{24 * 365 * 5}};
};

// init_ca creates the root and issuing intermediate in |data_dir|/tls
// (ca.pem, root.key, intermediate.pem, intermediate.key; keys encrypted with
// |passphrase|, mode 0600). Error if any of them exists already.
Result<void> init_ca(const std::filesystem::path& data_dir, const Secret& passphrase,
                     const CaInitOptions& options, const KeyEncryptionParams& params = {});

struct IssuingCa {
  X509Ptr root;                // the trust anchor
  CertificateAuthority issuer; // the intermediate with its key
  X509Ptr ocsp_signer;         // delegated OCSP signer issued by |issuer|
  EvpPkeyPtr ocsp_key;
};

// open_issuing_ca loads the intermediate (and the root certificate) from
// |data_dir|/tls and makes sure a delegated OCSP signer exists (ocsp.pem,
// ocsp.key; issued under |ocsp_profile| and renewed when it expires within
// kDevRenewBefore). The root key is not needed unless the intermediate must
// be renewed; with the root offline that is an Error saying so.
Result<IssuingCa> open_issuing_ca(const std::filesystem::path& data_dir, const Secret& passphrase,
                                  const Profile& ocsp_profile, const IssueUrls& urls,
                                  const KeyEncryptionParams& params = {});

// export_root_key copies the (encrypted) root key to |destination| (mode
// 0600, never overwriting) and, if |remove|, deletes it from the node.
Result<void> export_root_key(const std::filesystem::path& data_dir,
                             const std::filesystem::path& destination, bool remove);

// ---------------------------------------------------------------------------
// Client certificates on the server's TLS context.

struct ClientAuthConfig {
  // trust_anchors verify client certificates (idra's root, external CAs,
  // manufacturer IDevID anchors); untrusted are intermediates offered to the
  // verifier (idra's issuing CA).
  std::vector<X509Ptr> trust_anchors;
  std::vector<X509Ptr> untrusted;
  // is_revoked is asked for every client leaf that chains to an anchor,
  // during the handshake; true fails the handshake (alert certificate_revoked).
  std::function<bool(const X509& leaf)> is_revoked;
  // expired_leaf_grace lets a leaf in whose notAfter passed at most this long
  // ago (everything else about the chain must verify), so that a device can
  // still re-enroll with its lapsed certificate; 0 accepts no expired leaf.
  // The verify result is then X509_V_OK; the application must look at
  // notAfter itself and grant such a client nothing but re-enrollment.
  std::chrono::seconds expired_leaf_grace{0};
};

// enable_client_auth makes |ctx| request (not require) a client certificate
// and verify it against |config|; a client that sends none is anonymous. A
// certificate that does not verify (X509_V_FLAG_X509_STRICT, no partial
// chains, purpose sslclient) or is revoked fails the handshake; an
// is_revoked that throws counts as revoked. After a successful handshake with
// a certificate, SSL_get_verify_result is X509_V_OK and
// SSL_get0_verified_chain returns leaf..anchor. The client CA list names the
// anchors and the untrusted intermediates. Sessions: the server-side session
// cache is turned off and ticket resumption is refused for sessions with a
// client certificate (libssl would not restore the verified chain, nor check
// revocation again), so certificate clients always do a full handshake while
// anonymous ones resume from tickets; this installs the context's session
// ticket callback. |ctx| owns |config| (ex_data) until it is freed; calling
// this again replaces it, and must happen before |ctx| is used. Error if
// there is no anchor, a certificate is null, or OpenSSL fails.
Result<void> enable_client_auth(SSL_CTX& ctx, ClientAuthConfig config);

// enable_ocsp_stapling makes |ctx| staple the DER OCSP response |current()|
// returns (empty: nothing stapled) to handshakes that ask for status. It is
// called once per such handshake, on the handshake's thread; if it throws,
// nothing is stapled. |ctx| owns |current| until it is freed. Error if
// |current| is empty or OpenSSL fails.
Result<void> enable_ocsp_stapling(SSL_CTX& ctx, std::function<std::vector<unsigned char>()> current);

}  // namespace idra::pki
