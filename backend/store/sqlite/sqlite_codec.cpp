#include "store/sqlite/sqlite_codec.h"

#include <cstdint>
#include <limits>

#include "store/sqlite/sqlite_db.h"

namespace depot::sqlite {
namespace {

constexpr char kFormatV1 = 1;

void putVarint(std::uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void putSigned(std::int64_t v, std::string* out) {
  // Zigzag: 0,-1,1,-2,... -> 0,1,2,3,... (shift done on the unsigned value).
  const auto u = static_cast<std::uint64_t>(v);
  putVarint((u << 1) ^ (v < 0 ? ~std::uint64_t{0} : 0), out);
}

void putFixed64(std::uint64_t v, std::string* out) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void putBytes(std::string_view bytes, std::string* out) {
  putVarint(bytes.size(), out);
  out->append(bytes);
}

void putHeader(std::size_t count, std::string* out) {
  out->push_back(kFormatV1);
  putVarint(count, out);
}

void putAfterList(const AfterList& after, std::string* out) {
  for (const auto& [location, balance] : after) {
    putVarint(location, out);
    putSigned(balance.on_hand, out);
    putSigned(balance.reserved, out);
  }
}

// Bounds-checked reader; the first failure sticks and later reads fail.
class Reader {
 public:
  Reader(std::string_view data, std::string_view what) : m_data(data), m_what(what) {}

  bool getVarint(std::uint64_t* v) {
    std::uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (m_pos >= m_data.size()) return fail("truncated varint");
      const auto byte = static_cast<unsigned char>(m_data[m_pos++]);
      if (shift == 63 && byte > 1) return fail("varint overflows 64 bits");
      result |= std::uint64_t{byte & 0x7fu} << shift;
      if ((byte & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return fail("varint longer than 10 bytes");
  }
  bool getSigned(std::int64_t* v) {
    std::uint64_t u = 0;
    if (!getVarint(&u)) return false;
    *v = static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
    return true;
  }
  bool getU32(std::uint32_t* v) {
    std::uint64_t u = 0;
    if (!getVarint(&u)) return false;
    if (u > std::numeric_limits<std::uint32_t>::max()) return fail("value does not fit in 32 bits");
    *v = static_cast<std::uint32_t>(u);
    return true;
  }
  bool getFixed64(std::uint64_t* v) {
    if (m_data.size() - m_pos < 8) return fail("truncated fixed64");
    std::uint64_t result = 0;
    for (int i = 0; i < 8; ++i) {
      result |= std::uint64_t{static_cast<unsigned char>(m_data[m_pos++])} << (8 * i);
    }
    *v = result;
    return true;
  }
  bool getBytes(std::string* v) {
    std::uint64_t size = 0;
    if (!getVarint(&size)) return false;
    if (size > m_data.size() - m_pos) return fail("string runs past the end");
    v->assign(m_data.substr(m_pos, size));
    m_pos += size;
    return true;
  }
  // A count of elements that each take at least `min_bytes`, checked against
  // what is left so a corrupt count cannot trigger a huge allocation.
  bool getCount(std::uint64_t* count, std::size_t min_bytes) {
    if (!getVarint(count)) return false;
    if (*count > (m_data.size() - m_pos) / min_bytes) return fail("count exceeds the data");
    return true;
  }
  // Reads the header; false with ok() and *count == 0 for an empty blob.
  bool header(std::uint64_t* count, std::size_t min_element_bytes) {
    *count = 0;
    if (m_data.empty()) return false;
    if (m_data[0] != kFormatV1) return fail(cat("unknown format byte ", int{m_data[0]}));
    m_pos = 1;
    if (!getCount(count, min_element_bytes)) return false;
    if (*count == 0) return fail("non-empty blob with zero elements");
    return true;
  }
  bool getAfterList(AfterList* after, std::size_t count) {
    after->resize(count);
    for (auto& [location, balance] : *after) {
      if (!getU32(&location) || !getSigned(&balance.on_hand) || !getSigned(&balance.reserved)) {
        return false;
      }
    }
    return true;
  }
  bool finish() {
    if (m_error.empty() && m_pos != m_data.size()) fail("trailing bytes");
    return m_error.empty();
  }
  absl::Status status() const {
    return absl::DataLossError(
        cat("decoding ", m_what, " (", m_data.size(), " bytes): ", m_error, " at byte ", m_pos));
  }

 private:
  bool fail(std::string_view why) {
    if (m_error.empty()) m_error = std::string(why);
    return false;
  }
  std::string_view m_data;
  std::string_view m_what;
  std::size_t m_pos = 0;
  std::string m_error;
};

}  // namespace

void encodeAfter(const AfterList& after, std::string* out) {
  out->clear();
  if (after.empty()) return;
  putHeader(after.size(), out);
  putAfterList(after, out);
}

absl::StatusOr<AfterList> decodeAfter(std::string_view blob) {
  Reader in(blob, "an after list");
  AfterList result;
  std::uint64_t count = 0;
  if (in.header(&count, 3)) in.getAfterList(&result, count);
  if (!in.finish()) return in.status();
  return result;
}

void encodeHoldLines(const std::vector<HoldLine>& lines, std::string* out) {
  out->clear();
  if (lines.empty()) return;
  putHeader(lines.size(), out);
  for (const HoldLine& line : lines) {
    putVarint(line.item, out);
    putVarint(line.location, out);
    putSigned(line.qty, out);
  }
}

absl::StatusOr<std::vector<HoldLine>> decodeHoldLines(std::string_view blob) {
  Reader in(blob, "holds.lines");
  std::vector<HoldLine> result;
  std::uint64_t count = 0;
  if (in.header(&count, 3)) {
    result.resize(count);
    for (HoldLine& line : result) {
      if (!in.getU32(&line.item) || !in.getU32(&line.location) || !in.getSigned(&line.qty)) break;
    }
  }
  if (!in.finish()) return in.status();
  return result;
}

// Per record: request_id, fingerprint (fixed64), code, message, first_seq,
// entries, after count + after list, ts as a zigzag delta from the previous
// record's ts (records of one commit share a ts, so usually one zero byte).
void encodeRequests(const std::vector<RequestRecord>& records, std::string* out) {
  out->clear();
  if (records.empty()) return;
  putHeader(records.size(), out);
  Micros previous_ts = 0;
  for (const RequestRecord& r : records) {
    putBytes(r.request_id, out);
    putFixed64(r.fingerprint, out);
    putVarint(static_cast<std::uint64_t>(r.outcome.code), out);
    putBytes(r.outcome.message, out);
    putVarint(r.outcome.first_seq, out);
    putVarint(r.outcome.entries, out);
    putVarint(r.outcome.after.size(), out);
    putAfterList(r.outcome.after, out);
    // Wrapping difference: well defined for any pair of int64 values.
    putSigned(static_cast<std::int64_t>(static_cast<std::uint64_t>(r.ts) -
                                        static_cast<std::uint64_t>(previous_ts)),
              out);
    previous_ts = r.ts;
  }
}

absl::Status decodeRequests(std::string_view blob, ShardId shard, std::vector<RequestRecord>* out) {
  Reader in(blob, "requests.records");
  std::uint64_t count = 0;
  // Minimum record: 1 (id) + 8 (fingerprint) + 1 + 1 + 1 + 1 + 1 + 1 (ts).
  if (in.header(&count, 15)) {
    Micros ts = 0;
    for (std::uint64_t i = 0; i < count; ++i) {
      RequestRecord r;
      r.shard = shard;
      std::uint64_t code = 0;
      std::uint64_t after_count = 0;
      std::int64_t ts_delta = 0;
      if (!in.getBytes(&r.request_id) || !in.getFixed64(&r.fingerprint) || !in.getVarint(&code) ||
          !in.getBytes(&r.outcome.message) || !in.getVarint(&r.outcome.first_seq) ||
          !in.getU32(&r.outcome.entries) || !in.getCount(&after_count, 3) ||
          !in.getAfterList(&r.outcome.after, after_count) || !in.getSigned(&ts_delta)) {
        break;
      }
      r.outcome.code = static_cast<absl::StatusCode>(code & 0xffff);
      ts = static_cast<Micros>(static_cast<std::uint64_t>(ts) +
                               static_cast<std::uint64_t>(ts_delta));
      r.ts = ts;
      out->push_back(std::move(r));
    }
  }
  if (!in.finish()) return in.status();
  return absl::OkStatus();
}

}  // namespace depot::sqlite
