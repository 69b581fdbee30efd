#include "core/idempotency_window.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <span>
#include <type_traits>

namespace depot {
namespace {

// A window this small is never shrunk; growing it starts here.
constexpr std::size_t kMinCapacity = 16;
constexpr std::uint32_t kMaxInlineEntries = (1u << 24) - 1;

}  // namespace

static_assert(sizeof(IdempotencyWindow::Record) == 64, "a record is one cache line");
static_assert(std::is_trivially_copyable_v<IdempotencyWindow::Record>);
static_assert(std::is_trivially_destructible_v<IdempotencyWindow::Record>);

IdempotencyWindow::IdempotencyWindow(std::uint32_t first_serial)
    : m_headSerial(first_serial), m_index(0, IndexHash{this}, IndexEq{this}) {}

IdempotencyWindow::~IdempotencyWindow() {
  m_index.clear();
  if (m_ring) HugePageAllocator<Record>{}.deallocate(m_ring, m_capacity);
}

const IdempotencyWindow::Record* IdempotencyWindow::find(const RequestKey& key) const {
  auto it = m_index.find(key);
  return it == m_index.end() ? nullptr : &bySerial(*it);
}

Outcome IdempotencyWindow::outcome(const Record& r) const {
  Outcome o;
  o.code = static_cast<absl::StatusCode>(r.code);
  o.first_seq = r.first_seq;
  switch (r.shape) {
    case kOneBalance:
      o.after.emplace_back(r.location, r.balance);
      [[fallthrough]];
    case kNoBalance:
      o.entries = r.entries;
      break;
    default: {
      const Side& side = m_side.at(r.key);
      o.entries = side.entries;
      o.message = side.message;
      o.after = side.after;
    }
  }
  return o;
}

void IdempotencyWindow::encode(absl::StatusCode code, std::string_view message, Seq first_seq,
                               std::uint32_t entries,
                               std::span<const std::pair<LocationId, Balance>> after, Record& r) {
  // Every absl::StatusCode (0..16) fits the 5-bit field; a value outside
  // the enum (only from a damaged store) is kept as UNKNOWN.
  const auto raw = static_cast<std::uint32_t>(code);
  r.code = raw < 32 ? raw : static_cast<std::uint32_t>(absl::StatusCode::kUnknown);
  r.first_seq = first_seq;
  r.location = 0;
  r.balance = Balance{};
  if (message.empty() && after.size() <= 1 && entries <= kMaxInlineEntries) {
    r.entries = entries;
    r.shape = after.empty() ? kNoBalance : kOneBalance;
    if (!after.empty()) {
      r.location = after[0].first;
      r.balance = after[0].second;
    }
    return;
  }
  r.entries = 0;
  r.shape = kSide;
  Side& side = m_side[r.key];
  side.entries = entries;
  side.message.assign(message);
  side.after.assign(after.begin(), after.end());
}

bool IdempotencyWindow::append(const Record& r) {
  if (m_size == m_capacity) reallocate(std::max(kMinCapacity, m_capacity + m_capacity / 2));
  new (&m_ring[ringPos(m_size)]) Record(r);
  ++m_size;
  if (m_index.insert(backSerial()).second) return true;
  --m_size;  // its key is held: the slot is free again
  return false;
}

void IdempotencyWindow::place(const Record& r) {
  if (append(r)) return;
  Record& held = const_cast<Record&>(*find(r.key));
  if (held.shape == kSide && r.shape != kSide) m_side.erase(r.key);
  held = r;
}

bool IdempotencyWindow::remember(const RequestKey& key, std::uint64_t fingerprint, Micros ts,
                                 const Outcome& outcome) {
  Record r{};
  r.key = key;
  r.fingerprint = fingerprint;
  r.ts = ts;
  encode(outcome.code, outcome.message, outcome.first_seq, outcome.entries, outcome.after, r);
  const std::size_t had = m_size;
  place(r);
  return m_size > had;
}

void IdempotencyWindow::forgetNewest() {
  if (m_size > 0) popBack();
}

std::size_t IdempotencyWindow::forgetBefore(Micros before) {
  std::size_t n = 0;
  while (m_size > 0 && at(0).ts < before) {
    popFront();
    ++n;
  }
  if (n > 0) shrinkIfSparse();
  return n;
}

void IdempotencyWindow::popFront() {
  const Record& r = at(0);
  m_index.erase(m_headSerial);
  if (r.shape == kSide) m_side.erase(r.key);
  m_head = ringPos(1);
  --m_size;
  ++m_headSerial;
  if (m_size == 0) m_head = 0;
}

void IdempotencyWindow::popBack() {
  const Record& r = at(m_size - 1);
  m_index.erase(backSerial());
  if (r.shape == kSide) m_side.erase(r.key);
  --m_size;
}

void IdempotencyWindow::reallocate(std::size_t capacity) {
  HugePageAllocator<Record> alloc;
  Record* ring = alloc.allocate(capacity);
  // The records are trivially copyable: the ring's two runs are copied whole.
  const std::size_t first = std::min(m_size, m_capacity - m_head);
  if (first > 0) std::memcpy(static_cast<void*>(ring), &m_ring[m_head], first * sizeof(Record));
  if (m_size > first)
    std::memcpy(static_cast<void*>(ring + first), m_ring, (m_size - first) * sizeof(Record));
  if (m_ring) alloc.deallocate(m_ring, m_capacity);
  m_ring = ring;
  m_capacity = capacity;
  m_head = 0;
}

void IdempotencyWindow::shrinkIfSparse() {
  // A window that emptied out (traffic fell, or the bound moved) gives its
  // memory back; halving keeps this from repeating on small swings.
  if (m_capacity > kMinCapacity && m_size < m_capacity / 4)
    reallocate(std::max(kMinCapacity, m_size * 2));
  if (m_index.capacity() > 2 * kMinCapacity && m_index.size() < m_index.capacity() / 8)
    m_index.rehash(0);
}

void IdempotencyWindow::restore(std::vector<RecoveredRequest> records) {
  clear();
  // The ring needs ts order; the store's order (commit order) is nearly
  // always it already, so the sort is skipped then.
  const auto by_ts = [](const RecoveredRequest& a, const RecoveredRequest& b) {
    return a.remembered.ts < b.remembered.ts;
  };
  if (!std::is_sorted(records.begin(), records.end(), by_ts))
    std::stable_sort(records.begin(), records.end(), by_ts);
  // Sized once: room for an eighth more before the first growth.
  if (records.size() + records.size() / 8 > m_capacity)
    reallocate(std::max(kMinCapacity, records.size() + records.size() / 8));
  m_index.reserve(records.size());
  for (const RecoveredRequest& rec : records) {
    const RememberedRequest& rem = rec.remembered;
    Record r{};
    r.key = rec.key;
    r.fingerprint = rem.fingerprint;
    r.ts = rem.ts;
    encode(rem.code, rem.message ? std::string_view(*rem.message) : std::string_view(),
           rem.first_seq, rem.entries, rem.after, r);
    place(r);
  }
}

void IdempotencyWindow::clear() {
  m_index.clear();
  m_side.clear();
  m_head = 0;
  m_size = 0;  // serials go on from m_headSerial: any start will do
}

Micros IdempotencyWindow::oldestTs() const { return m_size == 0 ? 0 : at(0).ts; }

Micros IdempotencyWindow::newestTs() const { return m_size == 0 ? 0 : at(m_size - 1).ts; }

std::size_t IdempotencyWindow::bytesHeld() const {
  std::size_t side = 0;
  for (const auto& [key, s] : m_side)
    side += sizeof(RequestKey) + sizeof(Side) + s.message.capacity() +
            s.after.capacity() * sizeof(s.after[0]);
  return m_capacity * sizeof(Record) + m_index.capacity() * (sizeof(std::uint32_t) + 1) + side;
}

}  // namespace depot
