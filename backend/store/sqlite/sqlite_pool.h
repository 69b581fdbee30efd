// A fixed pool of read-only connections to one SQLite file in WAL mode.
//
// WAL readers see the last committed snapshot and never wait for the writer,
// so reads scale with the pool size while commits continue. A Lease gives one
// thread exclusive use of one connection and its statement cache; acquire()
// blocks while all connections are leased.
//
// Thread safety: acquire() may be called from any thread; a Lease and the
// statements it hands out belong to the leasing thread until it is destroyed.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "store/sqlite/sqlite_db.h"

namespace depot::sqlite {

class ReadPool {
 public:
  // Opens `size` connections to an existing file. Each connection is
  // query_only, so a bug cannot write through a read path.
  static absl::StatusOr<std::unique_ptr<ReadPool>> open(const std::string& path, int size,
                                                        int busy_timeout_ms);
  ReadPool(const ReadPool&) = delete;
  ReadPool& operator=(const ReadPool&) = delete;
  ~ReadPool();

  struct Conn {
    Db db;
    std::unordered_map<std::string, Stmt> stmts;  // destroyed before db
  };

  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();

    Db& db() { return m_conn->db; }
    // The connection's prepared statement for `sql`, prepared on first use
    // (SQLITE_PREPARE_PERSISTENT). Reset it before the lease ends (Stmt::Scope).
    absl::StatusOr<Stmt*> stmt(const std::string& sql);

   private:
    friend class ReadPool;
    Lease(ReadPool* pool, Conn* conn) : m_pool(pool), m_conn(conn) {}
    ReadPool* m_pool;
    Conn* m_conn;
  };

  Lease acquire();
  int size() const { return static_cast<int>(m_all.size()); }

 private:
  ReadPool() = default;
  void release(Conn* conn);

  std::vector<std::unique_ptr<Conn>> m_all;  // fixed after open()
  std::mutex m_mutex;
  std::condition_variable m_available;
  std::vector<Conn*> m_free ABSL_GUARDED_BY(m_mutex);
};

// Runs `sql` on the lease's connection: bind(stmt), then row(stmt) for each
// result row until it returns false. Decoding errors are reported by the row
// callback through its own captured status.
template <typename Bind, typename Row>
absl::Status forEachRow(ReadPool::Lease& lease, const std::string& sql, std::string_view what,
                        Bind&& bind, Row&& row) {
  auto prepared = lease.stmt(sql);
  if (!prepared.ok()) return prepared.status();
  Stmt& stmt = **prepared;
  Stmt::Scope scope(stmt);
  bind(stmt);
  for (;;) {
    auto has_row = stmt.next(what);
    if (!has_row.ok()) return has_row.status();
    if (!*has_row || !row(static_cast<const Stmt&>(stmt))) return absl::OkStatus();
  }
}

}  // namespace depot::sqlite
