// depot-console's command-line contract: a malformed --server is refused
// with a clear message (naming the option and the reason) and exit code 2;
// an unknown --profile likewise.
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

class TestConsoleCli : public QObject {
  Q_OBJECT
 private:
  static QString console() { return QString::fromUtf8(qgetenv("DEPOT_BIN_DIR")) + QStringLiteral("/depot-console"); }
  static std::pair<int, QString> run(const QStringList& args) {
    QTemporaryDir home;
    QProcess p;
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), home.path());
    env.insert(QStringLiteral("XDG_DATA_HOME"), home.path());
    p.setProcessEnvironment(env);
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(console(), args);
    if (!p.waitForFinished(20000)) {
      p.kill();
      p.waitForFinished(5000);
      return {-1, QStringLiteral("timeout")};
    }
    return {p.exitCode(), QString::fromUtf8(p.readAll())};
  }

 private slots:
  void malformedEndpoint_data() {
    QTest::addColumn<QString>("server");
    QTest::addColumn<QString>("reason");
    QTest::newRow("no port") << "localhost" << "no port";
    QTest::newRow("bad port") << "localhost:http" << "1 to 65535";
    QTest::newRow("port range") << "127.0.0.1:70000" << "1 to 65535";
    QTest::newRow("empty item") << "127.0.0.1:7070," << "empty";
    QTest::newRow("bad host") << "a b:1" << "not a valid";
  }
  void malformedEndpoint() {
    QFETCH(QString, server);
    QFETCH(QString, reason);
    auto [code, out] = run({QStringLiteral("--server"), server});
    QCOMPARE(code, 2);
    QVERIFY2(out.contains(QStringLiteral("--server")) && out.contains(reason), qPrintable(out));
  }
  void unknownProfile() {
    auto [code, out] = run({QStringLiteral("--profile"), QStringLiteral("nope")});
    QCOMPARE(code, 2);
    QVERIFY2(out.contains(QStringLiteral("no saved profile")), qPrintable(out));
  }
};

QTEST_GUILESS_MAIN(TestConsoleCli)
#include "test_console_cli.moc"
