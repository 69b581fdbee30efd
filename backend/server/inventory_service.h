// depot.v1.Inventory on the gRPC callback API. Unary handlers are thin:
// convert the request, call one InventoryService method, convert the
// result, finish. Unary methods are registered raw (see serveUnary in
// service_env.h); streaming RPCs are reactors in inventory_streams.h.
#pragma once

#include "depot/v1/inventory.grpc.pb.h"
#include "server/service_env.h"

namespace depot::server {

namespace inventory_detail {
using I = v1::Inventory;
using Base = I::WithRawCallbackMethod_Apply<I::WithRawCallbackMethod_Reserve<
    I::WithRawCallbackMethod_Commit<I::WithRawCallbackMethod_Release<
        I::WithRawCallbackMethod_GetStock<I::WithRawCallbackMethod_ListStock<
            I::WithRawCallbackMethod_History<I::WithRawCallbackMethod_BalanceAt<
                I::WithCallbackMethod_ApplyStream<I::WithCallbackMethod_Snapshot<
                    I::WithCallbackMethod_Watch<I::Service>>>>>>>>>>>;
}  // namespace inventory_detail

class InventoryGrpcService final : public inventory_detail::Base {
 public:
  explicit InventoryGrpcService(ServiceEnv& env) : m_env(env) {}

  DEPOT_UNARY_METHOD(Apply, apply, v1::ApplyRequest, v1::ApplyResponse);
  DEPOT_UNARY_METHOD(Reserve, reserve, v1::ReserveRequest, v1::OrderResponse);
  DEPOT_UNARY_METHOD(Commit, commit, v1::CommitRequest, v1::OrderResponse);
  DEPOT_UNARY_METHOD(Release, release, v1::ReleaseRequest, v1::OrderResponse);
  DEPOT_UNARY_METHOD(GetStock, getStock, v1::GetStockRequest, v1::StockResponse);
  DEPOT_UNARY_METHOD(ListStock, listStock, v1::ListStockRequest, v1::ListStockResponse);
  DEPOT_UNARY_METHOD(History, history, v1::HistoryRequest, v1::HistoryResponse);
  DEPOT_UNARY_METHOD(BalanceAt, balanceAt, v1::BalanceAtRequest, v1::BalanceAtResponse);

  grpc::ServerBidiReactor<v1::ApplyStreamRequest, v1::ApplyStreamResponse>* ApplyStream(
      grpc::CallbackServerContext* ctx) override;
  grpc::ServerWriteReactor<v1::SnapshotChunk>* Snapshot(grpc::CallbackServerContext* ctx,
                                                        const v1::SnapshotRequest* req) override;
  grpc::ServerWriteReactor<v1::WatchEvent>* Watch(grpc::CallbackServerContext* ctx,
                                                  const v1::WatchRequest* req) override;

 private:
  ServiceEnv& m_env;
};

}  // namespace depot::server
