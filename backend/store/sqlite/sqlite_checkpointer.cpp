#include "store/sqlite/sqlite_checkpointer.h"

#include <pthread.h>

namespace depot::sqlite {

absl::StatusOr<std::unique_ptr<Checkpointer>> Checkpointer::start(const std::string& path,
                                                                  int busy_timeout_ms,
                                                                  const char* sync_pragma) {
  // Paced: a checkpoint writes up to kNudgeFrames pages and then fsyncs.
  auto db = Db::open(path, SQLITE_OPEN_READWRITE, Db::Writeback::kPaced);
  if (!db.ok()) return db.status();
  sqlite3_busy_timeout(db->get(), busy_timeout_ms);
  // This connection never writes pages of its own; autocheckpoint off so it
  // only checkpoints when told to.
  if (auto st = db->exec("PRAGMA wal_autocheckpoint=0", "configuring the checkpointer"); !st.ok()) {
    return st;
  }
  if (auto st = db->exec(sync_pragma, "configuring the checkpointer"); !st.ok()) return st;
  std::unique_ptr<Checkpointer> self(new Checkpointer(*std::move(db)));
  self->m_thread = std::thread([p = self.get()] { p->run(); });
  return self;
}

Checkpointer::~Checkpointer() {
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_wake.notify_one();
  if (m_thread.joinable()) m_thread.join();
}

void Checkpointer::hook(sqlite3* writer) { sqlite3_wal_hook(writer, &Checkpointer::walHook, this); }

void Checkpointer::unhook(sqlite3* writer) { sqlite3_wal_hook(writer, nullptr, nullptr); }

int Checkpointer::walHook(void* self, sqlite3* db, const char* name, int frames) {
  if (frames >= kBackstopFrames) {
    // Far behind (e.g. a long read transaction pins old frames): checkpoint
    // what can be checkpointed now. PASSIVE never waits for readers.
    sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  } else if (frames >= kNudgeFrames) {
    static_cast<Checkpointer*>(self)->nudge();
  }
  return SQLITE_OK;  // a failed checkpoint never fails the commit that triggered it
}

void Checkpointer::nudge() {
  {
    std::lock_guard lock(m_mutex);
    m_requested = true;
  }
  m_wake.notify_one();
}

absl::Status Checkpointer::lastError() {
  std::lock_guard lock(m_mutex);
  return m_last_error;
}

void Checkpointer::run() {
  pthread_setname_np(pthread_self(), "depot-ckpt");  // for top -H, perf, gdb
  for (;;) {
    {
      std::unique_lock lock(m_mutex);
      m_wake.wait(lock, [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(m_mutex) {
        return m_requested || m_stopping;
      });
      if (m_stopping) return;
      m_requested = false;
    }
    const int rc =
        sqlite3_wal_checkpoint_v2(m_db.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    std::lock_guard lock(m_mutex);
    // SQLITE_BUSY: another checkpoint is running (the writer's backstop or
    // another process); the next nudge retries.
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      m_last_error = sqliteError(rc, m_db.get(), "background WAL checkpoint");
    }
  }
}

}  // namespace depot::sqlite
