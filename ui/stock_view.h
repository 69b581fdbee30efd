// StockView: filter bar + the stock table + CSV export of the rows shown.
// Filtering is debounced (150 ms) so typing stays smooth on 1M rows.
#pragma once

#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QTableView>
#include <QTimer>
#include <QWidget>

#include "ui/stock_model.h"

namespace depot::ui {

class StockView final : public QWidget {
  Q_OBJECT
 public:
  explicit StockView(StockModel* model, QWidget* parent = nullptr);
  QTableView* table() const { return m_table; }
  void focusFilter();
  // Exports the current view to `path` on a background thread.
  void exportCsv(const QString& path);

 public slots:
  void exportCsvInteractive();
  void refreshWarehouses();

 signals:
  void openItem(const QString& sku);
  void exportFinished(bool ok, const QString& text);

 private:
  void applyFilter();
  StockModel* m_model;
  QLineEdit* m_text;
  QComboBox* m_warehouse;
  QLineEdit* m_location;
  QCheckBox* m_below;
  QLabel* m_count;
  QTableView* m_table;
  QTimer m_debounce;
};

}  // namespace depot::ui
