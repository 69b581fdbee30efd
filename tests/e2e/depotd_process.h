// A real depotd process for end-to-end tests: started with QProcess on a
// loopback port, health-checked over gRPC, stopped with SIGTERM or killed
// with SIGKILL. Every wait is bounded.
#pragma once

#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <QElapsedTimer>
#include <QProcess>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>

#include "depot/v1/catalog.grpc.pb.h"
#include "depot/v1/inventory.grpc.pb.h"
#include "depot/v1/stocktake.grpc.pb.h"

namespace depot::test {

inline QString binary(const char* name) {
  const QByteArray dir = qgetenv("DEPOT_BIN_DIR");
  return QString::fromUtf8(dir.isEmpty() ? QByteArray(".") : dir) + "/" + name;
}

class DepotdProcess {
 public:
  // Ports are chosen per test binary from [base, base+99], below 32768.
  DepotdProcess(QString data_dir, int base_port) : m_dataDir(std::move(data_dir)), m_base(base_port) {}
  ~DepotdProcess() {
    if (m_proc.state() != QProcess::NotRunning) {
      m_proc.kill();
      m_proc.waitForFinished(5000);
    }
  }

  // Adds to the environment the next start() runs depotd with.
  void setEnv(const QString& name, const QString& value) {
    QProcessEnvironment env = m_proc.processEnvironment();
    if (env.isEmpty()) env = QProcessEnvironment::systemEnvironment();
    env.insert(name, value);
    m_proc.setProcessEnvironment(env);
  }

  bool start(const QStringList& extra = {}) {
    for (int attempt = 0; attempt < 10; ++attempt) {
      m_port = m_base + (attempt * 7 + QRandomGenerator::global()->bounded(50)) % 100;
      m_proc.setProgram(binary("depotd"));
      m_proc.setArguments(QStringList{"--data-dir", m_dataDir, "--listen",
                                      QString("127.0.0.1:%1").arg(m_port), "--metrics-listen",
                                      QString("127.0.0.1:%1").arg(m_port + 100)} +
                          extra);
      m_proc.setProcessChannelMode(QProcess::ForwardedErrorChannel);
      m_proc.setStandardOutputFile(QProcess::nullDevice());
      m_proc.start();
      if (!m_proc.waitForStarted(5000)) return false;
      if (waitHealthy(20000)) return true;
      m_proc.kill();
      m_proc.waitForFinished(5000);  // port taken or slow start: try another port
    }
    return false;
  }

  bool waitHealthy(int ms) {
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < ms) {
      if (m_proc.state() != QProcess::Running) return false;
      auto ch = channel();
      if (ch->WaitForConnected(std::chrono::system_clock::now() + std::chrono::milliseconds(200))) {
        depot::v1::GetStockRequest req;
        req.set_sku("__health_probe__");
        depot::v1::StockResponse resp;
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
        auto st = depot::v1::Inventory::NewStub(ch)->GetStock(&ctx, req, &resp);
        if (st.error_code() != grpc::StatusCode::UNAVAILABLE) return true;
      }
      QThread::msleep(50);
    }
    return false;
  }

  void kill9() {
    ::kill(static_cast<pid_t>(m_proc.processId()), SIGKILL);
    m_proc.waitForFinished(10000);
  }
  // SIGTERM; returns the exit code (-1 if it did not exit in time or crashed).
  int terminate(int ms = 20000) {
    ::kill(static_cast<pid_t>(m_proc.processId()), SIGTERM);
    if (!m_proc.waitForFinished(ms)) return -1;
    return m_proc.exitStatus() == QProcess::NormalExit ? m_proc.exitCode() : -1;
  }

  std::shared_ptr<grpc::Channel> channel() {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 300);
    return grpc::CreateCustomChannel(endpoint(), grpc::InsecureChannelCredentials(), args);
  }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(m_port); }
  int metricsPort() const { return m_port + 100; }

  // Runs `depotd --verify --data-dir DIR`; returns the exit code and output.
  static std::pair<int, QString> verify(const QString& data_dir) {
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(binary("depotd"), {"--verify", "--data-dir", data_dir});
    if (!p.waitForFinished(120000)) return {-1, "timeout"};
    return {p.exitCode(), QString::fromUtf8(p.readAll())};
  }

 private:
  QString m_dataDir;
  int m_base;
  int m_port = 0;
  QProcess m_proc;
};

// Demo-sized catalog through the real API: items S-0..S-(n-1), locations
// w1/A, w1/B, w2/C.
inline bool seedCatalog(const std::shared_ptr<grpc::Channel>& ch, int items, long reorder_point = 0) {
  auto cat = depot::v1::Catalog::NewStub(ch);
  depot::v1::UpsertItemsRequest ireq;
  for (int i = 0; i < items; ++i) {
    auto* it = ireq.add_items();
    it->set_sku("S-" + std::to_string(i));
    it->set_description("item " + std::to_string(i));
    it->set_reorder_point(reorder_point);
  }
  depot::v1::UpsertItemsResponse iresp;
  grpc::ClientContext c1;
  if (!cat->UpsertItems(&c1, ireq, &iresp).ok()) return false;
  depot::v1::UpsertLocationsRequest lreq;
  for (auto [w, c] : {std::pair{"w1", "A"}, {"w1", "B"}, {"w2", "C"}}) {
    auto* l = lreq.add_locations();
    l->set_warehouse(w);
    l->set_code(c);
  }
  depot::v1::UpsertLocationsResponse lresp;
  grpc::ClientContext c2;
  return cat->UpsertLocations(&c2, lreq, &lresp).ok();
}

}  // namespace depot::test
