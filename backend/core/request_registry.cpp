#include "core/request_registry.h"

#include "absl/strings/str_cat.h"
#include "core/shard_state.h"

namespace depot {

absl::Status RequestRegistry::claim(std::string_view field, std::string_view request_id,
                                    std::uint64_t fingerprint, Micros now) {
  const std::uint64_t h = Fingerprint().add(request_id).value();
  Stripe& s = m_stripes[h % kStripes];
  std::lock_guard lock(s.mutex);
  while (!s.order.empty() && s.order.front().first < now - m_window) {
    s.fingerprints.erase(s.order.front().second);
    s.order.pop_front();
  }
  auto [it, inserted] = s.fingerprints.try_emplace(h, fingerprint);
  if (inserted) {
    s.order.emplace_back(now, h);
    return absl::OkStatus();
  }
  if (it->second == fingerprint) return absl::OkStatus();
  return absl::AlreadyExistsError(
      absl::StrCat(absl::string_view(field.data(), field.size()), ": '",
                   absl::string_view(request_id.data(), request_id.size()), "' was already used for a different request"));
}

}  // namespace depot
