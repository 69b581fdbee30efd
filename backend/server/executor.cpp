#include "server/executor.h"

namespace depot::server {

Executor::Executor(int threads) {
  if (threads < 1) threads = 1;
  for (int i = 0; i < threads; ++i) m_threads.emplace_back([this] { run(); });
}

Executor::~Executor() { stop(); }

void Executor::post(std::function<void()> task) {
  {
    std::lock_guard lock(m_mutex);
    if (!m_stopping) {
      m_ready.push_back(std::move(task));
      m_cv.notify_one();
      return;
    }
  }
  task();
}

Executor::TimerId Executor::postAt(Clock::time_point when, std::function<void()> task) {
  TimerId id;
  {
    std::lock_guard lock(m_mutex);
    id = m_nextTimer++;
    if (!m_stopping) {
      m_timers.emplace(when, std::make_pair(id, std::move(task)));
      m_timerIndex.emplace(id, when);
      m_cv.notify_one();
      return id;
    }
  }
  task();
  return id;
}

bool Executor::cancel(TimerId id) {
  std::function<void()> victim;  // destroyed outside the lock
  std::lock_guard lock(m_mutex);
  auto it = m_timerIndex.find(id);
  if (it == m_timerIndex.end()) return false;
  auto range = m_timers.equal_range(it->second);
  for (auto t = range.first; t != range.second; ++t) {
    if (t->second.first == id) {
      victim = std::move(t->second.second);
      m_timers.erase(t);
      break;
    }
  }
  m_timerIndex.erase(it);
  return true;
}

void Executor::run() {
  std::unique_lock lock(m_mutex);
  for (;;) {
    if (!m_ready.empty()) {
      auto task = std::move(m_ready.front());
      m_ready.pop_front();
      lock.unlock();
      task();
      task = nullptr;
      lock.lock();
      continue;
    }
    if (!m_timers.empty()) {
      auto first = m_timers.begin();
      if (m_stopping || first->first <= Clock::now()) {
        auto task = std::move(first->second.second);
        m_timerIndex.erase(first->second.first);
        m_timers.erase(first);
        lock.unlock();
        task();
        task = nullptr;
        lock.lock();
        continue;
      }
      m_cv.wait_until(lock, first->first);
      continue;
    }
    if (m_stopping) return;
    m_cv.wait(lock);
  }
}

void Executor::stop() {
  {
    std::lock_guard lock(m_mutex);
    if (m_stopping && m_threads.empty()) return;
    m_stopping = true;
    m_cv.notify_all();
  }
  for (auto& t : m_threads) {
    if (t.joinable()) t.join();
  }
  m_threads.clear();
}

}  // namespace depot::server
