// StatusPanel: the status-bar widgets — link state (Online / Connecting /
// Reconnecting with the next attempt / Offline), endpoint, data age, Watch
// lag, outbox count and the re-snapshot progress. Refreshes its relative
// times once a second. UI thread only.
#pragma once

#include <QLabel>
#include <QProgressBar>
#include <QTimer>
#include <QWidget>

#include "session/session_types.h"

namespace depot::ui {

class StatusPanel final : public QWidget {
  Q_OBJECT
 public:
  explicit StatusPanel(QWidget* parent = nullptr);
  void setStatus(const session::LinkStatus& status);
  const session::LinkStatus& status() const { return m_status; }
  QString stateText() const;

 private:
  void refresh();
  session::LinkStatus m_status;
  QLabel* m_state;
  QLabel* m_age;
  QLabel* m_lag;
  QLabel* m_outbox;
  QProgressBar* m_progress;
  QTimer m_timer;
};

// "3 s", "2 min", "1 h 5 min".
QString humanDuration(qint64 seconds);

}  // namespace depot::ui
