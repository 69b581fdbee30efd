#include <chrono>
#include <cstdio>

#include "bench.h"
#include "client/client.h"
#include "sku_chooser.h"

namespace depot::bench {

absl::Status loadDataSet(const LoadOptions& o) {
  if (o.skus <= 0) return absl::InvalidArgumentError("--skus: must be > 0");
  if (o.batch <= 0 || o.batch > 10000) return absl::InvalidArgumentError("--batch: 1..10000");
  client::ClientOptions co;
  co.endpoints = {o.server};
  co.deadline = std::chrono::seconds(60);
  // A cluster that just started may still be handing shards over: movements
  // refused as "not served" (UNAVAILABLE) are re-sent for a few seconds.
  co.max_attempts = 30;
  co.max_backoff = std::chrono::milliseconds(500);
  auto cl = client::Client::create(co);
  if (!cl.ok()) return cl.status();
  client::Client& c = **cl;
  const auto t0 = std::chrono::steady_clock::now();

  v1::UpsertLocationsRequest locs;
  for (const char* code : {"A", "B"}) {
    auto* l = locs.add_locations();
    l->set_warehouse("bench");
    l->set_code(code);
  }
  if (auto r = c.upsertLocations(locs); !r.ok()) return r.status();

  for (std::int64_t first = 0; first < o.skus; first += o.batch) {
    v1::UpsertItemsRequest items;
    const std::int64_t last = std::min(o.skus, first + o.batch);
    for (std::int64_t i = first; i < last; ++i) {
      auto* it = items.add_items();
      it->set_sku(skuName(static_cast<std::uint64_t>(i)));
      it->set_description("bench item");
      it->set_unit("ea");
    }
    if (auto r = c.upsertItems(items); !r.ok()) return r.status();
  }
  for (std::int64_t first = 0; first < o.skus; first += o.batch) {
    v1::ApplyRequest req;
    const std::int64_t last = std::min(o.skus, first + o.batch);
    for (std::int64_t i = first; i < last; ++i) {
      auto* m = req.add_movements();
      const std::string sku = skuName(static_cast<std::uint64_t>(i));
      m->set_request_id("load-" + sku);  // the same every time: reloading is a no-op
      m->set_kind(v1::MOVEMENT_KIND_RECEIVE);
      m->set_sku(sku);
      m->set_location(kLocationA);
      m->set_quantity(o.on_hand);
      m->set_actor("bench-load");
    }
    auto r = c.apply(req);
    if (!r.ok()) return r.status();
    for (const auto& res : r->results()) {
      if (res.code() != 0 && res.code() != 6) {
        return absl::InternalError("loading stock: " + res.request_id() + ": " + res.message());
      }
    }
  }
  const double s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("loaded %lld SKUs at %s with %lld units each in %.1f s\n",
              static_cast<long long>(o.skus), kLocationA, static_cast<long long>(o.on_hand), s);
  return absl::OkStatus();
}

}  // namespace depot::bench
