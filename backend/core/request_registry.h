// RequestRegistry: request_id -> fingerprint of the whole client request, for
// the idempotency window, across all shards. A shard only sees the part of a
// request that lands on it; the registry catches a request_id reused with a
// different payload even when the two land on different shards.
//
// Memory: ~40 bytes per id (64-bit hashes, not the ids themselves; a hash
// collision between two different ids within the window is ~2^-64 likely).
#pragma once

#include <array>
#include <deque>
#include <mutex>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "core/huge_pages.h"
#include "core/model.h"

namespace depot {

class RequestRegistry {
 public:
  // max_ids > 0 bounds the ids held (the oldest go first, per stripe), as
  // EngineOptions::max_remembered_requests bounds the shards' records.
  explicit RequestRegistry(Micros window, std::size_t max_ids = 0)
      : m_window(window), m_maxPerStripe(max_ids == 0 ? 0 : max_ids / kStripes + 1) {}
  // OK if the id is new (and records it) or was seen with the same
  // fingerprint; ALREADY_EXISTS naming `field` otherwise.
  absl::Status claim(std::string_view field, std::string_view request_id,
                     std::uint64_t fingerprint, Micros now);
  // Records ids already accepted, as (digest, i.e. requestDigest(id),
  // fingerprint), as a restart recovers them from a shard; each stripe is
  // locked once. The first fingerprint seen for an id wins. expected_total
  // (0: unknown) is how many ids the whole restart brings: the stripes are
  // sized for it on the first call instead of doubling as they fill.
  void rememberAll(const std::vector<std::pair<std::uint64_t, std::uint64_t>>& records, Micros now,
                   std::size_t expected_total = 0);

 private:
  static constexpr std::size_t kStripes = 64;
  struct Stripe {
    std::mutex mutex;
    absl::flat_hash_map<std::uint64_t, std::uint64_t, absl::Hash<std::uint64_t>,
                        std::equal_to<std::uint64_t>,
                        HugePageAllocator<std::pair<const std::uint64_t, std::uint64_t>>>
        fingerprints;
    std::deque<std::pair<Micros, std::uint64_t>> order;
  };
  // Drops ids older than the window, then the oldest past the bound.
  void trim(Stripe& s, Micros now);
  // Inserts (digest, fingerprint) unless present; returns the fingerprint held.
  std::uint64_t claimDigest(std::uint64_t digest, std::uint64_t fingerprint, Micros now);

  const Micros m_window;
  const std::size_t m_maxPerStripe;  // 0: no bound
  std::array<Stripe, kStripes> m_stripes;
};

}  // namespace depot
