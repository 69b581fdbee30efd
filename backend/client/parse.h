// Parsing and formatting of the values people type: quantities, times,
// durations, location names and order lines. Used by depotctl and the console
// to refuse bad input locally, with a message naming the field, before
// anything is sent (the server validates again; these mirror its limits).
//
// Every parser returns INVALID_ARGUMENT "<field>: <reason>" on failure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace depot::client {

using Micros = std::int64_t;  // microseconds since the Unix epoch, UTC

// Mirrors the server's limits (documented in backend/proto/depot/v1).
inline constexpr std::int64_t kMaxQuantity = 1'000'000'000'000;  // |quantity| per movement
inline constexpr std::size_t kMaxSkuLength = 64;
inline constexpr std::size_t kMaxNameLength = 64;  // warehouse, location code, unit

enum class QtyRule {
  kPositive,     // > 0 (receive, ship, transfer, reserve)
  kNonNegative,  // >= 0 (counted quantity, reorder point)
  kNonZero,      // signed, != 0 (adjust delta)
};

// Decimal integer with an optional sign ('+' or '-', the latter only for
// kNonZero), surrounding spaces allowed, |value| <= kMaxQuantity.
absl::StatusOr<std::int64_t> parseQuantity(std::string_view field, std::string_view text,
                                           QtyRule rule);

// Non-negative decimal integer in [min, max], e.g. a --limit.
absl::StatusOr<std::int64_t> parseInteger(std::string_view field, std::string_view text,
                                          std::int64_t min, std::int64_t max);

// A point in time:
// - RFC 3339 / ISO 8601: 2026-11-28T10:00:00Z, 2026-11-28T10:00:00.250+01:00,
//   'T' or a space between date and time; a zone (Z or +HH:MM) is required
//   (a time without one is ambiguous, so it is refused rather than guessed);
// - a date alone, 2026-11-28, meaning midnight UTC;
// - unix seconds, possibly with a fraction: 1795860000 or 1795860000.5;
// - "now".
absl::StatusOr<Micros> parseTime(std::string_view field, std::string_view text);

// RFC 3339 in UTC: 2026-11-28T10:00:00Z, with `fraction_digits` (0, 3 or 6)
// sub-second digits.
std::string formatTime(Micros t, int fraction_digits = 0);

// A duration: "90" (seconds), "90s", "15m", "2h", "1d", "1h30m", "500ms".
// Must be > 0.
absl::StatusOr<Micros> parseDuration(std::string_view field, std::string_view text);

struct LocationName {
  std::string warehouse;
  std::string code;
  std::string full() const { return warehouse + "/" + code; }
};

// "WAREHOUSE/LOCATION", both parts non-empty, <= kMaxNameLength, no spaces
// at the ends; the first '/' separates them.
absl::StatusOr<LocationName> parseLocation(std::string_view field, std::string_view text);

// Non-empty, <= kMaxSkuLength bytes, no control characters or surrounding spaces.
absl::Status validateSku(std::string_view field, std::string_view sku);

struct LineSpec {
  std::string sku;
  std::string location;  // "warehouse/code"
  std::int64_t quantity = 0;
};

// "SKU:WAREHOUSE/LOCATION:QTY" (quantity > 0). The SKU ends at the first ':'
// and the quantity starts after the last one.
absl::StatusOr<LineSpec> parseLineSpec(std::string_view field, std::string_view text);

}  // namespace depot::client
