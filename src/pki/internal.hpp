// internal.hpp: helpers shared by the files of the pki module; not part of
// its interface.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
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

}  // namespace idra::pki::internal
