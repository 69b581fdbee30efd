#include "store/postgres/pg_rows.h"

#include "store/sqlite/sqlite_codec.h"

namespace depot::pg {
namespace {

std::string placeholders(int n) {
  std::string out;
  for (int i = 1; i <= n; ++i) out += cat(i == 1 ? "$" : ", $", i);
  return out;
}

std::vector<ArrayBuilder> builders(std::initializer_list<unsigned> oids) {
  std::vector<ArrayBuilder> out;
  for (unsigned oid : oids) out.emplace_back(oid);
  return out;
}

Params arrayParams(std::vector<ArrayBuilder>& cols) {
  Params p;
  for (ArrayBuilder& col : cols) {
    switch (col.elementOid()) {
      case kTextOid:
        p.addTextArray(col);
        break;
      case kByteaOid:
        p.addByteaArray(col);
        break;
      default:
        p.addIntArray(col);
        break;
    }
  }
  return p;
}

}  // namespace

Item readItem(const Result& r, int row, int first) {
  Item item;
  item.id = static_cast<ItemId>(r.getInt(row, first));
  item.sku = r.getText(row, first + 1);
  item.description = r.getText(row, first + 2);
  item.unit = r.getText(row, first + 3);
  item.reorder_point = r.getInt(row, first + 4);
  item.reorder_qty = r.getInt(row, first + 5);
  item.shard = static_cast<ShardId>(r.getInt(row, first + 6));
  return item;
}

Location readLocation(const Result& r, int row, int first) {
  Location l;
  l.id = static_cast<LocationId>(r.getInt(row, first));
  l.warehouse = r.getText(row, first + 1);
  l.code = r.getText(row, first + 2);
  return l;
}

LedgerEntry readLedgerEntry(const Result& r, int row, int first) {
  LedgerEntry e;
  e.shard = static_cast<ShardId>(r.getInt(row, first));
  e.seq = static_cast<Seq>(r.getInt(row, first + 1));
  e.request_id = r.getText(row, first + 2);
  e.kind = static_cast<MovementKind>(r.getInt(row, first + 3));
  e.item = static_cast<ItemId>(r.getInt(row, first + 4));
  e.location = static_cast<LocationId>(r.getInt(row, first + 5));
  e.d_on_hand = r.getInt(row, first + 6);
  e.d_reserved = r.getInt(row, first + 7);
  e.on_hand_after = r.getInt(row, first + 8);
  e.reserved_after = r.getInt(row, first + 9);
  e.actor = r.getText(row, first + 10);
  e.reason = r.getText(row, first + 11);
  e.ref = r.getText(row, first + 12);
  e.ts = r.getInt(row, first + 13);
  return e;
}

BalanceRow readBalanceRow(const Result& r, int row, int first) {
  BalanceRow b;
  b.item = static_cast<ItemId>(r.getInt(row, first));
  b.location = static_cast<LocationId>(r.getInt(row, first + 1));
  b.balance.on_hand = r.getInt(row, first + 2);
  b.balance.reserved = r.getInt(row, first + 3);
  b.last_ts = r.getInt(row, first + 4);
  return b;
}

absl::StatusOr<Hold> readHold(const Result& r, int row, int first) {
  Hold h;
  h.order_id = r.getText(row, first);
  h.shard = static_cast<ShardId>(r.getInt(row, first + 1));
  h.request_id = r.getText(row, first + 2);
  h.state = static_cast<HoldState>(r.getInt(row, first + 3));
  auto lines = sqlite::decodeHoldLines(r.getView(row, first + 4));
  if (!lines.ok()) return lines.status();
  h.lines = *std::move(lines);
  h.actor = r.getText(row, first + 5);
  h.created_at = r.getInt(row, first + 6);
  h.expires_at = r.getInt(row, first + 7);
  h.closed_at = r.getInt(row, first + 8);
  return h;
}

CountRecord readCount(const Result& r, int row, int first) {
  CountRecord c;
  c.count_id = r.getText(row, first);
  c.shard = static_cast<ShardId>(r.getInt(row, first + 1));
  c.item = static_cast<ItemId>(r.getInt(row, first + 2));
  c.location = static_cast<LocationId>(r.getInt(row, first + 3));
  c.counted = r.getInt(row, first + 4);
  c.counted_at = r.getInt(row, first + 5);
  c.expected = r.getInt(row, first + 6);
  c.variance = r.getInt(row, first + 7);
  c.state = static_cast<CountState>(r.getInt(row, first + 8));
  c.session_id = r.getText(row, first + 9);
  c.counter = r.getText(row, first + 10);
  c.blind = r.getInt(row, first + 11) != 0;
  c.submitted_at = r.getInt(row, first + 12);
  c.decided_by = r.getText(row, first + 13);
  c.note = r.getText(row, first + 14);
  c.decided_at = r.getInt(row, first + 15);
  c.applied_seq = static_cast<Seq>(r.getInt(row, first + 16));
  return c;
}

Alert readAlert(const Result& r, int row, int first) {
  Alert a;
  a.id = static_cast<std::uint64_t>(r.getInt(row, first));
  a.kind = static_cast<AlertKind>(r.getInt(row, first + 1));
  a.severity = static_cast<Severity>(r.getInt(row, first + 2));
  a.state = static_cast<AlertState>(r.getInt(row, first + 3));
  a.subject = r.getText(row, first + 4);
  a.summary = r.getText(row, first + 5);
  a.fired_at = r.getInt(row, first + 6);
  a.updated_at = r.getInt(row, first + 7);
  a.resolved_at = r.getInt(row, first + 8);
  a.acked_by = r.getText(row, first + 9);
  a.acked_at = r.getInt(row, first + 10);
  a.ack_note = r.getText(row, first + 11);
  a.silenced = r.getInt(row, first + 12) != 0;
  return a;
}

Silence readSilence(const Result& r, int row, int first) {
  Silence s;
  s.id = static_cast<std::uint64_t>(r.getInt(row, first));
  s.kind = static_cast<std::uint8_t>(r.getInt(row, first + 1));
  s.subject_prefix = r.getText(row, first + 2);
  s.owner = r.getText(row, first + 3);
  s.comment = r.getText(row, first + 4);
  s.created_at = r.getInt(row, first + 5);
  s.expires_at = r.getInt(row, first + 6);
  return s;
}

// ---- batches ----

std::vector<ArrayBuilder> LedgerBatch::columns() {
  return builders({kInt8Oid, kInt8Oid, kTextOid, kInt8Oid, kInt8Oid, kInt8Oid, kInt8Oid, kInt8Oid,
                   kInt8Oid, kInt8Oid, kTextOid, kTextOid, kTextOid, kInt8Oid});
}

void LedgerBatch::add(const LedgerEntry& e) {
  m_cols[0].addInt(e.shard);
  m_cols[1].addInt(static_cast<std::int64_t>(e.seq));
  m_cols[2].addBytes(e.request_id);
  m_cols[3].addInt(static_cast<std::int64_t>(e.kind));
  m_cols[4].addInt(e.item);
  m_cols[5].addInt(e.location);
  m_cols[6].addInt(e.d_on_hand);
  m_cols[7].addInt(e.d_reserved);
  m_cols[8].addInt(e.on_hand_after);
  m_cols[9].addInt(e.reserved_after);
  m_cols[10].addBytes(e.actor);
  m_cols[11].addBytes(e.reason);
  m_cols[12].addBytes(e.ref);
  m_cols[13].addInt(e.ts);
}

Query LedgerBatch::query() {
  static const std::string kSql = cat("INSERT INTO ledger(", kLedgerColumns,
                                      ") SELECT * FROM unnest(", placeholders(14), ")");
  return Query{kSql, arrayParams(m_cols)};
}

void BalanceBatch::add(const BalanceRow& b) {
  m_cols[0].addInt(b.item);
  m_cols[1].addInt(b.location);
  m_cols[2].addInt(b.balance.on_hand);
  m_cols[3].addInt(b.balance.reserved);
  m_cols[4].addInt(b.last_ts);
}

Query BalanceBatch::query() {
  static const std::string kSql =
      cat("INSERT INTO balances(", kBalanceColumns, ") SELECT * FROM unnest(", placeholders(5),
          ") ON CONFLICT (item, location) DO UPDATE SET on_hand = excluded.on_hand, "
          "reserved = excluded.reserved, last_ts = excluded.last_ts");
  return Query{kSql, arrayParams(m_cols)};
}

void RequestBatch::add(ShardId shard, Micros max_ts, std::string_view records) {
  m_shard.addInt(shard);
  m_max_ts.addInt(max_ts);
  m_records.addBytes(records);
}

Query RequestBatch::query() {
  Params p;
  p.addIntArray(m_shard).addIntArray(m_max_ts).addByteaArray(m_records);
  return Query{"INSERT INTO requests(shard, max_ts, records) SELECT * FROM unnest($1, $2, $3)",
               std::move(p)};
}

std::vector<ArrayBuilder> HoldBatch::columns() {
  return builders({kTextOid, kInt8Oid, kTextOid, kInt8Oid, kByteaOid, kTextOid, kInt8Oid, kInt8Oid,
                   kInt8Oid});
}

void HoldBatch::add(const Hold& h, std::string* scratch) {
  sqlite::encodeHoldLines(h.lines, scratch);
  m_cols[0].addBytes(h.order_id);
  m_cols[1].addInt(h.shard);
  m_cols[2].addBytes(h.request_id);
  m_cols[3].addInt(static_cast<std::int64_t>(h.state));
  m_cols[4].addBytes(*scratch);
  m_cols[5].addBytes(h.actor);
  m_cols[6].addInt(h.created_at);
  m_cols[7].addInt(h.expires_at);
  m_cols[8].addInt(h.closed_at);
}

Query HoldBatch::query() {
  static const std::string kSql =
      cat("INSERT INTO holds(", kHoldColumns, ") SELECT * FROM unnest(", placeholders(9),
          ") ON CONFLICT (order_id, shard) DO UPDATE SET request_id = excluded.request_id, "
          "state = excluded.state, lines = excluded.lines, actor = excluded.actor, "
          "created_at = excluded.created_at, expires_at = excluded.expires_at, "
          "closed_at = excluded.closed_at");
  return Query{kSql, arrayParams(m_cols)};
}

std::vector<ArrayBuilder> CountBatch::columns() {
  return builders({kTextOid, kInt8Oid, kInt8Oid, kInt8Oid, kInt8Oid, kInt8Oid, kInt8Oid, kInt8Oid,
                   kInt8Oid, kTextOid, kTextOid, kInt8Oid, kInt8Oid, kTextOid, kTextOid, kInt8Oid,
                   kInt8Oid});
}

void CountBatch::add(const CountRecord& c) {
  m_cols[0].addBytes(c.count_id);
  m_cols[1].addInt(c.shard);
  m_cols[2].addInt(c.item);
  m_cols[3].addInt(c.location);
  m_cols[4].addInt(c.counted);
  m_cols[5].addInt(c.counted_at);
  m_cols[6].addInt(c.expected);
  m_cols[7].addInt(c.variance);
  m_cols[8].addInt(static_cast<std::int64_t>(c.state));
  m_cols[9].addBytes(c.session_id);
  m_cols[10].addBytes(c.counter);
  m_cols[11].addInt(c.blind ? 1 : 0);
  m_cols[12].addInt(c.submitted_at);
  m_cols[13].addBytes(c.decided_by);
  m_cols[14].addBytes(c.note);
  m_cols[15].addInt(c.decided_at);
  m_cols[16].addInt(static_cast<std::int64_t>(c.applied_seq));
}

Query CountBatch::query() {
  static const std::string kSql = cat(
      "INSERT INTO counts(", kCountColumns,
      ") SELECT c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12 <> 0, c13, c14, c15, c16, c17 "
      "FROM unnest(",
      placeholders(17),
      ") AS t(c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17) "
      "ON CONFLICT (count_id) DO UPDATE SET shard = excluded.shard, item = excluded.item, "
      "location = excluded.location, counted = excluded.counted, "
      "counted_at = excluded.counted_at, expected = excluded.expected, "
      "variance = excluded.variance, state = excluded.state, session_id = excluded.session_id, "
      "counter = excluded.counter, blind = excluded.blind, submitted_at = excluded.submitted_at, "
      "decided_by = excluded.decided_by, note = excluded.note, decided_at = excluded.decided_at, "
      "applied_seq = excluded.applied_seq");
  return Query{kSql, arrayParams(m_cols)};
}

Params alertParams(const Alert& a) {
  Params p;
  p.addInt(static_cast<std::int64_t>(a.id))
      .addInt(static_cast<std::int64_t>(a.kind))
      .addInt(static_cast<std::int64_t>(a.severity))
      .addInt(static_cast<std::int64_t>(a.state))
      .addText(a.subject)
      .addText(a.summary)
      .addInt(a.fired_at)
      .addInt(a.updated_at)
      .addInt(a.resolved_at)
      .addText(a.acked_by)
      .addInt(a.acked_at)
      .addText(a.ack_note)
      .addInt(a.silenced ? 1 : 0);
  return p;
}

}  // namespace depot::pg
