// verifyLedger: an offline audit of a Store (depotd --verify). Depends only
// on the Store interface and the domain model.
//
// Checks, scanning the ledger in (shard, seq) order:
//   seq_order         rows come in ascending (shard, seq) order
//   seq_gap           per shard, seqs are 1, 2, 3 ... without gaps or repeats
//   last_seq          the store's last seq per shard equals the last ledger seq
//   bad_shard         an entry's shard is < 256 and equals shardOf(item's SKU)
//   unknown_item      an entry's item exists in the catalog
//   unknown_location  an entry's location exists in the catalog
//   after_mismatch    on_hand_after/reserved_after equal the running replay of
//                     the deltas for (item, location)
//   invariant         after every entry the replayed balance has on_hand >= 0
//                     and 0 <= reserved <= on_hand
//   ts_backwards      ts is non-decreasing per shard
//   balance_mismatch  the final replayed balance equals the balances table
//   missing_balance   a replayed non-zero balance has no balances row
//   extra_balance     a non-zero balances row has no ledger entries
// and then the store's own checks of what it derives from the ledger for
// reads (Store::verifyIndexes; SQLite: history_chain, history_head,
// history_mark, sqlite_history.h).
// A missing row and a zero row are treated alike (an engine may keep or drop
// rows that return to zero). The replay follows the deltas (the ledger's
// truth), so one corrupted delta also shows up in later after_mismatch and
// balance_mismatch findings for the same (item, location).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/model.h"
#include "store/store.h"

namespace depot {

// One finding: a check above or one of the store's own (IndexFinding).
using VerifyMismatch = IndexFinding;

struct VerifyReport {
  std::size_t max_details = 50;  // mismatches kept in `details` (all are counted)

  std::string ledger_id;
  std::uint64_t entries = 0;
  std::uint64_t balance_rows = 0;
  std::uint64_t shards_with_entries = 0;
  std::uint64_t pairs = 0;  // distinct (item, location) replayed
  std::uint64_t mismatches = 0;
  std::map<std::string, std::uint64_t> by_check;
  std::vector<VerifyMismatch> details;
  // Names for the report (filled from the catalog).
  std::map<ItemId, std::string> item_names;
  std::map<LocationId, std::string> location_names;

  bool clean() const { return mismatches == 0; }
  void add(VerifyMismatch mismatch);
  // A human-readable multi-line report: a summary, the first max_details
  // mismatches (check, shard, seq, item, location, expected, actual) and
  // totals per check, ending with "result=OK" or "result=FAILED".
  std::string format() const;
};

// Non-OK only when the store cannot be read (the report may be partial);
// findings go into `report`.
absl::Status verifyLedger(Store& store, VerifyReport& report);

}  // namespace depot
