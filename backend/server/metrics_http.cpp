#include "server/metrics_http.h"

#include <httplib.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace depot::server {

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::start(
    const std::string& listen, Render render) {
  const auto colon = listen.rfind(':');
  int port = -1;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(listen.substr(colon + 1), &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics-listen: expected HOST:PORT, got '", listen, "'"));
  }
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  auto self = std::unique_ptr<MetricsHttpServer>(new MetricsHttpServer());
  self->m_http = std::make_unique<httplib::Server>();
  // httplib sets SO_REUSEPORT by default, which lets a second daemon share
  // the port silently; SO_REUSEADDR alone makes "port in use" an error.
  self->m_http->set_socket_options([](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  self->m_http->Get("/metrics", [render](const httplib::Request&, httplib::Response& res) {
    res.set_content(render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  self->m_http->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  if (port == 0) {
    self->m_port = self->m_http->bind_to_any_port(host);
    if (self->m_port <= 0) {
      return absl::UnavailableError(absl::StrCat("cannot listen on ", listen));
    }
  } else {
    if (!self->m_http->bind_to_port(host, port)) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", listen, ": address in use or not permitted"));
    }
    self->m_port = port;
  }
  self->m_thread = std::thread([http = self->m_http.get()] { http->listen_after_bind(); });
  return self;
}

MetricsHttpServer::~MetricsHttpServer() { stop(); }

void MetricsHttpServer::stop() {
  if (m_http) m_http->stop();
  if (m_thread.joinable()) m_thread.join();
}

}  // namespace depot::server
