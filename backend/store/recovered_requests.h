// keepNewestRequests: the idempotency-record filter both stores apply when a
// shard is recovered (header only, like the Store interface).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "store/store.h"

namespace depot {

// Stores keep records in rows that hold whole commits, so a row newer than
// `since` may carry older records: drops those, and keeps only the last
// record of a request_id stored twice, preserving commit order. In place:
// a restart runs this over millions of records.
inline void keepNewestRequests(Micros since, std::vector<RequestRecord>* records) {
  std::vector<RequestRecord>& v = *records;
  std::vector<bool> keep(v.size(), false);
  {
    // Views into the records: valid until the records move, below.
    absl::flat_hash_map<std::string_view, std::size_t> last;
    last.reserve(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) last.insert_or_assign(std::string_view(v[i].request_id), i);
    for (const auto& [id, i] : last) keep[i] = v[i].ts >= since;
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
