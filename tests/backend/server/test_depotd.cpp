// The depotd binary: command-line contract and exit codes, start-up with a
// config file and with no configuration at all, serving gRPC and /metrics,
// "port in use", graceful shutdown on SIGTERM/SIGINT, and --verify.
#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <signal.h>

#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>
#include <random>

#include "depot/v1/inventory.grpc.pb.h"

using namespace std::chrono_literals;

namespace {

int randomPort() {
  static std::mt19937 rng(std::random_device{}());
  return std::uniform_int_distribution<int>(21000, 21999)(rng);
}

QString depotd() {
  const QByteArray dir = qgetenv("DEPOT_BIN_DIR");
  return QString::fromLocal8Bit(dir) + "/depotd";
}

struct Run {
  int exitCode = -1;
  QByteArray out, err;
};

Run runToEnd(const QStringList& args, int timeoutMs = 30000) {
  QProcess p;
  p.start(depotd(), args);
  Run r;
  if (!p.waitForFinished(timeoutMs)) {
    p.kill();
    p.waitForFinished(5000);
    return r;
  }
  r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
  r.out = p.readAllStandardOutput();
  r.err = p.readAllStandardError();
  return r;
}

// Waits until `needle` appears on the process's stderr (or it exits).
bool waitForLog(QProcess& p, QByteArray& log, const QByteArray& needle, int timeoutMs = 30000) {
  QElapsedTimer timer;
  timer.start();
  while (!log.contains(needle) && timer.elapsed() < timeoutMs) {
    if (p.state() == QProcess::NotRunning) {
      log += p.readAllStandardError();
      return log.contains(needle);
    }
    p.waitForReadyRead(200);
    log += p.readAllStandardError();
  }
  return log.contains(needle);
}

bool stopWith(QProcess& p, int sig, QByteArray& log) {
  ::kill(static_cast<pid_t>(p.processId()), sig);
  const bool done = p.waitForFinished(20000);
  log += p.readAllStandardError();
  return done;
}

}  // namespace

class TestDepotd : public QObject {
  Q_OBJECT

  // Starts depotd with `extra` args on random ports (retried on conflict).
  // Returns false if it never got listening.
  bool startDaemon(QProcess& p, QByteArray& log, const QStringList& extra, int& grpcPort,
                   int& metricsPort) {
    for (int attempt = 0; attempt < 10; ++attempt) {
      grpcPort = randomPort();
      metricsPort = randomPort();
      if (grpcPort == metricsPort) continue;
      log.clear();
      QStringList args = extra;
      args << "--listen" << QString("127.0.0.1:%1").arg(grpcPort) << "--metrics-listen"
           << QString("127.0.0.1:%1").arg(metricsPort);
      p.start(depotd(), args);
      if (!p.waitForStarted(10000)) return false;
      if (waitForLog(p, log, "event=listening what=grpc")) return true;
      p.waitForFinished(10000);
      if (!log.contains("cannot listen")) {
        qWarning("depotd did not start:\n%s", log.constData());
        return false;
      }
    }
    return false;
  }

 private slots:
  void initTestCase() {
    QVERIFY2(QFile::exists(depotd()), qPrintable(depotd() + " missing (DEPOT_BIN_DIR)"));
  }

  void usageContract() {
    Run help = runToEnd({"--help"});
    QCOMPARE(help.exitCode, 0);
    for (const char* flag : {"--data-dir", "--listen", "--metrics-listen", "--config", "--writers",
                             "--sync", "--node-id", "--log-level", "--verify"}) {
      QVERIFY2(help.out.contains(flag), flag);
    }
    for (const QStringList& bad :
         {QStringList{"--bogus"}, QStringList{"--writers", "0"}, QStringList{"--sync", "fast"},
          QStringList{"--verify"}, QStringList{"--listen", "7070"}}) {
      Run r = runToEnd(bad);
      QVERIFY2(r.exitCode == 2, qPrintable(bad.join(' ')));
      QVERIFY(r.err.contains("Usage:"));
    }
    QTemporaryDir dir;
    Run missing = runToEnd({"--verify", "--data-dir", dir.filePath("none")});
    QCOMPARE(missing.exitCode, 2);
  }

  void servesAndShutsDownOnSigterm() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    // The data directory comes from a config file; the ports from flags.
    const QString config = dir.filePath("depotd.toml");
    QFile f(config);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QString("data-dir = \"%1\"\nnode-id = \"proc-node\"\nsync = \"normal\"\n")
                .arg(dir.filePath("data"))
                .toUtf8());
    f.close();
    QProcess p;
    QByteArray log;
    int grpcPort = 0, metricsPort = 0;
    QVERIFY(startDaemon(p, log, {"--config", config}, grpcPort, metricsPort));
    QVERIFY(QFile::exists(dir.filePath("data/depot.db")));
    QVERIFY(log.contains("event=recovered shards=256"));
    QVERIFY(log.contains("node_id=proc-node"));

    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(grpcPort),
                                       grpc::InsecureChannelCredentials());
    auto stub = depot::v1::Inventory::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 10s);
    depot::v1::GetStockRequest req;
    req.set_sku("NOPE");
    depot::v1::StockResponse resp;
    QCOMPARE(stub->GetStock(&ctx, req, &resp).error_code(), grpc::StatusCode::NOT_FOUND);

    httplib::Client http("127.0.0.1", metricsPort);
    http.set_connection_timeout(5);
    http.set_read_timeout(5);
    auto res = http.Get("/metrics");
    QVERIFY(res);
    QCOMPARE(res->status, 200);
    QVERIFY(res->body.find("depot_request_duration_seconds_count{rpc=\"GetStock\"} 1") !=
            std::string::npos);

    // A second daemon on the same gRPC port: clear message, exit 1.
    QTemporaryDir other;
    Run clash = runToEnd({"--data-dir", other.path(), "--listen",
                          QString("127.0.0.1:%1").arg(grpcPort), "--metrics-listen", "off"});
    QCOMPARE(clash.exitCode, 1);
    QVERIFY2(clash.err.contains("cannot listen on 127.0.0.1:" + QByteArray::number(grpcPort)),
             clash.err.constData());

    // A second daemon on the same data directory: refused (one writer per
    // store), and --verify next to the running one checks what it applied.
    Run twin = runToEnd({"--data-dir", dir.filePath("data"), "--listen", "127.0.0.1:0",
                         "--metrics-listen", "off"});
    QCOMPARE(twin.exitCode, 1);
    QVERIFY2(twin.err.contains("in use by another writer"), twin.err.constData());
    Run live = runToEnd({"--verify", "--data-dir", dir.filePath("data")});
    QCOMPARE(live.exitCode, 0);
    QVERIFY2(live.err.contains("in use by a running depotd"), live.err.constData());
    QVERIFY(live.out.contains("result=OK"));

    QVERIFY(stopWith(p, SIGTERM, log));
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    QCOMPARE(p.exitCode(), 0);
    QVERIFY(log.contains("event=shutdown_begin signal=SIGTERM"));
    QVERIFY(log.contains("event=shutdown_complete"));

    Run verify = runToEnd({"--verify", "--data-dir", dir.filePath("data")});
    QCOMPARE(verify.exitCode, 0);
    QVERIFY(verify.out.contains("result=OK"));

    const QString promtool = QStandardPaths::findExecutable("promtool");
    if (promtool.isEmpty()) QSKIP("promtool not installed");
    QProcess check;
    check.start(promtool, {"check", "metrics"});
    QVERIFY(check.waitForStarted(5000));
    check.write(QByteArray::fromStdString(res->body));
    check.closeWriteChannel();
    QVERIFY(check.waitForFinished(20000));
    QVERIFY2(check.exitCode() == 0, check.readAllStandardError().constData());
  }

  void startsWithNoConfigurationAtAll() {
    QTemporaryDir home;
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("HOME", home.path());
    env.remove("XDG_DATA_HOME");
    p.setProcessEnvironment(env);
    p.start(depotd(), {});
    QVERIFY(p.waitForStarted(10000));
    QByteArray log;
    const bool listening = waitForLog(p, log, "event=listening what=grpc addr=127.0.0.1:7070");
    // The default data directory is created either way.
    QVERIFY2(QFile::exists(home.filePath(".local/share/depot/depot.db")), log.constData());
    if (!listening) {
      // The fixed default ports may be taken on a shared machine.
      p.waitForFinished(20000);
      log += p.readAllStandardError();
      QCOMPARE(p.exitCode(), 1);
      QVERIFY2(log.contains("cannot listen"), log.constData());
      QSKIP("default ports 7070/9464 are in use on this machine");
    }
    QVERIFY(stopWith(p, SIGINT, log));
    QCOMPARE(p.exitCode(), 0);
    QVERIFY(log.contains("signal=SIGINT"));
  }
};

QTEST_GUILESS_MAIN(TestDepotd)
#include "test_depotd.moc"
