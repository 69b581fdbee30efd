#include "ui/stock_view.h"

#include <QFile>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QPushButton>
#include <QSaveFile>
#include <QThread>
#include <QVBoxLayout>
#include <algorithm>

namespace depot::ui {

StockView::StockView(StockModel* model, QWidget* parent) : QWidget(parent), m_model(model) {
  auto* lay = new QVBoxLayout(this);
  auto* bar = new QHBoxLayout;
  m_text = new QLineEdit(this);
  m_text->setPlaceholderText(tr("SKU or description"));
  m_text->setClearButtonEnabled(true);
  m_warehouse = new QComboBox(this);
  m_warehouse->addItem(tr("All warehouses"), QString());
  m_location = new QLineEdit(this);
  m_location->setPlaceholderText(tr("Location"));
  m_location->setClearButtonEnabled(true);
  m_below = new QCheckBox(tr("Below reorder point"), this);
  auto* exportButton = new QPushButton(tr("Export CSV…"), this);
  exportButton->setToolTip(tr("Export the rows shown (Ctrl+E)"));
  m_count = new QLabel(this);
  bar->addWidget(new QLabel(tr("Filter:"), this));
  bar->addWidget(m_text, 2);
  bar->addWidget(m_warehouse);
  bar->addWidget(m_location, 1);
  bar->addWidget(m_below);
  bar->addStretch();
  bar->addWidget(m_count);
  bar->addWidget(exportButton);
  lay->addLayout(bar);

  m_table = new QTableView(this);
  m_table->setModel(m_model);
  m_table->setSortingEnabled(true);
  m_table->horizontalHeader()->setSortIndicator(-1, Qt::AscendingOrder);
  m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
  m_table->setAlternatingRowColors(true);
  m_table->verticalHeader()->setVisible(false);
  // Fixed row height: the view never measures 1M rows.
  m_table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
  m_table->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
  m_table->horizontalHeader()->setStretchLastSection(true);
  m_table->setColumnWidth(StockModel::kSku, 110);
  m_table->setColumnWidth(StockModel::kDescription, 330);
  m_table->setWordWrap(false);
  lay->addWidget(m_table);

  m_debounce.setSingleShot(true);
  m_debounce.setInterval(150);
  connect(&m_debounce, &QTimer::timeout, this, &StockView::applyFilter);
  auto kick = [this] { m_debounce.start(); };
  connect(m_text, &QLineEdit::textChanged, this, kick);
  connect(m_location, &QLineEdit::textChanged, this, kick);
  connect(m_warehouse, &QComboBox::currentIndexChanged, this, kick);
  connect(m_below, &QCheckBox::toggled, this, kick);
  connect(exportButton, &QPushButton::clicked, this, &StockView::exportCsvInteractive);
  connect(m_table, &QTableView::doubleClicked, this, [this](const QModelIndex& i) {
    emit openItem(m_model->data(i, StockModel::kSkuRole).toString());
  });
  auto updateCount = [this] {
    m_count->setText(tr("%L1 of %L2 rows").arg(m_model->rowCount()).arg(m_model->storeSize()));
  };
  connect(m_model, &QAbstractItemModel::modelReset, this, updateCount);
  connect(m_model, &QAbstractItemModel::rowsInserted, this, updateCount);
  connect(m_model, &QAbstractItemModel::modelReset, this, &StockView::refreshWarehouses);
  updateCount();
}

void StockView::refreshWarehouses() {
  const QStringList whs = m_model->warehouses();
  if (m_warehouse->count() - 1 == whs.size()) return;
  const QString current = m_warehouse->currentData().toString();
  QSignalBlocker block(m_warehouse);
  m_warehouse->clear();
  m_warehouse->addItem(tr("All warehouses"), QString());
  QStringList sorted = whs;
  sorted.sort();
  for (const auto& w : sorted) m_warehouse->addItem(w, w);
  m_warehouse->setCurrentIndex(std::max(0, m_warehouse->findData(current)));
}

void StockView::focusFilter() {
  m_text->setFocus();
  m_text->selectAll();
}

void StockView::applyFilter() {
  StockModel::Filter f;
  f.text = m_text->text().trimmed();
  f.warehouse = m_warehouse->currentData().toString();
  f.location = m_location->text().trimmed();
  f.belowReorder = m_below->isChecked();
  m_model->setFilter(f);
}

void StockView::exportCsvInteractive() {
  const QString path = QFileDialog::getSaveFileName(this, tr("Export stock"), QStringLiteral("stock.csv"),
                                                    tr("CSV files (*.csv)"));
  if (!path.isEmpty()) exportCsv(path);
}

void StockView::exportCsv(const QString& path) {
  // Copy the rows shown (implicitly shared strings: cheap), write elsewhere.
  auto rows = m_model->viewRows();
  auto* thread = QThread::create([this, rows = std::move(rows), path] {
    QSaveFile f(path);
    bool ok = f.open(QIODevice::WriteOnly | QIODevice::Text);
    if (ok) {
      StockModel::writeCsv(rows, &f);
      ok = f.commit();
    }
    emit exportFinished(ok, ok ? tr("Exported %L1 rows to %2").arg(rows.size()).arg(path)
                               : tr("Could not write %1: %2").arg(path, f.errorString()));
  });
  connect(thread, &QThread::finished, thread, &QObject::deleteLater);
  thread->start();
}

}  // namespace depot::ui
