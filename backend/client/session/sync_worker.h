// SyncWorker: the session's network thread — connection state machine,
// snapshot, streams, outbox flush and on-demand RPCs. Internal to the
// session library (see session.h for the contract).
#pragma once

#include <QString>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "client/client.h"
#include "client/streams.h"
#include "session/cache.h"
#include "session/session.h"

namespace depot::session {

// One ledger entry of the API as the session's value type (Watch, History).
LedgerEntryValue entryValue(const v1::LedgerEntry& e);

class SyncWorker final {
 public:
  SyncWorker(Session& session, Cache& cache, const Session::Options& options);
  ~SyncWorker();  // stops streams and joins
  SyncWorker(const SyncWorker&) = delete;
  SyncWorker& operator=(const SyncWorker&) = delete;

  void start();
  // Runs `fn` on the worker thread, in order with other posted functions.
  void post(std::function<void()> fn);
  void wake() { m_wake.notify_all(); }
  void markOutboxDirty() {
    m_outboxDirty = true;
    wake();
  }
  void reconnectNow();
  client::Client* client() { return m_client.get(); }

 private:
  using Clock = std::chrono::steady_clock;
  void run();
  void loadCache();
  void tick();
  void attempt();
  void failed(const QString& why);
  bool loadCatalog();
  bool snapshot();
  void startStreams();
  void stopStreams();
  void flushOutbox();
  // Sends one group of outbox rows; false when the link failed (stop flushing).
  bool flushCounts(const QVector<Cache::OutboxRow>& rows);
  bool flushAck(const Cache::OutboxRow& row);
  void refreshOutboxCount();
  void updateState();
  void publish(bool force);
  bool sleepInterruptible(int ms);

  Session& m_session;
  Cache& m_cache;
  const Session::Options m_options;
  std::unique_ptr<client::Client> m_client;
  QString m_clientError;

  std::thread m_thread;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  std::deque<std::function<void()>> m_posted;  // guarded by m_mutex
  std::atomic<bool> m_stop{false};

  // Worker-thread state.
  std::optional<client::LedgerCursor> m_cursor;
  bool m_catalogLoaded = false;
  bool m_probeOk = false;
  bool m_everOnline = false;
  int m_failures = 0;
  Clock::time_point m_nextAttempt{};
  Clock::time_point m_nextProbe{};
  Clock::time_point m_lastPublish{};
  LinkStatus m_status;
  LinkStatus m_published;
  std::unique_ptr<client::WatchStream> m_watch;
  std::unique_ptr<client::AlertStream> m_alerts;
  std::unique_ptr<client::MetricsStream> m_metrics;

  // Set by stream callbacks (stream threads).
  std::atomic<bool> m_watchConnected{false};
  std::atomic<bool> m_watchLost{false};
  std::atomic<bool> m_needSnapshot{false};
  std::atomic<qint64> m_lagEntries{-1};
  std::atomic<qint64> m_lastDataMs{0};
  std::atomic<qint64> m_lastCursorSaveMs{0};
  std::atomic<bool> m_outboxDirty{true};
  QVector<AlertValue> m_initialAlerts;  // alert stream thread only
};

}  // namespace depot::session
