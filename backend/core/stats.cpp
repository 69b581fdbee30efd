#include "core/stats.h"

#include <algorithm>
#include <cmath>

namespace depot {

Histogram::Histogram(std::vector<double> upper_bounds)
    : m_bounds(std::move(upper_bounds)),
      m_counts(new std::atomic<std::uint64_t>[m_bounds.size() + 1]) {
  for (std::size_t i = 0; i <= m_bounds.size(); ++i) m_counts[i].store(0);
}

void Histogram::observe(double value) {
  auto it = std::lower_bound(m_bounds.begin(), m_bounds.end(), value);
  m_counts[static_cast<std::size_t>(it - m_bounds.begin())].fetch_add(1, std::memory_order_relaxed);
  double sum = m_sum.load(std::memory_order_relaxed);
  while (!m_sum.compare_exchange_weak(sum, sum + value, std::memory_order_relaxed)) {
  }
  m_count.fetch_add(1, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.bounds = m_bounds;
  s.counts.resize(m_bounds.size() + 1);
  for (std::size_t i = 0; i <= m_bounds.size(); ++i) {
    s.counts[i] = m_counts[i].load(std::memory_order_relaxed);
    s.count += s.counts[i];  // consistent with the buckets even under concurrent writes
  }
  s.sum = m_sum.load(std::memory_order_relaxed);
  return s;
}

double Histogram::Snapshot::quantile(double q) const {
  if (count == 0) return 0;
  const double rank = q * static_cast<double>(count);
  double seen = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    const double c = static_cast<double>(counts[i]);
    if (seen + c >= rank && c > 0) {
      const double lo = i == 0 ? 0 : bounds[i - 1];
      const double hi = i < bounds.size() ? bounds[i] : (bounds.empty() ? 0 : bounds.back());
      return lo + (hi - lo) * std::clamp((rank - seen) / c, 0.0, 1.0);
    }
    seen += c;
  }
  return bounds.empty() ? 0 : bounds.back();
}

Histogram::Snapshot Histogram::Snapshot::minus(const Snapshot& earlier) const {
  Snapshot d = *this;
  if (earlier.counts.size() != counts.size()) return d;
  d.count = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    d.counts[i] = counts[i] >= earlier.counts[i] ? counts[i] - earlier.counts[i] : 0;
    d.count += d.counts[i];
  }
  d.sum = sum - earlier.sum;
  return d;
}

std::vector<double> Histogram::latencyBoundsSeconds() {
  // 10 µs .. ~10 s, four buckets per decade.
  std::vector<double> b;
  for (double v = 1e-5; v < 11; v *= std::pow(10.0, 0.25)) b.push_back(v);
  return b;
}

std::vector<double> Histogram::sizeBounds() {
  std::vector<double> b;
  for (double v = 1; v <= 65536; v *= 2) b.push_back(v);
  return b;
}

Stats::Stats()
    : commit_batch_size(Histogram::sizeBounds()),
      commit_seconds(Histogram::latencyBoundsSeconds()),
      command_seconds(Histogram::latencyBoundsSeconds()) {}

std::string_view statusCodeName(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk: return "OK";
    case absl::StatusCode::kCancelled: return "CANCELLED";
    case absl::StatusCode::kUnknown: return "UNKNOWN";
    case absl::StatusCode::kInvalidArgument: return "INVALID_ARGUMENT";
    case absl::StatusCode::kDeadlineExceeded: return "DEADLINE_EXCEEDED";
    case absl::StatusCode::kNotFound: return "NOT_FOUND";
    case absl::StatusCode::kAlreadyExists: return "ALREADY_EXISTS";
    case absl::StatusCode::kPermissionDenied: return "PERMISSION_DENIED";
    case absl::StatusCode::kResourceExhausted: return "RESOURCE_EXHAUSTED";
    case absl::StatusCode::kFailedPrecondition: return "FAILED_PRECONDITION";
    case absl::StatusCode::kAborted: return "ABORTED";
    case absl::StatusCode::kOutOfRange: return "OUT_OF_RANGE";
    case absl::StatusCode::kUnimplemented: return "UNIMPLEMENTED";
    case absl::StatusCode::kInternal: return "INTERNAL";
    case absl::StatusCode::kUnavailable: return "UNAVAILABLE";
    case absl::StatusCode::kDataLoss: return "DATA_LOSS";
    case absl::StatusCode::kUnauthenticated: return "UNAUTHENTICATED";
    default: return "UNKNOWN";
  }
}

}  // namespace depot
