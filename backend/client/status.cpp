#include "client/status.h"

#include <grpcpp/support/status.h>

#include "absl/strings/ascii.h"

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

std::string codeName(absl::StatusCode code) {
  return absl::AsciiStrToUpper(absl::StatusCodeToString(code));
}

}  // namespace depot::client
