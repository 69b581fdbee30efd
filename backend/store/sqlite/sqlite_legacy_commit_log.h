// The commit log as depotd wrote it up to session 8: a SQLite file
// (`<store>-commits`) with one row per group commit (the encoded CommitBatch,
// sqlite_codec.h), dropped once applied (meta.applied_log_id).
//
// Kept only so a store left by a crash of an older depotd loses nothing:
// SqliteStore::open() applies the records this file still holds after
// applied_log_id, then removes it; new commits go to CommitLog
// (commit_log.h). Tests also use append() to leave such a file behind.
//
// Not thread-safe: the owner serialises every call.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "store/sqlite/sqlite_db.h"

namespace depot::sqlite {

class Checkpointer;

class LegacyCommitLog {
 public:
  // The log file of the store at `store_path`.
  static std::string pathFor(const std::string& store_path) { return store_path + "-commits"; }

  // Opens or creates the log. A log that belongs to another ledger (its
  // recorded ledger id differs) is FAILED_PRECONDITION: applying it would
  // corrupt the store. sync_pragma as for the store (durability of append()).
  static absl::StatusOr<std::unique_ptr<LegacyCommitLog>> open(const std::string& path,
                                                               const char* sync_pragma,
                                                               const std::string& ledger_id,
                                                               int busy_timeout_ms);
  ~LegacyCommitLog();
  LegacyCommitLog(const LegacyCommitLog&) = delete;
  LegacyCommitLog& operator=(const LegacyCommitLog&) = delete;

  // Durable (per the sync pragma) when it returns OK.
  absl::Status append(std::int64_t id, std::string_view payload);
  // fn(id, payload) for every record with id > after, in id order; stops at
  // the first error fn returns.
  absl::Status forEachAfter(std::int64_t after,
                            const std::function<absl::Status(std::int64_t, std::string_view)>& fn);

 private:
  LegacyCommitLog() = default;

  Db m_db;
  Stmt m_append;
  std::unique_ptr<Checkpointer> m_checkpointer;  // hooked into m_db
};

}  // namespace depot::sqlite
