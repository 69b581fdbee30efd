// Conversions between depot.v1 messages and the core's value types, plus the
// proto-specific validation the core cannot do (enum ranges, repeated-field
// shapes). Domain fields (SKU, quantities, lengths) are validated by the core.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/catalog.h"
#include "core/model.h"
#include "core/service.h"
#include "depot/v1/catalog.pb.h"
#include "depot/v1/common.pb.h"
#include "depot/v1/inventory.pb.h"
#include "depot/v1/operations.pb.h"
#include "depot/v1/stocktake.pb.h"

namespace depot::server {

namespace v1 = ::depot::v1;

// INVALID_ARGUMENT "<field>: <what>".
absl::Status fieldError(std::string_view field, std::string_view what);

// ---- requests ----
// Fails with INVALID_ARGUMENT "movements[i].kind: unknown value N" for values
// that are not members of v1::MovementKind (proto3 keeps unknown numbers).
absl::StatusOr<std::vector<MovementRequest>> fromProto(
    const google::protobuf::RepeatedPtrField<v1::Movement>& movements, std::string_view field);
std::vector<OrderLine> fromProto(const google::protobuf::RepeatedPtrField<v1::OrderLine>& lines);
Item fromProto(const v1::Item& item);
Location fromProto(const v1::Location& location);
CountSubmission fromProto(const v1::SubmitCountsRequest& request);
CountDecision fromProto(const v1::CountDecisionRequest& request);
// Shards list: each < 256, no duplicates. Empty stays empty.
absl::StatusOr<std::vector<ShardId>> shardsFromProto(
    const google::protobuf::RepeatedField<std::uint32_t>& shards, std::string_view field);

// ---- results ----
void toProto(const MovementResult& in, const std::string& request_id, v1::MovementResult* out);
void toProto(const LineBalance& in, v1::LocationBalance* out);
void toProto(const OrderResult& in, const std::string& order_id, v1::OrderResponse* out);
void toProto(const Item& in, v1::Item* out);
void toProto(const Location& in, v1::Location* out);
void toProto(const StockRow& in, v1::StockRow* out);
void toProto(const StockResult& in, v1::StockResponse* out);
void toProto(const LedgerEntry& in, const Catalog& catalog, v1::LedgerEntry* out);
void toProto(const CountRecord& in, const Catalog& catalog, v1::CountRecord* out);
void toProto(const CountResult& in, const std::string& request_id, v1::CountLineResult* out);
void toProto(const Alert& in, v1::Alert* out);
void toProto(const Silence& in, v1::SilenceInfo* out);
v1::CountState toProto(CountState state);

}  // namespace depot::server
