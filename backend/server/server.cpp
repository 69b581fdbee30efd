#include "server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <atomic>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "server/catalog_service.h"
#include "server/inventory_service.h"
#include "server/log.h"
#include "server/operations_service.h"
#include "server/stocktake_service.h"

namespace depot::server {

struct DepotServer::Impl {
  Impl(InventoryService& core, ServerMetrics& metrics, const ServerOptions& options)
      : executor(options.executor_threads),
        env{core,
            metrics,
            executor,
            streams,
            clock,
            options.node_id,
            options.listen,
            options.heartbeat,
            options.apply_stream_max_in_flight,
            options.router,
            options.cluster,
            options.max_concurrent_calls},
        inventory(env),
        catalog(env),
        stocktake(env),
        operations(env) {}

  SystemClock clock;
  StreamRegistry streams;
  Executor executor;
  ServiceEnv env;
  InventoryGrpcService inventory;
  CatalogGrpcService catalog;
  StocktakeGrpcService stocktake;
  OperationsGrpcService operations;
  std::unique_ptr<grpc::Server> server;
  std::string host;
  int port = 0;
  std::once_flag shutdownOnce;

  // Housekeeping, every second on the executor: logs slow and failed group
  // commits seen since the previous tick (one line each, not per commit).
  std::atomic<bool> stopping{false};
  Histogram::Snapshot lastCommits;
  std::uint64_t lastFailures = 0;

  void scheduleHousekeeping() {
    if (stopping.load()) return;
    executor.postAfter(std::chrono::seconds(1), [this] {
      if (stopping.load()) return;
      housekeeping();
      scheduleHousekeeping();
    });
  }

  void housekeeping() {
    Stats& stats = env.core.stats();
    auto now = stats.commit_seconds.snapshot();
    const auto delta = now.minus(lastCommits);
    std::uint64_t slow = 0;
    for (std::size_t i = 1; i < delta.counts.size(); ++i) {
      if (delta.bounds[i - 1] >= kSlowCommitSeconds * 0.999) slow += delta.counts[i];
    }
    if (slow > 0) {
      logWarn("slow_commits")
          .kv("count", slow)
          .kv("commits", delta.count)
          .kv("over_ms", kSlowCommitSeconds * 1000)
          .kv("p99_ms", delta.quantile(0.99) * 1000);
    }
    lastCommits = std::move(now);
    const std::uint64_t failures = stats.commit_failures.load();
    if (failures > lastFailures) {
      logError("commit_failures").kv("count", failures - lastFailures).kv("total", failures);
    }
    lastFailures = failures;
  }

  static constexpr double kSlowCommitSeconds = 0.1;
};

DepotServer::DepotServer(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

DepotServer::~DepotServer() { shutdown(); }

absl::StatusOr<std::unique_ptr<DepotServer>> DepotServer::start(InventoryService& core,
                                                                ServerMetrics& metrics,
                                                                ServerOptions options) {
  const auto colon = options.listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == options.listen.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen: expected HOST:PORT, got '", options.listen, "'"));
  }
  auto impl = std::make_unique<Impl>(core, metrics, options);
  impl->host = options.listen.substr(0, colon);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int selected = 0;
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(), &selected);
  builder.SetMaxReceiveMessageSize(kMaxReceiveMessageBytes);
  builder.SetMaxSendMessageSize(kMaxSendMessageBytes);
  // Refuse a second server on the same port instead of sharing it.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Admission per connection: at most this many calls in flight on one
  // HTTP/2 connection (the shard queues bound the rest).
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, kMaxStreamsPerConnection);
  builder.RegisterService(&impl->inventory);
  builder.RegisterService(&impl->catalog);
  builder.RegisterService(&impl->stocktake);
  builder.RegisterService(&impl->operations);
  impl->server = builder.BuildAndStart();
  if (!impl->server || selected == 0) {
    impl->executor.stop();
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen,
                     ": address in use, not permitted, or not a local address"));
  }
  impl->port = selected;
  impl->lastCommits = core.stats().commit_seconds.snapshot();
  impl->lastFailures = core.stats().commit_failures.load();
  impl->scheduleHousekeeping();
  if (options.listen.substr(colon + 1) == "0") {
    // Port 0 (tests only): the real port is known just now. Production
    // listens on a fixed port, which env.endpoint already names.
    impl->env.endpoint = absl::StrCat(impl->host, ":", selected);
  }
  if (auto* health = impl->server->GetHealthCheckService()) {
    health->SetServingStatus(true);
  }
  return std::unique_ptr<DepotServer>(new DepotServer(std::move(impl)));
}

int DepotServer::port() const { return m_impl->port; }

std::string DepotServer::address() const { return absl::StrCat(m_impl->host, ":", m_impl->port); }

void DepotServer::shutdown(std::chrono::milliseconds deadline) {
  std::call_once(m_impl->shutdownOnce, [&] {
    if (auto* health = m_impl->server->GetHealthCheckService()) {
      health->SetServingStatus(false);
    }
    const std::size_t open = m_impl->streams.size();
    m_impl->streams.stopAll();
    logInfo("shutdown_streams").kv("streams", static_cast<std::uint64_t>(open));
    m_impl->server->Shutdown(std::chrono::system_clock::now() + deadline);
    m_impl->server->Wait();
    logInfo("shutdown_grpc_stopped");
    // Runs pending timers at once so every reactor releases itself.
    m_impl->stopping.store(true);
    m_impl->executor.stop();
  });
}

}  // namespace depot::server
