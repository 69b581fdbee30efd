// Invariant 4: a retry with the same request_id returns the first result and
// applies nothing twice, also after a restart; a reused id with a different
// payload is refused with ALREADY_EXISTS, even on another shard.
#include <algorithm>
#include <cstring>
#include <deque>
#include <random>

#include "absl/strings/match.h"
#include "core/huge_pages.h"
#include "core/shard_state.h"
#include "core_fixture.h"
#include "store/sqlite/sqlite_db.h"

using namespace depot;
using namespace depot::test;
using K = MovementKind;

class TestIdempotency : public QObject {
  Q_OBJECT
 private slots:
  void retryReturnsFirstResult() {
    CoreFixture f;
    f.seedCatalog();
    auto first = f.move(K::kReceive, "SKU-1", "w1/A", 10, "r-1");
    QVERIFY(first.outcome.ok());
    QVERIFY(!first.replayed);
    auto again = f.move(K::kReceive, "SKU-1", "w1/A", 10, "r-1");
    QVERIFY(again.outcome.ok());
    QVERIFY(again.replayed);
    QCOMPARE(again.outcome.first_seq, first.outcome.first_seq);
    QCOMPARE(again.after.at(0).balance.on_hand, 10);
    QCOMPARE(f.balance("SKU-1", "w1/A").on_hand, 10);

    // A refusal is remembered too: the retry gets the same answer even though
    // it would now succeed.
    auto refused = f.move(K::kShip, "SKU-1", "w1/A", 15, "r-2");
    QCOMPARE(refused.outcome.code, absl::StatusCode::kFailedPrecondition);
    QVERIFY(f.move(K::kReceive, "SKU-1", "w1/A", 10).outcome.ok());
    auto retry = f.move(K::kShip, "SKU-1", "w1/A", 15, "r-2");
    QCOMPARE(retry.outcome.code, absl::StatusCode::kFailedPrecondition);
    QVERIFY(retry.replayed);
    QCOMPARE(f.balance("SKU-1", "w1/A").on_hand, 20);
  }

  void differentPayloadIsRefused() {
    CoreFixture f;
    f.seedCatalog();
    QVERIFY(f.move(K::kReceive, "SKU-1", "w1/A", 10, "r-1").outcome.ok());
    auto r = f.move(K::kReceive, "SKU-1", "w1/A", 11, "r-1");
    QCOMPARE(r.outcome.code, absl::StatusCode::kAlreadyExists);
    QVERIFY(r.outcome.message.find("request_id") != std::string::npos);
    // The same id on a SKU of another shard is caught as well.
    std::string other;
    for (int i = 2; i <= 4 && other.empty(); ++i)
      if (shardOf("SKU-" + std::to_string(i)) != shardOf("SKU-1")) other = "SKU-" + std::to_string(i);
    r = f.move(K::kReceive, other, "w1/A", 10, "r-1");
    QCOMPARE(r.outcome.code, absl::StatusCode::kAlreadyExists);
    QCOMPARE(f.balance(other, "w1/A").on_hand, 0);
    QCOMPARE(f.balance("SKU-1", "w1/A").on_hand, 10);
    // Orders too.
    QVERIFY(f.reserve("O1", {{"SKU-1", "w1/A", 1}}, 0, "r-9").status.ok());
    QCOMPARE(f.reserve("O1", {{"SKU-1", "w1/A", 2}}, 0, "r-9").status.code(),
             absl::StatusCode::kAlreadyExists);
    QCOMPARE(f.move(K::kReceive, "SKU-1", "w1/A", 1, "r-9").outcome.code,
             absl::StatusCode::kAlreadyExists);
  }

  void retryAcrossRestart() {
    CoreFixture f;
    f.seedCatalog();
    auto first = f.move(K::kTransfer, "SKU-1", "w1/A", 0, "x", "w1/B");  // invalid: not remembered
    QCOMPARE(first.outcome.code, absl::StatusCode::kInvalidArgument);
    QVERIFY(f.move(K::kReceive, "SKU-1", "w1/A", 10, "r-1").outcome.ok());
    auto t = f.move(K::kTransfer, "SKU-1", "w1/A", 4, "r-2", "w1/B");
    QVERIFY(t.outcome.ok());
    auto hold = f.reserve("O1", {{"SKU-1", "w1/A", 2}}, 0, "r-3");
    QVERIFY(hold.status.ok());
    f.restart();
    auto again = f.move(K::kTransfer, "SKU-1", "w1/A", 4, "r-2", "w1/B");
    QVERIFY(again.outcome.ok());
    QVERIFY(again.replayed);
    QCOMPARE(again.outcome.first_seq, t.outcome.first_seq);
    QCOMPARE(again.after.size(), 2u);
    auto hold2 = f.reserve("O1", {{"SKU-1", "w1/A", 2}}, 0, "r-3");
    QVERIFY(hold2.status.ok());
    QVERIFY(hold2.replayed);
    QCOMPARE(hold2.expires_at, hold.expires_at);
    QCOMPARE(f.move(K::kReceive, "SKU-1", "w1/A", 99, "r-1").outcome.code,
             absl::StatusCode::kAlreadyExists);
    QCOMPARE(f.balance("SKU-1", "w1/A"), (Balance{6, 2}));
    QCOMPARE(f.balance("SKU-1", "w1/B"), (Balance{4, 0}));
    QCOMPARE(f.replayProblem(), std::string());
  }

  // A restart whose idempotency records cannot be read fails with the
  // reason, without hanging: the recovery threads wait for each other
  // before the records go to the registry, also when one of them failed.
  void restartWithUnreadableRecordsFailsCleanly() {
    QString dir;
    {
      CoreFixture f;
      f.seedCatalog();
      for (int i = 1; i <= 4; ++i)
        QVERIFY(f.move(K::kReceive, "SKU-" + std::to_string(i), "w1/A", 5, "u-" + std::to_string(i))
                    .outcome.ok());
      f.close();
      auto db = sqlite::Db::open((f.dir() + "/depot.db").toStdString(), SQLITE_OPEN_READWRITE);
      QVERIFY(db.ok());
      // One shard's records only: the other recovery thread loads its shards
      // and waits for this one.
      QVERIFY(db->exec("UPDATE requests SET records = x'ff01' WHERE shard = "
                       "(SELECT min(shard) FROM requests)",
                       "corrupting")
                  .ok());
      SqliteStore::Options o;
      o.path = (f.dir() + "/depot.db").toStdString();
      auto store = SqliteStore::open(o);
      QVERIFY(store.ok());
      ManualClock clock(kStart);
      auto svc = InventoryService::start(**store, clock, {});
      QVERIFY(!svc.ok());
      QVERIFY2(absl::StrContains(svc.status().message(), "recovering shard"),
               std::string(svc.status().message()).c_str());
    }
  }

  // The store's copy of the window is pruned too, once the window is over:
  // by the engine's pruner thread (off the writers since session 10, as the
  // prune first waits for the store's applier). Read from the file itself.
  void storePruneForgetsRequestsOlderThanTheWindow() {
    ServiceOptions o;
    o.idempotency_window = 60'000'000;  // 1 min
    CoreFixture f(o);
    f.seedCatalog();
    QVERIFY(f.move(K::kReceive, "SKU-1", "w1/A", 5, "old-1").outcome.ok());
    const std::string path = (f.dir() + "/depot.db").toStdString();
    // Rows of the store's window committed at the start (old-1's).
    auto oldRows = [&]() -> std::int64_t {
      auto db = sqlite::Db::open(path, SQLITE_OPEN_READONLY);
      if (!db.ok()) return -1;
      auto n =
          db->queryInt("SELECT count(*) FROM requests WHERE max_ts <= " + std::to_string(kStart));
      return n.ok() ? *n : -1;
    };
    auto eventually = [](const std::function<bool()>& pred) {
      for (int i = 0; i < 400; ++i) {  // ~10 s
        if (pred()) return true;
        QThread::msleep(25);
      }
      return pred();
    };
    // In the tables within the applier's delay (1 s).
    QVERIFY2(eventually([&] { return oldRows() == 1; }), "old-1 never reached the store's tables");
    // Past the window and the prune interval (60 s): the next housekeeping
    // forgets it in memory and posts the store's prune.
    f.clock().advance(2 * 60'000'000);
    QVERIFY(f.move(K::kReceive, "SKU-2", "w1/A", 5, "new-1").outcome.ok());
    QVERIFY2(eventually([&] { return oldRows() == 0; }),
             "the store kept a request older than the window");
    const auto again = f.move(K::kReceive, "SKU-1", "w1/A", 5, "old-1");
    QVERIFY(again.outcome.ok());
    QVERIFY(!again.replayed);  // forgotten: applied as a new request
    QCOMPARE(f.balance("SKU-1", "w1/A").on_hand, Qty{10});
  }

  void duplicateWithinOneBatch() {
    CoreFixture f;
    f.seedCatalog();
    MovementRequest m{"dup", K::kReceive, "SKU-1", "w1/A", "", 5, "", "t"};
    auto res = f.apply({m, m});
    QVERIFY(res.at(0).outcome.ok());
    QVERIFY(res.at(1).outcome.ok());
    QVERIFY(res.at(1).replayed);
    QCOMPARE(f.balance("SKU-1", "w1/A").on_hand, 5);
  }

  // --idempotency-max-requests: past the bound the oldest ids are forgotten
  // before the window ends (each shard keeping its newest share), counted,
  // and the window in effect is reported; the newest are still replayed.
  void windowIsBoundedInMemory() {
    ServiceOptions options;
    options.max_remembered_requests = 100;
    CoreFixture f(options);
    f.seedCatalog();
    std::vector<MovementResult> firsts;
    for (int i = 0; i < 300; ++i) {
      const std::string sku = i % 2 == 0 ? "SKU-1" : "SKU-2";
      firsts.push_back(f.move(K::kReceive, sku, "w1/A", 1, "bounded-" + std::to_string(i)));
      QVERIFY(firsts.back().outcome.ok());
      f.clock().advance(1000);  // 1 ms apart: the oldest are the first
    }
    // Housekeeping runs once a second of the (manual) clock (each writer
    // polls it at least every 50 ms); the bound converges within a few.
    IdempotencyWindowStats w;
    for (int i = 0; i < 40; ++i) {
      f.clock().advance(1'000'000);
      QTest::qWait(120);
      w = f.svc().idempotencyWindow();
      if (w.remembered > 0 && w.remembered <= 101) break;
    }
    QVERIFY2(w.remembered > 0 && w.remembered <= 101, std::to_string(w.remembered).c_str());
    QVERIFY(w.forgotten_early >= 199);
    QVERIFY(w.oldest_ts > kStart + 150'000);  // the first ~200 (ts up to kStart + 200 ms) are gone
    for (int i = 260; i < 300; ++i) {
      const std::string sku = i % 2 == 0 ? "SKU-1" : "SKU-2";
      auto again = f.move(K::kReceive, sku, "w1/A", 1, "bounded-" + std::to_string(i));
      QVERIFY(again.replayed);
      QCOMPARE(again.outcome.first_seq, firsts[static_cast<std::size_t>(i)].outcome.first_seq);
    }
    QCOMPARE(f.balance("SKU-1", "w1/A").on_hand, 150);
  }

  // The window keeps its records in compact form (digest key, one balance
  // inline, the rest in a side table): nothing of the answer is lost, and
  // forgetting a record forgets its side part too.
  void compactRecordKeepsTheWholeAnswer() {
    IdempotencyWindow w;
    Outcome transfer;  // two balances: the side table
    transfer.first_seq = 41;
    transfer.entries = 2;
    transfer.after = {{7, Balance{6, 2}}, {9, Balance{4, 0}}};
    Outcome shipped;  // one balance: inline
    shipped.first_seq = 50;
    shipped.entries = 1;
    shipped.after = {{3, Balance{-2, 1}}};
    Outcome refused;  // a message: the side table
    refused.code = absl::StatusCode::kFailedPrecondition;
    refused.message = "quantity: 15 exceeds the 10 available at w1/A";
    Outcome many;  // more entries than a slot counts
    many.first_seq = 7;
    many.entries = (1u << 24) + 5;
    QVERIFY(w.remember(requestKey("t"), 0xfeed, 123, transfer));
    QVERIFY(w.remember(requestKey("s"), 0x5, 124, shipped));
    QVERIFY(w.remember(requestKey("r"), 0xbeef, 456, refused));
    QVERIFY(w.remember(requestKey("m"), 0x6, 457, many));
    QCOMPARE(w.size(), std::size_t{4});
    QCOMPARE(w.sideRecords(), std::size_t{3});  // all but "s"

    const auto* t = w.find(requestKey("t"));
    QVERIFY(t != nullptr);
    QCOMPARE(t->fingerprint, std::uint64_t{0xfeed});
    QCOMPARE(t->ts, Micros{123});
    const Outcome back = w.outcome(*t);
    QCOMPARE(back.code, absl::StatusCode::kOk);
    QCOMPARE(back.first_seq, Seq{41});
    QCOMPARE(back.entries, 2u);
    QCOMPARE(back.after.size(), 2u);
    QCOMPARE(back.after[1].first, LocationId{9});
    QCOMPARE(back.after[1].second, (Balance{4, 0}));
    QVERIFY(back.message.empty());

    const Outcome one = w.outcome(*w.find(requestKey("s")));
    QCOMPARE(one.first_seq, Seq{50});
    QCOMPARE(one.entries, 1u);
    QCOMPARE(one.after.size(), 1u);
    QCOMPARE(one.after[0].first, LocationId{3});
    QCOMPARE(one.after[0].second, (Balance{-2, 1}));

    const Outcome no = w.outcome(*w.find(requestKey("r")));
    QCOMPARE(no.code, absl::StatusCode::kFailedPrecondition);
    QCOMPARE(no.message, refused.message);
    QVERIFY(no.after.empty());
    QCOMPARE(w.outcome(*w.find(requestKey("m"))).entries, many.entries);

    // A key held already is overwritten in place, not added.
    QVERIFY(!w.remember(requestKey("t"), 0xfeed, 458, shipped));
    QCOMPARE(w.size(), std::size_t{4});
    QCOMPARE(w.outcome(*w.find(requestKey("t"))).after.size(), 1u);
    QCOMPARE(w.sideRecords(), std::size_t{2});

    w.forgetNewest();  // "m"
    QVERIFY(!w.contains(requestKey("m")));
    QCOMPARE(w.forgetBefore(459), std::size_t{3});  // "t" now has ts 458, in its old place
    QVERIFY(w.empty());
    QCOMPARE(w.sideRecords(), std::size_t{0});  // the side parts went with their records
    QCOMPARE(w.oldestTs(), Micros{0});
  }

  // The window against a plain model under a long random mix of remember,
  // undo and forget: the ring wraps around and grows and shrinks many times
  // (and, from the second start, the 32-bit serials wrap past 2^32), and
  // every held key is found with its answer, every forgotten one is not.
  void windowMatchesAModelAcrossRingWraps_data() {
    QTest::addColumn<quint32>("first_serial");
    QTest::newRow("serials from 0") << quint32{0};
    QTest::newRow("serials across 2^32") << quint32{0xffffffffu - 5000};
  }
  void windowMatchesAModelAcrossRingWraps() {
    QFETCH(quint32, first_serial);
    IdempotencyWindow w(first_serial);
    std::deque<std::pair<std::string, Micros>> model;  // oldest first
    std::mt19937_64 rng(42);
    Micros ts = 1;
    int next_id = 0;
    for (int op = 0; op < 40'000; ++op) {
      const auto pick = rng() % 100;
      if (pick < 70) {
        Outcome o;
        o.first_seq = static_cast<Seq>(next_id);
        o.entries = 1;
        o.after = {{static_cast<LocationId>(next_id), Balance{next_id, 0}}};
        if (pick < 7) o.after.push_back({1, Balance{1, 1}});
        const std::string id = "id-" + std::to_string(next_id++);
        ts += static_cast<Micros>(rng() % 3);
        QVERIFY(w.remember(requestKey(id), 1, ts, o));
        model.emplace_back(id, ts);
      } else if (pick < 75 && !model.empty()) {
        w.forgetNewest();
        model.pop_back();
      } else if (pick < 80) {
        // Forget the oldest third on average (sometimes everything).
        const Micros before = model.empty() ? ts : model[model.size() / 3].second + 1;
        std::size_t forgotten = 0;
        while (!model.empty() && model.front().second < before) {
          model.pop_front();
          ++forgotten;
        }
        QCOMPARE(w.forgetBefore(before), forgotten);
      }
      QCOMPARE(w.size(), model.size());
      if (op % 997 == 0) {
        for (const auto& [id, at] : model) {
          const auto* r = w.find(requestKey(id));
          QVERIFY2(r != nullptr, id.c_str());
          QCOMPARE(r->ts, at);
          const Outcome o = w.outcome(*r);
          QCOMPARE(o.after.at(0).second.on_hand, Qty{std::stoi(id.substr(3))});
        }
        for (int k = 0; k < 50 && next_id > 0; ++k) {
          const std::string id = "id-" + std::to_string(rng() % static_cast<unsigned>(next_id));
          const bool held =
              std::any_of(model.begin(), model.end(), [&](const auto& m) { return m.first == id; });
          QCOMPARE(w.contains(requestKey(id)), held);
        }
        QCOMPARE(w.oldestTs(), model.empty() ? Micros{0} : model.front().second);
        QCOMPARE(w.newestTs(), model.empty() ? Micros{0} : model.back().second);
      }
    }
  }

  // Tables past 2 MiB live in their own huge-page-aligned mappings
  // (HugePageAllocator): a window that large keeps, finds and forgets every
  // record like a small one, and its table survives growing and shrinking.
  void largeWindowTablesUseHugePageBlocks() {
    HugePageAllocator<char> alloc;
    const std::size_t bytes = kHugePageBytes + 12345;
    char* block = alloc.allocate(bytes);
    QCOMPARE(reinterpret_cast<std::uintptr_t>(block) % kHugePageBytes, std::uintptr_t{0});
    std::memset(block, 0x5a, bytes);  // every byte is mapped
    QCOMPARE(block[bytes - 1], char{0x5a});
    alloc.deallocate(block, bytes);

    constexpr int kRecords = 150'000;  // ~13 MB of table
    ShardRecovery r;
    r.shard = 9;
    for (int i = 0; i < kRecords; ++i) {
      RecoveredRequest rec;
      rec.key = requestKey("big-" + std::to_string(i));
      rec.remembered.fingerprint = static_cast<std::uint64_t>(i) * 7;
      rec.remembered.ts = i + 1;
      rec.remembered.after.push_back({static_cast<LocationId>(i), Balance{i, 0}});
      r.requests.push_back(std::move(rec));
    }
    ShardState st;
    st.load(std::move(r));
    QCOMPARE(st.requests.size(), std::size_t{kRecords});
    const std::size_t full_bytes = st.requests.bytesHeld();
    QVERIFY2(full_bytes < kRecords * 90, std::to_string(full_bytes).c_str());  // ~72 per record
    for (int i = 0; i < kRecords; i += 997) {
      const auto* rec = st.requests.find(requestKey("big-" + std::to_string(i)));
      QVERIFY(rec != nullptr);
      QCOMPARE(rec->fingerprint, static_cast<std::uint64_t>(i) * 7);
      QCOMPARE(st.requests.outcome(*rec).after[0].second.on_hand, Qty{i});
    }
    st.prune(kRecords / 2 + 1);  // forgets ts 1 .. kRecords/2
    QCOMPARE(st.requests.size(), std::size_t{kRecords / 2});
    QVERIFY(!st.requests.contains(requestKey("big-0")));
    QVERIFY(st.requests.contains(requestKey("big-" + std::to_string(kRecords - 1))));
    st.prune(kRecords - kRecords / 10 + 1);  // a tenth left: the ring shrinks into a smaller block
    QCOMPARE(st.requests.size(), std::size_t{kRecords / 10});
    QVERIFY(st.requests.bytesHeld() < full_bytes / 3);
    QVERIFY(st.requests.contains(requestKey("big-" + std::to_string(kRecords - kRecords / 10))));
    QVERIFY(!st.requests.contains(requestKey("big-" + std::to_string(kRecords / 2))));
  }

  // Records loaded from the store come back keyed by digest; the window
  // forgets the oldest first and keeps everything at or after `before`.
  void windowForgetsOldestFirst() {
    ShardRecovery r;
    r.shard = 3;
    for (int i = 0; i < 1000; ++i) {
      RecoveredRequest rec;
      rec.key = requestKey("req-" + std::to_string(i));
      rec.remembered.fingerprint = static_cast<std::uint64_t>(i);
      rec.remembered.ts = 1000 - i;  // the store's order is not ts order
      r.requests.push_back(std::move(rec));
    }
    ShardState st;
    st.load(std::move(r));
    QCOMPARE(st.requests.size(), std::size_t{1000});  // 1000 ids, 1000 distinct keys
    st.prune(501);                                    // forgets ts 1..500, i.e. req-500..req-999
    QCOMPARE(st.requests.size(), std::size_t{500});
    QVERIFY(st.requests.contains(requestKey("req-0")));
    QVERIFY(st.requests.contains(requestKey("req-499")));
    QVERIFY(!st.requests.contains(requestKey("req-500")));
    QCOMPARE(st.requests.find(requestKey("req-7"))->fingerprint, std::uint64_t{7});
    QCOMPARE(st.requests.oldestTs(), Micros{501});
    st.prune(2000);
    QVERIFY(st.requests.empty());
  }
};

QTEST_GUILESS_MAIN(TestIdempotency)
#include "test_idempotency.moc"
