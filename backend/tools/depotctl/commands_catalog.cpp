// Catalog: import items|locations FILE.csv, items list|get, locations list.
//
// Import contract: the header must be exactly the expected one (else exit 2,
// nothing sent); each data row is checked locally (column count, required
// fields, numbers) and refused rows are reported with line, field and reason
// and not sent; good rows go in chunks through UpsertItems/UpsertLocations.
// The server applies a chunk all-or-nothing and names the bad row
// ("items[4].reorder_point: ..."): that row is reported and the rest of the
// chunk re-sent. Exit 0 when every row was imported, 1 when any row was
// refused, 3 when the server became unreachable.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>

#include "client/csv.h"
#include "client/parse.h"
#include "client/status.h"
#include "context.h"

namespace depot::ctl {
namespace {

using client::QtyRule;

struct RowError {
  std::size_t line = 0;
  std::string field;
  std::string reason;
};

// Splits "field: reason" as produced by the client parsers.
RowError rowError(std::size_t line, const absl::Status& status) {
  const std::string message(status.message());
  const std::size_t colon = message.find(": ");
  if (colon == std::string::npos) return {line, "", message};
  return {line, message.substr(0, colon), message.substr(colon + 2)};
}

// Progress on stderr: rewritten in place on a terminal, else a line per
// ~10% so logs stay short.
class Progress {
 public:
  Progress(std::string what, std::size_t total)
      : m_what(std::move(what)),
        m_total(total),
        m_tty(isatty(STDERR_FILENO) == 1),
        m_start(std::chrono::steady_clock::now()) {}

  void update(std::size_t done, bool final = false) {
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
    const double rate = secs > 0 ? static_cast<double>(done) / secs : 0.0;
    char text[160];
    std::snprintf(text, sizeof text, "%s: %zu/%zu rows (%.0f rows/s)", m_what.c_str(), done,
                  m_total, rate);
    if (m_tty) {
      std::cerr << "\r\033[K" << text << (final ? "\n" : "") << std::flush;
    } else if ((final && done != m_lastPrinted) ||
               done * 10 / std::max<std::size_t>(m_total, 1) > m_lastDecile) {
      m_lastDecile = done * 10 / std::max<std::size_t>(m_total, 1);
      m_lastPrinted = done;
      std::cerr << text << '\n';
    }
  }
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
  }

 private:
  std::string m_what;
  std::size_t m_total;
  bool m_tty;
  std::size_t m_lastDecile = 0;
  std::size_t m_lastPrinted = SIZE_MAX;
  std::chrono::steady_clock::time_point m_start;
};

// "items[12].reorder_point: must be >= 0" -> index 12, field, reason.
bool parseServerRowError(const std::string& message, const std::string& list, std::size_t& index,
                         std::string& field, std::string& reason) {
  const std::string prefix = list + "[";
  const std::size_t start = message.find(prefix);
  if (start == std::string::npos) return false;
  std::size_t pos = start + prefix.size();
  std::size_t value = 0;
  const std::size_t digits_start = pos;
  while (pos < message.size() && message[pos] >= '0' && message[pos] <= '9') {
    value = value * 10 + static_cast<std::size_t>(message[pos] - '0');
    ++pos;
  }
  if (pos == digits_start || pos >= message.size() || message[pos] != ']') return false;
  ++pos;
  field.clear();
  if (pos < message.size() && message[pos] == '.') {
    const std::size_t end = message.find(':', pos);
    field = message.substr(pos + 1, end == std::string::npos ? std::string::npos : end - pos - 1);
    pos = end == std::string::npos ? message.size() : end;
  }
  if (pos < message.size() && message[pos] == ':') ++pos;
  while (pos < message.size() && message[pos] == ' ') ++pos;
  reason = message.substr(pos);
  index = value;
  return true;
}

struct ImportArgs {
  std::string file;
  std::string chunk = "1000";
};

// What an import of one kind needs: the header, row validation, and the RPC.
template <typename Row>
struct ImportKind {
  const char* name;  // "items"
  std::vector<std::string_view> header;
  // Validates one record into a Row, or returns the error.
  std::function<absl::StatusOr<Row>(const client::CsvRecord&, RowError&)> parse;
  std::function<std::string(const Row&)> key;  // duplicate detection
  // Sends a chunk; returns the RPC status.
  std::function<absl::Status(client::Client&, const std::vector<const Row*>&)> send;
};

template <typename Row>
int runImport(Context& ctx, const ImportArgs& a, const ImportKind<Row>& kind) {
  auto chunk = client::parseInteger("--chunk", a.chunk, 1, 10000);
  if (!chunk.ok()) return ctx.usage(chunk.status());
  auto text = client::readFile(a.file);
  if (!text.ok()) return ctx.usage(std::string(text.status().message()));
  auto records = client::parseCsv(*text);
  if (!records.ok()) return ctx.usage(a.file + ": " + std::string(records.status().message()));
  if (records->empty()) return ctx.usage(a.file + ": empty file (expected a header line)");
  if (auto st = client::checkCsvHeader(records->front(), kind.header); !st.ok()) {
    return ctx.usage(a.file + ": " + std::string(st.message()));
  }
  auto* client = ctx.client();
  if (!client) return kExitUsage;

  std::vector<RowError> errors;
  std::vector<Row> rows;
  std::vector<std::size_t> row_lines;
  std::map<std::string, std::size_t> seen;  // key -> line
  for (std::size_t i = 1; i < records->size(); ++i) {
    const auto& record = (*records)[i];
    RowError error{record.line, "", ""};
    if (record.fields.size() != kind.header.size()) {
      errors.push_back({record.line, "",
                        "expected " + std::to_string(kind.header.size()) + " fields, got " +
                            std::to_string(record.fields.size())});
      continue;
    }
    auto row = kind.parse(record, error);
    if (!row.ok()) {
      errors.push_back(error);
      continue;
    }
    const std::string key = kind.key(*row);
    if (auto it = seen.find(key); it != seen.end()) {
      errors.push_back({record.line, "", "duplicate of line " + std::to_string(it->second)});
      continue;
    }
    seen.emplace(key, record.line);
    rows.push_back(std::move(*row));
    row_lines.push_back(record.line);
  }
  const std::size_t total = records->size() - 1;
  for (const auto& e : errors) {
    std::cerr << a.file << ":" << e.line << ": " << (e.field.empty() ? "" : e.field + ": ")
              << e.reason << '\n';
  }

  Progress progress(std::string("import ") + kind.name, total);
  std::size_t imported = 0;
  std::size_t done = errors.size();
  absl::Status fatal;
  const std::size_t step = static_cast<std::size_t>(*chunk);
  for (std::size_t begin = 0; begin < rows.size() && fatal.ok(); begin += step) {
    const std::size_t end = std::min(rows.size(), begin + step);
    std::vector<std::size_t> pending;
    for (std::size_t i = begin; i < end; ++i) pending.push_back(i);
    // Each refusal naming a row removes that row, so this ends within
    // pending.size() + 1 sends.
    while (!pending.empty()) {
      std::vector<const Row*> batch;
      for (auto i : pending) batch.push_back(&rows[i]);
      const absl::Status st = kind.send(*client, batch);
      if (st.ok()) {
        imported += pending.size();
        break;
      }
      if (client::classify(st) == client::ErrorClass::kUnreachable) {
        fatal = st;
        break;
      }
      std::size_t index = 0;
      std::string field, reason;
      const std::string message(st.message());
      if (parseServerRowError(message, kind.name, index, field, reason) && index < pending.size()) {
        const RowError e{row_lines[pending[index]], field,
                         client::codeName(st.code()) + ": " + reason};
        std::cerr << a.file << ":" << e.line << ": " << (e.field.empty() ? "" : e.field + ": ")
                  << e.reason << '\n';
        errors.push_back(e);
        pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(index));
        continue;
      }
      for (auto i : pending) {
        errors.push_back({row_lines[i], "", client::codeName(st.code()) + ": " + message});
      }
      std::cerr << a.file << ": lines " << row_lines[pending.front()] << ".."
                << row_lines[pending.back()] << ": refused: " << client::codeName(st.code()) << ": "
                << message << '\n';
      break;
    }
    done += end - begin;
    progress.update(std::min(done, total));
  }
  progress.update(std::min(done, total), true);

  std::sort(errors.begin(), errors.end(),
            [](const RowError& x, const RowError& y) { return x.line < y.line; });
  const std::size_t refused = errors.size();
  if (ctx.json()) {
    Json list = Json::array();
    for (const auto& e : errors) {
      list.push_back(Json{{"line", e.line}, {"field", e.field}, {"reason", e.reason}});
    }
    Json doc{{"ok", fatal.ok() && refused == 0},
             {"kind", kind.name},
             {"file", a.file},
             {"rows", total},
             {"imported", imported},
             {"refused", refused},
             {"seconds", progress.seconds()},
             {"errors", std::move(list)}};
    if (!fatal.ok()) {
      doc["error"] = Json{{"class", "unreachable"},
                          {"code", client::codeName(fatal.code())},
                          {"message", std::string(fatal.message())}};
    }
    printJson(doc);
  } else {
    std::printf("imported %zu of %zu %s, %zu refused, in %.2f s\n", imported, total, kind.name,
                refused, progress.seconds());
  }
  if (!fatal.ok()) {
    std::cerr << "depotctl: import " << kind.name
              << ": unreachable: " << client::codeName(fatal.code()) << ": " << fatal.message()
              << " (rows imported so far are kept; re-running the import is safe)\n";
    return kExitUnreachable;
  }
  return refused == 0 ? kExitOk : kExitRefused;
}

const ImportKind<v1::Item>& itemsKind() {
  static const ImportKind<v1::Item> kind{
      "items",
      {"sku", "description", "unit", "reorder_point", "reorder_qty"},
      [](const client::CsvRecord& r, RowError& error) -> absl::StatusOr<v1::Item> {
        v1::Item item;
        const auto& f = r.fields;
        auto bad = [&](const absl::Status& st) {
          error = rowError(r.line, st);
          return st;
        };
        if (auto st = client::validateSku("sku", f[0]); !st.ok()) return bad(st);
        if (f[1].size() > 512)
          return bad(absl::InvalidArgumentError("description: longer than 512 bytes"));
        if (f[2].size() > client::kMaxNameLength) {
          return bad(absl::InvalidArgumentError("unit: longer than 64 bytes"));
        }
        auto point = client::parseQuantity("reorder_point", f[3], QtyRule::kNonNegative);
        if (!point.ok()) return bad(point.status());
        auto qty = client::parseQuantity("reorder_qty", f[4], QtyRule::kNonNegative);
        if (!qty.ok()) return bad(qty.status());
        item.set_sku(f[0]);
        item.set_description(f[1]);
        item.set_unit(f[2]);
        item.set_reorder_point(*point);
        item.set_reorder_qty(*qty);
        return item;
      },
      [](const v1::Item& item) { return item.sku(); },
      [](client::Client& c, const std::vector<const v1::Item*>& batch) {
        v1::UpsertItemsRequest request;
        for (const auto* item : batch) *request.add_items() = *item;
        return c.upsertItems(request).status();
      }};
  return kind;
}

const ImportKind<v1::Location>& locationsKind() {
  static const ImportKind<v1::Location> kind{
      "locations",
      {"warehouse", "location"},
      [](const client::CsvRecord& r, RowError& error) -> absl::StatusOr<v1::Location> {
        const auto& f = r.fields;
        if (f[0].find('/') != std::string::npos) {
          error = {r.line, "warehouse", "must not contain '/'"};
          return absl::InvalidArgumentError("warehouse");
        }
        auto name = client::parseLocation("location", f[0] + "/" + f[1]);
        if (!name.ok()) {
          error = rowError(r.line, name.status());
          if (f[0].empty()) error.field = "warehouse";
          return name.status();
        }
        v1::Location location;
        location.set_warehouse(name->warehouse);
        location.set_code(name->code);
        return location;
      },
      [](const v1::Location& l) { return l.warehouse() + "/" + l.code(); },
      [](client::Client& c, const std::vector<const v1::Location*>& batch) {
        v1::UpsertLocationsRequest request;
        for (const auto* location : batch) *request.add_locations() = *location;
        return c.upsertLocations(request).status();
      }};
  return kind;
}

// ---------------------------------------------------------------- items / locations

struct ItemsListArgs {
  std::string prefix;
  std::string limit = "100";
};

int runItemsList(Context& ctx, const ItemsListArgs& a) {
  auto limit = client::parseInteger("--limit", a.limit, 0, 100'000'000);
  if (!limit.ok()) return ctx.usage(limit.status());
  auto* client = ctx.client();
  if (!client) return kExitUsage;
  v1::ListItemsRequest request;
  request.set_prefix(a.prefix);
  std::vector<v1::Item> items;
  std::string next;
  const std::size_t want = *limit == 0 ? SIZE_MAX : static_cast<std::size_t>(*limit);
  while (items.size() < want) {
    request.set_page_size(
        static_cast<std::uint32_t>(std::min<std::size_t>(1000, want - items.size())));
    auto page = client->listItems(request);
    if (!page.ok()) return ctx.fail(page.status(), "items list");
    for (auto& item : *page->mutable_items()) {
      if (items.size() < want) items.push_back(std::move(item));
    }
    next = page->next_page_token();
    if (next.empty() || page->items_size() == 0) break;
    request.set_page_token(next);
  }
  if (ctx.json()) {
    Json out = Json::array();
    for (const auto& i : items) out.push_back(toJson(i));
    printJson(Json{{"items", std::move(out)}, {"count", items.size()}, {"more", !next.empty()}});
    return kExitOk;
  }
  Table table({"SKU", "UNIT", "REORDER_PT", "REORDER_QTY", "SHARD", "DESCRIPTION"},
              {false, false, true, true, true, false});
  for (const auto& i : items) {
    table.addRow({i.sku(), i.unit(), std::to_string(i.reorder_point()),
                  std::to_string(i.reorder_qty()), std::to_string(i.shard()), i.description()});
  }
  table.print(std::cout);
  std::cout << items.size() << " item(s)" << (next.empty() ? "" : " (more: raise --limit, 0 = all)")
            << '\n';
  return kExitOk;
}

int runItemGet(Context& ctx, const std::string& sku) {
  if (auto st = client::validateSku("SKU", sku); !st.ok()) return ctx.usage(st);
  auto* client = ctx.client();
  if (!client) return kExitUsage;
  v1::GetItemRequest request;
  request.set_sku(sku);
  auto item = client->getItem(request);
  if (!item.ok()) return ctx.fail(item.status(), "items get");
  if (ctx.json()) {
    printJson(toJson(*item));
    return kExitOk;
  }
  Table table({"FIELD", "VALUE"});
  table.addRow({"sku", item->sku()});
  table.addRow({"description", item->description()});
  table.addRow({"unit", item->unit()});
  table.addRow({"reorder_point", std::to_string(item->reorder_point())});
  table.addRow({"reorder_qty", std::to_string(item->reorder_qty())});
  table.addRow({"shard", std::to_string(item->shard())});
  table.print(std::cout);
  return kExitOk;
}

int runLocationsList(Context& ctx, const std::string& warehouse) {
  if (warehouse.size() > client::kMaxNameLength)
    return ctx.usage("--warehouse: longer than 64 bytes");
  auto* client = ctx.client();
  if (!client) return kExitUsage;
  v1::ListLocationsRequest request;
  request.set_warehouse(warehouse);
  auto response = client->listLocations(request);
  if (!response.ok()) return ctx.fail(response.status(), "locations list");
  if (ctx.json()) {
    Json out = Json::array();
    for (const auto& l : response->locations()) out.push_back(toJson(l));
    printJson(Json{{"locations", std::move(out)}, {"count", response->locations_size()}});
    return kExitOk;
  }
  Table table({"LOCATION", "WAREHOUSE", "CODE"});
  for (const auto& l : response->locations()) {
    table.addRow({l.warehouse() + "/" + l.code(), l.warehouse(), l.code()});
  }
  table.print(std::cout);
  std::cout << response->locations_size() << " location(s)\n";
  return kExitOk;
}

}  // namespace

void addCatalogCommands(CLI::App& app, Context& ctx) {
  auto* import = app.add_subcommand("import", "Import the catalog from CSV files");
  import->require_subcommand(1);
  {
    auto args = std::make_shared<ImportArgs>();
    auto* cmd = import->add_subcommand(
        "items", "Items CSV, header: sku,description,unit,reorder_point,reorder_qty");
    cmd->add_option("FILE", args->file, "CSV file")->required();
    cmd->add_option("--chunk", args->chunk, "Rows per UpsertItems call (1..10000, default 1000)");
    cmd->callback(
        [&ctx, args] { ctx.action = [&ctx, args] { return runImport(ctx, *args, itemsKind()); }; });
  }
  {
    auto args = std::make_shared<ImportArgs>();
    auto* cmd = import->add_subcommand("locations", "Locations CSV, header: warehouse,location");
    cmd->add_option("FILE", args->file, "CSV file")->required();
    cmd->add_option("--chunk", args->chunk, "Rows per UpsertLocations call (default 1000)");
    cmd->callback([&ctx, args] {
      ctx.action = [&ctx, args] { return runImport(ctx, *args, locationsKind()); };
    });
  }

  auto* items = app.add_subcommand("items", "Catalog items");
  items->require_subcommand(1);
  {
    auto args = std::make_shared<ItemsListArgs>();
    auto* cmd = items->add_subcommand("list", "List items by SKU");
    cmd->add_option("--prefix", args->prefix, "SKU prefix");
    cmd->add_option("--limit", args->limit, "At most N items (default 100, 0 = all)");
    cmd->callback([&ctx, args] { ctx.action = [&ctx, args] { return runItemsList(ctx, *args); }; });
  }
  {
    auto sku = std::make_shared<std::string>();
    auto* cmd = items->add_subcommand("get", "Show one item");
    cmd->add_option("SKU", *sku, "Item SKU")->required();
    cmd->callback([&ctx, sku] { ctx.action = [&ctx, sku] { return runItemGet(ctx, *sku); }; });
  }

  auto* locations = app.add_subcommand("locations", "Catalog locations");
  locations->require_subcommand(1);
  {
    auto warehouse = std::make_shared<std::string>();
    auto* cmd = locations->add_subcommand("list", "List locations");
    cmd->add_option("--warehouse", *warehouse, "Only this warehouse");
    cmd->callback([&ctx, warehouse] {
      ctx.action = [&ctx, warehouse] { return runLocationsList(ctx, *warehouse); };
    });
  }
}

}  // namespace depot::ctl
