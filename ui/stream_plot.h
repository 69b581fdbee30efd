// StreamPlot: a live QCustomPlot in the PlotJuggler style. Producers call
// append() (cheap: into a pending buffer); a ~25 Hz timer moves pending
// points into the graphs (addData(..., alreadySorted = true)), drops what
// left the scrolling window (removeBefore) and asks for a queued replot.
// Controls: pause (the window stops scrolling, data keeps arriving), window
// length, mouse zoom/drag, legend, PNG/PDF export. UI thread only.
//
// ThroughputView feeds it from WatchMetrics samples (per node: movements/s,
// rejections/s on the left axis; p50/p99 latency on the right axis).
// FlowsView feeds it from ledger entries: units in and out per interval
// (1 s / 10 s / 1 min) per warehouse.
#pragma once

#include <QHash>
#include <QMap>
#include <QTimer>
#include <QWidget>

#include "session/session_types.h"

class QCustomPlot;
class QCPGraph;
class QComboBox;
class QPushButton;

namespace depot::ui {

class StreamPlot final : public QWidget {
  Q_OBJECT
 public:
  explicit StreamPlot(const QString& yLabel, const QString& y2Label = {}, QWidget* parent = nullptr);
  // t: seconds since the epoch. Series are created on first use.
  void append(const QString& series, double t, double value, bool rightAxis = false);
  void setWindowSeconds(double seconds);
  double windowSeconds() const { return m_window; }
  void setPaused(bool paused);
  bool paused() const { return m_paused; }
  bool savePng(const QString& path);
  bool savePdf(const QString& path);
  QCustomPlot* plot() const { return m_plot; }
  int pointCount() const;
  QWidget* toolbar() const { return m_toolbar; }

 public slots:
  void flush();

 private:
  QCPGraph* graph(const QString& series, bool rightAxis);
  void exportInteractive();
  QCustomPlot* m_plot;
  QWidget* m_toolbar;
  QPushButton* m_pause;
  QComboBox* m_windowBox;
  QHash<QString, QCPGraph*> m_graphs;
  struct Pending {
    QVector<double> keys, values;
    bool right = false;
  };
  QMap<QString, Pending> m_pending;
  double m_window = 120;
  double m_latest = 0;
  bool m_paused = false;
  QTimer m_timer;
};

class ThroughputView final : public QWidget {
  Q_OBJECT
 public:
  explicit ThroughputView(QWidget* parent = nullptr);
  StreamPlot* plot() const { return m_plot; }
  void addSample(const session::MetricsValue& sample);

 private:
  StreamPlot* m_plot;
};

class FlowsView final : public QWidget {
  Q_OBJECT
 public:
  explicit FlowsView(QWidget* parent = nullptr);
  StreamPlot* plot() const { return m_plot; }
  void addEntries(const QVector<session::LedgerEntryValue>& entries);
  void setIntervalSeconds(int seconds);
  // Closes buckets older than the current interval (timer-driven; public for tests).
  void closeBuckets();

 private:
  StreamPlot* m_plot;
  int m_interval = 1;
  // bucket start (s) -> warehouse -> (in, out)
  QMap<qint64, QHash<QString, QPair<qint64, qint64>>> m_open;
  QTimer m_timer;
};

}  // namespace depot::ui
