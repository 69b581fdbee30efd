// StocktakeView: count entry built for a keyboard-wedge barcode scanner.
// The scanner "types" a code and Enter; the clerk types the quantity and
// Enter. Focus stays in the scan field (every other control is NoFocus or
// hands focus back). Steps: location -> item -> quantity -> (saved) -> item…
// A location scan at any step switches location. Each line goes to the
// session's outbox and shows "saved" only once durable; its later outcome
// (applied / awaiting approval / rejected with the reason) updates the row.
// Works with no backend: validation uses the cached catalog (and says so when
// there is none yet). Approve / Reject of pending variances are for
// supervisors and managers: for a clerk they are disabled with a tooltip
// saying why (counting is open to every role).
#pragma once

#include <QCheckBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSet>
#include <QTableView>
#include <QTimer>
#include <QWidget>

#include "session/session.h"
#include "ui/stocktake_model.h"

namespace depot::ui {

class StocktakeView final : public QWidget {
  Q_OBJECT
 public:
  enum class Step { kLocation, kItem, kQuantity };
  StocktakeView(session::Session* session, QWidget* parent = nullptr);

  QLineEdit* scanField() const { return m_scan; }
  QLabel* reasonLabel() const { return m_reason; }
  QLabel* confirmationLabel() const { return m_confirm; }
  StocktakeModel* model() const { return m_model; }
  Step step() const { return m_step; }
  void setCatalog(const QVector<session::ItemValue>& items, const QStringList& locations);
  void undoLast();
  void setBlind(bool blind) { m_blind->setChecked(blind); }
  QPushButton* approveButton() const { return m_approve; }
  QPushButton* rejectButton() const { return m_reject; }
  // Starts as the session profile's role.
  void setRole(session::Role role);
  session::Role role() const { return m_role; }

 protected:
  void showEvent(QShowEvent* event) override;

 private:
  void onEnter();
  void setStep(Step step);
  bool isLocation(const QString& text) const;
  void showReason(const QString& reason);
  void confirm(const QString& text, bool good);
  void refocus();

  session::Session* m_session;
  StocktakeModel* m_model;
  PendingModel* m_pending;
  QLineEdit* m_scan;
  QLabel* m_prompt;
  QLabel* m_reason;
  QLabel* m_confirm;
  QLabel* m_sessionLabel;
  QCheckBox* m_blind;
  QTableView* m_lines;
  QTableView* m_pendingTable;
  QLineEdit* m_note;
  QLabel* m_pendingStatus;
  QPushButton* m_approve;
  QPushButton* m_reject;
  session::Role m_role = session::kDefaultRole;
  Step m_step = Step::kLocation;
  QString m_location;
  QString m_sku;
  QString m_sessionId;
  QSet<QString> m_skus;
  QSet<QString> m_locations;
  QTimer m_confirmFade;
};

}  // namespace depot::ui
