// Alerts v1: low stock with hysteresis, stockout, lifecycle FIRING ->
// ACKNOWLEDGED -> RESOLVED, silences (a resolved notice still goes out),
// persistence across a restart.
#include <mutex>

#include "core_fixture.h"

using namespace depot;
using namespace depot::test;
using K = MovementKind;

namespace {
struct Recorder {
  std::mutex m;
  std::vector<Alert> seen;
  void operator()(const Alert& a) {
    std::lock_guard l(m);
    seen.push_back(a);
  }
  std::size_t count(AlertKind kind, AlertState state) {
    std::lock_guard l(m);
    return std::count_if(seen.begin(), seen.end(),
                         [&](const Alert& a) { return a.kind == kind && a.state == state; });
  }
};
}  // namespace

class TestAlerts : public QObject {
  Q_OBJECT
 private slots:
  void lowStockWithHysteresis() {
    CoreFixture f;
    f.seedCatalog(1, 100);  // reorder point 100, hysteresis 10% -> resolves at >= 110
    auto rec = std::make_shared<Recorder>();
    f.svc().alerts().subscribe([rec](const Alert& a) { (*rec)(a); });
    QVERIFY(f.move(K::kReceive, "SKU-1", "w1/A", 150).outcome.ok());
    QVERIFY(!f.svc().alerts().isActive(AlertKind::kLowStock, "SKU-1"));
    QVERIFY(f.move(K::kShip, "SKU-1", "w1/A", 51).outcome.ok());  // 99 < 100
    QTRY_VERIFY_WITH_TIMEOUT(f.svc().alerts().isActive(AlertKind::kLowStock, "SKU-1"), 5000);
    // Hovering around the threshold does not flap.
    for (int i = 0; i < 5; ++i) {
      QVERIFY(f.move(K::kReceive, "SKU-1", "w1/A", 3).outcome.ok());  // 102
      QVERIFY(f.move(K::kShip, "SKU-1", "w1/A", 3).outcome.ok());     // 99
    }
    QCOMPARE(rec->count(AlertKind::kLowStock, AlertState::kFiring), 1u);
    QCOMPARE(rec->count(AlertKind::kLowStock, AlertState::kResolved), 0u);
    QVERIFY(f.move(K::kReceive, "SKU-1", "w1/A", 11).outcome.ok());  // 110
    QTRY_COMPARE_WITH_TIMEOUT(rec->count(AlertKind::kLowStock, AlertState::kResolved), 1u, 5000);
    // Reservations count: available, not on hand.
    QVERIFY(f.reserve("O1", {{"SKU-1", "w1/A", 20}}).status.ok());
    QTRY_VERIFY_WITH_TIMEOUT(f.svc().alerts().isActive(AlertKind::kLowStock, "SKU-1"), 5000);
  }

  void stockoutIsCritical() {
    CoreFixture f;
    f.seedCatalog(1, 0);
    QVERIFY(f.move(K::kReceive, "SKU-1", "w1/A", 5).outcome.ok());
    QVERIFY(f.move(K::kShip, "SKU-1", "w1/A", 5).outcome.ok());
    QVERIFY(f.svc().alerts().isActive(AlertKind::kStockout, "SKU-1"));
    auto list = f.svc().alerts().list(false);
    QCOMPARE(list.size(), 1u);
    QCOMPARE(list[0].severity, Severity::kCritical);
    QVERIFY(!f.svc().alerts().isActive(AlertKind::kLowStock, "SKU-1"));  // no reorder point
    QVERIFY(f.move(K::kReceive, "SKU-1", "w1/B", 1).outcome.ok());  // other location counts
    QVERIFY(!f.svc().alerts().isActive(AlertKind::kStockout, "SKU-1"));
  }

  void acknowledgeAndSilence() {
    CoreFixture f;
    f.seedCatalog(2, 50);
    auto rec = std::make_shared<Recorder>();
    f.svc().alerts().subscribe([rec](const Alert& a) { (*rec)(a); });
    QVERIFY(f.move(K::kReceive, "SKU-1", "w1/A", 10).outcome.ok());
    auto list = f.svc().alerts().list(false);
    QCOMPARE(list.size(), 1u);
    const auto id = list[0].id;
    auto acked = f.svc().alerts().acknowledge(id, "sam", "reorder placed");
    QVERIFY(acked.ok());
    QCOMPARE(acked->state, AlertState::kAcknowledged);
    QCOMPARE(acked->acked_by, std::string("sam"));
    QCOMPARE(f.svc().alerts().acknowledge(999, "sam", "").status().code(), absl::StatusCode::kNotFound);
    QCOMPARE(f.svc().alerts().acknowledge(id, "", "").status().code(), absl::StatusCode::kInvalidArgument);

    Silence s;
    s.subject_prefix = "SKU-2";
    s.owner = "sam";
    s.expires_at = f.clock().now() + 3'600'000'000LL;
    QVERIFY(f.svc().alerts().silence(s).ok());
    s.expires_at = f.clock().now() - 1;
    QCOMPARE(f.svc().alerts().silence(s).status().code(), absl::StatusCode::kInvalidArgument);
    QVERIFY(f.move(K::kReceive, "SKU-2", "w1/A", 10).outcome.ok());  // low, but silenced
    QVERIFY(f.svc().alerts().isActive(AlertKind::kLowStock, "SKU-2"));
    {
      std::lock_guard l(rec->m);
      for (const auto& a : rec->seen) QVERIFY(a.subject != "SKU-2");
    }
    auto all = f.svc().alerts().list(false);
    QVERIFY(std::any_of(all.begin(), all.end(), [](const Alert& a) { return a.subject == "SKU-2" && a.silenced; }));
    QVERIFY(f.move(K::kReceive, "SKU-2", "w1/A", 100).outcome.ok());  // resolves
    // The resolved notice is delivered even though the alert is silenced.
    QTRY_COMPARE_WITH_TIMEOUT(rec->count(AlertKind::kLowStock, AlertState::kResolved), 1u, 5000);

    // Persisted: after a restart the acknowledgement is still there.
    f.restart();
    auto after = f.svc().alerts().list(false);
    auto it = std::find_if(after.begin(), after.end(), [&](const Alert& a) { return a.id == id; });
    QVERIFY(it != after.end());
    QCOMPARE(it->state, AlertState::kAcknowledged);
    QCOMPARE(it->ack_note, std::string("reorder placed"));
    QCOMPARE(f.svc().alerts().silences().size(), 1u);
  }
};

QTEST_GUILESS_MAIN(TestAlerts)
#include "test_alerts.moc"
