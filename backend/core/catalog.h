// Catalog: items (SKUs) and locations, held in memory for the hot path and
// persisted through the Store. Thread-safe: many readers, rare writers.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_set.h"
#include "absl/status/statusor.h"
#include "core/model.h"
#include "store/store.h"

namespace depot {

class Catalog {
 public:
  explicit Catalog(Store& store) : m_store(store) {}
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  absl::Status load();  // from the store; call once before use
  // Shared store (a cluster): other nodes add items and locations, so a
  // lookup that misses reloads the catalog from the store first (at most
  // once per kRefreshInterval).
  void setShared(bool shared) { m_shared = shared; }
  static constexpr std::int64_t kRefreshIntervalMicros = 500'000;

  // NOT_FOUND "sku: unknown SKU 'X'" when absent.
  absl::StatusOr<Item> item(std::string_view sku) const;
  // What the write path needs of an item, without copying its strings (it
  // resolves every movement's SKU). Errors as item().
  struct ItemRef {
    ItemId id = 0;
    ShardId shard = 0;
  };
  absl::StatusOr<ItemRef> itemRef(std::string_view sku) const;
  std::optional<Item> itemById(ItemId id) const;
  // `name` is "warehouse/code". INVALID_ARGUMENT when malformed, NOT_FOUND when unknown.
  absl::StatusOr<Location> location(std::string_view name) const;
  absl::StatusOr<LocationId> locationId(std::string_view name) const;  // errors as location()
  std::optional<Location> locationById(LocationId id) const;
  std::string locationName(LocationId id) const;  // "" if unknown
  std::string skuOf(ItemId id) const;              // "" if unknown
  // An item's reorder rule without copying its strings (the alert rules ask
  // for it per touched item on the hot path and per item on a restart).
  struct ReorderRule {
    Qty reorder_point = 0;
    Qty reorder_qty = 0;
  };
  std::optional<ReorderRule> reorderRule(ItemId id) const;

  // Validates every field (the message names the row and field, e.g.
  // "items[4].reorder_point: must be >= 0"), then upserts all or nothing.
  absl::StatusOr<std::vector<Item>> upsertItems(std::vector<Item> items);
  absl::StatusOr<std::vector<Location>> upsertLocations(std::vector<Location> locations);

  // Items with sku > after and starting with prefix, sorted by SKU, at most limit.
  std::vector<Item> items(std::string_view prefix, std::string_view after, std::size_t limit) const;
  std::vector<Location> locations(std::string_view warehouse) const;  // "" = all, sorted
  std::size_t itemCount() const;

 private:
  // True when a reload ran (the caller looks again).
  bool refreshAfterMiss() const;
  // Runs `find` (returning a std::optional) under the shared lock; when it
  // finds nothing in a shared catalog, reloads once and runs it again.
  template <typename Find>
  auto findFresh(Find&& find) const -> decltype(find()) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      {
        std::shared_lock lock(m_mutex);
        if (auto found = find()) return found;
      }
      if (attempt == 0 && !refreshAfterMiss()) break;
    }
    return std::nullopt;
  }
  // f(*stored) when stored is not null, for findFresh.
  template <typename T, typename F>
  static auto toFound(const T* stored, F&& f) -> std::optional<decltype(f(*stored))> {
    if (stored == nullptr) return std::nullopt;
    return f(*stored);
  }
  static absl::Status unknownSku(std::string_view sku);        // NOT_FOUND naming "sku"
  static absl::Status unknownLocation(std::string_view name);  // NOT_FOUND naming "location"

  Store& m_store;
  bool m_shared = false;
  mutable std::atomic<std::int64_t> m_lastRefresh{0};
  mutable std::shared_mutex m_mutex;
  // Append-only storage for the catalog's strings: a view stays valid until
  // clear(). A replaced description leaves its old bytes behind until the
  // next full load() (descriptions rarely change; a reload compacts).
  class TextArena {
   public:
    std::string_view keep(std::string_view s);
    void clear();

   private:
    static constexpr std::size_t kChunk = 1 << 20;
    std::vector<std::unique_ptr<char[]>> m_chunks;
    std::size_t m_used = kChunk;  // bytes used in the last chunk
  };
  // An item as held: ~72 bytes plus its SKU and description once in the
  // arena (an Item with three std::strings was 128 bytes, and its SKU was
  // copied again into the index).
  struct StoredItem {
    ItemId id = 0;
    ShardId shard = 0;
    Qty reorder_point = 0;
    Qty reorder_qty = 0;
    std::string_view sku;          // in m_text
    std::string_view description;  // in m_text
    std::string_view unit;         // in m_units
  };
  // Items are held once, densely, in m_items; both indexes point into it.
  // The SKU index is ordered, so a page of items() costs O(log n + limit)
  // rather than a scan of the whole catalog (10 M items in a big depot).
  const StoredItem* findItem(ItemId id) const;  // nullptr when absent; m_mutex held
  const StoredItem* findSku(std::string_view sku) const;  // nullptr when absent; m_mutex held
  void putItem(const Item& item);               // insert or replace; m_mutex held exclusively
  static Item toItem(const StoredItem& s);
  TextArena m_text;
  absl::node_hash_set<std::string> m_units;  // interned: a handful of distinct units
  std::vector<StoredItem> m_items;
  absl::flat_hash_map<ItemId, std::uint32_t> m_itemIndexById;
  absl::btree_map<std::string_view, std::uint32_t> m_itemIndexBySku;  // keys view m_text
  // Point lookups by SKU: a hash set of indexes into m_items (4 bytes a
  // slot), probed with the SKU itself. A lookup in the ordered index above
  // compared strings at every level of the tree: 6-7 % of depotd's CPU
  // under batches of 1,000 movements (perf, session 11).
  struct SkuHash {
    using is_transparent = void;
    const std::vector<StoredItem>* items;
    std::size_t operator()(std::string_view sku) const;
    std::size_t operator()(std::uint32_t index) const { return (*this)((*items)[index].sku); }
  };
  struct SkuEq {
    using is_transparent = void;
    const std::vector<StoredItem>* items;
    std::string_view sku(std::uint32_t index) const { return (*items)[index].sku; }
    static std::string_view sku(std::string_view s) { return s; }
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      return sku(a) == sku(b);
    }
  };
  absl::flat_hash_set<std::uint32_t, SkuHash, SkuEq> m_itemIndexBySkuHash{0, SkuHash{&m_items},
                                                                          SkuEq{&m_items}};
  absl::flat_hash_map<std::string, LocationId> m_locationByName;
  absl::flat_hash_map<LocationId, Location> m_locations;
};

// Field validation shared by the catalog and the service. Each returns
// INVALID_ARGUMENT naming `field` on failure.
absl::Status validateSku(std::string_view field, std::string_view sku);
absl::Status validateName(std::string_view field, std::string_view value, std::size_t max_len,
                          bool required);
absl::Status validateText(std::string_view field, std::string_view value, std::size_t max_len,
                          bool required);
bool isValidUtf8(std::string_view s);

}  // namespace depot
