// Cache: the console's SQLite file (one per profile) — balances snapshot,
// per-shard Watch cursor, item catalog, locations, alerts and the outbox of
// operations made offline.
//
// Threading contract (qBittorrent-style): one dedicated writer thread owns
// the connection. Jobs posted from any thread run there in FIFO order; all
// jobs waiting when the thread wakes run inside ONE transaction (batching),
// then each job's `done` callback runs after the COMMIT, still on the writer
// thread — so "done" means durable. run() blocks the caller until its job is
// committed: for worker threads and tests only, never the UI thread.
//
// Schema: versioned with PRAGMA user_version; WAL; synchronous=NORMAL for
// balances would risk the outbox, so FULL is used (the outbox is the one
// thing that must never be lost).
#pragma once

#include <QSqlDatabase>
#include <QString>
#include <QStringList>
#include <QVector>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "client/streams.h"
#include "session/session_types.h"

namespace depot::session {

class Cache final {
 public:
  using Job = std::function<void(QSqlDatabase&)>;
  using Done = std::function<void(bool committed)>;

  explicit Cache(QString path);
  ~Cache();  // runs what is queued, then closes
  Cache(const Cache&) = delete;
  Cache& operator=(const Cache&) = delete;

  // Opens (creates, migrates) the file on the writer thread. Blocks until
  // done; returns an empty string or the reason in words.
  QString open();
  const QString& path() const { return m_path; }

  void post(Job job, Done done = {});

  template <typename R>
  R run(std::function<R(QSqlDatabase&)> fn) {
    auto promise = std::make_shared<std::promise<R>>();
    auto future = promise->get_future();
    auto result = std::make_shared<std::optional<R>>();
    post([fn = std::move(fn), result](QSqlDatabase& db) { result->emplace(fn(db)); },
         [promise, result](bool) { promise->set_value(result->has_value() ? std::move(**result) : R{}); });
    return future.get();
  }
  // Blocks until every job posted before is committed.
  void flush();

  // ---- helpers that run inside a job (writer thread) ----
  struct Contents {
    QVector<StockRowValue> rows;
    QVector<ItemValue> items;
    QStringList locations;
    QVector<AlertValue> alerts;
    std::optional<client::LedgerCursor> cursor;  // nullopt: no snapshot yet
    qint64 lastSyncUs = 0;
  };
  static Contents loadAll(QSqlDatabase& db);
  static void applyEntries(QSqlDatabase& db, const QVector<LedgerEntryValue>& entries);
  static void saveCursor(QSqlDatabase& db, const client::LedgerCursor& cursor);
  static void replaceBalances(QSqlDatabase& db, const QVector<StockRowValue>& rows,
                              const client::LedgerCursor& cursor);
  static void replaceCatalog(QSqlDatabase& db, const QVector<ItemValue>& items,
                             const QStringList& locations);
  static void replaceAlerts(QSqlDatabase& db, const QVector<AlertValue>& alerts);
  static void upsertAlert(QSqlDatabase& db, const AlertValue& alert);
  static void setMeta(QSqlDatabase& db, const QString& key, const QString& value);

  // Outbox. States: 0 queued, 1 done, 2 sending (re-sent after a crash).
  enum OutboxState { kQueued = 0, kDone = 1, kSending = 2 };
  struct OutboxRow {
    qint64 id = 0;
    QString kind;  // "count" or "ack"
    QString requestId;
    QByteArray payload;  // serialized SubmitCountsRequest (one line) or AckRequest
    int state = kQueued;
    int outcome = 0;  // CountOutcomeKind for done counts
    QString outcomeText;
    qint64 expected = 0;
    qint64 variance = 0;
  };
  static bool addOutbox(QSqlDatabase& db, const OutboxRow& row);
  static int outboxPending(QSqlDatabase& db);
  // Oldest first; states 0 and 2.
  static QVector<OutboxRow> nextOutbox(QSqlDatabase& db, int limit);
  static void setOutboxState(QSqlDatabase& db, const QString& requestId, int state);
  static void finishOutbox(QSqlDatabase& db, const OutboxRow& row);  // state=done + outcome
  static bool removeQueued(QSqlDatabase& db, const QString& requestId);
  static QVector<OutboxRow> recentCounts(QSqlDatabase& db, int limit);

 private:
  struct Entry {
    Job job;
    Done done;
  };
  void loop();

  const QString m_path;
  QString m_connection;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  std::deque<Entry> m_queue;  // guarded by m_mutex
  bool m_stop = false;        // guarded by m_mutex
  std::thread m_thread;
};

}  // namespace depot::session
