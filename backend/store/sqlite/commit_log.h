// The commit log: the durable half of SqliteStore::commit().
//
// A group commit is durable once its record (the encoded CommitBatch,
// sqlite_codec.h) is in this log: one pwrite into a segment file whose space
// was written before, and one fdatasync, however many rows the batch
// touches. One fdatasync covers every record written before it started, so
// writers that append while a sync runs share the next one (sync()). The
// store's tables are brought up to date from the records afterwards, by
// SqliteStore's applier; a segment is dropped once every record in it is in
// the tables (meta.applied_log_id), and kept as a spare for reuse. On open,
// records after applied_log_id are applied again (crash recovery).
//
// Why not a SQLite table (sessions 1-8): a row append costs a B-tree insert
// and a WAL frame per overflow page, ~1 ms per commit here against ~0.3 ms
// for a pwrite plus fdatasync, and the two writers serialised on it
// (DESIGN.md §6, bench_log_append).
//
// Files: the directory `<store>-log/` holds segments named by their number,
// `<16 hex digits>.seg`, and spares `spare-<n>.seg`. A segment is a 4 KiB
// header (magic, format version, segment number, the id its first record
// has, the ledger id, CRC-32) followed by records back to back:
//   u32 payload length | u32 CRC-32 of (segment number, id, length, payload)
//   | i64 id | payload
// in little-endian. A segment's space is zero-filled (or recycled) before
// use, so an fdatasync writes data only, never file-size or extent metadata.
// A segment's contents end at the first record whose length is 0 or runs
// past the file, whose CRC does not match, or whose id does not follow the
// previous one: that is how the torn last write of a crash, and the stale
// records of a recycled segment (their CRC covers their old segment number),
// are told from records.
//
// Order: record ids increase by one across segments. A segment is fsynced
// before the next one is started, so a record in segment k+1 means all of
// segment k is durable; records missing between segments are DATA_LOSS,
// never skipped.
//
// Thread safety: every method may be called from any thread. append() calls
// are serialised internally and must come in id order (the caller assigns
// ids under its own lock and appends under it); sync() does not take the
// append lock while it waits on the disk, so appends go on meanwhile.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"

namespace depot::sqlite {

class CommitLog {
 public:
  using Lsn = std::uint64_t;  // bytes appended since open(): a position for sync()

  struct Options {
    // false: sync() returns at once. The records are in the page cache, so
    // they survive a crash of the process but not of the machine.
    bool sync = true;
    std::uint64_t segment_bytes = 32ull << 20;  // a record larger gets a segment its size
    // If set, counts the fdatasync calls made for appends (by sync() and at
    // segment ends); it must outlive the log.
    std::atomic<std::uint64_t>* sync_counter = nullptr;
  };

  // A segment holds its 4 KiB header and at least one page of records.
  static constexpr std::uint64_t kMinSegmentBytes = 8192;

  // The log directory of the store at `store_path`.
  static std::string dirFor(const std::string& store_path) { return store_path + "-log"; }

  // Opens the log in `dir` (created if absent) and reads what it holds. A
  // segment of another ledger is FAILED_PRECONDITION (applying it would
  // corrupt the store); a damaged header or records missing between
  // segments is DATA_LOSS naming the file; I/O errors are UNAVAILABLE.
  static absl::StatusOr<std::unique_ptr<CommitLog>> open(const std::string& dir,
                                                         const std::string& ledger_id,
                                                         const Options& options);
  ~CommitLog();
  CommitLog(const CommitLog&) = delete;
  CommitLog& operator=(const CommitLog&) = delete;

  // ---- recovery, before startAppending() ----
  // The id of the oldest segment's first record (held, or to come if the
  // segment is empty), and of the last record held (firstId() - 1 when none);
  // both 0 when there are no segments.
  std::int64_t firstId() const;
  std::int64_t lastId() const;
  // fn(id, payload) for every record with id > after, in id order; stops at
  // the first error fn returns.
  absl::Status forEachAfter(
      std::int64_t after,
      const std::function<absl::Status(std::int64_t, std::string_view)>& fn) const;

  // ---- appending ----
  // Starts a new segment whose first record will have id `next_id` (> lastId()).
  // The segments read by open() are never written again.
  absl::Status startAppending(std::int64_t next_id);
  // Writes the record (to the page cache) and returns the position sync()
  // must reach for it to be durable. `id` must be the previous id + 1.
  // After a failed write or sync every append() fails: the log's tail is
  // unknown until it is opened again.
  absl::StatusOr<Lsn> append(std::int64_t id, std::string_view payload);
  // Returns once everything appended up to `through` is durable (one
  // fdatasync, shared with the appends that came before it started).
  absl::Status sync(Lsn through);

  // ---- dropping ----
  // Drops every segment, except the one being appended to, whose records
  // all have ids <= through. One is kept as a spare, the rest unlinked.
  absl::Status dropThrough(std::int64_t through);
  // Zero-fills a spare segment if none is ready, so that a new segment never
  // costs a commit that work. Slow (writes a segment); call it off the
  // commit path.
  absl::Status prepareSpare();
  // OK, or the failed write or sync after which every append() fails.
  absl::Status failure() const;
  // Segments and spares held, for tests and diagnostics.
  std::size_t segmentCount() const;
  std::size_t spareCount() const;

 private:
  struct File;  // an open file descriptor, closed by its destructor
  struct Segment {
    std::uint64_t number = 0;
    std::string path;
    std::int64_t first_id = 0;  // the id its first record has (or will have)
    std::int64_t last_id = 0;   // first_id - 1 while empty
    std::uint64_t end = 0;      // offset after its last record
    std::uint64_t size = 0;     // file size
  };
  struct Spare {
    std::string path;
    std::uint64_t size = 0;
  };

  CommitLog(std::string dir, std::string ledger_id, const Options& options);
  absl::Status readSegments();
  // Makes segment `number` (first record `first_id`, at least `min_bytes`
  // long) from a spare or a new zero-filled file, header written and durable.
  absl::StatusOr<std::shared_ptr<File>> newSegment(std::uint64_t number, std::int64_t first_id,
                                                   std::uint64_t min_bytes, Segment* made)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(m_mutex);
  absl::Status fail(absl::Status status);  // records the first failure; returns it
  void countSync() {
    if (m_options.sync_counter != nullptr) m_options.sync_counter->fetch_add(1, std::memory_order_relaxed);
  }

  const std::string m_dir;
  const std::string m_ledger_id;
  const Options m_options;
  int m_dir_fd = -1;

  mutable std::mutex m_mutex;                               // appends, the segment list, the spares
  std::deque<Segment> m_segments ABSL_GUARDED_BY(m_mutex);  // oldest first
  std::vector<Spare> m_spares ABSL_GUARDED_BY(m_mutex);
  std::uint64_t m_next_spare ABSL_GUARDED_BY(m_mutex) = 0;
  std::shared_ptr<File> m_current ABSL_GUARDED_BY(m_mutex);  // m_segments.back() once appending
  std::int64_t m_next_id ABSL_GUARDED_BY(m_mutex) = 0;       // 0 until startAppending()
  Lsn m_written ABSL_GUARDED_BY(m_mutex) = 0;

  mutable std::mutex m_sync_mutex;
  std::condition_variable m_synced_cv;
  bool m_syncing ABSL_GUARDED_BY(m_sync_mutex) = false;  // an fdatasync is running
  Lsn m_synced ABSL_GUARDED_BY(m_sync_mutex) = 0;
  absl::Status m_failure ABSL_GUARDED_BY(m_sync_mutex);  // sticky
};

}  // namespace depot::sqlite
