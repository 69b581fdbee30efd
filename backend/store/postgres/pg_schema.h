// The PostgresStore schema and its forward migrations.
//
// Same idea as the SQLite engine: schema_version records every applied step;
// each step runs in its own transaction. Several depotd nodes may open one
// database at once, so every step holds a transaction-scoped advisory lock
// and re-reads the version under it: exactly one node applies each step.
#pragma once

#include "absl/status/statusor.h"
#include "store/postgres/pg_conn.h"

namespace depot::pg {

int latestSchemaVersion();

// Migrates the database (its current_schema()) up to `target` and returns
// the version it is at. FAILED_PRECONDITION for a version newer than this
// build knows, or a schema that has tables but no schema_version (not a
// Depot store: nothing is touched); INVALID_ARGUMENT for a bad target.
absl::StatusOr<int> migrate(Connection& conn, int target, Deadline deadline);

}  // namespace depot::pg
