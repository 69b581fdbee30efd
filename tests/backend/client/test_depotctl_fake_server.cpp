// depotctl against an in-test fake server (Catalog.UpsertItems/Locations,
// Inventory.Apply/GetStock): import chunking and per-row error reports,
// result and exit-code handling, request id and actor passthrough. The real
// server is covered by the end-to-end suites.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <mutex>
#include <set>

#include "depot/v1/catalog.grpc.pb.h"
#include "depot/v1/inventory.grpc.pb.h"
#include "test_server.h"

namespace v1 = depot::v1;

namespace {

// Refuses a whole chunk naming the first SKU that starts with "BAD"
// (all-or-nothing, like the real server); remembers what it applied.
class FakeCatalog final : public v1::Catalog::Service {
 public:
  grpc::Status UpsertItems(grpc::ServerContext*, const v1::UpsertItemsRequest* request,
                           v1::UpsertItemsResponse* response) override {
    std::lock_guard lock(m_mutex);
    ++m_calls;
    for (int i = 0; i < request->items_size(); ++i) {
      if (request->items(i).sku().rfind("BAD", 0) == 0) {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                            "items[" + std::to_string(i) + "].sku: refused by the test server");
      }
    }
    for (const auto& item : request->items()) {
      m_applied.push_back(item.sku());
      *response->add_items() = item;
    }
    return grpc::Status::OK;
  }
  grpc::Status UpsertLocations(grpc::ServerContext*, const v1::UpsertLocationsRequest* request,
                               v1::UpsertLocationsResponse* response) override {
    std::lock_guard lock(m_mutex);
    for (const auto& l : request->locations()) {
      m_locations.push_back(l.warehouse() + "/" + l.code());
      *response->add_locations() = l;
    }
    return grpc::Status::OK;
  }
  std::vector<std::string> applied() {
    std::lock_guard lock(m_mutex);
    return m_applied;
  }
  std::vector<std::string> locations() {
    std::lock_guard lock(m_mutex);
    return m_locations;
  }
  int calls() {
    std::lock_guard lock(m_mutex);
    return m_calls;
  }

 private:
  std::mutex m_mutex;
  std::vector<std::string> m_applied;
  std::vector<std::string> m_locations;
  int m_calls = 0;
};

// Apply: SHIP of more than 100 is refused (FAILED_PRECONDITION); request id
// "seen-before" answers replayed. GetStock: two locations.
class FakeInventory final : public v1::Inventory::Service {
 public:
  grpc::Status Apply(grpc::ServerContext*, const v1::ApplyRequest* request,
                     v1::ApplyResponse* response) override {
    std::lock_guard lock(m_mutex);
    for (const auto& m : request->movements()) {
      m_movements.push_back(m);
      auto* r = response->add_results();
      r->set_request_id(m.request_id());
      r->set_shard(7);
      if (m.kind() == v1::MOVEMENT_KIND_SHIP && m.quantity() > 100) {
        r->set_code(9);
        r->set_message("movements[0].quantity: insufficient available stock (have 100)");
        continue;
      }
      r->set_seq(42);
      r->set_entries(m.kind() == v1::MOVEMENT_KIND_TRANSFER ? 2 : 1);
      r->set_replayed(m.request_id() == "seen-before");
      auto* after = r->add_after();
      after->set_sku(m.sku());
      after->set_location(m.location());
      after->set_on_hand(100 + m.quantity());
      after->set_available(100 + m.quantity());
    }
    return grpc::Status::OK;
  }
  grpc::Status GetStock(grpc::ServerContext*, const v1::GetStockRequest* request,
                        v1::StockResponse* response) override {
    if (request->sku() != "WID-001") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "sku: unknown SKU '" + request->sku() + "'");
    }
    response->mutable_item()->set_sku("WID-001");
    response->mutable_item()->set_description("Widget");
    response->mutable_item()->set_unit("ea");
    response->mutable_item()->set_reorder_point(5);
    response->set_seq(9);
    for (auto [loc, on_hand, reserved] :
         {std::tuple{"east/A-01-01", 10, 3}, {"west/B-02-01", 4, 0}}) {
      auto* b = response->add_balances();
      b->set_sku("WID-001");
      b->set_location(loc);
      b->set_on_hand(on_hand);
      b->set_reserved(reserved);
      b->set_available(on_hand - reserved);
    }
    return grpc::Status::OK;
  }
  std::vector<v1::Movement> movements() {
    std::lock_guard lock(m_mutex);
    return m_movements;
  }

 private:
  std::mutex m_mutex;
  std::vector<v1::Movement> m_movements;
};

struct Run {
  int exit_code = -1;
  QString out;
  QString err;
};

}  // namespace

class TestDepotctlFakeServer : public QObject {
  Q_OBJECT

 private:
  FakeCatalog m_catalog;
  FakeInventory m_inventory;
  std::unique_ptr<grpc::Server> m_server;
  int m_port = 0;
  QTemporaryDir m_dir;

  Run run(QStringList args) {
    args.prepend(QString::fromStdString(depot::test::loopback(m_port)));
    args.prepend("--server");
    QProcess process;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("USER", "tester");
    process.setProcessEnvironment(env);
    process.start(qEnvironmentVariable("DEPOT_BIN_DIR") + "/depotctl", args);
    Run r;
    if (!process.waitForStarted(5000)) return r;
    if (!process.waitForFinished(30000)) {
      process.kill();
      process.waitForFinished(2000);
      return r;
    }
    r.exit_code = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    r.out = QString::fromUtf8(process.readAllStandardOutput());
    r.err = QString::fromUtf8(process.readAllStandardError());
    return r;
  }

  QString writeFile(const QString& name, const QByteArray& content) {
    const QString path = m_dir.filePath(name);
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly)) return {};
    f.write(content);
    return path;
  }

 private slots:
  void initTestCase() {
    QVERIFY(m_dir.isValid());
    // Both services on one server.
    for (int attempt = 0; attempt < 200 && !m_server; ++attempt) {
      const int candidate = 22000 + static_cast<int>(depot::test::portGenerator()() % 1000);
      grpc::ServerBuilder b;
      int selected = 0;
      b.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
      b.AddListeningPort(depot::test::loopback(candidate), grpc::InsecureServerCredentials(),
                         &selected);
      b.RegisterService(&m_catalog);
      b.RegisterService(&m_inventory);
      auto server = b.BuildAndStart();
      if (server && selected == candidate) {
        m_server = std::move(server);
        m_port = candidate;
      }
    }
    QVERIFY2(m_server, "could not start the fake server in 22000-22999");
  }

  void cleanupTestCase() {
    if (m_server) m_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  }

  void importReportsRowsRefusedLocallyAndByTheServer() {
    // Line numbers: header is line 1. A quoted description spans lines 3-4.
    const QByteArray csv =
        "sku,description,unit,reorder_point,reorder_qty\r\n"  // 1
        "OK-1,\"Bolt, M6\",box,5,10\r\n"                      // 2
        "OK-2,\"Two\r\nlines\",ea,0,0\r\n"                    // 3-4
        "OK-3,Nut,ea,ten,10\r\n"                              // 5: bad number
        "OK-4,Washer,ea,1\r\n"                                // 6: 4 fields
        "BAD-5,Refused,ea,1,1\r\n"                            // 7: server refuses
        "OK-6,Screw,ea,1,1\r\n"                               // 8
        "OK-2,Duplicate,ea,1,1\r\n"                           // 9: duplicate of line 3
        ",No sku,ea,1,1\r\n"                                  // 10: missing sku
        "OK-7,Pin,ea,-1,1\r\n"                                // 11: negative
        "OK-8,Clip,ea,3,3\r\n";                               // 12
    const QString path = writeFile("items.csv", csv);
    const Run r = run({"--json", "import", "items", path, "--chunk", "2"});
    QVERIFY2(r.exit_code == 1, qPrintable(QString("exit %1: %2").arg(r.exit_code).arg(r.err)));
    const auto doc = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QCOMPARE(doc.value("rows").toInt(), 10);
    QCOMPARE(doc.value("imported").toInt(), 4);
    QCOMPARE(doc.value("refused").toInt(), 6);
    std::map<int, QString> errors;
    for (const auto& e : doc.value("errors").toArray()) {
      errors[e.toObject().value("line").toInt()] = e.toObject().value("field").toString();
    }
    QCOMPARE(errors.size(), std::size_t{6});
    QCOMPARE(errors[5], QString("reorder_point"));
    QVERIFY(errors.count(6));
    QCOMPARE(errors[7], QString("sku"));
    QVERIFY(errors.count(9));
    QCOMPARE(errors[10], QString("sku"));
    QCOMPARE(errors[11], QString("reorder_point"));
    QVERIFY2(r.err.contains("items.csv:5: reorder_point: not a whole number"), qPrintable(r.err));
    QVERIFY2(r.err.contains("items.csv:7: sku: INVALID_ARGUMENT: refused by the test server"),
             qPrintable(r.err));
    QVERIFY(r.err.contains("import items: 10/10 rows"));
    // Each good row applied exactly once, the refused one never.
    auto applied = m_catalog.applied();
    std::sort(applied.begin(), applied.end());
    QCOMPARE(applied, (std::vector<std::string>{"OK-1", "OK-2", "OK-6", "OK-8"}));
  }

  void importCleanFileExitsZero() {
    const QString path = writeFile(
        "locations.csv", "\xEF\xBB\xBFwarehouse,location\neast,A-01-01\nwest,\"B-02-01\"\n");
    const Run r = run({"import", "locations", path});
    QVERIFY2(r.exit_code == 0, qPrintable(r.err));
    QVERIFY(r.out.contains("imported 2 of 2 locations, 0 refused"));
    QCOMPARE(m_catalog.locations(), (std::vector<std::string>{"east/A-01-01", "west/B-02-01"}));
  }

  void receivePrintsTheResultAndPassesIdAndActor() {
    const Run r = run({"receive", "WID-001", "east/A-01-01", "5", "--request-id", "rid-recv-1"});
    QVERIFY2(r.exit_code == 0, qPrintable(r.err));
    QVERIFY(r.out.contains("receive: ok"));
    QVERIFY(r.out.contains("seq 42"));
    QVERIFY(r.out.contains("rid-recv-1"));
    QVERIFY(r.out.contains("east/A-01-01"));
    const auto m = m_inventory.movements().back();
    QCOMPARE(m.request_id(), std::string("rid-recv-1"));
    QCOMPARE(m.actor(), std::string("tester"));
    QCOMPARE(m.kind(), v1::MOVEMENT_KIND_RECEIVE);
    QCOMPARE(m.quantity(), std::int64_t{5});
  }

  void generatedRequestIdIsPrinted() {
    const Run r = run({"--json", "receive", "WID-001", "east/A-01-01", "1", "--actor", "ana"});
    QCOMPARE(r.exit_code, 0);
    const auto doc = QJsonDocument::fromJson(r.out.toUtf8()).object();
    const auto m = m_inventory.movements().back();
    QCOMPARE(doc.value("request_id").toString().toStdString(), m.request_id());
    QCOMPARE(m.request_id().size(), std::size_t{36});
    QCOMPARE(m.actor(), std::string("ana"));
    QCOMPARE(doc.value("after").toArray().at(0).toObject().value("on_hand").toInt(), 101);
  }

  void replayedIsShown() {
    const Run r =
        run({"--json", "receive", "WID-001", "east/A-01-01", "1", "--request-id", "seen-before"});
    QCOMPARE(r.exit_code, 0);
    QCOMPARE(QJsonDocument::fromJson(r.out.toUtf8()).object().value("replayed").toBool(), true);
    const Run human =
        run({"receive", "WID-001", "east/A-01-01", "1", "--request-id", "seen-before"});
    QVERIFY(human.out.contains("replayed"));
  }

  void refusedMovementExitsOne() {
    const Run r = run({"--json", "ship", "WID-001", "east/A-01-01", "500"});
    QCOMPARE(r.exit_code, 1);
    QVERIFY2(r.err.contains("refused: FAILED_PRECONDITION"), qPrintable(r.err));
    const auto doc = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QCOMPARE(doc.value("ok").toBool(true), false);
    QCOMPARE(doc.value("code").toString(), QString("FAILED_PRECONDITION"));
  }

  void adjustSendsSignedDeltaAndReason() {
    const Run r = run({"adjust", "WID-001", "east/A-01-01", "-3", "--reason", "damaged"});
    QVERIFY2(r.exit_code == 0, qPrintable(r.err));
    const auto m = m_inventory.movements().back();
    QCOMPARE(m.kind(), v1::MOVEMENT_KIND_ADJUST);
    QCOMPARE(m.quantity(), std::int64_t{-3});
    QCOMPARE(m.reason(), std::string("damaged"));
  }

  void transferSendsBothLocations() {
    const Run r = run({"transfer", "WID-001", "east/A-01-01", "west/B-02-01", "2"});
    QVERIFY2(r.exit_code == 0, qPrintable(r.err));
    const auto m = m_inventory.movements().back();
    QCOMPARE(m.kind(), v1::MOVEMENT_KIND_TRANSFER);
    QCOMPARE(m.to_location(), std::string("west/B-02-01"));
  }

  void stockJsonKeys() {
    const Run r = run({"--json", "stock", "WID-001"});
    QVERIFY2(r.exit_code == 0, qPrintable(r.err));
    const auto doc = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QCOMPARE(doc.value("sku").toString(), QString("WID-001"));
    const auto balances = doc.value("balances").toArray();
    QCOMPARE(balances.size(), 2);
    const auto first = balances.at(0).toObject();
    QCOMPARE(first.value("sku").toString(), QString("WID-001"));
    QCOMPARE(first.value("location").toString(), QString("east/A-01-01"));
    QCOMPARE(first.value("on_hand").toInt(), 10);
    QCOMPARE(first.value("reserved").toInt(), 3);
    QCOMPARE(first.value("available").toInt(), 7);
    QCOMPARE(doc.value("total").toObject().value("on_hand").toInt(), 14);
    const Run table = run({"stock", "WID-001"});
    QVERIFY(table.out.contains("LOCATION"));
    QVERIFY(table.out.contains("west/B-02-01"));
  }

  void unknownSkuExitsOne() {
    const Run r = run({"stock", "NOPE"});
    QCOMPARE(r.exit_code, 1);
    QVERIFY(r.err.contains("NOT_FOUND"));
  }

  void unimplementedRpcIsRefused() {
    // The fake has no Stocktake service: UNIMPLEMENTED is the server's answer.
    const Run r = run({"counts", "pending"});
    QCOMPARE(r.exit_code, 1);
    QVERIFY(r.err.contains("UNIMPLEMENTED"));
  }
};

QTEST_GUILESS_MAIN(TestDepotctlFakeServer)
#include "test_depotctl_fake_server.moc"
