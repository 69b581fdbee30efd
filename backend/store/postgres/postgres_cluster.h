// PostgresCluster: the cluster's shared control state in PostgreSQL — node
// heartbeats and shard leases — and LedgerListener, the LISTEN side of the
// ledger wake-up that depot_fence() sends with every commit.
//
// Leases (schema version 4, table `shards`): a shard's lease is its row's
// (owner, lease_expires_at); taking it bumps `epoch`, and every commit checks
// the epoch in the same transaction (depot_fence), so a node that lost a
// lease can commit nothing to the shard. Every time is the database's clock
// (now()): nodes never compare their own clocks.
//
// A node also bounds its leases on its own steady clock: a renewal sent at
// local time t makes the lease valid locally until t + ttl * kLocalFraction,
// which ends before the database lets another node take the shard (the
// database's expiry is now() at the UPDATE, i.e. after t, plus ttl). So a node
// stops writing before anyone else may start, and fencing covers what local
// clocks cannot (a process paused between its check and its commit).
//
// Every call is one round trip on this object's own connection (reconnected
// on the next call after a failure), bounded by statement_timeout + grace.
// One thread at a time per object (the cluster loop).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/model.h"

namespace depot {

namespace pg {
class ConnectionPool;
class Connection;
}  // namespace pg

struct ClusterNodeRow {
  std::string node_id;
  std::string endpoint;
  double heartbeat_age_s = 0;  // by the database's clock
  bool alive = false;          // heartbeat within the lease ttl
};

struct ShardLeaseRow {
  ShardId shard = 0;
  std::string owner;  // empty: free
  std::uint64_t epoch = 0;
  Seq last_seq = 0;
  bool expired = true;  // free, or lease_expires_at <= now()
};

struct ClusterView {
  std::vector<ClusterNodeRow> nodes;  // by node_id
  std::vector<ShardLeaseRow> shards;  // kShardCount rows, by shard
};

class PostgresCluster {
 public:
  static constexpr double kLocalFraction = 0.8;

  struct Options {
    std::string dsn;
    std::string node_id;
    std::string endpoint;  // host:port other nodes and clients use
    std::chrono::milliseconds lease_ttl{5000};
    std::chrono::milliseconds statement_timeout{2000};
  };
  // Validates the options; connects lazily.
  static absl::StatusOr<std::unique_ptr<PostgresCluster>> create(const Options& options);
  ~PostgresCluster();

  const Options& options() const { return m_options; }

  // Upserts this node's row with heartbeat_at = now().
  absl::Status heartbeat();
  // Extends every lease this node holds; returns (shard, epoch) of each.
  absl::StatusOr<std::vector<std::pair<ShardId, std::uint64_t>>> renew();
  // Takes the shard's lease if it is free, expired or already this node's
  // (a restarted node with the same id), bumping the epoch. nullopt: another
  // node holds a live lease.
  absl::StatusOr<std::optional<std::uint64_t>> acquire(ShardId shard);
  // Gives the lease up at once (after this node stopped writing the shard),
  // so the next owner need not wait for it to expire. Only if still held at
  // `epoch`.
  absl::Status release(ShardId shard, std::uint64_t epoch);
  // Removes this node's row (clean shutdown, after releasing its shards).
  absl::Status leave();
  // Every node row and every shard's lease, in one snapshot.
  absl::StatusOr<ClusterView> view();

 private:
  explicit PostgresCluster(Options options, std::unique_ptr<pg::ConnectionPool> pool);
  std::chrono::steady_clock::time_point deadline() const;

  const Options m_options;
  std::unique_ptr<pg::ConnectionPool> m_pool;  // one slot
};

// A connection that LISTENs on the ledger channel. wait() returns true when a
// commit was notified (false on timeout); after a reconnect it reports true
// once, since notifications sent while disconnected are lost and the caller
// must re-read the ledger tail anyway.
class LedgerListener {
 public:
  explicit LedgerListener(std::string dsn);
  ~LedgerListener();
  LedgerListener(const LedgerListener&) = delete;
  LedgerListener& operator=(const LedgerListener&) = delete;
  // Waits up to `timeout`. UNAVAILABLE when the server cannot be reached
  // (the caller polls on its timer meanwhile).
  absl::StatusOr<bool> wait(std::chrono::milliseconds timeout);

 private:
  absl::Status connect();
  void drop();
  const std::string m_dsn;
  struct State;
  std::unique_ptr<State> m_state;
};

}  // namespace depot
