#include "screenshots.h"

#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QLineEdit>
#include <QTimer>
#include <memory>

#include "ui/detail_views.h"
#include "ui/main_window.h"
#include "ui/status_panel.h"
#include "ui/stock_model.h"
#include "ui/stocktake_view.h"
#include "ui/alerts_model.h"
#include "ui/stream_plot.h"

namespace depot::app {

namespace {

void scan(ui::StocktakeView* st, const QString& text) {
  st->scanField()->setText(text);
  emit st->scanField()->returnPressed();
}

void grabAll(ui::MainWindow* w, const QString& dir, int tab) {
  if (tab >= ui::MainWindow::kTabCount) {
    qInfo("screenshots: done");
    QApplication::exit(0);
    return;
  }
  w->tabs()->setCurrentIndex(tab);
  // Give plots a few 25 Hz flushes and the table its repaint timer.
  QTimer::singleShot(1500, w, [w, dir, tab] {
    const QString path = QStringLiteral("%1/%2-%3.png").arg(dir).arg(tab + 1, 2, 10, QChar('0')).arg(ui::MainWindow::tabSlug(tab));
    if (!w->grab().save(path)) {
      qWarning("screenshots: cannot write %s", qPrintable(path));
      QApplication::exit(1);
      return;
    }
    qInfo("screenshots: %s", qPrintable(path));
    grabAll(w, dir, tab + 1);
  });
}

}  // namespace

void startScreenshots(ui::MainWindow* w, const QString& dir, int timeoutMs) {
  QDir().mkpath(dir);
  auto clock = std::make_shared<QElapsedTimer>();
  clock->start();
  auto* poll = new QTimer(w);
  poll->setInterval(250);
  QObject::connect(poll, &QTimer::timeout, w, [w, dir, timeoutMs, clock, poll] {
    const bool online = w->statusPanel()->status().state == session::LinkState::kOnline;
    const bool ready = online && w->stockModel()->rowCount() > 0 && w->metricsSamples() >= 12 &&
                       w->alertsModel()->rowCount() > 0;
    if (!ready && clock->elapsed() < timeoutMs) return;
    poll->stop();
    if (!ready) qWarning("screenshots: data not complete after %d ms; taking them anyway", timeoutMs);
    // Short windows: the console has only been running a few seconds.
    w->throughput()->plot()->setWindowSeconds(30);
    w->flows()->plot()->setWindowSeconds(30);
    // A few stocktake lines, typed as a scanner would (online: they flush).
    auto* st = w->stocktake();
    auto* model = w->stockModel();
    if (model->rowCount() >= 3) {
      w->tabs()->setCurrentIndex(ui::MainWindow::kStocktakeTab);
      const auto first = model->rowValue(0);
      scan(st, first.location);
      for (int i = 0; i < 3; ++i) {
        const auto r = model->rowValue(i);
        if (r.location != first.location) continue;
        scan(st, r.sku);
        scan(st, QString::number(r.onHand));
      }
      scan(st, QStringLiteral("NO-SUCH-SKU-42"));  // shows the typed-input validation
      // The item with the most recent activity, for the detail tab.
      w->itemDetail()->setRange(QStringLiteral("now-2m"), QStringLiteral("now"));
      w->itemDetail()->showItem(first.sku);
    }
    QTimer::singleShot(2500, w, [w, dir] { grabAll(w, dir, 0); });
  });
  poll->start();
}

}  // namespace depot::app
