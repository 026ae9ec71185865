// log.cpp: the audit log in LMDB: append, roots, proofs, full checks and
// queries (table layout in include/idra/audit.hpp).
#include <algorithm>
#include <array>
#include <deque>
#include <limits>
#include <stdexcept>

#include "audit/util.hpp"
#include "idra/audit.hpp"

namespace idra::audit {

namespace {

using store::Table;

constexpr std::string_view kSizeKey = "size";
constexpr std::string_view kTimeKey = "time";
constexpr std::string_view kIndexedKey = "indexed";
constexpr std::string_view kHashKeysKey = "hash_keys";
// Every leaf's canonical encoding starts with this, followed by its time.
constexpr std::string_view kLeafHead = "{\"v\":1,\"time_ms\":";
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

// index_prefix is tag || BE16(length) || value, or tag || 0xFFFF ||
// SHA-256(value) for long values; a leaf's entry appends BE64(leaf index).
void append_index_prefix(std::string& key, char tag, std::string_view value) {
  key += tag;
  if (value.size() > kMaxInlineIndexValue) {
    key += "\xFF\xFF";
    key += sha256(value);
  } else {
    key += static_cast<char>(value.size() >> 8);
    key += static_cast<char>(value.size() & 0xFF);
    key += value;
  }
}

std::string index_prefix(char tag, std::string_view value) {
  std::string key;
  append_index_prefix(key, tag, value);
  return key;
}

// append_index_value is append_index_prefix for a value as its leaf holds
// it: a string that is not valid UTF-8 is stored with U+FFFD in place of
// each offending byte (encode_leaf), so its terms are taken from that form,
// the one a parsed-back leaf and a query see.
void append_index_value(std::string& key, char tag, std::string_view value) {
  bool ascii = true;
  for (char c : value) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  if (ascii || util::valid_utf8(value)) {
    append_index_prefix(key, tag, value);
    return;
  }
  std::string as_stored;
  util::append_utf8_replacing(as_stored, value);
  append_index_prefix(key, tag, as_stored);
}

// term_length returns the length of the index term at |terms[pos]| (tag,
// length or 0xFFFF, value or hash). A term that overruns is a broken
// invariant (terms are made by append_index_terms): throws.
std::size_t term_length(std::string_view terms, std::size_t pos) {
  if (terms.size() - pos < 3) throw std::logic_error("audit: truncated index terms");
  const auto hi = static_cast<unsigned char>(terms[pos + 1]);
  const auto lo = static_cast<unsigned char>(terms[pos + 2]);
  const std::size_t len = hi == 0xFF && lo == 0xFF ? kHashBytes : (std::size_t{hi} << 8) | lo;
  if (terms.size() - pos - 3 < len) throw std::logic_error("audit: truncated index terms");
  return 3 + len;
}

std::uint64_t read_u64_value(std::string_view bytes, const char* what) {
  if (bytes.size() != 8) corrupt(std::string(what) + " is not 8 bytes");
  return util::read_be64(bytes);
}

Hash stored_hash(const store::ReadView& view, util::HashKeys keys, unsigned level,
                 std::uint64_t index) {
  auto value = view.get(Table::audit_hashes, util::hash_key(keys, level, index));
  if (!value || value->size() != kHashBytes) {
    corrupt("hash of level " + std::to_string(level) + " index " + std::to_string(index) +
            (value ? " has the wrong size" : " is missing"));
  }
  return std::move(*value);
}

SubtreeFn stored_subtrees(const store::ReadView& view) {
  const util::HashKeys keys = util::hash_keys(view);
  return [&view, keys](unsigned level, std::uint64_t index) {
    return stored_hash(view, keys, level, index);
  };
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

// epoch_key is the start of the keys of |index_prefix| entries in |epoch|.
std::string epoch_key(std::uint64_t epoch, std::string_view index_prefix) {
  std::string key(1, 'e');
  key += util::be64(epoch);
  key += index_prefix;
  return key;
}

// run_first reads the first leaf of the run whose entry has |value| and
// whose last leaf is |last|: the value holds it, or is empty for a run of
// one leaf.
std::uint64_t run_first(std::string_view value, std::uint64_t last) {
  if (value.empty()) return last;
  if (value.size() != 8) corrupt("index entry value of the wrong length");
  const std::uint64_t first = util::read_be64(value);
  if (first > last || first >> kIndexEpochBits != last >> kIndexEpochBits) {
    corrupt("index run out of order or across epochs");
  }
  return first;
}

// seek returns the first leaf index >= |target| and < |end| listed under
// |prefix| (an index_prefix), walking the epochs from |target|'s: one seek
// per epoch visited (the first run whose last leaf is >= target holds the
// answer, or starts after it).
std::optional<std::uint64_t> seek(const store::ReadView& view, const std::string& prefix,
                                  std::uint64_t target, std::uint64_t end) {
  for (std::uint64_t epoch = target >> kIndexEpochBits;
       target < end && (epoch << kIndexEpochBits) < end; ++epoch) {
    const std::string at = epoch_key(epoch, prefix);
    const std::uint64_t from = std::max(target, epoch << kIndexEpochBits);
    std::optional<std::uint64_t> found;
    view.scan(
        Table::audit_index, at,
        [&](std::string_view key, std::string_view value) {
          if (key.size() != at.size() + 8) corrupt("index key of the wrong length");
          const std::uint64_t last = util::read_be64(key.substr(at.size()));
          found = std::max(run_first(value, last), from);
          return false;
        },
        at + util::be64(from));
    if (found) {
      if (*found >> kIndexEpochBits != epoch) corrupt("index entry outside its epoch");
      return *found < end ? found : std::nullopt;
    }
  }
  return std::nullopt;
}

// with_time returns |leaf| (canonical) with its time_ms replaced by
// |time_ms|: what encode_leaf writes for the record with that time, since
// the time is the leaf's first variable field.
std::string with_time(std::string_view leaf, std::int64_t time_ms) {
  const auto comma = leaf.find(',', kLeafHead.size());
  if (!leaf.starts_with(kLeafHead) || comma == std::string_view::npos) {
    throw std::logic_error("audit: a prepared leaf is not a version 1 leaf");
  }
  std::string out(kLeafHead);
  out += std::to_string(time_ms);
  out += leaf.substr(comma);
  return out;
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

// append_index_terms: one function for a record in memory and a leaf
// parsed back, so that both give the same entries.
void util::append_index_terms(std::string& out, std::string_view principal_id,
                              std::string_view action, Decision decision,
                              std::span<const std::string> resources) {
  append_index_value(out, 'p', principal_id);
  append_index_value(out, 'a', action);
  append_index_value(out, 'd', decision_name(decision));
  for (const std::string& id : resources) append_index_value(out, 'r', id);
}

std::uint64_t tree_size(const store::ReadView& view) {
  auto value = view.get(Table::audit_state, kSizeKey);
  if (!value) return 0;
  return read_u64_value(*value, "tree size");
}

std::string util::hash_key(HashKeys keys, unsigned level, std::uint64_t index) {
  if (level >= 64 || (level > 0 && index >= (std::uint64_t{1} << (64 - level)))) {
    throw std::logic_error("audit: a subtree beyond 2^64 leaves");
  }
  std::string key;
  if (keys == HashKeys::by_last_leaf) {
    // The last leaf covered, then the level: the nodes an append completes
    // all end at its leaf, lowest level first, so keys only grow.
    key = be64(((index + 1) << level) - 1);
    key += static_cast<char>(level);
  } else {
    key.assign(1, static_cast<char>(level));
    key += be64(index);
  }
  return key;
}

util::HashKeys util::hash_keys(const store::ReadView& view) {
  const auto mark = view.get(Table::audit_state, kHashKeysKey);
  if (!mark) return HashKeys::by_level;  // a log started before the mark (or still empty)
  if (*mark == "2") return HashKeys::by_last_leaf;
  if (*mark == "1") return HashKeys::by_level;
  corrupt("hash key mark is neither 1 nor 2");
}

void util::mark_hash_keys(store::WriteView& view, HashKeys keys) {
  if (tree_size(view) != 0) throw std::logic_error("audit: marking the hash keys of a log that is not empty");
  view.put(Table::audit_state, kHashKeysKey, keys == HashKeys::by_last_leaf ? "2" : "1");
}

PreparedLeaf prepare(const RecordView& record) {
  // The leaf is encoded into a buffer this thread keeps, then copied once
  // into a string of its exact size: one allocation per record, not the
  // two or three of a string grown while encoding.
  thread_local std::string buffer;
  buffer.clear();
  encode_leaf_into(buffer, record);
  PreparedLeaf out;
  out.time_ms = record.time_ms;
  out.leaf.assign(buffer);
  out.leaf_hash = leaf_hash(out.leaf);
  buffer.clear();
  util::append_index_terms(buffer, record.principal_id, record.action, record.decision,
                           record.resources);
  out.terms.assign(buffer);
  // One huge record does not pin its buffer's memory in this thread.
  if (buffer.capacity() > (std::size_t{1} << 16)) std::string().swap(buffer);
  return out;
}

PreparedLeaf prepare(const AuditRecord& record) { return prepare(view_of(record)); }

std::string index_terms(const RecordView& record) {
  std::string out;
  util::append_index_terms(out, record.principal_id, record.action, record.decision,
                           record.resources);
  return out;
}

namespace {

// stored_last_time returns the time of the log's last leaf; nullopt if it
// is empty.
std::optional<std::int64_t> stored_last_time(const store::ReadView& view, std::uint64_t size) {
  if (size == 0) return std::nullopt;
  auto value = view.get(Table::audit_state, kTimeKey);
  if (!value) corrupt("last time is missing");
  return unbiased(read_u64_value(*value, "last time"));
}

}  // namespace

std::uint64_t util::append_leaves(store::WriteView& view, std::span<const LeafRef> leaves) {
  const std::uint64_t first = tree_size(view);
  std::optional<std::int64_t> last_time = stored_last_time(view, first);
  // A new log is keyed by last leaf (every hash an append); an older one
  // keeps its keys (puts).
  HashKeys keys;
  if (first == 0 && !leaves.empty() && !view.get(Table::audit_state, kHashKeysKey)) {
    mark_hash_keys(view, HashKeys::by_last_leaf);
    keys = HashKeys::by_last_leaf;
  } else {
    keys = hash_keys(view);
  }
  auto put_hash = [&](unsigned level, std::uint64_t at, std::string_view hash) {
    if (keys == HashKeys::by_last_leaf) {
      view.append(Table::audit_hashes, hash_key(keys, level, at), hash);
    } else {
      view.put(Table::audit_hashes, hash_key(keys, level, at), hash);
    }
  };
  using HashBytes = std::array<char, kHashBytes>;
  auto bytes_of = [](const HashBytes& h) { return std::string_view(h.data(), h.size()); };
  // waiting[level] is the hash of the complete subtree at |level| that waits
  // for its right sibling (there is one wherever the size has bit |level|
  // set), read from the store the first time it is needed; bit |level| of
  // |have| says it is in waiting. Fixed arrays: no allocation per hash.
  std::array<HashBytes, 64> waiting;
  std::uint64_t have = 0;
  std::string rewritten;
  HashBytes rehashed;
  std::string time_key("t");
  std::uint64_t index = first;
  for (const LeafRef& p : leaves) {
    std::string_view leaf = p.leaf;
    std::string_view hash = p.leaf_hash;
    std::int64_t time_ms = p.time_ms;
    if (hash.size() != kHashBytes) throw std::logic_error("audit: a leaf hash is not 32 bytes");
    if (last_time && time_ms < *last_time) {
      rewritten = with_time(leaf, *last_time);
      leaf = rewritten;
      leaf_hash_into(rehashed.data(), leaf);
      hash = bytes_of(rehashed);
      time_ms = *last_time;
    }
    const std::string leaf_key = be64(index);
    view.append(Table::audit_leaves, leaf_key, leaf);
    put_hash(0, index, hash);
    // Each leaf whose index is odd at some level completes the subtree above
    // it: one hash and one write per completed level (one on average).
    HashBytes h;
    std::copy(hash.begin(), hash.end(), h.begin());
    std::uint64_t at = index;
    unsigned level = 0;
    while ((at & 1) != 0) {
      const std::uint64_t bit = std::uint64_t{1} << level;
      if ((have & bit) == 0) {
        const Hash stored = stored_hash(view, keys, level, at - 1);
        std::copy(stored.begin(), stored.end(), waiting[level].begin());
      }
      have &= ~bit;
      HashBytes parent;
      node_hash_into(parent.data(), bytes_of(waiting[level]), bytes_of(h));
      h = parent;
      at >>= 1;
      ++level;
      put_hash(level, at, bytes_of(h));
    }
    waiting[level] = h;
    have |= std::uint64_t{1} << level;
    if (!last_time || time_ms > *last_time) {
      time_key.resize(1);
      time_key += be64(biased(time_ms));
      view.put(Table::audit_index, time_key, leaf_key);
      last_time = time_ms;
    }
    ++index;
  }
  if (index != first) {
    view.put(Table::audit_state, kTimeKey, be64(biased(*last_time)));
    view.put(Table::audit_state, kSizeKey, be64(index));
  }
  return first;
}

std::uint64_t append_prepared(store::WriteView& view, std::span<PreparedLeaf> leaves) {
  // The rewrite of leaves earlier than their predecessor is done here, in
  // place, as documented; append_leaves then finds nothing to rewrite.
  std::optional<std::int64_t> last_time = stored_last_time(view, tree_size(view));
  std::vector<util::LeafRef> refs;
  refs.reserve(leaves.size());
  for (PreparedLeaf& p : leaves) {
    if (last_time && p.time_ms < *last_time) {
      p.leaf = with_time(p.leaf, *last_time);
      p.time_ms = *last_time;
      p.leaf_hash = leaf_hash(p.leaf);
    }
    last_time = p.time_ms;
    refs.push_back(util::LeafRef{p.time_ms, p.leaf, p.leaf_hash});
  }
  return util::append_leaves(view, refs);
}

Appended append(store::WriteView& view, const AuditRecord& record) {
  return append(view, view_of(record));
}

Appended append(store::WriteView& view, const RecordView& record) {
  PreparedLeaf one = prepare(record);
  Appended out;
  out.index = append_prepared(view, std::span<PreparedLeaf>(&one, 1));
  out.leaf = std::move(one.leaf);
  out.leaf_hash = std::move(one.leaf_hash);
  return out;
}

std::uint64_t indexed_size(const store::ReadView& view) {
  auto value = view.get(Table::audit_state, kIndexedKey);
  if (!value) return 0;
  const std::uint64_t n = read_u64_value(*value, "indexed size");
  if (n > tree_size(view)) corrupt("more leaves indexed than the tree holds");
  return n;
}

std::uint64_t index_pending(store::WriteView& view, std::uint64_t max_leaves,
                            const KnownTerms& known) {
  const std::uint64_t size = tree_size(view);
  const std::uint64_t from = indexed_size(view);
  const std::uint64_t to = std::min(size, from + std::min(max_leaves, size - from));
  if (from >= to) return 0;
  // Each leaf's terms become runs of consecutive leaves sharing a term.
  // Most reads share their principal, action and decision with the leaf
  // before, so those extend the previous leaf's run in place; resources
  // are mostly one leaf each. The runs are then sorted into key order and
  // the runs of one term merged. The views point into |known|'s strings or
  // into |parsed| (a deque: its strings do not move).
  struct Run {
    std::string_view term;
    std::uint64_t first;
    std::uint64_t last;
  };
  std::vector<Run> runs;
  runs.reserve(static_cast<std::size_t>(to - from) * 2 + 16);
  constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();
  std::size_t previous[3] = {kNone, kNone, kNone};  // runs of 'p', 'a', 'd' at the last leaf
  auto add_leaf = [&](std::uint64_t leaf, std::string_view terms) {
    for (std::size_t pos = 0; pos < terms.size();) {
      const std::size_t len = term_length(terms, pos);
      const std::string_view term = terms.substr(pos, len);
      pos += len;
      const char tag = term[0];
      const int slot = tag == 'p' ? 0 : tag == 'a' ? 1 : tag == 'd' ? 2 : -1;
      if (slot >= 0) {
        std::size_t& at = previous[slot];
        if (at != kNone && runs[at].last + 1 == leaf && runs[at].term == term &&
            runs[at].first >> kIndexEpochBits == leaf >> kIndexEpochBits) {
          runs[at].last = leaf;
          continue;
        }
        at = runs.size();
      }
      runs.push_back(Run{term, leaf, leaf});
    }
  };
  std::deque<std::string> parsed;
  AuditRecord record;
  // |known| is asked once per leaf, in order.
  std::string_view terms = known ? known(from) : std::string_view();
  for (std::uint64_t i = from; i < to;) {
    if (!terms.empty()) {
      add_leaf(i, terms);
      ++i;
      terms = known && i < to ? known(i) : std::string_view();
      continue;
    }
    // A stretch of leaves whose terms are not in memory: parsed back, in
    // one scan.
    std::uint64_t end = i + 1;
    if (known) {
      while (end < to && (terms = known(end)).empty()) ++end;
    } else {
      end = to;
    }
    std::uint64_t next = i;
    view.scan(
        Table::audit_leaves, "",
        [&](std::string_view key, std::string_view leaf) {
          if (next >= end) return false;
          if (key != util::be64(next)) corrupt("leaf " + std::to_string(next) + " is missing");
          if (auto ok = util::parse_leaf_into(leaf, record); !ok) {
            corrupt("leaf " + std::to_string(next) + ": " + ok.error().message);
          }
          std::string& stored = parsed.emplace_back();
          util::append_index_terms(stored, record.principal.id, record.action, record.decision,
                                   record.resources);
          add_leaf(next, stored);
          ++next;
          return true;
        },
        util::be64(i));
    if (next != end) corrupt("leaf " + std::to_string(next) + " is missing");
    i = end;
  }

  // Key order: 'e' || BE64(epoch) || term || BE64(last leaf). Terms are
  // prefix-free (tag, then a length that fixes theirs), so ordering by
  // (epoch, term, leaf) is the keys' byte order.
  std::sort(runs.begin(), runs.end(), [](const Run& a, const Run& b) {
    const std::uint64_t ea = a.first >> kIndexEpochBits, eb = b.first >> kIndexEpochBits;
    if (ea != eb) return ea < eb;
    if (const int c = a.term.compare(b.term); c != 0) return c < 0;
    return a.first < b.first;
  });
  // Entries: epoch_key || BE64(last leaf of the run) -> BE64(first leaf),
  // or empty for a run of one. A run that starts at |from| may continue the
  // previous transaction's last run of the same term: that entry is
  // replaced by the longer run.
  std::string key;
  for (std::size_t k = 0; k < runs.size();) {
    Run run = runs[k];
    const std::uint64_t epoch = run.first >> kIndexEpochBits;
    // Runs of one term in one epoch that touch or overlap (a resource named
    // twice in a leaf) are one run.
    for (++k; k < runs.size() && runs[k].first >> kIndexEpochBits == epoch &&
              runs[k].term == run.term && runs[k].first <= run.last + 1;
         ++k) {
      run.last = std::max(run.last, runs[k].last);
    }
    key.assign(1, 'e');
    key += util::be64(epoch);
    key += run.term;
    if (run.first == from && (from & ((std::uint64_t{1} << kIndexEpochBits) - 1)) != 0) {
      const std::size_t at = key.size();
      key += util::be64(from - 1);
      if (auto value = view.get(Table::audit_index, key)) {
        run.first = run_first(*value, from - 1);
        view.erase(Table::audit_index, key);
      }
      key.resize(at);
    }
    key += util::be64(run.last);
    view.put(Table::audit_index, key, run.first == run.last ? std::string() : util::be64(run.first));
  }
  view.put(Table::audit_state, kIndexedKey, util::be64(to));
  return to - from;
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
  util::HashKeys keys;
  try {
    keys = util::hash_keys(view);
  } catch (const std::runtime_error& e) {
    return make_error(e.what());
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
    if (view.get(Table::audit_hashes, util::hash_key(keys, 0, next)) != h) {
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
      if (view.get(Table::audit_hashes, util::hash_key(keys, level, at)) != h) {
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
  const std::uint64_t indexed = indexed_size(view);
  std::uint64_t lo = filter.cursor;
  std::uint64_t hi = size;
  if (filter.from_ms) lo = std::max(lo, first_index_at_or_after(view, *filter.from_ms, size));
  if (filter.to_ms && *filter.to_ms != std::numeric_limits<std::int64_t>::max()) {
    hi = std::min(hi, first_index_at_or_after(view, *filter.to_ms + 1, size));
  }

  std::vector<std::string> streams;
  // needles are what a matching leaf contains verbatim (its JSON strings),
  // a cheap test before decoding a leaf that is not indexed yet.
  std::vector<std::string> needles;
  auto constrain = [&](char tag, std::string_view value) {
    streams.push_back(index_prefix(tag, value));
    std::string needle;
    util::append_json_string(needle, value);
    needles.push_back(std::move(needle));
  };
  if (filter.principal) constrain('p', *filter.principal);
  if (filter.identifier) constrain('r', *filter.identifier);
  if (filter.action) constrain('a', *filter.action);
  if (filter.decision) constrain('d', decision_name(*filter.decision));

  Page page;
  // take decides one candidate; true when the page is complete (and
  // next_cursor set: one more match exists).
  auto take = [&](std::uint64_t index, std::string_view leaf) {
    auto record = decode_leaf(leaf);
    if (!record) corrupt("leaf " + std::to_string(index) + ": " + record.error().message);
    // Indexes only propose candidates; the record decides (long values are
    // indexed by hash).
    if (!matches(*record, filter)) return false;
    if (page.entries.size() == filter.limit) {
      page.next_cursor = index;
      return true;
    }
    page.entries.push_back(Entry{index, std::string(leaf), std::move(record).value()});
    return false;
  };
  // scan_leaves reads the leaves [from, to) in order, skipping those that
  // lack a needle; true when the page is complete.
  auto scan_leaves = [&](std::uint64_t from, std::uint64_t to) {
    bool complete = false;
    std::uint64_t next = from;
    if (from >= to) return false;
    view.scan(
        Table::audit_leaves, "",
        [&](std::string_view key, std::string_view leaf) {
          if (next >= to) return false;
          if (key != util::be64(next)) corrupt("leaf " + std::to_string(next) + " is missing");
          bool candidate = true;
          for (const std::string& needle : needles) {
            if (leaf.find(needle) == std::string_view::npos) {
              candidate = false;
              break;
            }
          }
          if (candidate && take(next, leaf)) {
            complete = true;
            return false;
          }
          ++next;
          return true;
        },
        util::be64(from));
    if (!complete && next != to) corrupt("leaf " + std::to_string(next) + " is missing");
    return complete;
  };

  if (streams.empty()) {
    scan_leaves(lo, hi);
    return page;
  }
  // The indexed leaves: leapfrog join over the constraints' indexes.
  const std::uint64_t indexed_hi = std::min(hi, indexed);
  std::uint64_t target = lo;
  while (target < indexed_hi) {
    // Every stream seeks to the current target; one that lands later moves
    // the target, until all agree on one leaf.
    std::size_t agree = 0;
    std::size_t i = 0;
    bool exhausted = false;
    while (agree < streams.size()) {
      auto found = seek(view, streams[i], target, indexed_hi);
      if (!found) {
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
    if (take(target, *leaf)) return page;
    ++target;
  }
  // The leaves not indexed yet, one by one.
  scan_leaves(std::max(lo, indexed), hi);
  return page;
}

}  // namespace idra::audit
