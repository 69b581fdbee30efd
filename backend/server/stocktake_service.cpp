#include "server/stocktake_service.h"

#include "server/convert.h"
#include "server/page_token.h"

namespace depot::server {

void StocktakeGrpcService::submitCounts(const UnaryCall& call, const v1::SubmitCountsRequest* req,
                                        v1::SubmitCountsResponse* resp) {
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
