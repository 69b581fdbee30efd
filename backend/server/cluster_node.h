// ClusterNode: this depotd's membership of a cluster on PostgreSQL — the loop
// that heartbeats, renews the shard leases it holds, and rebalances.
//
// Assignment: the desired owner of shard s is the live node with the highest
// rendezvous hash of (node id, s) — every node computes the same map from the
// same view, and a node joining or leaving moves only ~1/N of the shards.
// Live = heartbeat within the lease ttl (database clock).
//
// Each tick (every ttl/5, or at once when the engine reports a fenced
// commit):
//   1. heartbeat; renew every lease held. A shard served here whose lease
//      was not renewed was taken by another node: stop serving it at once.
//      Renewed leases get a local deadline (see PostgresCluster) that the
//      engine enforces before every commit.
//   2. hand over: a shard served here whose desired owner is another live
//      node is drained (engine release: queued commands commit first) and
//      its lease given up, so the new owner takes it without waiting.
//   3. take over: a shard whose desired owner is this node and whose lease is
//      free or expired is acquired (epoch + 1) and loaded.
//   4. publish the routing table (shard -> node, endpoint) for the router.
// On shutdown every shard is handed over before the node's row is removed.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/service.h"
#include "server/cluster_router.h"
#include "store/postgres/postgres_cluster.h"

namespace depot::server {

struct ClusterStats {
  std::uint64_t acquired = 0;
  std::uint64_t released = 0;
  std::uint64_t lost = 0;
  std::uint64_t ticks = 0;
  std::uint64_t tick_failures = 0;
};

class ClusterNode {
 public:
  ClusterNode(PostgresCluster& cluster, InventoryService& core);
  ~ClusterNode();
  ClusterNode(const ClusterNode&) = delete;
  ClusterNode& operator=(const ClusterNode&) = delete;

  // Runs a first tick (so a lone node serves at once) and starts the loop.
  void start();
  // Hands every shard over and leaves the cluster. Idempotent.
  void stop();
  // Wakes the loop now (a fenced commit, a lease that ran out).
  void poke();

  ShardRoute route(ShardId shard) const;
  ClusterView lastView() const;
  std::size_t shardsServed() const;
  ClusterStats stats() const;
  const std::string& nodeId() const { return m_cluster.options().node_id; }

 private:
  void run();
  void tick();
  std::string desiredOwner(ShardId shard, const std::vector<std::string>& live) const;
  bool engineAcquire(ShardId shard);
  void engineRelease(ShardId shard);

  PostgresCluster& m_cluster;
  InventoryService& m_core;
  std::map<ShardId, std::uint64_t> m_held;  // shard -> epoch, loop thread only

  mutable std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_poked = false;  // guarded by m_mutex
  bool m_stop = false;   // guarded by m_mutex
  ClusterView m_view;    // guarded by m_mutex
  std::array<ShardRoute, kShardCount> m_routes;  // guarded by m_mutex
  ClusterStats m_stats;  // guarded by m_mutex
  std::thread m_thread;
  std::atomic<bool> m_stopped{false};
};

}  // namespace depot::server
