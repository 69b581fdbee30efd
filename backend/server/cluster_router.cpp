#include "server/cluster_router.h"

#include <algorithm>
#include <atomic>

#include "absl/strings/numbers.h"
#include "server/str.h"

namespace depot::server {
namespace {

using Groups = std::map<std::string, std::vector<ShardId>>;  // endpoint ("" = here) -> shards

void addShard(Groups& groups, const std::string& key, ShardId shard) {
  auto& v = groups[key];
  if (std::find(v.begin(), v.end(), shard) == v.end()) v.push_back(shard);
}

void toProto(const MovementRequest& in, v1::Movement* out) {
  out->set_request_id(in.request_id);
  out->set_kind(static_cast<v1::MovementKind>(in.kind));
  out->set_sku(in.sku);
  out->set_location(in.location);
  out->set_to_location(in.to_location);
  out->set_quantity(in.quantity);
  out->set_reason(in.reason);
  out->set_actor(in.actor);
}

LineBalance fromProto(const v1::LocationBalance& b) {
  LineBalance out;
  out.sku = b.sku();
  out.location = b.location();
  out.balance.on_hand = b.on_hand();
  out.balance.reserved = b.reserved();
  return out;
}

MovementResult fromProto(const v1::MovementResult& in) {
  MovementResult out;
  out.outcome.code = static_cast<absl::StatusCode>(in.code());
  out.outcome.message = in.message();
  out.outcome.first_seq = in.seq();
  out.outcome.entries = in.entries();
  out.shard = in.shard();
  for (const auto& b : in.after()) out.after.push_back(fromProto(b));
  out.replayed = in.replayed();
  return out;
}

OrderResult fromProto(const v1::OrderResponse& in) {
  OrderResult out;
  out.expires_at = in.expires_at_us();
  for (const auto& b : in.after()) out.after.push_back(fromProto(b));
  out.replayed = in.replayed();
  return out;
}

void addLines(const std::vector<OrderLine>& lines,
              google::protobuf::RepeatedPtrField<v1::OrderLine>* out) {
  for (const auto& l : lines) {
    auto* p = out->Add();
    p->set_sku(l.sku);
    p->set_location(l.location);
    p->set_quantity(l.quantity);
  }
}

MovementResult failedMovement(const MovementRequest& m, const absl::Status& s) {
  MovementResult r;
  r.outcome.code = s.code();
  r.outcome.message = std::string(s.message());
  r.shard = shardOf(m.sku);
  return r;
}

// The state of one routed order operation: one slot per part.
struct OrderMerge {
  std::vector<std::string> endpoints;
  std::vector<std::vector<ShardId>> shards;
  std::vector<OrderResult> results;
  std::atomic<int> pending{0};
};

}  // namespace

absl::Status fromGrpc(const grpc::Status& s) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

std::string encodePart(const RequestPart& part) {
  std::string out = strCat(part.fingerprint, ";", part.whole_has_lines ? 1 : 0, ";");
  for (std::size_t i = 0; i < part.shards.size(); ++i)
    out += strCat(i ? "," : "", part.shards[i]);
  return out;
}

std::optional<RequestPart> decodePart(std::string_view value) {
  const auto a = value.find(';');
  if (a == std::string_view::npos) return std::nullopt;
  const auto b = value.find(';', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  RequestPart part;
  if (!absl::SimpleAtoi(std::string(value.substr(0, a)), &part.fingerprint)) return std::nullopt;
  part.whole_has_lines = value.substr(a + 1, b - a - 1) == "1";
  std::string_view rest = value.substr(b + 1);
  while (!rest.empty()) {
    const auto c = rest.find(',');
    std::uint32_t shard = 0;
    if (!absl::SimpleAtoi(std::string(rest.substr(0, c)), &shard) || shard >= kShardCount)
      return std::nullopt;
    part.shards.push_back(static_cast<ShardId>(shard));
    if (c == std::string_view::npos) break;
    rest = rest.substr(c + 1);
  }
  if (part.shards.empty()) return std::nullopt;
  return part;
}

ClusterRouter::ClusterRouter(InventoryService& core, std::string self_node, RouteFn route)
    : m_core(core), m_self(std::move(self_node)), m_route(std::move(route)) {}

ClusterRouter::~ClusterRouter() = default;

ClusterRouter::Peer& ClusterRouter::peer(const std::string& endpoint) {
  std::lock_guard lock(m_mutex);
  auto& p = m_peers[endpoint];
  if (!p) {
    p = std::make_unique<Peer>();
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 * 1024 * 1024);
    // Fail fast to a dead owner: the client retries once the lease moved.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    p->channel = grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(), args);
    p->inventory = v1::Inventory::NewStub(p->channel);
    p->stocktake = v1::Stocktake::NewStub(p->channel);
  }
  return *p;
}

v1::Inventory::Stub& ClusterRouter::inventory(const std::string& endpoint) {
  return *peer(endpoint).inventory;
}
v1::Stocktake::Stub& ClusterRouter::stocktake(const std::string& endpoint) {
  return *peer(endpoint).stocktake;
}

std::unique_ptr<grpc::ClientContext> ClusterRouter::forwardContext() const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata(kForwardedHeader, m_self);
  ctx->set_deadline(std::chrono::system_clock::now() + kForwardDeadline);
  return ctx;
}

// ------------------------------------------------------------------ apply

void ClusterRouter::apply(std::vector<MovementRequest> movements, bool linked,
                          Done<absl::StatusOr<std::vector<MovementResult>>> done,
                          bool flow_controlled) {
  // endpoint ("" = here) -> indices into movements
  std::map<std::string, std::vector<std::size_t>> groups;
  auto keyOf = [&](ShardId s) {
    ShardRoute r = m_route(s);
    return r.local ? std::string() : r.endpoint;
  };
  if (movements.empty() || movements.size() > kMaxBatchMovements) {
    groups[""];  // the core reports the whole-request error
  } else {
    const std::string linked_key = linked ? keyOf(shardOf(movements[0].sku)) : std::string();
    for (std::size_t i = 0; i < movements.size(); ++i)
      groups[linked ? linked_key : keyOf(shardOf(movements[i].sku))].push_back(i);
  }
  if (groups.size() == 1 && groups.begin()->first.empty())
    return m_core.apply(std::move(movements), linked, std::move(done), flow_controlled);

  struct Merge {
    std::vector<MovementRequest> movements;
    std::vector<MovementResult> results;
    std::atomic<int> pending{0};
    bool single = false;
    std::mutex mutex;
    absl::Status whole;  // single group: its whole-call failure
    Done<absl::StatusOr<std::vector<MovementResult>>> done;
  };
  auto merge = std::make_shared<Merge>();
  merge->results.resize(movements.size());
  merge->single = groups.size() == 1;
  merge->pending = static_cast<int>(groups.size());
  merge->done = std::move(done);
  merge->movements = std::move(movements);
  auto finishOne = [merge] {
    if (merge->pending.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    if (!merge->whole.ok()) return merge->done(merge->whole);
    merge->done(std::move(merge->results));
  };
  // Places a group's outcome; a whole-call failure becomes every movement's
  // outcome when the request was split (a single group keeps its status).
  auto place = [merge, finishOne](const std::vector<std::size_t>& idx,
                                  absl::StatusOr<std::vector<MovementResult>> r) {
    {
      std::lock_guard lock(merge->mutex);
      if (!r.ok()) {
        if (merge->single) merge->whole = r.status();
        for (std::size_t i : idx) merge->results[i] = failedMovement(merge->movements[i], r.status());
      } else {
        for (std::size_t k = 0; k < idx.size() && k < r->size(); ++k)
          merge->results[idx[k]] = std::move((*r)[k]);
      }
    }
    finishOne();
  };
  for (auto& [endpoint, idx] : groups) {
    if (endpoint.empty()) {
      std::vector<MovementRequest> subset;
      for (std::size_t i : idx) subset.push_back(merge->movements[i]);
      m_core.apply(
          std::move(subset), linked,
          [place, idx](absl::StatusOr<std::vector<MovementResult>> r) { place(idx, std::move(r)); },
          flow_controlled);
      continue;
    }
    struct Call {
      std::unique_ptr<grpc::ClientContext> ctx;
      v1::ApplyRequest req;
      v1::ApplyResponse resp;
    };
    auto call = std::make_shared<Call>();
    call->ctx = forwardContext();
    call->req.set_linked(linked);
    for (std::size_t i : idx) toProto(merge->movements[i], call->req.add_movements());
    inventory(endpoint).async()->Apply(
        call->ctx.get(), &call->req, &call->resp,
        [call, place, idx, endpoint](grpc::Status s) {
          if (!s.ok()) {
            absl::Status st = fromGrpc(s);
            if (st.code() == absl::StatusCode::kUnavailable ||
                st.code() == absl::StatusCode::kDeadlineExceeded)
              st = absl::Status(st.code(), strCat("the owner node at ", endpoint,
                                                  " did not answer (", st.message(),
                                                  "); retry with the same request_id"));
            return place(idx, st);
          }
          std::vector<MovementResult> results;
          for (const auto& r : call->resp.results()) results.push_back(fromProto(r));
          place(idx, std::move(results));
        });
  }
}

// ------------------------------------------------------------ order holds

namespace {
// Sends one order RPC to a peer: `invoke(async_stub, ctx, req, resp, callback)`
// names the method; the result arrives as an OrderResult.
template <typename ProtoReq, typename Invoke>
void sendOrderCall(v1::Inventory::Stub& stub, std::unique_ptr<grpc::ClientContext> ctx,
                   const std::optional<RequestPart>& part, ProtoReq req, Invoke invoke,
                   Done<OrderResult> done) {
  struct Call {
    std::unique_ptr<grpc::ClientContext> ctx;
    ProtoReq req;
    v1::OrderResponse resp;
  };
  auto call = std::make_shared<Call>();
  call->ctx = std::move(ctx);
  if (part) call->ctx->AddMetadata(kPartHeader, encodePart(*part));
  call->req = std::move(req);
  invoke(stub.async(), call->ctx.get(), &call->req, &call->resp, [call, done](grpc::Status s) {
    OrderResult res = fromProto(call->resp);
    res.status = fromGrpc(s);
    done(std::move(res));
  });
}
}  // namespace

void ClusterRouter::sendOrderPart(const std::string& endpoint, const ReserveRequest& r,
                                  Done<OrderResult> done) {
  v1::ReserveRequest req;
  req.set_request_id(r.request_id);
  req.set_order_id(r.order_id);
  addLines(r.lines, req.mutable_lines());
  req.set_ttl_seconds(r.ttl / 1'000'000);
  req.set_actor(r.actor);
  sendOrderCall(
      inventory(endpoint), forwardContext(), r.part, std::move(req),
      [](auto* async, auto* ctx, auto* rq, auto* rs, auto cb) { async->Reserve(ctx, rq, rs, cb); },
      std::move(done));
}

void ClusterRouter::sendOrderPart(const std::string& endpoint, const CommitRequest& r,
                                  Done<OrderResult> done) {
  v1::CommitRequest req;
  req.set_request_id(r.request_id);
  req.set_order_id(r.order_id);
  addLines(r.lines, req.mutable_lines());
  req.set_actor(r.actor);
  sendOrderCall(
      inventory(endpoint), forwardContext(), r.part, std::move(req),
      [](auto* async, auto* ctx, auto* rq, auto* rs, auto cb) { async->Commit(ctx, rq, rs, cb); },
      std::move(done));
}

void ClusterRouter::sendOrderPart(const std::string& endpoint, const ReleaseRequest& r,
                                  Done<OrderResult> done) {
  v1::ReleaseRequest req;
  req.set_request_id(r.request_id);
  req.set_order_id(r.order_id);
  req.set_actor(r.actor);
  req.set_reason(r.reason);
  sendOrderCall(
      inventory(endpoint), forwardContext(), r.part, std::move(req),
      [](auto* async, auto* ctx, auto* rq, auto* rs, auto cb) { async->Release(ctx, rq, rs, cb); },
      std::move(done));
}

template <typename Req>
void ClusterRouter::splitOrder(Req request, Groups groups, std::uint64_t fingerprint,
                               bool has_lines, Done<OrderResult> done) {
  auto merge = std::make_shared<OrderMerge>();
  for (auto& [endpoint, shards] : groups) {
    merge->endpoints.push_back(endpoint);
    merge->shards.push_back(shards);
  }
  merge->results.resize(groups.size());
  merge->pending = static_cast<int>(groups.size());
  constexpr bool kIsReserve = std::is_same_v<Req, ReserveRequest>;
  const std::string rid = request.request_id, order = request.order_id, actor = request.actor;
  auto finish = [this, merge, done, rid, order, actor, fingerprint] {
    OrderResult res;
    res.replayed = true;
    std::vector<std::size_t> succeeded;
    for (std::size_t k = 0; k < merge->results.size(); ++k) {
      auto& r = merge->results[k];
      if (!r.status.ok()) {
        if (res.status.ok()) res.status = r.status;
        continue;
      }
      succeeded.push_back(k);
      res.replayed = res.replayed && r.replayed;
      res.expires_at = std::max(res.expires_at, r.expires_at);
      for (auto& b : r.after) res.after.push_back(std::move(b));
    }
    if (res.status.ok() || !kIsReserve || succeeded.empty()) {
      if (!res.status.ok()) {
        res.after.clear();
        res.replayed = false;
      }
      return done(std::move(res));
    }
    // Saga across nodes: release what the other parts reserved, then report
    // the failure. An undo that cannot run now is left to the holds' TTL.
    OrderResult failure;
    failure.status = res.status;
    auto undo_pending = std::make_shared<std::atomic<int>>(static_cast<int>(succeeded.size()));
    for (std::size_t k : succeeded) {
      ReleaseRequest u;
      u.request_id = rid + "~undo";
      u.order_id = order;
      u.actor = actor;
      u.reason = kUndoReason;
      u.part = RequestPart{undoFingerprint(fingerprint), merge->shards[k], false};
      auto after_undo = [undo_pending, done, failure](OrderResult) {
        if (undo_pending->fetch_sub(1, std::memory_order_acq_rel) == 1) done(failure);
      };
      if (merge->endpoints[k].empty())
        m_core.releaseOrder(std::move(u), after_undo);
      else
        sendOrderPart(merge->endpoints[k], u, after_undo);
    }
  };
  for (std::size_t k = 0; k < merge->endpoints.size(); ++k) {
    Req part = request;
    part.part = RequestPart{fingerprint, merge->shards[k], has_lines};
    if constexpr (!std::is_same_v<Req, ReleaseRequest>) {
      std::vector<OrderLine> mine;
      for (const auto& l : request.lines)
        if (std::find(merge->shards[k].begin(), merge->shards[k].end(), shardOf(l.sku)) !=
            merge->shards[k].end())
          mine.push_back(l);
      part.lines = std::move(mine);
    }
    auto onPart = [merge, k, finish](OrderResult r) {
      merge->results[k] = std::move(r);
      if (merge->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) finish();
    };
    if (merge->endpoints[k].empty()) {
      if constexpr (std::is_same_v<Req, ReserveRequest>) m_core.reserve(std::move(part), onPart);
      if constexpr (std::is_same_v<Req, CommitRequest>) m_core.commitOrder(std::move(part), onPart);
      if constexpr (std::is_same_v<Req, ReleaseRequest>) m_core.releaseOrder(std::move(part), onPart);
    } else {
      sendOrderPart(merge->endpoints[k], part, onPart);
    }
  }
}

std::map<std::string, std::vector<ShardId>> ClusterRouter::groupByOwner(
    const std::vector<ShardId>& shards) const {
  Groups groups;
  for (ShardId s : shards) {
    ShardRoute route = m_route(s);
    addShard(groups, route.local ? std::string() : route.endpoint, s);
  }
  return groups;
}

void ClusterRouter::reserve(ReserveRequest r, Done<OrderResult> done) {
  std::vector<ShardId> shards;
  for (const auto& l : r.lines) shards.push_back(shardOf(l.sku));
  Groups groups = groupByOwner(shards);
  if (groups.size() <= 1) {
    if (groups.empty() || groups.begin()->first.empty()) return m_core.reserve(std::move(r), done);
    return sendOrderPart(groups.begin()->first, r, done);
  }
  const std::uint64_t fp = requestFingerprint(r);
  splitOrder(std::move(r), std::move(groups), fp, true, std::move(done));
}

// Commit and Release touch every shard holding the order: the store knows
// which.
void ClusterRouter::commitOrder(CommitRequest r, Done<OrderResult> done) {
  auto shards = m_core.orderShards(r.order_id);
  if (!shards.ok() || shards->empty()) return m_core.commitOrder(std::move(r), done);
  for (const auto& l : r.lines)
    if (std::find(shards->begin(), shards->end(), shardOf(l.sku)) == shards->end())
      return m_core.commitOrder(std::move(r), done);  // the core names the stray line
  Groups groups = groupByOwner(*shards);
  if (groups.size() == 1) {
    if (groups.begin()->first.empty()) return m_core.commitOrder(std::move(r), done);
    return sendOrderPart(groups.begin()->first, r, done);
  }
  const std::uint64_t fp = requestFingerprint(r);
  const bool has_lines = !r.lines.empty();
  splitOrder(std::move(r), std::move(groups), fp, has_lines, std::move(done));
}

void ClusterRouter::releaseOrder(ReleaseRequest r, Done<OrderResult> done) {
  auto shards = m_core.orderShards(r.order_id);
  if (!shards.ok() || shards->empty()) return m_core.releaseOrder(std::move(r), done);
  Groups groups = groupByOwner(*shards);
  if (groups.size() == 1) {
    if (groups.begin()->first.empty()) return m_core.releaseOrder(std::move(r), done);
    return sendOrderPart(groups.begin()->first, r, done);
  }
  const std::uint64_t fp = requestFingerprint(r);
  splitOrder(std::move(r), std::move(groups), fp, false, std::move(done));
}

}  // namespace depot::server
