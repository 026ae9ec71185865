// files.cpp: atomic writes and permission-checked reads for keys,
// passphrases and certificates.
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "pki/internal.hpp"

namespace idra::pki::internal {

Error openssl_error(std::string_view what) {
  std::string message(what);
  bool first = true;
  while (unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    message += first ? ": " : "; ";
    message += buf;
    first = false;
  }
  return make_error(std::move(message));
}

void clear_openssl_errors() { ERR_clear_error(); }

void ensure_sodium() {
  static const int status = sodium_init();
  if (status < 0) throw std::runtime_error("libsodium failed to initialise");
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

int UniqueFd::close() noexcept {
  int fd = fd_;
  fd_ = -1;
  return fd >= 0 ? ::close(fd) : 0;
}

std::string mode_string(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

Error errno_error(std::string_view what, const std::filesystem::path& path, int err) {
  return make_error(std::string(what) + " " + path.string() + ": " + std::strerror(err));
}

namespace {

// open_checked opens |path| for reading and checks type, size and mode on
// the open descriptor (not the name), so a swap between check and read
// cannot slip another file in.
Result<UniqueFd> open_checked(const std::filesystem::path& path, std::size_t max_bytes,
                              Access access, std::string_view what, std::size_t& out_size) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (!fd.valid()) {
    int err = errno;
    if (err == ELOOP) {
      return make_error(std::string(what) + " " + path.string() +
                        " is a symbolic link; refusing to follow it");
    }
    return errno_error(std::string("cannot open ") + std::string(what), path, err);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return errno_error("cannot stat", path, errno);
  if (!S_ISREG(st.st_mode)) {
    return make_error(std::string(what) + " " + path.string() + " is not a regular file");
  }
  if (access == Access::kOwnerOnly && (st.st_mode & 077) != 0) {
    return make_error(
        std::string(what) + " " + path.string() + " has mode " + mode_string(st.st_mode) +
        "; it must not be accessible by group or others (chmod 600 " + path.string() + ")");
  }
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    return make_error(std::string(what) + " " + path.string() + " is larger than " +
                      std::to_string(max_bytes) + " bytes");
  }
  out_size = static_cast<std::size_t>(st.st_size);
  return fd;
}

// read_all reads up to |size| bytes into |out|; returns the count read or -1.
long long read_all(int fd, unsigned char* out, std::size_t size) {
  std::size_t done = 0;
  while (done < size) {
    ssize_t n = ::read(fd, out + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return static_cast<long long>(done);
}

}  // namespace

Result<std::string> read_file(const std::filesystem::path& path, std::size_t max_bytes,
                              Access access, std::string_view what) {
  std::size_t size = 0;
  auto fd = open_checked(path, max_bytes, access, what, size);
  if (!fd) return fd.error();
  std::string out(size, '\0');
  long long n = read_all(fd->get(), reinterpret_cast<unsigned char*>(out.data()), size);
  if (n < 0) return errno_error("cannot read", path, errno);
  out.resize(static_cast<std::size_t>(n));
  return out;
}

Result<Secret> read_secret_file(const std::filesystem::path& path, std::size_t max_bytes,
                                std::string_view what) {
  std::size_t size = 0;
  auto fd = open_checked(path, max_bytes, Access::kOwnerOnly, what, size);
  if (!fd) return fd.error();
  Secret out(size);
  long long n = read_all(fd->get(), out.data(), size);
  if (n < 0) return errno_error("cannot read", path, errno);
  if (static_cast<std::size_t>(n) != size) return out.prefix(static_cast<std::size_t>(n));
  return out;
}

Result<void> ensure_private_directory(const std::filesystem::path& dir) {
  if (::mkdir(dir.c_str(), 0700) == 0) return {};
  int err = errno;
  if (err != EEXIST) return errno_error("cannot create directory", dir, err);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return errno_error("cannot stat", dir, errno);
  if (!S_ISDIR(st.st_mode)) return make_error(dir.string() + " exists and is not a directory");
  return {};
}

}  // namespace idra::pki::internal

namespace idra::pki {

namespace {

using internal::errno_error;
using internal::UniqueFd;

Result<void> fsync_directory(const std::filesystem::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return errno_error("cannot open directory", dir, errno);
  if (::fsync(fd.get()) != 0 && errno != EINVAL) return errno_error("cannot fsync", dir, errno);
  return {};
}

}  // namespace

Result<void> write_file_atomic(const std::filesystem::path& path, std::string_view contents,
                               unsigned mode, WriteMode write_mode) {
  if (path.filename().empty())
    return make_error("cannot write " + path.string() + ": no file name");
  const std::filesystem::path dir =
      path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  if (write_mode == WriteMode::kCreateOnly) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
      return make_error(path.string() + " already exists; refusing to overwrite it");
    }
  }

  // The temporary name is unpredictable and created with O_EXCL, so nothing
  // planted in the directory can be written through.
  internal::ensure_sodium();
  UniqueFd fd;
  std::filesystem::path tmp;
  for (int attempt = 0; attempt < 16 && !fd.valid(); ++attempt) {
    unsigned char rnd[8];
    randombytes_buf(rnd, sizeof rnd);
    char hex[sizeof rnd * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
    tmp = dir / ("." + path.filename().string() + ".tmp-" + hex);
    fd = UniqueFd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                         static_cast<mode_t>(mode & 0777)));
    if (!fd.valid() && errno != EEXIST) return errno_error("cannot create", tmp, errno);
  }
  if (!fd.valid()) return make_error("cannot create a temporary file in " + dir.string());

  auto fail = [&](Error e) -> Result<void> {
    fd.close();
    ::unlink(tmp.c_str());
    return e;
  };
  // The umask may have removed bits from |mode|; set exactly what was asked.
  if (::fchmod(fd.get(), static_cast<mode_t>(mode & 0777)) != 0) {
    return fail(errno_error("cannot chmod", tmp, errno));
  }
  std::size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = ::write(fd.get(), contents.data() + done, contents.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno_error("cannot write", tmp, errno));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return fail(errno_error("cannot fsync", tmp, errno));
  if (fd.close() != 0) return fail(errno_error("cannot close", tmp, errno));

  if (write_mode == WriteMode::kCreateOnly) {
    // link() fails with EEXIST instead of replacing, closing the window
    // between the existence check above and this point.
    if (::link(tmp.c_str(), path.c_str()) != 0) {
      int err = errno;
      ::unlink(tmp.c_str());
      if (err == EEXIST) {
        return make_error(path.string() + " already exists; refusing to overwrite it");
      }
      return errno_error("cannot create", path, err);
    }
    ::unlink(tmp.c_str());
  } else if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return errno_error("cannot replace", path, err);
  }
  return fsync_directory(dir);
}

}  // namespace idra::pki
