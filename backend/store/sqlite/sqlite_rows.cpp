#include "store/sqlite/sqlite_rows.h"

#include "store/sqlite/sqlite_codec.h"

namespace depot::sqlite {
namespace {

// Unsigned ids and seqs are stored as SQLite's int64; every value the store
// writes fits, and a corrupt value wraps instead of being undefined.
template <typename T>
T as(std::int64_t value) {
  return static_cast<T>(value);
}

std::int64_t u(std::uint64_t value) { return static_cast<std::int64_t>(value); }

}  // namespace

Item readItem(const Stmt& s, int c) {
  Item item;
  item.id = as<ItemId>(s.colInt(c + 0));
  item.sku = s.colText(c + 1);
  item.description = s.colText(c + 2);
  item.unit = s.colText(c + 3);
  item.reorder_point = s.colInt(c + 4);
  item.reorder_qty = s.colInt(c + 5);
  item.shard = as<ShardId>(s.colInt(c + 6));
  return item;
}

Location readLocation(const Stmt& s, int c) {
  Location location;
  location.id = as<LocationId>(s.colInt(c + 0));
  location.warehouse = s.colText(c + 1);
  location.code = s.colText(c + 2);
  return location;
}

void bindLedgerEntry(Stmt& s, const LedgerEntry& e) {
  s.bindInt(1, e.shard);
  s.bindInt(2, u(e.seq));
  s.bindText(3, e.request_id);
  s.bindInt(4, static_cast<int>(e.kind));
  s.bindInt(5, e.item);
  s.bindInt(6, e.location);
  s.bindInt(7, e.d_on_hand);
  s.bindInt(8, e.d_reserved);
  s.bindInt(9, e.on_hand_after);
  s.bindInt(10, e.reserved_after);
  s.bindText(11, e.actor);
  s.bindText(12, e.reason);
  s.bindText(13, e.ref);
  s.bindInt(14, e.ts);
}

LedgerEntry readLedgerEntry(const Stmt& s, int c) {
  LedgerEntry e;
  e.shard = as<ShardId>(s.colInt(c + 0));
  e.seq = as<Seq>(s.colInt(c + 1));
  e.request_id = s.colText(c + 2);
  e.kind = as<MovementKind>(s.colInt(c + 3));
  e.item = as<ItemId>(s.colInt(c + 4));
  e.location = as<LocationId>(s.colInt(c + 5));
  e.d_on_hand = s.colInt(c + 6);
  e.d_reserved = s.colInt(c + 7);
  e.on_hand_after = s.colInt(c + 8);
  e.reserved_after = s.colInt(c + 9);
  e.actor = s.colText(c + 10);
  e.reason = s.colText(c + 11);
  e.ref = s.colText(c + 12);
  e.ts = s.colInt(c + 13);
  return e;
}

void bindBalanceRow(Stmt& s, const BalanceRow& row) {
  s.bindInt(1, row.item);
  s.bindInt(2, row.location);
  s.bindInt(3, row.balance.on_hand);
  s.bindInt(4, row.balance.reserved);
  s.bindInt(5, row.last_ts);
}

BalanceRow readBalanceRow(const Stmt& s, int c) {
  BalanceRow row;
  row.item = as<ItemId>(s.colInt(c + 0));
  row.location = as<LocationId>(s.colInt(c + 1));
  row.balance.on_hand = s.colInt(c + 2);
  row.balance.reserved = s.colInt(c + 3);
  row.last_ts = s.colInt(c + 4);
  return row;
}

void bindHold(Stmt& s, const Hold& h, std::string* scratch) {
  encodeHoldLines(h.lines, scratch);
  s.bindText(1, h.order_id);
  s.bindInt(2, h.shard);
  s.bindText(3, h.request_id);
  s.bindInt(4, static_cast<int>(h.state));
  s.bindBlob(5, *scratch);
  s.bindText(6, h.actor);
  s.bindInt(7, h.created_at);
  s.bindInt(8, h.expires_at);
  s.bindInt(9, h.closed_at);
}

absl::StatusOr<Hold> readHold(const Stmt& s, int c) {
  Hold h;
  h.order_id = s.colText(c + 0);
  h.shard = as<ShardId>(s.colInt(c + 1));
  h.request_id = s.colText(c + 2);
  h.state = as<HoldState>(s.colInt(c + 3));
  auto lines = decodeHoldLines(s.colView(c + 4));
  if (!lines.ok()) return lines.status();
  h.lines = *std::move(lines);
  h.actor = s.colText(c + 5);
  h.created_at = s.colInt(c + 6);
  h.expires_at = s.colInt(c + 7);
  h.closed_at = s.colInt(c + 8);
  return h;
}

void bindCount(Stmt& s, const CountRecord& r) {
  s.bindText(1, r.count_id);
  s.bindInt(2, r.shard);
  s.bindInt(3, r.item);
  s.bindInt(4, r.location);
  s.bindInt(5, r.counted);
  s.bindInt(6, r.counted_at);
  s.bindInt(7, r.expected);
  s.bindInt(8, r.variance);
  s.bindInt(9, static_cast<int>(r.state));
  s.bindText(10, r.session_id);
  s.bindText(11, r.counter);
  s.bindInt(12, r.blind ? 1 : 0);
  s.bindInt(13, r.submitted_at);
  s.bindText(14, r.decided_by);
  s.bindText(15, r.note);
  s.bindInt(16, r.decided_at);
  s.bindInt(17, u(r.applied_seq));
}

CountRecord readCount(const Stmt& s, int c) {
  CountRecord r;
  r.count_id = s.colText(c + 0);
  r.shard = as<ShardId>(s.colInt(c + 1));
  r.item = as<ItemId>(s.colInt(c + 2));
  r.location = as<LocationId>(s.colInt(c + 3));
  r.counted = s.colInt(c + 4);
  r.counted_at = s.colInt(c + 5);
  r.expected = s.colInt(c + 6);
  r.variance = s.colInt(c + 7);
  r.state = as<CountState>(s.colInt(c + 8));
  r.session_id = s.colText(c + 9);
  r.counter = s.colText(c + 10);
  r.blind = s.colInt(c + 11) != 0;
  r.submitted_at = s.colInt(c + 12);
  r.decided_by = s.colText(c + 13);
  r.note = s.colText(c + 14);
  r.decided_at = s.colInt(c + 15);
  r.applied_seq = as<Seq>(s.colInt(c + 16));
  return r;
}

void bindAlert(Stmt& s, const Alert& a) {
  s.bindInt(1, u(a.id));
  s.bindInt(2, static_cast<int>(a.kind));
  s.bindInt(3, static_cast<int>(a.severity));
  s.bindInt(4, static_cast<int>(a.state));
  s.bindText(5, a.subject);
  s.bindText(6, a.summary);
  s.bindInt(7, a.fired_at);
  s.bindInt(8, a.updated_at);
  s.bindInt(9, a.resolved_at);
  s.bindText(10, a.acked_by);
  s.bindInt(11, a.acked_at);
  s.bindText(12, a.ack_note);
  s.bindInt(13, a.silenced ? 1 : 0);
}

Alert readAlert(const Stmt& s, int c) {
  Alert a;
  a.id = as<std::uint64_t>(s.colInt(c + 0));
  a.kind = as<AlertKind>(s.colInt(c + 1));
  a.severity = as<Severity>(s.colInt(c + 2));
  a.state = as<AlertState>(s.colInt(c + 3));
  a.subject = s.colText(c + 4);
  a.summary = s.colText(c + 5);
  a.fired_at = s.colInt(c + 6);
  a.updated_at = s.colInt(c + 7);
  a.resolved_at = s.colInt(c + 8);
  a.acked_by = s.colText(c + 9);
  a.acked_at = s.colInt(c + 10);
  a.ack_note = s.colText(c + 11);
  a.silenced = s.colInt(c + 12) != 0;
  return a;
}

Silence readSilence(const Stmt& s, int c) {
  Silence x;
  x.id = as<std::uint64_t>(s.colInt(c + 0));
  x.kind = as<std::uint8_t>(s.colInt(c + 1));
  x.subject_prefix = s.colText(c + 2);
  x.owner = s.colText(c + 3);
  x.comment = s.colText(c + 4);
  x.created_at = s.colInt(c + 5);
  x.expires_at = s.colInt(c + 6);
  return x;
}

}  // namespace depot::sqlite
