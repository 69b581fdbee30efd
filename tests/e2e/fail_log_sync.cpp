// Fault injection for test_crash_recovery: loaded into a real depotd with
// LD_PRELOAD, it makes fdatasync() fail with EIO on the commit log's segment
// files (paths containing "-log/") while the file named by
// $DEPOT_FAIL_LOG_SYNC_FLAG exists. Every other fdatasync (SQLite's own
// files) goes to the C library as usual. The write before it has reached
// the page cache, so the batch may still become durable: what a disk that
// failed its flush leaves behind.
#include <dlfcn.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

int (*real_fdatasync)(int) = nullptr;

bool isFailingLog(int fd) {
  const char* flag = getenv("DEPOT_FAIL_LOG_SYNC_FLAG");
  if (flag == nullptr || access(flag, F_OK) != 0) return false;
  char link[64];
  char path[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 0) return false;
  path[n] = '\0';
  return std::strstr(path, "-log/") != nullptr;
}

}  // namespace

extern "C" int fdatasync(int fd) {
  if (isFailingLog(fd)) {
    errno = EIO;
    return -1;
  }
  if (real_fdatasync == nullptr)
    real_fdatasync = reinterpret_cast<int (*)(int)>(dlsym(RTLD_NEXT, "fdatasync"));
  return real_fdatasync(fd);
}
