// ProfileDialog: pick or edit a connection profile (name, endpoints, user,
// role;
// TLS/CA/token fields are kept but disabled until the server supports them).
// Endpoints are validated as typed, with the reason next to the field.
#pragma once

#include <QDialog>

#include "session/profile.h"

class QComboBox;
class QLineEdit;
class QLabel;
class QPushButton;

namespace depot::ui {

class ProfileDialog final : public QDialog {
  Q_OBJECT
 public:
  ProfileDialog(session::ProfileStore& store, QWidget* parent = nullptr);
  session::Profile profile() const;

 private:
  void loadSelected();
  void validate();
  session::ProfileStore& m_store;
  QComboBox* m_profiles;
  QLineEdit* m_name;
  QLineEdit* m_endpoints;
  QLineEdit* m_user;
  QComboBox* m_role;
  QLabel* m_reason;
  QPushButton* m_ok;
};

}  // namespace depot::ui
