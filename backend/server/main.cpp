// depotd: wiring only. See config.h for the command line, daemon.h for the
// modes.
#include <cstdio>

#include "absl/synchronization/mutex.h"
#include "server/config.h"
#include "server/daemon.h"

// jemalloc's start-up options (the MALLOC_CONF environment variable still
// overrides them). A background thread returns freed pages to the OS on a
// timer: without it an idle depotd keeps a restart's transient load buffers
// resident (RSS 767 MiB instead of ~478 MiB for 1 M balances; DESIGN.md §6).
// jemalloc creates that thread with every signal blocked, so SIGTERM still
// reaches only the sigwait() below.
extern "C" {
const char* malloc_conf = "background_thread:true";
}

int main(int argc, char** argv) {
  // Debian's abseil is built with absl::Mutex deadlock detection on: every
  // lock of gRPC's internal mutexes then updates a global lock graph
  // (GraphCycles), ~4 % of depotd's CPU on the unary path (perf). Our own
  // locks are std::mutex; the tests run with the detection as shipped.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // Before any thread exists, so every thread inherits the mask and the
  // signals are taken only by sigwait() in runDaemon().
  depot::server::blockShutdownSignals();
  depot::server::DaemonConfig config;
  const auto parsed = depot::server::parseCommandLine(argc, argv, config);
  if (parsed.exit_code) {
    std::fputs(parsed.output.c_str(), *parsed.exit_code == 0 ? stdout : stderr);
    return *parsed.exit_code;
  }
  return config.verify ? depot::server::runVerify(config) : depot::server::runDaemon(config);
}
