// What every gRPC service of depotd shares. Owned by DepotServer; outlives
// every call.
#pragma once

#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/server_context.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/proto_buffer_reader.h>
#include <grpcpp/support/proto_buffer_writer.h>
#include <grpcpp/support/server_callback.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/clock.h"
#include "core/service.h"
#include "server/executor.h"
#include "server/metrics.h"
#include "server/stream_registry.h"

namespace depot::server {

class ClusterRouter;
class ClusterNode;

// The largest request message the server accepts (documented in
// common.proto): every request within the API limits fits.
inline constexpr int kMaxReceiveMessageBytes = 16 * 1024 * 1024;
inline constexpr int kMaxSendMessageBytes = 64 * 1024 * 1024;
// Calls in flight per client connection (HTTP/2 MAX_CONCURRENT_STREAMS);
// more wait in the client's transport, not in server memory.
inline constexpr int kMaxStreamsPerConnection = 1024;
// Retry hint of a call shed at arrival (UnaryCall::enter).
inline constexpr Micros kShedRetryAfter = 20'000;

struct ServiceEnv {
  InventoryService& core;
  ServerMetrics& metrics;
  Executor& executor;
  StreamRegistry& streams;
  const Clock& clock;
  std::string node_id;
  std::string endpoint;                            // the gRPC listen address, for ClusterStatus
  std::chrono::milliseconds heartbeat{1000};       // Watch heartbeat period
  std::size_t apply_stream_max_in_flight = 20000;  // movements per ApplyStream
  ClusterRouter* router = nullptr;  // a cluster member: routes to shard owners
  ClusterNode* cluster = nullptr;   // a cluster member: membership and leases
  // Admission before parsing: at most this many unary calls are served at
  // once, over every connection (0: no limit). By Little's law the latency
  // of the admitted stays near max_concurrent_calls / throughput however
  // much more is offered; the rest are refused in microseconds.
  int max_concurrent_calls = 0;
};

// The request and response of one unary RPC. The server registers every
// unary method as a raw (ByteBuffer) callback method and parses the request
// itself, so a malformed request gets INVALID_ARGUMENT naming the message
// type instead of gRPC's bare UNIMPLEMENTED.
struct UnaryStateBase {
  virtual ~UnaryStateBase() = default;
  // Serializes the response into the call's output buffer.
  virtual bool serialize() = 0;
};

template <typename Req, typename Resp>
struct UnaryState final : UnaryStateBase {
  explicit UnaryState(grpc::ByteBuffer* out) : out(out) {}
  bool serialize() override {
    bool own = false;
    return grpc::SerializationTraits<Resp>::Serialize(response, out, &own).ok();
  }
  Req request;
  Resp response;
  grpc::ByteBuffer* out;
};

// One unary RPC in flight: finishes it through the one status mapping and
// records its duration. Copyable; the copies share the request/response,
// which stay valid while any copy is alive (callbacks capture a copy).
class UnaryCall {
 public:
  UnaryCall(ServiceEnv& env, grpc::CallbackServerContext* ctx, Rpc rpc,
            std::shared_ptr<UnaryStateBase> state)
      : m_ctx(ctx),
        m_reactor(ctx->DefaultReactor()),
        m_metrics(&env.metrics),
        m_rpc(rpc),
        m_start(std::chrono::steady_clock::now()),
        m_state(std::move(state)) {}
  // Admission before parsing: counts the call in ServerMetrics'
  // calls_in_flight (until finish()) unless `limit` (> 0) calls are already
  // being served; then false, and the caller refuses it. Call first, once.
  bool enter(int limit);
  // Serializes the response when `status` is OK, then Finish()es. Once.
  void finish(const absl::Status& status) const;
  grpc::ServerUnaryReactor* reactor() const { return m_reactor; }
  // Sent by another node of the cluster (x-depot-forwarded): serve it here,
  // never forward it again.
  bool forwarded() const;
  // The x-depot-part metadata of a forwarded part of a split order, if any.
  std::optional<RequestPart> part() const;

 private:
  grpc::CallbackServerContext* m_ctx;
  grpc::ServerUnaryReactor* m_reactor;
  ServerMetrics* m_metrics;
  Rpc m_rpc;
  std::chrono::steady_clock::time_point m_start;
  std::shared_ptr<UnaryStateBase> m_state;
  bool m_counted = false;  // entered calls_in_flight
  bool m_shed = false;     // refused by enter()
};

// INVALID_ARGUMENT for a request that did not parse; names the field when
// the cause is a string that is not valid UTF-8.
absl::Status malformedRequest(const google::protobuf::Descriptor* type, const grpc::ByteBuffer& wire);

// Parses the raw request and runs `handler(call, const Req*, Resp*)`.
template <typename Req, typename Resp, typename Handler>
grpc::ServerUnaryReactor* serveUnary(ServiceEnv& env, Rpc rpc, grpc::CallbackServerContext* ctx,
                                     const grpc::ByteBuffer* in, grpc::ByteBuffer* out,
                                     Handler&& handler) {
  auto state = std::make_shared<UnaryState<Req, Resp>>(out);
  UnaryCall call(env, ctx, rpc, state);
  // ClusterStatus is how nodes and consoles see a busy cluster: never shed.
  if (!call.enter(rpc == Rpc::kClusterStatus ? 0 : env.max_concurrent_calls)) {
    call.finish(overloaded(
        absl::StrCat("the server is serving its limit of concurrent calls "
                     "(--max-concurrent-calls); nothing was applied: retry after ",
                     kShedRetryAfter / 1000, " ms"),
        kShedRetryAfter));
    return call.reactor();
  }
  grpc::ByteBuffer copy(*in);  // Deserialize consumes its input; slices are shared
  if (!grpc::SerializationTraits<Req>::Deserialize(&copy, &state->request).ok()) {
    call.finish(malformedRequest(Req::descriptor(), *in));
  } else {
    handler(call, &state->request, &state->response);
  }
  return call.reactor();
}

// Declares the raw override of unary method `Method` forwarding to the
// typed member `void handler(const UnaryCall&, const Req*, Resp*)`.
#define DEPOT_UNARY_METHOD(Method, handler, Req, Resp)                                            \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* in,  \
                                   grpc::ByteBuffer* out) override {                              \
    return serveUnary<Req, Resp>(                                                                 \
        m_env, Rpc::k##Method, ctx, in, out,                                                      \
        [this](const UnaryCall& call, const Req* req, Resp* resp) { handler(call, req, resp); }); \
  }                                                                                               \
  void handler(const UnaryCall& call, const Req* req, Resp* resp)

}  // namespace depot::server
