#include "ui/alerts_view.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

#include "client/parse.h"

namespace depot::ui {

AlertsView::AlertsView(session::Session* session, AlertsModel* model, QWidget* parent)
    : QWidget(parent), m_session(session), m_model(model), m_filter(new AlertsFilter(this)) {
  m_filter->setSourceModel(m_model);
  m_filter->setFilterKeyColumn(-1);
  m_filter->setFilterCaseSensitivity(Qt::CaseInsensitive);
  auto* lay = new QVBoxLayout(this);
  auto* bar = new QHBoxLayout;
  auto* open = new QCheckBox(tr("Open only"), this);
  open->setChecked(true);
  auto* severity = new QComboBox(this);
  severity->addItem(tr("Any severity"), 0);
  severity->addItem(tr("Warning and up"), 2);
  severity->addItem(tr("Critical only"), 3);
  auto* text = new QLineEdit(this);
  text->setPlaceholderText(tr("Filter alerts"));
  text->setClearButtonEnabled(true);
  auto* ack = m_ack = new QPushButton(tr("Acknowledge… (Ctrl+Shift+A)"), this);
  auto* silence = m_silence = new QPushButton(tr("Silence…"), this);
  bar->addWidget(open);
  bar->addWidget(severity);
  bar->addWidget(text, 1);
  bar->addWidget(ack);
  bar->addWidget(silence);
  lay->addLayout(bar);
  m_table = new QTableView(this);
  m_table->setModel(m_filter);
  m_table->setSortingEnabled(true);
  m_table->sortByColumn(AlertsModel::kSeverity, Qt::DescendingOrder);
  m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
  m_table->setSelectionMode(QAbstractItemView::SingleSelection);
  m_table->verticalHeader()->setVisible(false);
  m_table->horizontalHeader()->setSectionResizeMode(AlertsModel::kSummary, QHeaderView::Stretch);
  lay->addWidget(m_table);
  m_result = new QLabel(this);
  m_result->setWordWrap(true);
  lay->addWidget(m_result);

  connect(open, &QCheckBox::toggled, m_filter, &AlertsFilter::setOpenOnly);
  connect(severity, &QComboBox::currentIndexChanged, this, [this, severity] { m_filter->setMinSeverity(severity->currentData().toInt()); });
  connect(text, &QLineEdit::textChanged, m_filter, &QSortFilterProxyModel::setFilterFixedString);
  connect(ack, &QPushButton::clicked, this, &AlertsView::acknowledgeSelected);
  connect(silence, &QPushButton::clicked, this, &AlertsView::silenceSelected);
  connect(m_session, &session::Session::actionResult, this, [this](bool ok, const QString& t) {
    m_result->setStyleSheet(ok ? QString() : QStringLiteral("QLabel { color: #d64541; }"));
    m_result->setText(t);
  });
  setRole(m_session->options().profile.role);
}

namespace {
QString clerkReason() { return AlertsView::tr("Clerks cannot acknowledge or silence alerts: a supervisor or manager role is needed"); }
}  // namespace

void AlertsView::setRole(session::Role role) {
  m_role = role;
  const bool can = session::canDecide(role);
  m_ack->setEnabled(can);
  m_silence->setEnabled(can);
  m_ack->setToolTip(can ? tr("Acknowledge the selected alert with a note") : clerkReason());
  m_silence->setToolTip(can ? tr("Silence alerts of a kind and subject for a while") : clerkReason());
}

quint64 AlertsView::selectedId() const {
  const auto rows = m_table->selectionModel()->selectedRows();
  return rows.isEmpty() ? 0 : rows.first().data(AlertsModel::kIdRole).toULongLong();
}

void AlertsView::acknowledgeSelected() {
  if (!session::canDecide(m_role)) {
    m_result->setText(clerkReason());
    return;
  }
  const quint64 id = selectedId();
  if (!id) {
    m_result->setText(tr("Select an alert to acknowledge."));
    return;
  }
  QDialog dlg(this);
  dlg.setWindowTitle(tr("Acknowledge alert %1").arg(id));
  auto* form = new QFormLayout(&dlg);
  auto* note = new QLineEdit(&dlg);
  note->setMaxLength(512);
  auto* reason = new QLabel(&dlg);
  form->addRow(tr("Note:"), note);
  form->addRow(QString(), reason);
  auto* box = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dlg);
  form->addRow(box);
  connect(note, &QLineEdit::textChanged, &dlg, [note, reason] {
    reason->setText(note->text().toUtf8().size() > 512 ? tr("At most 512 bytes") : QString());
  });
  connect(box, &QDialogButtonBox::accepted, &dlg, &QDialog::accept);
  connect(box, &QDialogButtonBox::rejected, &dlg, &QDialog::reject);
  if (dlg.exec() != QDialog::Accepted) return;
  m_session->acknowledge(id, note->text());
  m_model->markAckQueued(id);
}

void AlertsView::silenceSelected() {
  if (!session::canDecide(m_role)) {
    m_result->setText(clerkReason());
    return;
  }
  const quint64 id = selectedId();
  const session::AlertValue* a = id ? m_model->alert(id) : nullptr;
  QDialog dlg(this);
  dlg.setWindowTitle(tr("Silence alerts"));
  auto* form = new QFormLayout(&dlg);
  auto* kind = new QComboBox(&dlg);
  kind->addItem(tr("Any kind"), 0);
  kind->addItem(tr("Low stock"), 1);
  kind->addItem(tr("Stockout"), 2);
  kind->addItem(tr("Count variance"), 3);
  if (a) kind->setCurrentIndex(kind->findData(a->kind));
  auto* subject = new QLineEdit(a ? a->subject : QString(), &dlg);
  subject->setPlaceholderText(tr("SKU prefix (empty: every subject)"));
  auto* duration = new QLineEdit(QStringLiteral("1h"), &dlg);
  duration->setPlaceholderText(tr("e.g. 30m, 2h, 1d"));
  auto* durationReason = new QLabel(&dlg);
  durationReason->setStyleSheet(QStringLiteral("QLabel { color: #d64541; }"));
  auto* comment = new QLineEdit(&dlg);
  comment->setMaxLength(512);
  form->addRow(tr("Kind:"), kind);
  form->addRow(tr("Subject prefix:"), subject);
  form->addRow(tr("Duration:"), duration);
  form->addRow(QString(), durationReason);
  form->addRow(tr("Comment:"), comment);
  auto* box = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dlg);
  form->addRow(box);
  auto validate = [duration, durationReason, box]() -> qint64 {
    auto d = client::parseDuration("duration", duration->text().trimmed().toStdString());
    qint64 secs = d.ok() ? *d / 1000000 : 0;
    QString reason;
    if (!d.ok()) reason = QString::fromStdString(std::string(d.status().message()));
    else if (secs < 1) reason = tr("duration: at least 1 s");
    else if (secs > 30 * 86400) reason = tr("duration: at most 30 days");
    durationReason->setText(reason);
    box->button(QDialogButtonBox::Ok)->setEnabled(reason.isEmpty());
    return reason.isEmpty() ? secs : 0;
  };
  connect(duration, &QLineEdit::textChanged, &dlg, validate);
  connect(box, &QDialogButtonBox::accepted, &dlg, &QDialog::accept);
  connect(box, &QDialogButtonBox::rejected, &dlg, &QDialog::reject);
  validate();
  if (dlg.exec() != QDialog::Accepted) return;
  const qint64 secs = validate();
  if (secs > 0) m_session->silence(kind->currentData().toInt(), subject->text().trimmed(), secs, comment->text());
}

}  // namespace depot::ui
