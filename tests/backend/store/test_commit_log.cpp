// CommitLog (store/sqlite/commit_log.h): records survive reopening across
// segments, concurrent appenders share syncs without losing or reordering a
// record, a torn tail ends the log, damage before the last segment is
// DATA_LOSS, recycled segments never replay their old records, and bad use
// is refused. Real files in a temporary directory, real fdatasync.
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>
#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "store/sqlite/commit_log.h"
#include "store_contract.h"  // DEPOT_VERIFY_OK and friends

namespace depot::testing {
namespace {

using sqlite::CommitLog;
using Records = std::vector<std::pair<std::int64_t, std::string>>;

CommitLog::Options smallSegments(std::uint64_t bytes = 16 * 1024) {
  CommitLog::Options options;
  options.segment_bytes = bytes;
  return options;
}

// Distinct, and of varying size (so records straddle segment ends
// differently), unless `fixed` is given.
std::string payloadFor(std::int64_t id, std::size_t fixed = 0) {
  std::string payload = "record-" + std::to_string(id) + "-";
  const std::size_t size = fixed != 0 ? fixed : 100 + static_cast<std::size_t>(id * 7919 % 3000);
  while (payload.size() < size) payload.push_back(static_cast<char>('a' + payload.size() % 26));
  payload.resize(size);
  return payload;
}

absl::Status appendRange(CommitLog& log, std::int64_t from, std::int64_t to,
                         std::size_t fixed = 0) {
  for (std::int64_t id = from; id <= to; ++id) {
    auto lsn = log.append(id, payloadFor(id, fixed));
    if (!lsn.ok()) return lsn.status();
    if (auto st = log.sync(*lsn); !st.ok()) return st;
  }
  return absl::OkStatus();
}

Records readAfter(const CommitLog& log, std::int64_t after) {
  Records out;
  const absl::Status st = log.forEachAfter(after, [&](std::int64_t id, std::string_view payload) {
    out.emplace_back(id, std::string(payload));
    return absl::OkStatus();
  });
  if (!st.ok()) qWarning("forEachAfter: %s", st.ToString().c_str());
  return out;
}

// Every record is there, in order, with the payload it was written with.
bool holdsExactly(const Records& records, std::int64_t from, std::int64_t to,
                  std::size_t fixed = 0) {
  if (records.size() != static_cast<std::size_t>(to - from + 1)) return false;
  for (std::int64_t id = from; id <= to; ++id) {
    const auto& [got_id, payload] = records[static_cast<std::size_t>(id - from)];
    if (got_id != id || payload != payloadFor(id, fixed)) return false;
  }
  return true;
}

QStringList segmentFiles(const std::string& dir) {
  return QDir(QString::fromStdString(dir)).entryList({"0*.seg"}, QDir::Files, QDir::Name);
}

// Flips one byte of the first occurrence of `needle` in the file.
bool damage(const QString& path, const QByteArray& needle, int at = 0) {
  QFile file(path);
  if (!file.open(QIODevice::ReadWrite)) return false;
  QByteArray data = file.readAll();
  const qsizetype where = needle.isEmpty() ? at : data.indexOf(needle);
  if (where < 0) return false;
  data[where + (needle.isEmpty() ? 0 : at)] ^= 0x5a;
  return file.seek(0) && file.write(data) == data.size();
}

}  // namespace

class CommitLogTest : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir m_tmp;
  int m_dirs = 0;
  std::string freshDir() { return m_tmp.path().toStdString() + "/log" + std::to_string(++m_dirs); }

 private slots:
  void initTestCase() { QVERIFY(m_tmp.isValid()); }

  void recordsSurviveReopenAcrossSegments() {
    const std::string dir = freshDir();
    {
      std::atomic<std::uint64_t> syncs{0};
      CommitLog::Options options = smallSegments();
      options.sync_counter = &syncs;
      DEPOT_ASSIGN_OR_FAIL(log, CommitLog::open(dir, "ledger-a", options));
      QCOMPARE(log->firstId(), std::int64_t{0});
      DEPOT_VERIFY_OK(log->startAppending(1));
      DEPOT_VERIFY_OK(appendRange(*log, 1, 200));
      QVERIFY2(log->segmentCount() > 10, std::to_string(log->segmentCount()).c_str());
      // One flush per record synced alone, one per segment filled.
      QCOMPARE(syncs.load(), std::uint64_t{200} + log->segmentCount() - 1);
    }
    {
      DEPOT_ASSIGN_OR_FAIL(log, CommitLog::open(dir, "ledger-a", smallSegments()));
      QCOMPARE(log->firstId(), std::int64_t{1});
      QCOMPARE(log->lastId(), std::int64_t{200});
      QVERIFY(holdsExactly(readAfter(*log, 0), 1, 200));
      QVERIFY(holdsExactly(readAfter(*log, 150), 151, 200));
      // Appends go on in a new segment; the ones read are never written.
      DEPOT_VERIFY_OK(log->startAppending(201));
      DEPOT_VERIFY_OK(appendRange(*log, 201, 210));
    }
    DEPOT_ASSIGN_OR_FAIL(log, CommitLog::open(dir, "ledger-a", smallSegments()));
    QVERIFY(holdsExactly(readAfter(*log, 0), 1, 210));
  }

  // Two writers append (ids assigned under their own lock, as SqliteStore
  // does) and sync outside it: every acknowledged record is there, in order.
  void concurrentAppendersShareSyncs() {
    const std::string dir = freshDir();
    constexpr int kPerWriter = 300;
    {
      DEPOT_ASSIGN_OR_FAIL(log, CommitLog::open(dir, "ledger-a", smallSegments(64 * 1024)));
      DEPOT_VERIFY_OK(log->startAppending(1));
      std::mutex order;
      std::int64_t next_id = 1;
      std::vector<absl::Status> failures(2);
      auto writer = [&](int w) {
        for (int i = 0; i < kPerWriter; ++i) {
          CommitLog::Lsn lsn = 0;
          {
            std::lock_guard lock(order);
            auto written = log->append(next_id, payloadFor(next_id));
            if (!written.ok()) {
              failures[w] = written.status();
              return;
            }
            lsn = *written;
            ++next_id;
          }
          if (auto st = log->sync(lsn); !st.ok()) {
            failures[w] = st;
            return;
          }
        }
      };
      std::thread a(writer, 0);
      std::thread b(writer, 1);
      a.join();
      b.join();
      DEPOT_VERIFY_OK(failures[0]);
      DEPOT_VERIFY_OK(failures[1]);
    }
    DEPOT_ASSIGN_OR_FAIL(log, CommitLog::open(dir, "ledger-a", smallSegments(64 * 1024)));
    QVERIFY(holdsExactly(readAfter(*log, 0), 1, 2 * kPerWriter));
  }

  // A crash in the middle of the last write leaves a record whose CRC does
  // not match: the log ends before it, and the next record takes its id.
  void tornTailEndsTheLog() {
    const std::string dir = freshDir();
    {
      DEPOT_ASSIGN_OR_FAIL(log, CommitLog::open(dir, "ledger-a", {}));
      DEPOT_VERIFY_OK(log->startAppending(1));
      DEPOT_VERIFY_OK(appendRange(*log, 1, 5));
    }
    const QStringList files = segmentFiles(dir);
    QCOMPARE(files.size(), 1);
    const QString segment = QString::fromStdString(dir) + "/" + files[0];
    QVERIFY(damage(segment, "record-5-", 20));
    {
      DEPOT_ASSIGN_OR_FAIL(log, CommitLog::open(dir, "ledger-a", {}));
      QCOMPARE(log->lastId(), std::int64_t{4});
      QVERIFY(holdsExactly(readAfter(*log, 0), 1, 4));
      DEPOT_VERIFY_OK(log->startAppending(5));
      DEPOT_ASSIGN_OR_FAIL(lsn, log->append(5, payloadFor(5)));
      DEPOT_VERIFY_OK(log->sync(lsn));
    }
    DEPOT_ASSIGN_OR_FAIL(log, CommitLog::open(dir, "ledger-a", {}));
    QVERIFY(holdsExactly(readAfter(*log, 0), 1, 5));
  }

  // Damage before the last segment cannot be a torn write (a segment is
  // fsynced before the next begins): the records lost are reported.
  void damageBeforeTheLastSegmentIsDataLoss() {
    const std::string dir = freshDir();
    {
      DEPOT_ASSIGN_OR_FAIL(log, CommitLog::open(dir, "ledger-a", smallSegments()));
      DEPOT_VERIFY_OK(log->startAppending(1));
      DEPOT_VERIFY_OK(appendRange(*log, 1, 100));
    }
    const QStringList files = segmentFiles(dir);
    QVERIFY(files.size() > 3);
    QVERIFY(damage(QString::fromStdString(dir) + "/" + files[0], "record-2-", 12));
    const auto log = CommitLog::open(dir, "ledger-a", smallSegments());
    DEPOT_VERIFY_CODE(log.status(), absl::StatusCode::kDataLoss);
    QVERIFY2(log.status().message().find("records are missing") != std::string_view::npos,
             std::string(log.status().message()).c_str());
  }

  // A dropped segment is recycled as a spare; its old records, at the very
  // offsets the new ones take (fixed-size records), are never read back.
  void recycledSegmentsNeverReplayStaleRecords() {
    const std::string dir = freshDir();
    constexpr std::size_t kSize = 1000;  // 12 per 16 KiB segment, same offsets in each
    {
      DEPOT_ASSIGN_OR_FAIL(log, CommitLog::open(dir, "ledger-a", smallSegments()));
      DEPOT_VERIFY_OK(log->startAppending(1));
      DEPOT_VERIFY_OK(appendRange(*log, 1, 60, kSize));
      DEPOT_VERIFY_OK(log->dropThrough(40));
      QCOMPARE(log->spareCount(), std::size_t{1});
      QVERIFY(log->firstId() > 1);
      DEPOT_VERIFY_OK(log->prepareSpare());  // one is ready: nothing to do
      QCOMPARE(log->spareCount(), std::size_t{1});
      // 60 records filled five segments exactly: record 61 starts the next
      // one, the recycled first segment, whose old records 2..12 follow it.
      DEPOT_VERIFY_OK(appendRange(*log, 61, 61, kSize));
      QCOMPARE(log->spareCount(), std::size_t{0});
    }
    DEPOT_ASSIGN_OR_FAIL(log, CommitLog::open(dir, "ledger-a", smallSegments()));
    const std::int64_t first = log->firstId();
    const std::int64_t last = log->lastId();
    QVERIFY(first > 1 && first <= 41);
    QVERIFY(holdsExactly(readAfter(*log, 0), first, last, kSize));
  }

  void oversizedRecordGetsItsOwnSegment() {
    const std::string dir = freshDir();
    const std::string big(100 * 1024, 'B');
    {
      DEPOT_ASSIGN_OR_FAIL(log, CommitLog::open(dir, "ledger-a", smallSegments()));
      DEPOT_VERIFY_OK(log->startAppending(1));
      DEPOT_ASSIGN_OR_FAIL(a, log->append(1, big));
      DEPOT_ASSIGN_OR_FAIL(b, log->append(2, "small"));
      DEPOT_VERIFY_OK(log->sync(std::max(a, b)));
    }
    DEPOT_ASSIGN_OR_FAIL(log, CommitLog::open(dir, "ledger-a", smallSegments()));
    const Records records = readAfter(*log, 0);
    QCOMPARE(records.size(), std::size_t{2});
    QVERIFY(records[0].second == big);
    QCOMPARE(QByteArray::fromStdString(records[1].second), QByteArray("small"));
  }

  void foreignLedgerIsRefused() {
    const std::string dir = freshDir();
    {
      DEPOT_ASSIGN_OR_FAIL(log, CommitLog::open(dir, "ledger-a", {}));
      DEPOT_VERIFY_OK(log->startAppending(1));
    }
    DEPOT_VERIFY_CODE(CommitLog::open(dir, "ledger-b", {}).status(),
                      absl::StatusCode::kFailedPrecondition);
  }

  void damagedHeaderIsDataLoss() {
    const std::string dir = freshDir();
    {
      DEPOT_ASSIGN_OR_FAIL(log, CommitLog::open(dir, "ledger-a", {}));
      DEPOT_VERIFY_OK(log->startAppending(1));
      DEPOT_VERIFY_OK(appendRange(*log, 1, 3));
    }
    QVERIFY(damage(QString::fromStdString(dir) + "/" + segmentFiles(dir)[0], {}, 20));
    DEPOT_VERIFY_CODE(CommitLog::open(dir, "ledger-a", {}).status(), absl::StatusCode::kDataLoss);
  }

  // Segments before a missing one are what an interrupted drop left
  // (drops go oldest first): removed, and the log starts after the gap.
  void leftoversBeforeAGapAreRemoved() {
    const std::string dir = freshDir();
    {
      DEPOT_ASSIGN_OR_FAIL(log, CommitLog::open(dir, "ledger-a", smallSegments()));
      DEPOT_VERIFY_OK(log->startAppending(1));
      DEPOT_VERIFY_OK(appendRange(*log, 1, 60));
    }
    QStringList files = segmentFiles(dir);
    QVERIFY(files.size() > 3);
    const QString qdir = QString::fromStdString(dir) + "/";
    QVERIFY(QFile::remove(qdir + files[1]));
    DEPOT_ASSIGN_OR_FAIL(log, CommitLog::open(dir, "ledger-a", smallSegments()));
    QVERIFY(!QFile::exists(qdir + files[0]));
    QVERIFY(log->firstId() > 1);
    QVERIFY(holdsExactly(readAfter(*log, 0), log->firstId(), 60));
  }

  void badUseIsRefused() {
    const std::string dir = freshDir();
    DEPOT_ASSIGN_OR_FAIL(log, CommitLog::open(dir, "ledger-a", {}));
    DEPOT_VERIFY_CODE(log->append(1, "x").status(), absl::StatusCode::kFailedPrecondition);
    DEPOT_VERIFY_CODE(log->startAppending(0), absl::StatusCode::kInvalidArgument);
    DEPOT_VERIFY_OK(log->startAppending(7));
    DEPOT_VERIFY_CODE(log->startAppending(8), absl::StatusCode::kFailedPrecondition);
    DEPOT_VERIFY_CODE(log->append(8, "x").status(), absl::StatusCode::kInvalidArgument);
    DEPOT_VERIFY_CODE(log->append(7, "").status(), absl::StatusCode::kInvalidArgument);
    DEPOT_ASSIGN_OR_FAIL(lsn, log->append(7, "x"));
    DEPOT_VERIFY_OK(log->sync(lsn));
    DEPOT_VERIFY_CODE(CommitLog::open(freshDir(), "ledger-a", smallSegments(100)).status(),
                      absl::StatusCode::kInvalidArgument);
  }

  // A segment or spare whose creation was interrupted is removed on open.
  void unfinishedFilesAreRemoved() {
    const std::string dir = freshDir();
    QVERIFY(QDir().mkpath(QString::fromStdString(dir)));
    const QString tmp = QString::fromStdString(dir) + "/spare-3.seg.tmp";
    QFile file(tmp);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.close();
    DEPOT_ASSIGN_OR_FAIL(log, CommitLog::open(dir, "ledger-a", {}));
    QVERIFY(!QFile::exists(tmp));
    QCOMPARE(log->segmentCount(), std::size_t{0});
  }
};

}  // namespace depot::testing

QTEST_GUILESS_MAIN(depot::testing::CommitLogTest)
#include "test_commit_log.moc"
