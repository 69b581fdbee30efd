#include "server/daemon.h"

#include <signal.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <system_error>
#include <thread>

#include "absl/strings/match.h"
#include "core/clock.h"
#include "core/ledger_verifier.h"
#include "core/service.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/metrics_http.h"
#include "server/server.h"
#include "core/ledger_follower.h"
#include "server/cluster_node.h"
#include "server/cluster_router.h"
#include "store/postgres/postgres_cluster.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"

namespace depot::server {
namespace {

SqliteStore::Options::Sync parseSync(const std::string& sync) {
  if (sync == "normal") return SqliteStore::Options::Sync::kNormal;
  if (sync == "off") return SqliteStore::Options::Sync::kOff;
  return SqliteStore::Options::Sync::kFull;
}

double millisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

// Waits for SIGINT or SIGTERM (blocked by blockShutdownSignals()).
int waitForShutdownSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  return sig;
}

}  // namespace

void blockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
}

int runDaemon(const DaemonConfig& config) {
  LogLevel level = LogLevel::kInfo;
  parseLogLevel(config.log_level, level);
  setLogLevel(level);
  logInfo("start")
      .kv("version", "0.1.0")
      .kv("node_id", config.node_id)
      .kv("data_dir", config.data_dir)
      .kv("config", config.config_file)
      .kv("writers", config.writers)
      .kv("commits_in_flight", config.commits_in_flight)
      .kv("sync", config.sync);

  const bool clustered = config.store == "postgres";
  auto started = std::chrono::steady_clock::now();
  std::unique_ptr<Store> store;
  if (clustered) {
    PostgresStore::Options pgOptions;
    pgOptions.dsn = config.pg_dsn;
    pgOptions.standby_dsn = config.pg_standby_dsn;
    auto pg = PostgresStore::open(pgOptions);
    if (!pg.ok()) {
      logError("store_open_failed").kv("store", "postgres").kv("error", pg.status().ToString());
      std::fprintf(stderr, "depotd: %s\n", pg.status().ToString().c_str());
      return 1;
    }
    store = std::move(*pg);
  } else {
    std::error_code ec;
    std::filesystem::create_directories(config.data_dir, ec);
    if (ec) {
      logError("data_dir_failed").kv("data_dir", config.data_dir).kv("error", ec.message());
      return 1;
    }
    const std::string dbPath = (std::filesystem::path(config.data_dir) / "depot.db").string();
    SqliteStore::Options storeOptions;
    storeOptions.path = dbPath;
    storeOptions.sync = parseSync(config.sync);
    // Opening applies what the commit log holds and any schema upgrade
    // (v4 -> v5 links ~8 s of history per million ledger entries): say so
    // before a long, otherwise silent, wait.
    logInfo("store_opening").kv("store", "sqlite").kv("path", dbPath);
    auto sqlite = SqliteStore::open(storeOptions);
    if (!sqlite.ok()) {
      logError("store_open_failed").kv("path", dbPath).kv("error", sqlite.status().ToString());
      return 1;
    }
    store = std::move(*sqlite);
  }
  logInfo("store_opened")
      .kv("store", config.store)
      .kv("ledger_id", store->ledgerId())
      .kv("schema_version", store->schemaVersion())
      .kv("ms", millisSince(started));

  started = std::chrono::steady_clock::now();
  SystemClock clock;
  ServiceOptions serviceOptions;
  serviceOptions.writers = config.writers;
  serviceOptions.max_commits_in_flight = static_cast<std::size_t>(config.commits_in_flight);
  serviceOptions.max_queue_delay = static_cast<Micros>(config.max_queue_delay_ms) * 1000;
  serviceOptions.idempotency_window = static_cast<Micros>(config.idempotency_window_s) * 1'000'000;
  serviceOptions.max_remembered_requests =
      static_cast<std::size_t>(config.idempotency_max_requests);
  serviceOptions.cluster_member = clustered;
  auto core = InventoryService::start(*store, clock, serviceOptions);
  if (!core.ok()) {
    logError("recovery_failed").kv("error", core.status().ToString());
    return 1;
  }
  const auto seqs = (*core)->lastSeqs();
  const std::uint64_t entries = std::accumulate(seqs.begin(), seqs.end(), std::uint64_t{0});
  const auto nonEmpty = std::count_if(seqs.begin(), seqs.end(), [](Seq s) { return s > 0; });
  logInfo("recovered")
      .kv("shards", static_cast<std::uint64_t>(kShardCount))
      .kv("shards_with_data", static_cast<std::uint64_t>(nonEmpty))
      .kv("ledger_entries", entries)
      .kv("items", static_cast<std::uint64_t>((*core)->catalog().itemCount()))
      .kv("open_holds", static_cast<std::uint64_t>((*core)->openHolds()))
      .kv("ms", millisSince(started));

  // A cluster member: leases, routing and the ledger follower.
  std::unique_ptr<PostgresCluster> cluster;
  std::unique_ptr<ClusterNode> node;
  std::unique_ptr<ClusterRouter> router;
  std::unique_ptr<LedgerListener> listener;
  std::unique_ptr<LedgerFollower> follower;
  if (clustered) {
    PostgresCluster::Options co;
    co.dsn = config.pg_dsn;
    co.node_id = config.node_id;
    co.endpoint = config.advertise;
    co.lease_ttl = std::chrono::seconds(config.lease_ttl_s);
    auto c = PostgresCluster::create(co);
    if (!c.ok()) {
      std::fprintf(stderr, "depotd: %s\n", std::string(c.status().message()).c_str());
      (*core)->stop();
      return 2;
    }
    cluster = std::move(*c);
    node = std::make_unique<ClusterNode>(*cluster, **core);
    ClusterNode* n = node.get();
    router = std::make_unique<ClusterRouter>(**core, config.node_id,
                                             [n](ShardId s) { return n->route(s); });
    listener = std::make_unique<LedgerListener>(config.pg_dsn);
    LedgerListener* l = listener.get();
    follower = std::make_unique<LedgerFollower>(
        *store, (*core)->events(), [l](std::chrono::milliseconds timeout) {
          auto woken = l->wait(timeout);
          if (woken.ok()) return *woken;
          std::this_thread::sleep_for(timeout);  // PostgreSQL away: poll on the timer
          return false;
        });
    node->start();
    follower->start();
    logInfo("cluster_joined")
        .kv("node_id", config.node_id)
        .kv("advertise", config.advertise)
        .kv("lease_ttl_s", config.lease_ttl_s)
        .kv("shards_served", static_cast<std::uint64_t>(node->shardsServed()));
  }

  ServerMetrics metrics;
  std::unique_ptr<MetricsHttpServer> http;
  if (config.metrics_listen != "off") {
    InventoryService* service = core->get();
    auto h = MetricsHttpServer::start(config.metrics_listen, [service, &metrics, &node,
                                                              &follower] {
      if (!node) return renderPrometheus(*service, metrics);
      ClusterMetrics cm;
      const ClusterStats st = node->stats();
      cm.shards_served = node->shardsServed();
      for (const auto& n : node->lastView().nodes) cm.live_nodes += n.alive ? 1 : 0;
      cm.shards_acquired = st.acquired;
      cm.shards_released = st.released;
      cm.leases_lost = st.lost;
      cm.tick_failures = st.tick_failures;
      cm.follower_lag_entries = follower ? follower->lastLagEntries() : 0;
      return renderPrometheus(*service, metrics, &cm);
    });
    if (!h.ok()) {
      logError("listen_failed")
          .kv("what", "metrics")
          .kv("addr", config.metrics_listen)
          .kv("error", std::string(h.status().message()));
      std::fprintf(stderr, "depotd: %s\n", std::string(h.status().message()).c_str());
      if (node) node->stop();
      if (follower) follower->stop();
      (*core)->stop();
      return 1;
    }
    http = std::move(*h);
    logInfo("listening").kv("what", "metrics").kv("addr", config.metrics_listen);
  }

  ServerOptions serverOptions;
  serverOptions.listen = config.listen;
  serverOptions.node_id = config.node_id;
  serverOptions.max_concurrent_calls = config.max_concurrent_calls;
  serverOptions.router = router.get();
  serverOptions.cluster = node.get();
  auto server = DepotServer::start(**core, metrics, serverOptions);
  if (!server.ok()) {
    logError("listen_failed")
        .kv("what", "grpc")
        .kv("addr", config.listen)
        .kv("error", std::string(server.status().message()));
    std::fprintf(stderr, "depotd: %s\n", std::string(server.status().message()).c_str());
    if (http) http->stop();
    if (node) node->stop();
    if (follower) follower->stop();
    (*core)->stop();
    return 1;
  }
  logInfo("listening").kv("what", "grpc").kv("addr", (*server)->address());

  const int sig = waitForShutdownSignal();
  const auto shutdownStart = std::chrono::steady_clock::now();
  logInfo("shutdown_begin").kv("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  (*server)->shutdown(std::chrono::seconds(5));
  if (node) node->stop();  // hands every shard over before the writers stop
  if (follower) follower->stop();
  logInfo("shutdown_core_stopping")
      .kv("queue_depth", static_cast<std::uint64_t>((*core)->queueDepth()));
  (*core)->stop();
  logInfo("shutdown_core_stopped");
  if (http) http->stop();
  server->reset();
  router.reset();
  node.reset();
  follower.reset();
  core->reset();
  store.reset();
  logInfo("shutdown_complete").kv("ms", millisSince(shutdownStart));
  return 0;
}

namespace {
// Replays the ledger against the balances, prints the report; the exit code.
int reportVerify(Store& store, const std::string& what) {
  const auto started = std::chrono::steady_clock::now();
  VerifyReport report;
  absl::Status st = verifyLedger(store, report);
  std::printf("depotd --verify %s\n%s", what.c_str(), report.format().c_str());
  std::printf("elapsed_ms=%.1f\n", millisSince(started));
  std::fflush(stdout);
  if (!st.ok()) {
    std::fprintf(stderr, "depotd --verify: cannot read the store: %s\n", st.ToString().c_str());
    return 1;
  }
  return report.clean() ? 0 : 1;
}
}  // namespace

int runVerify(const DaemonConfig& config) {
  if (config.store == "postgres") {
    PostgresStore::Options pgOptions;
    pgOptions.dsn = config.pg_dsn;
    pgOptions.read_connections = 2;
    pgOptions.statement_timeout = std::chrono::minutes(10);
    auto pg = PostgresStore::open(pgOptions);
    if (!pg.ok()) {
      std::fprintf(stderr, "depotd --verify: cannot open PostgreSQL: %s\n",
                   pg.status().ToString().c_str());
      return 1;
    }
    return reportVerify(**pg, "postgres ledger " + (*pg)->ledgerId());
  }
  const std::filesystem::path dbPath = std::filesystem::path(config.data_dir) / "depot.db";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(dbPath, ec)) {
    std::fprintf(stderr, "depotd --verify: no database at %s\n", dbPath.string().c_str());
    return 2;
  }
  SqliteStore::Options options;
  options.path = dbPath.string();
  options.read_connections = 2;
  auto store = SqliteStore::open(options);
  if (store.status().code() == absl::StatusCode::kFailedPrecondition &&
      absl::StrContains(store.status().message(), "in use by another writer")) {
    // depotd is running on this directory: verify what it has applied so far
    // (a consistent snapshot) instead of taking the store from it.
    std::fprintf(stderr,
                 "depotd --verify: %s is in use by a running depotd; verifying the ledger it has "
                 "applied so far\n",
                 dbPath.string().c_str());
    options.shared_read = true;
    store = SqliteStore::open(options);
  }
  if (!store.ok()) {
    std::fprintf(stderr, "depotd --verify: cannot open %s: %s\n", dbPath.string().c_str(),
                 store.status().ToString().c_str());
    return 1;
  }
  return reportVerify(**store, dbPath.string());
}

}  // namespace depot::server
