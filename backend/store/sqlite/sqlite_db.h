// Thin RAII wrappers over the SQLite C API, shared by the SqliteStore files.
//
// Db owns a sqlite3* opened in multi-thread mode (SQLITE_OPEN_NOMUTEX): one
// Db, and every Stmt prepared on it, must be used by one thread at a time. The
// owner serialises access (the writer mutex, or the read pool's lease).
//
// Error handling never throws: every failure becomes an absl::Status built by
// sqliteError(), which maps the result code to the Store's vocabulary and
// names what was being done.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace depot::sqlite {

// String concatenation for messages and SQL text. (absl::StrCat does not take
// std::string_view in this abseil build: ABSL_OPTION_USE_STD_STRING_VIEW is 0.)
namespace detail {
inline void append(std::string& out, std::string_view v) { out.append(v); }
inline void append(std::string& out, const char* v) { out.append(v != nullptr ? v : ""); }
inline void append(std::string& out, const std::string& v) { out.append(v); }
#if !ABSL_USES_STD_STRING_VIEW
inline void append(std::string& out, absl::string_view v) { out.append(v.data(), v.size()); }
#endif
template <typename T>
requires std::is_integral_v<T>
void append(std::string& out, T v) { out.append(std::to_string(v)); }
}  // namespace detail
template <typename... Args>
std::string cat(const Args&... args) {
  std::string out;
  (detail::append(out, args), ...);
  return out;
}

// SQLITE_CORRUPT/NOTADB -> DATA_LOSS; FULL/IOERR/BUSY/LOCKED/CANTOPEN/NOMEM ->
// UNAVAILABLE; CONSTRAINT/MISMATCH/TOOBIG/RANGE -> INVALID_ARGUMENT;
// READONLY/PERM/AUTH -> FAILED_PRECONDITION; anything else -> INTERNAL.
absl::StatusCode statusCodeFor(int rc);
// "<what>: <sqlite3_errmsg> (<sqlite3_errstr of rc>)"; db may be null.
absl::Status sqliteError(int rc, sqlite3* db, std::string_view what);

// A prepared statement. Binding errors are remembered and reported by the
// next step, so call sites bind without checking each call.
class Stmt {
 public:
  Stmt() = default;
  explicit Stmt(sqlite3_stmt* stmt) : m_stmt(stmt) {}
  ~Stmt() { sqlite3_finalize(m_stmt); }
  Stmt(Stmt&& other) noexcept
      : m_stmt(std::exchange(other.m_stmt, nullptr)), m_bind_rc(other.m_bind_rc) {}
  Stmt& operator=(Stmt&& other) noexcept {
    if (this != &other) {
      sqlite3_finalize(m_stmt);
      m_stmt = std::exchange(other.m_stmt, nullptr);
      m_bind_rc = other.m_bind_rc;
    }
    return *this;
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  sqlite3_stmt* get() const { return m_stmt; }
  explicit operator bool() const { return m_stmt != nullptr; }

  // Parameters are 1-based. Text and blobs are bound SQLITE_STATIC with an
  // explicit length: the bytes must stay alive and unchanged until the
  // statement is reset (Scope does that), and may contain any byte.
  void bindInt(int index, std::int64_t value) { note(sqlite3_bind_int64(m_stmt, index, value)); }
  void bindText(int index, std::string_view value);
  void bindBlob(int index, std::string_view value);
  void bindNull(int index) { note(sqlite3_bind_null(m_stmt, index)); }

  // One step: true when a row is available, false when done.
  absl::StatusOr<bool> next(std::string_view what);
  // Steps to completion, ignoring rows (INSERT/UPDATE/DELETE/DDL).
  absl::Status run(std::string_view what);
  // Resets the statement and clears its bindings (drops SQLITE_STATIC pointers
  // and ends the implicit read transaction of a SELECT).
  void reset();

  std::int64_t colInt(int column) const { return sqlite3_column_int64(m_stmt, column); }
  bool colIsNull(int column) const { return sqlite3_column_type(m_stmt, column) == SQLITE_NULL; }
  // Bytes of a TEXT or BLOB column, valid until the next step/reset.
  std::string_view colView(int column) const;
  std::string colText(int column) const { return std::string(colView(column)); }

  // Resets the statement when the scope ends, on every path.
  class Scope {
   public:
    explicit Scope(Stmt& stmt) : m_stmt(stmt) {}
    ~Scope() { m_stmt.reset(); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    Stmt& m_stmt;
  };

 private:
  void note(int rc) {
    if (rc != SQLITE_OK && m_bind_rc == SQLITE_OK) m_bind_rc = rc;
  }
  absl::Status bindFailure(std::string_view what) const;

  sqlite3_stmt* m_stmt = nullptr;
  int m_bind_rc = SQLITE_OK;
};

// An open database connection. Statements prepared from it must be destroyed
// first (declare them after the Db that owns them); sqlite3_close_v2 copes if
// one is not, so destruction never fails.
class Db {
 public:
  Db() = default;
  ~Db() { sqlite3_close_v2(m_db); }
  Db(Db&& other) noexcept : m_db(std::exchange(other.m_db, nullptr)) {}
  Db& operator=(Db&& other) noexcept {
    if (this != &other) {
      sqlite3_close_v2(m_db);
      m_db = std::exchange(other.m_db, nullptr);
    }
    return *this;
  }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // How the connection's writes reach the disk: kPaced for connections that
  // write in bulk between syncs (sqlite_paced_vfs.h), so that their
  // writeback does not queue ahead of the commit log's fsyncs.
  enum class Writeback { kDefault, kPaced };
  // flags: SQLITE_OPEN_* (NOMUTEX and EXRESCODE are always added). Only the
  // file itself is created, never its directory.
  static absl::StatusOr<Db> open(const std::string& path, int flags,
                                 Writeback writeback = Writeback::kDefault);

  sqlite3* get() const { return m_db; }
  // Runs one or more statements without results (sqlite3_exec).
  absl::Status exec(const char* sql, std::string_view what);
  // persistent: SQLITE_PREPARE_PERSISTENT, for statements reused for the
  // connection's lifetime. Exactly one statement per call.
  absl::StatusOr<Stmt> prepare(std::string_view sql, bool persistent);
  // Runs a PRAGMA (or any single statement) returning one value as text.
  absl::StatusOr<std::string> queryText(std::string_view sql);
  absl::StatusOr<std::int64_t> queryInt(std::string_view sql);

 private:
  explicit Db(sqlite3* db) : m_db(db) {}
  sqlite3* m_db = nullptr;
};

// A transaction on a Db that rolls back unless commit() succeeded. BEGIN
// IMMEDIATE takes the write lock up front, so a write transaction cannot fail
// half-way with SQLITE_BUSY on lock upgrade.
class Txn {
 public:
  enum class Mode { kDeferred, kImmediate };
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  ~Txn();

  static absl::StatusOr<Txn> begin(Db& db, Mode mode, std::string_view what);
  absl::Status commit();
  Txn(Txn&& other) noexcept
      : m_db(std::exchange(other.m_db, nullptr)), m_what(std::move(other.m_what)) {}
  Txn& operator=(Txn&&) = delete;

 private:
  Txn(Db& db, std::string_view what) : m_db(&db), m_what(what) {}
  Db* m_db;  // null once committed or rolled back
  std::string m_what;
};

}  // namespace depot::sqlite
