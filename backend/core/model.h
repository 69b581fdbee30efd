// Domain model shared by core, store and server. Plain value types, no I/O.
//
// Units: quantities are whole units (int64). Times are microseconds since the
// Unix epoch, UTC (int64), as read from the engine's Clock.
#pragma once

#include <array>
#include <charconv>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/cord.h"

namespace depot {

using Qty = std::int64_t;
using Seq = std::uint64_t;
using ShardId = std::uint32_t;
using ItemId = std::uint32_t;      // assigned by the store when an item is created
using LocationId = std::uint32_t;  // assigned by the store when a location is created
using Micros = std::int64_t;       // microseconds since the Unix epoch (UTC)

inline constexpr ShardId kShardCount = 256;

// Limits enforced by the server and documented in the .proto files.
inline constexpr std::size_t kMaxSkuLength = 64;
inline constexpr std::size_t kMaxNameLength = 64;          // warehouse, location code, unit
inline constexpr std::size_t kMaxTextLength = 512;         // description, reason, note
inline constexpr std::size_t kMaxIdLength = 128;           // request_id, order_id, actor
inline constexpr std::size_t kMaxBatchMovements = 10000;   // movements per Apply / lines per request
inline constexpr Qty kMaxQuantity = 1'000'000'000'000;     // |quantity| per movement (1e12)
inline constexpr Qty kMaxBalance = 4'000'000'000'000'000;  // guard against int64 overflow

// The stable shard hash: FNV-1a 64-bit over the SKU's UTF-8 bytes, mod 256.
// Fixed forever: changing it would move every SKU to another shard.
constexpr ShardId shardOf(std::string_view sku) noexcept {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : sku) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return static_cast<ShardId>(h % kShardCount);
}

enum class MovementKind : std::uint8_t {
  kReceive = 1,
  kShip = 2,
  kTransfer = 3,  // two ledger entries (legs) with the same request_id
  kAdjust = 4,
  kReserve = 5,
  kRelease = 6,   // a hold released by the client or expired by the engine
  kCommit = 7,    // reserved units shipped
  kCount = 8,     // stocktake variance applied
};
const char* kindName(MovementKind kind);

struct Balance {
  Qty on_hand = 0;
  Qty reserved = 0;
  Qty available() const { return on_hand - reserved; }
  friend bool operator==(const Balance&, const Balance&) = default;
};

struct Item {
  ItemId id = 0;
  std::string sku;
  std::string description;
  std::string unit = "ea";
  Qty reorder_point = 0;
  Qty reorder_qty = 0;
  ShardId shard = 0;  // shardOf(sku)
};

struct Location {
  LocationId id = 0;
  std::string warehouse;
  std::string code;
  std::string name() const { return warehouse + "/" + code; }  // "east/A-01-03"
};

// One row of the ledger: the truth from which every balance is derived.
struct LedgerEntry {
  ShardId shard = 0;
  Seq seq = 0;  // gap-free per shard, commit order
  std::string request_id;
  MovementKind kind = MovementKind::kReceive;
  ItemId item = 0;
  LocationId location = 0;
  Qty d_on_hand = 0;
  Qty d_reserved = 0;
  Qty on_hand_after = 0;  // the balance of (item, location) after this entry
  Qty reserved_after = 0;
  std::string actor;
  std::string reason;
  std::string ref;  // order id (holds), count id (stocktake), peer location for transfers
  Micros ts = 0;    // commit-batch time; non-decreasing per shard
};

// The result of one command, returned to the client and remembered (with the
// command's fingerprint) for idempotent retries.
// RESOURCE_EXHAUSTED carrying the time after which a retry should find room
// (the server turns it into a google.rpc.RetryInfo); retryAfter() reads it
// back (0 when absent).
inline constexpr absl::string_view kRetryAfterPayload = "depot.retry_after_us";
inline absl::Status overloaded(std::string_view message, Micros retry_after) {
  absl::Status st = absl::ResourceExhaustedError(absl::string_view(message.data(), message.size()));
  st.SetPayload(kRetryAfterPayload, absl::Cord(std::to_string(retry_after)));
  return st;
}
inline Micros retryAfter(const absl::Status& status) {
  auto p = status.GetPayload(kRetryAfterPayload);
  if (!p) return 0;
  const std::string text(*p);
  Micros v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

struct Outcome {
  absl::StatusCode code = absl::StatusCode::kOk;
  std::string message;
  Seq first_seq = 0;          // first ledger entry written (0 if none)
  std::uint32_t entries = 0;  // number of ledger entries written
  // Balances after the command for each (item, location) it touched, in
  // command order (transfer: from, to). Empty when refused.
  std::vector<std::pair<LocationId, Balance>> after;
  // RESOURCE_EXHAUSTED from admission control: when the queue should have
  // room (never stored: a shed command was not applied).
  Micros retry_after = 0;
  bool ok() const { return code == absl::StatusCode::kOk; }
  absl::Status status() const {
    if (ok()) return absl::OkStatus();
    if (retry_after > 0) return overloaded(message, retry_after);
    return absl::Status(code, message);
  }
};

// Idempotency record: what a request_id produced. Kept for the idempotency
// window (default 24 h), in memory and in the store.
struct RequestRecord {
  std::string request_id;
  ShardId shard = 0;
  std::uint64_t fingerprint = 0;  // hash of the command's payload
  Outcome outcome;
  Micros ts = 0;
};

// Stable 64-bit FNV-1a over a canonical encoding of a command's payload: the
// same payload gives the same fingerprint in every process and version.
class Fingerprint {
 public:
  Fingerprint& add(std::string_view s);
  Fingerprint& add(std::int64_t v);
  std::uint64_t value() const { return m_h; }

 private:
  std::uint64_t m_h = 14695981039346656037ull;
};

struct RequestKey {
  std::uint64_t fnv = 0;
  std::uint64_t mixed = 0;
  friend bool operator==(const RequestKey& a, const RequestKey& b) {
    return a.fnv == b.fnv && a.mixed == b.mixed;
  }
  template <typename H>
  friend H AbslHashValue(H h, const RequestKey& k) {
    return H::combine(std::move(h), k.fnv, k.mixed);
  }
};
RequestKey requestKey(std::string_view request_id);
// requestKey(id).fnv alone: the RequestRegistry's key.
std::uint64_t requestDigest(std::string_view request_id);

// An idempotency record's answer as a restart reads it from the store (the
// shard's IdempotencyWindow keeps it more compactly): no heap allocation for
// the usual one-balance answer, the message only for refusals.
struct RememberedRequest {
  std::uint64_t fingerprint = 0;
  Micros ts = 0;
  Seq first_seq = 0;
  std::uint32_t entries = 0;
  absl::StatusCode code = absl::StatusCode::kOk;
  absl::InlinedVector<std::pair<LocationId, Balance>, 1> after;
  std::unique_ptr<const std::string> message;  // refusals only
};

// An idempotency record as a restart recovers it (ShardRecovery): the key of
// its request id instead of the id. A restart recovers millions of these.
struct RecoveredRequest {
  RequestKey key;
  RememberedRequest remembered;
};

enum class HoldState : std::uint8_t { kOpen = 1, kCommitted = 2, kReleased = 3, kExpired = 4 };
const char* holdStateName(HoldState state);

struct HoldLine {
  ItemId item = 0;
  LocationId location = 0;
  Qty qty = 0;
};

// The part of an order's hold that lives in one shard.
struct Hold {
  std::string order_id;
  ShardId shard = 0;
  std::string request_id;  // of the Reserve that created it
  HoldState state = HoldState::kOpen;
  std::vector<HoldLine> lines;
  std::string actor;
  Micros created_at = 0;
  Micros expires_at = 0;
  Micros closed_at = 0;  // 0 while open
};

enum class CountState : std::uint8_t { kApplied = 1, kPending = 2, kApproved = 3, kRejected = 4 };
const char* countStateName(CountState state);

// One stocktake count line and its reconciliation.
struct CountRecord {
  std::string count_id;  // = the request_id of the submitted line
  ShardId shard = 0;
  ItemId item = 0;
  LocationId location = 0;
  Qty counted = 0;
  Micros counted_at = 0;
  Qty expected = 0;  // on_hand per the ledger at counted_at
  Qty variance = 0;  // counted - expected
  CountState state = CountState::kPending;
  std::string session_id;
  std::string counter;
  bool blind = false;
  Micros submitted_at = 0;
  std::string decided_by;
  std::string note;
  Micros decided_at = 0;
  Seq applied_seq = 0;  // the COUNT entry, once applied
};

enum class AlertKind : std::uint8_t { kLowStock = 1, kStockout = 2, kCountVariance = 3 };
enum class AlertState : std::uint8_t { kFiring = 1, kAcknowledged = 2, kResolved = 3 };
enum class Severity : std::uint8_t { kInfo = 1, kWarning = 2, kCritical = 3 };
const char* alertKindName(AlertKind kind);
const char* alertStateName(AlertState state);
const char* severityName(Severity severity);

struct Alert {
  std::uint64_t id = 0;  // assigned by the AlertManager, unique in the store
  AlertKind kind = AlertKind::kLowStock;
  Severity severity = Severity::kWarning;
  AlertState state = AlertState::kFiring;
  std::string subject;  // the SKU, or the count id for variances
  std::string summary;  // human-readable
  Micros fired_at = 0;
  Micros updated_at = 0;
  Micros resolved_at = 0;
  std::string acked_by;
  Micros acked_at = 0;
  std::string ack_note;
  bool silenced = false;  // matched by an active silence when last evaluated
};

// A silence mutes notifications of matching alerts until it expires.
// kind == 0 matches any kind; an empty subject_prefix matches every subject.
struct Silence {
  std::uint64_t id = 0;
  std::uint8_t kind = 0;
  std::string subject_prefix;
  std::string owner;
  std::string comment;
  Micros created_at = 0;
  Micros expires_at = 0;
  bool matches(const Alert& a, Micros now) const {
    return now < expires_at && (kind == 0 || kind == static_cast<std::uint8_t>(a.kind)) &&
           std::string_view(a.subject).substr(0, subject_prefix.size()) == subject_prefix;
  }
};

}  // namespace depot
