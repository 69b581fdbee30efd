// AlertsView: filterable alert table with Acknowledge (with a note; queued
// in the outbox when offline) and Silence (for a typed duration, validated
// where it is typed).
#pragma once

#include <QLabel>
#include <QTableView>
#include <QWidget>

#include "session/session.h"
#include "ui/alerts_model.h"

namespace depot::ui {

class AlertsView final : public QWidget {
  Q_OBJECT
 public:
  AlertsView(session::Session* session, AlertsModel* model, QWidget* parent = nullptr);
  QTableView* table() const { return m_table; }

 public slots:
  void acknowledgeSelected();
  void silenceSelected();

 private:
  quint64 selectedId() const;
  session::Session* m_session;
  AlertsModel* m_model;
  AlertsFilter* m_filter;
  QTableView* m_table;
  QLabel* m_result;
};

}  // namespace depot::ui
