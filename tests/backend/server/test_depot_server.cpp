// The real gRPC server in process over SqliteStore: every RPC once through
// the generated stubs, health and reflection, /metrics (promtool when
// installed), malformed wire bytes, and graceful shutdown of open streams.
#include <grpcpp/generic/generic_stub.h>
#include <httplib.h>

#include <QProcess>
#include <QStandardPaths>
#include <QtTest>
#include <future>
#include <regex>
#include <set>
#include <thread>

#include "depot/v1/catalog.grpc.pb.h"
#include "depot/v1/inventory.grpc.pb.h"
#include "depot/v1/operations.grpc.pb.h"
#include "depot/v1/stocktake.grpc.pb.h"
#include "server_fixture.h"

using namespace depot;
using depot::test::ctx;
namespace v1 = depot::v1;
using namespace std::chrono_literals;

namespace {

v1::Movement movement(const std::string& id, v1::MovementKind kind, const std::string& sku,
                      const std::string& location, std::int64_t qty) {
  v1::Movement m;
  m.set_request_id(id);
  m.set_kind(kind);
  m.set_sku(sku);
  m.set_location(location);
  m.set_quantity(qty);
  m.set_actor("tester");
  return m;
}

std::string bytesOf(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

grpc::ByteBuffer bufferOf(const std::string& bytes) {
  grpc::Slice slice(bytes.data(), bytes.size());
  return grpc::ByteBuffer(&slice, 1);
}

// A unary call with raw bytes (the generic stub), bounded.
grpc::Status rawUnary(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                      const std::string& request, std::string* response) {
  grpc::GenericStub stub(channel);
  auto context = ctx(10);
  grpc::ByteBuffer req = bufferOf(request);
  grpc::ByteBuffer resp;
  std::promise<grpc::Status> done;
  stub.UnaryCall(context.get(), method, grpc::StubOptions(), &req, &resp,
                 [&done](grpc::Status s) { done.set_value(std::move(s)); });
  auto future = done.get_future();
  if (future.wait_for(15s) != std::future_status::ready) {
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "test: no answer");
  }
  grpc::Status st = future.get();
  if (response) *response = bytesOf(resp);
  return st;
}

}  // namespace

class TestDepotServer : public QObject {
  Q_OBJECT

  test::ServerFixture m_fx;
  std::unique_ptr<v1::Inventory::Stub> m_inv;
  std::unique_ptr<v1::Catalog::Stub> m_cat;
  std::unique_ptr<v1::Stocktake::Stub> m_st;
  std::unique_ptr<v1::Operations::Stub> m_ops;
  std::string m_ledgerId;

  // GET /metrics from the fixture's exporter.
  httplib::Result scrapeMetrics() {
    httplib::Client client("127.0.0.1", m_fx.http->port());
    client.set_connection_timeout(5);
    client.set_read_timeout(5);
    return client.Get("/metrics");
  }

  v1::ApplyResponse apply(std::vector<v1::Movement> movements, grpc::Status* status = nullptr) {
    v1::ApplyRequest req;
    for (auto& m : movements) *req.add_movements() = std::move(m);
    v1::ApplyResponse resp;
    grpc::Status st = m_inv->Apply(ctx().get(), req, &resp);
    if (status) *status = st;
    return resp;
  }

  v1::StockResponse stock(const std::string& sku) {
    v1::GetStockRequest req;
    req.set_sku(sku);
    v1::StockResponse resp;
    grpc::Status st = m_inv->GetStock(ctx().get(), req, &resp);
    if (!st.ok()) qWarning("GetStock: %s", st.error_message().c_str());
    return resp;
  }

 private slots:
  void initTestCase() {
    server::ServerOptions options;
    options.node_id = "test-node";
    options.heartbeat = 200ms;
    const std::string err = m_fx.start(options);
    QVERIFY2(err.empty(), err.c_str());
    m_inv = v1::Inventory::NewStub(m_fx.channel);
    m_cat = v1::Catalog::NewStub(m_fx.channel);
    m_st = v1::Stocktake::NewStub(m_fx.channel);
    m_ops = v1::Operations::NewStub(m_fx.channel);
    m_ledgerId = m_fx.core->ledgerId();

    v1::UpsertLocationsRequest locs;
    for (const char* code : {"A1", "A2"}) {
      auto* l = locs.add_locations();
      l->set_warehouse("east");
      l->set_code(code);
    }
    v1::UpsertLocationsResponse locsResp;
    grpc::Status st = m_cat->UpsertLocations(ctx().get(), locs, &locsResp);
    QVERIFY2(st.ok(), st.error_message().c_str());
    QCOMPARE(locsResp.locations_size(), 2);
    QVERIFY(locsResp.locations(0).id() != 0);

    v1::UpsertItemsRequest items;
    for (const char* sku : {"SKU-1", "SKU-2", "SKU-3"}) {
      auto* i = items.add_items();
      i->set_sku(sku);
      i->set_description(std::string("item ") + sku);
      i->set_reorder_point(std::string(sku) == "SKU-3" ? 10 : 0);
    }
    v1::UpsertItemsResponse itemsResp;
    st = m_cat->UpsertItems(ctx().get(), items, &itemsResp);
    QVERIFY2(st.ok(), st.error_message().c_str());
    QCOMPARE(itemsResp.items_size(), 3);
    QCOMPARE(itemsResp.items(0).shard(), shardOf("SKU-1"));
    QCOMPARE(itemsResp.items(0).unit(), std::string("ea"));
  }

  void catalogRpcs() {
    v1::GetItemRequest get;
    get.set_sku("SKU-2");
    v1::Item item;
    QVERIFY(m_cat->GetItem(ctx().get(), get, &item).ok());
    QCOMPARE(item.description(), std::string("item SKU-2"));
    get.set_sku("NOPE");
    QCOMPARE(m_cat->GetItem(ctx().get(), get, &item).error_code(), grpc::StatusCode::NOT_FOUND);

    v1::ListItemsRequest list;
    list.set_prefix("SKU-");
    list.set_page_size(2);
    v1::ListItemsResponse page;
    QVERIFY(m_cat->ListItems(ctx().get(), list, &page).ok());
    QCOMPARE(page.items_size(), 2);
    QVERIFY(!page.next_page_token().empty());
    list.set_page_token(page.next_page_token());
    v1::ListItemsResponse page2;
    QVERIFY(m_cat->ListItems(ctx().get(), list, &page2).ok());
    QCOMPARE(page2.items_size(), 1);
    QCOMPARE(page2.items(0).sku(), std::string("SKU-3"));
    QVERIFY(page2.next_page_token().empty());
    list.set_page_token("garbage!");
    grpc::Status st = m_cat->ListItems(ctx().get(), list, &page2);
    QCOMPARE(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    QVERIFY(st.error_message().rfind("page_token", 0) == 0);

    v1::ListLocationsRequest locs;
    locs.set_warehouse("east");
    v1::ListLocationsResponse locsResp;
    QVERIFY(m_cat->ListLocations(ctx().get(), locs, &locsResp).ok());
    QCOMPARE(locsResp.locations_size(), 2);

    v1::UpsertItemsRequest empty;
    v1::UpsertItemsResponse emptyResp;
    st = m_cat->UpsertItems(ctx().get(), empty, &emptyResp);
    QCOMPARE(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    QVERIFY(st.error_message().rfind("items", 0) == 0);
  }

  void applyRpc() {
    auto transfer = movement("t-3", v1::MOVEMENT_KIND_TRANSFER, "SKU-1", "east/A1", 5);
    transfer.set_to_location("east/A2");
    auto adjust = movement("t-4", v1::MOVEMENT_KIND_ADJUST, "SKU-1", "east/A1", -1);
    adjust.set_reason("damaged");
    grpc::Status st;
    auto resp =
        apply({movement("t-1", v1::MOVEMENT_KIND_RECEIVE, "SKU-1", "east/A1", 100),
               movement("t-2", v1::MOVEMENT_KIND_SHIP, "SKU-1", "east/A1", 10), transfer, adjust},
              &st);
    QVERIFY2(st.ok(), st.error_message().c_str());
    QCOMPARE(resp.results_size(), 4);
    for (const auto& r : resp.results()) QVERIFY2(r.code() == 0, r.message().c_str());
    QCOMPARE(resp.results(0).request_id(), std::string("t-1"));
    QCOMPARE(resp.results(0).shard(), shardOf("SKU-1"));
    QVERIFY(resp.results(0).seq() > 0);
    QCOMPARE(resp.results(0).after_size(), 1);
    QCOMPARE(resp.results(0).after(0).on_hand(), std::int64_t{100});
    QCOMPARE(resp.results(2).after_size(), 2);
    QCOMPARE(resp.results(2).entries(), 2u);
    QCOMPARE(resp.results(2).after(1).location(), std::string("east/A2"));
    QCOMPARE(resp.results(3).after_size(), 1);
    QCOMPARE(resp.results(3).after(0).on_hand(), std::int64_t{84});

    // A retry with the same request id answers from memory.
    auto replay = apply({movement("t-1", v1::MOVEMENT_KIND_RECEIVE, "SKU-1", "east/A1", 100)});
    QCOMPARE(replay.results_size(), 1);
    QVERIFY(replay.results(0).replayed());
    QCOMPARE(replay.results(0).seq(), resp.results(0).seq());

    auto refused = apply({movement("t-5", v1::MOVEMENT_KIND_SHIP, "SKU-1", "east/A1", 100000)});
    QCOMPARE(refused.results(0).code(), static_cast<int>(grpc::StatusCode::FAILED_PRECONDITION));
    QVERIFY(refused.results(0).after().empty());

    apply({movement("t-6", static_cast<v1::MovementKind>(99), "SKU-1", "east/A1", 1)}, &st);
    QCOMPARE(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    QVERIFY2(st.error_message().find("movements[0].kind") != std::string::npos,
             st.error_message().c_str());
    apply({}, &st);
    QCOMPARE(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }

  void applyStreamRpc() {
    auto context = ctx();
    auto stream = m_inv->ApplyStream(context.get());
    for (std::uint64_t tag = 1; tag <= 3; ++tag) {
      v1::ApplyStreamRequest req;
      req.set_tag(tag);
      for (int i = 0; i < 2; ++i) {
        *req.add_movements() = movement("s-" + std::to_string(tag) + "-" + std::to_string(i),
                                        v1::MOVEMENT_KIND_RECEIVE, "SKU-2", "east/A1", 1);
      }
      QVERIFY(stream->Write(req));
    }
    v1::ApplyStreamRequest empty;
    empty.set_tag(4);
    QVERIFY(stream->Write(empty));
    QVERIFY(stream->WritesDone());
    std::set<std::uint64_t> tags;
    v1::ApplyStreamResponse resp;
    while (stream->Read(&resp)) {
      tags.insert(resp.tag());
      if (resp.tag() == 4) {
        QCOMPARE(resp.code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
        QVERIFY(resp.results().empty());
        continue;
      }
      QCOMPARE(resp.results_size(), 2);
      for (const auto& r : resp.results()) QVERIFY2(r.code() == 0, r.message().c_str());
    }
    grpc::Status st = stream->Finish();
    QVERIFY2(st.ok(), st.error_message().c_str());
    QCOMPARE(tags, (std::set<std::uint64_t>{1, 2, 3, 4}));
    const auto sku2 = stock("SKU-2");
    QCOMPARE(sku2.balances_size(), 1);
    QCOMPARE(sku2.balances(0).on_hand(), std::int64_t{6});
  }

  // More movements than the per-stream in-flight bound (20,000), written by
  // one thread while the reader starts late: the server stops reading at the
  // bound and resumes as responses drain; every message is answered once.
  void applyStreamBackpressure() {
    constexpr int kMessages = 300, kPer = 100;
    const std::int64_t before = stock("SKU-2").balances(0).on_hand();
    auto context = ctx(60);
    auto stream = m_inv->ApplyStream(context.get());
    std::thread writer([&stream] {
      for (int t = 0; t < kMessages; ++t) {
        v1::ApplyStreamRequest req;
        req.set_tag(static_cast<std::uint64_t>(t));
        for (int i = 0; i < kPer; ++i) {
          *req.add_movements() = movement("bp-" + std::to_string(t) + "-" + std::to_string(i),
                                          v1::MOVEMENT_KIND_RECEIVE, "SKU-2", "east/A1", 1);
        }
        if (!stream->Write(req)) break;
      }
      stream->WritesDone();
    });
    std::this_thread::sleep_for(300ms);
    std::set<std::uint64_t> tags;
    int ok = 0;
    v1::ApplyStreamResponse resp;
    while (stream->Read(&resp)) {
      QVERIFY(tags.insert(resp.tag()).second);
      for (const auto& r : resp.results()) ok += r.code() == 0 ? 1 : 0;
    }
    writer.join();
    grpc::Status st = stream->Finish();
    QVERIFY2(st.ok(), st.error_message().c_str());
    QCOMPARE(static_cast<int>(tags.size()), kMessages);
    QCOMPARE(ok, kMessages * kPer);
    QCOMPARE(stock("SKU-2").balances(0).on_hand(), before + kMessages * kPer);
  }

  void holdRpcs() {
    v1::ReserveRequest reserve;
    reserve.set_request_id("h-1");
    reserve.set_order_id("order-1");
    reserve.set_ttl_seconds(60);
    reserve.set_actor("tester");
    auto* line = reserve.add_lines();
    line->set_sku("SKU-1");
    line->set_location("east/A1");
    line->set_quantity(4);
    v1::OrderResponse held;
    grpc::Status st = m_inv->Reserve(ctx().get(), reserve, &held);
    QVERIFY2(st.ok(), st.error_message().c_str());
    QCOMPARE(held.order_id(), std::string("order-1"));
    QVERIFY(held.expires_at_us() > m_fx.clock.now());
    QCOMPARE(held.after_size(), 1);
    QCOMPARE(held.after(0).reserved(), std::int64_t{4});

    reserve.set_request_id("h-1b");
    v1::OrderResponse again;
    st = m_inv->Reserve(ctx().get(), reserve, &again);
    QCOMPARE(st.error_code(), grpc::StatusCode::ALREADY_EXISTS);

    v1::CommitRequest commit;
    commit.set_request_id("h-2");
    commit.set_order_id("order-1");
    v1::OrderResponse committed;
    st = m_inv->Commit(ctx().get(), commit, &committed);
    QVERIFY2(st.ok(), st.error_message().c_str());
    // (The core does not report `after` for Commit/Release yet: read it back.)
    const auto afterCommit = stock("SKU-1");
    QCOMPARE(afterCommit.balances_size(), 2);
    for (const auto& b : afterCommit.balances()) {
      if (b.location() == "east/A1") {
        QCOMPARE(b.reserved(), std::int64_t{0});
        QCOMPARE(b.on_hand(), std::int64_t{80});
      }
    }

    v1::ReleaseRequest release;
    release.set_request_id("h-3");
    release.set_order_id("order-1");
    v1::OrderResponse released;
    st = m_inv->Release(ctx().get(), release, &released);
    QCOMPARE(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    release.set_request_id("h-4");
    release.set_order_id("no-such-order");
    st = m_inv->Release(ctx().get(), release, &released);
    QCOMPARE(st.error_code(), grpc::StatusCode::NOT_FOUND);

    reserve.set_request_id("h-5");
    reserve.set_order_id("order-2");
    QVERIFY(m_inv->Reserve(ctx().get(), reserve, &held).ok());
    release.set_request_id("h-6");
    release.set_order_id("order-2");
    st = m_inv->Release(ctx().get(), release, &released);
    QVERIFY2(st.ok(), st.error_message().c_str());
    QCOMPARE(stock("SKU-1").balances(0).reserved(), std::int64_t{0});
  }

  void readRpcs() {
    auto s = stock("SKU-1");
    QCOMPARE(s.item().sku(), std::string("SKU-1"));
    QCOMPARE(s.balances_size(), 2);
    QVERIFY(s.seq() > 0);

    v1::ListStockRequest list;
    list.set_sku_prefix("SKU-");
    list.set_include_zero(true);
    list.set_page_size(1);
    std::vector<std::string> keys;
    for (int pages = 0; pages < 10; ++pages) {
      v1::ListStockResponse page;
      grpc::Status st = m_inv->ListStock(ctx().get(), list, &page);
      QVERIFY2(st.ok(), st.error_message().c_str());
      for (const auto& r : page.rows()) keys.push_back(r.sku() + "@" + r.location());
      if (page.next_page_token().empty()) break;
      list.set_page_token(page.next_page_token());
    }
    QCOMPARE(keys, (std::vector<std::string>{"SKU-1@east/A1", "SKU-1@east/A2", "SKU-2@east/A1"}));
    list.set_page_size(5000);
    v1::ListStockResponse bad;
    grpc::Status st = m_inv->ListStock(ctx().get(), list, &bad);
    QCOMPARE(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    QVERIFY(st.error_message().rfind("page_size", 0) == 0);

    v1::HistoryRequest history;
    history.set_sku("SKU-1");
    history.set_page_size(2);
    std::vector<std::uint64_t> seqs;
    for (int pages = 0; pages < 20; ++pages) {
      v1::HistoryResponse page;
      st = m_inv->History(ctx().get(), history, &page);
      QVERIFY2(st.ok(), st.error_message().c_str());
      for (const auto& e : page.entries()) {
        seqs.push_back(e.seq());
        QCOMPARE(e.sku(), std::string("SKU-1"));
      }
      if (page.next_page_token().empty()) break;
      history.set_page_token(page.next_page_token());
    }
    QCOMPARE(seqs.size(), std::size_t{s.seq()});  // SKU-1 is alone on its shard
    QVERIFY(std::is_sorted(seqs.begin(), seqs.end()));
    history.set_page_token("");
    history.set_from_us(10);
    history.set_to_us(5);
    v1::HistoryResponse badHistory;
    st = m_inv->History(ctx().get(), history, &badHistory);
    QCOMPARE(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    QVERIFY(st.error_message().rfind("to_us", 0) == 0);

    v1::BalanceAtRequest at;
    at.set_sku("SKU-1");
    at.set_location("east/A1");
    at.set_at_us(m_fx.clock.now() + 1'000'000);
    v1::BalanceAtResponse balance;
    st = m_inv->BalanceAt(ctx().get(), at, &balance);
    QVERIFY2(st.ok(), st.error_message().c_str());
    QCOMPARE(balance.on_hand(), std::int64_t{80});
    at.set_location("east/ZZ");
    QCOMPARE(m_inv->BalanceAt(ctx().get(), at, &balance).error_code(), grpc::StatusCode::NOT_FOUND);
  }

  void snapshotRpc() {
    v1::SnapshotRequest req;
    req.add_shards(shardOf("SKU-1"));
    auto context = ctx();
    auto reader = m_inv->Snapshot(context.get(), req);
    v1::SnapshotChunk chunk;
    int rows = 0, last = 0;
    while (reader->Read(&chunk)) {
      QCOMPARE(chunk.ledger_id(), m_ledgerId);
      QCOMPARE(chunk.seq(), stock("SKU-1").seq());
      rows += chunk.rows_size();
      last += chunk.last_of_shard() ? 1 : 0;
    }
    QVERIFY(reader->Finish().ok());
    QCOMPARE(rows, 2);
    QCOMPARE(last, 1);

    v1::SnapshotRequest all;
    auto context2 = ctx(30);
    auto reader2 = m_inv->Snapshot(context2.get(), all);
    std::set<std::uint32_t> shards;
    while (reader2->Read(&chunk)) {
      if (chunk.last_of_shard()) shards.insert(chunk.shard());
    }
    QVERIFY(reader2->Finish().ok());
    QCOMPARE(shards.size(), std::size_t{kShardCount});

    v1::SnapshotRequest bad;
    bad.add_shards(300);
    auto context3 = ctx();
    auto reader3 = m_inv->Snapshot(context3.get(), bad);
    while (reader3->Read(&chunk)) {
    }
    grpc::Status st = reader3->Finish();
    QCOMPARE(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    QVERIFY(st.error_message().rfind("shards[0]", 0) == 0);
  }

  void watchRpc() {
    const ShardId shard = shardOf("SKU-1");
    const std::uint64_t committed = stock("SKU-1").seq();
    v1::WatchRequest req;
    req.mutable_cursor()->set_ledger_id(m_ledgerId);
    for (ShardId s = 0; s < kShardCount; ++s) req.mutable_cursor()->add_seqs(0);
    req.add_shards(shard);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 20s);
    auto reader = m_inv->Watch(&context, req);
    v1::WatchEvent event;
    std::uint64_t next = 1;
    bool sawHeartbeat = false, sawNew = false;
    bool applied = false;
    while (reader->Read(&event)) {
      for (const auto& e : event.entries()) {
        QCOMPARE(e.shard(), shard);
        QCOMPARE(e.seq(), next);  // exactly once, in order
        ++next;
        if (e.request_id() == "w-1") sawNew = true;
      }
      if (event.heartbeat()) {
        sawHeartbeat = true;
        QCOMPARE(event.committed().seqs_size(), static_cast<int>(kShardCount));
        QCOMPARE(event.committed().ledger_id(), m_ledgerId);
        QCOMPARE(event.position().seqs_size(), static_cast<int>(kShardCount));
      }
      if (!applied && next > committed) {
        applied = true;
        auto r = apply({movement("w-1", v1::MOVEMENT_KIND_RECEIVE, "SKU-1", "east/A2", 1)});
        QCOMPARE(r.results_size(), 1);
        QCOMPARE(r.results(0).code(), 0);
      }
      if (sawNew && sawHeartbeat) break;
    }
    QVERIFY(sawNew);
    QVERIFY(sawHeartbeat);
    context.TryCancel();
    while (reader->Read(&event)) {
    }
    QCOMPARE(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);

    auto expectError = [this](v1::WatchRequest r, grpc::StatusCode code, const std::string& text) {
      auto c = ctx();
      auto rd = m_inv->Watch(c.get(), r);
      v1::WatchEvent ev;
      while (rd->Read(&ev)) {
      }
      grpc::Status st = rd->Finish();
      QCOMPARE(st.error_code(), code);
      QVERIFY2(st.error_message().find(text) != std::string::npos, st.error_message().c_str());
    };
    v1::WatchRequest shortCursor;
    shortCursor.mutable_cursor()->set_ledger_id(m_ledgerId);
    for (int i = 0; i < 3; ++i) shortCursor.mutable_cursor()->add_seqs(0);
    expectError(shortCursor, grpc::StatusCode::INVALID_ARGUMENT, "cursor.seqs");
    v1::WatchRequest otherLedger = req;
    otherLedger.mutable_cursor()->set_ledger_id("another-ledger");
    expectError(otherLedger, grpc::StatusCode::FAILED_PRECONDITION, "re-snapshot");
    v1::WatchRequest ahead = req;
    ahead.mutable_cursor()->set_seqs(static_cast<int>(shard), 1'000'000'000);
    expectError(ahead, grpc::StatusCode::FAILED_PRECONDITION, "re-snapshot");
  }

  void stocktakeRpcs() {
    v1::SubmitCountsRequest submit;
    submit.set_session_id("session-1");
    submit.set_counter("clerk");
    auto* small = submit.add_lines();
    small->set_request_id("c-1");
    small->set_sku("SKU-2");
    small->set_location("east/A1");
    small->set_counted(stock("SKU-2").balances(0).on_hand() + 1);  // within the threshold
    auto* big = submit.add_lines();
    big->set_request_id("c-2");
    big->set_sku("SKU-1");
    big->set_location("east/A1");
    big->set_counted(1000);
    auto* big2 = submit.add_lines();
    big2->set_request_id("c-3");
    big2->set_sku("SKU-1");
    big2->set_location("east/A2");
    big2->set_counted(1000);
    v1::SubmitCountsResponse resp;
    grpc::Status st = m_st->SubmitCounts(ctx().get(), submit, &resp);
    QVERIFY2(st.ok(), st.error_message().c_str());
    QCOMPARE(resp.results_size(), 3);
    for (const auto& r : resp.results()) QVERIFY2(r.code() == 0, r.message().c_str());
    QCOMPARE(resp.results(0).request_id(), std::string("c-1"));
    QCOMPARE(resp.results(0).state(), v1::COUNT_STATE_APPLIED);
    QCOMPARE(resp.results(0).variance(), std::int64_t{1});
    QCOMPARE(resp.results(1).state(), v1::COUNT_STATE_PENDING_APPROVAL);
    QCOMPARE(resp.results(1).expected(), std::int64_t{80});

    v1::ListPendingRequest pending;
    v1::ListPendingResponse pendingResp;
    QVERIFY(m_st->ListPending(ctx().get(), pending, &pendingResp).ok());
    QCOMPARE(pendingResp.counts_size(), 2);
    QCOMPARE(pendingResp.counts(0).sku(), std::string("SKU-1"));

    v1::CountDecisionRequest decide;
    decide.set_request_id("d-1");
    decide.set_count_id("c-2");
    decide.set_actor("supervisor");
    v1::CountRecord record;
    st = m_st->Approve(ctx().get(), decide, &record);
    QVERIFY2(st.ok(), st.error_message().c_str());
    QCOMPARE(record.state(), v1::COUNT_STATE_APPROVED);
    QVERIFY(record.applied_seq() > 0);
    decide.set_request_id("d-2");
    decide.set_count_id("c-3");
    st = m_st->Reject(ctx().get(), decide, &record);
    QVERIFY2(st.ok(), st.error_message().c_str());
    QCOMPARE(record.state(), v1::COUNT_STATE_REJECTED);
    decide.set_request_id("d-3");
    decide.set_count_id("no-such-count");
    QCOMPARE(m_st->Approve(ctx().get(), decide, &record).error_code(), grpc::StatusCode::NOT_FOUND);
    pending.set_limit(5000);
    QCOMPARE(m_st->ListPending(ctx().get(), pending, &pendingResp).error_code(),
             grpc::StatusCode::INVALID_ARGUMENT);
  }

  void operationsRpcs() {
    // WatchAlerts: the initial list ends with a marker, then changes follow.
    grpc::ClientContext alertsCtx;
    alertsCtx.set_deadline(std::chrono::system_clock::now() + 20s);
    v1::WatchAlertsRequest watchReq;
    auto alerts = m_ops->WatchAlerts(&alertsCtx, watchReq);
    v1::AlertEvent event;
    bool complete = false;
    while (!complete && alerts->Read(&event)) complete = event.initial_complete();
    QVERIFY(complete);
    // SKU-3 has reorder point 10: receiving 5 makes it low on stock.
    auto r = apply({movement("a-1", v1::MOVEMENT_KIND_RECEIVE, "SKU-3", "east/A1", 5)});
    QCOMPARE(r.results_size(), 1);
    QCOMPARE(r.results(0).code(), 0);
    std::uint64_t alertId = 0;
    while (alertId == 0 && alerts->Read(&event)) {
      if (event.has_alert() && event.alert().subject() == "SKU-3") alertId = event.alert().id();
    }
    QVERIFY(alertId != 0);
    QCOMPARE(event.alert().kind(), v1::ALERT_KIND_LOW_STOCK);

    v1::ListAlertsRequest listReq;
    v1::ListAlertsResponse list;
    QVERIFY(m_ops->ListAlerts(ctx().get(), listReq, &list).ok());
    QVERIFY(list.alerts_size() >= 1);

    v1::AckRequest ack;
    ack.set_alert_id(alertId);
    ack.set_actor("supervisor");
    ack.set_note("reordering");
    v1::Alert acked;
    grpc::Status st = m_ops->Ack(ctx().get(), ack, &acked);
    QVERIFY2(st.ok(), st.error_message().c_str());
    QCOMPARE(acked.state(), v1::ALERT_STATE_ACKNOWLEDGED);
    QCOMPARE(acked.acked_by(), std::string("supervisor"));
    bool sawAck = false;
    while (!sawAck && alerts->Read(&event)) {
      sawAck =
          event.alert().id() == alertId && event.alert().state() == v1::ALERT_STATE_ACKNOWLEDGED;
    }
    QVERIFY(sawAck);
    alertsCtx.TryCancel();
    while (alerts->Read(&event)) {
    }
    alerts->Finish();
    ack.set_alert_id(987654321);
    QCOMPARE(m_ops->Ack(ctx().get(), ack, &acked).error_code(), grpc::StatusCode::NOT_FOUND);
    ack.set_actor("");
    QCOMPARE(m_ops->Ack(ctx().get(), ack, &acked).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

    v1::SilenceRequest silence;
    silence.set_kind(v1::ALERT_KIND_STOCKOUT);
    silence.set_subject_prefix("SKU-");
    silence.set_owner("ops");
    silence.set_comment("maintenance");
    silence.set_duration_seconds(3600);
    v1::SilenceInfo info;
    st = m_ops->Silence(ctx().get(), silence, &info);
    QVERIFY2(st.ok(), st.error_message().c_str());
    QVERIFY(info.id() != 0);
    QVERIFY(info.expires_at_us() > info.created_at_us());
    v1::ListSilencesResponse silences;
    QVERIFY(m_ops->ListSilences(ctx().get(), v1::ListSilencesRequest(), &silences).ok());
    QCOMPARE(silences.silences_size(), 1);
    silence.set_kind(static_cast<v1::AlertKind>(99));
    st = m_ops->Silence(ctx().get(), silence, &info);
    QCOMPARE(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    QVERIFY(st.error_message().rfind("kind", 0) == 0);

    // WatchMetrics: samples at the interval; bounds checked.
    grpc::ClientContext metricsCtx;
    metricsCtx.set_deadline(std::chrono::system_clock::now() + 10s);
    v1::WatchMetricsRequest metricsReq;
    metricsReq.set_interval_ms(100);
    auto samples = m_ops->WatchMetrics(&metricsCtx, metricsReq);
    v1::MetricsSample sample;
    int n = 0;
    while (n < 2 && samples->Read(&sample)) {
      ++n;
      QCOMPARE(sample.node_id(), std::string("test-node"));
      QVERIFY(sample.at_us() > 0);
    }
    QCOMPARE(n, 2);
    metricsCtx.TryCancel();
    while (samples->Read(&sample)) {
    }
    samples->Finish();
    metricsReq.set_interval_ms(50);
    auto c = ctx();
    auto badSamples = m_ops->WatchMetrics(c.get(), metricsReq);
    while (badSamples->Read(&sample)) {
    }
    st = badSamples->Finish();
    QCOMPARE(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    QVERIFY(st.error_message().rfind("interval_ms", 0) == 0);

    v1::ClusterStatusResponse cluster;
    QVERIFY(m_ops->ClusterStatus(ctx().get(), v1::ClusterStatusRequest(), &cluster).ok());
    QCOMPARE(cluster.nodes_size(), 1);
    QCOMPARE(cluster.nodes(0).node_id(), std::string("test-node"));
    QVERIFY(cluster.nodes(0).healthy());
    QCOMPARE(cluster.shards_size(), static_cast<int>(kShardCount));
    QCOMPARE(cluster.shards(static_cast<int>(shardOf("SKU-1"))).last_seq(), stock("SKU-1").seq());
  }

  void healthAndReflection() {
    std::string resp;
    // HealthCheckRequest{service=""} is empty; SERVING is status 1 -> 08 01.
    grpc::Status st = rawUnary(m_fx.channel, "/grpc.health.v1.Health/Check", "", &resp);
    QVERIFY2(st.ok(), st.error_message().c_str());
    QCOMPARE(resp, std::string("\x08\x01", 2));

    // ServerReflectionRequest{list_services: "*"} over the bidi stream.
    grpc::GenericStub stub(m_fx.channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    grpc::CompletionQueue cq;
    auto call = stub.PrepareCall(
        &context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
    QVERIFY(call != nullptr);
    auto step = [&cq](std::intptr_t want) {
      void* tag = nullptr;
      bool ok = false;
      auto r = cq.AsyncNext(&tag, &ok, std::chrono::system_clock::now() + 10s);
      return r == grpc::CompletionQueue::GOT_EVENT &&
             reinterpret_cast<std::intptr_t>(tag) == want && ok;
    };
    call->StartCall(reinterpret_cast<void*>(1));
    QVERIFY(step(1));
    call->Write(bufferOf(std::string("\x3a\x01*", 3)), reinterpret_cast<void*>(2));
    QVERIFY(step(2));
    call->WritesDone(reinterpret_cast<void*>(3));
    QVERIFY(step(3));
    grpc::ByteBuffer reflection;
    call->Read(&reflection, reinterpret_cast<void*>(4));
    QVERIFY(step(4));
    grpc::Status finish;
    call->Finish(&finish, reinterpret_cast<void*>(5));
    QVERIFY(step(5));
    QVERIFY2(finish.ok(), finish.error_message().c_str());
    cq.Shutdown();
    void* tag;
    bool ok;
    while (cq.Next(&tag, &ok)) {
    }
    const std::string services = bytesOf(reflection);
    for (const char* name : {"depot.v1.Inventory", "depot.v1.Catalog", "depot.v1.Stocktake",
                             "depot.v1.Operations", "grpc.health.v1.Health"}) {
      QVERIFY2(services.find(name) != std::string::npos, name);
    }
  }

  void malformedWireBytes() {
    const std::vector<std::string> garbage = {
        std::string("\xff\xff\xff\xff\x0f", 5),  // truncated varint tag
        std::string("\x0a\x05\x0a\x01", 4),      // length past the end
        std::string("\x0a\x03\x0a\x01\xff", 5),  // request_id is not UTF-8
        std::string("\x0a\x02\x10\x80", 4),      // truncated enum varint
    };
    for (const auto& bytes : garbage) {
      std::string resp;
      grpc::Status st = rawUnary(m_fx.channel, "/depot.v1.Inventory/Apply", bytes, &resp);
      const std::string what = "case " + std::to_string(&bytes - garbage.data()) + ": code " +
                               std::to_string(st.error_code()) + " " + st.error_message();
      QVERIFY2(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT, what.c_str());
      // A string that is not UTF-8 is named by its field; other damage names the message type.
      const bool utf8_case = &bytes - garbage.data() == 2;
      QVERIFY2(st.error_message().find(utf8_case ? "movements[0].request_id: not valid UTF-8"
                                                 : "depot.v1.ApplyRequest") != std::string::npos,
               what.c_str());
    }
    // Over the 16 MiB receive limit.
    v1::ApplyRequest huge;
    auto* m = huge.add_movements();
    m->set_reason(std::string(17 * 1024 * 1024, 'x'));
    v1::ApplyResponse resp;
    QCOMPARE(m_inv->Apply(ctx().get(), huge, &resp).error_code(),
             grpc::StatusCode::RESOURCE_EXHAUSTED);
    // Still serving.
    QCOMPARE(stock("SKU-1").item().sku(), std::string("SKU-1"));
  }

  // Admission before parsing: while --max-concurrent-calls calls are being
  // served, a new call is refused at arrival with RESOURCE_EXHAUSTED and a
  // RetryInfo, counted as shed and not as a served call; ClusterStatus is
  // never shed; as calls finish, new ones are served again.
  void callsPastTheLimitAreShedAtArrival() {
    const std::uint64_t shed_before = m_fx.metrics.calls_shed.load();
    m_fx.metrics.calls_in_flight.fetch_add(512);  // the default limit, as if all were busy
    v1::GetStockRequest req;
    req.set_sku("SKU-1");
    v1::StockResponse resp;
    const grpc::Status shed = m_inv->GetStock(ctx().get(), req, &resp);
    v1::ClusterStatusResponse cluster;
    const grpc::Status status = m_ops->ClusterStatus(ctx().get(), {}, &cluster);
    m_fx.metrics.calls_in_flight.fetch_sub(512);
    QCOMPARE(shed.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    QVERIFY2(shed.error_message().find("--max-concurrent-calls") != std::string::npos,
             shed.error_message().c_str());
    QVERIFY2(!shed.error_details().empty(), "no google.rpc.RetryInfo in the status details");
    QCOMPARE(m_fx.metrics.calls_shed.load(), shed_before + 1);
    QVERIFY2(status.ok(), status.error_message().c_str());
    QCOMPARE(stock("SKU-1").item().sku(), std::string("SKU-1"));
    QCOMPARE(m_fx.metrics.calls_in_flight.load(), std::int64_t{0});
  }

  void metricsScrape() {
    auto res = scrapeMetrics();
    QVERIFY(res);
    QCOMPARE(res->status, 200);
    const std::string& body = res->body;
    QVERIFY(res->get_header_value("Content-Type").find("version=0.0.4") != std::string::npos);
    for (const char* needle :
         {"# TYPE depot_movements_total counter", "depot_movements_total{kind=\"receive\"}",
          "# TYPE depot_rejections_total counter", "# TYPE depot_commit_batch_size histogram",
          "# TYPE depot_commit_duration_seconds histogram",
          "# TYPE depot_command_duration_seconds histogram",
          "depot_request_duration_seconds_count{rpc=\"Apply\"}", "# TYPE depot_queue_depth gauge",
          "# TYPE depot_store_unapplied_entries gauge", "# TYPE depot_watch_subscribers gauge",
          "# TYPE depot_commit_log_syncs_total counter",
          "# TYPE depot_open_holds gauge", "# TYPE depot_alerts_firing gauge",
          "# TYPE depot_idempotency_requests gauge",
          "# TYPE depot_idempotency_oldest_timestamp_seconds gauge",
          "depot_idempotency_forgotten_early_total 0\n", "process_start_time_seconds "}) {
      QVERIFY2(body.find(needle) != std::string::npos, needle);
    }
    QVERIFY(body.find("depot_movements_total{kind=\"receive\"} 0\n") == std::string::npos);
    QVERIFY(body.find("depot_request_duration_seconds_count{rpc=\"Apply\"} 0\n") ==
            std::string::npos);

    const QString promtool = QStandardPaths::findExecutable("promtool");
    if (promtool.isEmpty()) QSKIP("promtool not installed");
    QProcess p;
    p.start(promtool, {"check", "metrics"});
    QVERIFY(p.waitForStarted(5000));
    p.write(QByteArray::fromStdString(body));
    p.closeWriteChannel();
    QVERIFY(p.waitForFinished(20000));
    const QByteArray out = p.readAllStandardOutput() + p.readAllStandardError();
    QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0, out.constData());
  }

  // packaging/monitoring/depot-alerts.yml: the rules load, their unit tests
  // pass, and every metric they name is one depotd exports (a renamed metric
  // would silently disarm its alert). Cluster series exist only on cluster
  // nodes: those are checked against the exporter's source instead.
  void alertRulesNameExportedMetrics() {
    const QString dir = QStringLiteral(DEPOT_SOURCE_DIR "/packaging/monitoring");
    QFile rules(dir + "/depot-alerts.yml");
    QVERIFY2(rules.open(QIODevice::ReadOnly), qPrintable(rules.fileName()));
    const std::string text = rules.readAll().toStdString();
    QFile exporter(QStringLiteral(DEPOT_SOURCE_DIR "/backend/server/metrics.cpp"));
    QVERIFY(exporter.open(QIODevice::ReadOnly));
    const std::string exporter_source = exporter.readAll().toStdString();

    auto res = scrapeMetrics();
    QVERIFY(res);
    QCOMPARE(res->status, 200);

    std::set<std::string> names;
    const std::regex metric(R"(\bdepot_[a-z_]+)");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), metric);
         it != std::sregex_iterator(); ++it) {
      std::string name = it->str();
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        const std::string_view sv(suffix);
        if (name.size() > sv.size() && name.compare(name.size() - sv.size(), sv.size(), sv) == 0)
          name.resize(name.size() - sv.size());
      }
      names.insert(name);
    }
    QVERIFY2(names.size() >= 10, std::to_string(names.size()).c_str());
    for (const std::string& name : names) {
      if (name.rfind("depot_cluster_", 0) == 0) {
        QVERIFY2(exporter_source.find('"' + name + '"') != std::string::npos, name.c_str());
      } else {
        QVERIFY2(res->body.find("# TYPE " + name + " ") != std::string::npos, name.c_str());
      }
    }

    const QString promtool = QStandardPaths::findExecutable("promtool");
    if (promtool.isEmpty()) QSKIP("promtool not installed");
    for (const QStringList& args : {QStringList{"check", "rules", "depot-alerts.yml"},
                                    QStringList{"test", "rules", "depot-alerts.test.yml"}}) {
      QProcess p;
      p.setWorkingDirectory(dir);
      p.start(promtool, args);
      QVERIFY(p.waitForStarted(5000));
      QVERIFY(p.waitForFinished(60000));
      const QByteArray out = p.readAllStandardOutput() + p.readAllStandardError();
      QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0, out.constData());
    }
  }

  // Many watchers opened and cancelled at once: every session is released
  // (subscribers back to the baseline) and the server keeps serving.
  void watchCancelStorm() {
    const std::size_t baseline = m_fx.core->events().subscribers();
    std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
    std::vector<std::unique_ptr<grpc::ClientReader<v1::WatchEvent>>> readers;
    for (int i = 0; i < 20; ++i) {
      contexts.push_back(ctx(20));
      v1::WatchRequest req;
      req.mutable_cursor()->set_ledger_id(m_ledgerId);
      for (ShardId s = 0; s < kShardCount; ++s) req.mutable_cursor()->add_seqs(0);
      readers.push_back(m_inv->Watch(contexts.back().get(), req));
    }
    v1::WatchEvent event;
    for (auto& r : readers) QVERIFY(r->Read(&event));  // each is streaming
    for (auto& c : contexts) c->TryCancel();
    for (auto& r : readers) {
      while (r->Read(&event)) {
      }
      QCOMPARE(r->Finish().error_code(), grpc::StatusCode::CANCELLED);
    }
    QTRY_COMPARE_WITH_TIMEOUT(m_fx.core->events().subscribers(), baseline, 10000);
    QCOMPARE(stock("SKU-1").item().sku(), std::string("SKU-1"));
  }

  // Last: shutdown ends open streams promptly with UNAVAILABLE.
  void shutdownEndsOpenStreams() {
    grpc::ClientContext watchCtx;
    watchCtx.set_deadline(std::chrono::system_clock::now() + 30s);
    v1::WatchRequest req;  // from now: nothing but heartbeats
    auto watch = m_inv->Watch(&watchCtx, req);
    v1::WatchEvent event;
    QVERIFY(watch->Read(&event));  // a heartbeat: the stream is open
    grpc::ClientContext applyCtx;
    applyCtx.set_deadline(std::chrono::system_clock::now() + 30s);
    auto applyStream = m_inv->ApplyStream(&applyCtx);
    v1::ApplyStreamRequest one;
    one.set_tag(9);
    *one.add_movements() = movement("sd-1", v1::MOVEMENT_KIND_RECEIVE, "SKU-2", "east/A1", 1);
    QVERIFY(applyStream->Write(one));
    v1::ApplyStreamResponse answer;
    QVERIFY(applyStream->Read(&answer));
    QCOMPARE(answer.tag(), std::uint64_t{9});

    const auto start = std::chrono::steady_clock::now();
    m_fx.server->shutdown(std::chrono::seconds(10));
    QVERIFY(std::chrono::steady_clock::now() - start < 5s);
    while (watch->Read(&event)) {
    }
    QCOMPARE(watch->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
    while (applyStream->Read(&answer)) {
    }
    QCOMPARE(applyStream->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
    m_fx.core->stop();
  }

  void cleanupTestCase() { m_fx.stop(); }
};

QTEST_GUILESS_MAIN(TestDepotServer)
#include "test_depot_server.moc"
