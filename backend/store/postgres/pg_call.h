// Helpers shared by the PostgresStore source files: the per-call deadline
// and "lease a connection, run a pipeline, add context to errors".
#pragma once

#include <string_view>
#include <vector>

#include "store/postgres/pg_conn.h"
#include "store/postgres/pg_pool.h"

namespace depot::pg {

inline absl::Status withContext(const absl::Status& st, std::string_view context) {
  if (st.ok()) return st;
  return absl::Status(st.code(), cat(context, ": ", st.message()));
}

// Runs `queries` as one pipeline on a connection leased from `pool`.
inline absl::StatusOr<std::vector<Result>> runPipeline(ConnectionPool& pool, Deadline deadline,
                                                       const std::vector<Query>& queries,
                                                       std::string_view what) {
  auto lease = pool.acquire(deadline);
  if (!lease.ok()) return withContext(lease.status(), what);
  auto conn = lease->connection(deadline);
  if (!conn.ok()) return withContext(conn.status(), what);
  auto results = (*conn)->run(queries, deadline);
  if (!results.ok()) return withContext(results.status(), what);
  return results;
}

inline absl::StatusOr<Result> runSingle(ConnectionPool& pool, Deadline deadline, Query query,
                                        std::string_view what) {
  std::vector<Query> one;
  one.push_back(std::move(query));
  auto results = runPipeline(pool, deadline, one, what);
  if (!results.ok()) return results.status();
  return std::move(results->front());
}

}  // namespace depot::pg
