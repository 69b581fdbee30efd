// ProcessSampler: the peak RSS and the CPU time of another process (depotd)
// over the measured window, read from /proc every 100 ms on its own thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

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

}  // namespace depot::bench
