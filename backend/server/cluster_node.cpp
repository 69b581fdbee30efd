#include "server/cluster_node.h"

#include <algorithm>
#include <chrono>
#include <future>

#include "core/engine.h"
#include "server/log.h"

namespace depot::server {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::int64_t steadyMicros(SteadyClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

// FNV-1a 64 of "node/shard", finished with a mixer so close ids spread.
std::uint64_t rendezvous(const std::string& node, ShardId shard) {
  std::uint64_t h = 14695981039346656037ull;
  auto mix = [&](unsigned char c) {
    h ^= c;
    h *= 1099511628211ull;
  };
  for (unsigned char c : node) mix(c);
  mix('/');
  mix(static_cast<unsigned char>(shard & 0xff));
  mix(static_cast<unsigned char>(shard >> 8));
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

}  // namespace

ClusterNode::ClusterNode(PostgresCluster& cluster, InventoryService& core)
    : m_cluster(cluster), m_core(core) {
  m_core.engine().setLeaseLostHook([this] { poke(); });
}

ClusterNode::~ClusterNode() { stop(); }

void ClusterNode::start() {
  tick();
  m_thread = std::thread([this] { run(); });
}

void ClusterNode::poke() {
  {
    std::lock_guard lock(m_mutex);
    m_poked = true;
  }
  m_wake.notify_all();
}

void ClusterNode::run() {
  const auto period = m_cluster.options().lease_ttl / 5;
  // Pokes come from failed commits; with PostgreSQL away they would come in
  // a stream, so ticks are at least this far apart.
  constexpr auto kMinGap = std::chrono::milliseconds(100);
  for (;;) {
    {
      std::unique_lock lock(m_mutex);
      m_wake.wait_for(lock, period, [this] { return m_stop || m_poked; });
      if (m_stop) return;
      m_poked = false;
    }
    const auto started = SteadyClock::now();
    tick();
    std::unique_lock lock(m_mutex);
    m_wake.wait_until(lock, started + kMinGap, [this] { return m_stop; });
    if (m_stop) return;
  }
}

std::string ClusterNode::desiredOwner(ShardId shard, const std::vector<std::string>& live) const {
  std::string best;
  std::uint64_t best_score = 0;
  for (const auto& n : live) {
    const std::uint64_t score = rendezvous(n, shard);
    if (best.empty() || score > best_score || (score == best_score && n < best)) {
      best = n;
      best_score = score;
    }
  }
  return best;
}

bool ClusterNode::engineAcquire(ShardId shard) {
  auto promise = std::make_shared<std::promise<absl::Status>>();
  auto future = promise->get_future();
  m_core.engine().acquire(shard, [promise](absl::Status st) { promise->set_value(st); });
  // Bounded: recovery is one store round trip; past this the lease is given up.
  if (future.wait_for(std::chrono::seconds(30)) != std::future_status::ready) return false;
  absl::Status st = future.get();
  if (!st.ok()) logWarn("shard_load_failed").kv("shard", shard).kv("error", st.ToString());
  return st.ok();
}

void ClusterNode::engineRelease(ShardId shard) {
  auto promise = std::make_shared<std::promise<void>>();
  auto future = promise->get_future();
  m_core.engine().release(shard, [promise] { promise->set_value(); });
  future.wait_for(std::chrono::seconds(30));
}

void ClusterNode::tick() {
  const std::string& self = nodeId();
  const auto ttl = m_cluster.options().lease_ttl;
  const auto started = SteadyClock::now();
  std::uint64_t acquired = 0, released = 0, lost = 0;
  auto fail = [&](const absl::Status& st, const char* step) {
    logWarn("cluster_tick_failed").kv("step", step).kv("error", st.ToString());
    std::lock_guard lock(m_mutex);
    ++m_stats.tick_failures;
    // Leases not renewed run out by their local deadlines: the engine stops
    // committing to them by itself.
  };

  if (auto st = m_cluster.heartbeat(); !st.ok()) return fail(st, "heartbeat");
  const auto renew_sent = SteadyClock::now();
  auto renewed = m_cluster.renew();
  if (!renewed.ok()) return fail(renewed.status(), "renew");
  const std::int64_t deadline = steadyMicros(
      renew_sent + std::chrono::duration_cast<SteadyClock::duration>(
                       ttl * PostgresCluster::kLocalFraction));
  std::map<ShardId, std::uint64_t> in_store(renewed->begin(), renewed->end());
  for (auto it = m_held.begin(); it != m_held.end();) {
    auto s = in_store.find(it->first);
    if (s == in_store.end() || s->second != it->second) {
      // Taken over while we were not looking (paused, partitioned).
      logWarn("lease_lost").kv("shard", it->first).kv("epoch", it->second);
      engineRelease(it->first);
      it = m_held.erase(it);
      ++lost;
    } else {
      m_core.engine().setLeaseDeadline(it->first, deadline);
      ++it;
    }
  }

  // Alerts other nodes raised, acknowledged or resolved: this node's
  // WatchAlerts subscribers see the whole cluster's.
  if (auto synced = m_core.alerts().syncFromStore(); !synced.ok())
    logWarn("alert_sync_failed").kv("error", synced.status().ToString());

  auto view = m_cluster.view();
  if (!view.ok()) return fail(view.status(), "view");
  std::vector<std::string> live;
  for (const auto& n : view->nodes)
    if (n.alive) live.push_back(n.node_id);
  if (std::find(live.begin(), live.end(), self) == live.end()) live.push_back(self);

  // Hand over first: the shards another node should have.
  for (auto it = m_held.begin(); it != m_held.end();) {
    const std::string want = desiredOwner(it->first, live);
    if (want == self) {
      ++it;
      continue;
    }
    engineRelease(it->first);
    if (auto st = m_cluster.release(it->first, it->second); !st.ok())
      logWarn("lease_release_failed").kv("shard", it->first).kv("error", st.ToString());
    logInfo("shard_handed_over").kv("shard", it->first).kv("to", want);
    view->shards[it->first].owner.clear();
    it = m_held.erase(it);
    ++released;
  }
  // Then take over what is ours and free, within a third of the ttl so the
  // held leases are renewed in time.
  const auto budget = ttl / 3;
  for (ShardId s = 0; s < kShardCount; ++s) {
    if (SteadyClock::now() - started > budget) {
      poke();  // more to do: go again at once
      break;
    }
    if (m_held.count(s) || desiredOwner(s, live) != self) continue;
    const auto& row = view->shards[s];
    if (!row.owner.empty() && row.owner != self && !row.expired) continue;
    const auto sent = SteadyClock::now();
    auto epoch = m_cluster.acquire(s);
    if (!epoch.ok()) return fail(epoch.status(), "acquire");
    if (!*epoch) continue;  // someone else got there first
    m_core.engine().setLeaseDeadline(
        s, steadyMicros(sent + std::chrono::duration_cast<SteadyClock::duration>(
                                   ttl * PostgresCluster::kLocalFraction)));
    if (!engineAcquire(s)) {
      (void)m_cluster.release(s, **epoch);
      continue;
    }
    m_held[s] = **epoch;
    view->shards[s].owner = self;
    view->shards[s].epoch = **epoch;
    view->shards[s].expired = false;
    ++acquired;
  }
  if (acquired || released || lost)
    logInfo("shards_rebalanced")
        .kv("acquired", acquired)
        .kv("released", released)
        .kv("lost", lost)
        .kv("held", static_cast<std::uint64_t>(m_held.size()))
        .kv("live_nodes", static_cast<std::uint64_t>(live.size()));

  std::map<std::string, std::string> endpoints;
  for (const auto& n : view->nodes) endpoints[n.node_id] = n.endpoint;
  std::lock_guard lock(m_mutex);
  for (ShardId s = 0; s < kShardCount; ++s) {
    ShardRoute r;
    const std::string& owner = view->shards[s].owner;
    r.local = m_held.count(s) > 0 || owner.empty() || owner == self;
    r.node_id = r.local ? self : owner;
    r.endpoint = r.local ? m_cluster.options().endpoint : endpoints[owner];
    if (!r.local && r.endpoint.empty()) r.local = true;  // unknown node: answer here
    m_routes[s] = std::move(r);
  }
  m_view = std::move(*view);
  m_stats.acquired += acquired;
  m_stats.released += released;
  m_stats.lost += lost;
  ++m_stats.ticks;
}

void ClusterNode::stop() {
  if (m_stopped.exchange(true)) return;
  {
    std::lock_guard lock(m_mutex);
    m_stop = true;
  }
  m_wake.notify_all();
  if (m_thread.joinable()) m_thread.join();
  // Clean hand-over: drain each shard, then free its lease at once.
  for (const auto& [shard, epoch] : m_held) {
    engineRelease(shard);
    (void)m_cluster.release(shard, epoch);
  }
  logInfo("cluster_left").kv("released", static_cast<std::uint64_t>(m_held.size()));
  m_held.clear();
  (void)m_cluster.leave();
}

ShardRoute ClusterNode::route(ShardId shard) const {
  std::lock_guard lock(m_mutex);
  return m_routes[shard];
}

ClusterView ClusterNode::lastView() const {
  std::lock_guard lock(m_mutex);
  return m_view;
}

std::size_t ClusterNode::shardsServed() const {
  std::size_t n = 0;
  for (ShardId s = 0; s < kShardCount; ++s) n += m_core.engine().serves(s) ? 1 : 0;
  return n;
}

ClusterStats ClusterNode::stats() const {
  std::lock_guard lock(m_mutex);
  return m_stats;
}

}  // namespace depot::server
