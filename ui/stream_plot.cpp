#include "ui/stream_plot.h"

#include <QComboBox>
#include <QDateTime>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>
#include <qcustomplot.h>

namespace depot::ui {

namespace {
QColor seriesColor(int i) {
  static const QColor kColors[] = {QColor(31, 119, 180), QColor(255, 127, 14), QColor(44, 160, 44),
                                   QColor(214, 39, 40),  QColor(148, 103, 189), QColor(140, 86, 75),
                                   QColor(227, 119, 194), QColor(127, 127, 127), QColor(188, 189, 34),
                                   QColor(23, 190, 207)};
  return kColors[i % 10];
}
}  // namespace

StreamPlot::StreamPlot(const QString& yLabel, const QString& y2Label, QWidget* parent) : QWidget(parent) {
  auto* lay = new QVBoxLayout(this);
  lay->setContentsMargins(0, 0, 0, 0);
  m_toolbar = new QWidget(this);
  auto* bar = new QHBoxLayout(m_toolbar);
  bar->setContentsMargins(0, 0, 0, 0);
  m_pause = new QPushButton(tr("Pause"), m_toolbar);
  m_pause->setCheckable(true);
  m_pause->setToolTip(tr("Stop scrolling (data keeps being recorded). Space"));
  auto* window = new QComboBox(m_toolbar);
  window->addItem(tr("Last 30 s"), 30);
  window->addItem(tr("Last 1 min"), 60);
  window->addItem(tr("Last 2 min"), 120);
  window->addItem(tr("Last 10 min"), 600);
  window->addItem(tr("Last 1 h"), 3600);
  window->setCurrentIndex(2);
  m_windowBox = window;
  auto* reset = new QPushButton(tr("Reset zoom"), m_toolbar);
  auto* exportButton = new QPushButton(tr("Export PNG/PDF…"), m_toolbar);
  bar->addWidget(m_pause);
  bar->addWidget(window);
  bar->addWidget(reset);
  bar->addStretch();
  bar->addWidget(new QLabel(tr("Wheel: zoom · drag: pan"), m_toolbar));
  bar->addWidget(exportButton);
  lay->addWidget(m_toolbar);

  m_plot = new QCustomPlot(this);
  m_plot->setMinimumHeight(200);
  auto ticker = QSharedPointer<QCPAxisTickerDateTime>::create();
  ticker->setDateTimeFormat(QStringLiteral("HH:mm:ss"));
  m_plot->xAxis->setTicker(ticker);
  m_plot->yAxis->setLabel(yLabel);
  if (!y2Label.isEmpty()) {
    m_plot->yAxis2->setVisible(true);
    m_plot->yAxis2->setLabel(y2Label);
  }
  // Follow the system palette (dark or light).
  const QPalette pal = palette();
  m_plot->setBackground(pal.color(QPalette::Base));
  for (QCPAxis* ax : {m_plot->xAxis, m_plot->yAxis, m_plot->yAxis2}) {
    ax->setBasePen(QPen(pal.color(QPalette::Text)));
    ax->setTickPen(QPen(pal.color(QPalette::Text)));
    ax->setSubTickPen(QPen(pal.color(QPalette::Text)));
    ax->setTickLabelColor(pal.color(QPalette::Text));
    ax->setLabelColor(pal.color(QPalette::Text));
    ax->grid()->setPen(QPen(pal.color(QPalette::Mid), 0, Qt::DotLine));
  }
  m_plot->legend->setVisible(true);
  m_plot->legend->setBrush(pal.color(QPalette::Base));
  m_plot->legend->setTextColor(pal.color(QPalette::Text));
  m_plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignLeft);
  m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  m_plot->axisRect()->setRangeDrag(Qt::Horizontal);
  m_plot->axisRect()->setRangeZoom(Qt::Horizontal);
  const double now = QDateTime::currentMSecsSinceEpoch() / 1000.0;
  m_plot->xAxis->setRange(now - m_window, now);
  lay->addWidget(m_plot, 1);

  connect(m_pause, &QPushButton::toggled, this, &StreamPlot::setPaused);
  connect(window, &QComboBox::currentIndexChanged, this, [this, window] { setWindowSeconds(window->currentData().toDouble()); });
  connect(reset, &QPushButton::clicked, this, [this] {
    setPaused(false);
    m_plot->yAxis->rescale();
    flush();
  });
  connect(exportButton, &QPushButton::clicked, this, &StreamPlot::exportInteractive);
  // User zoom/drag pauses scrolling, like PlotJuggler.
  connect(m_plot, &QCustomPlot::mousePress, this, [this] { setPaused(true); });
  connect(m_plot, &QCustomPlot::mouseWheel, this, [this] { setPaused(true); });
  m_timer.setInterval(40);  // ~25 Hz
  connect(&m_timer, &QTimer::timeout, this, &StreamPlot::flush);
  m_timer.start();
}

QCPGraph* StreamPlot::graph(const QString& series, bool rightAxis) {
  auto it = m_graphs.find(series);
  if (it != m_graphs.end()) return *it;
  QCPGraph* g = m_plot->addGraph(m_plot->xAxis, rightAxis ? m_plot->yAxis2 : m_plot->yAxis);
  g->setName(series);
  QPen pen(seriesColor(static_cast<int>(m_graphs.size())), 1.6);
  if (rightAxis) pen.setStyle(Qt::DashLine);
  g->setPen(pen);
  m_graphs.insert(series, g);
  return g;
}

void StreamPlot::append(const QString& series, double t, double value, bool rightAxis) {
  Pending& p = m_pending[series];
  p.right = rightAxis;
  p.keys.push_back(t);
  p.values.push_back(value);
}

int StreamPlot::pointCount() const {
  int n = 0;
  for (auto* g : m_graphs) n += g->data()->size();
  return n;
}

void StreamPlot::flush() {
  if (!m_pending.isEmpty()) {
    for (auto it = m_pending.begin(); it != m_pending.end(); ++it) {
      graph(it.key(), it->right)->addData(it->keys, it->values, true);
      if (!it->keys.isEmpty()) m_latest = std::max(m_latest, it->keys.back());
    }
    m_pending.clear();
  } else if (m_paused) {
    return;
  }
  const double now = std::max(m_latest, QDateTime::currentMSecsSinceEpoch() / 1000.0);
  // Keep an hour (the longest window) so pausing and zooming out still work.
  for (auto* g : m_graphs) g->data()->removeBefore(now - 3600);
  if (!m_paused) {
    m_plot->xAxis->setRange(now - m_window, now);
    bool found = false;
    QCPRange y = m_plot->yAxis->range();
    QCPRange y2 = m_plot->yAxis2->range();
    bool first = true, first2 = true;
    for (auto* g : m_graphs) {
      const QCPRange r = g->data()->valueRange(found, QCP::sdBoth, QCPRange(now - m_window, now));
      if (!found) continue;
      QCPRange& target = g->valueAxis() == m_plot->yAxis2 ? y2 : y;
      bool& isFirst = g->valueAxis() == m_plot->yAxis2 ? first2 : first;
      if (isFirst) {
        target = r;
        isFirst = false;
      } else {
        target.expand(r);
      }
    }
    if (!first) m_plot->yAxis->setRange(std::min(0.0, y.lower), y.upper * 1.1 + 1);
    if (!first2) m_plot->yAxis2->setRange(0, y2.upper * 1.1 + 1);
  }
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void StreamPlot::setWindowSeconds(double seconds) {
  m_window = seconds;
  if (const int i = m_windowBox->findData(static_cast<int>(seconds)); i >= 0 && i != m_windowBox->currentIndex()) {
    QSignalBlocker b(m_windowBox);
    m_windowBox->setCurrentIndex(i);
  }
  setPaused(false);
  flush();
}

void StreamPlot::setPaused(bool paused) {
  m_paused = paused;
  QSignalBlocker b(m_pause);
  m_pause->setChecked(paused);
  m_pause->setText(paused ? tr("Resume") : tr("Pause"));
}

bool StreamPlot::savePng(const QString& path) { return m_plot->savePng(path, 0, 0, 1.0, -1, 96); }
bool StreamPlot::savePdf(const QString& path) { return m_plot->savePdf(path); }

void StreamPlot::exportInteractive() {
  QString selected;
  const QString path = QFileDialog::getSaveFileName(this, tr("Export plot"), QStringLiteral("plot.png"),
                                                    tr("PNG image (*.png);;PDF document (*.pdf)"), &selected);
  if (path.isEmpty()) return;
  if (path.endsWith(QStringLiteral(".pdf"), Qt::CaseInsensitive)) savePdf(path);
  else savePng(path);
}

ThroughputView::ThroughputView(QWidget* parent) : QWidget(parent) {
  auto* lay = new QVBoxLayout(this);
  m_plot = new StreamPlot(tr("per second"), tr("latency (ms)"), this);
  lay->addWidget(m_plot);
}

void ThroughputView::addSample(const session::MetricsValue& s) {
  const double t = s.atUs / 1e6;
  m_plot->append(tr("%1 movements/s").arg(s.nodeId), t, s.movementsPerS);
  m_plot->append(tr("%1 rejections/s").arg(s.nodeId), t, s.rejectionsPerS);
  m_plot->append(tr("%1 p50 ms").arg(s.nodeId), t, s.p50Ms, true);
  m_plot->append(tr("%1 p99 ms").arg(s.nodeId), t, s.p99Ms, true);
}

FlowsView::FlowsView(QWidget* parent) : QWidget(parent) {
  auto* lay = new QVBoxLayout(this);
  auto* bar = new QHBoxLayout;
  auto* interval = new QComboBox(this);
  interval->addItem(tr("per 1 s"), 1);
  interval->addItem(tr("per 10 s"), 10);
  interval->addItem(tr("per 1 min"), 60);
  bar->addWidget(new QLabel(tr("Units in (+) and out (−) per warehouse"), this));
  bar->addStretch();
  bar->addWidget(interval);
  lay->addLayout(bar);
  m_plot = new StreamPlot(tr("units per interval"), {}, this);
  lay->addWidget(m_plot, 1);
  connect(interval, &QComboBox::currentIndexChanged, this, [this, interval] { setIntervalSeconds(interval->currentData().toInt()); });
  m_timer.setInterval(250);
  connect(&m_timer, &QTimer::timeout, this, &FlowsView::closeBuckets);
  m_timer.start();
}

void FlowsView::setIntervalSeconds(int seconds) {
  m_interval = std::max(1, seconds);
  m_open.clear();
}

void FlowsView::addEntries(const QVector<session::LedgerEntryValue>& entries) {
  for (const auto& e : entries) {
    if (e.dOnHand == 0) continue;
    const qint64 bucket = (e.tsUs / 1000000) / m_interval * m_interval;
    auto& slot = m_open[bucket][e.location.section('/', 0, 0)];
    if (e.dOnHand > 0) slot.first += e.dOnHand;
    else slot.second += -e.dOnHand;
  }
}

void FlowsView::closeBuckets() {
  const qint64 now = QDateTime::currentSecsSinceEpoch();
  while (!m_open.isEmpty() && m_open.firstKey() + m_interval + 1 <= now) {
    const qint64 bucket = m_open.firstKey();
    const auto warehouses = m_open.take(bucket);
    for (auto it = warehouses.begin(); it != warehouses.end(); ++it) {
      m_plot->append(tr("%1 in").arg(it.key()), double(bucket), double(it->first));
      m_plot->append(tr("%1 out").arg(it.key()), double(bucket), -double(it->second));
    }
  }
}

}  // namespace depot::ui
