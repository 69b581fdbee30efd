// HugePageAllocator: the allocator of the shard state's large hash tables.
//
// A block of 2 MiB or more is mapped on its own, aligned to 2 MiB, and its
// whole 2 MiB pages are marked MADV_HUGEPAGE, so the kernel backs them with
// transparent huge pages (Debian's default mode is "madvise": only marked
// memory gets them). A restart that builds gigabytes of tables then takes one
// page fault per 2 MiB instead of per 4 KiB (a fault costs ~5 µs on the
// reference VM: 10 M balances with a full idempotency window faulted
// ~750,000 times), and lookups into the tables miss the TLB less. The tail
// past the last whole 2 MiB page keeps small pages, so no memory is wasted
// on rounding. Smaller blocks come from malloc as before.
#pragma once

#include <cstddef>
#include <memory>

namespace depot {

inline constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;

// mmap/munmap of a block as described above; throws std::bad_alloc.
void* mapHugePageBlock(std::size_t bytes);
void unmapHugePageBlock(void* block, std::size_t bytes) noexcept;

template <typename T>
struct HugePageAllocator {
  using value_type = T;

  HugePageAllocator() noexcept = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}  // NOLINT: rebinding converts

  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < kHugePageBytes) return std::allocator<T>{}.allocate(n);
    return static_cast<T*>(mapHugePageBlock(bytes));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < kHugePageBytes) return std::allocator<T>{}.deallocate(p, n);
    unmapHugePageBlock(p, bytes);
  }
  template <typename U>
  friend bool operator==(const HugePageAllocator&, const HugePageAllocator<U>&) noexcept {
    return true;
  }
};

}  // namespace depot
