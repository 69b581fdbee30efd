// Engine: the shard writers. 256 logical shards, each owned by exactly one
// writer thread (shard s belongs to writer s % writers). A writer drains its
// queue into a batch, runs each task against its shard's in-memory state
// (tentatively), commits the whole batch in one Store transaction (group
// commit), and only then completes the tasks and publishes their events.
//
// Pipelining: a writer does not wait for a batch to become durable before
// it runs the next one. It starts the commit (Store::startCommit), runs the
// next batch on top of the tentative state while the store syncs, and
// completes each batch, in order, once it is durable; up to
// max_commits_in_flight batches are started and not yet durable. Nothing
// of a batch is visible before that: its tasks' replies (reads included,
// since they may have seen an earlier batch's tentative state) wait for it.
// If a started commit fails (the outcome is UNKNOWN), every later batch is
// rolled back with it, newest first. While commits are in flight, the next
// batch starts early only once as much is queued as the newest one carries
// (batches do not shrink to single requests when the disk is fast).
//
// Housekeeping: each writer prunes its shards' idempotency windows about
// once a second (with nothing in flight); the store's copy is pruned every
// 60 s on a pruner thread, as Store::pruneBefore may wait for the store.
//
// A batch closes when the queue is drained (optionally after waiting
// max_batch_delay for more), or at max_batch commands. Queues are bounded:
// submit() refuses with RESOURCE_EXHAUSTED past queue_capacity.
//
// Ownership. A single node owns every shard (own_all_shards). In a cluster
// the node starts with none: acquire() loads a shard once its lease is held,
// release() stops serving it. Both run on the shard's writer thread, in queue
// order: every task submitted before release() is processed (and committed)
// first; tasks for a shard not served here are refused at submit() with
// shardNotServed(). Each served shard may carry a lease deadline on the
// steady clock: a batch is never committed for a shard past it.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "core/alerts.h"
#include "core/catalog.h"
#include "core/clock.h"
#include "core/event_log.h"
#include "core/shard_state.h"
#include "core/stats.h"
#include "store/store.h"

namespace depot {

struct EngineOptions {
  int writers = 2;
  // Admission control, per writer (admit()): a request is refused when the
  // queue holds more than the writer drains in max_queue_delay at its
  // measured rate (and more than min_queue commands). Admitted requests so
  // keep a bounded queueing delay under a 10x spike; the refused get a
  // retry-after of the expected drain time. queue_capacity is the hard cap.
  std::size_t queue_capacity = 200000;
  Micros max_queue_delay = 500'000;
  std::size_t min_queue = 256;
  std::size_t max_batch = 20000;        // commands per group commit
  // Batches a writer has started committing and not yet seen durable (1: it
  // waits for each commit before running the next batch).
  std::size_t max_commits_in_flight = 8;
  Micros max_batch_delay = 0;
  Micros idempotency_window = 3600'000'000;
  // Memory bound of the window: past this many remembered requests (all
  // shards) the oldest are forgotten before the window ends, every shard
  // cut at the same age (housekeepWindow). 0: no bound. A retry older than
  // what is still remembered is applied again, so the window in effect is
  // exported (idempotencyWindow()).
  std::size_t max_remembered_requests = 0;
  CountRules count_rules;
  double low_stock_hysteresis_pct = 10.0;
  bool own_all_shards = true;  // false: cluster node, shards come by acquire()
};

// UNAVAILABLE "shard N is not served by this node": the lease is elsewhere or
// moving; the client retries (with the same request_id) and is routed anew.
absl::Status shardNotServed(ShardId shard);


// The completion of a task: called once, after the batch's commit, with its
// status (OK, or the store's error when the batch was rolled back).
using Completion = std::function<void(const absl::Status& commit_status)>;

struct Task {
  ShardId shard = 0;
  std::uint32_t weight = 1;  // commands, for queue accounting
  // Runs on the shard's writer inside a batch. Must not block (besides the
  // store read of a back-dated count).
  std::function<Completion(ShardTxn&)> run;
  // Set instead of run: a control step (acquire/release) run alone on the
  // writer thread between batches.
  std::function<void()> control;
};

class Engine {
 public:
  Engine(Store& store, const Clock& clock, Catalog& catalog, EventLog& events,
         AlertManager& alerts, Stats& stats, EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // own_all_shards: loads every shard from the store, seeds the EventLog and
  // re-evaluates the alert rules. Otherwise only seeds the EventLog with the
  // store's last seqs. Call once, before start().
  // await_catalog (if set) is called once the shards are loaded and before
  // alerts are re-derived from them: the catalog may load meanwhile.
  absl::Status recover(const std::function<absl::Status()>& await_catalog = {});

  // ---- cluster ownership (after start()) ----
  bool serves(ShardId shard) const { return m_owned[shard].load(std::memory_order_acquire); }
  // Loads `shard` from the store (its lease, with the epoch, must already be
  // held) and starts serving it; `done` gets the outcome, on the writer.
  void acquire(ShardId shard, std::function<void(absl::Status)> done);
  // Stops taking tasks for `shard`, lets the queued ones finish, drops its
  // state; then calls `done` on the writer. After done, nothing more is
  // committed to the shard by this engine.
  void release(ShardId shard, std::function<void()> done);
  // Steady-clock deadline (micros since the steady epoch, 0: none) after
  // which no batch touching `shard` is committed.
  void setLeaseDeadline(ShardId shard, std::int64_t steady_micros);
  // Called once per loaded shard with (digest of the id, i.e.
  // requestDigest(id), fingerprint) of each of its idempotency records: by
  // recover() (on its loading threads, concurrently, once every shard is
  // loaded) and by acquire() (on the writer). expected_total is the number
  // of records of all the shards being loaded (recover), 0 when unknown.
  using RequestsLoadedHook =
      std::function<void(const std::vector<std::pair<std::uint64_t, std::uint64_t>>& records,
                         std::size_t expected_total)>;
  void setRequestsLoadedHook(RequestsLoadedHook hook);
  // Called (from a writer) when the store fenced a commit or a lease ran out:
  // ownership must be checked now.
  void setLeaseLostHook(std::function<void()> hook);
  void start();
  // Refuses new tasks, drains and commits what is queued, joins the writers.
  void stop();

  // UNAVAILABLE when stopped, RESOURCE_EXHAUSTED (with a retry-after) past
  // queue_capacity.
  absl::Status submit(Task task);
  // Admission control, asked once per request and shard before its tasks are
  // submitted (so a request never refuses its own parts): RESOURCE_EXHAUSTED
  // with a retry-after when the shard's writer has more than max_queue_delay
  // of queued work at its measured rate (and more than min_queue commands).
  absl::Status admit(ShardId shard) const;

  std::size_t queueDepth() const;
  std::size_t openHolds() const;
  // The idempotency window as housekept last (at most ~1 s old).
  IdempotencyWindowStats idempotencyWindow() const;

 private:
  struct Expiry {
    Micros at;
    ShardId shard;
    std::string order_id;
    bool operator>(const Expiry& o) const { return at > o.at; }
  };
  struct Writer {
    int index = 0;
    mutable std::mutex mutex;
    std::condition_variable wake;
    std::deque<Task> queue;        // guarded by mutex
    std::size_t queued = 0;        // weight in queue, guarded by mutex
    double drain_rate = 0;         // commands/s while busy (EWMA), guarded by mutex
    // What the writer waits for while asleep, guarded by mutex: a submission
    // wakes it only once `queued` reaches wake_queued, a durable commit only
    // once the store has made wake_ticket durable (0: none awaited). Each
    // wake-up that finds the writer's condition still false costs a context
    // switch, and every submission and every flush used to make one.
    std::size_t wake_queued = 1;
    Store::CommitTicket wake_ticket = 0;
    std::atomic<std::size_t> depth{0};
    std::atomic<std::size_t> open_holds{0};  // of this writer's shards
    std::atomic<std::size_t> remembered{0};  // requests remembered by its shards
    std::atomic<Micros> oldest_remembered{0};
    std::atomic<Micros> newest_remembered{0};
    std::priority_queue<Expiry, std::vector<Expiry>, std::greater<>> expiries;  // writer thread only
    std::chrono::steady_clock::time_point last_finish;  // writer thread only (drain_rate)
    std::thread thread;
  };

  // A batch whose commit was started and is not yet durable: what its
  // completion (or its rollback) needs. Writer thread only.
  struct InFlight {
    std::vector<std::pair<ShardId, std::unique_ptr<ShardTxn>>> txns;
    std::vector<Completion> completions;
    std::vector<ShardCommit> shards;  // what was committed, for the events
    // Done once durable. A batch that wrote nothing has its predecessor's:
    // its replies may rest on what that one wrote.
    Store::CommitTicket ticket = 0;
    bool wrote = false;               // the batch has a commit of its own
    std::size_t commands = 0;
    std::chrono::steady_clock::time_point started;         // the batch's run began
    std::chrono::steady_clock::time_point commit_started;  // startCommit was called
  };

  void run(Writer& w);
  void runPruner();
  // Runs `tasks` (and the expiries due) and starts their commit; the batch
  // joins `inflight` unless it failed (then it is rolled back and completed).
  void startBatch(Writer& w, std::vector<Task>& tasks, std::deque<InFlight>& inflight);
  // Completes the batches at the front of `inflight` that are durable; all
  // of them when `wait`, waiting for each.
  void finishDurable(Writer& w, std::deque<InFlight>& inflight, bool wait);
  void completeBatch(Writer& w, InFlight& batch);
  // Undoes the batch's changes (it must be the newest one applied) and
  // completes its tasks with `status`.
  static void rollBackAndFail(InFlight& batch, const absl::Status& status);
  // Wakes the writers waiting for a commit to become durable.
  void wakeWritersWaitingForCommits();
  void evaluateAlerts(ShardState& st, const ShardTxn& txn);
  void evaluateItem(ItemId item, ItemTotals& totals);
  void recountOpenHolds(Writer& w);  // only from w's thread (or before start)
  // Prunes w's shards to the window and to the bound's cutoff, and reports
  // what they remember. Only from w's thread.
  void housekeepWindow(Writer& w, Micros now);
  // Expiries and alert rules of a freshly loaded shard.
  void reviveShard(Writer& w, ShardState& st);
  void reportRequestsLoaded(const ShardState& st, std::size_t expected_total) const;
  bool leaseExpired(ShardId shard) const;

  Store& m_store;
  const Clock& m_clock;
  Catalog& m_catalog;
  EventLog& m_events;
  AlertManager& m_alerts;
  Stats& m_stats;
  const EngineOptions m_options;
  std::vector<std::unique_ptr<ShardState>> m_shards;  // index = shard id
  std::vector<std::unique_ptr<Writer>> m_writers;
  std::array<std::atomic<bool>, kShardCount> m_owned{};
  std::array<std::atomic<std::int64_t>, kShardCount> m_leaseUntil{};
  RequestsLoadedHook m_onRequestsLoaded;                        // set before start
  std::function<void()> m_onLeaseLost;                          // set before start
  std::atomic<bool> m_accepting{false};
  std::atomic<bool> m_stopping{false};
  Micros m_lastPrune = 0;  // writer 0 only
  // Store::pruneBefore runs here, off the writers (it waits for the store's
  // applier). Writer 0 posts the cutoff; a newer one replaces an unserved one.
  std::thread m_pruner;
  std::mutex m_pruneMutex;
  std::condition_variable m_pruneWake;
  Micros m_pruneBefore = 0;  // guarded by m_pruneMutex; 0: nothing to do
  bool m_pruneStop = false;  // guarded by m_pruneMutex
  std::atomic<std::uint64_t> m_forgottenEarly{0};
  std::atomic<Micros> m_windowCutoff{0};  // requests older are forgotten (the bound); writer 0 sets it
};

}  // namespace depot
