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
    std::optional<Link> link;
    auto st = forEachRow(
        m_lease, kSql, "history: reading a ledger entry",
        [&](Stmt& q) {
          q.bindInt(1, m_shard);
          q.bindInt(2, static_cast<std::int64_t>(seq));
        },
        [&](const Stmt& r) {
          link = Link{readLedgerEntry(r), static_cast<Seq>(r.colInt(kLedgerColumnCount))};
          return false;
        });
    if (!st.ok()) return st;
    if (!link) {
      return absl::DataLossError(cat("history of item ", m_item, " at location ", m_location,
                                     ": the chain points at shard ", m_shard, " seq ", seq,
                                     ", which is not in the ledger"));
    }
    if (link->prev >= seq || link->entry.item != m_item || link->entry.location != m_location) {
      return absl::DataLossError(cat("history of item ", m_item, " at location ", m_location,
                                     ": the ledger entry at shard ", m_shard, " seq ", seq,
                                     " does not continue the chain (prev_seq ", link->prev, ")"));
    }
    return *std::move(link);
  }

  // The newest entry's seq; 0 when the balance has none.
  absl::StatusOr<Seq> newest() {
    static const std::string kSql =
        "SELECT last_seq FROM balances WHERE item = ?1 AND location = ?2";
    Seq newest = 0;
    auto st = forEachRow(
        m_lease, kSql, "history: reading the newest entry",
        [&](Stmt& q) {
          q.bindInt(1, m_item);
          q.bindInt(2, m_location);
        },
        [&](const Stmt& r) {
          newest = static_cast<Seq>(r.colInt(0));
          return false;
        });
    if (!st.ok()) return st;
    return newest;
  }

  // Up to kMarkPage marks after (ts, seq), in (ts, seq) order.
  absl::StatusOr<std::vector<Mark>> marksAfter(Micros ts, Seq seq) {
    static const std::string kSql = cat(
        "SELECT ts, seq FROM history_marks WHERE item = ?1 AND location = ?2 "
        "AND (ts, seq) > (?3, ?4) ORDER BY ts, seq LIMIT ",
        kMarkPage);
    std::vector<Mark> marks;
    auto st = forEachRow(
        m_lease, kSql, "history: reading marks",
        [&](Stmt& q) {
          q.bindInt(1, m_item);
          q.bindInt(2, m_location);
          q.bindInt(3, ts);
          q.bindInt(4, static_cast<std::int64_t>(std::min<Seq>(seq, kMaxSqlInt)));
        },
        [&](const Stmt& r) {
          marks.push_back(Mark{r.colInt(0), static_cast<Seq>(r.colInt(1))});
          return true;
        });
    if (!st.ok()) return st;
    return marks;
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
  static const std::string kHeadsSql =
      "SELECT b.item, b.location, b.last_seq, coalesce(i.shard, 0) FROM balances b "
      "LEFT JOIN items i ON i.id = b.item";
  static const std::string kMarksSql =
      "SELECT m.item, m.location, m.ts, m.seq, coalesce(i.shard, 0) "
      "FROM history_marks m LEFT JOIN items i ON i.id = m.item";
  // (item, location) as one 64-bit key, as the store's own maps do.
  const auto key = [](std::uint64_t item, std::uint64_t location) {
    return (item << 32) | location;
  };
  const auto finding = [&](const char* check, ShardId shard, Seq seq, std::int64_t item,
                           std::int64_t location, std::string expected, std::string actual) {
    found(IndexFinding{check, shard, seq, static_cast<ItemId>(item),
                       static_cast<LocationId>(location), std::move(expected), std::move(actual)});
  };
  // Per (item, location): the newest entry so far. Per (shard, seq) of a
  // marked entry: the mark it needs, ticked off by the marks scan.
  struct Newest {
    Seq seq = 0;
    ShardId shard = 0;
  };
  struct WantedMark {
    std::int64_t item = 0;
    std::int64_t location = 0;
    Micros ts = 0;
  };
  absl::flat_hash_map<std::uint64_t, Newest> newest;
  absl::flat_hash_map<std::pair<ShardId, Seq>, WantedMark> wanted_marks;

  auto st = forEachRow(
      lease, kLedgerSql, "verifying history chains: reading the ledger", [](Stmt&) {},
      [&](const Stmt& r) {
        const auto shard = static_cast<ShardId>(r.colInt(0));
        const auto seq = static_cast<Seq>(r.colInt(1));
        const std::int64_t item = r.colInt(2);
        const std::int64_t location = r.colInt(3);
        const auto prev = static_cast<Seq>(r.colInt(5));
        Newest& n =
            newest[key(static_cast<std::uint64_t>(item), static_cast<std::uint32_t>(location))];
        if (prev != n.seq) {
          finding("history_chain", shard, seq, item, location, cat("prev_seq=", n.seq),
                  cat("prev_seq=", prev));
        }
        n = Newest{seq, shard};
        if (isHistoryMark(seq)) wanted_marks[{shard, seq}] = WantedMark{item, location, r.colInt(4)};
        return true;
      });
  if (!st.ok()) return st;

  st = forEachRow(
      lease, kHeadsSql, "verifying history heads", [](Stmt&) {},
      [&](const Stmt& r) {
        const auto last = static_cast<Seq>(r.colInt(2));
        Seq want = 0;
        auto it = newest.find(key(static_cast<std::uint64_t>(r.colInt(0)),
                                  static_cast<std::uint32_t>(r.colInt(1))));
        if (it != newest.end()) {
          want = it->second.seq;
          newest.erase(it);  // what is left has no balances row
        }
        if (last != want) {
          finding("history_head", static_cast<ShardId>(r.colInt(3)), 0, r.colInt(0), r.colInt(1),
                  cat("last_seq=", want), cat("last_seq=", last));
        }
        return true;
      });
  if (!st.ok()) return st;
  for (const auto& [pair, n] : newest) {
    finding("history_head", n.shard, 0, static_cast<std::int64_t>(pair >> 32),
            static_cast<std::int64_t>(pair & 0xffffffffu), cat("last_seq=", n.seq),
            "no balances row");
  }

  st = forEachRow(
      lease, kMarksSql, "verifying history marks", [](Stmt&) {},
      [&](const Stmt& r) {
        const std::int64_t item = r.colInt(0);
        const std::int64_t location = r.colInt(1);
        const Micros ts = r.colInt(2);
        const auto seq = static_cast<Seq>(r.colInt(3));
        const auto shard = static_cast<ShardId>(r.colInt(4));
        auto it = wanted_marks.find(std::pair{shard, seq});
        if (it != wanted_marks.end() && it->second.item == item &&
            it->second.location == location && it->second.ts == ts) {
          wanted_marks.erase(it);
        } else {
          finding("history_mark", shard, seq, item, location,
                  it == wanted_marks.end() ? "no mark (not a marked ledger entry)"
                                           : "no mark (the entry is elsewhere)",
                  cat("a mark at ts=", ts));
        }
        return true;
      });
  if (!st.ok()) return st;
  for (const auto& [shard_seq, m] : wanted_marks) {
    finding("history_mark", shard_seq.first, shard_seq.second, m.item, m.location,
            cat("a mark at ts=", m.ts), "no mark");
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
