// SqliteStore: the engine-independent Store contract, plus what only the
// SQLite engine has (file handling, pragmas, migrations, corruption, crash
// durability, the blob codecs).
//
// `test_sqlite_store --child-writer <path>` is the helper process of the
// kill -9 test: it commits forever and prints "acked <seq>" after every
// commit() that returned OK.
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <cstdio>
#include <random>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "store/sqlite/commit_log.h"
#include "store/sqlite/sqlite_codec.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_legacy_commit_log.h"
#include "store/sqlite/sqlite_paced_vfs.h"
#include "store/sqlite/sqlite_schema.h"
#include "store/sqlite/sqlite_store.h"
#include "store_contract.h"

namespace depot::testing {
namespace {

std::unique_ptr<SqliteStore> openStore(
    const std::string& path, SqliteStore::Options::Sync sync = SqliteStore::Options::Sync::kFull) {
  SqliteStore::Options options;
  options.path = path;
  options.sync = sync;
  auto store = SqliteStore::open(options);
  if (!store.ok()) {
    qWarning("SqliteStore::open(%s): %s", path.c_str(), store.status().ToString().c_str());
    return nullptr;
  }
  return *std::move(store);
}

// Creates the store file at `path`; its ledger id, "" if it did not open.
std::string createStore(const std::string& path) {
  auto store = openStore(path);
  return store ? store->ledgerId() : std::string();
}

// Appends `blobs` as records first_id, first_id + 1, ... to the commit log
// of the store at `path`, each synced: commits a depotd made durable and
// died before applying.
absl::Status appendToLog(const std::string& path, const std::string& ledger_id,
                         std::int64_t first_id, const std::vector<std::string>& blobs) {
  auto log = sqlite::CommitLog::open(sqlite::CommitLog::dirFor(path), ledger_id, {});
  if (!log.ok()) return log.status();
  if (auto st = (*log)->startAppending(first_id); !st.ok()) return st;
  std::int64_t id = first_id;
  for (const std::string& blob : blobs) {
    auto lsn = (*log)->append(id++, blob);
    if (!lsn.ok()) return lsn.status();
    if (auto st = (*log)->sync(*lsn); !st.ok()) return st;
  }
  return absl::OkStatus();
}

absl::Status openStatus(const std::string& path) {
  SqliteStore::Options options;
  options.path = path;
  return SqliteStore::open(options).status();
}

QByteArray readFile(const QString& path) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) return {};
  return file.readAll();
}

bool writeFile(const QString& path, const QByteArray& data) {
  QFile file(path);
  return file.open(QIODevice::WriteOnly | QIODevice::Truncate) && file.write(data) == data.size();
}

Item makeItem(const std::string& sku) {
  Item item;
  item.sku = sku;
  item.description = "d";
  return item;
}

// A batch using every field of every row kind, with extreme values.
CommitBatch sampleBatch() {
  CommitBatch batch;
  for (ShardId shard : {ShardId{0}, ShardId{kShardCount - 1}}) {
    ShardCommit sc;
    sc.shard = shard;
    sc.epoch = shard + 7;
    sc.expected_last_seq = shard * 1000;
    for (int i = 0; i < 3; ++i) {
      LedgerEntry e;
      e.shard = shard;
      e.seq = sc.expected_last_seq + 1 + i;
      e.request_id = std::string("req\0", 4) + std::to_string(i);
      e.kind = i == 0 ? MovementKind::kReceive : MovementKind::kShip;
      e.item = std::numeric_limits<ItemId>::max() - i;
      e.location = 3 + i;
      e.d_on_hand = -5 * i;
      e.d_reserved = std::numeric_limits<Qty>::min() + i;
      e.on_hand_after = std::numeric_limits<Qty>::max() - i;
      e.reserved_after = i;
      e.actor = "actor";
      e.reason = std::string(300, 'r');
      e.ref = i == 2 ? "" : "ORDER-1";
      e.ts = -1 + i;
      sc.entries.push_back(e);
    }
    sc.balances.push_back(BalanceRow{9, 10, {-1, 2}, 123456789});
    RequestRecord r;
    r.request_id = "r";
    r.shard = shard;
    r.fingerprint = 0xfedcba9876543210ULL;
    r.outcome.after = {{3, {4, 5}}};
    r.ts = 77;
    sc.requests.push_back(r);
    Hold h;
    h.order_id = "ORDER-1";
    h.shard = shard;
    h.request_id = "r";
    h.state = HoldState::kCommitted;
    h.lines = {{1, 2, 3}, {4, 5, -6}};
    h.actor = "a";
    h.created_at = 1;
    h.expires_at = 2;
    h.closed_at = 3;
    sc.holds.push_back(h);
    CountRecord c;
    c.count_id = "count-1";
    c.shard = shard;
    c.item = 8;
    c.location = 9;
    c.counted = 10;
    c.counted_at = 11;
    c.expected = 12;
    c.variance = -2;
    c.state = CountState::kApproved;
    c.session_id = "s";
    c.counter = "c";
    c.blind = true;
    c.submitted_at = 13;
    c.decided_by = "d";
    c.note = std::string("n\0", 2);
    c.decided_at = 14;
    c.applied_seq = 15;
    sc.counts.push_back(c);
    batch.shards.push_back(sc);
  }
  return batch;
}

// The helper process of killDuringCommitsLosesNothingAcknowledged.
int runChildWriter(const char* path) {
  auto store = openStore(path);
  if (!store) return 2;
  auto items = store->upsertItems({makeItem("KILL-1")});
  auto locations = store->upsertLocations({{0, "east", "K-01"}});
  if (!items.ok() || !locations.ok()) return 3;
  const Item& item = (*items)[0];
  auto recovery = store->recoverShard(item.shard, 0, 0);
  if (!recovery.ok()) return 4;
  Seq last = recovery->last_seq;
  Qty on_hand = recovery->balances.empty() ? 0 : recovery->balances[0].balance.on_hand;
  for (int round = 0; round < 1'000'000; ++round) {
    ShardCommit sc;
    sc.shard = item.shard;
    sc.epoch = recovery->epoch;
    sc.expected_last_seq = last;
    for (int i = 0; i < 50; ++i) {
      LedgerEntry e;
      e.shard = item.shard;
      e.seq = last + 1 + i;
      e.request_id = "k-" + std::to_string(e.seq);
      e.item = item.id;
      e.location = (*locations)[0].id;
      e.d_on_hand = 1;
      e.on_hand_after = ++on_hand;
      e.ts = round;
      sc.entries.push_back(e);
    }
    sc.balances.push_back(BalanceRow{item.id, (*locations)[0].id, {on_hand, 0}, round});
    if (!store->commit(CommitBatch{{sc}}).ok()) return 5;
    last += 50;
    std::printf("acked %llu\n", static_cast<unsigned long long>(last));
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

class TestSqliteStore : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir m_dir;
  int m_files = 0;
  std::string freshPath() {
    return m_dir.filePath(QStringLiteral("sqlite-%1.db").arg(++m_files)).toStdString();
  }

 private slots:
  void initTestCase() { QVERIFY(m_dir.isValid()); }

  // ---- codecs ----

  void afterAndHoldLinesRoundTrip() {
    const std::vector<sqlite::AfterList> afters = {
        {},
        {{0, {0, 0}}},
        {{5, {-1, -2}},
         {std::numeric_limits<LocationId>::max(),
          {std::numeric_limits<Qty>::min(), std::numeric_limits<Qty>::max()}}},
        {{1, {kMaxBalance, -kMaxBalance}}, {2, {300, 299}}, {3, {-64, 63}}}};
    std::string blob;
    for (const auto& after : afters) {
      sqlite::encodeAfter(after, &blob);
      if (after.empty()) QCOMPARE(blob.size(), std::size_t{0});
      DEPOT_ASSIGN_OR_FAIL(decoded, sqlite::decodeAfter(blob));
      QVERIFY(decoded == after);
    }
    sqlite::encodeAfter({{7, {3, 1}}}, &blob);
    QVERIFY2(blob.size() <= 5, "a small triple stays small");

    const std::vector<std::vector<HoldLine>> holds = {
        {},
        {{1, 2, 3}},
        {{std::numeric_limits<ItemId>::max(), 0, -1},
         {0, std::numeric_limits<LocationId>::max(), std::numeric_limits<Qty>::min()}}};
    for (const auto& lines : holds) {
      sqlite::encodeHoldLines(lines, &blob);
      DEPOT_ASSIGN_OR_FAIL(decoded, sqlite::decodeHoldLines(blob));
      QCOMPARE(decoded.size(), lines.size());
      for (std::size_t i = 0; i < lines.size(); ++i) {
        QCOMPARE(decoded[i].item, lines[i].item);
        QCOMPARE(decoded[i].location, lines[i].location);
        QCOMPARE(decoded[i].qty, lines[i].qty);
      }
    }
  }

  void requestsRoundTrip() {
    std::vector<RequestRecord> records(4);
    records[0].request_id = "";
    records[0].fingerprint = 0;
    records[0].ts = 100;
    records[1].request_id = std::string("nul\0inside", 10);
    records[1].fingerprint = std::numeric_limits<std::uint64_t>::max();
    records[1].outcome = {
        absl::StatusCode::kFailedPrecondition, std::string("msg\0x", 5), 0, 0, {}};
    records[1].ts = 50;  // decreasing: negative delta
    records[2].request_id = "r2";
    records[2].outcome = {absl::StatusCode::kOk,
                          "",
                          std::numeric_limits<Seq>::max() >> 1,
                          70000,
                          {{1, {-3, 4}}, {2, {5, 0}}}};
    records[2].ts = std::numeric_limits<Micros>::min();
    records[3].request_id = std::string(128, 'x');
    records[3].ts = std::numeric_limits<Micros>::max();
    std::string blob;
    sqlite::encodeRequests(std::vector<RequestRecord>{}, &blob);
    QCOMPARE(blob.size(), std::size_t{0});
    sqlite::encodeRequests(records, &blob);
    std::vector<RequestRecord> decoded;
    DEPOT_VERIFY_OK(sqlite::decodeRequests(blob, 17, &decoded));
    QCOMPARE(decoded.size(), records.size());
    for (std::size_t i = 0; i < records.size(); ++i) {
      QCOMPARE(bytes(decoded[i].request_id), bytes(records[i].request_id));
      QCOMPARE(decoded[i].shard, ShardId{17});
      QCOMPARE(decoded[i].fingerprint, records[i].fingerprint);
      QCOMPARE(static_cast<int>(decoded[i].outcome.code),
               static_cast<int>(records[i].outcome.code));
      QCOMPARE(bytes(decoded[i].outcome.message), bytes(records[i].outcome.message));
      QCOMPARE(decoded[i].outcome.first_seq, records[i].outcome.first_seq);
      QCOMPARE(decoded[i].outcome.entries, records[i].outcome.entries);
      QVERIFY(decoded[i].outcome.after == records[i].outcome.after);
      QCOMPARE(decoded[i].ts, records[i].ts);
    }
  }

  // Every damaged blob is DATA_LOSS or (for a flip that still parses) OK,
  // never a crash or a huge allocation.
  void codecsRejectCorruptBlobs() {
    std::string after;
    sqlite::encodeAfter({{1, {2, 3}}, {400, {-5000, 6}}}, &after);
    std::string lines;
    sqlite::encodeHoldLines({{1, 2, 3}, {4, 5, -600}}, &lines);
    std::string requests;
    RequestRecord r;
    r.request_id = "abc";
    r.outcome.after = {{1, {1, 1}}};
    sqlite::encodeRequests({r, r}, &requests);
    auto check = [](const std::string& blob) -> absl::Status {
      std::vector<RequestRecord> out;
      const absl::Status a = sqlite::decodeAfter(blob).status();
      const absl::Status h = sqlite::decodeHoldLines(blob).status();
      const absl::Status q = sqlite::decodeRequests(blob, 0, &out);
      const absl::Status b = sqlite::decodeCommitBatch(blob).status();
      for (const absl::Status& st : {a, h, q, b}) {
        if (!st.ok() && st.code() != absl::StatusCode::kDataLoss) return st;
      }
      return absl::OkStatus();
    };
    std::string batch;
    sqlite::encodeCommitBatch(sampleBatch(), &batch);
    for (const std::string& valid : {after, lines, requests, batch}) {
      for (std::size_t n = 1; n < valid.size(); ++n) {
        const std::string truncated = valid.substr(0, n);
        DEPOT_VERIFY_OK(check(truncated));
        QVERIFY(!sqlite::decodeAfter(truncated).ok() || valid != after);
      }
      DEPOT_VERIFY_OK(check(valid + '\0'));
      std::string bad_format = valid;
      bad_format[0] = 9;
      DEPOT_VERIFY_CODE(sqlite::decodeAfter(bad_format).status(), absl::StatusCode::kDataLoss);
      std::mt19937 rng(7);
      for (int i = 0; i < 500; ++i) {
        std::string flipped = valid;
        flipped[rng() % flipped.size()] ^= static_cast<char>(1 + rng() % 255);
        DEPOT_VERIFY_OK(check(flipped));
      }
    }
    DEPOT_VERIFY_CODE(sqlite::decodeAfter(after.substr(0, after.size() - 1)).status(),
                      absl::StatusCode::kDataLoss);
    DEPOT_VERIFY_CODE(sqlite::decodeAfter(after + "x").status(), absl::StatusCode::kDataLoss);
    const std::string huge_count("\x01\xff\xff\xff\xff\x0f", 6);
    DEPOT_VERIFY_CODE(sqlite::decodeAfter(huge_count).status(), absl::StatusCode::kDataLoss);
    const std::string overlong("\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12);
    DEPOT_VERIFY_CODE(sqlite::decodeHoldLines(overlong).status(), absl::StatusCode::kDataLoss);
    DEPOT_VERIFY_CODE(sqlite::decodeAfter(std::string("\x01\x00", 2)).status(),
                      absl::StatusCode::kDataLoss);
  }

  // Every field of every row kind survives the commit log's encoding; seqs
  // and shards come back from the ShardCommit.
  void commitBatchRoundTrip() {
    const CommitBatch batch = sampleBatch();
    std::string blob;
    sqlite::encodeCommitBatch(batch, &blob);
    DEPOT_ASSIGN_OR_FAIL(decoded, sqlite::decodeCommitBatch(blob));
    QCOMPARE(decoded.shards.size(), batch.shards.size());
    for (std::size_t s = 0; s < batch.shards.size(); ++s) {
      const ShardCommit& want = batch.shards[s];
      const ShardCommit& got = decoded.shards[s];
      QCOMPARE(got.shard, want.shard);
      QCOMPARE(got.epoch, want.epoch);
      QCOMPARE(got.expected_last_seq, want.expected_last_seq);
      StoreContract::compareEntryLists(got.entries, want.entries);
      if (QTest::currentTestFailed()) return;
      QCOMPARE(got.balances.size(), want.balances.size());
      for (std::size_t i = 0; i < want.balances.size(); ++i) {
        QCOMPARE(got.balances[i].item, want.balances[i].item);
        QCOMPARE(got.balances[i].location, want.balances[i].location);
        QVERIFY(got.balances[i].balance == want.balances[i].balance);
        QCOMPARE(got.balances[i].last_ts, want.balances[i].last_ts);
      }
      QCOMPARE(got.requests.size(), want.requests.size());
      for (std::size_t i = 0; i < want.requests.size(); ++i)
        StoreContract::compareRequests(got.requests[i], want.requests[i]);
      QCOMPARE(got.holds.size(), want.holds.size());
      for (std::size_t i = 0; i < want.holds.size(); ++i)
        StoreContract::compareHolds(got.holds[i], want.holds[i]);
      QCOMPARE(got.counts.size(), want.counts.size());
      for (std::size_t i = 0; i < want.counts.size(); ++i)
        StoreContract::compareCounts(got.counts[i], want.counts[i]);
    }
  }

  // ---- the commit log ----

  // A crash between the durable append and the applier: the record is only
  // in the log. open() applies it before anything can read the tables, and
  // then drops it.
  // What a writer killed right after its append leaves behind: a record in
  // the log that is not in the tables. Both log formats: the segment files,
  // and the SQLite file depotd wrote up to session 8 (applied, then removed).
  void unappliedLogRecordsAreReplayedOnOpen_data() {
    QTest::addColumn<bool>("legacy");
    QTest::newRow("segment log") << false;
    QTest::newRow("legacy sqlite log") << true;
  }
  void unappliedLogRecordsAreReplayedOnOpen() {
    QFETCH(bool, legacy);
    const std::string path = freshPath();
    Item item;
    Location location;
    std::string ledger_id;
    {
      auto store = openStore(path);
      QVERIFY(store);
      DEPOT_ASSIGN_OR_FAIL(items, store->upsertItems({makeItem("LOG-1")}));
      DEPOT_ASSIGN_OR_FAIL(locations, store->upsertLocations({{0, "east", "L-01"}}));
      item = items[0];
      location = locations[0];
      ledger_id = store->ledgerId();
      ModelLedger ledger(*store);
      ledger.move(item, location, 7, 0, 100);
      DEPOT_VERIFY_OK(ledger.commit());
    }
    // A clean close applied everything and removed the log.
    const QString log_dir = QString::fromStdString(sqlite::CommitLog::dirFor(path));
    QVERIFY(!QFileInfo::exists(log_dir));
    std::int64_t applied = 0;
    {
      auto db = sqlite::Db::open(path, SQLITE_OPEN_READONLY);
      DEPOT_VERIFY_OK(db.status());
      DEPOT_ASSIGN_OR_FAIL(
          id, db->queryInt("SELECT CAST(value AS INTEGER) FROM meta WHERE key='applied_log_id'"));
      applied = id;
    }
    QVERIFY(applied >= 1);
    {
      ShardCommit sc;
      sc.shard = item.shard;
      sc.epoch = 1;
      sc.expected_last_seq = 1;
      LedgerEntry e;
      e.shard = item.shard;
      e.seq = 2;
      e.request_id = "only-in-the-log";
      e.item = item.id;
      e.location = location.id;
      e.d_on_hand = 5;
      e.on_hand_after = 12;
      e.ts = 200;
      sc.entries.push_back(e);
      sc.balances.push_back(BalanceRow{item.id, location.id, {12, 0}, 200});
      RequestRecord r;
      r.request_id = "only-in-the-log";
      r.shard = item.shard;
      r.ts = 200;
      sc.requests.push_back(r);
      std::string blob;
      sqlite::encodeCommitBatch(CommitBatch{{sc}}, &blob);
      if (legacy) {
        DEPOT_ASSIGN_OR_FAIL(
            log, sqlite::LegacyCommitLog::open(sqlite::LegacyCommitLog::pathFor(path),
                                               "PRAGMA synchronous=FULL", ledger_id, 5000));
        DEPOT_VERIFY_OK(log->append(applied + 1, blob));
      } else {
        DEPOT_VERIFY_OK(appendToLog(path, ledger_id, applied + 1, {blob}));
      }
    }
    auto store = openStore(path);
    QVERIFY(store);
    if (legacy) {
      QVERIFY2(!QFileInfo::exists(QString::fromStdString(sqlite::LegacyCommitLog::pathFor(path))),
               "the legacy log was not removed once applied");
    }
    DEPOT_ASSIGN_OR_FAIL(r, store->recoverShard(item.shard, 0, 0));
    QCOMPARE(r.last_seq, Seq{2});
    QCOMPARE(r.balances.size(), std::size_t{1});
    QCOMPARE(r.balances[0].balance.on_hand, Qty{12});
    bool remembered = false;
    for (const RecoveredRequest& rec : r.requests)
      remembered |= rec.key == requestKey("only-in-the-log");
    QVERIFY2(remembered, "the replayed commit's idempotency record was not restored");
    DEPOT_ASSIGN_OR_FAIL(entries, store->readLedger(item.shard, 0, 2, 10));
    QCOMPARE(entries.size(), std::size_t{2});
    QCOMPARE(bytes(entries[1].request_id), QByteArray("only-in-the-log"));
    // Commits continue after the replayed seq, and ids after the replayed id.
    ModelLedger ledger(*store);
    DEPOT_VERIFY_OK(ledger.recover(item.shard, 0, 0).status());
    ledger.move(item, location, 1, 0, 300);
    DEPOT_VERIFY_OK(ledger.commit());
    DEPOT_ASSIGN_OR_FAIL(after, store->lastSeqs());
    QCOMPARE(after[item.shard], Seq{3});
  }

  // The idempotency records of one applier round go to one requests row per
  // shard (not one per commit), in commit order: a request_id committed
  // twice recovers with its later outcome. The round here is the replay of
  // three commits left in the log.
  void requestsOfARoundAreOneRowPerShard() {
    const std::string path = freshPath();
    const std::string ledger_id = createStore(path);
    QVERIFY(!ledger_id.empty());
    constexpr ShardId kA = 3;
    constexpr ShardId kB = 7;
    auto request = [](ShardId shard, const std::string& id, absl::StatusCode code, Micros ts) {
      RequestRecord r;
      r.request_id = id;
      r.shard = shard;
      r.fingerprint = 42;
      r.outcome.code = code;
      r.ts = ts;
      return r;
    };
    auto commit = [](ShardId shard, std::vector<RequestRecord> requests) {
      ShardCommit sc;
      sc.shard = shard;
      sc.epoch = 1;
      sc.requests = std::move(requests);
      return sc;
    };
    const std::vector<CommitBatch> batches = {
        {{commit(kA, {request(kA, "dup", absl::StatusCode::kOk, 100)})}},
        {{commit(kA, {request(kA, "dup", absl::StatusCode::kFailedPrecondition, 200),
                      request(kA, "a2", absl::StatusCode::kOk, 200)}),
          commit(kB, {request(kB, "b1", absl::StatusCode::kOk, 200)})}},
        {{commit(kB, {request(kB, "b2", absl::StatusCode::kOk, 300)})}},
    };
    {
      auto db = sqlite::Db::open(path, SQLITE_OPEN_READONLY);
      DEPOT_VERIFY_OK(db.status());
      DEPOT_ASSIGN_OR_FAIL(
          applied,
          db->queryInt("SELECT CAST(value AS INTEGER) FROM meta WHERE key='applied_log_id'"));
      std::vector<std::string> blobs(batches.size());
      for (std::size_t i = 0; i < batches.size(); ++i)
        sqlite::encodeCommitBatch(batches[i], &blobs[i]);
      DEPOT_VERIFY_OK(appendToLog(path, ledger_id, applied + 1, blobs));
    }
    auto store = openStore(path);
    QVERIFY(store);
    DEPOT_ASSIGN_OR_FAIL(a, store->recoverShard(kA, 0, 0));
    DEPOT_ASSIGN_OR_FAIL(b, store->recoverShard(kB, 0, 0));
    auto codes = [](const ShardRecovery& r) {
      absl::flat_hash_map<RequestKey, absl::StatusCode> out;
      for (const RecoveredRequest& rec : r.requests) {
        const bool fresh = out.emplace(rec.key, rec.remembered.code).second;
        if (!fresh) qWarning("a request id was recovered twice");
      }
      return out;
    };
    const absl::flat_hash_map<RequestKey, absl::StatusCode> want_a = {
        {requestKey("dup"), absl::StatusCode::kFailedPrecondition},
        {requestKey("a2"), absl::StatusCode::kOk}};
    const absl::flat_hash_map<RequestKey, absl::StatusCode> want_b = {
        {requestKey("b1"), absl::StatusCode::kOk}, {requestKey("b2"), absl::StatusCode::kOk}};
    QCOMPARE(a.requests.size(), std::size_t{2});
    QVERIFY(codes(a) == want_a);
    QCOMPARE(b.requests.size(), std::size_t{2});
    QVERIFY(codes(b) == want_b);
    auto db = sqlite::Db::open(path, SQLITE_OPEN_READONLY);
    DEPOT_VERIFY_OK(db.status());
    DEPOT_ASSIGN_OR_FAIL(rows, db->queryInt("SELECT count(*) FROM requests"));
    QCOMPARE(rows, std::int64_t{2});
    DEPOT_ASSIGN_OR_FAIL(newest_b, db->queryInt("SELECT max_ts FROM requests WHERE shard = 7"));
    QCOMPARE(newest_b, std::int64_t{300});  // a row is pruned only once all its records are old
  }

  // A log whose records are gone (a segment deleted by hand) is not papered
  // over: the store refuses to open, naming the missing records.
  void missingLogRecordsAreDataLoss() {
    const std::string path = freshPath();
    const std::string ledger_id = createStore(path);
    QVERIFY(!ledger_id.empty());
    DEPOT_VERIFY_OK(appendToLog(path, ledger_id, 50, {"x"}));  // the tables hold none of 1..49
    const absl::Status st = openStatus(path);
    DEPOT_VERIFY_CODE(st, absl::StatusCode::kDataLoss);
    QVERIFY2(st.message().find("are missing") != std::string_view::npos,
             std::string(st.message()).c_str());
  }

  // A log copied in from another data set is never applied.
  void foreignLogIsRefused_data() {
    QTest::addColumn<bool>("legacy");
    QTest::newRow("segment log") << false;
    QTest::newRow("legacy sqlite log") << true;
  }
  void foreignLogIsRefused() {
    QFETCH(bool, legacy);
    const std::string path = freshPath();
    { QVERIFY(openStore(path)); }
    if (legacy) {
      DEPOT_ASSIGN_OR_FAIL(
          log, sqlite::LegacyCommitLog::open(sqlite::LegacyCommitLog::pathFor(path),
                                             "PRAGMA synchronous=FULL", "another-ledger", 5000));
      (void)log;
    } else {
      DEPOT_ASSIGN_OR_FAIL(
          log, sqlite::CommitLog::open(sqlite::CommitLog::dirFor(path), "another-ledger", {}));
      DEPOT_VERIFY_OK(log->startAppending(1));
    }
    DEPOT_VERIFY_CODE(openStatus(path), absl::StatusCode::kFailedPrecondition);
  }

  // ---- files and pragmas ----

  void pragmasAreSet() {
    const std::string path = freshPath();
    auto store = openStore(path);
    QVERIFY(store);
    DEPOT_ASSIGN_OR_FAIL(d, store->diagnostics());
    QCOMPARE(bytes(d.journal_mode), QByteArray("wal"));
    QCOMPARE(d.synchronous, 2);  // FULL
    QVERIFY(d.busy_timeout_ms >= 1000);
    QCOMPARE(d.read_connections, 4);
    QVERIFY(d.readers_query_only);
    // WAL is recorded in the file header (bytes 18 and 19 are 2), so it holds
    // for every connection and survives a reopen.
    const QByteArray header = readFile(QString::fromStdString(path)).left(100);
    QCOMPARE(header.left(16), QByteArray("SQLite format 3\0", 16));
    QCOMPARE(static_cast<int>(header[18]), 2);
    QCOMPARE(static_cast<int>(header[19]), 2);
  }

  void syncOptionIsApplied_data() {
    QTest::addColumn<int>("sync");
    QTest::addColumn<int>("pragma");
    QTest::newRow("full") << static_cast<int>(SqliteStore::Options::Sync::kFull) << 2;
    QTest::newRow("normal") << static_cast<int>(SqliteStore::Options::Sync::kNormal) << 1;
    QTest::newRow("off") << static_cast<int>(SqliteStore::Options::Sync::kOff) << 0;
  }
  void syncOptionIsApplied() {
    QFETCH(int, sync);
    QFETCH(int, pragma);
    auto store = openStore(freshPath(), static_cast<SqliteStore::Options::Sync>(sync));
    QVERIFY(store);
    DEPOT_ASSIGN_OR_FAIL(d, store->diagnostics());
    QCOMPARE(d.synchronous, pragma);
  }

  // Commits never checkpoint; the background thread copies the WAL into the
  // database file once it passes Checkpointer::kNudgeFrames pages.
  void walIsCheckpointedInTheBackground() {
    const std::string path = freshPath();
    auto store = openStore(path, SqliteStore::Options::Sync::kOff);
    QVERIFY(store);
    DEPOT_ASSIGN_OR_FAIL(items, store->upsertItems({makeItem("WAL-1")}));
    DEPOT_ASSIGN_OR_FAIL(locations, store->upsertLocations({{0, "east", "A-01"}}));
    const QString db_file = QString::fromStdString(path);
    const qint64 initial = QFileInfo(db_file).size();
    ModelLedger ledger(*store);
    for (int c = 0; c < 6; ++c) {  // ~6 x 4 MiB of WAL
      for (int i = 0; i < 8000; ++i)
        ledger.move(items[0], locations[0], 1, 0, c).reason.assign(400, 'r');
      DEPOT_VERIFY_OK(ledger.commit());
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (QFileInfo(db_file).size() < initial + 8 * 1024 * 1024 &&
           std::chrono::steady_clock::now() < deadline) {
      QThread::msleep(20);
    }
    QVERIFY2(QFileInfo(db_file).size() >= initial + 8 * 1024 * 1024,
             "the WAL was not checkpointed into the database file");
    DEPOT_ASSIGN_OR_FAIL(d, store->diagnostics());
    QVERIFY2(d.checkpoint_error.empty(), d.checkpoint_error.c_str());
  }

  // The paced VFS writes through unchanged and really starts writeback: it
  // found the wrapped file's descriptor (if a SQLite upgrade moved it, no
  // piece would start and this fails rather than pacing silently stopping).
  void pacedVfsWritesThroughAndStartsWriteback() {
    const std::string path = freshPath();
    const std::string blob(4000, 'p');
    constexpr int kRows = 2000;  // ~8 MiB
    const std::uint64_t before = sqlite::pacedWritebackPieces();
    {
      DEPOT_ASSIGN_OR_FAIL(db, sqlite::Db::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                                sqlite::Db::Writeback::kPaced));
      DEPOT_VERIFY_OK(
          db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                  "PRAGMA wal_autocheckpoint=0;"
                  "CREATE TABLE t(id INTEGER PRIMARY KEY, b BLOB)",
                  "setting up"));
      DEPOT_ASSIGN_OR_FAIL(txn, sqlite::Txn::begin(db, sqlite::Txn::Mode::kImmediate, "inserting"));
      DEPOT_ASSIGN_OR_FAIL(insert, db.prepare("INSERT INTO t(id, b) VALUES(?1, ?2)", true));
      for (int i = 1; i <= kRows; ++i) {
        sqlite::Stmt::Scope scope(insert);
        insert.bindInt(1, i);
        insert.bindBlob(2, blob);
        DEPOT_VERIFY_OK(insert.run("inserting"));
      }
      DEPOT_VERIFY_OK(txn.commit());
      const std::uint64_t after_wal = sqlite::pacedWritebackPieces();
      // ~8 MiB of WAL frames in 256 KiB pieces.
      QVERIFY2(after_wal - before >= 16, std::to_string(after_wal - before).c_str());
      // A checkpoint writes the database file through the VFS as well.
      DEPOT_VERIFY_OK(db.exec("PRAGMA wal_checkpoint(TRUNCATE)", "checkpoint"));
      const std::uint64_t by_checkpoint = sqlite::pacedWritebackPieces() - after_wal;
      QVERIFY2(by_checkpoint >= 16, std::to_string(by_checkpoint).c_str());
    }
    DEPOT_ASSIGN_OR_FAIL(plain, sqlite::Db::open(path, SQLITE_OPEN_READONLY));
    DEPOT_ASSIGN_OR_FAIL(check, plain.queryText("PRAGMA integrity_check"));
    QCOMPARE(QByteArray::fromStdString(check), QByteArray("ok"));
    DEPOT_ASSIGN_OR_FAIL(total, plain.queryInt("SELECT sum(length(b)) FROM t WHERE b = "
                                               "(SELECT b FROM t WHERE id = 1)"));
    QCOMPARE(total, std::int64_t{kRows} * static_cast<std::int64_t>(blob.size()));
  }

  // Applied segments leave the log while the store is open (one kept as a
  // spare and reused), and what the store holds afterwards is everything.
  void appliedSegmentsAreDroppedFromTheLog() {
    const std::string path = freshPath();
    const QString log_dir = QString::fromStdString(sqlite::CommitLog::dirFor(path));
    auto countFiles = [&](const char* pattern) {
      return QDir(log_dir).entryList({pattern}, QDir::Files).size();
    };
    constexpr int kCommits = 300;
    Item item;
    {
      SqliteStore::Options options;
      options.path = path;
      options.log_segment_bytes = 8 * 1024;  // 4 KiB of records each
      DEPOT_ASSIGN_OR_FAIL(store, SqliteStore::open(options));
      DEPOT_ASSIGN_OR_FAIL(items, store->upsertItems({makeItem("DROP-1")}));
      DEPOT_ASSIGN_OR_FAIL(locations, store->upsertLocations({{0, "east", "A-01"}}));
      item = items[0];
      ModelLedger ledger(*store);
      for (int c = 0; c < kCommits; ++c) {
        ledger.move(items[0], locations[0], 1, 0, c);
        DEPOT_VERIFY_OK(ledger.commit());
        // Acknowledged, and (the applier waits up to 1 s to fill a round)
        // still in the backlog that /metrics reports.
        if (c == 0) QVERIFY(store->unappliedEntries() >= 1);
      }
      QVERIFY2(countFiles("0*.seg") > 2, "the records did not span several segments");
      // A read waits for the applier (read-your-writes), so all are applied.
      DEPOT_ASSIGN_OR_FAIL(entries, store->readLedger(items[0].shard, 0, kCommits, kCommits + 1));
      QCOMPARE(entries.size(), std::size_t{kCommits});
      // Drops follow an applier round at most every 500 ms: keep committing
      // one record and reading it back until only the segment being
      // appended to is left.
      Seq seq = kCommits;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (countFiles("0*.seg") > 1 && std::chrono::steady_clock::now() < deadline) {
        ledger.move(items[0], locations[0], 1, 0, seq++);
        DEPOT_VERIFY_OK(ledger.commit());
        DEPOT_ASSIGN_OR_FAIL(last, store->readLedger(items[0].shard, seq - 1, seq, 1));
        QCOMPARE(last.size(), std::size_t{1});
        QThread::msleep(50);
      }
      QCOMPARE(countFiles("0*.seg"), 1);
      QVERIFY2(countFiles("spare-*.seg") <= 2, "spares pile up instead of being reused");
      DEPOT_ASSIGN_OR_FAIL(d, store->diagnostics());
      QVERIFY2(d.checkpoint_error.empty(), d.checkpoint_error.c_str());
      QVERIFY2(d.applier_error.empty(), d.applier_error.c_str());
    }
    // Nothing was lost to the drops: a reopened store holds every commit.
    auto store = openStore(path);
    QVERIFY(store);
    DEPOT_ASSIGN_OR_FAIL(lasts, store->lastSeqs());
    QVERIFY(lasts[item.shard] > Seq{kCommits});
    DEPOT_ASSIGN_OR_FAIL(all, store->readLedger(item.shard, 0, lasts[item.shard], kCommits * 2));
    QCOMPARE(all.size(), static_cast<std::size_t>(lasts[item.shard]));
  }

  void invalidOptions() {
    DEPOT_VERIFY_CODE(openStatus(""), absl::StatusCode::kInvalidArgument);
    DEPOT_VERIFY_CODE(openStatus(":memory:"), absl::StatusCode::kInvalidArgument);
    SqliteStore::Options options;
    options.path = freshPath();
    options.read_connections = 0;
    DEPOT_VERIFY_CODE(SqliteStore::open(options).status(), absl::StatusCode::kInvalidArgument);
    options.read_connections = 65;
    DEPOT_VERIFY_CODE(SqliteStore::open(options).status(), absl::StatusCode::kInvalidArgument);
    options.read_connections = 4;
    options.log_segment_bytes = 4096;  // refused before the file is created
    DEPOT_VERIFY_CODE(SqliteStore::open(options).status(), absl::StatusCode::kInvalidArgument);
    QVERIFY(!QFileInfo::exists(QString::fromStdString(options.path)));
    options.log_segment_bytes = sqlite::CommitLog::kMinSegmentBytes;
    options.read_connections = 1;
    auto one = SqliteStore::open(options);
    DEPOT_VERIFY_OK(one.status());
    DEPOT_ASSIGN_OR_FAIL(d, (*one)->diagnostics());
    QCOMPARE(d.read_connections, 1);
  }

  void createsOnlyTheFile() {
    const QString missing_dir = m_dir.filePath("missing");
    const absl::Status st = openStatus((missing_dir + "/x.db").toStdString());
    DEPOT_VERIFY_CODE(st, absl::StatusCode::kUnavailable);
    QVERIFY(!QFileInfo::exists(missing_dir));

    const QString dir = m_dir.filePath("only");
    QVERIFY(QDir().mkpath(dir));
    {
      auto store = openStore((dir + "/x.db").toStdString());
      QVERIFY(store);
    }
    // A clean close checkpoints and removes the -wal and -shm files.
    QCOMPARE(QDir(dir).entryList(QDir::Files), QStringList{"x.db"});
  }

  void reopenKeepsEverything() {
    const std::string path = freshPath();
    std::string ledger_id;
    Item item;
    Location location;
    {
      auto store = openStore(path);
      QVERIFY(store);
      ledger_id = store->ledgerId();
      QCOMPARE(store->schemaVersion(), sqlite::latestSchemaVersion());
      DEPOT_ASSIGN_OR_FAIL(items, store->upsertItems({makeItem("REOPEN-1")}));
      DEPOT_ASSIGN_OR_FAIL(locations, store->upsertLocations({{0, "east", "R-01"}}));
      item = items[0];
      location = locations[0];
      ModelLedger ledger(*store);
      for (int i = 0; i < 10; ++i) ledger.move(item, location, 3, i % 2, 100 + i);
      ShardCommit& p = ledger.pending(item.shard);
      RequestRecord r;
      r.request_id = "req-reopen";
      r.shard = item.shard;
      r.ts = 109;
      p.requests.push_back(r);
      DEPOT_VERIFY_OK(ledger.commit());
      Alert alert;
      alert.id = 7;
      alert.subject = "REOPEN-1";
      DEPOT_VERIFY_OK(store->saveAlert(alert));
      Silence silence;
      silence.expires_at = 1000;
      DEPOT_VERIFY_OK(store->addSilence(silence).status());
    }
    auto store = openStore(path);
    QVERIFY(store);
    QCOMPARE(bytes(store->ledgerId()), bytes(ledger_id));
    QCOMPARE(store->schemaVersion(), sqlite::latestSchemaVersion());
    DEPOT_ASSIGN_OR_FAIL(items, store->loadItems());
    QCOMPARE(items.size(), std::size_t{1});
    QCOMPARE(items[0].id, item.id);
    DEPOT_ASSIGN_OR_FAIL(r, store->recoverShard(item.shard, 0, 0));
    QCOMPARE(r.last_seq, Seq{10});
    QCOMPARE(r.epoch, std::uint64_t{1});
    QCOMPARE(r.balances.size(), std::size_t{1});
    QVERIFY((r.balances[0].balance == Balance{30, 5}));
    QCOMPARE(r.requests.size(), std::size_t{1});
    DEPOT_ASSIGN_OR_FAIL(next, store->nextAlertId());
    QCOMPARE(next, std::uint64_t{8});
    DEPOT_ASSIGN_OR_FAIL(silences, store->loadSilences(0));
    QCOMPARE(silences.size(), std::size_t{1});
    DEPOT_ASSIGN_OR_FAIL(entries, store->readLedger(item.shard, 0, 100, 100));
    QCOMPARE(entries.size(), std::size_t{10});
  }

  void ledgerIdsAreRandom() {
    auto a = openStore(freshPath());
    auto b = openStore(freshPath());
    QVERIFY(a && b);
    QVERIFY(a->ledgerId() != b->ledgerId());
    for (const std::string& id : {a->ledgerId(), b->ledgerId()}) {
      QCOMPARE(id.size(), std::size_t{32});
      QVERIFY(id.find_first_not_of("0123456789abcdef") == std::string::npos);
    }
  }

  // ---- schema versions ----

  void migratesFromVersion1() {
    const std::string path = freshPath();
    const ShardId shard = shardOf("OLD-1");
    {
      auto db = sqlite::Db::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
      DEPOT_VERIFY_OK(db.status());
      DEPOT_ASSIGN_OR_FAIL(version, sqlite::migrate(*db, 1));
      QCOMPARE(version, 1);
      const std::string sql = sqlite::cat(
          "INSERT INTO items(id, sku, description, unit, reorder_point, reorder_qty, shard) "
          "VALUES(5, 'OLD-1', 'from v1', 'ea', 3, 4, ",
          shard,
          ");"
          "INSERT INTO locations(id, warehouse, code) VALUES(2, 'east', 'A-01');"
          "INSERT INTO shards(shard, epoch, last_seq, last_ts) VALUES(",
          shard,
          ", 1, 1, 100);"
          "INSERT INTO ledger VALUES(",
          shard,
          ", 1, 'old-req', 1, 5, 2, 9, 0, 9, 0, 'a', '', '', 100);"
          "INSERT INTO balances VALUES(5, 2, 9, 0, 100);");
      DEPOT_VERIFY_OK(db->exec(sql.c_str(), "seeding a version 1 file"));
      DEPOT_ASSIGN_OR_FAIL(
          counts_table,
          db->queryInt(
              "SELECT count(*) FROM sqlite_schema WHERE name IN ('counts', 'alerts', 'silences')"));
      QCOMPARE(counts_table, std::int64_t{0});
    }
    auto store = openStore(path);
    QVERIFY(store);
    QCOMPARE(store->schemaVersion(), sqlite::latestSchemaVersion());
    QVERIFY(sqlite::latestSchemaVersion() > 1);
    DEPOT_ASSIGN_OR_FAIL(items, store->loadItems());
    QCOMPARE(items.size(), std::size_t{1});
    QCOMPARE(items[0].id, ItemId{5});
    QCOMPARE(bytes(items[0].description), QByteArray("from v1"));
    DEPOT_ASSIGN_OR_FAIL(r, store->recoverShard(shard, 0, 0));
    QCOMPARE(r.last_seq, Seq{1});
    QCOMPARE(r.balances.size(), std::size_t{1});
    // The entry written before version 5 is in its history chain.
    HistoryQuery hq;
    hq.item = 5;
    hq.limit = 10;
    DEPOT_ASSIGN_OR_FAIL(old_history, store->history(hq));
    QCOMPARE(old_history.size(), std::size_t{1});
    QCOMPARE(bytes(old_history[0].request_id), QByteArray("old-req"));
    DEPOT_ASSIGN_OR_FAIL(old_balance, store->balanceAt(5, 2, 100));
    QCOMPARE(old_balance.on_hand, Qty{9});
    // The tables added by later steps work.
    ShardCommit sc;
    sc.shard = shard;
    sc.epoch = r.epoch;
    sc.expected_last_seq = 1;
    CountRecord count;
    count.count_id = "after-migration";
    count.shard = shard;
    count.item = 5;
    count.location = 2;
    sc.counts.push_back(count);
    DEPOT_VERIFY_OK(store->commit(CommitBatch{{sc}}));
    DEPOT_ASSIGN_OR_FAIL(found, store->findCount("after-migration"));
    QVERIFY(found.has_value());
    Alert alert;
    alert.id = 1;
    DEPOT_VERIFY_OK(store->saveAlert(alert));
    store.reset();
    auto db = sqlite::Db::open(path, SQLITE_OPEN_READONLY);
    DEPOT_VERIFY_OK(db.status());
    DEPOT_ASSIGN_OR_FAIL(listed,
                         db->queryText("SELECT group_concat(version, ',') FROM "
                                       "(SELECT version FROM schema_version ORDER BY version)"));
    QCOMPARE(bytes(listed), QByteArray("1,2,3,4,5,6"));
  }

  // A version 4 file (history served by an index on the ledger) becomes
  // chains and marks: every history read and balanceAt still matches.
  void migratesHistoryToChains() {
    const std::string path = freshPath();
    const ShardId shard = shardOf("OLD-1");
    struct Row {
      Seq seq;
      LocationId location;
      Micros ts;
      Qty after;
    };
    std::vector<Row> rows;
    {
      auto db = sqlite::Db::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
      DEPOT_VERIFY_OK(db.status());
      DEPOT_ASSIGN_OR_FAIL(version, sqlite::migrate(*db, 4));
      QCOMPARE(version, 4);
      std::string sql = sqlite::cat(
          "BEGIN;"
          "INSERT INTO items(id, sku, description, unit, reorder_point, reorder_qty, shard) "
          "VALUES(5, 'OLD-1', 'from v4', 'ea', 0, 0, ",
          shard,
          ");"
          "INSERT INTO locations(id, warehouse, code) VALUES(2, 'east', 'A-01');"
          "INSERT INTO locations(id, warehouse, code) VALUES(3, 'east', 'A-02');");
      Qty on_hand[4] = {};
      Micros ts = 100;
      for (Seq seq = 1; seq <= 700; ++seq) {
        if (seq % 3 == 0) ts += 10;
        const LocationId location = seq % 4 == 0 ? 3 : 2;
        on_hand[location] += 1;
        rows.push_back(Row{seq, location, ts, on_hand[location]});
        sql += sqlite::cat("INSERT INTO ledger VALUES(", shard, ", ", seq, ", 'r", seq,
                           "', 1, 5, ", location, ", 1, 0, ", on_hand[location], ", 0, 'a', '', '', ",
                           ts, ");");
      }
      sql += sqlite::cat("INSERT INTO shards(shard, epoch, last_seq, last_ts) VALUES(", shard,
                         ", 1, 700, ", ts, ");",
                         "INSERT INTO balances VALUES(5, 2, ", on_hand[2], ", 0, ", ts, ");",
                         "INSERT INTO balances VALUES(5, 3, ", on_hand[3], ", 0, ", ts, ");",
                         "COMMIT;");
      DEPOT_VERIFY_OK(db->exec(sql.c_str(), "seeding a version 4 file"));
    }
    auto store = openStore(path);
    QVERIFY(store);
    QCOMPARE(store->schemaVersion(), sqlite::latestSchemaVersion());
    {
      auto db = sqlite::Db::open(path, SQLITE_OPEN_READONLY);
      DEPOT_VERIFY_OK(db.status());
      DEPOT_ASSIGN_OR_FAIL(marks, db->queryInt("SELECT count(*) FROM history_marks"));
      QVERIFY2(marks > 0 && marks < 100, qPrintable(QString::number(marks)));
      DEPOT_ASSIGN_OR_FAIL(old_index, db->queryInt("SELECT count(*) FROM sqlite_schema WHERE "
                                                   "name = 'ledger_item_location_ts'"));
      QCOMPARE(old_index, std::int64_t{0});
    }
    for (LocationId location : {LocationId{2}, LocationId{3}}) {
      std::vector<Seq> want;
      for (const Row& r : rows)
        if (r.location == location) want.push_back(r.seq);
      for (bool newest_first : {false, true}) {
        HistoryQuery page;
        page.item = 5;
        page.location = location;
        page.newest_first = newest_first;
        page.limit = 13;
        std::vector<Seq> paged;
        for (int guard = 0; guard < 1000; ++guard) {
          DEPOT_ASSIGN_OR_FAIL(got, store->history(page));
          if (got.empty()) break;
          for (const LedgerEntry& e : got) paged.push_back(e.seq);
          page.after_seq = got.back().seq;
        }
        std::vector<Seq> expected = want;
        if (newest_first) std::reverse(expected.begin(), expected.end());
        QCOMPARE(paged, expected);
      }
      for (Micros at = 95; at <= 2500; at += 37) {
        Qty want_on_hand = 0;
        for (const Row& r : rows)
          if (r.location == location && r.ts <= at) want_on_hand = r.after;
        DEPOT_ASSIGN_OR_FAIL(got, store->balanceAt(5, location, at));
        QCOMPARE(got.on_hand, want_on_hand);
      }
    }
    // New entries continue the migrated chains.
    DEPOT_ASSIGN_OR_FAIL(r, store->recoverShard(shard, 0, 0));
    ShardCommit sc;
    sc.shard = shard;
    sc.epoch = r.epoch;
    sc.expected_last_seq = 700;
    LedgerEntry e;
    e.shard = shard;
    e.seq = 701;
    e.request_id = "after-migration";
    e.kind = MovementKind::kReceive;
    e.item = 5;
    e.location = 3;
    e.d_on_hand = 1;
    e.on_hand_after = rows.back().after + 1;
    e.ts = 5000;
    sc.entries.push_back(e);
    sc.balances.push_back(BalanceRow{5, 3, Balance{e.on_hand_after, 0}, 5000});
    DEPOT_VERIFY_OK(store->commit(CommitBatch{{sc}}));
    HistoryQuery newest;
    newest.item = 5;
    newest.location = 3;
    newest.newest_first = true;
    newest.limit = 2;
    DEPOT_ASSIGN_OR_FAIL(latest, store->history(newest));
    QCOMPARE(latest.size(), std::size_t{2});
    QCOMPARE(latest[0].seq, Seq{701});
    QCOMPARE(latest[1].seq, Seq{700});
  }

  // A commit whose entries come without their balance row (the engines send
  // one, but the store does not rely on it): the newest entry's after-values
  // become the row, so the pair's history chain has its head.
  void entriesWithoutBalanceRowsKeepTheirHistory() {
    auto store = openStore(freshPath());
    QVERIFY(store);
    Item item;
    item.sku = "NO-ROW-1";
    DEPOT_ASSIGN_OR_FAIL(items, store->upsertItems({item}));
    DEPOT_ASSIGN_OR_FAIL(locations, store->upsertLocations({Location{0, "east", "A-01"}}));
    const Item& it = items[0];
    const LocationId loc = locations[0].id;
    DEPOT_ASSIGN_OR_FAIL(r, store->recoverShard(it.shard, 0, 0));
    ShardCommit sc;
    sc.shard = it.shard;
    sc.epoch = r.epoch;
    sc.expected_last_seq = r.last_seq;
    for (Qty i = 1; i <= 2; ++i) {
      LedgerEntry e;
      e.shard = it.shard;
      e.seq = r.last_seq + static_cast<Seq>(i);
      e.request_id = "no-row-" + std::to_string(i);
      e.kind = MovementKind::kReceive;
      e.item = it.id;
      e.location = loc;
      e.d_on_hand = 5;
      e.on_hand_after = 5 * i;
      e.ts = 100 * i;
      sc.entries.push_back(e);
    }
    DEPOT_VERIFY_OK(store->commit(CommitBatch{{sc}}));
    HistoryQuery q;
    q.item = it.id;
    q.location = loc;
    q.limit = 10;
    q.newest_first = true;
    DEPOT_ASSIGN_OR_FAIL(history, store->history(q));
    QCOMPARE(history.size(), std::size_t{2});
    QCOMPARE(history[0].seq, r.last_seq + 2);
    DEPOT_ASSIGN_OR_FAIL(at, store->balanceAt(it.id, loc, 150));
    QCOMPARE(at.on_hand, Qty{5});
    DEPOT_ASSIGN_OR_FAIL(after, store->recoverShard(it.shard, 0, 0));
    QCOMPARE(after.balances.size(), std::size_t{1});
    QCOMPARE(after.balances[0].balance.on_hand, Qty{10});
  }

  void refusesNewerSchema() {
    const std::string path = freshPath();
    QVERIFY(openStore(path));
    {
      auto db = sqlite::Db::open(path, SQLITE_OPEN_READWRITE);
      DEPOT_VERIFY_OK(db.status());
      const std::string sql = sqlite::cat("INSERT INTO schema_version(version, applied_at) VALUES(",
                                          sqlite::latestSchemaVersion() + 1, ", 0)");
      DEPOT_VERIFY_OK(db->exec(sql.c_str(), "faking a newer version"));
    }
    const absl::Status st = openStatus(path);
    DEPOT_VERIFY_CODE(st, absl::StatusCode::kFailedPrecondition);
    QVERIFY2(std::string(st.message()).find("newer") != std::string::npos,
             statusText(st).constData());
  }

  void refusesForeignDatabase() {
    const std::string path = freshPath();
    {
      auto db = sqlite::Db::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
      DEPOT_VERIFY_OK(db.status());
      DEPOT_VERIFY_OK(db->exec("CREATE TABLE photos(id INTEGER PRIMARY KEY)", "foreign schema"));
    }
    DEPOT_VERIFY_CODE(openStatus(path), absl::StatusCode::kFailedPrecondition);
    auto db = sqlite::Db::open(path, SQLITE_OPEN_READONLY);
    DEPOT_VERIFY_OK(db.status());
    DEPOT_ASSIGN_OR_FAIL(tables, db->queryInt("SELECT count(*) FROM sqlite_schema"));
    QCOMPARE(tables, std::int64_t{1});  // untouched
  }

  // ---- damage ----

  void notADatabaseIsDataLoss() {
    const QString path = QString::fromStdString(freshPath());
    QByteArray garbage;
    for (int i = 0; i < 8192; ++i) garbage.append(static_cast<char>((i * 37 + 11) & 0xff));
    QVERIFY(writeFile(path, garbage));
    const absl::Status st = openStatus(path.toStdString());
    DEPOT_VERIFY_CODE(st, absl::StatusCode::kDataLoss);
    QCOMPARE(readFile(path), garbage);  // not modified
    QVERIFY(writeFile(path, QByteArray("SQLite format 3\0truncated", 25)));
    DEPOT_VERIFY_CODE(openStatus(path.toStdString()), absl::StatusCode::kDataLoss);
  }

  void corruptPagesAreDataLoss_data() {
    QTest::addColumn<bool>("keep_schema");
    QTest::newRow("schema and data pages") << false;
    QTest::newRow("data pages only") << true;
  }
  void corruptPagesAreDataLoss() {
    QFETCH(bool, keep_schema);
    const std::string path = freshPath();
    {
      auto store = openStore(path, SqliteStore::Options::Sync::kOff);
      QVERIFY(store);
      std::vector<Item> items;
      for (int i = 0; i < 300; ++i) items.push_back(makeItem("CORRUPT-" + std::to_string(i)));
      DEPOT_ASSIGN_OR_FAIL(stored, store->upsertItems(items));
      DEPOT_ASSIGN_OR_FAIL(locations, store->upsertLocations({{0, "east", "A-01"}}));
      ModelLedger ledger(*store);
      for (int i = 0; i < 6000; ++i) ledger.move(stored[i % 300], locations[0], 1, 0, i);
      DEPOT_VERIFY_OK(ledger.commit());
    }
    const QString qpath = QString::fromStdString(path);
    QVERIFY(!QFileInfo::exists(qpath + "-wal"));  // everything is in the main file
    QByteArray data = readFile(qpath);
    QVERIFY(data.size() > 40 * 4096);
    // Keep page 1 (header and the start of the schema); trash pages 3.. , or
    // only the second half of the file, where the ledger's pages are.
    const qsizetype first = keep_schema ? (data.size() / 4096 / 2) * 4096 : 2 * 4096;
    for (qsizetype i = first; i < data.size(); ++i) data[i] = static_cast<char>(0xa5 ^ (i & 0x3f));
    QVERIFY(writeFile(qpath, data));

    SqliteStore::Options options;
    options.path = path;
    auto store = SqliteStore::open(options);
    if (!store.ok()) {
      qInfo("open refused the damaged file: %s", store.status().ToString().c_str());
      DEPOT_VERIFY_CODE(store.status(), absl::StatusCode::kDataLoss);
      return;
    }
    std::vector<absl::Status> results;
    results.push_back((*store)->loadItems().status());
    results.push_back((*store)->scanLedger([](const LedgerEntry&) { return true; }));
    results.push_back((*store)->scanBalances([](const BalanceRow&) { return true; }));
    results.push_back((*store)->listStock(StockQuery{}).status());
    results.push_back((*store)->lastSeqs().status());
    bool data_loss = false;
    for (const absl::Status& st : results) {
      if (!st.ok()) qInfo("read of the damaged file: %s", st.ToString().c_str());
      QVERIFY2(st.ok() || st.code() == absl::StatusCode::kDataLoss, statusText(st).constData());
      data_loss = data_loss || st.code() == absl::StatusCode::kDataLoss;
    }
    QVERIFY(data_loss);
  }

  // Any bytes are data: embedded NULs and invalid UTF-8 round-trip exactly.
  void arbitraryBytesInStrings() {
    auto store = openStore(freshPath());
    QVERIFY(store);
    const std::vector<std::string> skus = {std::string("A\0B", 3), std::string("A\0C", 3),
                                           "\xff\xfe", "\xc3\x28", std::string("\0", 1)};
    std::vector<Item> items;
    for (const std::string& sku : skus) items.push_back(makeItem(sku));
    DEPOT_ASSIGN_OR_FAIL(stored, store->upsertItems(items));
    std::set<ItemId> ids;
    for (const Item& item : stored) ids.insert(item.id);
    QCOMPARE(ids.size(), skus.size());  // a NUL does not truncate the key
    DEPOT_ASSIGN_OR_FAIL(loaded, store->loadItems());
    std::set<std::string> got;
    for (const Item& item : loaded) got.insert(item.sku);
    QCOMPARE(got, std::set<std::string>(skus.begin(), skus.end()));

    DEPOT_ASSIGN_OR_FAIL(locations, store->upsertLocations({{0, std::string("w\0h", 3), "\xff"}}));
    ModelLedger ledger(*store);
    for (const Item& item : stored) {
      ledger.move(item, locations[0], 1, 0, 100, MovementKind::kReceive,
                  std::string("req\0", 4) + item.sku);
    }
    ledger.pending(stored[0].shard)
        .holds.push_back(Hold{
            std::string("order\0x", 7), stored[0].shard, "r", HoldState::kOpen, {}, "", 1, 2, 0});
    DEPOT_VERIFY_OK(ledger.commit());
    DEPOT_ASSIGN_OR_FAIL(orders, store->findOrderShards(std::string("order\0x", 7)));
    QCOMPARE(orders.size(), std::size_t{1});
    DEPOT_ASSIGN_OR_FAIL(none, store->findOrderShards("order"));
    QVERIFY(none.empty());
    DEPOT_ASSIGN_OR_FAIL(entries, store->readLedger(stored[0].shard, 0, 100, 100));
    QVERIFY(!entries.empty());
    QCOMPARE(bytes(entries[0].request_id).left(4), QByteArray("req\0", 4));

    StockQuery q;
    q.sku_prefix = std::string("A\0", 2);
    DEPOT_ASSIGN_OR_FAIL(nul_prefix, store->listStock(q));
    QCOMPARE(nul_prefix.size(), std::size_t{2});
    q.sku_prefix = "\xff";  // no upper bound exists
    DEPOT_ASSIGN_OR_FAIL(ff_prefix, store->listStock(q));
    QCOMPARE(ff_prefix.size(), std::size_t{1});
    q.sku_prefix.clear();
    q.location = std::string("w\0h/\xff", 5);
    DEPOT_ASSIGN_OR_FAIL(by_name, store->listStock(q));
    QCOMPARE(by_name.size(), skus.size());
    QCOMPARE(bytes(by_name[0].location.warehouse), QByteArray("w\0h", 3));
  }

  // ---- concurrency between processes / connections ----

  // One writer per file: a second writer (here in the same process; flock
  // refuses another process the same way) is refused, and a shared reader
  // sees what the writer applied but cannot commit.
  void secondWriterIsRefused() {
    const std::string path = freshPath();
    auto a = openStore(path);
    QVERIFY(a);
    DEPOT_VERIFY_CODE(openStatus(path), absl::StatusCode::kFailedPrecondition);
    DEPOT_ASSIGN_OR_FAIL(items, a->upsertItems({makeItem("SHARED-1")}));
    DEPOT_ASSIGN_OR_FAIL(locations, a->upsertLocations({{0, "east", "A-01"}}));
    ModelLedger ledger(*a);
    ledger.move(items[0], locations[0], 5, 0, 100);
    DEPOT_VERIFY_OK(ledger.commit());
    DEPOT_ASSIGN_OR_FAIL(applied_by_a, a->lastSeqs());  // waits for the applier
    QCOMPARE(applied_by_a[items[0].shard], Seq{1});

    SqliteStore::Options options;
    options.path = path;
    options.shared_read = true;
    DEPOT_ASSIGN_OR_FAIL(reader, SqliteStore::open(options));
    DEPOT_ASSIGN_OR_FAIL(seqs, reader->lastSeqs());
    QCOMPARE(seqs[items[0].shard], Seq{1});
    ShardCommit sc;
    sc.shard = items[0].shard;
    sc.epoch = 1;
    sc.expected_last_seq = 1;
    DEPOT_VERIFY_CODE(reader->commit(CommitBatch{{sc}}), absl::StatusCode::kFailedPrecondition);
    reader.reset();
    a.reset();
    QVERIFY(openStore(path));  // the lock goes with the writer
  }

  // More rows than one pruning chunk, in both tables.
  void pruneWorksInChunks() {
    const std::string path = freshPath();
    auto store = openStore(path, SqliteStore::Options::Sync::kOff);
    QVERIFY(store);
    for (int round = 0; round < 12; ++round) {
      CommitBatch batch;
      for (ShardId shard = 0; shard < kShardCount; ++shard) {
        ShardCommit sc;
        sc.shard = shard;
        sc.epoch = 1;
        RequestRecord r;
        r.request_id = "p-" + std::to_string(round);
        r.shard = shard;
        r.ts = 100;
        sc.requests.push_back(r);
        Hold h;
        h.order_id = "o-" + std::to_string(round);
        h.shard = shard;
        h.state = HoldState::kReleased;
        h.closed_at = round == 11 ? 300 : 100;
        sc.holds.push_back(h);
        batch.shards.push_back(sc);
      }
      DEPOT_VERIFY_OK(store->commit(batch));
    }
    DEPOT_VERIFY_OK(store->pruneBefore(200));
    auto db = sqlite::Db::open(path, SQLITE_OPEN_READONLY);
    DEPOT_VERIFY_OK(db.status());
    DEPOT_ASSIGN_OR_FAIL(requests, db->queryInt("SELECT count(*) FROM requests"));
    QCOMPARE(requests, std::int64_t{0});
    DEPOT_ASSIGN_OR_FAIL(holds, db->queryInt("SELECT count(*) FROM holds"));
    QCOMPARE(holds, std::int64_t{kShardCount});  // only round 11's, closed at 300
  }

  // A writer process killed with SIGKILL at an arbitrary moment (mostly in
  // the middle of a commit) loses no commit it was told succeeded, and leaves
  // a consistent file that the next writer continues.
  void killDuringCommitsLosesNothingAcknowledged() {
    const std::string path = freshPath();
    std::mt19937 rng(12345);
    unsigned long long acked = 0;
    for (int round = 0; round < 3; ++round) {
      QProcess child;
      child.setProcessChannelMode(QProcess::ForwardedErrorChannel);
      child.start(QCoreApplication::applicationFilePath(),
                  {"--child-writer", QString::fromStdString(path)});
      QVERIFY2(child.waitForStarted(10000), "the child writer did not start");
      const unsigned long long target = acked + 500;
      QByteArray pending;
      auto readAcks = [&] {
        pending += child.readAllStandardOutput();
        for (qsizetype nl; (nl = pending.indexOf('\n')) >= 0; pending.remove(0, nl + 1)) {
          const QByteArray line = pending.left(nl);
          if (line.startsWith("acked ")) acked = std::max(acked, line.mid(6).toULongLong());
        }
      };
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (acked < target && std::chrono::steady_clock::now() < deadline &&
             child.state() == QProcess::Running) {
        child.waitForReadyRead(200);
        readAcks();
      }
      QVERIFY2(acked >= target, "the child writer made no progress");
      QThread::usleep(rng() % 15000);  // land anywhere in the next commits
      child.kill();                    // SIGKILL
      QVERIFY(child.waitForFinished(10000));
      readAcks();  // lines printed before the kill were acknowledged before it

      auto store = openStore(path);
      QVERIFY(store);
      DEPOT_ASSIGN_OR_FAIL(items, store->loadItems());
      QCOMPARE(items.size(), std::size_t{1});
      const ShardId shard = items[0].shard;
      DEPOT_ASSIGN_OR_FAIL(r, store->recoverShard(shard, 0, 0));
      qInfo("round %d: killed after %llu acknowledged entries; the reopened store has %llu", round,
            acked, static_cast<unsigned long long>(r.last_seq));
      QVERIFY2(r.last_seq >= acked, "an acknowledged commit was lost");
      QCOMPARE(r.last_seq % 50, Seq{0});  // whole commits only
      DEPOT_ASSIGN_OR_FAIL(entries, store->readLedger(shard, 0, r.last_seq, r.last_seq + 1));
      QCOMPARE(entries.size(), static_cast<std::size_t>(r.last_seq));
      for (std::size_t i = 0; i < entries.size(); ++i) {
        QCOMPARE(entries[i].seq, Seq{i + 1});
        QCOMPARE(entries[i].on_hand_after, static_cast<Qty>(i + 1));
      }
      QCOMPARE(r.balances.size(), std::size_t{1});
      QCOMPARE(r.balances[0].balance.on_hand, static_cast<Qty>(r.last_seq));
      acked = r.last_seq;  // the next child continues from what is stored
    }
  }
};

}  // namespace depot::testing

int main(int argc, char** argv) {
  if (argc >= 3 && std::string_view(argv[1]) == "--child-writer") {
    return depot::testing::runChildWriter(argv[2]);
  }
  QCoreApplication app(argc, argv);
  QTemporaryDir dir;
  if (!dir.isValid()) return 1;
  int n = 0;
  depot::testing::StoreContract contract([&]() -> std::unique_ptr<depot::Store> {
    const QString path = dir.filePath(QStringLiteral("contract-%1.db").arg(++n));
    return depot::testing::openStore(path.toStdString());
  });
  depot::testing::TestSqliteStore sqlite;
  int status = QTest::qExec(&contract, argc, argv);
  status |= QTest::qExec(&sqlite, argc, argv);
  return status;
}

#include "test_sqlite_store.moc"
