#include "core/ledger_follower.h"

#include <memory>
#include <vector>

namespace depot {
namespace {
constexpr std::size_t kPage = 5000;  // ledger rows per read
}  // namespace

LedgerFollower::LedgerFollower(Store& store, EventLog& events, Wait wait,
                               std::chrono::milliseconds poll)
    : m_store(store), m_events(events), m_wait(std::move(wait)), m_poll(poll) {}

LedgerFollower::~LedgerFollower() { stop(); }

void LedgerFollower::start() {
  m_stop = false;
  m_thread = std::thread([this] { run(); });
}

void LedgerFollower::stop() {
  m_stop = true;
  if (m_thread.joinable()) m_thread.join();
}

void LedgerFollower::run() {
  // Under load every commit notifies: passes are spaced by kMinGap so one
  // read collects the commits of several milliseconds (the cost to the store
  // stays bounded; the added delay is at most kMinGap).
  constexpr auto kMinGap = std::chrono::milliseconds(10);
  while (!m_stop.load()) {
    const auto pass = std::chrono::steady_clock::now();
    catchUp();
    if (m_stop.load()) break;
    (void)m_wait(m_poll);
    const auto since = std::chrono::steady_clock::now() - pass;
    if (since < kMinGap) std::this_thread::sleep_for(kMinGap - since);
  }
}

void LedgerFollower::catchUp() {
  // Bounded: each pass publishes up to kPage entries per shard; a full page
  // means more is waiting, so read again at once (at most kPasses times).
  constexpr int kPasses = 20;
  for (int pass = 0; pass < kPasses && !m_stop.load(); ++pass) {
    const Cursor have = m_events.committed();
    auto rows = m_store.readLedgerAfter(have, kPage);
    if (!rows.ok()) return;  // store unreachable: try again after the next wait
    m_lag.store(rows->size(), std::memory_order_relaxed);
    bool full = false;
    // Rows come in (shard, seq) order: publish one batch per shard.
    std::size_t begin = 0;
    while (begin < rows->size()) {
      std::size_t end = begin;
      const ShardId shard = (*rows)[begin].shard;
      while (end < rows->size() && (*rows)[end].shard == shard) ++end;
      full = full || end - begin >= kPage;
      m_events.publish(std::make_shared<const std::vector<LedgerEntry>>(
          std::make_move_iterator(rows->begin() + static_cast<std::ptrdiff_t>(begin)),
          std::make_move_iterator(rows->begin() + static_cast<std::ptrdiff_t>(end))));
      begin = end;
    }
    if (!full) return;
  }
}

}  // namespace depot
