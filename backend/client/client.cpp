#include "client/client.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/channel_arguments.h>

#include <algorithm>
#include <random>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/status.h"

namespace depot::client {

struct Client::Endpoint {
  std::string address;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Inventory::StubInterface> inventory;
  std::unique_ptr<v1::Catalog::StubInterface> catalog;
  std::unique_ptr<v1::Stocktake::StubInterface> stocktake;
  std::unique_ptr<v1::Operations::StubInterface> operations;
};

namespace {

absl::Status validateEndpoint(const std::string& endpoint) {
  // host:port or [v6]:port; the port must be a number in 1..65535.
  const std::size_t colon = endpoint.rfind(':');
  if (endpoint.empty() || colon == std::string::npos || colon == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("endpoint '", endpoint, "': expected HOST:PORT"));
  }
  int port = 0;
  if (!absl::SimpleAtoi(endpoint.substr(colon + 1), &port) || port < 1 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("endpoint '", endpoint, "': port must be 1..65535"));
  }
  return absl::OkStatus();
}

std::mt19937_64& jitterGenerator() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return gen;
}

}  // namespace

std::chrono::milliseconds backoffDelay(const ClientOptions& options, int retry) {
  if (retry < 1) return std::chrono::milliseconds(0);
  double cap = static_cast<double>(options.initial_backoff.count());
  for (int i = 1; i < retry && cap < static_cast<double>(options.max_backoff.count()); ++i) {
    cap *= 2;
  }
  cap = std::min(cap, static_cast<double>(options.max_backoff.count()));
  std::uniform_real_distribution<double> dist(0.0, cap);
  return std::chrono::milliseconds(static_cast<std::int64_t>(dist(jitterGenerator())));
}

bool sleepUnlessStopped(std::chrono::milliseconds delay, const std::atomic<bool>& stop) {
  const auto until = std::chrono::steady_clock::now() + delay;
  while (!stop.load()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= until) return true;
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(until - now, std::chrono::milliseconds(20)));
  }
  return false;
}

absl::StatusOr<std::unique_ptr<Client>> Client::create(ClientOptions options) {
  if (options.endpoints.empty()) return absl::InvalidArgumentError("endpoints: none given");
  for (const auto& e : options.endpoints) {
    if (auto st = validateEndpoint(e); !st.ok()) return st;
  }
  if (options.max_attempts < 1) return absl::InvalidArgumentError("max_attempts: must be >= 1");
  if (options.deadline.count() <= 0) return absl::InvalidArgumentError("deadline: must be > 0");
  if (options.initial_backoff.count() < 1) options.initial_backoff = std::chrono::milliseconds(1);
  if (options.max_backoff < options.initial_backoff) options.max_backoff = options.initial_backoff;
  return std::unique_ptr<Client>(new Client(std::move(options)));
}

Client::Client(ClientOptions options) : m_options(std::move(options)) {
  auto credentials =
      m_options.credentials ? m_options.credentials : grpc::InsecureChannelCredentials();
  for (const auto& address : m_options.endpoints) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(m_options.max_receive_bytes);
    // Reconnect quickly after a server restart: gRPC's default reconnect
    // backoff grows to 120 s, during which calls fail fast with UNAVAILABLE.
    const int max_backoff_ms =
        static_cast<int>(std::max<std::int64_t>(m_options.max_backoff.count(), 100));
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, std::min(100, max_backoff_ms));
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, std::min(100, max_backoff_ms));
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, max_backoff_ms);
    // Distinct channels per endpoint even to the same address (tests).
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto endpoint = std::make_unique<Endpoint>();
    endpoint->address = address;
    endpoint->channel = grpc::CreateCustomChannel(address, credentials, args);
    endpoint->inventory = v1::Inventory::NewStub(endpoint->channel);
    endpoint->catalog = v1::Catalog::NewStub(endpoint->channel);
    endpoint->stocktake = v1::Stocktake::NewStub(endpoint->channel);
    endpoint->operations = v1::Operations::NewStub(endpoint->channel);
    m_endpoints.push_back(std::move(endpoint));
  }
}

Client::~Client() = default;

const std::string& Client::endpointAddress(std::size_t index) const {
  return m_endpoints[index % m_endpoints.size()]->address;
}
v1::Inventory::StubInterface& Client::inventoryStub(std::size_t endpoint) {
  return *m_endpoints[endpoint % m_endpoints.size()]->inventory;
}
v1::Operations::StubInterface& Client::operationsStub(std::size_t endpoint) {
  return *m_endpoints[endpoint % m_endpoints.size()]->operations;
}
v1::Catalog::StubInterface& Client::catalogStub(std::size_t endpoint) {
  return *m_endpoints[endpoint % m_endpoints.size()]->catalog;
}
v1::Stocktake::StubInterface& Client::stocktakeStub(std::size_t endpoint) {
  return *m_endpoints[endpoint % m_endpoints.size()]->stocktake;
}

template <typename Stub, typename Request, typename Response>
absl::StatusOr<Response> Client::call(Stub& (Client::*stub)(std::size_t),
                                      grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                                   const Request&, Response*),
                                      const Request& request, bool idempotent, int* attempts_used) {
  const std::size_t first = preferredEndpoint();
  const int budget =
      attempts_used ? m_options.max_attempts - *attempts_used : m_options.max_attempts;
  absl::Status last = absl::UnavailableError("no attempt made");
  std::vector<std::string> tried;
  std::chrono::milliseconds hint{0};  // the server's retry-after, if it gave one
  for (int attempt = 0; attempt < std::max(budget, 1); ++attempt) {
    const int overall = (attempts_used ? *attempts_used : 0) + attempt;
    if (overall > 0)
      std::this_thread::sleep_for(std::max(hint, backoffDelay(m_options, overall)));
    const std::size_t index = (first + static_cast<std::size_t>(attempt)) % m_endpoints.size();
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + m_options.deadline);
    Response response;
    const grpc::Status status = ((this->*stub)(index).*method)(&context, request, &response);
    if (attempts_used) ++*attempts_used;
    if (status.ok()) {
      m_preferred.store(index, std::memory_order_relaxed);
      return response;
    }
    last = fromGrpc(status);
    // Shed load (RESOURCE_EXHAUSTED with a retry-after): nothing was
    // applied, so retrying after the hint is safe for any request.
    hint = retryDelayOf(status);
    const bool shed = last.code() == absl::StatusCode::kResourceExhausted && hint.count() > 0;
    if (!shed && !isRetryable(last.code(), idempotent)) return last;
    if (std::find(tried.begin(), tried.end(), m_endpoints[index]->address) == tried.end()) {
      tried.push_back(m_endpoints[index]->address);
    }
  }
  return absl::Status(last.code(),
                      absl::StrCat(last.message(), " (", std::max(budget, 1), " attempt(s) via ",
                                   absl::StrJoin(tried, ","), ")"));
}

absl::StatusOr<v1::ApplyResponse> Client::apply(const v1::ApplyRequest& request) {
  int attempts = 0;
  auto first =
      call(&Client::inventoryStub, &v1::Inventory::StubInterface::Apply, request, true, &attempts);
  if (!first.ok()) return first;
  v1::ApplyResponse response = std::move(*first);
  constexpr int kUnavailable = static_cast<int>(absl::StatusCode::kUnavailable);
  constexpr int kExhausted = static_cast<int>(absl::StatusCode::kResourceExhausted);
  // Re-send movements the server reports as not applied: UNAVAILABLE, or
  // shed with a retry-after (after waiting for it).
  while (attempts < m_options.max_attempts) {
    std::vector<int> pending;
    bool any_ok = false;
    std::int64_t wait_ms = 0;
    for (int i = 0; i < response.results_size(); ++i) {
      const auto& r = response.results(i);
      if (r.code() == kUnavailable || (r.code() == kExhausted && r.retry_after_ms() > 0)) {
        pending.push_back(i);
        wait_ms = std::max<std::int64_t>(wait_ms, r.retry_after_ms());
      }
      if (r.code() == 0) any_ok = true;
    }
    if (pending.empty()) break;
    if (wait_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
    if (request.linked()) {
      if (any_ok) break;  // cannot happen for an all-or-nothing batch; do not guess
      auto again = call(&Client::inventoryStub, &v1::Inventory::StubInterface::Apply, request, true,
                        &attempts);
      if (!again.ok()) return response;  // keep the per-movement answer we have
      response = std::move(*again);
      continue;
    }
    v1::ApplyRequest retry;
    for (int i : pending) *retry.add_movements() = request.movements(i);
    auto again =
        call(&Client::inventoryStub, &v1::Inventory::StubInterface::Apply, retry, true, &attempts);
    if (!again.ok() || again->results_size() != retry.movements_size()) break;
    for (std::size_t k = 0; k < pending.size(); ++k) {
      *response.mutable_results(pending[k]) =
          std::move(*again->mutable_results(static_cast<int>(k)));
    }
  }
  return response;
}

absl::StatusOr<v1::OrderResponse> Client::reserve(const v1::ReserveRequest& request) {
  return call(&Client::inventoryStub, &v1::Inventory::StubInterface::Reserve, request, true,
              nullptr);
}
absl::StatusOr<v1::OrderResponse> Client::commit(const v1::CommitRequest& request) {
  return call(&Client::inventoryStub, &v1::Inventory::StubInterface::Commit, request, true,
              nullptr);
}
absl::StatusOr<v1::OrderResponse> Client::release(const v1::ReleaseRequest& request) {
  return call(&Client::inventoryStub, &v1::Inventory::StubInterface::Release, request, true,
              nullptr);
}
absl::StatusOr<v1::StockResponse> Client::getStock(const v1::GetStockRequest& request) {
  return call(&Client::inventoryStub, &v1::Inventory::StubInterface::GetStock, request, true,
              nullptr);
}
absl::StatusOr<v1::ListStockResponse> Client::listStock(const v1::ListStockRequest& request) {
  return call(&Client::inventoryStub, &v1::Inventory::StubInterface::ListStock, request, true,
              nullptr);
}
absl::StatusOr<v1::HistoryResponse> Client::history(const v1::HistoryRequest& request) {
  return call(&Client::inventoryStub, &v1::Inventory::StubInterface::History, request, true,
              nullptr);
}
absl::StatusOr<v1::BalanceAtResponse> Client::balanceAt(const v1::BalanceAtRequest& request) {
  return call(&Client::inventoryStub, &v1::Inventory::StubInterface::BalanceAt, request, true,
              nullptr);
}

absl::StatusOr<v1::UpsertItemsResponse> Client::upsertItems(const v1::UpsertItemsRequest& request) {
  // An upsert of the same rows is idempotent by nature.
  return call(&Client::catalogStub, &v1::Catalog::StubInterface::UpsertItems, request, true,
              nullptr);
}
absl::StatusOr<v1::UpsertLocationsResponse> Client::upsertLocations(
    const v1::UpsertLocationsRequest& request) {
  return call(&Client::catalogStub, &v1::Catalog::StubInterface::UpsertLocations, request, true,
              nullptr);
}
absl::StatusOr<v1::Item> Client::getItem(const v1::GetItemRequest& request) {
  return call(&Client::catalogStub, &v1::Catalog::StubInterface::GetItem, request, true, nullptr);
}
absl::StatusOr<v1::ListItemsResponse> Client::listItems(const v1::ListItemsRequest& request) {
  return call(&Client::catalogStub, &v1::Catalog::StubInterface::ListItems, request, true, nullptr);
}
absl::StatusOr<v1::ListLocationsResponse> Client::listLocations(
    const v1::ListLocationsRequest& request) {
  return call(&Client::catalogStub, &v1::Catalog::StubInterface::ListLocations, request, true,
              nullptr);
}

absl::StatusOr<v1::SubmitCountsResponse> Client::submitCounts(
    const v1::SubmitCountsRequest& request) {
  return call(&Client::stocktakeStub, &v1::Stocktake::StubInterface::SubmitCounts, request, true,
              nullptr);
}
absl::StatusOr<v1::CountRecord> Client::approve(const v1::CountDecisionRequest& request) {
  return call(&Client::stocktakeStub, &v1::Stocktake::StubInterface::Approve, request, true,
              nullptr);
}
absl::StatusOr<v1::CountRecord> Client::reject(const v1::CountDecisionRequest& request) {
  return call(&Client::stocktakeStub, &v1::Stocktake::StubInterface::Reject, request, true,
              nullptr);
}
absl::StatusOr<v1::ListPendingResponse> Client::listPending(const v1::ListPendingRequest& request) {
  return call(&Client::stocktakeStub, &v1::Stocktake::StubInterface::ListPending, request, true,
              nullptr);
}

absl::StatusOr<v1::ListAlertsResponse> Client::listAlerts(const v1::ListAlertsRequest& request) {
  return call(&Client::operationsStub, &v1::Operations::StubInterface::ListAlerts, request, true,
              nullptr);
}
absl::StatusOr<v1::Alert> Client::ack(const v1::AckRequest& request) {
  // Acknowledging twice only updates the note: idempotent.
  return call(&Client::operationsStub, &v1::Operations::StubInterface::Ack, request, true, nullptr);
}
absl::StatusOr<v1::SilenceInfo> Client::silence(const v1::SilenceRequest& request) {
  return call(&Client::operationsStub, &v1::Operations::StubInterface::Silence, request, false,
              nullptr);
}
absl::StatusOr<v1::ListSilencesResponse> Client::listSilences(
    const v1::ListSilencesRequest& request) {
  return call(&Client::operationsStub, &v1::Operations::StubInterface::ListSilences, request, true,
              nullptr);
}
absl::StatusOr<v1::ClusterStatusResponse> Client::clusterStatus(
    const v1::ClusterStatusRequest& request) {
  return call(&Client::operationsStub, &v1::Operations::StubInterface::ClusterStatus, request, true,
              nullptr);
}

// grpc.health.v1 is not generated here (the standard service is built into
// the server; generating health.proto in two libraries would register the
// descriptor twice), so Check is called through the generic stub with the
// two tiny messages encoded by hand:
//   HealthCheckRequest  { string service = 1; }        -> 0x0A len bytes
//   HealthCheckResponse { ServingStatus status = 1; }  -> 0x08 varint
absl::StatusOr<HealthStatus> Client::healthOnce(std::size_t endpoint, const std::string& service) {
  std::string request;
  if (!service.empty()) {
    request.push_back(0x0A);
    std::size_t n = service.size();
    do {
      unsigned char b = n & 0x7F;
      n >>= 7;
      if (n) b |= 0x80;
      request.push_back(static_cast<char>(b));
    } while (n);
    request += service;
  }
  grpc::Slice slice(request);
  grpc::ByteBuffer request_buffer(&slice, 1);
  grpc::ByteBuffer response_buffer;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + m_options.deadline);
  grpc::CompletionQueue queue;
  grpc::GenericStub stub(m_endpoints[endpoint % m_endpoints.size()]->channel);
  auto rpc =
      stub.PrepareUnaryCall(&context, "/grpc.health.v1.Health/Check", request_buffer, &queue);
  rpc->StartCall();
  grpc::Status status;
  rpc->Finish(&response_buffer, &status, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  queue.Next(&tag, &ok);
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
  if (!status.ok()) return fromGrpc(status);
  grpc::Slice flat;
  if (!response_buffer.DumpToSingleSlice(&flat).ok()) return HealthStatus::kUnknown;
  const auto* p = flat.begin();
  const auto* end = flat.end();
  while (p < end) {
    const std::uint8_t key = *p++;
    std::uint64_t value = 0;
    int shift = 0;
    if ((key & 7) != 0) return absl::InternalError("health: unexpected response encoding");
    while (p < end && shift < 64) {
      const std::uint8_t b = *p++;
      value |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      shift += 7;
      if (!(b & 0x80)) break;
    }
    if ((key >> 3) == 1 && value <= 3) return static_cast<HealthStatus>(value);
  }
  return HealthStatus::kUnknown;
}

absl::StatusOr<HealthStatus> Client::health(const std::string& service) {
  const std::size_t first = preferredEndpoint();
  absl::Status last;
  for (int attempt = 0; attempt < m_options.max_attempts; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(backoffDelay(m_options, attempt));
    const std::size_t index = (first + static_cast<std::size_t>(attempt)) % m_endpoints.size();
    auto result = healthOnce(index, service);
    if (result.ok()) {
      m_preferred.store(index, std::memory_order_relaxed);
      return result;
    }
    last = result.status();
    if (!isRetryable(last.code(), true)) return last;
  }
  return last;
}

}  // namespace depot::client
