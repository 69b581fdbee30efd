// Against a real depotd: the session snapshots, then follows Watch into its
// cache and signals; across a depotd restart (SIGTERM, then SIGKILL) Watch
// resumes from its cursor with no gap and no duplicate, and the cached
// balances equal the server's. A restarted session resumes from the cached
// cursor, again without gaps or duplicates.
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>
#include <map>

#include "client/request_id.h"
#include "depotd_runner.h"
#include "session/cache.h"
#include "session/session.h"

using namespace depot;
using namespace depot::session;

namespace {

// Applies `n` receipts of 1 unit spread over S-0..S-49 at w1/A.
bool receive(client::Client& c, int n, int offset) {
  v1::ApplyRequest req;
  for (int i = 0; i < n; ++i) {
    auto* m = req.add_movements();
    m->set_request_id(client::newRequestId());
    m->set_kind(v1::MOVEMENT_KIND_RECEIVE);
    m->set_sku("S-" + std::to_string((i + offset) % 50));
    m->set_location("w1/A");
    m->set_quantity(1);
  }
  auto r = c.apply(req);
  if (!r.ok()) return false;
  for (const auto& res : r->results())
    if (res.code() != 0) return false;
  return true;
}

struct Collector {
  std::map<quint32, quint64> last;  // shard -> last seq
  int gaps = 0, duplicates = 0, total = 0;
  void add(const QVector<LedgerEntryValue>& entries) {
    for (const auto& e : entries) {
      ++total;
      auto it = last.find(e.shard);
      if (it != last.end()) {
        if (e.seq <= it->second) ++duplicates;
        else if (e.seq != it->second + 1) ++gaps;
      }
      last[e.shard] = std::max(last[e.shard], e.seq);
    }
  }
};

}  // namespace

class TestSessionWatchResume : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() { registerSessionTypes(); }

  void resumesAcrossRestartWithoutGapsOrDuplicates() {
    QTemporaryDir dir;
    const int port = test::freePort(24000, 24249);
    QVERIFY(port > 0);
    test::DepotdRunner depotd(dir.filePath(QStringLiteral("data")), port);
    QDir().mkpath(dir.filePath(QStringLiteral("data")));
    QVERIFY2(depotd.start(), "depotd did not start");
    auto c = depotd.client();
    QVERIFY(c);
    QVERIFY(test::seedCatalog(*c, 50));
    QVERIFY(receive(*c, 100, 0));  // before the snapshot

    Session::Options o;
    o.profile.endpoints = {depotd.endpoint()};
    o.cacheFile = dir.filePath(QStringLiteral("cache.sqlite"));
    o.initialBackoffMs = 100;
    o.maxBackoffMs = 500;
    o.streams = false;
    Collector seen;
    int expectedTotal = 0;
    {
      Session session(o);
      QSignalSpy status(&session, &Session::linkStatus);
      connect(&session, &Session::ledgerEntries, this, [&](const QVector<LedgerEntryValue>& e) { seen.add(e); });
      QCOMPARE(session.start(), QString());
      auto online = [&] { return !status.isEmpty() && status.last().at(0).value<LinkStatus>().state == LinkState::kOnline; };
      QTRY_VERIFY_WITH_TIMEOUT(online(), 30000);
      QVERIFY(receive(*c, 200, 1));
      expectedTotal += 200;
      QTRY_COMPARE_WITH_TIMEOUT(seen.total, expectedTotal, 20000);
      // Graceful restart.
      QVERIFY(depotd.terminate());
      QTRY_VERIFY_WITH_TIMEOUT(!online(), 20000);
      QVERIFY(depotd.start());
      c = depotd.client();
      QVERIFY(receive(*c, 150, 2));
      expectedTotal += 150;
      QTRY_COMPARE_WITH_TIMEOUT(seen.total, expectedTotal, 30000);
      QTRY_VERIFY_WITH_TIMEOUT(online(), 30000);
      // Crash restart.
      depotd.kill();
      QVERIFY(depotd.start());
      c = depotd.client();
      QVERIFY(receive(*c, 150, 3));
      expectedTotal += 150;
      QTRY_COMPARE_WITH_TIMEOUT(seen.total, expectedTotal, 30000);
      QThread::msleep(1500);  // a heartbeat: the cursor is saved
    }
    // The console restarts: it resumes from the cached cursor.
    {
      Session session(o);
      QSignalSpy status(&session, &Session::linkStatus);
      connect(&session, &Session::ledgerEntries, this, [&](const QVector<LedgerEntryValue>& e) { seen.add(e); });
      QCOMPARE(session.start(), QString());
      QTRY_VERIFY_WITH_TIMEOUT(!status.isEmpty() && status.last().at(0).value<LinkStatus>().state == LinkState::kOnline, 30000);
      QVERIFY(receive(*c, 100, 4));
      expectedTotal += 100;
      QTRY_COMPARE_WITH_TIMEOUT(seen.total, expectedTotal, 20000);
    }
    qInfo("entries seen %d, gaps %d, duplicates %d", seen.total, seen.gaps, seen.duplicates);
    QCOMPARE(seen.gaps, 0);
    QCOMPARE(seen.duplicates, 0);

    // The cache holds the server's balances.
    Cache cache(o.cacheFile);
    QCOMPARE(cache.open(), QString());
    auto contents = cache.run<Cache::Contents>([](QSqlDatabase& db) { return Cache::loadAll(db); });
    std::map<std::string, qint64> cached;
    for (const auto& r : contents.rows) cached[(r.sku + '@' + r.location).toStdString()] = r.onHand;
    for (int i = 0; i < 50; ++i) {
      v1::GetStockRequest g;
      g.set_sku("S-" + std::to_string(i));
      auto s = c->getStock(g);
      QVERIFY(s.ok());
      for (const auto& b : s->balances()) {
        QCOMPARE(cached[b.sku() + "@" + b.location()], static_cast<qint64>(b.on_hand()));
      }
    }
    depotd.terminate();
  }
};

QTEST_GUILESS_MAIN(TestSessionWatchResume)
#include "test_session_watch_resume.moc"
