// Clock: the engine's source of time. Injected so tests can drive
// reservation expiry and count timestamps deterministically.
#pragma once

#include <atomic>
#include <chrono>

#include "core/model.h"

namespace depot {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Micros now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Micros now() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// A clock that moves only when told. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Micros start) : m_now(start) {}
  Micros now() const override { return m_now.load(); }
  void advance(Micros by) { m_now.fetch_add(by); }
  void set(Micros to) { m_now.store(to); }

 private:
  std::atomic<Micros> m_now;
};

}  // namespace depot
