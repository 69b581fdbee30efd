#include "output.h"

#include <algorithm>
#include <iostream>

#include "client/parse.h"
#include "client/status.h"

namespace depot::ctl {

Table::Table(std::vector<std::string> headers, std::vector<bool> numeric)
    : m_headers(std::move(headers)), m_numeric(std::move(numeric)) {
  m_numeric.resize(m_headers.size(), false);
}

void Table::addRow(std::vector<std::string> cells) {
  cells.resize(m_headers.size());
  m_rows.push_back(std::move(cells));
}

void Table::print(std::ostream& out) const {
  std::vector<std::size_t> width(m_headers.size());
  for (std::size_t c = 0; c < m_headers.size(); ++c) width[c] = m_headers[c].size();
  for (const auto& row : m_rows) {
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const bool last = c + 1 == cells.size();
      const std::size_t pad = width[c] - cells[c].size();
      if (m_numeric[c]) text.append(pad, ' ');
      text += cells[c];
      if (!m_numeric[c] && !last) text.append(pad, ' ');
      if (!last) text += "  ";
    }
    out << text << '\n';
  };
  line(m_headers);
  for (const auto& row : m_rows) line(row);
}

std::string kindName(v1::MovementKind kind) {
  switch (kind) {
    case v1::MOVEMENT_KIND_RECEIVE:
      return "receive";
    case v1::MOVEMENT_KIND_SHIP:
      return "ship";
    case v1::MOVEMENT_KIND_TRANSFER:
      return "transfer";
    case v1::MOVEMENT_KIND_ADJUST:
      return "adjust";
    case v1::MOVEMENT_KIND_RESERVE:
      return "reserve";
    case v1::MOVEMENT_KIND_RELEASE:
      return "release";
    case v1::MOVEMENT_KIND_COMMIT:
      return "commit";
    case v1::MOVEMENT_KIND_COUNT:
      return "count";
    default:
      return "unspecified";
  }
}

std::string countStateName(v1::CountState state) {
  switch (state) {
    case v1::COUNT_STATE_APPLIED:
      return "applied";
    case v1::COUNT_STATE_PENDING_APPROVAL:
      return "pending_approval";
    case v1::COUNT_STATE_APPROVED:
      return "approved";
    case v1::COUNT_STATE_REJECTED:
      return "rejected";
    default:
      return "unspecified";
  }
}

std::string alertKindName(v1::AlertKind kind) {
  switch (kind) {
    case v1::ALERT_KIND_LOW_STOCK:
      return "low_stock";
    case v1::ALERT_KIND_STOCKOUT:
      return "stockout";
    case v1::ALERT_KIND_COUNT_VARIANCE:
      return "count_variance";
    default:
      return "any";
  }
}

std::string alertStateName(v1::AlertState state) {
  switch (state) {
    case v1::ALERT_STATE_FIRING:
      return "firing";
    case v1::ALERT_STATE_ACKNOWLEDGED:
      return "acknowledged";
    case v1::ALERT_STATE_RESOLVED:
      return "resolved";
    default:
      return "unspecified";
  }
}

std::string severityName(v1::Severity severity) {
  switch (severity) {
    case v1::SEVERITY_INFO:
      return "info";
    case v1::SEVERITY_WARNING:
      return "warning";
    case v1::SEVERITY_CRITICAL:
      return "critical";
    default:
      return "unspecified";
  }
}

std::string timeText(std::int64_t micros) {
  return micros == 0 ? "-" : client::formatTime(micros, 3);
}

std::string signedText(std::int64_t v) {
  return v > 0 ? "+" + std::to_string(v) : std::to_string(v);
}

Json toJson(const v1::LocationBalance& b) {
  return Json{{"sku", b.sku()},
              {"location", b.location()},
              {"on_hand", b.on_hand()},
              {"reserved", b.reserved()},
              {"available", b.available()}};
}

Json toJson(const v1::StockRow& r) {
  return Json{{"sku", r.sku()},
              {"location", r.location()},
              {"on_hand", r.on_hand()},
              {"reserved", r.reserved()},
              {"available", r.available()},
              {"reorder_point", r.reorder_point()},
              {"description", r.description()},
              {"unit", r.unit()},
              {"shard", r.shard()},
              {"updated_at", r.updated_at_us() ? timeText(r.updated_at_us()) : ""},
              {"updated_at_us", r.updated_at_us()}};
}

Json toJson(const v1::LedgerEntry& e) {
  return Json{{"shard", e.shard()},
              {"seq", e.seq()},
              {"time", timeText(e.ts_us())},
              {"ts_us", e.ts_us()},
              {"kind", kindName(e.kind())},
              {"sku", e.sku()},
              {"location", e.location()},
              {"d_on_hand", e.d_on_hand()},
              {"d_reserved", e.d_reserved()},
              {"on_hand_after", e.on_hand_after()},
              {"reserved_after", e.reserved_after()},
              {"actor", e.actor()},
              {"reason", e.reason()},
              {"ref", e.ref()},
              {"request_id", e.request_id()}};
}

Json toJson(const v1::Item& i) {
  return Json{{"sku", i.sku()},
              {"description", i.description()},
              {"unit", i.unit()},
              {"reorder_point", i.reorder_point()},
              {"reorder_qty", i.reorder_qty()},
              {"shard", i.shard()}};
}

Json toJson(const v1::Location& l) {
  return Json{{"location", l.warehouse() + "/" + l.code()},
              {"warehouse", l.warehouse()},
              {"code", l.code()}};
}

Json toJson(const v1::MovementResult& r) {
  const auto code = static_cast<absl::StatusCode>(r.code());
  Json after = Json::array();
  for (const auto& b : r.after()) after.push_back(toJson(b));
  return Json{
      {"request_id", r.request_id()}, {"ok", r.code() == 0},      {"code", client::codeName(code)},
      {"message", r.message()},       {"shard", r.shard()},       {"seq", r.seq()},
      {"entries", r.entries()},       {"replayed", r.replayed()}, {"after", std::move(after)}};
}

Json toJson(const v1::CountLineResult& r) {
  return Json{{"count_id", r.request_id()},
              {"ok", r.code() == 0},
              {"code", client::codeName(static_cast<absl::StatusCode>(r.code()))},
              {"message", r.message()},
              {"state", countStateName(r.state())},
              {"expected", r.expected()},
              {"variance", r.variance()},
              {"seq", r.seq()},
              {"replayed", r.replayed()}};
}

Json toJson(const v1::CountRecord& c) {
  return Json{{"count_id", c.count_id()},
              {"sku", c.sku()},
              {"location", c.location()},
              {"counted", c.counted()},
              {"counted_at", timeText(c.counted_at_us())},
              {"expected", c.expected()},
              {"variance", c.variance()},
              {"state", countStateName(c.state())},
              {"session_id", c.session_id()},
              {"counter", c.counter()},
              {"blind", c.blind()},
              {"submitted_at", timeText(c.submitted_at_us())},
              {"decided_by", c.decided_by()},
              {"note", c.note()},
              {"decided_at", timeText(c.decided_at_us())},
              {"applied_seq", c.applied_seq()},
              {"shard", c.shard()}};
}

Json toJson(const v1::Alert& a) {
  return Json{{"id", a.id()},
              {"kind", alertKindName(a.kind())},
              {"severity", severityName(a.severity())},
              {"state", alertStateName(a.state())},
              {"subject", a.subject()},
              {"summary", a.summary()},
              {"fired_at", timeText(a.fired_at_us())},
              {"updated_at", timeText(a.updated_at_us())},
              {"resolved_at", timeText(a.resolved_at_us())},
              {"acked_by", a.acked_by()},
              {"acked_at", timeText(a.acked_at_us())},
              {"ack_note", a.ack_note()},
              {"silenced", a.silenced()}};
}

Json toJson(const v1::SilenceInfo& s) {
  return Json{{"id", s.id()},
              {"kind", alertKindName(s.kind())},
              {"subject_prefix", s.subject_prefix()},
              {"owner", s.owner()},
              {"comment", s.comment()},
              {"created_at", timeText(s.created_at_us())},
              {"expires_at", timeText(s.expires_at_us())}};
}

Json toJson(const v1::MetricsSample& m) {
  return Json{{"node_id", m.node_id()},
              {"at", timeText(m.at_us())},
              {"movements_per_s", m.movements_per_s()},
              {"rejections_per_s", m.rejections_per_s()},
              {"commits_per_s", m.commits_per_s()},
              {"p50_ms", m.p50_ms()},
              {"p99_ms", m.p99_ms()},
              {"queue_depth", m.queue_depth()},
              {"open_holds", m.open_holds()},
              {"watch_subscribers", m.watch_subscribers()},
              {"commit_batch_p50", m.commit_batch_p50()}};
}

void printJson(const Json& doc) {
  // Invalid UTF-8 from the server must not abort the tool: replace it.
  std::cout << doc.dump(2, ' ', false, Json::error_handler_t::replace) << '\n';
}

void printBalances(std::ostream& out,
                   const google::protobuf::RepeatedPtrField<v1::LocationBalance>& balances,
                   bool with_sku) {
  std::vector<std::string> headers;
  std::vector<bool> numeric;
  if (with_sku) {
    headers.push_back("SKU");
    numeric.push_back(false);
  }
  for (const char* h : {"LOCATION", "ON_HAND", "RESERVED", "AVAILABLE"}) headers.push_back(h);
  numeric.insert(numeric.end(), {false, true, true, true});
  Table table(headers, numeric);
  for (const auto& b : balances) {
    std::vector<std::string> row;
    if (with_sku) row.push_back(b.sku());
    row.insert(row.end(), {b.location(), std::to_string(b.on_hand()), std::to_string(b.reserved()),
                           std::to_string(b.available())});
    table.addRow(std::move(row));
  }
  table.print(out);
}

std::string entryLine(const v1::LedgerEntry& e) {
  std::string line = timeText(e.ts_us());
  line += "  " + std::to_string(e.shard()) + "/" + std::to_string(e.seq());
  std::string kind = kindName(e.kind());
  kind.resize(std::max<std::size_t>(kind.size(), 8), ' ');
  line += "  " + kind + "  " + e.sku() + "  " + e.location();
  line += "  on_hand " + signedText(e.d_on_hand());
  if (e.d_reserved() != 0) line += " reserved " + signedText(e.d_reserved());
  line += "  -> " + std::to_string(e.on_hand_after()) + "/" + std::to_string(e.reserved_after());
  line += "  by " + (e.actor().empty() ? std::string("-") : e.actor());
  if (!e.reason().empty()) line += "  reason: " + e.reason();
  if (!e.ref().empty()) line += "  ref: " + e.ref();
  return line;
}

}  // namespace depot::ctl
