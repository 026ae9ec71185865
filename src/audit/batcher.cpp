// batcher.cpp: group commit of read records (ReadBatcher in audit.hpp).
//
// Reads are many and each one's record need not be durable before the
// response leaves (a crash loses at most max_delay of read records; the
// records of mutations are written in the mutation's own transaction). So
// the records queue here and one thread commits them in groups: one fsync
// for hundreds of reads.
#include <algorithm>
#include <cstdio>
#include <exception>

#include "idra/audit.hpp"

namespace idra::audit {

ReadBatcher::ReadBatcher(store::Store& store, BatcherConfig config)
    : store_(store), config_([&] {
        if (config.max_batch == 0) config.max_batch = 1;
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
  thread_.join();
}

void ReadBatcher::submit(AuditRecord record) {
  std::unique_lock lock(mu_);
  space_.wait(lock, [&] { return queue_.size() < config_.queue_capacity || stopping_; });
  queue_.emplace_back(std::move(record), std::chrono::steady_clock::now());
  ++submitted_;
  if (queue_.size() == 1 || queue_.size() >= config_.max_batch) wake_.notify_one();
}

void ReadBatcher::flush() {
  std::unique_lock lock(mu_);
  const std::uint64_t target = submitted_;
  if (target > flush_wanted_) flush_wanted_ = target;
  wake_.notify_one();
  committed_.wait(lock, [&] { return done_ >= target || stopping_; });
}

BatcherStats ReadBatcher::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

bool ReadBatcher::commit(std::vector<AuditRecord>& batch) {
  try {
    auto done = store_.transact([&](store::WriteView& view) -> Result<void> {
      for (const AuditRecord& record : batch) (void)append(view, record);
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

void ReadBatcher::run() {
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) break;  // stopping, nothing left
    const auto deadline = queue_.front().second + config_.max_delay;
    wake_.wait_until(lock, deadline, [&] {
      return stopping_ || queue_.size() >= config_.max_batch || flush_wanted_ > done_;
    });
    const std::size_t n = std::min(config_.max_batch, queue_.size());
    std::vector<AuditRecord> batch;
    std::vector<std::chrono::steady_clock::time_point> queued_at;
    batch.reserve(n);
    queued_at.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      batch.push_back(std::move(queue_.front().first));
      queued_at.push_back(queue_.front().second);
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
      continue;
    }
    ++stats_.failed_commits;
    if (stopping_) {
      // The final attempt failed: these records are lost, and said so.
      std::fprintf(stderr, "audit: dropping %zu read records at shutdown\n", n);
      stats_.dropped += n;
      done_ += n;
      committed_.notify_all();
      continue;
    }
    // Keep the batch, in order, ahead of what arrived since; retry later.
    for (std::size_t i = n; i-- > 0;) queue_.emplace_front(std::move(batch[i]), queued_at[i]);
    wake_.wait_for(lock, config_.retry_delay, [&] { return stopping_; });
  }
}

}  // namespace idra::audit
