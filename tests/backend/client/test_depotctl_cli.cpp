// depotctl's command-line contract where no server is needed: usage errors
// exit 2 before anything is sent, an unreachable server exits 3 quickly.
// Runs the built binary ($DEPOT_BIN_DIR/depotctl) through QProcess.
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest/QtTest>

namespace {

struct Run {
  int exit_code = -1;
  QString out;
  QString err;
  qint64 ms = 0;
};

QString depotctl() { return qEnvironmentVariable("DEPOT_BIN_DIR") + "/depotctl"; }

Run run(const QStringList& args, int timeout_ms = 20000) {
  QProcess process;
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.remove("DEPOT_SERVER");
  env.insert("USER", "tester");
  process.setProcessEnvironment(env);
  QElapsedTimer timer;
  timer.start();
  process.start(depotctl(), args);
  Run r;
  if (!process.waitForStarted(5000)) return r;
  process.closeWriteChannel();
  if (!process.waitForFinished(timeout_ms)) {
    process.kill();
    process.waitForFinished(2000);
    return r;
  }
  r.ms = timer.elapsed();
  r.exit_code = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
  r.out = QString::fromUtf8(process.readAllStandardOutput());
  r.err = QString::fromUtf8(process.readAllStandardError());
  return r;
}

// A server address nothing listens on: usage checks must come before any I/O,
// so a usage error never turns into exit 3.
const QString kNowhere = "--server=127.0.0.1:1";

}  // namespace

class TestDepotctlCli : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir m_dir;

  QString writeFile(const QString& name, const QByteArray& content) {
    const QString path = m_dir.filePath(name);
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly)) return {};
    f.write(content);
    return path;
  }

 private slots:
  void initTestCase() {
    QVERIFY2(QFileInfo(depotctl()).isExecutable(), qPrintable("missing " + depotctl()));
    QVERIFY(m_dir.isValid());
  }

  void helpExitsZero() {
    const Run r = run({"--help"});
    QCOMPARE(r.exit_code, 0);
    QVERIFY(r.out.contains("receive"));
    QCOMPARE(run({"receive", "--help"}).exit_code, 0);
  }

  void usageErrorsExitTwo_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("mentions");
    QTest::newRow("no command") << QStringList{} << "";
    QTest::newRow("unknown command") << QStringList{"frobnicate"} << "";
    QTest::newRow("unknown option") << QStringList{"stock", "X", "--bogus"} << "";
    QTest::newRow("missing args") << QStringList{"receive", "SKU-1"} << "";
    QTest::newRow("non-numeric qty")
        << QStringList{"receive", "SKU-1", "east/A-01", "ten"} << "QTY";
    QTest::newRow("zero qty") << QStringList{"ship", "SKU-1", "east/A-01", "0"} << "QTY";
    QTest::newRow("negative qty") << QStringList{"receive", "SKU-1", "east/A-01", "-4"} << "QTY";
    QTest::newRow("fractional qty") << QStringList{"receive", "SKU-1", "east/A-01", "1.5"} << "QTY";
    QTest::newRow("overflow qty") << QStringList{"receive", "SKU-1", "east/A-01",
                                                 "99999999999999999999999"}
                                  << "out of range";
    QTest::newRow("qty over limit")
        << QStringList{"receive", "SKU-1", "east/A-01", "1000000000001"} << "out of range";
    QTest::newRow("bad location") << QStringList{"receive", "SKU-1", "A-01", "1"} << "LOCATION";
    QTest::newRow("long sku") << QStringList{"receive", QString(65, 'S'), "east/A", "1"} << "SKU";
    QTest::newRow("same locations")
        << QStringList{"transfer", "SKU-1", "east/A", "east/A", "1"} << "TO_LOCATION";
    QTest::newRow("adjust without reason")
        << QStringList{"adjust", "SKU-1", "east/A", "-2"} << "--reason";
    QTest::newRow("adjust zero") << QStringList{"adjust", "SKU-1", "east/A", "0", "--reason", "x"}
                                 << "DELTA";
    QTest::newRow("reserve without lines") << QStringList{"reserve", "ORD-1"} << "line";
    QTest::newRow("reserve bad line")
        << QStringList{"reserve", "ORD-1", "--line", "SKU:east/A"} << "--line";
    QTest::newRow("reserve partial positional") << QStringList{"reserve", "ORD-1", "SKU-1"} << "";
    QTest::newRow("reserve bad ttl")
        << QStringList{"reserve", "ORD-1", "SKU-1", "east/A", "1", "--ttl", "soon"} << "";
    QTest::newRow("commit bad line")
        << QStringList{"commit", "ORD-1", "--line", "S:east/A:x"} << "--line";
    QTest::newRow("balance-at bad time")
        << QStringList{"balance-at", "SKU-1", "east/A", "yesterday"} << "TIME";
    QTest::newRow("balance-at no zone")
        << QStringList{"balance-at", "SKU-1", "east/A", "2026-11-28T10:00:00"} << "zone";
    QTest::newRow("history bad from") << QStringList{"history", "SKU-1", "--from", "x"} << "--from";
    QTest::newRow("history reversed")
        << QStringList{"history", "SKU-1", "--from", "2026-02-01", "--to", "2026-01-01"} << "--to";
    QTest::newRow("list bad limit") << QStringList{"list", "--limit", "-1"} << "--limit";
    QTest::newRow("counts negative")
        << QStringList{"counts", "submit", "east/A", "SKU-1", "-1"} << "counted";
    QTest::newRow("counts nothing") << QStringList{"counts", "submit"} << "";
    QTest::newRow("alerts ack not a number") << QStringList{"alerts", "ack", "abc"} << "ALERT_ID";
    QTest::newRow("silence bad duration")
        << QStringList{"alerts", "silence", "--duration", "2x", "--comment", "c"} << "--duration";
    QTest::newRow("silence bad kind")
        << QStringList{"alerts", "silence", "--kind", "fire", "--duration", "1h", "--comment", "c"}
        << "--kind";
    QTest::newRow("silence without comment")
        << QStringList{"alerts", "silence", "--duration", "1h"} << "";
    QTest::newRow("demo bad rate") << QStringList{"demo-traffic", "--rate", "0"} << "--rate";
    QTest::newRow("import missing file")
        << QStringList{"import", "items", "/nonexistent/x.csv"} << "";
    QTest::newRow("bad timeout") << QStringList{"--timeout", "0", "stock", "SKU-1"} << "--timeout";
  }

  void usageErrorsExitTwo() {
    QFETCH(QStringList, args);
    QFETCH(QString, mentions);
    args.prepend(kNowhere);
    const Run r = run(args);
    QVERIFY2(r.exit_code == 2,
             qPrintable(QString("exit %1, stderr: %2").arg(r.exit_code).arg(r.err)));
    if (!mentions.isEmpty()) QVERIFY2(r.err.contains(mentions), qPrintable(r.err));
  }

  void badServerAddressIsUsage() {
    const Run r = run({"--server", "no-port-here", "stock", "SKU-1"});
    QCOMPARE(r.exit_code, 2);
    QVERIFY(r.err.contains("--server"));
  }

  void importBadHeaderIsUsage() {
    const QString path = writeFile("bad_header.csv", "sku,desc,unit\nA,b,ea\n");
    const Run r = run({kNowhere, "import", "items", path});
    QCOMPARE(r.exit_code, 2);
    QVERIFY2(r.err.contains("bad header"), qPrintable(r.err));
    const QString loc = writeFile("bad_loc_header.csv", "warehouse,bin\neast,A\n");
    QCOMPARE(run({kNowhere, "import", "locations", loc}).exit_code, 2);
    const QString quoting = writeFile(
        "bad_quote.csv", "sku,description,unit,reorder_point,reorder_qty\n\"A,b,ea,1,1\n");
    QCOMPARE(run({kNowhere, "import", "items", quoting}).exit_code, 2);
  }

  void unreachableExitsThreeQuickly_data() {
    QTest::addColumn<QStringList>("args");
    QTest::newRow("stock") << QStringList{"stock", "SKU-1"};
    QTest::newRow("receive") << QStringList{"receive", "SKU-1", "east/A-01", "5"};
    QTest::newRow("adjust") << QStringList{"adjust", "SKU-1", "east/A-01", "-5", "--reason", "r"};
    QTest::newRow("reserve") << QStringList{"reserve", "ORD-1", "SKU-1", "east/A-01", "2"};
    QTest::newRow("list") << QStringList{"list"};
    QTest::newRow("alerts") << QStringList{"alerts", "list"};
    QTest::newRow("cluster") << QStringList{"cluster", "status"};
    QTest::newRow("health") << QStringList{"health"};
    QTest::newRow("watch") << QStringList{"watch", "--duration", "1s"};
  }

  void unreachableExitsThreeQuickly() {
    QFETCH(QStringList, args);
    args.prepend("127.0.0.1:1");
    args.prepend("--server");
    const Run r = run(args);
    if (args.contains("watch")) {
      // watch keeps reconnecting until its --duration ends: exit 0, stderr says why.
      QCOMPARE(r.exit_code, 0);
      QVERIFY2(r.err.contains("reconnecting"), qPrintable(r.err));
      return;
    }
    QVERIFY2(r.exit_code == 3,
             qPrintable(QString("exit %1, stderr: %2").arg(r.exit_code).arg(r.err)));
    QVERIFY2(r.ms < 10000, qPrintable(QString("took %1 ms").arg(r.ms)));
    QVERIFY(r.err.contains("unreachable"));
  }

  void unreachableMutationPrintsRequestIdForRetry() {
    const Run r = run({"--server", "127.0.0.1:1", "receive", "SKU-1", "east/A-01", "5",
                       "--request-id", "my-retry-id-1"});
    QCOMPARE(r.exit_code, 3);
    QVERIFY2(r.err.contains("--request-id my-retry-id-1"), qPrintable(r.err));
  }

  void unreachableJson() {
    const Run r = run({"--server", "127.0.0.1:1", "--json", "ship", "SKU-1", "east/A-01", "1",
                       "--request-id", "rid-json"});
    QCOMPARE(r.exit_code, 3);
    const auto doc = QJsonDocument::fromJson(r.out.toUtf8());
    QVERIFY2(doc.isObject(), qPrintable(r.out));
    QCOMPARE(doc.object().value("ok").toBool(true), false);
    QCOMPARE(doc.object().value("request_id").toString(), QString("rid-json"));
    QCOMPARE(doc.object().value("error").toObject().value("class").toString(),
             QString("unreachable"));
    QCOMPARE(doc.object().value("error").toObject().value("code").toString(),
             QString("UNAVAILABLE"));
  }

  void globalOptionsAfterSubcommand() {
    // --json and --server are accepted after the subcommand too.
    const Run r = run({"stock", "SKU-1", "--json", "--server", "127.0.0.1:1"});
    QCOMPARE(r.exit_code, 3);
    QVERIFY(QJsonDocument::fromJson(r.out.toUtf8()).isObject());
  }

  void serverFromEnvironment() {
    QProcess process;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("DEPOT_SERVER", "127.0.0.1:1");
    process.setProcessEnvironment(env);
    process.start(depotctl(), {"stock", "SKU-1"});
    QVERIFY(process.waitForFinished(20000));
    QCOMPARE(process.exitCode(), 3);
    QVERIFY(QString::fromUtf8(process.readAllStandardError()).contains("127.0.0.1:1"));
  }
};

QTEST_GUILESS_MAIN(TestDepotctlCli)
#include "test_depotctl_cli.moc"
