#include "ui/stocktake_model.h"

#include <QColor>
#include <QDateTime>

namespace depot::ui {

using session::CountOutcomeKind;

StocktakeModel::StocktakeModel(QObject* parent) : QAbstractTableModel(parent) {}

int StocktakeModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : static_cast<int>(m_lines.size()); }
int StocktakeModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : kColumnCount; }

QVariant StocktakeModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case kNumber: return tr("#");
    case kTime: return tr("Counted at");
    case kLocation: return tr("Location");
    case kSku: return tr("SKU");
    case kCounted: return tr("Counted");
    case kResult: return tr("Result");
  }
  return {};
}

QString StocktakeModel::outcomeText(const session::CountOutcome& o) {
  switch (o.kind) {
    case CountOutcomeKind::kSaving: return tr("Saving…");
    case CountOutcomeKind::kQueued: return tr("Saved — waiting to send");
    case CountOutcomeKind::kApplied:
      return o.blind ? tr("Applied") : tr("Applied (expected %1, variance %2%3)").arg(o.expected).arg(o.variance > 0 ? "+" : "").arg(o.variance);
    case CountOutcomeKind::kPendingApproval:
      return o.blind ? tr("Awaiting supervisor approval")
                     : tr("Awaiting approval (expected %1, variance %2%3)").arg(o.expected).arg(o.variance > 0 ? "+" : "").arg(o.variance);
    case CountOutcomeKind::kRejected: return tr("Rejected: %1").arg(o.text);
  }
  return {};
}

QVariant StocktakeModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const Line& l = m_lines[index.row()];
  if (role == Qt::DisplayRole) {
    switch (index.column()) {
      case kNumber: return l.number;
      case kTime: return QDateTime::fromMSecsSinceEpoch(l.draft.countedAtUs / 1000).toString(QStringLiteral("HH:mm:ss"));
      case kLocation: return l.draft.location;
      case kSku: return l.draft.sku;
      case kCounted: return l.draft.counted;
      case kResult: return outcomeText(l.outcome);
    }
  } else if (role == Qt::BackgroundRole && index.column() == kResult) {
    switch (l.outcome.kind) {
      case CountOutcomeKind::kApplied: return QColor(46, 157, 70, 60);
      case CountOutcomeKind::kPendingApproval: return QColor(240, 170, 0, 70);
      case CountOutcomeKind::kRejected: return QColor(214, 69, 65, 80);
      default: return {};
    }
  } else if (role == Qt::TextAlignmentRole && (index.column() == kCounted || index.column() == kNumber)) {
    return QVariant(Qt::AlignRight | Qt::AlignVCenter);
  }
  return {};
}

void StocktakeModel::addLine(const session::CountDraft& draft) {
  beginInsertRows({}, rowCount(), rowCount());
  m_lines.push_back({draft, {draft.requestId, CountOutcomeKind::kSaving, 0, 0, draft.blind, {}}, m_nextNumber++});
  endInsertRows();
}

void StocktakeModel::setLines(const QVector<session::CountDraft>& drafts, const QVector<session::CountOutcome>& outcomes) {
  beginResetModel();
  m_lines.clear();
  m_nextNumber = 1;
  for (qsizetype i = 0; i < drafts.size() && i < outcomes.size(); ++i) m_lines.push_back({drafts[i], outcomes[i], m_nextNumber++});
  endResetModel();
}

bool StocktakeModel::setOutcome(const session::CountOutcome& outcome) {
  // Outcomes arrive roughly in order: search from the end.
  for (qsizetype i = m_lines.size() - 1; i >= 0; --i) {
    if (m_lines[i].draft.requestId == outcome.requestId) {
      m_lines[i].outcome = outcome;
      emit dataChanged(index(static_cast<int>(i), kResult), index(static_cast<int>(i), kResult));
      return true;
    }
  }
  return false;
}

void StocktakeModel::removeLine(const QString& requestId) {
  for (qsizetype i = m_lines.size() - 1; i >= 0; --i) {
    if (m_lines[i].draft.requestId == requestId) {
      beginRemoveRows({}, static_cast<int>(i), static_cast<int>(i));
      m_lines.removeAt(i);
      endRemoveRows();
      return;
    }
  }
}

int StocktakeModel::countIn(CountOutcomeKind kind) const {
  int n = 0;
  for (const auto& l : m_lines) n += l.outcome.kind == kind;
  return n;
}

PendingModel::PendingModel(QObject* parent) : QAbstractTableModel(parent) {}
int PendingModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : static_cast<int>(m_counts.size()); }
int PendingModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : kColumnCount; }

QVariant PendingModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case kSku: return tr("SKU");
    case kLocation: return tr("Location");
    case kCounted: return tr("Counted");
    case kExpected: return tr("Expected");
    case kVariance: return tr("Variance");
    case kCounter: return tr("Counter");
    case kWhen: return tr("Counted at");
  }
  return {};
}

QVariant PendingModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const auto& c = m_counts[index.row()];
  if (role != Qt::DisplayRole) return {};
  switch (index.column()) {
    case kSku: return c.sku;
    case kLocation: return c.location;
    case kCounted: return c.counted;
    case kExpected: return c.expected;
    case kVariance: return c.variance;
    case kCounter: return c.counter;
    case kWhen: return QDateTime::fromMSecsSinceEpoch(c.countedAtUs / 1000).toString(QStringLiteral("yyyy-MM-dd HH:mm"));
  }
  return {};
}

void PendingModel::setCounts(const QVector<session::PendingCountValue>& counts) {
  beginResetModel();
  m_counts = counts;
  endResetModel();
}

void PendingModel::remove(const QString& countId) {
  for (qsizetype i = 0; i < m_counts.size(); ++i) {
    if (m_counts[i].countId == countId) {
      beginRemoveRows({}, static_cast<int>(i), static_cast<int>(i));
      m_counts.removeAt(i);
      endRemoveRows();
      return;
    }
  }
}

}  // namespace depot::ui
