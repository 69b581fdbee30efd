#include "client/streams.h"

#include <grpcpp/client_context.h>
#include <grpcpp/support/sync_stream.h>

#include "absl/strings/str_cat.h"
#include "client/status.h"

namespace depot::client {
namespace {

std::int64_t steadyMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A stream that ended by the server's word and that a retry cannot fix.
bool isTerminal(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kUnimplemented:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kDataLoss:
      return true;
    default:
      return false;
  }
}

}  // namespace

// ---------------------------------------------------------------- StreamRunner

StreamRunner::StreamRunner(Client& client, StreamOptions options, StateFn on_state)
    : m_client(client), m_options(std::move(options)), m_onState(std::move(on_state)) {}

StreamRunner::~StreamRunner() {
  // Derived destructors must have called stop(): the thread calls virtuals.
  stop();
}

void StreamRunner::start() {
  if (m_thread.joinable() || m_stop.load()) return;
  m_running.store(true);
  m_lastAlive.store(steadyMillis());
  m_thread = std::thread([this] { loop(); });
  if (m_options.idle_timeout.count() > 0) m_watchdog = std::thread([this] { watchdog(); });
}

void StreamRunner::stop() {
  {
    std::lock_guard lock(m_mutex);
    m_stop.store(true);
    if (m_context) m_context->TryCancel();
  }
  m_wake.notify_all();
  if (m_thread.joinable()) m_thread.join();
  if (m_watchdog.joinable()) m_watchdog.join();
  m_running.store(false);
}

absl::Status StreamRunner::terminalStatus() const {
  std::lock_guard lock(m_mutex);
  return m_terminal;
}

void StreamRunner::setActiveContext(grpc::ClientContext* context) {
  std::lock_guard lock(m_mutex);
  m_context = context;
  if (m_stop.load() && context) context->TryCancel();
}

void StreamRunner::markAlive() {
  m_lastAlive.store(steadyMillis());
  m_gotMessage.store(true);
}

void StreamRunner::reportState(StreamState state, const absl::Status& status) {
  if (m_onState) m_onState(state, status);
}

void StreamRunner::watchdog() {
  const std::int64_t limit = m_options.idle_timeout.count();
  std::unique_lock lock(m_mutex);
  while (!m_stop.load()) {
    m_wake.wait_for(lock, std::chrono::milliseconds(std::min<std::int64_t>(limit / 4 + 1, 500)));
    if (m_stop.load()) break;
    if (m_context && steadyMillis() - m_lastAlive.load() > limit) {
      m_context->TryCancel();  // the loop sees CANCELLED and reconnects
      m_lastAlive.store(steadyMillis());
    }
  }
}

void StreamRunner::loop() {
  const auto initial = m_options.initial_backoff.value_or(m_client.options().initial_backoff);
  const auto maximum = m_options.max_backoff.value_or(m_client.options().max_backoff);
  ClientOptions backoff_options = m_client.options();
  backoff_options.initial_backoff = initial;
  backoff_options.max_backoff = maximum;

  std::size_t endpoint = m_client.preferredEndpoint();
  int failures = 0;
  bool first = true;
  reportState(StreamState::kConnecting, absl::OkStatus());
  while (!m_stop.load()) {
    grpc::ClientContext context;
    {
      std::lock_guard lock(m_mutex);
      if (m_stop.load()) break;
      m_context = &context;
    }
    m_gotMessage.store(false);
    m_lastAlive.store(steadyMillis());
    if (!first) m_reconnects.fetch_add(1);
    first = false;
    CallEnd end = runCall(endpoint, context);
    {
      std::lock_guard lock(m_mutex);
      m_context = nullptr;
    }
    if (m_stop.load()) break;
    if (end.terminal) {
      {
        std::lock_guard lock(m_mutex);
        m_terminal = end.status.ok() ? absl::UnknownError("stream ended") : end.status;
      }
      reportState(StreamState::kStopped, end.status);
      m_running.store(false);
      return;
    }
    if (m_gotMessage.load()) {
      failures = 0;  // the call worked for a while: start the backoff afresh
      m_client.setPreferredEndpoint(endpoint);
    }
    ++failures;
    endpoint = (endpoint + 1) % m_client.endpointCount();
    reportState(
        StreamState::kReconnecting,
        end.status.ok() ? absl::UnavailableError("stream ended by the server") : end.status);
    const auto delay = backoffDelay(backoff_options, failures);
    std::unique_lock lock(m_mutex);
    m_wake.wait_for(lock, delay, [this] { return m_stop.load(); });
  }
  reportState(StreamState::kStopped, absl::OkStatus());
  m_running.store(false);
}

// ---------------------------------------------------------------- LedgerCursor

v1::Cursor LedgerCursor::toProto() const {
  v1::Cursor out;
  out.set_ledger_id(ledger_id);
  out.mutable_seqs()->Reserve(static_cast<int>(seqs.size()));
  for (auto s : seqs) out.add_seqs(s);
  return out;
}

LedgerCursor LedgerCursor::fromProto(const v1::Cursor& cursor) {
  LedgerCursor out;
  out.ledger_id = cursor.ledger_id();
  for (int i = 0; i < cursor.seqs_size() && i < 256; ++i) {
    out.seqs[static_cast<std::size_t>(i)] = cursor.seqs(i);
  }
  return out;
}

// ---------------------------------------------------------------- WatchStream

WatchStream::WatchStream(Client& client, Options options, Callbacks callbacks)
    : StreamRunner(client, options.stream, callbacks.on_state),
      m_opts(std::move(options)),
      m_callbacks(std::move(callbacks)),
      m_watched(256, m_opts.shards.empty()) {
  for (auto s : m_opts.shards) {
    if (s < 256) m_watched[s] = true;
  }
  if (m_opts.from) {
    m_cursor = *m_opts.from;
    m_known.fill(true);
  }
}

WatchStream::~WatchStream() { stop(); }

LedgerCursor WatchStream::cursor() const {
  std::lock_guard lock(m_cursorMutex);
  return m_cursor;
}

absl::Status WatchStream::accept(v1::WatchEvent& event, std::vector<v1::LedgerEntry>& fresh) {
  std::lock_guard lock(m_cursorMutex);
  for (auto& entry : *event.mutable_entries()) {
    const std::uint32_t shard = entry.shard();
    if (shard >= 256) {
      return absl::DataLossError(absl::StrCat("watch: entry with shard ", shard, " >= 256"));
    }
    auto& last = m_cursor.seqs[shard];
    if (entry.seq() <= last) {
      m_duplicates.fetch_add(1);
      continue;
    }
    if (m_known[shard] && entry.seq() != last + 1) {
      return absl::DataLossError(absl::StrCat("watch: gap in shard ", shard, ": expected seq ",
                                              last + 1, ", got ", entry.seq(), "; re-snapshot"));
    }
    last = entry.seq();
    m_known[shard] = true;
    fresh.push_back(std::move(entry));
  }
  if (event.heartbeat()) {
    const std::string& ledger = event.committed().ledger_id();
    if (!ledger.empty()) {
      if (!m_cursor.ledger_id.empty() && m_cursor.ledger_id != ledger) {
        return absl::FailedPreconditionError(
            absl::StrCat("watch: the server's ledger changed from ", m_cursor.ledger_id, " to ",
                         ledger, "; re-snapshot"));
      }
      m_cursor.ledger_id = ledger;
    }
    const auto& position = event.position().seqs();
    if (position.size() == 256) {
      for (std::size_t s = 0; s < 256; ++s) {
        // Adopt the server's position for shards we had no position for
        // (from-now streams); for known shards our own count is the truth.
        if (!m_known[s] && m_watched[s]) {
          m_cursor.seqs[s] = std::max(m_cursor.seqs[s], position[static_cast<int>(s)]);
          m_known[s] = true;
        }
      }
    }
  }
  return absl::OkStatus();
}

StreamRunner::CallEnd WatchStream::runCall(std::size_t endpoint, grpc::ClientContext& context) {
  bool need_ledger = false;
  {
    std::lock_guard lock(m_cursorMutex);
    need_ledger = m_opts.from.has_value() && m_cursor.ledger_id.empty();
  }
  if (need_ledger) {
    // From the start: learn the ledger id from Snapshot(shard 0).
    grpc::ClientContext snapshot_context;
    snapshot_context.set_deadline(std::chrono::system_clock::now() + client().options().deadline);
    setActiveContext(&snapshot_context);
    v1::SnapshotRequest snapshot;
    snapshot.add_shards(0);
    auto chunks = client().inventoryStub(endpoint).Snapshot(&snapshot_context, snapshot);
    v1::SnapshotChunk chunk;
    const bool got = chunks->Read(&chunk);
    snapshot_context.TryCancel();
    const absl::Status finished = fromGrpc(chunks->Finish());
    setActiveContext(&context);
    if (!got || chunk.ledger_id().empty()) {
      const absl::Status status = !finished.ok() && finished.code() != absl::StatusCode::kCancelled
                                      ? finished
                                      : absl::UnavailableError("watch: snapshot sent no ledger id");
      if (!stopping() && isTerminal(status.code())) {
        if (m_callbacks.on_error) m_callbacks.on_error(status);
        return {status, true};
      }
      return {status, false};
    }
    std::lock_guard lock(m_cursorMutex);
    m_cursor.ledger_id = chunk.ledger_id();
  }

  v1::WatchRequest request;
  {
    std::lock_guard lock(m_cursorMutex);
    bool resumable = !m_cursor.ledger_id.empty() || m_opts.from.has_value();
    if (resumable) {
      *request.mutable_cursor() = m_cursor.toProto();
    } else {
      // From now, no heartbeat seen yet: positions unknown, ask for "now" again.
      m_known.fill(false);
    }
  }
  for (auto s : m_opts.shards) request.add_shards(s);

  auto reader = client().inventoryStub(endpoint).Watch(&context, request);
  v1::WatchEvent event;
  bool connected = false;
  std::vector<v1::LedgerEntry> fresh;
  while (reader->Read(&event)) {
    markAlive();
    if (!connected) {
      connected = true;
      reportState(StreamState::kConnected, absl::OkStatus());
    }
    fresh.clear();
    // The valid prefix of a batch is delivered even when a later entry is
    // refused, so the cursor never runs ahead of what the consumer has.
    const absl::Status accepted = accept(event, fresh);
    if (!fresh.empty()) {
      m_delivered.fetch_add(fresh.size());
      m_callbacks.on_entries(std::move(fresh));
      fresh = {};
    }
    if (!accepted.ok()) {
      context.TryCancel();
      reader->Finish();
      if (m_callbacks.on_error) m_callbacks.on_error(accepted);
      return {accepted, true};
    }
    if (event.heartbeat() && m_callbacks.on_heartbeat) m_callbacks.on_heartbeat(event);
    event.Clear();
  }
  const absl::Status status = fromGrpc(reader->Finish());
  if (!stopping() && isTerminal(status.code())) {
    if (m_callbacks.on_error) m_callbacks.on_error(status);
    return {status, true};
  }
  return {status, false};
}

// ---------------------------------------------------------------- AlertStream

namespace {
StreamOptions withIdleTimeout(StreamOptions options, std::chrono::milliseconds idle) {
  options.idle_timeout = idle;
  return options;
}
}  // namespace

// Alerts have no heartbeat: a quiet stream is normal, so no idle timeout.
AlertStream::AlertStream(Client& client, bool include_resolved, StreamOptions options,
                         Callbacks callbacks)
    : StreamRunner(client, withIdleTimeout(std::move(options), std::chrono::milliseconds(0)),
                   callbacks.on_state),
      m_includeResolved(include_resolved),
      m_callbacks(std::move(callbacks)) {}

AlertStream::~AlertStream() { stop(); }

StreamRunner::CallEnd AlertStream::runCall(std::size_t endpoint, grpc::ClientContext& context) {
  v1::WatchAlertsRequest request;
  request.set_include_resolved(m_includeResolved);
  auto reader = client().operationsStub(endpoint).WatchAlerts(&context, request);
  v1::AlertEvent event;
  return drain([&] { return reader->Read(&event); },
               [&] {
                 m_callbacks.on_event(event);
                 event.Clear();
               },
               [&] { return reader->Finish(); }, m_callbacks.on_error);
}

// ---------------------------------------------------------------- MetricsStream

// A sample arrives every interval: allow ten missed samples before reopening.
MetricsStream::MetricsStream(Client& client, std::uint32_t interval_ms, StreamOptions options,
                             Callbacks callbacks)
    : StreamRunner(client,
                   withIdleTimeout(options, options.idle_timeout.count() == 0
                                                ? options.idle_timeout
                                                : std::max(options.idle_timeout,
                                                           std::chrono::milliseconds(
                                                               10 * std::max(interval_ms, 1000u)))),
                   callbacks.on_state),
      m_intervalMs(interval_ms),
      m_callbacks(std::move(callbacks)) {}

MetricsStream::~MetricsStream() { stop(); }

StreamRunner::CallEnd MetricsStream::runCall(std::size_t endpoint, grpc::ClientContext& context) {
  v1::WatchMetricsRequest request;
  request.set_interval_ms(m_intervalMs);
  auto reader = client().operationsStub(endpoint).WatchMetrics(&context, request);
  v1::MetricsSample sample;
  return drain([&] { return reader->Read(&sample); },
               [&] {
                 m_callbacks.on_sample(sample);
                 sample.Clear();
               },
               [&] { return reader->Finish(); }, m_callbacks.on_error);
}

StreamRunner::CallEnd StreamRunner::drain(const std::function<bool()>& read,
                                          const std::function<void()>& deliver,
                                          const std::function<grpc::Status()>& finish,
                                          const std::function<void(const absl::Status&)>& on_error) {
  bool connected = false;
  while (read()) {
    markAlive();
    if (!connected) {
      connected = true;
      reportState(StreamState::kConnected, absl::OkStatus());
    }
    deliver();
  }
  const absl::Status status = fromGrpc(finish());
  if (!stopping() && isTerminal(status.code())) {
    if (on_error) on_error(status);
    return {status, true};
  }
  return {status, false};
}

}  // namespace depot::client
