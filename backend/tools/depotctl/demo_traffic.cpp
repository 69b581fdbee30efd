// demo-traffic: simulated warehouse traffic against whatever catalog the
// server holds (normally resources/demo). Refusals such as insufficient
// stock are normal traffic and are counted by reason, not treated as errors.
//
// The model, in short:
// - SKU popularity is Zipf-like (s = 1.1) over a seeded shuffle of the
//   catalog; each SKU lives in two "home" bins chosen from its hash.
// - Operations: shipments and reservations follow popularity; receipts are
//   partly random and partly replenishment: a shipment refused for lack of
//   stock schedules a receipt of the reorder quantity a few seconds later
//   (a purchase order arriving), which keeps the demo in a lively balance.
// - A reservation is later committed (~70%), released (~20%) or, with a
//   short TTL, left to expire (~10%).
// - Now and then: transfers, adjustments, stocktake counts (mostly exact,
//   sometimes off by enough to need approval) and a supervisor deciding a
//   pending count.
// - At start, every home bin that holds nothing is primed with one batched
//   receipt so the first minutes are not all stockouts (--no-prime: off).
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <random>
#include <set>
#include <thread>

#include "client/parse.h"
#include "client/request_id.h"
#include "client/status.h"
#include "context.h"

namespace depot::ctl {
namespace {

using Clock = std::chrono::steady_clock;

struct DemoArgs {
  std::string rate = "50";
  std::string duration = "0";
  std::string seed = "1";
  std::string workers = "4";
  std::string status_every = "5";
  bool no_prime = false;
};

struct Sku {
  std::string sku;
  std::int64_t reorder_qty = 0;
  std::array<std::string, 2> home;
};

const char* const kActors[] = {"picker-ana", "picker-raj", "receiver-ben", "clerk-cho",
                               "supervisor-dee"};

// A short reason for the status line. FAILED_PRECONDITION means different
// things per operation: not enough stock for movements and holds, a hold that
// is no longer open for commit/release, a count already decided.
std::string reasonLabel(const std::string& op, absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kFailedPrecondition:
      if (op == "commit" || op == "release") return "hold_closed";
      if (op == "approve" || op == "reject") return "already_decided";
      return "insufficient_stock";
    case absl::StatusCode::kNotFound:
      return "not_found";
    case absl::StatusCode::kInvalidArgument:
      return "invalid";
    case absl::StatusCode::kAlreadyExists:
      return "duplicate";
    case absl::StatusCode::kResourceExhausted:
      return "busy";
    case absl::StatusCode::kAborted:
      return "aborted";
    case absl::StatusCode::kUnavailable:
      return "unavailable";
    case absl::StatusCode::kDeadlineExceeded:
      return "timeout";
    default:
      return client::codeName(code);
  }
}

// Everything the workers share. Counters are atomics; maps and queues are
// guarded by m_mutex.
class Simulation {
 public:
  Simulation(client::Client& client, std::vector<Sku> skus, std::uint64_t seed)
      : m_client(client), m_skus(std::move(skus)), m_seed(seed) {
    // Zipf-like weights over a seeded permutation of the catalog.
    std::vector<std::size_t> order(m_skus.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::mt19937_64 gen(seed);
    std::shuffle(order.begin(), order.end(), gen);
    m_rank = order;
    double total = 0;
    for (std::size_t r = 0; r < order.size(); ++r) {
      total += 1.0 / std::pow(static_cast<double>(r + 1), 1.1);
      m_cumulative.push_back(total);
    }
    for (auto& c : m_cumulative) c /= total;
    m_orderPrefix = "demo-" + client::newRequestId().substr(0, 8) + "-";
  }

  struct Due {
    Clock::time_point at;
    std::function<void(std::mt19937_64&)> action;
    bool operator>(const Due& o) const { return at > o.at; }
  };

  void schedule(Clock::duration delay, std::function<void(std::mt19937_64&)> action) {
    std::lock_guard lock(m_mutex);
    m_due.push(Due{Clock::now() + delay, std::move(action)});
  }

  // Pops one due action, if any.
  std::function<void(std::mt19937_64&)> takeDue() {
    std::lock_guard lock(m_mutex);
    if (m_due.empty() || m_due.top().at > Clock::now()) return {};
    auto action = m_due.top().action;
    m_due.pop();
    return action;
  }

  std::size_t openOrders() const { return m_openOrders.load(); }

  const Sku& popular(std::mt19937_64& gen) const {
    const double u = std::uniform_real_distribution<double>(0, 1)(gen);
    const auto it = std::lower_bound(m_cumulative.begin(), m_cumulative.end(), u);
    const std::size_t r = std::min<std::size_t>(static_cast<std::size_t>(it - m_cumulative.begin()),
                                                m_rank.size() - 1);
    return m_skus[m_rank[r]];
  }
  const Sku& anySku(std::mt19937_64& gen) const {
    return m_skus[std::uniform_int_distribution<std::size_t>(0, m_skus.size() - 1)(gen)];
  }
  static std::int64_t uniform(std::mt19937_64& gen, std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(gen);
  }
  static const char* actor(std::mt19937_64& gen) {
    return kActors[uniform(gen, 0, std::size(kActors) - 1)];
  }

  void record(const std::string& op, const absl::Status& status) {
    m_sent.fetch_add(1);
    if (status.ok()) {
      m_ok.fetch_add(1);
      return;
    }
    if (client::classify(status) == client::ErrorClass::kUnreachable) m_unreachable.fetch_add(1);
    std::lock_guard lock(m_mutex);
    m_refused[op + ":" + reasonLabel(op, status.code())]++;
  }

  // ---- operations ----
  absl::Status move(std::mt19937_64& gen, v1::MovementKind kind, const Sku& sku,
                    const std::string& from, const std::string& to, std::int64_t qty,
                    const std::string& reason) {
    v1::ApplyRequest request;
    auto* m = request.add_movements();
    m->set_request_id(client::newRequestId());
    m->set_kind(kind);
    m->set_sku(sku.sku);
    m->set_location(from);
    m->set_to_location(to);
    m->set_quantity(qty);
    m->set_reason(reason);
    m->set_actor(actor(gen));
    auto response = m_client.apply(request);
    if (!response.ok()) return response.status();
    if (response->results_size() != 1) return absl::InternalError("no result");
    return client::fromCode(response->results(0).code(), response->results(0).message());
  }

  void receive(std::mt19937_64& gen, const Sku& sku, std::int64_t qty) {
    record("receive",
           move(gen, v1::MOVEMENT_KIND_RECEIVE, sku, sku.home[uniform(gen, 0, 1)], "", qty, ""));
  }

  void ship(std::mt19937_64& gen) {
    const Sku& sku = popular(gen);
    const auto st = move(gen, v1::MOVEMENT_KIND_SHIP, sku, sku.home[uniform(gen, 0, 1)], "",
                         uniform(gen, 1, 5), "");
    record("ship", st);
    if (st.code() == absl::StatusCode::kFailedPrecondition) replenish(sku);
  }

  // A purchase order for a SKU that ran short, arriving in 2..8 s (at most
  // one outstanding per SKU).
  void replenish(const Sku& sku) {
    {
      std::lock_guard lock(m_mutex);
      if (!m_reordered.insert(sku.sku).second) return;
    }
    std::mt19937_64 gen(std::hash<std::string>{}(sku.sku) ^ m_seed ^ m_sent.load());
    const auto delay = std::chrono::milliseconds(uniform(gen, 2000, 8000));
    const std::int64_t qty = std::max<std::int64_t>(sku.reorder_qty, 20);
    schedule(delay, [this, &sku, qty](std::mt19937_64& g) {
      {
        std::lock_guard lock(m_mutex);
        m_reordered.erase(sku.sku);
      }
      receive(g, sku, qty);
    });
  }

  void transfer(std::mt19937_64& gen) {
    const Sku& sku = popular(gen);
    const int from = static_cast<int>(uniform(gen, 0, 1));
    record("transfer", move(gen, v1::MOVEMENT_KIND_TRANSFER, sku, sku.home[from],
                            sku.home[1 - from], uniform(gen, 1, 10), ""));
  }

  void adjust(std::mt19937_64& gen) {
    const Sku& sku = popular(gen);
    const bool found = uniform(gen, 0, 2) == 0;
    record("adjust", move(gen, v1::MOVEMENT_KIND_ADJUST, sku, sku.home[uniform(gen, 0, 1)], "",
                          found ? uniform(gen, 1, 3) : -uniform(gen, 1, 3),
                          found ? "found during putaway" : "damaged in handling"));
  }

  void reserve(std::mt19937_64& gen) {
    v1::ReserveRequest request;
    request.set_request_id(client::newRequestId());
    request.set_order_id(m_orderPrefix + std::to_string(m_nextOrder.fetch_add(1)));
    request.set_actor(actor(gen));
    const int roll = static_cast<int>(uniform(gen, 0, 99));
    const bool expire = roll < 10;
    request.set_ttl_seconds(expire ? 5 : 120);
    const int lines = static_cast<int>(uniform(gen, 1, 3));
    std::set<std::string> used;
    for (int i = 0; i < lines; ++i) {
      const Sku& sku = popular(gen);
      const std::string& location = sku.home[uniform(gen, 0, 1)];
      if (!used.insert(sku.sku + "@" + location).second) continue;
      auto* line = request.add_lines();
      line->set_sku(sku.sku);
      line->set_location(location);
      line->set_quantity(uniform(gen, 1, 4));
    }
    auto response = m_client.reserve(request);
    record("reserve", response.status());
    if (!response.ok()) {
      if (response.status().code() == absl::StatusCode::kFailedPrecondition) {
        for (const auto& line : request.lines()) {
          for (const auto& s : m_skus) {
            if (s.sku == line.sku()) {
              replenish(s);
              break;
            }
          }
        }
      }
      return;
    }
    if (expire) return;  // left to expire by itself
    m_openOrders.fetch_add(1);
    const std::string order_id = request.order_id();
    const bool commit = roll < 80;  // 70% of all: commit; 20%: release
    schedule(std::chrono::milliseconds(uniform(gen, 1000, 5000)),
             [this, order_id, commit](std::mt19937_64& g) {
               m_openOrders.fetch_sub(1);
               if (commit) {
                 v1::CommitRequest c;
                 c.set_request_id(client::newRequestId());
                 c.set_order_id(order_id);
                 c.set_actor(actor(g));
                 record("commit", m_client.commit(c).status());
               } else {
                 v1::ReleaseRequest r;
                 r.set_request_id(client::newRequestId());
                 r.set_order_id(order_id);
                 r.set_actor(actor(g));
                 r.set_reason("customer cancelled");
                 record("release", m_client.release(r).status());
               }
             });
  }

  void count(std::mt19937_64& gen) {
    const Sku& sku = anySku(gen);
    const std::string& location = sku.home[uniform(gen, 0, 1)];
    v1::GetStockRequest get;
    get.set_sku(sku.sku);
    auto stock = m_client.getStock(get);
    if (!stock.ok()) {
      record("count", stock.status());
      return;
    }
    std::int64_t on_hand = 0;
    for (const auto& b : stock->balances()) {
      if (b.location() == location) on_hand = b.on_hand();
    }
    const int roll = static_cast<int>(uniform(gen, 0, 99));
    std::int64_t counted = on_hand;
    if (roll >= 95) {
      counted = on_hand + uniform(gen, 15, 40) * (uniform(gen, 0, 1) ? 1 : -1);
    } else if (roll >= 70) {
      counted = on_hand + uniform(gen, -2, 2);
    }
    v1::SubmitCountsRequest request;
    request.set_session_id("demo-cycle-count");
    request.set_counter(actor(gen));
    auto* line = request.add_lines();
    line->set_request_id(client::newRequestId());
    line->set_sku(sku.sku);
    line->set_location(location);
    line->set_counted(std::max<std::int64_t>(0, counted));
    auto response = m_client.submitCounts(request);
    if (!response.ok()) {
      record("count", response.status());
    } else if (response->results_size() == 1) {
      record("count",
             client::fromCode(response->results(0).code(), response->results(0).message()));
    }
  }

  void decide(std::mt19937_64& gen) {
    v1::ListPendingRequest list;
    list.set_limit(5);
    auto pending = m_client.listPending(list);
    if (!pending.ok() || pending->counts_size() == 0) return;
    v1::CountDecisionRequest decision;
    decision.set_request_id(client::newRequestId());
    decision.set_count_id(pending->counts(0).count_id());
    decision.set_actor("supervisor-dee");
    const bool approve = uniform(gen, 0, 3) != 0;
    decision.set_note(approve ? "recounted, confirmed" : "miscount");
    record(approve ? "approve" : "reject",
           (approve ? m_client.approve(decision) : m_client.reject(decision)).status());
  }

  void step(std::mt19937_64& gen) {
    if (auto due = takeDue()) {
      due(gen);
      return;
    }
    const int roll = static_cast<int>(uniform(gen, 0, 999));
    if (roll < 300) {
      ship(gen);
    } else if (roll < 420) {
      receive(gen, uniform(gen, 0, 1) ? popular(gen) : anySku(gen), uniform(gen, 10, 60));
    } else if (roll < 500) {
      transfer(gen);
    } else if (roll < 850) {
      reserve(gen);
    } else if (roll < 900) {
      adjust(gen);
    } else if (roll < 985) {
      count(gen);
    } else {
      decide(gen);
    }
  }

  // Receives 2x the reorder quantity (at least 20) into every home bin that
  // holds nothing, in batches: a fresh server (or one drained by an earlier
  // run) starts with stock instead of a minute of stockouts.
  absl::Status primeEmptyBins() {
    std::set<std::string> stocked;  // "sku@location" with on_hand > 0
    v1::ListStockRequest list;
    list.set_page_size(1000);
    for (int pages = 0; pages < 1000; ++pages) {
      auto page = m_client.listStock(list);
      if (!page.ok()) return page.status();
      for (const auto& row : page->rows()) {
        if (row.on_hand() > 0) stocked.insert(row.sku() + "@" + row.location());
      }
      if (page->next_page_token().empty()) break;
      list.set_page_token(page->next_page_token());
    }
    v1::ApplyRequest batch;
    auto flush = [&]() -> absl::Status {
      if (batch.movements_size() == 0) return absl::OkStatus();
      auto response = m_client.apply(batch);
      batch.Clear();
      return response.status();
    };
    for (const auto& sku : m_skus) {
      for (const auto& location : sku.home) {
        if (stocked.count(sku.sku + "@" + location)) continue;
        auto* m = batch.add_movements();
        m->set_request_id(client::newRequestId());
        m->set_kind(v1::MOVEMENT_KIND_RECEIVE);
        m->set_sku(sku.sku);
        m->set_location(location);
        m->set_quantity(std::max<std::int64_t>(20, 2 * sku.reorder_qty));
        m->set_actor("receiver-ben");
        m->set_reason("opening stock");
        if (batch.movements_size() >= 1000) {
          if (auto st = flush(); !st.ok()) return st;
        }
      }
    }
    return flush();
  }

  std::string statusLine(double seconds) {
    std::string refused;
    std::uint64_t refused_total = 0;
    {
      std::lock_guard lock(m_mutex);
      for (const auto& [reason, n] : m_refused) {
        refused += (refused.empty() ? "" : ", ") + reason + " " + std::to_string(n);
        refused_total += n;
      }
    }
    char head[200];
    std::snprintf(head, sizeof head,
                  "demo-traffic: %.0fs  sent %llu (%.1f/s)  ok %llu  refused %llu", seconds,
                  static_cast<unsigned long long>(m_sent.load()),
                  seconds > 0 ? static_cast<double>(m_sent.load()) / seconds : 0.0,
                  static_cast<unsigned long long>(m_ok.load()),
                  static_cast<unsigned long long>(refused_total));
    std::string line = head;
    if (!refused.empty()) line += " [" + refused + "]";
    line += "  open orders " + std::to_string(openOrders());
    return line;
  }

  Json summary(double seconds) {
    Json refused = Json::object();
    std::lock_guard lock(m_mutex);
    for (const auto& [reason, n] : m_refused) refused[reason] = n;
    return Json{{"seconds", seconds},
                {"sent", m_sent.load()},
                {"ok", m_ok.load()},
                {"unreachable", m_unreachable.load()},
                {"refused", std::move(refused)}};
  }

 private:
  client::Client& m_client;
  const std::vector<Sku> m_skus;
  const std::uint64_t m_seed;
  std::vector<std::size_t> m_rank;
  std::vector<double> m_cumulative;
  std::string m_orderPrefix;
  std::atomic<std::uint64_t> m_nextOrder{1};
  std::atomic<std::uint64_t> m_sent{0}, m_ok{0}, m_unreachable{0};
  std::atomic<std::size_t> m_openOrders{0};
  std::mutex m_mutex;
  std::map<std::string, std::uint64_t> m_refused;                       // guarded
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> m_due;  // guarded
  std::set<std::string> m_reordered;                                    // guarded
};

absl::StatusOr<std::vector<Sku>> loadCatalog(client::Client& client, std::uint64_t seed) {
  std::vector<v1::Item> items;
  v1::ListItemsRequest request;
  request.set_page_size(1000);
  for (int pages = 0; pages < 10000; ++pages) {
    auto page = client.listItems(request);
    if (!page.ok()) return page.status();
    for (auto& i : *page->mutable_items()) items.push_back(std::move(i));
    if (page->next_page_token().empty()) break;
    request.set_page_token(page->next_page_token());
  }
  auto locations = client.listLocations(v1::ListLocationsRequest());
  if (!locations.ok()) return locations.status();
  if (items.empty() || locations->locations_size() < 2) {
    return absl::FailedPreconditionError(
        "the server's catalog is empty (need items and at least 2 locations): import "
        "resources/demo/items.csv and locations.csv first");
  }
  std::vector<std::string> names;
  for (const auto& l : locations->locations()) names.push_back(l.warehouse() + "/" + l.code());
  std::vector<Sku> skus;
  for (const auto& item : items) {
    Sku s;
    s.sku = item.sku();
    s.reorder_qty = item.reorder_qty();
    const std::uint64_t h = std::hash<std::string>{}(item.sku()) ^ (seed * 0x9E3779B97F4A7C15ull);
    const std::size_t a = h % names.size();
    const std::size_t b = (a + 1 + (h / names.size()) % (names.size() - 1)) % names.size();
    s.home = {names[a], names[b]};
    skus.push_back(std::move(s));
  }
  return skus;
}

int runDemo(Context& ctx, const DemoArgs& a) {
  auto rate = client::parseInteger("--rate", a.rate, 1, 100000);
  if (!rate.ok()) return ctx.usage(rate.status());
  auto duration = client::parseInteger("--duration", a.duration, 0, 365LL * 86400);
  if (!duration.ok()) return ctx.usage(duration.status());
  auto seed = client::parseInteger("--seed", a.seed, 0, INT64_MAX);
  if (!seed.ok()) return ctx.usage(seed.status());
  auto workers = client::parseInteger("--workers", a.workers, 1, 64);
  if (!workers.ok()) return ctx.usage(workers.status());
  auto every = client::parseInteger("--status-every", a.status_every, 1, 3600);
  if (!every.ok()) return ctx.usage(every.status());
  auto* client = ctx.client();
  if (!client) return kExitUsage;
  installStopSignals();

  auto skus = loadCatalog(*client, static_cast<std::uint64_t>(*seed));
  if (!skus.ok()) return ctx.fail(skus.status(), "demo-traffic");
  Simulation sim(*client, std::move(*skus), static_cast<std::uint64_t>(*seed));
  if (!a.no_prime) {
    if (auto st = sim.primeEmptyBins(); !st.ok())
      return ctx.fail(st, "demo-traffic: opening stock");
  }

  const auto start = Clock::now();
  const auto end =
      *duration == 0 ? Clock::time_point::max() : start + std::chrono::seconds(*duration);
  const auto interval = std::chrono::nanoseconds(1'000'000'000 / *rate);
  std::mutex pace_mutex;
  auto next_slot = start;
  std::atomic<bool> done{false};

  std::vector<std::thread> threads;
  for (std::int64_t w = 0; w < *workers; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937_64 gen(static_cast<std::uint64_t>(*seed) * 1000003ull +
                          static_cast<std::uint64_t>(w));
      while (!done.load()) {
        Clock::time_point slot;
        {
          std::lock_guard lock(pace_mutex);
          // A pacer that does not try to catch up a backlog after a stall.
          next_slot = std::max(next_slot, Clock::now() - std::chrono::milliseconds(100));
          slot = next_slot;
          next_slot += interval;
        }
        while (!done.load() && Clock::now() < slot) {
          std::this_thread::sleep_for(
              std::min<Clock::duration>(slot - Clock::now(), std::chrono::milliseconds(50)));
        }
        if (done.load()) break;
        sim.step(gen);
      }
    });
  }

  auto last_status = start;
  while (!stopRequested() && Clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (Clock::now() - last_status >= std::chrono::seconds(*every)) {
      last_status = Clock::now();
      std::cerr << sim.statusLine(std::chrono::duration<double>(last_status - start).count())
                << std::endl;
    }
  }
  done.store(true);
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::cerr << sim.statusLine(seconds) << " (done)" << std::endl;
  if (ctx.json()) printJson(sim.summary(seconds));
  return kExitOk;
}

}  // namespace

void addDemoTrafficCommand(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<DemoArgs>();
  auto* cmd = app.add_subcommand("demo-traffic", "Simulated warehouse traffic (Ctrl-C to stop)");
  cmd->add_option("--rate", args->rate, "Operations per second (default 50)");
  cmd->add_option("--duration", args->duration, "Seconds to run (default 0 = until Ctrl-C)");
  cmd->add_option("--seed", args->seed, "Random seed (default 1)");
  cmd->add_option("--workers", args->workers, "Concurrent client threads (default 4)");
  cmd->add_option("--status-every", args->status_every, "Seconds between status lines (default 5)");
  cmd->add_flag("--no-prime", args->no_prime, "Do not receive opening stock into empty home bins");
  cmd->callback([&ctx, args] { ctx.action = [&ctx, args] { return runDemo(ctx, *args); }; });
}

}  // namespace depot::ctl
