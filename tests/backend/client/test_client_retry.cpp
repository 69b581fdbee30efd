// Client retry and failover against a tiny in-test Inventory server that
// implements only Apply and fails on demand.
#include <QtTest/QtTest>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "client/client.h"
#include "client/status.h"
#include "test_server.h"

using namespace depot;
using namespace std::chrono_literals;
namespace v1 = depot::v1;

namespace {

// Fails the first `fail_first` calls with `fail_code` (or delays them past
// the client's deadline), records every request, answers the rest OK.
class FlakyInventory final : public v1::Inventory::Service {
 public:
  std::atomic<int> fail_first{0};
  grpc::StatusCode fail_code = grpc::StatusCode::UNAVAILABLE;
  std::chrono::milliseconds delay_failures{0};     // >0: sleep instead of failing
  std::atomic<int> unavailable_movements_once{0};  // first N movements of call 1 get code 14

  grpc::Status Apply(grpc::ServerContext*, const v1::ApplyRequest* request,
                     v1::ApplyResponse* response) override {
    const int call = m_calls.fetch_add(1);
    {
      std::lock_guard lock(m_mutex);
      m_requests.push_back(*request);
    }
    if (call < fail_first.load()) {
      if (delay_failures.count() > 0) {
        std::this_thread::sleep_for(delay_failures);
      } else {
        return grpc::Status(fail_code, "injected failure");
      }
    }
    for (int i = 0; i < request->movements_size(); ++i) {
      auto* r = response->add_results();
      r->set_request_id(request->movements(i).request_id());
      if (call == 0 && i < unavailable_movements_once.load()) {
        r->set_code(14);
        r->set_message("store unavailable");
        continue;
      }
      r->set_seq(static_cast<std::uint64_t>(100 + call * 10 + i));
      r->set_entries(1);
    }
    return grpc::Status::OK;
  }

  int calls() const { return m_calls.load(); }
  std::vector<v1::ApplyRequest> requests() const {
    std::lock_guard lock(m_mutex);
    return m_requests;
  }

 private:
  std::atomic<int> m_calls{0};
  mutable std::mutex m_mutex;
  std::vector<v1::ApplyRequest> m_requests;
};

v1::ApplyRequest oneMovement(const std::string& request_id) {
  v1::ApplyRequest request;
  auto* m = request.add_movements();
  m->set_request_id(request_id);
  m->set_kind(v1::MOVEMENT_KIND_RECEIVE);
  m->set_sku("WID-001");
  m->set_location("east/A-01-01");
  m->set_quantity(5);
  return request;
}

client::ClientOptions fastOptions(std::vector<std::string> endpoints) {
  client::ClientOptions options;
  options.endpoints = std::move(endpoints);
  options.deadline = 2000ms;
  options.max_attempts = 4;
  options.initial_backoff = 5ms;
  options.max_backoff = 50ms;
  return options;
}

}  // namespace

class TestClientRetry : public QObject {
  Q_OBJECT

 private:
  FlakyInventory* m_service = nullptr;
  std::unique_ptr<grpc::Server> m_server;
  int m_port = 0;

 private slots:
  void init() {
    m_service = new FlakyInventory();
    m_server = test::startServer(m_service, m_port);
    QVERIFY2(m_server, "could not start the test server in 22000-22999");
  }
  void cleanup() {
    if (m_server) m_server->Shutdown(std::chrono::system_clock::now() + 2s);
    m_server.reset();
    delete m_service;
    m_service = nullptr;
  }

  void retriesUnavailableWithTheSameRequestId() {
    m_service->fail_first = 2;
    auto client = client::Client::create(fastOptions({test::loopback(m_port)}));
    QVERIFY(client.ok());
    auto response = (*client)->apply(oneMovement("rid-1"));
    QVERIFY2(response.ok(), std::string(response.status().message()).c_str());
    QCOMPARE(response->results_size(), 1);
    QCOMPARE(response->results(0).code(), 0);
    QCOMPARE(m_service->calls(), 3);
    // The request is re-sent unchanged: the server can apply it once.
    for (const auto& r : m_service->requests()) {
      QCOMPARE(r.movements(0).request_id(), std::string("rid-1"));
      QCOMPARE(r.SerializeAsString(), oneMovement("rid-1").SerializeAsString());
    }
  }

  void stopsAtMaxAttempts() {
    m_service->fail_first = 100;
    auto options = fastOptions({test::loopback(m_port)});
    options.max_attempts = 3;
    auto client = client::Client::create(options);
    QVERIFY(client.ok());
    const auto start = std::chrono::steady_clock::now();
    auto response = (*client)->apply(oneMovement("rid-2"));
    QVERIFY(!response.ok());
    QCOMPARE(response.status().code(), absl::StatusCode::kUnavailable);
    QCOMPARE(client::classify(response.status()), client::ErrorClass::kUnreachable);
    QCOMPARE(m_service->calls(), 3);
    QVERIFY(std::chrono::steady_clock::now() - start < 5s);
    for (const auto& r : m_service->requests()) {
      QCOMPARE(r.movements(0).request_id(), std::string("rid-2"));
    }
  }

  void nonRetryableReturnsAtOnce() {
    m_service->fail_first = 1;
    m_service->fail_code = grpc::StatusCode::FAILED_PRECONDITION;
    auto client = client::Client::create(fastOptions({test::loopback(m_port)}));
    auto response = (*client)->apply(oneMovement("rid-3"));
    QVERIFY(!response.ok());
    QCOMPARE(response.status().code(), absl::StatusCode::kFailedPrecondition);
    QCOMPARE(client::classify(response.status()), client::ErrorClass::kRefused);
    QCOMPARE(m_service->calls(), 1);
  }

  void deadlineExceededIsRetriedForIdempotentCalls() {
    m_service->fail_first = 1;
    m_service->delay_failures = 600ms;
    auto options = fastOptions({test::loopback(m_port)});
    options.deadline = 200ms;
    auto client = client::Client::create(options);
    auto response = (*client)->apply(oneMovement("rid-4"));
    QVERIFY2(response.ok(), std::string(response.status().message()).c_str());
    QCOMPARE(m_service->calls(), 2);
    const auto requests = m_service->requests();
    QCOMPARE(requests[1].movements(0).request_id(), std::string("rid-4"));
  }

  void perMovementUnavailableIsResent() {
    m_service->unavailable_movements_once = 1;
    auto client = client::Client::create(fastOptions({test::loopback(m_port)}));
    v1::ApplyRequest request = oneMovement("rid-a");
    *request.add_movements() = oneMovement("rid-b").movements(0);
    auto response = (*client)->apply(request);
    QVERIFY(response.ok());
    QCOMPARE(response->results_size(), 2);
    QCOMPARE(response->results(0).code(), 0);
    QCOMPARE(response->results(0).request_id(), std::string("rid-a"));
    QCOMPARE(response->results(1).code(), 0);
    const auto requests = m_service->requests();
    QCOMPARE(requests.size(), std::size_t{2});
    // Only the movement that was not applied is re-sent, unchanged.
    QCOMPARE(requests[1].movements_size(), 1);
    QCOMPARE(requests[1].movements(0).request_id(), std::string("rid-a"));
  }

  void failsOverFromADeadEndpoint() {
    const int dead = test::deadPort();
    QVERIFY(dead != 0);
    auto client =
        client::Client::create(fastOptions({test::loopback(dead), test::loopback(m_port)}));
    QVERIFY(client.ok());
    auto response = (*client)->apply(oneMovement("rid-5"));
    QVERIFY2(response.ok(), std::string(response.status().message()).c_str());
    QCOMPARE(m_service->calls(), 1);
    // The endpoint that answered is preferred from now on.
    QCOMPARE((*client)->preferredEndpoint(), std::size_t{1});
    auto again = (*client)->apply(oneMovement("rid-6"));
    QVERIFY(again.ok());
    QCOMPARE(m_service->calls(), 2);
  }

  void allEndpointsDeadIsUnreachableQuickly() {
    auto client = client::Client::create(
        fastOptions({test::loopback(test::deadPort()), test::loopback(test::deadPort())}));
    const auto start = std::chrono::steady_clock::now();
    auto response = (*client)->apply(oneMovement("rid-7"));
    QVERIFY(!response.ok());
    QCOMPARE(client::classify(response.status()), client::ErrorClass::kUnreachable);
    QVERIFY(std::chrono::steady_clock::now() - start < 5s);
  }

  void rejectsBadOptions() {
    QVERIFY(!client::Client::create(client::ClientOptions{}).ok());
    QVERIFY(!client::Client::create(fastOptions({"nohostport"})).ok());
    QVERIFY(!client::Client::create(fastOptions({"127.0.0.1:0"})).ok());
    QVERIFY(!client::Client::create(fastOptions({"127.0.0.1:99999"})).ok());
    auto options = fastOptions({"127.0.0.1:7070"});
    options.max_attempts = 0;
    QVERIFY(!client::Client::create(options).ok());
  }

  void backoffIsBoundedAndJittered() {
    client::ClientOptions options;
    options.initial_backoff = 100ms;
    options.max_backoff = 1000ms;
    bool varied = false;
    auto first = client::backoffDelay(options, 3);
    for (int i = 0; i < 200; ++i) {
      const auto d1 = client::backoffDelay(options, 1);
      const auto d3 = client::backoffDelay(options, 3);
      const auto d9 = client::backoffDelay(options, 9);
      QVERIFY(d1 >= 0ms && d1 <= 100ms);
      QVERIFY(d3 >= 0ms && d3 <= 400ms);
      QVERIFY(d9 >= 0ms && d9 <= 1000ms);
      if (d3 != first) varied = true;
    }
    QVERIFY(varied);
  }
};

QTEST_GUILESS_MAIN(TestClientRetry)
#include "test_client_retry.moc"
