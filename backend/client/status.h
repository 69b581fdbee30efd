// Status helpers shared by the client library and its users: conversion from
// gRPC statuses, the retry rule, and the classification depotctl turns into
// exit codes.
#pragma once

#include <grpcpp/support/status.h>

#include <chrono>

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace grpc {
class Status;
}

namespace depot::client {

// What a failed call means to a person.
enum class ErrorClass {
  kOk,           // the call succeeded
  kRefused,      // the server answered and said no (any code but the two below)
  kUnreachable,  // no answer: UNAVAILABLE or DEADLINE_EXCEEDED (after retries)
};

ErrorClass classify(const absl::Status& status);
ErrorClass classify(absl::StatusCode code);

// gRPC status -> absl::Status with the same code and message.
absl::Status fromGrpc(const grpc::Status& status);

// A per-item code from a batch response (google.rpc.Code numeric value) as
// an absl::Status; unknown numbers become UNKNOWN.
absl::Status fromCode(int code, std::string_view message);

// The retry rule: UNAVAILABLE is always retried (the request was not applied,
// or carries a request_id that makes a re-send harmless);
// DEADLINE_EXCEEDED only for idempotent calls (reads, request_id-carrying
// writes), since the first attempt may have been applied. Everything else is
// the server's answer and is returned at once.
bool isRetryable(absl::StatusCode code, bool idempotent);

// The server's retry-after hint: the google.rpc.RetryInfo in the status
// details (RESOURCE_EXHAUSTED from admission control), 0 when there is none.
std::chrono::milliseconds retryDelayOf(const grpc::Status& status);

// "FAILED_PRECONDITION" etc.
std::string codeName(absl::StatusCode code);

}  // namespace depot::client
