// strCat/strAppend: string concatenation that accepts std::string_view.
// Debian's abseil is built without ABSL_USES_STD_STRING_VIEW, so
// absl::StrCat does not take std::string_view arguments.
#pragma once

#include <concepts>
#include <string>
#include <string_view>
#include <type_traits>

#include "absl/strings/string_view.h"

namespace depot::server {
namespace str_detail {

inline void put(std::string& out, std::string_view v) { out.append(v); }
inline void put(std::string& out, const char* v) { out.append(v); }
inline void put(std::string& out, const std::string& v) { out.append(v); }
inline void put(std::string& out, char v) { out.push_back(v); }
#ifndef ABSL_USES_STD_STRING_VIEW
inline void put(std::string& out, absl::string_view v) { out.append(v.data(), v.size()); }
#endif
template <typename T>
requires(std::integral<T> && !std::same_as<T, char> &&
         !std::same_as<T, bool>) void put(std::string& out, T v) {
  out.append(std::to_string(v));
}
// A double would convert to char silently: format it (formatDouble) first.
template <std::floating_point T>
void put(std::string& out, T v) = delete;

}  // namespace str_detail

template <typename... Args>
void strAppend(std::string& out, const Args&... args) {
  (str_detail::put(out, args), ...);
}

template <typename... Args>
std::string strCat(const Args&... args) {
  std::string out;
  strAppend(out, args...);
  return out;
}

}  // namespace depot::server
