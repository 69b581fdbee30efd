#include "server/stocktake_service.h"

#include <atomic>
#include <map>
#include <mutex>

#include "server/cluster_router.h"
#include "server/convert.h"
#include "server/page_token.h"

namespace depot::server {

namespace {
// A cluster member: the lines on shards another node serves go to it (each
// line has its own request_id, so a split changes nothing a retry sees).
// Returns false when every line is served here.
bool routeCounts(ServiceEnv& env, const UnaryCall& call, const v1::SubmitCountsRequest* req,
                 v1::SubmitCountsResponse* resp) {
  if (!env.router || call.forwarded() || req->lines_size() == 0) return false;
  std::map<std::string, std::vector<int>> groups;  // endpoint ("" = here) -> line indices
  for (int i = 0; i < req->lines_size(); ++i) {
    ShardRoute r = env.router->route(shardOf(req->lines(i).sku()));
    groups[r.local ? std::string() : r.endpoint].push_back(i);
  }
  if (groups.size() == 1 && groups.begin()->first.empty()) return false;
  struct Merge {
    std::mutex mutex;
    std::vector<v1::CountLineResult> results;
    std::atomic<int> pending{0};
    absl::Status whole;
  };
  auto merge = std::make_shared<Merge>();
  merge->results.resize(static_cast<std::size_t>(req->lines_size()));
  merge->pending = static_cast<int>(groups.size());
  const bool single = groups.size() == 1;
  auto place = [merge, call, req, resp, single](const std::vector<int>& idx, const absl::Status& st,
                                                const v1::SubmitCountsResponse* part) {
    {
      std::lock_guard lock(merge->mutex);
      for (std::size_t k = 0; k < idx.size(); ++k) {
        auto& out = merge->results[static_cast<std::size_t>(idx[k])];
        if (st.ok() && part && static_cast<int>(k) < part->results_size()) {
          out = part->results(static_cast<int>(k));
        } else {
          out.set_request_id(req->lines(idx[k]).request_id());
          out.set_code(static_cast<std::int32_t>(st.ok() ? absl::StatusCode::kInternal : st.code()));
          out.set_message(std::string(st.message()));
        }
      }
      if (single && !st.ok()) merge->whole = st;
    }
    if (merge->pending.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    if (!merge->whole.ok()) return call.finish(merge->whole);
    for (auto& r : merge->results) *resp->add_results() = std::move(r);
    call.finish(absl::OkStatus());
  };
  for (auto& [endpoint, idx] : groups) {
    auto part = std::make_shared<v1::SubmitCountsRequest>(*req);
    part->clear_lines();
    for (int i : idx) *part->add_lines() = req->lines(i);
    if (endpoint.empty()) {
      auto presp = std::make_shared<v1::SubmitCountsResponse>();
      env.core.submitCounts(fromProto(*part), [place, idx, part, presp](
                                                  absl::StatusOr<std::vector<CountResult>> results) {
        if (results.ok())
          for (std::size_t i = 0; i < results->size(); ++i)
            toProto((*results)[i], part->lines(static_cast<int>(i)).request_id(),
                    presp->add_results());
        place(idx, results.status(), presp.get());
      });
      continue;
    }
    struct Fwd {
      std::unique_ptr<grpc::ClientContext> ctx;
      v1::SubmitCountsResponse resp;
    };
    auto fwd = std::make_shared<Fwd>();
    fwd->ctx = env.router->forwardContext();
    env.router->stocktake(endpoint).async()->SubmitCounts(
        fwd->ctx.get(), part.get(), &fwd->resp,
        [place, idx, part, fwd](grpc::Status s) { place(idx, fromGrpc(s), &fwd->resp); });
  }
  return true;
}
}  // namespace

void StocktakeGrpcService::submitCounts(const UnaryCall& call, const v1::SubmitCountsRequest* req,
                                        v1::SubmitCountsResponse* resp) {
  if (routeCounts(m_env, call, req, resp)) return;
  m_env.core.submitCounts(
      fromProto(*req), [call, req, resp](absl::StatusOr<std::vector<CountResult>> results) {
        if (results.ok()) {
          resp->mutable_results()->Reserve(static_cast<int>(results->size()));
          for (std::size_t i = 0; i < results->size(); ++i) {
            const std::string& id = i < static_cast<std::size_t>(req->lines_size())
                                        ? req->lines(static_cast<int>(i)).request_id()
                                        : std::string();
            toProto((*results)[i], id, resp->add_results());
          }
        }
        call.finish(results.status());
      });
}

void StocktakeGrpcService::decide(const UnaryCall& call, const v1::CountDecisionRequest* req,
                                  v1::CountRecord* resp, bool approve) {
  if (m_env.router && !call.forwarded()) {
    auto shard = m_env.core.countShard(req->count_id());
    ShardRoute route = shard.ok() ? m_env.router->route(*shard) : ShardRoute{};
    if (!route.local) {
      struct Fwd {
        std::unique_ptr<grpc::ClientContext> ctx;
      };
      auto fwd = std::make_shared<Fwd>();
      fwd->ctx = m_env.router->forwardContext();
      auto cb = [call, fwd](grpc::Status s) { call.finish(fromGrpc(s)); };
      auto& stub = m_env.router->stocktake(route.endpoint);
      if (approve)
        stub.async()->Approve(fwd->ctx.get(), req, resp, cb);
      else
        stub.async()->Reject(fwd->ctx.get(), req, resp, cb);
      return;
    }
  }
  const Catalog& catalog = m_env.core.catalog();
  auto done = [call, resp, &catalog](CountResult result) {
    if (result.status.ok()) toProto(result.record, catalog, resp);
    call.finish(result.status);
  };
  if (approve) {
    m_env.core.approveCount(fromProto(*req), std::move(done));
  } else {
    m_env.core.rejectCount(fromProto(*req), std::move(done));
  }
}

void StocktakeGrpcService::listPending(const UnaryCall& call, const v1::ListPendingRequest* req,
                                       v1::ListPendingResponse* resp) {
  auto limit = pageSize("limit", req->limit(), 100, 1000);
  if (!limit.ok()) {
    call.finish(limit.status());
    return;
  }
  auto counts = m_env.core.listPendingCounts(*limit);
  if (counts.ok()) {
    const Catalog& catalog = m_env.core.catalog();
    for (const auto& c : *counts) toProto(c, catalog, resp->add_counts());
  }
  call.finish(counts.status());
}

}  // namespace depot::server
