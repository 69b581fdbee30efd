// InventoryService: the one entry point of the core for every front end
// (gRPC server, tests). It validates every field, resolves SKUs and locations
// through the catalog, routes commands to their shard's engine, coordinates
// multi-shard orders (saga) and answers reads.
//
// Asynchronous methods call `done` exactly once, on an engine thread (or on
// the caller's thread for an immediate refusal). `done` must not block: it
// should hand the result to the transport and return.
//
// Errors use absl::StatusCode with a message naming the field, e.g.
// "movements[3].quantity: must be > 0". Whole-request errors (a malformed
// request) come as a non-OK absl::Status; per-movement refusals come as
// Outcomes inside an OK result.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/alerts.h"
#include "core/catalog.h"
#include "core/clock.h"
#include "core/event_log.h"
#include "core/model.h"
#include "core/stats.h"
#include "store/store.h"

namespace depot {

class Engine;

template <typename T>
using Done = std::function<void(T)>;

struct MovementRequest {
  std::string request_id;
  MovementKind kind = MovementKind::kReceive;  // RECEIVE, SHIP, TRANSFER or ADJUST
  std::string sku;
  std::string location;     // "warehouse/code"
  std::string to_location;  // TRANSFER only
  Qty quantity = 0;         // > 0; ADJUST: a non-zero signed delta
  std::string reason;       // required for ADJUST
  std::string actor;
};

struct OrderLine {
  std::string sku;
  std::string location;
  Qty quantity = 0;
};

// Set on the part of a request that another node coordinates across the
// cluster (its shards span nodes): only `shards` are touched here, the
// request_id is not claimed again, and `fingerprint` is the whole request's
// (requestFingerprint), so a shard's remembered result matches the same
// request however it was split.
struct RequestPart {
  std::uint64_t fingerprint = 0;
  std::vector<ShardId> shards;
  bool whole_has_lines = false;  // Commit: the whole request named lines (ship these only)
};

struct ReserveRequest {
  std::optional<RequestPart> part;
  std::string request_id;
  std::string order_id;
  std::vector<OrderLine> lines;
  Micros ttl = 0;  // 0: the configured default
  std::string actor;
};

struct CommitRequest {
  std::optional<RequestPart> part;
  std::string request_id;
  std::string order_id;
  std::vector<OrderLine> lines;  // empty: ship everything held; else ship these, release the rest
  std::string actor;
};

struct ReleaseRequest {
  std::optional<RequestPart> part;
  std::string request_id;
  std::string order_id;
  std::string actor;
  std::string reason;
};

// What a retry must repeat exactly to get the first result back.
std::uint64_t requestFingerprint(const ReserveRequest& r);
std::uint64_t requestFingerprint(const CommitRequest& r);
std::uint64_t requestFingerprint(const ReleaseRequest& r);
// The saga's undo of a reservation that failed on another shard: request_id
// `<id>~undo`, reason kUndoReason, this fingerprint.
std::uint64_t undoFingerprint(std::uint64_t reserve_fingerprint);
inline constexpr const char* kUndoReason = "reservation failed on another shard";

struct LineBalance {
  std::string sku;
  std::string location;
  Balance balance;
};

struct OrderResult {
  absl::Status status;          // OK, or why the order was refused (nothing left applied)
  Micros expires_at = 0;        // Reserve: when the hold expires by itself
  std::vector<Seq> seqs;        // first ledger seq written per shard touched
  std::vector<LineBalance> after;  // balances after, per line
  bool replayed = false;        // true when this is the remembered result of a retry
};

struct MovementResult {
  Outcome outcome;
  ShardId shard = 0;
  std::vector<LineBalance> after;  // from `outcome.after`, with names
  bool replayed = false;
};

struct StockLine {
  Location location;
  Balance balance;
};

struct StockResult {
  Item item;
  std::vector<StockLine> lines;  // one per location with a balance row
  Seq seq = 0;                   // shard seq the figures are consistent at
};

struct CountLine {
  std::string request_id;  // becomes the count id
  std::string sku;
  std::string location;
  Qty counted = 0;         // >= 0
  Micros counted_at = 0;   // when the shelf was counted (0: now); not in the future
};

struct CountSubmission {
  std::string session_id;
  std::string counter;
  bool blind = false;  // results omit expected and variance
  std::vector<CountLine> lines;
};

struct CountResult {
  absl::Status status;  // per line: OK (applied or pending), or why refused
  CountRecord record;   // expected/variance zeroed for blind counts
  bool replayed = false;
};

struct CountDecision {
  std::string request_id;
  std::string count_id;
  std::string actor;
  std::string note;
};

struct ShardSnapshot {
  ShardId shard = 0;
  Seq seq = 0;  // the balances are exactly those after this seq
  std::vector<StockRow> rows;
  ReadFreshness freshness;  // a shard another node writes may be read from a standby
};

struct ServiceOptions {
  int writers = 2;                          // writer threads; shard s belongs to writer s % writers
  std::size_t queue_capacity = 200000;      // hard cap of commands queued per writer
  Micros max_queue_delay = 500'000;         // admission: refuse past this much queued work per writer
  std::size_t min_queue = 256;              // admission: never refuse below this many queued
  std::size_t max_batch = 20000;            // commands per group commit
  Micros max_batch_delay = 0;               // wait this long for more commands (0: close on drain)
  std::size_t max_commits_in_flight = 8;    // per writer: commits started, not yet durable
  Micros idempotency_window = 3600'000'000; // request ids remembered this long (1 h)
  std::size_t max_remembered_requests = 0;  // memory bound of the window (0: none); EngineOptions
  Micros default_hold_ttl = 900'000'000;    // 15 min
  Micros max_hold_ttl = 7 * 86400'000'000ll;
  Qty count_variance_abs = 10;              // a variance needs approval when |v| > abs
  double count_variance_pct = 5.0;          //   and |v| > pct% of the expected figure
  double low_stock_hysteresis_pct = 10.0;   // resolve low stock at reorder point + this %
  Micros max_clock_skew = 300'000'000;      // counted_at may be this far ahead of now
  std::size_t watch_tail_entries = 1 << 20; // committed entries kept in memory for watchers
  // A cluster node: serves only the shards it acquires (engine().acquire).
  bool cluster_member = false;
};

class InventoryService {
 public:
  // Recovers every shard from the store and starts the writers.
  static absl::StatusOr<std::unique_ptr<InventoryService>> start(Store& store, const Clock& clock,
                                                                 ServiceOptions options);
  ~InventoryService();  // stop()s if still running
  InventoryService(const InventoryService&) = delete;
  InventoryService& operator=(const InventoryService&) = delete;

  // Stops accepting (new calls get UNAVAILABLE), drains and commits what is
  // queued, joins the writers. Idempotent.
  void stop();

  // ---- movements ----
  // Validates and applies up to kMaxBatchMovements movements, each with its
  // own Outcome. linked: all movements must be on one shard and are applied
  // all-or-nothing (a failure aborts the others with ABORTED).
  // Whole-request errors (too many, linked across shards) fail the call.
  // flow_controlled: the caller bounds its own in-flight work (ApplyStream),
  // so the writers' time-based admission bound does not apply (see Task).
  void apply(std::vector<MovementRequest> movements, bool linked,
             Done<absl::StatusOr<std::vector<MovementResult>>> done, bool flow_controlled = false);

  // ---- order holds ----
  void reserve(ReserveRequest request, Done<OrderResult> done);
  void commitOrder(CommitRequest request, Done<OrderResult> done);
  void releaseOrder(ReleaseRequest request, Done<OrderResult> done);

  // ---- reads ----
  void getStock(std::string sku, Done<absl::StatusOr<StockResult>> done);
  // A dashboard read: may come from a hot standby (see Store::listStockFromReplica);
  // `freshness`, when given, says so.
  absl::StatusOr<std::vector<StockRow>> listStock(const StockQuery& query,
                                                  ReadFreshness* freshness = nullptr);
  absl::StatusOr<std::vector<LedgerEntry>> history(const std::string& sku,
                                                   const std::string& location, Micros from,
                                                   Micros to, Seq after_seq, std::size_t limit);
  absl::StatusOr<Balance> balanceAt(const std::string& sku, const std::string& location, Micros at);
  void snapshot(ShardId shard, Done<absl::StatusOr<ShardSnapshot>> done);

  // ---- stocktake ----
  void submitCounts(CountSubmission submission, Done<absl::StatusOr<std::vector<CountResult>>> done);
  void approveCount(CountDecision decision, Done<CountResult> done);
  void rejectCount(CountDecision decision, Done<CountResult> done);
  absl::StatusOr<std::vector<CountRecord>> listPendingCounts(std::size_t limit);

  // ---- catalog ----
  Catalog& catalog();
  // ---- live data ----
  EventLog& events();
  AlertManager& alerts();
  Stats& stats();
  std::string ledgerId() const;
  std::array<Seq, kShardCount> lastSeqs() const;  // committed, per shard
  std::size_t queueDepth() const;
  std::size_t openHolds() const;
  std::size_t unappliedEntries() const;  // Store::unappliedEntries
  std::uint64_t logSyncs() const;        // Store::logSyncs
  IdempotencyWindowStats idempotencyWindow() const;
  // Shard ownership (cluster): acquire/release, leases, hooks.
  Engine& engine();
  // The shards holding a hold of `order_id` (from the store).
  absl::StatusOr<std::vector<ShardId>> orderShards(const std::string& order_id);
  // The shard of a stocktake count (from the store); NOT_FOUND if unknown.
  absl::StatusOr<ShardId> countShard(const std::string& count_id);

  class Impl;  // defined in service.cpp only

 private:
  explicit InventoryService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

}  // namespace depot
