// depot.v1.Operations on the gRPC callback API: alerts, silences, live
// metrics and cluster status. Unary methods are registered raw (see
// serveUnary in service_env.h); the streams are in operations_streams.cpp.
#pragma once

#include "depot/v1/operations.grpc.pb.h"
#include "server/service_env.h"

namespace depot::server {

namespace operations_detail {
using O = v1::Operations;
using Base = O::WithCallbackMethod_WatchAlerts<O::WithRawCallbackMethod_ListAlerts<
    O::WithRawCallbackMethod_Ack<O::WithRawCallbackMethod_Silence<
        O::WithRawCallbackMethod_ListSilences<O::WithCallbackMethod_WatchMetrics<
            O::WithRawCallbackMethod_ClusterStatus<O::Service>>>>>>>;
}  // namespace operations_detail

class OperationsGrpcService final : public operations_detail::Base {
 public:
  explicit OperationsGrpcService(ServiceEnv& env) : m_env(env) {}

  grpc::ServerWriteReactor<v1::AlertEvent>* WatchAlerts(grpc::CallbackServerContext* ctx,
                                                        const v1::WatchAlertsRequest* req) override;
  grpc::ServerWriteReactor<v1::MetricsSample>* WatchMetrics(
      grpc::CallbackServerContext* ctx, const v1::WatchMetricsRequest* req) override;

  DEPOT_UNARY_METHOD(ListAlerts, listAlerts, v1::ListAlertsRequest, v1::ListAlertsResponse);
  DEPOT_UNARY_METHOD(Ack, ack, v1::AckRequest, v1::Alert);
  DEPOT_UNARY_METHOD(Silence, silence, v1::SilenceRequest, v1::SilenceInfo);
  DEPOT_UNARY_METHOD(ListSilences, listSilences, v1::ListSilencesRequest, v1::ListSilencesResponse);
  DEPOT_UNARY_METHOD(ClusterStatus, clusterStatus, v1::ClusterStatusRequest,
                     v1::ClusterStatusResponse);

 private:
  ServiceEnv& m_env;
};

grpc::ServerWriteReactor<v1::AlertEvent>* newWatchAlertsReactor(ServiceEnv& env,
                                                                const v1::WatchAlertsRequest& req);
grpc::ServerWriteReactor<v1::MetricsSample>* newWatchMetricsReactor(
    ServiceEnv& env, const v1::WatchMetricsRequest& req);

}  // namespace depot::server
