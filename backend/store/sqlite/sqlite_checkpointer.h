// Moves WAL checkpoints off the commit path.
//
// By default SQLite checkpoints inside whichever commit pushes the WAL past
// wal_autocheckpoint pages: that commit then also copies the WAL into the
// database file and (synchronous=FULL) fsyncs it, a latency spike for the
// whole group commit. Instead the writer's WAL hook only nudges this thread,
// which runs PASSIVE checkpoints on its own connection; PASSIVE never blocks
// the writer or readers. If the thread falls far behind, the hook checkpoints
// inline as a backstop so the WAL cannot grow without bound.
//
// Thread safety: nudge() may be called from any thread (in practice the
// writer's, inside sqlite3_wal_hook). Destroy only after unhooking.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "store/sqlite/sqlite_db.h"

namespace depot::sqlite {

class Checkpointer {
 public:
  // WAL size (frames = pages) that triggers a background checkpoint, and the
  // size at which the writer checkpoints inline instead.
  static constexpr int kNudgeFrames = 4096;      // 16 MiB of 4 KiB pages
  static constexpr int kBackstopFrames = 65536;  // 256 MiB

  // sync_pragma: the store's "PRAGMA synchronous=..." statement. The
  // checkpointing connection's setting decides whether the database file is
  // fsynced before the WAL may be reused, so it must match the writer's.
  static absl::StatusOr<std::unique_ptr<Checkpointer>> start(const std::string& path,
                                                             int busy_timeout_ms,
                                                             const char* sync_pragma);
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;
  ~Checkpointer();  // finishes a running checkpoint, then joins

  // Installs the WAL hook on the writer connection `writer` (which must
  // outlive the hook: call unhook() before destroying either).
  void hook(sqlite3* writer);
  static void unhook(sqlite3* writer);

  void nudge();
  // The last checkpoint failure (OK if none), for diagnostics.
  absl::Status lastError();

 private:
  explicit Checkpointer(Db db) : m_db(std::move(db)) {}
  void run();
  static int walHook(void* self, sqlite3* db, const char* name, int frames);

  Db m_db;  // used only by m_thread
  std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_requested ABSL_GUARDED_BY(m_mutex) = false;
  bool m_stopping ABSL_GUARDED_BY(m_mutex) = false;
  absl::Status m_last_error ABSL_GUARDED_BY(m_mutex);
  std::thread m_thread;
};

}  // namespace depot::sqlite
