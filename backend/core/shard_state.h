// The rules of one shard, single-threaded: balances, holds, stocktake counts
// and the idempotency window, plus ShardTxn, the tentative changes of one
// group-commit batch with an undo log. Only the shard's writer thread touches
// a ShardState. No I/O except Store::balanceAt for back-dated counts.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "core/huge_pages.h"
#include "core/idempotency_window.h"
#include "core/model.h"
#include "store/store.h"

namespace depot {

inline std::uint64_t balanceKey(ItemId item, LocationId location) {
  return (static_cast<std::uint64_t>(item) << 32) | location;
}
inline ItemId keyItem(std::uint64_t key) { return static_cast<ItemId>(key >> 32); }
inline LocationId keyLocation(std::uint64_t key) { return static_cast<LocationId>(key & 0xffffffffu); }

struct BalanceCell {
  Balance balance;
  Micros last_ts = 0;
};

// Per-item totals over all its locations, for the alert rules.
struct ItemTotals {
  Qty on_hand = 0;
  Qty reserved = 0;
  bool low_alert = false;       // low-stock alert currently raised by this shard
  bool stockout_alert = false;  // stockout alert currently raised by this shard
};

// The in-memory key of an idempotency record: two independent 64-bit digests
// of the request id instead of the id itself (client ids are often 36-char
// UUIDs: a string key cost ~80 bytes per request, twice, with the window's
// order queue). `fnv` is the stable Fingerprint of the id, the same key the
// RequestRegistry uses; `mixed` is absl::Hash with its per-process seed, so a
// collision needs both digests to collide (~2^-128 for random ids, and not
// craftable offline). The store keeps the ids themselves; keys are rebuilt
// from them on every load.
struct ShardState {
  ShardId shard = 0;
  Seq last_seq = 0;
  std::uint64_t epoch = 1;
  Micros last_ts = 0;
  // The tables that grow with the data set allocate from huge pages.
  template <typename K, typename V>
  using LargeMap = absl::flat_hash_map<K, V, absl::Hash<K>, std::equal_to<K>,
                                       HugePageAllocator<std::pair<const K, V>>>;
  LargeMap<std::uint64_t, BalanceCell> balances;
  // An item is usually held at one or two locations: inline, no allocation.
  LargeMap<ItemId, absl::InlinedVector<LocationId, 2>> item_locations;
  LargeMap<ItemId, ItemTotals> totals;
  // By order_id: open, and closed within the window. Read freely; written
  // only through setHold/eraseHold, which keep the two below.
  absl::flat_hash_map<std::string, Hold> holds;
  std::size_t open_holds = 0;  // holds in state kOpen
  // (closed_at, order_id) of every close, oldest first (a shard's clock
  // never goes back), so prune() forgets closed holds without scanning the
  // open ones: every writer scanned all its holds each second (tens of ms
  // with ~800,000 open, its queue waiting). An entry whose hold was since
  // reopened by a rollback, or closed again later, is skipped.
  std::deque<std::pair<Micros, std::string>> closed_holds;
  IdempotencyWindow requests;
  absl::flat_hash_map<std::string, CountRecord> pending;     // counts awaiting approval

  // Replaces the state with `recovery`; its balances may be left empty and
  // added afterwards with loadItemBalances (Store::recoverBalances).
  void load(ShardRecovery recovery);
  // Sizes the maps for balances about to be added with loadItemBalances.
  void expectBalances(std::size_t items, std::size_t rows);
  // Adds balance rows ordered by item, each item's rows all together (and
  // none of them loaded before).
  void loadBalances(std::span<const BalanceRow> rows);
  // Forget idempotency records older than `before` and closed holds closed before it.
  void prune(Micros before);
  // Forget idempotency records older than `before` (the memory bound of
  // the window); returns how many were forgotten. Holds are not touched.
  std::size_t forgetBefore(Micros before);
  Micros oldestRequestTs() const;  // 0 when none is remembered
  Micros newestRequestTs() const;  // 0 when none is remembered
  std::size_t openHolds() const { return open_holds; }
  void setHold(Hold hold);  // inserts or replaces holds[hold.order_id]
  void eraseHold(const std::string& order_id);
};

struct MovementCmd {
  std::string request_id;
  MovementKind kind = MovementKind::kReceive;
  ItemId item = 0;
  LocationId location = 0;
  LocationId to_location = 0;  // TRANSFER
  Qty quantity = 0;            // ADJUST: signed delta
  std::string actor;
  std::string reason;
  std::uint64_t fingerprint = 0;
  std::string location_name;     // "warehouse/code", for the transfer legs' ref
  std::string to_location_name;
};

struct HoldCmd {
  std::string request_id;
  std::string order_id;
  std::vector<HoldLine> lines;
  Micros expires_at = 0;
  std::string actor;
  std::uint64_t fingerprint = 0;
};

struct CloseHoldCmd {
  std::string request_id;
  std::string order_id;
  bool commit = false;             // true: ship; false: release
  bool ship_all = true;            // commit: ship everything held
  std::vector<HoldLine> ship;      // commit with !ship_all: quantities to ship
  std::string actor;
  std::string reason;
  std::uint64_t fingerprint = 0;
};

struct CountCmd {
  CountRecord draft;  // count_id (= request_id), item, location, counted, counted_at, session, counter, blind
  std::uint64_t fingerprint = 0;
};

struct DecideCmd {
  std::string request_id;
  std::string count_id;
  bool approve = false;
  std::string actor;
  std::string note;
  std::uint64_t fingerprint = 0;
};

struct CountRules {
  Qty variance_abs = 10;
  double variance_pct = 5.0;
};

// Tentative changes of one batch on one shard. Changes apply to the state at
// once (so later commands in the batch see them); rollback() undoes all of
// them if the store commit fails. Savepoints make linked batches atomic.
class ShardTxn {
 public:
  ShardTxn(ShardState& state, Micros now, Store& store, const CountRules& rules);
  ShardTxn(const ShardTxn&) = delete;
  ShardTxn& operator=(const ShardTxn&) = delete;

  Outcome movement(const MovementCmd& cmd, bool* replayed = nullptr);
  // All or nothing: on a failure the others get ABORTED.
  std::vector<Outcome> linked(const std::vector<MovementCmd>& cmds, std::vector<bool>* replayed);
  Outcome reserve(const HoldCmd& cmd, bool* replayed = nullptr);
  Outcome closeHold(const CloseHoldCmd& cmd, bool* replayed = nullptr);
  // Releases an open hold whose time is up (request id "expire:<order>").
  bool expire(const std::string& order_id);
  // Reconciles a count; `record` receives the stored record.
  Outcome count(const CountCmd& cmd, CountRecord* record, bool* replayed = nullptr);
  Outcome decide(const DecideCmd& cmd, CountRecord* record, bool* replayed = nullptr);

  bool empty() const;  // nothing to persist
  // Moves the batch's rows out (entries() is empty afterwards).
  ShardCommit toCommit();
  void rollback();
  Micros now() const { return m_now; }
  // Read access for queries running inside a batch (they see the batch so far).
  const ShardState& state() const { return m_state; }
  const absl::flat_hash_set<ItemId>& touchedItems() const { return m_touchedItems; }
  // Counts that became pending / were decided in this batch (for alerts).
  const std::vector<CountRecord>& countChanges() const { return m_countChanges; }
  // Holds opened in this batch (for the expiry schedule).
  const std::vector<std::pair<Micros, std::string>>& newHolds() const { return m_newHolds; }

 private:
  struct BalanceUndo {
    std::uint64_t key;
    std::optional<BalanceCell> old;
    ItemTotals old_totals;
    bool added_location;
  };
  struct Savepoint {
    std::size_t balances, holds, requests, counts, entries, records, count_changes, new_holds;
    Seq last_seq;
  };
  Savepoint savepoint() const;
  void rollbackTo(const Savepoint& sp);

  // Idempotency: returns the remembered outcome (replay) or ALREADY_EXISTS.
  std::optional<Outcome> lookup(const std::string& request_id, std::uint64_t fingerprint,
                                bool* replayed);
  void remember(const std::string& request_id, std::uint64_t fingerprint, const Outcome& outcome);
  BalanceCell& cell(ItemId item, LocationId location);
  Balance current(ItemId item, LocationId location) const;
  void post(MovementKind kind, const std::string& request_id, ItemId item, LocationId location,
            Qty d_on_hand, Qty d_reserved, const std::string& actor, const std::string& reason,
            const std::string& ref, Outcome& outcome);
  void putHold(Hold hold);
  void putCount(const CountRecord& record, bool pending);
  Outcome apply(const MovementCmd& cmd);
  Outcome releaseLines(const Hold& hold, HoldState final_state, const std::string& request_id,
                       const std::string& actor, const std::string& reason);

  ShardState& m_state;
  const Micros m_now;
  Store& m_store;
  const CountRules m_rules;
  const Seq m_startSeq;
  const Micros m_startTs;

  std::vector<BalanceUndo> m_balanceUndo;
  std::vector<std::pair<std::string, std::optional<Hold>>> m_holdUndo;
  std::size_t m_requestsAdded = 0;  // records this batch added to the window
  std::vector<std::pair<std::string, std::optional<CountRecord>>> m_countUndo;

  std::vector<LedgerEntry> m_entries;
  std::vector<RequestRecord> m_records;
  absl::flat_hash_set<std::uint64_t> m_touchedKeys;
  absl::flat_hash_set<ItemId> m_touchedItems;
  absl::flat_hash_set<std::string> m_touchedHolds;
  absl::flat_hash_map<std::string, CountRecord> m_touchedCounts;
  std::vector<CountRecord> m_countChanges;
  std::vector<std::pair<Micros, std::string>> m_newHolds;
};

}  // namespace depot
