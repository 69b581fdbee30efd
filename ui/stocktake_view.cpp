#include "ui/stocktake_view.h"

#include <QApplication>
#include <QDateTime>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QShortcut>
#include <QSplitter>
#include <QVBoxLayout>

#include "client/parse.h"
#include "client/request_id.h"

namespace depot::ui {

using session::CountOutcomeKind;

namespace {
QString reasonOf(const absl::Status& st) { return QString::fromStdString(std::string(st.message())); }
}  // namespace

StocktakeView::StocktakeView(session::Session* session, QWidget* parent)
    : QWidget(parent), m_session(session), m_model(new StocktakeModel(this)), m_pending(new PendingModel(this)) {
  m_sessionId = QStringLiteral("console-") + QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"));
  auto* outer = new QHBoxLayout(this);
  auto* split = new QSplitter(Qt::Horizontal, this);
  outer->addWidget(split);

  auto* left = new QWidget(split);
  auto* lay = new QVBoxLayout(left);
  auto* top = new QHBoxLayout;
  m_sessionLabel = new QLabel(tr("Count session %1").arg(m_sessionId), left);
  m_blind = new QCheckBox(tr("Blind count (hide expected quantities)"), left);
  m_blind->setFocusPolicy(Qt::NoFocus);
  auto* undo = new QPushButton(tr("Undo last line (Ctrl+Z)"), left);
  undo->setFocusPolicy(Qt::NoFocus);
  top->addWidget(m_sessionLabel);
  top->addStretch();
  top->addWidget(m_blind);
  top->addWidget(undo);
  lay->addLayout(top);

  m_prompt = new QLabel(left);
  QFont big = m_prompt->font();
  big.setPointSizeF(big.pointSizeF() * 1.6);
  big.setBold(true);
  m_prompt->setFont(big);
  lay->addWidget(m_prompt);
  auto* scanRow = new QHBoxLayout;
  m_scan = new QLineEdit(left);
  m_scan->setObjectName(QStringLiteral("scanField"));
  QFont scanFont = m_scan->font();
  scanFont.setPointSizeF(scanFont.pointSizeF() * 1.5);
  m_scan->setFont(scanFont);
  m_scan->setMinimumWidth(320);
  m_reason = new QLabel(left);
  m_reason->setObjectName(QStringLiteral("scanReason"));
  m_reason->setStyleSheet(QStringLiteral("QLabel { color: #d64541; font-weight: bold; }"));
  m_reason->setWordWrap(true);
  scanRow->addWidget(m_scan, 1);
  scanRow->addWidget(m_reason, 1);
  lay->addLayout(scanRow);
  m_confirm = new QLabel(left);
  m_confirm->setObjectName(QStringLiteral("scanConfirmation"));
  m_confirm->setFont(big);
  m_confirm->setMinimumHeight(m_confirm->fontMetrics().height() + 12);
  lay->addWidget(m_confirm);

  m_lines = new QTableView(left);
  m_lines->setModel(m_model);
  m_lines->setFocusPolicy(Qt::NoFocus);
  m_lines->verticalHeader()->setVisible(false);
  m_lines->horizontalHeader()->setStretchLastSection(true);
  m_lines->setColumnWidth(StocktakeModel::kLocation, 120);
  m_lines->setColumnWidth(StocktakeModel::kSku, 120);
  m_lines->setSelectionMode(QAbstractItemView::NoSelection);
  lay->addWidget(m_lines, 1);

  auto* right = new QGroupBox(tr("Variances awaiting approval (supervisor)"), split);
  auto* rl = new QVBoxLayout(right);
  m_pendingTable = new QTableView(right);
  m_pendingTable->setModel(m_pending);
  m_pendingTable->setSelectionBehavior(QAbstractItemView::SelectRows);
  m_pendingTable->setSelectionMode(QAbstractItemView::SingleSelection);
  m_pendingTable->verticalHeader()->setVisible(false);
  m_pendingTable->horizontalHeader()->setStretchLastSection(true);
  rl->addWidget(m_pendingTable, 1);
  m_note = new QLineEdit(right);
  m_note->setPlaceholderText(tr("Note for the decision (optional, up to 512 characters)"));
  m_note->setMaxLength(512);
  rl->addWidget(m_note);
  auto* buttons = new QHBoxLayout;
  auto* refresh = new QPushButton(tr("Refresh"), right);
  auto* approve = m_approve = new QPushButton(tr("Approve"), right);
  auto* reject = m_reject = new QPushButton(tr("Reject"), right);
  for (auto* b : {refresh, approve, reject}) buttons->addWidget(b);
  rl->addLayout(buttons);
  m_pendingStatus = new QLabel(right);
  m_pendingStatus->setWordWrap(true);
  rl->addWidget(m_pendingStatus);
  split->setSizes({800, 560});
  setRole(m_session->options().profile.role);

  connect(m_scan, &QLineEdit::returnPressed, this, &StocktakeView::onEnter);
  connect(m_scan, &QLineEdit::textEdited, this, [this] { m_reason->clear(); });
  connect(undo, &QPushButton::clicked, this, &StocktakeView::undoLast);
  connect(m_blind, &QCheckBox::toggled, this, &StocktakeView::refocus);
  auto* undoKey = new QShortcut(QKeySequence::Undo, this);
  undoKey->setContext(Qt::WidgetWithChildrenShortcut);
  connect(undoKey, &QShortcut::activated, this, &StocktakeView::undoLast);

  connect(m_session, &session::Session::countOutcome, this, [this](const session::CountOutcome& o) {
    m_model->setOutcome(o);
    if (o.kind == CountOutcomeKind::kQueued) {
      QApplication::beep();
    } else if (o.kind == CountOutcomeKind::kRejected) {
      confirm(tr("✖ Line not accepted: %1").arg(o.text), false);
    }
  });
  // The cache load is asynchronous: lines entered before it arrives (not
  // among the loaded ones) stay, after them, with their outcomes.
  connect(m_session, &session::Session::countsLoaded, this,
          [this](QVector<session::CountDraft> drafts, QVector<session::CountOutcome> outcomes) {
            QSet<QString> loaded;
            for (const auto& d : drafts) loaded.insert(d.requestId);
            for (int i = 0; i < m_model->lineCount(); ++i) {
              if (loaded.contains(m_model->draft(i).requestId)) continue;
              drafts.push_back(m_model->draft(i));
              outcomes.push_back(m_model->outcome(i));
            }
            m_model->setLines(drafts, outcomes);
          });
  connect(m_session, &session::Session::countUndone, this, [this](const QString& id, bool ok, const QString& reason) {
    if (ok) {
      m_model->removeLine(id);
      confirm(tr("↶ Last line undone"), true);
    } else {
      showReason(tr("Cannot undo: %1").arg(reason));
    }
  });
  auto selectedCount = [this]() -> QString {
    const auto rows = m_pendingTable->selectionModel()->selectedRows();
    return rows.isEmpty() ? QString() : m_pending->count(rows.first().row()).countId;
  };
  connect(refresh, &QPushButton::clicked, m_session, &session::Session::requestPending);
  auto decide = [this, selectedCount](bool ok) {
    if (!session::canDecide(m_role)) return;  // the buttons are disabled too
    const QString id = selectedCount();
    if (id.isEmpty()) {
      m_pendingStatus->setText(tr("Select a count first."));
      return;
    }
    m_session->decide(id, ok, m_note->text());
  };
  connect(approve, &QPushButton::clicked, this, [decide] { decide(true); });
  connect(reject, &QPushButton::clicked, this, [decide] { decide(false); });
  connect(m_session, &session::Session::pendingCounts, this,
          [this](const QVector<session::PendingCountValue>& counts, const QString& error) {
            if (error.isEmpty()) {
              m_pending->setCounts(counts);
              m_pendingStatus->setText(tr("%n count(s) awaiting a decision", nullptr, static_cast<int>(counts.size())));
            } else {
              m_pendingStatus->setText(error);
            }
          });
  connect(m_session, &session::Session::decisionDone, this, [this](const QString& id, bool ok, const QString& text) {
    if (ok) m_pending->remove(id);
    m_pendingStatus->setText(text);
    m_note->clear();
  });
  setStep(Step::kLocation);
}

void StocktakeView::setRole(session::Role role) {
  m_role = role;
  const bool can = session::canDecide(role);
  const QString why = tr("Clerks cannot approve or reject variances: a supervisor or manager role is needed");
  m_approve->setEnabled(can);
  m_reject->setEnabled(can);
  m_approve->setToolTip(can ? tr("Approve the selected pending count") : why);
  m_reject->setToolTip(can ? tr("Reject the selected pending count") : why);
  m_note->setEnabled(can);
}

void StocktakeView::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  refocus();
  m_session->requestPending();
}

void StocktakeView::refocus() { m_scan->setFocus(Qt::OtherFocusReason); }

void StocktakeView::setCatalog(const QVector<session::ItemValue>& items, const QStringList& locations) {
  m_skus.clear();
  for (const auto& i : items) m_skus.insert(i.sku);
  m_locations = QSet<QString>(locations.begin(), locations.end());
}

bool StocktakeView::isLocation(const QString& text) const {
  if (!m_locations.isEmpty()) return m_locations.contains(text);
  return client::parseLocation("location", text.toStdString()).ok() && !m_skus.contains(text);
}

void StocktakeView::setStep(Step step) {
  m_step = step;
  switch (step) {
    case Step::kLocation: m_prompt->setText(tr("① Scan a location")); break;
    case Step::kItem: m_prompt->setText(tr("② Scan an item at %1").arg(m_location)); break;
    case Step::kQuantity: m_prompt->setText(tr("③ Type the quantity of %1 at %2, then Enter").arg(m_sku, m_location)); break;
  }
  m_scan->setPlaceholderText(step == Step::kQuantity ? tr("quantity") : tr("scan or type a code"));
}

void StocktakeView::showReason(const QString& reason) {
  m_reason->setText(reason);
  QApplication::beep();
  refocus();
}

void StocktakeView::confirm(const QString& text, bool good) {
  m_confirm->setText(text);
  m_confirm->setStyleSheet(good ? QStringLiteral("QLabel { color: white; background: #2e9d46; padding: 4px; }")
                                : QStringLiteral("QLabel { color: white; background: #d64541; padding: 4px; }"));
}

void StocktakeView::onEnter() {
  const QString text = m_scan->text().trimmed();
  m_scan->clear();
  refocus();
  if (text.isEmpty()) return;
  m_reason->clear();
  // A location label switches location at any step.
  if (isLocation(text)) {
    m_location = text;
    m_sku.clear();
    setStep(Step::kItem);
    confirm(tr("Location %1").arg(text), true);
    return;
  }
  switch (m_step) {
    case Step::kLocation: {
      auto loc = client::parseLocation("location", text.toStdString());
      if (!loc.ok()) {
        showReason(tr("'%1' is not a location (expected WAREHOUSE/CODE, e.g. east/A-01)").arg(text));
      } else {
        showReason(tr("Unknown location '%1'").arg(text));
      }
      return;
    }
    case Step::kItem:
    case Step::kQuantity: {
      if (m_step == Step::kQuantity) {
        bool numeric = !text.isEmpty();
        for (QChar c : text) numeric = numeric && (c.isDigit() || c == '-' || c == '+');
        if (numeric || !m_skus.contains(text)) {
          auto qty = client::parseQuantity("quantity", text.toStdString(), client::QtyRule::kNonNegative);
          if (!qty.ok()) {
            showReason(tr("Quantity %1 — type a whole number of units, 0 or more").arg(reasonOf(qty.status()).section(':', 1).trimmed()));
            return;
          }
          session::CountDraft d;
          d.requestId = QString::fromStdString(client::newRequestId());
          d.sku = m_sku;
          d.location = m_location;
          d.counted = *qty;
          d.countedAtUs = QDateTime::currentMSecsSinceEpoch() * 1000;
          d.sessionId = m_sessionId;
          d.blind = m_blind->isChecked();
          m_model->addLine(d);
          m_lines->scrollToBottom();
          m_session->submitCount(d);
          confirm(tr("✔ %1 × %2 at %3").arg(*qty).arg(m_sku, m_location), true);
          m_sku.clear();
          setStep(Step::kItem);
          return;
        }
        // Another item scanned instead of a quantity: switch item.
      }
      if (auto st = client::validateSku("SKU", text.toStdString()); !st.ok()) {
        showReason(tr("Not an item code: %1").arg(reasonOf(st).section(':', 1).trimmed()));
        return;
      }
      if (!m_skus.isEmpty() && !m_skus.contains(text)) {
        showReason(tr("Unknown SKU '%1' (not in the item catalog)").arg(text));
        return;
      }
      m_sku = text;
      if (m_skus.isEmpty()) m_reason->setText(tr("No catalog cached yet: the server will check this SKU"));
      setStep(Step::kQuantity);
      return;
    }
  }
}

void StocktakeView::undoLast() {
  refocus();
  if (m_model->lineCount() == 0) {
    showReason(tr("Nothing to undo"));
    return;
  }
  const int last = m_model->lineCount() - 1;
  const auto kind = m_model->outcome(last).kind;
  if (kind != CountOutcomeKind::kQueued && kind != CountOutcomeKind::kSaving) {
    showReason(tr("Cannot undo: the last line was already sent; count the bin again to correct it"));
    return;
  }
  m_session->undoCount(m_model->draft(last).requestId);
}

}  // namespace depot::ui
