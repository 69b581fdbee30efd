// PostgresStore: opening, the write path (commit, catalog, alerts, pruning)
// and recovery. The read-only queries live in postgres_store_reads.cpp.
#include "store/postgres/postgres_store.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <thread>
#include <unordered_map>

#include "store/postgres/pg_call.h"
#include "store/postgres/pg_rows.h"
#include "store/postgres/pg_schema.h"
#include "store/recovered_requests.h"
#include "store/sqlite/sqlite_codec.h"

namespace depot {

using pg::cat;
using pg::checkText;
using pg::Params;
using pg::Query;

namespace {

constexpr int kMaxReadConnections = 64;
constexpr std::chrono::milliseconds kMinTimeout{100};
constexpr std::chrono::milliseconds kMaxTimeout{3'600'000};
// Rows deleted per pruning transaction: short enough that a commit waiting
// for the writer waits milliseconds.
constexpr int kPruneChunk = 2000;
constexpr std::uint64_t kInt64Max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

// Everything that can be checked without the database: shard ranges, that
// every row names its ShardCommit's shard, contiguous seqs, integer ranges
// and storable strings.
absl::Status validateShardCommit(const ShardCommit& sc) {
  if (sc.shard >= kShardCount) {
    return absl::InvalidArgumentError(
        cat("commit: shard ", sc.shard, " is out of range (0..", kShardCount - 1, ")"));
  }
  if (sc.epoch > kInt64Max) {
    return absl::FailedPreconditionError(
        cat("commit: shard ", sc.shard, " is fenced: epoch ", sc.epoch,
            " is not a stored epoch; nothing in the batch was written"));
  }
  if (sc.expected_last_seq > kInt64Max - sc.entries.size()) {
    return absl::InvalidArgumentError(
        cat("commit: shard ", sc.shard, ": expected_last_seq ", sc.expected_last_seq,
            " leaves no room for ", sc.entries.size(), " entries"));
  }
  for (std::size_t i = 0; i < sc.entries.size(); ++i) {
    const LedgerEntry& e = sc.entries[i];
    const Seq want = sc.expected_last_seq + 1 + i;
    if (e.seq != want) {
      return absl::FailedPreconditionError(cat(
          "commit: shard ", sc.shard, ": entries[", i, "] has seq ", e.seq, ", expected ", want,
          " (entries must carry seqs ", sc.expected_last_seq + 1, "..",
          sc.expected_last_seq + sc.entries.size(), " after expected_last_seq ",
          sc.expected_last_seq, "); nothing in the batch was written"));
    }
    if (e.shard != sc.shard) {
      return absl::InvalidArgumentError(
          cat("commit: shard ", sc.shard, ": entries[", i, "] (seq ", e.seq, ") names shard ", e.shard));
    }
    const std::string field = cat("commit: shard ", sc.shard, ": entries[", i, "].");
    for (const auto& [name, value] : {std::pair<const char*, const std::string*>{"request_id", &e.request_id},
                                      {"actor", &e.actor},
                                      {"reason", &e.reason},
                                      {"ref", &e.ref}}) {
      if (auto st = checkText(*value, cat(field, name)); !st.ok()) return st;
    }
  }
  for (std::size_t i = 0; i < sc.requests.size(); ++i) {
    if (sc.requests[i].shard != sc.shard) {
      return absl::InvalidArgumentError(
          cat("commit: shard ", sc.shard, ": requests[", i, "] names shard ", sc.requests[i].shard));
    }
  }
  for (std::size_t i = 0; i < sc.holds.size(); ++i) {
    const Hold& h = sc.holds[i];
    if (h.shard != sc.shard) {
      return absl::InvalidArgumentError(
          cat("commit: shard ", sc.shard, ": holds[", i, "] names shard ", h.shard));
    }
    const std::string field = cat("commit: shard ", sc.shard, ": holds[", i, "].");
    for (const auto& [name, value] : {std::pair<const char*, const std::string*>{"order_id", &h.order_id},
                                      {"request_id", &h.request_id},
                                      {"actor", &h.actor}}) {
      if (auto st = checkText(*value, cat(field, name)); !st.ok()) return st;
    }
  }
  for (std::size_t i = 0; i < sc.counts.size(); ++i) {
    const CountRecord& c = sc.counts[i];
    if (c.shard != sc.shard) {
      return absl::InvalidArgumentError(
          cat("commit: shard ", sc.shard, ": counts[", i, "] names shard ", c.shard));
    }
    const std::string field = cat("commit: shard ", sc.shard, ": counts[", i, "].");
    if (c.applied_seq > kInt64Max) {
      return absl::InvalidArgumentError(cat(field, "applied_seq ", c.applied_seq, " is out of range"));
    }
    for (const auto& [name, value] : {std::pair<const char*, const std::string*>{"count_id", &c.count_id},
                                      {"session_id", &c.session_id},
                                      {"counter", &c.counter},
                                      {"decided_by", &c.decided_by},
                                      {"note", &c.note}}) {
      if (auto st = checkText(*value, cat(field, name)); !st.ok()) return st;
    }
  }
  return absl::OkStatus();
}

struct PairHash {
  std::size_t operator()(const std::pair<std::uint64_t, std::uint64_t>& p) const {
    return std::hash<std::uint64_t>()(p.first * 0x9e3779b97f4a7c15ull ^ p.second);
  }
};

}  // namespace

namespace {
pg::Deadline callDeadline(const PostgresStore::Options& options) {
  return pg::Clock::now() + options.statement_timeout + PostgresStore::kClientGrace;
}
}  // namespace

std::chrono::steady_clock::time_point PostgresStore::deadline() const {
  return callDeadline(m_options);
}

absl::StatusOr<std::unique_ptr<PostgresStore>> PostgresStore::open(const Options& options) {
  if (options.dsn.empty()) return absl::InvalidArgumentError("PostgresStore: dsn is empty");
  if (options.read_connections < 1 || options.read_connections > kMaxReadConnections) {
    return absl::InvalidArgumentError(cat("PostgresStore: read_connections ",
                                          options.read_connections, " is not in 1..",
                                          kMaxReadConnections));
  }
  if (options.statement_timeout < kMinTimeout || options.statement_timeout > kMaxTimeout) {
    return absl::InvalidArgumentError(
        cat("PostgresStore: statement_timeout ", static_cast<std::int64_t>(options.statement_timeout.count()),
            " ms is not in ", static_cast<std::int64_t>(kMinTimeout.count()), "..",
            static_cast<std::int64_t>(kMaxTimeout.count()), " ms"));
  }
  auto writer = std::make_unique<pg::ConnectionPool>(options.dsn, options.statement_timeout, 1);
  auto readers = std::make_unique<pg::ConnectionPool>(options.dsn, options.statement_timeout,
                                                      options.read_connections);
  int version = 0;
  std::string ledger_id;
  {
    auto lease = writer->acquire(callDeadline(options));
    if (!lease.ok()) return lease.status();
    auto conn = lease->connection(callDeadline(options));
    if (!conn.ok()) return pg::withContext(conn.status(), "PostgresStore::open");
    // Several round trips, each bounded by statement_timeout on the server.
    const pg::Deadline migrate_deadline =
        pg::Clock::now() + 4 * options.statement_timeout + kClientGrace;
    auto migrated = pg::migrate(**conn, pg::latestSchemaVersion(), migrate_deadline);
    if (!migrated.ok()) return pg::withContext(migrated.status(), "PostgresStore::open");
    version = *migrated;
    auto id = (*conn)->runOne(Query{"SELECT value FROM meta WHERE key = 'ledger_id'", {}},
                              callDeadline(options));
    if (!id.ok()) return pg::withContext(id.status(), "PostgresStore::open: reading the ledger id");
    if (id->rows() != 1 || id->getView(0, 0).empty()) {
      return absl::DataLossError("PostgresStore::open: meta.ledger_id is missing");
    }
    ledger_id = id->getText(0, 0);
  }
  return std::unique_ptr<PostgresStore>(new PostgresStore(
      options, std::move(writer), std::move(readers), std::move(ledger_id), version));
}

PostgresStore::PostgresStore(const Options& options, std::unique_ptr<pg::ConnectionPool> writer,
                             std::unique_ptr<pg::ConnectionPool> readers, std::string ledger_id,
                             int schema_version)
    : m_options(options),
      m_ledger_id(std::move(ledger_id)),
      m_schema_version(schema_version),
      m_writer(std::move(writer)),
      m_readers(std::move(readers)),
      m_standby(options.standby_dsn.empty()
                    ? nullptr
                    : std::make_unique<pg::ConnectionPool>(options.standby_dsn,
                                                           options.statement_timeout, 2)) {}

PostgresStore::~PostgresStore() = default;

// ---- catalog ----

absl::StatusOr<std::vector<Item>> PostgresStore::upsertItems(const std::vector<Item>& items) {
  if (items.empty()) return std::vector<Item>{};
  // The last occurrence of a SKU is what is stored (as if applied in order).
  std::unordered_map<std::string_view, std::size_t> last;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const Item& in = items[i];
    for (const auto& [name, value] : {std::pair<const char*, const std::string*>{"sku", &in.sku},
                                      {"description", &in.description},
                                      {"unit", &in.unit}}) {
      if (auto st = checkText(*value, cat("upsertItems: items[", i, "].", name)); !st.ok()) return st;
    }
    last[in.sku] = i;
  }
  pg::ArrayBuilder sku(pg::kTextOid), description(pg::kTextOid), unit(pg::kTextOid),
      reorder_point(pg::kInt8Oid), reorder_qty(pg::kInt8Oid), shard(pg::kInt8Oid);
  for (std::size_t i = 0; i < items.size(); ++i) {
    const Item& in = items[i];
    if (last[in.sku] != i) continue;
    sku.addBytes(in.sku);
    description.addBytes(in.description);
    unit.addBytes(in.unit);
    reorder_point.addInt(in.reorder_point);
    reorder_qty.addInt(in.reorder_qty);
    shard.addInt(shardOf(in.sku));
  }
  // Existing SKUs are updated, new ones inserted in input order; no identity
  // value is burnt on an existing SKU.
  static const std::string kSql =
      "WITH input AS (SELECT t.sku COLLATE \"C\" AS sku, t.description, t.unit, t.reorder_point, "
      "t.reorder_qty, t.shard, t.ord FROM unnest($1, $2, $3, $4, $5, $6) WITH ORDINALITY "
      "AS t(sku, description, unit, reorder_point, reorder_qty, shard, ord)), "
      "upd AS (UPDATE items i SET description = input.description, unit = input.unit, "
      "reorder_point = input.reorder_point, reorder_qty = input.reorder_qty FROM input "
      "WHERE i.sku = input.sku RETURNING i.id, i.sku, i.shard), "
      "ins AS (INSERT INTO items(sku, description, unit, reorder_point, reorder_qty, shard) "
      "SELECT sku, description, unit, reorder_point, reorder_qty, shard FROM input "
      "WHERE NOT EXISTS (SELECT 1 FROM items x WHERE x.sku = input.sku) ORDER BY ord "
      "ON CONFLICT (sku) DO NOTHING RETURNING id, sku, shard) "
      "SELECT id, sku, shard FROM upd UNION ALL SELECT id, sku, shard FROM ins";
  Params p;
  p.addTextArray(sku).addTextArray(description).addTextArray(unit).addIntArray(reorder_point)
      .addIntArray(reorder_qty).addIntArray(shard);
  auto r = pg::runSingle(*m_writer, deadline(), Query{kSql, std::move(p)}, "upsertItems");
  if (!r.ok()) return r.status();
  std::unordered_map<std::string, std::pair<std::int64_t, std::int64_t>> stored;
  for (int row = 0; row < r->rows(); ++row) {
    stored[r->getText(row, 1)] = {r->getInt(row, 0), r->getInt(row, 2)};
  }
  std::vector<Item> out;
  out.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    auto it = stored.find(items[i].sku);
    if (it == stored.end()) {
      return absl::AbortedError(cat("upsertItems: items[", i,
                                    "]: inserted concurrently by another writer; retry"));
    }
    const std::int64_t id = it->second.first;
    if (id <= 0 || id > std::numeric_limits<ItemId>::max()) {
      return absl::ResourceExhaustedError(
          cat("upsertItems: items[", i, "]: item id ", id, " does not fit in 32 bits"));
    }
    Item item = items[i];
    item.id = static_cast<ItemId>(id);
    item.shard = static_cast<ShardId>(it->second.second);
    out.push_back(std::move(item));
  }
  return out;
}

absl::StatusOr<std::vector<Location>> PostgresStore::upsertLocations(
    const std::vector<Location>& locations) {
  if (locations.empty()) return std::vector<Location>{};
  pg::ArrayBuilder warehouse(pg::kTextOid), code(pg::kTextOid);
  for (std::size_t i = 0; i < locations.size(); ++i) {
    const Location& in = locations[i];
    if (auto st = checkText(in.warehouse, cat("upsertLocations: locations[", i, "].warehouse"));
        !st.ok()) {
      return st;
    }
    if (auto st = checkText(in.code, cat("upsertLocations: locations[", i, "].code")); !st.ok()) {
      return st;
    }
    warehouse.addBytes(in.warehouse);
    code.addBytes(in.code);
  }
  static const std::string kSql =
      "WITH input AS (SELECT t.warehouse COLLATE \"C\" AS warehouse, t.code COLLATE \"C\" AS code, "
      "min(t.ord) AS ord FROM unnest($1, $2) WITH ORDINALITY AS t(warehouse, code, ord) "
      "GROUP BY 1, 2), "
      "ins AS (INSERT INTO locations(warehouse, code) SELECT warehouse, code FROM input "
      "WHERE NOT EXISTS (SELECT 1 FROM locations l WHERE l.warehouse = input.warehouse AND "
      "l.code = input.code) ORDER BY ord ON CONFLICT (warehouse, code) DO NOTHING "
      "RETURNING id, warehouse, code) "
      "SELECT id, warehouse, code FROM ins UNION ALL SELECT l.id, l.warehouse, l.code "
      "FROM locations l JOIN input ON l.warehouse = input.warehouse AND l.code = input.code";
  Params p;
  p.addTextArray(warehouse).addTextArray(code);
  auto r = pg::runSingle(*m_writer, deadline(), Query{kSql, std::move(p)},
                         "upsertLocations");
  if (!r.ok()) return r.status();
  std::map<std::pair<std::string, std::string>, std::int64_t> stored;
  for (int row = 0; row < r->rows(); ++row) {
    stored[{r->getText(row, 1), r->getText(row, 2)}] = r->getInt(row, 0);
  }
  std::vector<Location> out;
  out.reserve(locations.size());
  for (std::size_t i = 0; i < locations.size(); ++i) {
    auto it = stored.find({locations[i].warehouse, locations[i].code});
    if (it == stored.end()) {
      return absl::AbortedError(cat("upsertLocations: locations[", i,
                                    "]: inserted concurrently by another writer; retry"));
    }
    if (it->second <= 0 || it->second > std::numeric_limits<LocationId>::max()) {
      return absl::ResourceExhaustedError(cat("upsertLocations: locations[", i, "]: location id ",
                                              it->second, " does not fit in 32 bits"));
    }
    Location l = locations[i];
    l.id = static_cast<LocationId>(it->second);
    out.push_back(std::move(l));
  }
  return out;
}

// ---- write path ----

absl::Status PostgresStore::commit(const CommitBatch& batch) {
  if (batch.shards.empty()) return absl::OkStatus();
  for (const ShardCommit& sc : batch.shards) {
    if (auto st = validateShardCommit(sc); !st.ok()) return st;
  }
  pg::ArrayBuilder f_shard(pg::kInt8Oid), f_epoch(pg::kInt8Oid), f_expected(pg::kInt8Oid),
      f_count(pg::kInt8Oid), f_ts(pg::kInt8Oid);
  pg::LedgerBatch ledger;
  pg::BalanceBatch balances;
  pg::RequestBatch requests;
  pg::HoldBatch holds;
  pg::CountBatch counts;
  std::string scratch;

  // Upserted rows named twice in one batch: the last one wins, as if the
  // ShardCommits were applied one after another.
  std::unordered_map<std::pair<std::uint64_t, std::uint64_t>, const BalanceRow*, PairHash>
      last_balance;
  std::map<std::pair<std::string_view, ShardId>, const Hold*> last_hold;
  std::unordered_map<std::string_view, const CountRecord*> last_count;
  std::vector<const BalanceRow*> balance_order;
  std::vector<const Hold*> hold_order;
  std::vector<const CountRecord*> count_order;

  // The fence locks the counter rows in shard order (stable: a shard named
  // twice keeps its chain order), the order a lease renewal locks them in
  // (PostgresCluster::renew), so the two never deadlock.
  std::vector<const ShardCommit*> fence_order;
  for (const ShardCommit& sc : batch.shards) fence_order.push_back(&sc);
  std::stable_sort(fence_order.begin(), fence_order.end(),
                   [](const ShardCommit* a, const ShardCommit* b) { return a->shard < b->shard; });
  for (const ShardCommit* sc : fence_order) {
    f_shard.addInt(sc->shard);
    f_epoch.addInt(static_cast<std::int64_t>(sc->epoch));
    f_expected.addInt(static_cast<std::int64_t>(sc->expected_last_seq));
    f_count.addInt(static_cast<std::int64_t>(sc->entries.size()));
    f_ts.addInt(sc->entries.empty() ? 0 : sc->entries.back().ts);
  }
  for (const ShardCommit& sc : batch.shards) {
    for (const LedgerEntry& e : sc.entries) ledger.add(e);
    for (const BalanceRow& b : sc.balances) {
      auto [it, fresh] = last_balance.try_emplace({b.item, b.location}, &b);
      if (fresh) balance_order.push_back(&b);
      it->second = &b;
    }
    if (!sc.requests.empty()) {
      Micros max_ts = sc.requests.front().ts;
      for (const RequestRecord& r : sc.requests) max_ts = std::max(max_ts, r.ts);
      sqlite::encodeRequests(sc.requests, &scratch);
      requests.add(sc.shard, max_ts, scratch);
    }
    for (const Hold& h : sc.holds) {
      auto [it, fresh] = last_hold.try_emplace({h.order_id, h.shard}, &h);
      if (fresh) hold_order.push_back(&h);
      it->second = &h;
    }
    for (const CountRecord& c : sc.counts) {
      auto [it, fresh] = last_count.try_emplace(c.count_id, &c);
      if (fresh) count_order.push_back(&c);
      it->second = &c;
    }
  }
  for (const BalanceRow* b : balance_order) balances.add(*last_balance[{b->item, b->location}]);
  for (const Hold* h : hold_order) holds.add(*last_hold[{h->order_id, h->shard}], &scratch);
  for (const CountRecord* c : count_order) counts.add(*last_count[c->count_id]);

  // One pipeline = one implicit transaction, committed at its Sync. The
  // fence comes first, so a fenced batch fails before any insert runs.
  std::vector<Query> queries;
  Params fence;
  fence.addIntArray(f_shard).addIntArray(f_epoch).addIntArray(f_expected).addIntArray(f_count)
      .addIntArray(f_ts);
  queries.push_back(Query{"SELECT depot_fence($1, $2, $3, $4, $5)", std::move(fence)});
  if (!ledger.empty()) queries.push_back(ledger.query());
  if (!balances.empty()) queries.push_back(balances.query());
  if (!requests.empty()) queries.push_back(requests.query());
  if (!holds.empty()) queries.push_back(holds.query());
  if (!counts.empty()) queries.push_back(counts.query());
  return pg::runPipeline(*m_writer, deadline(), queries, "commit").status();
}

absl::Status PostgresStore::pruneBefore(Micros before) {
  static const std::string kRequests = cat(
      "DELETE FROM requests WHERE id IN (SELECT id FROM requests WHERE max_ts < $1 LIMIT ",
      kPruneChunk, ")");
  static const std::string kHolds =
      cat("DELETE FROM holds WHERE (order_id, shard) IN (SELECT order_id, shard FROM holds "
          "WHERE state <> 1 AND closed_at < $1 LIMIT ",
          kPruneChunk, ")");
  // Bounded: every pass deletes rows or ends the loop.
  for (;;) {
    std::vector<Query> queries;
    queries.push_back(Query{kRequests, Params().addInt(before)});
    queries.push_back(Query{kHolds, Params().addInt(before)});
    auto r = pg::runPipeline(*m_writer, deadline(), queries, "pruneBefore");
    if (!r.ok()) return r.status();
    if ((*r)[0].affected() + (*r)[1].affected() == 0) return absl::OkStatus();
  }
}

absl::StatusOr<ShardRecovery> PostgresStore::recoverShard(ShardId shard, Micros requests_since,
                                                          Micros closed_holds_since,
                                                          BalanceRows balances) {
  if (shard >= kShardCount) {
    return absl::InvalidArgumentError(
        cat("recoverShard: shard ", shard, " is out of range (0..", kShardCount - 1, ")"));
  }
  static const std::string kBalancesSql =
      cat("SELECT b.item, b.location, b.on_hand, b.reserved, b.last_ts FROM items i "
          "JOIN balances b ON b.item = i.id WHERE i.shard = $1 ORDER BY b.item, b.location");
  // kOmit keeps the pipeline's shape (the result indexes below).
  static const std::string kNoBalancesSql = cat(kBalancesSql, " LIMIT 0");
  static const std::string kHoldsSql =
      cat("SELECT ", pg::kHoldColumns,
          " FROM holds WHERE shard = $1 AND (state = 1 OR closed_at >= $2) "
          "ORDER BY created_at, order_id");
  static const std::string kPendingSql =
      cat("SELECT ", pg::kCountColumns,
          " FROM counts WHERE state = 2 AND shard = $1 ORDER BY submitted_at, count_id");
  const auto shardParam = [shard] { return Params().addInt(shard); };

  // One REPEATABLE READ transaction, one round trip: every part comes from
  // the same snapshot.
  std::vector<Query> q;
  q.push_back(Query{"BEGIN ISOLATION LEVEL REPEATABLE READ", {}});
  // The row exists from the first migration; this only guards a hand-edited
  // database. It never changes an existing row.
  q.push_back(Query{"INSERT INTO shards(shard, epoch, last_seq, last_ts) VALUES($1, 1, 0, 0) "
                    "ON CONFLICT (shard) DO NOTHING",
                    shardParam()});
  // Lease acquisition goes here (issue 4): in this same transaction, take the
  // shard's lease if it is free or expired (or renew our own), and when it
  // changes hands bump epoch (UPDATE shards SET epoch = epoch + 1,
  // lease_owner = $node, lease_expires_at = $now + ttl WHERE shard = $1 AND
  // (lease_owner = $node OR lease_expires_at < $now)); zero rows means
  // another live node owns the shard: FAILED_PRECONDITION. Every later
  // commit of the old owner then fails depot_fence()'s epoch check.
  q.push_back(Query{"SELECT epoch, last_seq, last_ts FROM shards WHERE shard = $1", shardParam()});
  q.push_back(
      Query{balances == BalanceRows::kInclude ? kBalancesSql : kNoBalancesSql, shardParam()});
  q.push_back(Query{kHoldsSql, Params().addInt(shard).addInt(closed_holds_since)});
  q.push_back(Query{kPendingSql, shardParam()});
  q.push_back(Query{"SELECT records FROM requests WHERE shard = $1 AND max_ts >= $2 ORDER BY id",
                    Params().addInt(shard).addInt(requests_since)});
  q.push_back(Query{"COMMIT", {}});
  const std::string context = cat("recoverShard ", shard);
  // A REPEATABLE READ snapshot that meets a concurrent commit of the shard
  // row (e.g. a commit the client gave up on, still finishing on the
  // server) fails with a serialization error (ABORTED): take a new snapshot.
  // Bounded: a few attempts, a few milliseconds apart.
  auto r = pg::runPipeline(*m_readers, deadline(), q, context);
  for (int attempt = 1; attempt < 5 && r.status().code() == absl::StatusCode::kAborted;
       ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5 * attempt));
    r = pg::runPipeline(*m_readers, deadline(), q, context);
  }
  if (!r.ok()) return r.status();
  const pg::Result& shard_row = (*r)[2];
  if (shard_row.rows() != 1) {
    return absl::InternalError(cat(context, ": the shard row is missing after claiming it"));
  }
  ShardRecovery rec;
  rec.shard = shard;
  rec.epoch = static_cast<std::uint64_t>(shard_row.getInt(0, 0));
  rec.last_seq = static_cast<Seq>(shard_row.getInt(0, 1));
  rec.last_ts = shard_row.getInt(0, 2);
  const pg::Result& bal = (*r)[3];
  rec.balances.reserve(static_cast<std::size_t>(bal.rows()));
  for (int row = 0; row < bal.rows(); ++row) rec.balances.push_back(pg::readBalanceRow(bal, row));
  const pg::Result& holds = (*r)[4];
  for (int row = 0; row < holds.rows(); ++row) {
    auto hold = pg::readHold(holds, row);
    if (!hold.ok()) return pg::withContext(hold.status(), context);
    rec.holds.push_back(*std::move(hold));
  }
  const pg::Result& pending = (*r)[5];
  for (int row = 0; row < pending.rows(); ++row) rec.pending.push_back(pg::readCount(pending, row));
  const pg::Result& reqs = (*r)[6];
  for (int row = 0; row < reqs.rows(); ++row) {
    if (auto st = sqlite::decodeRecoveredRequests(reqs.getView(row, 0), &rec.requests);
        !st.ok()) {
      return pg::withContext(st, context);
    }
  }
  keepNewestRequests(requests_since, &rec.requests);
  return rec;
}

// ---- alerts ----

absl::Status PostgresStore::saveAlert(const Alert& alert) {
  if (alert.id > kInt64Max) {
    return absl::InvalidArgumentError(cat("saveAlert: id ", alert.id, " is out of range"));
  }
  const std::string field = cat("saveAlert: alert ", alert.id, ".");
  for (const auto& [name, value] : {std::pair<const char*, const std::string*>{"subject", &alert.subject},
                                    {"summary", &alert.summary},
                                    {"acked_by", &alert.acked_by},
                                    {"ack_note", &alert.ack_note}}) {
    if (auto st = checkText(*value, cat(field, name)); !st.ok()) return st;
  }
  static const std::string kSql = cat(
      "INSERT INTO alerts(", pg::kAlertColumns,
      ") VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 <> 0) "
      "ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, severity = excluded.severity, "
      "state = excluded.state, subject = excluded.subject, summary = excluded.summary, "
      "fired_at = excluded.fired_at, updated_at = excluded.updated_at, "
      "resolved_at = excluded.resolved_at, acked_by = excluded.acked_by, "
      "acked_at = excluded.acked_at, ack_note = excluded.ack_note, silenced = excluded.silenced");
  return pg::runSingle(*m_writer, deadline(), Query{kSql, pg::alertParams(alert)},
                       cat("saveAlert ", alert.id))
      .status();
}

absl::StatusOr<Silence> PostgresStore::addSilence(const Silence& silence) {
  for (const auto& [name, value] :
       {std::pair<const char*, const std::string*>{"subject_prefix", &silence.subject_prefix},
        {"owner", &silence.owner},
        {"comment", &silence.comment}}) {
    if (auto st = checkText(*value, cat("addSilence: ", name)); !st.ok()) return st;
  }
  Params p;
  p.addInt(silence.kind).addText(silence.subject_prefix).addText(silence.owner)
      .addText(silence.comment).addInt(silence.created_at).addInt(silence.expires_at);
  auto r = pg::runSingle(
      *m_writer, deadline(),
      Query{"INSERT INTO silences(kind, subject_prefix, owner, comment, created_at, expires_at) "
            "VALUES($1, $2, $3, $4, $5, $6) RETURNING id",
            std::move(p)},
      "addSilence");
  if (!r.ok()) return r.status();
  if (r->rows() != 1) return absl::InternalError("addSilence: no id returned");
  Silence stored = silence;
  stored.id = static_cast<std::uint64_t>(r->getInt(0, 0));
  return stored;
}

}  // namespace depot
