// Opaque page tokens: a versioned, length-prefixed list of strings, encoded
// as web-safe base64. Tokens are not secret and not signed: a tampered token
// can only move the caller's own read position.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace depot::server {

// `kind` distinguishes tokens of different RPCs ('S' stock, 'H' history,
// 'I' items) so a token from one listing is refused by another.
std::string encodePageToken(char kind, const std::vector<std::string>& fields);

// INVALID_ARGUMENT "page_token: malformed" unless `token` was produced by
// encodePageToken(kind, ...) with exactly `field_count` fields.
absl::StatusOr<std::vector<std::string>> decodePageToken(char kind, std::string_view token,
                                                         std::size_t field_count);

// page_size 0 -> `fallback`; > `max` -> INVALID_ARGUMENT "<field>: must be <= max".
absl::StatusOr<std::size_t> pageSize(std::string_view field, std::uint32_t requested,
                                     std::size_t fallback, std::size_t max);

}  // namespace depot::server
