// receive, ship, transfer, adjust (Inventory.Apply) and the order holds
// reserve, commit, release. Arguments are validated locally (exit 2) before
// anything is sent.
#include <iostream>
#include <memory>

#include "client/parse.h"
#include "client/status.h"
#include "context.h"

namespace depot::ctl {
namespace {

using client::QtyRule;

struct MoveArgs {
  v1::MovementKind kind = v1::MOVEMENT_KIND_RECEIVE;
  std::string sku;
  std::string location;
  std::string to_location;
  std::string quantity;
  std::string reason;
  WriteOptions write;
};

std::string retryHint(const std::string& request_id) {
  return "retry with --request-id " + request_id;
}

int runMove(Context& ctx, MoveArgs& a) {
  const std::string name = kindName(a.kind);
  if (auto st = client::validateSku("SKU", a.sku); !st.ok()) return ctx.usage(st);
  auto from = client::parseLocation("LOCATION", a.location);
  if (!from.ok()) return ctx.usage(from.status());
  std::string to;
  if (a.kind == v1::MOVEMENT_KIND_TRANSFER) {
    auto parsed = client::parseLocation("TO_LOCATION", a.to_location);
    if (!parsed.ok()) return ctx.usage(parsed.status());
    if (parsed->full() == from->full()) {
      return ctx.usage("TO_LOCATION: must differ from FROM_LOCATION");
    }
    to = parsed->full();
  }
  const bool adjust = a.kind == v1::MOVEMENT_KIND_ADJUST;
  auto qty = client::parseQuantity(adjust ? "DELTA" : "QTY", a.quantity,
                                   adjust ? QtyRule::kNonZero : QtyRule::kPositive);
  if (!qty.ok()) return ctx.usage(qty.status());
  if (adjust && a.reason.empty()) return ctx.usage("--reason: required for adjust");
  if (a.reason.size() > 512) return ctx.usage("--reason: longer than 512 bytes");
  completeWriteOptions(a.write);

  auto* client = ctx.client();
  if (!client) return kExitUsage;
  v1::ApplyRequest request;
  auto* m = request.add_movements();
  m->set_request_id(a.write.request_id);
  m->set_kind(a.kind);
  m->set_sku(a.sku);
  m->set_location(from->full());
  m->set_to_location(to);
  m->set_quantity(*qty);
  m->set_reason(a.reason);
  m->set_actor(a.write.actor);

  auto response = client->apply(request);
  if (!response.ok()) {
    const int code = ctx.fail(response.status(), name, Json{{"request_id", a.write.request_id}});
    std::cerr << "depotctl: " << retryHint(a.write.request_id) << '\n';
    return code;
  }
  if (response->results_size() != 1) {
    return ctx.fail(absl::InternalError("server returned no result"), name,
                    Json{{"request_id", a.write.request_id}});
  }
  const auto& r = response->results(0);
  if (ctx.json()) printJson(toJson(r));
  if (r.code() != 0) {
    const auto status = client::fromCode(r.code(), r.message());
    std::cerr << "depotctl: " << name << ": "
              << (client::classify(status) == client::ErrorClass::kUnreachable ? "unreachable"
                                                                               : "refused")
              << ": " << client::codeName(status.code()) << ": " << r.message() << " (request_id "
              << a.write.request_id << ")\n";
    return client::classify(status) == client::ErrorClass::kUnreachable ? kExitUnreachable
                                                                        : kExitRefused;
  }
  if (!ctx.json()) {
    std::cout << name << ": ok  shard " << r.shard() << " seq " << r.seq();
    if (r.entries() > 1) std::cout << ".." << r.seq() + r.entries() - 1;
    std::cout << "  request_id " << r.request_id();
    if (r.replayed()) std::cout << "  (replayed: already applied by an earlier attempt)";
    std::cout << '\n';
    printBalances(std::cout, r.after(), false);
  }
  return kExitOk;
}

void addMove(CLI::App& app, Context& ctx, const char* name, v1::MovementKind kind,
             const char* help) {
  auto args = std::make_shared<MoveArgs>();
  args->kind = kind;
  auto* cmd = app.add_subcommand(name, help);
  cmd->add_option("SKU", args->sku, "Item SKU")->required();
  if (kind == v1::MOVEMENT_KIND_TRANSFER) {
    cmd->add_option("FROM_LOCATION", args->location, "Source WAREHOUSE/LOCATION")->required();
    cmd->add_option("TO_LOCATION", args->to_location, "Destination WAREHOUSE/LOCATION")->required();
  } else {
    cmd->add_option("LOCATION", args->location, "WAREHOUSE/LOCATION, e.g. east/A-01-03")
        ->required();
  }
  if (kind == v1::MOVEMENT_KIND_ADJUST) {
    cmd->add_option("DELTA", args->quantity, "Signed change of on-hand units (e.g. -3 or +5)")
        ->required();
    cmd->add_option("--reason", args->reason, "Why (required)");
  } else {
    cmd->add_option("QTY", args->quantity, "Units, > 0")->required();
    cmd->add_option("--reason", args->reason, "Optional note");
  }
  addWriteOptions(cmd, args->write);
  cmd->callback([&ctx, args] { ctx.action = [&ctx, args] { return runMove(ctx, *args); }; });
}

// ---------------------------------------------------------------- holds

struct OrderArgs {
  std::string order_id;
  std::string sku;
  std::string location;
  std::string quantity;
  std::vector<std::string> lines;
  double ttl_s = 0;
  std::string reason;
  WriteOptions write;
};

absl::Status validateOrderId(const std::string& order_id) {
  if (order_id.empty()) return absl::InvalidArgumentError("ORDER_ID: required");
  if (order_id.size() > 128) return absl::InvalidArgumentError("ORDER_ID: longer than 128 bytes");
  return absl::OkStatus();
}

// Positional SKU LOCATION QTY (all or none) plus --line specs.
absl::StatusOr<std::vector<client::LineSpec>> orderLines(const OrderArgs& a, bool required) {
  std::vector<client::LineSpec> lines;
  const int given = !a.sku.empty() + !a.location.empty() + !a.quantity.empty();
  if (given != 0 && given != 3) {
    return absl::InvalidArgumentError("give SKU LOCATION QTY together (or use --line)");
  }
  if (given == 3) {
    if (auto st = client::validateSku("SKU", a.sku); !st.ok()) return st;
    auto loc = client::parseLocation("LOCATION", a.location);
    if (!loc.ok()) return loc.status();
    auto qty = client::parseQuantity("QTY", a.quantity, QtyRule::kPositive);
    if (!qty.ok()) return qty.status();
    lines.push_back({a.sku, loc->full(), *qty});
  }
  for (std::size_t i = 0; i < a.lines.size(); ++i) {
    auto line = client::parseLineSpec("--line " + a.lines[i], a.lines[i]);
    if (!line.ok()) return line.status();
    lines.push_back(std::move(*line));
  }
  if (required && lines.empty()) {
    return absl::InvalidArgumentError("no order line: give SKU LOCATION QTY or --line");
  }
  if (lines.size() > 10000) return absl::InvalidArgumentError("--line: at most 10000 lines");
  return lines;
}

int printOrder(Context& ctx, const char* name, const std::string& request_id,
               const absl::StatusOr<v1::OrderResponse>& response) {
  if (!response.ok()) {
    const int code = ctx.fail(response.status(), name, Json{{"request_id", request_id}});
    if (code == kExitUnreachable) std::cerr << "depotctl: " << retryHint(request_id) << '\n';
    return code;
  }
  if (ctx.json()) {
    Json after = Json::array();
    for (const auto& b : response->after()) after.push_back(toJson(b));
    Json doc{{"ok", true},
             {"request_id", request_id},
             {"order_id", response->order_id()},
             {"replayed", response->replayed()}};
    if (response->expires_at_us() != 0) {
      doc["expires_at"] = timeText(response->expires_at_us());
      doc["expires_at_us"] = response->expires_at_us();
    }
    doc["after"] = std::move(after);
    printJson(doc);
    return kExitOk;
  }
  std::cout << name << ": ok  order " << response->order_id() << "  request_id " << request_id;
  if (response->expires_at_us() != 0) {
    std::cout << "  expires " << timeText(response->expires_at_us());
  }
  if (response->replayed()) std::cout << "  (replayed: already applied by an earlier attempt)";
  std::cout << '\n';
  if (response->after_size() > 0) printBalances(std::cout, response->after(), true);
  return kExitOk;
}

int runReserve(Context& ctx, OrderArgs& a) {
  if (auto st = validateOrderId(a.order_id); !st.ok()) return ctx.usage(st);
  auto lines = orderLines(a, true);
  if (!lines.ok()) return ctx.usage(lines.status());
  if (a.ttl_s < 0 || a.ttl_s > 7 * 86400) return ctx.usage("--ttl: must be 0..604800 seconds");
  completeWriteOptions(a.write);
  auto* client = ctx.client();
  if (!client) return kExitUsage;
  v1::ReserveRequest request;
  request.set_request_id(a.write.request_id);
  request.set_order_id(a.order_id);
  request.set_actor(a.write.actor);
  request.set_ttl_seconds(static_cast<std::int64_t>(a.ttl_s));
  for (const auto& l : *lines) {
    auto* line = request.add_lines();
    line->set_sku(l.sku);
    line->set_location(l.location);
    line->set_quantity(l.quantity);
  }
  return printOrder(ctx, "reserve", a.write.request_id, client->reserve(request));
}

int runCommit(Context& ctx, OrderArgs& a) {
  if (auto st = validateOrderId(a.order_id); !st.ok()) return ctx.usage(st);
  auto lines = orderLines(a, false);
  if (!lines.ok()) return ctx.usage(lines.status());
  completeWriteOptions(a.write);
  auto* client = ctx.client();
  if (!client) return kExitUsage;
  v1::CommitRequest request;
  request.set_request_id(a.write.request_id);
  request.set_order_id(a.order_id);
  request.set_actor(a.write.actor);
  for (const auto& l : *lines) {
    auto* line = request.add_lines();
    line->set_sku(l.sku);
    line->set_location(l.location);
    line->set_quantity(l.quantity);
  }
  return printOrder(ctx, "commit", a.write.request_id, client->commit(request));
}

int runRelease(Context& ctx, OrderArgs& a) {
  if (auto st = validateOrderId(a.order_id); !st.ok()) return ctx.usage(st);
  if (a.reason.size() > 512) return ctx.usage("--reason: longer than 512 bytes");
  completeWriteOptions(a.write);
  auto* client = ctx.client();
  if (!client) return kExitUsage;
  v1::ReleaseRequest request;
  request.set_request_id(a.write.request_id);
  request.set_order_id(a.order_id);
  request.set_actor(a.write.actor);
  request.set_reason(a.reason);
  return printOrder(ctx, "release", a.write.request_id, client->release(request));
}

}  // namespace

void addMovementCommands(CLI::App& app, Context& ctx) {
  addMove(app, ctx, "receive", v1::MOVEMENT_KIND_RECEIVE, "Receive units into a location");
  addMove(app, ctx, "ship", v1::MOVEMENT_KIND_SHIP, "Ship units from a location's available stock");
  addMove(app, ctx, "transfer", v1::MOVEMENT_KIND_TRANSFER,
          "Move units between two locations (atomic)");
  addMove(app, ctx, "adjust", v1::MOVEMENT_KIND_ADJUST,
          "Correct on-hand units by a signed delta (--reason required)");

  {
    auto args = std::make_shared<OrderArgs>();
    auto* cmd = app.add_subcommand("reserve", "Hold stock for an order (expires after --ttl)");
    cmd->add_option("ORDER_ID", args->order_id, "Order id")->required();
    cmd->add_option("SKU", args->sku, "Item SKU");
    cmd->add_option("LOCATION", args->location, "WAREHOUSE/LOCATION");
    cmd->add_option("QTY", args->quantity, "Units, > 0");
    cmd->add_option("--line", args->lines, "More lines, SKU:WAREHOUSE/LOCATION:QTY (repeatable)");
    cmd->add_option("--ttl", args->ttl_s, "Seconds until the hold expires (0: server default)");
    addWriteOptions(cmd, args->write);
    cmd->callback([&ctx, args] { ctx.action = [&ctx, args] { return runReserve(ctx, *args); }; });
  }
  {
    auto args = std::make_shared<OrderArgs>();
    auto* cmd = app.add_subcommand(
        "commit", "Ship an order's held stock (all, or the --line quantities; the rest released)");
    cmd->add_option("ORDER_ID", args->order_id, "Order id")->required();
    cmd->add_option("--line", args->lines, "Ship only these, SKU:WAREHOUSE/LOCATION:QTY");
    addWriteOptions(cmd, args->write);
    cmd->callback([&ctx, args] { ctx.action = [&ctx, args] { return runCommit(ctx, *args); }; });
  }
  {
    auto args = std::make_shared<OrderArgs>();
    auto* cmd = app.add_subcommand("release", "Release an order's hold");
    cmd->add_option("ORDER_ID", args->order_id, "Order id")->required();
    cmd->add_option("--reason", args->reason, "Why");
    addWriteOptions(cmd, args->write);
    cmd->callback([&ctx, args] { ctx.action = [&ctx, args] { return runRelease(ctx, *args); }; });
  }
}

}  // namespace depot::ctl
