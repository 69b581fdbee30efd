#include "session/profile.h"

#include <QDir>
#include <QRegularExpression>
#include <QStandardPaths>

namespace depot::session {

QString validateEndpoint(const QString& endpoint) {
  const QString e = endpoint.trimmed();
  if (e.isEmpty()) return QStringLiteral("empty endpoint (expected HOST:PORT)");
  const int colon = e.lastIndexOf(':');
  if (colon <= 0) return QStringLiteral("'%1' has no port (expected HOST:PORT, e.g. 127.0.0.1:7070)").arg(e);
  QString host = e.left(colon);
  const QString port = e.mid(colon + 1);
  if (host.startsWith('[') && host.endsWith(']')) host = host.mid(1, host.size() - 2);
  static const QRegularExpression kHost(QStringLiteral("^[A-Za-z0-9._:-]+$"));
  if (host.isEmpty() || !kHost.match(host).hasMatch())
    return QStringLiteral("'%1': the host '%2' is not a valid name or address").arg(e, host);
  bool ok = false;
  const int p = port.toInt(&ok);
  if (!ok || p < 1 || p > 65535)
    return QStringLiteral("'%1': the port '%2' must be a number from 1 to 65535").arg(e, port);
  return {};
}

QString parseEndpoints(const QString& text, QStringList* endpoints) {
  QStringList out;
  const QStringList parts = text.split(',', Qt::KeepEmptyParts);
  for (const QString& part : parts) {
    const QString reason = validateEndpoint(part);
    if (!reason.isEmpty()) return reason;
    out << part.trimmed();
  }
  if (out.isEmpty()) return QStringLiteral("no endpoint given (expected HOST:PORT)");
  if (endpoints) *endpoints = out;
  return {};
}

QString roleName(Role role) {
  switch (role) {
    case Role::kClerk: return QStringLiteral("clerk");
    case Role::kSupervisor: return QStringLiteral("supervisor");
    case Role::kManager: return QStringLiteral("manager");
  }
  return QStringLiteral("supervisor");
}

QString parseRole(const QString& text, Role* role) {
  const QString t = text.trimmed().toLower();
  for (Role r : {Role::kClerk, Role::kSupervisor, Role::kManager}) {
    if (t == roleName(r)) {
      if (role) *role = r;
      return {};
    }
  }
  return QStringLiteral("'%1' is not a role (expected clerk, supervisor or manager)").arg(text.trimmed());
}

QString defaultCachePath(const QString& profileName) {
  QString dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
  if (dir.isEmpty()) dir = QDir::homePath() + QStringLiteral("/.local/share/depot-console");
  QDir().mkpath(dir);
  QString safe = profileName;
  safe.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9_.-]")), QStringLiteral("_"));
  return dir + QStringLiteral("/cache-") + safe + QStringLiteral(".sqlite");
}

QStringList ProfileStore::names() const {
  m_settings.beginGroup(QStringLiteral("profiles"));
  QStringList out = m_settings.childGroups();
  m_settings.endGroup();
  return out;
}

bool ProfileStore::load(const QString& name, Profile* out) const {
  if (!names().contains(name)) return false;
  m_settings.beginGroup(QStringLiteral("profiles/") + name);
  out->name = name;
  out->endpoints = m_settings.value(QStringLiteral("endpoints")).toStringList();
  out->user = m_settings.value(QStringLiteral("user")).toString();
  // A missing or unknown role (profiles saved before roles) is the default.
  out->role = kDefaultRole;
  parseRole(m_settings.value(QStringLiteral("role"), roleName(kDefaultRole)).toString(), &out->role);
  out->tls = m_settings.value(QStringLiteral("tls"), false).toBool();
  out->caFile = m_settings.value(QStringLiteral("caFile")).toString();
  out->token = m_settings.value(QStringLiteral("token")).toString();
  out->cacheFile = m_settings.value(QStringLiteral("cacheFile")).toString();
  m_settings.endGroup();
  return true;
}

void ProfileStore::save(const Profile& p) {
  m_settings.beginGroup(QStringLiteral("profiles/") + p.name);
  m_settings.setValue(QStringLiteral("endpoints"), p.endpoints);
  m_settings.setValue(QStringLiteral("user"), p.user);
  m_settings.setValue(QStringLiteral("role"), roleName(p.role));
  m_settings.setValue(QStringLiteral("tls"), p.tls);
  m_settings.setValue(QStringLiteral("caFile"), p.caFile);
  m_settings.setValue(QStringLiteral("token"), p.token);
  m_settings.setValue(QStringLiteral("cacheFile"), p.cacheFile);
  m_settings.endGroup();
}

void ProfileStore::remove(const QString& name) { m_settings.remove(QStringLiteral("profiles/") + name); }
QString ProfileStore::lastUsed() const { return m_settings.value(QStringLiteral("lastProfile")).toString(); }
void ProfileStore::setLastUsed(const QString& name) { m_settings.setValue(QStringLiteral("lastProfile"), name); }

}  // namespace depot::session
