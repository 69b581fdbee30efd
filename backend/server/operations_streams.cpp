// Operations' streaming reactors: WatchAlerts (AlertManager listener) and
// WatchMetrics (executor timer sampling Stats). Lifetime per
// stream_registry.h; at most one write outstanding.
#include <deque>
#include <memory>

#include "server/convert.h"
#include "server/operations_service.h"
#include "server/status.h"
#include "server/str.h"

namespace depot::server {
namespace {

const grpc::Status kShuttingDown(grpc::StatusCode::UNAVAILABLE, "server shutting down");
constexpr std::size_t kMaxQueuedAlerts = 10000;

// A write reactor that sends a queue of messages, one write at a time, and
// finishes after the outstanding write when asked to.
template <typename Message>
class QueuedWriter : public grpc::ServerWriteReactor<Message>, public StreamBase {
 public:
  void OnWriteDone(bool ok) override {
    std::lock_guard lock(m_mutex);
    m_writing = false;
    if (!m_queue.empty()) m_queue.pop_front();
    if (!ok) {
      m_finishPending = false;
      finishLocked(grpc::Status::CANCELLED);
      return;
    }
    if (m_finishPending) {
      finishLocked(m_pendingStatus);
      return;
    }
    writeNextLocked();
  }

  void OnCancel() override {
    std::lock_guard lock(m_mutex);
    finishLocked(grpc::Status::CANCELLED);
  }

  void stopForShutdown() override {
    std::lock_guard lock(m_mutex);
    finishLocked(kShuttingDown);
  }

 protected:
  void enqueueLocked(Message message) {
    m_queue.push_back(std::move(message));
    writeNextLocked();
  }
  void writeNextLocked() {
    if (m_writing || m_finished || m_finishPending || m_queue.empty()) return;
    m_writing = true;
    this->StartWrite(&m_queue.front());
  }
  void finishLocked(const grpc::Status& status) {
    if (m_finished) return;
    onFinishingLocked();
    if (m_writing) {
      if (!m_finishPending) {
        m_finishPending = true;
        m_pendingStatus = status;
      }
      return;
    }
    m_finished = true;
    this->Finish(status);
  }
  virtual void onFinishingLocked() {}

  // Guarded by m_mutex:
  std::deque<Message> m_queue;  // front() is being written while m_writing
  bool m_writing = false;
  bool m_finished = false;
  bool m_finishPending = false;
  grpc::Status m_pendingStatus;
};

// ---------------------------------------------------------------- WatchAlerts
//
// The AlertManager may call a listener concurrently with unsubscribe(), so
// the listener reaches the reactor through a Mailbox whose pointer OnDone
// clears (under the mailbox lock) before the reactor can be deleted.
class WatchAlertsReactor final : public QueuedWriter<v1::AlertEvent> {
 public:
  struct Mailbox {
    std::mutex mutex;
    WatchAlertsReactor* target = nullptr;  // guarded by mutex
  };

  WatchAlertsReactor(ServiceEnv& env, const v1::WatchAlertsRequest& req) : m_env(env) {
    if (!m_env.streams.add(this)) {
      m_finished = true;
      Finish(kShuttingDown);
      return;
    }
    m_registered = true;
    m_mailbox = std::make_shared<Mailbox>();
    m_mailbox->target = this;
    // Subscribe first, then list: changes in between are buffered in
    // m_early and sent after the initial list (a change may repeat an
    // initial alert; clients upsert by id).
    m_handle = m_env.core.alerts().subscribe([mailbox = m_mailbox](const Alert& alert) {
      std::lock_guard lock(mailbox->mutex);
      if (mailbox->target != nullptr) mailbox->target->onAlert(alert);
    });
    const auto initial = m_env.core.alerts().list(req.include_resolved());
    std::lock_guard lock(m_mutex);
    for (const auto& a : initial) {
      v1::AlertEvent e;
      toProto(a, e.mutable_alert());
      e.set_initial(true);
      enqueueLocked(std::move(e));
    }
    v1::AlertEvent marker;
    marker.set_initial_complete(true);
    enqueueLocked(std::move(marker));
    m_initialSent = true;
    for (auto& e : m_early) enqueueLocked(std::move(e));
    m_early.clear();
  }

  void OnDone() override {
    if (m_mailbox) {
      {
        std::lock_guard lock(m_mailbox->mutex);
        m_mailbox->target = nullptr;
      }
      m_env.core.alerts().unsubscribe(m_handle);
    }
    if (m_registered) m_env.streams.remove(this);
    markDone();
  }

 private:
  void onAlert(const Alert& alert) {
    std::lock_guard lock(m_mutex);
    if (m_finished || m_finishPending) return;
    if (m_queue.size() + m_early.size() >= kMaxQueuedAlerts) {
      finishLocked(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                "alert stream: client too slow, reconnect"));
      return;
    }
    v1::AlertEvent e;
    toProto(alert, e.mutable_alert());
    if (m_initialSent) {
      enqueueLocked(std::move(e));
    } else {
      m_early.push_back(std::move(e));
    }
  }

  ServiceEnv& m_env;
  bool m_registered = false;
  std::shared_ptr<Mailbox> m_mailbox;
  int m_handle = 0;
  // Guarded by m_mutex:
  bool m_initialSent = false;
  std::vector<v1::AlertEvent> m_early;
};

// ---------------------------------------------------------------- WatchMetrics
//
// Every interval: rates from counter deltas, latency percentiles from the
// histogram difference over the interval. A sample due while the previous
// one is still being written is skipped (the next covers both intervals).
class WatchMetricsReactor final : public QueuedWriter<v1::MetricsSample> {
 public:
  WatchMetricsReactor(ServiceEnv& env, const v1::WatchMetricsRequest& req) : m_env(env) {
    const std::uint32_t ms = req.interval_ms() == 0 ? 1000 : req.interval_ms();
    if (ms < 100 || ms > 60000) {
      m_finished = true;
      Finish(toGrpcStatus(fieldError("interval_ms", "must be between 100 and 60000 (0: 1000)")));
      return;
    }
    m_interval = std::chrono::milliseconds(ms);
    if (!m_env.streams.add(this)) {
      m_finished = true;
      Finish(kShuttingDown);
      return;
    }
    m_registered = true;
    std::lock_guard lock(m_mutex);
    m_last = takeTotals();
    armLocked();
  }

  void OnDone() override {
    if (m_registered) m_env.streams.remove(this);
    markDone();
  }

 private:
  struct Totals {
    std::chrono::steady_clock::time_point at;
    std::uint64_t movements = 0;
    std::uint64_t rejections = 0;
    std::uint64_t commits = 0;
    Histogram::Snapshot command;
    Histogram::Snapshot batch;
  };

  Totals takeTotals() const {
    Stats& stats = m_env.core.stats();
    Totals t;
    t.at = std::chrono::steady_clock::now();
    for (const auto& c : stats.movements) t.movements += c.load(std::memory_order_relaxed);
    for (const auto& c : stats.rejections) t.rejections += c.load(std::memory_order_relaxed);
    t.commits = stats.commits.load(std::memory_order_relaxed);
    t.command = stats.command_seconds.snapshot();
    t.batch = stats.commit_batch_size.snapshot();
    return t;
  }

  void armLocked() {
    retainLocked();
    m_timerArmed = true;
    m_timer = m_env.executor.postAfter(m_interval, [this] {
      {
        std::lock_guard lock(m_mutex);
        m_timerArmed = false;
        if (!m_finished && !m_finishPending) {
          sampleLocked();
          armLocked();
        }
      }
      release();
    });
  }

  void sampleLocked() {
    if (m_writing) return;  // skip: the next sample covers this interval too
    Totals now = takeTotals();
    const double secs = std::max(1e-6, std::chrono::duration<double>(now.at - m_last.at).count());
    const auto command = now.command.minus(m_last.command);
    const auto batch = now.batch.minus(m_last.batch);
    v1::MetricsSample s;
    s.set_node_id(m_env.node_id);
    s.set_at_us(m_env.clock.now());
    s.set_movements_per_s(static_cast<double>(now.movements - m_last.movements) / secs);
    s.set_rejections_per_s(static_cast<double>(now.rejections - m_last.rejections) / secs);
    s.set_commits_per_s(static_cast<double>(now.commits - m_last.commits) / secs);
    s.set_p50_ms(command.quantile(0.50) * 1000.0);
    s.set_p99_ms(command.quantile(0.99) * 1000.0);
    s.set_queue_depth(m_env.core.queueDepth());
    s.set_open_holds(m_env.core.openHolds());
    s.set_watch_subscribers(m_env.core.events().subscribers());
    s.set_commit_batch_p50(batch.quantile(0.50));
    m_last = std::move(now);
    enqueueLocked(std::move(s));
  }

  void onFinishingLocked() override {
    if (m_timerArmed && m_env.executor.cancel(m_timer)) {
      m_timerArmed = false;
      dropRefLocked();  // the timer task will never run
    }
  }

  ServiceEnv& m_env;
  bool m_registered = false;
  std::chrono::milliseconds m_interval{1000};
  // Guarded by m_mutex:
  Totals m_last;
  Executor::TimerId m_timer = 0;
  bool m_timerArmed = false;
};

}  // namespace

grpc::ServerWriteReactor<v1::AlertEvent>* newWatchAlertsReactor(ServiceEnv& env,
                                                                const v1::WatchAlertsRequest& req) {
  return new WatchAlertsReactor(env, req);
}

grpc::ServerWriteReactor<v1::MetricsSample>* newWatchMetricsReactor(
    ServiceEnv& env, const v1::WatchMetricsRequest& req) {
  return new WatchMetricsReactor(env, req);
}

}  // namespace depot::server
