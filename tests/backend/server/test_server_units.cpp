// Units of depot::server that need no running core: page tokens, page-size
// bounds, the depotd command line, proto validation, the executor.
#include <QtTest>
#include <atomic>
#include <chrono>
#include <thread>

#include "server/config.h"
#include "server/convert.h"
#include "server/executor.h"
#include "server/page_token.h"

using namespace depot;
using namespace depot::server;
using namespace std::chrono_literals;

namespace {

ParseOutcome parse(std::vector<std::string> args, DaemonConfig& config) {
  args.insert(args.begin(), "depotd");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return parseCommandLine(static_cast<int>(argv.size()), argv.data(), config);
}

}  // namespace

class TestServerUnits : public QObject {
  Q_OBJECT
 private slots:
  void pageTokenRoundTrip() {
    const std::string token = encodePageToken('S', {"SKU:1/é", "east/A-01", ""});
    auto fields = decodePageToken('S', token, 3);
    QVERIFY(fields.ok());
    QCOMPARE((*fields)[0], std::string("SKU:1/é"));
    QCOMPARE((*fields)[1], std::string("east/A-01"));
    QCOMPARE((*fields)[2], std::string());
  }

  void pageTokenRejectsGarbage() {
    const std::string good = encodePageToken('H', {"17"});
    for (const std::string& bad :
         {std::string("!!!"), std::string("AAAA"), good + "x", encodePageToken('S', {"17"}),
          encodePageToken('H', {"1", "2"}), std::string(5000, 'A')}) {
      auto r = decodePageToken('H', bad, 1);
      QVERIFY2(!r.ok(), bad.c_str());
      QCOMPARE(r.status().code(), absl::StatusCode::kInvalidArgument);
      QVERIFY(std::string(r.status().message()).rfind("page_token:", 0) == 0);
    }
  }

  void pageSizeBounds() {
    QCOMPARE(*pageSize("page_size", 0, 100, 1000), std::size_t{100});
    QCOMPARE(*pageSize("page_size", 1000, 100, 1000), std::size_t{1000});
    auto over = pageSize("page_size", 1001, 100, 1000);
    QVERIFY(!over.ok());
    QCOMPARE(std::string(over.status().message()), std::string("page_size: must be <= 1000"));
  }

  void unknownMovementKindNamesTheField() {
    google::protobuf::RepeatedPtrField<v1::Movement> movements;
    movements.Add()->set_kind(v1::MOVEMENT_KIND_RECEIVE);
    movements.Add()->set_kind(static_cast<v1::MovementKind>(99));
    auto r = fromProto(movements, "movements");
    QVERIFY(!r.ok());
    QCOMPARE(r.status().code(), absl::StatusCode::kInvalidArgument);
    QCOMPARE(std::string(r.status().message()), std::string("movements[1].kind: unknown value 99"));
  }

  void shardListValidation() {
    google::protobuf::RepeatedField<std::uint32_t> shards;
    shards.Add(3);
    shards.Add(256);
    auto r = shardsFromProto(shards, "shards");
    QVERIFY(!r.ok());
    QCOMPARE(std::string(r.status().message()), std::string("shards[1]: must be < 256"));
    shards.Set(1, 3);
    r = shardsFromProto(shards, "shards");
    QVERIFY(!r.ok());
    QCOMPARE(std::string(r.status().message()), std::string("shards[1]: duplicate shard"));
  }

  void commandLineDefaults() {
    qputenv("XDG_DATA_HOME", "/tmp/xdg-test");
    DaemonConfig c;
    auto out = parse({}, c);
    QVERIFY(!out.exit_code);
    QCOMPARE(c.data_dir, std::string("/tmp/xdg-test/depot"));
    QCOMPARE(c.listen, std::string("127.0.0.1:7070"));
    QCOMPARE(c.metrics_listen, std::string("127.0.0.1:9464"));
    QCOMPARE(c.writers, 2);
    QCOMPARE(c.sync, std::string("full"));
    QVERIFY(!c.node_id.empty());
    QVERIFY(!c.verify);
    qunsetenv("XDG_DATA_HOME");
  }

  void commandLineFlags() {
    DaemonConfig c;
    auto out =
        parse({"--data-dir", "/d", "--listen", "0.0.0.0:8080", "--metrics-listen", "off",
               "--writers", "8", "--sync", "normal", "--node-id", "n7", "--log-level", "debug"},
              c);
    QVERIFY(!out.exit_code);
    QCOMPARE(c.data_dir, std::string("/d"));
    QCOMPARE(c.listen, std::string("0.0.0.0:8080"));
    QCOMPARE(c.metrics_listen, std::string("off"));
    QCOMPARE(c.writers, 8);
    QCOMPARE(c.sync, std::string("normal"));
    QCOMPARE(c.node_id, std::string("n7"));
    QCOMPARE(c.log_level, std::string("debug"));
  }

  void commandLineUsageErrorsExit2() {
    const std::vector<std::vector<std::string>> bad = {{"--bogus"},
                                                       {"--writers", "0"},
                                                       {"--writers", "x"},
                                                       {"--sync", "fast"},
                                                       {"--listen", "nohostport"},
                                                       {"--listen", "h:99999"},
                                                       {"--log-level", "x"},
                                                       {"--verify"},
                                                       {"extra"},
                                                       {"--config", "/nonexistent/depotd.toml"},
                                                       // cluster flags
                                                       {"--store", "mysql"},
                                                       {"--store", "postgres"},
                                                       {"--pg-dsn", "host=x"},
                                                       {"--pg-standby-dsn", "host=x"},
                                                       {"--store", "postgres", "--pg-dsn", "h",
                                                        "--lease-ttl", "0"},
                                                       {"--store", "postgres", "--pg-dsn", "h",
                                                        "--advertise", "nohostport"},
                                                       {"--max-queue-delay-ms", "0"},
                                                       {"--commits-in-flight", "0"},
                                                       {"--commits-in-flight", "65"},
                                                       {"--max-concurrent-calls", "-1"},
                                                       {"--max-concurrent-calls", "many"},
                                                       {"--idempotency-window", "59"},
                                                       {"--idempotency-window", "1h"},
                                                       {"--idempotency-max-requests", "-1"},
                                                       {"--idempotency-max-requests", "lots"}};
    for (const auto& args : bad) {
      DaemonConfig c;
      auto out = parse(args, c);
      QVERIFY2(out.exit_code.has_value(), args.front().c_str());
      QCOMPARE(*out.exit_code, 2);
      QVERIFY(out.output.find("error:") != std::string::npos);
      QVERIFY(out.output.find("Usage:") != std::string::npos);
    }
    DaemonConfig c;
    auto help = parse({"--help"}, c);
    QCOMPARE(*help.exit_code, 0);
    QVERIFY(help.output.find("--metrics-listen") != std::string::npos);
  }

  void clusterFlags() {
    DaemonConfig c;
    auto out = parse({"--store", "postgres", "--pg-dsn", "host=127.0.0.1 dbname=depot",
                      "--listen", "127.0.0.1:7071", "--lease-ttl", "7"},
                     c);
    QVERIFY(!out.exit_code.has_value());
    QCOMPARE(c.store, std::string("postgres"));
    QCOMPARE(c.advertise, std::string("127.0.0.1:7071"));  // defaults to --listen
    QCOMPARE(c.lease_ttl_s, 7);
    QCOMPARE(c.max_queue_delay_ms, 500);
    QCOMPARE(c.max_concurrent_calls, 512);
    DaemonConfig unlimited;
    QVERIFY(!parse({"--max-concurrent-calls", "0"}, unlimited).exit_code.has_value());
    QCOMPARE(unlimited.max_concurrent_calls, 0);
    QCOMPARE(c.idempotency_window_s, 3600);
    DaemonConfig shortWindow;
    QVERIFY(!parse({"--idempotency-window", "600"}, shortWindow).exit_code.has_value());
    QCOMPARE(shortWindow.idempotency_window_s, 600);
    QCOMPARE(c.idempotency_max_requests, std::int64_t{20'000'000});
    DaemonConfig unbounded;
    QVERIFY(!parse({"--idempotency-max-requests", "0"}, unbounded).exit_code.has_value());
    QCOMPARE(unbounded.idempotency_max_requests, std::int64_t{0});
  }

  void configFileSetsFlags() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath("depotd.toml");
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(
        "data-dir = \"/from/config\"\nlisten = \"127.0.0.1:7171\"\nwriters = 3\n"
        "sync = \"off\"\nnode-id = \"cfg-node\"\nmetrics-listen = \"off\"\n");
    f.close();
    DaemonConfig c;
    auto out = parse({"--config", path.toStdString(), "--writers", "5"}, c);
    QVERIFY2(!out.exit_code, out.output.c_str());
    QCOMPARE(c.data_dir, std::string("/from/config"));
    QCOMPARE(c.listen, std::string("127.0.0.1:7171"));
    QCOMPARE(c.writers, 5);  // the command line wins over the file
    QCOMPARE(c.sync, std::string("off"));
    QCOMPARE(c.node_id, std::string("cfg-node"));
    QCOMPARE(c.metrics_listen, std::string("off"));
    QCOMPARE(c.config_file, path.toStdString());
  }

  void executorRunsTasksAndTimers() {
    Executor ex(2);
    std::atomic<int> ran{0};
    for (int i = 0; i < 100; ++i) ex.post([&] { ran.fetch_add(1); });
    std::atomic<bool> timer{false};
    ex.postAfter(20ms, [&] { timer = true; });
    std::atomic<bool> cancelled{false};
    auto id = ex.postAfter(10s, [&] { cancelled = true; });
    QVERIFY(ex.cancel(id));
    QVERIFY(!ex.cancel(id));
    QTRY_COMPARE_WITH_TIMEOUT(ran.load(), 100, 5000);
    QTRY_VERIFY_WITH_TIMEOUT(timer.load(), 5000);
    // A far timer runs at once when the executor stops.
    std::atomic<bool> late{false};
    ex.postAfter(1h, [&] { late = true; });
    const auto start = std::chrono::steady_clock::now();
    ex.stop();
    QVERIFY(std::chrono::steady_clock::now() - start < 5s);
    QVERIFY(late.load());
    QVERIFY(!cancelled.load());
    // After stop, posts run inline.
    bool inlineRan = false;
    ex.post([&] { inlineRan = true; });
    QVERIFY(inlineRan);
  }
};

QTEST_GUILESS_MAIN(TestServerUnits)
#include "test_server_units.moc"
