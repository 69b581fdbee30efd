#include "client/parse.h"

#include <charconv>
#include <chrono>
#include <cstdio>

#include "client/text.h"

namespace depot::client {
namespace {

absl::Status invalid(std::string_view field, std::string_view reason) {
  return absl::InvalidArgumentError(cat(field, ": ", reason));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

bool allDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!isDigit(c)) return false;
  }
  return true;
}

// Parses exactly `width` digits at s[pos..]; advances pos.
bool fixedDigits(std::string_view s, std::size_t& pos, int width, int& out) {
  if (pos + static_cast<std::size_t>(width) > s.size()) return false;
  int v = 0;
  for (int i = 0; i < width; ++i) {
    const char c = s[pos + static_cast<std::size_t>(i)];
    if (!isDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  pos += static_cast<std::size_t>(width);
  out = v;
  return true;
}

std::string quoted(std::string_view text) { return cat("'", text, "'"); }

// Latest accepted time: 9999-12-31T23:59:59Z; keeps micros far from overflow.
constexpr std::int64_t kMaxUnixSeconds = 253402300799;

}  // namespace

absl::StatusOr<std::int64_t> parseQuantity(std::string_view field, std::string_view text,
                                           QtyRule rule) {
  std::string_view s = trim(text);
  if (s.empty()) return invalid(field, "missing quantity");
  bool negative = false;
  if (s.front() == '+' || s.front() == '-') {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (!allDigits(s)) {
    return invalid(field, cat("not a whole number: ", quoted(text)));
  }
  std::int64_t magnitude = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), magnitude);
  if (ec == std::errc::result_out_of_range || magnitude > kMaxQuantity) {
    return invalid(
        field, cat("out of range: ", quoted(text), " (at most ", kMaxQuantity, " in magnitude)"));
  }
  if (ec != std::errc() || ptr != s.data() + s.size()) {
    return invalid(field, cat("not a whole number: ", quoted(text)));
  }
  const std::int64_t value = negative ? -magnitude : magnitude;
  switch (rule) {
    case QtyRule::kPositive:
      if (value <= 0) return invalid(field, cat("must be > 0, got ", quoted(text)));
      break;
    case QtyRule::kNonNegative:
      if (value < 0) return invalid(field, cat("must be >= 0, got ", quoted(text)));
      break;
    case QtyRule::kNonZero:
      if (value == 0) return invalid(field, "must not be 0");
      break;
  }
  return value;
}

absl::StatusOr<std::int64_t> parseInteger(std::string_view field, std::string_view text,
                                          std::int64_t min, std::int64_t max) {
  std::string_view s = trim(text);
  bool negative = false;
  if (!s.empty() && s.front() == '-') {
    negative = true;
    s.remove_prefix(1);
  }
  std::int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (!allDigits(s) || ec != std::errc() || ptr != s.data() + s.size()) {
    if (allDigits(s) && ec == std::errc::result_out_of_range) {
      return invalid(field, cat("out of range: ", quoted(text)));
    }
    return invalid(field, cat("not a whole number: ", quoted(text)));
  }
  if (negative) v = -v;
  if (v < min || v > max) {
    return invalid(field, cat("must be between ", min, " and ", max, ", got ", quoted(text)));
  }
  return v;
}

absl::StatusOr<Micros> parseTime(std::string_view field, std::string_view text) {
  using namespace std::chrono;
  const std::string_view s = trim(text);
  if (s.empty()) return invalid(field, "missing time");
  if (s == "now") {
    return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
  }

  // Unix seconds, optionally with a fraction.
  {
    const std::size_t dot = s.find('.');
    const std::string_view whole = s.substr(0, dot);
    const std::string_view frac = dot == std::string_view::npos ? "" : s.substr(dot + 1);
    if (allDigits(whole) && (dot == std::string_view::npos || allDigits(frac))) {
      std::int64_t secs = 0;
      const auto [ptr, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), secs);
      if (ec != std::errc() || secs > kMaxUnixSeconds) {
        return invalid(field, cat("unix time out of range: ", quoted(text)));
      }
      std::int64_t micros = 0;
      for (std::size_t i = 0; i < 6; ++i) {
        micros = micros * 10 + (i < frac.size() ? frac[i] - '0' : 0);
      }
      return secs * 1'000'000 + micros;
    }
  }

  const auto bad = [&](std::string_view why) {
    return invalid(field, cat(why, " in ", quoted(text),
                              " (expected e.g. 2026-11-28T10:00:00Z or unix seconds)"));
  };
  std::size_t pos = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!fixedDigits(s, pos, 4, y) || pos >= s.size() || s[pos++] != '-' ||
      !fixedDigits(s, pos, 2, mo) || pos >= s.size() || s[pos++] != '-' ||
      !fixedDigits(s, pos, 2, d)) {
    return bad("malformed date");
  }
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                           day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || y < 1970) return bad("invalid date");
  const std::int64_t day_seconds =
      static_cast<std::int64_t>(sys_days{ymd}.time_since_epoch().count()) * 86400;
  if (pos == s.size()) return day_seconds * 1'000'000;

  const char sep = s[pos++];
  if (sep != 'T' && sep != 't' && sep != ' ') return bad("expected 'T' after the date");
  if (!fixedDigits(s, pos, 2, h) || pos >= s.size() || s[pos++] != ':' ||
      !fixedDigits(s, pos, 2, mi)) {
    return bad("malformed time of day");
  }
  if (pos < s.size() && s[pos] == ':') {
    ++pos;
    if (!fixedDigits(s, pos, 2, sec)) return bad("malformed seconds");
  }
  if (h > 23 || mi > 59 || sec > 59) return bad("time of day out of range");
  std::int64_t micros = 0;
  if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
    ++pos;
    int digits = 0;
    while (pos < s.size() && isDigit(s[pos])) {
      if (digits < 6) micros = micros * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return bad("malformed fraction");
    for (int i = digits; i < 6; ++i) micros *= 10;
  }
  if (pos >= s.size()) return bad("missing zone (add Z for UTC or an offset like +01:00)");
  std::int64_t offset_seconds = 0;
  const char z = s[pos++];
  if (z == 'Z' || z == 'z') {
    // UTC
  } else if (z == '+' || z == '-') {
    int oh = 0, om = 0;
    if (!fixedDigits(s, pos, 2, oh)) return bad("malformed zone offset");
    if (pos < s.size() && s[pos] == ':') ++pos;
    if (!fixedDigits(s, pos, 2, om)) return bad("malformed zone offset");
    if (oh > 23 || om > 59) return bad("zone offset out of range");
    offset_seconds = (oh * 3600 + om * 60) * (z == '+' ? 1 : -1);
  } else {
    return bad("malformed zone");
  }
  if (pos != s.size()) return bad("unexpected text after the zone");
  const std::int64_t secs = day_seconds + h * 3600 + mi * 60 + sec - offset_seconds;
  if (secs < 0 || secs > kMaxUnixSeconds) return bad("time out of range");
  return secs * 1'000'000 + micros;
}

std::string formatTime(Micros t, int fraction_digits) {
  using namespace std::chrono;
  const std::int64_t secs_total = t >= 0 ? t / 1'000'000 : (t - 999'999) / 1'000'000;
  const std::int64_t micros = t - secs_total * 1'000'000;
  const std::int64_t days = secs_total >= 0 ? secs_total / 86400 : (secs_total - 86399) / 86400;
  const std::int64_t rem = secs_total - days * 86400;
  const year_month_day ymd{sys_days{std::chrono::days{days}}};
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d",
                        static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                        static_cast<unsigned>(ymd.day()), static_cast<int>(rem / 3600),
                        static_cast<int>(rem / 60 % 60), static_cast<int>(rem % 60));
  std::string out(buf, static_cast<std::size_t>(n));
  if (fraction_digits == 3) {
    n = std::snprintf(buf, sizeof buf, ".%03d", static_cast<int>(micros / 1000));
    out.append(buf, static_cast<std::size_t>(n));
  } else if (fraction_digits >= 6) {
    n = std::snprintf(buf, sizeof buf, ".%06d", static_cast<int>(micros));
    out.append(buf, static_cast<std::size_t>(n));
  }
  out.push_back('Z');
  return out;
}

absl::StatusOr<Micros> parseDuration(std::string_view field, std::string_view text) {
  std::string_view s = trim(text);
  if (s.empty()) return invalid(field, "missing duration");
  Micros total = 0;
  std::size_t pos = 0;
  bool any = false;
  while (pos < s.size()) {
    std::int64_t v = 0;
    const std::size_t start = pos;
    while (pos < s.size() && isDigit(s[pos])) ++pos;
    if (pos == start) {
      return invalid(field, cat("malformed duration ", quoted(text), " (e.g. 90s, 15m, 2h, 1d)"));
    }
    const auto [ptr, ec] = std::from_chars(s.data() + start, s.data() + pos, v);
    if (ec != std::errc() || v > 10'000'000'000) {
      return invalid(field, cat("duration out of range: ", quoted(text)));
    }
    std::string_view unit;
    const std::size_t ustart = pos;
    while (pos < s.size() && !isDigit(s[pos])) ++pos;
    unit = s.substr(ustart, pos - ustart);
    Micros scale = 0;
    if (unit.empty() || unit == "s") {
      scale = 1'000'000;
    } else if (unit == "ms") {
      scale = 1'000;
    } else if (unit == "m" || unit == "min") {
      scale = 60'000'000;
    } else if (unit == "h") {
      scale = 3'600'000'000;
    } else if (unit == "d") {
      scale = 86'400'000'000;
    } else {
      return invalid(field,
                     cat("unknown unit '", unit, "' in ", quoted(text), " (use ms, s, m, h or d)"));
    }
    if (unit.empty() && start != 0) {  // a bare number is seconds only when it is all there is
      return invalid(field, cat("missing unit after ", v, " in ", quoted(text)));
    }
    if (v > (INT64_MAX - total) / scale) {
      return invalid(field, cat("duration out of range: ", quoted(text)));
    }
    total += v * scale;
    any = true;
  }
  if (!any || total <= 0) return invalid(field, cat("must be > 0, got ", quoted(text)));
  return total;
}

absl::Status validateSku(std::string_view field, std::string_view sku) {
  if (sku.empty()) return invalid(field, "missing SKU");
  if (sku.size() > kMaxSkuLength) {
    return invalid(field, cat("SKU longer than ", kMaxSkuLength, " bytes"));
  }
  if (trim(sku) != sku) return invalid(field, "SKU has leading or trailing spaces");
  for (unsigned char c : sku) {
    if (c < 0x20 || c == 0x7f) return invalid(field, "SKU contains a control character");
  }
  return absl::OkStatus();
}

absl::StatusOr<LocationName> parseLocation(std::string_view field, std::string_view text) {
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    return invalid(field,
                   cat("expected WAREHOUSE/LOCATION (e.g. east/A-01-03), got ", quoted(text)));
  }
  LocationName name{std::string(text.substr(0, slash)), std::string(text.substr(slash + 1))};
  for (const std::string* part : {&name.warehouse, &name.code}) {
    const char* what = part == &name.warehouse ? "warehouse" : "location code";
    if (part->empty()) return invalid(field, cat("missing ", what, " in ", quoted(text)));
    if (part->size() > kMaxNameLength) {
      return invalid(field, cat(what, " longer than ", kMaxNameLength, " bytes"));
    }
    if (trim(*part) != *part) {
      return invalid(field, cat(what, " has leading or trailing spaces in ", quoted(text)));
    }
    for (unsigned char c : *part) {
      if (c < 0x20 || c == 0x7f) {
        return invalid(field, cat(what, " contains a control character"));
      }
    }
  }
  return name;
}

absl::StatusOr<LineSpec> parseLineSpec(std::string_view field, std::string_view text) {
  const std::size_t first = text.find(':');
  const std::size_t last = text.rfind(':');
  if (first == std::string_view::npos || first == last) {
    return invalid(field, cat("expected SKU:WAREHOUSE/LOCATION:QTY, got ", quoted(text)));
  }
  LineSpec line;
  line.sku = std::string(text.substr(0, first));
  if (auto st = validateSku(field, line.sku); !st.ok()) return st;
  auto location = parseLocation(field, text.substr(first + 1, last - first - 1));
  if (!location.ok()) return location.status();
  line.location = location->full();
  auto qty = parseQuantity(field, text.substr(last + 1), QtyRule::kPositive);
  if (!qty.ok()) return qty.status();
  line.quantity = *qty;
  return line;
}

}  // namespace depot::client
