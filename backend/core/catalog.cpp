#include "core/catalog.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>

#include "absl/strings/str_cat.h"

namespace depot {
namespace {
// Debian's abseil keeps its own string_view type; bridge from std::string_view.
absl::string_view av(std::string_view s) { return {s.data(), s.size()}; }
}  // namespace

bool isValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated sequence
    for (std::size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong encodings, surrogates and out-of-range code points are invalid.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
      return false;
    i += n + 1;
  }
  return true;
}

static bool hasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; });
}

absl::Status validateText(std::string_view field, std::string_view value, std::size_t max_len,
                          bool required) {
  if (required && value.empty()) return absl::InvalidArgumentError(absl::StrCat(av(field), ": required"));
  if (value.size() > max_len)
    return absl::InvalidArgumentError(
        absl::StrCat(av(field), ": ", value.size(), " bytes exceeds the limit of ", max_len));
  if (!isValidUtf8(value))
    return absl::InvalidArgumentError(absl::StrCat(av(field), ": not valid UTF-8"));
  if (value.find('\0') != std::string_view::npos)
    return absl::InvalidArgumentError(absl::StrCat(av(field), ": contains a NUL byte"));
  return absl::OkStatus();
}

absl::Status validateName(std::string_view field, std::string_view value, std::size_t max_len,
                          bool required) {
  if (auto s = validateText(field, value, max_len, required); !s.ok()) return s;
  if (hasControl(value))
    return absl::InvalidArgumentError(absl::StrCat(av(field), ": contains a control character"));
  if (!value.empty() && (value.front() == ' ' || value.back() == ' '))
    return absl::InvalidArgumentError(absl::StrCat(av(field), ": leading or trailing space"));
  return absl::OkStatus();
}

absl::Status validateSku(std::string_view field, std::string_view sku) {
  if (auto s = validateName(field, sku, kMaxSkuLength, true); !s.ok()) return s;
  if (sku.find('/') != std::string_view::npos)
    return absl::InvalidArgumentError(absl::StrCat(av(field), ": '/' is not allowed in a SKU"));
  return absl::OkStatus();
}

absl::Status Catalog::load() {
  auto items = m_store.loadItems();
  if (!items.ok()) return items.status();
  auto locations = m_store.loadLocations();
  if (!locations.ok()) return locations.status();
  std::unique_lock lock(m_mutex);
  m_items.clear();
  m_itemIndexById.clear();
  m_itemIndexBySku.clear();
  m_itemIndexBySkuHash.clear();
  m_text.clear();
  m_locationByName.clear();
  m_locations.clear();
  m_items.reserve(items->size());
  m_itemIndexById.reserve(items->size());
  m_itemIndexBySkuHash.reserve(items->size());
  for (const auto& it : *items) putItem(it);
  for (auto& loc : *locations) {
    m_locationByName[loc.name()] = loc.id;
    m_locations[loc.id] = std::move(loc);
  }
  return absl::OkStatus();
}

std::string_view Catalog::TextArena::keep(std::string_view s) {
  if (s.empty()) return {};
  if (s.size() > kChunk) {  // never for validated fields; a chunk of its own
    m_chunks.push_back(std::make_unique<char[]>(s.size()));
    std::memcpy(m_chunks.back().get(), s.data(), s.size());
    m_used = kChunk;  // the next string starts a new chunk
    return {m_chunks.back().get(), s.size()};
  }
  if (m_chunks.empty() || m_used + s.size() > kChunk) {
    m_chunks.push_back(std::make_unique<char[]>(kChunk));
    m_used = 0;
  }
  char* at = m_chunks.back().get() + m_used;
  std::memcpy(at, s.data(), s.size());
  m_used += s.size();
  return {at, s.size()};
}

void Catalog::TextArena::clear() {
  m_chunks.clear();
  m_used = kChunk;
}

const Catalog::StoredItem* Catalog::findItem(ItemId id) const {
  auto it = m_itemIndexById.find(id);
  return it == m_itemIndexById.end() ? nullptr : &m_items[it->second];
}

const Catalog::StoredItem* Catalog::findSku(std::string_view sku) const {
  auto it = m_itemIndexBySkuHash.find(sku);
  return it == m_itemIndexBySkuHash.end() ? nullptr : &m_items[*it];
}

std::size_t Catalog::SkuHash::operator()(std::string_view sku) const {
  return absl::Hash<absl::string_view>{}(av(sku));
}

Item Catalog::toItem(const StoredItem& s) {
  Item it;
  it.id = s.id;
  it.sku = std::string(s.sku);
  it.description = std::string(s.description);
  it.unit = std::string(s.unit);
  it.reorder_point = s.reorder_point;
  it.reorder_qty = s.reorder_qty;
  it.shard = s.shard;
  return it;
}

void Catalog::putItem(const Item& item) {
  std::uint32_t index = 0;
  if (auto it = m_itemIndexById.find(item.id); it != m_itemIndexById.end()) {
    index = it->second;
    StoredItem& held = m_items[index];
    if (held.sku != item.sku) {  // never in practice: a SKU keeps its id
      m_itemIndexBySku.erase(held.sku);
      m_itemIndexBySkuHash.erase(index);  // hashed by its old SKU: erase before the change
      held.sku = m_text.keep(item.sku);
      m_itemIndexBySku[held.sku] = index;
      m_itemIndexBySkuHash.insert(index);
    }
  } else {
    index = static_cast<std::uint32_t>(m_items.size());
    m_items.emplace_back();
    m_items.back().sku = m_text.keep(item.sku);
    m_itemIndexById.emplace(item.id, index);
    m_itemIndexBySku.insert_or_assign(m_items.back().sku, index);
    m_itemIndexBySkuHash.insert(index);
  }
  StoredItem& held = m_items[index];
  held.id = item.id;
  held.shard = item.shard;
  held.reorder_point = item.reorder_point;
  held.reorder_qty = item.reorder_qty;
  if (held.description != item.description) held.description = m_text.keep(item.description);
  held.unit = *m_units.emplace(item.unit).first;
}

absl::Status Catalog::unknownSku(std::string_view sku) {
  return absl::NotFoundError(absl::StrCat("sku: unknown SKU '", av(sku), "'"));
}

absl::Status Catalog::unknownLocation(std::string_view name) {
  return absl::NotFoundError(absl::StrCat("location: unknown location '", av(name), "'"));
}

bool Catalog::refreshAfterMiss() const {
  if (!m_shared) return false;
  const std::int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                               std::chrono::steady_clock::now().time_since_epoch())
                               .count();
  std::int64_t last = m_lastRefresh.load();
  if (now - last < kRefreshIntervalMicros) return false;
  if (!m_lastRefresh.compare_exchange_strong(last, now)) return false;  // another thread reloads
  // The catalog is a cache of the store: reloading it does not change what
  // the object means, hence the const_cast.
  return const_cast<Catalog*>(this)->load().ok();
}

absl::StatusOr<Item> Catalog::item(std::string_view sku) const {
  if (auto found = findFresh([&] { return toFound(findSku(sku), toItem); }))
    return *std::move(found);
  return unknownSku(sku);
}

absl::StatusOr<Catalog::ItemRef> Catalog::itemRef(std::string_view sku) const {
  auto ref = [](const StoredItem& s) { return ItemRef{s.id, s.shard}; };
  if (auto found = findFresh([&] { return toFound(findSku(sku), ref); })) return *found;
  return unknownSku(sku);
}

std::optional<Item> Catalog::itemById(ItemId id) const {
  return findFresh([&] { return toFound(findItem(id), toItem); });
}

std::optional<Catalog::ReorderRule> Catalog::reorderRule(ItemId id) const {
  auto rule = [](const StoredItem& s) { return ReorderRule{s.reorder_point, s.reorder_qty}; };
  return findFresh([&] { return toFound(findItem(id), rule); });
}

std::string Catalog::skuOf(ItemId id) const {
  std::shared_lock lock(m_mutex);
  const StoredItem* found = findItem(id);
  return found ? std::string(found->sku) : std::string();
}

absl::StatusOr<LocationId> Catalog::locationId(std::string_view name) const {
  const auto slash = name.find('/');
  if (name.empty() || slash == std::string_view::npos || slash == 0 || slash + 1 == name.size())
    return absl::InvalidArgumentError(
        absl::StrCat("location: '", av(name), "' is not of the form WAREHOUSE/LOCATION"));
  auto found = findFresh([&]() -> std::optional<LocationId> {
    auto it = m_locationByName.find(av(name));
    if (it == m_locationByName.end()) return std::nullopt;
    return it->second;
  });
  if (found) return *found;
  return unknownLocation(name);
}

absl::StatusOr<Location> Catalog::location(std::string_view name) const {
  auto id = locationId(name);
  if (!id.ok()) return id.status();
  // A shared catalog may reload between the two lookups; ids are stable.
  if (auto loc = locationById(*id)) return *std::move(loc);
  return unknownLocation(name);
}

std::optional<Location> Catalog::locationById(LocationId id) const {
  return findFresh([&]() -> std::optional<Location> {
    auto it = m_locations.find(id);
    if (it == m_locations.end()) return std::nullopt;
    return it->second;
  });
}

std::string Catalog::locationName(LocationId id) const {
  std::shared_lock lock(m_mutex);
  auto it = m_locations.find(id);
  return it == m_locations.end() ? std::string() : it->second.name();
}

absl::StatusOr<std::vector<Item>> Catalog::upsertItems(std::vector<Item> items) {
  if (items.empty()) return std::vector<Item>{};
  if (items.size() > kMaxBatchMovements)
    return absl::InvalidArgumentError(absl::StrCat("items: ", items.size(),
                                                   " exceeds the limit of ", kMaxBatchMovements));
  for (std::size_t i = 0; i < items.size(); ++i) {
    auto& it = items[i];
    const std::string f = absl::StrCat("items[", i, "]");
    if (auto s = validateSku(f + ".sku", it.sku); !s.ok()) return s;
    if (auto s = validateText(f + ".description", it.description, kMaxTextLength, false); !s.ok())
      return s;
    if (it.unit.empty()) it.unit = "ea";
    if (auto s = validateName(f + ".unit", it.unit, kMaxNameLength, true); !s.ok()) return s;
    if (it.reorder_point < 0 || it.reorder_point > kMaxQuantity)
      return absl::InvalidArgumentError(f + ".reorder_point: must be between 0 and 1e12");
    if (it.reorder_qty < 0 || it.reorder_qty > kMaxQuantity)
      return absl::InvalidArgumentError(f + ".reorder_qty: must be between 0 and 1e12");
    it.shard = shardOf(it.sku);
  }
  // One writer at a time so ids handed out by the store match the maps.
  std::unique_lock lock(m_mutex);
  auto stored = m_store.upsertItems(items);
  if (!stored.ok()) return stored.status();
  for (const auto& it : *stored) putItem(it);
  return stored;
}

absl::StatusOr<std::vector<Location>> Catalog::upsertLocations(std::vector<Location> locations) {
  if (locations.empty()) return std::vector<Location>{};
  if (locations.size() > kMaxBatchMovements)
    return absl::InvalidArgumentError(absl::StrCat("locations: ", locations.size(),
                                                   " exceeds the limit of ", kMaxBatchMovements));
  for (std::size_t i = 0; i < locations.size(); ++i) {
    const std::string f = absl::StrCat("locations[", i, "]");
    if (auto s = validateName(f + ".warehouse", locations[i].warehouse, kMaxNameLength, true); !s.ok())
      return s;
    if (auto s = validateName(f + ".code", locations[i].code, kMaxNameLength, true); !s.ok())
      return s;
    if (locations[i].warehouse.find('/') != std::string::npos)
      return absl::InvalidArgumentError(f + ".warehouse: '/' is not allowed");
    if (locations[i].code.find('/') != std::string::npos)
      return absl::InvalidArgumentError(f + ".code: '/' is not allowed");
  }
  std::unique_lock lock(m_mutex);
  auto stored = m_store.upsertLocations(locations);
  if (!stored.ok()) return stored.status();
  for (const auto& loc : *stored) {
    m_locationByName[loc.name()] = loc.id;
    m_locations[loc.id] = loc;
  }
  return stored;
}

std::vector<Item> Catalog::items(std::string_view prefix, std::string_view after,
                                 std::size_t limit) const {
  std::vector<Item> out;
  std::shared_lock lock(m_mutex);
  auto it = after < prefix ? m_itemIndexBySku.lower_bound(prefix)
                           : m_itemIndexBySku.upper_bound(after);
  for (; it != m_itemIndexBySku.end() && out.size() < limit; ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;  // past the prefix range
    out.push_back(toItem(m_items[it->second]));
  }
  return out;
}

std::vector<Location> Catalog::locations(std::string_view warehouse) const {
  std::vector<Location> out;
  {
    std::shared_lock lock(m_mutex);
    for (const auto& [id, loc] : m_locations)
      if (warehouse.empty() || loc.warehouse == warehouse) out.push_back(loc);
  }
  std::sort(out.begin(), out.end(),
            [](const Location& a, const Location& b) { return a.name() < b.name(); });
  return out;
}

std::size_t Catalog::itemCount() const {
  std::shared_lock lock(m_mutex);
  return m_items.size();
}

}  // namespace depot
