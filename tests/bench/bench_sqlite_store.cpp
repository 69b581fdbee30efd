// Commit throughput of SqliteStore: ledger rows per second in group commits.
//
//   bench_sqlite_store [--rows N] [--batch N] [--sync full|normal|off] [--dir DIR]
//
// Each batch holds `batch` RECEIVE entries for random items (20k SKUs, each
// stocked in 2 of 200 locations),
// grouped into one ShardCommit per shard touched, with one idempotency record
// per entry (every entry its own command: the worst case) and the final
// balance of every pair touched. Timed: commit() (durable in the commit
// log), then the wait until the applier has put everything in the tables;
// building the batches is not. Prints one line per run; not a test (nothing
// is asserted).
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "store/sqlite/sqlite_store.h"

namespace {

using depot::Seq;
using depot::SqliteStore;

struct Args {
  long rows = 500'000;
  long batch = 10'000;
  std::string sync = "full";
  std::string dir;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const std::string v = argv[i + 1];
    if (k == "--rows") a.rows = std::atol(v.c_str());
    if (k == "--batch") a.batch = std::atol(v.c_str());
    if (k == "--sync") a.sync = v;
    if (k == "--dir") a.dir = v;
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  std::filesystem::path dir = args.dir;
  if (dir.empty()) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "depot-bench-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) return 2;
    dir = tmpl;
  }
  const std::filesystem::path path = dir / "bench.db";
  std::filesystem::remove(path);

  SqliteStore::Options options;
  options.path = path.string();
  options.sync = args.sync == "off"      ? SqliteStore::Options::Sync::kOff
                 : args.sync == "normal" ? SqliteStore::Options::Sync::kNormal
                                         : SqliteStore::Options::Sync::kFull;
  auto store = SqliteStore::open(options);
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", std::string(store.status().message()).c_str());
    return 1;
  }

  constexpr int kItems = 20'000;
  constexpr int kLocations = 200;
  std::vector<depot::Item> items(kItems);
  for (int i = 0; i < kItems; ++i) items[i].sku = "SKU-" + std::to_string(100000 + i);
  std::vector<depot::Location> locations(kLocations);
  for (int i = 0; i < kLocations; ++i) {
    locations[i].warehouse = i % 2 ? "east" : "west";
    locations[i].code = "A-" + std::to_string(i);
  }
  auto stored_items = (*store)->upsertItems(items);
  auto stored_locations = (*store)->upsertLocations(locations);
  if (!stored_items.ok() || !stored_locations.ok()) return 1;

  std::mt19937_64 rng(42);
  std::array<Seq, depot::kShardCount> last{};
  std::map<std::pair<depot::ItemId, depot::LocationId>, depot::Qty> on_hand;
  double commit_seconds = 0;
  double commit_cpu_seconds = 0;  // the whole process, but only commit() runs meanwhile
  long committed = 0;
  long request_no = 0;
  const depot::Micros t0 = 1'700'000'000'000'000;
  while (committed < args.rows) {
    depot::CommitBatch batch;
    std::map<depot::ShardId, depot::ShardCommit> by_shard;
    std::map<std::pair<depot::ItemId, depot::LocationId>,
             std::pair<depot::ShardId, depot::BalanceRow>>
        touched;
    const depot::Micros ts = t0 + committed;
    for (long i = 0; i < args.batch; ++i) {
      const depot::Item& item = (*stored_items)[rng() % kItems];
      // Every item is stocked in two of the locations (a realistic spread:
      // the balances table stays ~2 rows per item).
      const std::size_t item_index = item.id - (*stored_items)[0].id;
      const depot::Location& loc =
          (*stored_locations)[(rng() % 2 ? item_index : item_index * 7 + 3) % kLocations];
      depot::ShardCommit& sc = by_shard[item.shard];
      sc.shard = item.shard;
      sc.epoch = 1;
      sc.expected_last_seq = last[item.shard];
      const depot::Qty qty = 1 + static_cast<depot::Qty>(rng() % 50);
      depot::Qty& balance = on_hand[{item.id, loc.id}];
      balance += qty;
      depot::LedgerEntry e;
      e.shard = item.shard;
      e.seq = sc.expected_last_seq + sc.entries.size() + 1;
      e.request_id = "req-" + std::to_string(++request_no);
      e.kind = depot::MovementKind::kReceive;
      e.item = item.id;
      e.location = loc.id;
      e.d_on_hand = qty;
      e.on_hand_after = balance;
      e.actor = "bench";
      e.ts = ts;
      depot::RequestRecord r;
      r.request_id = e.request_id;
      r.shard = item.shard;
      r.fingerprint = rng();
      r.outcome.first_seq = e.seq;
      r.outcome.entries = 1;
      r.outcome.after = {{loc.id, depot::Balance{balance, 0}}};
      r.ts = ts;
      sc.entries.push_back(std::move(e));
      sc.requests.push_back(std::move(r));
      touched[{item.id, loc.id}] = {item.shard,
                                    depot::BalanceRow{item.id, loc.id, {balance, 0}, ts}};
    }
    for (auto& [key, value] : touched) by_shard[value.first].balances.push_back(value.second);
    for (auto& [shard, sc] : by_shard) {
      last[shard] += sc.entries.size();
      batch.shards.push_back(std::move(sc));
    }
    const auto start = std::chrono::steady_clock::now();
    const std::clock_t cpu_start = std::clock();
    const absl::Status st = (*store)->commit(batch);
    commit_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    commit_cpu_seconds += static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
    if (!st.ok()) {
      std::fprintf(stderr, "commit: %s\n", std::string(st.message()).c_str());
      return 1;
    }
    committed += args.batch;
  }
  // The commits are durable (in the commit log); the applier folds them into
  // the tables in the background. A read waits until it has: time that too,
  // so the second figure is the end-to-end rate into queryable tables.
  const auto apply_start = std::chrono::steady_clock::now();
  const std::clock_t apply_cpu_start = std::clock();
  if (auto seqs = (*store)->lastSeqs(); !seqs.ok()) {
    std::fprintf(stderr, "lastSeqs: %s\n", std::string(seqs.status().message()).c_str());
    return 1;
  }
  const double applied_seconds =
      commit_seconds +
      std::chrono::duration<double>(std::chrono::steady_clock::now() - apply_start).count();
  const double applied_cpu_seconds =
      commit_cpu_seconds + static_cast<double>(std::clock() - apply_cpu_start) / CLOCKS_PER_SEC;
  std::printf(
      "sqlite commit: sync=%s batch=%ld rows=%ld: acknowledged (durable) in %.3fs -> %.0f "
      "ledger rows/s; in the tables after %.3fs, process cpu %.3fs -> %.0f rows/s (%.0f per "
      "CPU second)\n",
      args.sync.c_str(), args.batch, committed, commit_seconds,
      static_cast<double>(committed) / commit_seconds, applied_seconds, applied_cpu_seconds,
      static_cast<double>(committed) / applied_seconds,
      static_cast<double>(committed) / applied_cpu_seconds);
  store->reset();
  if (args.dir.empty()) std::filesystem::remove_all(dir);
  return 0;
}
