// The two modes of depotd, called by main() after parsing the command line.
#pragma once

#include "server/config.h"

namespace depot::server {

// Serves until SIGTERM/SIGINT, then shuts down gracefully. Returns the exit
// code: 0 after a clean shutdown, 1 when start-up fails (store cannot be
// opened, port in use, ...). SIGINT and SIGTERM must already be blocked in
// every thread (main() does it first) so the daemon can sigwait() for them.
int runDaemon(const DaemonConfig& config);

// --verify: audits DIR/depot.db and prints the report to stdout. Returns 0
// when clean, 1 when any mismatch is found or the store cannot be read, 2
// when the data directory or its database does not exist.
int runVerify(const DaemonConfig& config);

// Blocks SIGINT and SIGTERM in the calling thread (and the threads it starts
// later) and ignores SIGPIPE.
void blockShutdownSignals();

}  // namespace depot::server
