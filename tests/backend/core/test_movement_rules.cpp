// The rules of every movement kind, and the bad-input matrix at the core
// boundary: each refusal has its precise status, names the field, and
// changes nothing.
#include "core_fixture.h"

using namespace depot;
using namespace depot::test;
using K = MovementKind;

class TestMovementRules : public QObject {
  Q_OBJECT
 private slots:
  void receiveShipTransferAdjust() {
    CoreFixture f;
    f.seedCatalog();
    auto r = f.move(K::kReceive, "SKU-1", "w1/A", 100);
    QVERIFY2(r.outcome.ok(), r.outcome.message.c_str());
    QCOMPARE(r.outcome.entries, 1u);
    QCOMPARE(r.after.at(0).balance.on_hand, 100);
    QCOMPARE(r.after.at(0).location, std::string("w1/A"));

    r = f.move(K::kShip, "SKU-1", "w1/A", 30);
    QVERIFY(r.outcome.ok());
    QCOMPARE(f.balance("SKU-1", "w1/A").on_hand, 70);

    r = f.move(K::kTransfer, "SKU-1", "w1/A", 20, {}, "w2/C");
    QVERIFY(r.outcome.ok());
    QCOMPARE(r.outcome.entries, 2u);  // two legs
    QCOMPARE(f.balance("SKU-1", "w1/A").on_hand, 50);
    QCOMPARE(f.balance("SKU-1", "w2/C").on_hand, 20);

    r = f.move(K::kAdjust, "SKU-1", "w2/C", -5, {}, {}, "damaged");
    QVERIFY(r.outcome.ok());
    QCOMPARE(f.balance("SKU-1", "w2/C").on_hand, 15);
    r = f.move(K::kAdjust, "SKU-1", "w2/C", 7, {}, {}, "found");
    QVERIFY(r.outcome.ok());
    QCOMPARE(f.balance("SKU-1", "w2/C").on_hand, 22);
    QCOMPARE(f.replayProblem(), std::string());
  }

  void refusalsChangeNothing() {
    CoreFixture f;
    f.seedCatalog();
    QVERIFY(f.move(K::kReceive, "SKU-1", "w1/A", 10).outcome.ok());
    QVERIFY(f.reserve("O1", {{"SKU-1", "w1/A", 4}}).status.ok());
    const auto seqs = f.svc().lastSeqs();

    auto r = f.move(K::kShip, "SKU-1", "w1/A", 7);  // available is 6
    QCOMPARE(r.outcome.code, absl::StatusCode::kFailedPrecondition);
    QVERIFY(r.outcome.message.find("insufficient") != std::string::npos);
    r = f.move(K::kTransfer, "SKU-1", "w1/A", 7, {}, "w1/B");
    QCOMPARE(r.outcome.code, absl::StatusCode::kFailedPrecondition);
    r = f.move(K::kAdjust, "SKU-1", "w1/A", -7, {}, {}, "shrink");  // would go below reserved
    QCOMPARE(r.outcome.code, absl::StatusCode::kFailedPrecondition);
    QCOMPARE(f.balance("SKU-1", "w1/A"), (Balance{10, 4}));
    QCOMPARE(f.svc().lastSeqs(), seqs);
    QCOMPARE(f.replayProblem(), std::string());
  }

  void badInputMatrix_data() {
    QTest::addColumn<int>("kind");
    QTest::addColumn<QByteArray>("sku");
    QTest::addColumn<QString>("location");
    QTest::addColumn<QString>("to");
    QTest::addColumn<qlonglong>("qty");
    QTest::addColumn<QString>("reason");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("field");
    const int inv = int(absl::StatusCode::kInvalidArgument);
    const int nf = int(absl::StatusCode::kNotFound);
    const int fp = int(absl::StatusCode::kFailedPrecondition);
    const int R = int(K::kReceive), S = int(K::kShip), T = int(K::kTransfer), A = int(K::kAdjust);
    QTest::newRow("empty sku") << R << QByteArray("") << "w1/A" << "" << 1LL << "" << inv << "movements[0].sku";
    QTest::newRow("oversized sku") << R << QByteArray(65, 'X') << "w1/A" << "" << 1LL << "" << inv << "movements[0].sku";
    QTest::newRow("non-utf8 sku") << R << QByteArray("SKU-\xff\xfe") << "w1/A" << "" << 1LL << "" << inv << "movements[0].sku";
    QTest::newRow("control char sku") << R << QByteArray("SKU\n1") << "w1/A" << "" << 1LL << "" << inv << "movements[0].sku";
    QTest::newRow("unknown sku") << R << QByteArray("NOPE") << "w1/A" << "" << 1LL << "" << nf << "movements[0].sku";
    QTest::newRow("unknown location") << R << QByteArray("SKU-1") << "w9/Z" << "" << 1LL << "" << nf << "movements[0].location";
    QTest::newRow("malformed location") << R << QByteArray("SKU-1") << "noslash" << "" << 1LL << "" << inv << "movements[0].location";
    QTest::newRow("zero qty") << R << QByteArray("SKU-1") << "w1/A" << "" << 0LL << "" << inv << "movements[0].quantity";
    QTest::newRow("negative qty") << S << QByteArray("SKU-1") << "w1/A" << "" << -3LL << "" << inv << "movements[0].quantity";
    QTest::newRow("overflowing qty") << R << QByteArray("SKU-1") << "w1/A" << "" << 9'000'000'000'000'000'000LL << "" << inv << "movements[0].quantity";
    QTest::newRow("int64 min qty") << A << QByteArray("SKU-1") << "w1/A" << "" << std::numeric_limits<qlonglong>::min() << "x" << inv << "movements[0].quantity";
    QTest::newRow("ship more than on hand") << S << QByteArray("SKU-1") << "w1/A" << "" << 11LL << "" << fp << "quantity";
    QTest::newRow("transfer to itself") << T << QByteArray("SKU-1") << "w1/A" << "w1/A" << 1LL << "" << inv << "movements[0].to_location";
    QTest::newRow("transfer without destination") << T << QByteArray("SKU-1") << "w1/A" << "" << 1LL << "" << inv << "movements[0].to_location";
    QTest::newRow("adjust without reason") << A << QByteArray("SKU-1") << "w1/A" << "" << 1LL << "" << inv << "movements[0].reason";
    QTest::newRow("destination on a receive") << R << QByteArray("SKU-1") << "w1/A" << "w1/B" << 1LL << "" << inv << "movements[0].to_location";
    QTest::newRow("bad kind") << int(K::kReserve) << QByteArray("SKU-1") << "w1/A" << "" << 1LL << "" << inv << "movements[0].kind";
  }
  void badInputMatrix() {
    QFETCH(int, kind);
    QFETCH(QByteArray, sku);
    QFETCH(QString, location);
    QFETCH(QString, to);
    QFETCH(qlonglong, qty);
    QFETCH(QString, reason);
    QFETCH(int, code);
    QFETCH(QString, field);
    CoreFixture f;
    f.seedCatalog();
    QVERIFY(f.move(K::kReceive, "SKU-1", "w1/A", 10).outcome.ok());
    const auto seqs = f.svc().lastSeqs();
    MovementRequest m;
    m.request_id = "bad-1";
    m.kind = static_cast<K>(kind);
    m.sku = sku.toStdString();
    m.location = location.toStdString();
    m.to_location = to.toStdString();
    m.quantity = qty;
    m.reason = reason.toStdString();
    auto r = f.apply({m}).at(0);
    QCOMPARE(int(r.outcome.code), code);
    QVERIFY2(r.outcome.message.rfind(field.toStdString(), 0) == 0 ||
                 r.outcome.message.find(field.toStdString()) != std::string::npos,
             r.outcome.message.c_str());
    QCOMPARE(f.svc().lastSeqs()[f.svc().catalog().item("SKU-1")->shard],
             seqs[f.svc().catalog().item("SKU-1")->shard]);
    QCOMPARE(f.balance("SKU-1", "w1/A"), (Balance{10, 0}));
  }

  void batchLimitsAndMixedResults() {
    CoreFixture f;
    f.seedCatalog();
    auto r = f.applyRaw({});
    QCOMPARE(r.status().code(), absl::StatusCode::kInvalidArgument);
    std::vector<MovementRequest> many(kMaxBatchMovements + 1);
    r = f.applyRaw(many);
    QCOMPARE(r.status().code(), absl::StatusCode::kInvalidArgument);
    QVERIFY(std::string(r.status().message()).find("movements") != std::string::npos);

    // An unlinked batch: each movement stands alone.
    MovementRequest good{"m-good", K::kReceive, "SKU-2", "w1/A", "", 5, "", "t"};
    MovementRequest bad{"m-bad", K::kShip, "SKU-2", "w1/B", "", 5, "", "t"};
    auto res = f.apply({good, bad});
    QVERIFY(res.at(0).outcome.ok());
    QCOMPARE(res.at(1).outcome.code, absl::StatusCode::kFailedPrecondition);
    QCOMPARE(f.balance("SKU-2", "w1/A").on_hand, 5);
  }

  void linkedBatchIsAllOrNothing() {
    CoreFixture f;
    f.seedCatalog();
    QVERIFY(f.move(K::kReceive, "SKU-1", "w1/A", 10).outcome.ok());
    const auto before = f.svc().lastSeqs();
    MovementRequest a{"l-1", K::kTransfer, "SKU-1", "w1/A", "w1/B", 6, "", "t"};
    MovementRequest b{"l-2", K::kShip, "SKU-1", "w1/A", "", 6, "", "t"};  // fails after a
    auto res = f.apply({a, b}, true);
    QCOMPARE(res.at(0).outcome.code, absl::StatusCode::kAborted);
    QCOMPARE(res.at(1).outcome.code, absl::StatusCode::kFailedPrecondition);
    QCOMPARE(f.svc().lastSeqs(), before);
    QCOMPARE(f.balance("SKU-1", "w1/A").on_hand, 10);
    QCOMPARE(f.balance("SKU-1", "w1/B").on_hand, 0);
    // The aborted group left no record: once stock arrives, the very same
    // batch (same ids, same payload) goes through.
    QVERIFY(f.move(K::kReceive, "SKU-1", "w1/A", 2).outcome.ok());
    res = f.apply({a, b}, true);
    QVERIFY(res.at(0).outcome.ok());
    QVERIFY(res.at(1).outcome.ok());
    QVERIFY(!res.at(0).replayed);
    QCOMPARE(f.balance("SKU-1", "w1/A").on_hand, 0);
    QCOMPARE(f.balance("SKU-1", "w1/B").on_hand, 6);

    // Linked across shards is refused as a whole.
    std::string other;
    for (int i = 2; i <= 4 && other.empty(); ++i)
      if (shardOf("SKU-" + std::to_string(i)) != shardOf("SKU-1")) other = "SKU-" + std::to_string(i);
    QVERIFY(!other.empty());
    MovementRequest c{"l-3", K::kReceive, "SKU-1", "w1/A", "", 1, "", "t"};
    MovementRequest d{"l-4", K::kReceive, other, "w1/A", "", 1, "", "t"};
    auto raw = f.applyRaw({c, d}, true);
    QCOMPARE(raw.status().code(), absl::StatusCode::kInvalidArgument);
    QVERIFY(std::string(raw.status().message()).rfind("linked", 0) == 0);
  }

  void catalogValidation() {
    CoreFixture f;
    Item bad;
    bad.sku = "A/B";
    auto r = f.svc().catalog().upsertItems({bad});
    QCOMPARE(r.status().code(), absl::StatusCode::kInvalidArgument);
    QVERIFY(std::string(r.status().message()).rfind("items[0].sku", 0) == 0);
    Item neg;
    neg.sku = "OK";
    neg.reorder_point = -1;
    r = f.svc().catalog().upsertItems({neg});
    QVERIFY(std::string(r.status().message()).rfind("items[0].reorder_point", 0) == 0);
    QCOMPARE(f.svc().catalog().itemCount(), 0u);
    auto l = f.svc().catalog().upsertLocations({Location{0, "", "A"}});
    QVERIFY(std::string(l.status().message()).rfind("locations[0].warehouse", 0) == 0);
  }

  // The catalog holds items compactly (strings in one arena, an ordered SKU
  // index): updates, lookups by SKU and id, and paged listing by prefix all
  // see the latest values, also after a full reload from the store.
  void catalogUpdatesAndPages() {
    CoreFixture f;
    std::vector<Item> items;
    for (int i = 0; i < 2500; ++i) {
      Item it;
      it.sku = (i % 2 ? "B-" : "A-") + std::to_string(100000 + i);
      it.description = std::string(static_cast<std::size_t>(i % 300), 'd');  // long ones too
      it.unit = i % 3 ? "ea" : "box";
      it.reorder_point = i;
      items.push_back(it);
    }
    for (std::size_t first = 0; first < items.size(); first += 1000) {
      std::vector<Item> part(items.begin() + static_cast<std::ptrdiff_t>(first),
                             items.begin() + static_cast<std::ptrdiff_t>(std::min(items.size(), first + 1000)));
      QVERIFY(f.svc().catalog().upsertItems(part).ok());
    }
    Catalog& cat = f.svc().catalog();
    Item changed = items[7];
    changed.description = "a new description, longer than the old one was";
    changed.unit = "pallet";
    changed.reorder_qty = 12;
    QVERIFY(cat.upsertItems({changed}).ok());
    for (int pass = 0; pass < 2; ++pass) {
      QCOMPARE(cat.itemCount(), std::size_t{2500});
      auto got = cat.item(changed.sku);
      QVERIFY(got.ok());
      QCOMPARE(got->description, changed.description);
      QCOMPARE(got->unit, std::string("pallet"));
      QCOMPARE(got->reorder_qty, Qty{12});
      QCOMPARE(cat.itemById(got->id)->sku, changed.sku);
      QCOMPARE(cat.skuOf(got->id), changed.sku);
      auto long_one = cat.item(items[299].sku);
      QVERIFY(long_one.ok());
      QCOMPARE(long_one->description, items[299].description);
      QCOMPARE(long_one->unit, items[299].unit);
      // Pages of "B-": 1250 items in SKU order, 500 at a time.
      std::vector<std::string> seen;
      std::string after;
      for (int page = 0; page < 10; ++page) {
        auto chunk = cat.items("B-", after, 500);
        if (chunk.empty()) break;
        for (const Item& it : chunk) seen.push_back(it.sku);
        after = chunk.back().sku;
      }
      QCOMPARE(seen.size(), std::size_t{1250});
      QVERIFY(std::is_sorted(seen.begin(), seen.end()));
      QCOMPARE(seen.front(), std::string("B-100001"));
      QVERIFY(cat.items("C-", "", 10).empty());
      QCOMPARE(cat.items("", "A-999999", 1).at(0).sku, std::string("B-100001"));
      QCOMPARE(cat.item("A-1").status().code(), absl::StatusCode::kNotFound);
      QVERIFY(cat.load().ok());  // second pass: the same from the store
    }
  }
};

QTEST_GUILESS_MAIN(TestMovementRules)
#include "test_movement_rules.moc"
