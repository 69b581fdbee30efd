// Executor: a small pool of threads running short, non-blocking tasks and
// timers for the stream reactors (watch pumps, heartbeats, metric samples).
// Reactors never get a thread of their own; they post work here.
//
// Thread-safe. Tasks must not block (bounded store reads are allowed).
// stop() runs every timer still pending at once (so owners waiting for their
// callbacks are released), drains the queue and joins the threads; posts
// after stop() run inline on the caller's thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace depot::server {

class Executor {
 public:
  using Clock = std::chrono::steady_clock;
  using TimerId = std::uint64_t;

  explicit Executor(int threads);
  ~Executor();  // stop()s
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  void post(std::function<void()> task);
  // Runs `task` at `when` (or during stop()). Returns an id for cancel().
  TimerId postAt(Clock::time_point when, std::function<void()> task);
  TimerId postAfter(std::chrono::milliseconds delay, std::function<void()> task) {
    return postAt(Clock::now() + delay, std::move(task));
  }
  // True if the timer was removed before it ran (its task will never run).
  bool cancel(TimerId id);
  void stop();

 private:
  void run();

  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::deque<std::function<void()>> m_ready;  // guarded by m_mutex
  std::multimap<Clock::time_point, std::pair<TimerId, std::function<void()>>> m_timers;  // guarded
  std::map<TimerId, Clock::time_point> m_timerIndex;  // guarded by m_mutex
  TimerId m_nextTimer = 1;
  bool m_stopping = false;
  std::vector<std::thread> m_threads;
};

}  // namespace depot::server
