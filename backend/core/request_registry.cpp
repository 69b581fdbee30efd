#include "core/request_registry.h"

#include "absl/strings/str_cat.h"
#include "core/shard_state.h"

namespace depot {

absl::Status RequestRegistry::claim(std::string_view field, std::string_view request_id,
                                    std::uint64_t fingerprint, Micros now) {
  if (claimDigest(requestKey(request_id).fnv, fingerprint, now) == fingerprint)
    return absl::OkStatus();
  return absl::AlreadyExistsError(
      absl::StrCat(absl::string_view(field.data(), field.size()), ": '",
                   absl::string_view(request_id.data(), request_id.size()),
                   "' was already used for a different request"));
}

void RequestRegistry::remember(std::uint64_t id_digest, std::uint64_t fingerprint, Micros now) {
  (void)claimDigest(id_digest, fingerprint, now);
}

std::uint64_t RequestRegistry::claimDigest(std::uint64_t digest, std::uint64_t fingerprint,
                                           Micros now) {
  Stripe& s = m_stripes[digest % kStripes];
  std::lock_guard lock(s.mutex);
  while (!s.order.empty() && s.order.front().first < now - m_window) {
    s.fingerprints.erase(s.order.front().second);
    s.order.pop_front();
  }
  auto [it, inserted] = s.fingerprints.try_emplace(digest, fingerprint);
  if (inserted) s.order.emplace_back(now, digest);
  return it->second;
}

}  // namespace depot
