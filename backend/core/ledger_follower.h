// LedgerFollower: keeps a cluster node's EventLog complete for every shard,
// including the ones other nodes write, by reading the ledger tail from the
// shared store. It wakes on a commit notification (the wait function; on
// PostgreSQL a LISTEN connection), else on its poll timer, and after every
// wake reads every shard's entries after what the EventLog has
// (Store::readLedgerAfter: one round trip on PostgreSQL) and publishes them. The ledger stays the truth: a lost notification
// only delays delivery until the timer fires.
//
// Entries this node's own writers publish first are dropped by the EventLog
// as duplicates, so the follower and the writers may race freely.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "core/event_log.h"
#include "core/stats.h"
#include "store/store.h"

namespace depot {

class LedgerFollower {
 public:
  // Returns true when woken by a notification, false on timeout; must return
  // within about `timeout` (stop() waits for it).
  using Wait = std::function<bool(std::chrono::milliseconds timeout)>;

  LedgerFollower(Store& store, EventLog& events, Wait wait,
                 std::chrono::milliseconds poll = std::chrono::milliseconds(500));
  ~LedgerFollower();
  LedgerFollower(const LedgerFollower&) = delete;
  LedgerFollower& operator=(const LedgerFollower&) = delete;

  void start();
  void stop();
  // Entries the last pass found that this node had not yet published (the
  // cross-node Watch backlog, in entries).
  std::uint64_t lastLagEntries() const { return m_lag.load(std::memory_order_relaxed); }

 private:
  void run();
  void catchUp();

  Store& m_store;
  EventLog& m_events;
  Wait m_wait;
  const std::chrono::milliseconds m_poll;
  std::atomic<bool> m_stop{false};
  std::atomic<std::uint64_t> m_lag{0};
  std::thread m_thread;
};

}  // namespace depot
