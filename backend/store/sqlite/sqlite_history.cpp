#include "store/sqlite/sqlite_history.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "store/sqlite/sqlite_rows.h"

namespace depot::sqlite {
namespace {

// splitmix64's finalizer: consecutive seqs map to unrelated bits.
std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

void historyMarkSql(sqlite3_context* ctx, int /*argc*/, sqlite3_value** argv) {
  sqlite3_result_int(ctx, isHistoryMark(static_cast<Seq>(sqlite3_value_int64(argv[0]))) ? 1 : 0);
}

// Marks are read in pages of this many.
constexpr std::size_t kMarkPage = 64;

struct Link {
  LedgerEntry entry;
  Seq prev = 0;
};

struct Mark {
  Micros ts = 0;
  Seq seq = 0;
};

// Reads of one (item, location)'s chain on a leased connection.
class Chain {
 public:
  Chain(ReadPool::Lease& lease, ShardId shard, ItemId item, LocationId location)
      : m_lease(lease), m_shard(shard), m_item(item), m_location(location) {}

  // The entry at `seq`, which must exist: the chain only points at entries
  // in the ledger.
  absl::StatusOr<Link> fetch(Seq seq) {
    static const std::string kSql = cat("SELECT ", kLedgerColumns,
                                        ", prev_seq FROM ledger WHERE shard = ?1 AND seq = ?2");
    auto stmt = m_lease.stmt(kSql);
    if (!stmt.ok()) return stmt.status();
    Stmt::Scope scope(**stmt);
    (*stmt)->bindInt(1, m_shard);
    (*stmt)->bindInt(2, static_cast<std::int64_t>(seq));
    auto row = (*stmt)->next("history: reading a ledger entry");
    if (!row.ok()) return row.status();
    if (!*row) {
      return absl::DataLossError(cat("history of item ", m_item, " at location ", m_location,
                                     ": the chain points at shard ", m_shard, " seq ", seq,
                                     ", which is not in the ledger"));
    }
    Link link{readLedgerEntry(**stmt), static_cast<Seq>((*stmt)->colInt(kLedgerColumnCount))};
    if (link.prev >= seq || link.entry.item != m_item || link.entry.location != m_location) {
      return absl::DataLossError(cat("history of item ", m_item, " at location ", m_location,
                                     ": the ledger entry at shard ", m_shard, " seq ", seq,
                                     " does not continue the chain (prev_seq ", link.prev, ")"));
    }
    return link;
  }

  // The newest entry's seq; 0 when the balance has none.
  absl::StatusOr<Seq> newest() {
    static const std::string kSql =
        "SELECT last_seq FROM balances WHERE item = ?1 AND location = ?2";
    auto stmt = m_lease.stmt(kSql);
    if (!stmt.ok()) return stmt.status();
    Stmt::Scope scope(**stmt);
    (*stmt)->bindInt(1, m_item);
    (*stmt)->bindInt(2, m_location);
    auto row = (*stmt)->next("history: reading the newest entry");
    if (!row.ok()) return row.status();
    return *row ? static_cast<Seq>((*stmt)->colInt(0)) : Seq{0};
  }

  // Up to kMarkPage marks after (ts, seq), in (ts, seq) order.
  absl::StatusOr<std::vector<Mark>> marksAfter(Micros ts, Seq seq) {
    static const std::string kSql = cat(
        "SELECT ts, seq FROM history_marks WHERE item = ?1 AND location = ?2 "
        "AND (ts, seq) > (?3, ?4) ORDER BY ts, seq LIMIT ",
        kMarkPage);
    auto stmt = m_lease.stmt(kSql);
    if (!stmt.ok()) return stmt.status();
    Stmt::Scope scope(**stmt);
    (*stmt)->bindInt(1, m_item);
    (*stmt)->bindInt(2, m_location);
    (*stmt)->bindInt(3, ts);
    (*stmt)->bindInt(4, static_cast<std::int64_t>(std::min<Seq>(seq, kMaxSqlInt)));
    std::vector<Mark> marks;
    for (;;) {
      auto row = (*stmt)->next("history: reading marks");
      if (!row.ok()) return row.status();
      if (!*row) return marks;
      marks.push_back(Mark{(*stmt)->colInt(0), static_cast<Seq>((*stmt)->colInt(1))});
    }
  }

 private:
  static constexpr Seq kMaxSqlInt = static_cast<Seq>(std::numeric_limits<std::int64_t>::max());
  ReadPool::Lease& m_lease;
  ShardId m_shard;
  ItemId m_item;
  LocationId m_location;
};

bool belowUpper(const LedgerEntry& e, const ChainBounds& b) {
  return e.ts < b.to && e.seq < b.before;
}
bool aboveLower(const LedgerEntry& e, const ChainBounds& b) {
  return e.ts >= b.from && e.seq > b.after;
}

// Newest first: start at the first mark past the upper bound (or the newest
// entry) and walk back.
absl::StatusOr<std::vector<LedgerEntry>> readNewestFirst(Chain& chain, const ChainBounds& b,
                                                         std::size_t limit) {
  std::optional<Seq> start;
  // Marks from the upper bound's ts on ((ts, 0) excludes nothing there: seqs
  // start at 1). Those still inside the bound share the before entry's ts,
  // so this stops within a page or two.
  Mark cursor{std::min(b.to, b.before_ts), 0};
  for (;;) {
    auto marks = chain.marksAfter(cursor.ts, cursor.seq);
    if (!marks.ok()) return marks.status();
    for (const Mark& m : *marks) {
      if (m.ts >= b.to || m.seq >= b.before) {
        start = m.seq;
        break;
      }
    }
    if (start || marks->size() < kMarkPage) break;
    cursor = marks->back();
  }
  if (!start) {
    auto newest = chain.newest();
    if (!newest.ok()) return newest.status();
    start = *newest;
  }
  std::vector<LedgerEntry> out;
  for (Seq seq = *start; seq != 0 && out.size() < limit;) {
    auto link = chain.fetch(seq);
    if (!link.ok()) return link.status();
    if (!aboveLower(link->entry, b)) break;
    seq = link->prev;
    if (belowUpper(link->entry, b)) out.push_back(std::move(link->entry));
  }
  return out;
}

// Oldest first: each mark from the lower bound on ends a segment of the
// chain; walk each back to the previous mark and emit it reversed. The last
// segment ends at the newest entry.
absl::StatusOr<std::vector<LedgerEntry>> readOldestFirst(Chain& chain, const ChainBounds& b,
                                                         std::size_t limit) {
  std::vector<LedgerEntry> out;
  Seq boundary = 0;  // entries at or below it are emitted or below the bound
  bool done = false;
  std::vector<LedgerEntry> segment;
  auto walkSegment = [&](Seq end) -> absl::Status {
    segment.clear();
    for (Seq seq = end; seq > boundary;) {
      auto link = chain.fetch(seq);
      if (!link.ok()) return link.status();
      if (!aboveLower(link->entry, b)) break;
      seq = link->prev;
      segment.push_back(std::move(link->entry));
    }
    boundary = end;
    for (auto it = segment.rbegin(); it != segment.rend() && !done; ++it) {
      if (!belowUpper(*it, b)) {
        done = true;
      } else {
        out.push_back(std::move(*it));
        done = out.size() >= limit;
      }
    }
    return absl::OkStatus();
  };
  // Marks from the lower bound's ts on ((ts, 0) excludes nothing there).
  Mark cursor{std::max(b.from, b.after_ts), 0};
  for (bool more = true; more && !done;) {
    auto marks = chain.marksAfter(cursor.ts, cursor.seq);
    if (!marks.ok()) return marks.status();
    for (const Mark& m : *marks) {
      if (m.seq <= b.after) continue;
      if (auto st = walkSegment(m.seq); !st.ok()) return st;
      if (done) break;
    }
    more = marks->size() == kMarkPage;
    if (more) cursor = marks->back();
  }
  if (!done) {
    auto newest = chain.newest();
    if (!newest.ok()) return newest.status();
    if (*newest > boundary) {
      if (auto st = walkSegment(*newest); !st.ok()) return st;
    }
  }
  return out;
}

}  // namespace

bool isHistoryMark(Seq seq) { return mix(seq) % kHistoryMarkEvery == 0; }

absl::Status registerHistoryFunctions(Db& db) {
  const int rc =
      sqlite3_create_function_v2(db.get(), "depot_history_mark", 1,
                                 SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, nullptr,
                                 &historyMarkSql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    return absl::InternalError(
        cat("registering depot_history_mark: ", sqlite3_errstr(rc)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<LedgerEntry>> readChain(ReadPool::Lease& lease, ShardId shard,
                                                   ItemId item, LocationId location,
                                                   const ChainBounds& bounds, bool newest_first,
                                                   std::size_t limit) {
  if (limit == 0 || bounds.from >= bounds.to || bounds.after >= bounds.before) {
    return std::vector<LedgerEntry>{};
  }
  Chain chain(lease, shard, item, location);
  return newest_first ? readNewestFirst(chain, bounds, limit)
                      : readOldestFirst(chain, bounds, limit);
}

}  // namespace depot::sqlite
