// depot.v1.Catalog on the gRPC callback API (unary methods registered raw,
// see serveUnary in service_env.h). Catalog writes are rare, small store
// transactions and run inline in the handler.
#pragma once

#include "depot/v1/catalog.grpc.pb.h"
#include "server/service_env.h"

namespace depot::server {

namespace catalog_detail {
using C = v1::Catalog;
using Base = C::WithRawCallbackMethod_UpsertItems<C::WithRawCallbackMethod_GetItem<
    C::WithRawCallbackMethod_ListItems<C::WithRawCallbackMethod_UpsertLocations<
        C::WithRawCallbackMethod_ListLocations<C::Service>>>>>;
}  // namespace catalog_detail

class CatalogGrpcService final : public catalog_detail::Base {
 public:
  explicit CatalogGrpcService(ServiceEnv& env) : m_env(env) {}

  DEPOT_UNARY_METHOD(UpsertItems, upsertItems, v1::UpsertItemsRequest, v1::UpsertItemsResponse);
  DEPOT_UNARY_METHOD(GetItem, getItem, v1::GetItemRequest, v1::Item);
  DEPOT_UNARY_METHOD(ListItems, listItems, v1::ListItemsRequest, v1::ListItemsResponse);
  DEPOT_UNARY_METHOD(UpsertLocations, upsertLocations, v1::UpsertLocationsRequest,
                     v1::UpsertLocationsResponse);
  DEPOT_UNARY_METHOD(ListLocations, listLocations, v1::ListLocationsRequest,
                     v1::ListLocationsResponse);

 private:
  ServiceEnv& m_env;
};

}  // namespace depot::server
