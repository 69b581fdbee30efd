// The stocktake screen with no backend at all, driven by simulated scanner
// keystrokes: focus stays in the scan field; location -> item -> quantity ->
// Enter saves a line (outbox, durable before "saved"); bad input shows the
// reason next to the field; undo removes the last unsent line; blind mode.
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "session/cache.h"
#include "session/session.h"
#include "ui/stocktake_view.h"

using namespace depot;
using namespace depot::ui;

class TestStocktakeView : public QObject {
  Q_OBJECT
 private:
  static void scan(QLineEdit* field, const QString& text) {
    QTest::keyClicks(field, text);
    QTest::keyClick(field, Qt::Key_Return);
  }

 private slots:
  void scannerFlowOffline() {
    QTemporaryDir dir;
    session::Session::Options o;
    o.profile.name = QStringLiteral("offline");  // no endpoints: offline only
    o.cacheFile = dir.filePath(QStringLiteral("c.sqlite"));
    session::Session s(o);
    StocktakeView view(&s);
    view.setCatalog({{"S-1", "one", "ea", 0}, {"S-2", "two", "ea", 0}}, {"w1/A", "w1/B"});
    QCOMPARE(s.start(), QString());
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QLineEdit* f = view.scanField();
    QTRY_VERIFY(f->hasFocus());

    scan(f, QStringLiteral("nowhere"));
    QVERIFY(!view.reasonLabel()->text().isEmpty());
    QCOMPARE(view.step(), StocktakeView::Step::kLocation);
    scan(f, QStringLiteral("w1/A"));
    QCOMPARE(view.step(), StocktakeView::Step::kItem);
    QVERIFY(view.reasonLabel()->text().isEmpty());
    scan(f, QStringLiteral("S-404"));
    QVERIFY(view.reasonLabel()->text().contains(QStringLiteral("Unknown SKU")));
    scan(f, QStringLiteral("S-1"));
    QCOMPARE(view.step(), StocktakeView::Step::kQuantity);
    scan(f, QStringLiteral("-3"));
    QVERIFY(view.reasonLabel()->text().contains(QStringLiteral("Quantity")));
    scan(f, QStringLiteral("abc"));
    QVERIFY(view.reasonLabel()->text().contains(QStringLiteral("Quantity")));
    QCOMPARE(view.model()->lineCount(), 0);
    scan(f, QStringLiteral("12"));
    QCOMPARE(view.model()->lineCount(), 1);
    QVERIFY(view.confirmationLabel()->text().contains(QStringLiteral("12")));
    QTRY_COMPARE_WITH_TIMEOUT(view.model()->outcome(0).kind, session::CountOutcomeKind::kQueued, 5000);
    QCOMPARE(view.step(), StocktakeView::Step::kItem);
    // Next item at the same location, then a location switch.
    scan(f, QStringLiteral("S-2"));
    scan(f, QStringLiteral("0"));
    scan(f, QStringLiteral("w1/B"));
    scan(f, QStringLiteral("S-1"));
    view.setBlind(true);
    scan(f, QStringLiteral("7"));
    QCOMPARE(view.model()->lineCount(), 3);
    QCOMPARE(view.model()->draft(2).location, QStringLiteral("w1/B"));
    QVERIFY(view.model()->draft(2).blind);
    QTRY_COMPARE_WITH_TIMEOUT(view.model()->countIn(session::CountOutcomeKind::kQueued), 3, 5000);
    QVERIFY(f->hasFocus());
    // Undo the last (unsent) line.
    QSignalSpy undone(&s, &session::Session::countUndone);
    view.undoLast();
    QTRY_COMPARE_WITH_TIMEOUT(view.model()->lineCount(), 2, 5000);
    QCOMPARE(undone.first().at(1).toBool(), true);
    QVERIFY(f->hasFocus());
  }
};

QTEST_MAIN(TestStocktakeView)
#include "test_stocktake_view.moc"
