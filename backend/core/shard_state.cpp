#include "core/shard_state.h"

#include <algorithm>
#include <cstdlib>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"

namespace depot {
namespace {

Outcome refuse(absl::StatusCode code, std::string message) {
  Outcome o;
  o.code = code;
  o.message = std::move(message);
  return o;
}

bool addOverflows(Qty a, Qty b) { return b > 0 && a > kMaxBalance - b; }

}  // namespace

// ---------------------------------------------------------------- ShardState

void ShardState::load(ShardRecovery r) {
  shard = r.shard;
  last_seq = r.last_seq;
  epoch = r.epoch;
  last_ts = r.last_ts;
  balances.clear();
  item_locations.clear();
  totals.clear();
  // Sized up front: growing the maps row by row rehashes them repeatedly
  // (the largest cost of a restart with millions of rows).
  // The store returns rows ordered by (item, location): one run per item.
  // The per-item maps are sized by items, not rows (an item is held at many
  // locations in a warehouse network: 10 rows per item sized them 10x).
  std::size_t item_count = 0;
  for (std::size_t i = 0; i < r.balances.size(); ++i)
    item_count += i == 0 || r.balances[i].item != r.balances[i - 1].item;
  expectBalances(item_count, r.balances.size());
  loadBalances(r.balances);
  holds.clear();
  open_holds = 0;
  closed_holds.clear();
  std::sort(r.holds.begin(), r.holds.end(),
            [](const Hold& a, const Hold& b) { return a.closed_at < b.closed_at; });
  for (auto& h : r.holds) setHold(std::move(h));
  pending.clear();
  for (auto& c : r.pending) pending[c.count_id] = std::move(c);
  requests.restore(std::move(r.requests));
}

void ShardState::expectBalances(std::size_t items, std::size_t rows) {
  balances.reserve(balances.size() + rows);
  item_locations.reserve(item_locations.size() + items);
  totals.reserve(totals.size() + items);
}

void ShardState::loadBalances(std::span<const BalanceRow> rows) {
  for (std::size_t i = 0; i < rows.size();) {
    const ItemId item = rows[i].item;
    std::size_t end = i + 1;
    while (end < rows.size() && rows[end].item == item) ++end;
    auto& locations = item_locations[item];
    locations.reserve(locations.size() + (end - i));
    auto& t = totals[item];
    for (; i < end; ++i) {
      const BalanceRow& row = rows[i];
      balances[balanceKey(row.item, row.location)] = BalanceCell{row.balance, row.last_ts};
      locations.push_back(row.location);
      t.on_hand += row.balance.on_hand;
      t.reserved += row.balance.reserved;
    }
  }
}

void ShardState::prune(Micros before) {
  requests.forgetBefore(before);
  while (!closed_holds.empty() && closed_holds.front().first < before) {
    const auto& [closed_at, order_id] = closed_holds.front();
    auto it = holds.find(order_id);
    if (it != holds.end() && it->second.state != HoldState::kOpen &&
        it->second.closed_at == closed_at)
      holds.erase(it);
    closed_holds.pop_front();
  }
}

void ShardState::setHold(Hold hold) {
  auto [it, inserted] = holds.try_emplace(hold.order_id);
  if (!inserted && it->second.state == HoldState::kOpen) --open_holds;
  if (hold.state == HoldState::kOpen) {
    ++open_holds;
  } else if (inserted || it->second.state == HoldState::kOpen ||
             it->second.closed_at != hold.closed_at) {
    closed_holds.emplace_back(hold.closed_at, hold.order_id);
  }
  it->second = std::move(hold);
}

void ShardState::eraseHold(const std::string& order_id) {
  auto it = holds.find(order_id);
  if (it == holds.end()) return;
  if (it->second.state == HoldState::kOpen) --open_holds;
  holds.erase(it);
}

std::size_t ShardState::forgetBefore(Micros before) { return requests.forgetBefore(before); }

Micros ShardState::newestRequestTs() const { return requests.newestTs(); }

Micros ShardState::oldestRequestTs() const { return requests.oldestTs(); }

// ------------------------------------------------------------------ ShardTxn

ShardTxn::ShardTxn(ShardState& state, Micros now, Store& store, const CountRules& rules)
    : m_state(state),
      m_now(std::max(now, state.last_ts)),  // ts never goes backwards within a shard
      m_store(store),
      m_rules(rules),
      m_startSeq(state.last_seq),
      m_startTs(state.last_ts) {}

bool ShardTxn::empty() const {
  return m_entries.empty() && m_records.empty() && m_touchedHolds.empty() && m_countChanges.empty();
}

std::optional<Outcome> ShardTxn::lookup(const std::string& request_id, std::uint64_t fingerprint,
                                        bool* replayed) {
  const IdempotencyWindow::Record* held = m_state.requests.find(requestKey(request_id));
  if (held == nullptr) return std::nullopt;
  if (held->fingerprint != fingerprint)
    return refuse(absl::StatusCode::kAlreadyExists,
                  absl::StrCat("request_id: '", request_id,
                               "' was already used for a different request"));
  if (replayed) *replayed = true;
  return m_state.requests.outcome(*held);
}

void ShardTxn::remember(const std::string& request_id, std::uint64_t fingerprint,
                        const Outcome& outcome) {
  RequestRecord rec;
  rec.request_id = request_id;
  rec.shard = m_state.shard;
  rec.fingerprint = fingerprint;
  rec.outcome = outcome;
  rec.ts = m_now;
  if (m_state.requests.remember(requestKey(request_id), fingerprint, m_now, outcome))
    ++m_requestsAdded;
  m_records.push_back(std::move(rec));
}

Balance ShardTxn::current(ItemId item, LocationId location) const {
  auto it = m_state.balances.find(balanceKey(item, location));
  return it == m_state.balances.end() ? Balance{} : it->second.balance;
}

BalanceCell& ShardTxn::cell(ItemId item, LocationId location) {
  const auto key = balanceKey(item, location);
  auto it = m_state.balances.find(key);
  BalanceUndo undo{key, std::nullopt, m_state.totals[item], false};
  if (it == m_state.balances.end()) {
    it = m_state.balances.emplace(key, BalanceCell{}).first;
    m_state.item_locations[item].push_back(location);
    undo.added_location = true;
  } else {
    undo.old = it->second;
  }
  m_balanceUndo.push_back(std::move(undo));
  m_touchedKeys.insert(key);
  m_touchedItems.insert(item);
  return it->second;
}

void ShardTxn::post(MovementKind kind, const std::string& request_id, ItemId item,
                    LocationId location, Qty d_on_hand, Qty d_reserved, const std::string& actor,
                    const std::string& reason, const std::string& ref, Outcome& outcome) {
  BalanceCell& c = cell(item, location);
  c.balance.on_hand += d_on_hand;
  c.balance.reserved += d_reserved;
  c.last_ts = m_now;
  auto& t = m_state.totals[item];
  t.on_hand += d_on_hand;
  t.reserved += d_reserved;
  LedgerEntry e;
  e.shard = m_state.shard;
  e.seq = ++m_state.last_seq;
  e.request_id = request_id;
  e.kind = kind;
  e.item = item;
  e.location = location;
  e.d_on_hand = d_on_hand;
  e.d_reserved = d_reserved;
  e.on_hand_after = c.balance.on_hand;
  e.reserved_after = c.balance.reserved;
  e.actor = actor;
  e.reason = reason;
  e.ref = ref;
  e.ts = m_now;
  m_state.last_ts = m_now;
  if (outcome.entries == 0) outcome.first_seq = e.seq;
  ++outcome.entries;
  outcome.after.emplace_back(location, c.balance);
  m_entries.push_back(std::move(e));
}

Outcome ShardTxn::apply(const MovementCmd& cmd) {
  Outcome out;
  const Balance from = current(cmd.item, cmd.location);
  switch (cmd.kind) {
    case MovementKind::kReceive:
      if (addOverflows(from.on_hand, cmd.quantity))
        return refuse(absl::StatusCode::kFailedPrecondition,
                      "quantity: the balance would exceed the maximum of 4e15 units");
      post(cmd.kind, cmd.request_id, cmd.item, cmd.location, cmd.quantity, 0, cmd.actor,
           cmd.reason, "", out);
      return out;
    case MovementKind::kShip:
      if (from.available() < cmd.quantity)
        return refuse(absl::StatusCode::kFailedPrecondition,
                      absl::StrCat("quantity: insufficient stock: requested ", cmd.quantity,
                                   ", available ", from.available(), " (on hand ", from.on_hand,
                                   ", reserved ", from.reserved, ")"));
      post(cmd.kind, cmd.request_id, cmd.item, cmd.location, -cmd.quantity, 0, cmd.actor,
           cmd.reason, "", out);
      return out;
    case MovementKind::kTransfer: {
      if (from.available() < cmd.quantity)
        return refuse(absl::StatusCode::kFailedPrecondition,
                      absl::StrCat("quantity: insufficient stock at the source: requested ",
                                   cmd.quantity, ", available ", from.available()));
      if (addOverflows(current(cmd.item, cmd.to_location).on_hand, cmd.quantity))
        return refuse(absl::StatusCode::kFailedPrecondition,
                      "quantity: the destination balance would exceed the maximum");
      // Each leg names its peer location.
      const std::string to_ref = "to:" + cmd.to_location_name;
      const std::string from_ref = "from:" + cmd.location_name;
      post(cmd.kind, cmd.request_id, cmd.item, cmd.location, -cmd.quantity, 0, cmd.actor,
           cmd.reason, to_ref, out);
      post(cmd.kind, cmd.request_id, cmd.item, cmd.to_location, cmd.quantity, 0, cmd.actor,
           cmd.reason, from_ref, out);
      return out;
    }
    case MovementKind::kAdjust:
      if (cmd.quantity < 0 && from.on_hand + cmd.quantity < from.reserved)
        return refuse(absl::StatusCode::kFailedPrecondition,
                      absl::StrCat("quantity: adjustment ", cmd.quantity, " would leave on hand ",
                                   from.on_hand + cmd.quantity, " below reserved ",
                                   from.reserved));
      if (addOverflows(from.on_hand, cmd.quantity))
        return refuse(absl::StatusCode::kFailedPrecondition,
                      "quantity: the balance would exceed the maximum of 4e15 units");
      post(cmd.kind, cmd.request_id, cmd.item, cmd.location, cmd.quantity, 0, cmd.actor,
           cmd.reason, "", out);
      return out;
    default:
      return refuse(absl::StatusCode::kInvalidArgument,
                    "kind: only RECEIVE, SHIP, TRANSFER and ADJUST are movements");
  }
}

Outcome ShardTxn::movement(const MovementCmd& cmd, bool* replayed) {
  if (auto prior = lookup(cmd.request_id, cmd.fingerprint, replayed)) return *prior;
  Outcome out = apply(cmd);
  remember(cmd.request_id, cmd.fingerprint, out);  // refusals too: a retry gets the same answer
  return out;
}

std::vector<Outcome> ShardTxn::linked(const std::vector<MovementCmd>& cmds,
                                      std::vector<bool>* replayed) {
  std::vector<Outcome> out(cmds.size());
  if (replayed) replayed->assign(cmds.size(), false);
  const Savepoint sp = savepoint();
  for (std::size_t i = 0; i < cmds.size(); ++i) {
    bool rep = false;
    out[i] = movement(cmds[i], &rep);
    if (replayed) (*replayed)[i] = rep;
    if (!out[i].ok()) {
      // Undo everything of the group, refusals' records included, so that a
      // corrected retry of the whole group is evaluated afresh.
      rollbackTo(sp);
      for (std::size_t k = 0; k < cmds.size(); ++k) {
        if (k == i) continue;
        out[k] = refuse(absl::StatusCode::kAborted,
                        absl::StrCat("linked batch aborted: movements[", i, "] failed: ",
                                     out[i].message));
      }
      return out;
    }
  }
  return out;
}

void ShardTxn::putHold(Hold hold) {
  auto it = m_state.holds.find(hold.order_id);
  if (it == m_state.holds.end()) {
    m_holdUndo.emplace_back(hold.order_id, std::nullopt);
  } else {
    m_holdUndo.emplace_back(hold.order_id, it->second);
  }
  m_touchedHolds.insert(hold.order_id);
  m_state.setHold(std::move(hold));
}

Outcome ShardTxn::reserve(const HoldCmd& cmd, bool* replayed) {
  if (auto prior = lookup(cmd.request_id, cmd.fingerprint, replayed)) return *prior;
  Outcome out;
  if (auto it = m_state.holds.find(cmd.order_id); it != m_state.holds.end()) {
    out = refuse(absl::StatusCode::kAlreadyExists,
                 absl::StrCat("order_id: order '", cmd.order_id, "' already has a hold (",
                              holdStateName(it->second.state), ")"));
    remember(cmd.request_id, cmd.fingerprint, out);
    return out;
  }
  // Lines on the same (item, location) add up.
  absl::flat_hash_map<std::uint64_t, Qty> wanted;
  for (const auto& l : cmd.lines) wanted[balanceKey(l.item, l.location)] += l.qty;
  for (std::size_t i = 0; i < cmd.lines.size(); ++i) {
    const auto& l = cmd.lines[i];
    const Balance b = current(l.item, l.location);
    const Qty want = wanted[balanceKey(l.item, l.location)];
    if (b.available() < want) {
      out = refuse(absl::StatusCode::kFailedPrecondition,
                   absl::StrCat("lines[", i, "].quantity: insufficient stock to reserve ", want,
                                ": available ", b.available(), " (on hand ", b.on_hand,
                                ", reserved ", b.reserved, ")"));
      remember(cmd.request_id, cmd.fingerprint, out);
      return out;
    }
  }
  for (const auto& l : cmd.lines)
    post(MovementKind::kReserve, cmd.request_id, l.item, l.location, 0, l.qty, cmd.actor, "",
         cmd.order_id, out);
  Hold h;
  h.order_id = cmd.order_id;
  h.shard = m_state.shard;
  h.request_id = cmd.request_id;
  h.state = HoldState::kOpen;
  h.lines = cmd.lines;
  h.actor = cmd.actor;
  h.created_at = m_now;
  h.expires_at = cmd.expires_at;
  putHold(std::move(h));
  m_newHolds.emplace_back(cmd.expires_at, cmd.order_id);
  remember(cmd.request_id, cmd.fingerprint, out);
  return out;
}

Outcome ShardTxn::releaseLines(const Hold& hold, HoldState final_state,
                               const std::string& request_id, const std::string& actor,
                               const std::string& reason) {
  Outcome out;
  for (const auto& l : hold.lines)
    post(MovementKind::kRelease, request_id, l.item, l.location, 0, -l.qty, actor, reason,
         hold.order_id, out);
  Hold h = hold;
  h.state = final_state;
  h.closed_at = m_now;
  putHold(std::move(h));
  return out;
}

Outcome ShardTxn::closeHold(const CloseHoldCmd& cmd, bool* replayed) {
  if (auto prior = lookup(cmd.request_id, cmd.fingerprint, replayed)) return *prior;
  Outcome out;
  auto it = m_state.holds.find(cmd.order_id);
  if (it == m_state.holds.end()) {
    // Not remembered: the order may still be reserved later under this id.
    return refuse(absl::StatusCode::kNotFound,
                  absl::StrCat("order_id: no hold for order '", cmd.order_id, "'"));
  }
  Hold hold = it->second;
  if (hold.state == HoldState::kOpen && hold.expires_at <= m_now) {
    // Its time is up even if the expiry sweep has not run yet.
    releaseLines(hold, HoldState::kExpired, "expire:" + hold.order_id, "system", "expired");
    hold = m_state.holds.at(cmd.order_id);
    out = Outcome{};
  }
  if (hold.state != HoldState::kOpen) {
    out = refuse(absl::StatusCode::kFailedPrecondition,
                 absl::StrCat("order_id: the hold for order '", cmd.order_id, "' is ",
                              holdStateName(hold.state), " (closed at ", hold.closed_at,
                              " µs)"));
    remember(cmd.request_id, cmd.fingerprint, out);
    return out;
  }
  if (!cmd.commit) {
    out = releaseLines(hold, HoldState::kReleased, cmd.request_id, cmd.actor, cmd.reason);
    remember(cmd.request_id, cmd.fingerprint, out);
    return out;
  }
  // Commit: ship the requested quantities, release the remainder.
  std::vector<Qty> ship(hold.lines.size(), 0);
  if (cmd.ship_all) {
    for (std::size_t i = 0; i < hold.lines.size(); ++i) ship[i] = hold.lines[i].qty;
  } else {
    for (std::size_t k = 0; k < cmd.ship.size(); ++k) {
      Qty left = cmd.ship[k].qty;
      for (std::size_t i = 0; i < hold.lines.size() && left > 0; ++i) {
        if (hold.lines[i].item != cmd.ship[k].item ||
            hold.lines[i].location != cmd.ship[k].location)
          continue;
        const Qty take = std::min(left, hold.lines[i].qty - ship[i]);
        ship[i] += take;
        left -= take;
      }
      if (left > 0) {
        out = refuse(absl::StatusCode::kFailedPrecondition,
                     absl::StrCat("lines[", k, "].quantity: exceeds what order '", cmd.order_id,
                                  "' holds at that location by ", left));
        remember(cmd.request_id, cmd.fingerprint, out);
        return out;
      }
    }
  }
  for (std::size_t i = 0; i < hold.lines.size(); ++i) {
    const auto& l = hold.lines[i];
    if (ship[i] > 0)
      post(MovementKind::kCommit, cmd.request_id, l.item, l.location, -ship[i], -l.qty, cmd.actor,
           cmd.reason, hold.order_id, out);
    else
      post(MovementKind::kRelease, cmd.request_id, l.item, l.location, 0, -l.qty, cmd.actor,
           "not shipped", hold.order_id, out);
  }
  Hold h = hold;
  h.state = HoldState::kCommitted;
  h.closed_at = m_now;
  putHold(std::move(h));
  remember(cmd.request_id, cmd.fingerprint, out);
  return out;
}

bool ShardTxn::expire(const std::string& order_id) {
  auto it = m_state.holds.find(order_id);
  if (it == m_state.holds.end() || it->second.state != HoldState::kOpen ||
      it->second.expires_at > m_now)
    return false;
  const Hold hold = it->second;
  releaseLines(hold, HoldState::kExpired, "expire:" + order_id, "system", "expired");
  return true;
}

void ShardTxn::putCount(const CountRecord& record, bool pending) {
  auto it = m_state.pending.find(record.count_id);
  if (it == m_state.pending.end())
    m_countUndo.emplace_back(record.count_id, std::nullopt);
  else
    m_countUndo.emplace_back(record.count_id, it->second);
  if (pending)
    m_state.pending[record.count_id] = record;
  else
    m_state.pending.erase(record.count_id);
  m_countChanges.push_back(record);
}

Outcome ShardTxn::count(const CountCmd& cmd, CountRecord* record, bool* replayed) {
  const CountRecord& d = cmd.draft;
  if (auto prior = lookup(d.count_id, cmd.fingerprint, replayed)) return *prior;
  CountRecord rec = d;
  rec.shard = m_state.shard;
  rec.submitted_at = m_now;
  // The ledger balance at the moment of counting: movements before it are in
  // the count, movements after it are not, so the variance is computed
  // against then and applied on top of now.
  const auto key = balanceKey(d.item, d.location);
  auto it = m_state.balances.find(key);
  if (it == m_state.balances.end() || d.counted_at >= it->second.last_ts) {
    rec.expected = it == m_state.balances.end() ? 0 : it->second.balance.on_hand;
  } else {
    auto at = m_store.balanceAt(d.item, d.location, d.counted_at);
    if (!at.ok()) {
      // Not remembered: a retry may succeed once the store answers.
      return refuse(at.status().code(),
                    absl::StrCat("counted_at: cannot read the balance at that time: ",
                                 at.status().message()));
    }
    rec.expected = at->on_hand;
  }
  rec.variance = rec.counted - rec.expected;
  const Balance now = current(d.item, d.location);
  const bool feasible = now.on_hand + rec.variance >= now.reserved && now.on_hand + rec.variance >= 0;
  const Qty mag = std::llabs(rec.variance);
  const bool significant = mag > m_rules.variance_abs &&
                           static_cast<double>(mag) >
                               m_rules.variance_pct / 100.0 * static_cast<double>(rec.expected);
  Outcome out;
  if (significant || !feasible) {
    rec.state = CountState::kPending;
    if (!feasible)
      rec.note = absl::StrCat("variance ", rec.variance, " would leave on hand ",
                              now.on_hand + rec.variance, " below reserved ", now.reserved);
    putCount(rec, true);
  } else {
    post(MovementKind::kCount, d.count_id, d.item, d.location, rec.variance, 0, d.counter,
         absl::StrCat("stocktake count ", rec.counted, ", expected ", rec.expected),
         d.count_id, out);
    rec.state = CountState::kApplied;
    rec.applied_seq = out.first_seq;
    rec.decided_at = m_now;
    putCount(rec, false);
  }
  if (record) *record = rec;
  remember(d.count_id, cmd.fingerprint, out);
  return out;
}

Outcome ShardTxn::decide(const DecideCmd& cmd, CountRecord* record, bool* replayed) {
  if (auto prior = lookup(cmd.request_id, cmd.fingerprint, replayed)) return *prior;
  auto it = m_state.pending.find(cmd.count_id);
  if (it == m_state.pending.end())
    return refuse(absl::StatusCode::kFailedPrecondition,
                  absl::StrCat("count_id: count '", cmd.count_id, "' is not awaiting approval"));
  CountRecord rec = it->second;
  Outcome out;
  if (cmd.approve) {
    const Balance now = current(rec.item, rec.location);
    if (now.on_hand + rec.variance < now.reserved || now.on_hand + rec.variance < 0) {
      out = refuse(absl::StatusCode::kFailedPrecondition,
                   absl::StrCat("count_id: applying variance ", rec.variance,
                                " would leave on hand ", now.on_hand + rec.variance,
                                " below reserved ", now.reserved,
                                "; release holds or recount first"));
      if (record) *record = rec;
      return out;  // not remembered: approving later may succeed
    }
    post(MovementKind::kCount, cmd.request_id, rec.item, rec.location, rec.variance, 0, cmd.actor,
         absl::StrCat("approved stocktake count ", rec.counted, ", expected ", rec.expected),
         rec.count_id, out);
    rec.state = CountState::kApproved;
    rec.applied_seq = out.first_seq;
  } else {
    rec.state = CountState::kRejected;
  }
  rec.decided_by = cmd.actor;
  rec.decided_at = m_now;
  if (!cmd.note.empty()) rec.note = cmd.note;
  putCount(rec, false);
  if (record) *record = rec;
  remember(cmd.request_id, cmd.fingerprint, out);
  return out;
}

ShardTxn::Savepoint ShardTxn::savepoint() const {
  return Savepoint{m_balanceUndo.size(),  m_holdUndo.size(), m_requestsAdded,
                   m_countUndo.size(),    m_entries.size(),  m_records.size(),
                   m_countChanges.size(), m_newHolds.size(), m_state.last_seq};
}

void ShardTxn::rollbackTo(const Savepoint& sp) {
  while (m_balanceUndo.size() > sp.balances) {
    auto& u = m_balanceUndo.back();
    const ItemId item = keyItem(u.key);
    if (u.old) {
      m_state.balances[u.key] = *u.old;
    } else {
      m_state.balances.erase(u.key);
    }
    if (u.added_location) {
      auto& locs = m_state.item_locations[item];
      if (!locs.empty()) locs.pop_back();
      if (locs.empty()) m_state.item_locations.erase(item);
    }
    m_state.totals[item] = u.old_totals;
    m_balanceUndo.pop_back();
  }
  while (m_holdUndo.size() > sp.holds) {
    auto& [id, old] = m_holdUndo.back();
    if (old)
      m_state.setHold(std::move(*old));
    else
      m_state.eraseHold(id);
    m_holdUndo.pop_back();
  }
  for (; m_requestsAdded > sp.requests; --m_requestsAdded) m_state.requests.forgetNewest();
  while (m_countUndo.size() > sp.counts) {
    auto& [id, old] = m_countUndo.back();
    if (old)
      m_state.pending[id] = std::move(*old);
    else
      m_state.pending.erase(id);
    m_countUndo.pop_back();
  }
  m_entries.resize(sp.entries);
  m_records.resize(sp.records);
  m_countChanges.resize(sp.count_changes);
  m_newHolds.resize(sp.new_holds);
  m_state.last_seq = sp.last_seq;
  m_state.last_ts = m_entries.empty() ? m_startTs : m_now;
}

void ShardTxn::rollback() {
  rollbackTo(Savepoint{0, 0, 0, 0, 0, 0, 0, 0, m_startSeq});
  m_state.last_ts = m_startTs;
  m_touchedHolds.clear();
}

ShardCommit ShardTxn::toCommit() {
  ShardCommit c;
  c.shard = m_state.shard;
  c.epoch = m_state.epoch;
  c.expected_last_seq = m_startSeq;
  c.entries = std::move(m_entries);
  m_entries.clear();
  c.balances.reserve(m_touchedKeys.size());
  for (auto key : m_touchedKeys) {
    auto it = m_state.balances.find(key);
    if (it == m_state.balances.end()) continue;  // created and undone within the batch
    c.balances.push_back(BalanceRow{keyItem(key), keyLocation(key), it->second.balance,
                                    it->second.last_ts});
  }
  c.requests = std::move(m_records);
  m_records.clear();
  for (const auto& id : m_touchedHolds) {
    auto it = m_state.holds.find(id);
    if (it != m_state.holds.end()) c.holds.push_back(it->second);
  }
  c.counts = m_countChanges;  // later versions of the same count follow earlier ones
  return c;
}

}  // namespace depot
