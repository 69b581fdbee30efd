#include "store/postgres/postgres_cluster.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>

#include "store/postgres/pg_call.h"
#include "store/postgres/postgres_store.h"

namespace depot {

using pg::Params;
using pg::Query;

namespace {
// The lease ttl as an SQL interval parameter, in milliseconds.
std::int64_t ttlMillis(const PostgresCluster::Options& o) { return o.lease_ttl.count(); }
}  // namespace

PostgresCluster::PostgresCluster(Options options, std::unique_ptr<pg::ConnectionPool> pool)
    : m_options(std::move(options)), m_pool(std::move(pool)) {}

PostgresCluster::~PostgresCluster() = default;

absl::StatusOr<std::unique_ptr<PostgresCluster>> PostgresCluster::create(const Options& options) {
  if (options.dsn.empty()) return absl::InvalidArgumentError("pg-dsn: must not be empty");
  if (options.node_id.empty() || options.node_id.size() > 64)
    return absl::InvalidArgumentError("node-id: must be 1..64 characters");
  if (options.endpoint.empty()) return absl::InvalidArgumentError("advertise: must not be empty");
  if (options.lease_ttl < std::chrono::milliseconds(1000) ||
      options.lease_ttl > std::chrono::milliseconds(600000))
    return absl::InvalidArgumentError("lease-ttl: must be between 1 and 600 seconds");
  auto pool =
      std::make_unique<pg::ConnectionPool>(options.dsn, options.statement_timeout, /*size=*/1);
  return std::unique_ptr<PostgresCluster>(new PostgresCluster(options, std::move(pool)));
}

std::chrono::steady_clock::time_point PostgresCluster::deadline() const {
  return pg::Clock::now() + m_options.statement_timeout + PostgresStore::kClientGrace;
}

absl::Status PostgresCluster::heartbeat() {
  static const std::string kSql =
      "INSERT INTO nodes(node_id, endpoint, heartbeat_at, started_at) VALUES($1, $2, now(), now()) "
      "ON CONFLICT (node_id) DO UPDATE SET endpoint = EXCLUDED.endpoint, heartbeat_at = now()";
  return pg::runSingle(*m_pool, deadline(),
                       Query{kSql, Params().addText(m_options.node_id).addText(m_options.endpoint)},
                       "heartbeat")
      .status();
}

absl::StatusOr<std::vector<std::pair<ShardId, std::uint64_t>>> PostgresCluster::renew() {
  // Rows are locked in shard order, the order depot_fence() locks them in
  // (PostgresStore::commit sorts by shard): a renewal and this node's group
  // commit never deadlock.
  static const std::string kSql =
      "UPDATE shards SET lease_expires_at = now() + $2 * interval '1 millisecond' "
      "WHERE shard IN (SELECT shard FROM shards WHERE owner = $1 ORDER BY shard FOR UPDATE) "
      "AND owner = $1 RETURNING shard, epoch";
  auto r = pg::runSingle(*m_pool, deadline(),
                         Query{kSql, Params().addText(m_options.node_id).addInt(ttlMillis(m_options))},
                         "renew leases");
  if (!r.ok()) return r.status();
  std::vector<std::pair<ShardId, std::uint64_t>> held;
  for (int row = 0; row < r->rows(); ++row)
    held.emplace_back(static_cast<ShardId>(r->getInt(row, 0)),
                      static_cast<std::uint64_t>(r->getInt(row, 1)));
  std::sort(held.begin(), held.end());
  return held;
}

absl::StatusOr<std::optional<std::uint64_t>> PostgresCluster::acquire(ShardId shard) {
  static const std::string kSql =
      "UPDATE shards SET owner = $1, epoch = epoch + 1, "
      "lease_expires_at = now() + $3 * interval '1 millisecond' "
      "WHERE shard = $2 AND (owner IS NULL OR owner = $1 OR lease_expires_at IS NULL OR "
      "lease_expires_at <= now()) RETURNING epoch";
  auto r = pg::runSingle(
      *m_pool, deadline(),
      Query{kSql, Params().addText(m_options.node_id).addInt(shard).addInt(ttlMillis(m_options))},
      "acquire lease");
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return std::optional<std::uint64_t>();
  return std::optional<std::uint64_t>(static_cast<std::uint64_t>(r->getInt(0, 0)));
}

absl::Status PostgresCluster::release(ShardId shard, std::uint64_t epoch) {
  static const std::string kSql =
      "UPDATE shards SET owner = NULL, lease_expires_at = NULL "
      "WHERE shard = $1 AND owner = $2 AND epoch = $3";
  return pg::runSingle(*m_pool, deadline(),
                       Query{kSql, Params()
                                       .addInt(shard)
                                       .addText(m_options.node_id)
                                       .addInt(static_cast<std::int64_t>(epoch))},
                       "release lease")
      .status();
}

absl::Status PostgresCluster::leave() {
  return pg::runSingle(*m_pool, deadline(),
                       Query{"DELETE FROM nodes WHERE node_id = $1",
                             Params().addText(m_options.node_id)},
                       "leave")
      .status();
}

absl::StatusOr<ClusterView> PostgresCluster::view() {
  std::vector<Query> q;
  q.push_back(Query{"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", {}});
  q.push_back(Query{"SELECT node_id, endpoint, "
                    "(extract(epoch FROM now() - heartbeat_at) * 1000)::bigint, "
                    "heartbeat_at > now() - $1 * interval '1 millisecond' "
                    "FROM nodes ORDER BY node_id",
                    Params().addInt(ttlMillis(m_options))});
  q.push_back(Query{"SELECT shard, coalesce(owner, ''), epoch, last_seq, "
                    "owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at <= now() "
                    "FROM shards ORDER BY shard",
                    {}});
  q.push_back(Query{"COMMIT", {}});
  auto r = pg::runPipeline(*m_pool, deadline(), q, "cluster view");
  if (!r.ok()) return r.status();
  ClusterView v;
  const pg::Result& nodes = (*r)[1];
  for (int row = 0; row < nodes.rows(); ++row) {
    ClusterNodeRow n;
    n.node_id = nodes.getText(row, 0);
    n.endpoint = nodes.getText(row, 1);
    n.heartbeat_age_s = static_cast<double>(nodes.getInt(row, 2)) / 1000.0;
    n.alive = nodes.getInt(row, 3) != 0;
    v.nodes.push_back(std::move(n));
  }
  const pg::Result& shards = (*r)[2];
  for (int row = 0; row < shards.rows(); ++row) {
    ShardLeaseRow s;
    s.shard = static_cast<ShardId>(shards.getInt(row, 0));
    s.owner = shards.getText(row, 1);
    s.epoch = static_cast<std::uint64_t>(shards.getInt(row, 2));
    s.last_seq = static_cast<Seq>(shards.getInt(row, 3));
    s.expired = shards.getInt(row, 4) != 0;
    v.shards.push_back(std::move(s));
  }
  return v;
}

// --------------------------------------------------------------- listener

struct LedgerListener::State {
  PGconn* conn = nullptr;
  bool fresh = false;  // just (re)connected: report a wake-up once
};

LedgerListener::LedgerListener(std::string dsn) : m_dsn(std::move(dsn)), m_state(new State) {}

LedgerListener::~LedgerListener() { drop(); }

void LedgerListener::drop() {
  if (m_state->conn != nullptr) PQfinish(m_state->conn);
  m_state->conn = nullptr;
}

absl::Status LedgerListener::connect() {
  drop();
  // connect_timeout first: the DSN's own setting, if any, overrides it.
  const char* keys[] = {"connect_timeout", "dbname", nullptr};
  const char* values[] = {"3", m_dsn.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    std::string why = conn != nullptr ? PQerrorMessage(conn) : "out of memory";
    if (conn != nullptr) PQfinish(conn);
    return absl::UnavailableError(pg::cat("ledger listener: cannot connect: ", why));
  }
  PGresult* res = PQexec(conn, "LISTEN depot_ledger");
  const bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
  std::string why = ok ? "" : PQresultErrorMessage(res);
  PQclear(res);
  if (!ok) {
    PQfinish(conn);
    return absl::UnavailableError(pg::cat("ledger listener: LISTEN failed: ", why));
  }
  m_state->conn = conn;
  m_state->fresh = true;
  return absl::OkStatus();
}

absl::StatusOr<bool> LedgerListener::wait(std::chrono::milliseconds timeout) {
  if (m_state->conn == nullptr || PQstatus(m_state->conn) != CONNECTION_OK) {
    if (auto st = connect(); !st.ok()) return st;
  }
  if (m_state->fresh) {
    m_state->fresh = false;
    return true;
  }
  auto drain = [&] {
    bool any = false;
    while (PGnotify* n = PQnotifies(m_state->conn)) {
      any = true;
      PQfreemem(n);
    }
    return any;
  };
  if (drain()) return true;
  pollfd pfd{PQsocket(m_state->conn), POLLIN, 0};
  const int rc = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
  if (rc <= 0) return false;
  if (PQconsumeInput(m_state->conn) == 0) {
    std::string why = PQerrorMessage(m_state->conn);
    drop();
    return absl::UnavailableError(pg::cat("ledger listener: connection lost: ", why));
  }
  return drain();
}

}  // namespace depot
