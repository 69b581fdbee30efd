// Stocktake reconciliation (ARCHITECTURE §3): a count is reconciled against
// the ledger balance at the moment it was counted, so movements before and
// after it are neither lost nor counted twice.
#include "core_fixture.h"

using namespace depot;
using namespace depot::test;
using K = MovementKind;

class TestStocktake : public QObject {
  Q_OBJECT
 private slots:
  void movementsBeforeAndAfterTheCount() {
    ServiceOptions o;
    o.count_variance_abs = 10;
    o.count_variance_pct = 5;
    CoreFixture f(o);
    f.seedCatalog();
    QVERIFY(f.move(K::kReceive, "SKU-1", "w1/A", 100).outcome.ok());  // before the count
    f.clock().advance(1'000'000);
    const Micros counted_at = f.clock().now();
    f.clock().advance(1'000'000);
    QVERIFY(f.move(K::kShip, "SKU-1", "w1/A", 10).outcome.ok());  // after the count, before submit
    f.clock().advance(1'000'000);
    // The clerk found 97 on the shelf at counted_at: 3 missing then.
    auto r = f.counts({{"c-1", "SKU-1", "w1/A", 97, counted_at}});
    QVERIFY2(r.at(0).status.ok(), std::string(r.at(0).status.message()).c_str());
    QCOMPARE(r.at(0).record.state, CountState::kApplied);
    QCOMPARE(r.at(0).record.expected, 100);
    QCOMPARE(r.at(0).record.variance, -3);
    // Today: 100 - 10 shipped - 3 missing. The shipment is neither lost nor double counted.
    QCOMPARE(f.balance("SKU-1", "w1/A").on_hand, 87);
    QCOMPARE(f.replayProblem(), std::string());
  }

  void countOlderThanCachedBalanceReadsTheLedger() {
    CoreFixture f;
    f.seedCatalog();
    QVERIFY(f.move(K::kReceive, "SKU-1", "w1/A", 50).outcome.ok());
    const Micros t1 = f.clock().now();
    f.clock().advance(10'000'000);
    QVERIFY(f.move(K::kReceive, "SKU-1", "w1/A", 20).outcome.ok());
    f.clock().advance(10'000'000);
    QVERIFY(f.move(K::kShip, "SKU-1", "w1/A", 5).outcome.ok());
    f.restart();  // the expected figure must come from the ledger, not memory
    auto r = f.counts({{"c-1", "SKU-1", "w1/A", 48, t1 + 1}});
    QVERIFY(r.at(0).status.ok());
    QCOMPARE(r.at(0).record.expected, 50);
    QCOMPARE(r.at(0).record.variance, -2);
    QCOMPARE(f.balance("SKU-1", "w1/A").on_hand, 63);
  }

  void largeVarianceWaitsForApproval() {
    CoreFixture f;
    f.seedCatalog();
    QVERIFY(f.move(K::kReceive, "SKU-1", "w1/A", 100).outcome.ok());
    f.clock().advance(1'000'000);
    auto r = f.counts({{"c-1", "SKU-1", "w1/A", 60, 0}});
    QVERIFY(r.at(0).status.ok());
    QCOMPARE(r.at(0).record.state, CountState::kPending);
    QCOMPARE(f.balance("SKU-1", "w1/A").on_hand, 100);  // not applied yet
    auto pending = f.svc().listPendingCounts(10);
    QVERIFY(pending.ok());
    QCOMPARE(pending->size(), 1u);
    QVERIFY(f.svc().alerts().isActive(AlertKind::kCountVariance, "c-1"));
    // Movements keep flowing while it waits; approval applies the variance
    // measured at the count on top of today's balance.
    QVERIFY(f.move(K::kShip, "SKU-1", "w1/A", 10).outcome.ok());
    f.restart();  // pending counts survive a restart
    auto d = f.decide("c-1", true);
    QVERIFY2(d.status.ok(), std::string(d.status.message()).c_str());
    QCOMPARE(d.record.state, CountState::kApproved);
    QCOMPARE(f.balance("SKU-1", "w1/A").on_hand, 50);
    QTRY_VERIFY_WITH_TIMEOUT(!f.svc().alerts().isActive(AlertKind::kCountVariance, "c-1"), 5000);
    // Deciding twice is refused.
    QCOMPARE(f.decide("c-1", false).status.code(), absl::StatusCode::kFailedPrecondition);
    QCOMPARE(f.decide("nope", true).status.code(), absl::StatusCode::kNotFound);
    QCOMPARE(f.replayProblem(), std::string());
  }

  void rejectedCountChangesNothing() {
    CoreFixture f;
    f.seedCatalog();
    QVERIFY(f.move(K::kReceive, "SKU-1", "w1/A", 100).outcome.ok());
    f.clock().advance(1'000'000);
    auto r = f.counts({{"c-1", "SKU-1", "w1/A", 150, 0}});
    QCOMPARE(r.at(0).record.state, CountState::kPending);
    auto d = f.decide("c-1", false);
    QVERIFY(d.status.ok());
    QCOMPARE(d.record.state, CountState::kRejected);
    QCOMPARE(f.balance("SKU-1", "w1/A").on_hand, 100);
  }

  void blindCountsHideTheExpectedFigure() {
    CoreFixture f;
    f.seedCatalog();
    QVERIFY(f.move(K::kReceive, "SKU-1", "w1/A", 100).outcome.ok());
    f.clock().advance(1'000'000);
    auto r = f.counts({{"c-1", "SKU-1", "w1/A", 99, 0}}, true);
    QVERIFY(r.at(0).status.ok());
    QCOMPARE(r.at(0).record.expected, 0);
    QCOMPARE(r.at(0).record.variance, 0);
    QCOMPARE(f.balance("SKU-1", "w1/A").on_hand, 99);  // still reconciled
  }

  void countRetryAndBadInput() {
    CoreFixture f;
    f.seedCatalog();
    QVERIFY(f.move(K::kReceive, "SKU-1", "w1/A", 10).outcome.ok());
    f.clock().advance(1'000'000);
    auto r = f.counts({{"c-1", "SKU-1", "w1/A", 9, 0}});
    QVERIFY(r.at(0).status.ok());
    r = f.counts({{"c-1", "SKU-1", "w1/A", 9, 0}});  // the same line again
    QVERIFY(r.at(0).status.ok());
    QVERIFY(r.at(0).replayed);
    QCOMPARE(f.balance("SKU-1", "w1/A").on_hand, 9);
    r = f.counts({{"c-2", "SKU-1", "w1/A", -1, 0},
                  {"c-3", "SKU-1", "w1/A", 1, f.clock().now() + 3'600'000'000LL},
                  {"c-4", "NOPE", "w1/A", 1, 0},
                  {"c-5", "SKU-1", "w1/A", 8, 0}});
    QCOMPARE(r.at(0).status.code(), absl::StatusCode::kInvalidArgument);
    QVERIFY(std::string(r.at(0).status.message()).rfind("lines[0].counted", 0) == 0);
    QCOMPARE(r.at(1).status.code(), absl::StatusCode::kInvalidArgument);
    QVERIFY(std::string(r.at(1).status.message()).rfind("lines[1].counted_at", 0) == 0);
    QCOMPARE(r.at(2).status.code(), absl::StatusCode::kNotFound);
    QVERIFY(r.at(3).status.ok());
    QCOMPARE(f.balance("SKU-1", "w1/A").on_hand, 8);
  }

  void countThatWouldBreakReservationsWaits() {
    CoreFixture f;
    f.seedCatalog();
    QVERIFY(f.move(K::kReceive, "SKU-1", "w1/A", 5).outcome.ok());
    QVERIFY(f.reserve("O1", {{"SKU-1", "w1/A", 4}}).status.ok());
    f.clock().advance(1'000'000);
    auto r = f.counts({{"c-1", "SKU-1", "w1/A", 2, 0}});  // variance -3 leaves 2 < 4 reserved
    QCOMPARE(r.at(0).record.state, CountState::kPending);
    QCOMPARE(f.decide("c-1", true).status.code(), absl::StatusCode::kFailedPrecondition);
    QVERIFY(f.release("O1").status.ok());
    QVERIFY(f.decide("c-1", true).status.ok());
    QCOMPARE(f.balance("SKU-1", "w1/A"), (Balance{2, 0}));
  }
};

QTEST_GUILESS_MAIN(TestStocktake)
#include "test_stocktake.moc"
