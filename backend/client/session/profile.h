// Connection profiles: named sets of cluster endpoints (plus TLS/token fields
// for when the server supports them), remembered with QSettings.
// Not thread-safe; use from one thread (the UI's, at start-up).
#pragma once

#include <QSettings>
#include <QString>
#include <QStringList>

namespace depot::session {

// What the console lets the user of a profile do. Clerks count; supervisors
// and managers also acknowledge and silence alerts and approve or reject
// pending variances. The console enforces this in its controls only (the
// server has no roles yet).
enum class Role { kClerk, kSupervisor, kManager };
inline constexpr Role kDefaultRole = Role::kSupervisor;

// "clerk" / "supervisor" / "manager".
QString roleName(Role role);
// Parses a role name (case-insensitive). Returns an empty string and sets
// *role on success, else the reason in words.
QString parseRole(const QString& text, Role* role);
// Acknowledge / Silence alerts, Approve / Reject variances.
inline bool canDecide(Role role) { return role != Role::kClerk; }

struct Profile {
  QString name;
  QStringList endpoints;  // "host:port"
  QString user;           // actor recorded with counts, acks, approvals
  Role role = kDefaultRole;
  bool tls = false;       // not wired yet: the server speaks plaintext only
  QString caFile;
  QString token;
  QString cacheFile;      // empty: defaultCachePath(name)
};

// Parses "HOST:PORT[,HOST:PORT...]". Returns an empty string and fills
// `endpoints` on success, else the reason in words (names the bad part).
QString parseEndpoints(const QString& text, QStringList* endpoints);

// One endpoint; empty on success, else the reason.
QString validateEndpoint(const QString& endpoint);

// <AppDataLocation>/cache-<name>.sqlite (name sanitized).
QString defaultCachePath(const QString& profileName);

class ProfileStore final {
 public:
  explicit ProfileStore(QSettings& settings) : m_settings(settings) {}
  QStringList names() const;
  bool load(const QString& name, Profile* out) const;
  void save(const Profile& profile);
  void remove(const QString& name);
  QString lastUsed() const;
  void setLastUsed(const QString& name);

 private:
  QSettings& m_settings;
};

}  // namespace depot::session
