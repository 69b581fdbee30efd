// Invariant 7 through the real server: bad input gets its precise gRPC
// status and a message naming the field, and changes nothing (the shard's
// seq and the balance stay where they were). Includes malformed bytes on the
// wire; the server keeps serving afterwards.
#include <grpcpp/generic/generic_stub.h>

#include "depotd_process.h"

using namespace depot::test;
namespace v1 = depot::v1;

namespace {
std::shared_ptr<grpc::Channel> g_channel;

v1::Movement mv(const std::string& rid, v1::MovementKind kind, const std::string& sku,
                const std::string& loc, long qty) {
  v1::Movement m;
  m.set_request_id(rid);
  m.set_kind(kind);
  m.set_sku(sku);
  m.set_location(loc);
  m.set_quantity(qty);
  return m;
}

std::pair<grpc::Status, v1::ApplyResponse> apply(const std::vector<v1::Movement>& ms) {
  v1::ApplyRequest req;
  for (const auto& m : ms) *req.add_movements() = m;
  v1::ApplyResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto st = v1::Inventory::NewStub(g_channel)->Apply(&ctx, req, &resp);
  return {st, resp};
}

v1::StockResponse stock(const std::string& sku) {
  v1::GetStockRequest req;
  req.set_sku(sku);
  v1::StockResponse resp;
  grpc::ClientContext ctx;
  v1::Inventory::NewStub(g_channel)->GetStock(&ctx, req, &resp);
  return resp;
}
}  // namespace

class TestGrpcBadInput : public QObject {
  Q_OBJECT
  QTemporaryDir m_dir;
  std::unique_ptr<DepotdProcess> m_depotd;

 private slots:
  void initTestCase() {
    QVERIFY(m_dir.isValid());
    m_depotd = std::make_unique<DepotdProcess>(m_dir.path(), 23400);
    QVERIFY(m_depotd->start());
    g_channel = m_depotd->channel();
    QVERIFY(seedCatalog(g_channel, 3));
    auto [st, resp] = apply({mv("seed", v1::MOVEMENT_KIND_RECEIVE, "S-0", "w1/A", 10)});
    QVERIFY(st.ok());
    QCOMPARE(resp.results(0).code(), 0);
  }

  void movementMatrix_data() {
    QTest::addColumn<QByteArray>("sku");
    QTest::addColumn<QString>("location");
    QTest::addColumn<int>("kind");
    QTest::addColumn<qlonglong>("qty");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("field");
    const int R = v1::MOVEMENT_KIND_RECEIVE, S = v1::MOVEMENT_KIND_SHIP;
    QTest::newRow("empty sku") << QByteArray("") << "w1/A" << R << 1LL << 3 << "movements[0].sku";
    QTest::newRow("oversized sku") << QByteArray(65, 'X') << "w1/A" << R << 1LL << 3 << "movements[0].sku";
    QTest::newRow("non-utf8 sku") << QByteArray("S-\xff\xfe") << "w1/A" << R << 1LL << 3 << "movements[0].sku";
    QTest::newRow("unknown sku") << QByteArray("NOPE") << "w1/A" << R << 1LL << 5 << "movements[0].sku";
    QTest::newRow("unknown location") << QByteArray("S-0") << "w9/Z" << R << 1LL << 5 << "movements[0].location";
    QTest::newRow("zero quantity") << QByteArray("S-0") << "w1/A" << R << 0LL << 3 << "movements[0].quantity";
    QTest::newRow("negative quantity") << QByteArray("S-0") << "w1/A" << S << -1LL << 3 << "movements[0].quantity";
    QTest::newRow("overflowing quantity") << QByteArray("S-0") << "w1/A" << R << std::numeric_limits<qlonglong>::max() << 3 << "movements[0].quantity";
    QTest::newRow("ship more than on hand") << QByteArray("S-0") << "w1/A" << S << 11LL << 9 << "quantity";
    QTest::newRow("unspecified kind") << QByteArray("S-0") << "w1/A" << 0 << 1LL << 3 << "kind";
  }
  void movementMatrix() {
    QFETCH(QByteArray, sku);
    QFETCH(QString, location);
    QFETCH(int, kind);
    QFETCH(qlonglong, qty);
    QFETCH(int, code);
    QFETCH(QString, field);
    const auto before = stock("S-0");
    auto [st, resp] = apply({mv("bad-" + std::string(QTest::currentDataTag()), v1::MovementKind(kind),
                                sku.toStdString(), location.toStdString(), qty)});
    if (st.ok()) {
      QCOMPARE(resp.results_size(), 1);
      QCOMPARE(resp.results(0).code(), code);
      QVERIFY2(resp.results(0).message().find(field.toStdString()) != std::string::npos,
               resp.results(0).message().c_str());
    } else {  // refused as a whole request: same code, field named
      QCOMPARE(int(st.error_code()), code);
      QVERIFY2(st.error_message().find(field.toStdString()) != std::string::npos,
               st.error_message().c_str());
    }
    const auto after = stock("S-0");
    QCOMPARE(after.seq(), before.seq());
    QCOMPARE(after.DebugString(), before.DebugString());
  }

  void wholeRequestErrors() {
    auto [st, resp] = apply({});
    QCOMPARE(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    QVERIFY(st.error_message().find("movements") != std::string::npos);
    std::vector<v1::Movement> many(10001, mv("x", v1::MOVEMENT_KIND_RECEIVE, "S-0", "w1/A", 1));
    for (std::size_t i = 0; i < many.size(); ++i) many[i].set_request_id("many-" + std::to_string(i));
    auto [st2, resp2] = apply(many);
    QCOMPARE(st2.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    QVERIFY(st2.error_message().find("10000") != std::string::npos);
    QCOMPARE(stock("S-0").balances(0).on_hand(), 10);
  }

  void duplicateRequestIdWithDifferentPayload() {
    auto [st, resp] = apply({mv("dup-1", v1::MOVEMENT_KIND_RECEIVE, "S-1", "w1/A", 5)});
    QCOMPARE(resp.results(0).code(), 0);
    auto [st2, resp2] = apply({mv("dup-1", v1::MOVEMENT_KIND_RECEIVE, "S-1", "w1/A", 6)});
    QCOMPARE(resp2.results(0).code(), int(grpc::StatusCode::ALREADY_EXISTS));
    QVERIFY(resp2.results(0).message().find("request_id") != std::string::npos);
    auto [st3, resp3] = apply({mv("dup-1", v1::MOVEMENT_KIND_RECEIVE, "S-2", "w1/A", 5)});
    QCOMPARE(resp3.results(0).code(), int(grpc::StatusCode::ALREADY_EXISTS));
    QCOMPARE(stock("S-1").balances(0).on_hand(), 5);
    QCOMPARE(stock("S-2").balances_size(), 0);
  }

  void holdsErrors() {
    auto stub = v1::Inventory::NewStub(g_channel);
    v1::ReserveRequest r;
    r.set_request_id("h-1");
    r.set_order_id("O-1");
    auto* l = r.add_lines();
    l->set_sku("S-0");
    l->set_location("w1/A");
    l->set_quantity(11);  // only 10 on hand
    v1::OrderResponse resp;
    {
      grpc::ClientContext ctx;
      auto st = stub->Reserve(&ctx, r, &resp);
      QCOMPARE(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
      QVERIFY(st.error_message().find("lines[0].quantity") != std::string::npos);
    }
    v1::CommitRequest c;
    c.set_request_id("h-2");
    c.set_order_id("NO-SUCH-ORDER");
    {
      grpc::ClientContext ctx;
      auto st = stub->Commit(&ctx, c, &resp);
      QCOMPARE(st.error_code(), grpc::StatusCode::NOT_FOUND);
      QVERIFY(st.error_message().find("order_id") != std::string::npos);
    }
    // Released hold cannot be committed.
    r.set_request_id("h-3");
    r.set_order_id("O-2");
    r.mutable_lines(0)->set_quantity(2);
    {
      grpc::ClientContext ctx;
      QVERIFY(stub->Reserve(&ctx, r, &resp).ok());
    }
    v1::ReleaseRequest rel;
    rel.set_request_id("h-4");
    rel.set_order_id("O-2");
    {
      grpc::ClientContext ctx;
      QVERIFY(stub->Release(&ctx, rel, &resp).ok());
    }
    c.set_request_id("h-5");
    c.set_order_id("O-2");
    {
      grpc::ClientContext ctx;
      auto st = stub->Commit(&ctx, c, &resp);
      QCOMPARE(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    }
    QCOMPARE(stock("S-0").balances(0).reserved(), 0);
  }

  void malformedBytesOnTheWire() {
    grpc::GenericStub generic(g_channel);
    const std::string garbage("\xff\xff\xff\xff\x0f\x12\x99garbage", 15);
    grpc::Slice slice(garbage);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
    grpc::Status status;
    generic.UnaryCall(&ctx, "/depot.v1.Inventory/Apply", grpc::StubOptions(), &request, &response,
                      [&](grpc::Status s) {
                        std::lock_guard lock(m);
                        status = s;
                        done = true;
                        cv.notify_all();
                      });
    std::unique_lock lock(m);
    QVERIFY(cv.wait_for(lock, std::chrono::seconds(10), [&] { return done; }));
    QVERIFY(!status.ok());
    qInfo("malformed bytes -> %d %s", int(status.error_code()), status.error_message().c_str());
    // Still serving, nothing changed.
    QCOMPARE(stock("S-0").balances(0).on_hand(), 10);
  }

  void cleanupTestCase() {
    QCOMPARE(m_depotd->terminate(), 0);
    auto [code, report] = DepotdProcess::verify(m_dir.path());
    QVERIFY2(code == 0, qPrintable(report));
  }
};

QTEST_GUILESS_MAIN(TestGrpcBadInput)
#include "test_grpc_bad_input.moc"
