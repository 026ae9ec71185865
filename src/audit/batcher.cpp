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
#include <algorithm>
#include <cstdio>
#include <exception>

#include "idra/audit.hpp"

namespace idra::audit {

namespace {

// kIndexTxnFactor bounds an index transaction at this many index_batch.
constexpr std::uint64_t kIndexTxnFactor = 4;

}  // namespace

ReadBatcher::ReadBatcher(store::Store& store, BatcherConfig config)
    : store_(store), config_([&] {
        if (config.max_batch == 0) config.max_batch = 1;
        if (config.max_txn_records < config.max_batch) config.max_txn_records = config.max_batch;
        if (config.queue_capacity < config.max_batch) config.queue_capacity = config.max_batch;
        return config;
      }()) {
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

void ReadBatcher::submit(const AuditRecord& record) { submit(prepare(record)); }

void ReadBatcher::submit(PreparedLeaf leaf) {
  const auto now = std::chrono::steady_clock::now();
  std::unique_lock lock(mu_);
  space_.wait(lock, [&] { return queue_.size() < config_.queue_capacity || stopping_; });
  queue_.push_back(Queued{std::move(leaf), now});
  ++submitted_;
  if (queue_.size() == 1 || queue_.size() == config_.max_batch) wake_.notify_one();
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

bool ReadBatcher::commit(std::vector<PreparedLeaf>& batch) {
  // Records reach the queue in the order their requests finished, not the
  // order they started; ordering the batch by time keeps the log's times
  // as close to the requests' own as append's never-decreasing rule allows.
  std::stable_sort(batch.begin(), batch.end(), [](const PreparedLeaf& a, const PreparedLeaf& b) {
    return a.time_ms < b.time_ms;
  });
  try {
    auto done = store_.transact([&](store::WriteView& view) -> Result<void> {
      // A retried transaction (map growth) starts again from the same bytes:
      // append_prepared only rewrites a leaf to a later time, which the
      // retry would write again the same way.
      (void)append_prepared(view, batch);
      return {};
    });
    if (done) return true;
    std::fprintf(stderr, "audit: committing %zu read records failed: %s\n", batch.size(),
                 done.error().message.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "audit: committing %zu read records failed: %s\n", batch.size(), e.what());
  }
  return false;
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
      if (rounds != 0 && queue_.size() >= config_.max_batch && !stopping_ && !wanted) return true;
      // Reads that wait are not held up by more than one index_batch (or
      // max_txn_records) of indexing: the delay a read's record may add to
      // max_delay is one such transaction.
      if (!queue_.empty() && !stopping_) {
        per_txn = std::max<std::uint64_t>(config_.index_batch, config_.max_txn_records);
      }
    }
    ++rounds;
    std::uint64_t n = 0;
    try {
      auto done = store_.transact([&](store::WriteView& view) -> Result<void> {
        n = index_pending(view, per_txn);
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
    ++stats_.index_batches;
  }
}

void ReadBatcher::run() {
  using Clock = std::chrono::steady_clock;
  const bool indexing = config_.index_batch != 0;
  auto last_index = Clock::now();
  std::unique_lock lock(mu_);
  while (true) {
    // Idle: wait for records, a flush, or the next index round.
    wake_.wait_until(lock, last_index + config_.index_interval, [&] {
      return stopping_ || !queue_.empty() || (indexing && index_wanted_ > indexed_);
    });
    if (stopping_ && queue_.empty()) break;
    if (!queue_.empty()) {
      const auto deadline = queue_.front().at + config_.max_delay;
      // A flush, or a flush_index (which needs these records committed
      // before it can index them), cuts the wait short.
      wake_.wait_until(lock, deadline, [&] {
        return stopping_ || queue_.size() >= config_.max_batch || flush_wanted_ > done_ ||
               (indexing && index_wanted_ > indexed_);
      });
      const std::size_t n = std::min(config_.max_txn_records, queue_.size());
      std::vector<PreparedLeaf> batch;
      batch.reserve(n);
      const Clock::time_point oldest = queue_.front().at;
      for (std::size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front().leaf));
        queue_.pop_front();
      }
      space_.notify_all();
      lock.unlock();
      const bool ok = commit(batch);
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
        // Keep the batch (in the order commit gave it) ahead of what arrived
        // since, all as old as its oldest record; retry later.
        for (std::size_t i = n; i-- > 0;) queue_.push_front(Queued{std::move(batch[i]), oldest});
        wake_.wait_for(lock, config_.retry_delay, [&] { return stopping_; });
        continue;
      }
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
