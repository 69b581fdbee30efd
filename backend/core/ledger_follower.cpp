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
  while (!m_stop.load()) {
    catchUp();
    if (m_stop.load()) break;
    (void)m_wait(m_poll);
  }
}

void LedgerFollower::catchUp() {
  auto stored = m_store.lastSeqs();
  if (!stored.ok()) return;  // store unreachable: try again after the next wait
  m_passes.fetch_add(1, std::memory_order_relaxed);
  const Cursor have = m_events.committed();
  std::uint64_t lag = 0;
  for (ShardId s = 0; s < kShardCount; ++s)
    if ((*stored)[s] > have[s]) lag += (*stored)[s] - have[s];
  m_lag.store(lag, std::memory_order_relaxed);
  for (ShardId s = 0; s < kShardCount && !m_stop.load(); ++s) {
    Seq after = m_events.committed()[s];
    // Bounded: every page advances `after` or ends the shard.
    while (after < (*stored)[s] && !m_stop.load()) {
      auto rows = m_store.readLedger(s, after, (*stored)[s], kPage);
      if (!rows.ok() || rows->empty()) break;
      after = rows->back().seq;
      m_events.publish(std::make_shared<const std::vector<LedgerEntry>>(std::move(*rows)));
    }
  }
}

}  // namespace depot
