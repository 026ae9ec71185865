// passphrase.cpp: where the key passphrase comes from.
#include <sodium.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "idra/pki.hpp"
#include "pki/internal.hpp"

namespace idra::pki {

namespace {

constexpr std::size_t kMaxPassphraseFileBytes = 4096;
constexpr std::size_t kGeneratedPassphraseBytes = 32;

// strip_newline removes one trailing "\n" or "\r\n": files written with echo
// or an editor end in one, and it is never meant to be part of the passphrase.
Secret strip_newline(Secret s) {
  std::string_view v = s.view();
  std::size_t n = v.size();
  if (n > 0 && v[n - 1] == '\n') {
    --n;
    if (n > 0 && v[n - 1] == '\r') --n;
  }
  if (n == v.size()) return s;
  return s.prefix(n);
}

Result<Secret> from_file(const std::filesystem::path& path, std::string_view origin) {
  auto secret = internal::read_secret_file(path, kMaxPassphraseFileBytes, "passphrase file");
  if (!secret) return make_error(secret.error().message + " (" + std::string(origin) + ")");
  Secret s = strip_newline(std::move(*secret));
  if (s.empty()) {
    return make_error("passphrase file " + path.string() + " is empty (" + std::string(origin) +
                      ")");
  }
  return s;
}

// generate writes a fresh passphrase to |path| unless another process got
// there first, in which case that one is used.
Result<Secret> generate(const std::filesystem::path& path) {
  internal::ensure_sodium();
  Secret raw = Secret::random(kGeneratedPassphraseBytes);
  const std::size_t b64_len =
      sodium_base64_ENCODED_LEN(kGeneratedPassphraseBytes, sodium_base64_VARIANT_ORIGINAL);
  Secret b64(b64_len);  // includes the terminating NUL
  sodium_bin2base64(reinterpret_cast<char*>(b64.data()), b64.size(), raw.data(), raw.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  Secret passphrase = b64.prefix(b64_len - 1);
  auto written = write_file_atomic(path, passphrase.view(), 0600, WriteMode::kCreateOnly);
  if (!written) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) return from_file(path, "created concurrently");
    return written.error();
  }
  return passphrase;
}

}  // namespace

Result<Secret> load_passphrase(const std::filesystem::path& data_dir) {
  if (const char* env = std::getenv("IDRA_KEY_PASSPHRASE"); env != nullptr && *env != '\0') {
    return Secret::copy_of(env);
  }
  if (const char* file = std::getenv("IDRA_KEY_PASSPHRASE_FILE"); file != nullptr) {
    if (*file == '\0') return make_error("IDRA_KEY_PASSPHRASE_FILE is set but empty");
    return from_file(file, "named by IDRA_KEY_PASSPHRASE_FILE");
  }
  const std::filesystem::path dir = data_dir / "secrets";
  const std::filesystem::path path = dir / "key-passphrase";
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) return from_file(path, "the development default");
  if (errno != ENOENT) return internal::errno_error("cannot stat", path, errno);

  if (auto ok = internal::ensure_private_directory(data_dir); !ok) return ok.error();
  if (auto ok = internal::ensure_private_directory(dir); !ok) return ok.error();
  return generate(path);
}

}  // namespace idra::pki
