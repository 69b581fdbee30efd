// AsyncInventory: non-blocking unary calls to depot.v1.Inventory with many
// calls in flight, for load generators (depot-bench) and anything else that
// must not park a thread per request. The blocking Client (client.h) stays
// the library's main entry point; this class adds what a load generator
// needs and Client cannot give: N calls in flight from one thread, over
// several TCP connections, with no retries.
//
// Contract:
// - No retries and no failover: every call is sent once to the one endpoint
//   and its status (OK, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED, ...) is handed
//   to `done` as is. A load generator must see every refusal.
// - `done` runs exactly once per call, on a gRPC callback thread; it may
//   start further calls. It must not block.
// - The AsyncCall passed in must stay alive and untouched until `done` has
//   run (keep it in a shared_ptr captured by `done`).
// - Calls are spread round-robin over `connections` channels, each with its
//   own TCP connection (a local subchannel pool per channel).
// - `service` names the gRPC service the methods are called on. It is
//   "depot.v1.Inventory" for depotd; depot-bench's echo ceiling serves the
//   same methods with the same messages under another name, so that both are
//   measured through exactly this code.
//
// Thread safety: every method may be called from any thread. The destructor
// waits (bounded by the deadline) for calls still in flight.
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "depot/v1/inventory.pb.h"

namespace depot::client {

namespace v1 = ::depot::v1;

struct AsyncOptions {
  std::string endpoint;                         // "host:port"
  int connections = 1;                          // >= 1
  std::string service = "depot.v1.Inventory";   // full service name
  std::chrono::milliseconds deadline{10000};    // per call, > 0
  int max_receive_bytes = 16 << 20;             // 10,000 results exceed 4 MiB
};

// One call's context, request and response.
template <typename Req, typename Resp>
struct AsyncCall {
  grpc::ClientContext context;
  Req request;
  Resp response;
};

class AsyncInventory {
 public:
  using Done = std::function<void(const grpc::Status&)>;
  using ApplyCall = AsyncCall<v1::ApplyRequest, v1::ApplyResponse>;
  using ReserveCall = AsyncCall<v1::ReserveRequest, v1::OrderResponse>;
  using GetStockCall = AsyncCall<v1::GetStockRequest, v1::StockResponse>;

  // INVALID_ARGUMENT for an empty or malformed endpoint, connections < 1 or
  // a non-positive deadline. Channels connect lazily.
  static absl::StatusOr<std::unique_ptr<AsyncInventory>> create(AsyncOptions options);
  ~AsyncInventory();
  AsyncInventory(const AsyncInventory&) = delete;
  AsyncInventory& operator=(const AsyncInventory&) = delete;

  void apply(ApplyCall& call, Done done);
  void reserve(ReserveCall& call, Done done);
  void getStock(GetStockCall& call, Done done);

  std::size_t inFlight() const { return m_inFlight.load(std::memory_order_relaxed); }
  // Waits until no call is in flight, at most `max`. True when idle.
  bool waitIdle(std::chrono::milliseconds max);

  const AsyncOptions& options() const { return m_options; }
  std::size_t connections() const { return m_channels.size(); }
  // The channel of connection `index` (for streams over the same connections).
  std::shared_ptr<grpc::Channel> channel(std::size_t index) const {
    return m_channels[index % m_channels.size()];
  }

 private:
  explicit AsyncInventory(AsyncOptions options);
  template <typename Req, typename Resp>
  void start(const std::string& method, AsyncCall<Req, Resp>& call, Done done);
  void finished();

  const AsyncOptions m_options;
  const std::string m_applyMethod;
  const std::string m_reserveMethod;
  const std::string m_getStockMethod;
  std::vector<std::shared_ptr<grpc::Channel>> m_channels;
  std::atomic<std::size_t> m_next{0};
  std::atomic<std::size_t> m_inFlight{0};
  std::mutex m_idleMutex;
  std::condition_variable m_idle;
};

// A channel for bulk traffic to `endpoint` with its own TCP connection
// (local subchannel pool) and the receive limit of `max_receive_bytes`.
std::shared_ptr<grpc::Channel> makeBulkChannel(const std::string& endpoint,
                                               int max_receive_bytes);

}  // namespace depot::client
