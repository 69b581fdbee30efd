#include "core/huge_pages.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <new>

namespace depot {
namespace {

std::size_t pageRound(std::size_t bytes) {
  static const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return (bytes + page - 1) / page * page;
}

}  // namespace

void* mapHugePageBlock(std::size_t bytes) {
  const std::size_t length = pageRound(bytes);
  // Over-map by one huge page, then cut the unaligned head and the tail.
  void* raw = mmap(nullptr, length + kHugePageBytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t aligned = (start + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
  const std::uintptr_t end = start + length + kHugePageBytes;
  if (aligned > start) munmap(raw, aligned - start);
  if (end > aligned + length) munmap(reinterpret_cast<void*>(aligned + length), end - aligned - length);
  // Advice only: without transparent huge pages the block works as is.
  madvise(reinterpret_cast<void*>(aligned), length & ~(kHugePageBytes - 1), MADV_HUGEPAGE);
  return reinterpret_cast<void*>(aligned);
}

void unmapHugePageBlock(void* block, std::size_t bytes) noexcept {
  munmap(block, pageRound(bytes));
}

}  // namespace depot
