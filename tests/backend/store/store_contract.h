// The Store contract: engine-independent checks every Store implementation
// must pass (SqliteStore today, PostgresStore later).
//
// Usage: construct StoreContract with a factory that returns a fresh, empty
// store on every call (nullptr on failure) and run it with QTest::qExec.
// Every test function gets its own store. The checks assume nothing an
// engine may do differently: epochs are whatever recoverShard returns, ids
// are whatever the store assigns.
#pragma once

#include <QObject>
#include <QTest>
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/model.h"
#include "store/store.h"

namespace depot::testing {

using StoreFactory = std::function<std::unique_ptr<Store>()>;

inline QByteArray bytes(const std::string& s) {
  return QByteArray(s.data(), static_cast<qsizetype>(s.size()));
}
inline QByteArray statusText(const absl::Status& st) {
  const std::string text = st.ToString();
  return QByteArray(text.data(), static_cast<qsizetype>(text.size()));
}

}  // namespace depot::testing

// Fails the current test (returning from the current void function) unless
// `expr` (an absl::Status) is OK.
#define DEPOT_VERIFY_OK(expr)                                                      \
  do {                                                                             \
    const absl::Status depot_st_ = (expr);                                         \
    QVERIFY2(depot_st_.ok(), ::depot::testing::statusText(depot_st_).constData()); \
  } while (0)

// Declares `var` as a reference to the value of `expr` (an absl::StatusOr),
// failing the test if it is not OK.
#define DEPOT_ASSIGN_OR_FAIL(var, expr)                                                   \
  auto var##_or_ = (expr);                                                                \
  QVERIFY2(var##_or_.ok(), ::depot::testing::statusText(var##_or_.status()).constData()); \
  auto& var = *var##_or_

#define DEPOT_VERIFY_CODE(expr, expected_code)                                               \
  do {                                                                                       \
    const absl::Status depot_st_ = (expr);                                                   \
    QVERIFY2(depot_st_.code() == (expected_code),                                            \
             ("unexpected status: " + ::depot::testing::statusText(depot_st_)).constData()); \
  } while (0)

namespace depot::testing {

// A minimal stand-in for a shard engine: assigns seqs, tracks balances and
// builds ShardCommits the way the real engine does (epoch from recoverShard,
// final balances of touched rows, contiguous seqs).
class ModelLedger {
 public:
  explicit ModelLedger(Store& store) : m_store(store) {}

  // Appends a movement to the pending batch and returns the new entry.
  LedgerEntry& move(const Item& item, const Location& location, Qty d_on_hand, Qty d_reserved,
                    Micros ts, MovementKind kind = MovementKind::kReceive,
                    std::string request_id = {}) {
    claim(item.shard);
    Balance& b = m_working[{item.id, location.id}];
    b.on_hand += d_on_hand;
    b.reserved += d_reserved;
    Pending& p = m_pending[item.shard];
    LedgerEntry e;
    e.shard = item.shard;
    e.seq = m_last[item.shard] + p.commit.entries.size() + 1;
    e.request_id = request_id.empty() ? "req-" + std::to_string(++m_request_no) : request_id;
    e.kind = kind;
    e.item = item.id;
    e.location = location.id;
    e.d_on_hand = d_on_hand;
    e.d_reserved = d_reserved;
    e.on_hand_after = b.on_hand;
    e.reserved_after = b.reserved;
    e.actor = "tester";
    e.reason = d_on_hand < 0 ? "outbound" : "";
    e.ref = "ref-" + std::to_string(e.seq);
    e.ts = ts;
    p.touched[{item.id, location.id}] = BalanceRow{item.id, location.id, b, ts};
    p.commit.entries.push_back(std::move(e));
    return p.commit.entries.back();
  }
  // The pending ShardCommit of `shard`, to add requests, holds and counts.
  ShardCommit& pending(ShardId shard) {
    claim(shard);
    return m_pending[shard].commit;
  }
  // Commits everything pending as one batch. On failure nothing changes in
  // the model (the pending work is dropped).
  absl::Status commit() {
    if (!m_error.ok()) return std::exchange(m_error, absl::OkStatus());
    CommitBatch batch;
    for (auto& [shard, p] : m_pending) {
      p.commit.shard = shard;
      p.commit.epoch = m_epoch[shard];
      p.commit.expected_last_seq = m_last[shard];
      for (const auto& [key, row] : p.touched) p.commit.balances.push_back(row);
      batch.shards.push_back(p.commit);
    }
    absl::Status st = m_store.commit(batch);
    if (st.ok()) {
      for (const ShardCommit& sc : batch.shards) {
        m_last[sc.shard] += sc.entries.size();
        m_entries.insert(m_entries.end(), sc.entries.begin(), sc.entries.end());
      }
      m_committed = m_working;
    } else {
      m_working = m_committed;
    }
    m_pending.clear();
    return st;
  }
  // recoverShard through the model: adopts the returned epoch, so later
  // commits stay valid on engines that bump it on every claim.
  absl::StatusOr<ShardRecovery> recover(ShardId shard, Micros requests_since,
                                        Micros closed_holds_since) {
    auto r = m_store.recoverShard(shard, requests_since, closed_holds_since);
    if (r.ok()) {
      m_epoch[shard] = r->epoch;
      m_last[shard] = r->last_seq;
    }
    return r;
  }
  Balance balance(ItemId item, LocationId location) const {
    auto it = m_committed.find({item, location});
    return it == m_committed.end() ? Balance{} : it->second;
  }
  Seq lastSeq(ShardId shard) const {
    auto it = m_last.find(shard);
    return it == m_last.end() ? 0 : it->second;
  }
  std::uint64_t epoch(ShardId shard) {
    claim(shard);
    return m_epoch[shard];
  }
  const std::vector<LedgerEntry>& entries() const { return m_entries; }
  const std::map<std::pair<ItemId, LocationId>, Balance>& balances() const { return m_committed; }

 private:
  struct Pending {
    ShardCommit commit;
    std::map<std::pair<ItemId, LocationId>, BalanceRow> touched;
  };
  void claim(ShardId shard) {
    if (m_epoch.count(shard) != 0) return;
    auto r = m_store.recoverShard(shard, 0, 0);
    if (!r.ok()) {
      if (m_error.ok()) m_error = r.status();
      m_epoch[shard] = 0;
      return;
    }
    m_epoch[shard] = r->epoch;
    m_last[shard] = r->last_seq;
  }

  Store& m_store;
  absl::Status m_error;
  std::map<ShardId, std::uint64_t> m_epoch;
  std::map<ShardId, Seq> m_last;
  std::map<ShardId, Pending> m_pending;
  std::map<std::pair<ItemId, LocationId>, Balance> m_working;
  std::map<std::pair<ItemId, LocationId>, Balance> m_committed;
  std::vector<LedgerEntry> m_entries;
  std::uint64_t m_request_no = 0;
};

// SKUs chosen so that tests can put items in the same or different shards.
inline std::string skuInShard(ShardId shard, const std::string& stem) {
  for (int i = 0; i < 100000; ++i) {
    std::string sku = stem + "-" + std::to_string(i);
    if (shardOf(sku) == shard) return sku;
  }
  return stem;  // unreachable for any shard: FNV spreads well
}

class StoreContract : public QObject {
  Q_OBJECT

 public:
  explicit StoreContract(StoreFactory factory, QObject* parent = nullptr)
      : QObject(parent), m_factory(std::move(factory)) {}

 private:
  std::unique_ptr<Store> m_store;
  StoreFactory m_factory;
  std::vector<Item> m_items;
  std::vector<Location> m_locations;

  Store& store() { return *m_store; }

  // Items 0..2 in shard 7, item 3 in shard 42, item 4 in shard 200.
  // Locations: east/A-01, east/A-02, west/A-01, west/B-01.
  void makeCatalog() {
    std::vector<Item> items(5);
    const ShardId shards[] = {7, 7, 7, 42, 200};
    const char* stems[] = {"AB", "AB", "AC", "B", "C"};
    for (int i = 0; i < 5; ++i) {
      items[i].sku = skuInShard(shards[i], std::string(stems[i]) + std::to_string(i));
      items[i].description = "item " + std::to_string(i);
      items[i].unit = i % 2 ? "box" : "ea";
      items[i].reorder_point = 10 * i;
      items[i].reorder_qty = 100 + i;
    }
    DEPOT_ASSIGN_OR_FAIL(stored, store().upsertItems(items));
    QCOMPARE(stored.size(), items.size());
    m_items = stored;
    std::vector<Location> locations(4);
    locations[0] = {0, "east", "A-01"};
    locations[1] = {0, "east", "A-02"};
    locations[2] = {0, "west", "A-01"};
    locations[3] = {0, "west", "B-01"};
    DEPOT_ASSIGN_OR_FAIL(stored_locations, store().upsertLocations(locations));
    QCOMPARE(stored_locations.size(), locations.size());
    m_locations = stored_locations;
  }


 public:
  // Field-by-field comparisons, also used by the engine-specific suites.
  static void compareEntries(const LedgerEntry& a, const LedgerEntry& b) {
    QCOMPARE(a.shard, b.shard);
    QCOMPARE(a.seq, b.seq);
    QCOMPARE(bytes(a.request_id), bytes(b.request_id));
    QCOMPARE(static_cast<int>(a.kind), static_cast<int>(b.kind));
    QCOMPARE(a.item, b.item);
    QCOMPARE(a.location, b.location);
    QCOMPARE(a.d_on_hand, b.d_on_hand);
    QCOMPARE(a.d_reserved, b.d_reserved);
    QCOMPARE(a.on_hand_after, b.on_hand_after);
    QCOMPARE(a.reserved_after, b.reserved_after);
    QCOMPARE(bytes(a.actor), bytes(b.actor));
    QCOMPARE(bytes(a.reason), bytes(b.reason));
    QCOMPARE(bytes(a.ref), bytes(b.ref));
    QCOMPARE(a.ts, b.ts);
  }
  static void compareEntryLists(const std::vector<LedgerEntry>& got,
                                const std::vector<LedgerEntry>& want) {
    QCOMPARE(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      compareEntries(got[i], want[i]);
      if (QTest::currentTestFailed()) {
        qWarning("entry %zu differs", i);
        return;
      }
    }
  }
  static std::vector<Seq> seqsOf(const std::vector<LedgerEntry>& entries) {
    std::vector<Seq> seqs;
    for (const LedgerEntry& e : entries) seqs.push_back(e.seq);
    return seqs;
  }
  static void compareCounts(const CountRecord& a, const CountRecord& b) {
    QCOMPARE(bytes(a.count_id), bytes(b.count_id));
    QCOMPARE(a.shard, b.shard);
    QCOMPARE(a.item, b.item);
    QCOMPARE(a.location, b.location);
    QCOMPARE(a.counted, b.counted);
    QCOMPARE(a.counted_at, b.counted_at);
    QCOMPARE(a.expected, b.expected);
    QCOMPARE(a.variance, b.variance);
    QCOMPARE(static_cast<int>(a.state), static_cast<int>(b.state));
    QCOMPARE(bytes(a.session_id), bytes(b.session_id));
    QCOMPARE(bytes(a.counter), bytes(b.counter));
    QCOMPARE(a.blind, b.blind);
    QCOMPARE(a.submitted_at, b.submitted_at);
    QCOMPARE(bytes(a.decided_by), bytes(b.decided_by));
    QCOMPARE(bytes(a.note), bytes(b.note));
    QCOMPARE(a.decided_at, b.decided_at);
    QCOMPARE(a.applied_seq, b.applied_seq);
  }
  static void compareHolds(const Hold& a, const Hold& b) {
    QCOMPARE(bytes(a.order_id), bytes(b.order_id));
    QCOMPARE(a.shard, b.shard);
    QCOMPARE(bytes(a.request_id), bytes(b.request_id));
    QCOMPARE(static_cast<int>(a.state), static_cast<int>(b.state));
    QCOMPARE(a.lines.size(), b.lines.size());
    for (std::size_t i = 0; i < a.lines.size(); ++i) {
      QCOMPARE(a.lines[i].item, b.lines[i].item);
      QCOMPARE(a.lines[i].location, b.lines[i].location);
      QCOMPARE(a.lines[i].qty, b.lines[i].qty);
    }
    QCOMPARE(bytes(a.actor), bytes(b.actor));
    QCOMPARE(a.created_at, b.created_at);
    QCOMPARE(a.expires_at, b.expires_at);
    QCOMPARE(a.closed_at, b.closed_at);
  }
  // A recovered record against the record that was committed: a restart
  // keeps the id's key, not the id, and not the shard (the recovery's own).
  static void compareRequests(const RecoveredRequest& got, const RequestRecord& want) {
    QVERIFY(got.key == requestKey(want.request_id));
    const RememberedRequest& r = got.remembered;
    QCOMPARE(r.fingerprint, want.fingerprint);
    QCOMPARE(static_cast<int>(r.code), static_cast<int>(want.outcome.code));
    QCOMPARE(bytes(r.message ? *r.message : std::string()), bytes(want.outcome.message));
    QCOMPARE(r.first_seq, want.outcome.first_seq);
    QCOMPARE(r.entries, want.outcome.entries);
    QCOMPARE(r.after.size(), want.outcome.after.size());
    for (std::size_t i = 0; i < r.after.size(); ++i) {
      QCOMPARE(r.after[i].first, want.outcome.after[i].first);
      QVERIFY(r.after[i].second == want.outcome.after[i].second);
    }
    QCOMPARE(r.ts, want.ts);
  }
  // Which of `ids` a recovery remembers.
  static std::set<std::string> rememberedIds(const ShardRecovery& r,
                                             const std::vector<std::string>& ids) {
    std::set<std::string> found;
    for (const RecoveredRequest& rec : r.requests)
      for (const std::string& id : ids)
        if (rec.key == requestKey(id)) found.insert(id);
    return found;
  }
  static const RecoveredRequest* rememberedRequest(const ShardRecovery& r, std::string_view id) {
    for (const RecoveredRequest& rec : r.requests)
      if (rec.key == requestKey(id)) return &rec;
    return nullptr;
  }

  static void compareRequests(const RequestRecord& a, const RequestRecord& b) {
    QCOMPARE(bytes(a.request_id), bytes(b.request_id));
    QCOMPARE(a.shard, b.shard);
    QCOMPARE(a.fingerprint, b.fingerprint);
    QCOMPARE(static_cast<int>(a.outcome.code), static_cast<int>(b.outcome.code));
    QCOMPARE(bytes(a.outcome.message), bytes(b.outcome.message));
    QCOMPARE(a.outcome.first_seq, b.outcome.first_seq);
    QCOMPARE(a.outcome.entries, b.outcome.entries);
    QCOMPARE(a.outcome.after.size(), b.outcome.after.size());
    for (std::size_t i = 0; i < a.outcome.after.size(); ++i) {
      QCOMPARE(a.outcome.after[i].first, b.outcome.after[i].first);
      QVERIFY(a.outcome.after[i].second == b.outcome.after[i].second);
    }
    QCOMPARE(a.ts, b.ts);
  }
  static void compareAlerts(const Alert& a, const Alert& b) {
    QCOMPARE(a.id, b.id);
    QCOMPARE(static_cast<int>(a.kind), static_cast<int>(b.kind));
    QCOMPARE(static_cast<int>(a.severity), static_cast<int>(b.severity));
    QCOMPARE(static_cast<int>(a.state), static_cast<int>(b.state));
    QCOMPARE(bytes(a.subject), bytes(b.subject));
    QCOMPARE(bytes(a.summary), bytes(b.summary));
    QCOMPARE(a.fired_at, b.fired_at);
    QCOMPARE(a.updated_at, b.updated_at);
    QCOMPARE(a.resolved_at, b.resolved_at);
    QCOMPARE(bytes(a.acked_by), bytes(b.acked_by));
    QCOMPARE(a.acked_at, b.acked_at);
    QCOMPARE(bytes(a.ack_note), bytes(b.ack_note));
    QCOMPARE(a.silenced, b.silenced);
  }
 private:


  static RequestRecord request(ShardId shard, std::string id, Micros ts) {
    RequestRecord r;
    r.request_id = std::move(id);
    r.shard = shard;
    r.fingerprint = 0xfedcba9876543210ull;  // high bit set: must survive signed storage
    r.outcome.code = absl::StatusCode::kOk;
    r.outcome.first_seq = 1;
    r.outcome.entries = 2;
    r.outcome.after = {{3, Balance{-5, 0}}, {4, Balance{kMaxBalance, 7}}};
    r.ts = ts;
    return r;
  }
  static Hold hold(std::string order_id, ShardId shard, HoldState state, Micros created,
                   Micros closed) {
    Hold h;
    h.order_id = std::move(order_id);
    h.shard = shard;
    h.request_id = "reserve-" + h.order_id;
    h.state = state;
    h.lines = {{1, 2, 3}, {4, 5, -6}};
    h.actor = "orders";
    h.created_at = created;
    h.expires_at = created + 1000;
    h.closed_at = closed;
    return h;
  }
  // Uses catalog ids when makeCatalog() ran (an engine may enforce references).
  CountRecord count(std::string id, ShardId shard, CountState state, Micros submitted) const {
    CountRecord c;
    c.count_id = std::move(id);
    c.shard = shard;
    c.item = m_items.empty() ? 1 : m_items[0].id;
    c.location = m_locations.empty() ? 2 : m_locations[1].id;
    c.counted = 17;
    c.counted_at = submitted - 5;
    c.expected = 20;
    c.variance = -3;
    c.state = state;
    c.session_id = "session-1";
    c.counter = "clerk";
    c.blind = true;
    c.submitted_at = submitted;
    c.decided_by = state == CountState::kPending ? "" : "supervisor";
    c.note = "shelf behind";
    c.decided_at = state == CountState::kPending ? 0 : submitted + 1;
    c.applied_seq = state == CountState::kApplied ? 9 : 0;
    return c;
  }

 private slots:
  void init() {
    m_store = m_factory();
    QVERIFY2(m_store != nullptr, "the store factory failed");
    m_items.clear();
    m_locations.clear();
  }
  void cleanup() { m_store.reset(); }

  void emptyStore() {
    QVERIFY(!store().ledgerId().empty());
    QVERIFY(store().schemaVersion() >= 1);
    DEPOT_ASSIGN_OR_FAIL(items, store().loadItems());
    QVERIFY(items.empty());
    DEPOT_ASSIGN_OR_FAIL(seqs, store().lastSeqs());
    for (Seq s : seqs) QCOMPARE(s, Seq{0});
    DEPOT_ASSIGN_OR_FAIL(recovery, store().recoverShard(3, 0, 0));
    QCOMPARE(recovery.shard, ShardId{3});
    QCOMPARE(recovery.last_seq, Seq{0});
    QVERIFY(recovery.epoch >= 1);
    QVERIFY(recovery.balances.empty() && recovery.holds.empty() && recovery.pending.empty() &&
            recovery.requests.empty());
    DEPOT_VERIFY_OK(store().commit(CommitBatch{}));
    DEPOT_VERIFY_CODE(store().recoverShard(kShardCount, 0, 0).status(),
                      absl::StatusCode::kInvalidArgument);
  }

  void catalogRoundTrip() {
    std::vector<Item> items(3);
    for (int i = 0; i < 3; ++i) {
      items[i].sku = "SKU-" + std::to_string(3 - i);
      items[i].description = "desc " + std::to_string(i);
      items[i].unit = "ea";
      items[i].reorder_point = i;
      items[i].reorder_qty = 10 * i;
      items[i].shard = 999;  // ignored: the store assigns shardOf(sku)
    }
    DEPOT_ASSIGN_OR_FAIL(first, store().upsertItems(items));
    QCOMPARE(first.size(), std::size_t{3});
    std::set<ItemId> ids;
    for (int i = 0; i < 3; ++i) {
      QCOMPARE(bytes(first[i].sku), bytes(items[i].sku));  // input order
      QVERIFY(first[i].id != 0);
      QCOMPARE(first[i].shard, shardOf(items[i].sku));
      ids.insert(first[i].id);
    }
    QCOMPARE(ids.size(), std::size_t{3});

    // Re-upsert: SKU-2 changes, SKU-9 is new; ids of existing SKUs are stable.
    Item changed = items[1];
    changed.description = "changed";
    changed.unit = "box";
    changed.reorder_point = 77;
    changed.reorder_qty = 88;
    Item added;
    added.sku = "SKU-9";
    added.description = "new";
    DEPOT_ASSIGN_OR_FAIL(second, store().upsertItems({added, changed}));
    QCOMPARE(second.size(), std::size_t{2});
    QCOMPARE(second[1].id, first[1].id);
    QCOMPARE(second[1].shard, first[1].shard);
    QVERIFY(ids.count(second[0].id) == 0);

    DEPOT_ASSIGN_OR_FAIL(loaded, store().loadItems());
    QCOMPARE(loaded.size(), std::size_t{4});
    std::map<std::string, Item> by_sku;
    for (const Item& item : loaded) by_sku[item.sku] = item;
    const Item& c = by_sku["SKU-2"];
    QCOMPARE(c.id, first[1].id);
    QCOMPARE(bytes(c.description), QByteArray("changed"));
    QCOMPARE(bytes(c.unit), QByteArray("box"));
    QCOMPARE(c.reorder_point, Qty{77});
    QCOMPARE(c.reorder_qty, Qty{88});
    QCOMPARE(c.shard, shardOf("SKU-2"));
    QCOMPARE(by_sku["SKU-1"].reorder_qty, Qty{20});
    QCOMPARE(by_sku["SKU-9"].id, second[0].id);

    DEPOT_ASSIGN_OR_FAIL(none, store().upsertItems({}));
    QVERIFY(none.empty());

    // Locations: insert if absent, stable ids.
    DEPOT_ASSIGN_OR_FAIL(locs, store().upsertLocations({{0, "east", "A-01"}, {0, "east", "A-02"}}));
    QCOMPARE(locs.size(), std::size_t{2});
    QVERIFY(locs[0].id != 0 && locs[1].id != 0 && locs[0].id != locs[1].id);
    DEPOT_ASSIGN_OR_FAIL(again,
                         store().upsertLocations({{0, "west", "A-01"}, {0, "east", "A-02"}}));
    QCOMPARE(again[1].id, locs[1].id);
    QVERIFY(again[0].id != locs[0].id && again[0].id != locs[1].id);
    QCOMPARE(bytes(again[0].warehouse), QByteArray("west"));
    QCOMPARE(bytes(again[0].code), QByteArray("A-01"));
    DEPOT_ASSIGN_OR_FAIL(all_locations, store().loadLocations());
    QCOMPARE(all_locations.size(), std::size_t{3});
  }

  void commitAndRecover() {
    makeCatalog();
    if (QTest::currentTestFailed()) return;
    ModelLedger ledger(store());
    const Item& a = m_items[0];
    const Item& b = m_items[1];
    const Location& l0 = m_locations[0];
    const Location& l1 = m_locations[1];
    ledger.move(a, l0, 10, 0, 1000, MovementKind::kReceive, "r1");
    ledger.move(a, l1, 5, 0, 1000, MovementKind::kReceive, "r2");
    ledger.move(b, l0, 7, 0, 1000);
    ledger.pending(a.shard).requests.push_back(request(a.shard, "r1", 1000));
    DEPOT_VERIFY_OK(ledger.commit());
    ledger.move(a, l0, 0, 4, 2000, MovementKind::kReserve, "r3");
    ledger.move(a, l0, -3, 0, 2000, MovementKind::kShip, "r4");
    RequestRecord refused = request(a.shard, "r5", 2000);
    refused.outcome =
        Outcome{absl::StatusCode::kFailedPrecondition, "sku: not enough stock", 0, 0, {}};
    ledger.pending(a.shard).requests.push_back(refused);
    ledger.pending(a.shard).holds.push_back(hold("order-1", a.shard, HoldState::kOpen, 2000, 0));
    ledger.pending(a.shard).counts.push_back(count("count-1", a.shard, CountState::kPending, 2000));
    DEPOT_VERIFY_OK(ledger.commit());

    DEPOT_ASSIGN_OR_FAIL(r, store().recoverShard(a.shard, 0, 0));
    QCOMPARE(r.shard, a.shard);
    QCOMPARE(r.last_seq, Seq{5});
    QVERIFY(r.epoch >= ledger.epoch(a.shard));
    QCOMPARE(r.last_ts, Micros{2000});
    QCOMPARE(r.balances.size(), std::size_t{3});
    for (const BalanceRow& row : r.balances) {
      QVERIFY(row.balance == ledger.balance(row.item, row.location));
      QVERIFY(row.item == a.id || row.item == b.id);
    }
    std::map<std::pair<ItemId, LocationId>, BalanceRow> rows;
    for (const BalanceRow& row : r.balances) rows[{row.item, row.location}] = row;
    QVERIFY((rows[{a.id, l0.id}].balance == Balance{7, 4}));
    QCOMPARE((rows[{a.id, l0.id}].last_ts), Micros{2000});
    QCOMPARE((rows[{a.id, l1.id}].last_ts), Micros{1000});

    QCOMPARE(r.requests.size(), std::size_t{2});
    const RecoveredRequest* r1 = rememberedRequest(r, "r1");
    const RecoveredRequest* r5 = rememberedRequest(r, "r5");
    QVERIFY(r1 != nullptr && r5 != nullptr);
    compareRequests(*r1, request(a.shard, "r1", 1000));
    compareRequests(*r5, refused);
    if (QTest::currentTestFailed()) return;
    QCOMPARE(r.holds.size(), std::size_t{1});
    compareHolds(r.holds[0], hold("order-1", a.shard, HoldState::kOpen, 2000, 0));
    QCOMPARE(r.pending.size(), std::size_t{1});
    compareCounts(r.pending[0], count("count-1", a.shard, CountState::kPending, 2000));
    if (QTest::currentTestFailed()) return;

    // A shard with no data of its own shares nothing with shard a.
    DEPOT_ASSIGN_OR_FAIL(other, store().recoverShard(m_items[3].shard, 0, 0));
    QCOMPARE(other.last_seq, Seq{0});
    QVERIFY(other.balances.empty() && other.holds.empty() && other.requests.empty());

    // A ShardCommit without entries (a count decided, say) is fenced and applied too.
    ShardCommit sc;
    sc.shard = a.shard;
    sc.epoch = r.epoch;
    sc.expected_last_seq = 5;
    CountRecord rejected = count("count-1", a.shard, CountState::kRejected, 2000);
    sc.counts.push_back(rejected);
    DEPOT_VERIFY_OK(store().commit(CommitBatch{{sc}}));
    DEPOT_ASSIGN_OR_FAIL(after, store().recoverShard(a.shard, 0, 0));
    QCOMPARE(after.last_seq, Seq{5});
    QCOMPARE(after.last_ts, Micros{2000});
    QVERIFY(after.pending.empty());
  }

  // A start that recovers every shard may read the balances in one pass
  // (Store::recoverBalances): the rows per-shard reads return, each handed
  // to its own shard, one item at a time, only for the shards asked for.
  void recoverBalancesInOnePass() {
    makeCatalog();
    if (QTest::currentTestFailed()) return;
    ModelLedger ledger(store());
    Micros ts = 100;
    for (const Item& item : m_items) {
      for (const Location& l : m_locations) {
        if ((item.id + l.id) % 3 == 0) continue;  // not every pair is held
        ledger.move(item, l, static_cast<Qty>(10 * item.id + l.id), 0, ts++);
      }
    }
    DEPOT_VERIFY_OK(ledger.commit());
    for (ShardId s : {ShardId{7}, ShardId{42}}) {
      DEPOT_ASSIGN_OR_FAIL(without, store().recoverShard(s, 0, 0, BalanceRows::kOmit));
      DEPOT_ASSIGN_OR_FAIL(with, store().recoverShard(s, 0, 0, BalanceRows::kInclude));
      QVERIFY(without.balances.empty());
      QVERIFY(!with.balances.empty());
      QCOMPARE(without.last_seq, with.last_seq);
    }

    struct Sink final : BalanceSink {
      bool wants(ShardId s) const override { return s != 42; }
      void expect(ShardId s, std::size_t items, std::size_t) override { items_of[s] = items; }
      void item(ShardId s, std::span<const BalanceRow> rows) override {
        for (const BalanceRow& row : rows) {
          if (row.item != rows.front().item) mixed_items = true;
          got[s].push_back(row);
        }
      }
      std::map<ShardId, std::size_t> items_of;
      std::map<ShardId, std::vector<BalanceRow>> got;
      bool mixed_items = false;
    } sink;
    if (!store().recoversBalancesInOnePass()) {
      DEPOT_VERIFY_CODE(store().recoverBalances(sink), absl::StatusCode::kUnimplemented);
      return;
    }
    DEPOT_VERIFY_OK(store().recoverBalances(sink));
    QVERIFY(!sink.mixed_items);
    QVERIFY(!sink.got.contains(42) && !sink.items_of.contains(42));
    QCOMPARE(sink.items_of[7], std::size_t{3});  // the catalog's items in shard 7
    QCOMPARE(sink.items_of[3], std::size_t{0});
    for (ShardId s : {ShardId{7}, ShardId{200}}) {
      DEPOT_ASSIGN_OR_FAIL(r, store().recoverShard(s, 0, 0));
      const std::vector<BalanceRow>& got = sink.got[s];
      QCOMPARE(got.size(), r.balances.size());
      for (std::size_t i = 0; i < got.size(); ++i) {
        QCOMPARE(got[i].item, r.balances[i].item);
        QCOMPARE(got[i].location, r.balances[i].location);
        QVERIFY(got[i].balance == r.balances[i].balance);
        QCOMPARE(got[i].last_ts, r.balances[i].last_ts);
      }
    }
    QCOMPARE(sink.got.size(), std::size_t{2});  // shards 7 and 200: no others hold rows
  }

  void recoverFiltersWindows() {
    makeCatalog();
    if (QTest::currentTestFailed()) return;
    ModelLedger ledger(store());
    const Item& a = m_items[0];
    const Item& other = m_items[3];
    const Location& l0 = m_locations[0];
    for (Micros ts : {100, 200, 300}) {
      ledger.move(a, l0, 1, 0, ts, MovementKind::kReceive, "q" + std::to_string(ts));
      ledger.pending(a.shard).requests.push_back(request(a.shard, "q" + std::to_string(ts), ts));
      DEPOT_VERIFY_OK(ledger.commit());
    }
    ShardCommit& p = ledger.pending(a.shard);
    p.holds.push_back(hold("open", a.shard, HoldState::kOpen, 50, 0));
    p.holds.push_back(hold("released", a.shard, HoldState::kReleased, 100, 150));
    p.holds.push_back(hold("committed", a.shard, HoldState::kCommitted, 100, 250));
    p.counts.push_back(count("c-pending", a.shard, CountState::kPending, 300));
    p.counts.push_back(count("c-applied", a.shard, CountState::kApplied, 300));
    p.counts.push_back(count("c-rejected", a.shard, CountState::kRejected, 300));
    ledger.pending(other.shard)
        .counts.push_back(count("c-other", other.shard, CountState::kPending, 300));
    ledger.move(other, l0, 3, 0, 300);
    DEPOT_VERIFY_OK(ledger.commit());

    DEPOT_ASSIGN_OR_FAIL(r, ledger.recover(a.shard, 200, 200));
    QCOMPARE(rememberedIds(r, {"q100", "q200", "q300"}), (std::set<std::string>{"q200", "q300"}));
    QCOMPARE(r.requests.size(), std::size_t{2});
    std::set<std::string> order_ids;
    for (const Hold& h : r.holds) order_ids.insert(h.order_id);
    QCOMPARE(order_ids, (std::set<std::string>{"open", "committed"}));
    QCOMPARE(r.pending.size(), std::size_t{1});
    QCOMPARE(bytes(r.pending[0].count_id), QByteArray("c-pending"));
    QCOMPARE(r.balances.size(), std::size_t{1});
    QCOMPARE(r.balances[0].item, a.id);
    QCOMPARE(r.balances[0].balance.on_hand, Qty{3});

    DEPOT_ASSIGN_OR_FAIL(all, ledger.recover(a.shard, 0, 0));
    QCOMPARE(all.requests.size(), std::size_t{3});
    QCOMPARE(all.holds.size(), std::size_t{3});
    DEPOT_ASSIGN_OR_FAIL(none, ledger.recover(a.shard, 301, 301));
    QVERIFY(none.requests.empty());
    QCOMPARE(none.holds.size(), std::size_t{1});  // the open hold is always recovered

    // A request_id stored again (its first record aged out of the engine's
    // window, say) is replaced: recovery returns only the newer record.
    RequestRecord again = request(a.shard, "q200", 400);
    again.outcome.message = "second";
    ledger.pending(a.shard).requests.push_back(again);
    DEPOT_VERIFY_OK(ledger.commit());
    DEPOT_ASSIGN_OR_FAIL(replaced, ledger.recover(a.shard, 0, 0));
    QCOMPARE(replaced.requests.size(), std::size_t{3});
    const RecoveredRequest* q200 = rememberedRequest(replaced, "q200");
    QVERIFY(q200 != nullptr);
    compareRequests(*q200, again);
  }

  // The batch writes shard a correctly first, then fails on shard b: nothing
  // of either may remain.
  void fencingWritesNothing_data() {
    QTest::addColumn<int>("seq_delta");
    QTest::addColumn<int>("epoch_delta");
    QTest::newRow("stale expected_last_seq") << -1 << 0;
    QTest::newRow("future expected_last_seq") << 1 << 0;
    QTest::newRow("stale epoch") << 0 << -1;
    QTest::newRow("newer epoch") << 0 << 1;
  }
  void fencingWritesNothing() {
    QFETCH(int, seq_delta);
    QFETCH(int, epoch_delta);
    makeCatalog();
    if (QTest::currentTestFailed()) return;
    ModelLedger ledger(store());
    const Item& a = m_items[0];
    const Item& b = m_items[3];
    ledger.move(a, m_locations[0], 10, 0, 100);
    ledger.move(b, m_locations[0], 20, 0, 100);
    ledger.move(b, m_locations[1], 30, 0, 100);
    DEPOT_VERIFY_OK(ledger.commit());
    DEPOT_ASSIGN_OR_FAIL(before_a, store().recoverShard(a.shard, 0, 0));
    DEPOT_ASSIGN_OR_FAIL(before_b, store().recoverShard(b.shard, 0, 0));

    auto makeCommit = [&](const Item& item, const ShardRecovery& rec, Qty qty) {
      ShardCommit sc;
      sc.shard = item.shard;
      sc.epoch = rec.epoch;
      sc.expected_last_seq = rec.last_seq;
      LedgerEntry e;
      e.shard = item.shard;
      e.seq = rec.last_seq + 1;
      e.request_id = "fenced-" + std::to_string(item.shard);
      e.item = item.id;
      e.location = m_locations[2].id;
      e.d_on_hand = qty;
      e.on_hand_after = qty;
      e.ts = 500;
      sc.entries.push_back(e);
      sc.balances.push_back(BalanceRow{item.id, m_locations[2].id, {qty, 0}, 500});
      sc.requests.push_back(request(item.shard, e.request_id, 500));
      sc.holds.push_back(hold("fenced-order", item.shard, HoldState::kOpen, 500, 0));
      sc.counts.push_back(count("fenced-count-" + std::to_string(item.shard), item.shard,
                                CountState::kPending, 500));
      return sc;
    };
    CommitBatch batch;
    batch.shards.push_back(makeCommit(a, before_a, 1));
    ShardCommit bad = makeCommit(b, before_b, 2);
    bad.expected_last_seq =
        static_cast<Seq>(static_cast<std::int64_t>(bad.expected_last_seq) + seq_delta);
    bad.epoch = static_cast<std::uint64_t>(static_cast<std::int64_t>(bad.epoch) + epoch_delta);
    for (std::size_t i = 0; i < bad.entries.size(); ++i) {
      bad.entries[i].seq = bad.expected_last_seq + 1 + i;  // contiguous: only fencing is wrong
    }
    batch.shards.push_back(bad);
    const absl::Status st = store().commit(batch);
    DEPOT_VERIFY_CODE(st, absl::StatusCode::kFailedPrecondition);
    QVERIFY2(std::string(st.message()).find(std::to_string(b.shard)) != std::string::npos,
             "the message names the fenced shard");

    // Nothing of the batch is visible, in either shard.
    DEPOT_ASSIGN_OR_FAIL(seqs, store().lastSeqs());
    QCOMPARE(seqs[a.shard], before_a.last_seq);
    QCOMPARE(seqs[b.shard], before_b.last_seq);
    DEPOT_ASSIGN_OR_FAIL(tail_a, store().readLedger(a.shard, before_a.last_seq, 1000, 100));
    QVERIFY(tail_a.empty());
    DEPOT_ASSIGN_OR_FAIL(tail_b, store().readLedger(b.shard, 0, 1000, 100));
    QCOMPARE(tail_b.size(), std::size_t{2});
    DEPOT_ASSIGN_OR_FAIL(after_a, store().recoverShard(a.shard, 0, 0));
    QCOMPARE(after_a.last_seq, before_a.last_seq);
    QCOMPARE(after_a.balances.size(), before_a.balances.size());
    QVERIFY(after_a.requests.empty() && after_a.holds.empty() && after_a.pending.empty());
    DEPOT_ASSIGN_OR_FAIL(orders, store().findOrderShards("fenced-order"));
    QVERIFY(orders.empty());
    DEPOT_ASSIGN_OR_FAIL(fenced_count,
                         store().findCount("fenced-count-" + std::to_string(a.shard)));
    QVERIFY(!fenced_count.has_value());
    DEPOT_ASSIGN_OR_FAIL(stock, store().listStock(StockQuery{}));
    QCOMPARE(stock.size(), std::size_t{3});

    // The correct half alone still commits (at the epoch of the latest claim:
    // engines with leases bump it on every recoverShard).
    ShardCommit retry = batch.shards[0];
    retry.epoch = after_a.epoch;
    DEPOT_VERIFY_OK(store().commit(CommitBatch{{retry}}));
    DEPOT_ASSIGN_OR_FAIL(seqs2, store().lastSeqs());
    QCOMPARE(seqs2[a.shard], before_a.last_seq + 1);
  }

  void nonContiguousSeqsRefused() {
    makeCatalog();
    if (QTest::currentTestFailed()) return;
    ModelLedger ledger(store());
    const Item& a = m_items[0];
    ledger.move(a, m_locations[0], 10, 0, 100);
    DEPOT_VERIFY_OK(ledger.commit());
    const std::uint64_t epoch = ledger.epoch(a.shard);
    auto entry = [&](Seq seq) {
      LedgerEntry e;
      e.shard = a.shard;
      e.seq = seq;
      e.item = a.id;
      e.location = m_locations[0].id;
      e.d_on_hand = 1;
      e.on_hand_after = 11;
      e.ts = 200;
      return e;
    };
    const std::vector<std::vector<Seq>> bad = {{3}, {2, 4}, {2, 2}, {1}, {2, 3, 5}};
    for (const auto& seqs : bad) {
      ShardCommit sc;
      sc.shard = a.shard;
      sc.epoch = epoch;
      sc.expected_last_seq = 1;
      for (Seq s : seqs) sc.entries.push_back(entry(s));
      DEPOT_VERIFY_CODE(store().commit(CommitBatch{{sc}}), absl::StatusCode::kFailedPrecondition);
    }
    DEPOT_ASSIGN_OR_FAIL(seqs, store().lastSeqs());
    QCOMPARE(seqs[a.shard], Seq{1});
    DEPOT_ASSIGN_OR_FAIL(rows, store().readLedger(a.shard, 0, 100, 100));
    QCOMPARE(rows.size(), std::size_t{1});
  }

  void readLedgerRangesAndLimits() {
    makeCatalog();
    if (QTest::currentTestFailed()) return;
    ModelLedger ledger(store());
    const Item& a = m_items[0];
    for (int i = 0; i < 10; ++i)
      ledger.move(a, m_locations[i % 2], i % 3 == 2 ? -1 : 5, 0, 100 + i);
    ledger.move(m_items[3], m_locations[0], 1, 0, 100);
    DEPOT_VERIFY_OK(ledger.commit());
    std::vector<LedgerEntry> want;
    for (const LedgerEntry& e : ledger.entries()) {
      if (e.shard == a.shard) want.push_back(e);
    }
    DEPOT_ASSIGN_OR_FAIL(all, store().readLedger(a.shard, 0, 10, 100));
    compareEntryLists(all, want);
    if (QTest::currentTestFailed()) return;
    DEPOT_ASSIGN_OR_FAIL(mid, store().readLedger(a.shard, 3, 7, 100));
    QCOMPARE(seqsOf(mid), (std::vector<Seq>{4, 5, 6, 7}));
    DEPOT_ASSIGN_OR_FAIL(limited, store().readLedger(a.shard, 3, 7, 2));
    QCOMPARE(seqsOf(limited), (std::vector<Seq>{4, 5}));
    DEPOT_ASSIGN_OR_FAIL(past, store().readLedger(a.shard, 10, 20, 100));
    QVERIFY(past.empty());
    DEPOT_ASSIGN_OR_FAIL(inverted, store().readLedger(a.shard, 7, 3, 100));
    QVERIFY(inverted.empty());
    DEPOT_ASSIGN_OR_FAIL(zero, store().readLedger(a.shard, 0, 10, 0));
    QVERIFY(zero.empty());
    DEPOT_ASSIGN_OR_FAIL(open_end,
                         store().readLedger(a.shard, 8, std::numeric_limits<Seq>::max(), 100));
    QCOMPARE(seqsOf(open_end), (std::vector<Seq>{9, 10}));
    DEPOT_ASSIGN_OR_FAIL(other, store().readLedger(m_items[3].shard, 0, 100, 100));
    QCOMPARE(other.size(), std::size_t{1});
    DEPOT_ASSIGN_OR_FAIL(empty, store().readLedger(99, 0, 100, 100));
    QVERIFY(empty.empty());
  }

  void scanLedgerAndBalances() {
    makeCatalog();
    if (QTest::currentTestFailed()) return;
    ModelLedger ledger(store());
    // Interleave shards across commits, and enough rows to cross any page size.
    for (int round = 0; round < 3; ++round) {
      for (int i = 0; i < 2000; ++i) {
        const Item& item = m_items[(i + round) % 5];
        ledger.move(item, m_locations[i % 4], 1, 0, 1000 * round + i / 100);
      }
      DEPOT_VERIFY_OK(ledger.commit());
    }
    std::vector<LedgerEntry> want = ledger.entries();
    std::sort(want.begin(), want.end(), [](const LedgerEntry& x, const LedgerEntry& y) {
      return std::pair(x.shard, x.seq) < std::pair(y.shard, y.seq);
    });
    std::vector<LedgerEntry> got;
    DEPOT_VERIFY_OK(store().scanLedger([&](const LedgerEntry& e) {
      got.push_back(e);
      return true;
    }));
    compareEntryLists(got, want);
    if (QTest::currentTestFailed()) return;
    int calls = 0;
    DEPOT_VERIFY_OK(store().scanLedger([&](const LedgerEntry&) { return ++calls < 2; }));
    QCOMPARE(calls, 2);

    std::map<std::pair<ItemId, LocationId>, Balance> balances;
    DEPOT_VERIFY_OK(store().scanBalances([&](const BalanceRow& row) {
      balances[{row.item, row.location}] = row.balance;
      return true;
    }));
    QVERIFY(balances == ledger.balances());
    calls = 0;
    DEPOT_VERIFY_OK(store().scanBalances([&](const BalanceRow&) { return ++calls < 3; }));
    QCOMPARE(calls, 3);
  }

  // The model's history of `item` (at `location`, or everywhere) with
  // from <= ts < to (to 0: no end), oldest first.
  static std::vector<LedgerEntry> modelHistory(const ModelLedger& ledger, ItemId item,
                                               std::optional<LocationId> location, Micros from,
                                               Micros to) {
    std::vector<LedgerEntry> out;
    for (const LedgerEntry& e : ledger.entries()) {
      if (e.item == item && (!location || e.location == *location) && e.ts >= from &&
          (to == 0 || e.ts < to)) {
        out.push_back(e);
      }
    }
    std::sort(out.begin(), out.end(),
              [](const LedgerEntry& x, const LedgerEntry& y) { return x.seq < y.seq; });
    return out;
  }

  void historyFiltersAndPaging() {
    makeCatalog();
    if (QTest::currentTestFailed()) return;
    ModelLedger ledger(store());
    const Item& a = m_items[0];
    const Item& b = m_items[1];  // same shard: interleaved seqs
    const Location& l0 = m_locations[0];
    const Location& l1 = m_locations[1];
    for (int i = 0; i < 12; ++i) {
      const Micros ts = 100 * (1 + i / 2);  // two entries per ts
      ledger.move(a, i % 3 == 0 ? l1 : l0, 2, 0, ts);
      ledger.move(b, l0, 1, 0, ts);
      if (i % 4 == 3) DEPOT_VERIFY_OK(ledger.commit());
    }
    DEPOT_VERIFY_OK(ledger.commit());
    auto expected = [&](std::optional<LocationId> location, Micros from, Micros to) {
      return modelHistory(ledger, a.id, location, from, to);
    };
    HistoryQuery q;
    q.item = a.id;
    q.limit = 1000;
    DEPOT_ASSIGN_OR_FAIL(all, store().history(q));
    compareEntryLists(all, expected(std::nullopt, 0, 0));
    if (QTest::currentTestFailed()) return;
    q.location = l1.id;
    DEPOT_ASSIGN_OR_FAIL(at_l1, store().history(q));
    compareEntryLists(at_l1, expected(l1.id, 0, 0));
    if (QTest::currentTestFailed()) return;
    q.location.reset();
    q.from = 200;
    q.to = 500;
    DEPOT_ASSIGN_OR_FAIL(window, store().history(q));
    compareEntryLists(window, expected(std::nullopt, 200, 500));
    if (QTest::currentTestFailed()) return;
    QVERIFY(!window.empty());

    // Newest first is the reverse.
    q.from = 0;
    q.to = 0;
    q.newest_first = true;
    DEPOT_ASSIGN_OR_FAIL(newest, store().history(q));
    std::vector<LedgerEntry> reversed = expected(std::nullopt, 0, 0);
    std::reverse(reversed.begin(), reversed.end());
    compareEntryLists(newest, reversed);
    if (QTest::currentTestFailed()) return;

    // Paging in both directions, with and without a location, reproduces the
    // unpaged result exactly (pages end between entries with the same ts).
    for (bool newest_first : {false, true}) {
      for (std::optional<LocationId> location :
           {std::optional<LocationId>{}, std::optional{l0.id}}) {
        HistoryQuery page;
        page.item = a.id;
        page.location = location;
        page.newest_first = newest_first;
        page.limit = 3;
        std::vector<LedgerEntry> paged;
        for (int guard = 0; guard < 100; ++guard) {
          DEPOT_ASSIGN_OR_FAIL(rows, store().history(page));
          if (rows.empty()) break;
          QVERIFY(rows.size() <= 3);
          paged.insert(paged.end(), rows.begin(), rows.end());
          page.after_seq = rows.back().seq;
        }
        std::vector<LedgerEntry> want = expected(location, 0, 0);
        if (newest_first) std::reverse(want.begin(), want.end());
        QCOMPARE(seqsOf(paged), seqsOf(want));
      }
    }

    HistoryQuery nothing;
    nothing.item = m_items[4].id;
    DEPOT_ASSIGN_OR_FAIL(empty, store().history(nothing));
    QVERIFY(empty.empty());
  }

  void balanceAtBeforeAtAfter() {
    makeCatalog();
    if (QTest::currentTestFailed()) return;
    ModelLedger ledger(store());
    const Item& a = m_items[0];
    const Location& l0 = m_locations[0];
    ledger.move(a, l0, 10, 0, 100);
    DEPOT_VERIFY_OK(ledger.commit());
    ledger.move(a, l0, 2, 0, 200);
    ledger.move(a, m_locations[1], 50, 0, 200);
    ledger.move(a, l0, 3, 0, 200);  // the last entry at ts 200 wins
    DEPOT_VERIFY_OK(ledger.commit());
    ledger.move(a, l0, -8, 2, 300);
    DEPOT_VERIFY_OK(ledger.commit());
    const std::vector<std::pair<Micros, Balance>> cases = {
        {0, {0, 0}},    {99, {0, 0}},
        {100, {10, 0}}, {150, {10, 0}},
        {200, {15, 0}}, {299, {15, 0}},
        {300, {7, 2}},  {std::numeric_limits<Micros>::max(), {7, 2}}};
    for (const auto& [at, want] : cases) {
      DEPOT_ASSIGN_OR_FAIL(got, store().balanceAt(a.id, l0.id, at));
      QVERIFY2(got == want,
               qPrintable(QString("at %1: got %2/%3").arg(at).arg(got.on_hand).arg(got.reserved)));
    }
    DEPOT_ASSIGN_OR_FAIL(other, store().balanceAt(a.id, m_locations[2].id, 1000));
    QVERIFY(other == Balance{});
    DEPOT_ASSIGN_OR_FAIL(l1, store().balanceAt(a.id, m_locations[1].id, 250));
    QVERIFY((l1 == Balance{50, 0}));
  }

  // Long histories: thousands of entries of one item at two locations,
  // interleaved with another item of the same shard, many sharing a ts.
  // Every read (windows, paging both ways, balanceAt) matches the model.
  // (The SQLite store walks chains between sparse marks here: about one
  // entry in 64 is marked, so pages start and end between marks.)
  void historyOfLongChains() {
    makeCatalog();
    if (QTest::currentTestFailed()) return;
    ModelLedger ledger(store());
    const Item& a = m_items[0];
    const Item& b = m_items[1];  // same shard as a
    const Location& l0 = m_locations[0];
    const Location& l1 = m_locations[1];
    std::mt19937 rng(20261128);
    Micros ts = 1000;
    for (int commit = 0; commit < 40; ++commit) {
      for (int i = 0; i < 75; ++i) {
        if (rng() % 3 == 0) ts += 1 + rng() % 50;  // runs of entries share a ts
        const std::uint32_t pick = rng() % 10;
        if (pick < 5) {
          ledger.move(a, l0, 1 + static_cast<Qty>(rng() % 5), 0, ts);
        } else if (pick < 7) {
          ledger.move(a, l1, 2, 0, ts);
        } else {
          ledger.move(b, l0, 1, 0, ts);
        }
      }
      DEPOT_VERIFY_OK(ledger.commit());
    }
    const Micros end_ts = ts;
    auto expected = [&](std::optional<LocationId> location, Micros from, Micros to) {
      return modelHistory(ledger, a.id, location, from, to);
    };
    const std::optional<LocationId> wheres[] = {std::nullopt, l0.id, l1.id};
    for (const auto& location : wheres) {
      HistoryQuery q;
      q.item = a.id;
      q.location = location;
      q.limit = 100000;
      DEPOT_ASSIGN_OR_FAIL(all, store().history(q));
      compareEntryLists(all, expected(location, 0, 0));
      if (QTest::currentTestFailed()) return;
      for (int w = 0; w < 20; ++w) {
        const Micros from = 1000 + static_cast<Micros>(rng() % (end_ts - 1000));
        const Micros to = from + 1 + static_cast<Micros>(rng() % 400);
        for (bool newest_first : {false, true}) {
          q.from = from;
          q.to = to;
          q.newest_first = newest_first;
          DEPOT_ASSIGN_OR_FAIL(window, store().history(q));
          std::vector<LedgerEntry> want = expected(location, from, to);
          if (newest_first) std::reverse(want.begin(), want.end());
          QCOMPARE(seqsOf(window), seqsOf(want));
        }
      }
      for (bool newest_first : {false, true}) {
        HistoryQuery page;
        page.item = a.id;
        page.location = location;
        page.newest_first = newest_first;
        page.limit = 1 + rng() % 90;
        std::vector<LedgerEntry> paged;
        for (int guard = 0; guard < 5000; ++guard) {
          DEPOT_ASSIGN_OR_FAIL(rows, store().history(page));
          if (rows.empty()) break;
          QVERIFY(rows.size() <= page.limit);
          paged.insert(paged.end(), rows.begin(), rows.end());
          page.after_seq = rows.back().seq;
        }
        std::vector<LedgerEntry> want = expected(location, 0, 0);
        if (newest_first) std::reverse(want.begin(), want.end());
        QCOMPARE(seqsOf(paged), seqsOf(want));
      }
    }
    // balanceAt: the after-values of the newest entry at or before the time.
    for (int probe = 0; probe < 200; ++probe) {
      const Micros at = 990 + static_cast<Micros>(rng() % (end_ts - 980));
      for (const Location* l : {&l0, &l1}) {
        Balance want;
        for (const LedgerEntry& e : ledger.entries()) {
          if (e.item == a.id && e.location == l->id && e.ts <= at) {
            want = Balance{e.on_hand_after, e.reserved_after};
          }
        }
        DEPOT_ASSIGN_OR_FAIL(got, store().balanceAt(a.id, l->id, at));
        QVERIFY2(got == want, qPrintable(QString("at %1: got %2, want %3")
                                             .arg(at)
                                             .arg(got.on_hand)
                                             .arg(want.on_hand)));
      }
    }
  }

  void listStockFilters() {
    makeCatalog();
    if (QTest::currentTestFailed()) return;
    ModelLedger ledger(store());
    // Items: 0 "AB0-*", 1 "AB1-*", 2 "AC2-*", 3 "B3-*", 4 "C4-*".
    // reorder points: 0, 10, 20, 30, 40.
    ledger.move(m_items[0], m_locations[0], 5, 0, 100);
    ledger.move(m_items[0], m_locations[1], 6, 0, 100);
    ledger.move(m_items[0], m_locations[2], 7, 0, 100);
    ledger.move(m_items[1], m_locations[0], 4, 0, 100);  // 4 + 3 = 7 < 10: below
    ledger.move(m_items[1], m_locations[3], 3, 0, 100);
    ledger.move(m_items[2], m_locations[2], 30, 15, 100);  // available 15 < 20: below
    ledger.move(m_items[3], m_locations[3], 40, 0, 100);   // 40 >= 30: not below
    ledger.move(m_items[4], m_locations[0], 2, 0, 100);
    ledger.move(m_items[4], m_locations[0], -2, 0, 200);  // a zero row
    DEPOT_VERIFY_OK(ledger.commit());

    auto names = [](const std::vector<StockRow>& rows) {
      std::vector<std::string> out;
      for (const StockRow& r : rows) out.push_back(r.item.sku + "@" + r.location.name());
      return out;
    };
    auto row = [&](int item, int location) {
      return m_items[item].sku + "@" + m_locations[location].name();
    };
    StockQuery q;
    DEPOT_ASSIGN_OR_FAIL(all, store().listStock(q));
    QCOMPARE(names(all), (std::vector<std::string>{row(0, 0), row(0, 1), row(0, 2), row(1, 0),
                                                   row(1, 3), row(2, 2), row(3, 3), row(4, 0)}));
    // Every field of a row.
    const StockRow& first = all[0];
    QCOMPARE(first.item.id, m_items[0].id);
    QCOMPARE(bytes(first.item.description), bytes(m_items[0].description));
    QCOMPARE(bytes(first.item.unit), bytes(m_items[0].unit));
    QCOMPARE(first.item.reorder_qty, m_items[0].reorder_qty);
    QCOMPARE(first.item.shard, m_items[0].shard);
    QCOMPARE(first.location.id, m_locations[0].id);
    QCOMPARE(bytes(first.location.warehouse), QByteArray("east"));
    QCOMPARE(bytes(first.location.code), QByteArray("A-01"));
    QVERIFY((first.balance == Balance{5, 0}));
    QCOMPARE(first.updated_at, Micros{100});
    QCOMPARE(all[5].balance.reserved, Qty{15});
    QCOMPARE(all[7].updated_at, Micros{200});

    q.sku_prefix = "AB";
    DEPOT_ASSIGN_OR_FAIL(ab, store().listStock(q));
    QCOMPARE(names(ab),
             (std::vector<std::string>{row(0, 0), row(0, 1), row(0, 2), row(1, 0), row(1, 3)}));
    q.sku_prefix = "A";
    DEPOT_ASSIGN_OR_FAIL(a, store().listStock(q));
    QCOMPARE(a.size(), std::size_t{6});
    q.sku_prefix = "A%";  // no LIKE semantics
    DEPOT_ASSIGN_OR_FAIL(like, store().listStock(q));
    QVERIFY(like.empty());
    q.sku_prefix = m_items[3].sku;  // a whole SKU is a prefix of itself
    DEPOT_ASSIGN_OR_FAIL(exact, store().listStock(q));
    QCOMPARE(names(exact), (std::vector<std::string>{row(3, 3)}));
    q.sku_prefix.clear();

    q.warehouse = "west";
    DEPOT_ASSIGN_OR_FAIL(west, store().listStock(q));
    QCOMPARE(names(west), (std::vector<std::string>{row(0, 2), row(1, 3), row(2, 2), row(3, 3)}));
    q.warehouse.clear();
    q.location = "A-01";  // a code matches in every warehouse
    DEPOT_ASSIGN_OR_FAIL(code, store().listStock(q));
    QCOMPARE(names(code),
             (std::vector<std::string>{row(0, 0), row(0, 2), row(1, 0), row(2, 2), row(4, 0)}));
    q.location = "west/A-01";  // a full name matches one location
    DEPOT_ASSIGN_OR_FAIL(full, store().listStock(q));
    QCOMPARE(names(full), (std::vector<std::string>{row(0, 2), row(2, 2)}));
    q.warehouse = "east";
    DEPOT_ASSIGN_OR_FAIL(none, store().listStock(q));
    QVERIFY(none.empty());
    q.warehouse.clear();
    q.location.clear();

    q.include_zero = false;
    DEPOT_ASSIGN_OR_FAIL(nonzero, store().listStock(q));
    QCOMPARE(nonzero.size(), std::size_t{7});
    QVERIFY(names(nonzero).back() == row(3, 3));
    q.include_zero = true;

    q.below_reorder_point = true;
    DEPOT_ASSIGN_OR_FAIL(below, store().listStock(q));
    // Item 4: reorder point 40, available 0: below (its zero row is listed).
    QCOMPARE(names(below), (std::vector<std::string>{row(1, 0), row(1, 3), row(2, 2), row(4, 0)}));
    q.include_zero = false;
    DEPOT_ASSIGN_OR_FAIL(below_nonzero, store().listStock(q));
    QCOMPARE(names(below_nonzero), (std::vector<std::string>{row(1, 0), row(1, 3), row(2, 2)}));
    q.warehouse = "west";  // the total is over all locations, the rows are filtered
    DEPOT_ASSIGN_OR_FAIL(below_west, store().listStock(q));
    QCOMPARE(names(below_west), (std::vector<std::string>{row(1, 3), row(2, 2)}));
  }

  void listStockPaging() {
    makeCatalog();
    if (QTest::currentTestFailed()) return;
    ModelLedger ledger(store());
    for (int i = 0; i < 5; ++i) {
      for (int l = 0; l < 4; ++l) {
        if ((i + l) % 3 != 0) ledger.move(m_items[i], m_locations[l], 1 + l, 0, 100);
      }
    }
    DEPOT_VERIFY_OK(ledger.commit());
    StockQuery q;
    q.limit = 1000;
    DEPOT_ASSIGN_OR_FAIL(all, store().listStock(q));
    QVERIFY(all.size() > 8);
    for (std::size_t limit : {1, 2, 3, 5}) {
      StockQuery page;
      page.limit = limit;
      std::vector<std::string> paged;
      for (int guard = 0; guard < 100; ++guard) {
        DEPOT_ASSIGN_OR_FAIL(rows, store().listStock(page));
        QVERIFY(rows.size() <= limit);
        if (rows.empty()) break;
        for (const StockRow& r : rows) paged.push_back(r.item.sku + "@" + r.location.name());
        page.after_sku = rows.back().item.sku;
        page.after_location = rows.back().location.name();
      }
      std::vector<std::string> want;
      for (const StockRow& r : all) want.push_back(r.item.sku + "@" + r.location.name());
      QCOMPARE(paged, want);
    }
    // A page boundary inside one SKU's locations.
    StockQuery mid;
    mid.after_sku = all[0].item.sku;
    mid.after_location = all[0].location.name();
    mid.limit = 1;
    DEPOT_ASSIGN_OR_FAIL(next, store().listStock(mid));
    QCOMPARE(next.size(), std::size_t{1});
    QCOMPARE(bytes(next[0].item.sku), bytes(all[1].item.sku));
    QCOMPARE(bytes(next[0].location.name()), bytes(all[1].location.name()));
    StockQuery zero;
    zero.limit = 0;
    DEPOT_ASSIGN_OR_FAIL(none, store().listStock(zero));
    QVERIFY(none.empty());
  }

  void findOrderShardsAndCounts() {
    makeCatalog();
    if (QTest::currentTestFailed()) return;
    ModelLedger ledger(store());
    ledger.pending(3).holds.push_back(hold("o-1", 3, HoldState::kOpen, 100, 0));
    ledger.pending(3).holds.push_back(hold("o-2", 3, HoldState::kCommitted, 100, 150));
    ledger.pending(9).holds.push_back(hold("o-1", 9, HoldState::kReleased, 100, 120));
    ledger.pending(3).counts.push_back(count("c-late", 3, CountState::kPending, 300));
    ledger.pending(9).counts.push_back(count("c-early", 9, CountState::kPending, 100));
    ledger.pending(9).counts.push_back(count("c-applied", 9, CountState::kApplied, 50));
    DEPOT_VERIFY_OK(ledger.commit());

    DEPOT_ASSIGN_OR_FAIL(o1, store().findOrderShards("o-1"));
    std::sort(o1.begin(), o1.end());
    QCOMPARE(o1, (std::vector<ShardId>{3, 9}));
    DEPOT_ASSIGN_OR_FAIL(o2, store().findOrderShards("o-2"));
    QCOMPARE(o2, (std::vector<ShardId>{3}));
    DEPOT_ASSIGN_OR_FAIL(o3, store().findOrderShards("o-3"));
    QVERIFY(o3.empty());

    DEPOT_ASSIGN_OR_FAIL(late, store().findCount("c-late"));
    QVERIFY(late.has_value());
    compareCounts(*late, count("c-late", 3, CountState::kPending, 300));
    if (QTest::currentTestFailed()) return;
    DEPOT_ASSIGN_OR_FAIL(missing, store().findCount("c-none"));
    QVERIFY(!missing.has_value());
    DEPOT_ASSIGN_OR_FAIL(pending, store().listCounts(CountState::kPending, 10));
    QCOMPARE(pending.size(), std::size_t{2});
    QCOMPARE(bytes(pending[0].count_id), QByteArray("c-early"));  // oldest first
    QCOMPARE(bytes(pending[1].count_id), QByteArray("c-late"));
    DEPOT_ASSIGN_OR_FAIL(one, store().listCounts(CountState::kPending, 1));
    QCOMPARE(one.size(), std::size_t{1});
    DEPOT_ASSIGN_OR_FAIL(applied, store().listCounts(CountState::kApplied, 10));
    QCOMPARE(applied.size(), std::size_t{1});

    // Upsert by count_id: approving moves it out of the pending list.
    CountRecord approved = count("c-early", 9, CountState::kApproved, 100);
    approved.applied_seq = 12;
    ledger.pending(9).counts.push_back(approved);
    DEPOT_VERIFY_OK(ledger.commit());
    DEPOT_ASSIGN_OR_FAIL(pending2, store().listCounts(CountState::kPending, 10));
    QCOMPARE(pending2.size(), std::size_t{1});
    DEPOT_ASSIGN_OR_FAIL(early, store().findCount("c-early"));
    QVERIFY(early.has_value());
    compareCounts(*early, approved);
  }

  void alertsSaveLoadUpsert() {
    DEPOT_ASSIGN_OR_FAIL(id1, store().nextAlertId());
    DEPOT_ASSIGN_OR_FAIL(id2, store().nextAlertId());
    QVERIFY(id1 >= 1);
    QVERIFY(id2 > id1);  // monotonic even before anything is saved
    Alert a;
    a.id = id1;
    a.kind = AlertKind::kLowStock;
    a.severity = Severity::kWarning;
    a.state = AlertState::kFiring;
    a.subject = "SKU-1";
    a.summary = "available 3 < reorder point 10";
    a.fired_at = 100;
    a.updated_at = 100;
    Alert b = a;
    b.id = id2;
    b.kind = AlertKind::kCountVariance;
    b.severity = Severity::kCritical;
    b.state = AlertState::kResolved;
    b.subject = "count-7";
    b.resolved_at = 300;
    b.silenced = true;
    DEPOT_VERIFY_OK(store().saveAlert(a));
    DEPOT_VERIFY_OK(store().saveAlert(b));
    DEPOT_ASSIGN_OR_FAIL(open, store().loadAlerts(false));
    QCOMPARE(open.size(), std::size_t{1});
    compareAlerts(open[0], a);
    DEPOT_ASSIGN_OR_FAIL(all, store().loadAlerts(true));
    QCOMPARE(all.size(), std::size_t{2});
    if (QTest::currentTestFailed()) return;

    a.state = AlertState::kAcknowledged;
    a.acked_by = "supervisor";
    a.acked_at = 200;
    a.ack_note = "reorder placed";
    a.updated_at = 200;
    DEPOT_VERIFY_OK(store().saveAlert(a));
    DEPOT_ASSIGN_OR_FAIL(updated, store().loadAlerts(true));
    QCOMPARE(updated.size(), std::size_t{2});
    for (const Alert& x : updated) {
      compareAlerts(x, x.id == a.id ? a : b);
      if (QTest::currentTestFailed()) return;
    }
    DEPOT_ASSIGN_OR_FAIL(id3, store().nextAlertId());
    QVERIFY(id3 > id2);
    Alert far = a;
    far.id = id3 + 100;
    DEPOT_VERIFY_OK(store().saveAlert(far));
    DEPOT_ASSIGN_OR_FAIL(id4, store().nextAlertId());
    QVERIFY(id4 > far.id);  // never reuses a stored id
  }

  void silencesActiveFilter() {
    std::vector<Silence> added;
    for (Micros expires : {100, 200, 300}) {
      Silence s;
      s.kind = expires == 200 ? 0 : static_cast<std::uint8_t>(AlertKind::kStockout);
      s.subject_prefix = "SKU-" + std::to_string(expires);
      s.owner = "ops";
      s.comment = "maintenance";
      s.created_at = 50;
      s.expires_at = expires;
      s.id = 12345;  // ignored: the store assigns ids
      DEPOT_ASSIGN_OR_FAIL(stored, store().addSilence(s));
      QVERIFY(stored.id != 0);
      QCOMPARE(stored.expires_at, expires);
      added.push_back(stored);
    }
    QVERIFY(added[0].id != added[1].id && added[1].id != added[2].id && added[0].id != added[2].id);
    DEPOT_ASSIGN_OR_FAIL(active, store().loadSilences(150));
    QCOMPARE(active.size(), std::size_t{2});
    std::sort(active.begin(), active.end(),
              [](const Silence& x, const Silence& y) { return x.expires_at < y.expires_at; });
    QCOMPARE(active[0].id, added[1].id);
    QCOMPARE(active[0].kind, std::uint8_t{0});
    QCOMPARE(bytes(active[0].subject_prefix), QByteArray("SKU-200"));
    QCOMPARE(bytes(active[0].owner), QByteArray("ops"));
    QCOMPARE(bytes(active[0].comment), QByteArray("maintenance"));
    QCOMPARE(active[0].created_at, Micros{50});
    QCOMPARE(active[1].kind, static_cast<std::uint8_t>(AlertKind::kStockout));
    DEPOT_ASSIGN_OR_FAIL(at_expiry, store().loadSilences(300));  // expires_at > active_at
    QVERIFY(at_expiry.empty());
    DEPOT_ASSIGN_OR_FAIL(all, store().loadSilences(0));
    QCOMPARE(all.size(), std::size_t{3});
  }

  void pruneBefore() {
    makeCatalog();
    if (QTest::currentTestFailed()) return;
    ModelLedger ledger(store());
    const Item& a = m_items[0];
    for (Micros ts : {100, 200}) {
      ledger.move(a, m_locations[0], 1, 0, ts, MovementKind::kReceive, "p" + std::to_string(ts));
      ledger.pending(a.shard).requests.push_back(request(a.shard, "p" + std::to_string(ts), ts));
      DEPOT_VERIFY_OK(ledger.commit());
    }
    ledger.pending(a.shard).holds.push_back(hold("open-old", a.shard, HoldState::kOpen, 50, 0));
    ledger.pending(a.shard).holds.push_back(
        hold("closed-old", a.shard, HoldState::kExpired, 50, 100));
    ledger.pending(a.shard).holds.push_back(
        hold("closed-new", a.shard, HoldState::kCommitted, 50, 300));
    DEPOT_VERIFY_OK(ledger.commit());

    DEPOT_VERIFY_OK(store().pruneBefore(150));
    DEPOT_ASSIGN_OR_FAIL(r, store().recoverShard(a.shard, 0, 0));
    QCOMPARE(r.requests.size(), std::size_t{1});
    QVERIFY(r.requests[0].key == requestKey("p200"));
    std::set<std::string> orders;
    for (const Hold& h : r.holds) orders.insert(h.order_id);
    QCOMPARE(orders, (std::set<std::string>{"open-old", "closed-new"}));
    DEPOT_ASSIGN_OR_FAIL(gone, store().findOrderShards("closed-old"));
    QVERIFY(gone.empty());
    // The ledger and balances are never pruned.
    QCOMPARE(r.last_seq, Seq{2});
    DEPOT_ASSIGN_OR_FAIL(entries, store().readLedger(a.shard, 0, 10, 10));
    QCOMPARE(entries.size(), std::size_t{2});
    DEPOT_VERIFY_OK(store().pruneBefore(150));  // idempotent
    DEPOT_VERIFY_OK(store().pruneBefore(std::numeric_limits<Micros>::max()));
    DEPOT_ASSIGN_OR_FAIL(r2, store().recoverShard(a.shard, 0, 0));
    QVERIFY(r2.requests.empty());
    QCOMPARE(r2.holds.size(), std::size_t{1});  // open holds stay
  }

  void lastSeqs() {
    makeCatalog();
    if (QTest::currentTestFailed()) return;
    ModelLedger ledger(store());
    for (int i = 0; i < 3; ++i) ledger.move(m_items[0], m_locations[0], 1, 0, 100);
    for (int i = 0; i < 5; ++i) ledger.move(m_items[3], m_locations[0], 1, 0, 100);
    DEPOT_VERIFY_OK(ledger.commit());
    ledger.move(m_items[4], m_locations[0], 1, 0, 100);
    DEPOT_VERIFY_OK(ledger.commit());
    DEPOT_ASSIGN_OR_FAIL(seqs, store().lastSeqs());
    for (ShardId s = 0; s < kShardCount; ++s) {
      const Seq want = s == m_items[0].shard   ? 3
                       : s == m_items[3].shard ? 5
                       : s == m_items[4].shard ? 1
                                               : 0;
      QCOMPARE(seqs[s], want);
    }
  }

  // Strings are data, never SQL or patterns.
  void stringsAreOpaque() {
    const std::vector<std::string> skus = {
        "it's",      "a\"b",        "x'; DROP TABLE items; --", "50%_off",
        "ünïcødé-✓", "back\\slash", std::string(64, 'z')};
    std::vector<Item> items;
    for (const std::string& sku : skus) {
      Item item;
      item.sku = sku;
      item.description = "desc of " + sku + std::string(400, '.');
      item.unit = "'";
      items.push_back(item);
    }
    DEPOT_ASSIGN_OR_FAIL(stored, store().upsertItems(items));
    DEPOT_ASSIGN_OR_FAIL(locations, store().upsertLocations({{0, "wh'1", "A/'01"}}));
    DEPOT_ASSIGN_OR_FAIL(loaded, store().loadItems());
    QCOMPARE(loaded.size(), skus.size());
    std::set<std::string> got;
    for (const Item& item : loaded) {
      got.insert(item.sku);
      QCOMPARE(bytes(item.description), bytes("desc of " + item.sku + std::string(400, '.')));
      QCOMPARE(bytes(item.unit), QByteArray("'"));
    }
    QCOMPARE(got, std::set<std::string>(skus.begin(), skus.end()));
    ModelLedger ledger(store());
    for (const Item& item : stored) ledger.move(item, locations[0], 1, 0, 100);
    DEPOT_VERIFY_OK(ledger.commit());
    StockQuery q;
    q.sku_prefix = "50%";
    DEPOT_ASSIGN_OR_FAIL(pct, store().listStock(q));
    QCOMPARE(pct.size(), std::size_t{1});
    q.sku_prefix = "5_";
    DEPOT_ASSIGN_OR_FAIL(underscore, store().listStock(q));
    QVERIFY(underscore.empty());
    q.sku_prefix = "ünï";
    DEPOT_ASSIGN_OR_FAIL(unicode, store().listStock(q));
    QCOMPARE(unicode.size(), std::size_t{1});
    q.sku_prefix.clear();
    q.location = "wh'1/A/'01";
    DEPOT_ASSIGN_OR_FAIL(by_name, store().listStock(q));
    QCOMPARE(by_name.size(), skus.size());
    DEPOT_ASSIGN_OR_FAIL(orders, store().findOrderShards("'; --"));
    QVERIFY(orders.empty());
  }

  // Two writers on different shards, two readers checking what they see is
  // always a consistent prefix; at the end the store matches the model.
  // Threads racing to commit the same next seq of one shard: exactly one
  // wins each round, the others are fenced, however their commits are
  // grouped (the SQLite store appends queued commits together).
  void racingCommitsOnOneShardFenceAllButOne() {
    makeCatalog();
    if (QTest::currentTestFailed()) return;
    const Item& a = m_items[0];
    const Item& b = m_items[3];  // another shard, committed alongside
    DEPOT_ASSIGN_OR_FAIL(rec_a, store().recoverShard(a.shard, 0, 0));
    DEPOT_ASSIGN_OR_FAIL(rec_b, store().recoverShard(b.shard, 0, 0));
    constexpr int kRounds = 30;
    constexpr int kRacers = 4;
    Seq last_a = rec_a.last_seq;
    Seq last_b = rec_b.last_seq;
    for (int round = 0; round < kRounds; ++round) {
      std::atomic<int> ready{0};
      std::atomic<int> won{0};
      std::atomic<int> fenced{0};
      std::vector<std::thread> racers;
      for (int t = 0; t < kRacers; ++t) {
        // Racer 0 commits shard b's next seq too, in its own batch first.
        racers.emplace_back([&, t] {
          auto commitOne = [&](const Item& item, std::uint64_t epoch, Seq last,
                               const std::string& id) {
            ShardCommit sc;
            sc.shard = item.shard;
            sc.epoch = epoch;
            sc.expected_last_seq = last;
            LedgerEntry e;
            e.shard = item.shard;
            e.seq = last + 1;
            e.request_id = id;
            e.item = item.id;
            e.location = m_locations[0].id;
            e.d_on_hand = 1;
            e.on_hand_after = static_cast<Qty>(last + 1);
            e.ts = 1000 + static_cast<Micros>(last);
            sc.entries.push_back(e);
            sc.balances.push_back(BalanceRow{item.id, m_locations[0].id, {e.on_hand_after, 0}, e.ts});
            return store().commit(CommitBatch{{sc}});
          };
          ready.fetch_add(1);
          for (int spin = 0; ready.load() < kRacers && spin < 10'000'000; ++spin) {
          }
          if (t == 0) (void)commitOne(b, rec_b.epoch, last_b, "race-b-" + std::to_string(round));
          const absl::Status st = commitOne(
              a, rec_a.epoch, last_a,
              "race-" + std::to_string(round) + "-" + std::to_string(t));
          if (st.ok()) {
            won.fetch_add(1);
          } else if (st.code() == absl::StatusCode::kFailedPrecondition) {
            fenced.fetch_add(1);
          }
        });
      }
      for (auto& r : racers) r.join();
      QCOMPARE(won.load(), 1);
      QCOMPARE(fenced.load(), kRacers - 1);
      ++last_a;
      ++last_b;
    }
    DEPOT_ASSIGN_OR_FAIL(seqs, store().lastSeqs());
    QCOMPARE(seqs[a.shard], last_a);
    QCOMPARE(seqs[b.shard], last_b);
    DEPOT_ASSIGN_OR_FAIL(ledger_a, store().readLedger(a.shard, 0, last_a, 1000));
    QCOMPARE(ledger_a.size(), static_cast<std::size_t>(kRounds));
    for (std::size_t i = 0; i < ledger_a.size(); ++i) QCOMPARE(ledger_a[i].seq, Seq{i + 1});
    DEPOT_ASSIGN_OR_FAIL(ledger_b, store().readLedger(b.shard, 0, last_b, 1000));
    QCOMPARE(ledger_b.size(), static_cast<std::size_t>(kRounds));
  }

  void concurrentCommitsAndReads() {
    makeCatalog();
    if (QTest::currentTestFailed()) return;
    constexpr int kCommits = 40;
    constexpr int kPerCommit = 25;
    const Item& a = m_items[0];  // shard 7
    const Item& b = m_items[3];  // shard 42
    ModelLedger ledger_a(store());
    ModelLedger ledger_b(store());
    QVERIFY(ledger_a.epoch(a.shard) >= 1);
    QVERIFY(ledger_b.epoch(b.shard) >= 1);
    std::atomic<int> writers_done{0};
    std::atomic<bool> failed{false};
    std::string failure;
    std::mutex failure_mutex;
    auto fail = [&](std::string why) {
      std::lock_guard lock(failure_mutex);
      if (!failed.exchange(true)) failure = std::move(why);
    };
    auto writer = [&](ModelLedger& ledger, const Item& item) {
      for (int c = 0; c < kCommits && !failed; ++c) {
        for (int i = 0; i < kPerCommit; ++i) {
          ledger.move(item, m_locations[i % 4], 1, 0, 1000 + c);
        }
        const absl::Status st = ledger.commit();
        if (!st.ok()) fail("commit: " + st.ToString());
      }
      ++writers_done;
    };
    auto reader = [&](int id) {
      Seq seen_a = 0;
      Seq seen_b = 0;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      for (int round = 0; !failed; ++round) {
        const bool done = writers_done == 2;
        auto seqs = store().lastSeqs();
        if (!seqs.ok()) return fail("lastSeqs: " + seqs.status().ToString());
        if ((*seqs)[a.shard] < seen_a || (*seqs)[b.shard] < seen_b)
          return fail("lastSeqs went back");
        seen_a = (*seqs)[a.shard];
        seen_b = (*seqs)[b.shard];
        const ShardId shard = (round + id) % 2 ? a.shard : b.shard;
        auto entries = store().readLedger(shard, 0, std::numeric_limits<Seq>::max(), 100000);
        if (!entries.ok()) return fail("readLedger: " + entries.status().ToString());
        if (entries->size() % kPerCommit != 0) return fail("saw part of a commit");
        for (std::size_t i = 0; i < entries->size(); ++i) {
          if ((*entries)[i].seq != i + 1) return fail("ledger has a gap");
        }
        auto stock = store().listStock(StockQuery{});
        if (!stock.ok()) return fail("listStock: " + stock.status().ToString());
        auto history = store().history(HistoryQuery{a.id, std::nullopt, 0, 0, 0, 50, true});
        if (!history.ok()) return fail("history: " + history.status().ToString());
        if (done) return;
        if (std::chrono::steady_clock::now() > deadline) return fail("readers timed out");
      }
    };
    std::thread w1(writer, std::ref(ledger_a), std::cref(a));
    std::thread w2(writer, std::ref(ledger_b), std::cref(b));
    std::thread r1(reader, 0);
    std::thread r2(reader, 1);
    w1.join();
    w2.join();
    r1.join();
    r2.join();
    QVERIFY2(!failed, failure.c_str());

    DEPOT_ASSIGN_OR_FAIL(seqs, store().lastSeqs());
    QCOMPARE(seqs[a.shard], Seq{kCommits * kPerCommit});
    QCOMPARE(seqs[b.shard], Seq{kCommits * kPerCommit});
    std::size_t scanned = 0;
    DEPOT_VERIFY_OK(store().scanLedger([&](const LedgerEntry&) {
      ++scanned;
      return true;
    }));
    QCOMPARE(scanned, std::size_t{2 * kCommits * kPerCommit});
    std::map<std::pair<ItemId, LocationId>, Balance> want = ledger_a.balances();
    for (const auto& [key, balance] : ledger_b.balances()) want[key] = balance;
    std::map<std::pair<ItemId, LocationId>, Balance> got;
    DEPOT_VERIFY_OK(store().scanBalances([&](const BalanceRow& row) {
      got[{row.item, row.location}] = row.balance;
      return true;
    }));
    QVERIFY(got == want);
  }
};

}  // namespace depot::testing
