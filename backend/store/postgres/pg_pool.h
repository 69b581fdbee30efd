// A fixed number of connection slots to one PostgreSQL DSN.
//
// A slot connects lazily and reconnects by itself: a Lease hands out its
// connection only after checking it (a dropped or broken connection is
// replaced, with the caller's deadline bounding the connect), and a
// connection that broke during a call is dropped when the lease ends. So a
// call that hit a restarting server fails with UNAVAILABLE and the next one
// reconnects; an idle connection the server closed is replaced before use.
//
// Thread safety: acquire() may be called from any thread; a Lease and its
// connection belong to the leasing thread until the Lease is destroyed.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "store/postgres/pg_conn.h"

namespace depot::pg {

class ConnectionPool {
 public:
  ConnectionPool(std::string dsn, std::chrono::milliseconds statement_timeout, int size);
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;
  ~ConnectionPool();

  struct Slot {
    std::unique_ptr<Connection> conn;
  };

  class Lease {
   public:
    Lease(Lease&& other) noexcept : m_pool(other.m_pool), m_slot(other.m_slot) {
      other.m_slot = nullptr;
    }
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();
    // The slot's connection, (re)connected if needed before `deadline`.
    absl::StatusOr<Connection*> connection(Deadline deadline);

   private:
    friend class ConnectionPool;
    Lease(ConnectionPool* pool, Slot* slot) : m_pool(pool), m_slot(slot) {}
    ConnectionPool* m_pool;
    Slot* m_slot;
  };

  // Waits for a free slot until `deadline` (UNAVAILABLE if none frees up).
  absl::StatusOr<Lease> acquire(Deadline deadline);
  int size() const { return static_cast<int>(m_all.size()); }
  const std::string& dsn() const { return m_dsn; }

 private:
  void release(Slot* slot);

  const std::string m_dsn;
  const std::chrono::milliseconds m_statement_timeout;
  std::vector<std::unique_ptr<Slot>> m_all;  // fixed at construction
  std::mutex m_mutex;
  std::condition_variable m_available;
  std::vector<Slot*> m_free ABSL_GUARDED_BY(m_mutex);
};

}  // namespace depot::pg
