// Invariant 5: per shard, the ledger seq is gap-free in commit order, and a
// Watch resumed from a cursor (also after a restart) delivers every later
// event exactly once, in order per shard.
#include "core_fixture.h"

using namespace depot;
using namespace depot::test;
using K = MovementKind;

namespace {
// Drains a session until it has nothing more (bounded).
std::vector<LedgerEntry> drain(WatchSession& s) {
  std::vector<LedgerEntry> out;
  for (int i = 0; i < 10000; ++i) {
    const auto before = out.size();
    if (!s.next(97, out).ok()) qFatal("watch next failed");
    if (out.size() == before) break;
  }
  return out;
}

void checkExactlyOnce(const std::vector<LedgerEntry>& events, Cursor from, const Cursor& to) {
  for (const auto& e : events) {
    QCOMPARE(e.seq, from[e.shard] + 1);
    from[e.shard] = e.seq;
  }
  QCOMPARE(from, to);
}
}  // namespace

class TestWatch : public QObject {
  Q_OBJECT
 private slots:
  void liveAndResumedAfterRestart() {
    CoreFixture f;
    f.seedCatalog(4);
    auto session = f.svc().events().subscribe(Cursor{});
    QVERIFY(session.ok());
    for (int i = 0; i < 50; ++i)
      QVERIFY(f.move(K::kReceive, "SKU-" + std::to_string(1 + i % 4), "w1/A", 1).outcome.ok());
    auto first = drain(**session);
    QCOMPARE(first.size(), 50u);
    checkExactlyOnce(first, Cursor{}, f.svc().lastSeqs());
    // Take a cursor in the middle: the consumer saw only the first 20.
    Cursor mid{};
    for (std::size_t i = 0; i < 20; ++i) mid[first[i].shard] = first[i].seq;
    session->reset();
    f.restart();
    for (int i = 0; i < 30; ++i)
      QVERIFY(f.move(K::kShip, "SKU-" + std::to_string(1 + i % 4), "w1/A", 1).outcome.ok());
    auto resumed = f.svc().events().subscribe(mid);
    QVERIFY(resumed.ok());
    auto rest = drain(**resumed);
    QCOMPARE(rest.size(), 60u);  // 30 old ones after the cursor + 30 new
    checkExactlyOnce(rest, mid, f.svc().lastSeqs());
  }

  void notifyAndSmallTail() {
    ServiceOptions o;
    o.watch_tail_entries = 100;
    CoreFixture f(o);
    f.seedCatalog(4);
    auto session = f.svc().events().subscribe(f.svc().lastSeqs());
    QVERIFY(session.ok());
    std::atomic<int> woken{0};
    (*session)->notifyWhenReady([&] { ++woken; });
    QCOMPARE(woken.load(), 0);
    QVERIFY(f.move(K::kReceive, "SKU-1", "w1/A", 1).outcome.ok());
    QTRY_COMPARE_WITH_TIMEOUT(woken.load(), 1, 5000);
    // Publish far more than the in-memory tail holds while the consumer sleeps:
    // it must fall back to the store without losing or repeating anything.
    std::vector<MovementRequest> batch;
    for (int i = 0; i < 3000; ++i)
      batch.push_back(MovementRequest{f.nextId(), K::kReceive, "SKU-" + std::to_string(1 + i % 4), "w1/B", "", 1, "", "t"});
    for (auto& r : f.apply(batch)) QVERIFY(r.outcome.ok());
    auto all = drain(**session);
    QCOMPARE(all.size(), 3001u);
  }

  void cursorFromAnotherDataSetIsRefused() {
    CoreFixture f;
    f.seedCatalog(1);
    Cursor ahead{};
    ahead[shardOf("SKU-1")] = 5;
    auto s = f.svc().events().subscribe(ahead);
    QCOMPARE(s.status().code(), absl::StatusCode::kFailedPrecondition);
    QVERIFY(std::string(s.status().message()).find("re-snapshot") != std::string::npos);
  }

  void snapshotIsConsistentWithItsSeq() {
    CoreFixture f;
    f.seedCatalog(1);
    QVERIFY(f.move(K::kReceive, "SKU-1", "w1/A", 7).outcome.ok());
    QVERIFY(f.move(K::kReceive, "SKU-1", "w1/B", 3).outcome.ok());
    std::promise<absl::StatusOr<ShardSnapshot>> p;
    auto fut = p.get_future();
    f.svc().snapshot(shardOf("SKU-1"), [&p](auto r) { p.set_value(std::move(r)); });
    auto snap = await(fut);
    QVERIFY(snap.ok());
    QCOMPARE(snap->seq, 2u);
    QCOMPARE(snap->rows.size(), 2u);
    QCOMPARE(snap->rows[0].item.sku, std::string("SKU-1"));
    QCOMPARE(snap->rows[0].location.name(), std::string("w1/A"));
    QCOMPARE(snap->rows[0].balance.on_hand, 7);
  }
};

QTEST_GUILESS_MAIN(TestWatch)
#include "test_watch.moc"
