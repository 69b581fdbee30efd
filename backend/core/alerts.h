// AlertManager: lifecycle of alerts (FIRING -> ACKNOWLEDGED -> RESOLVED),
// silences, persistence and streaming. Rules (low stock with hysteresis,
// stockout, count variance) are evaluated by the shard engines, which call
// raise()/resolve() on transitions.
//
// Thread-safe. Listeners are called with the manager's lock released, in
// order, and must not block.
#pragma once

#include <condition_variable>
#include <functional>
#include <thread>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/clock.h"
#include "core/model.h"
#include "store/store.h"

namespace depot {

class AlertManager {
 public:
  using Listener = std::function<void(const Alert&)>;
  AlertManager(Store& store, const Clock& clock);
  ~AlertManager();  // flushes pending saves
  AlertManager(const AlertManager&) = delete;
  AlertManager& operator=(const AlertManager&) = delete;

  absl::Status load();
  // A cluster: several nodes raise and acknowledge alerts in one store. Ids
  // come from the store in blocks; syncFromStore() takes in what the others
  // changed.
  void setShared(bool shared) { m_shared = shared; }
  // Merges alerts changed in the store since the last sync (by another node:
  // raised, acknowledged, resolved, silenced) and tells the subscribers.
  // Returns how many changed here.
  absl::StatusOr<std::size_t> syncFromStore();
  // Waits until every change so far is saved (tests, shutdown).
  void flush();

  // Fires (or keeps firing) the alert (kind, subject). No-op if already active.
  void raise(AlertKind kind, const std::string& subject, Severity severity, std::string summary);
  // Resolves the active alert (kind, subject) if any. Listeners always hear
  // the resolution, even for a silenced alert.
  void resolve(AlertKind kind, const std::string& subject);
  bool isActive(AlertKind kind, const std::string& subject) const;
  bool anyActive() const;

  // Active alerts (FIRING or ACKNOWLEDGED); with include_resolved also the
  // most recent resolved ones (at most `limit` in all).
  std::vector<Alert> list(bool include_resolved, std::size_t limit = 1000) const;
  // NOT_FOUND unknown id; FAILED_PRECONDITION if resolved. Acking twice updates the note.
  absl::StatusOr<Alert> acknowledge(std::uint64_t id, const std::string& who, const std::string& note);
  // INVALID_ARGUMENT for a past expiry or missing owner.
  absl::StatusOr<Silence> silence(Silence silence);
  std::vector<Silence> silences() const;  // active ones

  // Returns a handle for unsubscribe. New FIRING alerts that are silenced are
  // not delivered; updates and resolutions are.
  int subscribe(Listener listener);
  void unsubscribe(int handle);

 private:
  // Rule transitions come from writer threads: their saves are queued to a
  // persister thread so a writer never waits for a second fsync. (On a crash
  // the rules are re-evaluated at start-up, so a lost save converges.)
  void enqueueSave(const Alert& alert);
  void notify(const Alert& alert);
  void persistLoop();
  std::uint64_t takeIdLocked();  // m_mutex held

  static constexpr std::uint32_t kIdBlock = 64;
  // How far back a sync looks beyond the newest change it saw: nodes' clocks
  // differ a little, and a save can land after a later-stamped one.
  static constexpr Micros kSyncOverlap = 60'000'000;

  Store& m_store;
  const Clock& m_clock;
  mutable std::mutex m_mutex;
  std::map<std::uint64_t, Alert> m_alerts;               // active + recent resolved
  std::map<std::pair<int, std::string>, std::uint64_t> m_activeByKey;
  std::vector<Silence> m_silences;
  std::map<int, Listener> m_listeners;
  int m_nextHandle = 1;
  std::uint64_t m_nextId = 1;
  bool m_shared = false;
  std::uint64_t m_blockEnd = 0;  // shared: ids [m_nextId, m_blockEnd) are ours
  Micros m_syncedUpTo = 0;       // newest updated_at seen by syncFromStore

  std::mutex m_saveMutex;
  std::condition_variable m_saveWake;
  std::condition_variable m_saved;
  std::vector<Alert> m_saveQueue;  // guarded by m_saveMutex
  bool m_saving = false;
  bool m_stop = false;
  std::thread m_persister;
};

}  // namespace depot
