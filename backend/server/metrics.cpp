#include "server/metrics.h"

#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "server/str.h"

namespace depot::server {
namespace {

std::string formatDouble(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  strAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}

// Emits the _bucket/_sum/_count series of one histogram. `labels` is either
// empty or `key="value"` pairs without braces.
void histogramSeries(std::string& out, std::string_view name, std::string_view labels,
                     const Histogram::Snapshot& s) {
  const std::string sep = labels.empty() ? "" : ",";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < s.counts.size(); ++i) {
    cumulative += s.counts[i];
    const std::string le = i < s.bounds.size() ? formatDouble(s.bounds[i]) : "+Inf";
    strAppend(out, name, "_bucket{", labels, sep, "le=\"", le, "\"} ", cumulative, "\n");
  }
  const std::string braces = labels.empty() ? "" : strCat("{", labels, "}");
  strAppend(out, name, "_sum", braces, " ", formatDouble(s.sum), "\n");
  strAppend(out, name, "_count", braces, " ", cumulative, "\n");
}

}  // namespace

std::string_view rpcName(Rpc rpc) {
  switch (rpc) {
    case Rpc::kApply:
      return "Apply";
    case Rpc::kApplyStream:
      return "ApplyStream";
    case Rpc::kReserve:
      return "Reserve";
    case Rpc::kCommit:
      return "Commit";
    case Rpc::kRelease:
      return "Release";
    case Rpc::kGetStock:
      return "GetStock";
    case Rpc::kListStock:
      return "ListStock";
    case Rpc::kHistory:
      return "History";
    case Rpc::kBalanceAt:
      return "BalanceAt";
    case Rpc::kSnapshot:
      return "Snapshot";
    case Rpc::kUpsertItems:
      return "UpsertItems";
    case Rpc::kGetItem:
      return "GetItem";
    case Rpc::kListItems:
      return "ListItems";
    case Rpc::kUpsertLocations:
      return "UpsertLocations";
    case Rpc::kListLocations:
      return "ListLocations";
    case Rpc::kSubmitCounts:
      return "SubmitCounts";
    case Rpc::kApprove:
      return "Approve";
    case Rpc::kReject:
      return "Reject";
    case Rpc::kListPending:
      return "ListPending";
    case Rpc::kListAlerts:
      return "ListAlerts";
    case Rpc::kAck:
      return "Ack";
    case Rpc::kSilence:
      return "Silence";
    case Rpc::kListSilences:
      return "ListSilences";
    case Rpc::kClusterStatus:
      return "ClusterStatus";
    case Rpc::kCount_:
      break;
  }
  return "unknown";
}

ServerMetrics::ServerMetrics() {
  for (auto& h : m_rpc) h = std::make_unique<Histogram>(Histogram::latencyBoundsSeconds());
  m_startTime =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string renderPrometheus(InventoryService& core, const ServerMetrics& metrics,
                             const ClusterMetrics* cluster) {
  std::string out;
  out.reserve(64 * 1024);
  Stats& stats = core.stats();

  header(out, "depot_movements_total", "counter",
         "Ledger-writing commands acknowledged, by movement kind.");
  for (std::size_t k = 1; k < stats.movements.size(); ++k) {
    std::string kind(kindName(static_cast<MovementKind>(k)));
    for (char& c : kind) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    strAppend(out, "depot_movements_total{kind=\"", kind, "\"} ",
              stats.movements[k].load(std::memory_order_relaxed), "\n");
  }

  header(out, "depot_rejections_total", "counter", "Commands refused, by status code.");
  for (std::size_t c = 1; c < stats.rejections.size(); ++c) {
    strAppend(out, "depot_rejections_total{code=\"",
              statusCodeName(static_cast<absl::StatusCode>(c)), "\"} ",
              stats.rejections[c].load(std::memory_order_relaxed), "\n");
  }

  header(out, "depot_commits_total", "counter", "Group commits written to the store.");
  strAppend(out, "depot_commits_total ", stats.commits.load(), "\n");
  header(out, "depot_commit_failures_total", "counter", "Group commits the store refused.");
  strAppend(out, "depot_commit_failures_total ", stats.commit_failures.load(), "\n");
  header(out, "depot_replays_total", "counter",
         "Idempotent retries answered with the remembered result.");
  strAppend(out, "depot_replays_total ", stats.replays.load(), "\n");
  header(out, "depot_expired_holds_total", "counter", "Order holds expired by their TTL.");
  strAppend(out, "depot_expired_holds_total ", stats.expired_holds.load(), "\n");

  header(out, "depot_commit_batch_size", "histogram", "Commands per group commit.");
  histogramSeries(out, "depot_commit_batch_size", "", stats.commit_batch_size.snapshot());
  header(out, "depot_commit_duration_seconds", "histogram", "Store commit latency.");
  histogramSeries(out, "depot_commit_duration_seconds", "", stats.commit_seconds.snapshot());
  header(out, "depot_command_duration_seconds", "histogram",
         "Command latency from enqueue to acknowledgement.");
  histogramSeries(out, "depot_command_duration_seconds", "", stats.command_seconds.snapshot());

  header(out, "depot_request_duration_seconds", "histogram",
         "gRPC request latency in the server, by RPC.");
  for (std::size_t r = 0; r < kRpcCount; ++r) {
    const auto rpc = static_cast<Rpc>(r);
    histogramSeries(out, "depot_request_duration_seconds", strCat("rpc=\"", rpcName(rpc), "\""),
                    metrics.rpcHistogram(rpc).snapshot());
  }

  std::size_t firing = 0;
  for (const auto& a : core.alerts().list(false, 100000)) {
    if (a.state == AlertState::kFiring) ++firing;
  }
  const auto gauge = [&out](std::string_view name, std::string_view help, auto value) {
    header(out, name, "gauge", help);
    strAppend(out, name, " ", value, "\n");
  };
  gauge("depot_queue_depth", "Commands queued for the shard writers.", core.queueDepth());
  gauge("depot_store_unapplied_entries",
        "Ledger entries durable in the commit log but not yet in the store's tables "
        "(the SQLite engine; commits wait at 500,000).",
        core.unappliedEntries());
  header(out, "depot_commit_log_syncs_total", "counter",
         "fdatasync calls of the commit log (the SQLite engine): fewer than "
         "depot_commits_total when one flush covered several writers' commits.");
  strAppend(out, "depot_commit_log_syncs_total ", core.logSyncs(), "\n");
  gauge("depot_calls_in_flight", "Unary calls being served (admitted, not yet answered).",
        metrics.calls_in_flight.load());
  header(out, "depot_calls_shed_total", "counter",
         "Unary calls refused at arrival (RESOURCE_EXHAUSTED + RetryInfo): the server was "
         "serving --max-concurrent-calls already.");
  strAppend(out, "depot_calls_shed_total ", metrics.calls_shed.load(), "\n");
  gauge("depot_watch_subscribers", "Open Watch sessions.", core.events().subscribers());
  gauge("depot_open_holds", "Open order holds.", core.openHolds());
  const IdempotencyWindowStats window = core.idempotencyWindow();
  gauge("depot_idempotency_requests", "Request ids remembered for retries (the idempotency window).",
        window.remembered);
  gauge("depot_idempotency_oldest_timestamp_seconds",
        "Unix time of the oldest remembered request: time() minus this is the window in effect.",
        formatDouble(static_cast<double>(window.oldest_ts) / 1e6));
  header(out, "depot_idempotency_forgotten_early_total", "counter",
         "Request ids forgotten before --idempotency-window ended, to stay within "
         "--idempotency-max-requests (a retry of one is applied again).");
  strAppend(out, "depot_idempotency_forgotten_early_total ", window.forgotten_early, "\n");
  gauge("depot_alerts_firing", "Alerts in state FIRING (not acknowledged).", firing);
  if (cluster) {
    gauge("depot_cluster_shards_served", "Shards whose lease this node holds and serves.",
          cluster->shards_served);
    gauge("depot_cluster_live_nodes", "Nodes with a heartbeat within the lease ttl.",
          cluster->live_nodes);
    gauge("depot_cluster_watch_lag_entries",
          "Ledger entries committed (by any node) not yet followed into this node's Watch.",
          cluster->follower_lag_entries);
    const auto counter = [&out](std::string_view name, std::string_view help, auto value) {
      header(out, name, "counter", help);
      strAppend(out, name, " ", value, "\n");
    };
    counter("depot_cluster_shards_acquired_total", "Shard leases taken by this node.",
            cluster->shards_acquired);
    counter("depot_cluster_shards_released_total", "Shard leases handed over by this node.",
            cluster->shards_released);
    counter("depot_cluster_leases_lost_total",
            "Shard leases taken from this node while it held them (paused, partitioned).",
            cluster->leases_lost);
    counter("depot_cluster_tick_failures_total",
            "Lease ticks that could not reach PostgreSQL.", cluster->tick_failures);
  }
  header(out, "process_start_time_seconds", "gauge",
         "Start time of the process since the Unix epoch in seconds.");
  strAppend(out, "process_start_time_seconds ", formatDouble(metrics.startTimeSeconds()), "\n");
  return out;
}

}  // namespace depot::server
