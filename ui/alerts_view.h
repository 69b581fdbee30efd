// AlertsView: filterable alert table with Acknowledge (with a note; queued
// in the outbox when offline) and Silence (for a typed duration, validated
// where it is typed). Both by role: for a clerk the Acknowledge and Silence
// buttons are disabled with a tooltip saying why, and the slots (also bound
// to shortcuts) refuse with the same reason.
#pragma once

#include <QLabel>
#include <QPushButton>
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
  QPushButton* acknowledgeButton() const { return m_ack; }
  QPushButton* silenceButton() const { return m_silence; }
  // Starts as the session profile's role.
  void setRole(session::Role role);
  session::Role role() const { return m_role; }

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
  QPushButton* m_ack;
  QPushButton* m_silence;
  session::Role m_role = session::kDefaultRole;
};

}  // namespace depot::ui
