// Command-line values of the small benchmark programs in tests/bench: an
// integer flag's value is taken whole or not at all ("10x", "", "1e3" and
// out-of-range values are refused with the flag and the allowed range).
#pragma once

#include <charconv>
#include <optional>
#include <string>

namespace depot::bench {

// The value of `flag` if `text` is an integer in [lo, hi]; otherwise
// nullopt and `*error` says why.
inline std::optional<int> intArg(const std::string& flag, const std::string& text, int lo, int hi,
                                 std::string* error) {
  int v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end || v < lo || v > hi) {
    *error = flag + ": expected an integer in " + std::to_string(lo) + ".." + std::to_string(hi) +
             ", got '" + text + "'";
    return std::nullopt;
  }
  return v;
}

}  // namespace depot::bench
