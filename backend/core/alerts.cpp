#include "core/alerts.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace depot {

AlertManager::AlertManager(Store& store, const Clock& clock)
    : m_store(store), m_clock(clock), m_persister([this] { persistLoop(); }) {}

AlertManager::~AlertManager() {
  flush();
  {
    std::lock_guard lock(m_saveMutex);
    m_stop = true;
  }
  m_saveWake.notify_all();
  m_persister.join();
}

absl::Status AlertManager::load() {
  auto alerts = m_store.loadAlerts(false);
  if (!alerts.ok()) return alerts.status();
  auto silences = m_store.loadSilences(m_clock.now());
  if (!silences.ok()) return silences.status();
  auto next = m_store.nextAlertId();
  if (!next.ok()) return next.status();
  std::lock_guard lock(m_mutex);
  m_alerts.clear();
  m_activeByKey.clear();
  for (auto& a : *alerts) {
    if (a.state == AlertState::kResolved) continue;
    m_activeByKey[{static_cast<int>(a.kind), a.subject}] = a.id;
    m_nextId = std::max(m_nextId, a.id + 1);
    m_alerts[a.id] = std::move(a);
  }
  m_nextId = std::max(m_nextId, *next);
  m_silences = std::move(*silences);
  return absl::OkStatus();
}

void AlertManager::raise(AlertKind kind, const std::string& subject, Severity severity,
                         std::string summary) {
  Alert alert;
  bool silenced = false;
  {
    std::lock_guard lock(m_mutex);
    const auto key = std::make_pair(static_cast<int>(kind), subject);
    if (m_activeByKey.count(key)) return;
    const Micros now = m_clock.now();
    alert.id = takeIdLocked();
    alert.kind = kind;
    alert.severity = severity;
    alert.state = AlertState::kFiring;
    alert.subject = subject;
    alert.summary = std::move(summary);
    alert.fired_at = now;
    alert.updated_at = now;
    for (const auto& s : m_silences) silenced = silenced || s.matches(alert, now);
    alert.silenced = silenced;
    m_activeByKey[key] = alert.id;
    m_alerts[alert.id] = alert;
    // Keep memory bounded: forget the oldest resolved alerts.
    if (m_alerts.size() > 20000) {
      for (auto it = m_alerts.begin(); it != m_alerts.end() && m_alerts.size() > 15000;) {
        if (it->second.state == AlertState::kResolved)
          it = m_alerts.erase(it);
        else
          ++it;
      }
    }
  }
  enqueueSave(alert);
  if (!silenced) notify(alert);
}

void AlertManager::resolve(AlertKind kind, const std::string& subject) {
  Alert alert;
  {
    std::lock_guard lock(m_mutex);
    auto it = m_activeByKey.find(std::make_pair(static_cast<int>(kind), subject));
    if (it == m_activeByKey.end()) return;
    auto& a = m_alerts[it->second];
    m_activeByKey.erase(it);
    const Micros now = m_clock.now();
    a.state = AlertState::kResolved;
    a.resolved_at = now;
    a.updated_at = now;
    alert = a;
  }
  enqueueSave(alert);
  notify(alert);  // resolutions are delivered even for silenced alerts
}

std::uint64_t AlertManager::takeIdLocked() {
  if (m_shared && m_nextId >= m_blockEnd) {
    // A store round trip about once per kIdBlock alerts. If the store is
    // away the local counter goes on; a clash is overwritten by the rules'
    // re-evaluation when the shard is next loaded.
    if (auto first = m_store.reserveAlertIds(kIdBlock); first.ok()) {
      m_nextId = *first;
      m_blockEnd = *first + kIdBlock;
    }
  }
  return m_nextId++;
}

absl::StatusOr<std::size_t> AlertManager::syncFromStore() {
  Micros since = 0;
  {
    std::lock_guard lock(m_mutex);
    since = std::max<Micros>(0, m_syncedUpTo - kSyncOverlap);
  }
  auto changed = m_store.alertsUpdatedSince(since);
  if (!changed.ok()) return changed.status();
  std::vector<Alert> news;
  {
    std::lock_guard lock(m_mutex);
    for (auto& a : *changed) {
      m_syncedUpTo = std::max(m_syncedUpTo, a.updated_at);
      auto it = m_alerts.find(a.id);
      if (it != m_alerts.end() && it->second.updated_at >= a.updated_at) continue;  // ours or seen
      if (it == m_alerts.end() && a.state == AlertState::kResolved) continue;  // never seen here
      const auto key = std::make_pair(static_cast<int>(a.kind), a.subject);
      if (a.state == AlertState::kResolved) {
        auto active = m_activeByKey.find(key);
        if (active != m_activeByKey.end() && active->second == a.id) m_activeByKey.erase(active);
      } else {
        m_activeByKey[key] = a.id;
      }
      m_alerts[a.id] = a;
      news.push_back(a);
    }
  }
  for (const auto& a : news)
    if (!a.silenced || a.state == AlertState::kResolved) notify(a);
  return news.size();
}

bool AlertManager::anyActive() const {
  std::lock_guard lock(m_mutex);
  return !m_activeByKey.empty();
}

bool AlertManager::isActive(AlertKind kind, const std::string& subject) const {
  std::lock_guard lock(m_mutex);
  return m_activeByKey.count(std::make_pair(static_cast<int>(kind), subject)) > 0;
}

std::vector<Alert> AlertManager::list(bool include_resolved, std::size_t limit) const {
  std::vector<Alert> out;
  std::lock_guard lock(m_mutex);
  const Micros now = m_clock.now();
  for (auto it = m_alerts.rbegin(); it != m_alerts.rend() && out.size() < limit; ++it) {
    if (!include_resolved && it->second.state == AlertState::kResolved) continue;
    Alert a = it->second;
    if (a.state != AlertState::kResolved) {
      a.silenced = false;
      for (const auto& s : m_silences) a.silenced = a.silenced || s.matches(a, now);
    }
    out.push_back(std::move(a));
  }
  return out;
}

absl::StatusOr<Alert> AlertManager::acknowledge(std::uint64_t id, const std::string& who,
                                                const std::string& note) {
  if (who.empty()) return absl::InvalidArgumentError("actor: required");
  Alert alert;
  {
    std::lock_guard lock(m_mutex);
    auto it = m_alerts.find(id);
    if (it == m_alerts.end())
      return absl::NotFoundError(absl::StrCat("alert_id: no active alert ", id));
    if (it->second.state == AlertState::kResolved)
      return absl::FailedPreconditionError(
          absl::StrCat("alert_id: alert ", id, " is already resolved"));
    auto& a = it->second;
    const Micros now = m_clock.now();
    a.state = AlertState::kAcknowledged;
    a.acked_by = who;
    a.acked_at = now;
    a.ack_note = note;
    a.updated_at = now;
    alert = a;
  }
  // An acknowledgement is a person's action: saved before it is confirmed,
  // through the same queue as rule transitions so saves stay in order.
  enqueueSave(alert);
  flush();
  notify(alert);
  return alert;
}

absl::StatusOr<Silence> AlertManager::silence(Silence silence) {
  const Micros now = m_clock.now();
  if (silence.owner.empty()) return absl::InvalidArgumentError("owner: required");
  if (silence.expires_at <= now)
    return absl::InvalidArgumentError("duration_seconds: the silence must end in the future");
  if (silence.kind > static_cast<std::uint8_t>(AlertKind::kCountVariance))
    return absl::InvalidArgumentError("kind: unknown alert kind");
  silence.created_at = now;
  auto stored = m_store.addSilence(silence);
  if (!stored.ok()) return stored.status();
  std::vector<Alert> changed;
  {
    std::lock_guard lock(m_mutex);
    m_silences.push_back(*stored);
    for (auto& [id, a] : m_alerts) {
      if (a.state == AlertState::kResolved || a.silenced || !stored->matches(a, now)) continue;
      a.silenced = true;
      changed.push_back(a);
    }
  }
  for (const auto& a : changed) {
    enqueueSave(a);
    notify(a);  // subscribers learn the alert is now silenced
  }
  return stored;
}

std::vector<Silence> AlertManager::silences() const {
  std::vector<Silence> out;
  std::lock_guard lock(m_mutex);
  const Micros now = m_clock.now();
  for (const auto& s : m_silences)
    if (s.expires_at > now) out.push_back(s);
  return out;
}

int AlertManager::subscribe(Listener listener) {
  std::lock_guard lock(m_mutex);
  const int handle = m_nextHandle++;
  m_listeners[handle] = std::move(listener);
  return handle;
}

void AlertManager::unsubscribe(int handle) {
  std::lock_guard lock(m_mutex);
  m_listeners.erase(handle);
}

void AlertManager::notify(const Alert& alert) {
  std::vector<Listener> listeners;
  {
    std::lock_guard lock(m_mutex);
    for (const auto& [h, l] : m_listeners) listeners.push_back(l);
  }
  for (const auto& l : listeners) l(alert);
}

void AlertManager::enqueueSave(const Alert& alert) {
  {
    std::lock_guard lock(m_saveMutex);
    m_saveQueue.push_back(alert);
  }
  m_saveWake.notify_one();
}

void AlertManager::flush() {
  std::unique_lock lock(m_saveMutex);
  m_saved.wait(lock, [&] { return m_saveQueue.empty() && !m_saving; });
}

void AlertManager::persistLoop() {
  std::unique_lock lock(m_saveMutex);
  for (;;) {
    m_saveWake.wait(lock, [&] { return m_stop || !m_saveQueue.empty(); });
    if (m_saveQueue.empty() && m_stop) return;
    std::vector<Alert> batch;
    batch.swap(m_saveQueue);
    m_saving = true;
    lock.unlock();
    for (const auto& a : batch) (void)m_store.saveAlert(a);  // re-derived at start-up if lost
    lock.lock();
    m_saving = false;
    m_saved.notify_all();
  }
}

}  // namespace depot
