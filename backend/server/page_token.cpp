#include "server/page_token.h"

#include "absl/strings/escaping.h"
#include "server/str.h"

namespace depot::server {
namespace {
constexpr char kVersion = '1';
constexpr std::size_t kMaxTokenBytes = 4096;
}  // namespace

std::string encodePageToken(char kind, const std::vector<std::string>& fields) {
  std::string raw;
  raw.push_back(kVersion);
  raw.push_back(kind);
  for (const auto& f : fields) {
    strAppend(raw, f.size(), ":", f);
  }
  return absl::WebSafeBase64Escape(raw);
}

absl::StatusOr<std::vector<std::string>> decodePageToken(char kind, std::string_view token,
                                                         std::size_t field_count) {
  const auto malformed = absl::InvalidArgumentError("page_token: malformed");
  if (token.size() > kMaxTokenBytes) return malformed;
  std::string raw;
  if (!absl::WebSafeBase64Unescape(absl::string_view(token.data(), token.size()), &raw))
    return malformed;
  if (raw.size() < 2 || raw[0] != kVersion || raw[1] != kind) return malformed;
  std::vector<std::string> fields;
  std::size_t pos = 2;
  while (pos < raw.size()) {
    std::size_t len = 0;
    std::size_t digits = 0;
    while (pos < raw.size() && raw[pos] >= '0' && raw[pos] <= '9' && digits < 5) {
      len = len * 10 + static_cast<std::size_t>(raw[pos] - '0');
      ++pos;
      ++digits;
    }
    if (digits == 0 || pos >= raw.size() || raw[pos] != ':') return malformed;
    ++pos;
    if (len > raw.size() - pos) return malformed;
    fields.emplace_back(raw.substr(pos, len));
    pos += len;
  }
  if (fields.size() != field_count) return malformed;
  return fields;
}

absl::StatusOr<std::size_t> pageSize(std::string_view field, std::uint32_t requested,
                                     std::size_t fallback, std::size_t max) {
  if (requested == 0) return fallback;
  if (requested > max) {
    return absl::InvalidArgumentError(strCat(field, ": must be <= ", max));
  }
  return static_cast<std::size_t>(requested);
}

}  // namespace depot::server
