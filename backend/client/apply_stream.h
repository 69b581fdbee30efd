// ApplyStreamClient: one Inventory.ApplyStream call with many messages in
// flight, for load generators. Messages are queued by send() and written one
// at a time (gRPC allows one outstanding write); responses are read
// continuously and handed to `on_response` with their tag.
//
// Contract:
// - No retries: when the call ends (server shutdown, cancel, transport
//   failure), the messages without a response are lost to this stream and
//   wait() reports the call's status. A load generator counts them.
// - The caller chooses the tags (ApplyStreamRequest.tag) and bounds its own
//   in-flight count with inFlight(); send() never blocks. The server stops
//   reading at 20,000 movements in flight per stream, so messages beyond
//   that wait in this queue or in HTTP/2 flow control.
// - on_response runs on a gRPC callback thread, one at a time, in arrival
//   order; it may call send(). It must not block.
// - `service` as in AsyncOptions (async_inventory.h): the echo ceiling serves
//   ApplyStream under another service name.
//
// Lifetime: start() once; then send()/closeSend(); the destructor cancels
// the call if it is still open and waits (bounded) for it to end.
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/support/client_callback.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "depot/v1/inventory.pb.h"

namespace depot::client {

namespace v1 = ::depot::v1;

class ApplyStreamClient final
    : public grpc::ClientBidiReactor<v1::ApplyStreamRequest, v1::ApplyStreamResponse> {
 public:
  using OnResponse = std::function<void(const v1::ApplyStreamResponse& response)>;

  ApplyStreamClient(std::shared_ptr<grpc::Channel> channel, std::string service,
                    OnResponse on_response);
  ~ApplyStreamClient() override;
  ApplyStreamClient(const ApplyStreamClient&) = delete;
  ApplyStreamClient& operator=(const ApplyStreamClient&) = delete;

  void start();
  // Queues one message. False (and nothing queued) once the call has ended
  // or closeSend() was called.
  bool send(v1::ApplyStreamRequest request);
  // Half-closes after the queued messages are written.
  void closeSend();
  // Cancels the call (responses still in flight are dropped).
  void cancel();
  // Waits until the call has ended, at most `max`; its final status, or
  // DEADLINE_EXCEEDED when it has not ended in time.
  absl::Status wait(std::chrono::milliseconds max);
  // Messages sent (queued or written) whose response has not arrived.
  std::size_t inFlight() const;
  bool done() const;

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnWritesDoneDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  void writeNextLocked();

  std::shared_ptr<grpc::Channel> m_channel;
  const std::string m_method;
  OnResponse m_onResponse;
  grpc::ClientContext m_context;
  v1::ApplyStreamResponse m_response;  // read buffer, reader side only
  mutable std::mutex m_mutex;
  std::condition_variable m_doneCv;
  std::deque<v1::ApplyStreamRequest> m_queue;  // guarded; front is being written when m_writing
  std::size_t m_inFlight = 0;                  // guarded
  bool m_started = false;                      // guarded
  bool m_writing = false;                      // guarded
  bool m_wroteOnce = false;                    // guarded: the first write (never hinted) was issued
  bool m_closing = false;                      // guarded: closeSend() called
  bool m_writesDone = false;                   // guarded: StartWritesDone issued
  bool m_done = false;                         // guarded: OnDone ran
  grpc::Status m_status;                       // guarded
};

}  // namespace depot::client
