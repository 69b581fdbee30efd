// RFC 4180 CSV reading for catalog imports and count files.
//
// Contract:
// - Fields are separated by ',' and records by LF or CRLF (a lone CR is data).
// - A field may be quoted with '"'; inside quotes ',' CR and LF are data and
//   '""' is one '"'. A quote inside an unquoted field, text after a closing
//   quote, or an unterminated quote is an error naming the line.
// - A UTF-8 byte order mark at the very start is skipped.
// - Blank lines (no characters at all) are skipped; a line of only spaces is
//   a record with one field.
// - Each record carries the 1-based line number where it starts, so error
//   reports point at the line a person sees in an editor.
//
// Not thread-safe; the parser borrows the text, which must outlive it.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace depot::client {

struct CsvRecord {
  std::size_t line = 0;  // 1-based line where the record starts
  std::vector<std::string> fields;
};

class CsvParser {
 public:
  explicit CsvParser(std::string_view text);

  // Reads the next record into `out`. Returns true when a record was read,
  // false at the end of the text, or INVALID_ARGUMENT "line N: ..." for
  // malformed quoting (the parser then stays at the end).
  absl::StatusOr<bool> next(CsvRecord& out);

 private:
  std::string_view m_text;
  std::size_t m_pos = 0;
  std::size_t m_line = 1;
};

// Parses all of `text`. Stops at the first malformed record.
absl::StatusOr<std::vector<CsvRecord>> parseCsv(std::string_view text);

// OK when `header` is exactly `expected` (names compared after trimming
// spaces, case-sensitive); else INVALID_ARGUMENT saying what was expected.
absl::Status checkCsvHeader(const CsvRecord& header, const std::vector<std::string_view>& expected);

// Reads a whole file. NOT_FOUND / PERMISSION_DENIED / UNKNOWN with the path.
absl::StatusOr<std::string> readFile(const std::string& path);

}  // namespace depot::client
