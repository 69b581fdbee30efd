// depot-bench — load generator and latency recorder for depotd, with an echo
// ceiling served and measured by the same tool.
//
//   depot-bench run --server HOST:PORT [--target depot|echo]
//       --workload reserve|ship|mix|transfer|reads|watch --path unary|stream
//       [--batch B] [--in-flight N | --rate MOVEMENTS_PER_S] [--dist uniform|zipf:S|hot]
//       [--skus K] [--duration S] [--warmup S] [--connections C] [--streams S]
//       [--watchers W] [--watch-server HOST:PORT] [--server-pid PID]
//       [--server-metrics HOST:PORT] [--json FILE] [--label TEXT]
//   depot-bench load --server HOST:PORT [--skus K] [--on-hand Q]
//   depot-bench echo-server --listen HOST:PORT
//
// Exit status: 0 the run completed without errors; 1 the run had errors (the
// figures are printed, marked as not valid) or could not run; 2 bad
// parameters.
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>

#include "bench.h"
#include "echo_server.h"
#include "sku_chooser.h"

namespace depot::bench {

absl::Status validate(const RunOptions& o) {
  auto bad = [](const std::string& m) { return absl::InvalidArgumentError(m); };
  if (o.target != "depot" && o.target != "echo") return bad("--target: expected depot or echo, got '" + o.target + "'");
  static const char* const kWorkloads[] = {"reserve", "ship", "mix", "transfer", "reads", "watch"};
  if (std::find(std::begin(kWorkloads), std::end(kWorkloads), o.workload) == std::end(kWorkloads))
    return bad("--workload: unknown workload '" + o.workload + "' (reserve, ship, mix, transfer, reads, watch)");
  if (o.path != "unary" && o.path != "stream") return bad("--path: expected unary or stream, got '" + o.path + "'");
  if (!std::isfinite(o.duration) || o.duration <= 0) return bad("--duration: must be > 0 seconds");
  if (!std::isfinite(o.warmup) || o.warmup < 0) return bad("--warmup: must be >= 0 seconds");
  if (!std::isfinite(o.rate) || o.rate < 0) return bad("--rate: must be >= 0 movements/s (0 = closed loop)");
  if (o.batch < 1 || o.batch > 10000)
    return bad("--batch: must be 1..10000 (the server's limit per request), got " + std::to_string(o.batch));
  if (o.in_flight < 1) return bad("--in-flight: must be >= 1");
  if (o.max_in_flight < 1) return bad("--max-in-flight: must be >= 1");
  if (o.connections < 1 || o.connections > 64) return bad("--connections: must be 1..64");
  if (o.streams < 1 || o.streams > 256) return bad("--streams: must be 1..256");
  if (o.skus < 1) return bad("--skus: must be >= 1");
  if (o.ttl_seconds < 1 || o.ttl_seconds > 604800) return bad("--ttl: must be 1..604800 seconds");
  if ((o.workload == "reserve" || o.workload == "reads") && (o.path == "stream" || o.batch != 1))
    return bad("--workload " + o.workload + " is one request per operation on the unary path (" +
               (o.workload == "reserve" ? "holds have their own RPC" : "GetStock") +
               "); use ship/mix/transfer for stream and batch paths");
  if (o.workload == "watch") {
    if (o.target != "depot") return bad("--workload watch needs --target depot");
    if (!o.openLoop()) return bad("--workload watch needs --rate (events/s offered)");
    if (o.watchers < 1 || o.watchers > 1000) return bad("--watchers: must be 1..1000");
  }
  if (!o.server_metrics.empty()) {
    const auto colon = o.server_metrics.rfind(':');
    const std::string port = colon == std::string::npos ? "" : o.server_metrics.substr(colon + 1);
    if (colon == 0 || port.empty() || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stol(port.substr(0, 6)) < 1 || std::stol(port.substr(0, 6)) > 65535)
      return bad("--server-metrics: expected HOST:PORT of depotd's metrics listener, got '" +
                 o.server_metrics + "'");
  }
  auto chooser = SkuChooser::create(o.dist, static_cast<std::uint64_t>(o.skus));
  if (!chooser.ok()) return chooser.status();
  return absl::OkStatus();
}

}  // namespace depot::bench

int main(int argc, char** argv) {
  using namespace depot::bench;
  CLI::App app("depot-bench — load generator for depotd and the gRPC echo ceiling", "depot-bench");
  app.require_subcommand(1);

  RunOptions ro;
  auto* run = app.add_subcommand("run", "Measure one workload");
  run->add_option("--server", ro.server, "HOST:PORT of depotd or of an echo-server")->capture_default_str();
  run->add_option("--target", ro.target, "depot or echo (the echo ceiling)")->capture_default_str();
  run->add_option("--workload", ro.workload, "reserve, ship, mix (receive/ship), transfer, reads, watch")->capture_default_str();
  run->add_option("--path", ro.path, "unary (one request per batch) or stream (ApplyStream messages)")->capture_default_str();
  run->add_option("--batch", ro.batch, "Movements per request or stream message (1..10000)")->capture_default_str();
  run->add_option("--in-flight", ro.in_flight, "Closed loop: requests/messages in flight")->capture_default_str();
  run->add_option("--rate", ro.rate, "Open loop: movements/s offered (0 = closed loop)")->capture_default_str();
  run->add_option("--max-in-flight", ro.max_in_flight, "Open loop: client sheds past this many in flight")->capture_default_str();
  run->add_option("--connections", ro.connections, "TCP connections")->capture_default_str();
  run->add_option("--streams", ro.streams, "ApplyStream calls (stream path)")->capture_default_str();
  run->add_option("--skus", ro.skus, "SKUs in the data set")->capture_default_str();
  run->add_option("--dist", ro.dist, "SKU choice: uniform, zipf:S, hot")->capture_default_str();
  run->add_option("--duration", ro.duration, "Measured seconds")->capture_default_str();
  run->add_option("--warmup", ro.warmup, "Warm-up seconds")->capture_default_str();
  run->add_option("--watchers", ro.watchers, "Watch streams (watch workload)")->capture_default_str();
  run->add_option("--watch-server", ro.watch_server,
                  "Watch workload: HOST:PORT the watchers use [default: --server]; another "
                  "cluster node gives the cross-node Watch delay");
  run->add_option("--ttl", ro.ttl_seconds, "Hold TTL seconds (reserve)")->capture_default_str();
  run->add_option("--server-pid", ro.server_pid, "Sample this process's peak RSS and CPU time");
  run->add_option(
      "--server-metrics", ro.server_metrics,
      "HOST:PORT of depotd's /metrics: also report the server's own latency of the "
      "unary calls it admitted (separates its queueing from the client's) and its "
      "group commits in the window (per second, requests each, commit time per second)");
  run->add_option("--json", ro.json, "Write the result as JSON to FILE");
  run->add_option("--label", ro.label, "Label for the report");
  run->add_flag("--quiet", ro.quiet, "No human report (JSON only)");

  LoadOptions lo;
  auto* load = app.add_subcommand("load", "Create the bench data set through the API");
  load->add_option("--server", lo.server, "HOST:PORT of depotd")->capture_default_str();
  load->add_option("--skus", lo.skus, "SKUs")->capture_default_str();
  load->add_option("--on-hand", lo.on_hand, "Units received per SKU at bench/A")->capture_default_str();
  load->add_option("--locations", lo.locations,
                   "Stocked locations per SKU (1..99): bench/A, then bench/S02.. "
                   "(SKUs x locations balances)")
      ->capture_default_str();

  std::string listen = "127.0.0.1:50090";
  auto* echo = app.add_subcommand("echo-server", "Serve the echo ceiling (depot.bench.Echo)");
  echo->add_option("--listen", listen, "HOST:PORT")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  if (*echo) return runEchoServer(listen);
  if (*load) {
    if (auto s = loadDataSet(lo); !s.ok()) {
      std::fprintf(stderr, "depot-bench load: %s\n", s.ToString().c_str());
      return s.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
    }
    return 0;
  }
  if (auto s = validate(ro); !s.ok()) {
    std::fprintf(stderr, "depot-bench: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  auto result = ro.workload == "watch" ? runWatch(ro) : runLoad(ro);
  if (!result.ok()) {
    std::fprintf(stderr, "depot-bench: %s\n", result.status().ToString().c_str());
    return 1;
  }
  if (auto s = report(*result); !s.ok()) {
    std::fprintf(stderr, "depot-bench: %s\n", s.ToString().c_str());
    return 1;
  }
  bool failed = result->errorCount() > 0;
  if (ro.workload == "watch" && !result->watch_complete) failed = true;
  return failed ? 1 : 0;
}
