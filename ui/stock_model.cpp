#include "ui/stock_model.h"

#include <QColor>
#include <QDateTime>
#include <QIODevice>
#include <QLocale>
#include <QPalette>
#include <QTextStream>
#include <algorithm>
#include <numeric>

namespace depot::ui {

namespace {

QString csvField(const QString& s) {
  if (!s.contains(',') && !s.contains('"') && !s.contains('\n')) return s;
  QString q = s;
  q.replace('"', QStringLiteral("\"\""));
  return '"' + q + '"';
}

// Ranks of interned strings, for integer comparisons while sorting.
std::vector<int> ranks(const QVector<QString>& pool) {
  std::vector<int> order(static_cast<std::size_t>(pool.size()));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) { return QString::compare(pool[a], pool[b], Qt::CaseInsensitive) < 0; });
  std::vector<int> rank(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) rank[static_cast<std::size_t>(order[i])] = static_cast<int>(i);
  return rank;
}

}  // namespace

// What a sort needs, taken on the UI thread and read only by the sorter.
// The string pools are implicitly shared (copy-on-write: the UI thread
// detaches if it interns a new string meanwhile); the columns are plain
// copies (memcpy-fast), so the store stays free to change.
struct StockModel::SortSnapshot {
  int column = -1;
  bool ascending = true;
  QVector<QString> skus, locs, descriptions;
  std::vector<int> view;            // store rows shown, in view order
  std::vector<int> rowSku, rowLoc;  // by store row
  std::vector<qint64> a, b;         // the key column(s), by store row (by sku id for kReorderPoint)

  // The store rows of `view` in the requested order; ties by SKU then
  // location, so the order is stable and predictable. Returns false (and
  // leaves *out alone) when `cancelled` says so between phases.
  template <typename Cancelled>
  bool sorted(std::vector<int>* out, Cancelled cancelled) const {
    const std::vector<int> skuRank = ranks(skus);
    const std::vector<int> locRank = ranks(locs);
    std::vector<int> descRank;
    if (column == kDescription) descRank = ranks(descriptions);
    if (cancelled()) return false;
    auto key = [&](std::size_t r) -> qint64 {
      const auto sku = static_cast<std::size_t>(rowSku[r]);
      switch (column) {
        case kSku: return skuRank[sku];
        case kDescription: return descRank[sku];
        case kWarehouse:
        case kLocation: return locRank[static_cast<std::size_t>(rowLoc[r])];
        case kOnHand:
        case kReserved:
        case kUpdated: return a[r];
        case kAvailable: return a[r] - b[r];
        case kReorderPoint: return a[sku];
      }
      return 0;
    };
    // Sort compact records (not indexes into the columns): cache friendly.
    struct Item {
      qint64 key;
      int skuRank, locRank, row;
    };
    std::vector<Item> items;
    items.reserve(view.size());
    for (int row : view) {
      const auto r = static_cast<std::size_t>(row);
      items.push_back({key(r), skuRank[static_cast<std::size_t>(rowSku[r])], locRank[static_cast<std::size_t>(rowLoc[r])], row});
    }
    if (cancelled()) return false;
    const bool asc = ascending;
    std::sort(items.begin(), items.end(), [asc](const Item& x, const Item& y) {
      if (x.key != y.key) return asc ? x.key < y.key : x.key > y.key;
      if (x.skuRank != y.skuRank) return x.skuRank < y.skuRank;
      return x.locRank < y.locRank;
    });
    if (cancelled()) return false;
    out->resize(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) (*out)[i] = items[i].row;
    return true;
  }
};

StockModel::StockModel(QObject* parent) : QAbstractTableModel(parent) {
  m_sortPool.setMaxThreadCount(1);
  m_sortPool.setObjectName(QStringLiteral("stock-sort"));
  m_clock.start();
  m_flushTimer.setInterval(200);
  connect(&m_flushTimer, &QTimer::timeout, this, &StockModel::flushPending);
  m_flushTimer.start();
}

StockModel::~StockModel() {
  ++*m_sortGeneration;
  m_sortPool.waitForDone();
}

int StockModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(m_view.size());
}

int StockModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : kColumnCount; }

QVariant StockModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case kSku: return tr("SKU");
    case kDescription: return tr("Description");
    case kWarehouse: return tr("Warehouse");
    case kLocation: return tr("Location");
    case kOnHand: return tr("On hand");
    case kReserved: return tr("Reserved");
    case kAvailable: return tr("Available");
    case kReorderPoint: return tr("Reorder point");
    case kUpdated: return tr("Updated");
    default: return {};
  }
}

QVariant StockModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const int r = m_view[static_cast<std::size_t>(index.row())];
  const auto ur = static_cast<std::size_t>(r);
  const int sku = m_rowSku[ur];
  const int loc = m_rowLoc[ur];
  const qint64 available = m_onHand[ur] - m_reserved[ur];
  const bool low = m_reorderPoint[static_cast<std::size_t>(sku)] > 0 &&
                   m_skuAvailable[static_cast<std::size_t>(sku)] < m_reorderPoint[static_cast<std::size_t>(sku)];
  switch (role) {
    case Qt::DisplayRole:
      switch (index.column()) {
        case kSku: return m_skus[sku];
        case kDescription: return m_descriptions[sku];
        case kWarehouse: return m_warehouses[m_locWarehouse[static_cast<std::size_t>(loc)]];
        case kLocation: return m_locs[loc].section('/', 1);
        case kOnHand: return m_onHand[ur];
        case kReserved: return m_reserved[ur];
        case kAvailable: return available;
        case kReorderPoint: return m_reorderPoint[static_cast<std::size_t>(sku)];
        case kUpdated:
          return m_updatedUs[ur] > 0
                     ? QDateTime::fromMSecsSinceEpoch(m_updatedUs[ur] / 1000).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"))
                     : QString();
      }
      return {};
    case Qt::TextAlignmentRole:
      return index.column() >= kOnHand && index.column() <= kReorderPoint
                 ? QVariant(Qt::AlignRight | Qt::AlignVCenter)
                 : QVariant(Qt::AlignLeft | Qt::AlignVCenter);
    case Qt::BackgroundRole: {
      const qint64 age = nowMs() - m_flashAt[ur];
      if (m_flashAt[ur] > 0 && age < kFlashMs) {
        QColor c(70, 140, 255);
        c.setAlpha(static_cast<int>(150 * (kFlashMs - age) / kFlashMs) + 30);
        return c;
      }
      if (m_onHand[ur] == 0) return QColor(220, 50, 50, 70);
      if (low) return QColor(240, 170, 0, 60);
      return {};
    }
    case Qt::ToolTipRole:
      if (m_onHand[ur] == 0) return tr("Out of stock at this location");
      if (low) return tr("Total available for this SKU is below its reorder point");
      return {};
    case kSkuRole: return m_skus[sku];
    case kLowRole: return low;
    default: return {};
  }
}

int StockModel::skuId(const QString& sku) {
  auto it = m_skuIds.constFind(sku);
  if (it != m_skuIds.constEnd()) return *it;
  const int id = static_cast<int>(m_skus.size());
  m_skus.push_back(sku);
  m_skuIds.insert(sku, id);
  m_descriptions.push_back(QString());
  m_reorderPoint.push_back(0);
  m_skuAvailable.push_back(0);
  return id;
}

int StockModel::locId(const QString& location) {
  auto it = m_locIds.constFind(location);
  if (it != m_locIds.constEnd()) return *it;
  const int id = static_cast<int>(m_locs.size());
  m_locs.push_back(location);
  m_locIds.insert(location, id);
  const QString wh = location.section('/', 0, 0);
  int w = static_cast<int>(m_warehouses.indexOf(wh));
  if (w < 0) {
    w = static_cast<int>(m_warehouses.size());
    m_warehouses << wh;
  }
  m_locWarehouse.push_back(w);
  return id;
}

int StockModel::rowFor(int sku, int loc, bool* created) {
  const quint64 key = (quint64(quint32(sku)) << 32) | quint32(loc);
  auto it = m_rowOf.constFind(key);
  if (it != m_rowOf.constEnd()) {
    *created = false;
    return *it;
  }
  *created = true;
  const int r = static_cast<int>(m_rowSku.size());
  m_rowSku.push_back(sku);
  m_rowLoc.push_back(loc);
  m_onHand.push_back(0);
  m_reserved.push_back(0);
  m_updatedUs.push_back(0);
  m_flashAt.push_back(0);
  m_viewPos.push_back(-1);
  m_rowOf.insert(key, r);
  return r;
}

void StockModel::replaceAll(const QVector<session::StockRowValue>& rows) {
  beginResetModel();
  m_rowSku.clear();
  m_rowLoc.clear();
  m_onHand.clear();
  m_reserved.clear();
  m_updatedUs.clear();
  m_flashAt.clear();
  m_viewPos.clear();
  m_rowOf.clear();
  m_rowOf.reserve(rows.size());
  std::fill(m_skuAvailable.begin(), m_skuAvailable.end(), 0);
  for (const auto& v : rows) {
    const int s = skuId(v.sku);
    if (!v.description.isEmpty()) m_descriptions[s] = v.description;
    if (v.reorderPoint) m_reorderPoint[static_cast<std::size_t>(s)] = v.reorderPoint;
    bool created = false;
    const auto r = static_cast<std::size_t>(rowFor(s, locId(v.location), &created));
    m_skuAvailable[static_cast<std::size_t>(s)] += (v.onHand - v.reserved) - (m_onHand[r] - m_reserved[r]);
    m_onHand[r] = v.onHand;
    m_reserved[r] = v.reserved;
    m_updatedUs[r] = v.updatedUs;
  }
  m_pendingAppend.clear();
  m_dirtyMin = m_dirtyMax = -1;
  m_flashRanges.clear();
  rebuildView();
  sortView();
  endResetModel();
}

void StockModel::setCatalog(const QVector<session::ItemValue>& items) {
  for (const auto& i : items) {
    const int s = skuId(i.sku);
    m_descriptions[s] = i.description;
    m_reorderPoint[static_cast<std::size_t>(s)] = i.reorderPoint;
  }
  if (!m_view.empty())
    emit dataChanged(index(0, 0), index(rowCount() - 1, kColumnCount - 1));
}

void StockModel::applyEntries(const QVector<session::LedgerEntryValue>& entries) {
  const qint64 now = nowMs();
  for (const auto& e : entries) {
    const int s = skuId(e.sku);
    bool created = false;
    const int row = rowFor(s, locId(e.location), &created);
    const auto r = static_cast<std::size_t>(row);
    m_skuAvailable[static_cast<std::size_t>(s)] += (e.onHandAfter - e.reservedAfter) - (m_onHand[r] - m_reserved[r]);
    m_onHand[r] = e.onHandAfter;
    m_reserved[r] = e.reservedAfter;
    m_updatedUs[r] = e.tsUs;
    m_flashAt[r] = now;
    if (created) {
      if (accepts(row)) {
        m_viewPos[r] = -2;  // pending append
        m_pendingAppend.push_back(row);
      }
    } else if (m_viewPos[r] >= 0) {
      const int p = m_viewPos[r];
      m_dirtyMin = m_dirtyMin < 0 ? p : std::min(m_dirtyMin, p);
      m_dirtyMax = std::max(m_dirtyMax, p);
    }
  }
}

void StockModel::flushPending() {
  const qint64 now = nowMs();
  if (!m_pendingAppend.empty()) {
    const int first = static_cast<int>(m_view.size());
    beginInsertRows({}, first, first + static_cast<int>(m_pendingAppend.size()) - 1);
    for (int r : m_pendingAppend) {
      m_viewPos[static_cast<std::size_t>(r)] = static_cast<int>(m_view.size());
      m_view.push_back(r);
    }
    endInsertRows();
    m_pendingAppend.clear();
  }
  // Expired flashes repaint once more (back to their normal colour).
  for (auto it = m_flashRanges.begin(); it != m_flashRanges.end();) {
    if (it->until <= now) {
      if (it->max < rowCount()) {
        m_dirtyMin = m_dirtyMin < 0 ? it->min : std::min(m_dirtyMin, it->min);
        m_dirtyMax = std::max(m_dirtyMax, it->max);
      }
      it = m_flashRanges.erase(it);
    } else {
      ++it;
    }
  }
  if (m_dirtyMin >= 0) {
    const int lo = m_dirtyMin, hi = std::min(m_dirtyMax, rowCount() - 1);
    m_dirtyMin = m_dirtyMax = -1;
    if (lo <= hi) {
      m_flashRanges.push_back({now + kFlashMs, lo, hi});
      emit dataChanged(index(lo, 0), index(hi, kColumnCount - 1),
                       {Qt::DisplayRole, Qt::BackgroundRole, Qt::ToolTipRole});
    }
  }
}

bool StockModel::accepts(int storeRow) const {
  const auto r = static_cast<std::size_t>(storeRow);
  const int sku = m_rowSku[r];
  const int loc = m_rowLoc[r];
  const auto& f = m_filter;
  if (!f.text.isEmpty() && !m_skus[sku].contains(f.text, Qt::CaseInsensitive) &&
      !m_descriptions[sku].contains(f.text, Qt::CaseInsensitive))
    return false;
  if (!f.warehouse.isEmpty() &&
      m_warehouses[m_locWarehouse[static_cast<std::size_t>(loc)]].compare(f.warehouse, Qt::CaseInsensitive) != 0)
    return false;
  if (!f.location.isEmpty() && !m_locs[loc].contains(f.location, Qt::CaseInsensitive)) return false;
  if (f.belowReorder) {
    const auto s = static_cast<std::size_t>(sku);
    if (!(m_reorderPoint[s] > 0 && m_skuAvailable[s] < m_reorderPoint[s])) return false;
  }
  return true;
}

void StockModel::rebuildView() {
  // Per-string verdicts first, so the per-row test is two array lookups.
  const auto& f = m_filter;
  std::vector<char> skuOk(static_cast<std::size_t>(m_skus.size()), 1);
  std::vector<char> locOk(static_cast<std::size_t>(m_locs.size()), 1);
  for (int s = 0; s < m_skus.size(); ++s) {
    const auto us = static_cast<std::size_t>(s);
    bool ok = f.text.isEmpty() || m_skus[s].contains(f.text, Qt::CaseInsensitive) ||
              m_descriptions[s].contains(f.text, Qt::CaseInsensitive);
    if (ok && f.belowReorder) ok = m_reorderPoint[us] > 0 && m_skuAvailable[us] < m_reorderPoint[us];
    skuOk[us] = ok;
  }
  for (int l = 0; l < m_locs.size(); ++l) {
    bool ok = f.location.isEmpty() || m_locs[l].contains(f.location, Qt::CaseInsensitive);
    if (ok && !f.warehouse.isEmpty())
      ok = m_warehouses[m_locWarehouse[static_cast<std::size_t>(l)]].compare(f.warehouse, Qt::CaseInsensitive) == 0;
    locOk[static_cast<std::size_t>(l)] = ok;
  }
  m_view.clear();
  m_view.reserve(m_rowSku.size());
  std::fill(m_viewPos.begin(), m_viewPos.end(), -1);
  for (std::size_t r = 0; r < m_rowSku.size(); ++r) {
    if (skuOk[static_cast<std::size_t>(m_rowSku[r])] && locOk[static_cast<std::size_t>(m_rowLoc[r])])
      m_view.push_back(static_cast<int>(r));
  }
  m_pendingAppend.clear();
}

StockModel::SortSnapshot StockModel::takeSortSnapshot() const {
  SortSnapshot snap;
  snap.column = m_sortColumn;
  snap.ascending = m_sortOrder == Qt::AscendingOrder;
  snap.skus = m_skus;
  snap.locs = m_locs;
  if (m_sortColumn == kDescription) snap.descriptions = m_descriptions;
  snap.view = m_view;
  snap.rowSku = m_rowSku;
  snap.rowLoc = m_rowLoc;
  switch (m_sortColumn) {
    case kOnHand: snap.a = m_onHand; break;
    case kReserved: snap.a = m_reserved; break;
    case kAvailable:
      snap.a = m_onHand;
      snap.b = m_reserved;
      break;
    case kReorderPoint: snap.a = m_reorderPoint; break;
    case kUpdated: snap.a = m_updatedUs; break;
    default: break;
  }
  return snap;
}

void StockModel::sortView() {
  ++*m_sortGeneration;  // supersedes a sort in flight
  m_sortRunning = false;
  if (m_sortColumn >= 0) takeSortSnapshot().sorted(&m_view, [] { return false; });
  for (std::size_t i = 0; i < m_view.size(); ++i) m_viewPos[static_cast<std::size_t>(m_view[i])] = static_cast<int>(i);
}

void StockModel::setFilter(const Filter& filter) {
  if (filter == m_filter) return;
  flushPending();
  beginResetModel();
  m_filter = filter;
  m_flashRanges.clear();
  m_dirtyMin = m_dirtyMax = -1;
  rebuildView();
  sortView();
  endResetModel();
}

void StockModel::sort(int column, Qt::SortOrder order) {
  if (column < 0 || column >= kColumnCount) return;
  flushPending();
  m_sortColumn = column;
  m_sortOrder = order;
  const quint64 gen = ++*m_sortGeneration;
  auto snap = std::make_shared<const SortSnapshot>(takeSortSnapshot());
  if (static_cast<int>(m_view.size()) < m_asyncSortThreshold) {
    m_sortRunning = false;
    std::vector<int> sorted;
    snap->sorted(&sorted, [] { return false; });
    applySortedView(std::move(sorted));
    return;
  }
  m_sortRunning = true;
  // The worker touches only the snapshot and the shared generation; `this`
  // is used only to post the result, and ~StockModel waits for the pool.
  m_sortPool.start([this, snap, gen, latest = m_sortGeneration] {
    auto stale = [&] { return latest->load() != gen; };
    if (stale()) return;
    auto sorted = std::make_shared<std::vector<int>>();
    if (!snap->sorted(sorted.get(), stale)) return;
    const std::size_t size = snap->view.size();
    QMetaObject::invokeMethod(
        this, [this, gen, size, sorted] { finishSort(gen, size, std::move(*sorted)); }, Qt::QueuedConnection);
  });
}

void StockModel::finishSort(quint64 gen, std::size_t snapshotSize, std::vector<int> sorted) {
  if (gen != m_sortGeneration->load()) return;  // superseded meanwhile
  m_sortRunning = false;
  flushPending();
  // Only appends change m_view without a new generation: the rows past the
  // snapshot arrived meanwhile and keep their place after the sorted ones.
  sorted.insert(sorted.end(), m_view.begin() + static_cast<std::ptrdiff_t>(snapshotSize), m_view.end());
  applySortedView(std::move(sorted));
}

void StockModel::applySortedView(std::vector<int> view) {
  emit layoutAboutToBeChanged({}, QAbstractItemModel::VerticalSortHint);
  // Remember the store rows behind persistent indexes (selection, current).
  const QModelIndexList persistent = persistentIndexList();
  std::vector<int> storeRows;
  storeRows.reserve(static_cast<std::size_t>(persistent.size()));
  for (const auto& i : persistent) storeRows.push_back(m_view[static_cast<std::size_t>(i.row())]);
  m_view = std::move(view);
  for (std::size_t i = 0; i < m_view.size(); ++i) m_viewPos[static_cast<std::size_t>(m_view[i])] = static_cast<int>(i);
  m_flashRanges.clear();
  m_dirtyMin = m_dirtyMax = -1;
  QModelIndexList to;
  to.reserve(persistent.size());
  for (qsizetype i = 0; i < persistent.size(); ++i)
    to << index(m_viewPos[static_cast<std::size_t>(storeRows[static_cast<std::size_t>(i)])], persistent[i].column());
  changePersistentIndexList(persistent, to);
  emit layoutChanged({}, QAbstractItemModel::VerticalSortHint);
  emit sortFinished();
}

session::StockRowValue StockModel::rowValue(int viewRow) const {
  session::StockRowValue v;
  if (viewRow < 0 || viewRow >= rowCount()) return v;
  const auto r = static_cast<std::size_t>(m_view[static_cast<std::size_t>(viewRow)]);
  const int sku = m_rowSku[r];
  v.sku = m_skus[sku];
  v.location = m_locs[m_rowLoc[r]];
  v.onHand = m_onHand[r];
  v.reserved = m_reserved[r];
  v.reorderPoint = m_reorderPoint[static_cast<std::size_t>(sku)];
  v.updatedUs = m_updatedUs[r];
  v.description = m_descriptions[sku];
  return v;
}

QVector<session::StockRowValue> StockModel::viewRows() const {
  QVector<session::StockRowValue> out;
  out.reserve(rowCount());
  for (int i = 0; i < rowCount(); ++i) out.push_back(rowValue(i));
  return out;
}

void StockModel::writeCsv(const QVector<session::StockRowValue>& rows, QIODevice* out) {
  QTextStream ts(out);
  ts << "sku,description,warehouse,location,on_hand,reserved,available,reorder_point,updated\n";
  for (const auto& r : rows) {
    ts << csvField(r.sku) << ',' << csvField(r.description) << ',' << csvField(r.location.section('/', 0, 0)) << ','
       << csvField(r.location.section('/', 1)) << ',' << r.onHand << ',' << r.reserved << ','
       << (r.onHand - r.reserved) << ',' << r.reorderPoint << ','
       << (r.updatedUs > 0 ? QDateTime::fromMSecsSinceEpoch(r.updatedUs / 1000, Qt::UTC).toString(Qt::ISODate) : QString())
       << '\n';
  }
}

}  // namespace depot::ui
