#include "client/csv.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_join.h"
#include "client/text.h"

namespace depot::client {
namespace {

std::string_view trimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

CsvParser::CsvParser(std::string_view text) : m_text(text) {
  if (m_text.substr(0, 3) == "\xEF\xBB\xBF") m_pos = 3;
}

absl::StatusOr<bool> CsvParser::next(CsvRecord& out) {
  // Skip blank lines (LF or CRLF with nothing before them).
  while (m_pos < m_text.size()) {
    if (m_text[m_pos] == '\n') {
      ++m_pos;
      ++m_line;
    } else if (m_text[m_pos] == '\r' && m_pos + 1 < m_text.size() && m_text[m_pos + 1] == '\n') {
      m_pos += 2;
      ++m_line;
    } else {
      break;
    }
  }
  if (m_pos >= m_text.size()) return false;

  out.line = m_line;
  out.fields.clear();
  std::string field;
  const std::size_t n = m_text.size();
  auto fail = [&](std::size_t line, std::string_view what) -> absl::Status {
    m_pos = n;
    return absl::InvalidArgumentError(cat("line ", line, ": ", std::string(what)));
  };

  while (true) {
    field.clear();
    if (m_pos < n && m_text[m_pos] == '"') {
      // Quoted field: runs to the matching quote; "" is an escaped quote.
      const std::size_t start_line = m_line;
      ++m_pos;
      while (true) {
        if (m_pos >= n) {
          return fail(start_line, "unterminated quoted field");
        }
        const char c = m_text[m_pos++];
        if (c == '"') {
          if (m_pos < n && m_text[m_pos] == '"') {
            field.push_back('"');
            ++m_pos;
          } else {
            break;
          }
        } else {
          if (c == '\n') ++m_line;
          field.push_back(c);
        }
      }
      // After the closing quote only a separator or the end of the record may follow.
      if (m_pos < n && m_text[m_pos] != ',' && m_text[m_pos] != '\n' &&
          !(m_text[m_pos] == '\r' && m_pos + 1 < n && m_text[m_pos + 1] == '\n')) {
        return fail(m_line,
                    cat("field ", out.fields.size() + 1, ": unexpected text after closing quote"));
      }
    } else {
      const std::size_t start = m_pos;
      while (m_pos < n) {
        const char c = m_text[m_pos];
        if (c == ',' || c == '\n') break;
        if (c == '\r' && m_pos + 1 < n && m_text[m_pos + 1] == '\n') break;
        if (c == '"') {
          return fail(m_line,
                      cat("field ", out.fields.size() + 1, ": quote inside an unquoted field"));
        }
        ++m_pos;
      }
      field.assign(m_text.substr(start, m_pos - start));
    }
    out.fields.push_back(std::move(field));

    if (m_pos >= n) return true;
    if (m_text[m_pos] == ',') {
      ++m_pos;
      continue;
    }
    // End of record: LF or CRLF.
    m_pos += m_text[m_pos] == '\r' ? 2 : 1;
    ++m_line;
    return true;
  }
}

absl::StatusOr<std::vector<CsvRecord>> parseCsv(std::string_view text) {
  CsvParser parser(text);
  std::vector<CsvRecord> records;
  CsvRecord record;
  while (true) {
    auto more = parser.next(record);
    if (!more.ok()) return more.status();
    if (!*more) break;
    records.push_back(std::move(record));
  }
  return records;
}

absl::Status checkCsvHeader(const CsvRecord& header,
                            const std::vector<std::string_view>& expected) {
  bool same = header.fields.size() == expected.size();
  if (same) {
    auto it = expected.begin();
    for (const auto& f : header.fields) {
      if (trimSpaces(f) != *it++) {
        same = false;
        break;
      }
    }
  }
  if (same) return absl::OkStatus();
  std::string wanted;
  for (std::string_view name : expected) {
    if (!wanted.empty()) wanted += ',';
    wanted += name;
  }
  return absl::InvalidArgumentError(cat("line ", header.line, ": bad header '",
                                        absl::StrJoin(header.fields, ","), "', expected '", wanted,
                                        "'"));
}

absl::StatusOr<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    const std::string what = cat(path, ": ", std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(what);
    if (err == EACCES) return absl::PermissionDeniedError(what);
    return absl::UnknownError(what);
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return absl::UnknownError(cat(path, ": read failed"));
  return std::move(buffer).str();
}

}  // namespace depot::client
