// Compact BLOB encodings for list-valued columns: holds.lines, and the
// idempotency records of one ShardCommit (requests.records), each record with
// its Outcome.after list; and a whole CommitBatch, the payload of one commit
// log record (sqlite_commit_log.h). Independent of SQLite; another engine may
// reuse them.
//
// Every blob: empty for an empty list; otherwise a format byte (1), the
// element count as a LEB128 varint, then the elements. Integers are varints:
// ids and counts unsigned, quantities and times zigzag-encoded (small
// negatives stay small); fingerprints are 8 little-endian bytes (they are
// hashes, a varint would only grow them); strings are a length varint and the
// bytes, any bytes. A (location, on_hand, reserved) triple of small values
// takes 3-4 bytes.
//
// Decoding validates everything (truncation, overlong varints, ids that do not
// fit in 32 bits, counts that disagree with the length, trailing bytes) and
// returns DATA_LOSS naming the problem instead of guessing.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/model.h"
#include "store/store.h"

namespace depot::sqlite {

using AfterList = std::vector<std::pair<LocationId, Balance>>;

// Encoders clear *out first, so a caller can reuse one buffer.
void encodeAfter(const AfterList& after, std::string* out);
absl::StatusOr<AfterList> decodeAfter(std::string_view blob);

void encodeHoldLines(const std::vector<HoldLine>& lines, std::string* out);
absl::StatusOr<std::vector<HoldLine>> decodeHoldLines(std::string_view blob);

// Records of one shard: the shard itself is not encoded (it is the row's) and
// decodeRequests sets it on every record it appends to *out.
void encodeRequests(const std::vector<RequestRecord>& records, std::string* out);
void encodeRequests(absl::Span<const RequestRecord* const> records, std::string* out);
absl::Status decodeRequests(std::string_view blob, ShardId shard, std::vector<RequestRecord>* out);
// The same blob straight into the compact form a restart keeps: the id's key,
// no per-record heap allocation for the usual one-balance outcome.
absl::Status decodeRecoveredRequests(std::string_view blob, std::vector<RecoveredRequest>* out);

// A whole group commit. Entries carry neither shard nor seq: they are their
// ShardCommit's shard and expected_last_seq + 1, + 2, ... (commit() checks
// exactly that before encoding).
void encodeCommitBatch(const CommitBatch& batch, std::string* out);
absl::StatusOr<CommitBatch> decodeCommitBatch(std::string_view blob);

}  // namespace depot::sqlite
