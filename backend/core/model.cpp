#include "core/model.h"

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

}  // namespace depot
