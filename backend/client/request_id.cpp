#include "client/request_id.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <random>
#include <thread>

namespace depot::client {
namespace {

std::mt19937_64& generator() {
  thread_local std::mt19937_64 gen = [] {
    std::random_device device;
    std::seed_seq seed{
        device(),
        device(),
        device(),
        device(),
        static_cast<std::uint32_t>(
            std::chrono::high_resolution_clock::now().time_since_epoch().count()),
        static_cast<std::uint32_t>(std::hash<std::thread::id>{}(std::this_thread::get_id()))};
    return std::mt19937_64(seed);
  }();
  return gen;
}

}  // namespace

std::string newRequestId() {
  std::uint64_t hi = generator()();
  std::uint64_t lo = generator()();
  hi = (hi & 0xFFFFFFFFFFFF0FFFull) | 0x0000000000004000ull;  // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;  // variant 10
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  auto put = [&](std::uint64_t v, int from_nibble, int count) {
    for (int i = 0; i < count; ++i) {
      out.push_back(kHex[(v >> (4 * (from_nibble - i))) & 0xF]);
    }
  };
  put(hi, 15, 8);
  out.push_back('-');
  put(hi, 7, 4);
  out.push_back('-');
  put(hi, 3, 4);
  out.push_back('-');
  put(lo, 15, 4);
  out.push_back('-');
  put(lo, 11, 12);
  return out;
}

}  // namespace depot::client
