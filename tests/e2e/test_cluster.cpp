// The cluster on PostgreSQL, end to end: `packaging/cluster/up` starts a real
// PostgreSQL 15 primary + streaming standby and 3 depotd nodes; clients apply
// movements through any node while faults are injected:
//
//   killNine     kill -9 of the node holding the most shards: its shards move
//                to the others within 15 s (the real figure is printed), no
//                acknowledged movement is lost, none is applied twice although
//                clients retry, and `depotd --verify` replays the ledger.
//   pausedNode   SIGSTOP of a node past its lease: the others take its shards;
//                resumed, it commits nothing to them (requests it held are
//                applied exactly once, by the new owners), seqs stay gap-free.
//   ordersAcrossNodes  a Reserve whose lines are on shards of two nodes is
//                split into parts, applied once on a retry through another
//                node, undone on both when one part fails, committed whole.
//   alertsEverywhere  an alert raised by a shard's owner is listed by every
//                node (nodes follow each other's alerts in the store).
//   standbyReads ListStock served by the hot standby, staleness reported.
//   promotion    the primary is stopped and the standby promoted with
//                pg_ctl promote: the nodes reconnect through the multi-host
//                DSN, and a Watch opened before the switch receives every
//                committed entry, in order, without a gap.
//
// Needs root (PostgreSQL runs as user postgres): skipped otherwise. Every
// wait is bounded.
#include <signal.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "depot/v1/operations.grpc.pb.h"
#include "depotd_process.h"

using namespace depot::test;
namespace v1 = depot::v1;

namespace {

QString sourceDir() { return QString::fromUtf8(qgetenv("DEPOT_SOURCE_DIR")); }

// Runs a command; returns (exit code, stdout).
std::pair<int, QString> run(const QString& program, const QStringList& args, int timeout_ms,
                            const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment()) {
  QProcess p;
  p.setProcessEnvironment(env);
  p.setProcessChannelMode(QProcess::SeparateChannels);
  p.start(program, args);
  if (!p.waitForFinished(timeout_ms)) {
    p.kill();
    p.waitForFinished(5000);
    return {-1, "timeout"};
  }
  const QString out = QString::fromUtf8(p.readAllStandardOutput()).trimmed();
  if (p.exitCode() != 0)
    return {p.exitCode(), out + "\n" + QString::fromUtf8(p.readAllStandardError()).right(3000)};
  return {0, out};
}

struct Cluster {
  QString dir;
  std::map<QString, QString> env;         // DIR/env
  std::map<QString, qint64> pids;         // DIR/pids
  std::map<QString, QString> endpoints;   // node1 -> host:port
  int primary_port = 0;

  QString psql(const QString& sql, int port = 0) const {
    auto [rc, out] = run("runuser", {"-u", "postgres", "--", "/usr/lib/postgresql/15/bin/psql",
                                     "-h", "127.0.0.1", "-p",
                                     QString::number(port ? port : primary_port), "-U",
                                     "postgres", "-d", "depot", "-At", "-c", sql},
                         30000);
    return rc == 0 ? out : QString("ERROR rc=%1 %2").arg(rc).arg(out);
  }
  // Shards whose unexpired lease `node` holds.
  int shardsOf(const QString& node) const {
    return psql(QString("SELECT count(*) FROM shards WHERE owner = '%1' AND lease_expires_at > "
                        "now()")
                    .arg(node))
        .toInt();
  }
};

bool readCluster(const QString& dir, Cluster* c) {
  c->dir = dir;
  QFile envFile(dir + "/env");
  if (!envFile.open(QIODevice::ReadOnly)) return false;
  for (const QString& line : QString::fromUtf8(envFile.readAll()).split('\n')) {
    const int eq = line.indexOf('=');
    if (eq <= 0) continue;
    QString v = line.mid(eq + 1);
    if (v.size() >= 2 && (v.startsWith('\'') || v.startsWith('"'))) v = v.mid(1, v.size() - 2);
    c->env[line.left(eq)] = v;
  }
  QFile pidFile(dir + "/pids");
  if (!pidFile.open(QIODevice::ReadOnly)) return false;
  for (const QString& line : QString::fromUtf8(pidFile.readAll()).split('\n')) {
    const auto parts = line.split(' ', Qt::SkipEmptyParts);
    if (parts.size() == 2) c->pids[parts[0]] = parts[1].toLongLong();
  }
  const auto eps = c->env["ENDPOINTS"].split(',', Qt::SkipEmptyParts);
  for (int i = 0; i < eps.size(); ++i) c->endpoints[QString("node%1").arg(i + 1)] = eps[i];
  c->primary_port = c->env["PRIMARY_PORT"].toInt();
  return !c->endpoints.empty() && c->primary_port > 0;
}

// Clients applying RECEIVE 1 movements with unique request ids through the
// live nodes, each retried (same request_id, any node) until acknowledged.
class Traffic {
 public:
  Traffic(std::string prefix, std::vector<std::string> endpoints, int threads)
      : m_prefix(std::move(prefix)), m_endpoints(std::move(endpoints)) {
    for (int t = 0; t < threads; ++t) m_threads.emplace_back([this, t] { loop(t); });
  }
  ~Traffic() { stop(); }
  void setEndpoints(std::vector<std::string> eps) {
    std::lock_guard lock(m_mutex);
    m_endpoints = std::move(eps);
  }
  void stop() {
    m_stop = true;
    for (auto& t : m_threads)
      if (t.joinable()) t.join();
  }
  std::size_t acked() const { return m_acked.load(); }
  std::size_t retries() const { return m_retries.load(); }
  // Movements that were never acknowledged within the bound (must be 0).
  std::size_t abandoned() const { return m_abandoned.load(); }

 private:
  void loop(int t) {
    std::mt19937 rng(static_cast<unsigned>(t * 7919 + 17));
    for (std::uint64_t i = 0; !m_stop.load(); ++i) {
      v1::ApplyRequest req;
      auto* m = req.add_movements();
      m->set_request_id(m_prefix + "-" + std::to_string(t) + "-" + std::to_string(i));
      m->set_kind(v1::MOVEMENT_KIND_RECEIVE);
      m->set_sku("S-" + std::to_string(rng() % 64));
      m->set_location("w1/A");
      m->set_quantity(1);
      m->set_actor("cluster-test");
      // Bounded: 40 s of retries per movement (a takeover takes ~ttl).
      bool ok = false;
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(40);
      for (int attempt = 0; !ok && std::chrono::steady_clock::now() < give_up; ++attempt) {
        std::string ep;
        {
          std::lock_guard lock(m_mutex);
          ep = m_endpoints[(i + attempt) % m_endpoints.size()];
        }
        auto stub = v1::Inventory::NewStub(channel(ep));
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
        v1::ApplyResponse resp;
        grpc::Status s = stub->Apply(&ctx, req, &resp);
        ok = s.ok() && resp.results_size() == 1 && resp.results(0).code() == 0;
        if (!ok) {
          ++m_retries;
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
      }
      if (ok)
        ++m_acked;
      else
        ++m_abandoned;
    }
  }
  std::shared_ptr<grpc::Channel> channel(const std::string& ep) {
    std::lock_guard lock(m_mutex);
    auto& ch = m_channels[ep];
    if (!ch) ch = grpc::CreateChannel(ep, grpc::InsecureChannelCredentials());
    return ch;
  }

  const std::string m_prefix;
  std::mutex m_mutex;
  std::vector<std::string> m_endpoints;
  std::map<std::string, std::shared_ptr<grpc::Channel>> m_channels;
  std::atomic<bool> m_stop{false};
  std::atomic<std::size_t> m_acked{0}, m_retries{0}, m_abandoned{0};
  std::vector<std::thread> m_threads;
};

}  // namespace

class TestCluster : public QObject {
  Q_OBJECT
 private:
  QTemporaryDir m_tmp;
  Cluster m_c;
  bool m_up = false;

  std::vector<std::string> liveEndpoints(const std::set<QString>& exclude = {}) const {
    std::vector<std::string> out;
    for (const auto& [node, ep] : m_c.endpoints)
      if (!exclude.count(node)) out.push_back(ep.toStdString());
    return out;
  }

  // Every acknowledged id of `prefix` is in the ledger exactly once; the
  // ledger has no gap; depotd --verify replays it cleanly.
  void checkLedger(const QString& prefix, std::size_t acked, int port = 0) {
    const QString dup = m_c.psql(QString("SELECT count(*) FROM (SELECT request_id FROM ledger "
                                         "WHERE request_id LIKE '%1-%%' GROUP BY request_id "
                                         "HAVING count(*) > 1) d")
                                     .arg(prefix),
                                 port);
    QCOMPARE(dup, QString("0"));
    const QString n = m_c.psql(
        QString("SELECT count(*) FROM ledger WHERE request_id LIKE '%1-%%'").arg(prefix), port);
    // Every acknowledged movement is there; at most one per client thread
    // more (sent, applied, its acknowledgement lost when the test stopped).
    QVERIFY2(n.toULongLong() >= acked && n.toULongLong() <= acked + 8,
             qPrintable(QString("ledger has %1 rows of %2, %3 acknowledged").arg(n, prefix).arg(acked)));
    const QString gaps = m_c.psql(
        "SELECT count(*) FROM (SELECT shard FROM ledger GROUP BY shard "
        "HAVING max(seq) <> count(*) OR min(seq) <> 1) g",
        port);
    QCOMPARE(gaps, QString("0"));
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    auto [rc, out] = run(binary("depotd"),
                         {"--verify", "--store", "postgres", "--pg-dsn", m_c.env["DSN"]}, 120000);
    QVERIFY2(rc == 0, qPrintable(out));
  }

  // Seconds until `node` holds no live lease (or -1 past the bound).
  double waitShardsMoved(const QString& node, double bound_s) {
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < bound_s * 1000) {
      if (m_c.shardsOf(node) == 0 &&
          m_c.psql("SELECT count(*) FROM shards WHERE owner IS NULL OR lease_expires_at <= now()") ==
              "0")
        return t.elapsed() / 1000.0;
      QThread::msleep(100);
    }
    return -1;
  }

 private slots:
  void initTestCase() {
    if (::geteuid() != 0) QSKIP("the cluster needs root (PostgreSQL runs as user postgres)");
    QVERIFY(m_tmp.isValid());
    QVERIFY(!sourceDir().isEmpty());
    // The postgres user must reach the PostgreSQL directories inside.
    QVERIFY(QFile::setPermissions(m_tmp.path(), QFileDevice::ReadOwner | QFileDevice::WriteOwner |
                                                    QFileDevice::ExeOwner | QFileDevice::ReadOther |
                                                    QFileDevice::ExeOther | QFileDevice::ReadGroup |
                                                    QFileDevice::ExeGroup));
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("DEPOT_SKIP_BUILD", "1");  // ctest built everything first
    const QString dir = m_tmp.path() + "/cluster";
    auto [rc, out] = run(sourceDir() + "/packaging/cluster/up", {"--nodes", "3", "--dir", dir},
                         180000, env);
    QVERIFY2(rc == 0, qPrintable(QString("cluster/up failed (%1): %2").arg(rc).arg(out)));
    m_up = true;
    QVERIFY(readCluster(dir, &m_c));
    // The contract: the last stdout line is the endpoints.
    QCOMPARE(out.split('\n').last(), m_c.env["ENDPOINTS"]);
    QCOMPARE(int(m_c.endpoints.size()), 3);
    QVERIFY(seedCatalog(grpc::CreateChannel(m_c.endpoints["node1"].toStdString(),
                                            grpc::InsecureChannelCredentials()),
                        64));
    // All 256 shards leased, spread over the three nodes.
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < 20000 &&
           m_c.psql("SELECT count(DISTINCT owner) FROM shards WHERE lease_expires_at > now()") != "3")
      QThread::msleep(200);
    QCOMPARE(m_c.psql("SELECT count(DISTINCT owner) FROM shards WHERE lease_expires_at > now()"),
             QString("3"));
  }

  void cleanupTestCase() {
    if (m_up) run(sourceDir() + "/packaging/cluster/down", {"--dir", m_c.dir}, 120000);
  }

 private:
  // Items X-0..X-39 through node1; returns sku -> owner node of its shard.
  std::map<std::string, QString> itemsWithOwners(const std::string& prefix, long reorder_point) {
    std::map<std::string, QString> owners;
    auto cat = v1::Catalog::NewStub(grpc::CreateChannel(m_c.endpoints.begin()->second.toStdString(),
                                                        grpc::InsecureChannelCredentials()));
    v1::UpsertItemsRequest req;
    for (int i = 0; i < 40; ++i) {
      auto* it = req.add_items();
      it->set_sku(prefix + std::to_string(i));
      it->set_description("cluster test");
      it->set_reorder_point(reorder_point);
    }
    v1::UpsertItemsResponse resp;
    grpc::ClientContext ctx;
    if (!cat->UpsertItems(&ctx, req, &resp).ok()) return owners;
    for (const auto& it : resp.items())
      owners[it.sku()] =
          m_c.psql(QString("SELECT owner FROM shards WHERE shard = %1").arg(it.shard()));
    return owners;
  }

  v1::Inventory::Stub* node(const QString& name) {
    auto& stub = m_stubs[name];
    if (!stub)
      stub = v1::Inventory::NewStub(grpc::CreateChannel(m_c.endpoints[name].toStdString(),
                                                        grpc::InsecureChannelCredentials()));
    return stub.get();
  }

  std::pair<long, long> stockOf(const std::string& sku) {
    v1::GetStockRequest req;
    req.set_sku(sku);
    v1::StockResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    if (!node("node3")->GetStock(&ctx, req, &resp).ok() || resp.balances_size() == 0) return {-1, -1};
    return {resp.balances(0).on_hand(), resp.balances(0).reserved()};
  }

  std::map<QString, std::unique_ptr<v1::Inventory::Stub>> m_stubs;

 private slots:
  void ordersAcrossNodes() {
    auto owners = itemsWithOwners("X-", 0);
    QCOMPARE(owners.size(), std::size_t{40});
    // Two SKUs whose shards two different nodes hold.
    std::string a, b;
    for (const auto& [sku, owner] : owners)
      for (const auto& [sku2, owner2] : owners)
        if (a.empty() && owner != owner2 && !owner.isEmpty() && !owner2.isEmpty()) {
          a = sku;
          b = sku2;
        }
    QVERIFY2(!a.empty(), "no two SKUs on different nodes");
    {
      v1::ApplyRequest req;
      for (const auto& sku : {a, b}) {
        auto* m = req.add_movements();
        m->set_request_id("oa-recv-" + sku);
        m->set_kind(v1::MOVEMENT_KIND_RECEIVE);
        m->set_sku(sku);
        m->set_location("w1/A");
        m->set_quantity(10);
      }
      v1::ApplyResponse resp;
      grpc::ClientContext ctx;
      QVERIFY(node("node1")->Apply(&ctx, req, &resp).ok());
      QCOMPARE(resp.results_size(), 2);
      QCOMPARE(resp.results(0).code(), 0);
      QCOMPARE(resp.results(1).code(), 0);
    }
    auto reserve = [&](const QString& via, const std::string& rid, const std::string& order,
                       long qa, long qb, v1::OrderResponse* resp) {
      v1::ReserveRequest req;
      req.set_request_id(rid);
      req.set_order_id(order);
      for (auto [sku, q] : {std::pair{a, qa}, {b, qb}}) {
        auto* l = req.add_lines();
        l->set_sku(sku);
        l->set_location("w1/A");
        l->set_quantity(q);
      }
      grpc::ClientContext ctx;
      return node(via)->Reserve(&ctx, req, resp);
    };
    v1::OrderResponse r1;
    grpc::Status s1 = reserve("node3", "oa-r1", "OA-1", 4, 4, &r1);
    QVERIFY2(s1.ok(), s1.error_message().c_str());
    QCOMPARE(r1.after_size(), 2);
    QCOMPARE(stockOf(a), std::make_pair(10L, 4L));
    QCOMPARE(stockOf(b), std::make_pair(10L, 4L));
    // The same request through another node: the first result, nothing twice.
    v1::OrderResponse again;
    QVERIFY(reserve("node2", "oa-r1", "OA-1", 4, 4, &again).ok());
    QVERIFY(again.replayed());
    QCOMPARE(stockOf(a), std::make_pair(10L, 4L));
    // One part cannot be met: the other part is undone (the saga).
    v1::OrderResponse r2;
    grpc::Status s2 = reserve("node1", "oa-r2", "OA-2", 3, 100, &r2);
    QCOMPARE(s2.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    QCOMPARE(stockOf(a), std::make_pair(10L, 4L));
    QCOMPARE(stockOf(b), std::make_pair(10L, 4L));
    // Commit the whole order through a third node.
    v1::CommitRequest creq;
    creq.set_request_id("oa-c1");
    creq.set_order_id("OA-1");
    v1::OrderResponse cresp;
    grpc::ClientContext cctx;
    grpc::Status s3 = node("node2")->Commit(&cctx, creq, &cresp);
    QVERIFY2(s3.ok(), s3.error_message().c_str());
    QCOMPARE(stockOf(a), std::make_pair(6L, 0L));
    QCOMPARE(stockOf(b), std::make_pair(6L, 0L));
  }

  void alertsEverywhere() {
    auto owners = itemsWithOwners("Y-", 50);
    QCOMPARE(owners.size(), std::size_t{40});
    v1::ApplyRequest req;
    auto* m = req.add_movements();
    m->set_request_id("al-recv-1");
    m->set_kind(v1::MOVEMENT_KIND_RECEIVE);
    m->set_sku("Y-7");
    m->set_location("w1/A");
    m->set_quantity(3);  // below the reorder point of 50: low stock
    v1::ApplyResponse resp;
    grpc::ClientContext ctx;
    QVERIFY(node("node1")->Apply(&ctx, req, &resp).ok());
    QCOMPARE(resp.results(0).code(), 0);
    for (const auto& [name, ep] : m_c.endpoints) {
      auto ops = v1::Operations::NewStub(
          grpc::CreateChannel(ep.toStdString(), grpc::InsecureChannelCredentials()));
      bool seen = false;
      QElapsedTimer t;
      t.start();
      while (!seen && t.elapsed() < 10000) {
        v1::ListAlertsRequest lreq;
        v1::ListAlertsResponse lresp;
        grpc::ClientContext lctx;
        if (ops->ListAlerts(&lctx, lreq, &lresp).ok())
          for (const auto& al : lresp.alerts()) seen = seen || al.subject() == "Y-7";
        if (!seen) QThread::msleep(200);
      }
      QVERIFY2(seen, qPrintable(name + " does not list the low-stock alert of Y-7 (owner " +
                                owners["Y-7"] + ")"));
    }
  }

  // ListStock is a dashboard read: with --pg-standby-dsn (cluster/up sets
  // it) a node answers from the hot standby and says how stale it may be.
  void standbyReads() {
    v1::ListStockRequest req;
    req.set_sku_prefix("X-");
    QElapsedTimer t;
    t.start();
    v1::ListStockResponse resp;
    while (t.elapsed() < 10000) {
      resp.Clear();
      grpc::ClientContext ctx;
      QVERIFY(node("node2")->ListStock(&ctx, req, &resp).ok());
      if (resp.rows_size() >= 2) break;  // the receives of ordersAcrossNodes replicated
      QThread::msleep(100);
    }
    QVERIFY(resp.from_standby());
    QVERIFY2(resp.staleness_ms() >= 0 && resp.staleness_ms() < 5000,
             qPrintable(QString("staleness %1 ms").arg(resp.staleness_ms())));
    QVERIFY(resp.rows_size() >= 2);
    qInfo("ListStock from the standby: %d rows, staleness %lld ms", resp.rows_size(),
          static_cast<long long>(resp.staleness_ms()));
  }

  void killNine() {
    QString victim;
    int most = -1;
    for (const auto& [node, ep] : m_c.endpoints) {
      const int n = m_c.shardsOf(node);
      if (n > most) {
        most = n;
        victim = node;
      }
    }
    QVERIFY(most > 0);
    Traffic traffic("k9", liveEndpoints(), 4);
    QThread::msleep(2000);
    const std::size_t before = traffic.acked();
    QVERIFY2(before > 0, "no movement acknowledged before the kill");
    QCOMPARE(::kill(static_cast<pid_t>(m_c.pids[victim]), SIGKILL), 0);
    traffic.setEndpoints(liveEndpoints({victim}));
    const double moved = waitShardsMoved(victim, 15);
    qInfo("kill -9 of %s (%d shards): shards moved to the other nodes after %.2f s", qPrintable(victim),
          most, moved);
    QVERIFY2(moved >= 0, "the dead node's shards did not move within 15 s");
    QThread::msleep(2000);  // traffic on the new owners
    traffic.stop();
    qInfo("acknowledged %zu movements (%zu before the kill), %zu retries", traffic.acked(), before,
          traffic.retries());
    QCOMPARE(traffic.abandoned(), std::size_t{0});
    QVERIFY(traffic.acked() > before);
    checkLedger("k9", traffic.acked());
    m_c.endpoints.erase(victim);
  }

  void pausedNode() {
    QVERIFY(m_c.endpoints.size() >= 2);
    const QString victim = m_c.endpoints.begin()->first;
    const int held = m_c.shardsOf(victim);
    QVERIFY(held > 0);
    // Clients send through every node, the paused one included: what it has
    // queued when it resumes must not be committed by it.
    Traffic traffic("ss", liveEndpoints(), 4);
    QThread::msleep(1500);
    const pid_t pid = static_cast<pid_t>(m_c.pids[victim]);
    QCOMPARE(::kill(pid, SIGSTOP), 0);
    const double moved = waitShardsMoved(victim, 15);
    qInfo("SIGSTOP of %s (%d shards): shards moved after %.2f s", qPrintable(victim), held, moved);
    if (moved < 0) ::kill(pid, SIGCONT);
    QVERIFY2(moved >= 0, "the paused node's shards did not move within 15 s");
    QThread::msleep(1000);
    QCOMPARE(::kill(pid, SIGCONT), 0);
    QThread::msleep(3000);  // it notices the lost leases; clients retry
    traffic.stop();
    QCOMPARE(traffic.abandoned(), std::size_t{0});
    checkLedger("ss", traffic.acked());
    // It took nothing back by force: every lease it holds now was handed to
    // it by the rebalancing after it came back (a new epoch), never the old.
    QFile log(m_c.dir + "/" + victim + ".log");
    QVERIFY(log.open(QIODevice::ReadOnly));
    const QByteArray text = log.readAll();
    QVERIFY2(text.contains("event=lease_lost"), "the resumed node did not notice its lost leases");
  }

  void promotion() {
    const QString watcherNode = m_c.endpoints.begin()->first;
    auto ch = grpc::CreateChannel(m_c.endpoints[watcherNode].toStdString(),
                                  grpc::InsecureChannelCredentials());
    // A Watch from the beginning of the ledger, opened before the switch.
    std::atomic<bool> stop{false};
    std::mutex mutex;
    std::map<std::uint32_t, std::uint64_t> last;  // shard -> last seq received
    std::atomic<std::size_t> gaps{0}, events{0};
    grpc::ClientContext wctx;
    const QString ledgerId = m_c.psql("SELECT value FROM meta WHERE key = 'ledger_id'");
    std::thread watcher([&] {
      auto stub = v1::Inventory::NewStub(ch);
      v1::WatchRequest wreq;
      wreq.mutable_cursor()->set_ledger_id(ledgerId.toStdString());
      for (int s = 0; s < 256; ++s) wreq.mutable_cursor()->add_seqs(0);  // from the beginning
      auto reader = stub->Watch(&wctx, wreq);
      v1::WatchEvent ev;
      while (reader->Read(&ev)) {
        std::lock_guard lock(mutex);
        for (const auto& e : ev.entries()) {
          auto& l = last[e.shard()];
          if (e.seq() != l + 1) ++gaps;
          l = e.seq();
          ++events;
        }
      }
    });
    Traffic traffic("pr", liveEndpoints(), 4);
    QThread::msleep(1500);
    // Planned switchover: stop the primary (fast: it ships its WAL to the
    // standby first), promote the standby.
    const QString pg = "/usr/lib/postgresql/15/bin/pg_ctl";
    const QString pgdir = m_c.dir + "/pg";
    auto [rc1, out1] = run("runuser", {"-u", "postgres", "--", pg, "-D", pgdir + "/primary", "-m",
                                       "fast", "-w", "-t", "60", "stop"},
                           90000);
    QVERIFY2(rc1 == 0, qPrintable(out1));
    QElapsedTimer t;
    t.start();
    auto [rc2, out2] =
        run("runuser", {"-u", "postgres", "--", pg, "-D", pgdir + "/standby", "-w", "promote"}, 90000);
    QVERIFY2(rc2 == 0, qPrintable(out2));
    const int newPrimary = m_c.env["STANDBY_PORT"].toInt();
    QThread::msleep(3000);
    traffic.stop();
    qInfo("promotion: %zu movements acknowledged across the switch, %zu retries", traffic.acked(),
          traffic.retries());
    QCOMPARE(traffic.abandoned(), std::size_t{0});
    m_c.primary_port = newPrimary;
    checkLedger("pr", traffic.acked(), newPrimary);
    // The Watch catches up with everything committed, without a gap.
    const QString total = m_c.psql("SELECT count(*) FROM ledger", newPrimary);
    QElapsedTimer w;
    w.start();
    while (w.elapsed() < 20000 && events.load() < total.toULongLong()) QThread::msleep(100);
    qInfo("watch caught up: %zu of %s entries %.2f s after the traffic stopped", events.load(),
          qPrintable(total), w.elapsed() / 1000.0);
    wctx.TryCancel();
    watcher.join();
    QCOMPARE(gaps.load(), std::size_t{0});
    QCOMPARE(QString::number(events.load()), total);
  }
};

QTEST_GUILESS_MAIN(TestCluster)
#include "test_cluster.moc"
