#include "store/sqlite/sqlite_pool.h"

namespace depot::sqlite {

absl::StatusOr<std::unique_ptr<ReadPool>> ReadPool::open(const std::string& path, int size,
                                                         int busy_timeout_ms) {
  std::unique_ptr<ReadPool> pool(new ReadPool());
  for (int i = 0; i < size; ++i) {
    auto db = Db::open(path, SQLITE_OPEN_READWRITE);
    if (!db.ok()) return db.status();
    sqlite3_busy_timeout(db->get(), busy_timeout_ms);
    const std::string what = cat("configuring read connection ", i);
    // 16 MiB of page cache per reader; the writer has its own, larger one.
    if (auto st = db->exec("PRAGMA query_only=1; PRAGMA cache_size=-16384; "
                           "PRAGMA temp_store=MEMORY",
                           what);
        !st.ok()) {
      return st;
    }
    auto conn = std::make_unique<Conn>();
    conn->db = *std::move(db);
    pool->m_all.push_back(std::move(conn));
  }
  std::lock_guard lock(pool->m_mutex);
  for (auto& conn : pool->m_all) pool->m_free.push_back(conn.get());
  return pool;
}

ReadPool::~ReadPool() = default;

ReadPool::Lease ReadPool::acquire() {
  std::unique_lock lock(m_mutex);
  m_available.wait(lock,
                   [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(m_mutex) { return !m_free.empty(); });
  Conn* conn = m_free.back();
  m_free.pop_back();
  return Lease(this, conn);
}

void ReadPool::release(Conn* conn) {
  {
    std::lock_guard lock(m_mutex);
    m_free.push_back(conn);
  }
  m_available.notify_one();
}

ReadPool::Lease::Lease(Lease&& other) noexcept
    : m_pool(std::exchange(other.m_pool, nullptr)), m_conn(std::exchange(other.m_conn, nullptr)) {}

ReadPool::Lease::~Lease() {
  if (m_pool != nullptr) m_pool->release(m_conn);
}

absl::StatusOr<Stmt*> ReadPool::Lease::stmt(const std::string& sql) {
  auto it = m_conn->stmts.find(sql);
  if (it == m_conn->stmts.end()) {
    auto prepared = m_conn->db.prepare(sql, true);
    if (!prepared.ok()) return prepared.status();
    it = m_conn->stmts.emplace(sql, *std::move(prepared)).first;
  }
  return &it->second;
}

}  // namespace depot::sqlite
