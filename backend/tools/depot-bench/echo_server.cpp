#include "echo_server.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>

#include "echo.grpc.pb.h"

namespace depot::bench {
namespace {

namespace v1 = ::depot::v1;

std::atomic<std::uint64_t> g_seq{0};
std::atomic<bool> g_stop{false};

void onSignal(int) { g_stop.store(true); }

// Fills a result of the same shape and size as depotd's success result.
void echoResult(const v1::Movement& m, v1::MovementResult* r) {
  r->set_request_id(m.request_id());
  r->set_code(0);
  r->set_shard(static_cast<std::uint32_t>(m.sku().size() * 7 % 256));
  r->set_seq(g_seq.fetch_add(1, std::memory_order_relaxed) + 1);
  r->set_entries(1);
  auto* b = r->add_after();
  b->set_sku(m.sku());
  b->set_location(m.location());
  b->set_on_hand(999'999'000);
  b->set_reserved(0);
  b->set_available(999'999'000);
}

void echoApply(const google::protobuf::RepeatedPtrField<v1::Movement>& movements,
               google::protobuf::RepeatedPtrField<v1::MovementResult>* results) {
  results->Reserve(movements.size());
  for (const auto& m : movements) echoResult(m, results->Add());
}

class EchoStreamReactor final
    : public grpc::ServerBidiReactor<v1::ApplyStreamRequest, v1::ApplyStreamResponse> {
 public:
  EchoStreamReactor() { StartRead(&m_request); }

  void OnReadDone(bool ok) override {
    std::lock_guard lock(m_mutex);
    if (!ok) {
      m_readsDone = true;
      maybeFinishLocked();
      return;
    }
    v1::ApplyStreamResponse resp;
    resp.set_tag(m_request.tag());
    echoApply(m_request.movements(), resp.mutable_results());
    m_out.push_back(std::move(resp));
    writeNextLocked();
    // Bounded like depotd: stop reading while many responses wait.
    if (m_out.size() < kMaxQueued) {
      m_request.Clear();
      StartRead(&m_request);
    } else {
      m_readPaused = true;
    }
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(m_mutex);
    m_writing = false;
    m_out.pop_front();
    if (!ok) {
      m_broken = true;
      m_out.clear();
    }
    if (m_readPaused && !m_broken) {
      m_readPaused = false;
      m_request.Clear();
      StartRead(&m_request);
    }
    writeNextLocked();
    maybeFinishLocked();
  }

  void OnDone() override { delete this; }

 private:
  static constexpr std::size_t kMaxQueued = 256;
  // Buffer hint as in depotd's ApplyStream: hinted while more responses
  // wait behind this one, never on the first or the last queued write.
  void writeNextLocked() {
    if (m_writing || m_out.empty() || m_broken) return;
    m_writing = true;
    grpc::WriteOptions options;
    if (m_wroteOnce && m_out.size() > 1) options.set_buffer_hint();
    m_wroteOnce = true;
    StartWrite(&m_out.front(), options);
  }
  void maybeFinishLocked() {
    if (m_finished || m_writing) return;
    if (m_broken || (m_readsDone && m_out.empty())) {
      m_finished = true;
      Finish(m_broken ? grpc::Status::CANCELLED : grpc::Status::OK);
    }
  }

  std::mutex m_mutex;
  v1::ApplyStreamRequest m_request;
  std::deque<v1::ApplyStreamResponse> m_out;
  bool m_writing = false;
  bool m_wroteOnce = false;
  bool m_readsDone = false;
  bool m_readPaused = false;
  bool m_broken = false;
  bool m_finished = false;
};

class EchoService final : public Echo::CallbackService {
  grpc::ServerUnaryReactor* Apply(grpc::CallbackServerContext* ctx, const v1::ApplyRequest* req,
                                  v1::ApplyResponse* resp) override {
    echoApply(req->movements(), resp->mutable_results());
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  grpc::ServerUnaryReactor* Reserve(grpc::CallbackServerContext* ctx,
                                    const v1::ReserveRequest* req,
                                    v1::OrderResponse* resp) override {
    resp->set_order_id(req->order_id());
    resp->set_expires_at_us(1'700'000'000'000'000);
    for (const auto& line : req->lines()) {
      auto* b = resp->add_after();
      b->set_sku(line.sku());
      b->set_location(line.location());
      b->set_on_hand(999'999'000);
      b->set_reserved(line.quantity());
      b->set_available(999'999'000 - line.quantity());
    }
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  grpc::ServerUnaryReactor* GetStock(grpc::CallbackServerContext* ctx,
                                     const v1::GetStockRequest* req,
                                     v1::StockResponse* resp) override {
    auto* item = resp->mutable_item();
    item->set_sku(req->sku());
    item->set_unit("ea");
    item->set_id(1);
    auto* b = resp->add_balances();
    b->set_sku(req->sku());
    b->set_location("bench/A");
    b->set_on_hand(999'999'000);
    b->set_available(999'999'000);
    resp->set_seq(g_seq.fetch_add(1, std::memory_order_relaxed) + 1);
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  grpc::ServerBidiReactor<v1::ApplyStreamRequest, v1::ApplyStreamResponse>* ApplyStream(
      grpc::CallbackServerContext*) override {
    return new EchoStreamReactor();
  }
};

}  // namespace

int runEchoServer(const std::string& listen) {
  EchoService service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(16 << 20);
  builder.SetMaxSendMessageSize(64 << 20);
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    std::fprintf(stderr, "depot-bench echo-server: cannot listen on %s\n", listen.c_str());
    return 1;
  }
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  std::fprintf(stderr, "depot-bench echo-server: listening on %s\n", listen.c_str());
  while (!g_stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  return 0;
}

}  // namespace depot::bench
