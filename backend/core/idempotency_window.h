// IdempotencyWindow: the idempotency records of one shard, what each request
// id it remembers produced, oldest first. Only the shard's writer touches it.
//
// Layout, for memory per record (a restart rebuilds millions of them, and
// zeroing fresh memory is a third of that restart's CPU):
// - the records are 64-byte slots in a ring, in the order they were
//   remembered (= ts order), so forgetting the oldest pops the front and no
//   separate order queue is needed;
// - a hash set of 32-bit serial numbers indexes them by request key; it
//   hashes and compares a serial through the slot it names;
// - what does not fit a slot (a refusal's message, more than one balance,
//   more than 2^24 entries) goes to a side table by key.
// ~72 bytes per record with the index at its average load, where a hash map
// of whole records (88-byte slots) and an order queue took ~165.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "core/huge_pages.h"
#include "core/model.h"

namespace depot {

class IdempotencyWindow {
 public:
  // One remembered request. The outcome is read through
  // IdempotencyWindow::outcome (part of it may live in the side table).
  struct Record {
    RequestKey key;
    std::uint64_t fingerprint = 0;
    Micros ts = 0;
    Seq first_seq = 0;
    Balance balance;          // the one balance after the request (shape kOneBalance)
    LocationId location = 0;  // its location
    std::uint32_t entries : 24;
    std::uint32_t code : 5;   // absl::StatusCode
    std::uint32_t shape : 2;  // Shape
  };

  // first_serial numbers the first record (tests start just below 2^32 to
  // cross the serials' wrap).
  explicit IdempotencyWindow(std::uint32_t first_serial = 0);
  ~IdempotencyWindow();
  // The index's hasher points at this object: it stays where it was made.
  IdempotencyWindow(const IdempotencyWindow&) = delete;
  IdempotencyWindow& operator=(const IdempotencyWindow&) = delete;

  // The record of `key`, or nullptr. Valid until the window next changes.
  const Record* find(const RequestKey& key) const;
  Outcome outcome(const Record& record) const;

  // Remembers a request at the back (its ts must be >= every ts held, as
  // the writer's clock is) and returns true. A key already held is given
  // the new record in its place instead, and false is returned (ShardTxn
  // looks every key up first, so it never does this).
  bool remember(const RequestKey& key, std::uint64_t fingerprint, Micros ts,
                const Outcome& outcome);
  // Forgets the newest record: undoes a remember() that returned true, for
  // a rolled-back batch.
  void forgetNewest();
  // Forgets the records with ts < before, oldest first; returns how many.
  std::size_t forgetBefore(Micros before);

  // Replaces the contents with `records` (a restart: the store's order,
  // sorted here by ts when it is not already; later duplicates win).
  void restore(std::vector<RecoveredRequest> records);
  void clear();

  std::size_t size() const { return m_size; }
  bool empty() const { return m_size == 0; }
  bool contains(const RequestKey& key) const { return find(key) != nullptr; }
  Micros oldestTs() const;  // 0 when empty
  Micros newestTs() const;  // 0 when empty
  // f(key, fingerprint) for every record, oldest first.
  template <typename F>
  void forEach(F&& f) const {
    for (std::size_t i = 0; i < m_size; ++i) {
      const Record& r = at(i);
      f(r.key, r.fingerprint);
    }
  }
  std::size_t sideRecords() const { return m_side.size(); }  // records with a side part
  // Bytes held by the ring, the index and the side table (for tests and sizing).
  std::size_t bytesHeld() const;

 private:
  enum Shape : std::uint32_t { kNoBalance = 0, kOneBalance = 1, kSide = 2 };
  // What a slot cannot hold.
  struct Side {
    std::uint32_t entries = 0;
    std::string message;
    std::vector<std::pair<LocationId, Balance>> after;
  };
  // The index hashes and compares serials through their slots; transparent,
  // so find() looks a RequestKey up directly. Two serials are equal when
  // their keys are: the index never holds two serials of one key.
  struct IndexHash {
    using is_transparent = void;
    const IdempotencyWindow* w;
    std::size_t operator()(std::uint32_t serial) const { return (*this)(w->bySerial(serial).key); }
    std::size_t operator()(const RequestKey& k) const { return static_cast<std::size_t>(k.mixed); }
  };
  struct IndexEq {
    using is_transparent = void;
    const IdempotencyWindow* w;
    bool operator()(std::uint32_t a, std::uint32_t b) const {
      return a == b || w->bySerial(a).key == w->bySerial(b).key;
    }
    bool operator()(std::uint32_t a, const RequestKey& k) const { return w->bySerial(a).key == k; }
    bool operator()(const RequestKey& k, std::uint32_t a) const { return (*this)(a, k); }
  };
  using Index =
      absl::flat_hash_set<std::uint32_t, IndexHash, IndexEq, HugePageAllocator<std::uint32_t>>;

  // The i-th record from the front (i < m_size).
  Record& at(std::size_t i) { return m_ring[ringPos(i)]; }
  const Record& at(std::size_t i) const { return m_ring[ringPos(i)]; }
  std::size_t ringPos(std::size_t i) const {
    const std::size_t pos = m_head + i;
    return pos >= m_capacity ? pos - m_capacity : pos;
  }
  // Serials number the records from the window's start, mod 2^32; a serial
  // is found from the front's (fewer than 2^32 records are ever held).
  const Record& bySerial(std::uint32_t serial) const {
    return at(static_cast<std::uint32_t>(serial - m_headSerial));
  }
  std::uint32_t backSerial() const { return static_cast<std::uint32_t>(m_headSerial + m_size - 1); }
  // Fills r's outcome (r.key set); what does not fit goes to the side table.
  void encode(absl::StatusCode code, std::string_view message, Seq first_seq, std::uint32_t entries,
              std::span<const std::pair<LocationId, Balance>> after, Record& r);
  // Appends r to the ring and indexes it; false (nothing appended) when its
  // key is held already.
  bool append(const Record& r);
  // Appends r, or overwrites the record held for its key.
  void place(const Record& r);
  void popFront();
  void popBack();
  void reallocate(std::size_t capacity);
  void shrinkIfSparse();

  Record* m_ring = nullptr;
  std::size_t m_capacity = 0;
  std::size_t m_head = 0;
  std::size_t m_size = 0;
  std::uint32_t m_headSerial = 0;
  Index m_index;
  absl::flat_hash_map<RequestKey, Side> m_side;
};

}  // namespace depot
