// SqliteStore: the embedded, single-node Store engine (one SQLite file).
//
// Durability: commit() appends the whole batch as one record to the commit
// log (commit_log.h, the directory `<path>-log`) and returns once that
// append is durable: fdatasync'd by default (Sync::kFull), so an
// acknowledged commit survives kill -9 and power loss. Sync::kNormal and
// kOff skip the log's fdatasync: a process crash loses nothing, a machine
// crash may lose the last commits (kOff also relaxes the tables' own
// syncs; for tests and benchmarks only).
//
// The applier: a background thread folds committed log records into the
// tables (ledger with its history marks, balances, requests, holds, counts) in large
// transactions that also record meta.applied_log_id, then drops the applied
// records. open() first applies whatever a crash left in the log. Reads of
// ledger-derived data wait until every commit acknowledged before the read
// began is applied (read-your-writes; a waiting reader starts a round at
// once, otherwise rounds wait to grow to 100,000 entries or 1 s); commit()
// waits when the applier is more than kMaxPendingEntries behind, so memory
// stays bounded. Why: a group commit costs one sequential append and one
// fsync instead of a random-position B-tree write per row (DESIGN.md §6).
//
// Concurrency: startCommit() appends under the log mutex and returns; the
// flusher thread fdatasyncs the log back to back, each sync covering every
// writer's appends made before it started, and hands the durable records to
// the applier (commitDone / finishCommit tell a writer when its batch is
// durable; commit() is both halves); the applier, catalog upserts,
// alert writes and pruning share one writer connection behind a mutex; reads
// go to a pool of Options::read_connections query_only connections that never
// wait for the writer (WAL); background threads checkpoint both WALs. Every
// method may be called from any thread.
//
// Fencing: SQLite has no leases, so every shard's epoch is 1; commit() still
// checks epoch and last_seq per ShardCommit exactly like the cluster engine.
//
// One writer: open() takes an exclusive lock on the file (flock); a second
// writer, in this process or another, is refused with FAILED_PRECONDITION.
// Options::shared_read opens next to a running writer (depotd --verify):
// reads see what that writer has applied so far, commit() is refused.
//
// Lifetime: the object owns its connections; destroy it only after every
// call into it has returned.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "store/store.h"

namespace depot {

namespace sqlite {
class Checkpointer;
class CommitLog;
class ReadPool;
struct Writer;
}  // namespace sqlite

class SqliteStore final : public Store {
 public:
  struct Options {
    std::string path;  // the database file; created (only the file) if absent
    enum class Sync { kFull, kNormal, kOff } sync = Sync::kFull;
    int read_connections = 4;  // 1..64
    // Open without the writer lock and without the commit log: a consistent
    // read-only view of what the writer holding the lock has applied.
    bool shared_read = false;
    // The commit log's segment size (commit_log.h); small in tests that
    // watch segments being dropped and reused.
    std::uint64_t log_segment_bytes = 32ull << 20;
  };
  // commit() waits while this many ledger entries are committed but not yet
  // applied to the tables (the applier is behind): bounds memory.
  static constexpr std::size_t kMaxPendingEntries = 500'000;
  // The applier starts a round at once when this many entries are pending
  // (otherwise when the oldest has waited a second, or a reader waits).
  static constexpr std::size_t kMinRoundEntries = 100'000;

  // Opens or creates the store and migrates its schema to the current
  // version. DATA_LOSS for a file that is not an SQLite database or is
  // corrupt, FAILED_PRECONDITION for a schema newer than this build or an
  // SQLite file that is not a Depot store, UNAVAILABLE when the file cannot be
  // opened (missing directory, permissions, I/O), INVALID_ARGUMENT for bad
  // options.
  // FAILED_PRECONDITION also when another writer holds the store.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> open(const Options& options);
  ~SqliteStore() override;

  // What the connections are actually configured with, read back from
  // SQLite (for tests and the operations status page).
  struct Diagnostics {
    std::string journal_mode;  // "wal"
    int synchronous = -1;      // writer: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA
    int busy_timeout_ms = -1;  // writer
    int read_connections = 0;
    bool readers_query_only = false;  // every read connection refuses writes
    std::string checkpoint_error;     // last background checkpoint failure, "" if none
    std::string applier_error;        // last failure to apply the commit log, "" if none
    std::int64_t commits_not_applied = 0;  // log records not yet in the tables
  };
  absl::StatusOr<Diagnostics> diagnostics();
  std::size_t unappliedEntries() const override {
    return m_pending_entries.load(std::memory_order_relaxed);
  }
  std::uint64_t logSyncs() const override { return m_log_syncs.load(std::memory_order_relaxed); }

  std::string ledgerId() const override { return m_ledger_id; }
  int schemaVersion() const override { return m_schema_version; }

  absl::StatusOr<std::vector<Item>> loadItems() override;
  absl::StatusOr<std::vector<Location>> loadLocations() override;
  absl::StatusOr<std::vector<Item>> upsertItems(const std::vector<Item>& items) override;
  absl::StatusOr<std::vector<Location>> upsertLocations(
      const std::vector<Location>& locations) override;

  // Idempotency records are stored per shard and applier round; if a request_id was
  // stored more than once, only its last record is returned.
  using Store::recoverShard;
  absl::StatusOr<ShardRecovery> recoverShard(ShardId shard, Micros requests_since,
                                             Micros closed_holds_since,
                                             BalanceRows balances) override;
  bool recoversBalancesInOnePass() const override { return true; }
  // One read transaction: the items' shards from the items_shard index, then
  // the balances table in key order, decoding only the rows `sink` wants.
  absl::Status recoverBalances(BalanceSink& sink) override;
  // startCommit() + finishCommit().
  absl::Status commit(const CommitBatch& batch) override;
  // Appends the batch to the commit log (page cache) and returns its log
  // position; the flusher thread makes it durable. Waits while the applier
  // is kMaxPendingEntries behind.
  absl::StatusOr<CommitTicket> startCommit(const CommitBatch& batch) override;
  bool commitDone(CommitTicket ticket) const override;
  absl::Status finishCommit(CommitTicket ticket) override;
  void setCommitListener(std::function<void()> listener) override;
  // Deletes in chunks of a few thousand rows, each its own short transaction,
  // so concurrent commits interleave instead of waiting for the whole prune.
  absl::Status pruneBefore(Micros before) override;

  // Pages with keyset conditions. History paging: after_seq continues in the
  // query's direction (seq > after_seq ascending, seq < after_seq when
  // newest_first).
  absl::StatusOr<std::vector<StockRow>> listStock(const StockQuery& query) override;
  absl::StatusOr<std::vector<LedgerEntry>> history(const HistoryQuery& query) override;
  absl::StatusOr<Balance> balanceAt(ItemId item, LocationId location, Micros at) override;
  absl::StatusOr<std::vector<LedgerEntry>> readLedger(ShardId shard, Seq after_seq, Seq up_to_seq,
                                                      std::size_t limit) override;
  // Reads in pages between which `fn` runs with no connection held, so fn may
  // call back into the store. Rows appended meanwhile may or may not be seen.
  absl::Status scanLedger(const std::function<bool(const LedgerEntry&)>& fn) override;
  // One snapshot: fn runs while a read connection is held (fn may still call
  // other read methods as long as the pool has a free connection).
  absl::Status scanBalances(const std::function<bool(const BalanceRow&)>& fn) override;
  absl::StatusOr<std::array<Seq, kShardCount>> lastSeqs() override;
  absl::StatusOr<std::vector<ShardId>> findOrderShards(const std::string& order_id) override;
  absl::Status verifyIndexes(const std::function<void(IndexFinding)>& found) override;
  absl::StatusOr<std::optional<CountRecord>> findCount(const std::string& count_id) override;
  absl::StatusOr<std::vector<CountRecord>> listCounts(CountState state, std::size_t limit) override;

  absl::StatusOr<std::vector<Alert>> loadAlerts(bool include_resolved) override;
  absl::Status saveAlert(const Alert& alert) override;
  // max(stored id, last id returned by this object) + 1.
  absl::StatusOr<std::uint64_t> nextAlertId() override;
  absl::StatusOr<std::vector<Silence>> loadSilences(Micros active_at) override;
  absl::StatusOr<Silence> addSilence(const Silence& silence) override;

 private:
  SqliteStore(std::unique_ptr<sqlite::Writer> writer, std::unique_ptr<sqlite::ReadPool> readers,
              std::unique_ptr<sqlite::Checkpointer> checkpointer, std::string ledger_id,
              int schema_version);
  using LogRecord = std::pair<std::int64_t, CommitBatch>;  // (log id, batch)
  // A committed record waiting for the applier: its encoded bytes, exactly
  // as in the log, so the live applier and crash recovery decode and apply
  // the same way (and the backlog is compact).
  struct PendingRecord {
    std::int64_t id = 0;
    std::uint64_t lsn = 0;  // CommitLog::Lsn: durable once the log is synced this far
    std::string payload;
    std::size_t entries = 0;  // ledger entries + 1 (room accounting)
  };

  // Writer mode, after construction: loads the fencing state, applies what
  // the log (and a log of the older format) holds beyond
  // meta.applied_log_id, starts the applier.
  absl::Status startWriting(const Options& options);
  void runApplier();
  // The flusher: fdatasyncs the log whenever something was appended since
  // the last sync (back to back under load, each covering every append made
  // while the previous one ran), then hands the durable records to the
  // applier and tells the listener.
  void runFlusher();
  // Decodes a record's bytes, as logged, onto `round`. The only way records
  // reach applyRecords(), live and on recovery alike.
  static absl::Status decodeRecord(std::int64_t id, std::string_view bytes,
                                   std::vector<LogRecord>* round);
  // One transaction folding `records` (consecutive ids) into the tables.
  absl::Status applyRecords(const std::vector<LogRecord>& records);
  // Reads call this first: waits until every commit acknowledged so far is
  // in the tables. OK at once in shared_read mode.
  absl::Status awaitApplied();
  void stopWriting();

  // The read half of recoverShard: one read transaction on a pooled connection.
  absl::StatusOr<ShardRecovery> recoverShardSnapshot(ShardId shard, Micros requests_since,
                                                     Micros closed_holds_since,
                                                     BalanceRows balances);

  const std::string m_ledger_id;
  const int m_schema_version;

  std::mutex m_write_mutex;  // serialises every use of the writer connection
  std::unique_ptr<sqlite::Writer> m_writer ABSL_PT_GUARDED_BY(m_write_mutex);
  std::unique_ptr<sqlite::ReadPool> m_readers;
  std::unique_ptr<sqlite::Checkpointer> m_checkpointer;  // hooked into the writer

  // ---- writer mode: the commit log and its applier ----
  int m_lock_fd = -1;  // holds the exclusive flock on the database file
  std::string m_log_dir;
  // Set before the applier starts, reset after it stops; thread-safe itself.
  std::unique_ptr<sqlite::CommitLog> m_log;
  // Id assignment and append order, the committed fencing state, the queues.
  std::mutex m_log_mutex;
  std::int64_t m_committed_id ABSL_GUARDED_BY(m_log_mutex) = 0;
  std::array<Seq, kShardCount> m_committed_last ABSL_GUARDED_BY(m_log_mutex){};
  std::array<std::uint64_t, kShardCount> m_epoch ABSL_GUARDED_BY(m_log_mutex){};
  // Appended, not yet known durable (the flusher syncs them).
  std::deque<PendingRecord> m_unsynced ABSL_GUARDED_BY(m_log_mutex);
  std::condition_variable m_flush_work;  // flusher: something was appended, or stop
  bool m_flusher_stopping ABSL_GUARDED_BY(m_log_mutex) = false;
  std::thread m_flusher;
  // How far the log is durable (CommitLog::Lsn), and whether a sync failed
  // (then every ticket past m_durable_lsn is done, with UNKNOWN). Written by
  // the flusher under m_log_mutex; atomic for commitDone().
  std::atomic<std::uint64_t> m_durable_lsn{0};
  std::atomic<bool> m_sync_failed{false};
  std::condition_variable m_durable_cv;  // finishCommit(): m_durable_lsn moved or a sync failed
  std::mutex m_listener_mutex;           // held while the listener runs, so clearing it is safe
  std::function<void()> m_commit_listener ABSL_GUARDED_BY(m_listener_mutex);
  // Durable and acknowledged, waiting for the applier. Both in id order.
  std::deque<PendingRecord> m_pending ABSL_GUARDED_BY(m_log_mutex);
  // Changed only under m_log_mutex (the waits on m_log_room and m_work test
  // it there); atomic so that unappliedEntries() (/metrics) reads it without.
  std::atomic<std::size_t> m_pending_entries{0};
  bool m_stopping ABSL_GUARDED_BY(m_log_mutex) = false;
  int m_readers_waiting ABSL_GUARDED_BY(m_log_mutex) = 0;  // in awaitApplied()
  std::chrono::steady_clock::time_point m_oldest_pending_at ABSL_GUARDED_BY(m_log_mutex);
  // The applier's wake-up: records arrived while it had none, a round's
  // worth is pending, a reader waits, or stop. Not every flush: a wake-up
  // that finds the round neither due nor full only costs a context switch.
  std::condition_variable m_work;
  std::condition_variable m_log_room;  // commit(): the backlog shrank
  std::atomic<std::uint64_t> m_log_syncs{0};  // CommitLog::Options::sync_counter
  // The last id handed to the applier (every acknowledged commit), for readers.
  std::atomic<std::int64_t> m_committed_hint{0};

  std::mutex m_applied_mutex;
  std::condition_variable m_applied_cv;
  std::int64_t m_applied_id ABSL_GUARDED_BY(m_applied_mutex) = 0;
  absl::Status m_applier_error ABSL_GUARDED_BY(m_applied_mutex);
  std::array<Seq, kShardCount> m_applied_last{};  // the tables' last_seq; applier only
  std::thread m_applier;

  std::mutex m_alert_mutex;
  std::uint64_t m_last_alert_id ABSL_GUARDED_BY(m_alert_mutex) = 0;
};

}  // namespace depot
