// The SQLite schema as an ordered list of forward migrations.
//
// schema_version holds one row per applied step (version, applied_at); the
// database's version is max(version). Each step runs in its own BEGIN
// IMMEDIATE transaction together with its schema_version row, so a crash
// leaves the file at a whole step, and two processes opening the same file
// at once cannot both apply a step.
//
// Compatibility: a step, once released, never changes; new needs get a new
// step. A file whose version is newer than kSchemaVersion is refused with
// FAILED_PRECONDITION (an older binary must not write a newer layout).
#pragma once

#include "absl/status/statusor.h"
#include "store/sqlite/sqlite_db.h"

namespace depot::sqlite {

// The version this build writes: the number of migration steps.
int latestSchemaVersion();

// Brings `db` to `target` (1..latestSchemaVersion()), applying each missing
// step in its own transaction. Returns the version the file is at afterwards.
// Refuses a non-empty database that has no schema_version table (not a Depot
// store) and a version newer than latestSchemaVersion().
absl::StatusOr<int> migrate(Db& db, int target);

}  // namespace depot::sqlite
