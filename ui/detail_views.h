// ItemDetailView: balances per location, ledger history (who, what, when,
// why, request id) and a balance-over-time plot for a chosen range.
// ClusterView: nodes (health, shards owned) and shards (owner, seq, lag).
// HistoryModel / NodesModel / ShardsModel are passive table models.
#pragma once

#include <QAbstractTableModel>
#include <QLabel>
#include <QLineEdit>
#include <QSet>
#include <QWidget>

#include "session/session.h"

class QCustomPlot;
class QTableView;

namespace depot::ui {

class HistoryModel final : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { kWhen, kKind, kLocation, kDelta, kAfter, kActor, kReason, kRef, kRequestId, kColumnCount };
  using QAbstractTableModel::QAbstractTableModel;
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
  void setEntries(const QVector<session::LedgerEntryValue>& entries);
  static QString kindText(int kind);

 private:
  QVector<session::LedgerEntryValue> m_entries;
};

class NodesModel final : public QAbstractTableModel {
  Q_OBJECT
 public:
  using QAbstractTableModel::QAbstractTableModel;
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
  void setNodes(const QVector<session::NodeValue>& nodes);

 private:
  QVector<session::NodeValue> m_nodes;
};

class ShardsModel final : public QAbstractTableModel {
  Q_OBJECT
 public:
  using QAbstractTableModel::QAbstractTableModel;
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
  // Same shard set: one ranged dataChanged; otherwise a reset.
  void setShards(const QVector<session::ShardValue>& shards);

 private:
  QVector<session::ShardValue> m_shards;
};

class ItemDetailView final : public QWidget {
  Q_OBJECT
 public:
  ItemDetailView(session::Session* session, QWidget* parent = nullptr);
  void setCatalog(const QVector<session::ItemValue>& items);
  void showItem(const QString& sku);
  // Range fields as typed: "now", "now-2h", RFC 3339, a date.
  void setRange(const QString& from, const QString& to);
  void setDetail(const session::ItemDetailValue& detail);
  QCustomPlot* plot() const { return m_plot; }

 private:
  void load();
  session::Session* m_session;
  QSet<QString> m_skus;
  QLineEdit* m_sku;
  QLineEdit* m_from;
  QLineEdit* m_to;
  QLabel* m_reason;
  QLabel* m_header;
  QTableView* m_balances;
  QAbstractItemModel* m_balanceModel;
  HistoryModel* m_history;
  QCustomPlot* m_plot;
};

class ClusterView final : public QWidget {
  Q_OBJECT
 public:
  explicit ClusterView(QWidget* parent = nullptr);
  void setCluster(const session::ClusterValue& cluster);

 private:
  NodesModel* m_nodes;
  ShardsModel* m_shards;
  QLabel* m_summary;
};

}  // namespace depot::ui
