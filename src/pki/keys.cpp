// keys.cpp: key generation, classification and the encrypted key file.
#include <openssl/err.h>
#include <openssl/pem.h>
#include <sodium.h>
#include <strings.h>

#include <array>
#include <climits>
#include <cstring>
#include <stdexcept>

#include "idra/pki.hpp"
#include "pki/internal.hpp"

namespace idra::pki {

static_assert(KeyEncryptionParams{}.opslimit == crypto_pwhash_OPSLIMIT_INTERACTIVE);
static_assert(KeyEncryptionParams{}.memlimit_bytes == crypto_pwhash_MEMLIMIT_INTERACTIVE);

std::string_view to_string(KeyAlgorithm algorithm) {
  switch (algorithm) {
    case KeyAlgorithm::kEcP256:
      return "ECDSA P-256";
    case KeyAlgorithm::kEcP384:
      return "ECDSA P-384";
    case KeyAlgorithm::kEd25519:
      return "Ed25519";
    case KeyAlgorithm::kRsa:
      return "RSA";
  }
  return "unknown";
}

Result<EvpPkeyPtr> generate_key(KeyAlgorithm algorithm, int rsa_bits) {
  EvpPkeyPtr key;
  switch (algorithm) {
    case KeyAlgorithm::kEcP256:
      key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
      break;
    case KeyAlgorithm::kEcP384:
      key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
      break;
    case KeyAlgorithm::kEd25519:
      key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
      break;
    case KeyAlgorithm::kRsa:
      if (rsa_bits < kMinRsaBits || rsa_bits > kMaxRsaBits) {
        return make_error("RSA key size " + std::to_string(rsa_bits) + " is outside [" +
                          std::to_string(kMinRsaBits) + ", " + std::to_string(kMaxRsaBits) + "]");
      }
      key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(rsa_bits)));
      break;
    default:
      return make_error("unknown key algorithm");
  }
  if (!key)
    return internal::openssl_error("cannot generate a " + std::string(to_string(algorithm)) +
                                   " key");
  return key;
}

Result<KeyAlgorithm> key_algorithm(const EVP_PKEY& key) {
  if (EVP_PKEY_is_a(&key, "ED25519")) return KeyAlgorithm::kEd25519;
  if (EVP_PKEY_is_a(&key, "RSA")) {
    int bits = EVP_PKEY_get_bits(&key);
    if (bits < kMinRsaBits || bits > kMaxRsaBits) {
      return make_error("RSA keys of " + std::to_string(bits) + " bits are not accepted (" +
                        std::to_string(kMinRsaBits) + " to " + std::to_string(kMaxRsaBits) + ")");
    }
    return KeyAlgorithm::kRsa;
  }
  if (EVP_PKEY_is_a(&key, "EC")) {
    char group[64] = {};
    size_t len = 0;
    if (EVP_PKEY_get_group_name(&key, group, sizeof group, &len) != 1) {
      // Explicit curve parameters have no name; RFC 5480 forbids them.
      internal::clear_openssl_errors();
      return make_error("EC keys must use a named curve");
    }
    if (strcasecmp(group, "prime256v1") == 0 || strcasecmp(group, "P-256") == 0 ||
        strcasecmp(group, "secp256r1") == 0) {
      return KeyAlgorithm::kEcP256;
    }
    if (strcasecmp(group, "secp384r1") == 0 || strcasecmp(group, "P-384") == 0) {
      return KeyAlgorithm::kEcP384;
    }
    return make_error(std::string("EC curve ") + group + " is not accepted (P-256 or P-384)");
  }
  const char* type = EVP_PKEY_get0_type_name(&key);
  return make_error(std::string("key type ") + (type ? type : "unknown") + " is not accepted");
}

// ---------------------------------------------------------------------------
// Encrypted key file (format in pki.hpp).

namespace {

constexpr std::string_view kPemLabel = "IDRA ENCRYPTED PRIVATE KEY";
constexpr unsigned char kVersion = 1;
constexpr std::size_t kSaltBytes = crypto_pwhash_SALTBYTES;
constexpr std::size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr std::size_t kKeyBytes = crypto_aead_xchacha20poly1305_ietf_KEYBYTES;
constexpr std::size_t kHeaderBytes = 1 + 8 + 8 + kSaltBytes + kNonceBytes;
static_assert(kSaltBytes == 16 && kNonceBytes == 24 && kHeaderBytes == 57);
// No PKCS#8 key we produce is anywhere near this; it bounds what we decrypt.
constexpr std::size_t kMaxDerBytes = 64 * 1024;

void put_u64(unsigned char* out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<unsigned char>(v & 0xff);
    v >>= 8;
  }
}

std::uint64_t get_u64(const unsigned char* in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | in[i];
  return v;
}

Result<void> check_params(std::uint64_t opslimit, std::uint64_t memlimit, std::string_view what) {
  if (opslimit < crypto_pwhash_OPSLIMIT_MIN || opslimit > kMaxKdfOpslimit ||
      memlimit < crypto_pwhash_MEMLIMIT_MIN || memlimit > kMaxKdfMemlimitBytes ||
      memlimit > crypto_pwhash_MEMLIMIT_MAX) {
    return make_error(std::string(what) + ": Argon2id parameters out of range (opslimit " +
                      std::to_string(opslimit) + ", memlimit " + std::to_string(memlimit) +
                      " bytes; allowed opslimit " + std::to_string(crypto_pwhash_OPSLIMIT_MIN) +
                      ".." + std::to_string(kMaxKdfOpslimit) + ", memlimit " +
                      std::to_string(crypto_pwhash_MEMLIMIT_MIN) + ".." +
                      std::to_string(kMaxKdfMemlimitBytes) + ")");
  }
  return {};
}

Result<Secret> derive_key(const Secret& passphrase, const unsigned char* salt,
                          std::uint64_t opslimit, std::uint64_t memlimit) {
  Secret key(kKeyBytes);
  if (crypto_pwhash(key.data(), key.size(), reinterpret_cast<const char*>(passphrase.data()),
                    passphrase.size(), salt, opslimit, static_cast<size_t>(memlimit),
                    crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return make_error("key derivation failed: cannot allocate " + std::to_string(memlimit) +
                      " bytes for Argon2id");
  }
  return key;
}

// pkcs8_der returns the PKCS#8 PrivateKeyInfo DER of |key|, encoded straight
// into a Secret.
Result<Secret> pkcs8_der(const EVP_PKEY& key) {
  Pkcs8Ptr p8(EVP_PKEY2PKCS8(&key));
  if (!p8) return internal::openssl_error("cannot encode the private key as PKCS#8");
  int len = i2d_PKCS8_PRIV_KEY_INFO(p8.get(), nullptr);
  if (len <= 0) return internal::openssl_error("cannot encode the private key as PKCS#8");
  Secret der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  if (i2d_PKCS8_PRIV_KEY_INFO(p8.get(), &p) != len) {
    return internal::openssl_error("cannot encode the private key as PKCS#8");
  }
  return der;
}

}  // namespace

KeyEncryptionParams KeyEncryptionParams::minimum() {
  return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};
}

Result<std::string> encrypt_private_key(const EVP_PKEY& key, const Secret& passphrase,
                                        const KeyEncryptionParams& params) {
  internal::ensure_sodium();
  if (passphrase.empty()) return make_error("the key passphrase is empty");
  if (auto ok = check_params(params.opslimit, params.memlimit_bytes, "key encryption"); !ok) {
    return ok.error();
  }
  auto der = pkcs8_der(key);
  if (!der) return der.error();

  std::vector<unsigned char> payload(kHeaderBytes + der->size() + kTagBytes);
  unsigned char* header = payload.data();
  header[0] = kVersion;
  put_u64(header + 1, params.opslimit);
  put_u64(header + 9, params.memlimit_bytes);
  unsigned char* salt = header + 17;
  unsigned char* nonce = salt + kSaltBytes;
  randombytes_buf(salt, kSaltBytes);
  randombytes_buf(nonce, kNonceBytes);

  auto aead_key = derive_key(passphrase, salt, params.opslimit, params.memlimit_bytes);
  if (!aead_key) return aead_key.error();
  unsigned long long ciphertext_len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(payload.data() + kHeaderBytes, &ciphertext_len,
                                             der->data(), der->size(), header, kHeaderBytes,
                                             nullptr, nonce, aead_key->data());
  if (ciphertext_len != der->size() + kTagBytes) {
    throw std::logic_error("XChaCha20-Poly1305 produced an unexpected length");
  }

  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio(bio.get(), std::string(kPemLabel).c_str(), "", payload.data(),
                            static_cast<long>(payload.size())) <= 0) {
    return internal::openssl_error("cannot write PEM");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

Result<EvpPkeyPtr> decrypt_private_key(std::string_view armoured, const Secret& passphrase) {
  internal::ensure_sodium();
  const std::string begin = "-----BEGIN " + std::string(kPemLabel) + "-----";
  if (armoured.find(begin) == std::string_view::npos) {
    return make_error("not an idra encrypted private key (no \"" + begin + "\" line)");
  }
  if (armoured.size() > static_cast<std::size_t>(INT_MAX)) return make_error("key text too large");
  BioPtr bio(BIO_new_mem_buf(armoured.data(), static_cast<int>(armoured.size())));
  if (!bio) return internal::openssl_error("BIO_new_mem_buf");

  // PEM_read_bio returns the first block whatever its label; skip any other
  // block (there should be none) until ours.
  struct PemBlock {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;
    ~PemBlock() { reset(); }
    void reset() {
      OPENSSL_free(name);
      OPENSSL_free(header);
      OPENSSL_free(data);
      name = header = nullptr;
      data = nullptr;
      len = 0;
    }
  } block;
  for (;;) {
    block.reset();
    if (PEM_read_bio(bio.get(), &block.name, &block.header, &block.data, &block.len) != 1) {
      internal::clear_openssl_errors();
      return make_error(
          "the encrypted private key is truncated or its PEM armour is damaged (missing END "
          "line or bad base64)");
    }
    if (kPemLabel == block.name) break;
  }

  const std::size_t size = static_cast<std::size_t>(block.len);
  const unsigned char* payload = block.data;
  if (size < 1 || payload[0] != kVersion) {
    return make_error("unsupported encrypted private key version " +
                      (size < 1 ? std::string("(empty)") : std::to_string(payload[0])) +
                      " (this build reads version 1)");
  }
  if (size < kHeaderBytes + kTagBytes + 1) {
    return make_error("the encrypted private key is truncated (" + std::to_string(size) +
                      " payload bytes)");
  }
  const std::uint64_t opslimit = get_u64(payload + 1);
  const std::uint64_t memlimit = get_u64(payload + 9);
  if (auto ok = check_params(opslimit, memlimit, "encrypted private key"); !ok) return ok.error();
  const std::size_t ciphertext_len = size - kHeaderBytes;
  const std::size_t der_len = ciphertext_len - kTagBytes;
  if (der_len > kMaxDerBytes) return make_error("the encrypted private key is implausibly large");

  const unsigned char* salt = payload + 17;
  const unsigned char* nonce = salt + kSaltBytes;
  auto aead_key = derive_key(passphrase, salt, opslimit, memlimit);
  if (!aead_key) return aead_key.error();
  Secret der(der_len);
  unsigned long long out_len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(der.data(), &out_len, nullptr,
                                                 payload + kHeaderBytes, ciphertext_len, payload,
                                                 kHeaderBytes, nonce, aead_key->data()) != 0) {
    return make_error(
        "cannot decrypt the private key: wrong passphrase, or the key file was modified");
  }
  const unsigned char* p = der.data();
  Pkcs8Ptr p8(d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, static_cast<long>(der.size())));
  if (!p8 || p != der.data() + der.size()) {
    internal::clear_openssl_errors();
    return make_error("the decrypted private key is not valid PKCS#8");
  }
  EvpPkeyPtr key(EVP_PKCS82PKEY(p8.get()));
  if (!key) return internal::openssl_error("the decrypted PKCS#8 key is not usable");
  return key;
}

Result<void> write_private_key(const std::filesystem::path& path, const EVP_PKEY& key,
                               const Secret& passphrase, WriteMode write_mode,
                               const KeyEncryptionParams& params) {
  auto text = encrypt_private_key(key, passphrase, params);
  if (!text) return text.error();
  return write_file_atomic(path, *text, 0600, write_mode);
}

Result<EvpPkeyPtr> load_private_key(const std::filesystem::path& path, const Secret& passphrase) {
  auto text =
      internal::read_file(path, 256 * 1024, internal::Access::kOwnerOnly, "private key file");
  if (!text) return text.error();
  if (text->find("-----BEGIN IDRA ENCRYPTED PRIVATE KEY-----") == std::string::npos) {
    // A key brought by the operator (tls.key_file): standard PEM, either
    // plain or an encrypted PKCS#8 block under the node passphrase.
    BioPtr bio(BIO_new_mem_buf(text->data(), static_cast<int>(text->size())));
    if (!bio) return internal::openssl_error("cannot read " + path.string());
    auto callback = [](char* buf, int size, int, void* user) -> int {
      const auto* pass = static_cast<const Secret*>(user);
      if (pass->size() > static_cast<std::size_t>(size)) return -1;
      std::memcpy(buf, pass->data(), pass->size());
      return static_cast<int>(pass->size());
    };
    EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, callback, const_cast<Secret*>(&passphrase)));
    if (!key) {
      internal::clear_openssl_errors();
      return make_error(path.string() +
                        ": not a PEM private key (or an encrypted one the node passphrase does not open)");
    }
    return key;
  }
  auto key = decrypt_private_key(*text, passphrase);
  if (!key) return make_error(path.string() + ": " + key.error().message);
  return key;
}

}  // namespace idra::pki
