#include "client/async_inventory.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/impl/codegen/proto_utils.h>  // SerializationTraits for protobuf messages
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

namespace depot::client {

std::shared_ptr<grpc::Channel> makeBulkChannel(const std::string& endpoint,
                                               int max_receive_bytes) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(max_receive_bytes);
  // Without a local pool, channels to one address share one connection.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(), args);
}

absl::StatusOr<std::unique_ptr<AsyncInventory>> AsyncInventory::create(AsyncOptions options) {
  const auto colon = options.endpoint.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == options.endpoint.size()) {
    return absl::InvalidArgumentError("endpoint: expected HOST:PORT, got '" + options.endpoint +
                                      "'");
  }
  if (options.connections < 1) return absl::InvalidArgumentError("connections: must be >= 1");
  if (options.deadline.count() <= 0) return absl::InvalidArgumentError("deadline: must be > 0");
  if (options.service.empty()) return absl::InvalidArgumentError("service: required");
  return std::unique_ptr<AsyncInventory>(new AsyncInventory(std::move(options)));
}

AsyncInventory::AsyncInventory(AsyncOptions options)
    : m_options(std::move(options)),
      m_applyMethod("/" + m_options.service + "/Apply"),
      m_reserveMethod("/" + m_options.service + "/Reserve"),
      m_getStockMethod("/" + m_options.service + "/GetStock") {
  for (int i = 0; i < m_options.connections; ++i) {
    m_channels.push_back(makeBulkChannel(m_options.endpoint, m_options.max_receive_bytes));
  }
}

AsyncInventory::~AsyncInventory() { waitIdle(m_options.deadline + std::chrono::seconds(5)); }

template <typename Req, typename Resp>
void AsyncInventory::start(const std::string& method, AsyncCall<Req, Resp>& call, Done done) {
  call.context.set_deadline(std::chrono::system_clock::now() + m_options.deadline);
  m_inFlight.fetch_add(1, std::memory_order_relaxed);
  const std::size_t index = m_next.fetch_add(1, std::memory_order_relaxed) % m_channels.size();
  grpc::TemplatedGenericStub<Req, Resp> stub(m_channels[index]);
  stub.UnaryCall(&call.context, method, grpc::StubOptions(), &call.request, &call.response,
                 [this, done = std::move(done)](grpc::Status status) mutable {
                   done(status);
                   // Release the call (its ClientContext) before counting it
                   // finished: once nothing is in flight the owner may
                   // destroy this object and its channels.
                   done = nullptr;
                   finished();
                 });
}

void AsyncInventory::finished() {
  // Under the mutex, so that waitIdle() cannot return (and the owner destroy
  // this object) between the decrement and the notification.
  std::lock_guard lock(m_idleMutex);
  if (m_inFlight.fetch_sub(1, std::memory_order_acq_rel) == 1) m_idle.notify_all();
}

bool AsyncInventory::waitIdle(std::chrono::milliseconds max) {
  std::unique_lock lock(m_idleMutex);
  return m_idle.wait_for(lock, max, [this] { return m_inFlight.load() == 0; });
}

void AsyncInventory::apply(ApplyCall& call, Done done) { start(m_applyMethod, call, std::move(done)); }
void AsyncInventory::reserve(ReserveCall& call, Done done) {
  start(m_reserveMethod, call, std::move(done));
}
void AsyncInventory::getStock(GetStockCall& call, Done done) {
  start(m_getStockMethod, call, std::move(done));
}

}  // namespace depot::client
