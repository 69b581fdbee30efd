// PostgresStore: the engine-independent Store contract (a fresh database per
// test case), plus what only the PostgreSQL engine has: schema checks across
// reopen, strings PostgreSQL text cannot hold, fencing between two nodes
// with different epochs, and faults (a slow server, a stopped server, a
// restart) that must give UNAVAILABLE / DEADLINE_EXCEEDED in bounded time
// and then recover by themselves.
//
// The server is private to this process (pg_instance.h); without root or
// PostgreSQL 15 installed every test is skipped with the reason.
#include <QCoreApplication>
#include <QTest>
#include <atomic>
#include <thread>

#include "pg_instance.h"
#include "store/postgres/postgres_cluster.h"
#include "store/postgres/postgres_store.h"
#include "store_contract.h"

namespace depot::testing {
namespace {

using Millis = std::chrono::milliseconds;

PgInstance* g_pg = nullptr;
int g_databases = 0;

// A new empty store location: a schema of its own in database "postgres"
// (much cheaper than CREATE DATABASE, which copies and syncs files).
// Returned as "dbname=postgres options=-csearch_path=<schema>", to follow
// "dbname=" in a DSN.
std::string freshDatabase() {
  const std::string schema = "depot_" + std::to_string(++g_databases);
  const std::string error = g_pg->exec("postgres", "CREATE SCHEMA " + schema);
  if (!error.empty()) qWarning("CREATE SCHEMA %s: %s", schema.c_str(), error.c_str());
  return "postgres options=-csearch_path=" + schema;
}

absl::StatusOr<std::unique_ptr<PostgresStore>> openStatus(const std::string& db,
                                                          Millis timeout = Millis(5000)) {
  PostgresStore::Options options;
  options.dsn = g_pg->dsn(db);
  options.read_connections = 3;
  options.statement_timeout = timeout;
  return PostgresStore::open(options);
}

std::unique_ptr<PostgresStore> openStore(const std::string& db, Millis timeout = Millis(5000)) {
  auto store = openStatus(db, timeout);
  if (!store.ok()) {
    qWarning("PostgresStore::open(%s): %s", db.c_str(), store.status().ToString().c_str());
    return nullptr;
  }
  return *std::move(store);
}

Item makeItem(const std::string& sku) {
  Item item;
  item.sku = sku;
  item.description = "d";
  return item;
}

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// `n` RECEIVE entries for `item` after `last`, with their balance row.
ShardCommit receiveCommit(const Item& item, const Location& location, std::uint64_t epoch,
                          Seq last, int n, Qty* on_hand, const std::string& prefix) {
  ShardCommit sc;
  sc.shard = item.shard;
  sc.epoch = epoch;
  sc.expected_last_seq = last;
  for (int i = 0; i < n; ++i) {
    LedgerEntry e;
    e.shard = item.shard;
    e.seq = last + 1 + static_cast<Seq>(i);
    e.request_id = prefix + std::to_string(e.seq);
    e.item = item.id;
    e.location = location.id;
    e.d_on_hand = 1;
    e.on_hand_after = ++*on_hand;
    e.ts = static_cast<Micros>(e.seq);
    sc.entries.push_back(e);
  }
  sc.balances.push_back(BalanceRow{item.id, location.id, {*on_hand, 0}, static_cast<Micros>(last + n)});
  return sc;
}

}  // namespace

class TestPostgresStore : public QObject {
  Q_OBJECT

 private slots:
  void reopenKeepsEverything() {
    const std::string db = freshDatabase();
    std::string ledger_id;
    {
      auto store = openStore(db);
      QVERIFY(store);
      ledger_id = store->ledgerId();
      QCOMPARE(ledger_id.size(), std::size_t{32});
      DEPOT_ASSIGN_OR_FAIL(items, store->upsertItems({makeItem("KEEP-1")}));
      DEPOT_ASSIGN_OR_FAIL(locations, store->upsertLocations({{0, "east", "A-01"}}));
      ModelLedger ledger(*store);
      ledger.move(items[0], locations[0], 5, 0, 100);
      DEPOT_VERIFY_OK(ledger.commit());
    }
    auto again = openStore(db);
    QVERIFY(again);
    QCOMPARE(bytes(again->ledgerId()), bytes(ledger_id));
    QCOMPARE(again->schemaVersion(), 4);
    DEPOT_ASSIGN_OR_FAIL(seqs, again->lastSeqs());
    QCOMPARE(seqs[shardOf("KEEP-1")], Seq{1});
    auto other = openStore(freshDatabase());
    QVERIFY(other);
    QVERIFY(other->ledgerId() != ledger_id);
  }

  void refusesForeignAndNewerSchemas() {
    const std::string foreign = freshDatabase();
    QCOMPARE(QByteArray::fromStdString(g_pg->exec(foreign, "CREATE TABLE orders(id int)")), QByteArray());
    DEPOT_VERIFY_CODE(openStatus(foreign).status(), absl::StatusCode::kFailedPrecondition);
    QCOMPARE(QByteArray::fromStdString(g_pg->exec(foreign, "SELECT count(*) FROM orders")), QByteArray());

    const std::string newer = freshDatabase();
    QVERIFY(openStore(newer));
    QCOMPARE(QByteArray::fromStdString(g_pg->exec(
                 newer, "INSERT INTO schema_version(version, description) VALUES(99, 'future')")),
             QByteArray());
    const absl::Status st = openStatus(newer).status();
    DEPOT_VERIFY_CODE(st, absl::StatusCode::kFailedPrecondition);
    QVERIFY(std::string(st.message()).find("99") != std::string::npos);
  }

  // Several nodes opening one new database at once: one migrates, all agree.
  void concurrentOpensMigrateOnce() {
    const std::string db = freshDatabase();
    std::vector<std::string> ids(4);
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
      threads.emplace_back([&, i] {
        auto store = openStatus(db);
        ids[i] = store.ok() ? (*store)->ledgerId() : store.status().ToString();
      });
    }
    for (auto& t : threads) t.join();
    for (int i = 1; i < 4; ++i) QCOMPARE(bytes(ids[i]), bytes(ids[0]));
    QCOMPARE(ids[0].size(), std::size_t{32});
  }

  void badOptionsAndUnreachableServers() {
    PostgresStore::Options options;
    DEPOT_VERIFY_CODE(PostgresStore::open(options).status(), absl::StatusCode::kInvalidArgument);
    options.dsn = g_pg->dsn("postgres");
    options.read_connections = 0;
    DEPOT_VERIFY_CODE(PostgresStore::open(options).status(), absl::StatusCode::kInvalidArgument);
    options.read_connections = 2;
    options.statement_timeout = Millis(0);
    DEPOT_VERIFY_CODE(PostgresStore::open(options).status(), absl::StatusCode::kInvalidArgument);
    options.statement_timeout = Millis(2000);
    options.dsn = "host=127.0.0.1 port=1 user=postgres dbname=x";  // nothing listens on port 1
    const auto start = std::chrono::steady_clock::now();
    DEPOT_VERIFY_CODE(PostgresStore::open(options).status(), absl::StatusCode::kUnavailable);
    QVERIFY(secondsSince(start) < 2.5);
    options.dsn = "this is = not a valid 'dsn";
    const absl::Status bad = PostgresStore::open(options).status();
    QVERIFY2(bad.code() == absl::StatusCode::kInvalidArgument ||
                 bad.code() == absl::StatusCode::kUnavailable,
             statusText(bad).constData());
    options.dsn = g_pg->dsn("no_such_database");
    DEPOT_VERIFY_CODE(PostgresStore::open(options).status(), absl::StatusCode::kUnavailable);
  }

  // PostgreSQL text is UTF-8 without NUL: such strings are refused before
  // anything is written, and lookups by them find nothing.
  void stringsTextCannotHold() {
    auto store = openStore(freshDatabase());
    QVERIFY(store);
    for (const std::string& sku : {std::string("A\0B", 3), std::string("\xff\xfe"),
                                   std::string("\xc3\x28"), std::string("\xed\xa0\x80")}) {
      const absl::Status st = store->upsertItems({makeItem("OK-1"), makeItem(sku)}).status();
      DEPOT_VERIFY_CODE(st, absl::StatusCode::kInvalidArgument);
      QVERIFY2(std::string(st.message()).find("items[1].sku") != std::string::npos,
               statusText(st).constData());
    }
    DEPOT_ASSIGN_OR_FAIL(none, store->loadItems());
    QVERIFY(none.empty());  // all or nothing: OK-1 was not stored either
    DEPOT_VERIFY_CODE(store->upsertLocations({{0, std::string("w\0h", 3), "A"}}).status(),
                      absl::StatusCode::kInvalidArgument);

    DEPOT_ASSIGN_OR_FAIL(items, store->upsertItems({makeItem("OK-1")}));
    DEPOT_ASSIGN_OR_FAIL(locations, store->upsertLocations({{0, "east", "A-01"}}));
    ModelLedger ledger(*store);
    ledger.move(items[0], locations[0], 1, 0, 100, MovementKind::kReceive, std::string("r\0", 2));
    DEPOT_VERIFY_CODE(ledger.commit(), absl::StatusCode::kInvalidArgument);
    ledger.pending(items[0].shard)
        .holds.push_back(Hold{"\xff", items[0].shard, "r", HoldState::kOpen, {}, "", 1, 2, 0});
    DEPOT_VERIFY_CODE(ledger.commit(), absl::StatusCode::kInvalidArgument);
    DEPOT_ASSIGN_OR_FAIL(seqs, store->lastSeqs());
    QCOMPARE(seqs[items[0].shard], Seq{0});

    DEPOT_ASSIGN_OR_FAIL(orders, store->findOrderShards(std::string("o\0x", 3)));
    QVERIFY(orders.empty());
    DEPOT_ASSIGN_OR_FAIL(count, store->findCount("\xff"));
    QVERIFY(!count.has_value());
    StockQuery q;
    q.sku_prefix = "\xff";
    DEPOT_ASSIGN_OR_FAIL(stock, store->listStock(q));
    QVERIFY(stock.empty());
    Alert alert;
    alert.id = 1;
    alert.subject = std::string("s\0", 2);
    DEPOT_VERIFY_CODE(store->saveAlert(alert), absl::StatusCode::kInvalidArgument);
    // Any bytes inside the encoded lists (request records) are fine.
    ledger.move(items[0], locations[0], 1, 0, 100, MovementKind::kReceive, "r1");
    RequestRecord rec;
    rec.request_id = std::string("any\0\xff", 5);
    rec.shard = items[0].shard;
    rec.outcome.message = "\xfe";
    ledger.pending(items[0].shard).requests.push_back(rec);
    DEPOT_VERIFY_OK(ledger.commit());
    DEPOT_ASSIGN_OR_FAIL(r, store->recoverShard(items[0].shard, 0, 0));
    QCOMPARE(r.requests.size(), std::size_t{1});
    QVERIFY(r.requests[0].key == requestKey(rec.request_id));
    QVERIFY(r.requests[0].remembered.message != nullptr);
    QCOMPARE(bytes(*r.requests[0].remembered.message), bytes(rec.outcome.message));
  }

  // Two nodes write one shard. Node B takes the shard over (the epoch bump a
  // lease change will make); from then on node A's writer and a zombie on A
  // that re-reads last_seq before every try are refused, B's commits all
  // succeed, and the ledger stays gap-free with A's entries strictly before B's.
  void fencingBetweenConcurrentWriters() {
    const std::string db = freshDatabase();
    auto a = openStore(db);
    auto b = openStore(db);
    QVERIFY(a && b);
    DEPOT_ASSIGN_OR_FAIL(items, a->upsertItems({makeItem("FENCE-1")}));
    DEPOT_ASSIGN_OR_FAIL(locations, a->upsertLocations({{0, "east", "F-01"}}));
    const Item item = items[0];
    const Location loc = locations[0];
    DEPOT_ASSIGN_OR_FAIL(rec_a, a->recoverShard(item.shard, 0, 0));
    constexpr int kPer = 5;

    std::atomic<int> a_commits{0};
    std::atomic<Seq> a_acked{0};
    std::atomic<bool> a_fenced{false};
    std::atomic<bool> stop{false};
    std::string a_error;
    std::thread writer_a([&] {
      Seq last = rec_a.last_seq;
      Qty on_hand = 0;
      while (!stop) {
        Qty next = on_hand;
        const absl::Status st =
            a->commit(CommitBatch{{receiveCommit(item, loc, rec_a.epoch, last, kPer, &next, "a-")}});
        if (st.code() == absl::StatusCode::kFailedPrecondition) {
          a_fenced = true;
          return;
        }
        if (!st.ok()) {
          a_error = st.ToString();
          return;
        }
        last += kPer;
        on_hand = next;
        a_acked = last;
        ++a_commits;
      }
    });
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (a_commits < 10 && a_error.empty() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(Millis(5));
    }
    QVERIFY2(a_commits >= 10, a_error.c_str());
    // The takeover: what the lease code will do in recoverShard.
    const std::string bump = g_pg->exec(
        db, "UPDATE shards SET epoch = epoch + 1 WHERE shard = " + std::to_string(item.shard));
    QVERIFY2(bump.empty(), bump.c_str());
    DEPOT_ASSIGN_OR_FAIL(rec_b, b->recoverShard(item.shard, 0, 0));
    QCOMPARE(rec_b.epoch, rec_a.epoch + 1);

    std::atomic<int> zombie_ok{0};
    std::atomic<int> zombie_fenced{0};
    std::thread zombie([&] {
      while (!stop) {
        auto seqs = a->lastSeqs();
        if (!seqs.ok()) continue;
        Qty ignored = 0;
        const absl::Status st = a->commit(
            CommitBatch{{receiveCommit(item, loc, rec_a.epoch, (*seqs)[item.shard], 1, &ignored, "z-")}});
        if (st.ok()) ++zombie_ok;
        if (st.code() == absl::StatusCode::kFailedPrecondition) ++zombie_fenced;
      }
    });
    Seq last_b = rec_b.last_seq;
    Qty on_hand_b = rec_b.balances.empty() ? 0 : rec_b.balances[0].balance.on_hand;
    int b_failures = 0;
    for (int i = 0; i < 30; ++i) {
      const absl::Status st = b->commit(
          CommitBatch{{receiveCommit(item, loc, rec_b.epoch, last_b, kPer, &on_hand_b, "b-")}});
      if (!st.ok()) {
        ++b_failures;
        qWarning("B: %s", st.ToString().c_str());
        break;
      }
      last_b += kPer;
    }
    stop = true;
    writer_a.join();
    zombie.join();
    QCOMPARE(b_failures, 0);
    QVERIFY2(a_error.empty(), a_error.c_str());
    QVERIFY(a_fenced);  // A's first commit after the takeover was refused
    QCOMPARE(zombie_ok.load(), 0);
    QVERIFY(zombie_fenced > 0);
    QVERIFY(a_acked <= rec_b.last_seq);
    qInfo("A acked %llu entries before the takeover; B wrote %llu..%llu; zombie refused %d times",
          static_cast<unsigned long long>(a_acked.load()),
          static_cast<unsigned long long>(rec_b.last_seq + 1),
          static_cast<unsigned long long>(last_b), zombie_fenced.load());

    DEPOT_ASSIGN_OR_FAIL(entries, b->readLedger(item.shard, 0, last_b + 100, 100000));
    QCOMPARE(entries.size(), static_cast<std::size_t>(last_b));
    for (std::size_t i = 0; i < entries.size(); ++i) {
      QCOMPARE(entries[i].seq, Seq{i + 1});
      const char want = entries[i].seq <= rec_b.last_seq ? 'a' : 'b';
      QCOMPARE(entries[i].request_id[0], want);
      QCOMPARE(entries[i].on_hand_after, static_cast<Qty>(i + 1));
    }
  }

  // A server that is slow (here: a lock held by another session) makes
  // calls fail with DEADLINE_EXCEEDED (or UNAVAILABLE) after the statement
  // timeout; the store works again as soon as the server does.
  // Shard leases (PostgresCluster): a live lease keeps others out; once it
  // expires another node takes the shard with a new epoch, and the old
  // owner can neither commit (fenced) nor renew nor release it any more.
  void leasesMoveWithANewEpochAndFenceTheOldOwner() {
    const std::string db = freshDatabase();
    auto store = openStore(db);
    QVERIFY(store);
    DEPOT_ASSIGN_OR_FAIL(items, store->upsertItems({makeItem("LEASE-1")}));
    DEPOT_ASSIGN_OR_FAIL(locations, store->upsertLocations({{0, "east", "A-01"}}));
    const ShardId shard = items[0].shard;
    auto node = [&](const char* id) {
      PostgresCluster::Options o;
      o.dsn = g_pg->dsn(db);
      o.node_id = id;
      o.endpoint = std::string("127.0.0.1:1") + id;
      o.lease_ttl = Millis(1000);
      auto c = PostgresCluster::create(o);
      return c.ok() ? *std::move(c) : nullptr;
    };
    auto a = node("a");
    auto b = node("b");
    QVERIFY(a && b);
    DEPOT_VERIFY_OK(a->heartbeat());
    DEPOT_VERIFY_OK(b->heartbeat());
    DEPOT_ASSIGN_OR_FAIL(epoch_a, a->acquire(shard));
    QVERIFY(epoch_a.has_value());
    DEPOT_ASSIGN_OR_FAIL(refused, b->acquire(shard));
    QVERIFY(!refused.has_value());  // a's lease is live
    DEPOT_ASSIGN_OR_FAIL(rec_a, store->recoverShard(shard, 0, 0));
    QCOMPARE(rec_a.epoch, *epoch_a);
    Qty on_hand = 0;
    DEPOT_VERIFY_OK(store->commit(
        CommitBatch{{receiveCommit(items[0], locations[0], rec_a.epoch, 0, 2, &on_hand, "a-")}}));

    QTest::qWait(1300);  // a stops renewing: its lease runs out
    DEPOT_ASSIGN_OR_FAIL(view, b->view());
    QCOMPARE(view.nodes.size(), std::size_t{2});
    QVERIFY(view.shards[shard].expired);
    QCOMPARE(view.shards[shard].owner, std::string("a"));
    DEPOT_ASSIGN_OR_FAIL(epoch_b, b->acquire(shard));
    QVERIFY(epoch_b.has_value());
    QCOMPARE(*epoch_b, *epoch_a + 1);

    // The old owner: fenced, not renewed, cannot release the new lease.
    Qty stale = on_hand;
    auto fenced = store->commit(
        CommitBatch{{receiveCommit(items[0], locations[0], *epoch_a, 2, 1, &stale, "z-")}});
    QCOMPARE(fenced.code(), absl::StatusCode::kFailedPrecondition);
    DEPOT_ASSIGN_OR_FAIL(renewed_a, a->renew());
    QVERIFY(renewed_a.empty());
    DEPOT_VERIFY_OK(a->release(shard, *epoch_a));
    DEPOT_ASSIGN_OR_FAIL(after, b->view());
    QCOMPARE(after.shards[shard].owner, std::string("b"));
    QVERIFY(!after.shards[shard].expired);
    DEPOT_ASSIGN_OR_FAIL(seqs, store->lastSeqs());
    QCOMPARE(seqs[shard], Seq{2});

    // The new owner commits after the old one's last seq; a release frees
    // the lease at once; leave() removes the node row.
    DEPOT_ASSIGN_OR_FAIL(rec_b, store->recoverShard(shard, 0, 0));
    QCOMPARE(rec_b.epoch, *epoch_b);
    DEPOT_VERIFY_OK(store->commit(
        CommitBatch{{receiveCommit(items[0], locations[0], rec_b.epoch, 2, 1, &on_hand, "b-")}}));
    DEPOT_VERIFY_OK(b->release(shard, *epoch_b));
    DEPOT_ASSIGN_OR_FAIL(freed, a->view());
    QVERIFY(freed.shards[shard].owner.empty());
    DEPOT_VERIFY_OK(b->leave());
    DEPOT_ASSIGN_OR_FAIL(left, a->view());
    QCOMPARE(left.nodes.size(), std::size_t{1});
  }

  // A commit wakes a LISTENing node (the cross-node Watch); an idle
  // database does not.
  void commitsNotifyListeners() {
    const std::string db = freshDatabase();
    auto store = openStore(db);
    QVERIFY(store);
    DEPOT_ASSIGN_OR_FAIL(items, store->upsertItems({makeItem("NOTE-1")}));
    DEPOT_ASSIGN_OR_FAIL(locations, store->upsertLocations({{0, "east", "A-01"}}));
    LedgerListener listener(g_pg->dsn(db));
    DEPOT_ASSIGN_OR_FAIL(first, listener.wait(Millis(100)));
    QVERIFY(first);  // a fresh connection reports once: re-read the tail
    DEPOT_ASSIGN_OR_FAIL(idle, listener.wait(Millis(200)));
    QVERIFY(!idle);
    DEPOT_ASSIGN_OR_FAIL(rec, store->recoverShard(items[0].shard, 0, 0));
    Qty on_hand = 0;
    DEPOT_VERIFY_OK(store->commit(
        CommitBatch{{receiveCommit(items[0], locations[0], rec.epoch, 0, 3, &on_hand, "n-")}}));
    DEPOT_ASSIGN_OR_FAIL(woken, listener.wait(Millis(2000)));
    QVERIFY(woken);
  }

  void slowServerGivesDeadlineExceeded() {
    const std::string db = freshDatabase();
    auto store = openStore(db, Millis(700));
    QVERIFY(store);
    DEPOT_ASSIGN_OR_FAIL(items, store->upsertItems({makeItem("SLOW-1")}));
    DEPOT_ASSIGN_OR_FAIL(locations, store->upsertLocations({{0, "east", "S-01"}}));
    DEPOT_ASSIGN_OR_FAIL(rec, store->recoverShard(items[0].shard, 0, 0));
    PGconn* locker = PQconnectdb((g_pg->dsn(db) + " connect_timeout=10").c_str());
    QCOMPARE(PQstatus(locker), CONNECTION_OK);
    PQclear(PQexec(locker, "BEGIN; LOCK TABLE shards IN ACCESS EXCLUSIVE MODE"));
    Qty on_hand = 0;
    const auto start = std::chrono::steady_clock::now();
    const absl::Status st = store->commit(
        CommitBatch{{receiveCommit(items[0], locations[0], rec.epoch, 0, 3, &on_hand, "s-")}});
    const double took = secondsSince(start);
    QVERIFY2(st.code() == absl::StatusCode::kDeadlineExceeded ||
                 st.code() == absl::StatusCode::kUnavailable,
             statusText(st).constData());
    QVERIFY2(took < 0.7 + 0.5, qPrintable(QString("took %1 s").arg(took)));
    const auto read_start = std::chrono::steady_clock::now();
    const absl::Status read = store->lastSeqs().status();
    QVERIFY(!read.ok());
    QVERIFY(secondsSince(read_start) < 1.2);
    qInfo("slow server: commit -> %s after %.3f s", st.ToString().c_str(), took);
    PQclear(PQexec(locker, "ROLLBACK"));
    PQfinish(locker);
    on_hand = 0;
    DEPOT_VERIFY_OK(store->commit(
        CommitBatch{{receiveCommit(items[0], locations[0], rec.epoch, 0, 3, &on_hand, "s-")}}));
    DEPOT_ASSIGN_OR_FAIL(seqs, store->lastSeqs());
    QCOMPARE(seqs[items[0].shard], Seq{3});
  }

  // A server that stops answering (SIGSTOP: TCP still accepts) gives
  // UNAVAILABLE within the timeout instead of a hang, for commits, reads and
  // new connections; after SIGCONT the same store works again.
  void stoppedServerGivesUnavailableInTime() {
    const std::string db = freshDatabase();
    auto store = openStore(db, Millis(800));
    QVERIFY(store);
    DEPOT_ASSIGN_OR_FAIL(items, store->upsertItems({makeItem("STOP-1")}));
    DEPOT_ASSIGN_OR_FAIL(locations, store->upsertLocations({{0, "east", "P-01"}}));
    DEPOT_ASSIGN_OR_FAIL(rec, store->recoverShard(items[0].shard, 0, 0));
    g_pg->pause();
    Qty on_hand = 0;
    auto start = std::chrono::steady_clock::now();
    const absl::Status commit = store->commit(
        CommitBatch{{receiveCommit(items[0], locations[0], rec.epoch, 0, 2, &on_hand, "p-")}});
    const double commit_took = secondsSince(start);
    start = std::chrono::steady_clock::now();
    const absl::Status read = store->loadItems().status();
    const double read_took = secondsSince(start);
    start = std::chrono::steady_clock::now();
    const absl::Status open = openStatus(db, Millis(800)).status();
    const double open_took = secondsSince(start);
    g_pg->resume();
    qInfo("stopped server: commit %.3f s, read %.3f s, open %.3f s", commit_took, read_took,
          open_took);
    DEPOT_VERIFY_CODE(commit, absl::StatusCode::kUnavailable);
    DEPOT_VERIFY_CODE(read, absl::StatusCode::kUnavailable);
    DEPOT_VERIFY_CODE(open, absl::StatusCode::kUnavailable);
    for (double took : {commit_took, read_took, open_took}) QVERIFY(took < 0.8 + 0.5);

    // The commit's outcome was unknown to the client; the server never got
    // to run it or ran it after resuming. Either way the store converges.
    auto recovered = [&]() -> absl::Status {
      absl::Status st;
      for (int i = 0; i < 3; ++i) {
        st = store->lastSeqs().status();
        if (st.ok()) return st;
      }
      return st;
    };
    DEPOT_VERIFY_OK(recovered());
    DEPOT_ASSIGN_OR_FAIL(after, store->recoverShard(items[0].shard, 0, 0));
    QVERIFY(after.last_seq == 0 || after.last_seq == 2);
    on_hand = static_cast<Qty>(after.last_seq);
    DEPOT_VERIFY_OK(store->commit(CommitBatch{
        {receiveCommit(items[0], locations[0], after.epoch, after.last_seq, 2, &on_hand, "q-")}}));
  }

  // A PostgreSQL restart: calls while it is down fail fast with UNAVAILABLE;
  // after it is back, the store reconnects by itself (every pooled
  // connection) and nothing committed is lost.
  void reconnectsAfterRestart() {
    const std::string db = freshDatabase();
    auto store = openStore(db, Millis(2000));
    QVERIFY(store);
    DEPOT_ASSIGN_OR_FAIL(items, store->upsertItems({makeItem("RESTART-1")}));
    DEPOT_ASSIGN_OR_FAIL(locations, store->upsertLocations({{0, "east", "R-01"}}));
    DEPOT_ASSIGN_OR_FAIL(rec, store->recoverShard(items[0].shard, 0, 0));
    Qty on_hand = 0;
    DEPOT_VERIFY_OK(store->commit(
        CommitBatch{{receiveCommit(items[0], locations[0], rec.epoch, 0, 4, &on_hand, "r-")}}));
    for (int i = 0; i < 3; ++i) DEPOT_VERIFY_OK(store->loadItems().status());  // warm the pool

    g_pg->stop();
    auto start = std::chrono::steady_clock::now();
    Qty down_on_hand = on_hand;
    DEPOT_VERIFY_CODE(store->commit(CommitBatch{{receiveCommit(
                          items[0], locations[0], rec.epoch, 4, 1, &down_on_hand, "x-")}}),
                      absl::StatusCode::kUnavailable);
    DEPOT_VERIFY_CODE(store->lastSeqs().status(), absl::StatusCode::kUnavailable);
    QVERIFY(secondsSince(start) < 1.0);  // refused connections fail at once

    QVERIFY(g_pg->restart());
    // Every call after the restart succeeds: idle connections the server
    // closed are noticed and replaced before use.
    for (int i = 0; i < 6; ++i) DEPOT_VERIFY_OK(store->loadItems().status());
    DEPOT_VERIFY_OK(store->commit(
        CommitBatch{{receiveCommit(items[0], locations[0], rec.epoch, 4, 4, &on_hand, "r-")}}));
    DEPOT_ASSIGN_OR_FAIL(entries, store->readLedger(items[0].shard, 0, 100, 100));
    QCOMPARE(entries.size(), std::size_t{8});
  }

  // Throughput of 10,000-entry group commits (one round trip each); prints
  // the figure, asserts only that it works.
  void commitThroughput10k() {
    auto store = openStore(freshDatabase());
    QVERIFY(store);
    std::vector<Item> catalog(2000);
    for (int i = 0; i < 2000; ++i) catalog[i] = makeItem("TP-" + std::to_string(i));
    DEPOT_ASSIGN_OR_FAIL(items, store->upsertItems(catalog));
    std::vector<Location> bins(50);
    for (int i = 0; i < 50; ++i) bins[i] = {0, "east", "T-" + std::to_string(i)};
    DEPOT_ASSIGN_OR_FAIL(locations, store->upsertLocations(bins));
    std::array<Seq, kShardCount> last{};
    std::map<std::pair<ItemId, LocationId>, Qty> on_hand;
    constexpr int kBatches = 4;
    constexpr int kRows = 10000;
    double seconds = 0;
    for (int round = 0; round < kBatches; ++round) {
      std::map<ShardId, ShardCommit> by_shard;
      std::map<std::pair<ItemId, LocationId>, std::pair<ShardId, BalanceRow>> touched;
      for (int i = 0; i < kRows; ++i) {
        const Item& item = items[(i * 7919 + round) % items.size()];
        const Location& loc = locations[(i + round) % locations.size()];
        ShardCommit& sc = by_shard[item.shard];
        sc.shard = item.shard;
        sc.epoch = 1;
        sc.expected_last_seq = last[item.shard];
        Qty& q = on_hand[{item.id, loc.id}];
        q += 1;
        LedgerEntry e;
        e.shard = item.shard;
        e.seq = sc.expected_last_seq + sc.entries.size() + 1;
        e.request_id = "tp-" + std::to_string(round) + "-" + std::to_string(i);
        e.item = item.id;
        e.location = loc.id;
        e.d_on_hand = 1;
        e.on_hand_after = q;
        e.actor = "bench";
        e.ts = 1000 + round;
        RequestRecord r;
        r.request_id = e.request_id;
        r.shard = item.shard;
        r.outcome.first_seq = e.seq;
        r.outcome.entries = 1;
        r.outcome.after = {{loc.id, Balance{q, 0}}};
        r.ts = e.ts;
        sc.entries.push_back(std::move(e));
        sc.requests.push_back(std::move(r));
        touched[{item.id, loc.id}] = {item.shard, BalanceRow{item.id, loc.id, {q, 0}, 1000 + round}};
      }
      CommitBatch batch;
      for (auto& [key, value] : touched) by_shard[value.first].balances.push_back(value.second);
      for (auto& [shard, sc] : by_shard) {
        last[shard] += sc.entries.size();
        batch.shards.push_back(std::move(sc));
      }
      const auto start = std::chrono::steady_clock::now();
      DEPOT_VERIFY_OK(store->commit(batch));
      seconds += secondsSince(start);
    }
    qInfo("postgres commit: %d batches of %d entries (with idempotency records and balances): "
          "%.0f ledger rows/s",
          kBatches, kRows, kBatches * kRows / seconds);
    DEPOT_ASSIGN_OR_FAIL(seqs, store->lastSeqs());
    Seq total = 0;
    for (Seq s : seqs) total += s;
    QCOMPARE(total, Seq{kBatches * kRows});
  }
};

// Stands in for every suite when no server can be started.
class SkipPostgres : public QObject {
  Q_OBJECT

 public:
  explicit SkipPostgres(std::string why) : m_why(std::move(why)) {}

 private slots:
  void initTestCase() { QSKIP(m_why.c_str()); }
  void postgresTests() {}

 private:
  std::string m_why;
};

}  // namespace depot::testing

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  std::string why;
  auto pg = depot::testing::PgInstance::start(&why);
  if (!pg) {
    depot::testing::SkipPostgres skip(why);
    return QTest::qExec(&skip, argc, argv);
  }
  depot::testing::g_pg = pg.get();
  depot::testing::StoreContract contract([&]() -> std::unique_ptr<depot::Store> {
    return depot::testing::openStore(depot::testing::freshDatabase());
  });
  depot::testing::TestPostgresStore postgres;
  int status = QTest::qExec(&contract, argc, argv);
  status |= QTest::qExec(&postgres, argc, argv);
  return status;
}

#include "test_postgres_store.moc"
