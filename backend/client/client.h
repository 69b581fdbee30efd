// Client: typed, synchronous access to a Depot cluster (depot.v1 services)
// with failover and retries. Used by depotctl, depot-bench and the console's
// network thread; links no Qt.
//
// Endpoints: one gRPC channel per "host:port". A call goes to the endpoint
// that last answered; when it fails with a retryable status (see
// isRetryable() in status.h) it is re-sent *unchanged* — same request_id —
// to the next endpoint after an exponential backoff with full jitter, at most
// `max_attempts` times in all. The server applies a request_id once, so a
// retried write is applied at most once. Any other status is the server's
// answer and is returned at once. Each attempt has its own deadline.
//
// Thread safety: every method may be called from any thread concurrently
// (gRPC stubs are thread-safe; the sticky endpoint is atomic). Calls block
// the calling thread: never call them on a UI thread.
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/security/credentials.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "depot/v1/catalog.grpc.pb.h"
#include "depot/v1/inventory.grpc.pb.h"
#include "depot/v1/operations.grpc.pb.h"
#include "depot/v1/stocktake.grpc.pb.h"

namespace depot::client {

namespace v1 = ::depot::v1;

struct ClientOptions {
  std::vector<std::string> endpoints;             // "host:port", at least one
  std::chrono::milliseconds deadline{5000};       // per attempt
  int max_attempts = 4;                           // attempts per call, >= 1
  std::chrono::milliseconds initial_backoff{50};  // before the 2nd attempt (then doubled)
  std::chrono::milliseconds max_backoff{2000};    // cap; also caps the channel's reconnect backoff
  // null: insecure (loopback / trusted network).
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // Responses of 10,000 results exceed gRPC's default 4 MiB (common.proto).
  int max_receive_bytes = 16 << 20;
};

// Exponential backoff with full jitter: a random delay in
// [0, min(max, initial * 2^(retry-1))], retry >= 1. Thread-safe.
std::chrono::milliseconds backoffDelay(const ClientOptions& options, int retry);

enum class HealthStatus { kUnknown = 0, kServing = 1, kNotServing = 2, kServiceUnknown = 3 };

class Client {
 public:
  // INVALID_ARGUMENT for no endpoint, an empty or malformed "host:port",
  // max_attempts < 1 or a non-positive deadline. Creates channels lazily
  // connected (no I/O here).
  static absl::StatusOr<std::unique_ptr<Client>> create(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const ClientOptions& options() const { return m_options; }

  // ---- Inventory ----
  // Movements whose per-movement result is UNAVAILABLE (not applied) are
  // re-sent, unchanged, within the same attempt budget; unlinked batches
  // re-send only those, linked ones the whole batch.
  absl::StatusOr<v1::ApplyResponse> apply(const v1::ApplyRequest& request);
  absl::StatusOr<v1::OrderResponse> reserve(const v1::ReserveRequest& request);
  absl::StatusOr<v1::OrderResponse> commit(const v1::CommitRequest& request);
  absl::StatusOr<v1::OrderResponse> release(const v1::ReleaseRequest& request);
  absl::StatusOr<v1::StockResponse> getStock(const v1::GetStockRequest& request);
  absl::StatusOr<v1::ListStockResponse> listStock(const v1::ListStockRequest& request);
  absl::StatusOr<v1::HistoryResponse> history(const v1::HistoryRequest& request);
  absl::StatusOr<v1::BalanceAtResponse> balanceAt(const v1::BalanceAtRequest& request);

  // ---- Catalog ----
  absl::StatusOr<v1::UpsertItemsResponse> upsertItems(const v1::UpsertItemsRequest& request);
  absl::StatusOr<v1::UpsertLocationsResponse> upsertLocations(
      const v1::UpsertLocationsRequest& request);
  absl::StatusOr<v1::Item> getItem(const v1::GetItemRequest& request);
  absl::StatusOr<v1::ListItemsResponse> listItems(const v1::ListItemsRequest& request);
  absl::StatusOr<v1::ListLocationsResponse> listLocations(const v1::ListLocationsRequest& request);

  // ---- Stocktake ----
  absl::StatusOr<v1::SubmitCountsResponse> submitCounts(const v1::SubmitCountsRequest& request);
  absl::StatusOr<v1::CountRecord> approve(const v1::CountDecisionRequest& request);
  absl::StatusOr<v1::CountRecord> reject(const v1::CountDecisionRequest& request);
  absl::StatusOr<v1::ListPendingResponse> listPending(const v1::ListPendingRequest& request);

  // ---- Operations ----
  absl::StatusOr<v1::ListAlertsResponse> listAlerts(const v1::ListAlertsRequest& request);
  absl::StatusOr<v1::Alert> ack(const v1::AckRequest& request);
  // Not idempotent (no request_id): a DEADLINE_EXCEEDED is not retried.
  absl::StatusOr<v1::SilenceInfo> silence(const v1::SilenceRequest& request);
  absl::StatusOr<v1::ListSilencesResponse> listSilences(const v1::ListSilencesRequest& request);
  absl::StatusOr<v1::ClusterStatusResponse> clusterStatus(const v1::ClusterStatusRequest& request);

  // grpc.health.v1.Health/Check for `service` ("" = the whole server).
  absl::StatusOr<HealthStatus> health(const std::string& service = "");

  // ---- for stream helpers (WatchStream & co.) ----
  struct Endpoint;
  std::size_t endpointCount() const { return m_endpoints.size(); }
  const std::string& endpointAddress(std::size_t index) const;
  // The endpoint that last answered; streams start there.
  std::size_t preferredEndpoint() const { return m_preferred.load(std::memory_order_relaxed); }
  void setPreferredEndpoint(std::size_t index) { m_preferred.store(index % m_endpoints.size()); }
  v1::Inventory::StubInterface& inventoryStub(std::size_t endpoint);
  v1::Operations::StubInterface& operationsStub(std::size_t endpoint);

 private:
  explicit Client(ClientOptions options);

  // The retry loop shared by every unary call.
  template <typename Stub, typename Request, typename Response>
  absl::StatusOr<Response> call(Stub& (Client::*stub)(std::size_t),
                                grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                                             Response*),
                                const Request& request, bool idempotent, int* attempts_used);

  v1::Catalog::StubInterface& catalogStub(std::size_t endpoint);
  v1::Stocktake::StubInterface& stocktakeStub(std::size_t endpoint);
  absl::StatusOr<HealthStatus> healthOnce(std::size_t endpoint, const std::string& service);

  const ClientOptions m_options;
  std::vector<std::unique_ptr<Endpoint>> m_endpoints;
  std::atomic<std::size_t> m_preferred{0};
};

// Sleeps `delay` unless `stop` becomes true first (polled every 20 ms).
// Returns false when stopped.
bool sleepUnlessStopped(std::chrono::milliseconds delay, const std::atomic<bool>& stop);

}  // namespace depot::client
