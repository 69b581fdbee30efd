// EventLog: the committed ledger tail, published by the shard engines after
// each durable commit, and WatchSession: one subscriber's resumable view.
//
// Guarantee (invariant 5): a session started from a cursor delivers every
// committed entry with seq > cursor[shard] exactly once, in seq order per
// shard. Entries older than the in-memory tail are read from the store
// (committed data is always there before it is published).
#pragma once

#include <array>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/status/status.h"
#include "core/model.h"
#include "store/store.h"

namespace depot {

using Cursor = std::array<Seq, kShardCount>;  // last seq seen per shard (0: none)

class WatchSession;

class EventLog {
 public:
  // Keeps about `tail_entries` recent entries in memory for watchers.
  EventLog(Store& store, std::size_t tail_entries = 1 << 20);
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;
  ~EventLog();

  // Sets the committed seq per shard at start-up (before any publish).
  void reset(const Cursor& committed);
  // Called after a commit (by the shard's writer) or by a ledger follower
  // (a cluster node reading what other nodes committed): entries of one
  // shard, ascending seq. Entries at or below the shard's committed seq are
  // dropped (the writer and the follower may both publish an entry). A batch
  // that starts past committed+1 is kept: sessions notice the gap and read
  // the missing entries from the store, where they are committed.
  void publish(std::shared_ptr<const std::vector<LedgerEntry>> entries);
  // Raises the shard's committed seq without entries (a shard acquired by
  // this node); sessions read what they lack from the store.
  void advance(ShardId shard, Seq seq);

  // A session that delivers entries after `from`. `shards` empty: all shards.
  // FAILED_PRECONDITION when the cursor is ahead of the ledger (another data
  // set) — checked against the store's last seqs before refusing, since in a
  // cluster this node may not have followed the newest commits yet.
  absl::StatusOr<std::unique_ptr<WatchSession>> subscribe(const Cursor& from,
                                                          std::vector<ShardId> shards = {});
  Cursor committed() const;
  std::size_t subscribers() const;

 private:
  friend class WatchSession;
  struct Batch {
    std::uint64_t position;  // global publish order
    std::shared_ptr<const std::vector<LedgerEntry>> entries;
  };
  void detach(WatchSession* session);

  Store& m_store;
  const std::size_t m_tailEntries;
  mutable std::mutex m_mutex;
  std::deque<Batch> m_tail;  // guarded by m_mutex
  std::size_t m_tailSize = 0;
  std::uint64_t m_nextPosition = 1;
  Cursor m_committed{};
  std::vector<WatchSession*> m_sessions;
  std::mutex m_notifyMutex;  // held while calling sessions' notify functions
};

class WatchSession {
 public:
  ~WatchSession();
  WatchSession(const WatchSession&) = delete;
  WatchSession& operator=(const WatchSession&) = delete;

  // Appends up to `max` next entries to `out` (in order per shard) and
  // advances the cursor. Returns 0 entries when caught up. May read the
  // store to fill gaps. Not thread-safe: one consumer per session.
  absl::Status next(std::size_t max, std::vector<LedgerEntry>& out);
  // `fn` is called once, from a publishing thread, the next time entries are
  // published (or at once, on this thread, if some are already pending).
  // `fn` must not block and must not destroy the session; the session's
  // destructor waits for a running `fn` to return.
  void notifyWhenReady(std::function<void()> fn);
  // Wakes a pending notifyWhenReady with no data (for shutdown).
  void cancel();
  const Cursor& cursor() const { return m_cursor; }

 private:
  friend class EventLog;
  WatchSession(EventLog& log, const Cursor& from, std::vector<bool> shards);
  absl::Status fillFromStore(ShardId shard, Seq up_to, std::size_t max, std::vector<LedgerEntry>& out);

  EventLog& m_log;
  Cursor m_cursor;
  std::vector<bool> m_shards;  // watched shards
  std::uint64_t m_position = 0;  // next tail position to read
  Cursor m_target{};             // catch-up targets (resync)
  bool m_resync = true;
  std::function<void()> m_notify;  // guarded by m_log.m_mutex
};

}  // namespace depot
