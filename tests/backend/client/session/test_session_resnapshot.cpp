// Against two real depotd processes: a cache written against one ledger
// (depotd on data dir A) is opened by a session connected to a depotd on a
// fresh data dir (ledger B). The cached cursor belongs to another ledger, so
// the session must re-snapshot: it serves the cached rows first (and no
// empty table meanwhile), reports snapshot progress, then replaces the
// cached balances with the server's, in its signals and in the cache file.
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>
#include <map>
#include <memory>

#include "client/request_id.h"
#include "depotd_runner.h"
#include "session/cache.h"
#include "session/session.h"

using namespace depot;
using namespace depot::session;

namespace {

// `n` receipts of 1 unit over S-0..S-49 at w1/A, starting at S-offset.
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

using Balances = std::map<QString, qint64>;  // "sku@location" -> on hand

Balances serverBalances(client::Client& c) {
  Balances out;
  for (int i = 0; i < 50; ++i) {
    v1::GetStockRequest g;
    g.set_sku("S-" + std::to_string(i));
    auto s = c.getStock(g);
    if (!s.ok()) return {};
    for (const auto& b : s->balances())
      if (b.on_hand() != 0) out[QString::fromStdString(b.sku() + "@" + b.location())] = b.on_hand();
  }
  return out;
}

Balances balancesOf(const QVector<StockRowValue>& rows) {
  Balances out;
  for (const auto& r : rows)
    if (r.onHand != 0) out[r.sku + '@' + r.location] = r.onHand;
  return out;
}

Session::Options options(const QString& endpoint, const QString& cacheFile) {
  Session::Options o;
  o.profile.endpoints = {endpoint};
  o.cacheFile = cacheFile;
  o.initialBackoffMs = 100;
  o.maxBackoffMs = 500;
  o.streams = false;
  return o;
}

bool isOnline(const QSignalSpy& status) {
  return !status.isEmpty() && status.last().at(0).value<LinkStatus>().state == LinkState::kOnline;
}

}  // namespace

class TestSessionResnapshot : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() { registerSessionTypes(); }

  void cursorFromAnotherLedgerResnapshots() {
    QTemporaryDir dir;
    const QString cacheFile = dir.filePath(QStringLiteral("cache.sqlite"));

    // Ledger A: every SKU gets 2 units; the session caches it with its cursor.
    Balances ledgerA;
    {
      const int port = test::freePort(24250, 24374);
      QVERIFY(port > 0);
      QDir().mkpath(dir.filePath(QStringLiteral("a")));
      test::DepotdRunner depotd(dir.filePath(QStringLiteral("a")), port);
      QVERIFY2(depotd.start(), "depotd (ledger A) did not start");
      auto c = depotd.client();
      QVERIFY(c);
      QVERIFY(test::seedCatalog(*c, 50));
      QVERIFY(receive(*c, 100, 0));
      ledgerA = serverBalances(*c);
      QCOMPARE(ledgerA.size(), std::size_t{50});
      {
        Session session(options(depotd.endpoint(), cacheFile));
        QSignalSpy status(&session, &Session::linkStatus);
        QCOMPARE(session.start(), QString());
        QTRY_VERIFY_WITH_TIMEOUT(isOnline(status), 30000);
        QThread::msleep(1500);  // a heartbeat: the cursor is saved
      }
      QVERIFY(depotd.terminate());
    }
    std::string ledgerIdA;
    {
      Cache cache(cacheFile);
      QCOMPARE(cache.open(), QString());
      auto contents = cache.run<Cache::Contents>([](QSqlDatabase& db) { return Cache::loadAll(db); });
      QVERIFY(contents.cursor.has_value());
      ledgerIdA = contents.cursor->ledger_id;
      QVERIFY(!ledgerIdA.empty());
      QCOMPARE(balancesOf(contents.rows), ledgerA);
    }

    // Ledger B (fresh data dir): S-0..S-29 get 1 unit, S-30..S-49 none.
    const int port = test::freePort(24375, 24499);
    QVERIFY(port > 0);
    QDir().mkpath(dir.filePath(QStringLiteral("b")));
    test::DepotdRunner depotd(dir.filePath(QStringLiteral("b")), port);
    QVERIFY2(depotd.start(), "depotd (ledger B) did not start");
    auto c = depotd.client();
    QVERIFY(c);
    QVERIFY(test::seedCatalog(*c, 50));
    QVERIFY(receive(*c, 30, 0));
    const Balances ledgerB = serverBalances(*c);
    QCOMPARE(ledgerB.size(), std::size_t{30});
    QVERIFY(ledgerA != ledgerB);

    // One ordered log of what the session tells the UI.
    struct Event {
      enum Kind { kCacheRows, kSnapshotRows, kProgress } kind;
      Balances rows;
      int progress = -1;
    };
    std::vector<Event> events;
    auto session = std::make_unique<Session>(options(depotd.endpoint(), cacheFile));
    QSignalSpy status(session.get(), &Session::linkStatus);
    connect(session.get(), &Session::stockReplaced, this, [&](const QVector<StockRowValue>& rows, bool fromCache) {
      events.push_back({fromCache ? Event::kCacheRows : Event::kSnapshotRows, balancesOf(rows), -1});
    });
    connect(session.get(), &Session::linkStatus, this, [&](const LinkStatus& s) {
      if (s.snapshotProgress >= 0) events.push_back({Event::kProgress, {}, s.snapshotProgress});
    });
    QCOMPARE(session->start(), QString());
    auto snapshotted = [&] {
      return std::any_of(events.begin(), events.end(), [](const Event& e) { return e.kind == Event::kSnapshotRows; });
    };
    QTRY_VERIFY_WITH_TIMEOUT(snapshotted(), 60000);
    QTRY_VERIFY_WITH_TIMEOUT(isOnline(status), 30000);

    // The cached rows come first, and stay the table until the snapshot:
    // no empty or partial table in between, progress reported meanwhile.
    QVERIFY(!events.empty());
    QCOMPARE(events.front().kind, Event::kCacheRows);
    QCOMPARE(events.front().rows, ledgerA);
    int progressReports = 0, snapshots = 0;
    for (std::size_t i = 1; i < events.size(); ++i) {
      const auto& e = events[i];
      if (e.kind == Event::kCacheRows) QFAIL("the cached rows were replaced by another cache load");
      if (e.kind == Event::kProgress) {
        QVERIFY(e.progress >= 0 && e.progress <= 256);
        if (snapshots == 0) ++progressReports;
      }
      if (e.kind == Event::kSnapshotRows) {
        ++snapshots;
        QCOMPARE(e.rows, ledgerB);
      }
    }
    qInfo("re-snapshot: %d progress report(s) before the snapshot rows, %d snapshot(s)", progressReports, snapshots);
    QVERIFY(progressReports >= 1);
    QCOMPARE(snapshots, 1);

    // The cache now holds ledger B: its balances (A's rows gone) and cursor.
    QThread::msleep(1500);  // a heartbeat: the cursor is saved
    session.reset();
    Cache cache(cacheFile);
    QCOMPARE(cache.open(), QString());
    auto contents = cache.run<Cache::Contents>([](QSqlDatabase& db) { return Cache::loadAll(db); });
    QCOMPARE(balancesOf(contents.rows), ledgerB);
    QVERIFY(contents.cursor.has_value());
    QVERIFY(contents.cursor->ledger_id != ledgerIdA);
    QVERIFY(!contents.cursor->ledger_id.empty());
    depotd.terminate();
  }
};

QTEST_GUILESS_MAIN(TestSessionResnapshot)
#include "test_session_resnapshot.moc"
