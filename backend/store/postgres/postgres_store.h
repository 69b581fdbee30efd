// PostgresStore: the cluster Store engine on PostgreSQL 15 (libpq).
//
// Write path: commit() sends one pipeline (libpq pipeline mode, one network
// round trip): depot_fence() advances every shard's counter row after
// checking its epoch and expected last_seq, then one INSERT ... SELECT FROM
// unnest(column arrays) per table. The pipeline is one implicit transaction
// that commits at its Sync, so a fenced shard (SQLSTATE DP001 ->
// FAILED_PRECONDITION) or any other error writes nothing of the whole batch.
// The counter row's lock serialises writers of a shard: seqs are gap-free
// and become visible in commit order.
//
// Connections: one writer connection (behind its own one-slot pool, which is
// the writer mutex) for commits, catalog, alerts and pruning; a pool of
// Options::read_connections for reads and recovery. Connections reconnect by
// themselves: a call that meets a dead server returns UNAVAILABLE, the next
// call connects afresh. Every call is bounded: statement_timeout on the
// server (DEADLINE_EXCEEDED) and a client-side deadline of statement_timeout
// + kClientGrace (UNAVAILABLE) for a server that does not answer at all.
// A commit cut off by a deadline or a lost connection has an unknown outcome;
// retrying it is safe (it is fenced by expected_last_seq).
//
// Strings must be UTF-8 without NUL bytes (PostgreSQL text): writes that
// carry others are refused with INVALID_ARGUMENT naming the field; lookups by
// such a key find nothing.
//
// Every method may be called from any thread. Destroy the object only after
// every call into it has returned.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "store/store.h"

namespace depot {

namespace pg {
class ConnectionPool;
}  // namespace pg

class PostgresStore final : public Store {
 public:
  struct Options {
    std::string dsn;  // libpq connection string or URI
    // Optional: a hot standby for dashboard reads (listStockFromReplica,
    // shardBalancesFromReplica); the primary answers when it is unreachable.
    std::string standby_dsn;
    int read_connections = 4;  // 1..64
    std::chrono::milliseconds statement_timeout{5000};  // 100 ms .. 1 h
  };
  // Client-side slack over statement_timeout so the server's own timeout,
  // which keeps the connection usable, normally fires first.
  static constexpr std::chrono::milliseconds kClientGrace{250};

  // Connects, migrates the schema to the current version (several nodes may
  // do so at once) and reads the ledger id. UNAVAILABLE when PostgreSQL
  // cannot be reached within the timeout, FAILED_PRECONDITION for a newer
  // schema or a schema that is not a Depot store, INVALID_ARGUMENT for bad
  // options.
  static absl::StatusOr<std::unique_ptr<PostgresStore>> open(const Options& options);
  ~PostgresStore() override;

  std::string ledgerId() const override { return m_ledger_id; }
  int schemaVersion() const override { return m_schema_version; }

  absl::StatusOr<std::vector<Item>> loadItems() override;
  absl::StatusOr<std::vector<Location>> loadLocations() override;
  absl::StatusOr<std::vector<Item>> upsertItems(const std::vector<Item>& items) override;
  absl::StatusOr<std::vector<Location>> upsertLocations(
      const std::vector<Location>& locations) override;

  // One REPEATABLE READ transaction on a pooled connection, one round trip.
  // Without leases (issue 4) the epoch is the shard row's, 1 unless changed.
  using Store::recoverShard;
  absl::StatusOr<ShardRecovery> recoverShard(ShardId shard, Micros requests_since,
                                             Micros closed_holds_since,
                                             BalanceRows balances) override;
  absl::Status commit(const CommitBatch& batch) override;
  // Chunks of a few thousand rows, each its own short transaction.
  absl::Status pruneBefore(Micros before) override;

  absl::StatusOr<std::vector<StockRow>> listStock(const StockQuery& query) override;
  // On the standby when one is configured, with its staleness measured in
  // the same round trip: 0 while it streams and has replayed all it
  // received, else the time since its last replayed commit.
  absl::StatusOr<std::vector<StockRow>> listStockFromReplica(const StockQuery& query,
                                                             ReadFreshness* freshness) override;
  absl::StatusOr<std::pair<Seq, std::vector<BalanceRow>>> shardBalancesFromReplica(
      ShardId shard, ReadFreshness* freshness) override;
  absl::StatusOr<std::vector<LedgerEntry>> history(const HistoryQuery& query) override;
  absl::StatusOr<Balance> balanceAt(ItemId item, LocationId location, Micros at) override;
  absl::StatusOr<std::vector<LedgerEntry>> readLedger(ShardId shard, Seq after_seq, Seq up_to_seq,
                                                      std::size_t limit) override;
  // One statement: a LATERAL index range scan per shard.
  absl::StatusOr<std::vector<LedgerEntry>> readLedgerAfter(const std::array<Seq, kShardCount>& after,
                                                           std::size_t per_shard_limit) override;
  // Pages between which `fn` runs with no connection held.
  absl::Status scanLedger(const std::function<bool(const LedgerEntry&)>& fn) override;
  // One snapshot (a REPEATABLE READ transaction): fn runs while a pooled
  // connection is held.
  absl::Status scanBalances(const std::function<bool(const BalanceRow&)>& fn) override;
  absl::StatusOr<std::array<Seq, kShardCount>> lastSeqs() override;
  // One REPEATABLE READ transaction: the counter row's last_seq and the
  // balances of the shard's items are from the same snapshot.
  absl::StatusOr<std::pair<Seq, std::vector<BalanceRow>>> shardBalances(ShardId shard) override;
  absl::StatusOr<std::vector<ShardId>> findOrderShards(const std::string& order_id) override;
  absl::StatusOr<std::optional<CountRecord>> findCount(const std::string& count_id) override;
  absl::StatusOr<std::vector<CountRecord>> listCounts(CountState state, std::size_t limit) override;

  absl::StatusOr<std::vector<Alert>> loadAlerts(bool include_resolved) override;
  absl::Status saveAlert(const Alert& alert) override;
  // From a database sequence: unique across every node of a cluster.
  absl::StatusOr<std::uint64_t> nextAlertId() override;
  absl::StatusOr<std::uint64_t> reserveAlertIds(std::uint32_t n) override;
  absl::StatusOr<std::vector<Alert>> alertsUpdatedSince(Micros since) override;
  absl::StatusOr<std::vector<Silence>> loadSilences(Micros active_at) override;
  absl::StatusOr<Silence> addSilence(const Silence& silence) override;

 private:
  PostgresStore(const Options& options, std::unique_ptr<pg::ConnectionPool> writer,
                std::unique_ptr<pg::ConnectionPool> readers, std::string ledger_id,
                int schema_version);
  // When a call started now must have returned: statement_timeout + grace.
  std::chrono::steady_clock::time_point deadline() const;

  const Options m_options;
  const std::string m_ledger_id;
  const int m_schema_version;
  std::unique_ptr<pg::ConnectionPool> m_writer;   // one slot: holding it is the writer lock
  std::unique_ptr<pg::ConnectionPool> m_readers;  // reads and recovery
  std::unique_ptr<pg::ConnectionPool> m_standby;  // dashboard reads; null without standby_dsn
  // listStock / shardBalances on `pool`; with `freshness`, the staleness
  // query runs first in the same pipeline.
  absl::StatusOr<std::vector<StockRow>> listStockOn(pg::ConnectionPool& pool, const StockQuery& q,
                                                    ReadFreshness* freshness);
  absl::StatusOr<std::pair<Seq, std::vector<BalanceRow>>> shardBalancesOn(
      pg::ConnectionPool& pool, ShardId shard, ReadFreshness* freshness);
};

}  // namespace depot
