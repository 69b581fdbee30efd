#include "server/inventory_service.h"

#include "absl/strings/numbers.h"
#include "server/cluster_router.h"
#include "server/convert.h"
#include "server/inventory_streams.h"
#include "server/page_token.h"
#include "server/str.h"

namespace depot::server {
namespace {
constexpr std::size_t kDefaultPage = 100;
constexpr std::size_t kMaxPage = 1000;

// Reads one row more than the page to learn whether another page exists,
// except at the core's maximum page (1000): then a full page always carries
// a token and the next page may come back empty.
std::size_t fetchLimit(std::size_t page) { return std::min(page + 1, kMaxPage); }
bool hasMore(std::size_t fetched, std::size_t page) {
  return fetched > page || (page == kMaxPage && fetched == kMaxPage);
}
}  // namespace

void InventoryGrpcService::apply(const UnaryCall& call, const v1::ApplyRequest* req,
                                 v1::ApplyResponse* resp) {
  auto movements = fromProto(req->movements(), "movements");
  if (!movements.ok()) {
    call.finish(movements.status());
    return;
  }
  auto handle = [call, req, resp](absl::StatusOr<std::vector<MovementResult>> results) {
                     if (!results.ok()) {
                       call.finish(results.status());
                       return;
                     }
                     resp->mutable_results()->Reserve(static_cast<int>(results->size()));
                     for (std::size_t i = 0; i < results->size(); ++i) {
                       const std::string& id =
                           i < static_cast<std::size_t>(req->movements_size())
                               ? req->movements(static_cast<int>(i)).request_id()
                               : std::string();
                       toProto((*results)[i], id, resp->add_results());
                     }
                     call.finish(absl::OkStatus());
  };
  if (m_env.router && !call.forwarded())
    m_env.router->apply(std::move(*movements), req->linked(), std::move(handle));
  else
    m_env.core.apply(std::move(*movements), req->linked(), std::move(handle));
}

grpc::ServerBidiReactor<v1::ApplyStreamRequest, v1::ApplyStreamResponse>*
InventoryGrpcService::ApplyStream(grpc::CallbackServerContext*) {
  return newApplyStreamReactor(m_env);
}

void InventoryGrpcService::reserve(const UnaryCall& call, const v1::ReserveRequest* req,
                                   v1::OrderResponse* resp) {
  // Seconds to micros without overflow; the core checks the range.
  constexpr std::int64_t kMaxTtlSeconds = std::int64_t{1} << 40;
  if (req->ttl_seconds() < 0 || req->ttl_seconds() > kMaxTtlSeconds) {
    call.finish(fieldError("ttl_seconds", "must be between 0 and 604800 (7 days)"));
    return;
  }
  ReserveRequest r;
  r.request_id = req->request_id();
  r.order_id = req->order_id();
  r.lines = fromProto(req->lines());
  r.ttl = req->ttl_seconds() * 1'000'000;
  r.actor = req->actor();
  r.part = call.part();
  auto handle = [call, req, resp](OrderResult result) {
    if (result.status.ok()) toProto(result, req->order_id(), resp);
    call.finish(result.status);
  };
  if (m_env.router && !call.forwarded())
    m_env.router->reserve(std::move(r), std::move(handle));
  else
    m_env.core.reserve(std::move(r), std::move(handle));
}

void InventoryGrpcService::commit(const UnaryCall& call, const v1::CommitRequest* req,
                                  v1::OrderResponse* resp) {
  CommitRequest r;
  r.request_id = req->request_id();
  r.order_id = req->order_id();
  r.lines = fromProto(req->lines());
  r.actor = req->actor();
  r.part = call.part();
  auto handle = [call, req, resp](OrderResult result) {
    if (result.status.ok()) toProto(result, req->order_id(), resp);
    call.finish(result.status);
  };
  if (m_env.router && !call.forwarded())
    m_env.router->commitOrder(std::move(r), std::move(handle));
  else
    m_env.core.commitOrder(std::move(r), std::move(handle));
}

void InventoryGrpcService::release(const UnaryCall& call, const v1::ReleaseRequest* req,
                                   v1::OrderResponse* resp) {
  ReleaseRequest r;
  r.request_id = req->request_id();
  r.order_id = req->order_id();
  r.actor = req->actor();
  r.reason = req->reason();
  r.part = call.part();
  auto handle = [call, req, resp](OrderResult result) {
    if (result.status.ok()) toProto(result, req->order_id(), resp);
    call.finish(result.status);
  };
  if (m_env.router && !call.forwarded())
    m_env.router->releaseOrder(std::move(r), std::move(handle));
  else
    m_env.core.releaseOrder(std::move(r), std::move(handle));
}

void InventoryGrpcService::getStock(const UnaryCall& call, const v1::GetStockRequest* req,
                                    v1::StockResponse* resp) {
  if (m_env.router && !call.forwarded()) {
    ShardRoute route = m_env.router->route(shardOf(req->sku()));
    if (!route.local) {
      // The owner answers from its in-memory state, consistent at a seq.
      struct Fwd {
        std::unique_ptr<grpc::ClientContext> ctx;
      };
      auto fwd = std::make_shared<Fwd>();
      fwd->ctx = m_env.router->forwardContext();
      m_env.router->inventory(route.endpoint)
          .async()
          ->GetStock(fwd->ctx.get(), req, resp,
                     [call, fwd](grpc::Status s) { call.finish(fromGrpc(s)); });
      return;
    }
  }
  m_env.core.getStock(req->sku(), [call, resp](absl::StatusOr<StockResult> result) {
    if (result.ok()) toProto(*result, resp);
    call.finish(result.status());
  });
}

void InventoryGrpcService::listStock(const UnaryCall& call, const v1::ListStockRequest* req,
                                     v1::ListStockResponse* resp) {
  auto size = pageSize("page_size", req->page_size(), kDefaultPage, kMaxPage);
  if (!size.ok()) {
    call.finish(size.status());
    return;
  }
  StockQuery q;
  q.sku_prefix = req->sku_prefix();
  q.warehouse = req->warehouse();
  q.location = req->location();
  q.below_reorder_point = req->below_reorder_point();
  q.include_zero = req->include_zero();
  q.limit = fetchLimit(*size);
  if (!req->page_token().empty()) {
    auto fields = decodePageToken('S', req->page_token(), 2);
    if (!fields.ok()) {
      call.finish(fields.status());
      return;
    }
    q.after_sku = std::move((*fields)[0]);
    q.after_location = std::move((*fields)[1]);
  }
  ReadFreshness freshness;
  auto rows = m_env.core.listStock(q, &freshness);
  if (!rows.ok()) {
    call.finish(rows.status());
    return;
  }
  resp->set_from_standby(freshness.from_standby);
  resp->set_staleness_ms(freshness.staleness_ms);
  const bool more = hasMore(rows->size(), *size);
  if (rows->size() > *size) rows->resize(*size);
  for (const auto& row : *rows) toProto(row, resp->add_rows());
  if (more && !rows->empty()) {
    resp->set_next_page_token(
        encodePageToken('S', {rows->back().item.sku, rows->back().location.name()}));
  }
  call.finish(absl::OkStatus());
}

void InventoryGrpcService::history(const UnaryCall& call, const v1::HistoryRequest* req,
                                   v1::HistoryResponse* resp) {
  auto size = pageSize("page_size", req->page_size(), kDefaultPage, kMaxPage);
  if (!size.ok()) {
    call.finish(size.status());
    return;
  }
  if (req->to_us() != 0 && req->to_us() < req->from_us()) {
    call.finish(fieldError("to_us", "must be >= from_us (or 0 for no upper bound)"));
    return;
  }
  Seq after = 0;
  if (!req->page_token().empty()) {
    auto fields = decodePageToken('H', req->page_token(), 1);
    if (!fields.ok() || !absl::SimpleAtoi((*fields)[0], &after)) {
      call.finish(fieldError("page_token", "malformed"));
      return;
    }
  }
  auto entries = m_env.core.history(req->sku(), req->location(), req->from_us(), req->to_us(),
                                    after, fetchLimit(*size));
  if (!entries.ok()) {
    call.finish(entries.status());
    return;
  }
  const bool more = hasMore(entries->size(), *size);
  if (entries->size() > *size) entries->resize(*size);
  const Catalog& catalog = m_env.core.catalog();
  for (const auto& e : *entries) toProto(e, catalog, resp->add_entries());
  if (more && !entries->empty()) {
    resp->set_next_page_token(encodePageToken('H', {strCat(entries->back().seq)}));
  }
  call.finish(absl::OkStatus());
}

void InventoryGrpcService::balanceAt(const UnaryCall& call, const v1::BalanceAtRequest* req,
                                     v1::BalanceAtResponse* resp) {
  auto balance = m_env.core.balanceAt(req->sku(), req->location(), req->at_us());
  if (balance.ok()) {
    resp->set_on_hand(balance->on_hand);
    resp->set_reserved(balance->reserved);
    resp->set_available(balance->available());
  }
  call.finish(balance.status());
}

grpc::ServerWriteReactor<v1::SnapshotChunk>* InventoryGrpcService::Snapshot(
    grpc::CallbackServerContext*, const v1::SnapshotRequest* req) {
  return newSnapshotReactor(m_env, *req);
}

grpc::ServerWriteReactor<v1::WatchEvent>* InventoryGrpcService::Watch(grpc::CallbackServerContext*,
                                                                      const v1::WatchRequest* req) {
  return newWatchReactor(m_env, *req);
}

}  // namespace depot::server
