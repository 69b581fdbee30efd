#include "server/catalog_service.h"

#include "server/convert.h"
#include "server/page_token.h"
#include "server/str.h"

namespace depot::server {

void CatalogGrpcService::upsertItems(const UnaryCall& call, const v1::UpsertItemsRequest* req,
                                     v1::UpsertItemsResponse* resp) {
  const auto n = static_cast<std::size_t>(req->items_size());
  if (n == 0 || n > kMaxBatchMovements) {
    call.finish(fieldError("items", strCat("1..", kMaxBatchMovements, " required, got ", n)));
    return;
  }
  std::vector<Item> items;
  items.reserve(n);
  for (const auto& i : req->items()) items.push_back(fromProto(i));
  auto stored = m_env.core.catalog().upsertItems(std::move(items));
  if (stored.ok()) {
    for (const auto& i : *stored) toProto(i, resp->add_items());
  }
  call.finish(stored.status());
}

void CatalogGrpcService::getItem(const UnaryCall& call, const v1::GetItemRequest* req,
                                 v1::Item* resp) {
  absl::Status valid = validateSku("sku", req->sku());
  if (!valid.ok()) {
    call.finish(valid);
    return;
  }
  auto item = m_env.core.catalog().item(req->sku());
  if (item.ok()) toProto(*item, resp);
  call.finish(item.status());
}

void CatalogGrpcService::listItems(const UnaryCall& call, const v1::ListItemsRequest* req,
                                   v1::ListItemsResponse* resp) {
  auto size = pageSize("page_size", req->page_size(), 100, 1000);
  absl::Status valid =
      size.ok() ? validateText("prefix", req->prefix(), kMaxSkuLength, false) : size.status();
  std::string after;
  if (valid.ok() && !req->page_token().empty()) {
    auto fields = decodePageToken('I', req->page_token(), 1);
    if (fields.ok())
      after = std::move((*fields)[0]);
    else
      valid = fields.status();
  }
  if (!valid.ok()) {
    call.finish(valid);
    return;
  }
  auto items = m_env.core.catalog().items(req->prefix(), after, *size + 1);
  const bool more = items.size() > *size;
  if (more) items.resize(*size);
  for (const auto& i : items) toProto(i, resp->add_items());
  if (more && !items.empty()) resp->set_next_page_token(encodePageToken('I', {items.back().sku}));
  call.finish(absl::OkStatus());
}

void CatalogGrpcService::upsertLocations(const UnaryCall& call,
                                         const v1::UpsertLocationsRequest* req,
                                         v1::UpsertLocationsResponse* resp) {
  const auto n = static_cast<std::size_t>(req->locations_size());
  if (n == 0 || n > kMaxBatchMovements) {
    call.finish(fieldError("locations", strCat("1..", kMaxBatchMovements, " required, got ", n)));
    return;
  }
  std::vector<Location> locations;
  locations.reserve(n);
  for (const auto& l : req->locations()) locations.push_back(fromProto(l));
  auto stored = m_env.core.catalog().upsertLocations(std::move(locations));
  if (stored.ok()) {
    for (const auto& l : *stored) toProto(l, resp->add_locations());
  }
  call.finish(stored.status());
}

void CatalogGrpcService::listLocations(const UnaryCall& call, const v1::ListLocationsRequest* req,
                                       v1::ListLocationsResponse* resp) {
  absl::Status valid = validateText("warehouse", req->warehouse(), kMaxNameLength, false);
  if (valid.ok()) {
    for (const auto& l : m_env.core.catalog().locations(req->warehouse())) {
      toProto(l, resp->add_locations());
    }
  }
  call.finish(valid);
}

}  // namespace depot::server
