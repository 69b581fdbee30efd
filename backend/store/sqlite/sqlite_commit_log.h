// The commit log: the durable half of SqliteStore::commit().
//
// A group commit is made durable by appending ONE record (the encoded
// CommitBatch, sqlite_codec.h) to this log, a separate SQLite file
// (`<store>-commits`) holding nothing else: one B-tree append and one WAL
// fsync per commit, however many rows the batch touches. The store's tables
// (ledger with its history marks, balances, requests, holds, counts) are brought up to
// date from the records afterwards, in large transactions (SqliteStore's
// applier), which is where the random-position B-tree writes are paid, once
// per many commits. A record is dropped once the store's tables durably say
// they include it (meta.applied_log_id); on open, records after that are
// applied again (crash recovery).
//
// Ids are assigned by the caller and strictly increase across the life of
// the store (they continue from applied_log_id, never reuse a dropped id).
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

class CommitLog {
 public:
  // The log file of the store at `store_path`.
  static std::string pathFor(const std::string& store_path) { return store_path + "-commits"; }

  // Opens or creates the log. A log that belongs to another ledger (its
  // recorded ledger id differs) is FAILED_PRECONDITION: applying it would
  // corrupt the store. sync_pragma as for the store (durability of append()).
  static absl::StatusOr<std::unique_ptr<CommitLog>> open(const std::string& path,
                                                         const char* sync_pragma,
                                                         const std::string& ledger_id,
                                                         int busy_timeout_ms);
  ~CommitLog();
  CommitLog(const CommitLog&) = delete;
  CommitLog& operator=(const CommitLog&) = delete;

  // Durable (per the sync pragma) when it returns OK.
  absl::Status append(std::int64_t id, std::string_view payload);
  // fn(id, payload) for every record with id > after, in id order; stops at
  // the first error fn returns.
  absl::Status forEachAfter(
      std::int64_t after,
      const std::function<absl::Status(std::int64_t, std::string_view)>& fn);
  // The largest id in the log, 0 when it is empty.
  absl::StatusOr<std::int64_t> lastId();
  // Deletes every record with id <= through.
  absl::Status dropThrough(std::int64_t through);

 private:
  CommitLog() = default;

  Db m_db;
  Stmt m_append;
  Stmt m_drop;
  std::unique_ptr<Checkpointer> m_checkpointer;  // hooked into m_db
};

}  // namespace depot::sqlite
