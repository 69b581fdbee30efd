#include "histogram.h"

#include <bit>
#include <cmath>

namespace depot::bench {

int Histogram::indexOf(std::uint64_t value) {
  if (value < static_cast<std::uint64_t>(kSub)) return static_cast<int>(value);
  const int e = 63 - std::countl_zero(value);  // >= kSubBits
  const int group = e - kSubBits + 1;          // >= 1
  const auto top = static_cast<int>(value >> (e - kSubBits));  // [kSub, 2 * kSub)
  return group * kSub + (top - kSub);
}

std::uint64_t Histogram::lowerBound(int index) {
  if (index < kSub) return static_cast<std::uint64_t>(index);
  const int group = index / kSub;
  const int sub = index % kSub;
  return static_cast<std::uint64_t>(kSub + sub) << (group - 1);
}

std::uint64_t Histogram::width(int index) {
  return index < kSub ? 1 : std::uint64_t{1} << (index / kSub - 1);
}

void Histogram::record(std::uint64_t value) {
  m_counts[static_cast<std::size_t>(indexOf(value))].fetch_add(1, std::memory_order_relaxed);
  m_sum.fetch_add(value, std::memory_order_relaxed);
  std::uint64_t seen = m_max.load(std::memory_order_relaxed);
  while (value > seen && !m_max.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
  }
}

std::uint64_t Histogram::count() const {
  std::uint64_t n = 0;
  for (const auto& c : m_counts) n += c.load(std::memory_order_relaxed);
  return n;
}

double Histogram::mean() const {
  const std::uint64_t n = count();
  return n == 0 ? 0.0 : static_cast<double>(m_sum.load(std::memory_order_relaxed)) / n;
}

std::uint64_t Histogram::quantile(double q) const {
  const std::uint64_t n = count();
  if (n == 0) return 0;
  // The smallest value with at least ceil(q * n) values at or below it.
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(n)));
  if (rank < 1) rank = 1;
  std::uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += m_counts[static_cast<std::size_t>(i)].load(std::memory_order_relaxed);
    if (seen >= rank) {
      const std::uint64_t mid = lowerBound(i) + width(i) / 2;
      return std::min(mid, max());
    }
  }
  return max();
}

}  // namespace depot::bench
