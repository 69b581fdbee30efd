// PostgresStore: read-only queries, each on a leased pooled connection.
#include <algorithm>
#include <limits>
#include <optional>

#include "store/postgres/pg_call.h"
#include "store/postgres/pg_rows.h"
#include "store/postgres/postgres_store.h"

namespace depot {

using pg::cat;
using pg::Params;
using pg::Query;

namespace {

// Rows per page of scanLedger / scanBalances.
constexpr std::int64_t kScanPage = 4096;
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

std::int64_t sqlLimit(std::size_t limit) {
  return static_cast<std::int64_t>(std::min<std::size_t>(limit, static_cast<std::size_t>(kMax)));
}
std::int64_t clampSeq(Seq seq) { return static_cast<std::int64_t>(std::min<Seq>(seq, kMax)); }

// Appends $n placeholders bound to values; values are never spliced into
// the text, so any byte is safe and the set of SQL strings stays small.
class SqlBuilder {
 public:
  explicit SqlBuilder(std::string sql) : m_sql(std::move(sql)) {}
  SqlBuilder& text(std::string_view sql) {
    m_sql += sql;
    return *this;
  }
  std::string param(std::int64_t v) {
    m_params.addInt(v);
    return cat("$", m_params.size());
  }
  std::string param(std::string_view v) {
    m_params.addText(v);
    return cat("$", m_params.size());
  }
  Query query() && { return Query{std::move(m_sql), std::move(m_params)}; }

 private:
  std::string m_sql;
  Params m_params;
};

// The smallest string greater than every string starting with `prefix`, in
// byte order (= code point order for UTF-8), itself valid UTF-8: the last
// code point incremented (skipping surrogates), or nullopt when every code
// point is U+10FFFF.
std::optional<std::string> prefixUpperBound(std::string prefix) {
  while (!prefix.empty()) {
    std::size_t start = prefix.size() - 1;
    while (start > 0 && (static_cast<unsigned char>(prefix[start]) & 0xc0) == 0x80) --start;
    const auto* p = reinterpret_cast<const unsigned char*>(prefix.data() + start);
    const std::size_t len = prefix.size() - start;
    std::uint32_t cp = len == 1 ? p[0] : p[0] & (0xff >> (len + 1));
    for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (p[k] & 0x3f);
    prefix.resize(start);
    if (cp >= 0x10ffff) continue;
    ++cp;
    if (cp == 0xd800) cp = 0xe000;
    if (cp < 0x80) {
      prefix.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      prefix.push_back(static_cast<char>(0xc0 | (cp >> 6)));
      prefix.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      prefix.push_back(static_cast<char>(0xe0 | (cp >> 12)));
      prefix.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      prefix.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      prefix.push_back(static_cast<char>(0xf0 | (cp >> 18)));
      prefix.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      prefix.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      prefix.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
    return prefix;
  }
  return std::nullopt;
}

std::vector<LedgerEntry> ledgerRows(const pg::Result& r) {
  std::vector<LedgerEntry> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int row = 0; row < r.rows(); ++row) out.push_back(pg::readLedgerEntry(r, row));
  return out;
}

}  // namespace

absl::StatusOr<std::vector<Item>> PostgresStore::loadItems() {
  static const std::string kSql = cat("SELECT ", pg::kItemColumns, " FROM items ORDER BY id");
  auto r = pg::runSingle(*m_readers, deadline(), Query{kSql, {}}, "loadItems");
  if (!r.ok()) return r.status();
  std::vector<Item> items;
  for (int row = 0; row < r->rows(); ++row) items.push_back(pg::readItem(*r, row));
  return items;
}

absl::StatusOr<std::vector<Location>> PostgresStore::loadLocations() {
  static const std::string kSql = cat("SELECT ", pg::kLocationColumns, " FROM locations ORDER BY id");
  auto r = pg::runSingle(*m_readers, deadline(), Query{kSql, {}}, "loadLocations");
  if (!r.ok()) return r.status();
  std::vector<Location> locations;
  for (int row = 0; row < r->rows(); ++row) locations.push_back(pg::readLocation(*r, row));
  return locations;
}

namespace {
// Staleness of the server answering, in ms (see listStockFromReplica).
const char* const kStalenessSql =
    "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0 "
    "WHEN coalesce((SELECT status = 'streaming' FROM pg_stat_wal_receiver), false) AND "
    "pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE coalesce((extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000)::bigint, "
    "0) END, pg_is_in_recovery()";

// Runs `query` on `pool`, preceded by the staleness probe when `freshness`
// is wanted; returns the query's result.
absl::StatusOr<pg::Result> runWithFreshness(pg::ConnectionPool& pool, pg::Deadline deadline,
                                            Query query, ReadFreshness* freshness,
                                            std::string_view what) {
  if (freshness == nullptr) return pg::runSingle(pool, deadline, std::move(query), what);
  std::vector<Query> q;
  q.push_back(Query{kStalenessSql, {}});
  q.push_back(std::move(query));
  auto r = pg::runPipeline(pool, deadline, q, what);
  if (!r.ok()) return r.status();
  freshness->staleness_ms = (*r)[0].getInt(0, 0);
  freshness->from_standby = (*r)[0].getInt(0, 1) != 0;
  return std::move((*r)[1]);
}
}  // namespace

absl::StatusOr<std::vector<StockRow>> PostgresStore::listStock(const StockQuery& q) {
  return listStockOn(*m_readers, q, nullptr);
}

absl::StatusOr<std::vector<StockRow>> PostgresStore::listStockFromReplica(const StockQuery& q,
                                                                          ReadFreshness* freshness) {
  ReadFreshness local;
  if (freshness == nullptr) freshness = &local;
  *freshness = ReadFreshness{};
  if (m_standby) {
    auto rows = listStockOn(*m_standby, q, freshness);
    if (rows.ok() || rows.status().code() == absl::StatusCode::kInvalidArgument) return rows;
    *freshness = ReadFreshness{};  // standby away: the primary answers
  }
  return listStockOn(*m_readers, q, nullptr);
}

absl::StatusOr<std::vector<StockRow>> PostgresStore::listStockOn(pg::ConnectionPool& pool,
                                                                  const StockQuery& q,
                                                                  ReadFreshness* freshness) {
  std::vector<StockRow> rows;
  if (q.limit == 0) return rows;
  // No stored string is invalid UTF-8 or holds a NUL: such a filter matches
  // nothing. A keyset cursor always comes from a stored row.
  if (!pg::isStorableText(q.sku_prefix) || !pg::isStorableText(q.warehouse) ||
      !pg::isStorableText(q.location)) {
    return rows;
  }
  if (auto st = pg::checkText(q.after_sku, "listStock: after_sku"); !st.ok()) return st;
  if (auto st = pg::checkText(q.after_location, "listStock: after_location"); !st.ok()) return st;
  static const std::string kLocationName = "(l.warehouse || '/' || l.code)";
  SqlBuilder b(
      "SELECT i.id, i.sku, i.description, i.unit, i.reorder_point, i.reorder_qty, i.shard, "
      "l.id, l.warehouse, l.code, b.on_hand, b.reserved, b.last_ts FROM items i "
      "JOIN balances b ON b.item = i.id JOIN locations l ON l.id = b.location WHERE true");
  if (!q.sku_prefix.empty()) {
    const std::string prefix = b.param(q.sku_prefix);
    b.text(cat(" AND i.sku >= ", prefix));
    if (auto upper = prefixUpperBound(q.sku_prefix)) {
      b.text(cat(" AND i.sku < ", b.param(*upper)));
    } else {
      b.text(cat(" AND starts_with(i.sku, ", prefix, ")"));
    }
  }
  if (!q.after_sku.empty()) {
    const std::string sku = b.param(q.after_sku);
    b.text(cat(" AND i.sku >= ", sku, " AND (i.sku > ", sku, " OR ", kLocationName, " > ",
               b.param(q.after_location), ")"));
  }
  if (!q.warehouse.empty()) b.text(cat(" AND l.warehouse = ", b.param(q.warehouse)));
  if (!q.location.empty()) {
    const std::string loc = b.param(q.location);
    b.text(cat(" AND (l.code = ", loc, " OR ", kLocationName, " = ", loc, ")"));
  }
  if (!q.include_zero) b.text(" AND (b.on_hand <> 0 OR b.reserved <> 0)");
  if (q.below_reorder_point) {
    b.text(" AND i.reorder_point > (SELECT coalesce(sum(t.on_hand - t.reserved), 0) "
           "FROM balances t WHERE t.item = i.id)");
  }
  b.text(cat(" ORDER BY i.sku, ", kLocationName, " LIMIT ", b.param(sqlLimit(q.limit))));
  auto r = runWithFreshness(pool, deadline(), std::move(b).query(), freshness, "listStock");
  if (!r.ok()) return r.status();
  for (int row = 0; row < r->rows(); ++row) {
    StockRow s;
    s.item = pg::readItem(*r, row, 0);
    s.location = pg::readLocation(*r, row, 7);
    s.balance.on_hand = r->getInt(row, 10);
    s.balance.reserved = r->getInt(row, 11);
    s.updated_at = r->getInt(row, 12);
    rows.push_back(std::move(s));
  }
  return rows;
}

absl::StatusOr<std::vector<LedgerEntry>> PostgresStore::history(const HistoryQuery& q) {
  // One statement (one snapshot): per location of the item, a range scan of
  // ledger_item_location_ts (ts order is seq order within the item's shard),
  // merged by seq. The paging anchor is the ts of the shard's entry at
  // after_seq, so each scan starts at the page boundary.
  // $1 item, $2 location or NULL, $3 from, $4 to (exclusive for ascending,
  // inclusive for descending), $5 seq bound, $6 limit, $7 anchor seq.
  static const std::string kHead =
      "WITH a AS (SELECT (SELECT l.ts FROM items i JOIN ledger l ON l.shard = i.shard "
      "AND l.seq = $7 WHERE i.id = $1) AS ts), "
      "locs AS (SELECT $2::bigint AS location WHERE $2::bigint IS NOT NULL UNION ALL "
      "SELECT location FROM balances WHERE item = $1 AND $2::bigint IS NULL) "
      "SELECT e.* FROM a, locs CROSS JOIN LATERAL (SELECT ";
  static const std::string kAscSql =
      cat(kHead, pg::kLedgerColumns,
          " FROM ledger WHERE item = $1 AND location = locs.location "
          "AND ts >= greatest($3, coalesce(a.ts, $3)) AND ts < $4 AND seq > $5 "
          "ORDER BY ts, seq LIMIT $6) e ORDER BY e.seq LIMIT $6");
  static const std::string kDescSql =
      cat(kHead, pg::kLedgerColumns,
          " FROM ledger WHERE item = $1 AND location = locs.location "
          "AND ts >= $3 AND ts <= least($4, coalesce(a.ts, $4)) AND seq < $5 "
          "ORDER BY ts DESC, seq DESC LIMIT $6) e ORDER BY e.seq DESC LIMIT $6");
  if (q.limit == 0) return std::vector<LedgerEntry>{};
  const std::int64_t after_seq = clampSeq(q.after_seq);
  Params p;
  p.addInt(q.item);
  if (q.location) {
    p.addInt(*q.location);
  } else {
    p.addNull(pg::kInt8Oid);
  }
  p.addInt(q.from);
  if (q.newest_first) {
    if (q.to == std::numeric_limits<Micros>::min()) return std::vector<LedgerEntry>{};
    p.addInt(q.to == 0 ? kMax : q.to - 1);
    p.addInt(after_seq == 0 ? kMax : after_seq);
  } else {
    p.addInt(q.to == 0 ? kMax : q.to);
    p.addInt(after_seq);
  }
  p.addInt(sqlLimit(q.limit));
  p.addInt(after_seq);
  auto r = pg::runSingle(*m_readers, deadline(),
                         Query{q.newest_first ? kDescSql : kAscSql, std::move(p)}, "history");
  if (!r.ok()) return r.status();
  return ledgerRows(*r);
}

absl::StatusOr<Balance> PostgresStore::balanceAt(ItemId item, LocationId location, Micros at) {
  static const std::string kSql =
      "SELECT on_hand_after, reserved_after FROM ledger WHERE item = $1 AND location = $2 "
      "AND ts <= $3 ORDER BY ts DESC, seq DESC LIMIT 1";
  auto r = pg::runSingle(*m_readers, deadline(),
                         Query{kSql, Params().addInt(item).addInt(location).addInt(at)},
                         "balanceAt");
  if (!r.ok()) return r.status();
  Balance balance;
  if (r->rows() > 0) {
    balance.on_hand = r->getInt(0, 0);
    balance.reserved = r->getInt(0, 1);
  }
  return balance;
}

absl::StatusOr<std::vector<LedgerEntry>> PostgresStore::readLedger(ShardId shard, Seq after_seq,
                                                                   Seq up_to_seq,
                                                                   std::size_t limit) {
  static const std::string kSql =
      cat("SELECT ", pg::kLedgerColumns,
          " FROM ledger WHERE shard = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT $4");
  if (limit == 0 || up_to_seq <= after_seq) return std::vector<LedgerEntry>{};
  auto r = pg::runSingle(*m_readers, deadline(),
                         Query{kSql, Params()
                                         .addInt(shard)
                                         .addInt(clampSeq(after_seq))
                                         .addInt(clampSeq(up_to_seq))
                                         .addInt(sqlLimit(limit))},
                         "readLedger");
  if (!r.ok()) return r.status();
  return ledgerRows(*r);
}

absl::StatusOr<std::vector<LedgerEntry>> PostgresStore::readLedgerAfter(
    const std::array<Seq, kShardCount>& after, std::size_t per_shard_limit) {
  static const std::string kSql =
      // The counter row says which shards have anything new (it commits
      // with the rows, so one snapshot agrees); only those are scanned.
      cat("SELECT l.* FROM unnest($1::bigint[], $2::bigint[]) AS r(s, a) "
          "JOIN shards sh ON sh.shard = r.s AND sh.last_seq > r.a CROSS JOIN LATERAL "
          "(SELECT ", pg::kLedgerColumns,
          " FROM ledger WHERE shard = r.s AND seq > r.a ORDER BY seq LIMIT $3) AS l "
          "ORDER BY l.shard, l.seq");
  if (per_shard_limit == 0) return std::vector<LedgerEntry>{};
  pg::ArrayBuilder shards(pg::kInt8Oid), seqs(pg::kInt8Oid);
  for (ShardId s = 0; s < kShardCount; ++s) {
    shards.addInt(s);
    seqs.addInt(clampSeq(after[s]));
  }
  Params p;
  p.addIntArray(shards).addIntArray(seqs).addInt(sqlLimit(per_shard_limit));
  auto r = pg::runSingle(*m_readers, deadline(), Query{kSql, std::move(p)}, "readLedgerAfter");
  if (!r.ok()) return r.status();
  return ledgerRows(*r);
}

absl::Status PostgresStore::scanLedger(const std::function<bool(const LedgerEntry&)>& fn) {
  static const std::string kSql =
      cat("SELECT ", pg::kLedgerColumns,
          " FROM ledger WHERE (shard, seq) > ($1, $2) ORDER BY shard, seq LIMIT $3");
  std::int64_t shard = -1;
  std::int64_t seq = 0;
  // Bounded: every full page advances (shard, seq) past at least one row.
  for (;;) {
    auto r = pg::runSingle(*m_readers, deadline(),
                           Query{kSql, Params().addInt(shard).addInt(seq).addInt(kScanPage)},
                           "scanLedger");
    if (!r.ok()) return r.status();
    const std::vector<LedgerEntry> page = ledgerRows(*r);
    for (const LedgerEntry& e : page) {
      if (!fn(e)) return absl::OkStatus();
    }
    if (static_cast<std::int64_t>(page.size()) < kScanPage) return absl::OkStatus();
    shard = page.back().shard;
    seq = static_cast<std::int64_t>(page.back().seq);
  }
}

absl::Status PostgresStore::scanBalances(const std::function<bool(const BalanceRow&)>& fn) {
  static const std::string kSql =
      cat("SELECT ", pg::kBalanceColumns,
          " FROM balances WHERE (item, location) > ($1, $2) ORDER BY item, location LIMIT $3");
  auto lease = m_readers->acquire(deadline());
  if (!lease.ok()) return pg::withContext(lease.status(), "scanBalances");
  auto conn = lease->connection(deadline());
  if (!conn.ok()) return pg::withContext(conn.status(), "scanBalances");
  std::vector<Query> begin;
  begin.push_back(Query{"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", {}});
  if (auto st = (*conn)->run(begin, deadline()); !st.ok()) {
    return pg::withContext(st.status(), "scanBalances");
  }
  std::int64_t item = -1;
  std::int64_t location = 0;
  bool more = true;
  while (more) {
    std::vector<Query> page;
    page.push_back(Query{kSql, Params().addInt(item).addInt(location).addInt(kScanPage)});
    auto r = (*conn)->run(page, deadline());  // a failure rolls the transaction back
    if (!r.ok()) return pg::withContext(r.status(), "scanBalances");
    const pg::Result& rows = r->front();
    for (int row = 0; row < rows.rows() && more; ++row) {
      const BalanceRow b = pg::readBalanceRow(rows, row);
      more = fn(b);
      item = b.item;
      location = b.location;
    }
    more = more && rows.rows() == kScanPage;
  }
  std::vector<Query> end;
  end.push_back(Query{"COMMIT", {}});
  return pg::withContext((*conn)->run(end, deadline()).status(), "scanBalances");
}

absl::StatusOr<std::pair<Seq, std::vector<BalanceRow>>> PostgresStore::shardBalances(
    ShardId shard) {
  return shardBalancesOn(*m_readers, shard, nullptr);
}

absl::StatusOr<std::pair<Seq, std::vector<BalanceRow>>> PostgresStore::shardBalancesFromReplica(
    ShardId shard, ReadFreshness* freshness) {
  ReadFreshness local;
  if (freshness == nullptr) freshness = &local;
  *freshness = ReadFreshness{};
  if (m_standby) {
    auto read = shardBalancesOn(*m_standby, shard, freshness);
    if (read.ok() || read.status().code() == absl::StatusCode::kInvalidArgument) return read;
    *freshness = ReadFreshness{};
  }
  return shardBalancesOn(*m_readers, shard, nullptr);
}

absl::StatusOr<std::pair<Seq, std::vector<BalanceRow>>> PostgresStore::shardBalancesOn(
    pg::ConnectionPool& pool, ShardId shard, ReadFreshness* freshness) {
  if (shard >= kShardCount)
    return absl::InvalidArgumentError(cat("shard: ", shard, " is not a shard (0..255)"));
  std::vector<Query> q;
  q.push_back(Query{"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", {}});
  q.push_back(Query{kStalenessSql, {}});
  q.push_back(Query{"SELECT last_seq FROM shards WHERE shard = $1", Params().addInt(shard)});
  q.push_back(Query{"SELECT b.item, b.location, b.on_hand, b.reserved, b.last_ts FROM items i "
                    "JOIN balances b ON b.item = i.id WHERE i.shard = $1",
                    Params().addInt(shard)});
  q.push_back(Query{"COMMIT", {}});
  auto r = pg::runPipeline(pool, deadline(), q, cat("shardBalances ", shard));
  if (!r.ok()) return r.status();
  if (freshness) {
    freshness->staleness_ms = (*r)[1].getInt(0, 0);
    freshness->from_standby = (*r)[1].getInt(0, 1) != 0;
  }
  std::pair<Seq, std::vector<BalanceRow>> out;
  out.first = (*r)[2].rows() > 0 ? static_cast<Seq>((*r)[2].getInt(0, 0)) : 0;
  const pg::Result& rows = (*r)[3];
  out.second.reserve(static_cast<std::size_t>(rows.rows()));
  for (int row = 0; row < rows.rows(); ++row) out.second.push_back(pg::readBalanceRow(rows, row));
  return out;
}

absl::StatusOr<std::array<Seq, kShardCount>> PostgresStore::lastSeqs() {
  auto r = pg::runSingle(*m_readers, deadline(),
                         Query{"SELECT shard, last_seq FROM shards", {}}, "lastSeqs");
  if (!r.ok()) return r.status();
  std::array<Seq, kShardCount> seqs{};
  for (int row = 0; row < r->rows(); ++row) {
    const std::int64_t shard = r->getInt(row, 0);
    if (shard >= 0 && shard < kShardCount) seqs[shard] = static_cast<Seq>(r->getInt(row, 1));
  }
  return seqs;
}

absl::StatusOr<std::vector<ShardId>> PostgresStore::findOrderShards(const std::string& order_id) {
  std::vector<ShardId> shards;
  if (!pg::isStorableText(order_id)) return shards;  // cannot be stored, so is not
  auto r = pg::runSingle(
      *m_readers, deadline(),
      Query{"SELECT shard FROM holds WHERE order_id = $1 ORDER BY shard", Params().addText(order_id)},
      "findOrderShards");
  if (!r.ok()) return r.status();
  for (int row = 0; row < r->rows(); ++row) shards.push_back(static_cast<ShardId>(r->getInt(row, 0)));
  return shards;
}

absl::StatusOr<std::optional<CountRecord>> PostgresStore::findCount(const std::string& count_id) {
  static const std::string kSql = cat("SELECT ", pg::kCountColumns, " FROM counts WHERE count_id = $1");
  if (!pg::isStorableText(count_id)) return std::optional<CountRecord>{};
  auto r = pg::runSingle(*m_readers, deadline(), Query{kSql, Params().addText(count_id)},
                         "findCount");
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return std::optional<CountRecord>{};
  return std::optional<CountRecord>(pg::readCount(*r, 0));
}

absl::StatusOr<std::vector<CountRecord>> PostgresStore::listCounts(CountState state,
                                                                   std::size_t limit) {
  static const std::string kSql =
      cat("SELECT ", pg::kCountColumns,
          " FROM counts WHERE state = $1 ORDER BY submitted_at, count_id LIMIT $2");
  std::vector<CountRecord> counts;
  if (limit == 0) return counts;
  auto r = pg::runSingle(
      *m_readers, deadline(),
      Query{kSql, Params().addInt(static_cast<std::int64_t>(state)).addInt(sqlLimit(limit))},
      "listCounts");
  if (!r.ok()) return r.status();
  for (int row = 0; row < r->rows(); ++row) counts.push_back(pg::readCount(*r, row));
  return counts;
}

absl::StatusOr<std::vector<Alert>> PostgresStore::loadAlerts(bool include_resolved) {
  static const std::string kAllSql = cat("SELECT ", pg::kAlertColumns, " FROM alerts ORDER BY id");
  static const std::string kOpenSql =
      cat("SELECT ", pg::kAlertColumns, " FROM alerts WHERE state <> ",
          static_cast<int>(AlertState::kResolved), " ORDER BY id");
  auto r = pg::runSingle(*m_readers, deadline(), Query{include_resolved ? kAllSql : kOpenSql, {}},
                         "loadAlerts");
  if (!r.ok()) return r.status();
  std::vector<Alert> alerts;
  for (int row = 0; row < r->rows(); ++row) alerts.push_back(pg::readAlert(*r, row));
  return alerts;
}

// From a sequence (schema version 4), so nodes raising alerts at once never
// share an id. The sequence is first lifted past any stored id (an alert
// saved with an id of its own); the advisory lock makes that lift and the
// draw one step across nodes.
absl::StatusOr<std::uint64_t> PostgresStore::nextAlertId() { return reserveAlertIds(1); }

absl::StatusOr<std::uint64_t> PostgresStore::reserveAlertIds(std::uint32_t n) {
  if (n == 0) return absl::InvalidArgumentError("reserveAlertIds: n must be > 0");
  constexpr std::int64_t kAlertIdLock = 0x4465706f7441L;  // "DepotA"
  std::vector<Query> q;
  q.push_back(Query{"BEGIN", {}});
  q.push_back(Query{"SELECT pg_advisory_xact_lock($1)", Params().addInt(kAlertIdLock)});
  // The block is (v - n, v]: the sequence's last value is v afterwards.
  q.push_back(Query{"SELECT setval('alert_ids', greatest((SELECT last_value FROM alert_ids), "
                    "(SELECT coalesce(max(id), 0) FROM alerts), 1) + $1)",
                    Params().addInt(n)});
  q.push_back(Query{"COMMIT", {}});
  auto r = pg::runPipeline(*m_readers, deadline(), q, "reserveAlertIds");
  if (!r.ok()) return r.status();
  return static_cast<std::uint64_t>((*r)[2].getInt(0, 0)) - n + 1;
}

absl::StatusOr<std::vector<Alert>> PostgresStore::alertsUpdatedSince(Micros since) {
  static const std::string kSql =
      cat("SELECT ", pg::kAlertColumns, " FROM alerts WHERE updated_at >= $1 ORDER BY id");
  auto r = pg::runSingle(*m_readers, deadline(), Query{kSql, Params().addInt(since)},
                         "alertsUpdatedSince");
  if (!r.ok()) return r.status();
  std::vector<Alert> alerts;
  for (int row = 0; row < r->rows(); ++row) alerts.push_back(pg::readAlert(*r, row));
  return alerts;
}

absl::StatusOr<std::vector<Silence>> PostgresStore::loadSilences(Micros active_at) {
  static const std::string kSql =
      cat("SELECT ", pg::kSilenceColumns, " FROM silences WHERE expires_at > $1 ORDER BY id");
  auto r = pg::runSingle(*m_readers, deadline(), Query{kSql, Params().addInt(active_at)},
                         "loadSilences");
  if (!r.ok()) return r.status();
  std::vector<Silence> silences;
  for (int row = 0; row < r->rows(); ++row) silences.push_back(pg::readSilence(*r, row));
  return silences;
}

}  // namespace depot
