// depot.v1.Stocktake on the gRPC callback API (unary methods registered
// raw, see serveUnary in service_env.h).
#pragma once

#include "depot/v1/stocktake.grpc.pb.h"
#include "server/service_env.h"

namespace depot::server {

namespace stocktake_detail {
using S = v1::Stocktake;
using Base = S::WithRawCallbackMethod_SubmitCounts<S::WithRawCallbackMethod_Approve<
    S::WithRawCallbackMethod_Reject<S::WithRawCallbackMethod_ListPending<S::Service>>>>;
}  // namespace stocktake_detail

class StocktakeGrpcService final : public stocktake_detail::Base {
 public:
  explicit StocktakeGrpcService(ServiceEnv& env) : m_env(env) {}

  DEPOT_UNARY_METHOD(SubmitCounts, submitCounts, v1::SubmitCountsRequest, v1::SubmitCountsResponse);
  DEPOT_UNARY_METHOD(Approve, approve, v1::CountDecisionRequest, v1::CountRecord) {
    decide(call, req, resp, true);
  }
  DEPOT_UNARY_METHOD(Reject, reject, v1::CountDecisionRequest, v1::CountRecord) {
    decide(call, req, resp, false);
  }
  DEPOT_UNARY_METHOD(ListPending, listPending, v1::ListPendingRequest, v1::ListPendingResponse);

 private:
  void decide(const UnaryCall& call, const v1::CountDecisionRequest* req, v1::CountRecord* resp,
              bool approve);
  ServiceEnv& m_env;
};

}  // namespace depot::server
