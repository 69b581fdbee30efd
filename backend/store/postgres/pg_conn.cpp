#include "store/postgres/pg_conn.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace depot::pg {
namespace {

std::string trimmed(const char* text) {
  std::string s = text != nullptr ? text : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string connError(PGconn* conn) {
  std::string s = trimmed(PQerrorMessage(conn));
  return s.empty() ? "connection failure" : s;
}

}  // namespace

// ---- Result ----

std::int64_t Result::getInt(int row, int col) const {
  if (isNull(row, col)) return 0;
  const auto* p = reinterpret_cast<const unsigned char*>(PQgetvalue(m_res.get(), row, col));
  const int len = PQgetlength(m_res.get(), row, col);
  std::uint64_t u = 0;
  for (int i = 0; i < len && i < 8; ++i) u = (u << 8) | p[i];
  // Sign-extend 1/2/4-byte values (bool, int2, int4).
  if (len > 0 && len < 8 && (p[0] & 0x80) != 0) u |= ~std::uint64_t{0} << (8 * len);
  return static_cast<std::int64_t>(u);
}

std::string_view Result::getView(int row, int col) const {
  if (isNull(row, col)) return {};
  return std::string_view(PQgetvalue(m_res.get(), row, col),
                          static_cast<std::size_t>(PQgetlength(m_res.get(), row, col)));
}

std::string Result::getText(int row, int col) const { return std::string(getView(row, col)); }

std::int64_t Result::affected() const {
  const char* n = m_res ? PQcmdTuples(m_res.get()) : nullptr;
  return n != nullptr && *n != '\0' ? std::strtoll(n, nullptr, 10) : 0;
}

// ---- status mapping ----

absl::Status statusFromResult(const PGresult* res, PGconn* conn, std::string_view what) {
  const char* state = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string primary =
      trimmed(res != nullptr ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : nullptr);
  if (primary.empty()) primary = connError(conn);
  const std::string detail =
      trimmed(res != nullptr ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : nullptr);
  const std::string code = state != nullptr ? state : "";
  std::string text = cat(what, ": ", primary);
  if (!detail.empty()) text = cat(text, " (", detail, ")");
  if (!code.empty()) text = cat(text, " [SQLSTATE ", code, "]");

  if (code == kFencedSqlState) return absl::FailedPreconditionError(primary);
  if (code.empty() || PQstatus(conn) != CONNECTION_OK) return absl::UnavailableError(text);
  const std::string klass = code.substr(0, 2);
  // 08: connection exception; 57P0x: admin/crash shutdown, cannot connect
  // now; 53: insufficient resources (disk full, too many connections);
  // 25006: read-only transaction (we reached a standby or a demoted primary).
  if (klass == "08" || code.rfind("57P", 0) == 0 || klass == "53" || code == "25006") {
    return absl::UnavailableError(text);
  }
  if (code == "40001" || code == "40P01" || code == "55P03") return absl::AbortedError(text);
  if (code == "57014") return absl::DeadlineExceededError(text);  // statement_timeout
  if (klass == "22") return absl::InvalidArgumentError(text);      // data exception
  return absl::InternalError(text);  // constraint violations and bugs: the SQL error text
}

// ---- Connection ----

absl::StatusOr<std::unique_ptr<Connection>> Connection::connect(const std::string& dsn,
                                                                std::chrono::milliseconds timeout,
                                                                Deadline deadline) {
  const char* keys[] = {"dbname", "fallback_application_name", nullptr};
  const char* values[] = {dsn.c_str(), "depot", nullptr};
  PGconn* raw = PQconnectStartParams(keys, values, 1);
  if (raw == nullptr) return absl::ResourceExhaustedError("PostgreSQL: out of memory connecting");
  std::unique_ptr<Connection> conn(new Connection(raw));
  if (PQstatus(raw) == CONNECTION_BAD) {
    // Failing before any I/O: the connection string itself is unusable.
    return absl::InvalidArgumentError(cat("PostgreSQL connection string: ", connError(raw)));
  }
  PostgresPollingStatusType poll_status = PGRES_POLLING_WRITING;
  for (;;) {
    if (poll_status == PGRES_POLLING_OK) break;
    if (poll_status == PGRES_POLLING_FAILED) {
      return absl::UnavailableError(cat("connecting to PostgreSQL: ", connError(raw)));
    }
    if (auto st = conn->waitSocket(poll_status == PGRES_POLLING_WRITING, deadline, "connecting");
        !st.ok()) {
      return st;
    }
    poll_status = PQconnectPoll(raw);
  }
  if (PQsetnonblocking(raw, 1) != 0 || PQenterPipelineMode(raw) != 1) {
    return absl::UnavailableError(cat("PostgreSQL: entering pipeline mode: ", connError(raw)));
  }
  // statement_timeout is the server-side bound; the client-side deadline of
  // every call is the other one (for a server that does not answer at all).
  Query set{cat("SET statement_timeout = ", static_cast<std::int64_t>(timeout.count())), {}};
  auto done = conn->runOne(std::move(set), deadline);
  if (!done.ok()) return done.status();
  return conn;
}

Connection::~Connection() { PQfinish(m_conn); }

absl::Status Connection::broken(absl::Status st) {
  m_broken = true;
  return st;
}

absl::Status Connection::waitSocket(bool for_write, Deadline deadline, std::string_view what) {
  for (;;) {
    const int fd = PQsocket(m_conn);
    if (fd < 0) return broken(absl::UnavailableError(cat("PostgreSQL ", what, ": no socket")));
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      return broken(absl::UnavailableError(
          cat("PostgreSQL did not respond in time (", what, "); the connection is dropped")));
    }
    pollfd p{fd, static_cast<short>(for_write ? (POLLOUT | POLLIN) : POLLIN), 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 60'000)));
    if (n > 0) return absl::OkStatus();
    if (n < 0 && errno != EINTR) {
      return broken(absl::UnavailableError(cat("PostgreSQL ", what, ": poll: ", std::strerror(errno))));
    }
  }
}

absl::Status Connection::flush(Deadline deadline) {
  for (;;) {
    const int r = PQflush(m_conn);
    if (r == 0) return absl::OkStatus();
    if (r < 0) return broken(absl::UnavailableError(cat("PostgreSQL: sending: ", connError(m_conn))));
    if (auto st = waitSocket(true, deadline, "sending"); !st.ok()) return st;
    // Read whatever the server sent meanwhile so neither side blocks.
    if (PQconsumeInput(m_conn) == 0) {
      return broken(absl::UnavailableError(cat("PostgreSQL: ", connError(m_conn))));
    }
  }
}

absl::StatusOr<Result> Connection::nextResult(Deadline deadline) {
  while (PQisBusy(m_conn) != 0) {
    if (auto st = waitSocket(false, deadline, "waiting for a result"); !st.ok()) return st;
    if (PQconsumeInput(m_conn) == 0) {
      return broken(absl::UnavailableError(cat("PostgreSQL: ", connError(m_conn))));
    }
  }
  return Result(PQgetResult(m_conn));
}

absl::StatusOr<std::vector<Result>> Connection::run(const std::vector<Query>& queries,
                                                    Deadline deadline) {
  if (!healthy()) return broken(absl::UnavailableError("PostgreSQL: the connection is broken"));
  for (const Query& q : queries) {
    const Params::Views v = q.params.views();
    if (PQsendQueryParams(m_conn, q.sql.c_str(), q.params.size(), v.types.data(), v.values.data(),
                          v.lengths.data(), v.formats.data(), 1) != 1) {
      return broken(absl::UnavailableError(cat("PostgreSQL: queueing a statement: ", connError(m_conn))));
    }
  }
  if (PQpipelineSync(m_conn) != 1) {
    return broken(absl::UnavailableError(cat("PostgreSQL: queueing a sync: ", connError(m_conn))));
  }
  if (auto st = flush(deadline); !st.ok()) return st;

  std::vector<Result> results;
  results.reserve(queries.size());
  absl::Status first_error;
  for (std::size_t i = 0; i < queries.size(); ++i) {
    auto r = nextResult(deadline);
    if (!r.ok()) return r.status();
    if (r->get() == nullptr) {
      return broken(absl::InternalError("PostgreSQL: a pipelined statement returned no result"));
    }
    switch (PQresultStatus(r->get())) {
      case PGRES_TUPLES_OK:
      case PGRES_COMMAND_OK:
        break;
      case PGRES_FATAL_ERROR:
        if (first_error.ok()) {
          // The statement's first 60 characters say which one failed.
          first_error = statusFromResult(r->get(), m_conn, queries[i].sql.substr(0, 60));
        }
        if (PQstatus(m_conn) != CONNECTION_OK) return broken(first_error);
        break;
      case PGRES_PIPELINE_ABORTED:
        break;  // skipped after an earlier error
      default:
        return broken(absl::InternalError(
            cat("PostgreSQL: unexpected result status ", PQresStatus(PQresultStatus(r->get())))));
    }
    results.push_back(*std::move(r));
    auto end = nextResult(deadline);  // each statement's results end with a null
    if (!end.ok()) return end.status();
    if (end->get() != nullptr) {
      return broken(absl::InternalError("PostgreSQL: a statement returned several results"));
    }
  }
  auto sync = nextResult(deadline);
  if (!sync.ok()) return sync.status();
  if (sync->get() == nullptr || PQresultStatus(sync->get()) != PGRES_PIPELINE_SYNC) {
    // An error at Sync is a failed implicit commit: report it, start afresh.
    if (first_error.ok() && sync->get() != nullptr &&
        PQresultStatus(sync->get()) == PGRES_FATAL_ERROR) {
      first_error = statusFromResult(sync->get(), m_conn, "committing");
    }
    if (!first_error.ok()) return broken(first_error);
    return broken(absl::InternalError("PostgreSQL: the pipeline did not end with its sync"));
  }
  // A failure inside an explicit BEGIN leaves the session in an aborted
  // transaction; end it so the next call starts clean. (Without a failure
  // an open transaction is the caller's: BEGIN in one call, COMMIT later.)
  if (!first_error.ok() && PQtransactionStatus(m_conn) != PQTRANS_IDLE) {
    bool clean = PQsendQueryParams(m_conn, "ROLLBACK", 0, nullptr, nullptr, nullptr, nullptr, 1) == 1 &&
                 PQpipelineSync(m_conn) == 1 && flush(deadline).ok();
    for (int i = 0; clean && i < 3; ++i) clean = nextResult(deadline).ok();  // result, null, sync
    if (!clean || PQtransactionStatus(m_conn) != PQTRANS_IDLE) m_broken = true;
  }
  if (!first_error.ok()) return first_error;
  return results;
}

absl::StatusOr<Result> Connection::runOne(Query query, Deadline deadline) {
  std::vector<Query> one;
  one.push_back(std::move(query));
  auto results = run(one, deadline);
  if (!results.ok()) return results.status();
  return std::move(results->front());
}

bool Connection::probeIdle() {
  if (!healthy()) return false;
  pollfd p{PQsocket(m_conn), POLLIN, 0};
  if (::poll(&p, 1, 0) > 0) {
    // An idle session has nothing to say unless the server is closing it
    // (shutdown, restart, pg_terminate_backend) or sent a notice.
    if (PQconsumeInput(m_conn) == 0 || PQstatus(m_conn) != CONNECTION_OK) m_broken = true;
  }
  return healthy();
}

}  // namespace depot::pg
