#include "store/sqlite/commit_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <optional>

#include "store/sqlite/sqlite_db.h"  // cat()

namespace depot::sqlite {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the log's integers are written in host byte order, which must be little-endian");

constexpr char kMagic[8] = {'D', 'E', 'P', 'O', 'T', 'L', 'O', 'G'};
constexpr std::uint32_t kFormatVersion = 1;
constexpr std::uint64_t kHeaderBytes = 4096;  // records start on their own page
constexpr std::size_t kHeaderFixed = 32;      // magic, version, id length, number, first id
constexpr std::size_t kMaxLedgerIdBytes = 1024;
constexpr std::uint64_t kRecordHeader = 16;  // length, CRC, id
constexpr std::size_t kMaxPayloadBytes = std::size_t{1} << 31;
constexpr std::size_t kFillChunk = std::size_t{1} << 20;

template <typename T>
void put(char* at, T value) {
  std::memcpy(at, &value, sizeof value);
}
template <typename T>
T get(const char* at) {
  T value;
  std::memcpy(&value, at, sizeof value);
  return value;
}

std::uint32_t crcOf(std::uint32_t crc, const char* data, std::size_t size) {
  while (size > 0) {  // zlib takes uInt lengths
    const auto n = static_cast<uInt>(std::min<std::size_t>(size, std::size_t{1} << 30));
    crc = static_cast<std::uint32_t>(::crc32(crc, reinterpret_cast<const Bytef*>(data), n));
    data += n;
    size -= n;
  }
  return crc;
}

// Covers the segment number, so a recycled segment's old records never pass.
std::uint32_t recordCrc(std::uint64_t segment, std::int64_t id, std::uint32_t length,
                        std::string_view payload) {
  char prefix[20];
  put(prefix, segment);
  put(prefix + 8, id);
  put(prefix + 16, length);
  return crcOf(crcOf(0, prefix, sizeof prefix), payload.data(), payload.size());
}

std::string encodeHeader(std::uint64_t number, std::int64_t first_id,
                         const std::string& ledger_id) {
  std::string header(kHeaderBytes, '\0');
  std::memcpy(header.data(), kMagic, sizeof kMagic);
  put(&header[8], kFormatVersion);
  put(&header[12], static_cast<std::uint32_t>(ledger_id.size()));
  put(&header[16], number);
  put(&header[24], first_id);
  std::memcpy(&header[kHeaderFixed], ledger_id.data(), ledger_id.size());
  const std::size_t covered = kHeaderFixed + ledger_id.size();
  put(&header[covered], crcOf(0, header.data(), covered));
  return header;
}

struct Header {
  std::uint64_t number = 0;
  std::int64_t first_id = 0;
  std::string ledger_id;
};

std::optional<Header> decodeHeader(std::string_view bytes) {
  if (bytes.size() < kHeaderBytes || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0 ||
      get<std::uint32_t>(&bytes[8]) != kFormatVersion) {
    return std::nullopt;
  }
  const auto id_bytes = get<std::uint32_t>(&bytes[12]);
  if (id_bytes > kMaxLedgerIdBytes) return std::nullopt;
  const std::size_t covered = kHeaderFixed + id_bytes;
  if (get<std::uint32_t>(&bytes[covered]) != crcOf(0, bytes.data(), covered)) return std::nullopt;
  Header header;
  header.number = get<std::uint64_t>(&bytes[16]);
  header.first_id = get<std::int64_t>(&bytes[24]);
  header.ledger_id.assign(&bytes[kHeaderFixed], id_bytes);
  return header;
}

absl::Status ioError(std::string_view what, const std::string& path, int error) {
  return absl::UnavailableError(cat("commit log: ", what, " '", path, "': ", std::strerror(error)));
}

absl::Status writeAt(int fd, const char* data, std::size_t size, std::uint64_t offset,
                     const std::string& path) {
  while (size > 0) {
    const ssize_t n = ::pwrite(fd, data, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ioError("writing", path, n < 0 ? errno : EIO);
    data += n;
    size -= static_cast<std::size_t>(n);
    offset += static_cast<std::uint64_t>(n);
  }
  return absl::OkStatus();
}

absl::Status readFile(const std::string& path, std::uint64_t size, std::string* out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ioError("opening", path, errno);
  out->resize(size);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, out->data() + done, size - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = n < 0 ? errno : EIO;  // EIO: the file shrank under us
      ::close(fd);
      return ioError("reading", path, error);
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return absl::OkStatus();
}

absl::Status zeroFill(int fd, std::uint64_t size, const std::string& path) {
  static const std::string zeros(kFillChunk, '\0');
  for (std::uint64_t at = 0; at < size; at += kFillChunk) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(kFillChunk, size - at));
    if (auto st = writeAt(fd, zeros.data(), n, at, path); !st.ok()) return st;
  }
  return absl::OkStatus();
}

std::string segmentName(std::uint64_t number) {
  char name[32];
  std::snprintf(name, sizeof name, "%016llx.seg", static_cast<unsigned long long>(number));
  return name;
}

// "<16 hex digits>.seg" -> its number.
std::optional<std::uint64_t> segmentNumber(const std::string& name) {
  if (name.size() != 20 || !name.ends_with(".seg")) return std::nullopt;
  std::uint64_t number = 0;
  const auto [end, ec] = std::from_chars(name.data(), name.data() + 16, number, 16);
  if (ec != std::errc() || end != name.data() + 16) return std::nullopt;
  return number;
}

// "spare-<n>.seg" -> n.
std::optional<std::uint64_t> spareNumber(const std::string& name) {
  if (!name.starts_with("spare-") || !name.ends_with(".seg")) return std::nullopt;
  std::uint64_t number = 0;
  const char* first = name.data() + 6;
  const char* last = name.data() + name.size() - 4;
  const auto [end, ec] = std::from_chars(first, last, number);
  if (ec != std::errc() || end != last || first == last) return std::nullopt;
  return number;
}

}  // namespace

struct CommitLog::File {
  File(int fd_in, std::string path_in) : fd(fd_in), path(std::move(path_in)) {}
  ~File() { ::close(fd); }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  const int fd;
  const std::string path;
};

CommitLog::CommitLog(std::string dir, std::string ledger_id, const Options& options)
    : m_dir(std::move(dir)), m_ledger_id(std::move(ledger_id)), m_options(options) {}

CommitLog::~CommitLog() {
  if (m_dir_fd >= 0) ::close(m_dir_fd);
}

absl::StatusOr<std::unique_ptr<CommitLog>> CommitLog::open(const std::string& dir,
                                                           const std::string& ledger_id,
                                                           const Options& options) {
  if (ledger_id.size() > kMaxLedgerIdBytes) {
    return absl::InvalidArgumentError(cat("commit log: a ledger id of ", ledger_id.size(),
                                          " bytes is longer than ", kMaxLedgerIdBytes));
  }
  static_assert(kMinSegmentBytes == 2 * kHeaderBytes);
  if (options.segment_bytes < kMinSegmentBytes) {
    return absl::InvalidArgumentError(
        cat("commit log: segments of ", options.segment_bytes, " bytes are too small"));
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::UnavailableError(cat("commit log: creating '", dir, "': ", ec.message()));
  std::unique_ptr<CommitLog> log(new CommitLog(dir, ledger_id, options));
  log->m_dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (log->m_dir_fd < 0) return ioError("opening the directory", dir, errno);
  if (auto st = log->readSegments(); !st.ok()) return st;
  return log;
}

absl::Status CommitLog::readSegments() {
  std::lock_guard lock(m_mutex);
  std::vector<std::pair<std::uint64_t, std::string>> found;  // (number, path)
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(m_dir, ec)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string();
    const std::string path = entry.path().string();
    if (auto number = segmentNumber(name)) {
      found.emplace_back(*number, path);
    } else if (auto spare = spareNumber(name)) {
      m_spares.push_back(Spare{path, static_cast<std::uint64_t>(entry.file_size())});
      m_next_spare = std::max(m_next_spare, *spare + 1);
    } else if (name.ends_with(".tmp")) {
      std::filesystem::remove(entry.path(), ec);  // a segment or spare never finished
    }
  }
  if (ec) return absl::UnavailableError(cat("commit log: listing '", m_dir, "': ", ec.message()));
  std::sort(found.begin(), found.end());
  // Segments are dropped oldest first, each once all its records are in the
  // tables; so segments before a missing number hold only applied records
  // (what is left of an interrupted drop): the log is the run after the gap.
  std::size_t run = found.size();
  while (run > 1 && found[run - 2].first + 1 == found[run - 1].first) --run;
  if (run > 0) --run;
  for (std::size_t i = 0; i < run; ++i) std::filesystem::remove(found[i].second, ec);

  std::string bytes;
  for (std::size_t i = run; i < found.size(); ++i) {
    const auto& [number, path] = found[i];
    const std::uint64_t size = std::filesystem::file_size(path, ec);
    if (ec) return absl::UnavailableError(cat("commit log: reading '", path, "': ", ec.message()));
    if (auto st = readFile(path, size, &bytes); !st.ok()) return st;
    const std::optional<Header> header = decodeHeader(bytes);
    if (!header || header->number != number) {
      return absl::DataLossError(cat("commit log: segment '", path, "' has a damaged header"));
    }
    if (header->ledger_id != m_ledger_id) {
      return absl::FailedPreconditionError(
          cat("commit log '", path, "' belongs to ledger ", header->ledger_id,
              ", not to this store's ledger ", m_ledger_id,
              ": it was copied from another data set; refusing to apply it"));
    }
    if (!m_segments.empty() && header->first_id != m_segments.back().last_id + 1) {
      return absl::DataLossError(
          cat("commit log: segment '", path, "' starts at record ", header->first_id,
              " but the segment before it ends at record ", m_segments.back().last_id,
              header->first_id > m_segments.back().last_id + 1 ? " (records are missing)" : ""));
    }
    Segment segment;
    segment.number = number;
    segment.path = path;
    segment.first_id = header->first_id;
    segment.size = size;
    std::uint64_t at = kHeaderBytes;
    std::int64_t next = header->first_id;
    while (at + kRecordHeader <= size) {
      const auto length = get<std::uint32_t>(&bytes[at]);
      const auto crc = get<std::uint32_t>(&bytes[at + 4]);
      const auto id = get<std::int64_t>(&bytes[at + 8]);
      if (length == 0 || length > size - at - kRecordHeader || id != next) break;
      const std::string_view payload(&bytes[at + kRecordHeader], length);
      if (crc != recordCrc(number, id, length, payload)) break;
      at += kRecordHeader + length;
      ++next;
    }
    segment.last_id = next - 1;
    segment.end = at;
    m_segments.push_back(std::move(segment));
  }
  return absl::OkStatus();
}

std::int64_t CommitLog::firstId() const {
  std::lock_guard lock(m_mutex);
  return m_segments.empty() ? 0 : m_segments.front().first_id;
}

std::int64_t CommitLog::lastId() const {
  std::lock_guard lock(m_mutex);
  return m_segments.empty() ? 0 : m_segments.back().last_id;
}

absl::Status CommitLog::forEachAfter(
    std::int64_t after,
    const std::function<absl::Status(std::int64_t, std::string_view)>& fn) const {
  std::vector<Segment> segments;
  {
    std::lock_guard lock(m_mutex);
    for (const Segment& segment : m_segments) {
      if (segment.last_id > after) segments.push_back(segment);
    }
  }
  std::string bytes;
  for (const Segment& segment : segments) {
    // Read back what open() checked; the records are not written again.
    if (auto st = readFile(segment.path, segment.end, &bytes); !st.ok()) return st;
    std::uint64_t at = kHeaderBytes;
    for (std::int64_t id = segment.first_id; id <= segment.last_id; ++id) {
      const auto length = get<std::uint32_t>(&bytes[at]);
      if (id > after) {
        const std::string_view payload(&bytes[at + kRecordHeader], length);
        if (auto st = fn(id, payload); !st.ok()) return st;
      }
      at += kRecordHeader + length;
    }
  }
  return absl::OkStatus();
}

absl::Status CommitLog::startAppending(std::int64_t next_id) {
  std::lock_guard lock(m_mutex);
  if (m_next_id != 0) return absl::FailedPreconditionError("commit log: already appending");
  const std::int64_t last = m_segments.empty() ? 0 : m_segments.back().last_id;
  if (next_id <= 0 || next_id <= last) {
    return absl::InvalidArgumentError(
        cat("commit log: cannot start at record ", next_id, ": it holds records up to ", last));
  }
  Segment made;
  const std::uint64_t number = m_segments.empty() ? 1 : m_segments.back().number + 1;
  auto file = newSegment(number, next_id, kHeaderBytes, &made);
  if (!file.ok()) return file.status();
  m_current = *std::move(file);
  m_segments.push_back(std::move(made));
  m_next_id = next_id;
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<CommitLog::File>> CommitLog::newSegment(std::uint64_t number,
                                                                       std::int64_t first_id,
                                                                       std::uint64_t min_bytes,
                                                                       Segment* made) {
  const std::uint64_t wanted = std::max(
      m_options.segment_bytes, (min_bytes + kHeaderBytes - 1) / kHeaderBytes * kHeaderBytes);
  const std::string path = cat(m_dir, "/", segmentName(number));
  std::string from;
  std::uint64_t size = wanted;
  int fd = -1;
  const auto spare = std::find_if(m_spares.begin(), m_spares.end(),
                                  [&](const Spare& s) { return s.size >= wanted; });
  if (spare != m_spares.end()) {
    from = spare->path;
    size = spare->size;
    m_spares.erase(spare);
    fd = ::open(from.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return ioError("opening", from, errno);
  } else {
    // No spare ready (the first segment, or an oversized record): the
    // commit that needs it pays for the zero-filling.
    from = path + ".tmp";
    fd = ::open(from.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return ioError("creating", from, errno);
    if (auto st = zeroFill(fd, size, from); !st.ok()) {
      ::close(fd);
      return st;
    }
  }
  auto file = std::make_shared<File>(fd, path);
  const std::string header = encodeHeader(number, first_id, m_ledger_id);
  if (auto st = writeAt(fd, header.data(), header.size(), 0, from); !st.ok()) return st;
  if (m_options.sync && ::fdatasync(fd) != 0) return ioError("syncing", from, errno);
  if (::rename(from.c_str(), path.c_str()) != 0) return ioError("renaming", from, errno);
  if (m_options.sync && ::fsync(m_dir_fd) != 0)
    return ioError("syncing the directory", m_dir, errno);
  made->number = number;
  made->path = path;
  made->first_id = first_id;
  made->last_id = first_id - 1;
  made->end = kHeaderBytes;
  made->size = size;
  return file;
}

absl::StatusOr<CommitLog::Lsn> CommitLog::append(std::int64_t id, std::string_view payload) {
  if (payload.empty() || payload.size() > kMaxPayloadBytes) {
    return absl::InvalidArgumentError(
        cat("commit log: a record of ", payload.size(), " bytes (1 byte to 2 GiB)"));
  }
  std::lock_guard lock(m_mutex);
  if (auto st = failure(); !st.ok()) return st;
  if (m_next_id == 0) return absl::FailedPreconditionError("commit log: not appending");
  if (id != m_next_id) {
    return absl::InvalidArgumentError(
        cat("commit log: record ", id, " does not follow record ", m_next_id - 1));
  }
  const std::uint64_t need = kRecordHeader + payload.size();
  if (m_segments.back().end + need > m_segments.back().size) {
    // The full segment is durable before anything goes to the next one: a
    // record in segment k+1 implies all of segment k (see the header).
    if (m_options.sync) {
      countSync();
      if (::fdatasync(m_current->fd) != 0) return fail(ioError("syncing", m_current->path, errno));
    }
    {
      std::lock_guard sync_lock(m_sync_mutex);
      m_synced = std::max(m_synced, m_written);
    }
    m_synced_cv.notify_all();
    Segment made;
    auto file = newSegment(m_segments.back().number + 1, id, kHeaderBytes + need, &made);
    if (!file.ok()) return file.status();  // nothing written: a later append may succeed
    m_current = *std::move(file);
    m_segments.push_back(std::move(made));
  }
  Segment& segment = m_segments.back();
  char header[kRecordHeader];
  const auto length = static_cast<std::uint32_t>(payload.size());
  put(header, length);
  put(header + 4, recordCrc(segment.number, id, length, payload));
  put(header + 8, id);
  iovec parts[2] = {{header, sizeof header}, {const_cast<char*>(payload.data()), payload.size()}};
  const ssize_t n = ::pwritev(m_current->fd, parts, 2, static_cast<off_t>(segment.end));
  if (n != static_cast<ssize_t>(need)) {
    // Short or failed: the tail is not a record any more. Another pass at
    // the same offset could succeed, but the log is treated as failed, as
    // after a failed fsync (the page cache's state is unknown).
    return fail(ioError("writing", m_current->path, n < 0 ? errno : EIO));
  }
  segment.end += need;
  segment.last_id = id;
  m_next_id = id + 1;
  m_written += need;
  return m_written;
}

absl::Status CommitLog::sync(Lsn through) {
  if (!m_options.sync) return failure();
  std::unique_lock lock(m_sync_mutex);
  for (;;) {
    if (!m_failure.ok()) return m_failure;
    if (m_synced >= through) return absl::OkStatus();
    if (m_syncing) {  // the running fdatasync may not cover `through`: wait, then look again
      m_synced_cv.wait(lock);
      continue;
    }
    m_syncing = true;
    lock.unlock();
    std::shared_ptr<File> file;
    Lsn target = 0;
    {
      std::lock_guard append_lock(m_mutex);
      file = m_current;
      target = m_written;  // every record written so far is in `file` or an fsynced segment
    }
    const int rc = ::fdatasync(file->fd);
    const int error = errno;
    countSync();
    lock.lock();
    m_syncing = false;
    if (rc != 0) {
      // A failed fsync may have dropped the dirty pages: what the file holds
      // is unknown until it is read again (open()).
      if (m_failure.ok()) m_failure = ioError("syncing", file->path, error);
    } else {
      m_synced = std::max(m_synced, target);
    }
    m_synced_cv.notify_all();
  }
}

absl::Status CommitLog::fail(absl::Status status) {
  std::lock_guard lock(m_sync_mutex);
  if (m_failure.ok()) m_failure = std::move(status);
  m_synced_cv.notify_all();
  return m_failure;
}

absl::Status CommitLog::failure() const {
  std::lock_guard lock(m_sync_mutex);
  return m_failure;
}

absl::Status CommitLog::dropThrough(std::int64_t through) {
  std::vector<Segment> dropped;
  {
    std::lock_guard lock(m_mutex);
    // The segment being appended to stays, even when all of it is applied.
    const std::size_t keep = m_next_id != 0 ? 1 : 0;
    while (m_segments.size() > keep && m_segments.front().last_id <= through) {
      dropped.push_back(std::move(m_segments.front()));
      m_segments.pop_front();
    }
  }
  if (dropped.empty()) return absl::OkStatus();
  absl::Status result;
  for (const Segment& segment : dropped) {  // oldest first (see readSegments)
    std::string spare;
    {
      std::lock_guard lock(m_mutex);
      if (m_spares.empty() && segment.size == m_options.segment_bytes) {
        spare = cat(m_dir, "/spare-", m_next_spare++, ".seg");
      }
    }
    if (!spare.empty() && ::rename(segment.path.c_str(), spare.c_str()) == 0) {
      std::lock_guard lock(m_mutex);
      m_spares.push_back(Spare{spare, segment.size});
    } else if (::unlink(segment.path.c_str()) != 0 && result.ok()) {
      result = ioError("removing", segment.path, errno);
    }
  }
  if (m_options.sync && ::fsync(m_dir_fd) != 0 && result.ok()) {
    result = ioError("syncing the directory", m_dir, errno);
  }
  return result;
}

absl::Status CommitLog::prepareSpare() {
  std::uint64_t number = 0;
  {
    std::lock_guard lock(m_mutex);
    if (!m_spares.empty()) return absl::OkStatus();
    number = m_next_spare++;
  }
  const std::string path = cat(m_dir, "/spare-", number, ".seg");
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ioError("creating", tmp, errno);
  absl::Status st = zeroFill(fd, m_options.segment_bytes, tmp);
  if (st.ok() && m_options.sync && ::fdatasync(fd) != 0) st = ioError("syncing", tmp, errno);
  ::close(fd);
  if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) st = ioError("renaming", tmp, errno);
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  if (m_options.sync && ::fsync(m_dir_fd) != 0)
    return ioError("syncing the directory", m_dir, errno);
  std::lock_guard lock(m_mutex);
  m_spares.push_back(Spare{path, m_options.segment_bytes});
  return absl::OkStatus();
}

std::size_t CommitLog::segmentCount() const {
  std::lock_guard lock(m_mutex);
  return m_segments.size();
}

std::size_t CommitLog::spareCount() const {
  std::lock_guard lock(m_mutex);
  return m_spares.size();
}

}  // namespace depot::sqlite
