// depotctl against a real depotd: the command-line contract that scripts and
// outside checks rely on (exit codes 0/1/2/3, --json keys, import with a
// per-row error report, holds, counts, retry with --request-id).
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include "depotd_process.h"

using namespace depot::test;

namespace {
struct Run {
  int code = -1;
  QByteArray out, err;
  QJsonObject json() const { return QJsonDocument::fromJson(out).object(); }
};
}  // namespace

class TestDepotctlE2e : public QObject {
  Q_OBJECT
  QTemporaryDir m_dir;
  std::unique_ptr<DepotdProcess> m_depotd;

  Run ctl(QStringList args) {
    QProcess p;
    p.setProgram(binary("depotctl"));
    p.setArguments(QStringList{"--server", QString::fromStdString(m_depotd->endpoint())} + args);
    p.start();
    Run r;
    if (!p.waitForFinished(60000)) {
      p.kill();
      p.waitForFinished(5000);
      return r;
    }
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
  }
  QString writeFile(const QString& name, const QByteArray& content) {
    QFile f(m_dir.filePath(name));
    f.open(QIODevice::WriteOnly);
    f.write(content);
    return f.fileName();
  }

 private slots:
  void initTestCase() {
    QVERIFY(m_dir.isValid());
    m_depotd = std::make_unique<DepotdProcess>(m_dir.filePath("data"), 23600);
    QVERIFY(m_depotd->start());
  }

  void importWithRowErrors() {
    auto locs = writeFile("locations.csv", "warehouse,location\neast,A-01\neast,A-02\nwest,B-01\n");
    auto r = ctl({"import", "locations", locs, "--json"});
    QCOMPARE(r.code, 0);
    QCOMPARE(r.json()["imported"].toInt(), 3);
    auto items = writeFile("items.csv",
                           "sku,description,unit,reorder_point,reorder_qty\n"
                           "WID-1,\"Widget, large\",ea,5,20\n"
                           "WID-2,Widget small,ea,notanumber,20\n"
                           "WID-3,Widget tiny,box,0,0\n");
    r = ctl({"import", "items", items, "--json"});
    QCOMPARE(r.code, 1);  // one row refused
    const auto j = r.json();
    QCOMPARE(j["imported"].toInt(), 2);
    QCOMPARE(j["errors"].toArray().size(), 1);
    QCOMPARE(j["errors"].toArray()[0].toObject()["line"].toInt(), 3);
    auto bad = writeFile("bad.csv", "sku,desc\nX,Y\n");
    QCOMPARE(ctl({"import", "items", bad}).code, 2);  // wrong header
  }

  void movementsAndStockJson() {
    QCOMPARE(ctl({"receive", "WID-1", "east/A-01", "100"}).code, 0);
    QCOMPARE(ctl({"ship", "WID-1", "east/A-01", "10"}).code, 0);
    QCOMPARE(ctl({"transfer", "WID-1", "east/A-01", "west/B-01", "30"}).code, 0);
    QCOMPARE(ctl({"adjust", "WID-1", "west/B-01", "-2", "--reason", "damaged"}).code, 0);
    auto r = ctl({"stock", "WID-1", "--json"});
    QCOMPARE(r.code, 0);
    QMap<QString, QJsonObject> rows;
    for (const auto& v : r.json()["balances"].toArray()) rows[v.toObject()["location"].toString()] = v.toObject();
    QCOMPARE(rows["east/A-01"]["on_hand"].toInteger(), 60);
    QCOMPARE(rows["east/A-01"]["reserved"].toInteger(), 0);
    QCOMPARE(rows["east/A-01"]["available"].toInteger(), 60);
    QCOMPARE(rows["west/B-01"]["on_hand"].toInteger(), 28);
    // Refused by the server: exit 1, nothing changes.
    r = ctl({"ship", "WID-1", "east/A-01", "61", "--json"});
    QCOMPARE(r.code, 1);
    QCOMPARE(r.json()["code"].toString(), QString("FAILED_PRECONDITION"));
    // Usage errors: exit 2 before anything is sent.
    QCOMPARE(ctl({"ship", "WID-1", "east/A-01", "-5"}).code, 2);
    QCOMPARE(ctl({"ship", "WID-1", "east/A-01", "abc"}).code, 2);
    QCOMPARE(ctl({"adjust", "WID-1", "east/A-01", "5"}).code, 2);  // --reason required
    QCOMPARE(ctl({"receive", "NOPE", "east/A-01", "1"}).code, 1);   // unknown SKU: refused
    r = ctl({"stock", "WID-1", "--json"});
    QCOMPARE(r.json()["total"].toObject()["on_hand"].toInteger(), 88);
  }

  void retryWithRequestIdAppliesOnce() {
    auto r1 = ctl({"receive", "WID-3", "east/A-02", "7", "--request-id", "fixed-1", "--json"});
    QCOMPARE(r1.code, 0);
    auto r2 = ctl({"receive", "WID-3", "east/A-02", "7", "--request-id", "fixed-1", "--json"});
    QCOMPARE(r2.code, 0);
    QVERIFY(r2.json()["replayed"].toBool());
    QCOMPARE(r2.json()["seq"].toInteger(), r1.json()["seq"].toInteger());
    auto s = ctl({"stock", "WID-3", "--json"});
    QCOMPARE(s.json()["total"].toObject()["on_hand"].toInteger(), 7);
    // Same id, different payload: refused.
    QCOMPARE(ctl({"receive", "WID-3", "east/A-02", "8", "--request-id", "fixed-1"}).code, 1);
  }

  void holdsAndCounts() {
    QCOMPARE(ctl({"reserve", "ORD-1", "WID-1", "east/A-01", "5", "--ttl", "600"}).code, 0);
    auto s = ctl({"stock", "WID-1", "--json"});
    QCOMPARE(s.json()["total"].toObject()["reserved"].toInteger(), 5);
    QCOMPARE(ctl({"commit", "ORD-1"}).code, 0);
    QCOMPARE(ctl({"commit", "ORD-1"}).code, 1);  // closed
    QCOMPARE(ctl({"release", "NO-ORDER"}).code, 1);
    // A count with a large variance waits; a supervisor approves it.
    auto c = ctl({"counts", "submit", "east/A-01", "WID-1", "20", "--json"});
    QCOMPARE(c.code, 0);
    const auto line = c.json()["results"].toArray()[0].toObject();
    QCOMPARE(line["state"].toString(), QString("pending_approval"));
    const QString id = line["count_id"].toString();
    auto pending = ctl({"counts", "pending", "--json"});
    QVERIFY(pending.out.contains(id.toUtf8()));
    QCOMPARE(ctl({"counts", "approve", id, "--note", "recounted"}).code, 0);
    s = ctl({"stock", "WID-1", "--json"});
    QMap<QString, qint64> on;
    for (const auto& v : s.json()["balances"].toArray())
      on[v.toObject()["location"].toString()] = v.toObject()["on_hand"].toInteger();
    QCOMPARE(on["east/A-01"], 20);
    auto alerts = ctl({"alerts", "list", "--all", "--json"});
    QCOMPARE(alerts.code, 0);
  }

  void unreachableExitsThree() {
    QProcess p;
    p.start(binary("depotctl"), {"--server", "127.0.0.1:1", "--timeout", "1", "stock", "WID-1"});
    QVERIFY(p.waitForFinished(60000));
    QCOMPARE(p.exitCode(), 3);
  }

  void cleanupTestCase() {
    QCOMPARE(m_depotd->terminate(), 0);
    auto [code, report] = DepotdProcess::verify(m_dir.filePath("data"));
    QVERIFY2(code == 0, qPrintable(report));
  }
};

QTEST_GUILESS_MAIN(TestDepotctlE2e)
#include "test_depotctl_e2e.moc"
