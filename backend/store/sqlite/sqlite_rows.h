// Row <-> struct mapping for the SqliteStore tables: one column list per
// table, a binder writing a struct into parameters ?1..?N in that order, and
// a reader building the struct from a result row whose columns start at
// `first` in that order. Keeping list, binder and reader side by side is what
// keeps them in step.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "core/model.h"
#include "store/sqlite/sqlite_db.h"
#include "store/store.h"

namespace depot::sqlite {

inline constexpr const char* kItemColumns =
    "id, sku, description, unit, reorder_point, reorder_qty, shard";
Item readItem(const Stmt& stmt, int first = 0);

inline constexpr const char* kLocationColumns = "id, warehouse, code";
Location readLocation(const Stmt& stmt, int first = 0);

inline constexpr const char* kLedgerColumns =
    "shard, seq, request_id, kind, item, location, d_on_hand, d_reserved, on_hand_after, "
    "reserved_after, actor, reason, ref, ts";
inline constexpr int kLedgerColumnCount = 14;
void bindLedgerEntry(Stmt& stmt, const LedgerEntry& entry);
LedgerEntry readLedgerEntry(const Stmt& stmt, int first = 0);

inline constexpr const char* kBalanceColumns = "item, location, on_hand, reserved, last_ts";
void bindBalanceRow(Stmt& stmt, const BalanceRow& row);
BalanceRow readBalanceRow(const Stmt& stmt, int first = 0);

inline constexpr const char* kHoldColumns =
    "order_id, shard, request_id, state, lines, actor, created_at, expires_at, closed_at";
void bindHold(Stmt& stmt, const Hold& hold, std::string* scratch);
absl::StatusOr<Hold> readHold(const Stmt& stmt, int first = 0);

inline constexpr const char* kCountColumns =
    "count_id, shard, item, location, counted, counted_at, expected, variance, state, "
    "session_id, counter, blind, submitted_at, decided_by, note, decided_at, applied_seq";
void bindCount(Stmt& stmt, const CountRecord& count);
CountRecord readCount(const Stmt& stmt, int first = 0);

inline constexpr const char* kAlertColumns =
    "id, kind, severity, state, subject, summary, fired_at, updated_at, resolved_at, acked_by, "
    "acked_at, ack_note, silenced";
void bindAlert(Stmt& stmt, const Alert& alert);
Alert readAlert(const Stmt& stmt, int first = 0);

inline constexpr const char* kSilenceColumns =
    "id, kind, subject_prefix, owner, comment, created_at, expires_at";
Silence readSilence(const Stmt& stmt, int first = 0);

}  // namespace depot::sqlite
