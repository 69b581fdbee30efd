#include "core/engine.h"

#include <pthread.h>

#include <algorithm>
#include <barrier>
#include <chrono>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace depot {
namespace {
constexpr Micros kHousekeepingEvery = 1'000'000;  // prune windows, recount holds
constexpr Micros kStorePruneEvery = 60'000'000;

std::int64_t steadyMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
// The reply to every task of a batch whose commit failed. UNKNOWN from the
// store: it cannot tell whether the batch became durable (a failed fsync);
// a retry with the same request_id learns the outcome once the node is
// back. Otherwise the store wrote nothing.
absl::Status failedCommit(const absl::Status& store_status) {
  return absl::UnavailableError(
      store_status.code() == absl::StatusCode::kUnknown
          ? absl::StrCat("the commit's outcome is unknown (it may have been applied; retry with "
                         "the same request_id to learn it): ",
                         store_status.message())
          : absl::StrCat("the store refused the commit; nothing was applied: ",
                         store_status.message()));
}
}  // namespace

absl::Status shardNotServed(ShardId shard) {
  return absl::UnavailableError(
      absl::StrCat("shard ", shard, " is not served by this node (its lease is held elsewhere "
                   "or moving); retry, the cluster routes it to the owner"));
}


Engine::Engine(Store& store, const Clock& clock, Catalog& catalog, EventLog& events,
               AlertManager& alerts, Stats& stats, EngineOptions options)
    : m_store(store),
      m_clock(clock),
      m_catalog(catalog),
      m_events(events),
      m_alerts(alerts),
      m_stats(stats),
      m_options(std::move(options)) {
  const int n = std::clamp(m_options.writers, 1, static_cast<int>(kShardCount));
  for (int i = 0; i < n; ++i) {
    m_writers.push_back(std::make_unique<Writer>());
    m_writers.back()->index = i;
  }
  for (ShardId s = 0; s < kShardCount; ++s) m_shards.push_back(std::make_unique<ShardState>());
  m_store.setCommitListener([this] { wakeWritersWaitingForCommits(); });
}

Engine::~Engine() {
  stop();
  m_store.setCommitListener(nullptr);
}

void Engine::wakeWritersWaitingForCommits() {
  for (auto& w : m_writers) {
    // Under the writer's lock: its wait tests Store::commitDone under it
    // (and publishes the ticket it waits for), so the wake-up cannot fall
    // between the test and the wait.
    bool wake = false;
    {
      std::lock_guard lock(w->mutex);
      wake = w->wake_ticket != 0 && m_store.commitDone(w->wake_ticket);
    }
    if (wake) w->wake.notify_one();
  }
}

namespace {

// Feeds Store::recoverBalances' rows of one thread's share of the shards
// into their states. The rows come in item order, each to a random shard:
// inserted one by one, every row would touch another shard's maps and miss
// the cache. Gathered per shard and added in rounds of kRoundRows instead,
// each shard's maps take their rows together (bounded transient memory).
class ShareSink final : public BalanceSink {
 public:
  static constexpr std::size_t kRoundRows = 1 << 20;

  ShareSink(std::vector<std::unique_ptr<ShardState>>& shards, std::function<bool(ShardId)> mine)
      : m_shards(shards), m_mine(std::move(mine)), m_gathered(shards.size()) {}
  bool wants(ShardId shard) const override { return m_mine(shard); }
  void expect(ShardId shard, std::size_t items, std::size_t rows_estimate) override {
    m_shards[shard]->expectBalances(items, rows_estimate);
  }
  void item(ShardId shard, std::span<const BalanceRow> rows) override {
    auto& gathered = m_gathered[shard];
    gathered.insert(gathered.end(), rows.begin(), rows.end());
    m_rows += rows.size();
    if (m_rows >= kRoundRows) flush();
  }
  void flush() {
    for (std::size_t s = 0; s < m_gathered.size(); ++s) {
      if (m_gathered[s].empty()) continue;
      m_shards[s]->loadBalances(m_gathered[s]);
      m_gathered[s].clear();
    }
    m_rows = 0;
  }

 private:
  std::vector<std::unique_ptr<ShardState>>& m_shards;
  std::function<bool(ShardId)> m_mine;
  std::vector<std::vector<BalanceRow>> m_gathered;  // by shard
  std::size_t m_rows = 0;
};

}  // namespace

absl::Status Engine::recover(const std::function<absl::Status()>& await_catalog) {
  if (!m_options.own_all_shards) {
    // A cluster node: shards arrive by acquire(); watchers start from what
    // the store has committed.
    auto seqs = m_store.lastSeqs();
    if (!seqs.ok()) return seqs.status();
    m_events.reset(*seqs);
    return absl::OkStatus();
  }
  const Micros now = m_clock.now();
  const Micros since = now - m_options.idempotency_window;
  // Shards are independent: load them on several threads (the store reads,
  // the map building and the idempotency records dominate a restart), then
  // re-derive alerts and expiries on one thread per writer (each writer's
  // expiry queue is its own). Where the store reads all balances in one
  // pass, each thread takes a fixed share of the shards and then reads that
  // share's balances in one pass of its own.
  const unsigned threads =
      std::clamp(std::thread::hardware_concurrency(), 2u, 8u);  // >= 2: I/O overlaps CPU
  const bool one_pass = m_store.recoversBalancesInOnePass();
  Cursor committed{};
  std::atomic<ShardId> next{0};
  std::mutex failure_mutex;
  absl::Status failure;
  std::atomic<bool> failed{false};
  const auto fail = [&](const absl::Status& st, const std::string& what) {
    std::lock_guard lock(failure_mutex);
    if (failure.ok()) failure = absl::Status(st.code(), absl::StrCat(what, ": ", st.message()));
    failed = true;
  };
  // Reads one shard (without its balances on the one-pass path); false after a failure.
  const auto loadShard = [&](ShardId s) {
    auto r = m_store.recoverShard(s, since, since,
                                  one_pass ? BalanceRows::kOmit : BalanceRows::kInclude);
    if (!r.ok()) {
      fail(r.status(), absl::StrCat("recovering shard ", s));
      return false;
    }
    committed[s] = r->last_seq;
    m_shards[s]->load(std::move(*r));
    return true;
  };
  // The shards' remembered requests go to the hook only once every thread
  // has loaded its shards, with their total, so the registry is sized once
  // instead of doubling as it fills (half its restart time with 10 M).
  std::size_t remembered = 0;
  std::barrier windows_loaded(static_cast<std::ptrdiff_t>(threads), [&]() noexcept {
    for (const auto& st : m_shards) remembered += st->requests.size();
  });
  auto loadShare = [&](unsigned part) {
    if (!one_pass) {  // whichever shard is next: the threads even out uneven shards
      for (ShardId s = next.fetch_add(1); s < kShardCount && !failed; s = next.fetch_add(1))
        if (!loadShard(s)) break;
    } else {
      for (ShardId s = part; s < kShardCount; s += threads)
        if (!loadShard(s)) break;
    }
    windows_loaded.arrive_and_wait();  // every thread arrives, also after a failure
    if (failed) return;
    for (ShardId s = part; s < kShardCount; s += threads)
      reportRequestsLoaded(*m_shards[s], remembered);
    if (!one_pass) return;
    ShareSink sink(m_shards, [&](ShardId s) { return s % threads == part; });
    if (auto st = m_store.recoverBalances(sink); !st.ok()) return fail(st, "recovering balances");
    sink.flush();
  };
  {
    std::vector<std::thread> pool;
    for (unsigned i = 1; i < threads; ++i) pool.emplace_back(loadShare, i);
    loadShare(0);
    for (auto& t : pool) t.join();
  }
  if (!failure.ok()) return failure;
  if (await_catalog) {
    if (auto st = await_catalog(); !st.ok()) return st;
  }
  m_events.reset(committed);
  {
    std::vector<std::thread> pool;
    for (auto& w : m_writers) {
      pool.emplace_back([this, &w] {
        for (std::size_t s = w->index; s < m_shards.size(); s += m_writers.size())
          reviveShard(*w, *m_shards[s]);
      });
    }
    for (auto& t : pool) t.join();
  }
  for (ShardId s = 0; s < kShardCount; ++s) m_owned[s].store(true, std::memory_order_release);
  for (auto& w : m_writers) recountOpenHolds(*w);
  return absl::OkStatus();
}

void Engine::reviveShard(Writer& w, ShardState& st) {
  // Re-derive the alert rules from the recovered balances: whatever was
  // raised or resolved before a crash (or on the shard's previous owner)
  // converges here.
  // With no alert active anywhere (the common restart) the per-item
  // lookups by SKU are skipped: the flags start false.
  const bool any_active = m_alerts.anyActive();
  for (auto& [item, totals] : st.totals) {
    if (any_active) {
      const std::string sku = m_catalog.skuOf(item);
      totals.low_alert = m_alerts.isActive(AlertKind::kLowStock, sku);
      totals.stockout_alert = m_alerts.isActive(AlertKind::kStockout, sku);
    }
    evaluateItem(item, totals);
  }
  for (const auto& [id, count] : st.pending)
    if (!m_alerts.isActive(AlertKind::kCountVariance, id))
      m_alerts.raise(AlertKind::kCountVariance, id, Severity::kWarning,
                     absl::StrCat("count ", id, " variance ", count.variance, " awaits approval"));
  for (const auto& [order, hold] : st.holds)
    if (hold.state == HoldState::kOpen) w.expiries.push(Expiry{hold.expires_at, st.shard, order});
}

void Engine::acquire(ShardId shard, std::function<void(absl::Status)> done_fn) {
  auto done = std::make_shared<std::function<void(absl::Status)>>(std::move(done_fn));
  Task t;
  t.shard = shard;
  t.control = [this, shard, done] {
    Writer& w = *m_writers[shard % m_writers.size()];
    if (serves(shard)) return (*done)(absl::OkStatus());
    const Micros since = m_clock.now() - m_options.idempotency_window;
    auto r = m_store.recoverShard(shard, since, since);
    if (!r.ok())
      return (*done)(absl::Status(r.status().code(), absl::StrCat("recovering shard ", shard, ": ",
                                                                  r.status().message())));
    const Seq last = r->last_seq;
    auto st = std::make_unique<ShardState>();
    st->load(std::move(*r));
    reportRequestsLoaded(*st, 0);
    reviveShard(w, *st);
    m_shards[shard] = std::move(st);
    m_events.advance(shard, last);
    recountOpenHolds(w);
    m_owned[shard].store(true, std::memory_order_release);
    (*done)(absl::OkStatus());
  };
  if (auto st = submit(std::move(t)); !st.ok()) (*done)(st);  // stopping
}

void Engine::release(ShardId shard, std::function<void()> done) {
  Writer& w = *m_writers[shard % m_writers.size()];
  Task t;
  t.shard = shard;
  t.control = [this, shard, &w, done] {
    m_shards[shard] = std::make_unique<ShardState>();
    m_leaseUntil[shard].store(0, std::memory_order_relaxed);
    recountOpenHolds(w);
    done();
  };
  {
    std::lock_guard lock(w.mutex);
    m_owned[shard].store(false, std::memory_order_release);
    if (m_stopping) {
      m_shards[shard] = std::make_unique<ShardState>();
    } else {
      w.queue.push_back(std::move(t));
      w.wake.notify_one();
      return;
    }
  }
  done();
}

void Engine::setLeaseDeadline(ShardId shard, std::int64_t steady_micros) {
  m_leaseUntil[shard].store(steady_micros, std::memory_order_release);
}

bool Engine::leaseExpired(ShardId shard) const {
  const std::int64_t until = m_leaseUntil[shard].load(std::memory_order_acquire);
  return until != 0 && steadyMicros() >= until;
}

void Engine::setRequestsLoadedHook(RequestsLoadedHook hook) { m_onRequestsLoaded = std::move(hook); }

void Engine::reportRequestsLoaded(const ShardState& st, std::size_t expected_total) const {
  if (!m_onRequestsLoaded || st.requests.empty()) return;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> records;
  records.reserve(st.requests.size());
  st.requests.forEach([&](const RequestKey& key, std::uint64_t fingerprint) {
    records.emplace_back(key.fnv, fingerprint);
  });
  m_onRequestsLoaded(records, expected_total);
}

void Engine::setLeaseLostHook(std::function<void()> hook) { m_onLeaseLost = std::move(hook); }

void Engine::start() {
  m_accepting = true;
  for (auto& w : m_writers) w->thread = std::thread([this, wp = w.get()] { run(*wp); });
  m_pruner = std::thread([this] { runPruner(); });
}

void Engine::runPruner() {
  pthread_setname_np(pthread_self(), "depot-pruner");  // for top -H, perf, gdb
  std::unique_lock lock(m_pruneMutex);
  for (;;) {
    m_pruneWake.wait(lock, [&] { return m_pruneBefore != 0 || m_pruneStop; });
    if (m_pruneStop) return;
    const Micros before = std::exchange(m_pruneBefore, 0);
    lock.unlock();
    (void)m_store.pruneBefore(before);  // housekeeping only; retried next time
    lock.lock();
  }
}

void Engine::stop() {
  m_accepting = false;
  if (m_stopping.exchange(true)) return;
  for (auto& w : m_writers) {
    {
      std::lock_guard lock(w->mutex);
    }
    w->wake.notify_all();
  }
  for (auto& w : m_writers)
    if (w->thread.joinable()) w->thread.join();
  {
    std::lock_guard lock(m_pruneMutex);
    m_pruneStop = true;
  }
  m_pruneWake.notify_one();
  if (m_pruner.joinable()) m_pruner.join();
}

absl::Status Engine::submit(Task task) {
  if (!m_accepting.load(std::memory_order_acquire))
    return absl::UnavailableError("the server is shutting down");
  Writer& w = *m_writers[task.shard % m_writers.size()];
  bool wake = false;
  {
    std::lock_guard lock(w.mutex);
    // Checked under the writer's lock: release() flips it under the same
    // lock before queueing its control step, so nothing for the shard can
    // be queued behind that step.
    if (!task.control && !m_owned[task.shard].load(std::memory_order_acquire))
      return shardNotServed(task.shard);
    // The hard cap (admission proper is admit(), per request).
    if (!task.control && w.queued + task.weight > m_options.queue_capacity && w.queued > 0) {
      const double rate = w.drain_rate;
      const Micros retry = std::clamp<Micros>(
          static_cast<Micros>(rate > 0 ? static_cast<double>(w.queued) / rate * 1e6 : 50'000),
          5'000, 5'000'000);
      return overloaded(absl::StrCat("shard ", task.shard, " writer queue is full (", w.queued,
                                     " commands queued); nothing was applied: retry after ",
                                     retry / 1000, " ms"),
                        retry);
    }
    w.queued += task.weight;
    w.depth.store(w.queued, std::memory_order_relaxed);
    wake = task.control || w.queued >= w.wake_queued;
    w.queue.push_back(std::move(task));
  }
  if (wake) w.wake.notify_one();
  return absl::OkStatus();
}

absl::Status Engine::admit(ShardId shard) const {
  const Writer& w = *m_writers[shard % m_writers.size()];
  std::lock_guard lock(w.mutex);
  if (w.queued <= m_options.min_queue || w.drain_rate <= 0) return absl::OkStatus();
  const double delay_s = static_cast<double>(w.queued) / w.drain_rate;
  if (delay_s * 1e6 <= static_cast<double>(m_options.max_queue_delay)) return absl::OkStatus();
  const Micros retry = std::clamp<Micros>(static_cast<Micros>(delay_s * 1e6), 5'000, 5'000'000);
  return overloaded(absl::StrCat("shard ", shard, " writer is past its admission bound (",
                                 w.queued, " commands queued, ~", retry / 1000,
                                 " ms of work); nothing was applied: retry after ", retry / 1000,
                                 " ms"),
                    retry);
}

std::size_t Engine::queueDepth() const {
  std::size_t n = 0;
  for (const auto& w : m_writers) n += w->depth.load(std::memory_order_relaxed);
  return n;
}

void Engine::run(Writer& w) {
  const std::string name = absl::StrCat("depot-writer-", w.index);
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());  // for top -H, perf, gdb
  const std::size_t max_in_flight = std::max<std::size_t>(1, m_options.max_commits_in_flight);
  std::vector<Task> batch;
  std::deque<InFlight> inflight;
  Micros next_housekeeping = 0;
  for (;;) {
    finishDurable(w, inflight, /*wait=*/false);
    batch.clear();
    std::function<void()> control;
    bool timer_due = false;
    {
      std::unique_lock lock(w.mutex);
      const auto frontDone = [&] {
        return !inflight.empty() && m_store.commitDone(inflight.front().ticket);
      };
      // Bounded: every pass either leaves or waits until a deadline (or a
      // durable commit, whose wake-up comes under this lock).
      // With commits in flight, the next batch starts early only once as
      // much is queued as the newest one carries: batches never shrink to
      // single requests, whose separate commits and replies would cost more
      // CPU than the wait they save when the disk is fast.
      const auto nextBatchReady = [&] {
        if (w.queue.empty()) return false;
        if (inflight.empty()) return true;
        return inflight.size() < max_in_flight &&
               w.queued >= std::max<std::size_t>(1, inflight.back().commands);
      };
      for (;;) {
        if (frontDone() || nextBatchReady() || m_stopping) break;
        if (!inflight.empty()) {  // wait for a durable commit or a larger queue
          w.wake_ticket = inflight.front().ticket;
          w.wake_queued = inflight.size() < max_in_flight
                              ? std::max<std::size_t>(1, inflight.back().commands)
                              : std::numeric_limits<std::size_t>::max();
          w.wake.wait_for(lock, std::chrono::milliseconds(50));
          continue;
        }
        const Micros now = m_clock.now();
        Micros wait = kHousekeepingEvery;
        if (!w.expiries.empty()) wait = std::min(wait, w.expiries.top().at - now);
        if (wait <= 0 || now >= next_housekeeping) {
          timer_due = true;
          break;
        }
        // A ManualClock does not move by itself: poll at most every 50 ms.
        w.wake.wait_for(lock, std::chrono::microseconds(std::min<Micros>(wait, 50'000)));
      }
      // Awake: every submission may wake it again. (The only other place
      // that sets them, max_batch_delay's wait below, restores them too, so
      // they hold these values whenever the writer is not asleep.)
      w.wake_ticket = 0;
      w.wake_queued = 1;
      if (frontDone()) continue;  // complete it first (finishDurable, above)
      if (m_stopping && w.queue.empty()) {
        lock.unlock();
        finishDurable(w, inflight, /*wait=*/true);
        break;
      }
      if (m_options.max_batch_delay > 0 && w.queued < m_options.max_batch && inflight.empty()) {
        w.wake_queued = m_options.max_batch;
        w.wake.wait_for(lock, std::chrono::microseconds(m_options.max_batch_delay),
                        [&] { return w.queued >= m_options.max_batch || m_stopping.load(); });
        w.wake_queued = 1;
      }
      std::size_t weight = 0;
      while (!w.queue.empty() && (batch.empty() || weight < m_options.max_batch)) {
        if (w.queue.front().control) {
          if (!batch.empty()) break;  // the batch before it commits first
          control = std::move(w.queue.front().control);
          w.queue.pop_front();
          break;
        }
        weight += w.queue.front().weight;
        batch.push_back(std::move(w.queue.front()));
        w.queue.pop_front();
      }
      w.queued -= weight;
      w.depth.store(w.queued, std::memory_order_relaxed);
    }
    if (control) {
      // Ownership changes see only durable state.
      finishDurable(w, inflight, /*wait=*/true);
      control();
      continue;
    }
    if (!batch.empty() || timer_due) startBatch(w, batch, inflight);
    const Micros now = m_clock.now();
    if (now >= next_housekeeping) {
      // Housekeeping forgets old idempotency records, which a rollback of a
      // batch in flight could not undo: it runs with none in flight.
      finishDurable(w, inflight, /*wait=*/true);
      next_housekeeping = now + kHousekeepingEvery;
      const Micros before = now - m_options.idempotency_window;
      housekeepWindow(w, now);
      recountOpenHolds(w);
      if (w.index == 0 && now - m_lastPrune >= kStorePruneEvery) {
        m_lastPrune = now;
        // On the pruner thread: the store's prune first waits for its
        // applier to catch up (up to a round, 0.1-0.5 s), which the writer
        // would otherwise spend with its shards' requests queued (the open
        // loop's p99 went from 4-6 to 68 ms over 65 s, max 318 ms).
        {
          std::lock_guard lock(m_pruneMutex);
          m_pruneBefore = before;
        }
        m_pruneWake.notify_one();
      }
    }
  }
}

void Engine::startBatch(Writer& w, std::vector<Task>& tasks, std::deque<InFlight>& inflight) {
  const Micros now = m_clock.now();
  InFlight f;
  f.started = std::chrono::steady_clock::now();
  // One transaction per shard touched, created on first use.
  auto txnFor = [&](ShardId s) -> ShardTxn& {
    for (auto& [id, t] : f.txns)
      if (id == s) return *t;
    f.txns.emplace_back(
        s, std::make_unique<ShardTxn>(*m_shards[s], now, m_store, m_options.count_rules));
    return *f.txns.back().second;
  };
  // Holds whose time is up are released in the same batch.
  while (!w.expiries.empty() && w.expiries.top().at <= now) {
    Expiry e = w.expiries.top();
    w.expiries.pop();
    if (!serves(e.shard)) continue;  // released: the new owner expires it
    if (txnFor(e.shard).expire(e.order_id))
      m_stats.expired_holds.fetch_add(1, std::memory_order_relaxed);
  }
  f.completions.reserve(tasks.size());
  for (auto& t : tasks) {
    f.commands += t.weight;
    f.completions.push_back(t.run(txnFor(t.shard)));
  }
  if (f.txns.empty() && f.completions.empty()) return;

  CommitBatch batch;
  for (auto& [id, t] : f.txns)
    if (!t->empty()) batch.shards.push_back(t->toCommit());
  absl::Status status = absl::OkStatus();
  for (const auto& sc : batch.shards) {
    if (leaseExpired(sc.shard)) {
      status = absl::FailedPreconditionError(absl::StrCat(
          "this node's lease on shard ", sc.shard, " ran out before the commit"));
      break;
    }
  }
  if (status.ok() && !batch.shards.empty()) {
    f.commit_started = std::chrono::steady_clock::now();
    m_stats.commit_batch_size.observe(static_cast<double>(f.commands));
    auto ticket = m_store.startCommit(batch);
    if (ticket.ok()) {
      f.ticket = *ticket;
      f.wrote = true;
    } else {
      status = ticket.status();
      m_stats.commit_failures.fetch_add(1, std::memory_order_relaxed);
    }
  } else if (status.ok() && !inflight.empty()) {
    // Nothing to write, but its tasks may have read what the batches in
    // flight did: it completes after them.
    f.ticket = inflight.back().ticket;
  }
  if (!status.ok()) {
    if (status.code() == absl::StatusCode::kFailedPrecondition && m_onLeaseLost) m_onLeaseLost();
    // This batch is the newest: rolling it back leaves the batches in
    // flight as they are.
    rollBackAndFail(f, failedCommit(status));
    return;
  }
  f.shards = std::move(batch.shards);
  inflight.push_back(std::move(f));
}

void Engine::finishDurable(Writer& w, std::deque<InFlight>& inflight, bool wait) {
  while (!inflight.empty()) {
    InFlight& f = inflight.front();
    if (!wait && !m_store.commitDone(f.ticket)) return;
    if (f.wrote) {
      if (absl::Status st = m_store.finishCommit(f.ticket); !st.ok()) {
        m_stats.commit_failures.fetch_add(inflight.size(), std::memory_order_relaxed);
        // The later batches were written after it and depend on its state:
        // they share its fate, rolled back newest first.
        const absl::Status failed = failedCommit(st);
        for (auto it = inflight.rbegin(); it != inflight.rend(); ++it) rollBackAndFail(*it, failed);
        inflight.clear();
        return;
      }
    }
    completeBatch(w, f);
    inflight.pop_front();
  }
}

void Engine::rollBackAndFail(InFlight& f, const absl::Status& status) {
  for (auto it = f.txns.rbegin(); it != f.txns.rend(); ++it) it->second->rollback();
  for (auto& c : f.completions)
    if (c) c(status);
}

void Engine::completeBatch(Writer& w, InFlight& f) {
  const auto now = std::chrono::steady_clock::now();
  if (f.wrote) {
    m_stats.commit_seconds.observe(std::chrono::duration<double>(now - f.commit_started).count());
    m_stats.commits.fetch_add(1, std::memory_order_relaxed);
  }
  // Durable. Publish first so that a client holding an acknowledgement
  // already sees the new seq in the committed cursor; then acknowledge.
  for (auto& sc : f.shards) {
    if (sc.entries.empty()) continue;
    for (const auto& e : sc.entries)
      m_stats.movements[static_cast<std::size_t>(e.kind)].fetch_add(1, std::memory_order_relaxed);
    m_events.publish(std::make_shared<const std::vector<LedgerEntry>>(std::move(sc.entries)));
  }
  // Alert rules before the acknowledgement too: a client that saw its
  // shipment acknowledged also sees the stockout it caused. (They read the
  // state as it is now, which includes the batches still in flight.)
  for (auto& [id, t] : f.txns) {
    for (const auto& h : t->newHolds()) w.expiries.push(Expiry{h.first, id, h.second});
    evaluateAlerts(*m_shards[id], *t);
  }
  for (auto& c : f.completions)
    if (c) c(absl::OkStatus());
  if (f.commands > 0) {
    // The writer's service rate while busy: commands per second of batch
    // work, from the later of its start and the previous completion (batches
    // overlap in the pipeline), smoothed over batches.
    const auto from = std::max(f.started, w.last_finish);
    const double secs = std::max(1e-6, std::chrono::duration<double>(now - from).count());
    const double sample = static_cast<double>(f.commands) / secs;
    std::lock_guard lock(w.mutex);
    w.drain_rate = w.drain_rate == 0 ? sample : 0.8 * w.drain_rate + 0.2 * sample;
  }
  w.last_finish = now;
}

void Engine::evaluateItem(ItemId item, ItemTotals& t) {
  // The rule alone (no string copies): most evaluations change nothing. The
  // item's SKU and unit are read only to raise or resolve an alert.
  const auto rule = m_catalog.reorderRule(item);
  if (!rule) return;
  const Qty available = t.on_hand - t.reserved;
  const Qty rp = rule->reorder_point;
  // Hysteresis: raise below the reorder point, resolve only once available
  // is back above it by a margin, so a SKU hovering at the threshold does
  // not flap.
  const Qty margin = std::max<Qty>(
      1, static_cast<Qty>(std::ceil(static_cast<double>(rp) * m_options.low_stock_hysteresis_pct / 100.0)));
  const bool raise_stockout = !t.stockout_alert && available <= 0;
  const bool resolve_stockout = t.stockout_alert && available > 0;
  const bool raise_low = !t.low_alert && rp > 0 && available < rp;
  const bool resolve_low = t.low_alert && (rp == 0 || available >= rp + margin);
  if (!raise_stockout && !resolve_stockout && !raise_low && !resolve_low) return;
  auto info = m_catalog.itemById(item);
  if (!info) return;
  if (raise_stockout) {
    t.stockout_alert = true;
    m_alerts.raise(AlertKind::kStockout, info->sku, Severity::kCritical,
                   absl::StrCat("SKU ", info->sku, " is out of stock (available ", available,
                                ", on hand ", t.on_hand, ")"));
  } else if (resolve_stockout) {
    t.stockout_alert = false;
    m_alerts.resolve(AlertKind::kStockout, info->sku);
  }
  if (raise_low) {
    t.low_alert = true;
    m_alerts.raise(AlertKind::kLowStock, info->sku, Severity::kWarning,
                   absl::StrCat("SKU ", info->sku, " is low: available ", available,
                                " below reorder point ", rp, " (reorder ", info->reorder_qty,
                                " ", info->unit, ")"));
  } else if (resolve_low) {
    t.low_alert = false;
    m_alerts.resolve(AlertKind::kLowStock, info->sku);
  }
}

void Engine::evaluateAlerts(ShardState& st, const ShardTxn& txn) {
  for (ItemId item : txn.touchedItems()) evaluateItem(item, st.totals[item]);
  for (const auto& c : txn.countChanges()) {
    if (c.state == CountState::kPending) {
      m_alerts.raise(AlertKind::kCountVariance, c.count_id, Severity::kWarning,
                     absl::StrCat("count ", c.count_id, " of SKU ", m_catalog.skuOf(c.item),
                                  " at ", m_catalog.locationName(c.location), ": counted ",
                                  c.counted, ", expected ", c.expected, " (variance ", c.variance,
                                  ") awaits approval"));
    } else if (c.state != CountState::kApplied) {
      m_alerts.resolve(AlertKind::kCountVariance, c.count_id);
    }
  }
}

void Engine::recountOpenHolds(Writer& w) {
  std::size_t n = 0;
  for (ShardId s = static_cast<ShardId>(w.index); s < kShardCount;
       s += static_cast<ShardId>(m_writers.size()))
    n += m_shards[s]->openHolds();
  w.open_holds.store(n, std::memory_order_relaxed);
}

void Engine::housekeepWindow(Writer& w, Micros now) {
  // The bound (max_remembered_requests) moves a global cutoff forward:
  // records older than it are forgotten early, on every shard alike. Writer 0
  // sets it from every writer's last report (at most one housekeeping old),
  // assuming the remembered requests spread evenly between the oldest and
  // the newest; later rounds correct the estimate.
  const Micros window_before = now - m_options.idempotency_window;
  const auto stride = static_cast<ShardId>(m_writers.size());
  const auto pruneAndReport = [&] {
    const Micros cutoff = m_windowCutoff.load(std::memory_order_relaxed);
    std::size_t remembered = 0;
    Micros oldest = 0;
    Micros newest = 0;
    for (ShardId s = static_cast<ShardId>(w.index); s < kShardCount; s += stride) {
      ShardState& st = *m_shards[s];
      st.prune(window_before);
      if (cutoff > window_before)
        m_forgottenEarly.fetch_add(st.forgetBefore(cutoff), std::memory_order_relaxed);
      remembered += st.requests.size();
      if (const Micros ts = st.oldestRequestTs(); ts != 0 && (oldest == 0 || ts < oldest))
        oldest = ts;
      newest = std::max(newest, st.newestRequestTs());
    }
    w.remembered.store(remembered, std::memory_order_relaxed);
    w.oldest_remembered.store(oldest, std::memory_order_relaxed);
    w.newest_remembered.store(newest, std::memory_order_relaxed);
  };
  pruneAndReport();
  const std::size_t cap = m_options.max_remembered_requests;
  if (w.index != 0 || cap == 0) return;
  const IdempotencyWindowStats all = idempotencyWindow();
  if (all.remembered <= cap || all.oldest_ts == 0) return;
  const double forget = 1.0 - static_cast<double>(cap) / static_cast<double>(all.remembered);
  const Micros cutoff =
      all.oldest_ts +
      static_cast<Micros>(static_cast<double>(all.newest_ts - all.oldest_ts) * forget) + 1;
  if (cutoff > m_windowCutoff.load(std::memory_order_relaxed)) {
    m_windowCutoff.store(cutoff, std::memory_order_relaxed);
    pruneAndReport();
  }
}

IdempotencyWindowStats Engine::idempotencyWindow() const {
  IdempotencyWindowStats out;
  out.forgotten_early = m_forgottenEarly.load(std::memory_order_relaxed);
  for (const auto& w : m_writers) {
    out.remembered += w->remembered.load(std::memory_order_relaxed);
    const Micros ts = w->oldest_remembered.load(std::memory_order_relaxed);
    if (ts != 0 && (out.oldest_ts == 0 || ts < out.oldest_ts)) out.oldest_ts = ts;
    out.newest_ts = std::max(out.newest_ts, w->newest_remembered.load(std::memory_order_relaxed));
  }
  return out;
}

std::size_t Engine::openHolds() const {
  std::size_t n = 0;
  for (const auto& w : m_writers) n += w->open_holds.load(std::memory_order_relaxed);
  return n;
}

}  // namespace depot
