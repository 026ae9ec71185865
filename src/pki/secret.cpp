// secret.cpp: the self-wiping byte string.
#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <ostream>
#include <string_view>

#include "idra/pki.hpp"
#include "pki/internal.hpp"

namespace idra::pki {

Secret::Secret(std::size_t size) : bytes_(new unsigned char[size == 0 ? 1 : size]()), size_(size) {}

Secret::~Secret() { wipe(); }

Secret::Secret(Secret&& other) noexcept : bytes_(std::move(other.bytes_)), size_(other.size_) {
  other.size_ = 0;
}

Secret& Secret::operator=(Secret&& other) noexcept {
  if (this != &other) {
    wipe();
    bytes_ = std::move(other.bytes_);
    size_ = other.size_;
    other.size_ = 0;
  }
  return *this;
}

void Secret::wipe() noexcept {
  if (bytes_) sodium_memzero(bytes_.get(), size_);
  bytes_.reset();
  size_ = 0;
}

Secret Secret::copy_of(std::string_view bytes) {
  Secret s(bytes.size());
  if (!bytes.empty()) std::memcpy(s.data(), bytes.data(), bytes.size());
  return s;
}

Secret Secret::random(std::size_t size) {
  internal::ensure_sodium();
  Secret s(size);
  if (size != 0) randombytes_buf(s.data(), size);
  return s;
}

Secret Secret::prefix(std::size_t n) const { return copy_of(view().substr(0, std::min(n, size_))); }

bool operator==(const Secret& a, const Secret& b) noexcept {
  if (a.size_ != b.size_) return false;
  if (a.size_ == 0) return true;
  return sodium_memcmp(a.data(), b.data(), a.size_) == 0;
}

void PrintTo(const Secret& secret, std::ostream* os) {
  *os << "Secret(" << secret.size() << " bytes)";
}

}  // namespace idra::pki
