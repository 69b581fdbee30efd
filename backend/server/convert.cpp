#include "server/convert.h"

#include <bitset>

#include "server/str.h"

namespace depot::server {

absl::Status fieldError(std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError(strCat(field, ": ", what));
}

absl::StatusOr<std::vector<MovementRequest>> fromProto(
    const google::protobuf::RepeatedPtrField<v1::Movement>& movements, std::string_view field) {
  std::vector<MovementRequest> out;
  out.reserve(static_cast<std::size_t>(movements.size()));
  for (int i = 0; i < movements.size(); ++i) {
    const auto& m = movements[i];
    if (!v1::MovementKind_IsValid(m.kind())) {
      return fieldError(strCat(field, "[", i, "].kind"),
                        strCat("unknown value ", static_cast<int>(m.kind())));
    }
    MovementRequest r;
    r.request_id = m.request_id();
    r.kind = static_cast<MovementKind>(m.kind());
    r.sku = m.sku();
    r.location = m.location();
    r.to_location = m.to_location();
    r.quantity = m.quantity();
    r.reason = m.reason();
    r.actor = m.actor();
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<OrderLine> fromProto(const google::protobuf::RepeatedPtrField<v1::OrderLine>& lines) {
  std::vector<OrderLine> out;
  out.reserve(static_cast<std::size_t>(lines.size()));
  for (const auto& l : lines) out.push_back(OrderLine{l.sku(), l.location(), l.quantity()});
  return out;
}

Item fromProto(const v1::Item& item) {
  Item out;
  out.sku = item.sku();
  out.description = item.description();
  out.unit = item.unit().empty() ? std::string("ea") : item.unit();
  out.reorder_point = item.reorder_point();
  out.reorder_qty = item.reorder_qty();
  return out;
}

Location fromProto(const v1::Location& location) {
  Location out;
  out.warehouse = location.warehouse();
  out.code = location.code();
  return out;
}

CountSubmission fromProto(const v1::SubmitCountsRequest& request) {
  CountSubmission out;
  out.session_id = request.session_id();
  out.counter = request.counter();
  out.blind = request.blind();
  out.lines.reserve(static_cast<std::size_t>(request.lines_size()));
  for (const auto& l : request.lines()) {
    out.lines.push_back(
        CountLine{l.request_id(), l.sku(), l.location(), l.counted(), l.counted_at_us()});
  }
  return out;
}

CountDecision fromProto(const v1::CountDecisionRequest& request) {
  return CountDecision{request.request_id(), request.count_id(), request.actor(), request.note()};
}

absl::StatusOr<std::vector<ShardId>> shardsFromProto(
    const google::protobuf::RepeatedField<std::uint32_t>& shards, std::string_view field) {
  std::vector<ShardId> out;
  std::bitset<kShardCount> seen;
  for (int i = 0; i < shards.size(); ++i) {
    const auto s = shards[i];
    if (s >= kShardCount) {
      return fieldError(strCat(field, "[", i, "]"), strCat("must be < ", kShardCount));
    }
    if (seen.test(s)) return fieldError(strCat(field, "[", i, "]"), "duplicate shard");
    seen.set(s);
    out.push_back(s);
  }
  return out;
}

void toProto(const LineBalance& in, v1::LocationBalance* out) {
  out->set_sku(in.sku);
  out->set_location(in.location);
  out->set_on_hand(in.balance.on_hand);
  out->set_reserved(in.balance.reserved);
  out->set_available(in.balance.available());
}

void toProto(const MovementResult& in, const std::string& request_id, v1::MovementResult* out) {
  out->set_request_id(request_id);
  out->set_code(static_cast<std::int32_t>(in.outcome.code));
  out->set_message(in.outcome.message);
  out->set_shard(in.shard);
  out->set_seq(in.outcome.first_seq);
  out->set_entries(in.outcome.entries);
  for (const auto& b : in.after) toProto(b, out->add_after());
  out->set_replayed(in.replayed);
  if (in.outcome.retry_after > 0) out->set_retry_after_ms((in.outcome.retry_after + 999) / 1000);
}

void toProto(const OrderResult& in, const std::string& order_id, v1::OrderResponse* out) {
  out->set_order_id(order_id);
  out->set_expires_at_us(in.expires_at);
  for (const auto& b : in.after) toProto(b, out->add_after());
  out->set_replayed(in.replayed);
}

void toProto(const Item& in, v1::Item* out) {
  out->set_sku(in.sku);
  out->set_description(in.description);
  out->set_unit(in.unit);
  out->set_reorder_point(in.reorder_point);
  out->set_reorder_qty(in.reorder_qty);
  out->set_shard(in.shard);
  out->set_id(in.id);
}

void toProto(const Location& in, v1::Location* out) {
  out->set_warehouse(in.warehouse);
  out->set_code(in.code);
  out->set_id(in.id);
}

void toProto(const StockRow& in, v1::StockRow* out) {
  out->set_sku(in.item.sku);
  out->set_location(in.location.name());
  out->set_on_hand(in.balance.on_hand);
  out->set_reserved(in.balance.reserved);
  out->set_available(in.balance.available());
  out->set_updated_at_us(in.updated_at);
  out->set_reorder_point(in.item.reorder_point);
  out->set_description(in.item.description);
  out->set_unit(in.item.unit);
  out->set_shard(in.item.shard);
}

void toProto(const StockResult& in, v1::StockResponse* out) {
  toProto(in.item, out->mutable_item());
  for (const auto& line : in.lines) {
    toProto(LineBalance{in.item.sku, line.location.name(), line.balance}, out->add_balances());
  }
  out->set_seq(in.seq);
}

void toProto(const LedgerEntry& in, const Catalog& catalog, v1::LedgerEntry* out) {
  out->set_shard(in.shard);
  out->set_seq(in.seq);
  out->set_request_id(in.request_id);
  out->set_kind(static_cast<v1::MovementKind>(in.kind));
  if (auto item = catalog.itemById(in.item)) out->set_sku(item->sku);
  out->set_location(catalog.locationName(in.location));
  out->set_d_on_hand(in.d_on_hand);
  out->set_d_reserved(in.d_reserved);
  out->set_on_hand_after(in.on_hand_after);
  out->set_reserved_after(in.reserved_after);
  out->set_actor(in.actor);
  out->set_reason(in.reason);
  out->set_ref(in.ref);
  out->set_ts_us(in.ts);
}

v1::CountState toProto(CountState state) {
  switch (state) {
    case CountState::kApplied:
      return v1::COUNT_STATE_APPLIED;
    case CountState::kPending:
      return v1::COUNT_STATE_PENDING_APPROVAL;
    case CountState::kApproved:
      return v1::COUNT_STATE_APPROVED;
    case CountState::kRejected:
      return v1::COUNT_STATE_REJECTED;
  }
  return v1::COUNT_STATE_UNSPECIFIED;
}

void toProto(const CountRecord& in, const Catalog& catalog, v1::CountRecord* out) {
  out->set_count_id(in.count_id);
  if (auto item = catalog.itemById(in.item)) out->set_sku(item->sku);
  out->set_location(catalog.locationName(in.location));
  out->set_counted(in.counted);
  out->set_counted_at_us(in.counted_at);
  if (!in.blind) {
    out->set_expected(in.expected);
    out->set_variance(in.variance);
  }
  out->set_state(toProto(in.state));
  out->set_session_id(in.session_id);
  out->set_counter(in.counter);
  out->set_blind(in.blind);
  out->set_submitted_at_us(in.submitted_at);
  out->set_decided_by(in.decided_by);
  out->set_note(in.note);
  out->set_decided_at_us(in.decided_at);
  out->set_applied_seq(in.applied_seq);
  out->set_shard(in.shard);
}

void toProto(const CountResult& in, const std::string& request_id, v1::CountLineResult* out) {
  out->set_request_id(request_id);
  out->set_code(static_cast<std::int32_t>(in.status.code()));
  out->set_message(std::string(in.status.message()));
  if (in.status.ok()) {
    out->set_state(toProto(in.record.state));
    if (!in.record.blind) {
      out->set_expected(in.record.expected);
      out->set_variance(in.record.variance);
    }
    out->set_seq(in.record.applied_seq);
  }
  out->set_replayed(in.replayed);
}

void toProto(const Alert& in, v1::Alert* out) {
  out->set_id(in.id);
  out->set_kind(static_cast<v1::AlertKind>(in.kind));
  out->set_severity(static_cast<v1::Severity>(in.severity));
  out->set_state(static_cast<v1::AlertState>(in.state));
  out->set_subject(in.subject);
  out->set_summary(in.summary);
  out->set_fired_at_us(in.fired_at);
  out->set_updated_at_us(in.updated_at);
  out->set_resolved_at_us(in.resolved_at);
  out->set_acked_by(in.acked_by);
  out->set_acked_at_us(in.acked_at);
  out->set_ack_note(in.ack_note);
  out->set_silenced(in.silenced);
}

void toProto(const Silence& in, v1::SilenceInfo* out) {
  out->set_id(in.id);
  out->set_kind(static_cast<v1::AlertKind>(in.kind));
  out->set_subject_prefix(in.subject_prefix);
  out->set_owner(in.owner);
  out->set_comment(in.comment);
  out->set_created_at_us(in.created_at);
  out->set_expires_at_us(in.expires_at);
}

}  // namespace depot::server
