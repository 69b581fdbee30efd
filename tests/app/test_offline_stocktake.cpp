// Offline stocktake end to end against a real depotd:
//  1. the console (in-process Session + StocktakeView) connects once and
//     caches the catalog; depotd stops;
//  2. 200 counts are entered through the widget with simulated scanner
//     keystrokes; each is durable in the outbox before it shows as saved;
//  3. depotd starts again; depot-console runs as a child process on the same
//     cache and is SIGKILLed in the middle of flushing the outbox;
//  4. depot-console starts again and finishes the flush;
//  5. the server shows every count applied exactly once: the balance of each
//     (sku, location) equals its count (a second application would double
//     it, since counted_at precedes the first COUNT entry) and History holds
//     exactly one COUNT entry per count id.
#include <signal.h>

#include <QProcess>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QtTest>
#include <map>

#include "depotd_runner.h"
#include "session/session.h"
#include "ui/stocktake_view.h"

using namespace depot;

namespace {

constexpr int kCounts = 200;

// (done, pending) outbox rows of the cache file, read by a separate connection.
std::pair<int, int> outboxState(const QString& path) {
  int done = -1, pending = -1;
  {
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("probe"));
    db.setDatabaseName(path);
    db.setConnectOptions(QStringLiteral("QSQLITE_OPEN_READONLY;QSQLITE_BUSY_TIMEOUT=2000"));
    if (db.open()) {
      QSqlQuery q(db);
      if (q.exec(QStringLiteral("SELECT sum(state = 1), sum(state != 1) FROM outbox WHERE kind='count'")) && q.next()) {
        done = q.value(0).toInt();
        pending = q.value(1).toInt();
      }
    }
    db.close();
  }
  QSqlDatabase::removeDatabase(QStringLiteral("probe"));
  return {done, pending};
}

struct Console {
  QProcess proc;
  void start(const QString& endpoint, const QString& cache, const QString& home, int batch, int delayMs) {
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), home);
    env.insert(QStringLiteral("XDG_DATA_HOME"), home);
    env.insert(QStringLiteral("DEPOT_CONSOLE_FLUSH_BATCH"), QString::number(batch));
    env.insert(QStringLiteral("DEPOT_CONSOLE_FLUSH_DELAY_MS"), QString::number(delayMs));
    proc.setProcessEnvironment(env);
    proc.setStandardOutputFile(QProcess::nullDevice());
    proc.setStandardErrorFile(home + QStringLiteral("/console.log"), QIODevice::Append);
    proc.start(test::binDir() + QStringLiteral("/depot-console"),
               {QStringLiteral("--server"), endpoint, QStringLiteral("--cache"), cache, QStringLiteral("--user"), QStringLiteral("clerk-test")});
  }
  void kill9() {
    ::kill(static_cast<pid_t>(proc.processId()), SIGKILL);
    proc.waitForFinished(10000);
  }
  void stop() {
    if (proc.state() == QProcess::NotRunning) return;
    proc.terminate();
    if (!proc.waitForFinished(10000)) kill9();
  }
};

}  // namespace

class TestOfflineStocktake : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() { session::registerSessionTypes(); }

  void offlineCountsAppliedExactlyOnce() {
    QTemporaryDir dir;
    const QString data = dir.filePath(QStringLiteral("data"));
    QDir().mkpath(data);
    const QString cache = dir.filePath(QStringLiteral("console.sqlite"));
    const int port = test::freePort(24250, 24499);
    QVERIFY(port > 0);
    test::DepotdRunner depotd(data, port);
    QVERIFY2(depotd.start(), "depotd did not start");
    {
      auto c = depotd.client();
      QVERIFY(c && test::seedCatalog(*c, 100));
    }

    // 1-2. Cache the catalog, lose the server, count 200 lines offline.
    {
      session::Session::Options o;
      o.profile.endpoints = {depotd.endpoint()};
      o.profile.user = QStringLiteral("clerk-test");
      o.cacheFile = cache;
      o.initialBackoffMs = 100;
      o.maxBackoffMs = 500;
      o.streams = false;
      session::Session s(o);
      ui::StocktakeView view(&s);
      QSignalSpy catalog(&s, &session::Session::catalogLoaded);
      QSignalSpy status(&s, &session::Session::linkStatus);
      connect(&s, &session::Session::catalogLoaded, &view, &ui::StocktakeView::setCatalog);
      QCOMPARE(s.start(), QString());
      view.show();
      QVERIFY(QTest::qWaitForWindowExposed(&view));
      auto state = [&] { return status.isEmpty() ? session::LinkState::kConnecting : status.last().at(0).value<session::LinkStatus>().state; };
      QTRY_VERIFY_WITH_TIMEOUT(!catalog.isEmpty() && state() == session::LinkState::kOnline, 30000);
      QVERIFY(depotd.terminate());
      QTRY_VERIFY_WITH_TIMEOUT(state() != session::LinkState::kOnline, 20000);

      QLineEdit* f = view.scanField();
      QTRY_VERIFY(f->hasFocus());
      auto type = [&](const QString& text) {
        QTest::keyClicks(f, text);
        QTest::keyClick(f, Qt::Key_Return);
      };
      for (int i = 0; i < kCounts; ++i) {
        if (i == 0) type(QStringLiteral("w1/A"));
        if (i == 100) type(QStringLiteral("w1/B"));
        type(QStringLiteral("S-%1").arg(i % 100));
        type(QString::number(1 + i % 7));
      }
      QCOMPARE(view.model()->lineCount(), kCounts);
      QTRY_COMPARE_WITH_TIMEOUT(view.model()->countIn(session::CountOutcomeKind::kQueued), kCounts, 20000);
      QTRY_VERIFY_WITH_TIMEOUT(status.last().at(0).value<session::LinkStatus>().outboxCount == kCounts, 5000);
    }  // the console closes; the outbox stays on disk
    QCOMPARE(outboxState(cache), std::make_pair(0, kCounts));

    // 3. Server back; the console flushes slowly and is killed mid-flush.
    QVERIFY(depotd.start());
    {
      Console console;
      console.start(depotd.endpoint(), cache, dir.path(), 10, 300);
      QVERIFY(console.proc.waitForStarted(10000));
      QElapsedTimer t;
      t.start();
      int done = 0;
      while (t.elapsed() < 60000) {
        done = outboxState(cache).first;
        if (done >= 30) break;
        QTest::qWait(50);
      }
      console.kill9();
      qInfo("console killed with %d of %d counts marked done", done, kCounts);
      QVERIFY2(done >= 30 && done < kCounts, "the flush was not interrupted in the middle");
    }
    // 4. Start again: the rest (including any line sent but not marked) flushes.
    {
      Console console;
      console.start(depotd.endpoint(), cache, dir.path(), 500, 0);
      QVERIFY(console.proc.waitForStarted(10000));
      QTRY_COMPARE_WITH_TIMEOUT(outboxState(cache), std::make_pair(kCounts, 0), 60000);
      console.stop();
    }

    // 5. Exactly once, checked on the server.
    auto c = depotd.client();
    QVERIFY(c);
    for (int i = 0; i < 100; ++i) {
      const std::string sku = "S-" + std::to_string(i);
      v1::GetStockRequest g;
      g.set_sku(sku);
      auto stock = c->getStock(g);
      QVERIFY(stock.ok());
      std::map<std::string, qint64> onHand;
      for (const auto& b : stock->balances()) onHand[b.location()] = b.on_hand();
      QCOMPARE(onHand["w1/A"], static_cast<qint64>(1 + i % 7));
      QCOMPARE(onHand["w1/B"], static_cast<qint64>(1 + (i + 100) % 7));
      v1::HistoryRequest h;
      h.set_sku(sku);
      h.set_page_size(1000);
      auto hist = c->history(h);
      QVERIFY(hist.ok());
      int counts = 0;
      for (const auto& e : hist->entries()) counts += e.kind() == v1::MOVEMENT_KIND_COUNT;
      QCOMPARE(counts, 2);  // one per location
    }
    depotd.terminate();
  }
};

QTEST_MAIN(TestOfflineStocktake)
#include "test_offline_stocktake.moc"
