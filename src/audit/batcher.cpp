// batcher.cpp: group commit of read records (ReadBatcher in audit.hpp).
//
// Reads are many and each one's record need not be durable before the
// response leaves (a crash loses at most the last uncommitted batch of read
// records; the records of mutations are written in the mutation's own
// transaction). So the records queue here and one thread commits them in
// groups: one fsync for hundreds or thousands of reads.
//
// What the writer does per record is kept to the bytes that grow at the end
// of their tables (leaf, subtree hashes): the submitting thread encodes and
// hashes, and the secondary indexes, whose entries land on pages all over
// their B-tree, are written by the same thread in separate, larger
// transactions (index_pending) where each page is written once for many
// entries. Why one thread for both: LMDB has one writer at a time anyway,
// and one thread decides the order, so an index transaction never holds the
// write lock while a full batch of reads waits.
#include <pthread.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <stdexcept>

#include "audit/util.hpp"
#include "idra/audit.hpp"

namespace idra::audit {

namespace {

// kIndexTxnFactor bounds an index transaction at this many index_batch.
constexpr std::uint64_t kIndexTxnFactor = 4;
// kMaxChunkRecords bounds a queue chunk (its bytes are ~500 per record).
constexpr std::size_t kMaxChunkRecords = 512;
// kMaxStagingBytes: a submitting thread's staging buffers are released
// after a record larger than this, so that one huge record does not pin
// memory in every thread.
constexpr std::size_t kMaxStagingBytes = 1 << 16;

}  // namespace

ReadBatcher::ReadBatcher(store::Store& store, BatcherConfig config)
    : store_(store),
      config_([&] {
        if (config.max_batch == 0) config.max_batch = 1;
        if (config.max_txn_records < config.max_batch) config.max_txn_records = config.max_batch;
        if (config.queue_capacity < config.max_batch) config.queue_capacity = config.max_batch;
        return config;
      }()),
      chunk_records_(std::min(config_.max_batch, kMaxChunkRecords)) {
  thread_ = std::thread([this] { run(); });
}

ReadBatcher::~ReadBatcher() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  space_.notify_all();
  committed_.notify_all();
  thread_.join();
}

void ReadBatcher::submit(const AuditRecord& record) { submit(view_of(record)); }

void ReadBatcher::submit(const RecordView& record) {
  // Encoded, hashed and indexed into buffers this thread keeps: the only
  // copy made is into the queue's chunk.
  thread_local std::string leaf;
  thread_local std::string terms;
  leaf.clear();
  terms.clear();
  encode_leaf_into(leaf, record);
  char hash[kHashBytes];
  util::leaf_hash_into(hash, leaf);
  util::append_index_terms(terms, record.principal_id, record.action, record.decision,
                           record.resources);
  enqueue(record.time_ms, leaf, std::string_view(hash, kHashBytes), terms);
  if (leaf.capacity() > kMaxStagingBytes) std::string().swap(leaf);
  if (terms.capacity() > kMaxStagingBytes) std::string().swap(terms);
}

void ReadBatcher::submit(const PreparedLeaf& leaf) {
  if (leaf.leaf_hash.size() != kHashBytes) {
    throw std::invalid_argument("audit: a prepared leaf's hash is not 32 bytes");
  }
  enqueue(leaf.time_ms, leaf.leaf, leaf.leaf_hash, leaf.terms);
}

void ReadBatcher::enqueue(std::int64_t time_ms, std::string_view leaf, std::string_view hash,
                          std::string_view terms) {
  if (leaf.size() > UINT32_MAX || terms.size() > UINT32_MAX) {
    throw std::length_error("audit: a record of 4 GiB or more");
  }
  const auto now = Clock::now();
  std::unique_lock lock(mu_);
  space_.wait(lock, [&] { return queued_ < config_.queue_capacity || stopping_; });
  if (queue_.empty() || queue_.back().slots.size() >= chunk_records_) {
    if (spare_.empty()) {
      queue_.emplace_back();
    } else {
      queue_.push_back(std::move(spare_.back()));
      spare_.pop_back();
    }
  }
  Chunk& chunk = queue_.back();
  const Slot slot{time_ms, chunk.bytes.size(), static_cast<std::uint32_t>(leaf.size()),
                  static_cast<std::uint32_t>(terms.size()), now};
  try {
    chunk.bytes.append(leaf);
    chunk.bytes.append(hash);
    chunk.bytes.append(terms);
    chunk.slots.push_back(slot);
  } catch (...) {
    // Out of memory: the queue stays as it was (no chunk without slots).
    chunk.bytes.resize(slot.offset);
    if (chunk.slots.empty()) queue_.pop_back();
    throw;
  }
  ++queued_;
  ++submitted_;
  if (queued_ == 1 || queued_ == config_.max_batch) wake_.notify_one();
}

void ReadBatcher::flush() {
  std::unique_lock lock(mu_);
  const std::uint64_t target = submitted_;
  if (target > flush_wanted_) flush_wanted_ = target;
  wake_.notify_one();
  committed_.wait(lock, [&] { return done_ >= target || stopping_; });
}

void ReadBatcher::flush_index() {
  if (config_.index_batch == 0) return;
  std::uint64_t size = 0;
  store_.view([&](const store::ReadView& v) { size = tree_size(v); });
  std::unique_lock lock(mu_);
  if (size > index_wanted_) index_wanted_ = size;
  wake_.notify_one();
  committed_.wait(lock, [&] { return indexed_ >= size || stopping_; });
}

BatcherStats ReadBatcher::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

bool ReadBatcher::commit(std::vector<Chunk>& batch) {
  struct Item {
    util::LeafRef ref;
    std::string_view terms;
  };
  std::vector<Item> items;
  std::size_t count = 0;
  for (const Chunk& chunk : batch) count += chunk.slots.size();
  items.reserve(count);
  std::size_t terms_bytes = 0;
  for (const Chunk& chunk : batch) {
    const std::string_view bytes = chunk.bytes;
    for (const Slot& slot : chunk.slots) {
      const std::size_t hash_at = slot.offset + slot.leaf_bytes;
      items.push_back(Item{util::LeafRef{slot.time_ms, bytes.substr(slot.offset, slot.leaf_bytes),
                                         bytes.substr(hash_at, kHashBytes)},
                           bytes.substr(hash_at + kHashBytes, slot.terms_bytes)});
      terms_bytes += slot.terms_bytes;
    }
  }
  // Records reach the queue in the order their requests finished, not the
  // order they started; ordering the batch by time keeps the log's times
  // as close to the requests' own as append's never-decreasing rule allows.
  std::stable_sort(items.begin(), items.end(),
                   [](const Item& a, const Item& b) { return a.ref.time_ms < b.ref.time_ms; });
  std::vector<util::LeafRef> refs;
  refs.reserve(items.size());
  for (const Item& item : items) refs.push_back(item.ref);
  std::uint64_t first = 0;
  try {
    auto done = store_.transact([&](store::WriteView& view) -> Result<void> {
      // A retried transaction (map growth) starts again from the same
      // bytes, which append_leaves does not change; the attempt that
      // commits sets |first| last.
      first = util::append_leaves(view, refs);
      return {};
    });
    if (!done) {
      std::fprintf(stderr, "audit: committing %zu read records failed: %s\n", items.size(),
                   done.error().message.c_str());
      return false;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "audit: committing %zu read records failed: %s\n", items.size(),
                 e.what());
    return false;
  }
  // Keep the committed leaves' index terms for index_pending, in leaf
  // order, bounded: past the capacity (indexing keeps failing) the oldest
  // go, and their leaves are parsed back when indexed.
  if (config_.index_batch != 0 && !items.empty()) {
    KnownRun run;
    run.first = first;
    run.bytes.reserve(terms_bytes);
    run.ends.reserve(items.size());
    for (const Item& item : items) {
      run.bytes.append(item.terms);
      run.ends.push_back(static_cast<std::uint32_t>(run.bytes.size()));
    }
    if (run.bytes.size() == terms_bytes) {  // else over 4 GiB of terms: not kept
      known_count_ += run.ends.size();
      known_.push_back(std::move(run));
    }
    while (known_count_ > known_capacity() && !known_.empty()) {
      known_count_ -= known_.front().ends.size();
      known_.pop_front();
      known_at_ = 0;
    }
  }
  return true;
}

std::size_t ReadBatcher::known_capacity() const {
  return config_.index_batch * kIndexTxnFactor + config_.max_txn_records;
}

void ReadBatcher::forget_terms(std::uint64_t indexed) {
  while (!known_.empty() && known_.front().first + known_.front().ends.size() <= indexed) {
    known_count_ -= known_.front().ends.size();
    known_.pop_front();
    known_at_ = 0;
  }
}

std::string_view ReadBatcher::known_terms(std::uint64_t index) {
  if (known_.empty()) return {};
  // index_pending asks in ascending order: start from the run found last.
  if (known_at_ >= known_.size() || known_[known_at_].first > index) known_at_ = 0;
  for (; known_at_ < known_.size(); ++known_at_) {
    const KnownRun& run = known_[known_at_];
    if (index < run.first) return {};
    const std::uint64_t k = index - run.first;
    if (k < run.ends.size()) {
      const std::uint32_t begin = k == 0 ? 0 : run.ends[k - 1];
      return std::string_view(run.bytes).substr(begin, run.ends[k] - begin);
    }
  }
  known_at_ = 0;
  return {};
}

bool ReadBatcher::index_some(std::uint64_t min_tail) {
  for (unsigned rounds = 0;;) {
    std::uint64_t per_txn = config_.index_batch * kIndexTxnFactor;
    std::uint64_t size = 0, indexed = 0;
    store_.view([&](const store::ReadView& v) {
      size = tree_size(v);
      indexed = indexed_size(v);
    });
    {
      std::lock_guard lock(mu_);
      indexed_ = indexed;
      committed_.notify_all();
      const bool wanted = index_wanted_ > indexed;
      if (size - indexed == 0 || (size - indexed < min_tail && !wanted)) return true;
      // While a batch of reads waits, it goes first: one index transaction
      // per round. Each round appends at most max_txn_records and indexes
      // at least as many once index_batch wait, so the tail stays under
      // index_batch + max_txn_records (plus changes' records committed
      // meanwhile).
      if (rounds != 0 && queued_ >= config_.max_batch && !stopping_ && !wanted) return true;
      // Reads that wait are not held up by more than one index_batch (or
      // max_txn_records) of indexing: the delay a read's record may add to
      // max_delay is one such transaction.
      if (queued_ != 0 && !stopping_) {
        per_txn = std::max<std::uint64_t>(config_.index_batch, config_.max_txn_records);
      }
    }
    ++rounds;
    forget_terms(indexed);
    std::uint64_t n = 0;
    std::uint64_t from_memory = 0;
    const KnownTerms known = [&](std::uint64_t index) {
      const std::string_view terms = known_terms(index);
      from_memory += !terms.empty();
      return terms;
    };
    try {
      auto done = store_.transact([&](store::WriteView& view) -> Result<void> {
        from_memory = 0;  // a retried transaction counts again
        n = index_pending(view, per_txn, known);
        return {};
      });
      if (!done) {
        std::fprintf(stderr, "audit: indexing failed: %s\n", done.error().message.c_str());
        std::lock_guard lock(mu_);
        ++stats_.failed_index;
        return false;
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "audit: indexing failed: %s\n", e.what());
      std::lock_guard lock(mu_);
      ++stats_.failed_index;
      return false;
    }
    std::lock_guard lock(mu_);
    stats_.indexed += n;
    stats_.indexed_from_memory += from_memory;
    ++stats_.index_batches;
  }
}

void ReadBatcher::run() {
  // Named, so that top, perf and /proc/PID/task show the log's writer
  // apart from the request threads (bench/audit.sh measures its CPU).
  pthread_setname_np(pthread_self(), "audit-writer");
  const bool indexing = config_.index_batch != 0;
  // Chunks kept for reuse: enough for the largest transaction.
  const std::size_t max_spare = config_.max_txn_records / chunk_records_ + 1;
  auto last_index = Clock::now();
  std::vector<Chunk> batch;
  std::unique_lock lock(mu_);
  while (true) {
    // Idle: wait for records, a flush, or the next index round.
    wake_.wait_until(lock, last_index + config_.index_interval, [&] {
      return stopping_ || queued_ != 0 || (indexing && index_wanted_ > indexed_);
    });
    if (stopping_ && queued_ == 0) break;
    if (queued_ != 0) {
      const auto deadline = queue_.front().slots.front().at + config_.max_delay;
      // A flush, or a flush_index (which needs these records committed
      // before it can index them), cuts the wait short.
      wake_.wait_until(lock, deadline, [&] {
        return stopping_ || queued_ >= config_.max_batch || flush_wanted_ > done_ ||
               (indexing && index_wanted_ > indexed_);
      });
      // Whole chunks, in submit order, up to max_txn_records (a chunk holds
      // at most max_batch <= max_txn_records records, so one always fits).
      batch.clear();
      std::size_t n = 0;
      while (!queue_.empty() &&
             (batch.empty() || n + queue_.front().slots.size() <= config_.max_txn_records)) {
        n += queue_.front().slots.size();
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      queued_ -= n;
      space_.notify_all();
      lock.unlock();
      const bool ok = commit(batch);
      if (ok) {
        for (Chunk& c : batch) {
          c.bytes.clear();
          c.slots.clear();
        }
      }
      lock.lock();
      if (ok) {
        done_ += n;
        stats_.committed += n;
        ++stats_.batches;
        committed_.notify_all();
      } else {
        ++stats_.failed_commits;
        if (stopping_) {
          // The final attempt failed: these records are lost, and said so.
          std::fprintf(stderr, "audit: dropping %zu read records at shutdown\n", n);
          stats_.dropped += n;
          done_ += n;
          committed_.notify_all();
          continue;
        }
        // Keep the batch ahead of what arrived since; retry later. Its
        // oldest record, first in its first chunk, sets the next deadline.
        for (std::size_t i = batch.size(); i-- > 0;) queue_.push_front(std::move(batch[i]));
        queued_ += n;
        batch.clear();
        wake_.wait_for(lock, config_.retry_delay, [&] { return stopping_; });
        continue;
      }
      for (Chunk& c : batch) {
        if (spare_.size() >= max_spare) break;
        spare_.push_back(std::move(c));
      }
      batch.clear();
    }
    if (!indexing || stopping_) continue;
    // The index: whenever index_batch leaves wait for it, when asked
    // (flush_index), and at least every index_interval (a quiet log).
    const bool due =
        Clock::now() - last_index >= config_.index_interval || index_wanted_ > indexed_;
    lock.unlock();
    const bool ok = index_some(due ? 1 : config_.index_batch);
    if (due || !ok) last_index = Clock::now();
    lock.lock();
    if (!ok) wake_.wait_for(lock, config_.retry_delay, [&] { return stopping_; });
  }
}

}  // namespace idra::audit
