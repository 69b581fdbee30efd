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

// The server's own latency of the calls it admitted, over the measured
// window: depotd's depot_request_duration_seconds{rpc=...} histogram read
// from its /metrics at begin() and end(), quantiles taken from the bucket
// differences (so a quantile is the upper bound of its bucket). Calls shed
// at arrival are not in that histogram. It separates the server's queueing
// from the client's when both share the machine.
class ServerLatencyScraper {
 public:
  // metrics: HOST:PORT of depotd's metrics listener; empty: does nothing.
  ServerLatencyScraper(std::string metrics, std::string rpc);
  void begin();
  void end();
  struct Quantiles {
    double p50_ms = 0, p90_ms = 0, p99_ms = 0;
    std::uint64_t calls = 0;
  };
  // Empty when not configured or a scrape failed (see error()).
  std::optional<Quantiles> quantiles() const;
  const std::string& error() const { return m_error; }

 private:
  using Buckets = std::vector<std::pair<double, std::uint64_t>>;  // (le, cumulative count)
  bool scrape(Buckets* out);
  std::string m_host;
  int m_port = 0;
  std::string m_rpc;
  Buckets m_begin, m_end;
  bool m_ok = false;
  std::string m_error;
};

}  // namespace depot::bench
