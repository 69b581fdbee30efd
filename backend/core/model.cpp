#include "core/model.h"

#include "absl/hash/hash.h"

namespace depot {

const char* kindName(MovementKind kind) {
  switch (kind) {
    case MovementKind::kReceive: return "RECEIVE";
    case MovementKind::kShip: return "SHIP";
    case MovementKind::kTransfer: return "TRANSFER";
    case MovementKind::kAdjust: return "ADJUST";
    case MovementKind::kReserve: return "RESERVE";
    case MovementKind::kRelease: return "RELEASE";
    case MovementKind::kCommit: return "COMMIT";
    case MovementKind::kCount: return "COUNT";
  }
  return "UNKNOWN";
}

const char* holdStateName(HoldState state) {
  switch (state) {
    case HoldState::kOpen: return "OPEN";
    case HoldState::kCommitted: return "COMMITTED";
    case HoldState::kReleased: return "RELEASED";
    case HoldState::kExpired: return "EXPIRED";
  }
  return "UNKNOWN";
}

const char* countStateName(CountState state) {
  switch (state) {
    case CountState::kApplied: return "APPLIED";
    case CountState::kPending: return "PENDING_APPROVAL";
    case CountState::kApproved: return "APPROVED";
    case CountState::kRejected: return "REJECTED";
  }
  return "UNKNOWN";
}

const char* alertKindName(AlertKind kind) {
  switch (kind) {
    case AlertKind::kLowStock: return "low_stock";
    case AlertKind::kStockout: return "stockout";
    case AlertKind::kCountVariance: return "count_variance";
  }
  return "unknown";
}

const char* alertStateName(AlertState state) {
  switch (state) {
    case AlertState::kFiring: return "FIRING";
    case AlertState::kAcknowledged: return "ACKNOWLEDGED";
    case AlertState::kResolved: return "RESOLVED";
  }
  return "UNKNOWN";
}

const char* severityName(Severity severity) {
  switch (severity) {
    case Severity::kInfo: return "info";
    case Severity::kWarning: return "warning";
    case Severity::kCritical: return "critical";
  }
  return "unknown";
}

std::uint64_t requestDigest(std::string_view request_id) {
  return Fingerprint().add(request_id).value();
}

RequestKey requestKey(std::string_view request_id) {
  return RequestKey{requestDigest(request_id), absl::Hash<std::string_view>{}(request_id)};
}

Fingerprint& Fingerprint::add(std::string_view s) {
  add(static_cast<std::int64_t>(s.size()));
  for (unsigned char c : s) {
    m_h ^= c;
    m_h *= 1099511628211ull;
  }
  return *this;
}

Fingerprint& Fingerprint::add(std::int64_t v) {
  auto u = static_cast<std::uint64_t>(v);
  for (int i = 0; i < 8; ++i) {
    m_h ^= (u >> (i * 8)) & 0xff;
    m_h *= 1099511628211ull;
  }
  return *this;
}

}  // namespace depot
