#include "client/status.h"

#include <grpcpp/support/status.h>

#include "absl/strings/ascii.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace depot::client {

ErrorClass classify(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return ErrorClass::kOk;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return ErrorClass::kUnreachable;
    default:
      return ErrorClass::kRefused;
  }
}

ErrorClass classify(const absl::Status& status) { return classify(status.code()); }

absl::Status fromGrpc(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

absl::Status fromCode(int code, std::string_view message) {
  if (code == 0) return absl::OkStatus();
  if (code < 0 || code > 16) return absl::UnknownError(std::string(message));
  return absl::Status(static_cast<absl::StatusCode>(code), std::string(message));
}

bool isRetryable(absl::StatusCode code, bool idempotent) {
  return code == absl::StatusCode::kUnavailable ||
         (idempotent && code == absl::StatusCode::kDeadlineExceeded);
}

std::chrono::milliseconds retryDelayOf(const grpc::Status& status) {
  if (status.ok() || status.error_details().empty()) return std::chrono::milliseconds(0);
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return std::chrono::milliseconds(0);
  for (const auto& any : details.details()) {
    google::rpc::RetryInfo info;
    if (any.Is<google::rpc::RetryInfo>() && any.UnpackTo(&info)) {
      return std::chrono::milliseconds(info.retry_delay().seconds() * 1000 +
                                       info.retry_delay().nanos() / 1'000'000);
    }
  }
  return std::chrono::milliseconds(0);
}

std::string codeName(absl::StatusCode code) {
  return absl::AsciiStrToUpper(absl::StatusCodeToString(code));
}

}  // namespace depot::client
