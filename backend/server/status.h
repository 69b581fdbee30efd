// The one translation point from domain errors (absl::Status) to gRPC.
// Every handler reports errors as absl::Status (from the core, or from the
// server's own proto-specific validation) and converts them here.
#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace depot::server {

// Codes map 1:1 (absl::StatusCode and grpc::StatusCode share the
// google.rpc.Code numbering); the message is kept. A code outside 0..16
// becomes UNKNOWN. A status with a retry-after (overloaded(), RESOURCE_EXHAUSTED
// from admission control) carries a google.rpc.RetryInfo in its details.
grpc::Status toGrpcStatus(const absl::Status& status);

}  // namespace depot::server
