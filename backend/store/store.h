// Store: the durable system of record behind the shard engines.
//
// Engines: SqliteStore (embedded default, one node) and, later, PostgresStore
// (cluster: shard leases with epochs, fencing in commit()). Every engine must
// pass the same contract suite (tests/backend/store/store_contract.h).
//
// Thread safety: every method may be called from any thread concurrently.
// commit() calls are serialised by the implementation as it needs to; reads
// never block behind a commit longer than the engine requires (SQLite WAL
// readers do not wait for the writer).
//
// Errors: absl::Status. UNAVAILABLE for I/O or connection failures (the caller
// may retry), FAILED_PRECONDITION for fencing (the shard's epoch or last_seq
// is not what the caller expected: another writer owns the shard), DATA_LOSS
// for a corrupt file, INVALID_ARGUMENT for a caller bug.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/model.h"

namespace depot {

struct BalanceRow {
  ItemId item = 0;
  LocationId location = 0;
  Balance balance;
  Micros last_ts = 0;  // ts of the last ledger entry that touched this row
};

enum class BalanceRows : bool { kOmit, kInclude };

// Everything a shard engine needs to resume a shard after a restart.
struct ShardRecovery {
  ShardId shard = 0;
  Seq last_seq = 0;  // 0 for an empty shard
  std::uint64_t epoch = 0;
  Micros last_ts = 0;  // ts of the entry at last_seq
  std::vector<BalanceRow> balances;  // ordered by (item, location)
  std::vector<Hold> holds;           // open holds, plus closed ones newer than the window
  std::vector<CountRecord> pending;  // counts in state kPending
  // Idempotency records newer than the window, in commit order, the last
  // one of each request id only.
  std::vector<RecoveredRequest> requests;
};

// The per-shard part of a group commit. The store must apply it only if the
// shard's stored last_seq == expected_last_seq and its epoch == epoch (fencing);
// otherwise the whole commit() fails with FAILED_PRECONDITION and nothing is
// written. entries are the shard's new ledger rows with seq
// expected_last_seq+1 .. expected_last_seq+entries.size(), in order.
struct ShardCommit {
  ShardId shard = 0;
  std::uint64_t epoch = 0;
  Seq expected_last_seq = 0;
  std::vector<LedgerEntry> entries;
  std::vector<BalanceRow> balances;      // final values of every row touched
  std::vector<RequestRecord> requests;   // idempotency records of this batch
  std::vector<Hold> holds;               // holds created or changed (upsert by order_id+shard)
  std::vector<CountRecord> counts;       // counts created or changed (upsert by count_id)
};

// One durable transaction: all of it or nothing.
struct CommitBatch {
  std::vector<ShardCommit> shards;
};

struct StockQuery {
  std::string sku_prefix;   // empty: any
  std::string warehouse;    // empty: any
  std::string location;     // location code within warehouse (or full "wh/code"); empty: any
  bool below_reorder_point = false;  // only SKUs whose total available < reorder point
  bool include_zero = true;          // false: skip rows with on_hand == 0 and reserved == 0
  std::size_t limit = 100;
  // Resume after this (sku, location name) key; empty: from the start.
  std::string after_sku;
  std::string after_location;
};

struct StockRow {
  Item item;
  Location location;
  Balance balance;
  Micros updated_at = 0;
};

// A disagreement between what a store derives from its ledger for reads
// and the ledger itself (Store::verifyIndexes; depotd --verify reports it
// with the ledger checks).
struct IndexFinding {
  std::string check;
  ShardId shard = 0;
  Seq seq = 0;  // 0 for findings about a whole (item, location)
  ItemId item = 0;
  LocationId location = 0;
  std::string expected;
  std::string actual;
};

struct HistoryQuery {
  ItemId item = 0;
  std::optional<LocationId> location;  // none: every location of the item
  Micros from = 0;                     // inclusive
  Micros to = 0;                       // exclusive; 0: no upper bound
  Seq after_seq = 0;                   // paging within the item's shard
  std::size_t limit = 100;
  bool newest_first = false;
};

// Where a dashboard read came from (listStockFromReplica,
// shardBalancesFromReplica): a standby may be behind the primary.
struct ReadFreshness {
  bool from_standby = false;
  std::int64_t staleness_ms = 0;  // how far behind the primary it may be (0: up to date)
};

// Where Store::recoverBalances delivers the rows.
class BalanceSink {
 public:
  virtual ~BalanceSink() = default;
  virtual bool wants(ShardId shard) const = 0;
  // Once per wanted shard, before its rows: its item count, and its row count
  // as far as the store can tell without reading them (for sizing maps).
  virtual void expect(ShardId shard, std::size_t items, std::size_t rows_estimate) = 0;
  // All rows of one item, ordered by location.
  virtual void item(ShardId shard, std::span<const BalanceRow> rows) = 0;
};

class Store {
 public:
  virtual ~Store() = default;
  Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // A random id fixed when the store was created. Watch cursors carry it so a
  // cursor from another data set is refused instead of silently misapplied.
  virtual std::string ledgerId() const = 0;
  virtual int schemaVersion() const = 0;

  // ---- catalog ----
  virtual absl::StatusOr<std::vector<Item>> loadItems() = 0;
  virtual absl::StatusOr<std::vector<Location>> loadLocations() = 0;
  // Insert or update by SKU; ids and shards are assigned here for new items.
  // All or nothing. Returns the stored items in input order.
  virtual absl::StatusOr<std::vector<Item>> upsertItems(const std::vector<Item>& items) = 0;
  // Insert by (warehouse, code) if absent. Returns stored locations in input order.
  virtual absl::StatusOr<std::vector<Location>> upsertLocations(
      const std::vector<Location>& locations) = 0;

  // ---- the write path ----
  // Claims `shard` for this writer and returns its state. For SQLite the epoch
  // is always 1; PostgreSQL takes or renews a lease and bumps the epoch.
  // BalanceRows::kOmit leaves ShardRecovery::balances empty, for a caller
  // that reads them all at once with recoverBalances.
  virtual absl::StatusOr<ShardRecovery> recoverShard(ShardId shard, Micros requests_since,
                                                      Micros closed_holds_since,
                                                      BalanceRows balances) = 0;
  absl::StatusOr<ShardRecovery> recoverShard(ShardId shard, Micros requests_since,
                                             Micros closed_holds_since) {
    return recoverShard(shard, requests_since, closed_holds_since, BalanceRows::kInclude);
  }
  // Whether recoverBalances is one pass over the store's balances. A start
  // that recovers every shard then reads them that way: per-shard reads walk
  // the item index once per shard and read every page again for each shard
  // with a row on it (10 M rows: ~8 CPU-s that way, ~1 s in one pass).
  virtual bool recoversBalancesInOnePass() const { return false; }
  // Ledger entries acknowledged (durable) but not yet in the store's tables:
  // the backlog of an engine that applies its tables after the commit
  // (SQLite's commit log). Commits wait once it reaches the engine's bound,
  // so a rising backlog is the early warning. 0 for engines that write
  // their tables in the commit itself (PostgreSQL).
  virtual std::size_t unappliedEntries() const { return 0; }
  // Flushes (fdatasync) of the commit log since open: with commits counted
  // by the engine, how often one flush covered several writers' commits. 0
  // for engines without a log of their own (PostgreSQL).
  virtual std::uint64_t logSyncs() const { return 0; }
  // Hands the balance rows of every shard `sink` wants to it, one item at a
  // time, in one pass. Only while nothing commits to those shards: at a
  // start, between recoverShard(..., kOmit) of each and the first commit.
  virtual absl::Status recoverBalances(BalanceSink& sink) {
    (void)sink;
    return absl::UnimplementedError("recoverBalances: this store reads balances per shard");
  }
  // Durable when it returns OK (synchronous=FULL for SQLite by default).
  // UNKNOWN when the store cannot tell whether the batch became durable
  // (SQLite: the commit log's fdatasync failed); any other error means
  // nothing in the batch was written.
  virtual absl::Status commit(const CommitBatch& batch) = 0;

  // ---- pipelined commits (the Engine's writers) ----
  // commit() in two halves, so that a writer prepares its next batch while
  // the previous one becomes durable. startCommit() orders the batch after
  // every commit started before it and returns a ticket; its errors mean
  // nothing was written (UNKNOWN as for commit()). The batch is durable once
  // commitDone(ticket) is true and finishCommit(ticket) returns OK;
  // finishCommit() waits for commitDone and returns UNKNOWN if the store can
  // no longer tell (the commit log's fdatasync failed). Tickets become done
  // in the order they were started; ticket 0 is always done. The listener
  // (set before the first commit, cleared after the last) is called from
  // any thread whenever tickets may have become done.
  // Default, for engines that are durable when commit() returns: startCommit
  // runs commit() and returns 0.
  using CommitTicket = std::uint64_t;
  virtual absl::StatusOr<CommitTicket> startCommit(const CommitBatch& batch) {
    if (auto st = commit(batch); !st.ok()) return st;
    return CommitTicket{0};
  }
  virtual bool commitDone(CommitTicket ticket) const {
    (void)ticket;
    return true;
  }
  virtual absl::Status finishCommit(CommitTicket ticket) {
    (void)ticket;
    return absl::OkStatus();
  }
  virtual void setCommitListener(std::function<void()> listener) { (void)listener; }

  // Drop idempotency records and closed holds older than `before` (housekeeping).
  virtual absl::Status pruneBefore(Micros before) = 0;

  // ---- reads (committed data only) ----
  virtual absl::StatusOr<std::vector<StockRow>> listStock(const StockQuery& query) = 0;
  virtual absl::StatusOr<std::vector<LedgerEntry>> history(const HistoryQuery& query) = 0;
  // on_hand/reserved of (item, location) after the last entry with ts <= at;
  // a zero balance if there is none.
  virtual absl::StatusOr<Balance> balanceAt(ItemId item, LocationId location, Micros at) = 0;
  // Ledger rows of `shard` with seq in (after_seq, up_to_seq], ascending, at most `limit`.
  virtual absl::StatusOr<std::vector<LedgerEntry>> readLedger(ShardId shard, Seq after_seq,
                                                               Seq up_to_seq, std::size_t limit) = 0;
  // Every shard's rows after after[shard] (at most `per_shard_limit` each),
  // in (shard, seq) order, from one consistent read: what a node following
  // the ledger has not seen yet. Per shard the rows are contiguous from
  // after[shard] + 1 (seqs are commit-ordered). One round trip on
  // PostgreSQL; this default reads shard by shard.
  virtual absl::StatusOr<std::vector<LedgerEntry>> readLedgerAfter(
      const std::array<Seq, kShardCount>& after, std::size_t per_shard_limit) {
    auto last = lastSeqs();
    if (!last.ok()) return last.status();
    std::vector<LedgerEntry> out;
    for (ShardId s = 0; s < kShardCount; ++s) {
      if ((*last)[s] <= after[s]) continue;
      auto rows = readLedger(s, after[s], (*last)[s], per_shard_limit);
      if (!rows.ok()) return rows.status();
      for (auto& e : *rows) out.push_back(std::move(e));
    }
    return out;
  }
  // Calls `fn` for every ledger row in (shard, seq) order; stops early if fn
  // returns false. Used by --verify.
  virtual absl::Status scanLedger(const std::function<bool(const LedgerEntry&)>& fn) = 0;
  // Every stored balance row (for --verify).
  virtual absl::Status scanBalances(const std::function<bool(const BalanceRow&)>& fn) = 0;
  // The shard's balances and the seq they are exactly valid at, from one
  // consistent read: for a node that does not own the shard (a cluster
  // member answering Snapshot). Engines where one node owns every shard
  // need not provide it (UNIMPLEMENTED).
  virtual absl::StatusOr<std::pair<Seq, std::vector<BalanceRow>>> shardBalances(ShardId shard) {
    (void)shard;
    return absl::UnimplementedError("shardBalances: this store engine has a single writer node");
  }
  // Dashboard reads (ListStock, Snapshot of a shard another node writes) that
  // an engine may serve from a hot standby, reporting its staleness. By
  // default they read the primary data.
  virtual absl::StatusOr<std::vector<StockRow>> listStockFromReplica(const StockQuery& query,
                                                                     ReadFreshness* freshness) {
    if (freshness) *freshness = ReadFreshness{};
    return listStock(query);
  }
  virtual absl::StatusOr<std::pair<Seq, std::vector<BalanceRow>>> shardBalancesFromReplica(
      ShardId shard, ReadFreshness* freshness) {
    if (freshness) *freshness = ReadFreshness{};
    return shardBalances(shard);
  }
  // Last committed seq of every shard.
  virtual absl::StatusOr<std::array<Seq, kShardCount>> lastSeqs() = 0;
  // Shards holding a hold (open or closed) for `order_id`.
  virtual absl::StatusOr<std::vector<ShardId>> findOrderShards(const std::string& order_id) = 0;
  virtual absl::StatusOr<std::optional<CountRecord>> findCount(const std::string& count_id) = 0;
  // Checks the structures the engine derives from the ledger for its reads
  // against the ledger (SQLite: the history chains, their heads and marks);
  // each disagreement goes to `found`. Non-OK only when the store cannot be
  // read. An engine that derives nothing of its own checks nothing.
  virtual absl::Status verifyIndexes(const std::function<void(IndexFinding)>& /*found*/) {
    return absl::OkStatus();
  }
  // Counts in `state`, oldest first.
  virtual absl::StatusOr<std::vector<CountRecord>> listCounts(CountState state, std::size_t limit) = 0;

  // ---- alerts ----
  virtual absl::StatusOr<std::vector<Alert>> loadAlerts(bool include_resolved) = 0;
  virtual absl::Status saveAlert(const Alert& alert) = 0;  // upsert by id
  virtual absl::StatusOr<std::uint64_t> nextAlertId() = 0;
  // The first of `n` consecutive fresh alert ids (a cluster node takes ids
  // in blocks so that nodes never collide and a raise rarely waits).
  virtual absl::StatusOr<std::uint64_t> reserveAlertIds(std::uint32_t n) {
    auto first = nextAlertId();
    if (!first.ok()) return first;
    for (std::uint32_t i = 1; i < n; ++i)
      if (auto next = nextAlertId(); !next.ok()) return next.status();
    return first;
  }
  // Alerts (any state) whose updated_at >= since: what other nodes changed.
  virtual absl::StatusOr<std::vector<Alert>> alertsUpdatedSince(Micros since) {
    auto all = loadAlerts(true);
    if (!all.ok()) return all.status();
    std::vector<Alert> out;
    for (auto& a : *all)
      if (a.updated_at >= since) out.push_back(std::move(a));
    return out;
  }
  virtual absl::StatusOr<std::vector<Silence>> loadSilences(Micros active_at) = 0;
  virtual absl::StatusOr<Silence> addSilence(const Silence& silence) = 0;  // assigns id
};

}  // namespace depot
