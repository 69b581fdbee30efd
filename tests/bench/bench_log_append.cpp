// bench_log_append: what one durable commit-log append costs on this disk,
// through the store's commit log, through the SQLite log it replaced, and
// through a plain file, from one writer and from two writers at once
// (DESIGN.md §6: the two shard writers' commits serialized on the one SQLite
// log, which bounded the unary and stream paths).
//
// Each writer appends --appends records of --bytes, each made durable
// before the next:
// - commit-log: depot::sqlite::CommitLog, ONE log the writers share as
//   depotd's do (ids assigned and appended under a lock, sync() outside it,
//   so one fdatasync can cover both writers' records);
// - commit-log-each: one CommitLog per writer;
// - sqlite-log: the SQLite log of sessions 1-8 (LegacyCommitLog: WAL,
//   synchronous=FULL, its own checkpointer), one log per writer;
// - file-prealloc: pwrite into a file allocated ahead, then fdatasync (a
//   log of preallocated segments: the file's size never changes);
// - file-append: write at the end of a growing file, then fdatasync;
// - file-odirect: a zero-filled file opened O_DIRECT | O_DSYNC, each append
//   rewriting the whole 4 KiB blocks it touches (durable when the write
//   returns, no separate flush).
// Prints appends/s summed over the writers, the per-append p50/p99, and
// the CPU time (user + system) the writer threads spent per append.
//
//   build/bin/bench_log_append [--dir D] [--appends N] [--bytes B]
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench_args.h"
#include "store/sqlite/commit_log.h"
#include "store/sqlite/sqlite_legacy_commit_log.h"

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench_log_append: %s\n", what.c_str());
  std::exit(1);
}

// One writer's appends: the latency of each (µs) and the thread's CPU
// time over them (s).
struct Timed {
  std::vector<double> us;
  double cpu_s = 0;
};
using Appender = std::function<Timed(int writer)>;

double threadCpuSeconds() {
  rusage r{};
  ::getrusage(RUSAGE_THREAD, &r);
  return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
         static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

Timed timeAppends(int n, const std::function<void(int)>& append) {
  Timed out;
  out.us.reserve(static_cast<std::size_t>(n));
  const double cpu0 = threadCpuSeconds();
  for (int i = 0; i < n; ++i) {
    const auto t0 = Clock::now();
    append(i);
    out.us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  out.cpu_s = threadCpuSeconds() - cpu0;
  return out;
}

void run(const char* name, int writers, const Appender& appender) {
  std::vector<Timed> timed(static_cast<std::size_t>(writers));
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w)
    threads.emplace_back([&, w] { timed[static_cast<std::size_t>(w)] = appender(w); });
  for (auto& t : threads) t.join();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::vector<double> all;
  double cpu_s = 0;
  for (const auto& t : timed) {
    all.insert(all.end(), t.us.begin(), t.us.end());
    cpu_s += t.cpu_s;
  }
  std::sort(all.begin(), all.end());
  const auto q = [&](double f) { return all[static_cast<std::size_t>(f * (all.size() - 1))]; };
  std::printf("%-15s writers %d: %7.0f appends/s  p50 %6.0f us  p99 %6.0f us  cpu %5.1f us\n", name,
              writers, static_cast<double>(all.size()) / secs, q(0.50), q(0.99),
              cpu_s * 1e6 / static_cast<double>(all.size()));
}

int openFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) die("opening " + path + ": " + std::strerror(errno));
  return fd;
}

void durableWrite(int fd, const std::string& record, off_t at) {
  if (::pwrite(fd, record.data(), record.size(), at) != static_cast<ssize_t>(record.size()))
    die(std::string("pwrite: ") + std::strerror(errno));
  if (::fdatasync(fd) != 0) die(std::string("fdatasync: ") + std::strerror(errno));
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  int appends = 2000;
  int bytes = 8192;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a != "--dir" && a != "--appends" && a != "--bytes")
      die("unknown argument '" + a + "' (usage: [--dir D] [--appends N] [--bytes B])");
    if (i + 1 >= argc) die("missing value after " + a);
    const std::string v = argv[++i];
    if (a == "--dir") {
      dir = v;
      continue;
    }
    std::string error;
    const auto n = a == "--appends" ? depot::bench::intArg(a, v, 1, 1'000'000, &error)
                                    : depot::bench::intArg(a, v, 1, 64 << 20, &error);
    if (!n) die(error);
    (a == "--appends" ? appends : bytes) = *n;
  }
  const bool own_dir = dir.empty();
  if (own_dir) {
    char tmpl[] = "/var/tmp/bench_log_append.XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) die(std::string("mkdtemp: ") + std::strerror(errno));
    dir = tmpl;
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) die("--dir " + dir + ": " + ec.message());
  const std::string record(static_cast<std::size_t>(bytes), 'r');
  std::printf("%d appends of %d bytes per writer, in %s\n", appends, bytes, dir.c_str());

  auto openLog = [&](const std::string& name) {
    std::filesystem::remove_all(dir + "/" + name);
    auto log = depot::sqlite::CommitLog::open(dir + "/" + name, "bench", {});
    if (!log.ok()) die(std::string(log.status().message()));
    if (auto st = (*log)->startAppending(1); !st.ok()) die(std::string(st.message()));
    return *std::move(log);
  };
  auto appendDurably = [&](depot::sqlite::CommitLog& log, std::mutex& order, std::int64_t& next) {
    depot::sqlite::CommitLog::Lsn lsn = 0;
    {
      std::lock_guard lock(order);
      auto written = log.append(next++, record);
      if (!written.ok()) die(std::string(written.status().message()));
      lsn = *written;
    }
    if (auto st = log.sync(lsn); !st.ok()) die(std::string(st.message()));
  };
  for (int writers : {1, 2}) {
    {
      auto shared = openLog("shared");
      std::mutex order;
      std::int64_t next = 1;
      run("commit-log", writers, [&](int) {
        return timeAppends(appends, [&](int) { appendDurably(*shared, order, next); });
      });
    }
    if (writers > 1) {
      run("commit-log-each", writers, [&](int w) {
        auto own = openLog("own" + std::to_string(w));
        std::mutex order;
        std::int64_t next = 1;
        return timeAppends(appends, [&](int) { appendDurably(*own, order, next); });
      });
    }
    run("sqlite-log", writers, [&](int w) {
      const std::string path = dir + "/log" + std::to_string(w) + ".db";
      std::filesystem::remove(path);
      auto log =
          depot::sqlite::LegacyCommitLog::open(path, "PRAGMA synchronous=FULL", "bench", 5000);
      if (!log.ok()) die(std::string(log.status().message()));
      return timeAppends(appends, [&](int i) {
        if (auto st = (*log)->append(i + 1, record); !st.ok()) die(std::string(st.message()));
      });
    });
    run("file-prealloc", writers, [&](int w) {
      const int fd = openFile(dir + "/pre" + std::to_string(w));
      const off_t size = static_cast<off_t>(bytes) * appends;
      if (::posix_fallocate(fd, 0, size) != 0) die("posix_fallocate failed");
      if (::fsync(fd) != 0) die("fsync failed");  // the allocation itself is durable first
      auto us = timeAppends(
          appends, [&](int i) { durableWrite(fd, record, static_cast<off_t>(i) * bytes); });
      ::close(fd);
      return us;
    });
    run("file-odirect", writers, [&](int w) {
      const std::string path = dir + "/direct" + std::to_string(w);
      const std::size_t size = (static_cast<std::size_t>(bytes) * appends / 4096 + 2) * 4096;
      {  // written (zeros) and flushed first, like a commit-log segment
        const int fd = openFile(path);
        const std::string zeros(size, '\0');
        if (::pwrite(fd, zeros.data(), size, 0) != static_cast<ssize_t>(size)) die("zero-fill");
        if (::fdatasync(fd) != 0) die("fdatasync failed");
        ::close(fd);
      }
      const int fd = ::open(path.c_str(), O_WRONLY | O_DIRECT | O_DSYNC | O_CLOEXEC);
      if (fd < 0) die("opening " + path + " O_DIRECT: " + std::strerror(errno));
      // The file's image in an aligned buffer: each append copies its
      // record in and writes the whole blocks the record touches.
      void* image = nullptr;
      if (::posix_memalign(&image, 4096, size) != 0) die("posix_memalign failed");
      std::memset(image, 0, size);
      auto* base = static_cast<char*>(image);
      auto timed = timeAppends(appends, [&](int i) {
        const std::size_t at = static_cast<std::size_t>(i) * bytes;
        std::memcpy(base + at, record.data(), record.size());
        const std::size_t from = at / 4096 * 4096;
        const std::size_t to = (at + record.size() + 4095) / 4096 * 4096;
        if (::pwrite(fd, base + from, to - from, static_cast<off_t>(from)) !=
            static_cast<ssize_t>(to - from))
          die(std::string("O_DIRECT pwrite: ") + std::strerror(errno));
      });
      std::free(image);
      ::close(fd);
      return timed;
    });
    run("file-append", writers, [&](int w) {
      const int fd = openFile(dir + "/app" + std::to_string(w));
      auto us = timeAppends(
          appends, [&](int i) { durableWrite(fd, record, static_cast<off_t>(i) * bytes); });
      ::close(fd);
      return us;
    });
  }
  if (own_dir) std::filesystem::remove_all(dir);
  return 0;
}
