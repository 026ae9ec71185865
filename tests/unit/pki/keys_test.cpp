// Key generation, the encrypted key file, atomic writes and the passphrase.
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <string>

#include "idra/pki.hpp"
#include "unit/pki/test_util.hpp"

namespace idra::pki {
namespace {

using namespace test;  // the helpers of test_util.hpp

constexpr std::string_view kBegin = "-----BEGIN IDRA ENCRYPTED PRIVATE KEY-----\n";

Secret pass(std::string_view s) { return Secret::copy_of(s); }

// payload_of decodes the base64 body of an encrypted key file.
std::string payload_of(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long len = 0;
  if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) return {};
  std::string out(reinterpret_cast<char*>(data), static_cast<std::size_t>(len));
  OPENSSL_free(name);
  OPENSSL_free(header);
  OPENSSL_free(data);
  return out;
}

std::string armour(const std::string& payload) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio(bio.get(), "IDRA ENCRYPTED PRIVATE KEY", "",
                reinterpret_cast<const unsigned char*>(payload.data()),
                static_cast<long>(payload.size()));
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

// ---------------------------------------------------------------------------

struct AlgCase {
  KeyAlgorithm alg;
  int rsa_bits;
  const char* type;
  int bits;
  friend void PrintTo(const AlgCase& c, std::ostream* os) { *os << c.type << c.bits; }
};

class PkiKeyGen : public testing::TestWithParam<AlgCase> {};

TEST_P(PkiKeyGen, GeneratesAndClassifies) {
  const AlgCase& c = GetParam();
  auto key = generate_key(c.alg, c.rsa_bits);
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_TRUE(EVP_PKEY_is_a(key->get(), c.type));
  EXPECT_EQ(EVP_PKEY_get_bits(key->get()), c.bits);
  auto alg = key_algorithm(**key);
  ASSERT_TRUE(alg) << alg.error().message;
  EXPECT_EQ(*alg, c.alg);
}

TEST_P(PkiKeyGen, EncryptDecryptRoundTrip) {
  const AlgCase& c = GetParam();
  EvpPkeyPtr key = make_key(c.alg, c.rsa_bits);
  auto text = encrypt_private_key(*key, pass("correct horse"), kFast);
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_EQ(text->rfind(kBegin, 0), 0u);
  auto back = decrypt_private_key(*text, pass("correct horse"));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(EVP_PKEY_eq(key.get(), back->get()), 1);  // public halves match
  // And the private half: both sign-verify with each other.
  EXPECT_EQ(EVP_PKEY_get_bits(back->get()), c.bits);
}

INSTANTIATE_TEST_SUITE_P(Algorithms, PkiKeyGen,
                         testing::Values(AlgCase{KeyAlgorithm::kEcP256, 0, "EC", 256},
                                         AlgCase{KeyAlgorithm::kEcP384, 0, "EC", 384},
                                         AlgCase{KeyAlgorithm::kEd25519, 0, "ED25519", 256},
                                         AlgCase{KeyAlgorithm::kRsa, 2048, "RSA", 2048},
                                         AlgCase{KeyAlgorithm::kRsa, 3072, "RSA", 3072}),
                         [](const testing::TestParamInfo<AlgCase>& info) {
                           return std::string(info.param.type) + std::to_string(info.param.bits);
                         });

TEST(PkiKeys, DefaultIsP256) {
  auto key = generate_key();
  ASSERT_TRUE(key);
  EXPECT_EQ(*key_algorithm(**key), KeyAlgorithm::kEcP256);
}

TEST(PkiKeys, RejectsSmallRsa) {
  auto key = generate_key(KeyAlgorithm::kRsa, 1024);
  ASSERT_FALSE(key);
  EXPECT_NE(key.error().message.find("1024"), std::string::npos);
}

TEST(PkiKeys, ClassifierRejectsUnsupportedKeys) {
  EvpPkeyPtr k256(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "secp256k1"));
  ASSERT_TRUE(k256);
  auto alg = key_algorithm(*k256);
  ASSERT_FALSE(alg);
  EXPECT_NE(alg.error().message.find("secp256k1"), std::string::npos) << alg.error().message;
  EvpPkeyPtr rsa1024(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(1024)));
  ASSERT_TRUE(rsa1024);
  EXPECT_FALSE(key_algorithm(*rsa1024));
  EvpPkeyPtr x25519(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
  ASSERT_TRUE(x25519);
  EXPECT_FALSE(key_algorithm(*x25519));
}

// ---------------------------------------------------------------------------
// The encrypted key format.

TEST(PkiKeyFile, PayloadLayoutMatchesTheDocumentedFormat) {
  EvpPkeyPtr key = make_key();
  KeyEncryptionParams params{3, std::uint64_t{16} << 20};
  auto text = encrypt_private_key(*key, pass("pw"), params);
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_NE(text->find("-----END IDRA ENCRYPTED PRIVATE KEY-----"), std::string::npos);
  std::string payload = payload_of(*text);
  ASSERT_GT(payload.size(), 57u + 16u);
  EXPECT_EQ(payload[0], 1);
  std::string ops = payload.substr(1, 8);
  std::string mem = payload.substr(9, 8);
  EXPECT_EQ(ops, std::string("\0\0\0\0\0\0\0\3", 8));
  EXPECT_EQ(mem, std::string("\0\0\0\0\1\0\0\0", 8));
  // Salt and nonce are fresh per encryption.
  auto again = encrypt_private_key(*key, pass("pw"), params);
  ASSERT_TRUE(again);
  std::string payload2 = payload_of(*again);
  EXPECT_NE(payload.substr(17, 16), payload2.substr(17, 16));
  EXPECT_NE(payload.substr(33, 24), payload2.substr(33, 24));
}

TEST(PkiKeyFile, DefaultParamsAreInteractive) {
  EvpPkeyPtr key = make_key();
  auto text = encrypt_private_key(*key, pass("pw"));
  ASSERT_TRUE(text);
  std::string payload = payload_of(*text);
  EXPECT_EQ(payload.substr(1, 8), std::string("\0\0\0\0\0\0\0\2", 8));
  EXPECT_EQ(payload.substr(9, 8), std::string("\0\0\0\0\4\0\0\0", 8));  // 64 MiB
  EXPECT_TRUE(decrypt_private_key(*text, pass("pw")));
}

TEST(PkiKeyFile, WrongPassphrase) {
  EvpPkeyPtr key = make_key();
  auto text = encrypt_private_key(*key, pass("right"), kFast);
  ASSERT_TRUE(text);
  auto back = decrypt_private_key(*text, pass("wrong"));
  ASSERT_FALSE(back);
  EXPECT_NE(back.error().message.find("wrong passphrase"), std::string::npos)
      << back.error().message;
}

TEST(PkiKeyFile, EmptyPassphraseIsRefused) {
  EvpPkeyPtr key = make_key();
  auto text = encrypt_private_key(*key, Secret(), kFast);
  ASSERT_FALSE(text);
  EXPECT_NE(text.error().message.find("empty"), std::string::npos);
}

TEST(PkiKeyFile, EveryTamperedPayloadByteIsDetected) {
  EvpPkeyPtr key = make_key();
  auto text = encrypt_private_key(*key, pass("pw"), kFast);
  ASSERT_TRUE(text);
  const std::string payload = payload_of(*text);
  // Version, each parameter, salt, nonce, ciphertext start/middle, tag end.
  for (std::size_t pos :
       {std::size_t{0}, std::size_t{8}, std::size_t{16}, std::size_t{20}, std::size_t{40},
        std::size_t{57}, payload.size() / 2 + 20, payload.size() - 1}) {
    std::string bad = payload;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x01);
    auto back = decrypt_private_key(armour(bad), pass("pw"));
    EXPECT_FALSE(back) << "flipping payload byte " << pos << " went unnoticed";
  }
  // A flipped ciphertext bit is reported as such.
  std::string bad = payload;
  bad[60] = static_cast<char>(bad[60] ^ 0x80);
  auto back = decrypt_private_key(armour(bad), pass("pw"));
  ASSERT_FALSE(back);
  EXPECT_NE(back.error().message.find("modified"), std::string::npos) << back.error().message;
}

TEST(PkiKeyFile, TamperedTextCharacterIsDetected) {
  EvpPkeyPtr key = make_key();
  auto text = encrypt_private_key(*key, pass("pw"), kFast);
  ASSERT_TRUE(text);
  std::string bad = *text;
  std::size_t pos = kBegin.size() + 70;  // inside the base64 body
  bad[pos] = bad[pos] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(decrypt_private_key(bad, pass("pw")));
}

TEST(PkiKeyFile, TruncationIsAnErrorAtEveryLength) {
  EvpPkeyPtr key = make_key();
  auto text = encrypt_private_key(*key, pass("pw"), kFast);
  ASSERT_TRUE(text);
  for (std::size_t len = 0; len < text->size(); len += 7) {
    auto back = decrypt_private_key(text->substr(0, len), pass("pw"));
    EXPECT_FALSE(back) << "accepted a file cut at " << len << " of " << text->size();
  }
  // A well-formed armour around a cut payload says "truncated".
  std::string payload = payload_of(*text);
  auto back = decrypt_private_key(armour(payload.substr(0, 60)), pass("pw"));
  ASSERT_FALSE(back);
  EXPECT_NE(back.error().message.find("truncated"), std::string::npos) << back.error().message;
  auto cut = decrypt_private_key(text->substr(0, text->size() / 2), pass("pw"));
  ASSERT_FALSE(cut);
  EXPECT_NE(cut.error().message.find("truncated"), std::string::npos) << cut.error().message;
}

TEST(PkiKeyFile, HostileParametersAreRejectedBeforeDerivation) {
  EvpPkeyPtr key = make_key();
  auto text = encrypt_private_key(*key, pass("pw"), kFast);
  ASSERT_TRUE(text);
  std::string payload = payload_of(*text);
  for (int i = 9; i < 17; ++i) payload[static_cast<std::size_t>(i)] = '\xff';  // memlimit ~ 2^64
  auto back = decrypt_private_key(armour(payload), pass("pw"));
  ASSERT_FALSE(back);
  EXPECT_NE(back.error().message.find("out of range"), std::string::npos) << back.error().message;
  EXPECT_FALSE(encrypt_private_key(*key, pass("pw"), {2, std::uint64_t{4} << 30}));
  EXPECT_FALSE(encrypt_private_key(*key, pass("pw"), {0, std::uint64_t{64} << 20}));
}

TEST(PkiKeyFile, OtherPemIsNotAKeyFile) {
  auto back = decrypt_private_key("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
                                  pass("pw"));
  ASSERT_FALSE(back);
  EXPECT_NE(back.error().message.find("not an idra encrypted private key"), std::string::npos);
}

TEST(PkiKeyFile, UnknownVersionIsNamed) {
  EvpPkeyPtr key = make_key();
  auto text = encrypt_private_key(*key, pass("pw"), kFast);
  std::string payload = payload_of(*text);
  payload[0] = 2;
  auto back = decrypt_private_key(armour(payload), pass("pw"));
  ASSERT_FALSE(back);
  EXPECT_NE(back.error().message.find("version 2"), std::string::npos) << back.error().message;
}

// ---------------------------------------------------------------------------
// Key files on disk.

TEST(PkiKeyFile, WriteCreatesMode0600AndLoads) {
  TempDir dir;
  const mode_t old_umask = ::umask(0);  // the file must be 0600 whatever the umask
  EvpPkeyPtr key = make_key(KeyAlgorithm::kEd25519);
  auto ok = write_private_key(dir / "k.key", *key, pass("pw"), WriteMode::kCreateOnly, kFast);
  ::umask(old_umask);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(file_mode(dir / "k.key"), 0600u);
  auto back = load_private_key(dir / "k.key", pass("pw"));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(EVP_PKEY_eq(key.get(), back->get()), 1);
  // Nothing but the key is left in the directory (no temp files).
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(PkiKeyFile, LoadRefusesGroupOrOtherAccess) {
  TempDir dir;
  EvpPkeyPtr key = make_key();
  ASSERT_TRUE(write_private_key(dir / "k.key", *key, pass("pw"), WriteMode::kCreateOnly, kFast));
  for (mode_t mode : {0644, 0640, 0604, 0660, 0700}) {
    ASSERT_EQ(::chmod((dir / "k.key").c_str(), mode), 0);
    auto back = load_private_key(dir / "k.key", pass("pw"));
    if (mode == 0700) {
      EXPECT_TRUE(back) << "owner-only modes are fine";
      continue;
    }
    ASSERT_FALSE(back) << std::oct << mode;
    char want[8];
    std::snprintf(want, sizeof want, "%04o", static_cast<unsigned>(mode));
    EXPECT_NE(back.error().message.find(std::string("mode ") + want), std::string::npos)
        << back.error().message;
  }
  ASSERT_EQ(::chmod((dir / "k.key").c_str(), 0400), 0);
  EXPECT_TRUE(load_private_key(dir / "k.key", pass("pw")));
}

TEST(PkiKeyFile, LoadRefusesSymlinksAndMissingFiles) {
  TempDir dir;
  EvpPkeyPtr key = make_key();
  ASSERT_TRUE(write_private_key(dir / "k.key", *key, pass("pw"), WriteMode::kCreateOnly, kFast));
  std::filesystem::create_symlink(dir / "k.key", dir / "link.key");
  auto back = load_private_key(dir / "link.key", pass("pw"));
  ASSERT_FALSE(back);
  EXPECT_NE(back.error().message.find("symbolic link"), std::string::npos);
  EXPECT_FALSE(load_private_key(dir / "missing.key", pass("pw")));
}

TEST(PkiKeyFile, TruncatedFileOnDisk) {
  TempDir dir;
  EvpPkeyPtr key = make_key();
  ASSERT_TRUE(write_private_key(dir / "k.key", *key, pass("pw"), WriteMode::kCreateOnly, kFast));
  std::string text = read_text(dir / "k.key");
  std::filesystem::resize_file(dir / "k.key", text.size() - 40);
  auto back = load_private_key(dir / "k.key", pass("pw"));
  ASSERT_FALSE(back);
  EXPECT_NE(back.error().message.find("truncated"), std::string::npos) << back.error().message;
  EXPECT_NE(back.error().message.find("k.key"), std::string::npos);
}

TEST(PkiKeyFile, WriteRefusesToOverwriteUnlessAsked) {
  TempDir dir;
  EvpPkeyPtr first = make_key();
  EvpPkeyPtr second = make_key();
  ASSERT_TRUE(write_private_key(dir / "k.key", *first, pass("pw"), WriteMode::kCreateOnly, kFast));
  const std::string before = read_text(dir / "k.key");
  auto again = write_private_key(dir / "k.key", *second, pass("pw"), WriteMode::kCreateOnly, kFast);
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("already exists"), std::string::npos);
  EXPECT_EQ(read_text(dir / "k.key"), before);
  ASSERT_TRUE(write_private_key(dir / "k.key", *second, pass("pw"), WriteMode::kReplace, kFast));
  auto back = load_private_key(dir / "k.key", pass("pw"));
  ASSERT_TRUE(back);
  EXPECT_EQ(EVP_PKEY_eq(second.get(), back->get()), 1);
  EXPECT_EQ(file_mode(dir / "k.key"), 0600u);
}

TEST(PkiWriteFileAtomic, ExactModeAndNoOverwrite) {
  TempDir dir;
  const mode_t old_umask = ::umask(077);
  auto ok = write_file_atomic(dir / "ca.pem", "hello", 0644);
  ::umask(old_umask);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(file_mode(dir / "ca.pem"), 0644u);
  EXPECT_EQ(read_text(dir / "ca.pem"), "hello");
  EXPECT_FALSE(write_file_atomic(dir / "ca.pem", "other", 0644));
  // A dangling symlink counts as existing: never write through it.
  std::filesystem::create_symlink(dir / "elsewhere", dir / "link");
  EXPECT_FALSE(write_file_atomic(dir / "link", "x", 0600));
  EXPECT_FALSE(std::filesystem::exists(dir / "elsewhere"));
  EXPECT_TRUE(write_file_atomic(dir / "ca.pem", "replaced", 0600, WriteMode::kReplace));
  EXPECT_EQ(read_text(dir / "ca.pem"), "replaced");
  EXPECT_EQ(file_mode(dir / "ca.pem"), 0600u);
  EXPECT_FALSE(write_file_atomic(dir / "no-such-dir" / "f", "x", 0600));
}

// ---------------------------------------------------------------------------
// The passphrase source.

TEST(PkiPassphrase, EnvironmentVariableWins) {
  TempDir dir;
  ScopedEnv env("IDRA_KEY_PASSPHRASE", "from-env");
  ScopedEnv file("IDRA_KEY_PASSPHRASE_FILE", "/nonexistent");
  auto p = load_passphrase(dir.path());
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->view(), "from-env");
  EXPECT_FALSE(std::filesystem::exists(dir / "secrets"));
}

TEST(PkiPassphrase, FileNamedByEnvironment) {
  TempDir dir;
  ScopedEnv env("IDRA_KEY_PASSPHRASE", nullptr);
  write_text(dir / "pp", "from-file\r\n");
  ASSERT_EQ(::chmod((dir / "pp").c_str(), 0600), 0);
  ScopedEnv file("IDRA_KEY_PASSPHRASE_FILE", (dir / "pp").c_str());
  auto p = load_passphrase(dir / "data");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->view(), "from-file");  // one trailing newline removed

  ASSERT_EQ(::chmod((dir / "pp").c_str(), 0644), 0);
  auto loose = load_passphrase(dir / "data");
  ASSERT_FALSE(loose);
  EXPECT_NE(loose.error().message.find("mode 0644"), std::string::npos) << loose.error().message;
  EXPECT_EQ(loose.error().message.find("from-file"), std::string::npos) << "leaked the passphrase";

  ScopedEnv missing("IDRA_KEY_PASSPHRASE_FILE", (dir / "missing").c_str());
  EXPECT_FALSE(load_passphrase(dir / "data"));
}

TEST(PkiPassphrase, EmptyFileIsAnError) {
  TempDir dir;
  ScopedEnv env("IDRA_KEY_PASSPHRASE", nullptr);
  write_text(dir / "pp", "\n");
  ASSERT_EQ(::chmod((dir / "pp").c_str(), 0600), 0);
  ScopedEnv file("IDRA_KEY_PASSPHRASE_FILE", (dir / "pp").c_str());
  auto p = load_passphrase(dir.path());
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("empty"), std::string::npos);
}

TEST(PkiPassphrase, GeneratesTheDevelopmentDefaultOnce) {
  TempDir dir;
  ScopedEnv env("IDRA_KEY_PASSPHRASE", nullptr);
  ScopedEnv file("IDRA_KEY_PASSPHRASE_FILE", nullptr);
  const auto data = dir / "data";
  auto first = load_passphrase(data);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->size(), 44u);  // base64 of 32 bytes
  EXPECT_EQ(file_mode(data / "secrets"), 0700u);
  EXPECT_EQ(file_mode(data / "secrets" / "key-passphrase"), 0600u);
  EXPECT_EQ(read_text(data / "secrets" / "key-passphrase"), std::string(first->view()));
  auto second = load_passphrase(data);
  ASSERT_TRUE(second);
  EXPECT_TRUE(*first == *second);

  ASSERT_EQ(::chmod((data / "secrets" / "key-passphrase").c_str(), 0640), 0);
  auto loose = load_passphrase(data);
  ASSERT_FALSE(loose);
  EXPECT_NE(loose.error().message.find("mode 0640"), std::string::npos);
}

}  // namespace
}  // namespace idra::pki
