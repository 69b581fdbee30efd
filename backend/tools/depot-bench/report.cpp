#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bench.h"

namespace depot::bench {

const char* codeName(int code) {
  static const char* const kNames[] = {
      "OK",        "CANCELLED",         "UNKNOWN",          "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",   "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL",      "UNAVAILABLE",      "DATA_LOSS",
      "UNAUTHENTICATED"};
  return code >= 0 && code <= 16 ? kNames[code] : "UNKNOWN";
}

std::uint64_t RunResult::errorCount() const {
  std::uint64_t n = 0;
  for (auto e : errors) n += e;
  return n;
}

std::uint64_t RunResult::refusalCount() const {
  std::uint64_t n = shed + behind;
  for (auto e : refused) n += e;
  return n;
}

namespace {
double ms(std::uint64_t ns) { return static_cast<double>(ns) / 1e6; }
}  // namespace

absl::Status report(const RunResult& r) {
  const RunOptions& o = r.options;
  const Histogram& h = *r.latency;
  const bool watch = o.workload == "watch";
  const std::string mode =
      o.openLoop() ? "open loop " + std::to_string(static_cast<long long>(o.rate)) + " movements/s"
                   : "closed loop " + std::to_string(o.in_flight) + " in flight";
  if (!o.quiet) {
    std::printf("depot-bench %s: target %s, workload %s, path %s, batch %lld, %s, dist %s over %lld SKUs, %lld connection(s)%s\n",
                o.label.c_str(), o.target.c_str(), o.workload.c_str(), o.path.c_str(),
                static_cast<long long>(o.batch), mode.c_str(), o.dist.c_str(),
                static_cast<long long>(o.skus), static_cast<long long>(o.connections),
                o.path == "stream" ? (", " + std::to_string(o.streams) + " stream(s)").c_str() : "");
    std::printf("  window %.1f s (after %.1f s warm-up)\n", r.window_s, o.warmup);
    std::printf("  throughput: %.0f movements/s, %.0f requests/s\n", r.movementsPerSecond(),
                r.requestsPerSecond());
    std::printf("  %s ms: p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f  (n=%llu)\n",
                watch ? "watch lag" : "latency", ms(h.quantile(0.5)), ms(h.quantile(0.9)),
                ms(h.quantile(0.99)), ms(h.quantile(0.999)), ms(h.max()),
                static_cast<unsigned long long>(h.count()));
    std::printf("  refusals: %llu", static_cast<unsigned long long>(r.refusalCount()));
    for (int c = 0; c < 17; ++c)
      if (r.refused[c] > 0) std::printf("  %s=%llu", codeName(c), static_cast<unsigned long long>(r.refused[c]));
    if (r.shed > 0) std::printf("  client_shed=%llu", static_cast<unsigned long long>(r.shed));
    if (r.behind > 0) std::printf("  client_behind=%llu", static_cast<unsigned long long>(r.behind));
    std::printf("\n");
    if (watch) {
      std::printf("  watchers %lld: %llu events committed; each watcher received %llu..%llu: %s\n",
                  static_cast<long long>(o.watchers), static_cast<unsigned long long>(r.watch_events),
                  static_cast<unsigned long long>(r.watch_min_delivered),
                  static_cast<unsigned long long>(r.watch_max_delivered),
                  r.watch_complete ? "complete" : "INCOMPLETE");
    }
    if (r.peak_rss_kb >= 0) std::printf("  server peak RSS %.1f MiB, server CPU %.2f s\n", r.peak_rss_kb / 1024.0, r.server_cpu_s);
    std::printf("  client CPU %.2f s\n", r.client_cpu_s);
    if (r.server_calls >= 0) {
      std::printf("  server latency of admitted calls (depotd's histogram, bucket bounds) ms: p50 <= %.3g"
                  "  p90 <= %.3g  p99 <= %.3g  (n=%lld)\n",
                  r.server_p50_ms, r.server_p90_ms, r.server_p99_ms,
                  static_cast<long long>(r.server_calls));
    }
    if (r.server_commits_per_s >= 0) {
      std::printf(
          "  server commits: %.0f/s, %.1f requests each, %.2f s of commit time per s (commits"
          " started and not yet durable, on average)",
          r.server_commits_per_s, r.server_requests_per_commit, r.server_commit_busy);
      if (r.server_log_syncs_per_s >= 0)
        std::printf(", %.0f log flushes/s", r.server_log_syncs_per_s);
      std::printf("\n");
    }
    if (r.errorCount() > 0) {
      std::printf("  RUN HAD ERRORS: %llu movements failed:", static_cast<unsigned long long>(r.errorCount()));
      for (int c = 0; c < 17; ++c)
        if (r.errors[c] > 0) std::printf("  %s=%llu", codeName(c), static_cast<unsigned long long>(r.errors[c]));
      std::printf("  -- the figures above are not valid\n");
    }
    if (!r.note.empty()) std::printf("  note: %s\n", r.note.c_str());
    std::fflush(stdout);
  }
  if (o.json.empty()) return absl::OkStatus();

  nlohmann::json j;
  j["label"] = o.label;
  j["target"] = o.target;
  j["workload"] = o.workload;
  j["path"] = o.path;
  j["batch"] = o.batch;
  j["mode"] = o.openLoop() ? "open" : "closed";
  j["in_flight"] = o.in_flight;
  j["rate_offered"] = o.rate;
  j["connections"] = o.connections;
  j["streams"] = o.streams;
  j["dist"] = o.dist;
  j["skus"] = o.skus;
  j["duration_s"] = o.duration;
  j["warmup_s"] = o.warmup;
  j["window_s"] = r.window_s;
  j["requests_sent"] = r.requests_sent;
  j["requests_ok"] = r.requests_ok;
  j["movements_ok"] = r.movements_ok;
  j["throughput_movements_s"] = r.movementsPerSecond();
  j["throughput_requests_s"] = r.requestsPerSecond();
  j["latency_ms"] = {{"p50", ms(h.quantile(0.5))},   {"p90", ms(h.quantile(0.9))},
                     {"p99", ms(h.quantile(0.99))},  {"p999", ms(h.quantile(0.999))},
                     {"max", ms(h.max())},           {"mean", h.mean() / 1e6},
                     {"count", h.count()}};
  nlohmann::json refused = nlohmann::json::object();
  nlohmann::json errors = nlohmann::json::object();
  for (int c = 0; c < 17; ++c) {
    if (r.refused[c] > 0) refused[codeName(c)] = r.refused[c];
    if (r.errors[c] > 0) errors[codeName(c)] = r.errors[c];
  }
  if (r.shed > 0) refused["client_shed"] = r.shed;
  if (r.behind > 0) refused["client_behind"] = r.behind;
  j["offered"] = o.openLoop() ? static_cast<std::uint64_t>(o.rate / static_cast<double>(o.batch) * r.window_s) : r.requests_sent;
  j["refusals"] = refused;
  j["refusals_total"] = r.refusalCount();
  j["errors"] = errors;
  j["errors_total"] = r.errorCount();
  j["valid"] = r.errorCount() == 0;
  j["peak_rss_kb"] = r.peak_rss_kb;
  j["server_cpu_s"] = r.server_cpu_s;
  j["client_cpu_s"] = r.client_cpu_s;
  if (r.server_calls >= 0) {
    j["server_latency_ms"] = {{"p50", r.server_p50_ms},
                              {"p90", r.server_p90_ms},
                              {"p99", r.server_p99_ms},
                              {"calls", r.server_calls}};
  }
  if (r.server_commits_per_s >= 0) {
    j["server_commits"] = {{"per_s", r.server_commits_per_s},
                           {"requests_each", r.server_requests_per_commit},
                           {"busy_s_per_s", r.server_commit_busy}};
    if (r.server_log_syncs_per_s >= 0)
      j["server_commits"]["log_syncs_per_s"] = r.server_log_syncs_per_s;
  }
  if (watch) {
    j["watch"] = {{"watchers", o.watchers},
                  {"events", r.watch_events},
                  {"min_delivered", r.watch_min_delivered},
                  {"max_delivered", r.watch_max_delivered},
                  {"complete", r.watch_complete}};
  }
  j["note"] = r.note;
  std::ofstream out(o.json);
  out << j.dump(2) << "\n";
  if (!out) return absl::UnavailableError("cannot write " + o.json);
  return absl::OkStatus();
}

}  // namespace depot::bench
