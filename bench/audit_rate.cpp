// audit_rate.cpp: the audit log's own rates through idra_audit, with no HTTP
// in the way (bench/audit.sh runs it). Not a test: it passes no verdict.
//
//   bench_audit append DIR SECONDS [THREADS...]
//       Group commit: audit::ReadBatcher with its default BatcherConfig
//       (max_batch 512, max_delay 100 ms) over a durable store
//       (store::Options{} except initial_map_bytes = 8 GiB, so that no
//       transaction is replayed after map growth, and no prefaulting), fed
//       by THREADS threads (default 1 2 4) that each build realistic read
//       records (~400-byte leaves, see RecordMaker) and submit them for
//       SECONDS; the rate is records committed
//       per second from the first submit to the end of the final flush().
//       Then, in the same run, for reference, each in a fresh store:
//         append_big   audit::append of the same kind of records inside
//                      transactions of 100,000 (durable store), one thread
//                      (leaves and hashes only: append writes no secondary
//                      index entries since issue 5's second round);
//         append_batch the same in transactions of the batcher's largest
//                      transaction, max_txn_records (no queue, no threads);
//         store_put    WriteView::put of the same leaf bytes under BE64(index)
//                      in Table::audit_leaves, in transactions of that size
//                      (durable store);
//         lmdb_put     the same with liblmdb directly (mdb_put, own
//                      environment, same flags as idra's: MDB_NOTLS, fsync on
//                      commit), the floor;
//       each for SECONDS. Every store is made under DIR and removed after.
//
//   bench_audit batcher DIR SECONDS THREADS [MAX_BATCH [MAX_TXN [INDEX_BATCH]]]
//       The ReadBatcher measure alone (for perf), optionally with another
//       max_batch (default 512), max_txn_records (16384) and index_batch
//       (16384; 0: no indexing).
//
// Every batcher line also gives index_lag, the leaves not indexed yet when
// the final flush() returned, and per_second_indexed, the rate counting the
// time until flush_index() returned (the secondary indexes complete).
//
//   bench_audit build DIR LEAVES [TXN]
//       Appends LEAVES records with audit::append in transactions of TXN
//       (default 100,000), each also indexing them (audit::index_pending),
//       into a non-durable store at DIR (created; kept),
//       printing the rate and the bytes the store uses per leaf.
//
//   bench_audit prove DIR SECONDS
//       Over the log at DIR: inclusion proofs (random index < random size
//       <= tree size) and consistency proofs (random 1 <= size1 <= size2 <=
//       tree size) per second, each with its own Store::view (as a request
//       would) and all inside one view; then the verification rate of
//       10,000 such proofs (audit::verify_inclusion with the leaf hash and
//       the root, audit::verify_consistency with both roots), each measure
//       for SECONDS, single thread, plus inclusion proofs on 2 threads.
//
// BENCH_AUDIT_RESOURCES=N (environment) makes every record name one of N
// identifiers instead of 10^6, for breakdowns.
//
// Output: one line per measure, "<measure> key=value ...". cpu_us is the
// process's CPU time (user + system, all threads) per record over the timed
// part, which a busy machine disturbs less than the rate; written_bytes is
// what the process wrote per record (wchar of /proc/self/io: LMDB's pages).
#include <lmdb.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "idra/audit.hpp"
#include "idra/store.hpp"

namespace {

using namespace idra;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench_audit: %s\n", what.c_str());
  std::exit(1);
}

// cpu_seconds is the CPU (user + system) this process has used so far.
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// written_bytes is what this process has handed to write(2)-like calls so
// far ("wchar" of /proc/self/io): for LMDB, the pages each commit writes.
double written_bytes() {
  std::FILE* f = std::fopen("/proc/self/io", "r");
  if (f == nullptr) return 0;
  char name[64];
  unsigned long long v = 0;
  double out = 0;
  while (std::fscanf(f, "%63s %llu", name, &v) == 2) {
    if (std::strcmp(name, "wchar:") == 0) out = static_cast<double>(v);
  }
  std::fclose(f);
  return out;
}
double g_written_per_record = 0;  // of the last run, set beside cpu_us

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string hex(std::uint64_t v, int digits) {
  static const char* k = "0123456789abcdef";
  std::string out(static_cast<std::size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i, v >>= 4) out[static_cast<std::size_t>(i)] = k[v & 15];
  return out;
}

std::string be64(std::uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) out[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xFF);
  return out;
}

// A read record as the node writes one for GET /api/handles/88.100/bench-N:
// anonymous, one in eight by a device with a client certificate (id,
// organization, role, certificate SHA-256); one resource, three value
// indexes, one determining policy, a pseudonymized client address. Leaves of
// ~300 bytes on average (printed as leaf_bytes).
class RecordMaker {
 public:
  explicit RecordMaker(std::uint64_t seed) : rng_(seed) {
    for (int i = 0; i < 64; ++i) certs_.push_back(hex(rng_(), 16) + hex(rng_(), 16) + hex(rng_(), 16) + hex(rng_(), 16));
    for (int i = 0; i < 64; ++i) clients_.push_back(hex(rng_(), 16) + hex(rng_(), 16));
  }
  audit::AuditRecord make() {
    audit::AuditRecord r;
    r.time_ms = now_ms();
    r.request_id = hex(rng_(), 16) + hex(++n_, 8);
    const std::uint64_t device = rng_() % 64;
    if (n_ % 8 == 0) {  // one in eight reads by a device with its certificate
      r.principal.kind = audit::PrincipalKind::certificate;
      r.principal.id = "88.100.1/device-" + std::to_string(1000 + device);
      r.principal.organization = "Example Products Ltd";
      r.principal.role = "device";
      r.principal.cert_sha256 = certs_[device];
    }  // the others anonymous
    r.client = clients_[device];
    r.action = "handle.read";
    // BENCH_AUDIT_RESOURCES=N draws the resource from N identifiers instead
    // of 10^6 (a breakdown: how much the random 'r' index keys cost).
    static const std::uint64_t resources = [] {
      const char* env = std::getenv("BENCH_AUDIT_RESOURCES");
      return env != nullptr && std::atoll(env) > 0 ? static_cast<std::uint64_t>(std::atoll(env)) : 1000000;
    }();
    r.resources.push_back("88.100/bench-" + std::to_string(rng_() % resources));
    r.value_indexes = {1, 2, 100};
    r.decision = audit::Decision::allow;
    r.policies.push_back("public-resolution-88.100");
    r.http_status = 200;
    r.handle_code = 1;
    r.duration_us = 80 + rng_() % 400;
    return r;
  }

 private:
  std::mt19937_64 rng_;
  std::uint64_t n_ = 0;
  std::vector<std::string> certs_;
  std::vector<std::string> clients_;
};

store::Options durable_options() {
  store::Options o;  // durable = true
  o.initial_map_bytes = std::size_t{8} << 30;
  o.prefault_max_bytes = 0;
  return o;
}

std::unique_ptr<store::Store> open_store(const fs::path& dir, const store::Options& options) {
  auto s = store::Store::open(dir, options);
  if (!s) die("open " + dir.string() + ": " + s.error().message);
  return std::move(s).value();
}

void line(const char* measure, const std::string& rest) { std::printf("%s %s\n", measure, rest.c_str()); std::fflush(stdout); }

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// ---------------------------------------------------------------------------

// Of the last batcher_run: leaves not indexed yet when flush() returned, and
// the rate counting the time until the index had caught up (flush_index()).
double g_index_lag = 0;
double g_rate_indexed = 0;

double batcher_run(const fs::path& dir, int seconds, int threads, double* mean_batch, double* leaf_bytes,
                   double* cpu_us, audit::BatcherConfig config = {}) {
  fs::remove_all(dir);
  auto st = open_store(dir, durable_options());
  std::uint64_t committed = 0, batches = 0;
  double elapsed = 0;
  {
    audit::ReadBatcher batcher(*st, config);  // default BatcherConfig unless asked
    std::atomic<bool> stop{false};
    std::vector<std::thread> pool;
    const double cpu0 = cpu_seconds();
    const double w0 = written_bytes();
    const auto start = Clock::now();
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        RecordMaker maker(1000 + static_cast<std::uint64_t>(t));
        while (!stop.load(std::memory_order_relaxed)) batcher.submit(maker.make());
      });
    }
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
    stop = true;
    for (auto& th : pool) th.join();
    batcher.flush();
    elapsed = seconds_since(start);
    st->view([&](const store::ReadView& v) {
      g_index_lag = static_cast<double>(audit::tree_size(v) - audit::indexed_size(v));
    });
    batcher.flush_index();
    const double elapsed_indexed = seconds_since(start);
    *cpu_us = (cpu_seconds() - cpu0) * 1e6;
    g_written_per_record = written_bytes() - w0;
    const auto s = batcher.stats();
    g_rate_indexed = static_cast<double>(s.committed) / elapsed_indexed;
    committed = s.committed;
    batches = s.batches;
    if (s.failed_commits != 0 || s.dropped != 0) die("batcher reported failed commits");
  }
  std::uint64_t size = 0;
  std::uint64_t bytes = 0;
  st->view([&](const store::ReadView& v) {
    size = audit::tree_size(v);
    bytes = 0;
    for (std::uint64_t i = 0; i < std::min<std::uint64_t>(size, 1000); ++i) bytes += audit::leaf_at(v, i)->size();
  });
  if (size != committed) die("tree size differs from records committed");
  *cpu_us /= static_cast<double>(committed);
  g_written_per_record /= static_cast<double>(committed);
  *mean_batch = batches ? static_cast<double>(committed) / static_cast<double>(batches) : 0;
  *leaf_bytes = static_cast<double>(bytes) / static_cast<double>(std::min<std::uint64_t>(size, 1000));
  st.reset();
  fs::remove_all(dir);
  return static_cast<double>(committed) / elapsed;
}

double append_big_run(const fs::path& dir, int seconds, std::size_t per_txn, double* cpu_us) {
  fs::remove_all(dir);
  auto st = open_store(dir, durable_options());
  RecordMaker maker(7);
  std::uint64_t n = 0;
  const double cpu0 = cpu_seconds();
  const double w0 = written_bytes();
  const auto start = Clock::now();
  while (seconds_since(start) < seconds) {
    std::vector<audit::AuditRecord> batch;
    batch.reserve(per_txn);
    for (std::size_t i = 0; i < per_txn; ++i) batch.push_back(maker.make());
    auto done = st->transact([&](store::WriteView& v) -> Result<void> {
      for (const auto& r : batch) (void)audit::append(v, r);
      return {};
    });
    if (!done) die("transact: " + done.error().message);
    n += per_txn;
  }
  const double rate = static_cast<double>(n) / seconds_since(start);
  *cpu_us = (cpu_seconds() - cpu0) * 1e6 / static_cast<double>(n);
  g_written_per_record = (written_bytes() - w0) / static_cast<double>(n);
  st.reset();
  fs::remove_all(dir);
  return rate;
}

std::vector<std::string> make_leaves(std::size_t count) {
  RecordMaker maker(11);
  std::vector<std::string> leaves;
  leaves.reserve(count);
  for (std::size_t i = 0; i < count; ++i) leaves.push_back(audit::encode_leaf(maker.make()));
  return leaves;
}

double store_put_run(const fs::path& dir, int seconds, std::size_t per_txn, const std::vector<std::string>& leaves,
                     double* cpu_us) {
  fs::remove_all(dir);
  auto st = open_store(dir, durable_options());
  std::uint64_t n = 0;
  const double cpu0 = cpu_seconds();
  const double w0 = written_bytes();
  const auto start = Clock::now();
  while (seconds_since(start) < seconds) {
    auto done = st->transact([&](store::WriteView& v) -> Result<void> {
      for (std::size_t i = 0; i < per_txn; ++i) {
        v.put(store::Table::audit_leaves, be64(n + i), leaves[(n + i) % leaves.size()]);
      }
      return {};
    });
    if (!done) die("transact: " + done.error().message);
    n += per_txn;
  }
  const double rate = static_cast<double>(n) / seconds_since(start);
  *cpu_us = (cpu_seconds() - cpu0) * 1e6 / static_cast<double>(n);
  g_written_per_record = (written_bytes() - w0) / static_cast<double>(n);
  st.reset();
  fs::remove_all(dir);
  return rate;
}

void check(int rc, const char* what) {
  if (rc != 0) die(std::string(what) + ": " + mdb_strerror(rc));
}

double lmdb_put_run(const fs::path& dir, int seconds, std::size_t per_txn, const std::vector<std::string>& leaves,
                    double* cpu_us) {
  fs::remove_all(dir);
  fs::create_directories(dir);
  MDB_env* env = nullptr;
  check(mdb_env_create(&env), "mdb_env_create");
  check(mdb_env_set_maxdbs(env, 4), "mdb_env_set_maxdbs");
  check(mdb_env_set_mapsize(env, std::size_t{8} << 30), "mdb_env_set_mapsize");
  check(mdb_env_open(env, dir.c_str(), MDB_NOTLS, 0600), "mdb_env_open");
  MDB_dbi dbi = 0;
  {
    MDB_txn* txn = nullptr;
    check(mdb_txn_begin(env, nullptr, 0, &txn), "mdb_txn_begin");
    check(mdb_dbi_open(txn, "audit_leaves", MDB_CREATE, &dbi), "mdb_dbi_open");
    check(mdb_txn_commit(txn), "mdb_txn_commit");
  }
  std::uint64_t n = 0;
  const double cpu0 = cpu_seconds();
  const double w0 = written_bytes();
  const auto start = Clock::now();
  while (seconds_since(start) < seconds) {
    MDB_txn* txn = nullptr;
    check(mdb_txn_begin(env, nullptr, 0, &txn), "mdb_txn_begin");
    for (std::size_t i = 0; i < per_txn; ++i) {
      std::string key = be64(n + i);
      const std::string& leaf = leaves[(n + i) % leaves.size()];
      MDB_val k{key.size(), key.data()};
      MDB_val v{leaf.size(), const_cast<char*>(leaf.data())};
      check(mdb_put(txn, dbi, &k, &v, 0), "mdb_put");
    }
    check(mdb_txn_commit(txn), "mdb_txn_commit");
    n += per_txn;
  }
  const double rate = static_cast<double>(n) / seconds_since(start);
  *cpu_us = (cpu_seconds() - cpu0) * 1e6 / static_cast<double>(n);
  g_written_per_record = (written_bytes() - w0) / static_cast<double>(n);
  mdb_env_close(env);
  fs::remove_all(dir);
  return rate;
}

int cmd_append(const fs::path& dir, int seconds, std::vector<int> threads) {
  if (threads.empty()) threads = {1, 2, 4};
  double mean_batch = 512;
  double cpu_us = 0;
  for (int t : threads) {
    double leaf_bytes = 0;
    const double rate = batcher_run(dir / "batcher", seconds, t, &mean_batch, &leaf_bytes, &cpu_us);
    line("batcher", "threads=" + std::to_string(t) + " per_second=" + fmt("%.0f", rate) +
                        " mean_batch=" + fmt("%.1f", mean_batch) + " leaf_bytes=" + fmt("%.1f", leaf_bytes) +
                        " cpu_us=" + fmt("%.2f", cpu_us) + " written_bytes=" + fmt("%.0f", g_written_per_record) +
                        " index_lag=" + fmt("%.0f", g_index_lag) + " per_second_indexed=" + fmt("%.0f", g_rate_indexed));
  }
  // The references use the batcher's largest transaction (the size it
  // commits at when the queue is deep, as it is here), a fixed number so
  // that rounds compare.
  (void)mean_batch;
  const std::size_t batch = audit::BatcherConfig{}.max_txn_records;
  double rate = append_big_run(dir / "big", seconds, 100000, &cpu_us);
  line("append_big", "per_txn=100000 per_second=" + fmt("%.0f", rate) + " cpu_us=" + fmt("%.2f", cpu_us) + " written_bytes=" + fmt("%.0f", g_written_per_record));
  rate = append_big_run(dir / "small", seconds, batch, &cpu_us);
  line("append_batch", "per_txn=" + std::to_string(batch) + " per_second=" + fmt("%.0f", rate) + " cpu_us=" + fmt("%.2f", cpu_us) + " written_bytes=" + fmt("%.0f", g_written_per_record));
  const auto leaves = make_leaves(65536);
  rate = store_put_run(dir / "put", seconds, batch, leaves, &cpu_us);
  line("store_put", "per_txn=" + std::to_string(batch) + " per_second=" + fmt("%.0f", rate) + " cpu_us=" + fmt("%.2f", cpu_us) + " written_bytes=" + fmt("%.0f", g_written_per_record));
  rate = lmdb_put_run(dir / "lmdb", seconds, batch, leaves, &cpu_us);
  line("lmdb_put", "per_txn=" + std::to_string(batch) + " per_second=" + fmt("%.0f", rate) + " cpu_us=" + fmt("%.2f", cpu_us) + " written_bytes=" + fmt("%.0f", g_written_per_record));
  return 0;
}

// ---------------------------------------------------------------------------

int cmd_build(const fs::path& dir, std::uint64_t leaves, std::size_t per_txn) {
  store::Options o;
  o.durable = false;
  o.initial_map_bytes = std::size_t{1} << 30;
  o.prefault_max_bytes = 0;
  auto st = open_store(dir, o);
  RecordMaker maker(3);
  std::uint64_t have = 0;
  st->view([&](const store::ReadView& v) { have = audit::tree_size(v); });
  const auto start = Clock::now();
  auto last = start;
  std::uint64_t done_here = 0;
  while (have < leaves) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(per_txn, leaves - have));
    std::vector<audit::AuditRecord> batch;
    batch.reserve(n);
    for (std::size_t i = 0; i < n; ++i) batch.push_back(maker.make());
    auto ok = st->transact([&](store::WriteView& v) -> Result<void> {
      for (const auto& r : batch) (void)audit::append(v, r);
      (void)audit::index_pending(v, n);  // the secondary indexes too, as the node would
      return {};
    });
    if (!ok) die("transact: " + ok.error().message);
    have += n;
    done_here += n;
    if (seconds_since(last) > 30) {
      last = Clock::now();
      std::fprintf(stderr, "build: %llu leaves, %.0f/s, %.0f MB\n", static_cast<unsigned long long>(have),
                   static_cast<double>(done_here) / seconds_since(start), static_cast<double>(st->used_bytes()) / 1e6);
    }
  }
  const double secs = seconds_since(start);
  line("build", "leaves=" + std::to_string(have) + " per_txn=" + std::to_string(per_txn) +
                    " per_second=" + fmt("%.0f", static_cast<double>(done_here) / secs) + " seconds=" + fmt("%.1f", secs) +
                    " used_bytes=" + std::to_string(st->used_bytes()) +
                    " bytes_per_leaf=" + fmt("%.1f", static_cast<double>(st->used_bytes()) / static_cast<double>(have)));
  return 0;
}

// ---------------------------------------------------------------------------

struct Pair {
  std::uint64_t a, b;
};

std::vector<Pair> inclusion_queries(std::uint64_t size, std::size_t count, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Pair> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint64_t s = 1 + rng() % size;
    out.push_back({rng() % s, s});
  }
  return out;
}

std::vector<Pair> consistency_queries(std::uint64_t size, std::size_t count, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Pair> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    std::uint64_t a = 1 + rng() % size, b = 1 + rng() % size;
    if (a > b) std::swap(a, b);
    out.push_back({a, b});
  }
  return out;
}

template <class Fn>
void timed(const char* measure, int seconds, int threads, const std::string& extra, Fn&& one) {
  std::atomic<std::uint64_t> total{0}, elements{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> pool;
  const double cpu0 = cpu_seconds();
  const auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      std::uint64_t n = 0, e = 0;
      std::uint64_t i = static_cast<std::uint64_t>(t) * 7919;
      while (!stop.load(std::memory_order_relaxed)) {
        for (int k = 0; k < 64; ++k) e += one(i++);
        n += 64;
      }
      total += n;
      elements += e;
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (auto& th : pool) th.join();
  const double secs = seconds_since(start);
  const double cpu = cpu_seconds() - cpu0;
  line(measure, "threads=" + std::to_string(threads) + extra + " per_second=" +
                    fmt("%.0f", static_cast<double>(total) / secs) + " mean_hashes=" +
                    fmt("%.1f", static_cast<double>(elements) / static_cast<double>(total)) +
                    " cpu_us=" + fmt("%.2f", cpu * 1e6 / static_cast<double>(total)));
}

int cmd_prove(const fs::path& dir, int seconds) {
  store::Options o;
  o.durable = false;
  o.prefault_max_bytes = 0;
  auto st = open_store(dir, o);
  std::uint64_t size = 0;
  st->view([&](const store::ReadView& v) { size = audit::tree_size(v); });
  if (size == 0) die("empty log at " + dir.string());
  const std::string at = " size=" + std::to_string(size);
  const auto inc = inclusion_queries(size, 1 << 20, 1);
  const auto con = consistency_queries(size, 1 << 20, 2);
  const std::size_t mask = (1 << 20) - 1;

  // Warm the page cache over the hash table the proofs read (as a server
  // that has been up a while): one pass of proofs, untimed.
  st->view([&](const store::ReadView& v) {
    for (std::size_t i = 0; i < 200000; ++i) (void)audit::prove_inclusion(v, inc[i].a, inc[i].b);
  });

  for (int threads : {1, 2}) {
    timed("prove_inclusion_view_each", seconds, threads, at, [&](std::uint64_t i) -> std::uint64_t {
      std::uint64_t n = 0;
      st->view([&](const store::ReadView& v) {
        auto p = audit::prove_inclusion(v, inc[i & mask].a, inc[i & mask].b);
        if (!p) die("prove_inclusion: " + p.error().message);
        n = p->size();
      });
      return n;
    });
  }
  timed("prove_consistency_view_each", seconds, 1, at, [&](std::uint64_t i) -> std::uint64_t {
    std::uint64_t n = 0;
    st->view([&](const store::ReadView& v) {
      auto p = audit::prove_consistency(v, con[i & mask].a, con[i & mask].b);
      if (!p) die("prove_consistency: " + p.error().message);
      n = p->size();
    });
    return n;
  });
  // All inside one read view.
  {
    std::uint64_t n = 0, e = 0;
    const double cpu0 = cpu_seconds();
    const auto start = Clock::now();
    st->view([&](const store::ReadView& v) {
      n = 0;
      e = 0;
      while (seconds_since(start) < seconds) {
        for (int k = 0; k < 64; ++k, ++n) e += audit::prove_inclusion(v, inc[n & mask].a, inc[n & mask].b)->size();
      }
    });
    line("prove_inclusion_one_view", "threads=1" + at + " per_second=" +
                                         fmt("%.0f", static_cast<double>(n) / seconds_since(start)) +
                                         " mean_hashes=" + fmt("%.1f", static_cast<double>(e) / static_cast<double>(n)) +
                                         " cpu_us=" + fmt("%.2f", (cpu_seconds() - cpu0) * 1e6 / static_cast<double>(n)));
  }
  {
    std::uint64_t n = 0, e = 0;
    const double cpu0 = cpu_seconds();
    const auto start = Clock::now();
    st->view([&](const store::ReadView& v) {
      n = 0;
      e = 0;
      while (seconds_since(start) < seconds) {
        for (int k = 0; k < 64; ++k, ++n) e += audit::prove_consistency(v, con[n & mask].a, con[n & mask].b)->size();
      }
    });
    line("prove_consistency_one_view", "threads=1" + at + " per_second=" +
                                           fmt("%.0f", static_cast<double>(n) / seconds_since(start)) +
                                           " mean_hashes=" + fmt("%.1f", static_cast<double>(e) / static_cast<double>(n)) +
                                         " cpu_us=" + fmt("%.2f", (cpu_seconds() - cpu0) * 1e6 / static_cast<double>(n)));
  }

  // Verification: 10,000 prepared proofs each.
  struct IncCase {
    audit::Hash leaf_hash, root;
    std::uint64_t index, size;
    audit::Proof proof;
  };
  struct ConCase {
    std::uint64_t size1, size2;
    audit::Hash root1, root2;
    audit::Proof proof;
  };
  std::vector<IncCase> ic;
  std::vector<ConCase> cc;
  const std::size_t cases = 10000;
  st->view([&](const store::ReadView& v) {
    ic.clear();
    cc.clear();
    for (std::size_t i = 0; i < cases; ++i) {
      const auto [index, s] = inc[i];
      ic.push_back({audit::leaf_hash(*audit::leaf_at(v, index)), *audit::root_at(v, s), index, s,
                    *audit::prove_inclusion(v, index, s)});
      const auto [s1, s2] = con[i];
      cc.push_back({s1, s2, *audit::root_at(v, s1), *audit::root_at(v, s2), *audit::prove_consistency(v, s1, s2)});
    }
  });
  timed("verify_inclusion", seconds, 1, at, [&](std::uint64_t i) -> std::uint64_t {
    const auto& c = ic[i % cases];
    if (!audit::verify_inclusion(c.leaf_hash, c.index, c.size, c.proof, c.root)) die("inclusion proof failed");
    return c.proof.size();
  });
  timed("verify_consistency", seconds, 1, at, [&](std::uint64_t i) -> std::uint64_t {
    const auto& c = cc[i % cases];
    if (!audit::verify_consistency(c.size1, c.size2, c.root1, c.root2, c.proof)) die("consistency proof failed");
    return c.proof.size();
  });
  // root_at: what a checkpoint or a verifier's root needs (<= 64 stored hashes).
  timed("root_at_view_each", seconds, 1, at, [&](std::uint64_t i) -> std::uint64_t {
    st->view([&](const store::ReadView& v) { (void)audit::root_at(v, inc[i & mask].b); });
    return 0;
  });
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_audit append DIR SECONDS [THREADS...] | build DIR LEAVES [TXN] | prove DIR SECONDS\n");
    return 2;
  }
  const std::string cmd = argv[1];
  const fs::path dir = argv[2];
  if (cmd == "append" && argc >= 4) {
    std::vector<int> threads;
    for (int i = 4; i < argc; ++i) threads.push_back(std::atoi(argv[i]));
    return cmd_append(dir, std::atoi(argv[3]), threads);
  }
  if (cmd == "batcher" && argc >= 5) {  // the batcher alone, for profiling
    double mean_batch = 0, leaf_bytes = 0, cpu_us = 0;
    audit::BatcherConfig config;
    if (argc >= 6) config.max_batch = static_cast<std::size_t>(std::atoll(argv[5]));
    if (argc >= 7) config.max_txn_records = static_cast<std::size_t>(std::atoll(argv[6]));
    if (argc >= 8) config.index_batch = static_cast<std::size_t>(std::atoll(argv[7]));
    const double rate =
        batcher_run(dir / "batcher", std::atoi(argv[3]), std::atoi(argv[4]), &mean_batch, &leaf_bytes, &cpu_us, config);
    line("batcher", "threads=" + std::string(argv[4]) + " max_batch=" + std::to_string(config.max_batch) +
                        " max_txn_records=" + std::to_string(config.max_txn_records) +
                        " index_batch=" + std::to_string(config.index_batch) +
                        " per_second=" + fmt("%.0f", rate) + " mean_batch=" + fmt("%.1f", mean_batch) + " cpu_us=" + fmt("%.2f", cpu_us) +
                        " written_bytes=" + fmt("%.0f", g_written_per_record) + " index_lag=" + fmt("%.0f", g_index_lag) +
                        " per_second_indexed=" + fmt("%.0f", g_rate_indexed));
    return 0;
  }
  if (cmd == "build" && argc >= 4) {
    return cmd_build(dir, std::strtoull(argv[3], nullptr, 10),
                     argc >= 5 ? static_cast<std::size_t>(std::atoll(argv[4])) : 100000);
  }
  if (cmd == "prove" && argc >= 4) return cmd_prove(dir, std::atoi(argv[3]));
  std::fprintf(stderr, "bench_audit: bad arguments\n");
  return 2;
}
