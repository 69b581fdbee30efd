// Server-side metrics (per-RPC latency) and the Prometheus text exposition
// (format 0.0.4) of everything /metrics serves: the core's Stats plus gauges
// read from the InventoryService at scrape time.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/service.h"
#include "core/stats.h"

namespace depot::server {

// Every RPC the server records a duration for. Unary RPCs: from the handler
// being called to Finish. ApplyStream: per inbound message, from read to
// result. Snapshot: the whole stream. Long-lived watch streams are not timed.
enum class Rpc : std::uint8_t {
  kApply,
  kApplyStream,
  kReserve,
  kCommit,
  kRelease,
  kGetStock,
  kListStock,
  kHistory,
  kBalanceAt,
  kSnapshot,
  kUpsertItems,
  kGetItem,
  kListItems,
  kUpsertLocations,
  kListLocations,
  kSubmitCounts,
  kApprove,
  kReject,
  kListPending,
  kListAlerts,
  kAck,
  kSilence,
  kListSilences,
  kClusterStatus,
  kCount_  // number of entries, not an RPC
};
inline constexpr std::size_t kRpcCount = static_cast<std::size_t>(Rpc::kCount_);
std::string_view rpcName(Rpc rpc);  // "Apply", "depot.v1.Inventory/Apply" is not used

// Thread-safe (lock-free observe()).
class ServerMetrics {
 public:
  ServerMetrics();
  ServerMetrics(const ServerMetrics&) = delete;
  ServerMetrics& operator=(const ServerMetrics&) = delete;

  void observe(Rpc rpc, double seconds) { m_rpc[static_cast<std::size_t>(rpc)]->observe(seconds); }
  const Histogram& rpcHistogram(Rpc rpc) const { return *m_rpc[static_cast<std::size_t>(rpc)]; }
  double startTimeSeconds() const { return m_startTime; }

  // Admission before parsing (UnaryCall::enter): unary calls being served
  // now, and calls refused at arrival because the limit was reached.
  std::atomic<std::int64_t> calls_in_flight{0};
  std::atomic<std::uint64_t> calls_shed{0};

 private:
  std::array<std::unique_ptr<Histogram>, kRpcCount> m_rpc;
  double m_startTime;  // Unix seconds
};

// What a cluster member adds to the exposition.
struct ClusterMetrics {
  std::size_t shards_served = 0;
  std::size_t live_nodes = 0;
  std::uint64_t shards_acquired = 0;  // counters since start
  std::uint64_t shards_released = 0;
  std::uint64_t leases_lost = 0;
  std::uint64_t tick_failures = 0;
  std::uint64_t follower_lag_entries = 0;  // committed elsewhere, not yet in this node's Watch
};

// Renders the full exposition. Reads gauges from `core` (cheap, lock-free or
// short locks); `cluster` only on a cluster member.
std::string renderPrometheus(InventoryService& core, const ServerMetrics& metrics,
                             const ClusterMetrics* cluster = nullptr);

}  // namespace depot::server
