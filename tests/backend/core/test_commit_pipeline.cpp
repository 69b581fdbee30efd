// The writers' commit pipeline (engine.h, "Pipelining") against a real
// SqliteStore whose commit-log fdatasync the test holds or fails at will
// (the LD_PRELOAD shim libdepot_fail_log_sync.so, set by CTest):
// - a writer runs its next batch on the tentative state while the previous
//   commit is not yet durable, but answers nothing of either (reads
//   included) before both are;
// - when the held commit's fsync fails, the batch after it, which built on
//   its state, is rolled back with it: both report an unknown outcome, the
//   engine's state is back to what is durable, and later commits are
//   refused; reopened, the store has each exactly once or not at all.
#include <QFile>
#include <cstdlib>
#include <thread>

#include "core_fixture.h"

using namespace depot;
using namespace depot::test;
using K = MovementKind;

namespace {

// Bounded poll: true once pred() holds, false after ~10 s.
template <typename Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 2000; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

template <typename T>
bool ready(std::future<T>& f) {
  return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

bool touch(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly)) return false;
  f.close();
  return true;
}

}  // namespace

class TestCommitPipeline : public QObject {
  Q_OBJECT

  QTemporaryDir m_flags;
  QString m_hold;
  QString m_fail;

  using ApplyFuture = std::future<absl::StatusOr<std::vector<MovementResult>>>;

  static ApplyFuture applyAsync(CoreFixture& f, K kind, const std::string& rid, Qty q,
                                const std::string& to = {}) {
    auto p = std::make_shared<std::promise<absl::StatusOr<std::vector<MovementResult>>>>();
    auto fut = p->get_future();
    MovementRequest m;
    m.request_id = rid;
    m.kind = kind;
    m.sku = "SKU-1";
    m.location = "w1/A";
    m.to_location = to;
    m.quantity = q;
    m.actor = "tester";
    f.svc().apply({m}, false, [p](auto r) { p->set_value(std::move(r)); });
    return fut;
  }
  static std::future<absl::StatusOr<StockResult>> stockAsync(CoreFixture& f) {
    auto p = std::make_shared<std::promise<absl::StatusOr<StockResult>>>();
    auto fut = p->get_future();
    f.svc().getStock("SKU-1", [p](auto r) { p->set_value(std::move(r)); });
    return fut;
  }
  static std::uint64_t commitsStarted(CoreFixture& f) {
    return f.svc().stats().commit_batch_size.snapshot().count;
  }

  static ServiceOptions oneWriter() {
    ServiceOptions o;
    o.writers = 1;  // A and B on one writer, in that order
    return o;
  }

  // Seeds the catalog, holds the log's fsync, then starts A (receive 10 at
  // w1/A) and, once A's sync is held, B (transfer 4 to w1/B, which only A's
  // stock allows). Returns once B's commit has started too.
  void startTwoCommitsBehindAHeldSync(CoreFixture& f, ApplyFuture* a, ApplyFuture* b) {
    f.seedCatalog(2);
    // A first commit makes the log's segment (whose header is synced in the
    // append itself): A's append must find it there. Both balances exist
    // beforehand, so each batch's undo restores a value (not a removal that
    // would hide what a later batch left).
    QVERIFY(f.move(K::kReceive, "SKU-1", "w1/A", 1).outcome.ok());
    QVERIFY(f.move(K::kReceive, "SKU-1", "w1/B", 1).outcome.ok());
    const std::uint64_t before = commitsStarted(f);
    QVERIFY(touch(m_hold));
    *a = applyAsync(f, K::kReceive, "pipe-a", 10);
    QVERIFY2(eventually([&] { return QFile::exists(m_hold + ".held"); }),
             "A's commit never reached the log's fdatasync");
    *b = applyAsync(f, K::kTransfer, "pipe-b", 4, "w1/B");
    QVERIFY2(eventually([&] { return commitsStarted(f) == before + 2; }),
             "B's commit did not start while A's was not yet durable");
  }

 private slots:
  void initTestCase() {
    QVERIFY2(getenv("LD_PRELOAD") != nullptr &&
                 std::string(getenv("LD_PRELOAD")).find("depot_fail_log_sync") != std::string::npos,
             "run under CTest: the fdatasync shim must be preloaded");
    QVERIFY(m_flags.isValid());
    m_hold = m_flags.path() + "/hold";
    m_fail = m_flags.path() + "/fail";
    qputenv("DEPOT_HOLD_LOG_SYNC_FLAG", m_hold.toUtf8());
    qputenv("DEPOT_FAIL_LOG_SYNC_FLAG", m_fail.toUtf8());
  }
  void cleanup() {
    QFile::remove(m_hold);
    QFile::remove(m_fail);
  }

  void laterBatchesRunOnTheTentativeStateButAnswerOnlyOnceDurable() {
    CoreFixture f(oneWriter());
    ApplyFuture a, b;
    startTwoCommitsBehindAHeldSync(f, &a, &b);
    auto stock = stockAsync(f);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    QVERIFY2(!ready(a) && !ready(b) && !ready(stock),
             "a reply left before the commit it depends on was durable");

    QVERIFY(QFile::remove(m_hold));
    auto ra = await(a);
    auto rb = await(b);
    QVERIFY(ra.ok() && rb.ok());
    QVERIFY2(ra->at(0).outcome.ok(), ra->at(0).outcome.message.c_str());
    QVERIFY2(rb->at(0).outcome.ok(), rb->at(0).outcome.message.c_str());
    QCOMPARE(rb->at(0).outcome.first_seq, ra->at(0).outcome.first_seq + 1);
    auto rs = await(stock);
    QVERIFY(rs.ok());
    QCOMPARE(rs->lines.size(), std::size_t{2});
    for (const auto& line : rs->lines)
      QCOMPARE(line.balance.on_hand, line.location.name() == "w1/A" ? Qty{7} : Qty{5});

    f.restart();
    QCOMPARE(f.balance("SKU-1", "w1/A").on_hand, Qty{7});
    QCOMPARE(f.balance("SKU-1", "w1/B").on_hand, Qty{5});
    QCOMPARE(f.replayProblem(), std::string());
  }

  void aFailedSyncRollsBackTheBatchesBuiltOnIt() {
    CoreFixture f(oneWriter());
    ApplyFuture a, b;
    startTwoCommitsBehindAHeldSync(f, &a, &b);
    QVERIFY(touch(m_fail));
    QVERIFY(QFile::remove(m_hold));
    for (auto* fut : {&a, &b}) {
      auto r = await(*fut);
      const std::string message =
          r.ok() ? r->at(0).outcome.message : std::string(r.status().message());
      const bool unavailable = r.ok() ? r->at(0).outcome.code == absl::StatusCode::kUnavailable
                                      : r.status().code() == absl::StatusCode::kUnavailable;
      QVERIFY2(unavailable && message.find("outcome is unknown") != std::string::npos,
               message.c_str());
    }
    // Both rolled back, newest first: the engine holds what is durable.
    QCOMPARE(f.balance("SKU-1", "w1/A").on_hand, Qty{1});
    QCOMPARE(f.balance("SKU-1", "w1/B").on_hand, Qty{1});
    QVERIFY(QFile::remove(m_fail));
    const auto refused = f.move(K::kReceive, "SKU-1", "w1/A", 1, "pipe-c");
    QVERIFY2(!refused.outcome.ok() && refused.outcome.message.find("log") != std::string::npos,
             refused.outcome.message.c_str());

    // Reopened: the writes had reached the page cache, so both replay, each
    // once and in order; a retry of either learns its outcome.
    f.restart();
    QCOMPARE(f.balance("SKU-1", "w1/A").on_hand, Qty{7});
    QCOMPARE(f.balance("SKU-1", "w1/B").on_hand, Qty{5});
    QCOMPARE(f.replayProblem(), std::string());
    const auto retried = f.move(K::kTransfer, "SKU-1", "w1/A", 4, "pipe-b", "w1/B");
    QVERIFY2(retried.outcome.ok() && retried.replayed, retried.outcome.message.c_str());
    QCOMPARE(f.balance("SKU-1", "w1/B").on_hand, Qty{5});
  }
};

QTEST_GUILESS_MAIN(TestCommitPipeline)
#include "test_commit_pipeline.moc"
