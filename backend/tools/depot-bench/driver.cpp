// The load driver: closed loop (N requests or stream messages in flight, a
// new one sent as soon as one completes) or open loop (requests sent at
// their intended times; latency is measured from the intended send time, so
// a server that stalls is charged for the queue it causes: no coordinated
// omission). Requests whose intended time falls in the warm-up are sent but
// not counted; the window is [start + warmup, start + warmup + duration).
#include <grpcpp/grpcpp.h>

#include <charconv>
#include <chrono>
#include <thread>
#include <vector>

#include "bench.h"
#include "client/apply_stream.h"
#include "client/async_inventory.h"
#include "sampler.h"
#include "sku_chooser.h"

namespace depot::bench {
namespace {

namespace v1 = ::depot::v1;
using client::ApplyStreamClient;
using client::AsyncInventory;
using Ns = std::int64_t;

Ns nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void sleepUntil(Ns t) {
  const Ns now = nowNs();
  if (t > now) std::this_thread::sleep_for(std::chrono::nanoseconds(t - now));
}

// Admission control and business refusals; anything else non-OK is an error.
bool isRefusal(int code) { return code == 8 || code == 9 || code == 10; }

class LoadRun {
 public:
  LoadRun(const RunOptions& options, std::shared_ptr<const SkuChooser> chooser)
      : m_o(options), m_chooser(std::move(chooser)) {
    Rng seed(static_cast<std::uint64_t>(nowNs()));
    char buf[17];
    std::snprintf(buf, sizeof buf, "%08llx", static_cast<unsigned long long>(seed.next() >> 32));
    m_idPrefix = std::string("b") + buf + "-";
    // SKU names once, not per movement (the generator shares the cores).
    m_skuNames.reserve(static_cast<std::size_t>(m_o.skus));
    for (std::int64_t i = 0; i < m_o.skus; ++i) m_skuNames.push_back(skuName(static_cast<std::uint64_t>(i)));
  }
  const std::string& sku(Rng& rng) const { return m_skuNames[m_chooser->pick(rng)]; }

  absl::StatusOr<RunResult> run() {
    client::AsyncOptions ao;
    ao.endpoint = m_o.server;
    ao.connections = static_cast<int>(m_o.connections);
    ao.service = m_o.service();
    auto async = AsyncInventory::create(ao);
    if (!async.ok()) return async.status();
    m_async = std::move(*async);
    for (std::size_t i = 0; i < m_async->connections(); ++i) {
      if (!m_async->channel(i)->WaitForConnected(std::chrono::system_clock::now() +
                                                 std::chrono::seconds(5))) {
        return absl::UnavailableError("cannot connect to " + m_o.server);
      }
    }
    const bool stream = m_o.path == "stream";
    if (stream) {
      for (std::int64_t s = 0; s < m_o.streams; ++s) {
        const auto index = static_cast<std::size_t>(s);
        m_streams.push_back(std::make_unique<ApplyStreamClient>(
            m_async->channel(index), m_o.service(),
            [this, index](const v1::ApplyStreamResponse& r) { onStreamResponse(index, r); }));
      }
      for (auto& st : m_streams) st->start();
    }

    ProcessSampler sampler(m_o.server_pid);
    // The unary RPC this run calls, as depotd's metrics name it.
    const std::string rpc = m_o.workload == "reserve" ? "Reserve"
                            : m_o.workload == "reads" ? "GetStock"
                                                      : "Apply";
    // Latency from the unary RPC's histogram; commits on every path.
    ServerMetricsScraper serverMetrics(m_o.target == "echo" ? "" : m_o.server_metrics,
                                       stream ? "" : rpc);
    const Ns start = nowNs();
    m_measureStart = start + static_cast<Ns>(m_o.warmup * 1e9);
    m_measureEnd = m_measureStart + static_cast<Ns>(m_o.duration * 1e9);

    std::thread pacer;
    if (m_o.openLoop()) {
      pacer = std::thread([this, start, stream] { paceOpenLoop(start, stream); });
    } else if (stream) {
      const std::int64_t per = std::max<std::int64_t>(1, m_o.in_flight / m_o.streams);
      for (std::size_t s = 0; s < m_streams.size(); ++s)
        for (std::int64_t i = 0; i < per; ++i) issueOnStream(s, nowNs());
    } else {
      for (std::int64_t i = 0; i < m_o.in_flight; ++i) issueUnary(nowNs());
    }

    sleepUntil(m_measureStart);
    sampler.begin();
    serverMetrics.begin();
    const double cpu0 = ProcessSampler::selfCpuSeconds();
    sleepUntil(m_measureEnd);
    sampler.end();
    serverMetrics.end();
    const double cpu1 = ProcessSampler::selfCpuSeconds();
    m_stop.store(true);
    if (pacer.joinable()) pacer.join();

    // Drain: everything sent gets its answer (bounded by the call deadline).
    std::string note;
    if (!m_async->waitIdle(std::chrono::seconds(15))) note = "unary calls still in flight after 15 s; ";
    for (auto& st : m_streams) st->closeSend();
    for (auto& st : m_streams) {
      absl::Status s = st->wait(std::chrono::seconds(15));
      if (!s.ok()) {
        note += "stream ended with " + s.ToString() + "; ";
        m_streamFailures.fetch_add(1);
      }
    }

    RunResult r;
    r.options = m_o;
    r.window_s = m_o.duration;
    r.requests_ok = m_requestsOk.load();
    r.movements_ok = m_movementsOk.load();
    r.movements_ok_total = m_movementsOkAll.load();
    r.requests_sent = m_sent.load();
    r.shed = m_shed.load();
    r.behind = m_behind.load();
    for (int c = 0; c < 17; ++c) {
      r.refused[c] = m_refused[c].load();
      r.errors[c] = m_errors[c].load();
    }
    if (m_streamFailures.load() > 0) r.errors[2] += m_streamFailures.load();  // UNKNOWN
    r.latency = m_latency;
    r.peak_rss_kb = sampler.peakRssKb();
    r.server_cpu_s = sampler.cpuSeconds();
    r.client_cpu_s = cpu1 - cpu0;
    if (auto q = serverMetrics.quantiles()) {
      r.server_p50_ms = q->p50_ms;
      r.server_p90_ms = q->p90_ms;
      r.server_p99_ms = q->p99_ms;
      r.server_calls = static_cast<std::int64_t>(q->calls);
    }
    if (auto c = serverMetrics.commits(m_o.duration)) {
      r.server_commits_per_s = c->per_second;
      r.server_requests_per_commit = c->requests_each;
      r.server_commit_busy = c->busy_s_per_s;
      r.server_log_syncs_per_s = c->log_syncs_per_s;
    }
    if (!serverMetrics.error().empty())
      note += "server metrics not measured: " + serverMetrics.error() + "; ";
    r.note = note;
    m_streams.clear();
    m_async.reset();
    return r;
  }

 private:
  bool inWindow(Ns intended) const { return intended >= m_measureStart && intended < m_measureEnd; }
  bool ended() const { return m_stop.load(std::memory_order_relaxed) || nowNs() >= m_measureEnd; }

  std::string nextId() {
    char buf[24];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, m_nextId.fetch_add(1, std::memory_order_relaxed));
    (void)ec;
    return m_idPrefix + std::string(buf, p);
  }

  void fillMovement(v1::Movement* m, Rng& rng) {
    m->set_request_id(nextId());
    m->set_sku(sku(rng));
    m->set_location(kLocationA);
    m->set_quantity(1);
    m->set_actor("bench");
    if (m_o.workload == "ship") {
      m->set_kind(v1::MOVEMENT_KIND_SHIP);
    } else if (m_o.workload == "mix") {
      m->set_kind((rng.next() & 1) ? v1::MOVEMENT_KIND_RECEIVE : v1::MOVEMENT_KIND_SHIP);
    } else if (m_o.workload == "transfer") {
      m->set_kind(v1::MOVEMENT_KIND_TRANSFER);
      m->set_to_location(kLocationB);
    } else {  // receive (watch load)
      m->set_kind(v1::MOVEMENT_KIND_RECEIVE);
    }
  }

  void countCode(Ns intended, int code, std::uint64_t n) {
    if (code == 0) return;
    if (code < 0 || code > 16) code = 2;
    if (isRefusal(code)) {
      if (inWindow(intended)) m_refused[code].fetch_add(n, std::memory_order_relaxed);
    } else {
      m_errors[code].fetch_add(n, std::memory_order_relaxed);
    }
  }

  // One answered request: `ok` movements applied; admitted = the server took
  // it in (not refused by admission control).
  void answered(Ns intended, Ns done, std::uint64_t ok, bool rpc_ok, bool admitted) {
    m_movementsOkAll.fetch_add(ok, std::memory_order_relaxed);
    if (!inWindow(intended)) return;
    if (rpc_ok) m_requestsOk.fetch_add(1, std::memory_order_relaxed);
    m_movementsOk.fetch_add(ok, std::memory_order_relaxed);
    if (rpc_ok && admitted) m_latency->record(static_cast<std::uint64_t>(std::max<Ns>(0, done - intended)));
  }

  void issueUnary(Ns intended) {
    if (inWindow(intended)) m_sent.fetch_add(1, std::memory_order_relaxed);
    Rng& rng = threadRng();
    if (m_o.workload == "reserve") {
      auto call = std::make_shared<AsyncInventory::ReserveCall>();
      const std::string id = nextId();
      call->request.set_request_id(id);
      call->request.set_order_id(id);
      call->request.set_ttl_seconds(m_o.ttl_seconds);
      call->request.set_actor("bench");
      auto* line = call->request.add_lines();
      line->set_sku(sku(rng));
      line->set_location(kLocationA);
      line->set_quantity(1);
      m_async->reserve(*call, [this, call, intended](const grpc::Status& s) {
        const int code = static_cast<int>(s.error_code());
        countCode(intended, code, 1);
        answered(intended, nowNs(), s.ok() ? 1 : 0, s.ok(), s.ok());
        next(intended);
      });
    } else if (m_o.workload == "reads") {
      auto call = std::make_shared<AsyncInventory::GetStockCall>();
      call->request.set_sku(sku(rng));
      m_async->getStock(*call, [this, call, intended](const grpc::Status& s) {
        countCode(intended, static_cast<int>(s.error_code()), 1);
        answered(intended, nowNs(), s.ok() ? 1 : 0, s.ok(), s.ok());
        next(intended);
      });
    } else {
      auto call = std::make_shared<AsyncInventory::ApplyCall>();
      call->request.mutable_movements()->Reserve(static_cast<int>(m_o.batch));
      for (std::int64_t i = 0; i < m_o.batch; ++i) fillMovement(call->request.add_movements(), rng);
      m_async->apply(*call, [this, call, intended](const grpc::Status& s) {
        const Ns done = nowNs();
        if (!s.ok()) {
          countCode(intended, static_cast<int>(s.error_code()), static_cast<std::uint64_t>(m_o.batch));
          answered(intended, done, 0, false, false);
        } else {
          std::uint64_t ok = 0;
          bool admitted = true;
          for (const auto& res : call->response.results()) {
            if (res.code() == 0) ++ok;
            if (res.code() == 8) admitted = false;
            countCode(intended, res.code(), 1);
          }
          answered(intended, done, ok, true, admitted);
        }
        next(intended);
      });
    }
  }

  // Closed loop: the completion of one request sends the next.
  void next(Ns) {
    if (!m_o.openLoop() && !ended()) issueUnary(nowNs());
  }

  void issueOnStream(std::size_t s, Ns intended) {
    if (inWindow(intended)) m_sent.fetch_add(1, std::memory_order_relaxed);
    v1::ApplyStreamRequest req;
    req.set_tag(static_cast<std::uint64_t>(intended));
    Rng& rng = threadRng();
    req.mutable_movements()->Reserve(static_cast<int>(m_o.batch));
    for (std::int64_t i = 0; i < m_o.batch; ++i) fillMovement(req.add_movements(), rng);
    if (!m_streams[s]->send(std::move(req))) {
      countCode(intended, 14, static_cast<std::uint64_t>(m_o.batch));  // the stream has ended
    }
  }

  void onStreamResponse(std::size_t s, const v1::ApplyStreamResponse& r) {
    const Ns done = nowNs();
    const auto intended = static_cast<Ns>(r.tag());
    if (r.code() != 0) {
      countCode(intended, r.code(), static_cast<std::uint64_t>(m_o.batch));
      answered(intended, done, 0, false, false);
    } else {
      std::uint64_t ok = 0;
      bool admitted = true;
      for (const auto& res : r.results()) {
        if (res.code() == 0) ++ok;
        if (res.code() == 8) admitted = false;
        countCode(intended, res.code(), 1);
      }
      answered(intended, done, ok, true, admitted);
    }
    if (!m_o.openLoop() && !ended()) issueOnStream(s, nowNs());
  }

  void paceOpenLoop(Ns start, bool stream) {
    const double per_second = m_o.rate / static_cast<double>(m_o.batch);
    const double interval = 1e9 / per_second;
    const auto cap = static_cast<std::size_t>(m_o.max_in_flight);
    const std::size_t per_stream = std::max<std::size_t>(1, cap / std::max<std::size_t>(1, m_streams.size()));
    std::uint64_t i = 0;
    std::size_t rr = 0;
    while (!m_stop.load(std::memory_order_relaxed)) {
      const Ns t = start + static_cast<Ns>(static_cast<double>(i) * interval);
      if (t >= m_measureEnd) break;
      if (t > nowNs()) {
        sleepUntil(t);
        continue;
      }
      ++i;
      if (stream) {
        const std::size_t s = rr++ % m_streams.size();
        if (m_streams[s]->inFlight() >= per_stream) {
          if (inWindow(t)) m_shed.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        issueOnStream(s, t);
      } else {
        if (m_async->inFlight() >= cap) {
          if (inWindow(t)) m_shed.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        issueUnary(t);
      }
    }
    // Requests due in the window that the generator never got to send (it
    // fell behind its schedule): offered but not sent, so reported, never
    // silently dropped from the figures.
    for (;; ++i) {
      const Ns t = start + static_cast<Ns>(static_cast<double>(i) * interval);
      if (t >= m_measureEnd) break;
      if (inWindow(t)) m_behind.fetch_add(1, std::memory_order_relaxed);
    }
  }

  const RunOptions m_o;
  std::shared_ptr<const SkuChooser> m_chooser;
  std::string m_idPrefix;
  std::vector<std::string> m_skuNames;
  std::atomic<std::uint64_t> m_nextId{1};
  std::unique_ptr<AsyncInventory> m_async;
  std::vector<std::unique_ptr<ApplyStreamClient>> m_streams;
  Ns m_measureStart = 0;
  Ns m_measureEnd = 0;
  std::atomic<bool> m_stop{false};
  std::atomic<std::uint64_t> m_sent{0};
  std::atomic<std::uint64_t> m_shed{0};
  std::atomic<std::uint64_t> m_behind{0};  // open loop: due, never sent (generator behind)
  std::atomic<std::uint64_t> m_requestsOk{0};
  std::atomic<std::uint64_t> m_movementsOk{0};
  std::atomic<std::uint64_t> m_movementsOkAll{0};  // warm-up included
  std::atomic<std::uint64_t> m_streamFailures{0};
  std::array<std::atomic<std::uint64_t>, 17> m_refused{};
  std::array<std::atomic<std::uint64_t>, 17> m_errors{};
  std::shared_ptr<Histogram> m_latency = std::make_shared<Histogram>();
};

}  // namespace

absl::StatusOr<RunResult> runLoad(const RunOptions& options) {
  auto chooser = SkuChooser::create(options.dist, static_cast<std::uint64_t>(options.skus));
  if (!chooser.ok()) return chooser.status();
  LoadRun run(options, *chooser);
  return run.run();
}

}  // namespace depot::bench
