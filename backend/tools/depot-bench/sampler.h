// ProcessSampler: the peak RSS and the CPU time of another process (depotd)
// over the measured window, read from /proc every 100 ms on its own thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace depot::bench {

class ProcessSampler {
 public:
  explicit ProcessSampler(std::int64_t pid);  // pid <= 0: samples nothing
  ~ProcessSampler();
  ProcessSampler(const ProcessSampler&) = delete;
  ProcessSampler& operator=(const ProcessSampler&) = delete;

  void begin();  // starts the window (resets the peak, notes the CPU time)
  void end();    // ends it
  std::int64_t peakRssKb() const { return m_peak.load(); }  // -1 when not sampled
  double cpuSeconds() const { return m_cpu; }                // -1 when not sampled

  static std::int64_t rssKb(std::int64_t pid);       // -1 when unreadable
  static double cpuSecondsOf(std::int64_t pid);      // utime + stime; -1 when unreadable
  static double selfCpuSeconds();                    // this process, getrusage

 private:
  const std::int64_t m_pid;
  std::atomic<bool> m_stop{false};
  std::atomic<bool> m_active{false};
  std::atomic<std::int64_t> m_peak{-1};
  double m_cpuStart = -1;
  double m_cpu = -1;
  std::thread m_thread;
};

// What depotd itself says about the measured window, from its /metrics read
// at begin() and end():
// - the latency of the calls it admitted: its
//   depot_request_duration_seconds{rpc=...} histogram, quantiles taken from
//   the bucket differences (so a quantile is the upper bound of its
//   bucket). Calls shed at arrival are not in it. It separates the
//   server's queueing from the client's when both share the machine.
// - its group commits: how many per second, how many requests each
//   carried, and the commit time (start to durable) per second summed
//   over the commits: how many were in flight on average (the writers
//   pipeline them, so it exceeds 1 when the disk is the bound; DESIGN.md §6).
class ServerMetricsScraper {
 public:
  // metrics: HOST:PORT of depotd's metrics listener; empty: does nothing.
  // rpc: the unary RPC whose latency is read; empty: none (streams).
  ServerMetricsScraper(std::string metrics, std::string rpc);
  void begin();
  void end();
  struct Quantiles {
    double p50_ms = 0, p90_ms = 0, p99_ms = 0;
    std::uint64_t calls = 0;
  };
  struct Commits {
    double per_second = 0;
    double requests_each = 0;  // depot_commit_batch_size: requests (or messages) per commit
    double busy_s_per_s = 0;   // commit time summed over the writers, per second
    // fdatasync calls of the commit log per second (depot_commit_log_syncs_total;
    // -1 when depotd does not export it): below per_second when one flush
    // covers several commits.
    double log_syncs_per_s = -1;
  };
  // Empty when not configured, not asked for, or a scrape failed (see error()).
  std::optional<Quantiles> quantiles() const;
  std::optional<Commits> commits(double window_s) const;
  const std::string& error() const { return m_error; }

 private:
  using Buckets = std::vector<std::pair<double, std::uint64_t>>;  // (le, cumulative count)
  struct Snapshot {
    Buckets latency;
    double commits = 0, batch_size_sum = 0, commit_seconds_sum = 0;
    double log_syncs = -1;  // -1: not exported
  };
  bool scrape(Snapshot* out);
  std::string m_host;
  int m_port = 0;
  std::string m_rpc;
  Snapshot m_begin, m_end;
  bool m_ok = false;
  std::string m_error;
};

}  // namespace depot::bench
