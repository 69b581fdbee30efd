#include "ui/status_panel.h"

#include <QDateTime>
#include <QHBoxLayout>

namespace depot::ui {

QString humanDuration(qint64 s) {
  if (s < 0) s = 0;
  if (s < 60) return QObject::tr("%1 s").arg(s);
  if (s < 3600) return QObject::tr("%1 min").arg(s / 60);
  if (s < 86400) return QObject::tr("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60);
  return QObject::tr("%1 d %2 h").arg(s / 86400).arg((s % 86400) / 3600);
}

StatusPanel::StatusPanel(QWidget* parent) : QWidget(parent) {
  auto* lay = new QHBoxLayout(this);
  lay->setContentsMargins(0, 0, 0, 0);
  m_state = new QLabel(this);
  m_state->setObjectName(QStringLiteral("linkState"));
  m_age = new QLabel(this);
  m_lag = new QLabel(this);
  m_outbox = new QLabel(this);
  m_outbox->setObjectName(QStringLiteral("outboxCount"));
  m_progress = new QProgressBar(this);
  m_progress->setRange(0, 256);
  m_progress->setFormat(tr("Re-snapshot %p%"));
  m_progress->setMaximumWidth(180);
  m_progress->hide();
  for (QWidget* w : {static_cast<QWidget*>(m_state), static_cast<QWidget*>(m_age), static_cast<QWidget*>(m_lag),
                     static_cast<QWidget*>(m_outbox), static_cast<QWidget*>(m_progress)})
    lay->addWidget(w);
  m_timer.setInterval(1000);
  connect(&m_timer, &QTimer::timeout, this, &StatusPanel::refresh);
  m_timer.start();
  refresh();
}

void StatusPanel::setStatus(const session::LinkStatus& status) {
  m_status = status;
  refresh();
}

QString StatusPanel::stateText() const {
  using session::LinkState;
  const qint64 now = QDateTime::currentSecsSinceEpoch();
  switch (m_status.state) {
    case LinkState::kOnline: return tr("● Online — %1").arg(m_status.endpoint);
    case LinkState::kConnecting: return tr("◌ Connecting…");
    case LinkState::kReconnecting: {
      const qint64 in = m_status.nextAttempt.isValid() ? m_status.nextAttempt.toSecsSinceEpoch() - now : 0;
      return in > 0 ? tr("◌ Reconnecting — next attempt in %1").arg(humanDuration(in)) : tr("◌ Reconnecting…");
    }
    case LinkState::kOffline: {
      const qint64 in = m_status.nextAttempt.isValid() ? m_status.nextAttempt.toSecsSinceEpoch() - now : -1;
      return in > 0 ? tr("○ Offline — retrying in %1").arg(humanDuration(in)) : tr("○ Offline");
    }
  }
  return {};
}

void StatusPanel::refresh() {
  using session::LinkState;
  m_state->setText(stateText());
  m_state->setToolTip(m_status.lastError);
  QString color;
  switch (m_status.state) {
    case LinkState::kOnline: color = QStringLiteral("#2e9d46"); break;
    case LinkState::kOffline: color = QStringLiteral("#d64541"); break;
    default: color = QStringLiteral("#d98c00"); break;
  }
  m_state->setStyleSheet(QStringLiteral("QLabel { color: %1; font-weight: bold; }").arg(color));
  if (m_status.dataAsOf.isValid()) {
    const qint64 age = m_status.dataAsOf.secsTo(QDateTime::currentDateTime());
    m_age->setText(tr("Data age: %1").arg(humanDuration(age)));
  } else {
    m_age->setText(tr("Data age: no data yet"));
  }
  m_lag->setText(m_status.watchLagEntries >= 0 && m_status.state == LinkState::kOnline
                     ? tr("Watch lag: %1 entries").arg(m_status.watchLagEntries)
                     : tr("Watch lag: —"));
  m_outbox->setText(tr("Outbox: %1 waiting").arg(m_status.outboxCount));
  if (m_status.snapshotProgress >= 0) {
    m_progress->setValue(m_status.snapshotProgress);
    m_progress->show();
  } else {
    m_progress->hide();
  }
}

}  // namespace depot::ui
