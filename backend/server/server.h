// DepotServer: the gRPC server of depotd — the four depot.v1 services plus
// grpc.health.v1 and server reflection — over a running InventoryService.
// Used by main.cpp and by the in-process tests.
//
// Not thread-safe except shutdown(), which may be called from any thread
// once. The InventoryService must outlive the DepotServer.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/clock.h"
#include "core/service.h"
#include "server/metrics.h"

namespace grpc {
class Server;
}

namespace depot::server {

class ClusterRouter;
class ClusterNode;

struct ServerOptions {
  std::string listen = "127.0.0.1:7070";  // host:port; port 0 picks one
  std::string node_id = "depot-1";
  int executor_threads = 2;
  std::chrono::milliseconds heartbeat{1000};
  std::size_t apply_stream_max_in_flight = 20000;
  int max_concurrent_calls = 512;  // ServiceEnv::max_concurrent_calls
  ClusterRouter* router = nullptr;  // cluster member (outlives the server)
  ClusterNode* cluster = nullptr;
};

class DepotServer {
 public:
  // UNAVAILABLE "cannot listen on ADDR" when the port cannot be bound.
  static absl::StatusOr<std::unique_ptr<DepotServer>> start(InventoryService& core,
                                                            ServerMetrics& metrics,
                                                            ServerOptions options);
  ~DepotServer();  // shutdown()s
  DepotServer(const DepotServer&) = delete;
  DepotServer& operator=(const DepotServer&) = delete;

  int port() const;
  std::string address() const;  // host:port actually bound

  // Marks the health service NOT_SERVING, ends every open stream with
  // UNAVAILABLE, stops accepting calls and waits for running calls up to
  // `deadline` (then cancels them), and drains the executor. Idempotent.
  // The InventoryService keeps running: stop it afterwards.
  void shutdown(std::chrono::milliseconds deadline = std::chrono::seconds(5));

 private:
  struct Impl;
  explicit DepotServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

}  // namespace depot::server
