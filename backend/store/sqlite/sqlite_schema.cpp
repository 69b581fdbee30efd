#include "store/sqlite/sqlite_schema.h"

#include <chrono>
#include <iterator>

#include "store/sqlite/sqlite_history.h"

namespace depot::sqlite {
namespace {

struct Migration {
  const char* description;
  const char* sql;
};

// Layout notes (this is the hot path: rows compact, B-tree inserts per ledger
// entry few, and as many of them appends as possible):
// - Enums are stored as their integer values; times are int64 microseconds.
// - ledger is WITHOUT ROWID, clustered on (shard, seq): commits append at the
//   end of each shard's range and readLedger/scanLedger are range scans.
//   It has no secondary index. Since version 5 the history of one
//   (item, location) is a chain through prev_seq, headed by balances.last_seq,
//   with about one entry in 64 also in history_marks (sqlite_history.h). Up
//   to version 4 an index ledger(item, location, ts, seq) served it; each
//   entry was a random-position insert there, and once the index outgrew the
//   cache every entry dirtied its own page (about half of the applier's time
//   at 4 M entries, and growing with the ledger).
// - balances is clustered on (item, location) for listStock; its shard comes
//   from items (items_shard) for recovery. balances_location serves
//   bin-filtered listStock; commits update on_hand/reserved in place, which
//   does not touch that index, so it costs only when a pair first appears.
// - requests is a log: one row per shard per applier transaction holding all
//   of its idempotency records (sqlite_codec.h), not one row per request. Nothing looks records
//   up by request_id in the store (engines keep the window in memory and read
//   it back whole in recoverShard), and a row per request cost a random-key
//   B-tree insert per command, measured at about a third of the commit time.
//   If a request_id is stored twice, the later record wins on recovery.
//   requests_shard serves recovery, requests_ts pruning. A row is pruned
//   once its newest record is; recovery drops the older records it still
//   holds below meta.requests_pruned_before (written by each prune).
// - Ids are not declared as foreign keys: the shard engines validate every id
//   against the catalog before a batch reaches the store, and enforcing the
//   references would cost four B-tree probes per ledger entry on the hot
//   path. Rows are never deleted from items/locations.
// - holds_shard serves recovery; holds_closed pruning (partial: open holds are
//   never pruned).
// - None of these tables is written on the commit path: commits go to the
//   commit log and the applier writes them in large transactions, so the
//   random-position inserts above are paid once per many commits.
constexpr Migration kMigrations[] = {
    {"catalog, ledger, balances, idempotency records and holds", R"sql(
CREATE TABLE meta(
  key TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL) WITHOUT ROWID;
INSERT INTO meta(key, value) VALUES('ledger_id', lower(hex(randomblob(16))));

CREATE TABLE items(
  id INTEGER PRIMARY KEY,
  sku TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL,
  unit TEXT NOT NULL,
  reorder_point INTEGER NOT NULL,
  reorder_qty INTEGER NOT NULL,
  shard INTEGER NOT NULL);
CREATE INDEX items_shard ON items(shard);

CREATE TABLE locations(
  id INTEGER PRIMARY KEY,
  warehouse TEXT NOT NULL,
  code TEXT NOT NULL,
  UNIQUE(warehouse, code));

CREATE TABLE shards(
  shard INTEGER PRIMARY KEY,
  epoch INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  last_ts INTEGER NOT NULL);

CREATE TABLE ledger(
  shard INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  request_id TEXT NOT NULL,
  kind INTEGER NOT NULL,
  item INTEGER NOT NULL,
  location INTEGER NOT NULL,
  d_on_hand INTEGER NOT NULL,
  d_reserved INTEGER NOT NULL,
  on_hand_after INTEGER NOT NULL,
  reserved_after INTEGER NOT NULL,
  actor TEXT NOT NULL,
  reason TEXT NOT NULL,
  ref TEXT NOT NULL,
  ts INTEGER NOT NULL,
  PRIMARY KEY(shard, seq)) WITHOUT ROWID;
CREATE INDEX ledger_item_location_ts ON ledger(item, location, ts, seq);

CREATE TABLE balances(
  item INTEGER NOT NULL,
  location INTEGER NOT NULL,
  on_hand INTEGER NOT NULL,
  reserved INTEGER NOT NULL,
  last_ts INTEGER NOT NULL,
  PRIMARY KEY(item, location)) WITHOUT ROWID;
CREATE INDEX balances_location ON balances(location);

CREATE TABLE requests(
  id INTEGER PRIMARY KEY,
  shard INTEGER NOT NULL,
  max_ts INTEGER NOT NULL,
  records BLOB NOT NULL);
CREATE INDEX requests_shard ON requests(shard, max_ts);
CREATE INDEX requests_ts ON requests(max_ts);

CREATE TABLE holds(
  order_id TEXT NOT NULL,
  shard INTEGER NOT NULL,
  request_id TEXT NOT NULL,
  state INTEGER NOT NULL,
  lines BLOB NOT NULL,
  actor TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  closed_at INTEGER NOT NULL,
  PRIMARY KEY(order_id, shard)) WITHOUT ROWID;
CREATE INDEX holds_shard ON holds(shard);
CREATE INDEX holds_closed ON holds(closed_at) WHERE state <> 1;
)sql"},
    {"stocktake counts", R"sql(
CREATE TABLE counts(
  count_id TEXT PRIMARY KEY NOT NULL,
  shard INTEGER NOT NULL,
  item INTEGER NOT NULL,
  location INTEGER NOT NULL,
  counted INTEGER NOT NULL,
  counted_at INTEGER NOT NULL,
  expected INTEGER NOT NULL,
  variance INTEGER NOT NULL,
  state INTEGER NOT NULL,
  session_id TEXT NOT NULL,
  counter TEXT NOT NULL,
  blind INTEGER NOT NULL,
  submitted_at INTEGER NOT NULL,
  decided_by TEXT NOT NULL,
  note TEXT NOT NULL,
  decided_at INTEGER NOT NULL,
  applied_seq INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX counts_state ON counts(state, submitted_at);
)sql"},
    {"alerts and silences", R"sql(
CREATE TABLE alerts(
  id INTEGER PRIMARY KEY,
  kind INTEGER NOT NULL,
  severity INTEGER NOT NULL,
  state INTEGER NOT NULL,
  subject TEXT NOT NULL,
  summary TEXT NOT NULL,
  fired_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  resolved_at INTEGER NOT NULL,
  acked_by TEXT NOT NULL,
  acked_at INTEGER NOT NULL,
  ack_note TEXT NOT NULL,
  silenced INTEGER NOT NULL);
CREATE INDEX alerts_state ON alerts(state);

CREATE TABLE silences(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind INTEGER NOT NULL,
  subject_prefix TEXT NOT NULL,
  owner TEXT NOT NULL,
  comment TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL);
CREATE INDEX silences_expires ON silences(expires_at);
)sql"},
    // The tables are brought up to date from the commit log (then the SQLite
    // file `<file>-commits`, sqlite_legacy_commit_log.h) after each commit is
    // durable there; this records how far. A binary older than this version would ignore the log,
    // so the version bump makes it refuse the file instead.
    {"commit log: meta.applied_log_id", R"sql(
INSERT INTO meta(key, value) VALUES('applied_log_id', '0');
)sql"},
    // The history index becomes chains and sparse marks (sqlite_history.h).
    // Existing entries are linked with the old index before it is dropped;
    // depot_history_mark is registered by migrate().
    {"history chains and marks instead of the ledger's history index", R"sql(
ALTER TABLE ledger ADD COLUMN prev_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE balances ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
CREATE TABLE history_marks(
  item INTEGER NOT NULL,
  location INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY(item, location, ts, seq)) WITHOUT ROWID;
UPDATE ledger SET prev_seq = coalesce((
  SELECT p.seq FROM ledger p
  WHERE p.item = ledger.item AND p.location = ledger.location
    AND (p.ts, p.seq) < (ledger.ts, ledger.seq)
  ORDER BY p.ts DESC, p.seq DESC LIMIT 1), 0);
UPDATE balances SET last_seq = coalesce((
  SELECT l.seq FROM ledger l
  WHERE l.item = balances.item AND l.location = balances.location
  ORDER BY l.ts DESC, l.seq DESC LIMIT 1), 0);
INSERT INTO history_marks(item, location, ts, seq)
  SELECT item, location, ts, seq FROM ledger WHERE depot_history_mark(seq);
DROP INDEX ledger_item_location_ts;
)sql"},
    // The commit log moves to segment files (`<file>-log/`, commit_log.h).
    // A binary older than this version would look for the SQLite log only
    // and miss what a crash left in the segments: the bump makes it refuse
    // the file. This build applies an old log it finds, then removes it.
    {"commit log as segment files", R"sql(
INSERT OR REPLACE INTO meta(key, value) VALUES('commit_log_format', 'segments');
)sql"},
};

constexpr int kLatest = static_cast<int>(std::size(kMigrations));

std::int64_t nowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The file's version; 0 for a database without schema_version.
absl::StatusOr<int> currentVersion(Db& db) {
  auto exists = db.queryInt(
      "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_version'");
  if (!exists.ok()) return exists.status();
  if (*exists == 0) {
    auto others = db.queryInt("SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'");
    if (!others.ok()) return others.status();
    if (*others != 0) {
      return absl::FailedPreconditionError(
          "the file is an SQLite database but not a Depot store (it has tables but no "
          "schema_version table); refusing to modify it");
    }
    return 0;
  }
  auto version = db.queryInt("SELECT coalesce(max(version), 0) FROM schema_version");
  if (!version.ok()) return version.status();
  return static_cast<int>(*version);
}

absl::Status applyStep(Db& db, int version) {
  const Migration& step = kMigrations[version - 1];
  const std::string what =
      cat("schema migration to version ", version, " (", step.description, ")");
  if (version == 1) {
    if (auto st = db.exec("CREATE TABLE schema_version(version INTEGER PRIMARY KEY, "
                          "applied_at INTEGER NOT NULL)",
                          what);
        !st.ok()) {
      return st;
    }
  }
  if (auto st = db.exec(step.sql, what); !st.ok()) return st;
  auto record = db.prepare("INSERT INTO schema_version(version, applied_at) VALUES(?1, ?2)", false);
  if (!record.ok()) return record.status();
  record->bindInt(1, version);
  record->bindInt(2, nowMicros());
  return record->run(what);
}

}  // namespace

int latestSchemaVersion() { return kLatest; }

absl::StatusOr<int> migrate(Db& db, int target) {
  if (target < 1 || target > kLatest) {
    return absl::InvalidArgumentError(cat("schema version ", target, " is not in 1..", kLatest));
  }
  if (auto st = registerHistoryFunctions(db); !st.ok()) return st;
  // Each pass applies one step; kLatest + 1 passes always suffice.
  for (int pass = 0; pass <= kLatest; ++pass) {
    auto txn = Txn::begin(db, Txn::Mode::kImmediate, "schema migration");
    if (!txn.ok()) return txn.status();
    auto current = currentVersion(db);
    if (!current.ok()) return current.status();
    if (*current > kLatest) {
      return absl::FailedPreconditionError(
          cat("the store's schema version is ", *current, " but this build knows versions up to ",
              kLatest,
              ": it was written by a newer Depot; upgrade this binary or use a copy made "
              "before the upgrade"));
    }
    if (*current >= target) {
      if (auto st = txn->commit(); !st.ok()) return st;
      return *current;
    }
    if (auto st = applyStep(db, *current + 1); !st.ok()) return st;
    if (auto st = txn->commit(); !st.ok()) return st;
  }
  return absl::InternalError("schema migration did not converge");
}

}  // namespace depot::sqlite
