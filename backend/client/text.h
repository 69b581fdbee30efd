// Small string helpers for messages. Debian's abseil is built without
// std::string_view aliasing (ABSL_OPTION_USE_STD_STRING_VIEW 0), so
// absl::StrCat does not take std::string_view; cat() does.
#pragma once

#include <concepts>
#include <string>
#include <string_view>

namespace depot::client {

namespace detail {
inline void appendOne(std::string& out, std::string_view v) { out.append(v); }
inline void appendOne(std::string& out, const char* v) { out.append(v); }
inline void appendOne(std::string& out, const std::string& v) { out.append(v); }
inline void appendOne(std::string& out, char c) { out.push_back(c); }
template <std::integral T>
void appendOne(std::string& out, T v) {
  out += std::to_string(v);
}
}  // namespace detail

template <typename... Args>
std::string cat(const Args&... args) {
  std::string out;
  (detail::appendOne(out, args), ...);
  return out;
}

}  // namespace depot::client
