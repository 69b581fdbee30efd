#include "client/apply_stream.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/impl/codegen/proto_utils.h>  // SerializationTraits for protobuf messages

namespace depot::client {

ApplyStreamClient::ApplyStreamClient(std::shared_ptr<grpc::Channel> channel, std::string service,
                                     OnResponse on_response)
    : m_channel(std::move(channel)),
      m_method("/" + service + "/ApplyStream"),
      m_onResponse(std::move(on_response)) {}

ApplyStreamClient::~ApplyStreamClient() {
  bool started = false;
  {
    std::lock_guard lock(m_mutex);
    started = m_started;
  }
  if (!started) return;
  if (!done()) cancel();
  wait(std::chrono::seconds(30)).IgnoreError();  // bounded; nothing more to do on failure
}

void ApplyStreamClient::start() {
  grpc::TemplatedGenericStub<v1::ApplyStreamRequest, v1::ApplyStreamResponse> stub(m_channel);
  stub.PrepareBidiStreamingCall(&m_context, m_method, grpc::StubOptions(), this);
  std::lock_guard lock(m_mutex);
  m_started = true;
  StartRead(&m_response);
  writeNextLocked();
  StartCall();
}

bool ApplyStreamClient::send(v1::ApplyStreamRequest request) {
  std::lock_guard lock(m_mutex);
  if (m_done || m_closing) return false;
  m_queue.push_back(std::move(request));
  ++m_inFlight;
  if (m_started) writeNextLocked();
  return true;
}

void ApplyStreamClient::closeSend() {
  std::lock_guard lock(m_mutex);
  m_closing = true;
  if (m_started) writeNextLocked();
}

void ApplyStreamClient::cancel() { m_context.TryCancel(); }

void ApplyStreamClient::writeNextLocked() {
  if (m_writing || m_writesDone || m_done) return;
  if (!m_queue.empty()) {
    m_writing = true;
    // While more requests wait behind this one, gRPC may hold it and send
    // both together (one sendmsg per run of requests). The last queued
    // request and the first of the call are never hinted, so nothing stays
    // unsent (a hinted first write is not flushed: grpc/grpc#12975).
    grpc::WriteOptions options;
    if (m_wroteOnce && m_queue.size() > 1) options.set_buffer_hint();
    m_wroteOnce = true;
    StartWrite(&m_queue.front(), options);
  } else if (m_closing) {
    m_writesDone = true;
    StartWritesDone();
  }
}

void ApplyStreamClient::OnWriteDone(bool ok) {
  std::lock_guard lock(m_mutex);
  m_writing = false;
  m_queue.pop_front();
  if (!ok) {
    // The call is ending; OnDone reports why. Nothing more can be written.
    m_inFlight -= m_queue.size();
    m_queue.clear();
    m_writesDone = true;
    return;
  }
  writeNextLocked();
}

void ApplyStreamClient::OnWritesDoneDone(bool) {}

void ApplyStreamClient::OnReadDone(bool ok) {
  if (!ok) return;  // the call is ending; OnDone follows
  {
    std::lock_guard lock(m_mutex);
    if (m_inFlight > 0) --m_inFlight;
  }
  m_onResponse(m_response);
  m_response.Clear();
  StartRead(&m_response);
}

void ApplyStreamClient::OnDone(const grpc::Status& status) {
  std::lock_guard lock(m_mutex);
  m_done = true;
  m_status = status;
  m_doneCv.notify_all();
}

absl::Status ApplyStreamClient::wait(std::chrono::milliseconds max) {
  std::unique_lock lock(m_mutex);
  if (!m_doneCv.wait_for(lock, max, [this] { return m_done; })) {
    return absl::DeadlineExceededError("ApplyStream call did not end in time");
  }
  if (m_status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(m_status.error_code()),
                      m_status.error_message());
}

std::size_t ApplyStreamClient::inFlight() const {
  std::lock_guard lock(m_mutex);
  return m_inFlight;
}

bool ApplyStreamClient::done() const {
  std::lock_guard lock(m_mutex);
  return m_done;
}

}  // namespace depot::client
