// Session: the console's connection to a Depot cluster, with the offline
// cache and outbox. Links Qt Core/Sql and depot::client only — no widgets.
//
// Threads: the Session object lives on the caller's (UI) thread; its public
// methods only post work and return at once. A worker thread runs the
// connection state machine and every blocking RPC; the Watch/alert/metrics
// streams run on their own threads; SQL runs on the cache's writer thread.
// All results reach the UI as signals carrying value types, emitted from
// those threads — so connections to UI objects are queued.
//
// Connection state machine (LinkStatus::state):
//   Connecting -> Online            health OK, catalog + cursor ready, Watch live
//   Online -> Reconnecting          a probe or the Watch stream failed
//   Reconnecting -> Online          probe OK and Watch connected again
//   Reconnecting -> Offline         kOfflineAfterFailures attempts failed in a row
//   Offline -> Online               a later attempt succeeds (attempts go on)
// Attempts back off exponentially (with jitter) up to maxBackoff; the client
// fails over across the profile's endpoints on every attempt.
//
// Data path: Watch resumes from the cached per-shard cursor (exactly once,
// in order per shard). A cursor the server refuses (FAILED_PRECONDITION:
// another ledger) triggers a re-snapshot, with progress in LinkStatus; the
// old data stays on screen until the new snapshot replaces it.
//
// Outbox: submitCount() writes the count with its request_id and counted_at
// in one transaction and reports kQueued only after the commit. When online,
// the worker flushes the outbox oldest first; a line is marked done only
// after the server answered, so a crash re-sends it and the server's
// request_id dedup makes the re-send harmless (exactly once).
#pragma once

#include <QObject>
#include <QString>
#include <memory>

#include "session/profile.h"
#include "session/session_types.h"

namespace depot::session {

class SyncWorker;
class Cache;

class Session final : public QObject {
  Q_OBJECT
 public:
  struct Options {
    Profile profile;
    QString cacheFile;  // empty: profile.cacheFile or defaultCachePath()
    int flushBatch = 500;   // count lines per SubmitCounts while flushing
    int flushDelayMs = 0;   // pause between flush batches (test seam)
    int initialBackoffMs = 250;
    int maxBackoffMs = 10000;
    int rpcDeadlineMs = 5000;
    bool streams = true;  // alerts and metrics streams (Watch always runs)
  };
  explicit Session(Options options, QObject* parent = nullptr);
  ~Session() override;

  // Opens the cache (blocking only for the open itself, not the load),
  // then loads it and connects in the background. Returns the reason when
  // the cache cannot be opened.
  QString start();
  const Options& options() const { return m_options; }
  QString user() const;
  QString cachePath() const;

  // ---- commands (non-blocking; answers come as signals) ----
  void submitCount(const CountDraft& draft);
  void undoCount(const QString& requestId);
  void acknowledge(quint64 alertId, const QString& note);
  void silence(int alertKind, const QString& subjectPrefix, qint64 durationSeconds, const QString& comment);
  void requestItemDetail(const QString& sku, qint64 fromUs, qint64 toUs);
  void requestPending();
  void decide(const QString& countId, bool approve, const QString& note);
  void requestCluster();
  void reconnectNow();

 signals:
  // Full replacement of the stock table (cache load or a new snapshot).
  void stockReplaced(const QVector<depot::session::StockRowValue>& rows, bool fromCache);
  // New ledger entries, in order per shard, in batches.
  void ledgerEntries(const QVector<depot::session::LedgerEntryValue>& entries);
  void catalogLoaded(const QVector<depot::session::ItemValue>& items, const QStringList& locations);
  void alertsReplaced(const QVector<depot::session::AlertValue>& alerts);
  void alertChanged(const depot::session::AlertValue& alert);
  void metricsSample(const depot::session::MetricsValue& sample);
  void linkStatus(const depot::session::LinkStatus& status);
  void countOutcome(const depot::session::CountOutcome& outcome);
  // Recent count lines from the outbox at start-up (with their outcomes).
  void countsLoaded(const QVector<depot::session::CountDraft>& drafts,
                    const QVector<depot::session::CountOutcome>& outcomes);
  void countUndone(const QString& requestId, bool ok, const QString& reason);
  void itemDetail(const depot::session::ItemDetailValue& detail);
  void pendingCounts(const QVector<depot::session::PendingCountValue>& counts, const QString& error);
  void decisionDone(const QString& countId, bool ok, const QString& text);
  void actionResult(bool ok, const QString& text);
  void cluster(const depot::session::ClusterValue& cluster);
  void cacheError(const QString& text);

 private:
  Options m_options;
  std::unique_ptr<Cache> m_cache;
  std::unique_ptr<SyncWorker> m_worker;
};

}  // namespace depot::session
