#include <chrono>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench.h"
#include "client/client.h"
#include "sku_chooser.h"

namespace depot::bench {

absl::Status loadDataSet(const LoadOptions& o) {
  if (o.skus <= 0) return absl::InvalidArgumentError("--skus: must be > 0");
  if (o.batch <= 0 || o.batch > 10000) return absl::InvalidArgumentError("--batch: 1..10000");
  if (o.locations < 1 || o.locations > 99)
    return absl::InvalidArgumentError("--locations: must be between 1 and 99");
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
  std::vector<std::string> stocked = {"A"};
  for (std::int64_t k = 2; k <= o.locations; ++k) stocked.push_back(absl::StrFormat("S%02d", k));
  for (const std::string& code : stocked) {
    if (code == "A") continue;
    auto* l = locs.add_locations();
    l->set_warehouse("bench");
    l->set_code(code);
  }
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
  // One receive per (SKU, stocked location), o.batch per Apply call.
  const std::int64_t total = o.skus * o.locations;
  for (std::int64_t first = 0; first < total; first += o.batch) {
    v1::ApplyRequest req;
    const std::int64_t last = std::min(total, first + o.batch);
    for (std::int64_t n = first; n < last; ++n) {
      auto* m = req.add_movements();
      const std::string sku = skuName(static_cast<std::uint64_t>(n / o.locations));
      const std::string& code = stocked[static_cast<std::size_t>(n % o.locations)];
      // The same ids every time: reloading is a no-op.
      m->set_request_id(code == "A" ? "load-" + sku : absl::StrCat("load-", sku, "@", code));
      m->set_kind(v1::MOVEMENT_KIND_RECEIVE);
      m->set_sku(sku);
      m->set_location("bench/" + code);
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
  if (o.locations == 1)
    std::printf("loaded %lld SKUs at %s with %lld units each in %.1f s\n",
                static_cast<long long>(o.skus), kLocationA, static_cast<long long>(o.on_hand), s);
  else
    std::printf("loaded %lld SKUs at %lld locations (%lld balances) with %lld units each in %.1f s\n",
                static_cast<long long>(o.skus), static_cast<long long>(o.locations),
                static_cast<long long>(total), static_cast<long long>(o.on_hand), s);
  return absl::OkStatus();
}

}  // namespace depot::bench
