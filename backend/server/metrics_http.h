// MetricsHttpServer: serves GET /metrics (Prometheus text format 0.0.4) and
// GET /healthz over HTTP on its own thread (cpp-httplib).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace httplib {
class Server;
}

namespace depot::server {

class MetricsHttpServer {
 public:
  using Render = std::function<std::string()>;
  // Binds `listen` ("host:port"; port 0 picks one) at once, so a port in use
  // is reported here: UNAVAILABLE "cannot listen on ...".
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> start(const std::string& listen,
                                                                  Render render);
  ~MetricsHttpServer();  // stop()s
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  int port() const { return m_port; }
  void stop();  // idempotent

 private:
  MetricsHttpServer() = default;
  std::unique_ptr<httplib::Server> m_http;
  std::thread m_thread;
  int m_port = 0;
};

}  // namespace depot::server
