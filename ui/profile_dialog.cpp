#include "ui/profile_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>

namespace depot::ui {

ProfileDialog::ProfileDialog(session::ProfileStore& store, QWidget* parent) : QDialog(parent), m_store(store) {
  setWindowTitle(tr("Connect to a Depot cluster"));
  auto* form = new QFormLayout(this);
  m_profiles = new QComboBox(this);
  m_profiles->addItem(tr("(new profile)"));
  m_profiles->addItems(store.names());
  m_name = new QLineEdit(this);
  m_endpoints = new QLineEdit(this);
  m_endpoints->setPlaceholderText(QStringLiteral("127.0.0.1:7070,10.0.0.2:7070"));
  m_user = new QLineEdit(qEnvironmentVariable("USER"), this);
  m_role = new QComboBox(this);
  for (auto r : {session::Role::kClerk, session::Role::kSupervisor, session::Role::kManager})
    m_role->addItem(session::roleName(r), static_cast<int>(r));
  m_role->setCurrentIndex(m_role->findData(static_cast<int>(session::kDefaultRole)));
  m_role->setToolTip(tr("Clerks count; supervisors and managers also acknowledge and silence alerts and decide variances"));
  m_reason = new QLabel(this);
  m_reason->setStyleSheet(QStringLiteral("QLabel { color: #d64541; }"));
  auto* tls = new QCheckBox(tr("TLS (not supported by the server yet)"), this);
  tls->setEnabled(false);
  auto* ca = new QLineEdit(this);
  ca->setEnabled(false);
  ca->setPlaceholderText(tr("CA file"));
  auto* token = new QLineEdit(this);
  token->setEnabled(false);
  token->setPlaceholderText(tr("access token"));
  form->addRow(tr("Profile:"), m_profiles);
  form->addRow(tr("Name:"), m_name);
  form->addRow(tr("Endpoints:"), m_endpoints);
  form->addRow(QString(), m_reason);
  form->addRow(tr("User:"), m_user);
  form->addRow(tr("Role:"), m_role);
  form->addRow(QString(), tls);
  form->addRow(tr("CA:"), ca);
  form->addRow(tr("Token:"), token);
  auto* box = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  m_ok = box->button(QDialogButtonBox::Ok);
  m_ok->setText(tr("Connect"));
  form->addRow(box);
  connect(box, &QDialogButtonBox::accepted, this, [this] {
    m_store.save(profile());
    m_store.setLastUsed(profile().name);
    accept();
  });
  connect(box, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(m_profiles, &QComboBox::currentIndexChanged, this, &ProfileDialog::loadSelected);
  connect(m_endpoints, &QLineEdit::textChanged, this, &ProfileDialog::validate);
  connect(m_name, &QLineEdit::textChanged, this, &ProfileDialog::validate);
  const int last = m_profiles->findText(store.lastUsed());
  if (last > 0) m_profiles->setCurrentIndex(last);
  validate();
}

void ProfileDialog::loadSelected() {
  session::Profile p;
  if (m_profiles->currentIndex() > 0 && m_store.load(m_profiles->currentText(), &p)) {
    m_name->setText(p.name);
    m_endpoints->setText(p.endpoints.join(','));
    m_user->setText(p.user);
    m_role->setCurrentIndex(m_role->findData(static_cast<int>(p.role)));
  }
  validate();
}

void ProfileDialog::validate() {
  QString reason;
  if (m_name->text().trimmed().isEmpty()) reason = tr("Name: give the profile a name (e.g. the site)");
  else reason = session::parseEndpoints(m_endpoints->text(), nullptr);
  m_reason->setText(reason);
  m_ok->setEnabled(reason.isEmpty());
}

session::Profile ProfileDialog::profile() const {
  session::Profile p;
  p.name = m_name->text().trimmed();
  session::parseEndpoints(m_endpoints->text(), &p.endpoints);
  p.user = m_user->text().trimmed();
  p.role = static_cast<session::Role>(m_role->currentData().toInt());
  return p;
}

}  // namespace depot::ui
