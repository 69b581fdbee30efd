#include "store/sqlite/sqlite_legacy_commit_log.h"

#include "store/sqlite/sqlite_checkpointer.h"

namespace depot::sqlite {

absl::StatusOr<std::unique_ptr<LegacyCommitLog>> LegacyCommitLog::open(const std::string& path,
                                                                       const char* sync_pragma,
                                                                       const std::string& ledger_id,
                                                                       int busy_timeout_ms) {
  const std::string where = cat("commit log '", path, "'");
  auto db = Db::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!db.ok()) return db.status();
  sqlite3_busy_timeout(db->get(), busy_timeout_ms);
  auto mode = db->queryText("PRAGMA journal_mode=WAL");
  if (!mode.ok())
    return absl::Status(mode.status().code(), cat(where, ": ", mode.status().message()));
  if (*mode != "wal") {
    return absl::FailedPreconditionError(cat(where, ": could not enable WAL (got '", *mode, "')"));
  }
  const std::string setup =
      cat(sync_pragma,
          "; PRAGMA journal_size_limit=67108864;"
          "CREATE TABLE IF NOT EXISTS log_meta(key TEXT PRIMARY KEY NOT NULL, "
          "value TEXT NOT NULL) WITHOUT ROWID;"
          "CREATE TABLE IF NOT EXISTS commits(id INTEGER PRIMARY KEY, "
          "batch BLOB NOT NULL);");
  if (auto st = db->exec(setup.c_str(), where); !st.ok()) return st;

  auto owner =
      db->queryText("SELECT coalesce((SELECT value FROM log_meta WHERE key = 'ledger_id'), '')");
  if (!owner.ok()) return owner.status();
  if (owner->empty()) {
    auto put = db->prepare("INSERT INTO log_meta(key, value) VALUES('ledger_id', ?1)", false);
    if (!put.ok()) return put.status();
    put->bindText(1, ledger_id);
    if (auto st = put->run(cat(where, ": recording the ledger id")); !st.ok()) return st;
  } else if (*owner != ledger_id) {
    return absl::FailedPreconditionError(
        cat(where, " belongs to ledger ", *owner, ", not to this store's ledger ", ledger_id,
            ": it was copied from another data set; refusing to apply it"));
  }

  std::unique_ptr<LegacyCommitLog> log(new LegacyCommitLog());
  log->m_db = *std::move(db);
  auto append = log->m_db.prepare("INSERT INTO commits(id, batch) VALUES(?1, ?2)", true);
  if (!append.ok()) return append.status();
  log->m_append = *std::move(append);
  // Checkpoints off the append path, as for the store itself.
  auto checkpointer = Checkpointer::start(path, busy_timeout_ms, sync_pragma);
  if (!checkpointer.ok()) return checkpointer.status();
  log->m_checkpointer = *std::move(checkpointer);
  log->m_checkpointer->hook(log->m_db.get());
  return log;
}

LegacyCommitLog::~LegacyCommitLog() {
  if (m_checkpointer) Checkpointer::unhook(m_db.get());
  m_checkpointer.reset();
  m_append = Stmt();
}

absl::Status LegacyCommitLog::append(std::int64_t id, std::string_view payload) {
  Stmt::Scope scope(m_append);
  m_append.bindInt(1, id);
  m_append.bindBlob(2, payload);
  return m_append.run("appending to the commit log");
}

absl::Status LegacyCommitLog::forEachAfter(
    std::int64_t after, const std::function<absl::Status(std::int64_t, std::string_view)>& fn) {
  auto stmt = m_db.prepare("SELECT id, batch FROM commits WHERE id > ?1 ORDER BY id", false);
  if (!stmt.ok()) return stmt.status();
  stmt->bindInt(1, after);
  for (;;) {
    auto row = stmt->next("reading the commit log");
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
    if (auto st = fn(stmt->colInt(0), stmt->colView(1)); !st.ok()) return st;
  }
}

}  // namespace depot::sqlite
