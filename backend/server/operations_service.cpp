#include "server/operations_service.h"

#include <map>

#include "server/cluster_node.h"

#include "server/convert.h"
#include "server/page_token.h"
#include "server/str.h"

namespace depot::server {
namespace {
constexpr std::int64_t kMaxSilenceSeconds = 30 * 86400;
}  // namespace

grpc::ServerWriteReactor<v1::AlertEvent>* OperationsGrpcService::WatchAlerts(
    grpc::CallbackServerContext*, const v1::WatchAlertsRequest* req) {
  return newWatchAlertsReactor(m_env, *req);
}

grpc::ServerWriteReactor<v1::MetricsSample>* OperationsGrpcService::WatchMetrics(
    grpc::CallbackServerContext*, const v1::WatchMetricsRequest* req) {
  return newWatchMetricsReactor(m_env, *req);
}

void OperationsGrpcService::listAlerts(const UnaryCall& call, const v1::ListAlertsRequest* req,
                                       v1::ListAlertsResponse* resp) {
  auto limit = pageSize("limit", req->limit(), 1000, 10000);
  if (limit.ok()) {
    for (const auto& a : m_env.core.alerts().list(req->include_resolved(), *limit)) {
      toProto(a, resp->add_alerts());
    }
  }
  call.finish(limit.status());
}

void OperationsGrpcService::ack(const UnaryCall& call, const v1::AckRequest* req, v1::Alert* resp) {
  absl::Status valid = validateText("actor", req->actor(), kMaxIdLength, true);
  if (valid.ok()) valid = validateText("note", req->note(), kMaxTextLength, false);
  if (!valid.ok()) {
    call.finish(valid);
    return;
  }
  auto alert = m_env.core.alerts().acknowledge(req->alert_id(), req->actor(), req->note());
  if (alert.ok()) toProto(*alert, resp);
  call.finish(alert.status());
}

void OperationsGrpcService::silence(const UnaryCall& call, const v1::SilenceRequest* req,
                                    v1::SilenceInfo* resp) {
  absl::Status valid;
  if (!v1::AlertKind_IsValid(req->kind())) {
    valid = fieldError("kind", strCat("unknown value ", static_cast<int>(req->kind())));
  } else if (req->duration_seconds() < 1 || req->duration_seconds() > kMaxSilenceSeconds) {
    valid = fieldError("duration_seconds", strCat("must be between 1 and ", kMaxSilenceSeconds));
  }
  if (valid.ok()) valid = validateText("owner", req->owner(), kMaxIdLength, true);
  if (valid.ok())
    valid = validateText("subject_prefix", req->subject_prefix(), kMaxSkuLength, false);
  if (valid.ok()) valid = validateText("comment", req->comment(), kMaxTextLength, false);
  if (!valid.ok()) {
    call.finish(valid);
    return;
  }
  depot::Silence s;
  s.kind = static_cast<std::uint8_t>(req->kind());
  s.subject_prefix = req->subject_prefix();
  s.owner = req->owner();
  s.comment = req->comment();
  s.created_at = m_env.clock.now();
  s.expires_at = s.created_at + req->duration_seconds() * 1'000'000;
  auto stored = m_env.core.alerts().silence(std::move(s));
  if (stored.ok()) toProto(*stored, resp);
  call.finish(stored.status());
}

void OperationsGrpcService::listSilences(const UnaryCall& call, const v1::ListSilencesRequest*,
                                         v1::ListSilencesResponse* resp) {
  for (const auto& s : m_env.core.alerts().silences()) toProto(s, resp->add_silences());
  call.finish(absl::OkStatus());
}

void OperationsGrpcService::clusterStatus(const UnaryCall& call, const v1::ClusterStatusRequest*,
                                          v1::ClusterStatusResponse* resp) {
  const auto seqs = m_env.core.lastSeqs();
  if (m_env.cluster == nullptr) {
    // One node owns every shard with SQLite.
    auto* node = resp->add_nodes();
    node->set_node_id(m_env.node_id);
    node->set_endpoint(m_env.endpoint);
    node->set_healthy(!m_env.streams.stopping());
    node->set_shards_owned(kShardCount);
    node->set_role("standalone");
    for (ShardId s = 0; s < kShardCount; ++s) {
      auto* shard = resp->add_shards();
      shard->set_shard(s);
      shard->set_owner_node(m_env.node_id);
      shard->set_epoch(1);
      shard->set_last_seq(seqs[s]);
      shard->set_lag(0);
    }
    return call.finish(absl::OkStatus());
  }
  // A cluster member: the view of the last lease tick (at most ttl/5 old).
  const ClusterView view = m_env.cluster->lastView();
  std::map<std::string, std::uint32_t> owned;
  for (const auto& s : view.shards)
    if (!s.owner.empty() && !s.expired) ++owned[s.owner];
  for (const auto& n : view.nodes) {
    auto* node = resp->add_nodes();
    node->set_node_id(n.node_id);
    node->set_endpoint(n.endpoint);
    node->set_healthy(n.alive);
    node->set_shards_owned(owned[n.node_id]);
    node->set_role("member");
  }
  for (const auto& s : view.shards) {
    auto* shard = resp->add_shards();
    shard->set_shard(s.shard);
    shard->set_owner_node(s.expired ? std::string() : s.owner);
    shard->set_epoch(s.epoch);
    shard->set_last_seq(s.last_seq);
    // Entries committed in the store that this node's Watch has not yet
    // delivered (cross-node Watch delay, in entries).
    shard->set_lag(s.last_seq > seqs[s.shard] ? s.last_seq - seqs[s.shard] : 0);
  }
  call.finish(absl::OkStatus());
}

}  // namespace depot::server
