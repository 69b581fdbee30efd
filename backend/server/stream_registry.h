// Bookkeeping shared by the streaming reactors: a registry so shutdown can
// end every open stream, and a base class for reactor lifetime.
//
// Lifetime rule: a streaming reactor deletes itself only when gRPC has
// called OnDone AND every asynchronous callback it armed (executor tasks,
// timers, core callbacks, watch notifications, registry visits) has
// returned. Each such callback holds a reference taken with retainLocked()
// or retain() and drops it with release().
#pragma once

#include <mutex>
#include <vector>

namespace depot::server {

class StreamBase {
 public:
  StreamBase(const StreamBase&) = delete;
  StreamBase& operator=(const StreamBase&) = delete;

  // Ends the stream with UNAVAILABLE because the server is shutting down.
  // Non-blocking; may be called from any thread, at most once per stream by
  // the registry, possibly after the stream has finished by itself.
  virtual void stopForShutdown() = 0;

  void retain() {
    std::lock_guard lock(m_mutex);
    ++m_refs;
  }
  void release();

 protected:
  StreamBase() = default;
  virtual ~StreamBase() = default;

  void retainLocked() { ++m_refs; }  // requires m_mutex
  // Drops a reference whose callback will never run (a cancelled timer).
  // Requires m_mutex and that OnDone has not run yet (the stream is not
  // finished), so the count cannot be the last one.
  void dropRefLocked() { --m_refs; }
  // Called from the reactor's OnDone (after it unregistered itself).
  void markDone();

  std::mutex m_mutex;  // guards the derived reactor's state too

 private:
  int m_refs = 0;       // guarded by m_mutex
  bool m_done = false;  // guarded by m_mutex
};

// The open streams of one server. Thread-safe.
class StreamRegistry {
 public:
  // False (and nothing registered) once stopAll() has begun.
  bool add(StreamBase* stream);
  void remove(StreamBase* stream);
  // Refuses new streams and calls stopForShutdown() on every open one.
  void stopAll();
  bool stopping() const;
  std::size_t size() const;

 private:
  mutable std::mutex m_mutex;
  std::vector<StreamBase*> m_streams;  // guarded by m_mutex
  bool m_stopping = false;             // guarded by m_mutex
};

}  // namespace depot::server
