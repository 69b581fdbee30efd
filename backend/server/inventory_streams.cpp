// Inventory's streaming reactors. Each owns itself (see stream_registry.h
// for the lifetime rule), never blocks except for bounded store reads, and
// keeps at most one write outstanding.
#include "server/inventory_streams.h"

#include <deque>

#include "server/cluster_router.h"
#include "server/convert.h"
#include "server/log.h"
#include "server/status.h"
#include "server/str.h"

namespace depot::server {
namespace {

const grpc::Status kShuttingDown(grpc::StatusCode::UNAVAILABLE, "server shutting down");
constexpr std::size_t kRowsPerChunk = 1000;
constexpr std::size_t kEntriesPerEvent = 1000;
constexpr std::size_t kMaxQueuedMessages = 256;  // per ApplyStream, in core or awaiting write

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// ---------------------------------------------------------------- ApplyStream
//
// Flow control: a new message is read only while the movements in flight
// (in the core, or answered but not yet written) stay within
// env.apply_stream_max_in_flight after adding a maximal message, and fewer
// than kMaxQueuedMessages messages are pending. A slow reader therefore
// stops the server reading, and HTTP/2 flow control pushes back on the
// client. Responses are written in completion order, one write at a time.
class ApplyStreamReactor final
    : public grpc::ServerBidiReactor<v1::ApplyStreamRequest, v1::ApplyStreamResponse>,
      public StreamBase {
 public:
  explicit ApplyStreamReactor(ServiceEnv& env) : m_env(env) {
    if (!m_env.streams.add(this)) {
      m_finished = true;
      Finish(kShuttingDown);
      return;
    }
    m_registered = true;
    std::lock_guard lock(m_mutex);
    maybeReadLocked();
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      std::lock_guard lock(m_mutex);
      m_reading = false;
      m_readsDone = true;
      maybeFinishLocked();
      return;
    }
    const auto start = std::chrono::steady_clock::now();
    const std::uint64_t tag = m_request.tag();
    const auto n = static_cast<std::size_t>(m_request.movements_size());
    absl::Status refusal;
    std::vector<MovementRequest> movements;
    std::vector<std::string> ids;
    if (n == 0 || n > kMaxBatchMovements) {
      refusal = fieldError("movements", strCat("1..", kMaxBatchMovements, " required, got ", n));
    } else {
      auto converted = fromProto(m_request.movements(), "movements");
      if (!converted.ok()) {
        refusal = converted.status();
      } else {
        movements = std::move(*converted);
        ids.reserve(n);
        for (const auto& m : movements) ids.push_back(m.request_id);
      }
    }
    if (!refusal.ok()) {
      v1::ApplyStreamResponse resp;
      resp.set_tag(tag);
      resp.set_code(static_cast<std::int32_t>(refusal.code()));
      resp.set_message(std::string(refusal.message()));
      std::lock_guard lock(m_mutex);
      m_reading = false;
      ++m_queuedMessages;
      m_out.push_back(Pending{std::move(resp), 0});
      writeNextLocked();
      maybeReadLocked();
      return;
    }
    {
      std::lock_guard lock(m_mutex);
      m_reading = false;
      m_inFlight += n;
      ++m_inCore;
      ++m_queuedMessages;
    }
    // Called without m_mutex: the core may answer inline on this thread.
    auto handle = [this, tag, n, start,
                   ids = std::move(ids)](absl::StatusOr<std::vector<MovementResult>> results) {
      onResults(tag, n, start, ids, std::move(results));
    };
    // The stream's own in-flight bound is its admission control (it stops
    // reading), so the writers' time-based bound does not refuse it.
    if (m_env.router)
      m_env.router->apply(std::move(movements), /*linked=*/false, std::move(handle),
                          /*flow_controlled=*/true);
    else
      m_env.core.apply(std::move(movements), /*linked=*/false, std::move(handle),
                       /*flow_controlled=*/true);
    std::lock_guard lock(m_mutex);
    maybeReadLocked();
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(m_mutex);
    m_writing = false;
    m_inFlight -= m_out.front().movements;
    --m_queuedMessages;
    m_out.pop_front();
    if (!ok) {
      // The client is gone: drop what is queued; wait for the core.
      m_broken = true;
      for (const auto& p : m_out) m_inFlight -= p.movements;
      m_queuedMessages -= m_out.size();
      m_out.clear();
    }
    writeNextLocked();
    maybeReadLocked();
    maybeFinishLocked();
  }

  void OnCancel() override {
    std::lock_guard lock(m_mutex);
    m_cancelled = true;
    maybeFinishLocked();
  }

  void OnDone() override {
    if (m_registered) m_env.streams.remove(this);
    markDone();
  }

  void stopForShutdown() override {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
    maybeFinishLocked();
  }

 private:
  struct Pending {
    v1::ApplyStreamResponse response;
    std::size_t movements;
  };

  void onResults(std::uint64_t tag, std::size_t n, std::chrono::steady_clock::time_point start,
                 const std::vector<std::string>& ids,
                 absl::StatusOr<std::vector<MovementResult>> results) {
    v1::ApplyStreamResponse resp;
    resp.set_tag(tag);
    if (!results.ok()) {
      resp.set_code(static_cast<std::int32_t>(results.status().code()));
      resp.set_message(std::string(results.status().message()));
    } else {
      resp.mutable_results()->Reserve(static_cast<int>(results->size()));
      for (std::size_t i = 0; i < results->size(); ++i) {
        toProto((*results)[i], i < ids.size() ? ids[i] : std::string(), resp.add_results());
      }
    }
    m_env.metrics.observe(Rpc::kApplyStream, secondsSince(start));
    std::lock_guard lock(m_mutex);
    --m_inCore;
    if (m_broken || m_finished) {
      m_inFlight -= n;
      --m_queuedMessages;
    } else {
      m_out.push_back(Pending{std::move(resp), n});
      writeNextLocked();
    }
    maybeReadLocked();
    maybeFinishLocked();
  }

  void maybeReadLocked() {
    if (m_reading || m_readsDone || m_finished || m_stopping || m_cancelled || m_broken) return;
    if (m_inFlight + kMaxBatchMovements >
        std::max(m_env.apply_stream_max_in_flight, kMaxBatchMovements)) {
      return;
    }
    if (m_queuedMessages >= kMaxQueuedMessages) return;
    m_reading = true;
    m_request.Clear();
    StartRead(&m_request);
  }

  // While more responses wait behind this one, the write carries gRPC's
  // buffer hint: the transport completes it at once and sends it together
  // with the next, so a busy stream costs one sendmsg per run of responses
  // instead of one per response. The last queued response is never hinted,
  // so nothing stays buffered; nor is the first (it carries the initial
  // metadata, and a hinted first write is not flushed: grpc/grpc#12975).
  void writeNextLocked() {
    if (m_writing || m_out.empty() || m_broken || m_finished) return;
    m_writing = true;
    grpc::WriteOptions options;
    if (m_wroteOnce && m_out.size() > 1) options.set_buffer_hint();
    m_wroteOnce = true;
    StartWrite(&m_out.front().response, options);
  }

  void maybeFinishLocked() {
    if (m_finished || m_inCore > 0 || m_writing) return;
    if (m_cancelled || m_broken) {
      m_finished = true;
      Finish(grpc::Status::CANCELLED);
    } else if (m_stopping && m_out.empty()) {
      m_finished = true;
      Finish(kShuttingDown);
    } else if (m_readsDone && m_out.empty()) {
      m_finished = true;
      Finish(grpc::Status::OK);
    }
  }

  ServiceEnv& m_env;
  bool m_registered = false;
  v1::ApplyStreamRequest m_request;  // read buffer; only touched between StartRead and OnReadDone
  // Guarded by m_mutex:
  std::deque<Pending> m_out;
  std::size_t m_inFlight = 0;
  std::size_t m_inCore = 0;
  std::size_t m_queuedMessages = 0;
  bool m_reading = false;
  bool m_writing = false;
  bool m_wroteOnce = false;
  bool m_readsDone = false;
  bool m_stopping = false;
  bool m_cancelled = false;
  bool m_broken = false;
  bool m_finished = false;
};

// ---------------------------------------------------------------- Snapshot
//
// One shard at a time: ask the core for a consistent snapshot, write it in
// chunks of <= kRowsPerChunk rows, then the next shard.
class SnapshotReactor final : public grpc::ServerWriteReactor<v1::SnapshotChunk>,
                              public StreamBase {
 public:
  SnapshotReactor(ServiceEnv& env, const v1::SnapshotRequest& req)
      : m_env(env), m_start(std::chrono::steady_clock::now()) {
    auto shards = shardsFromProto(req.shards(), "shards");
    if (!shards.ok()) {
      m_finished = true;
      Finish(toGrpcStatus(shards.status()));
      return;
    }
    if (shards->empty()) {
      for (ShardId s = 0; s < kShardCount; ++s) shards->push_back(s);
    }
    m_shards = std::move(*shards);
    if (!m_env.streams.add(this)) {
      m_finished = true;
      Finish(kShuttingDown);
      return;
    }
    m_registered = true;
    m_ledgerId = m_env.core.ledgerId();
    requestShard();
  }

  void OnWriteDone(bool ok) override {
    std::unique_lock lock(m_mutex);
    m_writing = false;
    if (!ok) {
      finishLocked(grpc::Status::CANCELLED);
      return;
    }
    if (m_finished || m_finishPending) {
      if (m_finishPending) finishLocked(m_pendingStatus);
      return;
    }
    if (m_offset < m_current.rows.size()) {
      writeChunkLocked();
      return;
    }
    ++m_index;
    lock.unlock();
    requestShard();
  }

  void OnCancel() override {
    std::lock_guard lock(m_mutex);
    finishLocked(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    if (m_registered) m_env.streams.remove(this);
    markDone();
  }

  void stopForShutdown() override {
    std::lock_guard lock(m_mutex);
    finishLocked(kShuttingDown);
  }

 private:
  // Called without m_mutex held (the core may answer inline).
  void requestShard() {
    {
      std::lock_guard lock(m_mutex);
      if (m_finished || m_finishPending) return;
      if (m_index >= m_shards.size()) {
        m_env.metrics.observe(Rpc::kSnapshot, secondsSince(m_start));
        finishLocked(grpc::Status::OK);
        return;
      }
      retainLocked();
    }
    m_env.core.snapshot(m_shards[m_index], [this](absl::StatusOr<ShardSnapshot> snap) {
      {
        std::lock_guard lock(m_mutex);
        if (!m_finished && !m_finishPending) {
          if (!snap.ok()) {
            finishLocked(toGrpcStatus(snap.status()));
          } else {
            m_current = std::move(*snap);
            m_offset = 0;
            writeChunkLocked();
          }
        }
      }
      release();
    });
  }

  void writeChunkLocked() {
    m_chunk.Clear();
    m_chunk.set_shard(m_current.shard);
    m_chunk.set_seq(m_current.seq);
    m_chunk.set_ledger_id(m_ledgerId);
    m_chunk.set_from_standby(m_current.freshness.from_standby);
    m_chunk.set_staleness_ms(m_current.freshness.staleness_ms);
    const std::size_t end = std::min(m_current.rows.size(), m_offset + kRowsPerChunk);
    m_chunk.mutable_rows()->Reserve(static_cast<int>(end - m_offset));
    for (std::size_t i = m_offset; i < end; ++i) toProto(m_current.rows[i], m_chunk.add_rows());
    m_offset = end;
    m_chunk.set_last_of_shard(end >= m_current.rows.size());
    if (m_chunk.last_of_shard()) {
      m_current.rows.clear();
      m_current.rows.shrink_to_fit();
      m_offset = 0;
    }
    m_writing = true;
    StartWrite(&m_chunk);
  }

  void finishLocked(const grpc::Status& status) {
    if (m_finished) return;
    if (m_writing) {  // finish once the outstanding write completes
      if (!m_finishPending) {
        m_finishPending = true;
        m_pendingStatus = status;
      }
      return;
    }
    m_finished = true;
    Finish(status);
  }

  ServiceEnv& m_env;
  const std::chrono::steady_clock::time_point m_start;
  bool m_registered = false;
  std::string m_ledgerId;
  std::vector<ShardId> m_shards;
  // Guarded by m_mutex:
  std::size_t m_index = 0;
  ShardSnapshot m_current;
  std::size_t m_offset = 0;
  v1::SnapshotChunk m_chunk;
  bool m_writing = false;
  bool m_finished = false;
  bool m_finishPending = false;
  grpc::Status m_pendingStatus;
};

// ---------------------------------------------------------------- Watch
//
// Driven by the WatchSession: pump() drains up to kEntriesPerEvent entries
// per write; when caught up it arms notifyWhenReady(), whose callback (on a
// publishing engine thread) only posts pump() to the executor. A timer sets
// a heartbeat due every env.heartbeat; heartbeats go out between batches.
class WatchReactor final : public grpc::ServerWriteReactor<v1::WatchEvent>, public StreamBase {
 public:
  WatchReactor(ServiceEnv& env, const v1::WatchRequest& req) : m_env(env) {
    auto session = subscribe(req);
    if (!session.ok()) {
      m_finished = true;
      Finish(toGrpcStatus(session.status()));
      return;
    }
    m_session = std::move(*session);
    if (!m_env.streams.add(this)) {
      m_finished = true;
      Finish(kShuttingDown);
      return;
    }
    m_registered = true;
    std::lock_guard lock(m_mutex);
    // The first message is a heartbeat: a from-now client learns its starting
    // position (and the ledger id) before any entry, so it can resume from it.
    m_heartbeatDue = true;
    armHeartbeatLocked();
    schedulePumpLocked();
  }

  ~WatchReactor() override { m_session.reset(); }

  void OnWriteDone(bool ok) override {
    {
      std::lock_guard lock(m_mutex);
      m_writing = false;
      if (!ok) {
        m_finishPending = false;
        finishLocked(grpc::Status::CANCELLED);
        return;
      }
      if (m_finishPending) {
        finishLocked(m_pendingStatus);
        return;
      }
    }
    pump();
  }

  void OnCancel() override {
    std::lock_guard lock(m_mutex);
    finishLocked(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    if (m_registered) m_env.streams.remove(this);
    markDone();
  }

  void stopForShutdown() override {
    std::lock_guard lock(m_mutex);
    finishLocked(kShuttingDown);
  }

 private:
  absl::StatusOr<std::unique_ptr<WatchSession>> subscribe(const v1::WatchRequest& req) {
    auto shards = shardsFromProto(req.shards(), "shards");
    if (!shards.ok()) return shards.status();
    const auto& c = req.cursor();
    if (c.seqs_size() != 0 && c.seqs_size() != static_cast<int>(kShardCount)) {
      return fieldError("cursor.seqs",
                        strCat("must have 0 or ", kShardCount, " entries, got ", c.seqs_size()));
    }
    const std::string ledger = m_env.core.ledgerId();
    if (!c.ledger_id().empty() && c.ledger_id() != ledger) {
      return absl::FailedPreconditionError(
          strCat("cursor.ledger_id: cursor is from another ledger ('", c.ledger_id(),
                 "', this is '", ledger, "'): re-snapshot"));
    }
    if (c.seqs_size() > 0 && c.ledger_id().empty()) {
      return fieldError("cursor.ledger_id", "required when cursor.seqs is set");
    }
    Cursor from = m_env.core.events().committed();  // empty cursor: from now
    if (c.seqs_size() > 0) {
      for (ShardId s = 0; s < kShardCount; ++s) from[s] = c.seqs(static_cast<int>(s));
    }
    auto session = m_env.core.events().subscribe(from, std::move(*shards));
    if (!session.ok() && session.status().code() == absl::StatusCode::kFailedPrecondition &&
        session.status().message().find("re-snapshot") == std::string_view::npos) {
      return absl::FailedPreconditionError(
          strCat("cursor: ", session.status().message(), ": re-snapshot"));
    }
    return session;
  }

  // Runs on an executor thread or in OnWriteDone; never with m_mutex held.
  void pump() {
    std::lock_guard lock(m_mutex);
    if (m_finished || m_finishPending || m_writing) return;
    m_event.Clear();
    if (m_heartbeatDue) {
      m_heartbeatDue = false;
      fillHeartbeatLocked();
      m_writing = true;
      StartWrite(&m_event);
      return;
    }
    m_buffer.clear();
    absl::Status st = m_session->next(kEntriesPerEvent, m_buffer);
    if (!st.ok()) {
      logWarn("watch_failed").kv("error", st.ToString());
      finishLocked(toGrpcStatus(st));
      return;
    }
    if (!m_buffer.empty()) {
      const Catalog& catalog = m_env.core.catalog();
      m_event.mutable_entries()->Reserve(static_cast<int>(m_buffer.size()));
      for (const auto& e : m_buffer) toProto(e, catalog, m_event.add_entries());
      m_event.set_at_us(m_env.clock.now());
      m_writing = true;
      StartWrite(&m_event);
      return;
    }
    if (!m_notifyArmed) {
      m_notifyArmed = true;
      retainLocked();
      // May run at once on this thread: the callback only posts.
      m_session->notifyWhenReady([this] {
        m_env.executor.post([this] {
          {
            std::lock_guard lock(m_mutex);
            m_notifyArmed = false;
          }
          pump();
          release();
        });
      });
    }
  }

  void fillHeartbeatLocked() {
    m_event.set_heartbeat(true);
    m_event.set_at_us(m_env.clock.now());
    const std::string ledger = m_env.core.ledgerId();
    auto* committed = m_event.mutable_committed();
    committed->set_ledger_id(ledger);
    for (Seq s : m_env.core.events().committed()) committed->add_seqs(s);
    auto* position = m_event.mutable_position();
    position->set_ledger_id(ledger);
    for (Seq s : m_session->cursor()) position->add_seqs(s);
  }

  void schedulePumpLocked() {
    retainLocked();
    m_env.executor.post([this] {
      pump();
      release();
    });
  }

  void armHeartbeatLocked() {
    retainLocked();
    m_timerArmed = true;
    m_timer = m_env.executor.postAfter(m_env.heartbeat, [this] {
      {
        std::lock_guard lock(m_mutex);
        m_timerArmed = false;
        if (!m_finished && !m_finishPending) {
          m_heartbeatDue = true;
          armHeartbeatLocked();
          if (!m_writing) schedulePumpLocked();
        }
      }
      release();
    });
  }

  void finishLocked(const grpc::Status& status) {
    if (m_finished) return;
    if (!m_cancelledSession) {
      m_cancelledSession = true;
      m_session->cancel();  // releases a pending notifyWhenReady
    }
    if (m_timerArmed && m_env.executor.cancel(m_timer)) {
      m_timerArmed = false;
      dropRefLocked();  // the timer task will never run
    }
    if (m_writing) {
      if (!m_finishPending) {
        m_finishPending = true;
        m_pendingStatus = status;
      }
      return;
    }
    m_finished = true;
    Finish(status);
  }

  ServiceEnv& m_env;
  bool m_registered = false;
  std::unique_ptr<WatchSession> m_session;
  // Guarded by m_mutex:
  v1::WatchEvent m_event;
  std::vector<LedgerEntry> m_buffer;
  Executor::TimerId m_timer = 0;
  bool m_timerArmed = false;
  bool m_notifyArmed = false;
  bool m_heartbeatDue = false;
  bool m_writing = false;
  bool m_finished = false;
  bool m_finishPending = false;
  bool m_cancelledSession = false;
  grpc::Status m_pendingStatus;
};

}  // namespace

grpc::ServerBidiReactor<v1::ApplyStreamRequest, v1::ApplyStreamResponse>* newApplyStreamReactor(
    ServiceEnv& env) {
  return new ApplyStreamReactor(env);
}

grpc::ServerWriteReactor<v1::SnapshotChunk>* newSnapshotReactor(ServiceEnv& env,
                                                                const v1::SnapshotRequest& req) {
  return new SnapshotReactor(env, req);
}

grpc::ServerWriteReactor<v1::WatchEvent>* newWatchReactor(ServiceEnv& env,
                                                          const v1::WatchRequest& req) {
  return new WatchReactor(env, req);
}

}  // namespace depot::server
