// StocktakeModel: the count lines of the stocktake screen with their
// outcome (saving, saved offline, applied, awaiting approval, rejected with
// the reason). PendingModel: counts awaiting a supervisor's decision.
// UI thread only.
#pragma once

#include <QAbstractTableModel>
#include <QVector>

#include "session/session_types.h"

namespace depot::ui {

class StocktakeModel final : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { kNumber, kTime, kLocation, kSku, kCounted, kResult, kColumnCount };
  explicit StocktakeModel(QObject* parent = nullptr);
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

  void addLine(const session::CountDraft& draft);
  void setLines(const QVector<session::CountDraft>& drafts, const QVector<session::CountOutcome>& outcomes);
  // Returns false when the request id is unknown.
  bool setOutcome(const session::CountOutcome& outcome);
  void removeLine(const QString& requestId);
  int lineCount() const { return static_cast<int>(m_lines.size()); }
  const session::CountDraft& draft(int row) const { return m_lines[row].draft; }
  const session::CountOutcome& outcome(int row) const { return m_lines[row].outcome; }
  int countIn(session::CountOutcomeKind kind) const;
  static QString outcomeText(const session::CountOutcome& o);

 private:
  struct Line {
    session::CountDraft draft;
    session::CountOutcome outcome;
    int number = 0;  // stable line number (undo does not renumber)
  };
  QVector<Line> m_lines;
  int m_nextNumber = 1;
};

class PendingModel final : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { kSku, kLocation, kCounted, kExpected, kVariance, kCounter, kWhen, kColumnCount };
  explicit PendingModel(QObject* parent = nullptr);
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
  void setCounts(const QVector<session::PendingCountValue>& counts);
  void remove(const QString& countId);
  const session::PendingCountValue& count(int row) const { return m_counts[row]; }

 private:
  QVector<session::PendingCountValue> m_counts;
};

}  // namespace depot::ui
