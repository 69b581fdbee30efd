#include "core/service.h"

#include <atomic>
#include <chrono>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "core/engine.h"
#include "core/request_registry.h"

namespace depot {
namespace {

std::string at(const char* list, std::size_t i) { return absl::StrCat(list, "[", i, "]"); }

// Prefixes a status message with a field path: "sku: x" -> "movements[2].sku: x".
absl::Status under(const std::string& path, const absl::Status& s) {
  if (s.ok() || path.empty()) return s;
  return absl::Status(s.code(), absl::StrCat(path, ".", s.message()));
}

Outcome outcomeOf(const absl::Status& s) {
  Outcome o;
  o.code = s.code();
  o.message = std::string(s.message());
  o.retry_after = retryAfter(s);
  return o;
}

absl::Status validateQuantity(const std::string& field, Qty q, bool allow_negative) {
  if (q == 0) return absl::InvalidArgumentError(field + ": must not be zero");
  if (q < 0 && !allow_negative) return absl::InvalidArgumentError(field + ": must be > 0");
  if (q > kMaxQuantity || q < -kMaxQuantity)
    return absl::InvalidArgumentError(field + ": exceeds the limit of 1e12 units");
  return absl::OkStatus();
}

absl::Status validateId(const std::string& field, std::string_view id) {
  return validateName(field, id, kMaxIdLength, true);
}

std::string actorOr(std::string actor) { return actor.empty() ? "anonymous" : actor; }

}  // namespace

class InventoryService::Impl {
 public:
  Impl(Store& store, const Clock& clock, ServiceOptions options)
      : store(store),
        clock(clock),
        options(options),
        catalog(store),
        events(store, options.watch_tail_entries),
        alerts(store, clock),
        registry(options.idempotency_window, options.max_remembered_requests),
        engine(store, clock, catalog, events, alerts, stats, engineOptions(options)) {}

  static EngineOptions engineOptions(const ServiceOptions& o) {
    EngineOptions e;
    e.writers = o.writers;
    e.queue_capacity = o.queue_capacity;
    e.max_queue_delay = o.max_queue_delay;
    e.min_queue = o.min_queue;
    e.max_batch = o.max_batch;
    e.max_batch_delay = o.max_batch_delay;
    e.max_commits_in_flight = o.max_commits_in_flight;
    e.idempotency_window = o.idempotency_window;
    e.max_remembered_requests = o.max_remembered_requests;
    e.count_rules = CountRules{o.count_variance_abs, o.count_variance_pct};
    e.low_stock_hysteresis_pct = o.low_stock_hysteresis_pct;
    e.own_all_shards = !o.cluster_member;
    return e;
  }

  Store& store;
  const Clock& clock;
  const ServiceOptions options;
  Stats stats;
  Catalog catalog;
  EventLog events;
  AlertManager alerts;
  RequestRegistry registry;
  Engine engine;  // last: stopped and destroyed first
  std::string ledger_id;

  // ---- helpers ----
  absl::StatusOr<Item> resolveItem(const std::string& path, const std::string& sku) {
    if (auto s = validateSku(path.empty() ? "sku" : path + ".sku", sku); !s.ok()) return s;
    auto item = catalog.item(sku);
    if (!item.ok()) return under(path, item.status());
    return item;
  }
  absl::StatusOr<Location> resolveLocation(const std::string& field, const std::string& name) {
    if (auto s = validateName(field, name, 2 * kMaxNameLength + 1, true); !s.ok()) return s;
    auto loc = catalog.location(name);
    if (!loc.ok()) return renameLocationField(field, loc.status());
    return loc;
  }
  // A movement's or order line's item and location as ids, copying no
  // catalog strings. Errors name the fields ("sku: ...", "location: ...");
  // the caller puts them under the movement's or line's path, built only for
  // an error.
  struct ResolvedLine {
    Catalog::ItemRef item;
    LocationId location = 0;
  };
  absl::StatusOr<ResolvedLine> resolveLine(std::string_view sku, std::string_view location) {
    if (auto s = validateSku("sku", sku); !s.ok()) return s;
    auto item = catalog.itemRef(sku);
    if (!item.ok()) return item.status();
    auto loc = resolveLocationId("location", location);
    if (!loc.ok()) return loc.status();
    return ResolvedLine{*item, *loc};
  }
  // As resolveLocation, without copying the location's strings.
  absl::StatusOr<LocationId> resolveLocationId(std::string_view field, std::string_view name) {
    if (auto s = validateName(field, name, 2 * kMaxNameLength + 1, true); !s.ok()) return s;
    auto loc = catalog.locationId(name);
    if (!loc.ok()) return renameLocationField(field, loc.status());
    return loc;
  }
  // Catalog messages start with "location: "; name the real field.
  static absl::Status renameLocationField(std::string_view field, const absl::Status& s) {
    std::string_view msg(s.message().data(), s.message().size());
    if (msg.rfind("location: ", 0) == 0) msg.remove_prefix(10);
    return absl::Status(s.code(), absl::StrCat(absl::string_view(field.data(), field.size()), ": ",
                                               absl::string_view(msg.data(), msg.size())));
  }
  std::vector<LineBalance> names(const std::string& sku, const Outcome& o) {
    std::vector<LineBalance> out;
    out.reserve(o.after.size());
    for (const auto& [loc, b] : o.after)
      out.push_back(LineBalance{sku, catalog.locationName(loc), b});
    return out;
  }
  void countOutcome(const Outcome& o) {
    if (!o.ok()) stats.countRejection(o.code);
  }
};

InventoryService::InventoryService(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

InventoryService::~InventoryService() { stop(); }

absl::StatusOr<std::unique_ptr<InventoryService>> InventoryService::start(Store& store,
                                                                         const Clock& clock,
                                                                         ServiceOptions options) {
  auto impl = std::make_unique<Impl>(store, clock, options);
  impl->ledger_id = store.ledgerId();
  // The catalog loads while the engine loads its shards (neither needs the
  // other until the engine re-derives alerts); recover() waits for it then.
  absl::Status catalog_loaded;
  std::thread catalog_loader([&] { catalog_loaded = impl->catalog.load(); });
  struct Join {
    std::thread& t;
    ~Join() {
      if (t.joinable()) t.join();
    }
  } join_catalog{catalog_loader};
  auto awaitCatalog = [&] {
    if (catalog_loader.joinable()) catalog_loader.join();
    return catalog_loaded;
  };
  if (auto s = impl->alerts.load(); !s.ok()) return s;
  impl->catalog.setShared(options.cluster_member);
  impl->alerts.setShared(options.cluster_member);
  Impl* raw = impl.get();
  impl->engine.setRequestsLoadedHook(
      [raw](const std::vector<std::pair<std::uint64_t, std::uint64_t>>& records,
            std::size_t expected_total) {
        raw->registry.rememberAll(records, raw->clock.now(), expected_total);
      });
  // recover() hands every remembered request to the hook above.
  if (auto s = impl->engine.recover(awaitCatalog); !s.ok()) return s;
  if (auto s = awaitCatalog(); !s.ok()) return s;
  impl->engine.start();
  return std::unique_ptr<InventoryService>(new InventoryService(std::move(impl)));
}

void InventoryService::stop() {
  if (!m_impl) return;
  m_impl->engine.stop();
  m_impl->alerts.flush();
}

Catalog& InventoryService::catalog() { return m_impl->catalog; }
EventLog& InventoryService::events() { return m_impl->events; }
AlertManager& InventoryService::alerts() { return m_impl->alerts; }
Stats& InventoryService::stats() { return m_impl->stats; }
std::string InventoryService::ledgerId() const { return m_impl->ledger_id; }
std::array<Seq, kShardCount> InventoryService::lastSeqs() const {
  return m_impl->events.committed();
}
std::size_t InventoryService::queueDepth() const { return m_impl->engine.queueDepth(); }
std::size_t InventoryService::openHolds() const { return m_impl->engine.openHolds(); }
std::size_t InventoryService::unappliedEntries() const { return m_impl->store.unappliedEntries(); }
std::uint64_t InventoryService::logSyncs() const { return m_impl->store.logSyncs(); }
IdempotencyWindowStats InventoryService::idempotencyWindow() const {
  return m_impl->engine.idempotencyWindow();
}
Engine& InventoryService::engine() { return m_impl->engine; }

absl::StatusOr<std::vector<ShardId>> InventoryService::orderShards(const std::string& order_id) {
  if (auto s = validateId("order_id", order_id); !s.ok()) return s;
  return m_impl->store.findOrderShards(order_id);
}

absl::StatusOr<ShardId> InventoryService::countShard(const std::string& count_id) {
  if (auto s = validateId("count_id", count_id); !s.ok()) return s;
  auto c = m_impl->store.findCount(count_id);
  if (!c.ok()) return c.status();
  if (!*c) return absl::NotFoundError(absl::StrCat("count_id: no count '", count_id, "'"));
  return (*c)->shard;
}

std::uint64_t requestFingerprint(const ReserveRequest& r) {
  Fingerprint fp;
  fp.add("reserve").add(r.order_id).add(r.ttl);
  for (const auto& l : r.lines) fp.add(l.sku).add(l.location).add(l.quantity);
  return fp.value();
}

std::uint64_t requestFingerprint(const CommitRequest& r) {
  Fingerprint fp;
  fp.add("commit").add(r.order_id);
  for (const auto& l : r.lines) fp.add(l.sku).add(l.location).add(l.quantity);
  return fp.value();
}

std::uint64_t requestFingerprint(const ReleaseRequest& r) {
  return Fingerprint().add("release").add(r.order_id).value();
}

std::uint64_t undoFingerprint(std::uint64_t reserve_fingerprint) {
  return Fingerprint().add("undo").add(static_cast<std::int64_t>(reserve_fingerprint)).value();
}

// ------------------------------------------------------------------ apply

namespace {
struct ApplyCall {
  std::vector<MovementResult> results;
  std::vector<std::string> skus;  // per movement, for names
  std::atomic<int> pending{0};
  Done<absl::StatusOr<std::vector<MovementResult>>> done;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};
}  // namespace

void InventoryService::apply(std::vector<MovementRequest> movements, bool linked,
                             Done<absl::StatusOr<std::vector<MovementResult>>> done,
                             bool flow_controlled) {
  Impl& d = *m_impl;
  if (movements.empty()) return done(absl::InvalidArgumentError("movements: at least one is required"));
  if (movements.size() > kMaxBatchMovements)
    return done(absl::InvalidArgumentError(absl::StrCat(
        "movements: ", movements.size(), " exceeds the limit of ", kMaxBatchMovements)));
  auto call = std::make_shared<ApplyCall>();
  call->done = std::move(done);
  call->results.resize(movements.size());
  call->skus.resize(movements.size());
  std::vector<MovementCmd> cmds(movements.size());
  std::vector<bool> valid(movements.size(), false);
  std::map<ShardId, std::vector<std::size_t>> byShard;
  const Micros now = d.clock.now();

  // Validates and resolves movement i into cmds[i]. Errors name the field
  // alone; the caller prefixes "movements[i]." only on failure, so a valid
  // movement builds no strings for its field paths.
  auto prepare = [&](std::size_t i) -> absl::Status {
    auto& m = movements[i];
    if (auto s = validateId("request_id", m.request_id); !s.ok()) return s;
    if (m.kind != MovementKind::kReceive && m.kind != MovementKind::kShip &&
        m.kind != MovementKind::kTransfer && m.kind != MovementKind::kAdjust)
      return absl::InvalidArgumentError("kind: must be RECEIVE, SHIP, TRANSFER or ADJUST");
    auto line = d.resolveLine(m.sku, m.location);
    if (!line.ok()) return line.status();
    MovementCmd& c = cmds[i];
    if (m.kind == MovementKind::kTransfer) {
      auto to = d.resolveLocationId("to_location", m.to_location);
      if (!to.ok()) return to.status();
      if (*to == line->location)
        return absl::InvalidArgumentError("to_location: must differ from location");
      c.to_location = *to;
      c.to_location_name = m.to_location;
      c.location_name = m.location;
    } else if (!m.to_location.empty()) {
      return absl::InvalidArgumentError("to_location: only TRANSFER has a destination");
    }
    if (auto s = validateQuantity("quantity", m.quantity, m.kind == MovementKind::kAdjust); !s.ok())
      return s;
    if (auto s = validateText("reason", m.reason, kMaxTextLength, m.kind == MovementKind::kAdjust);
        !s.ok())
      return s;
    if (auto s = validateName("actor", m.actor, kMaxIdLength, false); !s.ok()) return s;
    c.kind = m.kind;
    c.item = line->item.id;
    c.location = line->location;
    c.quantity = m.quantity;
    c.fingerprint = Fingerprint()
                        .add("movement")
                        .add(static_cast<std::int64_t>(m.kind))
                        .add(m.sku)
                        .add(m.location)
                        .add(m.to_location)
                        .add(m.quantity)
                        .add(m.reason)
                        .value();
    if (auto s = d.registry.claim("request_id", m.request_id, c.fingerprint, now); !s.ok())
      return s;
    c.request_id = std::move(m.request_id);
    c.actor = actorOr(std::move(m.actor));
    c.reason = std::move(m.reason);
    call->results[i].shard = line->item.shard;
    return absl::OkStatus();
  };
  for (std::size_t i = 0; i < movements.size(); ++i) {
    if (auto s = prepare(i); !s.ok()) {
      call->results[i].outcome = outcomeOf(under(at("movements", i), s));
      continue;
    }
    call->skus[i] = std::move(movements[i].sku);
    valid[i] = true;
    byShard[call->results[i].shard].push_back(i);
  }

  if (linked) {
    if (byShard.size() > 1) {
      auto it = byShard.begin();
      const ShardId a = it->first, b = (++it)->first;
      return call->done(absl::InvalidArgumentError(absl::StrCat(
          "linked: the movements span shards ", a, " and ", b,
          "; a linked batch must stay within one shard (its SKUs must hash to the same shard)")));
    }
    std::size_t bad = movements.size();
    for (std::size_t i = 0; i < movements.size() && bad == movements.size(); ++i)
      if (!valid[i]) bad = i;
    if (bad != movements.size()) {
      for (std::size_t i = 0; i < movements.size(); ++i)
        if (i != bad)
          call->results[i].outcome = outcomeOf(absl::AbortedError(absl::StrCat(
              "linked batch aborted: movements[", bad, "] failed: ",
              call->results[bad].outcome.message)));
      for (auto& r : call->results) d.countOutcome(r.outcome);
      return call->done(std::move(call->results));
    }
  }

  auto finish = [&d](const std::shared_ptr<ApplyCall>& c) {
    for (std::size_t i = 0; i < c->results.size(); ++i) {
      auto& r = c->results[i];
      d.countOutcome(r.outcome);
      if (r.outcome.ok()) r.after = d.names(c->skus[i], r.outcome);
    }
    d.stats.command_seconds.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - c->started).count());
    c->done(std::move(c->results));
  };
  if (byShard.empty()) {
    for (auto& r : call->results) d.countOutcome(r.outcome);
    return call->done(std::move(call->results));
  }
  call->pending.store(static_cast<int>(byShard.size()));
  // Admission for every shard first, then the submissions: a request's own
  // parts never count against its later parts.
  std::vector<absl::Status> admitted;
  admitted.reserve(byShard.size());
  for (auto& [shard, idxs] : byShard)
    admitted.push_back(flow_controlled ? absl::OkStatus() : d.engine.admit(shard));
  std::size_t part = 0;
  for (auto& [shard, idxs] : byShard) {
    if (const absl::Status& s = admitted[part++]; !s.ok()) {
      for (auto i : idxs) call->results[i].outcome = outcomeOf(s);
      if (call->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) finish(call);
      continue;
    }
    Task task;
    task.shard = shard;
    task.weight = static_cast<std::uint32_t>(idxs.size());
    std::vector<MovementCmd> group;
    group.reserve(idxs.size());
    for (auto i : idxs) group.push_back(std::move(cmds[i]));
    task.run = [call, idxs, group = std::move(group), linked, finish](ShardTxn& txn) -> Completion {
      if (linked) {
        std::vector<bool> replayed;
        auto outs = txn.linked(group, &replayed);
        for (std::size_t k = 0; k < idxs.size(); ++k) {
          call->results[idxs[k]].outcome = std::move(outs[k]);
          call->results[idxs[k]].replayed = replayed[k];
        }
      } else {
        for (std::size_t k = 0; k < idxs.size(); ++k) {
          bool replayed = false;
          call->results[idxs[k]].outcome = txn.movement(group[k], &replayed);
          call->results[idxs[k]].replayed = replayed;
        }
      }
      return [call, idxs, finish](const absl::Status& status) {
        if (!status.ok())
          for (auto i : idxs) {
            call->results[i].outcome = outcomeOf(status);
            call->results[i].replayed = false;
          }
        if (call->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) finish(call);
      };
    };
    auto copy = idxs;
    if (auto s = d.engine.submit(std::move(task)); !s.ok()) {
      for (auto i : copy) call->results[i].outcome = outcomeOf(s);
      if (call->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) finish(call);
    }
  }
}

// ------------------------------------------------------------ order holds

namespace {
struct OrderCall {
  std::vector<ShardId> shards;
  std::vector<Outcome> outcomes;
  std::vector<std::vector<ItemId>> items;  // per shard: the item of each outcome.after entry
  std::vector<bool> replayed;
  std::vector<Micros> expires;
  std::atomic<int> pending{0};
  std::function<void(OrderCall&)> finish;
};

}  // namespace

// Hold operations write one ledger entry per hold line, in line order: the
// items of an outcome's `after` entries are the hold's line items.
static void holdItems(const ShardTxn& txn, const std::string& order_id, std::vector<ItemId>* items) {
  auto it = txn.state().holds.find(order_id);
  if (it == txn.state().holds.end()) return;
  for (const auto& l : it->second.lines) items->push_back(l.item);
}

// The balances after an order operation, with names, in shard then line order.
static std::vector<LineBalance> orderAfter(const Catalog& catalog, const OrderCall& c) {
  std::vector<LineBalance> out;
  for (std::size_t k = 0; k < c.outcomes.size(); ++k) {
    const auto& after = c.outcomes[k].after;
    for (std::size_t i = 0; i < after.size(); ++i) {
      const ItemId item = i < c.items[k].size() ? c.items[k][i] : 0;
      out.push_back(LineBalance{catalog.skuOf(item), catalog.locationName(after[i].first),
                                after[i].second});
    }
  }
  return out;
}

// Runs one task per shard, each producing an Outcome; calls `finish` once all are done.
static void fanOut(Engine& engine, const std::shared_ptr<OrderCall>& call,
                   std::function<Outcome(ShardTxn&, ShardId, bool*, Micros*, std::vector<ItemId>*)> run) {
  const std::size_t n = call->shards.size();
  call->outcomes.resize(n);
  call->items.assign(n, {});
  call->replayed.assign(n, false);
  call->expires.assign(n, 0);
  call->pending.store(static_cast<int>(n));
  for (std::size_t k = 0; k < n; ++k) {
    Task task;
    task.shard = call->shards[k];
    task.run = [call, k, run](ShardTxn& txn) -> Completion {
      bool rep = false;
      Micros exp = 0;
      call->outcomes[k] = run(txn, call->shards[k], &rep, &exp, &call->items[k]);
      call->replayed[k] = rep;
      call->expires[k] = exp;
      return [call, k](const absl::Status& status) {
        if (!status.ok()) call->outcomes[k] = outcomeOf(status);
        if (call->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) call->finish(*call);
      };
    };
    if (auto s = engine.submit(std::move(task)); !s.ok()) {
      call->outcomes[k] = outcomeOf(s);
      if (call->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) call->finish(*call);
    }
  }
}

void InventoryService::reserve(ReserveRequest r, Done<OrderResult> done) {
  Impl& d = *m_impl;
  auto refuse = [&](absl::Status s) {
    d.stats.countRejection(s.code());
    OrderResult res;
    res.status = std::move(s);
    done(std::move(res));
  };
  if (auto s = validateId("request_id", r.request_id); !s.ok()) return refuse(s);
  if (auto s = validateId("order_id", r.order_id); !s.ok()) return refuse(s);
  if (auto s = validateName("actor", r.actor, kMaxIdLength, false); !s.ok()) return refuse(s);
  if (r.lines.empty()) return refuse(absl::InvalidArgumentError("lines: at least one is required"));
  if (r.lines.size() > kMaxBatchMovements)
    return refuse(absl::InvalidArgumentError(
        absl::StrCat("lines: ", r.lines.size(), " exceeds the limit of ", kMaxBatchMovements)));
  if (r.ttl < 0) return refuse(absl::InvalidArgumentError("ttl_seconds: must be >= 0"));
  if (r.ttl > d.options.max_hold_ttl)
    return refuse(absl::InvalidArgumentError(absl::StrCat(
        "ttl_seconds: exceeds the limit of ", d.options.max_hold_ttl / 1'000'000, " s")));
  const Micros ttl = r.ttl == 0 ? d.options.default_hold_ttl : r.ttl;
  std::map<ShardId, std::vector<HoldLine>> byShard;
  for (std::size_t i = 0; i < r.lines.size(); ++i) {
    const auto& l = r.lines[i];
    auto line = d.resolveLine(l.sku, l.location);
    absl::Status s = line.status();
    if (s.ok()) s = validateQuantity("quantity", l.quantity, false);
    if (s.ok() && r.part &&
        std::find(r.part->shards.begin(), r.part->shards.end(), line->item.shard) ==
            r.part->shards.end())
      s = absl::InvalidArgumentError("sku: not on the shards of this request part");
    if (!s.ok()) return refuse(under(at("lines", i), s));
    byShard[line->item.shard].push_back(HoldLine{line->item.id, line->location, l.quantity});
  }
  for (const auto& [shard, lines] : byShard)
    if (auto s = d.engine.admit(shard); !s.ok()) return refuse(s);
  const std::uint64_t fingerprint = r.part ? r.part->fingerprint : requestFingerprint(r);
  const Micros now = d.clock.now();
  if (!r.part) {
    if (auto s = d.registry.claim("request_id", r.request_id, fingerprint, now); !s.ok())
      return refuse(s);
  }

  auto call = std::make_shared<OrderCall>();
  auto cmds = std::make_shared<std::map<ShardId, HoldCmd>>();
  for (auto& [shard, hl] : byShard) {
    call->shards.push_back(shard);
    HoldCmd c;
    c.request_id = r.request_id;
    c.order_id = r.order_id;
    c.lines = std::move(hl);
    c.expires_at = now + ttl;
    c.actor = actorOr(r.actor);
    c.fingerprint = fingerprint;
    (*cmds)[shard] = std::move(c);
  }
  const std::string rid = r.request_id, order = r.order_id, actor = actorOr(r.actor);
  Impl* dp = &d;
  call->finish = [dp, done, rid, order, actor, fingerprint](OrderCall& c) {
    OrderResult res;
    bool all_ok = true;
    for (std::size_t k = 0; k < c.outcomes.size(); ++k) {
      if (!c.outcomes[k].ok()) {
        if (all_ok) res.status = c.outcomes[k].status();
        all_ok = false;
      }
    }
    if (all_ok) {
      res.replayed = true;
      for (std::size_t k = 0; k < c.outcomes.size(); ++k) {
        res.seqs.push_back(c.outcomes[k].first_seq);
        res.expires_at = std::max(res.expires_at, c.expires[k]);
        res.replayed = res.replayed && c.replayed[k];
      }
      res.after = orderAfter(dp->catalog, c);
      return done(std::move(res));
    }
    dp->stats.countRejection(res.status.code());
    // Saga: undo the shards that did reserve, then report the failure. If an
    // undo cannot run now, the hold's TTL releases it.
    auto undo = std::make_shared<OrderCall>();
    for (std::size_t k = 0; k < c.outcomes.size(); ++k)
      if (c.outcomes[k].ok() && c.outcomes[k].entries > 0) undo->shards.push_back(c.shards[k]);
    if (undo->shards.empty()) return done(std::move(res));
    undo->finish = [done, res](OrderCall&) mutable { done(std::move(res)); };
    CloseHoldCmd cmd;
    cmd.request_id = rid + "~undo";
    cmd.order_id = order;
    cmd.commit = false;
    cmd.actor = actor;
    cmd.reason = kUndoReason;
    cmd.fingerprint = undoFingerprint(fingerprint);
    fanOut(dp->engine, undo, [cmd](ShardTxn& txn, ShardId, bool* rep, Micros*, std::vector<ItemId>*) {
      return txn.closeHold(cmd, rep);
    });
  };
  fanOut(d.engine, call, [cmds](ShardTxn& txn, ShardId shard, bool* rep, Micros* exp,
                                std::vector<ItemId>* items) {
    const HoldCmd& c = cmds->at(shard);
    Outcome o = txn.reserve(c, rep);
    if (o.ok()) holdItems(txn, c.order_id, items);
    // A retry reports the expiry of the hold it created the first time.
    auto it = txn.state().holds.find(c.order_id);
    if (it != txn.state().holds.end() && it->second.request_id == c.request_id)
      *exp = it->second.expires_at;
    return o;
  });
}

namespace {
void refuseOrder(Stats& stats, const Done<OrderResult>& done, absl::Status s) {
  stats.countRejection(s.code());
  OrderResult res;
  res.status = std::move(s);
  done(std::move(res));
}
}  // namespace

// Commit and Release: closes the order's hold on every shard that has one.
// `ship` (commit with lines only) gives the quantities to ship per shard.
// `part`: only these shards, no registry claim (see RequestPart).
static void closeOrder(InventoryService::Impl& d, CloseHoldCmd base,
                       std::map<ShardId, std::vector<HoldLine>> ship,
                       std::optional<RequestPart> part, Done<OrderResult> done);

void InventoryService::commitOrder(CommitRequest r, Done<OrderResult> done) {
  Impl& d = *m_impl;
  auto refuse = [&](absl::Status s) { refuseOrder(d.stats, done, std::move(s)); };
  if (auto s = validateId("request_id", r.request_id); !s.ok()) return refuse(s);
  if (auto s = validateId("order_id", r.order_id); !s.ok()) return refuse(s);
  if (auto s = validateName("actor", r.actor, kMaxIdLength, false); !s.ok()) return refuse(s);
  if (r.lines.size() > kMaxBatchMovements)
    return refuse(absl::InvalidArgumentError(
        absl::StrCat("lines: ", r.lines.size(), " exceeds the limit of ", kMaxBatchMovements)));
  std::map<ShardId, std::vector<HoldLine>> ship;
  for (std::size_t i = 0; i < r.lines.size(); ++i) {
    const auto& l = r.lines[i];
    auto line = d.resolveLine(l.sku, l.location);
    absl::Status s = line.status();
    if (s.ok() && (l.quantity < 0 || l.quantity > kMaxQuantity))
      s = absl::InvalidArgumentError("quantity: must be between 0 and 1e12");
    if (!s.ok()) return refuse(under(at("lines", i), s));
    ship[line->item.shard].push_back(HoldLine{line->item.id, line->location, l.quantity});
  }
  CloseHoldCmd base;
  base.request_id = r.request_id;
  base.order_id = r.order_id;
  base.commit = true;
  base.ship_all = r.part ? !r.part->whole_has_lines : r.lines.empty();
  base.actor = actorOr(r.actor);
  base.fingerprint = r.part ? r.part->fingerprint : requestFingerprint(r);
  closeOrder(d, std::move(base), std::move(ship), std::move(r.part), std::move(done));
}

void InventoryService::releaseOrder(ReleaseRequest r, Done<OrderResult> done) {
  Impl& d = *m_impl;
  auto refuse = [&](absl::Status s) { refuseOrder(d.stats, done, std::move(s)); };
  if (auto s = validateId("request_id", r.request_id); !s.ok()) return refuse(s);
  if (auto s = validateId("order_id", r.order_id); !s.ok()) return refuse(s);
  if (auto s = validateName("actor", r.actor, kMaxIdLength, false); !s.ok()) return refuse(s);
  if (auto s = validateText("reason", r.reason, kMaxTextLength, false); !s.ok()) return refuse(s);
  CloseHoldCmd base;
  base.request_id = r.request_id;
  base.order_id = r.order_id;
  base.commit = false;
  base.actor = actorOr(r.actor);
  base.reason = r.reason.empty() ? "released" : r.reason;
  base.fingerprint = r.part ? r.part->fingerprint : requestFingerprint(r);
  closeOrder(d, std::move(base), {}, std::move(r.part), std::move(done));
}

static void closeOrder(InventoryService::Impl& d, CloseHoldCmd base,
                       std::map<ShardId, std::vector<HoldLine>> ship,
                       std::optional<RequestPart> part, Done<OrderResult> done) {
  auto refuse = [&](absl::Status s) { refuseOrder(d.stats, done, std::move(s)); };
  auto shards = part ? absl::StatusOr<std::vector<ShardId>>(part->shards)
                     : d.store.findOrderShards(base.order_id);
  if (!shards.ok()) return refuse(shards.status());
  if (shards->empty())
    return refuse(absl::NotFoundError(
        absl::StrCat("order_id: no hold for order '", base.order_id, "'")));
  for (const auto& [shard, lines] : ship)
    if (std::find(shards->begin(), shards->end(), shard) == shards->end())
      return refuse(absl::FailedPreconditionError(
          absl::StrCat("lines: order '", base.order_id, "' holds nothing of SKU '",
                       d.catalog.skuOf(lines.front().item), "'")));
  for (ShardId s : *shards)
    if (auto st = d.engine.admit(s); !st.ok()) return refuse(st);
  if (!part) {
    if (auto s = d.registry.claim("request_id", base.request_id, base.fingerprint, d.clock.now());
        !s.ok())
      return refuse(s);
  }
  auto call = std::make_shared<OrderCall>();
  call->shards = *shards;
  InventoryService::Impl* dp = &d;
  call->finish = [dp, done](OrderCall& c) {
    OrderResult res;
    res.replayed = true;
    for (std::size_t k = 0; k < c.outcomes.size(); ++k) {
      if (!c.outcomes[k].ok() && res.status.ok()) res.status = c.outcomes[k].status();
      res.replayed = res.replayed && c.replayed[k];
      res.seqs.push_back(c.outcomes[k].first_seq);
    }
    if (!res.status.ok()) dp->stats.countRejection(res.status.code());
    res.after = orderAfter(dp->catalog, c);
    done(std::move(res));
  };
  fanOut(d.engine, call, [base, ship](ShardTxn& txn, ShardId shard, bool* rep, Micros*,
                                      std::vector<ItemId>* items) {
    CloseHoldCmd c = base;
    if (c.commit && !c.ship_all) {
      auto it = ship.find(shard);
      if (it != ship.end()) c.ship = it->second;  // absent: ship nothing here, release all
    }
    Outcome o = txn.closeHold(c, rep);
    if (o.ok()) holdItems(txn, c.order_id, items);
    return o;
  });
}

// ------------------------------------------------------------------ reads

void InventoryService::getStock(std::string sku, Done<absl::StatusOr<StockResult>> done) {
  Impl& d = *m_impl;
  auto item = d.resolveItem("", sku);
  if (!item.ok()) return done(item.status());
  Task task;
  task.shard = item->shard;
  Impl* dp = &d;
  task.run = [dp, item = *item, done](ShardTxn& txn) -> Completion {
    auto res = std::make_shared<StockResult>();
    res->item = item;
    const auto& st = txn.state();
    res->seq = st.last_seq;
    if (auto it = st.item_locations.find(item.id); it != st.item_locations.end()) {
      for (LocationId loc : it->second) {
        auto b = st.balances.find(balanceKey(item.id, loc));
        if (b == st.balances.end()) continue;
        StockLine line;
        line.location = dp->catalog.locationById(loc).value_or(Location{loc, "?", "?"});
        line.balance = b->second.balance;
        res->lines.push_back(std::move(line));
      }
    }
    std::sort(res->lines.begin(), res->lines.end(), [](const StockLine& a, const StockLine& b) {
      return a.location.name() < b.location.name();
    });
    return [res, done](const absl::Status& status) {
      if (!status.ok()) return done(status);
      done(std::move(*res));
    };
  };
  if (auto s = d.engine.submit(std::move(task)); !s.ok()) done(s);
}

absl::StatusOr<std::vector<StockRow>> InventoryService::listStock(const StockQuery& query,
                                                                   ReadFreshness* freshness) {
  if (auto s = validateText("sku_prefix", query.sku_prefix, kMaxSkuLength, false); !s.ok()) return s;
  if (auto s = validateText("warehouse", query.warehouse, kMaxNameLength, false); !s.ok()) return s;
  if (auto s = validateText("location", query.location, 2 * kMaxNameLength + 1, false); !s.ok())
    return s;
  if (query.limit == 0 || query.limit > 1000)
    return absl::InvalidArgumentError("page_size: must be between 1 and 1000");
  return m_impl->store.listStockFromReplica(query, freshness);
}

absl::StatusOr<std::vector<LedgerEntry>> InventoryService::history(const std::string& sku,
                                                                   const std::string& location,
                                                                   Micros from, Micros to,
                                                                   Seq after_seq,
                                                                   std::size_t limit) {
  Impl& d = *m_impl;
  if (auto s = validateSku("sku", sku); !s.ok()) return s;
  auto item = d.catalog.item(sku);
  if (!item.ok()) return item.status();
  HistoryQuery q;
  q.item = item->id;
  if (!location.empty()) {
    auto loc = d.resolveLocation("location", location);
    if (!loc.ok()) return loc.status();
    q.location = loc->id;
  }
  if (from < 0 || to < 0) return absl::InvalidArgumentError("from_us: times must be >= 0");
  if (to != 0 && to < from) return absl::InvalidArgumentError("to_us: must not be before from_us");
  if (limit == 0 || limit > 1000)
    return absl::InvalidArgumentError("page_size: must be between 1 and 1000");
  q.from = from;
  q.to = to;
  q.after_seq = after_seq;
  q.limit = limit;
  return d.store.history(q);
}

absl::StatusOr<Balance> InventoryService::balanceAt(const std::string& sku,
                                                    const std::string& location, Micros when) {
  Impl& d = *m_impl;
  if (auto s = validateSku("sku", sku); !s.ok()) return s;
  auto item = d.catalog.item(sku);
  if (!item.ok()) return item.status();
  auto loc = d.resolveLocation("location", location);
  if (!loc.ok()) return loc.status();
  if (when < 0) return absl::InvalidArgumentError("at_us: must be >= 0");
  return d.store.balanceAt(item->id, loc->id, when);
}

void InventoryService::snapshot(ShardId shard, Done<absl::StatusOr<ShardSnapshot>> done) {
  Impl& d = *m_impl;
  if (shard >= kShardCount)
    return done(absl::InvalidArgumentError(absl::StrCat("shards: ", shard, " is not a shard (0..255)")));
  Impl* dp = &d;
  if (d.options.cluster_member && !d.engine.serves(shard)) {
    // Another node writes the shard: one consistent read of the store.
    ShardSnapshot snap;
    auto read = d.store.shardBalancesFromReplica(shard, &snap.freshness);
    if (!read.ok()) return done(read.status());
    snap.shard = shard;
    snap.seq = read->first;
    for (auto& b : read->second) {
      StockRow row;
      row.item = dp->catalog.itemById(b.item).value_or(Item{});
      row.item.id = b.item;
      row.location = dp->catalog.locationById(b.location).value_or(Location{});
      row.location.id = b.location;
      row.balance = b.balance;
      row.updated_at = b.last_ts;
      snap.rows.push_back(std::move(row));
    }
    std::sort(snap.rows.begin(), snap.rows.end(), [](const StockRow& a, const StockRow& b) {
      return a.item.sku != b.item.sku ? a.item.sku < b.item.sku
                                      : a.location.name() < b.location.name();
    });
    return done(std::move(snap));
  }
  Task task;
  task.shard = shard;
  task.run = [dp, shard, done](ShardTxn& txn) -> Completion {
    auto snap = std::make_shared<ShardSnapshot>();
    snap->shard = shard;
    snap->seq = txn.state().last_seq;
    snap->rows.reserve(txn.state().balances.size());
    for (const auto& [key, cell] : txn.state().balances) {
      StockRow row;
      row.item.id = keyItem(key);
      row.location.id = keyLocation(key);
      row.balance = cell.balance;
      row.updated_at = cell.last_ts;
      snap->rows.push_back(std::move(row));
    }
    return [dp, snap, done](const absl::Status& status) {
      if (!status.ok()) return done(status);
      // Names are filled outside the shard's batch work.
      for (auto& row : snap->rows) {
        if (auto it = dp->catalog.itemById(row.item.id)) row.item = std::move(*it);
        if (auto loc = dp->catalog.locationById(row.location.id)) row.location = std::move(*loc);
      }
      std::sort(snap->rows.begin(), snap->rows.end(), [](const StockRow& a, const StockRow& b) {
        return a.item.sku != b.item.sku ? a.item.sku < b.item.sku
                                        : a.location.name() < b.location.name();
      });
      done(std::move(*snap));
    };
  };
  if (auto s = d.engine.submit(std::move(task)); !s.ok()) done(s);
}

// --------------------------------------------------------------- stocktake

namespace {
struct CountCall {
  std::vector<CountResult> results;
  std::atomic<int> pending{0};
  Done<absl::StatusOr<std::vector<CountResult>>> done;
};

void hideExpected(CountRecord& r) {
  r.expected = 0;
  r.variance = 0;
}
}  // namespace

void InventoryService::submitCounts(CountSubmission sub,
                                    Done<absl::StatusOr<std::vector<CountResult>>> done) {
  Impl& d = *m_impl;
  if (sub.lines.empty()) return done(absl::InvalidArgumentError("lines: at least one is required"));
  if (sub.lines.size() > kMaxBatchMovements)
    return done(absl::InvalidArgumentError(
        absl::StrCat("lines: ", sub.lines.size(), " exceeds the limit of ", kMaxBatchMovements)));
  if (auto s = validateName("session_id", sub.session_id, kMaxIdLength, false); !s.ok()) return done(s);
  if (auto s = validateName("counter", sub.counter, kMaxIdLength, false); !s.ok()) return done(s);
  const Micros now = d.clock.now();
  auto call = std::make_shared<CountCall>();
  call->done = std::move(done);
  call->results.resize(sub.lines.size());
  std::map<ShardId, std::vector<std::pair<std::size_t, CountCmd>>> byShard;
  for (std::size_t i = 0; i < sub.lines.size(); ++i) {
    const auto& l = sub.lines[i];
    const std::string path = at("lines", i);
    auto& res = call->results[i];
    res.record.count_id = l.request_id;
    auto fail = [&](absl::Status s) {
      d.stats.countRejection(s.code());
      res.status = std::move(s);
    };
    if (auto s = validateId(path + ".request_id", l.request_id); !s.ok()) { fail(s); continue; }
    auto item = d.resolveItem(path, l.sku);
    if (!item.ok()) { fail(item.status()); continue; }
    auto loc = d.resolveLocation(path + ".location", l.location);
    if (!loc.ok()) { fail(loc.status()); continue; }
    if (l.counted < 0 || l.counted > kMaxQuantity) {
      fail(absl::InvalidArgumentError(path + ".counted: must be between 0 and 1e12"));
      continue;
    }
    if (l.counted_at < 0) {
      fail(absl::InvalidArgumentError(path + ".counted_at_us: must be >= 0"));
      continue;
    }
    if (l.counted_at > now + d.options.max_clock_skew) {
      fail(absl::InvalidArgumentError(path + ".counted_at_us: is in the future"));
      continue;
    }
    CountCmd c;
    c.draft.count_id = l.request_id;
    c.draft.item = item->id;
    c.draft.location = loc->id;
    c.draft.counted = l.counted;
    c.draft.counted_at = l.counted_at == 0 ? now : std::min(l.counted_at, now);
    c.draft.session_id = sub.session_id;
    c.draft.counter = actorOr(sub.counter);
    c.draft.blind = sub.blind;
    c.fingerprint = Fingerprint()
                        .add("count")
                        .add(l.sku)
                        .add(l.location)
                        .add(l.counted)
                        .add(l.counted_at)
                        .value();
    if (auto s = d.registry.claim(path + ".request_id", l.request_id, c.fingerprint, now); !s.ok()) {
      fail(s);
      continue;
    }
    byShard[item->shard].emplace_back(i, std::move(c));
  }
  if (byShard.empty()) return call->done(std::move(call->results));
  call->pending.store(static_cast<int>(byShard.size()));
  Impl* dp = &d;
  const bool blind = sub.blind;
  auto finish = [dp, blind](const std::shared_ptr<CountCall>& c) {
    for (auto& r : c->results) {
      if (r.status.ok() && r.replayed) {
        // The remembered outcome has no record: read it back.
        if (auto rec = dp->store.findCount(r.record.count_id); rec.ok() && *rec) r.record = **rec;
      }
      if (blind) hideExpected(r.record);
    }
    c->done(std::move(c->results));
  };
  for (auto& [shard, group] : byShard) {
    Task task;
    task.shard = shard;
    task.weight = static_cast<std::uint32_t>(group.size());
    auto g = std::make_shared<std::vector<std::pair<std::size_t, CountCmd>>>(std::move(group));
    task.run = [call, g, finish, dp](ShardTxn& txn) -> Completion {
      for (auto& [i, cmd] : *g) {
        bool rep = false;
        CountRecord rec = cmd.draft;
        Outcome o = txn.count(cmd, &rec, &rep);
        call->results[i].status = o.status();
        call->results[i].record = rec;
        call->results[i].replayed = rep;
        if (!o.ok()) dp->stats.countRejection(o.code);
      }
      return [call, g, finish](const absl::Status& status) {
        if (!status.ok())
          for (auto& [i, cmd] : *g) call->results[i].status = status;
        if (call->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) finish(call);
      };
    };
    std::vector<std::size_t> idxs;
    for (auto& [i, cmd] : *g) idxs.push_back(i);
    if (auto s = d.engine.submit(std::move(task)); !s.ok()) {
      for (auto i : idxs) call->results[i].status = s;
      if (call->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) finish(call);
    }
  }
}

static void decideCount(Engine& engine, Store& store, RequestRegistry& registry,
                        const Clock& clock, CountDecision decision, bool approve,
                        Done<CountResult> done) {
  auto refuse = [&](absl::Status s) {
    CountResult r;
    r.record.count_id = decision.count_id;
    r.status = std::move(s);
    done(std::move(r));
  };
  if (auto s = validateId("request_id", decision.request_id); !s.ok()) return refuse(s);
  if (auto s = validateId("count_id", decision.count_id); !s.ok()) return refuse(s);
  if (auto s = validateName("actor", decision.actor, kMaxIdLength, true); !s.ok()) return refuse(s);
  if (auto s = validateText("note", decision.note, kMaxTextLength, false); !s.ok()) return refuse(s);
  auto rec = store.findCount(decision.count_id);
  if (!rec.ok()) return refuse(rec.status());
  if (!*rec)
    return refuse(absl::NotFoundError(absl::StrCat("count_id: no count '", decision.count_id, "'")));
  DecideCmd cmd;
  cmd.request_id = decision.request_id;
  cmd.count_id = decision.count_id;
  cmd.approve = approve;
  cmd.actor = decision.actor;
  cmd.note = decision.note;
  cmd.fingerprint = Fingerprint()
                        .add(approve ? "approve" : "reject")
                        .add(decision.count_id)
                        .add(decision.note)
                        .value();
  if (auto s = registry.claim("request_id", decision.request_id, cmd.fingerprint, clock.now());
      !s.ok())
    return refuse(s);
  Task task;
  task.shard = (*rec)->shard;
  Store* sp = &store;
  task.run = [cmd, done, sp](ShardTxn& txn) -> Completion {
    auto res = std::make_shared<CountResult>();
    bool rep = false;
    Outcome o = txn.decide(cmd, &res->record, &rep);
    res->status = o.status();
    res->replayed = rep;
    return [res, done, sp, id = cmd.count_id](const absl::Status& status) {
      if (!status.ok()) res->status = status;
      if (res->replayed || res->record.count_id.empty()) {
        if (auto r = sp->findCount(id); r.ok() && *r) res->record = **r;
      }
      done(std::move(*res));
    };
  };
  if (auto s = engine.submit(std::move(task)); !s.ok()) refuse(s);
}

void InventoryService::approveCount(CountDecision decision, Done<CountResult> done) {
  decideCount(m_impl->engine, m_impl->store, m_impl->registry, m_impl->clock,
              std::move(decision), true, std::move(done));
}

void InventoryService::rejectCount(CountDecision decision, Done<CountResult> done) {
  decideCount(m_impl->engine, m_impl->store, m_impl->registry, m_impl->clock,
              std::move(decision), false, std::move(done));
}

absl::StatusOr<std::vector<CountRecord>> InventoryService::listPendingCounts(std::size_t limit) {
  if (limit == 0 || limit > 10000)
    return absl::InvalidArgumentError("limit: must be between 1 and 10000");
  return m_impl->store.listCounts(CountState::kPending, limit);
}

}  // namespace depot
