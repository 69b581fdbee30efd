#include "core/request_registry.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/shard_state.h"

namespace depot {

absl::Status RequestRegistry::claim(std::string_view field, std::string_view request_id,
                                    std::uint64_t fingerprint, Micros now) {
  if (claimDigest(requestDigest(request_id), fingerprint, now) == fingerprint)
    return absl::OkStatus();
  return absl::AlreadyExistsError(
      absl::StrCat(absl::string_view(field.data(), field.size()), ": '",
                   absl::string_view(request_id.data(), request_id.size()),
                   "' was already used for a different request"));
}

void RequestRegistry::rememberAll(
    const std::vector<std::pair<std::uint64_t, std::uint64_t>>& records, Micros now,
    std::size_t expected_total) {
  // A stripe's share of the total, with room for the spread between stripes.
  const std::size_t expected_per_stripe =
      expected_total == 0 ? 0 : expected_total / kStripes + expected_total / kStripes / 16 + 16;
  std::array<std::vector<std::pair<std::uint64_t, std::uint64_t>>, kStripes> by_stripe;
  for (auto& v : by_stripe) v.reserve(records.size() / kStripes + 16);
  for (const auto& r : records) by_stripe[r.first % kStripes].push_back(r);
  for (std::size_t i = 0; i < kStripes; ++i) {
    Stripe& s = m_stripes[i];
    std::lock_guard lock(s.mutex);
    s.fingerprints.reserve(
        std::max(s.fingerprints.size() + by_stripe[i].size(), expected_per_stripe));
    for (const auto& [digest, fingerprint] : by_stripe[i])
      if (s.fingerprints.try_emplace(digest, fingerprint).second) s.order.emplace_back(now, digest);
    trim(s, now);
  }
}

void RequestRegistry::trim(Stripe& s, Micros now) {
  while (!s.order.empty() && (s.order.front().first < now - m_window ||
                              (m_maxPerStripe > 0 && s.fingerprints.size() > m_maxPerStripe))) {
    s.fingerprints.erase(s.order.front().second);
    s.order.pop_front();
  }
}

std::uint64_t RequestRegistry::claimDigest(std::uint64_t digest, std::uint64_t fingerprint,
                                           Micros now) {
  Stripe& s = m_stripes[digest % kStripes];
  std::lock_guard lock(s.mutex);
  trim(s, now);
  auto [it, inserted] = s.fingerprints.try_emplace(digest, fingerprint);
  if (inserted) s.order.emplace_back(now, digest);
  return it->second;
}

}  // namespace depot
