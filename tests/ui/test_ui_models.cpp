// QAbstractItemModelTester on every console model, through inserts, live
// updates, filters, sorts, removals and resets.
#include <QAbstractItemModelTester>
#include <QBuffer>
#include <QSignalSpy>
#include <QtTest>

#include "ui/alerts_model.h"
#include "ui/detail_views.h"
#include "ui/stock_model.h"
#include "ui/stocktake_model.h"

using namespace depot;
using namespace depot::ui;

namespace {
constexpr auto kMode = QAbstractItemModelTester::FailureReportingMode::QtTest;

session::LedgerEntryValue entry(const QString& sku, const QString& loc, qint64 onHand, quint64 seq = 1) {
  session::LedgerEntryValue e;
  e.shard = 1;
  e.seq = seq;
  e.sku = sku;
  e.location = loc;
  e.onHandAfter = onHand;
  e.dOnHand = 1;
  e.tsUs = 1'700'000'000'000'000;
  return e;
}
}  // namespace

class TestUiModels : public QObject {
  Q_OBJECT
 private slots:
  void stockModel() {
    StockModel m;
    QAbstractItemModelTester tester(&m, kMode);
    QVector<session::StockRowValue> rows;
    for (int i = 0; i < 500; ++i)
      rows.push_back({QStringLiteral("S-%1").arg(i), QStringLiteral("w%1/A-%2").arg(i % 3).arg(i % 7), i % 20, i % 3, 10, 0, QStringLiteral("item %1").arg(i)});
    m.replaceAll(rows);
    QCOMPARE(m.rowCount(), 500);
    QSignalSpy changed(&m, &QAbstractItemModel::dataChanged);
    QSignalSpy inserted(&m, &QAbstractItemModel::rowsInserted);
    m.applyEntries({entry("S-5", "w2/A-5", 99), entry("S-6", "w0/A-6", 0), entry("NEW-1", "w9/Z", 4)});
    m.flushPending();
    QCOMPARE(inserted.size(), 1);  // one batched insert
    QCOMPARE(changed.size(), 1);   // one ranged dataChanged
    QCOMPARE(m.rowCount(), 501);
    // Flash, then low/zero tints.
    const QModelIndex s5 = m.index(5, StockModel::kOnHand);
    QCOMPARE(m.data(s5).toLongLong(), 99);
    QVERIFY(m.data(s5, Qt::BackgroundRole).isValid());
    m.setFilter({QStringLiteral("S-1"), {}, {}, false});
    QVERIFY(m.rowCount() > 0 && m.rowCount() < 501);
    for (int r = 0; r < m.rowCount(); ++r) QVERIFY(m.data(m.index(r, 0)).toString().contains(QStringLiteral("S-1")));
    m.setFilter({{}, QStringLiteral("w1"), {}, false});
    for (int r = 0; r < m.rowCount(); ++r) QCOMPARE(m.data(m.index(r, StockModel::kWarehouse)).toString(), QStringLiteral("w1"));
    m.setFilter({{}, {}, {}, true});
    for (int r = 0; r < m.rowCount(); ++r) QVERIFY(m.data(m.index(r, 0), StockModel::kLowRole).toBool());
    m.setFilter({});
    m.sort(StockModel::kOnHand, Qt::DescendingOrder);
    QCOMPARE(m.data(m.index(0, StockModel::kOnHand)).toLongLong(), 99);
    for (int r = 1; r < m.rowCount(); ++r)
      QVERIFY(m.data(m.index(r - 1, StockModel::kOnHand)).toLongLong() >= m.data(m.index(r, StockModel::kOnHand)).toLongLong());
    m.sort(StockModel::kSku, Qt::AscendingOrder);
    m.applyEntries({entry("S-7", "w1/A-0", 3), entry("NEW-2", "w9/Z", 1)});
    m.flushPending();
    QBuffer csv;
    csv.open(QIODevice::WriteOnly);
    StockModel::writeCsv(m.viewRows(), &csv);
    QCOMPARE(csv.data().count('\n'), m.rowCount() + 1);
    m.replaceAll({});
    QCOMPARE(m.rowCount(), 0);
  }

  // The asynchronous sort (forced for a small view) gives the same order as
  // the synchronous one, swaps it in with one layout change, keeps the old
  // order meanwhile, lets a newer request supersede an older one, keeps
  // persistent indexes on their rows and appends rows that arrive meanwhile.
  void stockModelAsyncSort() {
    QVector<session::StockRowValue> rows;
    for (int i = 0; i < 3000; ++i)
      rows.push_back({QStringLiteral("S-%1").arg(i % 700), QStringLiteral("w%1/A-%2").arg(i % 3).arg(i / 700), (i * 37) % 50,
                      i % 4, (i % 9) * 10, 0, QStringLiteral("item %1").arg(i % 11)});
    auto order = [](const StockModel& m) {
      QStringList out;
      for (int r = 0; r < m.rowCount(); ++r) {
        const auto v = m.rowValue(r);
        out << v.sku + '@' + v.location;
      }
      return out;
    };
    StockModel reference;
    reference.replaceAll(rows);
    StockModel m;
    QAbstractItemModelTester tester(&m, kMode);
    m.setAsyncSortThreshold(0);
    m.replaceAll(rows);
    const QStringList before = order(m);
    const QPersistentModelIndex kept = m.index(10, StockModel::kSku);
    const QString keptSku = kept.data().toString();
    const QString keptLoc = m.rowValue(10).location;
    QSignalSpy layouts(&m, &QAbstractItemModel::layoutChanged);
    QSignalSpy finished(&m, &StockModel::sortFinished);
    for (int column : {int(StockModel::kOnHand), int(StockModel::kDescription), int(StockModel::kAvailable),
                       int(StockModel::kReorderPoint), int(StockModel::kWarehouse)}) {
      for (Qt::SortOrder o : {Qt::AscendingOrder, Qt::DescendingOrder}) {
        layouts.clear();
        finished.clear();
        reference.sort(column, o);
        m.sort(StockModel::kSku, Qt::DescendingOrder);  // superseded at once
        m.sort(column, o);
        QVERIFY(m.isSorting());
        QTRY_COMPARE(finished.size(), 1);
        QTest::qWait(20);  // a stale result would land by now
        QCOMPARE(finished.size(), 1);
        QCOMPARE(layouts.size(), 1);
        QCOMPARE(order(m), order(reference));
        QVERIFY(kept.isValid());
        QCOMPARE(kept.data().toString(), keptSku);
        QCOMPARE(m.rowValue(kept.row()).location, keptLoc);
      }
    }
    QVERIFY(before != order(m));
    // Rows arriving while sorting go after the sorted ones.
    m.sort(StockModel::kOnHand, Qt::AscendingOrder);
    m.applyEntries({entry("NEW-9", "w9/Z", 1000)});
    m.flushPending();
    QCOMPARE(m.rowCount(), 3001);
    QTRY_VERIFY(!m.isSorting());
    QCOMPARE(m.rowValue(3000).sku, QStringLiteral("NEW-9"));
    for (int r = 1; r < 3000; ++r) QVERIFY(m.rowValue(r - 1).onHand <= m.rowValue(r).onHand);
    // A filter change supersedes a sort in flight (the filter re-sorts now).
    m.sort(StockModel::kOnHand, Qt::DescendingOrder);
    m.setFilter({{}, QStringLiteral("w1"), {}, false});
    QVERIFY(!m.isSorting());
    for (int r = 1; r < m.rowCount(); ++r) QVERIFY(m.rowValue(r - 1).onHand >= m.rowValue(r).onHand);
    layouts.clear();
    QTest::qWait(50);
    QCOMPARE(layouts.size(), 0);
  }

  void stocktakeModels() {
    StocktakeModel m;
    QAbstractItemModelTester tester(&m, kMode);
    for (int i = 0; i < 5; ++i)
      m.addLine({QStringLiteral("r%1").arg(i), QStringLiteral("S-%1").arg(i), QStringLiteral("w1/A"), i, 1'700'000'000'000'000, "s", false});
    QVERIFY(m.setOutcome({QStringLiteral("r1"), session::CountOutcomeKind::kApplied, 3, 1, false, {}}));
    QVERIFY(m.setOutcome({QStringLiteral("r2"), session::CountOutcomeKind::kRejected, 0, 0, false, QStringLiteral("unknown item")}));
    QVERIFY(m.data(m.index(2, StocktakeModel::kResult)).toString().contains(QStringLiteral("unknown item")));
    QVERIFY(m.data(m.index(1, StocktakeModel::kResult)).toString().contains(QStringLiteral("variance +1")));
    m.removeLine(QStringLiteral("r4"));
    m.removeLine(QStringLiteral("r0"));
    QCOMPARE(m.rowCount(), 3);
    m.setLines({}, {});
    QCOMPARE(m.rowCount(), 0);

    PendingModel p;
    QAbstractItemModelTester t2(&p, kMode);
    p.setCounts({{"c1", "S-1", "w1/A", 50, 10, 40, "ana", 1}, {"c2", "S-2", "w1/A", 0, 30, -30, "ana", 1}});
    QCOMPARE(p.rowCount(), 2);
    p.remove(QStringLiteral("c1"));
    QCOMPARE(p.rowCount(), 1);
  }

  void alertsModel() {
    AlertsModel m;
    AlertsFilter f;
    f.setSourceModel(&m);
    QAbstractItemModelTester tester(&m, kMode);
    QAbstractItemModelTester tester2(&f, kMode);
    session::AlertValue a;
    a.id = 1;
    a.severity = 3;
    a.state = 1;
    a.subject = QStringLiteral("S-1");
    m.replaceAll({a});
    QSignalSpy counts(&m, &AlertsModel::countsChanged);
    a.id = 2;
    QVERIFY(m.upsert(a));  // new critical: notify
    a.state = 3;
    QVERIFY(!m.upsert(a));
    QCOMPARE(m.firingCritical(), 1);
    QCOMPARE(f.rowCount(), 1);  // resolved hidden
    f.setOpenOnly(false);
    QCOMPARE(f.rowCount(), 2);
    m.markAckQueued(1);
    QCOMPARE(m.firingCritical(), 0);
    QVERIFY(!counts.isEmpty());
  }

  void detailModels() {
    HistoryModel h;
    QAbstractItemModelTester t1(&h, kMode);
    h.setEntries({entry("S-1", "w1/A", 3), entry("S-1", "w1/B", 4, 2)});
    QCOMPARE(h.rowCount(), 2);
    NodesModel n;
    QAbstractItemModelTester t2(&n, kMode);
    n.setNodes({{"n1", "127.0.0.1:1", true, 256, "standalone"}});
    QCOMPARE(n.rowCount(), 1);
    ShardsModel s;
    QAbstractItemModelTester t3(&s, kMode);
    QVector<session::ShardValue> shards;
    for (quint32 i = 0; i < 256; ++i) shards.push_back({i, "n1", 1, i, 0});
    s.setShards(shards);
    QSignalSpy changed(&s, &QAbstractItemModel::dataChanged);
    s.setShards(shards);
    QCOMPARE(changed.size(), 1);
    QCOMPARE(s.rowCount(), 256);
  }
};

QTEST_MAIN(TestUiModels)
#include "test_ui_models.moc"
