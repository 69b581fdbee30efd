// SqliteStore: the embedded, single-node Store engine (one SQLite file).
//
// Durability: WAL journal with synchronous=FULL by default, so a commit() that
// returned OK survives kill -9 and power loss. Sync::kNormal survives a process
// crash but may lose the last commits on power loss; Sync::kOff is for tests
// and benchmarks only.
//
// Concurrency: one writer connection behind a mutex serialises commit(),
// catalog upserts, alert writes and pruning; reads go to a pool of
// Options::read_connections query_only connections that never wait for the
// writer (WAL); a background thread checkpoints the WAL so commits do not.
// Every method may be called from any thread.
//
// Fencing: SQLite has no leases, so every shard's epoch is 1; commit() still
// checks epoch and last_seq per ShardCommit exactly like the cluster engine.
//
// Another process may open the same file: SQLite's locks keep the file
// consistent, and the fencing check refuses a second writer's stale batches.
//
// Lifetime: the object owns its connections; destroy it only after every
// call into it has returned.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "store/store.h"

namespace depot {

namespace sqlite {
class Checkpointer;
class ReadPool;
struct Writer;
}  // namespace sqlite

class SqliteStore final : public Store {
 public:
  struct Options {
    std::string path;  // the database file; created (only the file) if absent
    enum class Sync { kFull, kNormal, kOff } sync = Sync::kFull;
    int read_connections = 4;  // 1..64
  };

  // Opens or creates the store and migrates its schema to the current
  // version. DATA_LOSS for a file that is not an SQLite database or is
  // corrupt, FAILED_PRECONDITION for a schema newer than this build or an
  // SQLite file that is not a Depot store, UNAVAILABLE when the file cannot be
  // opened (missing directory, permissions, I/O), INVALID_ARGUMENT for bad
  // options.
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
  };
  absl::StatusOr<Diagnostics> diagnostics();

  std::string ledgerId() const override { return m_ledger_id; }
  int schemaVersion() const override { return m_schema_version; }

  absl::StatusOr<std::vector<Item>> loadItems() override;
  absl::StatusOr<std::vector<Location>> loadLocations() override;
  absl::StatusOr<std::vector<Item>> upsertItems(const std::vector<Item>& items) override;
  absl::StatusOr<std::vector<Location>> upsertLocations(
      const std::vector<Location>& locations) override;

  // Idempotency records are stored per ShardCommit; if a request_id was
  // stored more than once, only its last record is returned.
  absl::StatusOr<ShardRecovery> recoverShard(ShardId shard, Micros requests_since,
                                             Micros closed_holds_since) override;
  absl::Status commit(const CommitBatch& batch) override;
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
  // The read half of recoverShard: one read transaction on a pooled connection.
  absl::StatusOr<ShardRecovery> recoverShardSnapshot(ShardId shard, Micros requests_since,
                                                     Micros closed_holds_since);

  const std::string m_ledger_id;
  const int m_schema_version;

  std::mutex m_write_mutex;  // serialises every use of the writer connection
  std::unique_ptr<sqlite::Writer> m_writer ABSL_PT_GUARDED_BY(m_write_mutex);
  std::unique_ptr<sqlite::ReadPool> m_readers;
  std::unique_ptr<sqlite::Checkpointer> m_checkpointer;  // hooked into the writer

  std::mutex m_alert_mutex;
  std::uint64_t m_last_alert_id ABSL_GUARDED_BY(m_alert_mutex) = 0;
};

}  // namespace depot
