// AlertsModel: current alerts (severity, kind, subject, summary, state,
// age, owner). replaceAll() on the stream's initial replay, upsert() per
// change. Counts of firing critical alerts drive the tab badge and the
// window title. UI thread only.
#pragma once

#include <QAbstractTableModel>
#include <QSortFilterProxyModel>
#include <QVector>

#include "session/session_types.h"

namespace depot::ui {

class AlertsModel final : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { kSeverity, kKind, kSubject, kSummary, kState, kAge, kOwner, kColumnCount };
  enum Role { kIdRole = Qt::UserRole + 1, kStateRole, kSeverityRole };
  explicit AlertsModel(QObject* parent = nullptr);
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

  void replaceAll(const QVector<session::AlertValue>& alerts);
  // Returns true when the alert is new and critical (worth a notification).
  bool upsert(const session::AlertValue& alert);
  void markAckQueued(quint64 id);
  int firingCritical() const;
  int firing() const;
  const session::AlertValue* alert(quint64 id) const;

  static QString severityText(int severity);
  static QString kindText(int kind);
  static QString stateText(int state);

 signals:
  void countsChanged(int firing, int firingCritical);

 private:
  QVector<session::AlertValue> m_alerts;
};

// Filter by state ("open" = firing or acknowledged) and minimum severity.
class AlertsFilter final : public QSortFilterProxyModel {
  Q_OBJECT
 public:
  using QSortFilterProxyModel::QSortFilterProxyModel;
  void setOpenOnly(bool open);
  void setMinSeverity(int severity);

 protected:
  bool filterAcceptsRow(int row, const QModelIndex& parent) const override;

 private:
  bool m_openOnly = true;
  int m_minSeverity = 0;
};

}  // namespace depot::ui
