// Order holds: reserve, commit (full and partial), release, TTL expiry driven
// by the engine's clock, and the multi-shard saga.
#include <random>
#include <set>

#include "core/shard_state.h"
#include "core_fixture.h"

using namespace depot;
using namespace depot::test;
using K = MovementKind;

namespace {
// Two SKUs on different shards.
std::pair<std::string, std::string> twoShards() {
  for (int i = 2; i <= 4; ++i)
    if (shardOf("SKU-" + std::to_string(i)) != shardOf("SKU-1"))
      return {"SKU-1", "SKU-" + std::to_string(i)};
  return {};
}
}  // namespace

class TestHolds : public QObject {
  Q_OBJECT
 private slots:
  void reserveAndCommitFull() {
    CoreFixture f;
    f.seedCatalog();
    QVERIFY(f.move(K::kReceive, "SKU-1", "w1/A", 10).outcome.ok());
    auto r = f.reserve("O1", {{"SKU-1", "w1/A", 4}});
    QVERIFY2(r.status.ok(), std::string(r.status.message()).c_str());
    QCOMPARE(r.expires_at, kStart + ServiceOptions{}.default_hold_ttl);
    QCOMPARE(f.balance("SKU-1", "w1/A"), (Balance{10, 4}));
    // Reserved units cannot be shipped by someone else.
    QCOMPARE(f.move(K::kShip, "SKU-1", "w1/A", 7).outcome.code, absl::StatusCode::kFailedPrecondition);
    QCOMPARE(f.reserve("O2", {{"SKU-1", "w1/A", 7}}).status.code(), absl::StatusCode::kFailedPrecondition);
    QCOMPARE(r.after.size(), 1u);
    QCOMPARE(r.after[0].sku, std::string("SKU-1"));
    r = f.commit("O1");
    QVERIFY(r.status.ok());
    QCOMPARE(r.after.size(), 1u);
    QCOMPARE(r.after[0].sku, std::string("SKU-1"));
    QCOMPARE(r.after[0].location, std::string("w1/A"));
    QCOMPARE(r.after[0].balance, (Balance{6, 0}));
    QCOMPARE(f.balance("SKU-1", "w1/A"), (Balance{6, 0}));
    // Committing again (another request) is refused: the hold is closed.
    r = f.commit("O1");
    QCOMPARE(r.status.code(), absl::StatusCode::kFailedPrecondition);
    QCOMPARE(f.replayProblem(), std::string());
  }

  void partialCommitReturnsRemainder() {
    CoreFixture f;
    f.seedCatalog();
    QVERIFY(f.move(K::kReceive, "SKU-1", "w1/A", 10).outcome.ok());
    QVERIFY(f.move(K::kReceive, "SKU-1", "w1/B", 10).outcome.ok());
    QVERIFY(f.reserve("O1", {{"SKU-1", "w1/A", 5}, {"SKU-1", "w1/B", 3}}).status.ok());
    auto r = f.commit("O1", {{"SKU-1", "w1/A", 2}});  // ship 2 of 5 at A, nothing at B
    QVERIFY2(r.status.ok(), std::string(r.status.message()).c_str());
    QCOMPARE(f.balance("SKU-1", "w1/A"), (Balance{8, 0}));
    QCOMPARE(f.balance("SKU-1", "w1/B"), (Balance{10, 0}));
    // Shipping more than held is refused and changes nothing.
    QVERIFY(f.reserve("O2", {{"SKU-1", "w1/A", 1}}).status.ok());
    r = f.commit("O2", {{"SKU-1", "w1/A", 2}});
    QCOMPARE(r.status.code(), absl::StatusCode::kFailedPrecondition);
    QCOMPARE(f.balance("SKU-1", "w1/A"), (Balance{8, 1}));
    QCOMPARE(f.replayProblem(), std::string());
  }

  void releaseAndUnknownOrders() {
    CoreFixture f;
    f.seedCatalog();
    QVERIFY(f.move(K::kReceive, "SKU-1", "w1/A", 10).outcome.ok());
    QVERIFY(f.reserve("O1", {{"SKU-1", "w1/A", 4}}).status.ok());
    QVERIFY(f.release("O1").status.ok());
    QCOMPARE(f.balance("SKU-1", "w1/A"), (Balance{10, 0}));
    QCOMPARE(f.commit("O1").status.code(), absl::StatusCode::kFailedPrecondition);
    QCOMPARE(f.release("O1").status.code(), absl::StatusCode::kFailedPrecondition);
    QCOMPARE(f.commit("NOPE").status.code(), absl::StatusCode::kNotFound);
    QCOMPARE(f.release("NOPE").status.code(), absl::StatusCode::kNotFound);
    // An order id cannot be reserved twice.
    QCOMPARE(f.reserve("O1", {{"SKU-1", "w1/A", 1}}).status.code(), absl::StatusCode::kAlreadyExists);
    // Bad input.
    QCOMPARE(f.reserve("O3", {}).status.code(), absl::StatusCode::kInvalidArgument);
    QCOMPARE(f.reserve("O3", {{"SKU-1", "w1/A", 0}}).status.code(), absl::StatusCode::kInvalidArgument);
    QCOMPARE(f.reserve("O3", {{"SKU-1", "w1/A", 11}}).status.code(), absl::StatusCode::kFailedPrecondition);
    QCOMPARE(f.reserve("O3", {{"SKU-1", "w1/A", 1}}, -5).status.code(), absl::StatusCode::kInvalidArgument);
    QCOMPARE(f.balance("SKU-1", "w1/A"), (Balance{10, 0}));
  }

  // An order line's error names the line and the field, for reserve and
  // commit alike (the text clients show), and refuses the whole order.
  void orderLineErrorsNameTheLineAndField() {
    CoreFixture f;
    f.seedCatalog();
    QVERIFY(f.move(K::kReceive, "SKU-1", "w1/A", 10).outcome.ok());
    auto message = [](const OrderResult& r) { return std::string(r.status.message()); };
    const OrderLine good{"SKU-1", "w1/A", 1};
    auto r = f.reserve("E1", {good, {"NOPE-9", "w1/A", 1}});
    QCOMPARE(r.status.code(), absl::StatusCode::kNotFound);
    QCOMPARE(message(r), std::string("lines[1].sku: unknown SKU 'NOPE-9'"));
    r = f.reserve("E1", {good, {"SKU-1", "w9/Z", 1}});
    QCOMPARE(r.status.code(), absl::StatusCode::kNotFound);
    QCOMPARE(message(r), std::string("lines[1].location: unknown location 'w9/Z'"));
    r = f.reserve("E1", {{"SKU-1", "nowhere", 1}});
    QCOMPARE(r.status.code(), absl::StatusCode::kInvalidArgument);
    QVERIFY2(message(r).rfind("lines[0].location: ", 0) == 0, message(r).c_str());
    r = f.reserve("E1", {{"", "w1/A", 1}});
    QCOMPARE(r.status.code(), absl::StatusCode::kInvalidArgument);
    QVERIFY2(message(r).rfind("lines[0].sku: ", 0) == 0, message(r).c_str());
    r = f.reserve("E1", {good, {"SKU-1", "w1/A", 0}});
    QCOMPARE(r.status.code(), absl::StatusCode::kInvalidArgument);
    QVERIFY2(message(r).rfind("lines[1].quantity: ", 0) == 0, message(r).c_str());
    QCOMPARE(f.balance("SKU-1", "w1/A"), (Balance{10, 0}));  // nothing held

    QVERIFY(f.reserve("E1", {{"SKU-1", "w1/A", 3}}).status.ok());
    r = f.commit("E1", {{"SKU-1", "w1/A", 1}, {"NOPE-9", "w1/A", 1}});
    QCOMPARE(r.status.code(), absl::StatusCode::kNotFound);
    QCOMPARE(message(r), std::string("lines[1].sku: unknown SKU 'NOPE-9'"));
    r = f.commit("E1", {{"SKU-1", "w9/Z", 1}});
    QCOMPARE(message(r), std::string("lines[0].location: unknown location 'w9/Z'"));
    r = f.commit("E1", {{"SKU-1", "w1/A", -1}});
    QCOMPARE(r.status.code(), absl::StatusCode::kInvalidArgument);
    QCOMPARE(message(r), std::string("lines[0].quantity: must be between 0 and 1e12"));
    QCOMPARE(f.balance("SKU-1", "w1/A"), (Balance{10, 3}));  // still held, nothing shipped
  }

  void expiryByEngineClock() {
    CoreFixture f;
    f.seedCatalog();
    QVERIFY(f.move(K::kReceive, "SKU-1", "w1/A", 10).outcome.ok());
    QVERIFY(f.reserve("O1", {{"SKU-1", "w1/A", 4}}, 60'000'000).status.ok());
    QVERIFY(f.reserve("O2", {{"SKU-1", "w1/A", 3}}, 600'000'000).status.ok());
    f.clock().advance(61'000'000);
    // The writer notices within its polling interval; bounded wait.
    QTRY_COMPARE_WITH_TIMEOUT(f.balance("SKU-1", "w1/A"), (Balance{10, 3}), 5000);
    auto r = f.commit("O1");
    QCOMPARE(r.status.code(), absl::StatusCode::kFailedPrecondition);
    QVERIFY(std::string(r.status.message()).find("EXPIRED") != std::string::npos);
    QVERIFY(f.commit("O2").status.ok());
    QCOMPARE(f.svc().stats().expired_holds.load(), 1u);
    QCOMPARE(f.replayProblem(), std::string());
  }

  void expiryAfterRestart() {
    CoreFixture f;
    f.seedCatalog();
    QVERIFY(f.move(K::kReceive, "SKU-1", "w1/A", 10).outcome.ok());
    QVERIFY(f.reserve("O1", {{"SKU-1", "w1/A", 4}}, 60'000'000).status.ok());
    f.restart();
    QCOMPARE(f.balance("SKU-1", "w1/A"), (Balance{10, 4}));
    QCOMPARE(f.svc().openHolds(), 1u);
    f.clock().advance(61'000'000);
    QTRY_COMPARE_WITH_TIMEOUT(f.balance("SKU-1", "w1/A"), (Balance{10, 0}), 5000);
  }

  // ShardState keeps the open-hold count and the closed holds' order as
  // holds are written, so that neither the per-second count nor the prune
  // scans every hold. Random writes (opens, closes at rising times,
  // rollbacks to an earlier version, erases) against a recount.
  void holdBookkeepingMatchesARecount() {
    ShardState st;
    std::mt19937 rng(7);
    Micros now = 1;
    std::map<std::string, Hold> previous;  // the version before the last write, for "rollbacks"
    auto hold = [](const std::string& id, HoldState state, Micros closed_at) {
      Hold h;
      h.order_id = id;
      h.state = state;
      h.closed_at = closed_at;
      return h;
    };
    auto recount = [&] {
      std::size_t open = 0;
      for (const auto& [id, h] : st.holds) open += h.state == HoldState::kOpen;
      return open;
    };
    for (int step = 0; step < 20'000; ++step) {
      const std::string id = "O" + std::to_string(rng() % 300);
      auto it = st.holds.find(id);
      const unsigned op = rng() % 10;
      now += rng() % 3;
      if (it == st.holds.end()) {
        st.setHold(hold(id, HoldState::kOpen, 0));
      } else if (op < 5 && it->second.state == HoldState::kOpen) {
        previous[id] = it->second;
        st.setHold(hold(id, rng() % 2 ? HoldState::kCommitted : HoldState::kReleased, now));
      } else if (op < 7 && previous.count(id)) {
        st.setHold(previous[id]);  // a rolled-back batch restores the hold it changed
        previous.erase(id);
      } else if (op < 8) {
        st.eraseHold(id);
        previous.erase(id);
      } else if (op == 9) {
        const Micros before = now - static_cast<Micros>(rng() % 50);
        std::set<std::string> open_before, kept_closed;
        for (const auto& [oid, h] : st.holds)
          (h.state == HoldState::kOpen ? open_before : kept_closed).insert(oid);
        std::erase_if(kept_closed,
                      [&](const std::string& oid) { return st.holds.at(oid).closed_at < before; });
        st.prune(before);
        for (const auto& oid : open_before) QVERIFY2(st.holds.count(oid), oid.c_str());
        for (const auto& oid : kept_closed) QVERIFY2(st.holds.count(oid), oid.c_str());
        for (const auto& [oid, h] : st.holds)
          QVERIFY2(h.state == HoldState::kOpen || h.closed_at >= before, oid.c_str());
      }
      QCOMPARE(st.openHolds(), recount());
    }
  }

  void multiShardSagaIsAllOrNothing() {
    CoreFixture f;
    f.seedCatalog();
    auto [a, b] = twoShards();
    QVERIFY(!b.empty());
    QVERIFY(f.move(K::kReceive, a, "w1/A", 10).outcome.ok());
    QVERIFY(f.move(K::kReceive, b, "w1/A", 2).outcome.ok());
    // b cannot hold 5: a's part must be undone.
    auto r = f.reserve("O1", {{a, "w1/A", 5}, {b, "w1/A", 5}});
    QCOMPARE(r.status.code(), absl::StatusCode::kFailedPrecondition);
    QCOMPARE(f.balance(a, "w1/A"), (Balance{10, 0}));
    QCOMPARE(f.balance(b, "w1/A"), (Balance{2, 0}));
    // A fitting order spans both shards and commits on both.
    r = f.reserve("O2", {{a, "w1/A", 5}, {b, "w1/A", 2}});
    QVERIFY(r.status.ok());
    QCOMPARE(r.seqs.size(), 2u);
    QVERIFY(f.commit("O2").status.ok());
    QCOMPARE(f.balance(a, "w1/A"), (Balance{5, 0}));
    QCOMPARE(f.balance(b, "w1/A"), (Balance{0, 0}));
    QCOMPARE(f.replayProblem(), std::string());
  }
};

QTEST_GUILESS_MAIN(TestHolds)
#include "test_holds.moc"
