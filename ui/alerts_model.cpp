#include "ui/alerts_model.h"

#include <QColor>
#include <QDateTime>

#include "ui/status_panel.h"

namespace depot::ui {

AlertsModel::AlertsModel(QObject* parent) : QAbstractTableModel(parent) {}
int AlertsModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : static_cast<int>(m_alerts.size()); }
int AlertsModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : kColumnCount; }

QString AlertsModel::severityText(int s) {
  switch (s) {
    case 1: return tr("Info");
    case 2: return tr("Warning");
    case 3: return tr("Critical");
  }
  return tr("—");
}
QString AlertsModel::kindText(int k) {
  switch (k) {
    case 1: return tr("Low stock");
    case 2: return tr("Stockout");
    case 3: return tr("Count variance");
  }
  return tr("Other");
}
QString AlertsModel::stateText(int s) {
  switch (s) {
    case 1: return tr("Firing");
    case 2: return tr("Acknowledged");
    case 3: return tr("Resolved");
  }
  return tr("—");
}

QVariant AlertsModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case kSeverity: return tr("Severity");
    case kKind: return tr("Kind");
    case kSubject: return tr("Subject");
    case kSummary: return tr("Summary");
    case kState: return tr("State");
    case kAge: return tr("Age");
    case kOwner: return tr("Owner");
  }
  return {};
}

QVariant AlertsModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const auto& a = m_alerts[index.row()];
  switch (role) {
    case Qt::DisplayRole:
      switch (index.column()) {
        case kSeverity: return severityText(a.severity);
        case kKind: return kindText(a.kind);
        case kSubject: return a.subject;
        case kSummary: return a.silenced ? tr("%1 (silenced)").arg(a.summary) : a.summary;
        case kState: return a.ackQueued ? tr("Acknowledged (queued)") : stateText(a.state);
        case kAge:
          return a.firedAtUs > 0 ? humanDuration(QDateTime::currentSecsSinceEpoch() - a.firedAtUs / 1000000) : QString();
        case kOwner: return a.ackedBy;
      }
      return {};
    case Qt::BackgroundRole:
      if (index.column() == kSeverity && a.state != 3) {
        if (a.severity == 3) return QColor(214, 69, 65, 110);
        if (a.severity == 2) return QColor(240, 170, 0, 90);
      }
      return {};
    case Qt::ToolTipRole: return a.ackNote.isEmpty() ? QVariant() : tr("Note: %1").arg(a.ackNote);
    case kIdRole: return QVariant::fromValue(a.id);
    case kStateRole: return a.state;
    case kSeverityRole: return a.severity;
  }
  return {};
}

void AlertsModel::replaceAll(const QVector<session::AlertValue>& alerts) {
  beginResetModel();
  m_alerts = alerts;
  endResetModel();
  emit countsChanged(firing(), firingCritical());
}

bool AlertsModel::upsert(const session::AlertValue& alert) {
  for (qsizetype i = 0; i < m_alerts.size(); ++i) {
    if (m_alerts[i].id == alert.id) {
      m_alerts[i] = alert;
      emit dataChanged(index(static_cast<int>(i), 0), index(static_cast<int>(i), kColumnCount - 1));
      emit countsChanged(firing(), firingCritical());
      return false;
    }
  }
  beginInsertRows({}, rowCount(), rowCount());
  m_alerts.push_back(alert);
  endInsertRows();
  emit countsChanged(firing(), firingCritical());
  return alert.severity == 3 && alert.state == 1;
}

void AlertsModel::markAckQueued(quint64 id) {
  for (qsizetype i = 0; i < m_alerts.size(); ++i) {
    if (m_alerts[i].id == id) {
      m_alerts[i].ackQueued = true;
      emit dataChanged(index(static_cast<int>(i), kState), index(static_cast<int>(i), kState));
    }
  }
}

int AlertsModel::firingCritical() const {
  int n = 0;
  for (const auto& a : m_alerts) n += a.state == 1 && a.severity == 3 && !a.silenced && !a.ackQueued;
  return n;
}
int AlertsModel::firing() const {
  int n = 0;
  for (const auto& a : m_alerts) n += a.state == 1 && !a.ackQueued;
  return n;
}
const session::AlertValue* AlertsModel::alert(quint64 id) const {
  for (const auto& a : m_alerts)
    if (a.id == id) return &a;
  return nullptr;
}

void AlertsFilter::setOpenOnly(bool open) {
  m_openOnly = open;
  invalidateFilter();
}
void AlertsFilter::setMinSeverity(int severity) {
  m_minSeverity = severity;
  invalidateFilter();
}
bool AlertsFilter::filterAcceptsRow(int row, const QModelIndex& parent) const {
  const QModelIndex i = sourceModel()->index(row, 0, parent);
  if (m_openOnly && i.data(AlertsModel::kStateRole).toInt() == 3) return false;
  if (i.data(AlertsModel::kSeverityRole).toInt() < m_minSeverity) return false;
  return QSortFilterProxyModel::filterAcceptsRow(row, parent);
}

}  // namespace depot::ui
