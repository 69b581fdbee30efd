#include "store/postgres/pg_pool.h"

namespace depot::pg {

ConnectionPool::ConnectionPool(std::string dsn, std::chrono::milliseconds statement_timeout,
                               int size)
    : m_dsn(std::move(dsn)), m_statement_timeout(statement_timeout) {
  for (int i = 0; i < size; ++i) {
    m_all.push_back(std::make_unique<Slot>());
    m_free.push_back(m_all.back().get());
  }
}

ConnectionPool::~ConnectionPool() = default;

absl::StatusOr<ConnectionPool::Lease> ConnectionPool::acquire(Deadline deadline) {
  std::unique_lock lock(m_mutex);
  if (!m_available.wait_until(lock, deadline, [&] { return !m_free.empty(); })) {
    return absl::UnavailableError(
        cat("PostgreSQL: all ", m_all.size(), " connections stayed busy until the deadline"));
  }
  Slot* slot = m_free.back();
  m_free.pop_back();
  return Lease(this, slot);
}

void ConnectionPool::release(Slot* slot) {
  if (slot->conn && !slot->conn->healthy()) slot->conn.reset();
  {
    std::lock_guard lock(m_mutex);
    m_free.push_back(slot);
  }
  m_available.notify_one();
}

ConnectionPool::Lease::~Lease() {
  if (m_slot != nullptr) m_pool->release(m_slot);
}

absl::StatusOr<Connection*> ConnectionPool::Lease::connection(Deadline deadline) {
  if (m_slot->conn && m_slot->conn->probeIdle()) return m_slot->conn.get();
  m_slot->conn.reset();
  auto conn = Connection::connect(m_pool->m_dsn, m_pool->m_statement_timeout, deadline);
  if (!conn.ok()) return conn.status();
  m_slot->conn = *std::move(conn);
  return m_slot->conn.get();
}

}  // namespace depot::pg
