// WatchStream against an in-test Inventory server implementing only Watch:
// resume from the cursor after a broken stream with exactly-once, in-order
// delivery; FAILED_PRECONDITION and gaps surfaced, not retried; from-now
// positions learnt from heartbeats; idle watchdog; bounded stop().
#include <QtTest/QtTest>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "client/client.h"
#include "client/streams.h"
#include "test_server.h"

using namespace depot;
using namespace std::chrono_literals;
namespace v1 = depot::v1;

namespace {

constexpr int kShards = 4;
constexpr std::uint64_t kPerShard = 50;
const std::string kLedger = "ledger-1";

enum class Mode {
  kBreakThenResume,  // call 1: 60 entries + a duplicate batch, then UNAVAILABLE; call 2: the rest
  kRefuse,           // FAILED_PRECONDITION "re-snapshot"
  kGap,              // seq 1, 2, 4
  kFromNow,          // heartbeat (positions 10), entries 11..12, UNAVAILABLE; then resume
  kSilent,           // sends nothing and hangs until cancelled
};

class FakeWatch final : public v1::Inventory::Service {
 public:
  explicit FakeWatch(Mode mode) : m_mode(mode) {}

  grpc::Status Watch(grpc::ServerContext* context, const v1::WatchRequest* request,
                     grpc::ServerWriter<v1::WatchEvent>* writer) override {
    const int call = m_calls.fetch_add(1);
    {
      std::lock_guard lock(m_mutex);
      m_requests.push_back(*request);
    }
    switch (m_mode) {
      case Mode::kRefuse:
        return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                            "cursor.ledger_id: another ledger; re-snapshot");
      case Mode::kGap: {
        v1::WatchEvent event;
        for (std::uint64_t seq : {1, 2, 4}) addEntry(event, 0, seq);
        writer->Write(event);
        return hang(context);
      }
      case Mode::kSilent:
        return hang(context);
      case Mode::kFromNow:
        return fromNow(call, context, request, writer);
      case Mode::kBreakThenResume:
        break;
    }
    // Everything after the cursor, in batches of 10 across shards.
    std::array<std::uint64_t, kShards> next{};
    for (int s = 0; s < kShards; ++s) {
      next[s] = (request->cursor().seqs_size() == 256 ? request->cursor().seqs(s) : 0) + 1;
    }
    int sent = 0;
    v1::WatchEvent event;
    v1::WatchEvent previous;
    bool more = true;
    while (more) {
      more = false;
      for (int s = 0; s < kShards; ++s) {
        if (next[s] <= kPerShard) {
          addEntry(event, static_cast<std::uint32_t>(s), next[s]++);
          more = true;
          ++sent;
        }
        if (event.entries_size() == 10) {
          if (!writer->Write(event)) return grpc::Status::CANCELLED;
          previous = event;
          event.Clear();
        }
        if (call == 0 && sent == 60) {
          writer->Write(previous);  // a duplicate the client must drop
          return grpc::Status(grpc::StatusCode::UNAVAILABLE, "node shutting down");
        }
      }
    }
    if (event.entries_size() > 0) writer->Write(event);
    writer->Write(heartbeat(kLedger, 0));
    return hang(context);
  }

  // Only the first chunk's ledger id matters to WatchStream (from-start).
  grpc::Status Snapshot(grpc::ServerContext*, const v1::SnapshotRequest*,
                        grpc::ServerWriter<v1::SnapshotChunk>* writer) override {
    m_snapshots.fetch_add(1);
    v1::SnapshotChunk chunk;
    chunk.set_shard(0);
    chunk.set_ledger_id(kLedger);
    chunk.set_last_of_shard(true);
    writer->Write(chunk);
    return grpc::Status::OK;
  }

  int snapshots() const { return m_snapshots.load(); }
  int calls() const { return m_calls.load(); }
  std::vector<v1::WatchRequest> requests() const {
    std::lock_guard lock(m_mutex);
    return m_requests;
  }

 private:
  static void addEntry(v1::WatchEvent& event, std::uint32_t shard, std::uint64_t seq) {
    auto* e = event.add_entries();
    e->set_shard(shard);
    e->set_seq(seq);
    e->set_sku("SKU-" + std::to_string(shard));
    e->set_location("east/A-01-01");
    e->set_kind(v1::MOVEMENT_KIND_RECEIVE);
    e->set_d_on_hand(1);
    e->set_on_hand_after(static_cast<std::int64_t>(seq));
  }

  static v1::WatchEvent heartbeat(const std::string& ledger, std::uint64_t position) {
    v1::WatchEvent event;
    event.set_heartbeat(true);
    event.mutable_committed()->set_ledger_id(ledger);
    for (int i = 0; i < 256; ++i) {
      event.mutable_committed()->add_seqs(position);
      event.mutable_position()->add_seqs(position);
    }
    event.mutable_position()->set_ledger_id(ledger);
    return event;
  }

  grpc::Status fromNow(int call, grpc::ServerContext* context, const v1::WatchRequest*,
                       grpc::ServerWriter<v1::WatchEvent>* writer) {
    if (call == 0) {
      writer->Write(heartbeat(kLedger, 10));  // every shard at seq 10 "now"
      v1::WatchEvent event;
      addEntry(event, 1, 11);
      addEntry(event, 1, 12);
      writer->Write(event);
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "restarting");
    }
    v1::WatchEvent event;
    addEntry(event, 1, 12);  // duplicate: dropped
    addEntry(event, 1, 13);
    addEntry(event, 2, 11);
    writer->Write(event);
    return hang(context);
  }

  static grpc::Status hang(grpc::ServerContext* context) {
    for (int i = 0; i < 1000 && !context->IsCancelled(); ++i) std::this_thread::sleep_for(10ms);
    return grpc::Status::CANCELLED;
  }

  const Mode m_mode;
  std::atomic<int> m_calls{0};
  std::atomic<int> m_snapshots{0};
  mutable std::mutex m_mutex;
  std::vector<v1::WatchRequest> m_requests;
};

// WatchAlerts: call 1 replays one alert, completes the replay, then fails
// with UNAVAILABLE; later calls replay and then stay quiet until cancelled.
// WatchMetrics: three samples, then quiet.
class FakeOperations final : public v1::Operations::Service {
 public:
  grpc::Status WatchAlerts(grpc::ServerContext* context, const v1::WatchAlertsRequest* request,
                           grpc::ServerWriter<v1::AlertEvent>* writer) override {
    const int call = m_alertCalls.fetch_add(1);
    m_includeResolved.store(request->include_resolved());
    v1::AlertEvent event;
    event.set_initial(true);
    event.mutable_alert()->set_id(7);
    event.mutable_alert()->set_kind(v1::ALERT_KIND_LOW_STOCK);
    writer->Write(event);
    v1::AlertEvent complete;
    complete.set_initial_complete(true);
    writer->Write(complete);
    if (call == 0) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "restarting");
    for (int i = 0; i < 1000 && !context->IsCancelled(); ++i) std::this_thread::sleep_for(10ms);
    return grpc::Status::CANCELLED;
  }
  grpc::Status WatchMetrics(grpc::ServerContext* context, const v1::WatchMetricsRequest* request,
                            grpc::ServerWriter<v1::MetricsSample>* writer) override {
    m_interval.store(request->interval_ms());
    for (int i = 0; i < 3; ++i) {
      v1::MetricsSample sample;
      sample.set_node_id("node-a");
      sample.set_movements_per_s(100.0 * (i + 1));
      writer->Write(sample);
    }
    for (int i = 0; i < 1000 && !context->IsCancelled(); ++i) std::this_thread::sleep_for(10ms);
    return grpc::Status::CANCELLED;
  }
  int alertCalls() const { return m_alertCalls.load(); }
  bool includeResolved() const { return m_includeResolved.load(); }
  std::uint32_t interval() const { return m_interval.load(); }

 private:
  std::atomic<int> m_alertCalls{0};
  std::atomic<bool> m_includeResolved{false};
  std::atomic<std::uint32_t> m_interval{0};
};

client::ClientOptions fastOptions(std::vector<std::string> endpoints) {
  client::ClientOptions options;
  options.endpoints = std::move(endpoints);
  options.initial_backoff = 5ms;
  options.max_backoff = 50ms;
  return options;
}

// Collects what a WatchStream delivers.
struct Sink {
  std::mutex mutex;
  std::condition_variable changed;
  std::map<std::uint32_t, std::vector<std::uint64_t>> seqs;
  std::size_t total = 0;
  std::vector<absl::Status> errors;

  client::WatchStream::Callbacks callbacks() {
    client::WatchStream::Callbacks cb;
    cb.on_entries = [this](std::vector<v1::LedgerEntry>&& entries) {
      std::lock_guard lock(mutex);
      for (const auto& e : entries) seqs[e.shard()].push_back(e.seq());
      total += entries.size();
      changed.notify_all();
    };
    cb.on_error = [this](const absl::Status& st) {
      std::lock_guard lock(mutex);
      errors.push_back(st);
      changed.notify_all();
    };
    return cb;
  }

  bool waitFor(std::function<bool()> done, std::chrono::milliseconds limit = 10s) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, limit, done);
  }
};

}  // namespace

class TestWatchStream : public QObject {
  Q_OBJECT

 private:
  std::unique_ptr<FakeWatch> m_service;
  std::unique_ptr<grpc::Server> m_server;
  int m_port = 0;

  void startFake(Mode mode) {
    m_service = std::make_unique<FakeWatch>(mode);
    m_server = test::startServer(m_service.get(), m_port);
    QVERIFY2(m_server, "could not start the test server in 22000-22999");
  }

 private slots:
  void cleanup() {
    if (m_server) m_server->Shutdown(std::chrono::system_clock::now() + 2s);
    m_server.reset();
    m_service.reset();
  }

  void resumesExactlyOnceInOrder() {
    startFake(Mode::kBreakThenResume);
    auto client = client::Client::create(fastOptions({test::loopback(m_port)}));
    QVERIFY(client.ok());
    Sink sink;
    client::WatchStream::Options options;
    client::LedgerCursor start;
    start.ledger_id = kLedger;
    options.from = start;
    client::WatchStream stream(**client, options, sink.callbacks());
    stream.start();
    QVERIFY(sink.waitFor([&] { return sink.total >= kShards * kPerShard; }));
    std::this_thread::sleep_for(100ms);  // anything extra would show up now
    const auto started_stop = std::chrono::steady_clock::now();
    stream.stop();
    QVERIFY(std::chrono::steady_clock::now() - started_stop < 2s);

    std::lock_guard lock(sink.mutex);
    QVERIFY(sink.errors.empty());
    QCOMPARE(sink.total, std::size_t{kShards * kPerShard});
    for (std::uint32_t s = 0; s < kShards; ++s) {
      const auto& got = sink.seqs[s];
      QCOMPARE(got.size(), std::size_t{kPerShard});
      for (std::size_t i = 0; i < got.size(); ++i) QCOMPARE(got[i], std::uint64_t{i + 1});
    }
    QVERIFY(stream.duplicatesDropped() >= 10);
    // The second call resumed from the cursor after the 60 entries of call 1.
    const auto requests = m_service->requests();
    QVERIFY(requests.size() >= 2);
    QCOMPARE(requests[1].cursor().ledger_id(), kLedger);
    QCOMPARE(requests[1].cursor().seqs_size(), 256);
    std::uint64_t resumed = 0;
    for (int s = 0; s < kShards; ++s) resumed += requests[1].cursor().seqs(s);
    QCOMPARE(resumed, std::uint64_t{60});
    const auto cursor = stream.cursor();
    for (int s = 0; s < kShards; ++s) QCOMPARE(cursor.seqs[s], kPerShard);
    QCOMPARE(cursor.ledger_id, kLedger);
  }

  void failedPreconditionIsSurfacedNotRetried() {
    startFake(Mode::kRefuse);
    auto client = client::Client::create(fastOptions({test::loopback(m_port)}));
    Sink sink;
    client::WatchStream::Options options;
    client::LedgerCursor old;
    old.ledger_id = "old-ledger";
    options.from = old;
    client::WatchStream stream(**client, options, sink.callbacks());
    stream.start();
    QVERIFY(sink.waitFor([&] { return !sink.errors.empty(); }));
    std::this_thread::sleep_for(200ms);
    QCOMPARE(m_service->calls(), 1);
    QVERIFY(!stream.running());
    QCOMPARE(stream.terminalStatus().code(), absl::StatusCode::kFailedPrecondition);
    std::lock_guard lock(sink.mutex);
    QCOMPARE(sink.errors.front().code(), absl::StatusCode::kFailedPrecondition);
  }

  void gapIsSurfacedAsDataLoss() {
    startFake(Mode::kGap);
    auto client = client::Client::create(fastOptions({test::loopback(m_port)}));
    Sink sink;
    client::WatchStream::Options options;
    options.from = client::LedgerCursor{};  // from the start: positions known (0)
    client::WatchStream stream(**client, options, sink.callbacks());
    stream.start();
    QVERIFY(sink.waitFor([&] { return !sink.errors.empty(); }));
    stream.stop();
    std::lock_guard lock(sink.mutex);
    QCOMPARE(sink.errors.front().code(), absl::StatusCode::kDataLoss);
    // The entries before the gap are delivered; nothing after it.
    QCOMPARE(sink.seqs[0], (std::vector<std::uint64_t>{1, 2}));
  }

  void fromNowLearnsPositionsFromHeartbeats() {
    startFake(Mode::kFromNow);
    auto client = client::Client::create(fastOptions({test::loopback(m_port)}));
    Sink sink;
    client::WatchStream stream(**client, client::WatchStream::Options{}, sink.callbacks());
    stream.start();
    QVERIFY(sink.waitFor([&] { return sink.total >= 4; }));
    stream.stop();
    std::lock_guard lock(sink.mutex);
    QVERIFY(sink.errors.empty());
    QCOMPARE(sink.seqs[1], (std::vector<std::uint64_t>{11, 12, 13}));
    QCOMPARE(sink.seqs[2], (std::vector<std::uint64_t>{11}));
    const auto requests = m_service->requests();
    QVERIFY(requests.size() >= 2);
    QCOMPARE(requests[0].cursor().seqs_size(), 0);  // first call: from now
    QCOMPARE(requests[1].cursor().ledger_id(), kLedger);
    QCOMPARE(requests[1].cursor().seqs(1), std::uint64_t{12});
    QCOMPARE(requests[1].cursor().seqs(0), std::uint64_t{10});
  }

  void idleStreamIsReopened() {
    startFake(Mode::kSilent);
    auto client = client::Client::create(fastOptions({test::loopback(m_port)}));
    Sink sink;
    client::WatchStream::Options options;
    options.from = client::LedgerCursor{};
    options.stream.idle_timeout = 300ms;
    client::WatchStream stream(**client, options, sink.callbacks());
    stream.start();
    for (int i = 0; i < 100 && m_service->calls() < 2; ++i) std::this_thread::sleep_for(50ms);
    QVERIFY(m_service->calls() >= 2);
    QVERIFY(stream.reconnects() >= 1);
    const auto before = std::chrono::steady_clock::now();
    stream.stop();
    QVERIFY(std::chrono::steady_clock::now() - before < 2s);
  }

  void failsOverToALiveEndpoint() {
    startFake(Mode::kBreakThenResume);
    auto client = client::Client::create(
        fastOptions({test::loopback(test::deadPort()), test::loopback(m_port)}));
    Sink sink;
    client::WatchStream::Options options;
    options.from = client::LedgerCursor{};
    client::WatchStream stream(**client, options, sink.callbacks());
    stream.start();
    QVERIFY(sink.waitFor([&] { return sink.total >= kShards * kPerShard; }));
    stream.stop();
    QCOMPARE(sink.total, std::size_t{kShards * kPerShard});
  }

  void fromStartLearnsTheLedgerIdFirst() {
    startFake(Mode::kBreakThenResume);
    auto client = client::Client::create(fastOptions({test::loopback(m_port)}));
    Sink sink;
    client::WatchStream::Options options;
    options.from = client::LedgerCursor{};  // zeros, no ledger id: from the start
    client::WatchStream stream(**client, options, sink.callbacks());
    stream.start();
    QVERIFY(sink.waitFor([&] { return sink.total >= kShards * kPerShard; }));
    stream.stop();
    QCOMPARE(m_service->snapshots(), 1);  // once: the id is kept across reconnects
    const auto requests = m_service->requests();
    QVERIFY(!requests.empty());
    QCOMPARE(requests[0].cursor().ledger_id(), kLedger);
    QCOMPARE(requests[0].cursor().seqs_size(), 256);
    for (int s = 0; s < 256; ++s) QCOMPARE(requests[0].cursor().seqs(s), std::uint64_t{0});
  }

  void alertStreamReplaysAfterReconnect() {
    FakeOperations operations;
    int port = 0;
    auto server = test::startServer(&operations, port);
    QVERIFY(server);
    auto client = client::Client::create(fastOptions({test::loopback(port)}));
    std::mutex mutex;
    std::vector<v1::AlertEvent> events;
    client::AlertStream::Callbacks callbacks;
    callbacks.on_event = [&](const v1::AlertEvent& e) {
      std::lock_guard lock(mutex);
      events.push_back(e);
    };
    client::StreamOptions options;
    options.idle_timeout = 100ms;  // ignored: alerts have no heartbeat
    client::AlertStream stream(**client, true, options, callbacks);
    stream.start();
    for (int i = 0; i < 200; ++i) {
      {
        std::lock_guard lock(mutex);
        if (events.size() >= 4) break;
      }
      std::this_thread::sleep_for(10ms);
    }
    std::this_thread::sleep_for(400ms);  // quiet: must not be reopened by an idle timeout
    stream.stop();
    server->Shutdown(std::chrono::system_clock::now() + 2s);
    std::lock_guard lock(mutex);
    QCOMPARE(events.size(), std::size_t{4});  // (alert, complete) twice
    QVERIFY(events[0].initial());
    QVERIFY(events[1].initial_complete());
    QVERIFY(events[2].initial());
    QCOMPARE(operations.alertCalls(), 2);
    QVERIFY(operations.includeResolved());
    QCOMPARE(stream.reconnects(), std::uint64_t{1});
  }

  void metricsStreamDeliversSamples() {
    FakeOperations operations;
    int port = 0;
    auto server = test::startServer(&operations, port);
    QVERIFY(server);
    auto client = client::Client::create(fastOptions({test::loopback(port)}));
    std::atomic<int> samples{0};
    std::atomic<double> last_rate{0};
    client::MetricsStream::Callbacks callbacks;
    callbacks.on_sample = [&](const v1::MetricsSample& sample) {
      samples++;
      last_rate.store(sample.movements_per_s());
    };
    client::MetricsStream stream(**client, 250, client::StreamOptions{}, callbacks);
    stream.start();
    for (int i = 0; i < 200 && samples.load() < 3; ++i) std::this_thread::sleep_for(10ms);
    stream.stop();
    server->Shutdown(std::chrono::system_clock::now() + 2s);
    QCOMPARE(samples.load(), 3);
    QCOMPARE(last_rate.load(), 300.0);
    QCOMPARE(operations.interval(), std::uint32_t{250});
  }

  void stopWhileServerUnreachableIsBounded() {
    auto client = client::Client::create(fastOptions({test::loopback(test::deadPort())}));
    Sink sink;
    std::atomic<int> reconnecting{0};
    auto callbacks = sink.callbacks();
    callbacks.on_state = [&](client::StreamState state, const absl::Status&) {
      if (state == client::StreamState::kReconnecting) reconnecting++;
    };
    client::WatchStream stream(**client, client::WatchStream::Options{}, callbacks);
    stream.start();
    for (int i = 0; i < 100 && reconnecting.load() < 3; ++i) std::this_thread::sleep_for(20ms);
    QVERIFY(reconnecting.load() >= 3);
    const auto before = std::chrono::steady_clock::now();
    stream.stop();
    QVERIFY(std::chrono::steady_clock::now() - before < 2s);
    QVERIFY(!stream.running());
  }
};

QTEST_GUILESS_MAIN(TestWatchStream)
#include "test_watch_stream.moc"
