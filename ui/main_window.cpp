#include "ui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QMenuBar>
#include <QSettings>
#include <QShortcut>
#include <QStatusBar>
#include <QSystemTrayIcon>
#include <QTabBar>

#include "ui/alerts_model.h"
#include "ui/alerts_view.h"
#include "ui/detail_views.h"
#include "ui/status_panel.h"
#include "ui/stock_model.h"
#include "ui/stock_view.h"
#include "ui/stocktake_view.h"
#include "ui/stream_plot.h"

namespace depot::ui {

QString MainWindow::tabSlug(int tab) {
  static const char* const kSlugs[] = {"stock", "item", "flows", "throughput", "alerts", "stocktake", "cluster"};
  return tab >= 0 && tab < kTabCount ? QString::fromLatin1(kSlugs[tab]) : QString();
}

MainWindow::MainWindow(session::Session* session, QWidget* parent) : QMainWindow(parent), m_session(session) {
  m_tabs = new QTabWidget(this);
  m_stockModel = new StockModel(this);
  m_stock = new StockView(m_stockModel, this);
  m_item = new ItemDetailView(session, this);
  m_flows = new FlowsView(this);
  m_throughput = new ThroughputView(this);
  m_alertsModel = new AlertsModel(this);
  m_alerts = new AlertsView(session, m_alertsModel, this);
  m_stocktake = new StocktakeView(session, this);
  m_cluster = new ClusterView(this);
  m_tabs->addTab(m_stock, tr("&Stock"));
  m_tabs->addTab(m_item, tr("&Item"));
  m_tabs->addTab(m_flows, tr("&Flows"));
  m_tabs->addTab(m_throughput, tr("&Throughput"));
  m_tabs->addTab(m_alerts, tr("&Alerts"));
  m_tabs->addTab(m_stocktake, tr("Stock&take"));
  m_tabs->addTab(m_cluster, tr("&Cluster"));
  setCentralWidget(m_tabs);
  m_status = new StatusPanel(this);
  statusBar()->addPermanentWidget(m_status, 1);

  // Session -> models. Every connection is queued (the session emits from
  // its own threads); the models coalesce repaints on their timers.
  connect(session, &session::Session::stockReplaced, m_stockModel,
          [this](const QVector<session::StockRowValue>& rows, bool) { m_stockModel->replaceAll(rows); });
  connect(session, &session::Session::ledgerEntries, m_stockModel, &StockModel::applyEntries);
  connect(session, &session::Session::ledgerEntries, m_flows, &FlowsView::addEntries);
  connect(session, &session::Session::catalogLoaded, this,
          [this](const QVector<session::ItemValue>& items, const QStringList& locations) {
            m_stockModel->setCatalog(items);
            m_stocktake->setCatalog(items, locations);
            m_item->setCatalog(items);
          });
  connect(session, &session::Session::alertsReplaced, m_alertsModel, &AlertsModel::replaceAll);
  connect(session, &session::Session::alertChanged, this, [this](const session::AlertValue& a) {
    if (m_alertsModel->upsert(a)) {
      QApplication::alert(this);
      if (QSystemTrayIcon::isSystemTrayAvailable() && QSystemTrayIcon::supportsMessages()) {
        static QSystemTrayIcon* tray = nullptr;
        if (!tray) {
          tray = new QSystemTrayIcon(windowIcon(), this);
          tray->show();
        }
        tray->showMessage(tr("Critical alert"), a.summary, QSystemTrayIcon::Critical, 5000);
      }
    }
  });
  connect(m_alertsModel, &AlertsModel::countsChanged, this, [this](int firing, int critical) {
    m_critical = critical;
    m_tabs->setTabText(kAlertsTab, firing ? tr("&Alerts (%1)").arg(firing) : tr("&Alerts"));
    m_tabs->tabBar()->setTabTextColor(kAlertsTab, critical ? QColor(214, 69, 65) : palette().color(QPalette::WindowText));
    updateTitle();
  });
  connect(session, &session::Session::metricsSample, this, [this](const session::MetricsValue& s) {
    ++m_metricsSamples;
    m_throughput->addSample(s);
  });
  connect(session, &session::Session::linkStatus, m_status, &StatusPanel::setStatus);
  connect(session, &session::Session::cluster, m_cluster, &ClusterView::setCluster);
  connect(m_stock, &StockView::openItem, this, [this](const QString& sku) {
    m_tabs->setCurrentIndex(kItemTab);
    m_item->showItem(sku);
  });
  connect(m_stock, &StockView::exportFinished, this, [this](bool, const QString& text) { statusBar()->showMessage(text, 8000); });

  // Shortcuts: Ctrl+1..7 tabs, Ctrl+F filter, Ctrl+E export, Ctrl+Shift+A
  // acknowledge, F5 reconnect now.
  for (int i = 0; i < kTabCount; ++i) {
    auto* s = new QShortcut(QKeySequence(Qt::CTRL | static_cast<Qt::Key>(Qt::Key_1 + i)), this);
    connect(s, &QShortcut::activated, this, [this, i] { m_tabs->setCurrentIndex(i); });
  }
  auto* find = new QShortcut(QKeySequence::Find, this);
  connect(find, &QShortcut::activated, this, [this] {
    m_tabs->setCurrentIndex(kStockTab);
    m_stock->focusFilter();
  });
  auto* exportKey = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_E), this);
  connect(exportKey, &QShortcut::activated, m_stock, &StockView::exportCsvInteractive);
  auto* ack = new QShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_A), this);
  connect(ack, &QShortcut::activated, m_alerts, &AlertsView::acknowledgeSelected);
  auto* reconnect = new QShortcut(QKeySequence(Qt::Key_F5), this);
  connect(reconnect, &QShortcut::activated, session, &session::Session::reconnectNow);
  auto* quit = new QShortcut(QKeySequence::Quit, this);
  connect(quit, &QShortcut::activated, this, &QWidget::close);

  QSettings settings;
  if (!restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray())) resize(1400, 860);
  restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
  m_tabs->setCurrentIndex(settings.value(QStringLiteral("window/tab"), 0).toInt());
  updateTitle();
}

void MainWindow::updateTitle() {
  const QString base = tr("Depot console — %1").arg(m_session->options().profile.name.isEmpty()
                                                          ? m_session->options().profile.endpoints.join(',')
                                                          : m_session->options().profile.name);
  setWindowTitle(m_critical ? tr("(%1) %2").arg(m_critical).arg(base) : base);
}

void MainWindow::closeEvent(QCloseEvent* event) {
  QSettings settings;
  settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
  settings.setValue(QStringLiteral("window/state"), saveState());
  settings.setValue(QStringLiteral("window/tab"), m_tabs->currentIndex());
  QMainWindow::closeEvent(event);
}

}  // namespace depot::ui
