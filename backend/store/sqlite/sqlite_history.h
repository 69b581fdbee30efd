// The history of one (item, location) in the SQLite store, without a
// per-entry secondary index.
//
// Layout (schema version 5):
// - every ledger row carries prev_seq, the seq of the previous entry of the
//   same (item, location) (0 for its first), and balances.last_seq is the
//   newest one: each balance's entries form a backward chain through the
//   ledger's primary key (shard, seq);
// - history_marks(item, location, ts, seq) holds about one entry in
//   kHistoryMarkEvery of each chain (those whose seq isHistoryMark), so any
//   ts or seq bound is reached by one index seek plus a walk of about that
//   many entries.
// Writing a movement is then appends plus a random-position index insert for
// one entry in 64, instead of one for every entry (which, once the index
// outgrew the cache, dirtied a page per entry and took about half of the
// applier's time).
//
// Within a shard ts never decreases with seq, so along one chain (ts, seq)
// order is seq order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include "absl/status/statusor.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_pool.h"
#include "store/store.h"

namespace depot::sqlite {

// About one entry in this many of a chain is marked.
inline constexpr std::uint64_t kHistoryMarkEvery = 64;

// Whether the entry at `seq` goes into history_marks. A hash of seq, not a
// per-balance count, so the applier needs no state for it and the schema
// migration can compute it in SQL (depot_history_mark). Gaps between marks
// are geometric with mean kHistoryMarkEvery whatever the pattern of seqs.
bool isHistoryMark(Seq seq);

// Registers depot_history_mark(seq) on `db` (for the schema migration).
absl::Status registerHistoryFunctions(Db& db);

// The entries of one (item, location) of `item`'s shard within the bounds,
// oldest first, or newest first, at most `limit` of them. Runs inside the
// caller's read transaction on `lease`.
struct ChainBounds {
  Micros from = 0;                                     // ts >= from
  Micros to = std::numeric_limits<Micros>::max();      // ts < to
  Seq after = 0;                                       // seq > after
  Seq before = std::numeric_limits<Seq>::max();        // seq < before
  // Where to start reading marks: the ts of the entries at `after` and
  // `before` when known (no mark inside the bounds lies outside them).
  Micros after_ts = 0;
  Micros before_ts = std::numeric_limits<Micros>::max();
};
absl::StatusOr<std::vector<LedgerEntry>> readChain(ReadPool::Lease& lease, ShardId shard,
                                                   ItemId item, LocationId location,
                                                   const ChainBounds& bounds, bool newest_first,
                                                   std::size_t limit);

// Checks every chain, head and mark against the ledger, inside the caller's
// read transaction on `lease`:
//   history_chain  an entry's prev_seq is the previous entry of its
//                  (item, location) in seq order (0 for the first)
//   history_head   balances.last_seq is the pair's newest entry (0 for none)
//   history_mark   history_marks holds exactly the entries whose seq
//                  isHistoryMark, with their (item, location, ts)
absl::Status verifyChains(ReadPool::Lease& lease,
                          const std::function<void(IndexFinding)>& found);

}  // namespace depot::sqlite
