// merkle.cpp: RFC 9162 section 2.1 Merkle tree math, free of storage.
//
// Proof generation works from complete subtrees (SubtreeFn) rather than
// from leaves: the log stores the hash of every complete subtree, and every
// range RFC 9162's PATH and PROOF ask for is a concatenation of at most 64
// of them, so a proof costs O(log n) lookups and no rehashing.
#include <openssl/evp.h>
#include <sodium.h>

#include <bit>
#include <memory>
#include <stdexcept>

#include "audit/util.hpp"
#include "idra/audit.hpp"

namespace idra::audit {

namespace {

// Hashing goes through OpenSSL's EVP with one context per thread, reused:
// it uses the CPU's SHA extensions where there are some, and a reused
// context skips EVP's per-call algorithm fetch. Every leaf and node of the
// log is hashed here, so this is the writer's and the verifier's hot path
// (about 4x libsodium's portable SHA-256 for a 400-byte leaf on x86-64).
struct MdFree {
  void operator()(EVP_MD* md) const noexcept { EVP_MD_free(md); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};

const EVP_MD* sha256_md() {
  static const std::unique_ptr<EVP_MD, MdFree> md(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  if (!md) throw std::runtime_error("audit: OpenSSL offers no SHA-256");
  return md.get();
}

// Hasher is the calling thread's digest context, started afresh by start().
class Hasher {
 public:
  static Hasher& start() {
    thread_local Hasher hasher;
    if (EVP_DigestInit_ex2(hasher.ctx_.get(), sha256_md(), nullptr) != 1) {
      throw std::runtime_error("audit: SHA-256 initialization failed");
    }
    return hasher;
  }
  Hasher& update(std::string_view bytes) {
    if (EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size()) != 1) {
      throw std::runtime_error("audit: SHA-256 update failed");
    }
    return *this;
  }
  Hash finish() {
    Hash out(kHashBytes, '\0');
    finish_into(out.data());
    return out;
  }
  // finish_into writes the kHashBytes of the digest to |out|.
  void finish_into(char* out) {
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), reinterpret_cast<unsigned char*>(out), &len) != 1 ||
        len != kHashBytes) {
      throw std::runtime_error("audit: SHA-256 finalization failed");
    }
  }

 private:
  Hasher() : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_) throw std::bad_alloc();
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx_;
};

// largest_power_below returns the largest power of two k with k < n (n >= 2).
std::uint64_t largest_power_below(std::uint64_t n) { return std::bit_floor(n - 1); }

Hash root_of_range(std::span<const Hash> leaves) {
  if (leaves.size() == 1) return leaves[0];
  const std::uint64_t k = largest_power_below(leaves.size());
  return node_hash(root_of_range(leaves.subspan(0, k)), root_of_range(leaves.subspan(k)));
}

// range_hash returns MTH(D[begin:end]) for end > begin, from complete
// subtrees. Ranges RFC 9162 asks for start at a multiple of a power of two
// at least as large as the range, so the split below always lands on
// stored subtrees.
Hash range_hash(std::uint64_t begin, std::uint64_t end, const SubtreeFn& subtree) {
  const std::uint64_t n = end - begin;
  if (std::has_single_bit(n) && begin % n == 0) {
    const auto level = static_cast<unsigned>(std::countr_zero(n));
    return subtree(level, begin >> level);
  }
  const std::uint64_t k = largest_power_below(n);
  return node_hash(range_hash(begin, begin + k, subtree), range_hash(begin + k, end, subtree));
}

// path appends PATH(m, D[begin:end]) (RFC 9162 2.1.3.1) to |out|, deepest first.
void path(std::uint64_t m, std::uint64_t begin, std::uint64_t end, const SubtreeFn& subtree,
          Proof& out) {
  const std::uint64_t n = end - begin;
  if (n <= 1) return;
  const std::uint64_t k = largest_power_below(n);
  if (m < k) {
    path(m, begin, begin + k, subtree, out);
    out.push_back(range_hash(begin + k, end, subtree));
  } else {
    path(m - k, begin + k, end, subtree, out);
    out.push_back(range_hash(begin, begin + k, subtree));
  }
}

// subproof appends SUBPROOF(m, D[begin:end], b) (RFC 9162 2.1.4.1) to |out|.
void subproof(std::uint64_t m, std::uint64_t begin, std::uint64_t end, bool b,
              const SubtreeFn& subtree, Proof& out) {
  const std::uint64_t n = end - begin;
  if (m == n) {
    if (!b) out.push_back(range_hash(begin, end, subtree));
    return;
  }
  const std::uint64_t k = largest_power_below(n);
  if (m <= k) {
    subproof(m, begin, begin + k, b, subtree, out);
    out.push_back(range_hash(begin + k, end, subtree));
  } else {
    subproof(m - k, begin + k, end, false, subtree, out);
    out.push_back(range_hash(begin, begin + k, subtree));
  }
}

bool all_hashes(std::span<const Hash> proof) {
  for (const Hash& h : proof) {
    if (h.size() != kHashBytes) return false;
  }
  return true;
}

// Roots are compared in constant time when their lengths agree; their
// lengths are public.
bool same(std::string_view a, std::string_view b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

Hash sha256(std::string_view bytes) { return Hasher::start().update(bytes).finish(); }

Hash leaf_hash(std::string_view leaf) {
  return Hasher::start().update(std::string_view("\x00", 1)).update(leaf).finish();
}

Hash node_hash(std::string_view left, std::string_view right) {
  return Hasher::start().update("\x01").update(left).update(right).finish();
}

void util::leaf_hash_into(char* out, std::string_view leaf) {
  Hasher::start().update(std::string_view("\x00", 1)).update(leaf).finish_into(out);
}

void util::node_hash_into(char* out, std::string_view left, std::string_view right) {
  Hasher::start().update("\x01").update(left).update(right).finish_into(out);
}

Hash empty_root() { return sha256(""); }

Hash root_of(std::span<const Hash> leaf_hashes) {
  if (leaf_hashes.empty()) return empty_root();
  return root_of_range(leaf_hashes);
}

Hash root_from(std::uint64_t size, const SubtreeFn& subtree) {
  if (size == 0) return empty_root();
  return range_hash(0, size, subtree);
}

Result<Proof> inclusion_proof(std::uint64_t index, std::uint64_t size, const SubtreeFn& subtree) {
  if (index >= size) {
    return make_error("leaf index " + std::to_string(index) + " is not below tree size " +
                      std::to_string(size));
  }
  Proof out;
  path(index, 0, size, subtree, out);
  return out;
}

Result<Proof> consistency_proof(std::uint64_t size1, std::uint64_t size2,
                                const SubtreeFn& subtree) {
  if (size1 > size2) {
    return make_error("tree size " + std::to_string(size1) + " is larger than " +
                      std::to_string(size2));
  }
  Proof out;
  if (size1 == 0 || size1 == size2) return out;
  subproof(size1, 0, size2, true, subtree, out);
  return out;
}

Result<void> verify_inclusion(std::string_view leaf_hash, std::uint64_t index, std::uint64_t size,
                              std::span<const Hash> proof, std::string_view root) {
  if (index >= size) {
    return make_error("inclusion: leaf index " + std::to_string(index) +
                      " is not below tree size " + std::to_string(size));
  }
  if (leaf_hash.size() != kHashBytes) return make_error("inclusion: leaf hash is not 32 bytes");
  if (!all_hashes(proof)) return make_error("inclusion: a proof element is not 32 bytes");
  // RFC 9162 2.1.3.2, step by step.
  std::uint64_t fn = index;
  std::uint64_t sn = size - 1;
  Hash r(leaf_hash);
  for (const Hash& p : proof) {
    if (sn == 0) return make_error("inclusion: proof is too long");
    if ((fn & 1) != 0 || fn == sn) {
      r = node_hash(p, r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = node_hash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return make_error("inclusion: proof is too short");
  if (!same(r, root)) return make_error("inclusion: computed root does not match");
  return {};
}

Result<void> verify_consistency(std::uint64_t size1, std::uint64_t size2, std::string_view root1,
                                std::string_view root2, std::span<const Hash> proof) {
  if (size1 > size2) {
    return make_error("consistency: size1 " + std::to_string(size1) + " > size2 " +
                      std::to_string(size2));
  }
  if (size1 == 0) return make_error("consistency: a proof from the empty tree proves nothing");
  if (size1 == size2) {
    if (!proof.empty()) return make_error("consistency: equal sizes need an empty proof");
    if (!same(root1, root2)) return make_error("consistency: equal sizes but different roots");
    return {};
  }
  // RFC 9162 2.1.4.2, step by step.
  if (proof.empty()) return make_error("consistency: empty proof");
  if (!all_hashes(proof)) return make_error("consistency: a proof element is not 32 bytes");
  std::vector<std::string_view> path;
  path.reserve(proof.size() + 1);
  if (std::has_single_bit(size1)) path.push_back(root1);
  for (const Hash& h : proof) path.push_back(h);
  std::uint64_t fn = size1 - 1;
  std::uint64_t sn = size2 - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr(path[0]);
  Hash sr(path[0]);
  for (std::size_t i = 1; i < path.size(); ++i) {
    const std::string_view c = path[i];
    if (sn == 0) return make_error("consistency: proof is too long");
    if ((fn & 1) != 0 || fn == sn) {
      fr = node_hash(c, fr);
      sr = node_hash(c, sr);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = node_hash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return make_error("consistency: proof is too short");
  if (!same(fr, root1)) return make_error("consistency: proof does not match the first root");
  if (!same(sr, root2)) return make_error("consistency: proof does not match the second root");
  return {};
}

}  // namespace idra::audit
