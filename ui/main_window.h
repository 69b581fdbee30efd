// MainWindow: the console's tabs (Stock, Item, Flows, Throughput, Alerts,
// Stocktake, Cluster), the status bar and keyboard shortcuts. Wires the
// session's queued signals to the models; restores its layout from
// QSettings. UI thread only.
#pragma once

#include <QMainWindow>
#include <QTabWidget>

#include "session/session.h"

namespace depot::ui {

class StockModel;
class StockView;
class AlertsModel;
class AlertsView;
class StocktakeView;
class StatusPanel;
class ThroughputView;
class FlowsView;
class ItemDetailView;
class ClusterView;

class MainWindow final : public QMainWindow {
  Q_OBJECT
 public:
  enum Tab { kStockTab, kItemTab, kFlowsTab, kThroughputTab, kAlertsTab, kStocktakeTab, kClusterTab, kTabCount };
  explicit MainWindow(session::Session* session, QWidget* parent = nullptr);

  QTabWidget* tabs() const { return m_tabs; }
  StockModel* stockModel() const { return m_stockModel; }
  StocktakeView* stocktake() const { return m_stocktake; }
  StatusPanel* statusPanel() const { return m_status; }
  ItemDetailView* itemDetail() const { return m_item; }
  int metricsSamples() const { return m_metricsSamples; }
  ThroughputView* throughput() const { return m_throughput; }
  FlowsView* flows() const { return m_flows; }
  AlertsModel* alertsModel() const { return m_alertsModel; }
  // Tab file names for screenshots: "stock", "item", ...
  static QString tabSlug(int tab);

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  void updateTitle();
  session::Session* m_session;
  QTabWidget* m_tabs;
  StockModel* m_stockModel;
  StockView* m_stock;
  AlertsModel* m_alertsModel;
  AlertsView* m_alerts;
  StocktakeView* m_stocktake;
  StatusPanel* m_status;
  ThroughputView* m_throughput;
  FlowsView* m_flows;
  ItemDetailView* m_item;
  ClusterView* m_cluster;
  int m_metricsSamples = 0;
  int m_critical = 0;
};

}  // namespace depot::ui
