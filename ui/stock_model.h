// StockModel: the stock table (one row per sku × location) as a passive
// QAbstractTableModel over a compact columnar store, built for 1,000,000
// rows and bursts of 20,000 updates/s.
//
// - Storage: interned SKU/location ids plus parallel integer columns; a hash
//   from (sku id, location id) to the store row.
// - Filter and sort are an index (m_view: the store rows shown, in order)
//   rebuilt by setFilter()/sort(), not a QSortFilterProxyModel: filtering
//   and sorting 1M rows this way costs tens of milliseconds.
// - sort() records the requested order at once. With at least
//   asyncSortThreshold() rows shown, the sorted index is computed on a worker
//   thread from a snapshot (string pools shared copy-on-write, key columns
//   copied) and swapped in on the UI thread with one layoutAboutToBeChanged/
//   layoutChanged (persistent indexes follow their rows); until then the view
//   shows the old order and stays usable. A newer sort(), setFilter() or
//   replaceAll() supersedes a sort in flight (generation counter; the stale
//   result is dropped). Rows appended while a sort runs go after the sorted
//   rows. Smaller views, and the re-sort done by setFilter()/replaceAll(),
//   sort synchronously.
// - Live updates change the store at once but signal lazily: flushPending()
//   (driven by a timer, ~5 Hz) emits ONE beginInsertRows for new rows and ONE
//   ranged dataChanged covering the changed view rows. Rows changed while
//   sorted keep their place until the next sort (a table that reorders under
//   the reader's eyes is unusable); new rows are appended.
// - Changed rows flash for kFlashMs; low (SKU total available below its
//   reorder point) and zero rows are tinted (alpha tints: fine in dark and
//   light palettes).
// UI thread only.
#pragma once

#include <QAbstractTableModel>
#include <QElapsedTimer>
#include <QHash>
#include <QThreadPool>
#include <QTimer>
#include <QVector>
#include <atomic>
#include <memory>
#include <vector>

#include "session/session_types.h"

namespace depot::ui {

class StockModel final : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { kSku, kDescription, kWarehouse, kLocation, kOnHand, kReserved, kAvailable, kReorderPoint, kUpdated, kColumnCount };
  enum Role { kSkuRole = Qt::UserRole + 1, kLowRole };
  static constexpr int kFlashMs = 1200;

  struct Filter {
    QString text;       // SKU or description contains (case-insensitive)
    QString warehouse;  // exact warehouse name; empty: any
    QString location;   // location code or "warehouse/code" contains
    bool belowReorder = false;
    bool operator==(const Filter&) const = default;
  };

  static constexpr int kDefaultAsyncSortThreshold = 50'000;

  explicit StockModel(QObject* parent = nullptr);
  // Drops any sort in flight and waits for its worker to stop.
  ~StockModel() override;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
  void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;

  void replaceAll(const QVector<session::StockRowValue>& rows);
  void setCatalog(const QVector<session::ItemValue>& items);
  // Updates the store now; signals on the next flushPending().
  void applyEntries(const QVector<session::LedgerEntryValue>& entries);
  void setFilter(const Filter& filter);
  const Filter& filter() const { return m_filter; }
  // Emits the coalesced signals. Called by the internal timer (every
  // intervalMs); public for tests.
  void flushPending();
  void setFlushInterval(int ms) { m_flushTimer.setInterval(ms); }

  // Views with at least this many rows sort on a worker thread (0: always).
  void setAsyncSortThreshold(int rows) { m_asyncSortThreshold = rows; }
  int asyncSortThreshold() const { return m_asyncSortThreshold; }
  // True while an asynchronous sort is computing (the old order is shown).
  bool isSorting() const { return m_sortRunning; }

  int storeSize() const { return static_cast<int>(m_rowSku.size()); }
  QStringList warehouses() const { return m_warehouses; }
  session::StockRowValue rowValue(int viewRow) const;
  // The rows shown, in view order (for CSV export on another thread).
  QVector<session::StockRowValue> viewRows() const;
  static void writeCsv(const QVector<session::StockRowValue>& rows, QIODevice* out);

 signals:
  // The index for the latest sort() is in place (synchronous or not).
  void sortFinished();

 private:
  struct SortSnapshot;
  int skuId(const QString& sku);
  int locId(const QString& location);
  int rowFor(int sku, int loc, bool* created);
  bool accepts(int storeRow) const;
  void rebuildView();
  // Sorts m_view now by the requested order (superseding any sort in
  // flight) and rebuilds m_viewPos.
  void sortView();
  SortSnapshot takeSortSnapshot() const;
  // Runs on the UI thread when the worker for generation `gen` is done.
  void finishSort(quint64 gen, std::size_t snapshotSize, std::vector<int> sorted);
  // Swaps in a new view order (same rows) with layout signals.
  void applySortedView(std::vector<int> view);
  qint64 nowMs() const { return m_clock.elapsed(); }

  // Interned strings.
  QVector<QString> m_skus;
  QHash<QString, int> m_skuIds;
  QVector<QString> m_descriptions;      // by sku id
  std::vector<qint64> m_reorderPoint;   // by sku id
  std::vector<qint64> m_skuAvailable;   // by sku id: total available over locations
  QVector<QString> m_locs;              // "warehouse/code"
  QHash<QString, int> m_locIds;
  std::vector<int> m_locWarehouse;      // by loc id
  QStringList m_warehouses;
  // Columns by store row.
  std::vector<int> m_rowSku, m_rowLoc;
  std::vector<qint64> m_onHand, m_reserved, m_updatedUs, m_flashAt;
  QHash<quint64, int> m_rowOf;
  // The view index.
  std::vector<int> m_view;     // view row -> store row
  std::vector<int> m_viewPos;  // store row -> view row, -1 when filtered out
  Filter m_filter;
  int m_sortColumn = -1;
  Qt::SortOrder m_sortOrder = Qt::AscendingOrder;
  // Pending signals.
  std::vector<int> m_pendingAppend;  // store rows to append to the view
  int m_dirtyMin = -1, m_dirtyMax = -1;
  struct FlashRange {
    qint64 until;
    int min, max;
  };
  std::vector<FlashRange> m_flashRanges;
  QElapsedTimer m_clock;
  QTimer m_flushTimer;
  // Asynchronous sort. m_sortGeneration is shared with workers: a worker
  // whose generation is no longer current stops early and publishes nothing.
  int m_asyncSortThreshold = kDefaultAsyncSortThreshold;
  bool m_sortRunning = false;
  std::shared_ptr<std::atomic<quint64>> m_sortGeneration = std::make_shared<std::atomic<quint64>>(0);
  QThreadPool m_sortPool;  // one thread: queued stale jobs exit at once
};

}  // namespace depot::ui
