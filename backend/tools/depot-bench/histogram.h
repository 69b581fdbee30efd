// Histogram: a compact log-linear latency histogram (HdrHistogram is not
// packaged in Debian 12). Values are non-negative integers (nanoseconds
// here). Values below 128 are exact; above, each power of two is split into
// 128 linear sub-buckets, so a reported quantile is within 0.4% of a
// recorded value (the bucket's midpoint), which is ample for p99.9.
//
// Thread safety: record() may be called from any number of threads at once
// (relaxed atomics: a snapshot taken while recording may miss the latest
// values, never corrupt). The read methods are for after the recording.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace depot::bench {

class Histogram {
 public:
  static constexpr int kSubBits = 7;
  static constexpr int kSub = 1 << kSubBits;
  static constexpr int kBuckets = (64 - kSubBits + 1) * kSub;

  void record(std::uint64_t value);
  std::uint64_t count() const;
  // The value at quantile q in [0, 1] (0 when empty).
  std::uint64_t quantile(double q) const;
  std::uint64_t max() const { return m_max.load(std::memory_order_relaxed); }
  double mean() const;

  static int indexOf(std::uint64_t value);
  static std::uint64_t lowerBound(int index);
  static std::uint64_t width(int index);

 private:
  std::array<std::atomic<std::uint64_t>, kBuckets> m_counts{};
  std::atomic<std::uint64_t> m_max{0};
  std::atomic<std::uint64_t> m_sum{0};
};

}  // namespace depot::bench
