// Stocktake: counts submit|pending|approve|reject.
//
// Count ids are the lines' request ids. `counts submit --file` gives line n
// (1-based data row) the id "<request-id>-<n>", so re-running the same file
// with the same --request-id is an idempotent retry.
#include <iostream>
#include <memory>

#include "client/csv.h"
#include "client/parse.h"
#include "client/request_id.h"
#include "client/status.h"
#include "context.h"

namespace depot::ctl {
namespace {

using client::QtyRule;

constexpr std::size_t kCountChunk = 1000;

struct SubmitArgs {
  std::string location;
  std::string sku;
  std::string counted;
  std::string at;
  std::string session;
  std::string file;
  bool blind = false;
  WriteOptions write;
};

struct PlannedLine {
  std::size_t line = 0;  // file line (0 for the command line)
  v1::CountLine count;
};

// Validates one count; `field_prefix` names the source in messages.
absl::StatusOr<v1::CountLine> makeLine(const std::string& location, const std::string& sku,
                                       const std::string& counted, const std::string& at) {
  v1::CountLine line;
  auto loc = client::parseLocation("location", location);
  if (!loc.ok()) return loc.status();
  if (auto st = client::validateSku("sku", sku); !st.ok()) return st;
  auto qty = client::parseQuantity("counted", counted, QtyRule::kNonNegative);
  if (!qty.ok()) return qty.status();
  if (!at.empty()) {
    auto t = client::parseTime("counted_at", at);
    if (!t.ok()) return t.status();
    line.set_counted_at_us(*t);
  }
  line.set_location(loc->full());
  line.set_sku(sku);
  line.set_counted(*qty);
  return line;
}

int runSubmit(Context& ctx, SubmitArgs& a) {
  const bool positional = !a.location.empty() || !a.sku.empty() || !a.counted.empty();
  if (a.file.empty() && !(!a.location.empty() && !a.sku.empty() && !a.counted.empty())) {
    return ctx.usage("give LOCATION SKU COUNTED, or --file CSV");
  }
  if (!a.file.empty() && positional) return ctx.usage("give either LOCATION SKU COUNTED or --file");
  if (a.session.size() > 128) return ctx.usage("--session: longer than 128 bytes");
  completeWriteOptions(a.write);

  std::vector<PlannedLine> lines;
  std::size_t local_errors = 0;
  if (a.file.empty()) {
    auto line = makeLine(a.location, a.sku, a.counted, a.at);
    if (!line.ok()) return ctx.usage(line.status());
    line->set_request_id(a.write.request_id);
    lines.push_back({0, std::move(*line)});
  } else {
    auto text = client::readFile(a.file);
    if (!text.ok()) return ctx.usage(std::string(text.status().message()));
    auto records = client::parseCsv(*text);
    if (!records.ok()) return ctx.usage(a.file + ": " + std::string(records.status().message()));
    if (records->empty()) return ctx.usage(a.file + ": empty file (expected a header line)");
    if (auto st =
            client::checkCsvHeader(records->front(), {"location", "sku", "counted", "counted_at"});
        !st.ok()) {
      return ctx.usage(a.file + ": " + std::string(st.message()));
    }
    for (std::size_t i = 1; i < records->size(); ++i) {
      const auto& r = (*records)[i];
      if (r.fields.size() != 4) {
        std::cerr << a.file << ":" << r.line << ": expected 4 fields, got " << r.fields.size()
                  << '\n';
        ++local_errors;
        continue;
      }
      auto line = makeLine(r.fields[0], r.fields[1], r.fields[2],
                           a.at.empty() ? r.fields[3] : (r.fields[3].empty() ? a.at : r.fields[3]));
      if (!line.ok()) {
        std::cerr << a.file << ":" << r.line << ": " << line.status().message() << '\n';
        ++local_errors;
        continue;
      }
      line->set_request_id(a.write.request_id + "-" + std::to_string(i));
      lines.push_back({r.line, std::move(*line)});
    }
  }

  auto* client = ctx.client();
  if (!client) return kExitUsage;
  std::vector<std::pair<const PlannedLine*, v1::CountLineResult>> results;
  for (std::size_t begin = 0; begin < lines.size(); begin += kCountChunk) {
    v1::SubmitCountsRequest request;
    request.set_session_id(a.session);
    request.set_counter(a.write.actor);
    request.set_blind(a.blind);
    const std::size_t end = std::min(lines.size(), begin + kCountChunk);
    for (std::size_t i = begin; i < end; ++i) *request.add_lines() = lines[i].count;
    auto response = client->submitCounts(request);
    if (!response.ok()) {
      const int code =
          ctx.fail(response.status(), "counts submit", Json{{"request_id", a.write.request_id}});
      std::cerr << "depotctl: " << results.size() << " line(s) submitted before the failure; "
                << "re-run with --request-id " << a.write.request_id << " to retry safely\n";
      return code;
    }
    for (int k = 0; k < response->results_size(); ++k) {
      results.emplace_back(&lines[begin + static_cast<std::size_t>(k)], response->results(k));
    }
  }

  std::size_t refused = local_errors;
  bool unreachable = false;
  for (const auto& [line, r] : results) {
    if (r.code() != 0) {
      ++refused;
      const auto st = client::fromCode(r.code(), r.message());
      if (client::classify(st) == client::ErrorClass::kUnreachable) unreachable = true;
      std::cerr << (line->line ? a.file + ":" + std::to_string(line->line) + ": " : "")
                << "refused: " << client::codeName(st.code()) << ": " << r.message() << '\n';
    }
  }
  if (ctx.json()) {
    Json out = Json::array();
    for (const auto& [line, r] : results) {
      Json j = toJson(r);
      j["sku"] = line->count.sku();
      j["location"] = line->count.location();
      j["counted"] = line->count.counted();
      if (line->line) j["line"] = line->line;
      out.push_back(std::move(j));
    }
    printJson(Json{{"ok", refused == 0},
                   {"request_id", a.write.request_id},
                   {"results", std::move(out)},
                   {"refused", refused}});
  } else {
    Table table(
        {"COUNT_ID", "SKU", "LOCATION", "COUNTED", "STATE", "EXPECTED", "VARIANCE", "SEQ", "NOTE"},
        {false, false, false, true, false, true, true, true, false});
    for (const auto& [line, r] : results) {
      std::string note =
          r.code() == 0 ? "" : client::codeName(static_cast<absl::StatusCode>(r.code()));
      if (r.replayed()) note = "replayed";
      table.addRow({r.request_id(), line->count.sku(), line->count.location(),
                    std::to_string(line->count.counted()),
                    r.code() == 0 ? countStateName(r.state()) : "refused",
                    a.blind ? "-" : std::to_string(r.expected()),
                    a.blind ? "-" : signedText(r.variance()), std::to_string(r.seq()), note});
    }
    table.print(std::cout);
  }
  if (unreachable) return kExitUnreachable;
  return refused == 0 ? kExitOk : kExitRefused;
}

int runPending(Context& ctx, const std::string& limit_text) {
  auto limit = client::parseInteger("--limit", limit_text, 1, 1000);
  if (!limit.ok()) return ctx.usage(limit.status());
  auto* client = ctx.client();
  if (!client) return kExitUsage;
  v1::ListPendingRequest request;
  request.set_limit(static_cast<std::uint32_t>(*limit));
  auto response = client->listPending(request);
  if (!response.ok()) return ctx.fail(response.status(), "counts pending");
  if (ctx.json()) {
    Json out = Json::array();
    for (const auto& c : response->counts()) out.push_back(toJson(c));
    printJson(Json{{"counts", std::move(out)}, {"count", response->counts_size()}});
    return kExitOk;
  }
  Table table(
      {"COUNT_ID", "SKU", "LOCATION", "COUNTED", "EXPECTED", "VARIANCE", "COUNTED_AT", "COUNTER"},
      {false, false, false, true, true, true, false, false});
  for (const auto& c : response->counts()) {
    table.addRow({c.count_id(), c.sku(), c.location(), std::to_string(c.counted()),
                  std::to_string(c.expected()), signedText(c.variance()),
                  timeText(c.counted_at_us()), c.counter()});
  }
  table.print(std::cout);
  std::cout << response->counts_size() << " count(s) awaiting approval\n";
  return kExitOk;
}

struct DecisionArgs {
  std::string count_id;
  std::string note;
  WriteOptions write;
};

int runDecision(Context& ctx, DecisionArgs& a, bool approve) {
  const char* name = approve ? "counts approve" : "counts reject";
  if (a.count_id.empty() || a.count_id.size() > 128) {
    return ctx.usage("COUNT_ID: 1..128 bytes required");
  }
  if (a.note.size() > 512) return ctx.usage("--note: longer than 512 bytes");
  completeWriteOptions(a.write);
  auto* client = ctx.client();
  if (!client) return kExitUsage;
  v1::CountDecisionRequest request;
  request.set_request_id(a.write.request_id);
  request.set_count_id(a.count_id);
  request.set_actor(a.write.actor);
  request.set_note(a.note);
  auto record = approve ? client->approve(request) : client->reject(request);
  if (!record.ok()) {
    return ctx.fail(record.status(), name, Json{{"request_id", a.write.request_id}});
  }
  if (ctx.json()) {
    Json doc = toJson(*record);
    doc["request_id"] = a.write.request_id;
    printJson(doc);
    return kExitOk;
  }
  std::cout << name << ": ok  count " << record->count_id() << " is "
            << countStateName(record->state()) << "  request_id " << a.write.request_id << '\n';
  std::cout << record->sku() << " at " << record->location() << ": counted " << record->counted()
            << ", expected " << record->expected() << ", variance "
            << signedText(record->variance());
  if (record->applied_seq()) std::cout << ", applied as seq " << record->applied_seq();
  std::cout << '\n';
  return kExitOk;
}

}  // namespace

void addStocktakeCommands(CLI::App& app, Context& ctx) {
  auto* counts = app.add_subcommand("counts", "Stocktake counts");
  counts->require_subcommand(1);
  {
    auto args = std::make_shared<SubmitArgs>();
    auto* cmd = counts->add_subcommand("submit", "Submit what was counted on a shelf");
    cmd->add_option("LOCATION", args->location, "WAREHOUSE/LOCATION");
    cmd->add_option("SKU", args->sku, "Item SKU");
    cmd->add_option("COUNTED", args->counted, "Units on the shelf, >= 0");
    cmd->add_option("--at", args->at, "When it was counted (TIME; default now)");
    cmd->add_option("--session", args->session, "Count session id");
    cmd->add_flag("--blind", args->blind, "Blind count: results omit expected and variance");
    cmd->add_option("--file", args->file, "CSV with header location,sku,counted,counted_at");
    addWriteOptions(cmd, args->write);
    cmd->callback([&ctx, args] { ctx.action = [&ctx, args] { return runSubmit(ctx, *args); }; });
  }
  {
    auto limit = std::make_shared<std::string>("100");
    auto* cmd = counts->add_subcommand("pending", "Counts awaiting a supervisor's decision");
    cmd->add_option("--limit", *limit, "At most N (1..1000, default 100)");
    cmd->callback(
        [&ctx, limit] { ctx.action = [&ctx, limit] { return runPending(ctx, *limit); }; });
  }
  for (bool approve : {true, false}) {
    auto args = std::make_shared<DecisionArgs>();
    auto* cmd =
        counts->add_subcommand(approve ? "approve" : "reject",
                               approve ? "Apply a pending variance" : "Discard a pending variance");
    cmd->add_option("COUNT_ID", args->count_id, "Count id")->required();
    cmd->add_option("--note", args->note, "Note");
    addWriteOptions(cmd, args->write);
    cmd->callback([&ctx, args, approve] {
      ctx.action = [&ctx, args, approve] { return runDecision(ctx, *args, approve); };
    });
  }
}

}  // namespace depot::ctl
