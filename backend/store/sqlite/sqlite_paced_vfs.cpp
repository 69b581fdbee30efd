#include "store/sqlite/sqlite_paced_vfs.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <mutex>

namespace depot::sqlite {
namespace {

std::atomic<std::uint64_t> g_pieces{0};

// One open file: our header, then the wrapped VFS's file object.
struct PacedFile {
  sqlite3_file base;           // base.pMethods = &kMethods once the real open succeeded
  int fd;                      // the wrapped file's descriptor (not ours to close); -1: not paced
  std::int64_t pending_bytes;  // written since the last piece was started
  std::int64_t pending_lo, pending_hi;
  std::int64_t inflight_lo, inflight_hi;  // the piece started last; empty when lo == hi
};
constexpr std::size_t kRealOffset = (sizeof(PacedFile) + 15) & ~std::size_t{15};

sqlite3_file* real(sqlite3_file* f) {
  return reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(f) + kRealOffset);
}
PacedFile* paced(sqlite3_file* f) { return reinterpret_cast<PacedFile*>(f); }

sqlite3_vfs* g_root = nullptr;  // the wrapped VFS, set once at registration
sqlite3_vfs g_vfs;

void resetRanges(PacedFile* p) {
  p->pending_bytes = 0;
  p->pending_lo = p->pending_hi = 0;
  p->inflight_lo = p->inflight_hi = 0;
}

// Waits for the previous piece, then starts writeback of what was written
// since. Both calls are hints: errors are left to the next fsync.
void startPiece(PacedFile* p) {
  if (p->inflight_hi > p->inflight_lo) {
    ::sync_file_range(
        p->fd, p->inflight_lo, p->inflight_hi - p->inflight_lo,
        SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
  }
  ::sync_file_range(p->fd, p->pending_lo, p->pending_hi - p->pending_lo, SYNC_FILE_RANGE_WRITE);
  g_pieces.fetch_add(1, std::memory_order_relaxed);
  p->inflight_lo = p->pending_lo;
  p->inflight_hi = p->pending_hi;
  p->pending_bytes = 0;
  p->pending_lo = p->pending_hi = 0;
}

// ---- io methods: forward to the wrapped file, pacing writes ----

int xClose(sqlite3_file* f) {
  sqlite3_file* r = real(f);
  const int rc = r->pMethods->xClose(r);
  paced(f)->fd = -1;
  return rc;
}
int xRead(sqlite3_file* f, void* buf, int amt, sqlite3_int64 off) {
  return real(f)->pMethods->xRead(real(f), buf, amt, off);
}
int xWrite(sqlite3_file* f, const void* buf, int amt, sqlite3_int64 off) {
  const int rc = real(f)->pMethods->xWrite(real(f), buf, amt, off);
  PacedFile* p = paced(f);
  if (rc != SQLITE_OK || p->fd < 0) return rc;
  if (p->pending_bytes == 0) {
    p->pending_lo = off;
    p->pending_hi = off + amt;
  } else {
    p->pending_lo = std::min<std::int64_t>(p->pending_lo, off);
    p->pending_hi = std::max<std::int64_t>(p->pending_hi, off + amt);
  }
  p->pending_bytes += amt;
  if (p->pending_bytes >= kPacedChunkBytes) startPiece(p);
  return rc;
}
int xTruncate(sqlite3_file* f, sqlite3_int64 size) {
  const int rc = real(f)->pMethods->xTruncate(real(f), size);
  resetRanges(paced(f));  // pages past the end are gone; the rest waits for xSync
  return rc;
}
int xSync(sqlite3_file* f, int flags) {
  const int rc = real(f)->pMethods->xSync(real(f), flags);
  if (rc == SQLITE_OK) resetRanges(paced(f));  // everything written is durable
  return rc;
}
int xFileSize(sqlite3_file* f, sqlite3_int64* size) {
  return real(f)->pMethods->xFileSize(real(f), size);
}
int xLock(sqlite3_file* f, int level) { return real(f)->pMethods->xLock(real(f), level); }
int xUnlock(sqlite3_file* f, int level) { return real(f)->pMethods->xUnlock(real(f), level); }
int xCheckReservedLock(sqlite3_file* f, int* out) {
  return real(f)->pMethods->xCheckReservedLock(real(f), out);
}
int xFileControl(sqlite3_file* f, int op, void* arg) {
  return real(f)->pMethods->xFileControl(real(f), op, arg);
}
int xSectorSize(sqlite3_file* f) { return real(f)->pMethods->xSectorSize(real(f)); }
int xDeviceCharacteristics(sqlite3_file* f) {
  return real(f)->pMethods->xDeviceCharacteristics(real(f));
}
int xShmMap(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
  return real(f)->pMethods->xShmMap(real(f), page, size, extend, out);
}
int xShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return real(f)->pMethods->xShmLock(real(f), offset, n, flags);
}
void xShmBarrier(sqlite3_file* f) { real(f)->pMethods->xShmBarrier(real(f)); }
int xShmUnmap(sqlite3_file* f, int remove) { return real(f)->pMethods->xShmUnmap(real(f), remove); }
int xFetch(sqlite3_file* f, sqlite3_int64 off, int amt, void** out) {
  return real(f)->pMethods->xFetch(real(f), off, amt, out);
}
int xUnfetch(sqlite3_file* f, sqlite3_int64 off, void* page) {
  return real(f)->pMethods->xUnfetch(real(f), off, page);
}

const sqlite3_io_methods kMethods = {
    .iVersion = 3,
    .xClose = xClose,
    .xRead = xRead,
    .xWrite = xWrite,
    .xTruncate = xTruncate,
    .xSync = xSync,
    .xFileSize = xFileSize,
    .xLock = xLock,
    .xUnlock = xUnlock,
    .xCheckReservedLock = xCheckReservedLock,
    .xFileControl = xFileControl,
    .xSectorSize = xSectorSize,
    .xDeviceCharacteristics = xDeviceCharacteristics,
    .xShmMap = xShmMap,
    .xShmLock = xShmLock,
    .xShmBarrier = xShmBarrier,
    .xShmUnmap = xShmUnmap,
    .xFetch = xFetch,
    .xUnfetch = xUnfetch,
};

// The unix VFS keeps the descriptor right after three pointers (unixFile:
// pMethod, pVfs, pInode, h), a layout unchanged since SQLite 3.7. It is
// only trusted when it names the file just opened; otherwise the file is not
// paced. We cannot open a descriptor of our own instead: closing any
// descriptor of a file drops every POSIX lock this process holds on it,
// including other connections' (the reason SQLite's unix VFS defers closes).
int descriptorOf(sqlite3_file* r, const char* path) {
  if (path == nullptr) return -1;
  int fd = -1;
  std::memcpy(&fd, reinterpret_cast<const char*>(r) + 3 * sizeof(void*), sizeof fd);
  struct stat by_fd {};
  struct stat by_path {};
  if (fd < 0 || ::fstat(fd, &by_fd) != 0 || ::stat(path, &by_path) != 0) return -1;
  if (by_fd.st_dev != by_path.st_dev || by_fd.st_ino != by_path.st_ino) return -1;
  return fd;
}

int xOpen(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  PacedFile* p = paced(f);
  p->base.pMethods = nullptr;  // SQLite calls no method (not even xClose) if the open fails
  p->fd = -1;
  resetRanges(p);
  sqlite3_file* r = real(f);
  const int rc = g_root->xOpen(g_root, name, r, flags, out_flags);
  if (rc != SQLITE_OK) return rc;
  // The unix VFS has v3 methods (WAL needs the shm ones); a file without
  // them cannot be wrapped by kMethods, which claims v3.
  if (r->pMethods == nullptr || r->pMethods->iVersion < 3) {
    if (r->pMethods != nullptr) r->pMethods->xClose(r);
    return SQLITE_CANTOPEN;
  }
  p->base.pMethods = &kMethods;
  if ((flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL)) != 0) p->fd = descriptorOf(r, name);
  return SQLITE_OK;
}

// ---- VFS methods other than xOpen: straight to the wrapped VFS ----

int xDelete(sqlite3_vfs*, const char* name, int sync_dir) {
  return g_root->xDelete(g_root, name, sync_dir);
}
int xAccess(sqlite3_vfs*, const char* name, int flags, int* out) {
  return g_root->xAccess(g_root, name, flags, out);
}
int xFullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return g_root->xFullPathname(g_root, name, n, out);
}
void* xDlOpen(sqlite3_vfs*, const char* name) { return g_root->xDlOpen(g_root, name); }
void xDlError(sqlite3_vfs*, int n, char* out) { g_root->xDlError(g_root, n, out); }
void (*xDlSym(sqlite3_vfs*, void* h, const char* sym))(void) {
  return g_root->xDlSym(g_root, h, sym);
}
void xDlClose(sqlite3_vfs*, void* h) { g_root->xDlClose(g_root, h); }
int xRandomness(sqlite3_vfs*, int n, char* out) { return g_root->xRandomness(g_root, n, out); }
int xSleep(sqlite3_vfs*, int micros) { return g_root->xSleep(g_root, micros); }
int xCurrentTime(sqlite3_vfs*, double* out) { return g_root->xCurrentTime(g_root, out); }
int xGetLastError(sqlite3_vfs*, int n, char* out) {
  return g_root->xGetLastError ? g_root->xGetLastError(g_root, n, out) : 0;
}
int xCurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  return g_root->xCurrentTimeInt64(g_root, out);
}

}  // namespace

const char* pacedVfsName() {
  static std::once_flag once;
  static const char* name = nullptr;
  std::call_once(once, [] {
    sqlite3_vfs* root = sqlite3_vfs_find(nullptr);
    // Needs a v2+ VFS (xCurrentTimeInt64); anything else: no pacing.
    if (root == nullptr || root->iVersion < 2) return;
    g_root = root;
    g_vfs = sqlite3_vfs{};
    g_vfs.iVersion = 2;  // no xSetSystemCall family: those belong to the wrapped VFS
    g_vfs.szOsFile = static_cast<int>(kRealOffset) + root->szOsFile;
    g_vfs.mxPathname = root->mxPathname;
    g_vfs.zName = "depot-paced";
    g_vfs.xOpen = xOpen;
    g_vfs.xDelete = xDelete;
    g_vfs.xAccess = xAccess;
    g_vfs.xFullPathname = xFullPathname;
    g_vfs.xDlOpen = xDlOpen;
    g_vfs.xDlError = xDlError;
    g_vfs.xDlSym = xDlSym;
    g_vfs.xDlClose = xDlClose;
    g_vfs.xRandomness = xRandomness;
    g_vfs.xSleep = xSleep;
    g_vfs.xCurrentTime = xCurrentTime;
    g_vfs.xGetLastError = xGetLastError;
    g_vfs.xCurrentTimeInt64 = xCurrentTimeInt64;
    if (sqlite3_vfs_register(&g_vfs, /*makeDflt=*/0) == SQLITE_OK) name = g_vfs.zName;
  });
  return name;  // nullptr: not available, open with the default VFS
}

std::uint64_t pacedWritebackPieces() { return g_pieces.load(std::memory_order_relaxed); }

}  // namespace depot::sqlite
