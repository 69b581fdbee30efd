#include "store/sqlite/sqlite_codec.h"

#include <algorithm>
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
  bool getBytesView(std::string_view* v) {
    std::uint64_t size = 0;
    if (!getVarint(&size)) return false;
    if (size > m_data.size() - m_pos) return fail("bytes run past the end");
    *v = m_data.substr(m_pos, size);
    m_pos += size;
    return true;
  }
  bool getByte(std::uint8_t* v) {
    std::uint64_t u = 0;
    if (!getVarint(&u)) return false;
    if (u > 0xff) return fail("enum value does not fit in 8 bits");
    *v = static_cast<std::uint8_t>(u);
    return true;
  }
  bool getFormat() {
    if (m_data.empty() || m_data[0] != kFormatV1) return fail("unknown or missing format byte");
    m_pos = 1;
    return true;
  }
  // Records a failure found by the caller (a nested blob that did not decode).
  bool failWith(std::string_view why) { return fail(why); }
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
  template <typename List>  // AfterList, or RememberedRequest::after
  bool getAfterList(List* after, std::size_t count) {
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
namespace {
template <typename Records, typename Deref>
void encodeRequestList(const Records& records, Deref deref, std::string* out) {
  out->clear();
  if (records.empty()) return;
  putHeader(records.size(), out);
  Micros previous_ts = 0;
  for (const auto& element : records) {
    const RequestRecord& r = deref(element);
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
}  // namespace

void encodeRequests(const std::vector<RequestRecord>& records, std::string* out) {
  encodeRequestList(
      records, [](const RequestRecord& r) -> const RequestRecord& { return r; }, out);
}

void encodeRequests(absl::Span<const RequestRecord* const> records, std::string* out) {
  encodeRequestList(
      records, [](const RequestRecord* r) -> const RequestRecord& { return *r; }, out);
}

absl::Status decodeRequests(std::string_view blob, ShardId shard, std::vector<RequestRecord>* out) {
  Reader in(blob, "requests.records");
  std::uint64_t count = 0;
  // Minimum record: 1 (id) + 8 (fingerprint) + 1 + 1 + 1 + 1 + 1 + 1 (ts).
  if (in.header(&count, 15)) {
    // Geometric growth: callers append many blobs to one vector. (count is
    // bounded by the blob's size in header().)
    if (out->capacity() < out->size() + count)
      out->reserve(std::max(out->capacity() * 2, out->size() + count));
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

absl::Status decodeRecoveredRequests(std::string_view blob, std::vector<RecoveredRequest>* out) {
  Reader in(blob, "requests.records");
  std::uint64_t count = 0;
  if (in.header(&count, 15)) {  // the minimum record, as in decodeRequests
    if (out->capacity() < out->size() + count)
      out->reserve(std::max(out->capacity() * 2, out->size() + count));
    Micros ts = 0;
    for (std::uint64_t i = 0; i < count; ++i) {
      std::string_view id;
      std::string_view message;
      std::uint64_t code = 0;
      std::uint64_t after_count = 0;
      std::int64_t ts_delta = 0;
      RememberedRequest r;
      if (!in.getBytesView(&id) || !in.getFixed64(&r.fingerprint) || !in.getVarint(&code) ||
          !in.getBytesView(&message) || !in.getVarint(&r.first_seq) || !in.getU32(&r.entries) ||
          !in.getCount(&after_count, 3) || !in.getAfterList(&r.after, after_count) ||
          !in.getSigned(&ts_delta)) {
        break;
      }
      r.code = static_cast<absl::StatusCode>(code & 0xffff);
      if (!message.empty()) r.message = std::make_unique<const std::string>(message);
      ts = static_cast<Micros>(static_cast<std::uint64_t>(ts) + static_cast<std::uint64_t>(ts_delta));
      r.ts = ts;
      out->push_back(RecoveredRequest{requestKey(id), std::move(r)});
    }
  }
  if (!in.finish()) return in.status();
  return absl::OkStatus();
}

// ---- CommitBatch (one commit log record) ----
//
// format byte, shard count, then per ShardCommit: shard, epoch,
// expected_last_seq; the entries (count, then request_id, kind, item,
// location, d_on_hand, d_reserved, on_hand_after, reserved_after, actor,
// reason, ref, ts); the balances (count, then item, location, on_hand,
// reserved, last_ts); the requests as one nested encodeRequests blob; the
// holds (count, then order_id, request_id, state, lines blob, actor,
// created_at, expires_at, closed_at); the counts (count, then every field).

void encodeCommitBatch(const CommitBatch& batch, std::string* out) {
  out->clear();
  out->push_back(kFormatV1);
  putVarint(batch.shards.size(), out);
  std::string nested;
  for (const ShardCommit& sc : batch.shards) {
    putVarint(sc.shard, out);
    putVarint(sc.epoch, out);
    putVarint(sc.expected_last_seq, out);
    putVarint(sc.entries.size(), out);
    for (const LedgerEntry& e : sc.entries) {
      putBytes(e.request_id, out);
      putVarint(static_cast<std::uint64_t>(e.kind), out);
      putVarint(e.item, out);
      putVarint(e.location, out);
      putSigned(e.d_on_hand, out);
      putSigned(e.d_reserved, out);
      putSigned(e.on_hand_after, out);
      putSigned(e.reserved_after, out);
      putBytes(e.actor, out);
      putBytes(e.reason, out);
      putBytes(e.ref, out);
      putSigned(e.ts, out);
    }
    putVarint(sc.balances.size(), out);
    for (const BalanceRow& b : sc.balances) {
      putVarint(b.item, out);
      putVarint(b.location, out);
      putSigned(b.balance.on_hand, out);
      putSigned(b.balance.reserved, out);
      putSigned(b.last_ts, out);
    }
    encodeRequests(sc.requests, &nested);
    putBytes(nested, out);
    putVarint(sc.holds.size(), out);
    for (const Hold& h : sc.holds) {
      putBytes(h.order_id, out);
      putBytes(h.request_id, out);
      putVarint(static_cast<std::uint64_t>(h.state), out);
      encodeHoldLines(h.lines, &nested);
      putBytes(nested, out);
      putBytes(h.actor, out);
      putSigned(h.created_at, out);
      putSigned(h.expires_at, out);
      putSigned(h.closed_at, out);
    }
    putVarint(sc.counts.size(), out);
    for (const CountRecord& c : sc.counts) {
      putBytes(c.count_id, out);
      putVarint(c.item, out);
      putVarint(c.location, out);
      putSigned(c.counted, out);
      putSigned(c.counted_at, out);
      putSigned(c.expected, out);
      putSigned(c.variance, out);
      putVarint(static_cast<std::uint64_t>(c.state), out);
      putBytes(c.session_id, out);
      putBytes(c.counter, out);
      putVarint(c.blind ? 1 : 0, out);
      putSigned(c.submitted_at, out);
      putBytes(c.decided_by, out);
      putBytes(c.note, out);
      putSigned(c.decided_at, out);
      putVarint(c.applied_seq, out);
    }
  }
}

namespace {

bool getEntry(Reader& in, LedgerEntry* e) {
  std::uint8_t kind = 0;
  if (!in.getBytes(&e->request_id) || !in.getByte(&kind) || !in.getU32(&e->item) ||
      !in.getU32(&e->location) || !in.getSigned(&e->d_on_hand) || !in.getSigned(&e->d_reserved) ||
      !in.getSigned(&e->on_hand_after) || !in.getSigned(&e->reserved_after) ||
      !in.getBytes(&e->actor) || !in.getBytes(&e->reason) || !in.getBytes(&e->ref) ||
      !in.getSigned(&e->ts)) {
    return false;
  }
  e->kind = static_cast<MovementKind>(kind);
  return true;
}

bool getHold(Reader& in, Hold* h) {
  std::uint8_t state = 0;
  std::string_view lines;
  if (!in.getBytes(&h->order_id) || !in.getBytes(&h->request_id) || !in.getByte(&state) ||
      !in.getBytesView(&lines) || !in.getBytes(&h->actor) || !in.getSigned(&h->created_at) ||
      !in.getSigned(&h->expires_at) || !in.getSigned(&h->closed_at)) {
    return false;
  }
  h->state = static_cast<HoldState>(state);
  auto decoded = decodeHoldLines(lines);
  if (!decoded.ok()) return in.failWith(std::string(decoded.status().message()));
  h->lines = *std::move(decoded);
  return true;
}

bool getCountRecord(Reader& in, CountRecord* c) {
  std::uint8_t state = 0;
  std::uint64_t blind = 0;
  if (!in.getBytes(&c->count_id) || !in.getU32(&c->item) || !in.getU32(&c->location) ||
      !in.getSigned(&c->counted) || !in.getSigned(&c->counted_at) || !in.getSigned(&c->expected) ||
      !in.getSigned(&c->variance) || !in.getByte(&state) || !in.getBytes(&c->session_id) ||
      !in.getBytes(&c->counter) || !in.getVarint(&blind) || !in.getSigned(&c->submitted_at) ||
      !in.getBytes(&c->decided_by) || !in.getBytes(&c->note) || !in.getSigned(&c->decided_at) ||
      !in.getVarint(&c->applied_seq)) {
    return false;
  }
  c->state = static_cast<CountState>(state);
  c->blind = blind != 0;
  return true;
}

bool getShardCommit(Reader& in, ShardCommit* sc) {
  std::uint64_t n = 0;
  std::uint32_t shard = 0;
  if (!in.getU32(&shard) || !in.getVarint(&sc->epoch) || !in.getVarint(&sc->expected_last_seq)) {
    return false;
  }
  if (shard >= kShardCount) return in.failWith("shard out of range");
  sc->shard = static_cast<ShardId>(shard);
  // Minimum sizes: an entry 15 bytes, a balance 5, a hold 11, a count 16.
  if (!in.getCount(&n, 15)) return false;
  sc->entries.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    LedgerEntry& e = sc->entries[i];
    if (!getEntry(in, &e)) return false;
    e.shard = sc->shard;
    e.seq = sc->expected_last_seq + 1 + i;
  }
  if (!in.getCount(&n, 5)) return false;
  sc->balances.resize(n);
  for (BalanceRow& b : sc->balances) {
    if (!in.getU32(&b.item) || !in.getU32(&b.location) || !in.getSigned(&b.balance.on_hand) ||
        !in.getSigned(&b.balance.reserved) || !in.getSigned(&b.last_ts)) {
      return false;
    }
  }
  std::string_view requests;
  if (!in.getBytesView(&requests)) return false;
  if (auto st = decodeRequests(requests, sc->shard, &sc->requests); !st.ok()) {
    return in.failWith(std::string(st.message()));
  }
  if (!in.getCount(&n, 11)) return false;
  sc->holds.resize(n);
  for (Hold& h : sc->holds) {
    if (!getHold(in, &h)) return false;
    h.shard = sc->shard;
  }
  if (!in.getCount(&n, 16)) return false;
  sc->counts.resize(n);
  for (CountRecord& c : sc->counts) {
    if (!getCountRecord(in, &c)) return false;
    c.shard = sc->shard;
  }
  return true;
}

}  // namespace

absl::StatusOr<CommitBatch> decodeCommitBatch(std::string_view blob) {
  Reader in(blob, "a commit log record");
  CommitBatch batch;
  std::uint64_t shards = 0;
  // A ShardCommit takes at least 9 bytes (3 ids, 5 empty lists and blobs).
  if (in.getFormat() && in.getCount(&shards, 9)) {
    batch.shards.resize(shards);
    for (ShardCommit& sc : batch.shards)
      if (!getShardCommit(in, &sc)) break;
  }
  if (!in.finish()) return in.status();
  return batch;
}

}  // namespace depot::sqlite
