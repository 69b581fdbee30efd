// Invariants 1 and 2 under concurrency: 8 clients hammer one SKU with
// receives, shipments, transfers, reservations, commits and releases. No
// oversell ever; the ledger replayed from empty equals the balances; every
// acknowledged movement is in the ledger exactly once.
#include <atomic>
#include <random>
#include <thread>

#include "core_fixture.h"

using namespace depot;
using namespace depot::test;
using K = MovementKind;

class TestConcurrency : public QObject {
  Q_OBJECT
 private slots:
  void eightClientsOneHotSku() {
    ServiceOptions o;
    o.writers = 2;
    CoreFixture f(o);
    f.seedCatalog(2);
    QVERIFY(f.move(K::kReceive, "SKU-1", "w1/A", 500).outcome.ok());
    std::atomic<long> shipped_ok{0}, received_ok{0}, committed_units{0}, acked_entries{0};
    std::atomic<int> failures{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < 8; ++c) {
      clients.emplace_back([&, c] {
        std::mt19937 rng(c);
        for (int i = 0; i < 150; ++i) {
          const std::string rid = "c" + std::to_string(c) + "-" + std::to_string(i);
          const int op = rng() % 5;
          const Qty q = 1 + rng() % 9;
          std::promise<absl::StatusOr<std::vector<MovementResult>>> p;
          auto fut = p.get_future();
          if (op <= 2) {
            MovementRequest m{rid, op == 0 ? K::kReceive : (op == 1 ? K::kShip : K::kTransfer),
                              "SKU-1", op == 2 && (rng() & 1) ? "w1/B" : "w1/A",
                              "", q, "", "client"};
            if (m.kind == K::kTransfer) m.to_location = m.location == "w1/A" ? "w1/B" : "w1/A";
            if (m.kind == K::kReceive && rng() % 3 == 0) m.kind = K::kShip;  // more demand than supply
            f.svc().apply({m}, false, [&p](auto r) { p.set_value(std::move(r)); });
            auto r = await(fut);
            if (!r.ok()) { ++failures; continue; }
            const auto& res = r->at(0);
            if (res.outcome.ok()) {
              acked_entries += res.outcome.entries;
              if (m.kind == K::kShip) shipped_ok += q;
              if (m.kind == K::kReceive) received_ok += q;
            } else if (res.outcome.code != absl::StatusCode::kFailedPrecondition) {
              ++failures;
            }
          } else {
            const std::string order = "o" + rid;
            auto hold = f.reserve(order, {{"SKU-1", "w1/A", q}}, 0, rid + "-r");
            if (!hold.status.ok()) continue;
            acked_entries += 1;
            if (op == 3) {
              auto c2 = f.commit(order, {}, rid + "-c");
              if (c2.status.ok()) { committed_units += q; acked_entries += 1; }
              else ++failures;
            } else {
              if (f.release(order, rid + "-x").status.ok()) acked_entries += 1;
              else ++failures;
            }
          }
        }
      });
    }
    for (auto& t : clients) t.join();
    QCOMPARE(failures.load(), 0);
    const Balance a = f.balance("SKU-1", "w1/A"), b = f.balance("SKU-1", "w1/B");
    QVERIFY(a.on_hand >= 0 && a.reserved >= 0 && a.reserved <= a.on_hand);
    QVERIFY(b.on_hand >= 0 && b.reserved >= 0 && b.reserved <= b.on_hand);
    // Conservation: what is left is what came in minus what went out.
    QCOMPARE(a.on_hand + b.on_hand, 500 + received_ok.load() - shipped_ok.load() - committed_units.load());
    QCOMPARE(a.reserved + b.reserved, 0);
    // Every acknowledged ledger entry is there exactly once (+1 for the seed receive).
    const auto seqs = f.svc().lastSeqs();
    QCOMPARE(seqs[shardOf("SKU-1")], Seq(acked_entries.load() + 1));
    QCOMPARE(f.replayProblem(), std::string());
    f.restart();
    QCOMPARE(f.balance("SKU-1", "w1/A"), a);
    QCOMPARE(f.replayProblem(), std::string());
  }

  void queueBoundRefusesWithResourceExhausted() {
    ServiceOptions o;
    o.writers = 1;
    o.queue_capacity = 50;
    CoreFixture f(o);
    f.seedCatalog(1);
    // Flood without waiting: some submissions must be refused, none lost.
    std::atomic<int> ok{0}, exhausted{0}, other{0}, done{0}, no_hint{0};
    const int n = 400;
    for (int i = 0; i < n; ++i) {
      MovementRequest m{"q-" + std::to_string(i), K::kReceive, "SKU-1", "w1/A", "", 1, "", "t"};
      f.svc().apply({m}, false, [&](absl::StatusOr<std::vector<MovementResult>> r) {
        if (r.ok() && r->at(0).outcome.ok()) ++ok;
        else if (r.ok() && r->at(0).outcome.code == absl::StatusCode::kResourceExhausted) {
          ++exhausted;
          // Admission control says when to come back (5 ms .. 5 s).
          const Micros hint = r->at(0).outcome.retry_after;
          if (hint < 5'000 || hint > 5'000'000) ++no_hint;
        }
        else ++other;
        ++done;
      });
    }
    QTRY_COMPARE_WITH_TIMEOUT(done.load(), n, 20000);
    QCOMPARE(other.load(), 0);
    QCOMPARE(no_hint.load(), 0);
    QCOMPARE(f.balance("SKU-1", "w1/A").on_hand, Qty(ok.load()));
    QCOMPARE(f.replayProblem(), std::string());
    qInfo("accepted %d, refused with RESOURCE_EXHAUSTED %d", ok.load(), exhausted.load());
  }
};

QTEST_GUILESS_MAIN(TestConcurrency)
#include "test_concurrency.moc"
