// An in-process depotd: SqliteStore in a QTemporaryDir, the real core, the
// gRPC server and the /metrics listener on loopback ports chosen in
// 21000-21999 (retried on conflict; never the ephemeral range).
#pragma once

#include <grpcpp/grpcpp.h>

#include <QTemporaryDir>
#include <QtTest>
#include <random>

#include "core/service.h"
#include "server/metrics.h"
#include "server/metrics_http.h"
#include "server/server.h"
#include "store/sqlite/sqlite_store.h"

namespace depot::test {

inline int randomPort() {
  static std::mt19937 rng(std::random_device{}());
  return std::uniform_int_distribution<int>(21000, 21999)(rng);
}

struct ServerFixture {
  QTemporaryDir dir;
  std::unique_ptr<SqliteStore> store;
  SystemClock clock;
  std::unique_ptr<InventoryService> core;
  server::ServerMetrics metrics;
  std::unique_ptr<server::DepotServer> server;
  std::unique_ptr<server::MetricsHttpServer> http;
  std::shared_ptr<grpc::Channel> channel;

  // Returns an empty string on success, else what failed.
  std::string start(server::ServerOptions options = {}) {
    SqliteStore::Options so;
    so.path = dir.filePath("depot.db").toStdString();
    so.sync = SqliteStore::Options::Sync::kOff;
    auto s = SqliteStore::open(so);
    if (!s.ok()) return "store: " + s.status().ToString();
    store = std::move(*s);
    ServiceOptions co;
    co.writers = 2;
    auto c = InventoryService::start(*store, clock, co);
    if (!c.ok()) return "core: " + c.status().ToString();
    core = std::move(*c);
    for (int attempt = 0; attempt < 30 && !server; ++attempt) {
      options.listen = "127.0.0.1:" + std::to_string(randomPort());
      auto srv = server::DepotServer::start(*core, metrics, options);
      if (srv.ok()) server = std::move(*srv);
    }
    if (!server) return "no free gRPC port in 21000-21999";
    InventoryService* svc = core.get();
    for (int attempt = 0; attempt < 30 && !http; ++attempt) {
      auto h = server::MetricsHttpServer::start(
          "127.0.0.1:" + std::to_string(randomPort()),
          [svc, this] { return server::renderPrometheus(*svc, metrics); });
      if (h.ok()) http = std::move(*h);
    }
    if (!http) return "no free metrics port in 21000-21999";
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 * 1024 * 1024);
    args.SetMaxSendMessageSize(64 * 1024 * 1024);
    channel =
        grpc::CreateCustomChannel(server->address(), grpc::InsecureChannelCredentials(), args);
    if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
      return "channel did not connect";
    }
    return {};
  }

  void stop() {
    if (server) server->shutdown(std::chrono::seconds(3));
    if (core) core->stop();
    if (http) http->stop();
    server.reset();
    core.reset();
    store.reset();
  }

  ~ServerFixture() { stop(); }
};

// A ClientContext with a deadline: every call in the tests is bounded.
inline std::unique_ptr<grpc::ClientContext> ctx(int seconds = 10) {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return c;
}

}  // namespace depot::test
