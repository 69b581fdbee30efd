#include "core/ledger_verifier.h"

#include <unordered_map>

#include "absl/strings/str_cat.h"

namespace depot {
namespace {

std::uint64_t pairKey(ItemId item, LocationId location) {
  return (static_cast<std::uint64_t>(item) << 32) | location;
}

std::string balanceText(Qty on_hand, Qty reserved) {
  return absl::StrCat("on_hand=", on_hand, ",reserved=", reserved);
}

}  // namespace

void VerifyReport::add(VerifyMismatch mismatch) {
  ++mismatches;
  ++by_check[mismatch.check];
  if (details.size() < max_details) details.push_back(std::move(mismatch));
}

std::string VerifyReport::format() const {
  std::string out;
  absl::StrAppend(&out, "ledger_id=", ledger_id, " entries=", entries,
                  " shards_with_entries=", shards_with_entries, " pairs=", pairs,
                  " balance_rows=", balance_rows, "\n");
  const auto itemText = [this](ItemId id) {
    auto it = item_names.find(id);
    return it == item_names.end() ? absl::StrCat(id) : absl::StrCat(id, "(", it->second, ")");
  };
  const auto locationText = [this](LocationId id) {
    auto it = location_names.find(id);
    return it == location_names.end() ? absl::StrCat(id) : absl::StrCat(id, "(", it->second, ")");
  };
  for (const auto& m : details) {
    absl::StrAppend(&out, "mismatch check=", m.check, " shard=", m.shard, " seq=", m.seq,
                    " item=", itemText(m.item), " location=", locationText(m.location),
                    " expected=", m.expected, " actual=", m.actual, "\n");
  }
  if (mismatches > details.size()) {
    absl::StrAppend(&out, "... ", mismatches - details.size(), " more mismatches not shown\n");
  }
  for (const auto& [check, count] : by_check) {
    absl::StrAppend(&out, "total check=", check, " count=", count, "\n");
  }
  absl::StrAppend(&out, clean() ? "result=OK" : "result=FAILED", " mismatches=", mismatches, "\n");
  return out;
}

absl::Status verifyLedger(Store& store, VerifyReport& report) {
  report.ledger_id = store.ledgerId();
  auto items = store.loadItems();
  if (!items.ok()) return items.status();
  auto locations = store.loadLocations();
  if (!locations.ok()) return locations.status();
  std::unordered_map<ItemId, std::string> skus;
  for (const auto& i : *items) {
    skus.emplace(i.id, i.sku);
    report.item_names[i.id] = i.sku;
  }
  for (const auto& l : *locations) report.location_names[l.id] = l.name();

  struct Replay {
    Balance balance;
  };
  std::unordered_map<std::uint64_t, Replay> replay;
  std::array<Seq, kShardCount> last{};
  std::array<Micros, kShardCount> lastTs{};
  bool first = true;
  ShardId prevShard = 0;
  Seq prevSeq = 0;

  absl::Status scan = store.scanLedger([&](const LedgerEntry& e) {
    ++report.entries;
    const auto where = [&e](std::string check, std::string expected, std::string actual) {
      return VerifyMismatch{std::move(check),    e.shard,          e.seq, e.item, e.location,
                            std::move(expected), std::move(actual)};
    };
    if (e.shard >= kShardCount) {
      report.add(where("bad_shard", absl::StrCat("< ", kShardCount), absl::StrCat(e.shard)));
      return true;
    }
    if (!first && (e.shard < prevShard || (e.shard == prevShard && e.seq <= prevSeq))) {
      report.add(where("seq_order", absl::StrCat("after shard=", prevShard, " seq=", prevSeq),
                       absl::StrCat("shard=", e.shard, " seq=", e.seq)));
    }
    first = false;
    prevShard = e.shard;
    prevSeq = e.seq;

    if (last[e.shard] == 0) ++report.shards_with_entries;
    if (e.seq != last[e.shard] + 1) {
      report.add(where("seq_gap", absl::StrCat(last[e.shard] + 1), absl::StrCat(e.seq)));
    }
    last[e.shard] = std::max(last[e.shard], e.seq);
    if (e.ts < lastTs[e.shard]) {
      report.add(where("ts_backwards", absl::StrCat(">= ", lastTs[e.shard]), absl::StrCat(e.ts)));
    }
    lastTs[e.shard] = std::max(lastTs[e.shard], e.ts);

    auto sku = skus.find(e.item);
    if (sku == skus.end()) {
      report.add(where("unknown_item", "an item of the catalog", absl::StrCat(e.item)));
    } else if (shardOf(sku->second) != e.shard) {
      report.add(where("bad_shard", absl::StrCat(shardOf(sku->second)), absl::StrCat(e.shard)));
    }
    if (report.location_names.find(e.location) == report.location_names.end()) {
      report.add(where("unknown_location", "a location of the catalog", absl::StrCat(e.location)));
    }

    Balance& b = replay[pairKey(e.item, e.location)].balance;
    b.on_hand += e.d_on_hand;
    b.reserved += e.d_reserved;
    if (b.on_hand != e.on_hand_after || b.reserved != e.reserved_after) {
      report.add(where("after_mismatch", balanceText(b.on_hand, b.reserved),
                       balanceText(e.on_hand_after, e.reserved_after)));
    }
    if (b.on_hand < 0 || b.reserved < 0 || b.reserved > b.on_hand) {
      report.add(where("invariant", "on_hand>=0 and 0<=reserved<=on_hand",
                       balanceText(b.on_hand, b.reserved)));
    }
    return true;
  });
  if (!scan.ok()) return scan;
  report.pairs = replay.size();

  auto stored = store.lastSeqs();
  if (!stored.ok()) return stored.status();
  for (ShardId s = 0; s < kShardCount; ++s) {
    if ((*stored)[s] != last[s]) {
      report.add(VerifyMismatch{"last_seq", s, 0, 0, 0, absl::StrCat(last[s]),
                                absl::StrCat((*stored)[s])});
    }
  }

  std::unordered_map<std::uint64_t, bool> seenRows;
  absl::Status balances = store.scanBalances([&](const BalanceRow& row) {
    ++report.balance_rows;
    const auto key = pairKey(row.item, row.location);
    seenRows[key] = true;
    ShardId shard = 0;
    if (auto sku = skus.find(row.item); sku != skus.end()) shard = shardOf(sku->second);
    auto it = replay.find(key);
    if (it == replay.end()) {
      if (row.balance.on_hand != 0 || row.balance.reserved != 0) {
        report.add(VerifyMismatch{"extra_balance", shard, 0, row.item, row.location,
                                  "no row (no ledger entries)",
                                  balanceText(row.balance.on_hand, row.balance.reserved)});
      }
      return true;
    }
    const Balance& b = it->second.balance;
    if (b != row.balance) {
      report.add(VerifyMismatch{"balance_mismatch", shard, 0, row.item, row.location,
                                balanceText(b.on_hand, b.reserved),
                                balanceText(row.balance.on_hand, row.balance.reserved)});
    }
    return true;
  });
  if (!balances.ok()) return balances;
  for (const auto& [key, r] : replay) {
    if (seenRows.count(key) != 0) continue;
    if (r.balance.on_hand == 0 && r.balance.reserved == 0) continue;
    const auto item = static_cast<ItemId>(key >> 32);
    const auto location = static_cast<LocationId>(key & 0xffffffffu);
    ShardId shard = 0;
    if (auto sku = skus.find(item); sku != skus.end()) shard = shardOf(sku->second);
    report.add(VerifyMismatch{"missing_balance", shard, 0, item, location,
                              balanceText(r.balance.on_hand, r.balance.reserved), "no row"});
  }
  return store.verifyIndexes([&](IndexFinding finding) { report.add(std::move(finding)); });
}

}  // namespace depot
