// A tiny structured logger: one logfmt line per event on stderr, e.g.
//   ts=2024-05-01T10:00:00.123456Z level=info event=listening addr=127.0.0.1:7070
// Thread-safe (each line is written with a single write()). Values that
// contain spaces, quotes, '=' or control characters are quoted and escaped.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace depot::server {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Parses "debug", "info", "warn"/"warning", "error". False if unknown.
bool parseLogLevel(std::string_view text, LogLevel& out);
void setLogLevel(LogLevel level);
bool logEnabled(LogLevel level);

// Builds one line and writes it when destroyed (if the level is enabled):
//   LogLine(LogLevel::kInfo, "listening").kv("addr", addr);
class LogLine {
 public:
  LogLine(LogLevel level, std::string_view event);
  ~LogLine();
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;

  LogLine& kv(std::string_view key, std::string_view value);
  LogLine& kv(std::string_view key, const char* value) { return kv(key, std::string_view(value)); }
  LogLine& kv(std::string_view key, const std::string& value) {
    return kv(key, std::string_view(value));
  }
  LogLine& kv(std::string_view key, std::int64_t value);
  LogLine& kv(std::string_view key, std::uint64_t value);
  LogLine& kv(std::string_view key, int value) { return kv(key, std::int64_t{value}); }
  LogLine& kv(std::string_view key, unsigned value) { return kv(key, std::uint64_t{value}); }
  LogLine& kv(std::string_view key, long long value) { return kv(key, std::int64_t(value)); }
  LogLine& kv(std::string_view key, unsigned long long value) {
    return kv(key, std::uint64_t(value));
  }
  LogLine& kv(std::string_view key, double value);
  LogLine& kv(std::string_view key, bool value) { return kv(key, value ? "true" : "false"); }

 private:
  bool m_enabled;
  std::string m_line;
};

inline LogLine logDebug(std::string_view event) { return LogLine(LogLevel::kDebug, event); }
inline LogLine logInfo(std::string_view event) { return LogLine(LogLevel::kInfo, event); }
inline LogLine logWarn(std::string_view event) { return LogLine(LogLevel::kWarn, event); }
inline LogLine logError(std::string_view event) { return LogLine(LogLevel::kError, event); }

}  // namespace depot::server
