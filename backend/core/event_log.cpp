#include "core/event_log.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace depot {

EventLog::EventLog(Store& store, std::size_t tail_entries)
    : m_store(store), m_tailEntries(std::max<std::size_t>(tail_entries, 1)) {}

EventLog::~EventLog() = default;

void EventLog::reset(const Cursor& committed) {
  std::lock_guard lock(m_mutex);
  m_committed = committed;
  m_tail.clear();
  m_tailSize = 0;
}

void EventLog::publish(std::shared_ptr<const std::vector<LedgerEntry>> entries) {
  if (!entries || entries->empty()) return;
  std::vector<std::function<void()>> wake;
  {
    std::lock_guard lock(m_mutex);
    const ShardId shard = entries->front().shard;
    if (entries->back().seq <= m_committed[shard]) return;  // published already
    if (entries->front().seq <= m_committed[shard]) {
      const Seq have = m_committed[shard];
      auto fresh = std::make_shared<std::vector<LedgerEntry>>();
      for (const auto& e : *entries)
        if (e.seq > have) fresh->push_back(e);
      entries = std::move(fresh);
    }
    m_committed[shard] = std::max(m_committed[shard], entries->back().seq);
    m_tailSize += entries->size();
    m_tail.push_back(Batch{m_nextPosition++, std::move(entries)});
    while (m_tailSize > m_tailEntries && m_tail.size() > 1) {
      m_tailSize -= m_tail.front().entries->size();
      m_tail.pop_front();
    }
    for (auto* s : m_sessions)
      if (s->m_notify) wake.push_back(std::exchange(s->m_notify, nullptr));
  }
  if (!wake.empty()) {
    std::lock_guard notify(m_notifyMutex);
    for (auto& fn : wake) fn();
  }
}

void EventLog::advance(ShardId shard, Seq seq) {
  std::lock_guard lock(m_mutex);
  m_committed[shard] = std::max(m_committed[shard], seq);
}

absl::StatusOr<std::unique_ptr<WatchSession>> EventLog::subscribe(const Cursor& from,
                                                                  std::vector<ShardId> shards) {
  bool ahead = false;
  {
    std::lock_guard lock(m_mutex);
    for (ShardId s = 0; s < kShardCount && !ahead; ++s) ahead = from[s] > m_committed[s];
  }
  if (ahead) {
    // Maybe only this view is behind: ask the store, the ledger's truth.
    auto seqs = m_store.lastSeqs();
    if (!seqs.ok()) return seqs.status();
    std::lock_guard lock(m_mutex);
    for (ShardId s = 0; s < kShardCount; ++s)
      m_committed[s] = std::max(m_committed[s], (*seqs)[s]);
  }
  std::vector<bool> watched(kShardCount, shards.empty());
  for (ShardId s : shards) {
    if (s >= kShardCount)
      return absl::InvalidArgumentError(absl::StrCat("shards: ", s, " is not a shard (0..255)"));
    watched[s] = true;
  }
  std::lock_guard lock(m_mutex);
  for (ShardId s = 0; s < kShardCount; ++s) {
    if (from[s] > m_committed[s])
      return absl::FailedPreconditionError(absl::StrCat(
          "cursor: shard ", s, " is at seq ", from[s], " but the ledger ends at ", m_committed[s],
          "; the cursor belongs to another data set: re-snapshot"));
  }
  std::unique_ptr<WatchSession> session(new WatchSession(*this, from, std::move(watched)));
  session->m_position = m_nextPosition;
  session->m_target = m_committed;
  session->m_resync = false;
  for (ShardId s = 0; s < kShardCount; ++s)
    if (session->m_shards[s] && from[s] < m_committed[s]) session->m_resync = true;
  m_sessions.push_back(session.get());
  return session;
}

Cursor EventLog::committed() const {
  std::lock_guard lock(m_mutex);
  return m_committed;
}

std::size_t EventLog::subscribers() const {
  std::lock_guard lock(m_mutex);
  return m_sessions.size();
}

void EventLog::detach(WatchSession* session) {
  std::lock_guard notify(m_notifyMutex);  // no notify function of this session is running
  std::lock_guard lock(m_mutex);
  m_sessions.erase(std::remove(m_sessions.begin(), m_sessions.end(), session), m_sessions.end());
}

// -------------------------------------------------------------- WatchSession

WatchSession::WatchSession(EventLog& log, const Cursor& from, std::vector<bool> shards)
    : m_log(log), m_cursor(from), m_shards(std::move(shards)) {}

WatchSession::~WatchSession() { m_log.detach(this); }

absl::Status WatchSession::fillFromStore(ShardId shard, Seq up_to, std::size_t max,
                                         std::vector<LedgerEntry>& out) {
  auto rows = m_log.m_store.readLedger(shard, m_cursor[shard], up_to, max);
  if (!rows.ok()) return rows.status();
  if (rows->empty())
    return absl::DataLossError(absl::StrCat("ledger of shard ", shard, " has no row after seq ",
                                            m_cursor[shard], " although it ends at ", up_to));
  for (auto& e : *rows) {
    if (e.seq != m_cursor[shard] + 1)
      return absl::DataLossError(absl::StrCat("ledger of shard ", shard, " jumps from seq ",
                                              m_cursor[shard], " to ", e.seq));
    m_cursor[shard] = e.seq;
    out.push_back(std::move(e));
  }
  return absl::OkStatus();
}

absl::Status WatchSession::next(std::size_t max, std::vector<LedgerEntry>& out) {
  const std::size_t start = out.size();
  for (int round = 0; round < 4 && out.size() - start < max; ++round) {
    if (m_resync) {
      // Catch up from the store to the targets taken when the tail was left.
      for (ShardId s = 0; s < kShardCount && out.size() - start < max; ++s) {
        if (!m_shards[s]) continue;
        while (m_cursor[s] < m_target[s] && out.size() - start < max) {
          if (auto st = fillFromStore(s, m_target[s], max - (out.size() - start), out); !st.ok())
            return st;
        }
      }
      if (out.size() - start >= max) return absl::OkStatus();
      m_resync = false;
    }
    // Take the batches published since our position (shared, not copied).
    std::vector<std::shared_ptr<const std::vector<LedgerEntry>>> batches;
    std::uint64_t last_position = 0;
    {
      std::lock_guard lock(m_log.m_mutex);
      if (!m_log.m_tail.empty() && m_log.m_tail.front().position > m_position) {
        // Fell behind the in-memory tail: resync from the store.
        m_position = m_log.m_nextPosition;
        m_target = m_log.m_committed;
        m_resync = true;
        continue;
      }
      for (auto it = m_log.m_tail.rbegin(); it != m_log.m_tail.rend(); ++it) {
        if (it->position < m_position) break;
        batches.push_back(it->entries);
        last_position = std::max(last_position, it->position);
      }
    }
    if (batches.empty()) return absl::OkStatus();
    std::reverse(batches.begin(), batches.end());
    std::size_t consumed = 0;
    for (const auto& b : batches) {
      const ShardId s = b->front().shard;
      bool done = true;
      if (m_shards[s]) {
        for (const auto& e : *b) {
          if (e.seq <= m_cursor[s]) continue;  // already delivered
          if (e.seq != m_cursor[s] + 1) {
            // Cannot happen with a contiguous tail; recover by resyncing.
            m_target[s] = std::max(m_target[s], e.seq - 1);
            m_resync = true;
            done = false;
            break;
          }
          if (out.size() - start >= max) {
            done = false;
            break;
          }
          m_cursor[s] = e.seq;
          out.push_back(e);
        }
      }
      if (!done) break;
      ++consumed;
    }
    // Advance past fully consumed batches only; a partly read batch is read
    // again next time and its delivered entries skipped by seq.
    if (consumed == batches.size()) {
      m_position = last_position + 1;
    } else {
      // Positions are consecutive in the tail.
      m_position = last_position + 1 - (batches.size() - consumed);
    }
    if (m_resync) continue;
    if (consumed < batches.size()) return absl::OkStatus();
  }
  return absl::OkStatus();
}

void WatchSession::notifyWhenReady(std::function<void()> fn) {
  bool ready = false;
  {
    std::lock_guard lock(m_log.m_mutex);
    ready = m_resync || (!m_log.m_tail.empty() && m_log.m_tail.back().position >= m_position);
    if (!ready) m_notify = std::move(fn);
  }
  if (ready) fn();
}

void WatchSession::cancel() {
  std::function<void()> fn;
  {
    std::lock_guard lock(m_log.m_mutex);
    fn = std::exchange(m_notify, nullptr);
  }
  if (fn) {
    std::lock_guard notify(m_log.m_notifyMutex);
    fn();
  }
}

}  // namespace depot
