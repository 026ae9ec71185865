// result.hpp: the value type for expected failures.
//
// An expected failure (bad input from the network, a missing record, a
// denied request) is returned as a Result holding an Error; a broken
// invariant throws. Error::message is written for the person who sent the
// input: it says what is wrong, never how the code is built.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace idra {

struct Error {
  std::string message;
  // code is a module-defined discriminator (for example a Handle
  // responseCode); 0 when the module has none.
  int code = 0;
};

// E is Error for almost everything; a module whose failures are lists (the
// policy parser's diagnostics) names its own.
template <class T, class E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(E error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  // value and the dereference operators throw std::bad_variant_access when
  // the Result holds an Error: reading a failed Result is a programming bug.
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const E& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, E> v_;
};

template <class E>
class [[nodiscard]] Result<void, E> {
 public:
  Result() = default;
  Result(E error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const E& error() const { return error_; }

 private:
  E error_{};
  bool ok_ = true;
};

inline Error make_error(std::string message, int code = 0) {
  return Error{std::move(message), code};
}

}  // namespace idra
