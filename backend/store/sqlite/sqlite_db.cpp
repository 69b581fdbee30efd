#include "store/sqlite/sqlite_db.h"

#include "store/sqlite/sqlite_paced_vfs.h"

namespace depot::sqlite {
namespace {

// sqlite3_bind_text64/blob64 with a null pointer bind NULL; an empty
// string_view may carry one, so empty values point at a static empty string.
const char* nonNull(std::string_view value) { return value.data() ? value.data() : ""; }

}  // namespace

absl::StatusCode statusCodeFor(int rc) {
  switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
      return absl::StatusCode::kOk;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::StatusCode::kDataLoss;
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
    case SQLITE_NOMEM:
    case SQLITE_PROTOCOL:
    case SQLITE_NOLFS:
      return absl::StatusCode::kUnavailable;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
      return absl::StatusCode::kInvalidArgument;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return absl::StatusCode::kFailedPrecondition;
    default:
      return absl::StatusCode::kInternal;
  }
}

absl::Status sqliteError(int rc, sqlite3* db, std::string_view what) {
  // sqlite3_errmsg describes the connection's most recent error; prefer it,
  // but it can be stale ("not an error") when rc came from elsewhere.
  std::string_view detail = sqlite3_errstr(rc);
  if (db != nullptr && sqlite3_extended_errcode(db) == rc) detail = sqlite3_errmsg(db);
  return absl::Status(statusCodeFor(rc),
                      cat(what, ": ", detail, " (sqlite ", rc, ": ", sqlite3_errstr(rc), ")"));
}

// ---- Stmt ----

void Stmt::bindText(int index, std::string_view value) {
  note(
      sqlite3_bind_text64(m_stmt, index, nonNull(value), value.size(), SQLITE_STATIC, SQLITE_UTF8));
}

void Stmt::bindBlob(int index, std::string_view value) {
  note(sqlite3_bind_blob64(m_stmt, index, nonNull(value), value.size(), SQLITE_STATIC));
}

absl::Status Stmt::bindFailure(std::string_view what) const {
  return sqliteError(m_bind_rc, sqlite3_db_handle(m_stmt), cat(what, " (binding)"));
}

absl::StatusOr<bool> Stmt::next(std::string_view what) {
  if (m_bind_rc != SQLITE_OK) return bindFailure(what);
  const int rc = sqlite3_step(m_stmt);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqliteError(rc, sqlite3_db_handle(m_stmt), what);
}

absl::Status Stmt::run(std::string_view what) {
  if (m_bind_rc != SQLITE_OK) return bindFailure(what);
  int rc;
  while ((rc = sqlite3_step(m_stmt)) == SQLITE_ROW) {
  }
  if (rc == SQLITE_DONE) return absl::OkStatus();
  return sqliteError(rc, sqlite3_db_handle(m_stmt), what);
}

void Stmt::reset() {
  if (m_stmt == nullptr) return;
  // The return value repeats the last step's error, already reported there.
  sqlite3_reset(m_stmt);
  sqlite3_clear_bindings(m_stmt);
  m_bind_rc = SQLITE_OK;
}

std::string_view Stmt::colView(int column) const {
  const auto* data = static_cast<const char*>(sqlite3_column_blob(m_stmt, column));
  const int size = sqlite3_column_bytes(m_stmt, column);
  if (data == nullptr || size <= 0) return {};
  return {data, static_cast<std::size_t>(size)};
}

// ---- Db ----

absl::StatusOr<Db> Db::open(const std::string& path, int flags, Writeback writeback) {
  // Memory statistics take one process-wide mutex on every SQLite
  // allocation (Debian builds it with lookaside off, so every row step
  // allocates): the recovery threads and the applier contended on it. Only
  // possible before SQLite initializes; if something else in the process
  // initialized it first, the statistics simply stay on.
  static const bool memstatus_off = [] {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
  }();
  (void)memstatus_off;
  sqlite3* raw = nullptr;
  const char* vfs = writeback == Writeback::kPaced ? pacedVfsName() : nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, vfs);
  Db db(raw);  // closes the handle on every path, also after a failed open
  if (rc != SQLITE_OK) return sqliteError(rc, raw, cat("opening '", path, "'"));
  return db;
}

absl::Status Db::exec(const char* sql, std::string_view what) {
  char* err = nullptr;
  const int rc = sqlite3_exec(m_db, sql, nullptr, nullptr, &err);
  sqlite3_free(err);  // the same text is available from sqlite3_errmsg
  if (rc != SQLITE_OK) return sqliteError(rc, m_db, what);
  return absl::OkStatus();
}

absl::StatusOr<Stmt> Db::prepare(std::string_view sql, bool persistent) {
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  const int rc = sqlite3_prepare_v3(m_db, sql.data(), static_cast<int>(sql.size()),
                                    persistent ? SQLITE_PREPARE_PERSISTENT : 0, &raw, &tail);
  Stmt stmt(raw);
  if (rc != SQLITE_OK) return sqliteError(rc, m_db, cat("preparing `", sql, "`"));
  if (raw == nullptr) {
    return absl::InternalError(cat("preparing `", sql, "`: no statement"));
  }
  return stmt;
}

absl::StatusOr<std::string> Db::queryText(std::string_view sql) {
  auto stmt = prepare(sql, false);
  if (!stmt.ok()) return stmt.status();
  auto row = stmt->next(sql);
  if (!row.ok()) return row.status();
  if (!*row) return std::string();
  return stmt->colText(0);
}

absl::StatusOr<std::int64_t> Db::queryInt(std::string_view sql) {
  auto stmt = prepare(sql, false);
  if (!stmt.ok()) return stmt.status();
  auto row = stmt->next(sql);
  if (!row.ok()) return row.status();
  if (!*row) return absl::InternalError(cat("`", sql, "` returned no row"));
  return stmt->colInt(0);
}

// ---- Txn ----

absl::StatusOr<Txn> Txn::begin(Db& db, Mode mode, std::string_view what) {
  const char* sql = mode == Mode::kImmediate ? "BEGIN IMMEDIATE" : "BEGIN";
  if (auto st = db.exec(sql, cat(what, ": begin")); !st.ok()) return st;
  return Txn(db, what);
}

absl::Status Txn::commit() {
  Db* db = std::exchange(m_db, nullptr);
  if (db == nullptr) return absl::InternalError(cat(m_what, ": commit without transaction"));
  absl::Status st = db->exec("COMMIT", cat(m_what, ": commit"));
  // A failed COMMIT may leave the transaction open (e.g. SQLITE_BUSY) or
  // already rolled back (I/O error); make sure nothing stays pending.
  if (!st.ok() && !sqlite3_get_autocommit(db->get())) {
    sqlite3_exec(db->get(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
  return st;
}

Txn::~Txn() {
  if (m_db != nullptr && !sqlite3_get_autocommit(m_db->get())) {
    // Rollback cannot meaningfully fail here; SQLite rolls back by itself
    // when the connection closes or the next BEGIN finds a stale journal.
    sqlite3_exec(m_db->get(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

}  // namespace depot::sqlite
