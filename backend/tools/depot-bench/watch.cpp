// Watch fan-out: `watchers` Watch streams from now, then an open-loop load of
// RECEIVE movements at `rate` per second (Apply batches of `batch`). Every
// ledger entry a watcher receives gives one lag sample: the receiver's wall
// clock minus the entry's commit time (ts_us; same host, same clock). With
// --watch-server the watchers use another cluster node than the load. After
// the load, the watchers get a few seconds to catch up; the run is complete
// when every watcher received every committed entry.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <limits>
#include <thread>

#include "bench.h"
#include "client/async_inventory.h"
#include "client/client.h"
#include "client/streams.h"
#include "sampler.h"

namespace depot::bench {
namespace {

std::int64_t wallUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Watcher {
  std::unique_ptr<client::WatchStream> stream;
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<bool> heartbeat{false};
};

}  // namespace

absl::StatusOr<RunResult> runWatch(const RunOptions& options) {
  client::ClientOptions co;
  co.endpoints = {options.watch_server.empty() ? options.server : options.watch_server};
  auto cl = client::Client::create(co);
  if (!cl.ok()) return cl.status();
  auto lag = std::make_shared<Histogram>();
  std::atomic<std::int64_t> measure_from_us{std::numeric_limits<std::int64_t>::max()};

  std::vector<std::unique_ptr<Watcher>> watchers;
  for (std::int64_t i = 0; i < options.watchers; ++i) {
    auto w = std::make_unique<Watcher>();
    Watcher* wp = w.get();
    client::WatchStream::Callbacks cb;
    cb.on_entries = [wp, lag, &measure_from_us](std::vector<v1::LedgerEntry>&& entries) {
      const std::int64_t now = wallUs();
      const std::int64_t from = measure_from_us.load(std::memory_order_relaxed);
      for (const auto& e : entries) {
        if (e.ts_us() >= from) lag->record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, now - e.ts_us())) * 1000);
      }
      wp->delivered.fetch_add(entries.size(), std::memory_order_relaxed);
    };
    cb.on_heartbeat = [wp](const v1::WatchEvent&) { wp->heartbeat.store(true); };
    w->stream = std::make_unique<client::WatchStream>(**cl, client::WatchStream::Options{}, std::move(cb));
    watchers.push_back(std::move(w));
  }
  for (auto& w : watchers) w->stream->start();
  // A from-now stream knows its position once the first heartbeat came.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (auto& w : watchers) {
    while (!w->heartbeat.load() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (!w->heartbeat.load()) return absl::UnavailableError("a watcher got no heartbeat in 10 s");
  }

  // The load: the ordinary open-loop driver, RECEIVE movements.
  RunOptions load = options;
  load.workload = "receive";
  load.path = "unary";
  load.json.clear();
  measure_from_us.store(wallUs() + static_cast<std::int64_t>(options.warmup * 1e6));
  auto result = runLoad(load);
  if (!result.ok()) return result.status();
  // Every RECEIVE writes one entry, all after the watchers started: each
  // watcher must receive movements_ok_total entries. Wait (bounded) until
  // they have, or stop growing.
  const std::uint64_t committed = result->movements_ok_total;
  std::uint64_t last = 0;
  for (int i = 0; i < 100; ++i) {
    std::uint64_t mn = std::numeric_limits<std::uint64_t>::max();
    for (auto& w : watchers) mn = std::min<std::uint64_t>(mn, w->delivered.load());
    if (mn >= committed || (mn == last && i > 20)) break;
    last = mn;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  RunResult r = std::move(*result);
  r.options = options;
  r.latency = lag;
  r.watch_events = committed;
  r.watch_min_delivered = committed;
  r.watch_max_delivered = 0;
  for (auto& w : watchers) {
    r.watch_min_delivered = std::min<std::uint64_t>(r.watch_min_delivered, w->delivered.load());
    r.watch_max_delivered = std::max<std::uint64_t>(r.watch_max_delivered, w->delivered.load());
  }
  r.watch_complete = committed > 0 && r.watch_min_delivered == committed && r.watch_max_delivered == committed;
  for (auto& w : watchers) w->stream->stop();
  return r;
}

}  // namespace depot::bench
