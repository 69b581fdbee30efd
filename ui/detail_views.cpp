#include "ui/detail_views.h"

#include <QDateTime>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QPushButton>
#include <QSplitter>
#include <QStandardItemModel>
#include <QTableView>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include "client/parse.h"

namespace depot::ui {

namespace {
QString timeText(qint64 us) {
  return us > 0 ? QDateTime::fromMSecsSinceEpoch(us / 1000).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")) : QString();
}
void styleTable(QTableView* t) {
  t->verticalHeader()->setVisible(false);
  t->setWordWrap(false);
  t->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
  t->verticalHeader()->setDefaultSectionSize(t->fontMetrics().height() + 6);
  t->horizontalHeader()->setStretchLastSection(true);
  t->setSelectionBehavior(QAbstractItemView::SelectRows);
  t->setAlternatingRowColors(true);
}
}  // namespace

// ---- HistoryModel
int HistoryModel::rowCount(const QModelIndex& p) const { return p.isValid() ? 0 : static_cast<int>(m_entries.size()); }
int HistoryModel::columnCount(const QModelIndex& p) const { return p.isValid() ? 0 : kColumnCount; }
QString HistoryModel::kindText(int k) {
  static const char* const kNames[] = {"—", "Receive", "Ship", "Transfer", "Adjust", "Reserve", "Release", "Commit", "Count"};
  return k >= 0 && k <= 8 ? tr(kNames[k]) : tr("Other");
}
QVariant HistoryModel::headerData(int s, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
  static const char* const kHeaders[] = {"When", "What", "Location", "Δ on hand", "On hand after", "Who", "Why", "Reference", "Request id"};
  return s >= 0 && s < kColumnCount ? tr(kHeaders[s]) : QVariant();
}
QVariant HistoryModel::data(const QModelIndex& i, int role) const {
  if (!checkIndex(i, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid) || role != Qt::DisplayRole) return {};
  const auto& e = m_entries[i.row()];
  switch (i.column()) {
    case kWhen: return timeText(e.tsUs);
    case kKind: return kindText(e.kind);
    case kLocation: return e.location;
    case kDelta: return e.dOnHand;
    case kAfter: return e.onHandAfter;
    case kActor: return e.actor;
    case kReason: return e.reason;
    case kRef: return e.ref;
    case kRequestId: return e.requestId;
  }
  return {};
}
void HistoryModel::setEntries(const QVector<session::LedgerEntryValue>& entries) {
  beginResetModel();
  m_entries = entries;
  endResetModel();
}

// ---- NodesModel
int NodesModel::rowCount(const QModelIndex& p) const { return p.isValid() ? 0 : static_cast<int>(m_nodes.size()); }
int NodesModel::columnCount(const QModelIndex& p) const { return p.isValid() ? 0 : 5; }
QVariant NodesModel::headerData(int s, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
  static const char* const kHeaders[] = {"Node", "Endpoint", "Health", "Shards owned", "Role"};
  return s >= 0 && s < 5 ? tr(kHeaders[s]) : QVariant();
}
QVariant NodesModel::data(const QModelIndex& i, int role) const {
  if (!checkIndex(i, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const auto& n = m_nodes[i.row()];
  if (role == Qt::BackgroundRole && i.column() == 2) return n.healthy ? QColor(46, 157, 70, 70) : QColor(214, 69, 65, 90);
  if (role != Qt::DisplayRole) return {};
  switch (i.column()) {
    case 0: return n.nodeId;
    case 1: return n.endpoint;
    case 2: return n.healthy ? tr("Healthy") : tr("Unhealthy");
    case 3: return n.shardsOwned;
    case 4: return n.role;
  }
  return {};
}
void NodesModel::setNodes(const QVector<session::NodeValue>& nodes) {
  beginResetModel();
  m_nodes = nodes;
  endResetModel();
}

// ---- ShardsModel
int ShardsModel::rowCount(const QModelIndex& p) const { return p.isValid() ? 0 : static_cast<int>(m_shards.size()); }
int ShardsModel::columnCount(const QModelIndex& p) const { return p.isValid() ? 0 : 5; }
QVariant ShardsModel::headerData(int s, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
  static const char* const kHeaders[] = {"Shard", "Owner", "Epoch", "Last seq", "Lag"};
  return s >= 0 && s < 5 ? tr(kHeaders[s]) : QVariant();
}
QVariant ShardsModel::data(const QModelIndex& i, int role) const {
  if (!checkIndex(i, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const auto& s = m_shards[i.row()];
  if (role == Qt::TextAlignmentRole && i.column() != 1) return QVariant(Qt::AlignRight | Qt::AlignVCenter);
  if (role != Qt::DisplayRole) return {};
  switch (i.column()) {
    case 0: return s.shard;
    case 1: return s.owner;
    case 2: return QVariant::fromValue(s.epoch);
    case 3: return QVariant::fromValue(s.lastSeq);
    case 4: return QVariant::fromValue(s.lag);
  }
  return {};
}
void ShardsModel::setShards(const QVector<session::ShardValue>& shards) {
  if (shards.size() == m_shards.size() && !shards.isEmpty()) {
    m_shards = shards;
    emit dataChanged(index(0, 0), index(rowCount() - 1, 4));
    return;
  }
  beginResetModel();
  m_shards = shards;
  endResetModel();
}

// ---- ItemDetailView
ItemDetailView::ItemDetailView(session::Session* session, QWidget* parent) : QWidget(parent), m_session(session) {
  auto* lay = new QVBoxLayout(this);
  auto* bar = new QHBoxLayout;
  m_sku = new QLineEdit(this);
  m_sku->setPlaceholderText(tr("SKU"));
  m_from = new QLineEdit(QStringLiteral("now-1h"), this);
  m_from->setToolTip(tr("Start: a time like 2026-11-28T10:00:00Z, a date, or now-2h"));
  m_to = new QLineEdit(QStringLiteral("now"), this);
  auto* load = new QPushButton(tr("Show"), this);
  m_reason = new QLabel(this);
  m_reason->setStyleSheet(QStringLiteral("QLabel { color: #d64541; }"));
  bar->addWidget(new QLabel(tr("Item:"), this));
  bar->addWidget(m_sku);
  bar->addWidget(new QLabel(tr("from"), this));
  bar->addWidget(m_from);
  bar->addWidget(new QLabel(tr("to"), this));
  bar->addWidget(m_to);
  bar->addWidget(load);
  bar->addWidget(m_reason, 1);
  lay->addLayout(bar);
  m_header = new QLabel(this);
  QFont f = m_header->font();
  f.setBold(true);
  m_header->setFont(f);
  lay->addWidget(m_header);
  auto* split = new QSplitter(Qt::Vertical, this);
  auto* topSplit = new QSplitter(Qt::Horizontal, split);
  m_balances = new QTableView(topSplit);
  auto* bm = new QStandardItemModel(0, 4, this);
  bm->setHorizontalHeaderLabels({tr("Location"), tr("On hand"), tr("Reserved"), tr("Available")});
  m_balanceModel = bm;
  m_balances->setModel(bm);
  styleTable(m_balances);
  m_plot = new QCustomPlot(topSplit);
  m_plot->setMinimumHeight(220);
  auto ticker = QSharedPointer<QCPAxisTickerDateTime>::create();
  ticker->setDateTimeFormat(QStringLiteral("MM-dd HH:mm"));
  m_plot->xAxis->setTicker(ticker);
  m_plot->yAxis->setLabel(tr("on hand"));
  m_plot->legend->setVisible(true);
  m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  const QPalette pal = palette();
  m_plot->setBackground(pal.color(QPalette::Base));
  for (QCPAxis* ax : {m_plot->xAxis, m_plot->yAxis}) {
    ax->setBasePen(QPen(pal.color(QPalette::Text)));
    ax->setTickPen(QPen(pal.color(QPalette::Text)));
    ax->setTickLabelColor(pal.color(QPalette::Text));
    ax->setLabelColor(pal.color(QPalette::Text));
  }
  m_plot->legend->setBrush(pal.color(QPalette::Base));
  m_plot->legend->setTextColor(pal.color(QPalette::Text));
  topSplit->setSizes({420, 900});
  m_balances->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  auto* history = new QTableView(split);
  m_history = new HistoryModel(this);
  history->setModel(m_history);
  styleTable(history);
  history->setColumnWidth(HistoryModel::kWhen, 150);
  history->setColumnWidth(HistoryModel::kReason, 160);
  history->setColumnWidth(HistoryModel::kRef, 200);
  lay->addWidget(split, 1);

  connect(load, &QPushButton::clicked, this, &ItemDetailView::load);
  connect(m_sku, &QLineEdit::returnPressed, this, &ItemDetailView::load);
  connect(m_sku, &QLineEdit::textEdited, m_reason, &QLabel::clear);
  connect(m_session, &session::Session::itemDetail, this, &ItemDetailView::setDetail);
}

void ItemDetailView::setCatalog(const QVector<session::ItemValue>& items) {
  m_skus.clear();
  for (const auto& i : items) m_skus.insert(i.sku);
}

void ItemDetailView::setRange(const QString& from, const QString& to) {
  m_from->setText(from);
  m_to->setText(to);
}

void ItemDetailView::showItem(const QString& sku) {
  m_sku->setText(sku);
  load();
}

namespace {
// "now", "now-2h" or anything parseTime() takes.
absl::StatusOr<qint64> parseWhen(const char* field, const QString& text) {
  const QString t = text.trimmed();
  if (t.startsWith(QStringLiteral("now-"))) {
    auto d = client::parseDuration(field, t.mid(4).toStdString());
    if (!d.ok()) return d.status();
    return QDateTime::currentMSecsSinceEpoch() * 1000 - *d;
  }
  auto r = client::parseTime(field, t.toStdString());
  if (!r.ok()) return r.status();
  return *r;
}
}  // namespace

void ItemDetailView::load() {
  const QString sku = m_sku->text().trimmed();
  if (auto st = client::validateSku("SKU", sku.toStdString()); !st.ok()) {
    m_reason->setText(QString::fromStdString(std::string(st.message())));
    return;
  }
  if (!m_skus.isEmpty() && !m_skus.contains(sku)) {
    m_reason->setText(tr("Unknown SKU '%1'").arg(sku));
    return;
  }
  auto from = parseWhen("from", m_from->text());
  auto to = parseWhen("to", m_to->text());
  if (!from.ok() || !to.ok()) {
    m_reason->setText(QString::fromStdString(std::string((!from.ok() ? from.status() : to.status()).message())));
    return;
  }
  if (*to <= *from) {
    m_reason->setText(tr("to: must be after from"));
    return;
  }
  m_reason->setText(tr("Loading…"));
  m_session->requestItemDetail(sku, *from, *to);
}

void ItemDetailView::setDetail(const session::ItemDetailValue& d) {
  if (d.sku != m_sku->text().trimmed()) return;  // a stale answer
  m_reason->setText(d.error);
  if (!d.error.isEmpty() && d.balances.isEmpty()) return;
  m_header->setText(tr("%1 — %2 (unit %3, reorder point %4)").arg(d.item.sku, d.item.description, d.item.unit).arg(d.item.reorderPoint));
  auto* bm = static_cast<QStandardItemModel*>(m_balanceModel);
  bm->setRowCount(0);
  for (const auto& b : d.balances) {
    QList<QStandardItem*> row{new QStandardItem(b.location), new QStandardItem(QString::number(b.onHand)),
                              new QStandardItem(QString::number(b.reserved)),
                              new QStandardItem(QString::number(b.onHand - b.reserved))};
    for (auto* it : row) it->setEditable(false);
    bm->appendRow(row);
  }
  m_history->setEntries(d.history);
  // Step plot of on hand per location: the BalanceAt value at the start, then
  // every entry's on_hand_after, held to the end of the range.
  m_plot->clearGraphs();
  QHash<QString, QCPGraph*> graphs;
  const double t0 = d.fromUs / 1e6, t1 = d.toUs / 1e6;
  auto graphFor = [&](const QString& loc) {
    auto it = graphs.find(loc);
    if (it != graphs.end()) return *it;
    auto* g = m_plot->addGraph();
    g->setName(loc);
    g->setLineStyle(QCPGraph::lsStepLeft);
    static const QColor kColors[] = {QColor(31, 119, 180), QColor(255, 127, 14), QColor(44, 160, 44), QColor(214, 39, 40)};
    g->setPen(QPen(kColors[graphs.size() % 4], 1.8));
    graphs.insert(loc, g);
    return g;
  };
  for (int i = 0; i < d.startLocations.size(); ++i) graphFor(d.startLocations[i])->addData(t0, double(d.startOnHand[i]));
  for (const auto& e : d.history) graphFor(e.location)->addData(e.tsUs / 1e6, double(e.onHandAfter));
  for (const auto& b : d.balances) graphFor(b.location)->addData(t1, double(b.onHand));
  m_plot->xAxis->setRange(t0, t1);
  m_plot->rescaleAxes(true);
  m_plot->xAxis->setRange(t0, t1);
  m_plot->yAxis->setRangeLower(0);
  m_plot->yAxis->setRangeUpper(m_plot->yAxis->range().upper * 1.1 + 1);
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

// ---- ClusterView
ClusterView::ClusterView(QWidget* parent) : QWidget(parent), m_nodes(new NodesModel(this)), m_shards(new ShardsModel(this)) {
  auto* lay = new QVBoxLayout(this);
  m_summary = new QLabel(tr("No cluster status yet (needs a connection)."), this);
  lay->addWidget(m_summary);
  auto* nodes = new QTableView(this);
  nodes->setModel(m_nodes);
  styleTable(nodes);
  nodes->setMaximumHeight(160);
  nodes->setColumnWidth(1, 220);
  lay->addWidget(nodes);
  auto* shards = new QTableView(this);
  shards->setModel(m_shards);
  styleTable(shards);
  shards->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
  lay->addWidget(shards, 1);
}

void ClusterView::setCluster(const session::ClusterValue& c) {
  m_nodes->setNodes(c.nodes);
  m_shards->setShards(c.shards);
  int healthy = 0;
  for (const auto& n : c.nodes) healthy += n.healthy;
  quint64 lag = 0, seqs = 0;
  for (const auto& s : c.shards) {
    lag += s.lag;
    seqs += s.lastSeq;
  }
  m_summary->setText(tr("%1 of %2 nodes healthy · %3 shards · %L4 ledger entries · total lag %5")
                         .arg(healthy).arg(c.nodes.size()).arg(c.shards.size()).arg(seqs).arg(lag));
}

}  // namespace depot::ui
