// auth.cpp: Basic credentials, Argon2id secrets, the verification cache and
// the per-address failure limiter.
#include "idra/auth.hpp"
#include "idra/text.hpp"

#include <sodium.h>

#include <array>
#include <cstring>
#include <deque>
#include <stdexcept>

namespace idra::auth {
namespace {

void ensure_sodium() {
  static const bool ok = sodium_init() >= 0;
  if (!ok) throw std::runtime_error("libsodium failed to initialize");
}

}  // namespace

Result<std::string> hash_secret(std::string_view secret, const HashParams& params) {
  ensure_sodium();
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (crypto_pwhash_str_alg(out.data(), secret.data(), secret.size(), params.opslimit,
                            params.memlimit_bytes, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return make_error("out of memory while hashing a secret");
  }
  return std::string(out.data());
}

bool is_secret_hash(std::string_view stored) {
  return stored.size() < crypto_pwhash_STRBYTES && stored.starts_with("$argon2id$v=19$m=");
}

bool verify_secret(std::string_view hash, std::string_view secret) {
  ensure_sodium();
  if (!is_secret_hash(hash)) return false;
  std::string hash_z(hash);  // crypto_pwhash_str_verify wants a C string
  return crypto_pwhash_str_verify(hash_z.c_str(), secret.data(), secret.size()) == 0;
}

std::string random_secret(std::size_t bytes) {
  ensure_sodium();
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  std::string out(sodium_base64_ENCODED_LEN(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()),
                    raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero(raw.data(), raw.size());
  out.resize(std::strlen(out.c_str()));
  return out;
}

std::string random_hex(std::size_t bytes) {
  ensure_sodium();
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  std::string out(bytes * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
  out.resize(bytes * 2);
  return out;
}

std::string unique_hex() {
  struct State {
    unsigned char key[crypto_shorthash_siphashx24_KEYBYTES];
    std::uint64_t counter = 0;
    State() {
      ensure_sodium();
      randombytes_buf(key, sizeof key);
    }
  };
  thread_local State state;
  unsigned char counter[8];
  std::uint64_t n = state.counter++;
  for (auto& b : counter) {
    b = static_cast<unsigned char>(n);
    n >>= 8;
  }
  unsigned char mac[crypto_shorthash_siphashx24_BYTES];
  crypto_shorthash_siphashx24(mac, counter, sizeof counter, state.key);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * sizeof mac, '\0');
  for (std::size_t i = 0; i < sizeof mac; ++i) {
    out[2 * i] = kHex[mac[i] >> 4];
    out[2 * i + 1] = kHex[mac[i] & 15];
  }
  return out;
}

Credentials::~Credentials() {
  if (!secret.empty()) sodium_memzero(secret.data(), secret.size());
}

std::optional<Result<Credentials>> parse_basic(std::string_view value) {
  ensure_sodium();
  // The scheme name is case-insensitive (RFC 9110 section 11.1).
  if (value.size() < 6) return std::nullopt;
  if (!text::istarts_with(value, "basic ")) return std::nullopt;
  std::string_view b64 = value.substr(6);
  while (!b64.empty() && b64.front() == ' ') b64.remove_prefix(1);
  while (!b64.empty() && b64.back() == ' ') b64.remove_suffix(1);
  std::string decoded(b64.size(), '\0');
  std::size_t decoded_len = 0;
  if (b64.empty() ||
      sodium_base642bin(reinterpret_cast<unsigned char*>(decoded.data()), decoded.size(),
                        b64.data(), b64.size(), nullptr, &decoded_len, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    return Result<Credentials>(make_error("Authorization: Basic credentials are not valid base64", 4));
  }
  decoded.resize(decoded_len);
  Credentials creds;
  const auto user_end = [&]() -> std::size_t {
    // Handle.Net clients send "300%3A0.NA%2F88.100:secret"; curl users often
    // send "300:0.NA/88.100:secret". Take the first ':' after the handle's
    // index separator when the user part is not percent-encoded.
    auto first = decoded.find(':');
    if (first == std::string::npos) return std::string::npos;
    std::string_view head(decoded.data(), first);
    bool digits = !head.empty();
    for (char c : head) digits = digits && c >= '0' && c <= '9';
    if (digits) return decoded.find(':', first + 1);
    return first;
  }();
  if (user_end == std::string::npos) {
    sodium_memzero(decoded.data(), decoded.size());
    return Result<Credentials>(make_error("Authorization: Basic credentials need user:secret", 4));
  }
  auto user = text::percent_decode(std::string_view(decoded).substr(0, user_end), false, 0);
  creds.secret = decoded.substr(user_end + 1);
  sodium_memzero(decoded.data(), decoded.size());
  if (!user) {
    return Result<Credentials>(make_error("Authorization: user name has a bad percent escape", 4));
  }
  const auto sep = user->find(':');
  if (sep == std::string::npos || sep == 0 || sep > 10) {
    return Result<Credentials>(
        make_error("Authorization: user name must be \"index:handle\", for example 300:0.NA/88.100", 4));
  }
  std::uint64_t index = 0;
  for (std::size_t i = 0; i < sep; ++i) {
    char c = (*user)[i];
    if (c < '0' || c > '9') {
      return Result<Credentials>(make_error("Authorization: the index before ':' must be a number", 4));
    }
    index = index * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (index == 0 || index > 0xffffffffULL) {
    return Result<Credentials>(make_error("Authorization: the index must be 1 to 4294967295", 4));
  }
  creds.index = static_cast<std::uint32_t>(index);
  creds.handle = user->substr(sep + 1);
  if (creds.handle.empty()) {
    return Result<Credentials>(make_error("Authorization: the handle after ':' is empty", 4));
  }
  return Result<Credentials>(std::move(creds));
}

// ---------------------------------------------------------------------------

struct Authenticator::Impl {
  Impl(const store::Store& s, LimiterConfig l) : store(s), limiter(l) {}
  const store::Store& store;
  LimiterConfig limiter;
  std::array<unsigned char, crypto_generichash_KEYBYTES> cache_key{};

  struct Failures {
    unsigned count = 0;
    std::chrono::steady_clock::time_point window_start;
  };
  std::mutex mu;
  std::unordered_map<std::string, Failures> failures;  // by client address
  // verified holds digests of credentials that passed Argon2id, bounded FIFO.
  // The digest is a MAC under a per-process random key, so the hash-map
  // lookup's timing reveals nothing an attacker could steer towards a secret.
  std::unordered_map<std::string, bool> verified;
  std::deque<std::string> verified_order;
  static constexpr std::size_t kMaxVerified = 4096;

  std::string digest(const Credentials& c, std::string_view stored_hash) const {
    std::array<unsigned char, 32> out{};
    crypto_generichash_state st;
    crypto_generichash_init(&st, cache_key.data(), cache_key.size(), out.size());
    auto feed = [&](std::string_view s) {
      const std::uint64_t n = s.size();
      crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(&n), sizeof n);
      crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(s.data()), s.size());
    };
    feed(c.handle);
    feed(std::to_string(c.index));
    feed(c.secret);
    feed(stored_hash);
    crypto_generichash_final(&st, out.data(), out.size());
    return std::string(reinterpret_cast<const char*>(out.data()), out.size());
  }
};

Authenticator::Authenticator(const store::Store& store, LimiterConfig limiter)
    : impl_(std::make_unique<Impl>(store, limiter)) {
  ensure_sodium();
  crypto_generichash_keygen(impl_->cache_key.data());
}

Authenticator::~Authenticator() { sodium_memzero(impl_->cache_key.data(), impl_->cache_key.size()); }

namespace {

// stored_key returns the data of |credentials|' HS_SECKEY value, nullopt when there is none.
std::optional<std::string> stored_key(const store::Store& store, const Credentials& credentials) {
  const auto record = store.get(credentials.handle);
  if (!record) return std::nullopt;
  for (const auto& v : record->values) {
    if (v.index == credentials.index && v.type == kSecretKeyType) return v.data;
  }
  return std::nullopt;
}

}  // namespace

bool Authenticator::would_hash(const Credentials& credentials) const {
  const auto key = stored_key(impl_->store, credentials);
  if (!key) return true;  // verify spends a dummy Argon2id
  const std::string d = impl_->digest(credentials, *key);
  std::lock_guard lock(impl_->mu);
  return impl_->verified.count(d) == 0;
}

Authenticator::Verdict Authenticator::verify(const Credentials& credentials, std::string_view address,
                                             std::chrono::steady_clock::time_point now) {
  auto& im = *impl_;
  const std::string addr(address);
  {
    std::lock_guard lock(im.mu);
    auto it = im.failures.find(addr);
    if (it != im.failures.end()) {
      if (now - it->second.window_start >= im.limiter.window) {
        im.failures.erase(it);
      } else if (it->second.count >= im.limiter.max_failures) {
        auto left = std::chrono::duration_cast<std::chrono::seconds>(
            im.limiter.window - (now - it->second.window_start));
        return {Outcome::rate_limited, left + std::chrono::seconds(1)};
      }
    }
  }

  auto record_failure = [&](Outcome outcome) -> Verdict {
    std::lock_guard lock(im.mu);
    if (im.failures.size() >= im.limiter.max_tracked_addresses) {
      // Drop expired entries; if still full, forget everything rather than
      // grow without bound (an attacker with that many addresses is not
      // stopped by this limiter anyway).
      for (auto it = im.failures.begin(); it != im.failures.end();) {
        it = (now - it->second.window_start >= im.limiter.window) ? im.failures.erase(it) : std::next(it);
      }
      if (im.failures.size() >= im.limiter.max_tracked_addresses) im.failures.clear();
    }
    auto& f = im.failures[addr];
    if (f.count == 0) f.window_start = now;
    ++f.count;
    return {outcome, std::chrono::seconds(0)};
  };

  const auto record = im.store.get(credentials.handle);
  const store::HandleValue* key = nullptr;
  if (record) {
    for (const auto& v : record->values) {
      if (v.index == credentials.index && v.type == kSecretKeyType) key = &v;
    }
  }
  if (key == nullptr) {
    // Spend the same Argon2id work as a real check so that timing does not
    // tell which admin handles exist.
    static const std::string dummy = hash_secret("idra-dummy-secret").value();
    (void)verify_secret(dummy, credentials.secret);
    return record_failure(Outcome::no_such_key);
  }

  const std::string d = im.digest(credentials, key->data);
  {
    std::lock_guard lock(im.mu);
    if (im.verified.count(d) != 0) return {Outcome::ok, std::chrono::seconds(0)};
  }
  if (!verify_secret(key->data, credentials.secret)) return record_failure(Outcome::bad_credentials);
  std::lock_guard lock(im.mu);
  if (im.verified.emplace(d, true).second) {
    im.verified_order.push_back(d);
    if (im.verified_order.size() > Impl::kMaxVerified) {
      im.verified.erase(im.verified_order.front());
      im.verified_order.pop_front();
    }
  }
  return {Outcome::ok, std::chrono::seconds(0)};
}

}  // namespace idra::auth
