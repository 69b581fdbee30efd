// Thin RAII layer over libpq for the PostgresStore files.
//
// Connection owns one PGconn in non-blocking pipeline mode. Every call is
// bounded by a deadline: connecting (PQconnectPoll), sending and reading are
// driven with poll(2), so an unresponsive server (stopped, partitioned) gives
// UNAVAILABLE when the deadline passes instead of a hang. run() sends a whole
// list of statements and one Sync in a single write, then reads every
// result: one network round trip however many statements there are.
//
// After any failure that is not a plain SQL error (I/O, deadline, protocol
// state) the Connection marks itself broken; its owner drops it and connects
// afresh on the next call. A Connection is used by one thread at a time.
//
// Error mapping (statusFromResult): connection and shutdown errors and
// read-only transactions (a demoted primary) are UNAVAILABLE, serialization
// failures and deadlocks ABORTED, statement_timeout DEADLINE_EXCEEDED, data
// exceptions INVALID_ARGUMENT, the fencing check's SQLSTATE (kFencedSqlState)
// FAILED_PRECONDITION, anything else INTERNAL with the server's text.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "store/postgres/pg_params.h"

namespace depot::pg {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

// Raised by depot_fence() (pg_schema.cpp) when a ShardCommit is fenced.
inline constexpr const char* kFencedSqlState = "DP001";

// A PGresult owned; binary-format accessors (every query asks for binary
// results, so integers arrive as big-endian bytes and text as raw bytes).
class Result {
 public:
  Result() = default;
  explicit Result(PGresult* res) : m_res(res) {}
  PGresult* get() const { return m_res.get(); }
  int rows() const { return m_res ? PQntuples(m_res.get()) : 0; }
  bool isNull(int row, int col) const { return PQgetisnull(m_res.get(), row, col) != 0; }
  // int2/int4/int8/bool columns; 0 for NULL.
  std::int64_t getInt(int row, int col) const;
  std::string getText(int row, int col) const;
  std::string_view getView(int row, int col) const;
  // Rows affected by an INSERT/UPDATE/DELETE.
  std::int64_t affected() const;

 private:
  struct Clear {
    void operator()(PGresult* r) const { PQclear(r); }
  };
  std::unique_ptr<PGresult, Clear> m_res;
};

// One statement of a pipeline: SQL text with $n placeholders and its
// parameters (binary format, types given by OID).
struct Query {
  std::string sql;
  Params params;
};

class Connection {
 public:
  // Connects to `dsn` (a libpq connection string or URI; multi-host strings
  // with target_session_attrs work) before `deadline`, sets statement_timeout
  // and enters pipeline mode. UNAVAILABLE when the server cannot be reached
  // in time, INVALID_ARGUMENT for a malformed dsn.
  static absl::StatusOr<std::unique_ptr<Connection>> connect(const std::string& dsn,
                                                             std::chrono::milliseconds timeout,
                                                             Deadline deadline);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends every query and one Sync, then collects one Result per query. The
  // first failing query's status is returned (later ones were skipped by the
  // server, and an implicit or explicit transaction rolled back).
  absl::StatusOr<std::vector<Result>> run(const std::vector<Query>& queries, Deadline deadline);
  absl::StatusOr<Result> runOne(Query query, Deadline deadline);

  // False once an I/O error, a deadline or a protocol surprise happened: the
  // owner must drop this connection.
  bool healthy() const { return !m_broken && PQstatus(m_conn) == CONNECTION_OK; }
  // Checks an idle connection without a round trip: a server that restarted
  // or closed the session has left an error or EOF on the socket.
  bool probeIdle();

 private:
  explicit Connection(PGconn* conn) : m_conn(conn) {}
  absl::Status waitSocket(bool for_write, Deadline deadline, std::string_view what);
  absl::Status flush(Deadline deadline);
  absl::StatusOr<Result> nextResult(Deadline deadline);
  absl::Status broken(absl::Status st);

  PGconn* m_conn;
  bool m_broken = false;
};

absl::Status statusFromResult(const PGresult* res, PGconn* conn, std::string_view what);

}  // namespace depot::pg
