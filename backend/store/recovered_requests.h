// keepNewestRequests: the idempotency-record filter both stores apply when a
// shard is recovered (header only, like the Store interface).
#pragma once

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "store/store.h"

namespace depot {

// Stores keep records in rows that hold whole commits, so a row newer than
// `since` may carry older records: drops those, and keeps only the last
// record of a request id stored twice, preserving commit order. In place:
// a restart runs this over millions of records.
inline void keepNewestRequests(Micros since, std::vector<RecoveredRequest>* records) {
  std::vector<RecoveredRequest>& v = *records;
  std::vector<bool> keep(v.size(), false);
  {
    absl::flat_hash_map<RequestKey, std::size_t> last;
    last.reserve(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) last.insert_or_assign(v[i].key, i);
    for (const auto& [key, i] : last) keep[i] = v[i].remembered.ts >= since;
  }
  std::size_t kept = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!keep[i]) continue;
    if (kept != i) v[kept] = std::move(v[i]);
    ++kept;
  }
  v.resize(kept);
}

}  // namespace depot
