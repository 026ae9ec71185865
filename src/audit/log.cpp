// log.cpp: the audit log in LMDB: append, roots, proofs, full checks and
// queries (table layout in include/idra/audit.hpp).
#include <algorithm>
#include <limits>
#include <stdexcept>

#include "audit/util.hpp"
#include "idra/audit.hpp"

namespace idra::audit {

namespace {

using store::Table;

constexpr std::string_view kSizeKey = "size";
constexpr std::string_view kTimeKey = "time";
// Values longer than this are indexed by their SHA-256 (LMDB keys are at most 511 bytes).
constexpr std::size_t kMaxInlineIndexValue = 400;

[[noreturn]] void corrupt(const std::string& what) {
  throw std::runtime_error("audit log is corrupt: " + what);
}

std::uint64_t biased(std::int64_t time_ms) {
  return static_cast<std::uint64_t>(time_ms) ^ (std::uint64_t{1} << 63);
}

std::int64_t unbiased(std::uint64_t value) {
  return static_cast<std::int64_t>(value ^ (std::uint64_t{1} << 63));
}

std::string hash_key(unsigned level, std::uint64_t index) {
  std::string key(1, static_cast<char>(level));
  key += util::be64(index);
  return key;
}

// index_prefix is tag || BE16(length) || value, or tag || 0xFFFF ||
// SHA-256(value) for long values; a leaf's entry appends BE64(leaf index).
std::string index_prefix(char tag, std::string_view value) {
  std::string key(1, tag);
  if (value.size() > kMaxInlineIndexValue) {
    key += "\xFF\xFF";
    key += sha256(value);
  } else {
    key += static_cast<char>(value.size() >> 8);
    key += static_cast<char>(value.size() & 0xFF);
    key += value;
  }
  return key;
}

std::uint64_t read_u64_value(std::string_view bytes, const char* what) {
  if (bytes.size() != 8) corrupt(std::string(what) + " is not 8 bytes");
  return util::read_be64(bytes);
}

Hash stored_hash(const store::ReadView& view, unsigned level, std::uint64_t index) {
  auto value = view.get(Table::audit_hashes, hash_key(level, index));
  if (!value || value->size() != kHashBytes) {
    corrupt("hash of level " + std::to_string(level) + " index " + std::to_string(index) +
            (value ? " has the wrong size" : " is missing"));
  }
  return std::move(*value);
}

SubtreeFn stored_subtrees(const store::ReadView& view) {
  return [&view](unsigned level, std::uint64_t index) { return stored_hash(view, level, index); };
}

// first_index_at_or_after returns the first leaf index whose time_ms is >=
// |time_ms|, or |size| if none: one seek in the 't' index, which is sorted
// by time and, time never decreasing, by leaf index too.
std::uint64_t first_index_at_or_after(const store::ReadView& view, std::int64_t time_ms,
                                      std::uint64_t size) {
  std::uint64_t found = size;
  view.scan(
      Table::audit_index, "t",
      [&](std::string_view, std::string_view value) {
        found = read_u64_value(value, "time index entry");
        return false;
      },
      std::string("t") + util::be64(biased(time_ms)));
  return std::min(found, size);
}

// seek returns the first leaf index >= |target| listed under |prefix|.
std::optional<std::uint64_t> seek(const store::ReadView& view, const std::string& prefix,
                                  std::uint64_t target) {
  std::optional<std::uint64_t> found;
  view.scan(
      Table::audit_index, prefix,
      [&](std::string_view key, std::string_view) {
        if (key.size() != prefix.size() + 8) corrupt("index key of the wrong length");
        found = util::read_be64(key.substr(prefix.size()));
        return false;
      },
      prefix + util::be64(target));
  return found;
}

bool matches(const AuditRecord& r, const Filter& f) {
  if (f.principal && r.principal.id != *f.principal) return false;
  if (f.action && r.action != *f.action) return false;
  if (f.decision && r.decision != *f.decision) return false;
  if (f.from_ms && r.time_ms < *f.from_ms) return false;
  if (f.to_ms && r.time_ms > *f.to_ms) return false;
  if (f.identifier &&
      std::find(r.resources.begin(), r.resources.end(), *f.identifier) == r.resources.end()) {
    return false;
  }
  return true;
}

}  // namespace

std::uint64_t tree_size(const store::ReadView& view) {
  auto value = view.get(Table::audit_state, kSizeKey);
  if (!value) return 0;
  return read_u64_value(*value, "tree size");
}

Appended append(store::WriteView& view, const AuditRecord& record) {
  const std::uint64_t index = tree_size(view);
  std::optional<std::int64_t> last_time;
  if (index != 0) {
    auto value = view.get(Table::audit_state, kTimeKey);
    if (!value) corrupt("last time is missing");
    last_time = unbiased(read_u64_value(*value, "last time"));
  }
  Appended out;
  out.index = index;
  if (last_time && record.time_ms < *last_time) {
    AuditRecord raised = record;
    raised.time_ms = *last_time;
    out.leaf = encode_leaf(raised);
  } else {
    out.leaf = encode_leaf(record);
  }
  const std::int64_t time_ms = std::max(record.time_ms, last_time.value_or(record.time_ms));
  out.leaf_hash = leaf_hash(out.leaf);

  view.put(Table::audit_leaves, util::be64(index), out.leaf);
  view.put(Table::audit_hashes, hash_key(0, index), out.leaf_hash);
  // Each leaf whose index is odd at some level completes the subtree above
  // it: one stored read and one write per completed level (one on average).
  Hash h = out.leaf_hash;
  std::uint64_t at = index;
  unsigned level = 0;
  while ((at & 1) != 0) {
    h = node_hash(stored_hash(view, level, at - 1), h);
    at >>= 1;
    ++level;
    view.put(Table::audit_hashes, hash_key(level, at), h);
  }

  const std::string leaf_suffix = util::be64(index);
  view.put(Table::audit_index, index_prefix('p', record.principal.id) + leaf_suffix, "");
  view.put(Table::audit_index, index_prefix('a', record.action) + leaf_suffix, "");
  view.put(Table::audit_index, index_prefix('d', decision_name(record.decision)) + leaf_suffix, "");
  for (std::size_t i = 0; i < record.resources.size(); ++i) {
    const std::string& id = record.resources[i];
    if (std::find(record.resources.begin(), record.resources.begin() + i, id) !=
        record.resources.begin() + i) {
      continue;  // indexed once
    }
    view.put(Table::audit_index, index_prefix('r', id) + leaf_suffix, "");
  }
  if (!last_time || time_ms > *last_time) {
    view.put(Table::audit_index, std::string("t") + util::be64(biased(time_ms)), leaf_suffix);
  }
  view.put(Table::audit_state, kTimeKey, util::be64(biased(time_ms)));
  view.put(Table::audit_state, kSizeKey, util::be64(index + 1));
  return out;
}

Result<Hash> root_at(const store::ReadView& view, std::uint64_t size) {
  const std::uint64_t have = tree_size(view);
  if (size > have) {
    return make_error("tree size " + std::to_string(size) + " is beyond the log's " +
                      std::to_string(have));
  }
  return root_from(size, stored_subtrees(view));
}

std::optional<std::string> leaf_at(const store::ReadView& view, std::uint64_t index) {
  return view.get(Table::audit_leaves, util::be64(index));
}

Result<Proof> prove_inclusion(const store::ReadView& view, std::uint64_t index,
                              std::uint64_t size) {
  const std::uint64_t have = tree_size(view);
  if (size > have) {
    return make_error("tree size " + std::to_string(size) + " is beyond the log's " +
                      std::to_string(have));
  }
  return inclusion_proof(index, size, stored_subtrees(view));
}

Result<Proof> prove_consistency(const store::ReadView& view, std::uint64_t size1,
                                std::uint64_t size2) {
  const std::uint64_t have = tree_size(view);
  if (size2 > have) {
    return make_error("tree size " + std::to_string(size2) + " is beyond the log's " +
                      std::to_string(have));
  }
  return consistency_proof(size1, size2, stored_subtrees(view));
}

Result<void> check_stored(const store::ReadView& view, std::uint64_t size,
                          std::string_view expected_root) {
  const std::uint64_t have = tree_size(view);
  if (size > have) {
    return make_error("tree size " + std::to_string(size) + " is beyond the log's " +
                      std::to_string(have));
  }
  // frontier holds the roots of the complete subtrees over the leaves seen
  // so far, largest first (the binary digits of the count).
  std::vector<std::pair<unsigned, Hash>> frontier;
  std::uint64_t next = 0;
  std::optional<Error> problem;
  view.scan(Table::audit_leaves, "", [&](std::string_view key, std::string_view leaf) {
    if (next >= size) return false;
    if (key != util::be64(next)) {
      problem = make_error("leaf " + std::to_string(next) + " is missing");
      return false;
    }
    if (auto decoded = decode_leaf(leaf); !decoded) {
      problem = make_error("leaf " + std::to_string(next) +
                           " is not a canonical record: " + decoded.error().message);
      return false;
    }
    Hash h = leaf_hash(leaf);
    if (view.get(Table::audit_hashes, hash_key(0, next)) != h) {
      problem = make_error("leaf " + std::to_string(next) + " does not match its stored hash");
      return false;
    }
    unsigned level = 0;
    std::uint64_t at = next;
    while ((at & 1) != 0) {
      if (frontier.empty() || frontier.back().first != level) {
        problem = make_error("internal error: frontier out of step");
        return false;
      }
      h = node_hash(frontier.back().second, h);
      frontier.pop_back();
      at >>= 1;
      ++level;
      if (view.get(Table::audit_hashes, hash_key(level, at)) != h) {
        problem = make_error("stored hash of level " + std::to_string(level) + " index " +
                             std::to_string(at) + " does not match the leaves below it");
        return false;
      }
    }
    frontier.emplace_back(level, std::move(h));
    ++next;
    return true;
  });
  if (problem) return *problem;
  if (next != size) return make_error("leaf " + std::to_string(next) + " is missing");
  Hash root = empty_root();
  if (!frontier.empty()) {
    root = frontier.back().second;
    for (auto it = frontier.rbegin() + 1; it != frontier.rend(); ++it) {
      root = node_hash(it->second, root);
    }
  }
  if (root != expected_root) {
    return make_error("the leaves' root at size " + std::to_string(size) +
                      " differs from the expected root");
  }
  return {};
}

Result<Page> query(const store::ReadView& view, const Filter& filter) {
  if (filter.limit == 0 || filter.limit > kMaxQueryLimit) {
    return make_error("limit must be 1 to " + std::to_string(kMaxQueryLimit));
  }
  if (filter.from_ms && filter.to_ms && *filter.from_ms > *filter.to_ms) {
    return make_error("from is after to");
  }
  const std::uint64_t size = tree_size(view);
  std::uint64_t lo = filter.cursor;
  std::uint64_t hi = size;
  if (filter.from_ms) lo = std::max(lo, first_index_at_or_after(view, *filter.from_ms, size));
  if (filter.to_ms && *filter.to_ms != std::numeric_limits<std::int64_t>::max()) {
    hi = std::min(hi, first_index_at_or_after(view, *filter.to_ms + 1, size));
  }

  std::vector<std::string> streams;
  if (filter.principal) streams.push_back(index_prefix('p', *filter.principal));
  if (filter.identifier) streams.push_back(index_prefix('r', *filter.identifier));
  if (filter.action) streams.push_back(index_prefix('a', *filter.action));
  if (filter.decision) streams.push_back(index_prefix('d', decision_name(*filter.decision)));

  Page page;
  std::uint64_t target = lo;
  while (target < hi) {
    // Leapfrog join: every stream seeks to the current target; one that
    // lands later moves the target, until all agree on one leaf.
    std::size_t agree = 0;
    std::size_t i = 0;
    bool exhausted = false;
    while (!streams.empty() && agree < streams.size()) {
      auto found = seek(view, streams[i], target);
      if (!found || *found >= hi) {
        exhausted = true;
        break;
      }
      if (*found == target) {
        ++agree;
      } else {
        target = *found;
        agree = 1;
      }
      i = (i + 1) % streams.size();
    }
    if (exhausted) break;
    auto leaf = leaf_at(view, target);
    if (!leaf) corrupt("indexed leaf " + std::to_string(target) + " is missing");
    auto record = decode_leaf(*leaf);
    if (!record) corrupt("leaf " + std::to_string(target) + ": " + record.error().message);
    // Indexes only propose candidates; the record decides (long values are
    // indexed by hash).
    if (matches(*record, filter)) {
      if (page.entries.size() == filter.limit) {
        page.next_cursor = target;
        break;
      }
      page.entries.push_back(Entry{target, std::move(*leaf), std::move(record).value()});
    }
    ++target;
  }
  return page;
}

}  // namespace idra::audit
