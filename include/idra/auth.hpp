// auth.hpp: who is calling. HTTP Basic with Handle admin credentials
// ("index:handle" and the secret of the HS_SECKEY value at that index), a
// per-address limiter for failed attempts, and the Argon2id hashing of
// secrets. Authorization (what the caller may do) lives in the decision
// point of the api module, not here.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "idra/result.hpp"
#include "idra/store.hpp"

namespace idra::auth {

inline constexpr std::string_view kSecretKeyType = "HS_SECKEY";

struct HashParams {
  // OWASP's Argon2id recommendation (m = 19 MiB, t = 2, p = 1).
  unsigned long long opslimit = 2;
  std::size_t memlimit_bytes = std::size_t{19} << 20;
};

// hash_secret returns the Argon2id hash string ("$argon2id$v=19$...") of
// |secret|. Error only when the system is out of memory.
Result<std::string> hash_secret(std::string_view secret, const HashParams& params = {});

// is_secret_hash is true when |stored| is an Argon2id hash string (so a PUT of
// a value copied from a GET stores it as is instead of hashing it again).
bool is_secret_hash(std::string_view stored);

// verify_secret checks |secret| against |hash| in constant time (libsodium).
bool verify_secret(std::string_view hash, std::string_view secret);

// random_secret returns |bytes| random bytes, base64url without padding.
std::string random_secret(std::size_t bytes = 24);

// random_hex returns |bytes| random bytes as lower-case hex (2 * bytes chars).
std::string random_hex(std::size_t bytes);
// unique_hex returns 32 lower-case hex characters that no other call
// returns (in any thread or process, but with negligible probability) and
// that cannot be predicted from earlier ones: SipHash-128 of a per-thread
// counter under a per-thread random key. Unlike random_hex it makes no
// system call (but the thread's first), so a request id costs ~50 ns.
std::string unique_hex();

struct Credentials {
  std::string handle;  // as sent, percent-decoded, not yet canonical
  std::uint32_t index = 0;
  std::string secret;
  ~Credentials();  // zeroes |secret|
};

// parse_basic parses an Authorization header value "Basic base64(user:pass)"
// where user is "index:handle", percent-encoded (Handle.Net). nullopt when the
// header is not Basic; Error when it is Basic but malformed.
std::optional<Result<Credentials>> parse_basic(std::string_view header_value);

struct LimiterConfig {
  unsigned max_failures = 10;  // per address per window
  std::chrono::seconds window{60};
  std::size_t max_tracked_addresses = 100000;
};

// Authenticator verifies credentials against the store. Successful
// verifications are cached (keyed by a keyed BLAKE2b of handle, index,
// secret and the stored hash) so that Argon2id runs once per credential,
// not once per request; a changed HS_SECKEY invalidates the entry.
class Authenticator {
 public:
  enum class Outcome { ok, bad_credentials, no_such_key, rate_limited };
  struct Verdict {
    Outcome outcome;
    std::chrono::seconds retry_after{0};
  };

  Authenticator(const store::Store& store, LimiterConfig limiter = {});
  ~Authenticator();

  // verify checks |credentials| (handle already canonical) for a caller at
  // |address|. Failed attempts count against the address; once over the
  // limit every attempt from it is rate_limited until the window passes.
  Verdict verify(const Credentials& credentials, std::string_view address,
                 std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

  // would_hash says whether verify(|credentials|) would run Argon2id (tens
  // of milliseconds): true unless the credentials passed before and the
  // stored key is unchanged. A server runs the requests that may wait on a
  // pool and the others inline. (The answer may be stale by the time verify
  // runs: an entry can leave the bounded cache in between.)
  bool would_hash(const Credentials& credentials) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace idra::auth
