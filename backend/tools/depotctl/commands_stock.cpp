// Reads: stock, list, history, balance-at.
#include <algorithm>
#include <iostream>
#include <memory>

#include "client/parse.h"
#include "context.h"

namespace depot::ctl {
namespace {

constexpr std::int64_t kMaxLimit = 100'000'000;

// ---------------------------------------------------------------- stock SKU

struct StockArgs {
  std::string sku;
};

int runStock(Context& ctx, const StockArgs& a) {
  if (auto st = client::validateSku("SKU", a.sku); !st.ok()) return ctx.usage(st);
  auto* client = ctx.client();
  if (!client) return kExitUsage;
  v1::GetStockRequest request;
  request.set_sku(a.sku);
  auto response = client->getStock(request);
  if (!response.ok()) return ctx.fail(response.status(), "stock");
  std::int64_t on_hand = 0, reserved = 0, available = 0;
  for (const auto& b : response->balances()) {
    on_hand += b.on_hand();
    reserved += b.reserved();
    available += b.available();
  }
  if (ctx.json()) {
    Json balances = Json::array();
    for (const auto& b : response->balances()) balances.push_back(toJson(b));
    printJson(Json{
        {"sku", response->item().sku()},
        {"item", toJson(response->item())},
        {"seq", response->seq()},
        {"balances", std::move(balances)},
        {"total", Json{{"on_hand", on_hand}, {"reserved", reserved}, {"available", available}}}});
    return kExitOk;
  }
  const auto& item = response->item();
  std::cout << item.sku() << "  " << item.description() << "  (unit " << item.unit()
            << ", reorder point " << item.reorder_point() << ", shard " << item.shard() << ", seq "
            << response->seq() << ")\n";
  Table table({"LOCATION", "ON_HAND", "RESERVED", "AVAILABLE"}, {false, true, true, true});
  for (const auto& b : response->balances()) {
    table.addRow({b.location(), std::to_string(b.on_hand()), std::to_string(b.reserved()),
                  std::to_string(b.available())});
  }
  table.addRow(
      {"total", std::to_string(on_hand), std::to_string(reserved), std::to_string(available)});
  table.print(std::cout);
  if (available < item.reorder_point()) {
    std::cout << "below reorder point (" << available << " < " << item.reorder_point()
              << "; reorder qty " << item.reorder_qty() << ")\n";
  }
  return kExitOk;
}

// ---------------------------------------------------------------- list

struct ListArgs {
  std::string prefix;
  std::string warehouse;
  std::string location;
  bool below_reorder = false;
  bool include_zero = false;
  std::string limit = "100";
};

int runList(Context& ctx, const ListArgs& a) {
  auto limit = client::parseInteger("--limit", a.limit, 0, kMaxLimit);
  if (!limit.ok()) return ctx.usage(limit.status());
  if (a.prefix.size() > client::kMaxSkuLength) return ctx.usage("--prefix: longer than 64 bytes");
  if (a.warehouse.size() > client::kMaxNameLength) {
    return ctx.usage("--warehouse: longer than 64 bytes");
  }
  auto* client = ctx.client();
  if (!client) return kExitUsage;
  v1::ListStockRequest request;
  request.set_sku_prefix(a.prefix);
  request.set_warehouse(a.warehouse);
  request.set_location(a.location);
  request.set_below_reorder_point(a.below_reorder);
  request.set_include_zero(a.include_zero);
  std::vector<v1::StockRow> rows;
  std::string next;
  bool from_standby = false;
  std::int64_t staleness_ms = 0;  // the largest over the pages
  const std::size_t want = *limit == 0 ? SIZE_MAX : static_cast<std::size_t>(*limit);
  while (rows.size() < want) {
    request.set_page_size(
        static_cast<std::uint32_t>(std::min<std::size_t>(1000, want - rows.size())));
    auto page = client->listStock(request);
    if (!page.ok()) return ctx.fail(page.status(), "list");
    from_standby = from_standby || page->from_standby();
    staleness_ms = std::max<std::int64_t>(staleness_ms, page->staleness_ms());
    for (auto& row : *page->mutable_rows()) {
      if (rows.size() < want) rows.push_back(std::move(row));
    }
    next = page->next_page_token();
    if (next.empty() || page->rows_size() == 0) break;
    request.set_page_token(next);
  }
  const bool more = !next.empty();
  if (ctx.json()) {
    Json out = Json::array();
    for (const auto& r : rows) out.push_back(toJson(r));
    printJson(Json{{"rows", std::move(out)},
                   {"count", rows.size()},
                   {"more", more},
                   {"from_standby", from_standby},
                   {"staleness_ms", staleness_ms}});
    return kExitOk;
  }
  Table table({"SKU", "LOCATION", "ON_HAND", "RESERVED", "AVAILABLE", "REORDER_PT", "DESCRIPTION"},
              {false, false, true, true, true, true, false});
  for (const auto& r : rows) {
    table.addRow({r.sku(), r.location(), std::to_string(r.on_hand()), std::to_string(r.reserved()),
                  std::to_string(r.available()), std::to_string(r.reorder_point()),
                  r.description()});
  }
  table.print(std::cout);
  std::cout << rows.size() << " row(s)" << (more ? " (more: raise --limit, 0 = all)" : "");
  if (from_standby) std::cout << " from a standby, at most " << staleness_ms << " ms behind";
  std::cout << '\n';
  return kExitOk;
}

// ---------------------------------------------------------------- history

struct HistoryArgs {
  std::string sku;
  std::string location;
  std::string from;
  std::string to;
  std::string limit = "100";
};

int runHistory(Context& ctx, const HistoryArgs& a) {
  if (auto st = client::validateSku("SKU", a.sku); !st.ok()) return ctx.usage(st);
  std::string location;
  if (!a.location.empty()) {
    auto loc = client::parseLocation("LOCATION", a.location);
    if (!loc.ok()) return ctx.usage(loc.status());
    location = loc->full();
  }
  client::Micros from = 0, to = 0;
  if (!a.from.empty()) {
    auto t = client::parseTime("--from", a.from);
    if (!t.ok()) return ctx.usage(t.status());
    from = *t;
  }
  if (!a.to.empty()) {
    auto t = client::parseTime("--to", a.to);
    if (!t.ok()) return ctx.usage(t.status());
    to = *t;
  }
  if (to != 0 && to < from) return ctx.usage("--to: must not be before --from");
  auto limit = client::parseInteger("--limit", a.limit, 0, kMaxLimit);
  if (!limit.ok()) return ctx.usage(limit.status());
  auto* client = ctx.client();
  if (!client) return kExitUsage;

  v1::HistoryRequest request;
  request.set_sku(a.sku);
  request.set_location(location);
  request.set_from_us(from);
  request.set_to_us(to);
  std::vector<v1::LedgerEntry> entries;
  std::string next;
  const std::size_t want = *limit == 0 ? SIZE_MAX : static_cast<std::size_t>(*limit);
  while (entries.size() < want) {
    request.set_page_size(
        static_cast<std::uint32_t>(std::min<std::size_t>(1000, want - entries.size())));
    auto page = client->history(request);
    if (!page.ok()) return ctx.fail(page.status(), "history");
    for (auto& e : *page->mutable_entries()) {
      if (entries.size() < want) entries.push_back(std::move(e));
    }
    next = page->next_page_token();
    if (next.empty() || page->entries_size() == 0) break;
    request.set_page_token(next);
  }
  if (ctx.json()) {
    Json out = Json::array();
    for (const auto& e : entries) out.push_back(toJson(e));
    printJson(Json{{"sku", a.sku}, {"entries", std::move(out)}, {"more", !next.empty()}});
    return kExitOk;
  }
  Table table({"TIME", "SHARD/SEQ", "KIND", "LOCATION", "D_ON_HAND", "D_RESERVED", "ON_HAND",
               "RESERVED", "ACTOR", "REASON/REF"},
              {false, false, false, false, true, true, true, true, false, false});
  for (const auto& e : entries) {
    std::string note = e.reason();
    if (!e.ref().empty()) note += (note.empty() ? "" : "; ") + e.ref();
    table.addRow({timeText(e.ts_us()), std::to_string(e.shard()) + "/" + std::to_string(e.seq()),
                  kindName(e.kind()), e.location(), signedText(e.d_on_hand()),
                  signedText(e.d_reserved()), std::to_string(e.on_hand_after()),
                  std::to_string(e.reserved_after()), e.actor(), note});
  }
  table.print(std::cout);
  std::cout << entries.size() << " entr" << (entries.size() == 1 ? "y" : "ies")
            << (next.empty() ? "" : " (more: raise --limit, 0 = all)") << '\n';
  return kExitOk;
}

// ---------------------------------------------------------------- balance-at

struct BalanceAtArgs {
  std::string sku;
  std::string location;
  std::string time;
};

int runBalanceAt(Context& ctx, const BalanceAtArgs& a) {
  if (auto st = client::validateSku("SKU", a.sku); !st.ok()) return ctx.usage(st);
  auto loc = client::parseLocation("LOCATION", a.location);
  if (!loc.ok()) return ctx.usage(loc.status());
  auto at = client::parseTime("TIME", a.time);
  if (!at.ok()) return ctx.usage(at.status());
  auto* client = ctx.client();
  if (!client) return kExitUsage;
  v1::BalanceAtRequest request;
  request.set_sku(a.sku);
  request.set_location(loc->full());
  request.set_at_us(*at);
  auto response = client->balanceAt(request);
  if (!response.ok()) return ctx.fail(response.status(), "balance-at");
  if (ctx.json()) {
    printJson(Json{{"sku", a.sku},
                   {"location", loc->full()},
                   {"at", client::formatTime(*at, 6)},
                   {"at_us", *at},
                   {"on_hand", response->on_hand()},
                   {"reserved", response->reserved()},
                   {"available", response->available()}});
    return kExitOk;
  }
  std::cout << a.sku << " at " << loc->full() << " as of " << client::formatTime(*at, 3) << '\n';
  Table table({"ON_HAND", "RESERVED", "AVAILABLE"}, {true, true, true});
  table.addRow({std::to_string(response->on_hand()), std::to_string(response->reserved()),
                std::to_string(response->available())});
  table.print(std::cout);
  return kExitOk;
}

}  // namespace

void addStockCommands(CLI::App& app, Context& ctx) {
  {
    auto args = std::make_shared<StockArgs>();
    auto* cmd = app.add_subcommand("stock", "Balances of one SKU, one row per location");
    cmd->add_option("SKU", args->sku, "Item SKU")->required();
    cmd->callback([&ctx, args] { ctx.action = [&ctx, args] { return runStock(ctx, *args); }; });
  }
  {
    auto args = std::make_shared<ListArgs>();
    auto* cmd = app.add_subcommand("list", "Stock rows (sku, location), paged");
    cmd->add_option("--prefix", args->prefix, "SKU prefix");
    cmd->add_option("--warehouse", args->warehouse, "Only this warehouse");
    cmd->add_option("--location", args->location, "Only this location (code or WAREHOUSE/CODE)");
    cmd->add_flag("--below-reorder", args->below_reorder,
                  "Only SKUs whose total available is below the reorder point");
    cmd->add_flag("--zero", args->include_zero, "Include rows with nothing on hand or reserved");
    cmd->add_option("--limit", args->limit, "At most N rows (default 100, 0 = all)");
    cmd->callback([&ctx, args] { ctx.action = [&ctx, args] { return runList(ctx, *args); }; });
  }
  {
    auto args = std::make_shared<HistoryArgs>();
    auto* cmd = app.add_subcommand("history", "Ledger entries of a SKU (optionally one location)");
    cmd->add_option("SKU", args->sku, "Item SKU")->required();
    cmd->add_option("LOCATION", args->location, "WAREHOUSE/LOCATION (default: all)");
    cmd->add_option("--from", args->from, "From TIME, inclusive (RFC 3339 or unix seconds)");
    cmd->add_option("--to", args->to, "To TIME, exclusive");
    cmd->add_option("--limit", args->limit, "At most N entries (default 100, 0 = all)");
    cmd->callback([&ctx, args] { ctx.action = [&ctx, args] { return runHistory(ctx, *args); }; });
  }
  {
    auto args = std::make_shared<BalanceAtArgs>();
    auto* cmd = app.add_subcommand("balance-at", "Balance of SKU at LOCATION at a past TIME");
    cmd->add_option("SKU", args->sku, "Item SKU")->required();
    cmd->add_option("LOCATION", args->location, "WAREHOUSE/LOCATION")->required();
    cmd->add_option("TIME", args->time, "RFC 3339 (2026-11-28T10:00:00Z) or unix seconds")
        ->required();
    cmd->callback([&ctx, args] { ctx.action = [&ctx, args] { return runBalanceAt(ctx, *args); }; });
  }
}

}  // namespace depot::ctl
