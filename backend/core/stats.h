// Counters and histograms the core keeps for /metrics and WatchMetrics.
// Lock-free: writers bump atomics; readers take approximate snapshots.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/model.h"

namespace depot {

// Fixed exponential buckets; upper bounds are given at construction.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);
  struct Snapshot {
    std::vector<double> bounds;           // upper bounds, +Inf implied at the end
    std::vector<std::uint64_t> counts;    // per bucket (not cumulative), size bounds+1
    double sum = 0;
    std::uint64_t count = 0;
    double quantile(double q) const;      // linear interpolation inside the bucket
    Snapshot minus(const Snapshot& earlier) const;  // for windowed rates
  };
  Snapshot snapshot() const;

  static std::vector<double> latencyBoundsSeconds();  // 10 µs .. 10 s
  static std::vector<double> sizeBounds();            // 1 .. 65536

 private:
  std::vector<double> m_bounds;
  std::unique_ptr<std::atomic<std::uint64_t>[]> m_counts;
  std::atomic<double> m_sum{0};
  std::atomic<std::uint64_t> m_count{0};
};

// The idempotency window of all shards (Engine::idempotencyWindow()).
struct IdempotencyWindowStats {
  std::size_t remembered = 0;         // requests remembered
  std::uint64_t forgotten_early = 0;  // forgotten before the window ended (the memory bound)
  std::int64_t oldest_ts = 0;         // micros since the epoch of the oldest remembered; 0 if none
  std::int64_t newest_ts = 0;         // ... of the newest remembered; 0 if none
};

struct Stats {
  Stats();
  std::array<std::atomic<std::uint64_t>, 9> movements{};   // by MovementKind value
  std::array<std::atomic<std::uint64_t>, 17> rejections{};  // by absl::StatusCode
  std::atomic<std::uint64_t> commits{0};
  std::atomic<std::uint64_t> commit_failures{0};
  std::atomic<std::uint64_t> replays{0};  // idempotent retries answered from memory
  std::atomic<std::uint64_t> expired_holds{0};
  Histogram commit_batch_size;     // commands per group commit
  Histogram commit_seconds;        // store commit latency
  Histogram command_seconds;       // enqueue to acknowledgement, per command

  void countRejection(absl::StatusCode code) {
    auto i = static_cast<std::size_t>(code);
    if (i < rejections.size()) rejections[i].fetch_add(1, std::memory_order_relaxed);
  }
};

std::string_view statusCodeName(absl::StatusCode code);  // "FAILED_PRECONDITION"

}  // namespace depot
