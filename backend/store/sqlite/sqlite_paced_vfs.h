// A SQLite VFS that paces the writeback of bulk writes.
//
// Why: the commit log's fsync is on every acknowledgement's path, and on
// this kind of disk a flush waits for every write queued ahead of it. The
// applier's round commits and the checkpoints write tens of MiB at a time
// (measured: bursts of 15-29 MB at 36,000 movements/s) and fsync them at the
// end, so a group commit landing behind one waited 10-30 ms. Fed to the disk
// in small pieces instead, the same volume keeps the queue short
// (build/bin/bench_paced_writeback: small fsynced commits next to 60 MB
// transactions, p99 69-78 ms unpaced, 6-7 ms paced; DESIGN.md §3 Store).
//
// How: the VFS wraps the default one ("unix"). Each file opened through it
// remembers the byte ranges written since the last sync; every kChunkBytes it
// starts writeback of those pages (sync_file_range WRITE) after waiting for
// the previous piece to reach the disk: at most two pieces are in flight,
// and the writing thread (the applier, a checkpointer) goes at the disk's
// pace instead of queueing ahead of the commits. This is PostgreSQL's
// checkpoint_flush_after / backend_flush_after, applied under SQLite.
//
// Durability is unchanged: xSync still fsyncs as SQLite asks; pacing only
// starts writeback earlier and never skips or reorders a sync. A failed
// sync_file_range is ignored (it is a hint; the fsync reports real errors).
//
// Use it for connections that write in bulk (the store's applier and its
// checkpointers); the commit log's appends fsync every commit themselves.
#pragma once

#include <cstdint>

namespace depot::sqlite {

// The registered VFS's name, for sqlite3_open_v2. Registers it on first use
// (thread-safe); never the process default.
const char* pacedVfsName();

// Bytes written between two writeback pieces.
inline constexpr std::int64_t kPacedChunkBytes = 256 * 1024;

// Writeback pieces started since the process began (all files); for tests.
std::uint64_t pacedWritebackPieces();

}  // namespace depot::sqlite
