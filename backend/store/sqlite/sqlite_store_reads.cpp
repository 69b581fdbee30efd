// SqliteStore: read-only queries, each on a leased pooled connection.
#include <algorithm>
#include <limits>
#include <variant>

#include "store/recovered_requests.h"
#include "store/sqlite/sqlite_codec.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_history.h"
#include "store/sqlite/sqlite_pool.h"
#include "store/sqlite/sqlite_rows.h"
#include "store/sqlite/sqlite_store.h"

namespace depot {

using sqlite::ReadPool;
using sqlite::Stmt;
using sqlite::forEachRow;

namespace {

// Rows per page of scanLedger: large enough to amortise the statement
// restart, small enough that no read transaction pins the WAL for long.
constexpr std::int64_t kScanPage = 4096;

std::int64_t sqlLimit(std::size_t limit) {
  return static_cast<std::int64_t>(
      std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max()));
}

// The shard of `item`; nullopt for an unknown item.
absl::StatusOr<std::optional<ShardId>> itemShard(ReadPool::Lease& lease, ItemId item) {
  static const std::string kSql = "SELECT shard FROM items WHERE id = ?1";
  std::optional<ShardId> shard;
  auto st = forEachRow(
      lease, kSql, "reading the item's shard", [&](Stmt& s) { s.bindInt(1, item); },
      [&](const Stmt& s) {
        shard = static_cast<ShardId>(s.colInt(0));
        return false;
      });
  if (!st.ok()) return st;
  return shard;
}

// A statement assembled from optional clauses. Values are bound, never
// spliced into the text, so the set of distinct SQL strings (and cached
// statements per connection) stays small and any byte is safe in a value.
class SqlBuilder {
 public:
  explicit SqlBuilder(std::string sql) : m_sql(std::move(sql)) {}
  SqlBuilder& text(std::string_view sql) {
    m_sql += sql;
    return *this;
  }
  // Appends a placeholder bound to `value` and returns its "?N".
  std::string param(std::int64_t value) { return add(value); }
  std::string param(std::string_view value) { return add(value); }
  const std::string& sql() const { return m_sql; }
  void bindAll(Stmt& stmt) const {
    for (std::size_t i = 0; i < m_params.size(); ++i) {
      const int index = static_cast<int>(i) + 1;
      if (const auto* v = std::get_if<std::int64_t>(&m_params[i])) {
        stmt.bindInt(index, *v);
      } else {
        stmt.bindText(index, std::get<std::string_view>(m_params[i]));
      }
    }
  }

 private:
  std::string add(std::variant<std::int64_t, std::string_view> value) {
    m_params.push_back(value);
    return sqlite::cat("?", m_params.size());
  }
  std::string m_sql;
  std::vector<std::variant<std::int64_t, std::string_view>> m_params;
};

// The smallest string greater than every string starting with `prefix`
// (BINARY collation is memcmp), or nullopt when there is none (all 0xff).
std::optional<std::string> prefixUpperBound(std::string prefix) {
  while (!prefix.empty()) {
    const auto last = static_cast<unsigned char>(prefix.back());
    if (last != 0xff) {
      prefix.back() = static_cast<char>(last + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return std::nullopt;
}

absl::Status contextual(const absl::Status& st, std::string_view context) {
  return absl::Status(st.code(), sqlite::cat(context, ": ", st.message()));
}

}  // namespace

absl::StatusOr<std::vector<Item>> SqliteStore::loadItems() {
  static const std::string kSql =
      sqlite::cat("SELECT ", sqlite::kItemColumns, " FROM items ORDER BY id");
  std::vector<Item> items;
  auto lease = m_readers->acquire();
  auto st = forEachRow(
      lease, kSql, "loadItems", [](Stmt&) {},
      [&](const Stmt& s) {
        items.push_back(sqlite::readItem(s));
        return true;
      });
  if (!st.ok()) return st;
  return items;
}

absl::StatusOr<std::vector<Location>> SqliteStore::loadLocations() {
  static const std::string kSql =
      sqlite::cat("SELECT ", sqlite::kLocationColumns, " FROM locations ORDER BY id");
  std::vector<Location> locations;
  auto lease = m_readers->acquire();
  auto st = forEachRow(
      lease, kSql, "loadLocations", [](Stmt&) {},
      [&](const Stmt& s) {
        locations.push_back(sqlite::readLocation(s));
        return true;
      });
  if (!st.ok()) return st;
  return locations;
}

absl::StatusOr<ShardRecovery> SqliteStore::recoverShardSnapshot(ShardId shard,
                                                                Micros requests_since,
                                                                Micros closed_holds_since,
                                                                BalanceRows balances) {
  if (auto st = awaitApplied(); !st.ok()) return st;
  static const std::string kShardSql =
      "SELECT epoch, last_seq, last_ts FROM shards WHERE shard = ?1";
  // ORDER BY i.id (equal to b.item): the planner sees that the items_shard
  // index already yields that order and skips sorting the shard's rows in a
  // temporary B-tree, which it does for ORDER BY b.item.
  static const std::string kBalancesSql =
      "SELECT b.item, b.location, b.on_hand, b.reserved, b.last_ts FROM items i "
      "CROSS JOIN balances b ON b.item = i.id WHERE i.shard = ?1 ORDER BY i.id, b.location";
  static const std::string kHoldsSql =
      sqlite::cat("SELECT ", sqlite::kHoldColumns,
                  " FROM holds WHERE shard = ?1 AND (state = 1 OR closed_at >= ?2) "
                  "ORDER BY created_at, order_id");
  static const std::string kPendingSql =
      sqlite::cat("SELECT ", sqlite::kCountColumns,
                  " FROM counts WHERE state = 2 AND shard = ?1 ORDER BY submitted_at, count_id");
  static const std::string kRequestsSql =
      "SELECT records FROM requests WHERE shard = ?1 AND max_ts >= ?2 ORDER BY id";
  static const std::string kPrunedSql =
      "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'requests_pruned_before'";

  const std::string context = sqlite::cat("recoverShard ", shard);
  ShardRecovery r;
  r.shard = shard;
  auto lease = m_readers->acquire();
  // One read transaction: every part comes from the same snapshot.
  auto txn = sqlite::Txn::begin(lease.db(), sqlite::Txn::Mode::kDeferred, context);
  if (!txn.ok()) return txn.status();
  bool found = false;
  absl::Status decode = absl::OkStatus();
  const auto bindShard = [shard](Stmt& s) { s.bindInt(1, shard); };

  auto st = forEachRow(lease, kShardSql, "reading the shard row", bindShard, [&](const Stmt& s) {
    found = true;
    r.epoch = static_cast<std::uint64_t>(s.colInt(0));
    r.last_seq = static_cast<Seq>(s.colInt(1));
    r.last_ts = s.colInt(2);
    return false;
  });
  if (st.ok() && !found) st = absl::InternalError("the shard row is missing after claiming it");
  if (st.ok() && balances == BalanceRows::kInclude) {
    st = forEachRow(lease, kBalancesSql, "reading balances", bindShard, [&](const Stmt& s) {
      r.balances.push_back(sqlite::readBalanceRow(s));
      return true;
    });
  }
  if (st.ok()) {
    st = forEachRow(
        lease, kHoldsSql, "reading holds",
        [&](Stmt& s) {
          s.bindInt(1, shard);
          s.bindInt(2, closed_holds_since);
        },
        [&](const Stmt& s) {
          auto hold = sqlite::readHold(s);
          if (!hold.ok()) {
            decode = hold.status();
            return false;
          }
          r.holds.push_back(*std::move(hold));
          return true;
        });
  }
  if (st.ok() && decode.ok()) {
    st = forEachRow(lease, kPendingSql, "reading pending counts", bindShard, [&](const Stmt& s) {
      r.pending.push_back(sqlite::readCount(s));
      return true;
    });
  }
  if (st.ok() && decode.ok()) {
    // A row outlives its older records by up to a round (putRequests): what
    // pruneBefore cut off stays forgotten.
    st = forEachRow(
        lease, kPrunedSql, "reading the prune cutoff", [](Stmt&) {},
        [&](const Stmt& s) {
          requests_since = std::max(requests_since, Micros{s.colInt(0)});
          return false;
        });
  }
  if (st.ok() && decode.ok()) {
    st = forEachRow(
        lease, kRequestsSql, "reading idempotency records",
        [&](Stmt& s) {
          s.bindInt(1, shard);
          s.bindInt(2, requests_since);
        },
        [&](const Stmt& s) {
          decode = sqlite::decodeRecoveredRequests(s.colView(0), &r.requests);
          return decode.ok();
        });
  }
  if (st.ok()) st = decode;
  if (st.ok()) st = txn->commit();
  if (!st.ok()) return contextual(st, context);
  keepNewestRequests(requests_since, &r.requests);
  return r;
}

absl::Status SqliteStore::recoverBalances(BalanceSink& sink) {
  if (auto st = awaitApplied(); !st.ok()) return st;
  // The items_shard index covers (shard, id): a fraction of the items table.
  static const std::string kItemsSql = "SELECT id, shard FROM items INDEXED BY items_shard";
  // count(*) walks the smallest index's pages without decoding rows.
  static const std::string kCountSql = "SELECT count(*) FROM balances";
  static const std::string kBalancesSql =
      "SELECT item, location, on_hand, reserved, last_ts FROM balances ORDER BY item, location";
  auto lease = m_readers->acquire();
  auto txn = sqlite::Txn::begin(lease.db(), sqlite::Txn::Mode::kDeferred, "recoverBalances");
  if (!txn.ok()) return txn.status();

  // The wanted items with their shards, by id: the balances come in item
  // order, so one cursor through this list finds each row's shard.
  struct ItemShard {
    ItemId item;
    ShardId shard;
  };
  std::vector<ItemShard> wanted;
  std::array<std::size_t, kShardCount> items_of{};
  std::size_t all_items = 0;
  auto st = forEachRow(
      lease, kItemsSql, "recoverBalances: reading the items' shards", [](Stmt&) {},
      [&](const Stmt& s) {
        ++all_items;
        const std::int64_t shard = s.colInt(1);
        if (shard < 0 || shard >= kShardCount) return true;  // the audit names such an item
        if (!sink.wants(static_cast<ShardId>(shard))) return true;
        wanted.push_back({static_cast<ItemId>(s.colInt(0)), static_cast<ShardId>(shard)});
        ++items_of[static_cast<std::size_t>(shard)];
        return true;
      });
  std::size_t all_rows = 0;
  if (st.ok()) {
    st = forEachRow(
        lease, kCountSql, "recoverBalances: counting balances", [](Stmt&) {},
        [&](const Stmt& s) {
          all_rows = static_cast<std::size_t>(s.colInt(0));
          return false;
        });
  }
  if (!st.ok()) return st;
  std::sort(wanted.begin(), wanted.end(),
            [](const ItemShard& a, const ItemShard& b) { return a.item < b.item; });
  for (ShardId shard = 0; shard < kShardCount; ++shard) {
    if (!sink.wants(shard)) continue;
    const std::size_t items = items_of[shard];
    sink.expect(shard, items, all_items == 0 ? 0 : items * all_rows / all_items);
  }

  std::size_t next = 0;  // the first wanted item not below the current row's
  std::vector<BalanceRow> run;  // the rows of the current item
  ShardId run_shard = 0;
  const auto flush = [&] {
    if (!run.empty()) sink.item(run_shard, std::span<const BalanceRow>(run));
    run.clear();
  };
  st = forEachRow(
      lease, kBalancesSql, "recoverBalances: reading balances", [](Stmt&) {},
      [&](const Stmt& s) {
        const auto item = static_cast<ItemId>(s.colInt(0));
        if (!run.empty() && run.front().item != item) flush();
        while (next < wanted.size() && wanted[next].item < item) ++next;
        if (next == wanted.size()) return false;  // past the last wanted item
        if (wanted[next].item != item) return true;  // another share's row
        run_shard = wanted[next].shard;
        run.push_back(sqlite::readBalanceRow(s));
        return true;
      });
  if (!st.ok()) return st;
  flush();
  return txn->commit();
}

absl::StatusOr<std::vector<StockRow>> SqliteStore::listStock(const StockQuery& q) {
  if (auto st = awaitApplied(); !st.ok()) return st;
  std::vector<StockRow> rows;
  if (q.limit == 0) return rows;
  static const std::string kLocationName = "(l.warehouse || '/' || l.code)";
  const std::optional<std::string> upper = prefixUpperBound(q.sku_prefix);

  // Join order is forced (CROSS JOIN). Without a location filter, walk items
  // in SKU order so the sort is per SKU and LIMIT stops the walk early; with
  // one, start from the bin (balances_location) and sort its few rows.
  const bool by_location = !q.location.empty();
  SqlBuilder b(sqlite::cat(
      "SELECT i.id, i.sku, i.description, i.unit, i.reorder_point, i.reorder_qty, i.shard, "
      "l.id, l.warehouse, l.code, b.on_hand, b.reserved, b.last_ts FROM ",
      by_location ? "locations l CROSS JOIN balances b ON b.location = l.id "
                    "CROSS JOIN items i ON i.id = b.item"
                  : "items i CROSS JOIN balances b ON b.item = i.id "
                    "CROSS JOIN locations l ON l.id = b.location",
      " WHERE 1"));
  if (!q.sku_prefix.empty()) {
    b.text(" AND i.sku >= ").text(b.param(q.sku_prefix));
    if (upper) b.text(" AND i.sku < ").text(b.param(*upper));
  }
  if (!q.after_sku.empty()) {
    const std::string sku = b.param(q.after_sku);
    b.text(sqlite::cat(" AND i.sku >= ", sku, " AND (i.sku > ", sku, " OR ", kLocationName, " > ",
                       b.param(q.after_location), ")"));
  }
  if (!q.warehouse.empty()) b.text(" AND l.warehouse = ").text(b.param(q.warehouse));
  if (by_location) {
    const std::string loc = b.param(q.location);
    b.text(sqlite::cat(" AND (l.code = ", loc, " OR ", kLocationName, " = ", loc, ")"));
  }
  if (!q.include_zero) b.text(" AND (b.on_hand <> 0 OR b.reserved <> 0)");
  if (q.below_reorder_point) {
    b.text(
        " AND i.reorder_point > (SELECT coalesce(sum(t.on_hand - t.reserved), 0) "
        "FROM balances t WHERE t.item = i.id)");
  }
  b.text(sqlite::cat(" ORDER BY i.sku, ", kLocationName, " LIMIT ", b.param(sqlLimit(q.limit))));

  auto lease = m_readers->acquire();
  auto st = forEachRow(
      lease, b.sql(), "listStock", [&](Stmt& s) { b.bindAll(s); },
      [&](const Stmt& s) {
        StockRow row;
        row.item = sqlite::readItem(s, 0);
        row.location = sqlite::readLocation(s, 7);
        row.balance.on_hand = s.colInt(10);
        row.balance.reserved = s.colInt(11);
        row.updated_at = s.colInt(12);
        rows.push_back(std::move(row));
        return true;
      });
  if (!st.ok()) return st;
  return rows;
}

absl::StatusOr<std::vector<LedgerEntry>> SqliteStore::history(const HistoryQuery& q) {
  if (auto st = awaitApplied(); !st.ok()) return st;
  // Each (item, location) is read along its chain (sqlite_history.h); over
  // every location of an item the chains are merged by seq.
  static const std::string kAnchorSql = "SELECT ts FROM ledger WHERE shard = ?1 AND seq = ?2";
  static const std::string kLocationsSql =
      "SELECT location FROM balances WHERE item = ?1 ORDER BY location";
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

  std::vector<LedgerEntry> entries;
  if (q.limit == 0) return entries;
  auto lease = m_readers->acquire();
  // One snapshot for every statement below: pages merged from several
  // locations must not mix entries committed between the statements.
  auto txn = sqlite::Txn::begin(lease.db(), sqlite::Txn::Mode::kDeferred, "history");
  if (!txn.ok()) return txn.status();

  auto item_shard = itemShard(lease, q.item);
  if (!item_shard.ok()) return item_shard.status();
  if (!*item_shard) return entries;  // an unknown item has no history
  const ShardId shard = **item_shard;
  absl::Status st;

  // Paging anchor: the ts of the shard's entry at after_seq. ts never
  // decreases with seq within the shard, so it bounds where the chains'
  // marks need to be read from.
  const auto after_seq = static_cast<std::int64_t>(std::min<Seq>(q.after_seq, kMax));
  std::optional<Micros> anchor_ts;
  if (after_seq != 0) {
    st = forEachRow(
        lease, kAnchorSql, "history: reading the paging anchor",
        [&](Stmt& s) {
          s.bindInt(1, shard);
          s.bindInt(2, after_seq);
        },
        [&](const Stmt& s) {
          anchor_ts = s.colInt(0);
          return false;
        });
    if (!st.ok()) return st;
  }

  std::vector<LocationId> locations;
  if (q.location) {
    locations.push_back(*q.location);
  } else {
    st = forEachRow(
        lease, kLocationsSql, "history: listing the item's locations",
        [&](Stmt& s) { s.bindInt(1, q.item); },
        [&](const Stmt& s) {
          locations.push_back(static_cast<LocationId>(s.colInt(0)));
          return true;
        });
    if (!st.ok()) return st;
  }

  sqlite::ChainBounds bounds;
  bounds.from = q.from;
  bounds.to = q.to == 0 ? kMax : q.to;
  if (after_seq != 0) {
    if (q.newest_first) {
      bounds.before = static_cast<Seq>(after_seq);
      if (anchor_ts) bounds.before_ts = *anchor_ts;
    } else {
      bounds.after = static_cast<Seq>(after_seq);
      if (anchor_ts) bounds.after_ts = *anchor_ts;
    }
  }
  for (LocationId location : locations) {
    auto chain =
        sqlite::readChain(lease, shard, q.item, location, bounds, q.newest_first, q.limit);
    if (!chain.ok()) return chain.status();
    entries.insert(entries.end(), std::make_move_iterator(chain->begin()),
                   std::make_move_iterator(chain->end()));
  }
  if (auto commit = txn->commit(); !commit.ok()) return commit;

  // Within one shard seq order is (ts, seq) order.
  if (locations.size() > 1) {
    std::sort(entries.begin(), entries.end(), [&](const LedgerEntry& a, const LedgerEntry& b) {
      return q.newest_first ? a.seq > b.seq : a.seq < b.seq;
    });
    if (entries.size() > q.limit) entries.resize(q.limit);
  }
  return entries;
}

absl::StatusOr<Balance> SqliteStore::balanceAt(ItemId item, LocationId location, Micros at) {
  if (auto st = awaitApplied(); !st.ok()) return st;
  Balance balance;
  auto lease = m_readers->acquire();
  auto txn = sqlite::Txn::begin(lease.db(), sqlite::Txn::Mode::kDeferred, "balanceAt");
  if (!txn.ok()) return txn.status();
  auto shard = itemShard(lease, item);
  if (!shard.ok()) return shard.status();
  if (shard->has_value()) {
    // The newest entry at or before `at`.
    sqlite::ChainBounds bounds;
    if (at < std::numeric_limits<Micros>::max()) bounds.to = at + 1;
    auto newest = sqlite::readChain(lease, **shard, item, location, bounds, true, 1);
    if (!newest.ok()) return newest.status();
    if (!newest->empty()) {
      balance.on_hand = newest->front().on_hand_after;
      balance.reserved = newest->front().reserved_after;
    }
  }
  if (auto commit = txn->commit(); !commit.ok()) return commit;
  return balance;
}

absl::StatusOr<std::vector<LedgerEntry>> SqliteStore::readLedger(ShardId shard, Seq after_seq,
                                                                 Seq up_to_seq, std::size_t limit) {
  if (auto st = awaitApplied(); !st.ok()) return st;
  static const std::string kSql =
      sqlite::cat("SELECT ", sqlite::kLedgerColumns,
                  " FROM ledger WHERE shard = ?1 AND seq > ?2 AND seq <= ?3 ORDER BY seq LIMIT ?4");
  std::vector<LedgerEntry> entries;
  if (limit == 0 || up_to_seq <= after_seq) return entries;
  const auto clamp = [](Seq seq) {
    return static_cast<std::int64_t>(
        std::min<Seq>(seq, static_cast<Seq>(std::numeric_limits<std::int64_t>::max())));
  };
  entries.reserve(std::min<std::size_t>(limit, up_to_seq - after_seq));
  auto lease = m_readers->acquire();
  auto st = forEachRow(
      lease, kSql, "readLedger",
      [&](Stmt& s) {
        s.bindInt(1, shard);
        s.bindInt(2, clamp(after_seq));
        s.bindInt(3, clamp(up_to_seq));
        s.bindInt(4, sqlLimit(limit));
      },
      [&](const Stmt& s) {
        entries.push_back(sqlite::readLedgerEntry(s));
        return true;
      });
  if (!st.ok()) return st;
  return entries;
}

absl::Status SqliteStore::scanLedger(const std::function<bool(const LedgerEntry&)>& fn) {
  if (auto st = awaitApplied(); !st.ok()) return st;
  static const std::string kSql =
      sqlite::cat("SELECT ", sqlite::kLedgerColumns,
                  " FROM ledger WHERE (shard, seq) > (?1, ?2) ORDER BY shard, seq LIMIT ?3");
  std::int64_t shard = -1;
  std::int64_t seq = 0;
  std::vector<LedgerEntry> page;
  // Bounded: every full page advances (shard, seq) past at least one row.
  for (;;) {
    page.clear();
    {
      auto lease = m_readers->acquire();
      auto st = forEachRow(
          lease, kSql, "scanLedger",
          [&](Stmt& s) {
            s.bindInt(1, shard);
            s.bindInt(2, seq);
            s.bindInt(3, kScanPage);
          },
          [&](const Stmt& s) {
            page.push_back(sqlite::readLedgerEntry(s));
            return true;
          });
      if (!st.ok()) return st;
    }
    for (const LedgerEntry& e : page) {
      if (!fn(e)) return absl::OkStatus();
    }
    if (static_cast<std::int64_t>(page.size()) < kScanPage) return absl::OkStatus();
    shard = page.back().shard;
    seq = static_cast<std::int64_t>(page.back().seq);
  }
}

absl::Status SqliteStore::scanBalances(const std::function<bool(const BalanceRow&)>& fn) {
  if (auto st = awaitApplied(); !st.ok()) return st;
  static const std::string kSql =
      sqlite::cat("SELECT ", sqlite::kBalanceColumns, " FROM balances ORDER BY item, location");
  auto lease = m_readers->acquire();
  return forEachRow(
      lease, kSql, "scanBalances", [](Stmt&) {},
      [&](const Stmt& s) { return fn(sqlite::readBalanceRow(s)); });
}

absl::StatusOr<std::array<Seq, kShardCount>> SqliteStore::lastSeqs() {
  if (auto st = awaitApplied(); !st.ok()) return st;
  static const std::string kSql = "SELECT shard, last_seq FROM shards";
  std::array<Seq, kShardCount> seqs{};
  auto lease = m_readers->acquire();
  auto st = forEachRow(
      lease, kSql, "lastSeqs", [](Stmt&) {},
      [&](const Stmt& s) {
        const std::int64_t shard = s.colInt(0);
        if (shard >= 0 && shard < kShardCount) seqs[shard] = static_cast<Seq>(s.colInt(1));
        return true;
      });
  if (!st.ok()) return st;
  return seqs;
}

absl::StatusOr<std::vector<ShardId>> SqliteStore::findOrderShards(const std::string& order_id) {
  if (auto st = awaitApplied(); !st.ok()) return st;
  static const std::string kSql = "SELECT shard FROM holds WHERE order_id = ?1 ORDER BY shard";
  std::vector<ShardId> shards;
  auto lease = m_readers->acquire();
  auto st = forEachRow(
      lease, kSql, "findOrderShards", [&](Stmt& s) { s.bindText(1, order_id); },
      [&](const Stmt& s) {
        shards.push_back(static_cast<ShardId>(s.colInt(0)));
        return true;
      });
  if (!st.ok()) return st;
  return shards;
}

absl::Status SqliteStore::verifyIndexes(const std::function<void(IndexFinding)>& found) {
  if (auto st = awaitApplied(); !st.ok()) return st;
  auto lease = m_readers->acquire();
  // One snapshot: chains, heads and marks are compared as of one commit.
  auto txn = sqlite::Txn::begin(lease.db(), sqlite::Txn::Mode::kDeferred, "verifyIndexes");
  if (!txn.ok()) return txn.status();
  if (auto st = sqlite::verifyChains(lease, found); !st.ok()) return st;
  return txn->commit();
}

absl::StatusOr<std::optional<CountRecord>> SqliteStore::findCount(const std::string& count_id) {
  if (auto st = awaitApplied(); !st.ok()) return st;
  static const std::string kSql =
      sqlite::cat("SELECT ", sqlite::kCountColumns, " FROM counts WHERE count_id = ?1");
  std::optional<CountRecord> found;
  auto lease = m_readers->acquire();
  auto st = forEachRow(
      lease, kSql, "findCount", [&](Stmt& s) { s.bindText(1, count_id); },
      [&](const Stmt& s) {
        found = sqlite::readCount(s);
        return false;
      });
  if (!st.ok()) return st;
  return found;
}

absl::StatusOr<std::vector<CountRecord>> SqliteStore::listCounts(CountState state,
                                                                 std::size_t limit) {
  if (auto st = awaitApplied(); !st.ok()) return st;
  static const std::string kSql =
      sqlite::cat("SELECT ", sqlite::kCountColumns,
                  " FROM counts WHERE state = ?1 ORDER BY submitted_at, count_id LIMIT ?2");
  std::vector<CountRecord> counts;
  if (limit == 0) return counts;
  auto lease = m_readers->acquire();
  auto st = forEachRow(
      lease, kSql, "listCounts",
      [&](Stmt& s) {
        s.bindInt(1, static_cast<int>(state));
        s.bindInt(2, sqlLimit(limit));
      },
      [&](const Stmt& s) {
        counts.push_back(sqlite::readCount(s));
        return true;
      });
  if (!st.ok()) return st;
  return counts;
}

absl::StatusOr<std::vector<Alert>> SqliteStore::loadAlerts(bool include_resolved) {
  static const std::string kAllSql =
      sqlite::cat("SELECT ", sqlite::kAlertColumns, " FROM alerts ORDER BY id");
  static const std::string kOpenSql =
      sqlite::cat("SELECT ", sqlite::kAlertColumns, " FROM alerts WHERE state <> ",
                  static_cast<int>(AlertState::kResolved), " ORDER BY id");
  std::vector<Alert> alerts;
  auto lease = m_readers->acquire();
  auto st = forEachRow(
      lease, include_resolved ? kAllSql : kOpenSql, "loadAlerts", [](Stmt&) {},
      [&](const Stmt& s) {
        alerts.push_back(sqlite::readAlert(s));
        return true;
      });
  if (!st.ok()) return st;
  return alerts;
}

absl::StatusOr<std::uint64_t> SqliteStore::nextAlertId() {
  static const std::string kSql = "SELECT coalesce(max(id), 0) FROM alerts";
  std::uint64_t stored_max = 0;
  {
    auto lease = m_readers->acquire();
    auto st = forEachRow(
        lease, kSql, "nextAlertId", [](Stmt&) {},
        [&](const Stmt& s) {
          stored_max = static_cast<std::uint64_t>(std::max<std::int64_t>(s.colInt(0), 0));
          return false;
        });
    if (!st.ok()) return st;
  }
  std::lock_guard lock(m_alert_mutex);
  m_last_alert_id = std::max(m_last_alert_id, stored_max) + 1;
  return m_last_alert_id;
}

absl::StatusOr<std::vector<Silence>> SqliteStore::loadSilences(Micros active_at) {
  static const std::string kSql = sqlite::cat("SELECT ", sqlite::kSilenceColumns,
                                              " FROM silences WHERE expires_at > ?1 ORDER BY id");
  std::vector<Silence> silences;
  auto lease = m_readers->acquire();
  auto st = forEachRow(
      lease, kSql, "loadSilences", [&](Stmt& s) { s.bindInt(1, active_at); },
      [&](const Stmt& s) {
        silences.push_back(sqlite::readSilence(s));
        return true;
      });
  if (!st.ok()) return st;
  return silences;
}

}  // namespace depot
