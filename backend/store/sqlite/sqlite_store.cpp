// SqliteStore: opening, the write path (commit, catalog, alerts, pruning) and
// recovery. The read-only queries live in sqlite_store_reads.cpp.
#include "store/sqlite/sqlite_store.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <limits>
#include <tuple>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"

#include "store/sqlite/commit_log.h"
#include "store/sqlite/sqlite_checkpointer.h"
#include "store/sqlite/sqlite_codec.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_history.h"
#include "store/sqlite/sqlite_legacy_commit_log.h"
#include "store/sqlite/sqlite_pool.h"
#include "store/sqlite/sqlite_rows.h"
#include "store/sqlite/sqlite_schema.h"

namespace depot {
namespace sqlite {

constexpr int kBusyTimeoutMs = 5000;
constexpr int kMaxReadConnections = 64;
// Rows deleted per pruning transaction: small enough that a commit waiting
// for the writer mutex waits milliseconds, large enough to amortise the fsync.
constexpr int kPruneChunk = 2000;

// The writer connection and its persistent statements. Guarded by
// SqliteStore::m_write_mutex. Statements are declared after db so they are
// finalized before it closes.
struct Writer {
  Db db;
  Stmt shard_get;
  Stmt shard_put;
  Stmt shard_claim;
  Stmt ledger_put;
  Stmt balance_put;
  Stmt balance_last_seq_get;
  Stmt history_mark_put;
  Stmt request_put;
  Stmt hold_put;
  Stmt count_put;
  Stmt item_upsert;
  Stmt location_get;
  Stmt location_put;
  Stmt alert_put;
  Stmt silence_put;
  Stmt prune_requests;
  Stmt prune_holds;
  Stmt prune_horizon_put;
  Stmt applied_put;
  std::string scratch;  // encoded blobs, reused across rows

  absl::Status prepareAll() {
    struct Def {
      Stmt* stmt;
      std::string sql;
    };
    const Def defs[] = {
        {&shard_get, "SELECT epoch, last_seq, last_ts FROM shards WHERE shard = ?1"},
        {&shard_put,
         "INSERT INTO shards(shard, epoch, last_seq, last_ts) VALUES(?1, ?2, ?3, ?4) "
         "ON CONFLICT(shard) DO UPDATE SET last_seq = excluded.last_seq, "
         "last_ts = excluded.last_ts"},
        {&shard_claim,
         "INSERT INTO shards(shard, epoch, last_seq, last_ts) VALUES(?1, 1, 0, 0) "
         "ON CONFLICT(shard) DO NOTHING"},
        {&ledger_put, sqlite::cat("INSERT INTO ledger(", kLedgerColumns,
                                  ", prev_seq) VALUES(?1, ?2, ?3, "
                                  "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)")},
        // last_seq only moves forward: a round that changes a balance
        // without an entry for it binds 0.
        {&balance_put, sqlite::cat("INSERT INTO balances(", kBalanceColumns,
                                   ", last_seq) VALUES(?1, ?2, ?3, ?4, ?5, ?6) "
                                   "ON CONFLICT(item, location) "
                                   "DO UPDATE SET on_hand = excluded.on_hand, "
                                   "reserved = excluded.reserved, last_ts = excluded.last_ts, "
                                   "last_seq = max(last_seq, excluded.last_seq)")},
        {&balance_last_seq_get, "SELECT last_seq FROM balances WHERE item = ?1 AND location = ?2"},
        {&history_mark_put,
         "INSERT INTO history_marks(item, location, ts, seq) VALUES(?1, ?2, ?3, ?4)"},
        {&request_put, "INSERT INTO requests(shard, max_ts, records) VALUES(?1, ?2, ?3)"},
        {&hold_put,
         sqlite::cat("INSERT INTO holds(", kHoldColumns,
                     ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
                     "ON CONFLICT(order_id, shard) DO UPDATE SET "
                     "request_id = excluded.request_id, state = excluded.state, "
                     "lines = excluded.lines, actor = excluded.actor, "
                     "created_at = excluded.created_at, "
                     "expires_at = excluded.expires_at, closed_at = excluded.closed_at")},
        {&count_put,
         sqlite::cat("INSERT INTO counts(", kCountColumns,
                     ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
                     "?16, ?17) ON CONFLICT(count_id) DO UPDATE SET shard = excluded.shard, "
                     "item = excluded.item, location = excluded.location, "
                     "counted = excluded.counted, counted_at = excluded.counted_at, "
                     "expected = excluded.expected, variance = excluded.variance, "
                     "state = excluded.state, session_id = excluded.session_id, "
                     "counter = excluded.counter, blind = excluded.blind, "
                     "submitted_at = excluded.submitted_at, decided_by = excluded.decided_by, "
                     "note = excluded.note, decided_at = excluded.decided_at, "
                     "applied_seq = excluded.applied_seq")},
        {&item_upsert,
         "INSERT INTO items(sku, description, unit, reorder_point, reorder_qty, shard) "
         "VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(sku) DO UPDATE SET "
         "description = excluded.description, unit = excluded.unit, "
         "reorder_point = excluded.reorder_point, reorder_qty = excluded.reorder_qty "
         "RETURNING id, shard"},
        {&location_get, "SELECT id FROM locations WHERE warehouse = ?1 AND code = ?2"},
        {&location_put, "INSERT INTO locations(warehouse, code) VALUES(?1, ?2) RETURNING id"},
        {&alert_put, sqlite::cat("INSERT INTO alerts(", kAlertColumns,
                                 ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
                                 "?13) ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, "
                                 "severity = excluded.severity, state = excluded.state, "
                                 "subject = excluded.subject, summary = excluded.summary, "
                                 "fired_at = excluded.fired_at, updated_at = excluded.updated_at, "
                                 "resolved_at = excluded.resolved_at, "
                                 "acked_by = excluded.acked_by, acked_at = excluded.acked_at, "
                                 "ack_note = excluded.ack_note, silenced = excluded.silenced")},
        {&silence_put,
         "INSERT INTO silences(kind, subject_prefix, owner, comment, created_at, expires_at) "
         "VALUES(?1, ?2, ?3, ?4, ?5, ?6) RETURNING id"},
        {&prune_requests, sqlite::cat("DELETE FROM requests WHERE id IN (SELECT id FROM requests "
                                      "WHERE max_ts < ?1 LIMIT ",
                                      kPruneChunk, ")")},
        {&applied_put,
         "INSERT INTO meta(key, value) VALUES('applied_log_id', ?1) "
         "ON CONFLICT(key) DO UPDATE SET value = excluded.value"},
        // A requests row holds a whole round of a shard and outlives its
        // older records (putRequests): recovery drops records older than
        // the newest prune's cutoff, kept here.
        {&prune_horizon_put,
         "INSERT INTO meta(key, value) VALUES('requests_pruned_before', ?1) "
         "ON CONFLICT(key) DO UPDATE SET value = "
         "max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))"},
        {&prune_holds, sqlite::cat("DELETE FROM holds WHERE (order_id, shard) IN (SELECT "
                                   "order_id, shard FROM holds WHERE state <> 1 AND "
                                   "closed_at < ?1 LIMIT ",
                                   kPruneChunk, ")")},
    };
    for (const Def& def : defs) {
      auto stmt = db.prepare(def.sql, true);
      if (!stmt.ok()) return stmt.status();
      *def.stmt = *std::move(stmt);
    }
    return absl::OkStatus();
  }
};

namespace {

const char* syncPragma(SqliteStore::Options::Sync sync) {
  switch (sync) {
    case SqliteStore::Options::Sync::kFull:
      return "PRAGMA synchronous=FULL";
    case SqliteStore::Options::Sync::kNormal:
      return "PRAGMA synchronous=NORMAL";
    case SqliteStore::Options::Sync::kOff:
      return "PRAGMA synchronous=OFF";
  }
  return "PRAGMA synchronous=FULL";
}

absl::Status withContext(const absl::Status& st, std::string_view context) {
  return absl::Status(st.code(), sqlite::cat(context, ": ", st.message()));
}

// Checks what can be checked without the database: shard ranges, that every
// row names its ShardCommit's shard, and that seqs are contiguous.
absl::Status validateShardCommit(const ShardCommit& sc) {
  if (sc.shard >= kShardCount) {
    return absl::InvalidArgumentError(
        sqlite::cat("commit: shard ", sc.shard, " is out of range (0..", kShardCount - 1, ")"));
  }
  for (std::size_t i = 0; i < sc.entries.size(); ++i) {
    const LedgerEntry& e = sc.entries[i];
    const Seq want = sc.expected_last_seq + 1 + i;
    if (e.seq != want) {
      return absl::FailedPreconditionError(
          sqlite::cat("commit: shard ", sc.shard, ": entries[", i, "] has seq ", e.seq,
                      ", expected ", want, " (entries must carry seqs ", sc.expected_last_seq + 1,
                      "..", sc.expected_last_seq + sc.entries.size(), " after expected_last_seq ",
                      sc.expected_last_seq, "); nothing in the batch was written"));
    }
    if (e.shard != sc.shard) {
      return absl::InvalidArgumentError(sqlite::cat("commit: shard ", sc.shard, ": entries[", i,
                                                    "] (seq ", e.seq, ") names shard ", e.shard));
    }
  }
  for (std::size_t i = 0; i < sc.requests.size(); ++i) {
    if (sc.requests[i].shard != sc.shard) {
      return absl::InvalidArgumentError(sqlite::cat("commit: shard ", sc.shard, ": requests[", i,
                                                    "] names shard ", sc.requests[i].shard));
    }
  }
  for (std::size_t i = 0; i < sc.holds.size(); ++i) {
    if (sc.holds[i].shard != sc.shard) {
      return absl::InvalidArgumentError(sqlite::cat("commit: shard ", sc.shard, ": holds[", i,
                                                    "] names shard ", sc.holds[i].shard));
    }
  }
  for (std::size_t i = 0; i < sc.counts.size(); ++i) {
    if (sc.counts[i].shard != sc.shard) {
      return absl::InvalidArgumentError(sqlite::cat("commit: shard ", sc.shard, ": counts[", i,
                                                    "] names shard ", sc.counts[i].shard));
    }
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace sqlite

using sqlite::Db;
using sqlite::Stmt;
using sqlite::Txn;

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::open(const Options& options) {
  if (options.path.empty()) return absl::InvalidArgumentError("SqliteStore: path is empty");
  if (options.path == ":memory:" || options.path.rfind("file:", 0) == 0) {
    return absl::InvalidArgumentError(
        sqlite::cat("SqliteStore: path '", options.path, "' must name a file"));
  }
  if (options.read_connections < 1 || options.read_connections > sqlite::kMaxReadConnections) {
    return absl::InvalidArgumentError(sqlite::cat("SqliteStore: read_connections ",
                                                  options.read_connections, " is not in 1..",
                                                  sqlite::kMaxReadConnections));
  }
  if (options.log_segment_bytes < sqlite::CommitLog::kMinSegmentBytes) {
    // Checked here, before the file is created or migrated.
    return absl::InvalidArgumentError(
        sqlite::cat("SqliteStore: log_segment_bytes ", options.log_segment_bytes,
                    " is below the minimum of ", sqlite::CommitLog::kMinSegmentBytes));
  }
  const std::string where = sqlite::cat("SqliteStore '", options.path, "'");
  auto db = Db::open(options.path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                     Db::Writeback::kPaced);  // the applier writes in bulk
  if (!db.ok()) return db.status();
  sqlite3_busy_timeout(db->get(), sqlite::kBusyTimeoutMs);
  // One writer per file: an exclusive flock on a descriptor of our own, held
  // until the store is destroyed. (flock is separate from SQLite's POSIX
  // locks; the descriptor stays open so closing it cannot drop theirs early.)
  int lock_fd = -1;
  if (!options.shared_read) {
    lock_fd = ::open(options.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (lock_fd < 0) {
      return absl::UnavailableError(
          sqlite::cat(where, ": opening it to lock it: ", std::strerror(errno)));
    }
    if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      ::close(lock_fd);
      if (err == EWOULDBLOCK) {
        return absl::FailedPreconditionError(sqlite::cat(
            where, " is in use by another writer (is another depotd running on this data "
                   "directory?); stop it first, or open it for shared reading"));
      }
      return absl::UnavailableError(sqlite::cat(where, ": locking it: ", std::strerror(err)));
    }
  }
  struct LockGuard {
    int& fd;
    ~LockGuard() {
      if (fd >= 0) ::close(fd);
    }
  } lock_guard{lock_fd};

  // The first statement reads the header: a file that is not a database fails
  // here with SQLITE_NOTADB (DATA_LOSS), before anything is written to it.
  auto mode = db->queryText("PRAGMA journal_mode=WAL");
  if (!mode.ok()) return sqlite::withContext(mode.status(), sqlite::cat(where, ": enabling WAL"));
  if (*mode != "wal") {
    return absl::FailedPreconditionError(
        sqlite::cat(where, ": could not enable WAL journal mode (got '", *mode, "')"));
  }
  // 64 MiB page cache for the writer. Checkpoints are the Checkpointer's
  // (its WAL hook replaces wal_autocheckpoint); journal_size_limit truncates
  // a WAL that once grew large back to 64 MiB after it is reset.
  const std::string pragmas = sqlite::cat(sqlite::syncPragma(options.sync),
                                          "; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY; "
                                          "PRAGMA journal_size_limit=67108864");
  if (auto st = db->exec(pragmas.c_str(), sqlite::cat(where, ": configuring")); !st.ok()) {
    return st;
  }

  auto version = sqlite::migrate(*db, sqlite::latestSchemaVersion());
  if (!version.ok()) return sqlite::withContext(version.status(), where);
  auto ledger_id = db->queryText("SELECT value FROM meta WHERE key = 'ledger_id'");
  if (!ledger_id.ok()) return sqlite::withContext(ledger_id.status(), where);
  if (ledger_id->empty())
    return absl::DataLossError(sqlite::cat(where, ": meta.ledger_id is missing"));

  auto writer = std::make_unique<sqlite::Writer>();
  writer->db = *std::move(db);
  if (auto st = writer->prepareAll(); !st.ok()) return sqlite::withContext(st, where);
  auto readers =
      sqlite::ReadPool::open(options.path, options.read_connections, sqlite::kBusyTimeoutMs);
  if (!readers.ok()) return sqlite::withContext(readers.status(), where);
  auto checkpointer = sqlite::Checkpointer::start(options.path, sqlite::kBusyTimeoutMs,
                                                  sqlite::syncPragma(options.sync));
  if (!checkpointer.ok()) return sqlite::withContext(checkpointer.status(), where);
  (*checkpointer)->hook(writer->db.get());

  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(writer), *std::move(readers),
                                                    *std::move(checkpointer),
                                                    *std::move(ledger_id), *version));
  if (!options.shared_read) {
    store->m_lock_fd = std::exchange(lock_fd, -1);
    if (auto st = store->startWriting(options); !st.ok()) {
      return sqlite::withContext(st, where);
    }
  }
  return store;
}

SqliteStore::SqliteStore(std::unique_ptr<sqlite::Writer> writer,
                         std::unique_ptr<sqlite::ReadPool> readers,
                         std::unique_ptr<sqlite::Checkpointer> checkpointer, std::string ledger_id,
                         int schema_version)
    : m_ledger_id(std::move(ledger_id)),
      m_schema_version(schema_version),
      m_writer(std::move(writer)),
      m_readers(std::move(readers)),
      m_checkpointer(std::move(checkpointer)) {}

SqliteStore::~SqliteStore() {
  stopWriting();
  std::lock_guard lock(m_write_mutex);
  if (m_writer && m_checkpointer) sqlite::Checkpointer::unhook(m_writer->db.get());
  m_checkpointer.reset();
  // Readers close before the writer so the writer is the last connection: it
  // checkpoints the WAL into the main file and removes the -wal file.
  m_readers.reset();
  m_writer.reset();
  if (m_lock_fd >= 0) ::close(m_lock_fd);  // after every connection is closed
}

absl::StatusOr<SqliteStore::Diagnostics> SqliteStore::diagnostics() {
  Diagnostics d;
  {
    std::lock_guard lock(m_write_mutex);
    Db& db = m_writer->db;
    auto mode = db.queryText("PRAGMA journal_mode");
    if (!mode.ok()) return mode.status();
    d.journal_mode = *mode;
    auto sync = db.queryInt("PRAGMA synchronous");
    if (!sync.ok()) return sync.status();
    d.synchronous = static_cast<int>(*sync);
    auto busy = db.queryInt("PRAGMA busy_timeout");
    if (!busy.ok()) return busy.status();
    d.busy_timeout_ms = static_cast<int>(*busy);
  }
  d.checkpoint_error = std::string(m_checkpointer->lastError().message());
  {
    std::lock_guard lock(m_applied_mutex);
    d.applier_error = std::string(m_applier_error.message());
    d.commits_not_applied = m_committed_hint.load() - m_applied_id;
  }
  d.read_connections = m_readers->size();
  // Lease every connection at once so each is checked exactly once.
  std::vector<sqlite::ReadPool::Lease> leases;
  d.readers_query_only = true;
  for (int i = 0; i < d.read_connections; ++i) {
    leases.push_back(m_readers->acquire());
    auto query_only = leases.back().db().queryInt("PRAGMA query_only");
    if (!query_only.ok()) return query_only.status();
    d.readers_query_only = d.readers_query_only && *query_only == 1;
  }
  return d;
}

// ---- catalog ----

absl::StatusOr<std::vector<Item>> SqliteStore::upsertItems(const std::vector<Item>& items) {
  std::vector<Item> stored;
  stored.reserve(items.size());
  std::lock_guard lock(m_write_mutex);
  sqlite::Writer& w = *m_writer;
  auto txn = Txn::begin(w.db, Txn::Mode::kImmediate, "upsertItems");
  if (!txn.ok()) return txn.status();
  for (std::size_t i = 0; i < items.size(); ++i) {
    const Item& in = items[i];
    Stmt::Scope scope(w.item_upsert);
    w.item_upsert.bindText(1, in.sku);
    w.item_upsert.bindText(2, in.description);
    w.item_upsert.bindText(3, in.unit);
    w.item_upsert.bindInt(4, in.reorder_point);
    w.item_upsert.bindInt(5, in.reorder_qty);
    w.item_upsert.bindInt(6, shardOf(in.sku));
    auto row = w.item_upsert.next("upserting an item");
    if (!row.ok())
      return sqlite::withContext(row.status(), sqlite::cat("upsertItems: items[", i, "]"));
    if (!*row)
      return absl::InternalError(sqlite::cat("upsertItems: items[", i, "]: no id returned"));
    const std::int64_t id = w.item_upsert.colInt(0);
    if (id <= 0 || id > std::numeric_limits<ItemId>::max()) {
      return absl::ResourceExhaustedError(
          sqlite::cat("upsertItems: items[", i, "]: item id ", id, " does not fit in 32 bits"));
    }
    Item out = in;
    out.id = static_cast<ItemId>(id);
    out.shard = static_cast<ShardId>(w.item_upsert.colInt(1));
    stored.push_back(std::move(out));
  }
  if (auto st = txn->commit(); !st.ok()) return st;
  return stored;
}

absl::StatusOr<std::vector<Location>> SqliteStore::upsertLocations(
    const std::vector<Location>& locations) {
  std::vector<Location> stored;
  stored.reserve(locations.size());
  std::lock_guard lock(m_write_mutex);
  sqlite::Writer& w = *m_writer;
  auto txn = Txn::begin(w.db, Txn::Mode::kImmediate, "upsertLocations");
  if (!txn.ok()) return txn.status();
  for (std::size_t i = 0; i < locations.size(); ++i) {
    const Location& in = locations[i];
    const std::string context = sqlite::cat("upsertLocations: locations[", i, "]");
    std::int64_t id = 0;
    {
      Stmt::Scope scope(w.location_get);
      w.location_get.bindText(1, in.warehouse);
      w.location_get.bindText(2, in.code);
      auto row = w.location_get.next("looking up a location");
      if (!row.ok()) return sqlite::withContext(row.status(), context);
      if (*row) id = w.location_get.colInt(0);
    }
    if (id == 0) {
      Stmt::Scope scope(w.location_put);
      w.location_put.bindText(1, in.warehouse);
      w.location_put.bindText(2, in.code);
      auto row = w.location_put.next("inserting a location");
      if (!row.ok()) return sqlite::withContext(row.status(), context);
      if (!*row) return absl::InternalError(sqlite::cat(context, ": no id returned"));
      id = w.location_put.colInt(0);
    }
    if (id <= 0 || id > std::numeric_limits<LocationId>::max()) {
      return absl::ResourceExhaustedError(
          sqlite::cat(context, ": location id ", id, " does not fit in 32 bits"));
    }
    Location out = in;
    out.id = static_cast<LocationId>(id);
    stored.push_back(std::move(out));
  }
  if (auto st = txn->commit(); !st.ok()) return st;
  return stored;
}

// ---- write path ----

absl::Status SqliteStore::commit(const CommitBatch& batch) {
  auto ticket = startCommit(batch);
  if (!ticket.ok()) return ticket.status();
  return finishCommit(*ticket);
}

absl::StatusOr<Store::CommitTicket> SqliteStore::startCommit(const CommitBatch& batch) {
  for (const ShardCommit& sc : batch.shards) {
    if (auto st = sqlite::validateShardCommit(sc); !st.ok()) return st;
  }
  if (m_lock_fd < 0) {
    return absl::FailedPreconditionError(
        "commit: this store was opened for shared reading (another process writes it)");
  }
  if (batch.shards.empty()) return CommitTicket{0};
  // Encoded before taking the log; the applier decodes the same bytes.
  std::string payload;
  sqlite::encodeCommitBatch(batch, &payload);
  std::size_t entries = 0;
  for (const ShardCommit& sc : batch.shards) entries += sc.entries.size();

  sqlite::CommitLog::Lsn written = 0;
  {
    std::unique_lock lock(m_log_mutex);
    const bool room = m_log_room.wait_for(lock, std::chrono::seconds(30), [&] {
      return m_pending_entries < kMaxPendingEntries || m_stopping;
    });
    if (m_stopping || m_flusher_stopping)
      return absl::UnavailableError("commit: the store is closing");
    if (!room) {
      return absl::UnavailableError(sqlite::cat(
          "commit: the store's tables are ", m_pending_entries.load(),
          " ledger entries behind the commit log for 30 s (is the disk full or failing?); "
          "nothing in the batch was written"));
    }
    // Before fencing: after a failed sync the committed state may include
    // a batch its writer rolled back, and the cause to report is the log.
    if (auto st = m_log->failure(); !st.ok()) return sqlite::withContext(st, "commit");
    for (const ShardCommit& sc : batch.shards) {
      const Seq last_seq = m_committed_last[sc.shard];
      const std::uint64_t epoch = m_epoch[sc.shard];
      if (last_seq != sc.expected_last_seq || epoch != sc.epoch) {
        return absl::FailedPreconditionError(
            sqlite::cat("commit: shard ", sc.shard, " is fenced: the batch expects last_seq ",
                        sc.expected_last_seq, " at epoch ", sc.epoch,
                        " but the store has last_seq ", last_seq, " at epoch ", epoch, " (seqs ",
                        sc.expected_last_seq + 1, "..", sc.expected_last_seq + sc.entries.size(),
                        " refused); nothing in the batch was written"));
      }
    }
    const std::int64_t id = m_committed_id + 1;
    auto appended = m_log->append(id, payload);
    if (!appended.ok()) return sqlite::withContext(appended.status(), "commit");
    written = *appended;
    m_committed_id = id;
    for (const ShardCommit& sc : batch.shards) m_committed_last[sc.shard] += sc.entries.size();
    // + 1: a batch without entries still takes room.
    m_unsynced.push_back(PendingRecord{id, written, std::move(payload), entries + 1});
    m_pending_entries += entries + 1;
  }
  m_flush_work.notify_one();
  return CommitTicket{written};
}

bool SqliteStore::commitDone(CommitTicket ticket) const {
  return ticket <= m_durable_lsn.load(std::memory_order_acquire) ||
         m_sync_failed.load(std::memory_order_acquire);
}

absl::Status SqliteStore::finishCommit(CommitTicket ticket) {
  if (ticket <= m_durable_lsn.load(std::memory_order_acquire)) return absl::OkStatus();
  std::unique_lock lock(m_log_mutex);
  // Bounded: the flusher syncs every appended record or fails for good.
  m_durable_cv.wait(lock, [&] { return commitDone(ticket); });
  if (ticket <= m_durable_lsn.load(std::memory_order_acquire)) return absl::OkStatus();
  return absl::UnknownError(
      sqlite::cat("commit: the batch may or may not be durable (", m_log->failure().message(),
                  "); no commit is accepted until the store is opened again"));
}

void SqliteStore::setCommitListener(std::function<void()> listener) {
  std::lock_guard lock(m_listener_mutex);
  m_commit_listener = std::move(listener);
}

void SqliteStore::runFlusher() {
  pthread_setname_np(pthread_self(), "depot-flusher");  // for top -H, perf, gdb
  for (;;) {
    sqlite::CommitLog::Lsn target = 0;
    {
      std::unique_lock lock(m_log_mutex);
      m_flush_work.wait(lock, [&] {
        return (!m_unsynced.empty() && !m_sync_failed.load()) || m_flusher_stopping;
      });
      if (m_unsynced.empty() || m_sync_failed.load()) return;  // stopping
      target = m_unsynced.back().lsn;
    }
    // Outside the lock: writers append while this fdatasync runs, and the
    // next one covers all of them.
    const absl::Status synced = m_log->sync(target);
    bool wake_applier = false;
    {
      std::lock_guard lock(m_log_mutex);
      if (synced.ok()) {
        // Durable: hand them to the applier, in id order. It waits without a
        // deadline while it has nothing, and until its round is due or full
        // once it has something (runApplier).
        while (!m_unsynced.empty() && m_unsynced.front().lsn <= target) {
          if (m_pending.empty()) {
            m_oldest_pending_at = std::chrono::steady_clock::now();
            wake_applier = true;
          }
          m_committed_hint.store(m_unsynced.front().id, std::memory_order_release);
          m_pending.push_back(std::move(m_unsynced.front()));
          m_unsynced.pop_front();
        }
        if (!m_pending.empty() && m_pending_entries >= kMinRoundEntries) wake_applier = true;
        m_durable_lsn.store(target, std::memory_order_release);
      } else {
        // The unsynced records stay out of the tables: whether they are
        // durable is unknown until the log is read again (open()).
        m_sync_failed.store(true, std::memory_order_release);
      }
    }
    m_durable_cv.notify_all();
    if (wake_applier) m_work.notify_one();
    {
      std::lock_guard lock(m_listener_mutex);
      if (m_commit_listener) m_commit_listener();
    }
  }
}

// ---- the applier ----

absl::Status SqliteStore::startWriting(const Options& options) {
  m_log_dir = sqlite::CommitLog::dirFor(options.path);
  std::int64_t applied = 0;
  {
    std::lock_guard lock(m_write_mutex);
    sqlite::Writer& w = *m_writer;
    auto stored = w.db.queryInt(
        "SELECT coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = "
        "'applied_log_id'), 0)");
    if (!stored.ok()) return stored.status();
    applied = *stored;
    m_epoch.fill(1);  // a missing shard row is an unclaimed shard: epoch 1, last_seq 0
    auto rows = w.db.prepare("SELECT shard, epoch, last_seq FROM shards", false);
    if (!rows.ok()) return rows.status();
    for (;;) {
      auto row = rows->next("reading the shards");
      if (!row.ok()) return row.status();
      if (!*row) break;
      const auto shard = rows->colInt(0);
      if (shard < 0 || shard >= kShardCount) continue;
      m_epoch[shard] = static_cast<std::uint64_t>(rows->colInt(1));
      m_applied_last[shard] = static_cast<Seq>(rows->colInt(2));
    }
  }

  // Crash recovery: apply what was committed to a log but not yet to the
  // tables, in rounds of bounded size.
  std::vector<LogRecord> round;
  std::size_t round_entries = 0;
  std::int64_t last_id = applied;
  auto flush = [&]() -> absl::Status {
    if (round.empty()) return absl::OkStatus();
    if (auto st = applyRecords(round); !st.ok()) return st;
    round.clear();
    round_entries = 0;
    return absl::OkStatus();
  };
  auto replay = [&](std::int64_t id, std::string_view blob) -> absl::Status {
    if (auto st = decodeRecord(id, blob, &round); !st.ok()) return st;
    for (const ShardCommit& sc : round.back().second.shards) round_entries += sc.entries.size() + 1;
    last_id = id;
    return round_entries >= 50'000 ? flush() : absl::OkStatus();
  };

  // First a log in the format depotd wrote up to session 8 (a SQLite file),
  // left by a crash: applied, then removed.
  const std::string legacy_path = sqlite::LegacyCommitLog::pathFor(options.path);
  if (std::filesystem::exists(legacy_path)) {
    {
      auto legacy = sqlite::LegacyCommitLog::open(legacy_path, sqlite::syncPragma(options.sync),
                                                  m_ledger_id, sqlite::kBusyTimeoutMs);
      if (!legacy.ok()) return legacy.status();
      if (auto st = (*legacy)->forEachAfter(applied, replay); !st.ok()) return st;
      if (auto st = flush(); !st.ok()) return st;
    }
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(legacy_path + suffix, ec);
  }

  sqlite::CommitLog::Options log_options;
  log_options.sync = options.sync == Options::Sync::kFull;
  log_options.segment_bytes = options.log_segment_bytes;
  log_options.sync_counter = &m_log_syncs;
  auto log = sqlite::CommitLog::open(m_log_dir, m_ledger_id, log_options);
  if (!log.ok()) return log.status();
  if ((*log)->firstId() > last_id + 1) {
    return absl::DataLossError(sqlite::cat("commit log '", m_log_dir, "' starts at record ",
                                           (*log)->firstId(), " but the tables hold records up to ",
                                           last_id, ": records ", last_id + 1, "..",
                                           (*log)->firstId() - 1, " are missing"));
  }
  if (auto st = (*log)->forEachAfter(last_id, replay); !st.ok()) return st;
  if (auto st = flush(); !st.ok()) return st;
  last_id = std::max(last_id, (*log)->lastId());
  // New records go to a new segment; everything read is applied and dropped.
  if (auto st = (*log)->startAppending(last_id + 1); !st.ok()) return st;
  if (auto st = (*log)->dropThrough(last_id); !st.ok()) return st;

  {
    std::lock_guard lock(m_log_mutex);
    m_committed_id = last_id;
    m_committed_last = m_applied_last;
  }
  m_log = *std::move(log);
  m_committed_hint.store(last_id);
  {
    std::lock_guard lock(m_applied_mutex);
    m_applied_id = last_id;
  }
  m_applier = std::thread([this] { runApplier(); });
  m_flusher = std::thread([this] { runFlusher(); });
  return absl::OkStatus();
}

void SqliteStore::runApplier() {
  pthread_setname_np(pthread_self(), "depot-applier");  // for top -H, perf, gdb
  // A round takes every pending record (up to kRoundEntries ledger entries).
  // The cost of a round is mostly the B-tree pages it dirties, each written
  // whole to the WAL once per round however many rows changed in it; so
  // rounds are made large: a round starts when kMinRoundEntries are pending,
  // when the oldest pending record is kMaxApplyDelay old, or at once when a
  // reader waits for it (read-your-writes never waits for the timer).
  constexpr std::size_t kRoundEntries = 100'000;
  constexpr auto kMaxApplyDelay = std::chrono::milliseconds(1000);
  // Applied segments are dropped at most this often (a rename or unlink:
  // commits never wait for it), and a spare segment is zero-filled here
  // when none is ready, so that no commit pays for it.
  constexpr auto kDropEvery = std::chrono::milliseconds(500);
  auto last_drop = std::chrono::steady_clock::now();
  std::int64_t dropped = 0;  // records with ids <= this are gone from the log
  {
    std::lock_guard lock(m_applied_mutex);
    dropped = m_applied_id;  // startWriting dropped everything applied before
  }
  std::vector<PendingRecord> taken_records;
  std::vector<LogRecord> round;
  for (;;) {
    std::size_t taken = 0;
    bool stopping = false;
    {
      std::unique_lock lock(m_log_mutex);
      // Bounded: every pass either returns or waits until a deadline.
      for (;;) {
        if (m_stopping) break;
        if (m_pending.empty()) {
          m_work.wait(lock);
          continue;
        }
        if (m_pending_entries >= kMinRoundEntries || m_readers_waiting > 0) break;
        const auto due = m_oldest_pending_at + kMaxApplyDelay;
        if (std::chrono::steady_clock::now() >= due) break;
        m_work.wait_until(lock, due);
      }
      stopping = m_stopping;
      while (!m_pending.empty() && taken < kRoundEntries) {
        taken += m_pending.front().entries;
        taken_records.push_back(std::move(m_pending.front()));
        m_pending.pop_front();
      }
      // What is left over waits at most one more delay.
      m_oldest_pending_at = std::chrono::steady_clock::now();
    }
    for (const PendingRecord& record : taken_records) {
      if (auto st = decodeRecord(record.id, record.payload, &round); !st.ok()) {
        // A record this process encoded does not decode: a codec bug, not
        // an I/O error, so retrying cannot help. The record is durable in
        // the log; stop applying and let reads report why.
        {
          std::lock_guard lock(m_applied_mutex);
          m_applier_error = sqlite::withContext(st, "the applier stopped");
        }
        m_applied_cv.notify_all();
        return;
      }
    }
    taken_records.clear();
    if (!round.empty()) {
      absl::Status st = applyRecords(round);
      // A failed round (I/O error, disk full) is retried: the records are
      // durable in the log and acknowledged, so they must reach the tables.
      for (int attempt = 1; !st.ok(); ++attempt) {
        {
          std::lock_guard lock(m_applied_mutex);
          m_applier_error = st;
        }
        m_applied_cv.notify_all();
        {
          std::unique_lock lock(m_log_mutex);
          m_work.wait_for(lock, std::chrono::milliseconds(std::min(1000, 50 * attempt)));
          if (m_stopping && attempt >= 20) break;  // left in the log for the next open
        }
        st = applyRecords(round);
      }
      if (!st.ok()) return;
      {
        std::lock_guard lock(m_applied_mutex);
        m_applied_id = round.back().first;
        m_applier_error = absl::OkStatus();
      }
      m_applied_cv.notify_all();
      {
        std::lock_guard lock(m_log_mutex);
        m_pending_entries -= taken;
      }
      m_log_room.notify_all();
      round.clear();
    }
    const auto now = std::chrono::steady_clock::now();
    if (stopping || now - last_drop >= kDropEvery) {
      std::int64_t applied = 0;
      {
        std::lock_guard lock(m_applied_mutex);
        applied = m_applied_id;
      }
      // A failed drop or spare only leaves files behind; open() skips
      // applied records, and the next pass tries again.
      if (dropped < applied && m_log->dropThrough(applied).ok()) dropped = applied;
      if (!stopping) (void)m_log->prepareSpare();
      last_drop = now;
    }
    if (stopping) {
      std::lock_guard lock(m_log_mutex);
      if (m_pending.empty()) return;
    }
  }
}

absl::Status SqliteStore::decodeRecord(std::int64_t id, std::string_view bytes,
                                       std::vector<LogRecord>* round) {
  auto batch = sqlite::decodeCommitBatch(bytes);
  if (!batch.ok()) return sqlite::withContext(batch.status(), sqlite::cat("commit log record ", id));
  round->emplace_back(id, *std::move(batch));
  return absl::OkStatus();
}

namespace {
// One requests row per shard holding all of the round's records of that
// shard, in commit order (a request_id stored twice: the later one wins on
// recovery). A row per commit cost an insert into the table and both its
// indexes for each commit of each shard: about a fifth of the applier's time
// under unary reservations. A row lives until its newest record leaves the
// window, so a record may stay on disk up to a round longer than the window;
// recovery drops what is older (keepNewestRequests).
absl::Status putRequests(sqlite::Writer& w, std::vector<const RequestRecord*>& requests) {
  std::stable_sort(
      requests.begin(), requests.end(),
      [](const RequestRecord* a, const RequestRecord* b) { return a->shard < b->shard; });
  for (std::size_t begin = 0, end = 0; begin < requests.size(); begin = end) {
    const ShardId shard = requests[begin]->shard;
    Micros max_ts = requests[begin]->ts;
    for (end = begin; end < requests.size() && requests[end]->shard == shard; ++end)
      max_ts = std::max(max_ts, requests[end]->ts);
    sqlite::encodeRequests(absl::MakeConstSpan(requests.data() + begin, end - begin), &w.scratch);
    Stmt::Scope scope(w.request_put);
    w.request_put.bindInt(1, shard);
    w.request_put.bindInt(2, max_ts);
    w.request_put.bindBlob(3, w.scratch);
    if (auto st = w.request_put.run("writing idempotency records"); !st.ok()) {
      return sqlite::withContext(st, sqlite::cat("shard ", shard));
    }
  }
  return absl::OkStatus();
}
}  // namespace

absl::Status SqliteStore::applyRecords(const std::vector<LogRecord>& records) {
  using sqlite::withContext;
  std::lock_guard lock(m_write_mutex);
  sqlite::Writer& w = *m_writer;
  auto txn = Txn::begin(w.db, Txn::Mode::kImmediate, "applying the commit log");
  if (!txn.ok()) return txn.status();
  std::array<Seq, kShardCount> last = m_applied_last;
  std::array<Micros, kShardCount> last_ts{};
  std::array<std::uint64_t, kShardCount> epoch{};
  std::array<bool, kShardCount> touched{};
  // Only the final value of each balance row is written, in key order:
  // the map's key (item << 32 | location) orders as the table's.
  // With each row goes its chain head (sqlite_history.h): the newest entry
  // of the pair in this round, 0 if none.
  struct BalanceWrite {
    BalanceRow row;
    Seq last_seq = 0;
  };
  absl::btree_map<std::uint64_t, BalanceWrite> balances;
  // Idempotency records, in commit order: written below as one row per
  // shard for the whole round (the schema's "requests is a log").
  std::vector<const RequestRecord*> requests;
  // Ledger rows are appends at the end of their shard's range (256
  // insertion points, all cached). The history chains (sqlite_history.h)
  // are linked in (item, location, seq) order: each balance's entries of the
  // round are consecutive there, and its stored last_seq is read once.
  std::vector<const LedgerEntry*> entries;
  for (const auto& [id, batch] : records) {
    for (const ShardCommit& sc : batch.shards) {
      if (sc.expected_last_seq != last[sc.shard]) {
        return absl::DataLossError(sqlite::cat(
            "commit log record ", id, ": shard ", sc.shard, " continues from seq ",
            sc.expected_last_seq, " but the tables end at seq ", last[sc.shard]));
      }
      for (const LedgerEntry& e : sc.entries) entries.push_back(&e);
      if (!sc.entries.empty()) {
        last[sc.shard] += sc.entries.size();
        last_ts[sc.shard] = sc.entries.back().ts;
        epoch[sc.shard] = sc.epoch;
        touched[sc.shard] = true;
      }
      for (const BalanceRow& b : sc.balances)
        balances[(std::uint64_t{b.item} << 32) | b.location].row = b;
      for (const RequestRecord& r : sc.requests) requests.push_back(&r);
      for (const Hold& h : sc.holds) {
        Stmt::Scope scope(w.hold_put);
        sqlite::bindHold(w.hold_put, h, &w.scratch);
        if (auto st = w.hold_put.run("writing a hold"); !st.ok()) {
          return withContext(st, sqlite::cat("shard ", sc.shard));
        }
      }
      for (const CountRecord& c : sc.counts) {
        Stmt::Scope scope(w.count_put);
        sqlite::bindCount(w.count_put, c);
        if (auto st = w.count_put.run("writing a count"); !st.ok()) {
          return withContext(st, sqlite::cat("shard ", sc.shard));
        }
      }
    }
  }
  if (auto st = putRequests(w, requests); !st.ok()) return st;
  // prev[i] is the seq of the entry before entries[i] in its chain. The
  // newest entry of each pair heads its chain; a pair whose balance row the
  // round does not carry gets one from that entry's after-values (what the
  // balance is after it), so no chain is left without a head.
  std::sort(entries.begin(), entries.end(), [](const LedgerEntry* a, const LedgerEntry* b) {
    return std::tie(a->item, a->location, a->seq) < std::tie(b->item, b->location, b->seq);
  });
  std::vector<Seq> prev(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const LedgerEntry& e = *entries[i];
    if (i > 0 && entries[i - 1]->item == e.item && entries[i - 1]->location == e.location) {
      prev[i] = entries[i - 1]->seq;
    } else {
      Stmt::Scope scope(w.balance_last_seq_get);
      w.balance_last_seq_get.bindInt(1, e.item);
      w.balance_last_seq_get.bindInt(2, e.location);
      auto row = w.balance_last_seq_get.next("reading a balance's newest entry");
      if (!row.ok()) return withContext(row.status(), sqlite::cat("item ", e.item));
      prev[i] = *row ? static_cast<Seq>(w.balance_last_seq_get.colInt(0)) : Seq{0};
    }
    const bool newest_of_pair = i + 1 == entries.size() || entries[i + 1]->item != e.item ||
                                entries[i + 1]->location != e.location;
    if (newest_of_pair) {
      auto [it, added] = balances.try_emplace((std::uint64_t{e.item} << 32) | e.location);
      if (added) {
        it->second.row =
            BalanceRow{e.item, e.location, Balance{e.on_hand_after, e.reserved_after}, e.ts};
      }
      it->second.last_seq = e.seq;
    }
    if (sqlite::isHistoryMark(e.seq)) {
      Stmt::Scope scope(w.history_mark_put);
      w.history_mark_put.bindInt(1, e.item);
      w.history_mark_put.bindInt(2, e.location);
      w.history_mark_put.bindInt(3, e.ts);
      w.history_mark_put.bindInt(4, static_cast<std::int64_t>(e.seq));
      if (auto st = w.history_mark_put.run("inserting a history mark"); !st.ok()) {
        return withContext(st, sqlite::cat("shard ", e.shard, " seq ", e.seq));
      }
    }
  }
  std::vector<std::size_t> by_seq(entries.size());
  for (std::size_t i = 0; i < by_seq.size(); ++i) by_seq[i] = i;
  std::sort(by_seq.begin(), by_seq.end(), [&](std::size_t a, std::size_t b) {
    return std::tie(entries[a]->shard, entries[a]->seq) <
           std::tie(entries[b]->shard, entries[b]->seq);
  });
  for (std::size_t i : by_seq) {
    const LedgerEntry& e = *entries[i];
    Stmt::Scope scope(w.ledger_put);
    sqlite::bindLedgerEntry(w.ledger_put, e);
    w.ledger_put.bindInt(15, static_cast<std::int64_t>(prev[i]));
    if (auto st = w.ledger_put.run("inserting a ledger entry"); !st.ok()) {
      return withContext(st, sqlite::cat("shard ", e.shard, " seq ", e.seq));
    }
  }
  for (const auto& [key, b] : balances) {
    Stmt::Scope scope(w.balance_put);
    sqlite::bindBalanceRow(w.balance_put, b.row);
    w.balance_put.bindInt(6, static_cast<std::int64_t>(b.last_seq));
    if (auto st = w.balance_put.run("writing a balance"); !st.ok()) {
      return withContext(st, sqlite::cat("item ", b.row.item, " location ", b.row.location));
    }
  }
  for (ShardId s = 0; s < kShardCount; ++s) {
    if (touched[s]) {
      Stmt::Scope scope(w.shard_put);
      w.shard_put.bindInt(1, s);
      w.shard_put.bindInt(2, static_cast<std::int64_t>(epoch[s]));
      w.shard_put.bindInt(3, static_cast<std::int64_t>(last[s]));
      w.shard_put.bindInt(4, last_ts[s]);
      if (auto st = w.shard_put.run("updating the shard row"); !st.ok()) {
        return withContext(st, sqlite::cat("shard ", s));
      }
    }
  }
  {
    const std::string applied = std::to_string(records.back().first);
    Stmt::Scope scope(w.applied_put);
    w.applied_put.bindText(1, applied);
    if (auto st = w.applied_put.run("recording the applied commit log id"); !st.ok()) return st;
  }
  if (auto st = txn->commit(); !st.ok()) return st;
  m_applied_last = last;
  return absl::OkStatus();
}

absl::Status SqliteStore::awaitApplied() {
  if (m_lock_fd < 0) return absl::OkStatus();  // shared reading: what is there
  const std::int64_t target = m_committed_hint.load(std::memory_order_acquire);
  {
    std::lock_guard lock(m_applied_mutex);
    if (m_applied_id >= target) return absl::OkStatus();
  }
  // Tell the applier not to wait for a larger round.
  {
    std::lock_guard lock(m_log_mutex);
    ++m_readers_waiting;
  }
  m_work.notify_one();
  bool applied = false;
  {
    std::unique_lock lock(m_applied_mutex);
    applied = m_applied_cv.wait_for(lock, std::chrono::seconds(10),
                                    [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(m_applied_mutex) {
                                      return m_applied_id >= target;
                                    });
  }
  {
    std::lock_guard lock(m_log_mutex);
    --m_readers_waiting;
  }
  if (applied) return absl::OkStatus();
  std::lock_guard lock(m_applied_mutex);
  return absl::UnavailableError(sqlite::cat(
      "the store's tables are behind its commit log (applied ", m_applied_id, " of ", target,
      " commits after 10 s)",
      m_applier_error.ok() ? std::string()
                           : sqlite::cat(": ", m_applier_error.message())));
}

void SqliteStore::stopWriting() {
  if (!m_applier.joinable()) return;
  // The flusher first: it syncs what is still appended, so that every
  // started commit is durable (or known failed) before the log closes.
  {
    std::lock_guard lock(m_log_mutex);
    m_flusher_stopping = true;
  }
  m_flush_work.notify_all();
  if (m_flusher.joinable()) m_flusher.join();
  {
    std::lock_guard lock(m_log_mutex);
    m_stopping = true;
  }
  m_work.notify_all();
  m_log_room.notify_all();
  m_applier.join();
  bool everything_applied = false;
  {
    std::lock_guard applied_lock(m_applied_mutex);
    std::lock_guard lock(m_log_mutex);
    everything_applied = m_applied_id == m_committed_id;
  }
  m_log.reset();
  // A log with nothing left to apply is removed with its spares, so a
  // cleanly closed store is again one file. (Its ids continue from
  // applied_log_id.)
  if (everything_applied) {
    std::error_code ec;
    std::filesystem::remove_all(m_log_dir, ec);
  }
}

absl::Status SqliteStore::pruneBefore(Micros before) {
  if (auto st = awaitApplied(); !st.ok()) return st;
  // Each chunk is a separate transaction under the writer mutex; commits
  // queued on the mutex run between chunks. Bounded: every pass deletes rows
  // or ends the loop.
  for (;;) {
    int deleted = 0;
    {
      std::lock_guard lock(m_write_mutex);
      sqlite::Writer& w = *m_writer;
      auto txn = Txn::begin(w.db, Txn::Mode::kImmediate, "pruneBefore");
      if (!txn.ok()) return txn.status();
      for (Stmt* stmt : {&w.prune_requests, &w.prune_holds}) {
        Stmt::Scope scope(*stmt);
        stmt->bindInt(1, before);
        if (auto st = stmt->run("pruneBefore: deleting"); !st.ok()) return st;
        deleted += sqlite3_changes(w.db.get());
      }
      {
        Stmt::Scope scope(w.prune_horizon_put);
        w.prune_horizon_put.bindText(1, std::to_string(before));
        if (auto st = w.prune_horizon_put.run("pruneBefore: recording the cutoff"); !st.ok())
          return st;
      }
      if (auto st = txn->commit(); !st.ok()) return st;
    }
    if (deleted == 0) return absl::OkStatus();
  }
}

absl::StatusOr<ShardRecovery> SqliteStore::recoverShard(ShardId shard, Micros requests_since,
                                                        Micros closed_holds_since,
                                                        BalanceRows balances) {
  if (shard >= kShardCount) {
    return absl::InvalidArgumentError(
        sqlite::cat("recoverShard: shard ", shard, " is out of range (0..", kShardCount - 1, ")"));
  }
  {
    // Claim: make sure the shard row exists (epoch 1). A no-op for a known
    // shard, and then no data is written or synced.
    std::lock_guard lock(m_write_mutex);
    sqlite::Writer& w = *m_writer;
    Stmt::Scope scope(w.shard_claim);
    w.shard_claim.bindInt(1, shard);
    if (auto st = w.shard_claim.run("recoverShard: claiming the shard row"); !st.ok()) return st;
  }
  return recoverShardSnapshot(shard, requests_since, closed_holds_since, balances);
}

// ---- alerts ----

absl::Status SqliteStore::saveAlert(const Alert& alert) {
  std::lock_guard lock(m_write_mutex);
  sqlite::Writer& w = *m_writer;
  Stmt::Scope scope(w.alert_put);
  sqlite::bindAlert(w.alert_put, alert);
  if (auto st = w.alert_put.run("saveAlert"); !st.ok()) {
    return sqlite::withContext(st, sqlite::cat("alert ", alert.id));
  }
  return absl::OkStatus();
}

absl::StatusOr<Silence> SqliteStore::addSilence(const Silence& silence) {
  std::lock_guard lock(m_write_mutex);
  sqlite::Writer& w = *m_writer;
  Stmt::Scope scope(w.silence_put);
  w.silence_put.bindInt(1, silence.kind);
  w.silence_put.bindText(2, silence.subject_prefix);
  w.silence_put.bindText(3, silence.owner);
  w.silence_put.bindText(4, silence.comment);
  w.silence_put.bindInt(5, silence.created_at);
  w.silence_put.bindInt(6, silence.expires_at);
  auto row = w.silence_put.next("addSilence");
  if (!row.ok()) return row.status();
  if (!*row) return absl::InternalError("addSilence: no id returned");
  Silence stored = silence;
  stored.id = static_cast<std::uint64_t>(w.silence_put.colInt(0));
  // The autocommit transaction ends when the statement runs to completion;
  // stepping to SQLITE_DONE is what reports a failed commit.
  auto more = w.silence_put.next("addSilence: committing");
  if (!more.ok()) return more.status();
  return stored;
}

}  // namespace depot
