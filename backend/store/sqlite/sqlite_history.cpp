#include "store/sqlite/sqlite_history.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
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

absl::Status verifyChains(ReadPool::Lease& lease,
                          const std::function<void(IndexFinding)>& found) {
  static const std::string kLedgerSql =
      "SELECT shard, seq, item, location, ts, prev_seq FROM ledger ORDER BY shard, seq";
  static const std::string kMarkSql =
      "SELECT 1 FROM history_marks WHERE item = ?1 AND location = ?2 AND ts = ?3 AND seq = ?4";
  static const std::string kHeadsSql =
      "SELECT b.item, b.location, b.last_seq, coalesce(i.shard, 0) FROM balances b "
      "LEFT JOIN items i ON i.id = b.item";
  static const std::string kMarksSql =
      "SELECT m.item, m.location, m.ts, m.seq, coalesce(i.shard, 0), l.item, l.location, l.ts "
      "FROM history_marks m LEFT JOIN items i ON i.id = m.item "
      "LEFT JOIN ledger l ON l.shard = i.shard AND l.seq = m.seq";
  const auto pairKey = [](std::int64_t item, std::int64_t location) {
    return (static_cast<std::uint64_t>(item) << 32) | static_cast<std::uint32_t>(location);
  };
  struct Newest {
    Seq seq = 0;
    ShardId shard = 0;
  };
  absl::flat_hash_map<std::uint64_t, Newest> newest;

  auto ledger = lease.stmt(kLedgerSql);
  if (!ledger.ok()) return ledger.status();
  auto mark = lease.stmt(kMarkSql);
  if (!mark.ok()) return mark.status();
  {
    Stmt::Scope scope(**ledger);
    for (;;) {
      auto row = (*ledger)->next("verifying history chains: reading the ledger");
      if (!row.ok()) return row.status();
      if (!*row) break;
      const Stmt& r = **ledger;
      const auto shard = static_cast<ShardId>(r.colInt(0));
      const auto seq = static_cast<Seq>(r.colInt(1));
      const std::int64_t item = r.colInt(2);
      const std::int64_t location = r.colInt(3);
      const Micros ts = r.colInt(4);
      const auto prev = static_cast<Seq>(r.colInt(5));
      Newest& n = newest[pairKey(item, location)];
      const auto where = [&](const char* check, std::string expected, std::string actual) {
        found(IndexFinding{check, shard, seq, static_cast<ItemId>(item),
                           static_cast<LocationId>(location), std::move(expected),
                           std::move(actual)});
      };
      if (prev != n.seq) where("history_chain", cat("prev_seq=", n.seq), cat("prev_seq=", prev));
      n = Newest{seq, shard};
      if (isHistoryMark(seq)) {
        Stmt::Scope mark_scope(**mark);
        (*mark)->bindInt(1, item);
        (*mark)->bindInt(2, location);
        (*mark)->bindInt(3, ts);
        (*mark)->bindInt(4, static_cast<std::int64_t>(seq));
        auto hit = (*mark)->next("verifying history marks");
        if (!hit.ok()) return hit.status();
        if (!*hit) where("history_mark", cat("a mark at ts=", ts), "no mark");
      }
    }
  }

  auto heads = lease.stmt(kHeadsSql);
  if (!heads.ok()) return heads.status();
  {
    Stmt::Scope scope(**heads);
    for (;;) {
      auto row = (*heads)->next("verifying history heads");
      if (!row.ok()) return row.status();
      if (!*row) break;
      const Stmt& r = **heads;
      const std::uint64_t key = pairKey(r.colInt(0), r.colInt(1));
      const auto last = static_cast<Seq>(r.colInt(2));
      Seq want = 0;
      if (auto it = newest.find(key); it != newest.end()) {
        want = it->second.seq;
        newest.erase(it);  // what is left has no balances row
      }
      if (last != want) {
        found(IndexFinding{"history_head", static_cast<ShardId>(r.colInt(3)), 0,
                           static_cast<ItemId>(r.colInt(0)), static_cast<LocationId>(r.colInt(1)),
                           cat("last_seq=", want), cat("last_seq=", last)});
      }
    }
  }
  for (const auto& [key, n] : newest) {
    found(IndexFinding{"history_head", n.shard, 0, static_cast<ItemId>(key >> 32),
                       static_cast<LocationId>(key & 0xffffffffu), cat("last_seq=", n.seq),
                       "no balances row"});
  }

  auto marks = lease.stmt(kMarksSql);
  if (!marks.ok()) return marks.status();
  Stmt::Scope scope(**marks);
  for (;;) {
    auto row = (*marks)->next("verifying history marks: reading the marks");
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
    const Stmt& r = **marks;
    const auto seq = static_cast<Seq>(r.colInt(3));
    const bool entry_matches = !r.colIsNull(5) && r.colInt(5) == r.colInt(0) &&
                               r.colInt(6) == r.colInt(1) && r.colInt(7) == r.colInt(2);
    if (!entry_matches || !isHistoryMark(seq)) {
      found(IndexFinding{"history_mark", static_cast<ShardId>(r.colInt(4)), seq,
                         static_cast<ItemId>(r.colInt(0)), static_cast<LocationId>(r.colInt(1)),
                         entry_matches ? "no mark (seq is not a marked one)"
                                       : "no mark (no such ledger entry)",
                         cat("a mark at ts=", r.colInt(2))});
    }
  }
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
