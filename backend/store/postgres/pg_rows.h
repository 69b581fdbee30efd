// Row <-> struct mapping for the PostgresStore tables: one column list per
// table, a reader building the struct from a result row whose columns start
// at `first` in that order, and (for batch writes) a column-array builder
// that turns N structs into one array parameter per column for unnest().
// Keeping list, reader and builder side by side is what keeps them in step.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/model.h"
#include "store/postgres/pg_conn.h"
#include "store/store.h"

namespace depot::pg {

inline constexpr const char* kItemColumns =
    "id, sku, description, unit, reorder_point, reorder_qty, shard";
Item readItem(const Result& r, int row, int first = 0);

inline constexpr const char* kLocationColumns = "id, warehouse, code";
Location readLocation(const Result& r, int row, int first = 0);

inline constexpr const char* kLedgerColumns =
    "shard, seq, request_id, kind, item, location, d_on_hand, d_reserved, on_hand_after, "
    "reserved_after, actor, reason, ref, ts";
LedgerEntry readLedgerEntry(const Result& r, int row, int first = 0);

inline constexpr const char* kBalanceColumns = "item, location, on_hand, reserved, last_ts";
BalanceRow readBalanceRow(const Result& r, int row, int first = 0);

inline constexpr const char* kHoldColumns =
    "order_id, shard, request_id, state, lines, actor, created_at, expires_at, closed_at";
absl::StatusOr<Hold> readHold(const Result& r, int row, int first = 0);

inline constexpr const char* kCountColumns =
    "count_id, shard, item, location, counted, counted_at, expected, variance, state, "
    "session_id, counter, blind, submitted_at, decided_by, note, decided_at, applied_seq";
CountRecord readCount(const Result& r, int row, int first = 0);

inline constexpr const char* kAlertColumns =
    "id, kind, severity, state, subject, summary, fired_at, updated_at, resolved_at, acked_by, "
    "acked_at, ack_note, silenced";
Alert readAlert(const Result& r, int row, int first = 0);

inline constexpr const char* kSilenceColumns =
    "id, kind, subject_prefix, owner, comment, created_at, expires_at";
Silence readSilence(const Result& r, int row, int first = 0);

// Batch inserts: add rows, then query() is one INSERT ... SELECT FROM
// unnest(column arrays) statement (an upsert where the table has one). The
// caller removes duplicate keys first: ON CONFLICT may touch a row once.
class LedgerBatch {
 public:
  void add(const LedgerEntry& e);
  bool empty() const { return m_cols[0].size() == 0; }
  Query query();

 private:
  std::vector<ArrayBuilder> m_cols = columns();
  static std::vector<ArrayBuilder> columns();
};

class BalanceBatch {
 public:
  void add(const BalanceRow& b);
  bool empty() const { return m_cols[0].size() == 0; }
  Query query();

 private:
  std::vector<ArrayBuilder> m_cols = std::vector<ArrayBuilder>(5, ArrayBuilder(kInt8Oid));
};

class RequestBatch {
 public:
  void add(ShardId shard, Micros max_ts, std::string_view records);
  bool empty() const { return m_shard.size() == 0; }
  Query query();

 private:
  ArrayBuilder m_shard{kInt8Oid};
  ArrayBuilder m_max_ts{kInt8Oid};
  ArrayBuilder m_records{kByteaOid};
};

class HoldBatch {
 public:
  void add(const Hold& h, std::string* scratch);
  bool empty() const { return m_cols[0].size() == 0; }
  Query query();

 private:
  std::vector<ArrayBuilder> m_cols = columns();
  static std::vector<ArrayBuilder> columns();
};

class CountBatch {
 public:
  void add(const CountRecord& c);
  bool empty() const { return m_cols[0].size() == 0; }
  Query query();

 private:
  std::vector<ArrayBuilder> m_cols = columns();
  static std::vector<ArrayBuilder> columns();
};

// Parameters $1..$13 of an alert upsert, in kAlertColumns order.
Params alertParams(const Alert& a);

}  // namespace depot::pg
