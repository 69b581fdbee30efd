// Long-lived server streams that survive server restarts and failover:
// WatchStream (the ledger), AlertStream (alerts) and MetricsStream (live
// metrics). Each runs its call on its own thread and reconnects on failure —
// to the next endpoint, after an exponential backoff with jitter — until
// stopped or until the server gives an answer that a retry cannot change.
//
// Callbacks run on the stream's thread, one at a time, in order. They must
// not block for long (hand the data to a queue) and must not call stop() on
// their own stream.
//
// Lifetime: the Client must outlive the stream. The destructor stops.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "client/client.h"

namespace depot::client {

enum class StreamState {
  kConnecting,    // opening a call (first time)
  kConnected,     // the server has sent the first message of this call
  kReconnecting,  // the call failed; waiting to retry (status says why)
  kStopped,       // stop() was called, or a terminal error was reported
};

struct StreamOptions {
  // Reconnect backoff; defaults to the client's initial/max backoff.
  std::optional<std::chrono::milliseconds> initial_backoff;
  std::optional<std::chrono::milliseconds> max_backoff;
  // A call that delivers nothing for this long is cancelled and reopened
  // (a hung server or a half-open connection). 0: never. Watch sends a
  // heartbeat every second, so 15 s is generous.
  std::chrono::milliseconds idle_timeout{15000};
};

// Shared machinery: thread, cancellation, reconnect loop, idle watchdog.
class StreamRunner {
 public:
  using StateFn = std::function<void(StreamState, const absl::Status&)>;
  virtual ~StreamRunner();
  StreamRunner(const StreamRunner&) = delete;
  StreamRunner& operator=(const StreamRunner&) = delete;

  // Starts the thread. Call once.
  void start();
  // Cancels the call in progress, wakes any backoff sleep and joins; returns
  // within about the time a cancelled call takes to unwind (milliseconds).
  // Idempotent. Must not be called from a callback of this stream.
  void stop();
  bool running() const { return m_running.load(); }
  // The terminal error, if the stream ended by itself (OK otherwise).
  absl::Status terminalStatus() const;
  // Number of calls opened after the first (reconnects).
  std::uint64_t reconnects() const { return m_reconnects.load(); }

 protected:
  StreamRunner(Client& client, StreamOptions options, StateFn on_state);

  // One call on `endpoint`: open it with `context` and read until it ends.
  // Call markAlive() after each message. Return the call's final status;
  // return a status with terminal = true to stop for good.
  struct CallEnd {
    absl::Status status;
    bool terminal = false;  // do not reconnect; report `status` as terminal
  };
  virtual CallEnd runCall(std::size_t endpoint, grpc::ClientContext& context) = 0;

  // Makes `context` the call stop() and the watchdog cancel (a runCall that
  // makes a preliminary call registers its context, then the stream's again).
  // Cancels it at once when stopping.
  void setActiveContext(grpc::ClientContext* context);
  void markAlive();  // a message arrived (resets idle watchdog and backoff)
  void reportState(StreamState state, const absl::Status& status);
  Client& client() { return m_client; }
  bool stopping() const { return m_stop.load(); }
  // The common body of a server-streaming runCall: `read` fetches the next
  // message (false at the end), `deliver` hands it on; the first message
  // reports kConnected, every message marks the stream alive. The end status
  // (from `finish`) is terminal for codes that a retry cannot fix, which are
  // also passed to `on_error`.
  CallEnd drain(const std::function<bool()>& read, const std::function<void()>& deliver,
                const std::function<grpc::Status()>& finish,
                const std::function<void(const absl::Status&)>& on_error);

 private:
  void loop();
  void watchdog();

  Client& m_client;
  const StreamOptions m_options;
  StateFn m_onState;
  std::thread m_thread;
  std::thread m_watchdog;
  std::atomic<bool> m_stop{false};
  std::atomic<bool> m_running{false};
  std::atomic<std::uint64_t> m_reconnects{0};
  std::atomic<std::int64_t> m_lastAlive{0};  // steady clock, ms
  std::atomic<bool> m_gotMessage{false};     // in the current call
  mutable std::mutex m_mutex;
  std::condition_variable m_wake;
  grpc::ClientContext* m_context = nullptr;  // guarded by m_mutex: the call in progress
  absl::Status m_terminal;                   // guarded by m_mutex
};

// A position in the ledger: last seq seen per shard, and the ledger it
// belongs to. Thread-safe copies come from WatchStream::cursor().
struct LedgerCursor {
  std::string ledger_id;  // empty: not known yet
  std::array<std::uint64_t, 256> seqs{};
  v1::Cursor toProto() const;
  static LedgerCursor fromProto(const v1::Cursor& cursor);
};

// Inventory.Watch with exactly-once, in-order-per-shard delivery across
// reconnects: the stream keeps the cursor (last seq delivered per shard,
// plus the ledger id from heartbeats), resumes from it, and drops anything at
// or below it. A gap (seq > last + 1 for a shard whose position is known) or
// FAILED_PRECONDITION from the server (cursor from another ledger: the caller
// must re-snapshot) is terminal and goes to on_error; so are
// INVALID_ARGUMENT and other answers a retry cannot change. Transport
// failures and server shutdown (UNAVAILABLE, CANCELLED not by us, a stream
// that ended OK) reconnect.
//
// From the start (a cursor of zeros without a ledger id): the server requires
// the ledger id with any cursor, so the stream first reads it from the first
// chunk of Snapshot(shard 0).
//
// From now (no cursor): the position of shards with no event yet is learnt
// from the first heartbeat; if the call fails before any heartbeat, the
// stream resumes "from now" again, so events committed in that window may be
// missed (they are never duplicated).
class WatchStream final : public StreamRunner {
 public:
  struct Options {
    std::optional<LedgerCursor> from;   // nullopt: from now
    std::vector<std::uint32_t> shards;  // empty: all
    StreamOptions stream;
  };
  struct Callbacks {
    // Entries never seen before, in seq order per shard. Required.
    std::function<void(std::vector<v1::LedgerEntry>&& entries)> on_entries;
    // Heartbeats (committed seqs per shard, for lag). Optional.
    std::function<void(const v1::WatchEvent& heartbeat)> on_heartbeat;
    StateFn on_state;                                   // optional
    std::function<void(const absl::Status&)> on_error;  // terminal; optional
  };

  WatchStream(Client& client, Options options, Callbacks callbacks);
  ~WatchStream() override;

  LedgerCursor cursor() const;
  std::uint64_t delivered() const { return m_delivered.load(); }
  std::uint64_t duplicatesDropped() const { return m_duplicates.load(); }

 private:
  CallEnd runCall(std::size_t endpoint, grpc::ClientContext& context) override;
  // Filters one event against the cursor. Non-OK: terminal.
  absl::Status accept(v1::WatchEvent& event, std::vector<v1::LedgerEntry>& fresh);

  const Options m_opts;
  Callbacks m_callbacks;
  mutable std::mutex m_cursorMutex;
  LedgerCursor m_cursor;            // guarded by m_cursorMutex
  std::array<bool, 256> m_known{};  // stream thread only: position of shard known
  std::vector<bool> m_watched;      // shards watched
  std::atomic<std::uint64_t> m_delivered{0};
  std::atomic<std::uint64_t> m_duplicates{0};
};

// Operations.WatchAlerts. After every (re)connect the server replays the
// current alerts (initial = true) and then initial_complete: a consumer
// should treat an initial replay as the full state (replace, not merge).
class AlertStream final : public StreamRunner {
 public:
  struct Callbacks {
    std::function<void(const v1::AlertEvent& event)> on_event;  // required
    StateFn on_state;
    std::function<void(const absl::Status&)> on_error;
  };
  AlertStream(Client& client, bool include_resolved, StreamOptions options, Callbacks callbacks);
  ~AlertStream() override;

 private:
  CallEnd runCall(std::size_t endpoint, grpc::ClientContext& context) override;
  const bool m_includeResolved;
  Callbacks m_callbacks;
};

// Operations.WatchMetrics: one sample per interval.
class MetricsStream final : public StreamRunner {
 public:
  struct Callbacks {
    std::function<void(const v1::MetricsSample& sample)> on_sample;  // required
    StateFn on_state;
    std::function<void(const absl::Status&)> on_error;
  };
  MetricsStream(Client& client, std::uint32_t interval_ms, StreamOptions options,
                Callbacks callbacks);
  ~MetricsStream() override;

 private:
  CallEnd runCall(std::size_t endpoint, grpc::ClientContext& context) override;
  const std::uint32_t m_intervalMs;
  Callbacks m_callbacks;
};

}  // namespace depot::client
