// depotctl output: aligned tables for people, JSON for machines, and the
// conversions of API messages to both. JSON keys are snake_case and stable
// (scripts and tests read them); quantities are JSON numbers.
#pragma once

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "client/client.h"

namespace depot::ctl {

namespace v1 = ::depot::v1;
using Json = nlohmann::ordered_json;

// A text table: a header row, then rows, columns padded to their widest
// cell. Columns marked numeric are right-aligned.
class Table {
 public:
  explicit Table(std::vector<std::string> headers, std::vector<bool> numeric = {});
  void addRow(std::vector<std::string> cells);
  std::size_t rows() const { return m_rows.size(); }
  void print(std::ostream& out) const;

 private:
  std::vector<std::string> m_headers;
  std::vector<bool> m_numeric;
  std::vector<std::vector<std::string>> m_rows;
};

// "receive", "ship", ... ("unspecified" for 0).
std::string kindName(v1::MovementKind kind);
std::string countStateName(v1::CountState state);
std::string alertKindName(v1::AlertKind kind);
std::string alertStateName(v1::AlertState state);
std::string severityName(v1::Severity severity);
// "2026-11-28T10:00:00.123Z", or "-" for 0.
std::string timeText(std::int64_t micros);
// "+5", "-3", "0".
std::string signedText(std::int64_t v);

Json toJson(const v1::LocationBalance& b);
Json toJson(const v1::StockRow& r);
Json toJson(const v1::LedgerEntry& e);
Json toJson(const v1::Item& i);
Json toJson(const v1::Location& l);
Json toJson(const v1::MovementResult& r);
Json toJson(const v1::CountLineResult& r);
Json toJson(const v1::CountRecord& c);
Json toJson(const v1::Alert& a);
Json toJson(const v1::SilenceInfo& s);
Json toJson(const v1::MetricsSample& m);

// Writes `doc` to stdout (pretty, 2 spaces) followed by a newline.
void printJson(const Json& doc);

// Table of balances: LOCATION ON_HAND RESERVED AVAILABLE (SKU first when
// `with_sku`).
void printBalances(std::ostream& out,
                   const google::protobuf::RepeatedPtrField<v1::LocationBalance>& balances,
                   bool with_sku);

// One line per ledger entry for `watch` and `history`:
// time shard/seq kind sku location deltas balance-after actor [reason/ref]
std::string entryLine(const v1::LedgerEntry& e);

}  // namespace depot::ctl
