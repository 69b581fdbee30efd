// bench_paced_writeback: what a bulk writer does to small fsynced commits on
// the same disk, with and without the paced VFS (sqlite_paced_vfs.h).
//
// Foreground: one SQLite connection (WAL, synchronous=FULL) appending a
// 3,000-byte record per transaction, like the commit log, every 2 ms.
// Background: another database written in bulk transactions of --burst-mb
// (like an applier round or a checkpoint), committed with FULL sync, one
// every 300 ms; opened through the default VFS or through the paced one.
// Prints the foreground commit latency (p50/p90/p99/max) for each mode.
//
//   build/bin/bench_paced_writeback [--dir D] [--commits N] [--burst-mb M]
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "bench_args.h"
#include "store/sqlite/sqlite_db.h"

namespace {

using depot::sqlite::Db;
using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench_paced_writeback: %s\n", what.c_str());
  std::exit(1);
}

Db openDb(const std::string& path, Db::Writeback writeback) {
  auto db = Db::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, writeback);
  if (!db.ok()) die(std::string(db.status().message()));
  if (auto st = db->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                         "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, b BLOB)",
                         "setting up");
      !st.ok())
    die(std::string(st.message()));
  return *std::move(db);
}

void insertRows(Db& db, int first, int rows, const std::string& blob) {
  auto stmt = db.prepare("INSERT OR REPLACE INTO t(id, b) VALUES(?1, ?2)", true);
  if (!stmt.ok()) die(std::string(stmt.status().message()));
  for (int i = 0; i < rows; ++i) {
    depot::sqlite::Stmt::Scope scope(*stmt);
    stmt->bindInt(1, first + i);
    stmt->bindBlob(2, blob);
    if (auto st = stmt->run("inserting"); !st.ok()) die(std::string(st.message()));
  }
}

struct Result {
  double p50, p90, p99, max;
};

Result run(const std::string& dir, Db::Writeback background_mode, int commits, int burst_mb) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  Db log = openDb(dir + "/log.db", Db::Writeback::kDefault);
  std::atomic<bool> stop{false};
  std::thread background([&] {
    Db bulk = openDb(dir + "/bulk.db", background_mode);
    const std::string blob(64 * 1024, 'b');
    const int rows = burst_mb * 16;  // 64 KiB each
    while (!stop.load()) {
      // Rows rewritten in place each burst: the file stays the same size.
      if (auto st = bulk.exec("BEGIN IMMEDIATE", "begin"); !st.ok()) die(std::string(st.message()));
      insertRows(bulk, 1, rows, blob);
      if (auto st = bulk.exec("COMMIT", "commit"); !st.ok()) die(std::string(st.message()));
      if (auto st = bulk.exec("PRAGMA wal_checkpoint(TRUNCATE)", "checkpoint"); !st.ok())
        die(std::string(st.message()));
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
  });
  const std::string record(3000, 'r');
  std::vector<double> ms;
  ms.reserve(static_cast<std::size_t>(commits));
  for (int i = 0; i < commits; ++i) {
    const auto t0 = Clock::now();
    insertRows(log, i + 1, 1, record);  // autocommit: one fsync
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  stop = true;
  background.join();
  std::filesystem::remove_all(dir);
  std::sort(ms.begin(), ms.end());
  const auto at = [&](double q) { return ms[static_cast<std::size_t>(q * (ms.size() - 1))]; };
  return {at(0.5), at(0.9), at(0.99), ms.back()};
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = std::filesystem::temp_directory_path() / "bench_paced_writeback";
  int commits = 1500;
  int burst_mb = 60;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) die("missing value after " + a);
    const std::string v = argv[++i];
    if (a == "--dir") {
      dir = v;
    } else if (a == "--commits" || a == "--burst-mb") {
      std::string error;
      const auto n = a == "--commits" ? depot::bench::intArg(a, v, 10, 1'000'000, &error)
                                      : depot::bench::intArg(a, v, 1, 4096, &error);
      if (!n) die(error);
      (a == "--commits" ? commits : burst_mb) = *n;
    } else {
      die("unknown argument '" + a + "' (usage: [--dir D] [--commits N] [--burst-mb M])");
    }
  }
  std::printf(
      "foreground: %d commits of 3,000 bytes (fsync each, every 2 ms); "
      "background: %d MB transactions every 300 ms\n",
      commits, burst_mb);
  for (const auto& [name, mode] : {std::pair{"default VFS", Db::Writeback::kDefault},
                                   std::pair{"paced VFS", Db::Writeback::kPaced}}) {
    const Result r = run(dir, mode, commits, burst_mb);
    std::printf("background through the %-11s commit ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n",
                name, r.p50, r.p90, r.p99, r.max);
  }
  return 0;
}
