// Operations: alerts list|ack|silence, cluster status, health.
#include <iostream>
#include <map>
#include <memory>

#include "client/parse.h"
#include "context.h"

namespace depot::ctl {
namespace {

int runAlertsList(Context& ctx, bool all) {
  auto* client = ctx.client();
  if (!client) return kExitUsage;
  v1::ListAlertsRequest request;
  request.set_include_resolved(all);
  auto response = client->listAlerts(request);
  if (!response.ok()) return ctx.fail(response.status(), "alerts list");
  if (ctx.json()) {
    Json out = Json::array();
    for (const auto& a : response->alerts()) out.push_back(toJson(a));
    printJson(Json{{"alerts", std::move(out)}, {"count", response->alerts_size()}});
    return kExitOk;
  }
  Table table({"ID", "STATE", "SEVERITY", "KIND", "SUBJECT", "FIRED", "ACKED_BY", "SUMMARY"},
              {true, false, false, false, false, false, false, false});
  for (const auto& a : response->alerts()) {
    std::string state = alertStateName(a.state());
    if (a.silenced()) state += " (silenced)";
    table.addRow({std::to_string(a.id()), state, severityName(a.severity()),
                  alertKindName(a.kind()), a.subject(), timeText(a.fired_at_us()), a.acked_by(),
                  a.summary()});
  }
  table.print(std::cout);
  std::cout << response->alerts_size() << " alert(s)\n";
  return kExitOk;
}

struct AckArgs {
  std::string id;
  std::string note;
  std::string actor;
};

int runAck(Context& ctx, const AckArgs& a) {
  auto id = client::parseInteger("ALERT_ID", a.id, 1, INT64_MAX);
  if (!id.ok()) return ctx.usage(id.status());
  if (a.note.size() > 512) return ctx.usage("--note: longer than 512 bytes");
  const std::string actor = a.actor.empty() ? defaultActor() : a.actor;
  auto* client = ctx.client();
  if (!client) return kExitUsage;
  v1::AckRequest request;
  request.set_alert_id(static_cast<std::uint64_t>(*id));
  request.set_actor(actor);
  request.set_note(a.note);
  auto alert = client->ack(request);
  if (!alert.ok()) return ctx.fail(alert.status(), "alerts ack");
  if (ctx.json()) {
    printJson(toJson(*alert));
    return kExitOk;
  }
  std::cout << "alert " << alert->id() << " (" << alertKindName(alert->kind()) << " "
            << alert->subject() << ") " << alertStateName(alert->state()) << " by "
            << alert->acked_by() << '\n';
  return kExitOk;
}

struct SilenceArgs {
  std::string kind;
  std::string subject;
  std::string duration;
  std::string comment;
  std::string actor;
};

int runSilence(Context& ctx, const SilenceArgs& a) {
  static const std::map<std::string, v1::AlertKind> kKinds{
      {"", v1::ALERT_KIND_UNSPECIFIED},
      {"any", v1::ALERT_KIND_UNSPECIFIED},
      {"low_stock", v1::ALERT_KIND_LOW_STOCK},
      {"stockout", v1::ALERT_KIND_STOCKOUT},
      {"count_variance", v1::ALERT_KIND_COUNT_VARIANCE}};
  const auto kind = kKinds.find(a.kind);
  if (kind == kKinds.end()) {
    return ctx.usage("--kind: expected low_stock, stockout or count_variance, got '" + a.kind +
                     "'");
  }
  auto duration = client::parseDuration("--duration", a.duration);
  if (!duration.ok()) return ctx.usage(duration.status());
  const std::int64_t seconds = (*duration + 999'999) / 1'000'000;
  if (seconds > 30 * 86400) return ctx.usage("--duration: at most 30 days");
  if (a.subject.size() > 64) return ctx.usage("--subject: longer than 64 bytes");
  if (a.comment.size() > 512) return ctx.usage("--comment: longer than 512 bytes");
  const std::string owner = a.actor.empty() ? defaultActor() : a.actor;
  auto* client = ctx.client();
  if (!client) return kExitUsage;
  v1::SilenceRequest request;
  request.set_kind(kind->second);
  request.set_subject_prefix(a.subject);
  request.set_owner(owner);
  request.set_comment(a.comment);
  request.set_duration_seconds(seconds);
  auto silence = client->silence(request);
  if (!silence.ok()) return ctx.fail(silence.status(), "alerts silence");
  if (ctx.json()) {
    printJson(toJson(*silence));
    return kExitOk;
  }
  std::cout << "silence " << silence->id() << ": " << alertKindName(silence->kind()) << " alerts"
            << (silence->subject_prefix().empty() ? ""
                                                  : " for '" + silence->subject_prefix() + "*'")
            << " until " << timeText(silence->expires_at_us()) << " (owner " << silence->owner()
            << ")\n";
  return kExitOk;
}

int runClusterStatus(Context& ctx) {
  auto* client = ctx.client();
  if (!client) return kExitUsage;
  auto status = client->clusterStatus(v1::ClusterStatusRequest());
  if (!status.ok()) return ctx.fail(status.status(), "cluster status");
  std::uint64_t max_lag = 0, total_seq = 0;
  std::map<std::string, int> owners;
  for (const auto& s : status->shards()) {
    max_lag = std::max(max_lag, s.lag());
    total_seq += s.last_seq();
    owners[s.owner_node()]++;
  }
  if (ctx.json()) {
    Json nodes = Json::array();
    for (const auto& n : status->nodes()) {
      nodes.push_back(Json{{"node_id", n.node_id()},
                           {"endpoint", n.endpoint()},
                           {"healthy", n.healthy()},
                           {"shards_owned", n.shards_owned()},
                           {"role", n.role()}});
    }
    Json shards = Json::array();
    for (const auto& s : status->shards()) {
      shards.push_back(Json{{"shard", s.shard()},
                            {"owner_node", s.owner_node()},
                            {"epoch", s.epoch()},
                            {"last_seq", s.last_seq()},
                            {"lag", s.lag()}});
    }
    printJson(Json{{"nodes", std::move(nodes)},
                   {"shards", std::move(shards)},
                   {"ledger_entries", total_seq},
                   {"max_lag", max_lag}});
    return kExitOk;
  }
  Table nodes({"NODE", "ENDPOINT", "ROLE", "HEALTHY", "SHARDS"},
              {false, false, false, false, true});
  for (const auto& n : status->nodes()) {
    nodes.addRow({n.node_id(), n.endpoint(), n.role(), n.healthy() ? "yes" : "NO",
                  std::to_string(n.shards_owned())});
  }
  nodes.print(std::cout);
  std::cout << status->shards_size() << " shards, " << total_seq << " ledger entries, max lag "
            << max_lag << '\n';
  for (const auto& [owner, count] : owners) {
    std::cout << "  " << (owner.empty() ? "(unowned)" : owner) << ": " << count << " shard(s)\n";
  }
  return kExitOk;
}

int runHealth(Context& ctx) {
  auto* client = ctx.client();
  if (!client) return kExitUsage;
  auto health = client->health();
  if (!health.ok()) return ctx.fail(health.status(), "health");
  static const char* kNames[] = {"unknown", "serving", "not_serving", "service_unknown"};
  const char* name = kNames[static_cast<int>(*health)];
  if (ctx.json()) {
    printJson(Json{{"ok", *health == client::HealthStatus::kServing}, {"status", name}});
  } else {
    std::cout << name << '\n';
  }
  return *health == client::HealthStatus::kServing ? kExitOk : kExitRefused;
}

}  // namespace

void addOperationsCommands(CLI::App& app, Context& ctx) {
  auto* alerts = app.add_subcommand("alerts", "Alerts and silences");
  alerts->require_subcommand(1);
  {
    auto all = std::make_shared<bool>(false);
    auto* cmd = alerts->add_subcommand("list", "Active alerts (--all: also recently resolved)");
    cmd->add_flag("--all", *all, "Include recently resolved alerts");
    cmd->callback([&ctx, all] { ctx.action = [&ctx, all] { return runAlertsList(ctx, *all); }; });
  }
  {
    auto args = std::make_shared<AckArgs>();
    auto* cmd = alerts->add_subcommand("ack", "Acknowledge an alert");
    cmd->add_option("ALERT_ID", args->id, "Alert id")->required();
    cmd->add_option("--note", args->note, "Note");
    cmd->add_option("--actor", args->actor, "Who acknowledges (default: $USER)");
    cmd->callback([&ctx, args] { ctx.action = [&ctx, args] { return runAck(ctx, *args); }; });
  }
  {
    auto args = std::make_shared<SilenceArgs>();
    auto* cmd = alerts->add_subcommand("silence", "Mute matching alerts for a while");
    cmd->add_option("--kind", args->kind, "low_stock, stockout or count_variance (default: any)");
    cmd->add_option("--subject", args->subject, "Subject prefix (SKU or count id; default: all)");
    cmd->add_option("--duration", args->duration, "How long, e.g. 30m, 2h, 1d")->required();
    cmd->add_option("--comment", args->comment, "Why")->required();
    cmd->add_option("--actor", args->actor, "Owner of the silence (default: $USER)");
    cmd->callback([&ctx, args] { ctx.action = [&ctx, args] { return runSilence(ctx, *args); }; });
  }

  auto* cluster = app.add_subcommand("cluster", "Cluster information");
  cluster->require_subcommand(1);
  cluster->add_subcommand("status", "Nodes, shard owners, epochs and lag")->callback([&ctx] {
    ctx.action = [&ctx] { return runClusterStatus(ctx); };
  });

  app.add_subcommand("health", "grpc.health.v1 check of the server (exit 0 when serving)")
      ->callback([&ctx] { ctx.action = [&ctx] { return runHealth(ctx); }; });
}

}  // namespace depot::ctl
