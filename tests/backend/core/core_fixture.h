// A real InventoryService over a real SqliteStore in a temporary directory,
// with a ManualClock, plus synchronous wrappers (bounded waits) for tests.
#pragma once

#include <QTemporaryDir>
#include <QtTest>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <string>

#include "core/service.h"
#include "store/sqlite/sqlite_store.h"

namespace depot::test {

inline constexpr Micros kStart = 1'800'000'000'000'000;  // 2027-01-15, a fixed test epoch
inline constexpr auto kWait = std::chrono::seconds(20);

template <typename T>
T await(std::future<T>& f) {
  if (f.wait_for(kWait) != std::future_status::ready) qFatal("operation did not complete in time");
  return f.get();
}

class CoreFixture {
 public:
  explicit CoreFixture(ServiceOptions options = {}) : m_clock(kStart), m_options(options) {
    if (!m_dir.isValid()) qFatal("no temporary directory");
    open();
  }
  ~CoreFixture() { close(); }

  void open() {
    SqliteStore::Options o;
    o.path = (m_dir.path() + "/depot.db").toStdString();
    auto store = SqliteStore::open(o);
    if (!store.ok()) qFatal("open store: %s", std::string(store.status().message()).c_str());
    m_store = std::move(*store);
    auto svc = InventoryService::start(*m_store, m_clock, m_options);
    if (!svc.ok()) qFatal("start service: %s", std::string(svc.status().message()).c_str());
    m_service = std::move(*svc);
  }
  void close() {
    if (m_service) m_service->stop();
    m_service.reset();
    m_store.reset();
  }
  void restart() {
    close();
    open();
  }

  InventoryService& svc() { return *m_service; }
  SqliteStore& store() { return *m_store; }
  ManualClock& clock() { return m_clock; }
  QString dir() const { return m_dir.path(); }

  // Catalog: items SKU-1..SKU-n (reorder point 10) and locations w1/A, w1/B, w2/C.
  void seedCatalog(int items = 4, Qty reorder_point = 10) {
    std::vector<Item> its;
    for (int i = 1; i <= items; ++i) {
      Item it;
      it.sku = "SKU-" + std::to_string(i);
      it.description = "Item " + std::to_string(i);
      it.reorder_point = reorder_point;
      it.reorder_qty = 50;
      its.push_back(it);
    }
    QVERIFY(svc().catalog().upsertItems(its).ok());
    QVERIFY(svc().catalog()
                .upsertLocations({Location{0, "w1", "A"}, Location{0, "w1", "B"}, Location{0, "w2", "C"}})
                .ok());
  }

  std::vector<MovementResult> apply(std::vector<MovementRequest> ms, bool linked = false) {
    std::promise<absl::StatusOr<std::vector<MovementResult>>> p;
    auto f = p.get_future();
    svc().apply(std::move(ms), linked, [&p](auto r) { p.set_value(std::move(r)); });
    auto r = await(f);
    if (!r.ok()) {
      MovementResult failed;
      failed.outcome.code = r.status().code();
      failed.outcome.message = std::string(r.status().message());
      return {failed};
    }
    return *r;
  }
  absl::StatusOr<std::vector<MovementResult>> applyRaw(std::vector<MovementRequest> ms,
                                                       bool linked = false) {
    std::promise<absl::StatusOr<std::vector<MovementResult>>> p;
    auto f = p.get_future();
    svc().apply(std::move(ms), linked, [&p](auto r) { p.set_value(std::move(r)); });
    return await(f);
  }
  MovementResult move(MovementKind kind, const std::string& sku, const std::string& loc, Qty q,
                      const std::string& rid = {}, const std::string& to = {},
                      const std::string& reason = {}) {
    MovementRequest m;
    m.request_id = rid.empty() ? nextId() : rid;
    m.kind = kind;
    m.sku = sku;
    m.location = loc;
    m.to_location = to;
    m.quantity = q;
    m.reason = reason.empty() && kind == MovementKind::kAdjust ? "test" : reason;
    m.actor = "tester";
    return apply({m}).at(0);
  }
  OrderResult reserve(const std::string& order, std::vector<OrderLine> lines, Micros ttl = 0,
                      const std::string& rid = {}) {
    ReserveRequest r;
    r.request_id = rid.empty() ? nextId() : rid;
    r.order_id = order;
    r.lines = std::move(lines);
    r.ttl = ttl;
    r.actor = "tester";
    std::promise<OrderResult> p;
    auto f = p.get_future();
    svc().reserve(std::move(r), [&p](OrderResult res) { p.set_value(std::move(res)); });
    return await(f);
  }
  OrderResult commit(const std::string& order, std::vector<OrderLine> lines = {},
                     const std::string& rid = {}) {
    CommitRequest r;
    r.request_id = rid.empty() ? nextId() : rid;
    r.order_id = order;
    r.lines = std::move(lines);
    std::promise<OrderResult> p;
    auto f = p.get_future();
    svc().commitOrder(std::move(r), [&p](OrderResult res) { p.set_value(std::move(res)); });
    return await(f);
  }
  OrderResult release(const std::string& order, const std::string& rid = {}) {
    ReleaseRequest r;
    r.request_id = rid.empty() ? nextId() : rid;
    r.order_id = order;
    std::promise<OrderResult> p;
    auto f = p.get_future();
    svc().releaseOrder(std::move(r), [&p](OrderResult res) { p.set_value(std::move(res)); });
    return await(f);
  }
  std::vector<CountResult> counts(std::vector<CountLine> lines, bool blind = false) {
    CountSubmission s;
    s.session_id = "S1";
    s.counter = "clerk";
    s.blind = blind;
    s.lines = std::move(lines);
    std::promise<absl::StatusOr<std::vector<CountResult>>> p;
    auto f = p.get_future();
    svc().submitCounts(std::move(s), [&p](auto r) { p.set_value(std::move(r)); });
    auto r = await(f);
    if (!r.ok()) {
      CountResult c;
      c.status = r.status();
      return {c};
    }
    return *r;
  }
  CountResult decide(const std::string& count_id, bool approve, const std::string& rid = {}) {
    CountDecision d;
    d.request_id = rid.empty() ? nextId() : rid;
    d.count_id = count_id;
    d.actor = "supervisor";
    std::promise<CountResult> p;
    auto f = p.get_future();
    auto cb = [&p](CountResult r) { p.set_value(std::move(r)); };
    if (approve)
      svc().approveCount(std::move(d), cb);
    else
      svc().rejectCount(std::move(d), cb);
    return await(f);
  }
  // Balance of (sku, location) as the engine holds it.
  Balance balance(const std::string& sku, const std::string& loc) {
    std::promise<absl::StatusOr<StockResult>> p;
    auto f = p.get_future();
    svc().getStock(sku, [&p](auto r) { p.set_value(std::move(r)); });
    auto r = await(f);
    if (!r.ok()) return Balance{-1, -1};
    for (const auto& l : r->lines)
      if (l.location.name() == loc) return l.balance;
    return Balance{};
  }

  // Replays the ledger and compares it with the stored balances; returns
  // the first problem, or "" when the ledger is consistent (invariants 1, 2, 5).
  std::string replayProblem() {
    std::map<std::uint64_t, Balance> replay;
    std::array<Seq, kShardCount> seqs{};
    std::string problem;
    auto s = store().scanLedger([&](const LedgerEntry& e) {
      if (e.seq != seqs[e.shard] + 1) {
        problem = "gap in shard " + std::to_string(e.shard) + " at seq " + std::to_string(e.seq);
        return false;
      }
      seqs[e.shard] = e.seq;
      auto& b = replay[(std::uint64_t(e.item) << 32) | e.location];
      b.on_hand += e.d_on_hand;
      b.reserved += e.d_reserved;
      if (b.on_hand != e.on_hand_after || b.reserved != e.reserved_after) {
        problem = "after-balance mismatch at shard " + std::to_string(e.shard) + " seq " +
                  std::to_string(e.seq);
        return false;
      }
      if (b.on_hand < 0 || b.reserved < 0 || b.reserved > b.on_hand) {
        problem = "invariant broken at shard " + std::to_string(e.shard) + " seq " +
                  std::to_string(e.seq);
        return false;
      }
      return true;
    });
    if (!s.ok()) return std::string(s.message());
    if (!problem.empty()) return problem;
    std::size_t rows = 0;
    s = store().scanBalances([&](const BalanceRow& row) {
      ++rows;
      auto it = replay.find((std::uint64_t(row.item) << 32) | row.location);
      const Balance want = it == replay.end() ? Balance{} : it->second;
      if (!(want == row.balance)) {
        problem = "balance row differs from replay for item " + std::to_string(row.item);
        return false;
      }
      return true;
    });
    if (!s.ok()) return std::string(s.message());
    if (!problem.empty()) return problem;
    if (rows != replay.size()) return "balance rows " + std::to_string(rows) + " != replayed keys " + std::to_string(replay.size());
    return {};
  }

  std::string nextId() { return "rid-" + std::to_string(++m_ids); }

 private:
  QTemporaryDir m_dir;
  ManualClock m_clock;
  ServiceOptions m_options;
  std::unique_ptr<SqliteStore> m_store;
  std::unique_ptr<InventoryService> m_service;
  int m_ids = 0;
};

}  // namespace depot::test
