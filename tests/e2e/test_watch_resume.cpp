// Invariant 5 across a crash: a Watch consumer that saved its cursor resumes
// after the server was killed with SIGKILL and restarted, and receives every
// later ledger entry exactly once, in order per shard, with no gap.
#include <map>

#include "depotd_process.h"

using namespace depot::test;
namespace v1 = depot::v1;

namespace {
void applyMany(const std::shared_ptr<grpc::Channel>& ch, int n, int seed) {
  auto stub = v1::Inventory::NewStub(ch);
  v1::ApplyRequest req;
  for (int i = 0; i < n; ++i) {
    auto* m = req.add_movements();
    m->set_request_id("w" + std::to_string(seed) + "-" + std::to_string(i));
    m->set_kind(v1::MOVEMENT_KIND_RECEIVE);
    m->set_sku("S-" + std::to_string(i % 30));
    m->set_location("w1/A");
    m->set_quantity(1);
  }
  v1::ApplyResponse resp;
  grpc::ClientContext ctx;
  QVERIFY(stub->Apply(&ctx, req, &resp).ok());
  for (const auto& r : resp.results()) QCOMPARE(r.code(), 0);
}

// Reads the stream until `want` entries arrived (bounded by a deadline).
struct Consumer {
  v1::Cursor position;  // what a console would persist
  std::vector<v1::LedgerEntry> entries;
  v1::Cursor committed;
  grpc::Status run(const std::shared_ptr<grpc::Channel>& ch, const v1::Cursor& from,
                   std::size_t want) {
    auto stub = v1::Inventory::NewStub(ch);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::WatchRequest req;
    *req.mutable_cursor() = from;
    auto reader = stub->Watch(&ctx, req);
    v1::WatchEvent ev;
    position = from;
    if (position.seqs_size() == 0) position.mutable_seqs()->Resize(256, 0);
    while (entries.size() < want && reader->Read(&ev)) {
      if (ev.heartbeat()) {
        committed = ev.committed();
        if (position.ledger_id().empty()) position.set_ledger_id(ev.committed().ledger_id());
      }
      for (const auto& e : ev.entries()) {
        entries.push_back(e);
        position.set_seqs(static_cast<int>(e.shard()), e.seq());
      }
    }
    if (entries.size() >= want) ctx.TryCancel();  // we stopped reading: end the stream
    return reader->Finish();
  }
};
}  // namespace

class TestWatchResume : public QObject {
  Q_OBJECT
 private slots:
  void resumeAfterKillNine() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    v1::Cursor saved;
    std::vector<v1::LedgerEntry> seen;
    std::string ledger_id;
    {
      DepotdProcess depotd(dir.path(), 23200);
      QVERIFY(depotd.start());
      auto ch = depotd.channel();
      QVERIFY(seedCatalog(ch, 30));
      applyMany(ch, 300, 1);
      // Learn the ledger id from a heartbeat of a from-now stream.
      {
        auto stub = v1::Inventory::NewStub(ch);
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        v1::WatchRequest req;
        auto reader = stub->Watch(&ctx, req);
        v1::WatchEvent ev;
        while (reader->Read(&ev))
          if (ev.heartbeat()) {
            ledger_id = ev.committed().ledger_id();
            break;
          }
        ctx.TryCancel();
        reader->Finish();
      }
      QVERIFY(!ledger_id.empty());
      v1::Cursor from_start;
      from_start.set_ledger_id(ledger_id);
      from_start.mutable_seqs()->Resize(256, 0);
      Consumer c;
      c.run(ch, from_start, 120);  // a consumer that stops part way
      QVERIFY(c.entries.size() >= 120);
      saved = c.position;
      seen = c.entries;
      applyMany(ch, 200, 2);
      depotd.kill9();
    }
    DepotdProcess depotd(dir.path(), 23200);
    QVERIFY(depotd.start());
    auto ch = depotd.channel();
    applyMany(ch, 100, 3);
    // Wrong ledger id: refused with a re-snapshot hint.
    {
      v1::Cursor other = saved;
      other.set_ledger_id("not-this-ledger");
      Consumer bad;
      auto st = bad.run(ch, other, 1);
      QCOMPARE(int(st.error_code()), int(grpc::StatusCode::FAILED_PRECONDITION));
    }
    const std::size_t total = 300 + 200 + 100;
    Consumer resumed;
    resumed.run(ch, saved, total - seen.size());
    QCOMPARE(resumed.entries.size(), total - seen.size());
    // Exactly once, in order per shard, no gap, across the crash.
    std::map<std::uint32_t, std::uint64_t> last;
    for (const auto& e : seen) last[e.shard()] = std::max(last[e.shard()], e.seq());
    for (int s = 0; s < 256; ++s) QCOMPARE(saved.seqs(s), last.count(s) ? last[s] : 0);
    for (const auto& e : resumed.entries) {
      QCOMPARE(e.seq(), last[e.shard()] + 1);
      last[e.shard()] = e.seq();
    }
    std::uint64_t sum = 0;
    for (auto& [s, q] : last) sum += q;
    QCOMPARE(sum, std::uint64_t(total));
    QCOMPARE(depotd.terminate(), 0);
  }
};

QTEST_GUILESS_MAIN(TestWatchResume)
#include "test_watch_resume.moc"
