// Invariant 3 against a real depotd process: clients apply movements while
// the server is killed with SIGKILL at a random moment. After a restart every
// acknowledged movement is present exactly once (its retry is answered as a
// replay with the original seq), and `depotd --verify` replays the ledger
// without a mismatch. Repeated several times on the same data directory.
// Also: the commit log's fdatasync fails (fault injected with LD_PRELOAD,
// fail_log_sync.cpp), and nothing acknowledged is lost or doubled.
#include <atomic>
#include <mutex>
#include <random>
#include <thread>

#include "depotd_process.h"

using namespace depot;
using namespace depot::test;
namespace v1 = depot::v1;

namespace {
struct Acked {
  v1::Movement movement;
  std::uint64_t seq;
};

v1::Movement randomMovement(std::mt19937& rng, const std::string& rid) {
  v1::Movement m;
  m.set_request_id(rid);
  m.set_sku("S-" + std::to_string(rng() % 40));
  const char* locs[] = {"w1/A", "w1/B", "w2/C"};
  m.set_location(locs[rng() % 3]);
  m.set_quantity(1 + rng() % 5);
  switch (rng() % 4) {
    case 0:
    case 1: m.set_kind(v1::MOVEMENT_KIND_RECEIVE); break;
    case 2: m.set_kind(v1::MOVEMENT_KIND_SHIP); break;
    default:
      m.set_kind(v1::MOVEMENT_KIND_TRANSFER);
      m.set_to_location(m.location() == "w1/A" ? "w2/C" : "w1/A");
  }
  m.set_actor("crash-test");
  return m;
}
}  // namespace

class TestCrashRecovery : public QObject {
  Q_OBJECT
 private slots:
  void killNineLosesNoAcknowledgedMovement() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    std::vector<Acked> acked;
    std::mutex acked_mutex;
    for (int round = 0; round < 3; ++round) {
      DepotdProcess depotd(dir.path(), 23000);
      QVERIFY2(depotd.start(), "depotd did not become healthy");
      auto ch = depotd.channel();
      if (round == 0) QVERIFY(seedCatalog(ch, 40));

      // Everything acknowledged before (earlier rounds) must still be there.
      {
        auto stub = v1::Inventory::NewStub(ch);
        for (std::size_t i = 0; i < acked.size(); i += 500) {
          v1::ApplyRequest req;
          for (std::size_t k = i; k < std::min(acked.size(), i + 500); ++k)
            *req.add_movements() = acked[k].movement;
          v1::ApplyResponse resp;
          grpc::ClientContext ctx;
          ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
          auto st = stub->Apply(&ctx, req, &resp);
          QVERIFY2(st.ok(), st.error_message().c_str());
          QCOMPARE(resp.results_size(), req.movements_size());
          for (int k = 0; k < resp.results_size(); ++k) {
            const auto& r = resp.results(k);
            QVERIFY2(r.code() == 0 && r.replayed(), r.message().c_str());
            QCOMPARE(r.seq(), acked[i + k].seq);
          }
        }
      }

      // Load while the process dies.
      std::atomic<bool> stop{false};
      std::vector<std::thread> clients;
      for (int c = 0; c < 4; ++c) {
        clients.emplace_back([&, c] {
          std::mt19937 rng(round * 100 + c);
          auto stub = v1::Inventory::NewStub(ch);
          for (int n = 0; n < 100000 && !stop; ++n) {
            v1::ApplyRequest req;
            const int size = 1 + rng() % 20;
            for (int k = 0; k < size; ++k)
              *req.add_movements() = randomMovement(
                  rng, "r" + std::to_string(round) + "c" + std::to_string(c) + "n" +
                           std::to_string(n) + "k" + std::to_string(k));
            v1::ApplyResponse resp;
            grpc::ClientContext ctx;
            ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
            if (!stub->Apply(&ctx, req, &resp).ok()) {
              if (stop) return;
              continue;
            }
            std::lock_guard lock(acked_mutex);
            for (int k = 0; k < resp.results_size(); ++k)
              if (resp.results(k).code() == 0)
                acked.push_back(Acked{req.movements(k), resp.results(k).seq()});
          }
        });
      }
      std::mt19937 rng(round);
      QThread::msleep(700 + rng() % 1200);
      depotd.kill9();
      stop = true;
      for (auto& t : clients) t.join();
      qInfo("round %d: %zu movements acknowledged so far", round, acked.size());
      QVERIFY(!acked.empty());
    }

    // Final check: start, replay every acknowledged one, stop cleanly, verify.
    DepotdProcess depotd(dir.path(), 23000);
    QVERIFY(depotd.start());
    auto stub = v1::Inventory::NewStub(depotd.channel());
    std::size_t replayed = 0;
    for (std::size_t i = 0; i < acked.size(); i += 1000) {
      v1::ApplyRequest req;
      for (std::size_t k = i; k < std::min(acked.size(), i + 1000); ++k)
        *req.add_movements() = acked[k].movement;
      v1::ApplyResponse resp;
      grpc::ClientContext ctx;
      QVERIFY(stub->Apply(&ctx, req, &resp).ok());
      for (int k = 0; k < resp.results_size(); ++k) {
        QVERIFY2(resp.results(k).replayed(), resp.results(k).message().c_str());
        QCOMPARE(resp.results(k).seq(), acked[i + k].seq);
        ++replayed;
      }
    }
    QCOMPARE(replayed, acked.size());
    QCOMPARE(depotd.terminate(), 0);
    auto [code, report] = DepotdProcess::verify(dir.path());
    QVERIFY2(code == 0, qPrintable(report));
  }
};

namespace {
// The outcome of one Apply of `m` alone: OK with its result, or the error
// (call status or the movement's own result) as text.
struct Outcome {
  bool ok = false;
  bool replayed = false;
  std::uint64_t seq = 0;
  std::string error;
};
Outcome applyOne(v1::Inventory::Stub& stub, const v1::Movement& m) {
  v1::ApplyRequest req;
  *req.add_movements() = m;
  v1::ApplyResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  const grpc::Status st = stub.Apply(&ctx, req, &resp);
  Outcome out;
  if (!st.ok()) {
    out.error = st.error_message();
  } else if (resp.results_size() != 1 || resp.results(0).code() != 0) {
    out.error = resp.results_size() == 1 ? resp.results(0).message() : "no result";
  } else {
    out.ok = true;
    out.replayed = resp.results(0).replayed();
    out.seq = resp.results(0).seq();
  }
  return out;
}
v1::Movement receive(const std::string& rid, int qty) {
  v1::Movement m;
  m.set_request_id(rid);
  m.set_sku("S-1");
  m.set_location("w1/A");
  m.set_quantity(qty);
  m.set_kind(v1::MOVEMENT_KIND_RECEIVE);
  m.set_actor("sync-test");
  return m;
}
}  // namespace

class TestFailedLogSync : public QObject {
  Q_OBJECT
 private slots:
  // A failed fsync of the commit log: the client is told the outcome is
  // unknown (the write may be durable), every later commit is refused until
  // a restart, and after one nothing acknowledged is lost, the unknown one
  // is there at most once, and the refused one was never written.
  void failedLogSyncLosesNothingAcknowledged() {
    const QString shim = binary("libdepot_fail_log_sync.so");
    QVERIFY2(QFileInfo::exists(shim), qPrintable(shim + " was not built"));
    QTemporaryDir dir;
    QTemporaryDir flag_dir;
    QVERIFY(dir.isValid() && flag_dir.isValid());
    const QString flag = flag_dir.path() + "/fail-sync";
    std::vector<std::pair<v1::Movement, std::uint64_t>> acked;
    const v1::Movement unknown = receive("sync-unknown", 1000);
    const v1::Movement refused = receive("sync-refused", 5);
    {
      DepotdProcess depotd(dir.path(), 23200);
      depotd.setEnv("LD_PRELOAD", shim);
      depotd.setEnv("DEPOT_FAIL_LOG_SYNC_FLAG", flag);
      QVERIFY2(depotd.start(), "depotd did not become healthy");
      auto ch = depotd.channel();
      QVERIFY(seedCatalog(ch, 4));
      auto stub = v1::Inventory::NewStub(ch);
      for (int i = 0; i < 20; ++i) {
        const v1::Movement m = receive("sync-ok-" + std::to_string(i), 1);
        const Outcome r = applyOne(*stub, m);
        QVERIFY2(r.ok, r.error.c_str());
        acked.emplace_back(m, r.seq);
      }
      QFile touch(flag);
      QVERIFY(touch.open(QIODevice::WriteOnly));
      touch.close();
      const Outcome u = applyOne(*stub, unknown);
      QVERIFY2(!u.ok && u.error.find("outcome is unknown") != std::string::npos, u.error.c_str());
      QVERIFY(QFile::remove(flag));
      // The disk answers again, but the log's state is unknown: refused
      // for the failed sync (not for anything else), and said to be not
      // applied.
      const Outcome r = applyOne(*stub, refused);
      QVERIFY2(!r.ok && r.error.find("nothing was applied") != std::string::npos &&
                   r.error.find("commit log: syncing") != std::string::npos,
               r.error.c_str());
      depotd.kill9();
    }
    DepotdProcess depotd(dir.path(), 23200);
    QVERIFY2(depotd.start(), "depotd did not restart");
    auto stub = v1::Inventory::NewStub(depotd.channel());
    for (const auto& [m, seq] : acked) {
      const Outcome r = applyOne(*stub, m);
      QVERIFY2(r.ok && r.replayed, r.error.c_str());
      QCOMPARE(r.seq, seq);
    }
    // Its write reached the page cache, which kill -9 keeps: applied once,
    // and its retry is a replay.
    const Outcome u = applyOne(*stub, unknown);
    QVERIFY2(u.ok && u.replayed, u.error.c_str());
    const Outcome again = applyOne(*stub, unknown);
    QVERIFY(again.ok && again.replayed && again.seq == u.seq);
    const Outcome r = applyOne(*stub, refused);
    QVERIFY2(r.ok && !r.replayed, r.error.c_str());
    QCOMPARE(depotd.terminate(), 0);
    auto [code, report] = DepotdProcess::verify(dir.path());
    QVERIFY2(code == 0, qPrintable(report));
  }
};

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  TestCrashRecovery crash;
  TestFailedLogSync sync;
  return QTest::qExec(&crash, argc, argv) | QTest::qExec(&sync, argc, argv);
}
#include "test_crash_recovery.moc"
