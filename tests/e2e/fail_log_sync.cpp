// Fault injection for test_crash_recovery and test_commit_pipeline: loaded
// with LD_PRELOAD (into a real depotd, or a test process), it acts on
// fdatasync() of the commit log's segment files (paths containing "-log/"):
// - while the file named by $DEPOT_HOLD_LOG_SYNC_FLAG exists, the call
//   waits (polling, at most 30 s), with `<that file>.held` present meanwhile:
//   a disk slow to flush, for as long as the test needs;
// - then, while the file named by $DEPOT_FAIL_LOG_SYNC_FLAG exists, it fails
//   with EIO. The write before it has reached the page cache, so the batch
//   may still become durable: what a disk that failed its flush leaves behind.
// - $DEPOT_SLOW_LOG_SYNC_US (a number) adds that many microseconds to every
//   such call: a slower disk, for benchmarks (tests/bench/README.md).
// Every other fdatasync (SQLite's own files) goes to the C library as usual.
#include <dlfcn.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

int (*real_fdatasync)(int) = nullptr;

bool flagged(const char* variable) {
  const char* flag = getenv(variable);
  return flag != nullptr && access(flag, F_OK) == 0;
}

bool isLog(int fd) {
  char link[64];
  char path[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 0) return false;
  path[n] = '\0';
  return std::strstr(path, "-log/") != nullptr;
}

// Waits while the hold flag exists (bounded), marking the wait with
// `<flag>.held`.
void holdIfFlagged() {
  if (!flagged("DEPOT_HOLD_LOG_SYNC_FLAG")) return;
  char held[4096];
  snprintf(held, sizeof held, "%s.held", getenv("DEPOT_HOLD_LOG_SYNC_FLAG"));
  if (FILE* f = fopen(held, "w")) fclose(f);
  for (int i = 0; i < 30000 && flagged("DEPOT_HOLD_LOG_SYNC_FLAG"); ++i) usleep(1000);
  unlink(held);
}

}  // namespace

extern "C" int fdatasync(int fd) {
  const char* slow = getenv("DEPOT_SLOW_LOG_SYNC_US");
  if ((getenv("DEPOT_HOLD_LOG_SYNC_FLAG") != nullptr ||
       getenv("DEPOT_FAIL_LOG_SYNC_FLAG") != nullptr || slow != nullptr) &&
      isLog(fd)) {
    if (slow != nullptr) usleep(static_cast<useconds_t>(strtoul(slow, nullptr, 10)));
    holdIfFlagged();
    if (flagged("DEPOT_FAIL_LOG_SYNC_FLAG")) {
      errno = EIO;
      return -1;
    }
  }
  if (real_fdatasync == nullptr)
    real_fdatasync = reinterpret_cast<int (*)(int)>(dlsym(RTLD_NEXT, "fdatasync"));
  return real_fdatasync(fd);
}
