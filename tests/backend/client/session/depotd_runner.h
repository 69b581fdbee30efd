// A real depotd for the console's tests: started with QProcess on a fixed
// loopback port (so a restart comes back on the same endpoint, as a real
// server would), stopped with SIGTERM or SIGKILL. Every wait is bounded.
// Ports: 24000-24999 (below the ephemeral range).
#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <QElapsedTimer>
#include <QProcess>
#include <QRandomGenerator>
#include <QThread>

#include "client/client.h"

namespace depot::test {

inline QString binDir() {
  const QByteArray dir = qgetenv("DEPOT_BIN_DIR");
  return dir.isEmpty() ? QStringLiteral(".") : QString::fromUtf8(dir);
}

// A port in [lo, hi] nobody listens on now.
inline int freePort(int lo, int hi) {
  for (int i = 0; i < 100; ++i) {
    const int port = lo + QRandomGenerator::global()->bounded(hi - lo + 1);
    auto canBind = [](int p) {
      const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(static_cast<uint16_t>(p));
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      ::close(fd);
      return ok;
    };
    if (canBind(port) && canBind(port + 500)) return port;
  }
  return -1;
}

class DepotdRunner {
 public:
  DepotdRunner(QString dataDir, int port) : m_dataDir(std::move(dataDir)), m_port(port) {}
  ~DepotdRunner() { kill(); }

  QString endpoint() const { return QStringLiteral("127.0.0.1:%1").arg(m_port); }

  bool start(int ms = 30000) {
    m_proc.setProgram(binDir() + QStringLiteral("/depotd"));
    m_proc.setArguments({QStringLiteral("--data-dir"), m_dataDir, QStringLiteral("--listen"), endpoint(),
                         QStringLiteral("--metrics-listen"), QStringLiteral("127.0.0.1:%1").arg(m_port + 500)});
    m_proc.setStandardOutputFile(QProcess::nullDevice());
    m_proc.setStandardErrorFile(m_dataDir + QStringLiteral("/depotd.log"), QIODevice::Append);
    m_proc.start();
    if (!m_proc.waitForStarted(5000)) return false;
    return waitHealthy(ms);
  }

  bool waitHealthy(int ms) {
    client::ClientOptions o;
    o.endpoints = {endpoint().toStdString()};
    o.deadline = std::chrono::milliseconds(1000);
    o.max_attempts = 1;
    auto c = client::Client::create(o);
    if (!c.ok()) return false;
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < ms) {
      if (m_proc.state() != QProcess::Running) return false;
      auto h = (*c)->health();
      if (h.ok() && *h == client::HealthStatus::kServing) return true;
      QThread::msleep(100);
    }
    return false;
  }

  bool terminate(int ms = 20000) {
    if (m_proc.state() == QProcess::NotRunning) return true;
    ::kill(static_cast<pid_t>(m_proc.processId()), SIGTERM);
    if (m_proc.waitForFinished(ms)) return true;
    kill();
    return false;
  }

  void kill() {
    if (m_proc.state() == QProcess::NotRunning) return;
    ::kill(static_cast<pid_t>(m_proc.processId()), SIGKILL);
    m_proc.waitForFinished(10000);
  }

  std::unique_ptr<client::Client> client() {
    client::ClientOptions o;
    o.endpoints = {endpoint().toStdString()};
    o.deadline = std::chrono::milliseconds(5000);
    auto c = client::Client::create(o);
    return c.ok() ? std::move(*c) : nullptr;
  }

 private:
  QString m_dataDir;
  int m_port;
  QProcess m_proc;
};

// Items S-0..S-(n-1) (reorder point 0), locations w1/A, w1/B, w2/C.
inline bool seedCatalog(client::Client& c, int items) {
  v1::UpsertItemsRequest ireq;
  for (int i = 0; i < items; ++i) {
    auto* it = ireq.add_items();
    it->set_sku("S-" + std::to_string(i));
    it->set_description("item " + std::to_string(i));
  }
  if (!c.upsertItems(ireq).ok()) return false;
  v1::UpsertLocationsRequest lreq;
  for (auto [w, code] : {std::pair{"w1", "A"}, {"w1", "B"}, {"w2", "C"}}) {
    auto* l = lreq.add_locations();
    l->set_warehouse(w);
    l->set_code(code);
  }
  return c.upsertLocations(lreq).ok();
}

}  // namespace depot::test
