#include "server/status.h"

#include <string>

#include "core/model.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace depot::server {

grpc::Status toGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const int code = static_cast<int>(status.code());
  if (code < 0 || code > static_cast<int>(grpc::StatusCode::UNAUTHENTICATED)) {
    return grpc::Status(grpc::StatusCode::UNKNOWN, std::string(status.message()));
  }
  if (const Micros retry = retryAfter(status); retry > 0) {
    // Load shedding: a standard google.rpc.RetryInfo in the status details
    // (the grpc-status-details-bin trailer) tells any client when to retry.
    google::rpc::RetryInfo info;
    info.mutable_retry_delay()->set_seconds(retry / 1'000'000);
    info.mutable_retry_delay()->set_nanos(static_cast<std::int32_t>(retry % 1'000'000) * 1000);
    google::rpc::Status details;
    details.set_code(code);
    details.set_message(std::string(status.message()));
    details.add_details()->PackFrom(info);
    return grpc::Status(static_cast<grpc::StatusCode>(code), std::string(status.message()),
                        details.SerializeAsString());
  }
  return grpc::Status(static_cast<grpc::StatusCode>(code), std::string(status.message()));
}

}  // namespace depot::server
