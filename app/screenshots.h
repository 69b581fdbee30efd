// --screenshots DIR: waits until data arrived (online, stock rows, a few
// metrics samples; bounded by a deadline), exercises the stocktake screen
// with a few scanned lines, then grabs each tab with QWidget::grab() into
// DIR/NN-<tab>.png and quits (exit code 0, or 1 if a file could not be
// written).
#pragma once

#include <QString>

namespace depot::ui {
class MainWindow;
}

namespace depot::app {

void startScreenshots(ui::MainWindow* window, const QString& dir, int timeoutMs);

}  // namespace depot::app
