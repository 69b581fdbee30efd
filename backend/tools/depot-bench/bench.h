// depot-bench: the parameters of one measured run, their validation, and
// the figures it produces. See main.cpp for the command line.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "histogram.h"

namespace depot::bench {

struct RunOptions {
  std::string server = "127.0.0.1:50051";  // HOST:PORT of depotd or of the echo server
  // Watch workload: the node the watchers use (empty: `server`). Another
  // cluster node than `server` measures the cross-node Watch delay.
  std::string watch_server;
  std::string target = "depot";            // depot | echo (same messages, same client code)
  std::string workload = "ship";           // reserve | ship | mix | transfer | reads | watch
  std::string path = "unary";              // unary (Apply/Reserve/GetStock) | stream (ApplyStream)
  std::int64_t batch = 1;                  // movements per request or per stream message
  std::int64_t in_flight = 64;             // closed loop: requests (unary) / messages (stream) in flight
  double rate = 0;                         // > 0: open loop at this many movements/s
  std::int64_t max_in_flight = 20000;      // open loop: past this many requests in flight the client sheds
  std::int64_t connections = 1;            // TCP connections (unary calls round-robin over them)
  std::int64_t streams = 1;                // ApplyStream calls, spread over the connections
  std::int64_t skus = 100000;              // SKUs of the data set (sku-0000000 ...)
  std::string dist = "uniform";            // uniform | zipf:S | hot
  double duration = 10;                    // measured seconds
  double warmup = 2;                       // seconds before measuring
  std::int64_t watchers = 50;              // watch workload: Watch streams
  std::int64_t ttl_seconds = 600;          // reserve workload: hold TTL
  std::int64_t server_pid = 0;             // > 0: sample this process's RSS and CPU
  std::string server_metrics;              // HOST:PORT of depotd's /metrics: server-side latency
  std::string json;                        // write the result here as JSON
  std::string label;                       // free text carried into the report
  bool quiet = false;

  bool openLoop() const { return rate > 0; }
  std::string service() const { return target == "echo" ? "depot.bench.Echo" : "depot.v1.Inventory"; }
};

// INVALID_ARGUMENT with a message naming the flag when a parameter is
// nonsense (zero duration, negative rate, batch over the server limit...).
absl::Status validate(const RunOptions& options);

// gRPC status code names, indexed by code (0..16).
const char* codeName(int code);

struct RunResult {
  RunOptions options;
  double window_s = 0;                     // measured interval
  std::uint64_t requests_ok = 0;           // requests answered OK (RPC level) in the window
  std::uint64_t movements_ok = 0;          // movements applied (or reads served) in the window
  std::uint64_t movements_ok_total = 0;     // the same, warm-up and drain included
  std::uint64_t requests_sent = 0;         // requests started in the window
  std::uint64_t behind = 0;                // open loop: due in the window, never sent (generator behind schedule)
  std::uint64_t shed = 0;                  // open loop: requests the client could not send (cap)
  std::array<std::uint64_t, 17> refused{};  // movements refused, by code (admission/business)
  std::array<std::uint64_t, 17> errors{};   // movements failed, by code (anything unexpected)
  std::shared_ptr<Histogram> latency;      // ns, admitted requests in the window
  std::int64_t peak_rss_kb = -1;           // server, when --server-pid
  double server_cpu_s = -1;
  double client_cpu_s = 0;
  // --server-metrics, unary path: the server's latency of the calls it
  // admitted in the window (bucket upper bounds, ms); calls < 0: not measured
  double server_p50_ms = 0, server_p90_ms = 0, server_p99_ms = 0;
  std::int64_t server_calls = -1;
  // --server-metrics, every path: depotd's group commits in the window;
  // commits_per_s < 0: not measured
  double server_commits_per_s = -1;
  double server_requests_per_commit = 0;  // requests (stream messages) per commit
  double server_commit_busy = 0;          // commit seconds per second, summed over writers
  double server_log_syncs_per_s = -1;     // commit-log fdatasyncs per second (-1: not exported)
  // watch workload
  std::uint64_t watch_events = 0;          // ledger entries committed by the load
  std::uint64_t watch_min_delivered = 0;   // fewest entries any watcher received
  std::uint64_t watch_max_delivered = 0;
  bool watch_complete = false;             // every watcher received every entry
  std::string note;                        // why a figure is missing or suspect

  std::uint64_t errorCount() const;
  std::uint64_t refusalCount() const;
  double movementsPerSecond() const { return window_s > 0 ? movements_ok / window_s : 0; }
  double requestsPerSecond() const { return window_s > 0 ? requests_ok / window_s : 0; }
};

// The measured run (closed or open loop, unary or stream). driver.cpp.
absl::StatusOr<RunResult> runLoad(const RunOptions& options);
// The Watch fan-out run. watch.cpp.
absl::StatusOr<RunResult> runWatch(const RunOptions& options);

struct LoadOptions {
  std::string server = "127.0.0.1:50051";
  std::int64_t skus = 100000;
  std::int64_t on_hand = 1'000'000'000;
  std::int64_t batch = 10000;
  // Stocked locations per SKU: bench/A, then bench/S02..bench/SNN. More than
  // one gives the many-balances-per-item shape of a real warehouse network
  // (the memory-per-balance measurement in DESIGN §6).
  std::int64_t locations = 1;
};
// Creates the data set through the API: locations bench/A and bench/B, SKUs
// sku-0000000.., and on_hand units of each at bench/A (and at the extra
// stocked locations; idempotent: the same request ids every time). load.cpp.
absl::Status loadDataSet(const LoadOptions& options);

// Prints the human report to stdout; writes JSON when options.json is set.
// report.cpp.
absl::Status report(const RunResult& result);

}  // namespace depot::bench
