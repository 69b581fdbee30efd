// depotd's command line and config file (CLI11; a TOML or INI file given by
// --config may set every flag by its long name, e.g. `listen = "0.0.0.0:7070"`).
//
//   depotd [--data-dir DIR] [--listen HOST:PORT] [--metrics-listen HOST:PORT|off]
//          [--config FILE] [--writers N] [--commits-in-flight N] [--max-queue-delay-ms MS]
//          [--max-concurrent-calls N] [--idempotency-window SECONDS]
//          [--idempotency-max-requests N]
//          [--sync full|normal|off] [--node-id ID]
//          [--log-level debug|info|warn|error]
//          [--store sqlite|postgres] [--pg-dsn DSN] [--pg-standby-dsn DSN]
//          [--advertise HOST:PORT]
//          [--lease-ttl SECONDS]
//   depotd --verify --data-dir DIR
//   depotd --verify --store postgres --pg-dsn DSN
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace depot::server {

struct DaemonConfig {
  std::string data_dir;  // resolved: never empty after parseCommandLine
  std::string listen = "127.0.0.1:7070";
  std::string metrics_listen = "127.0.0.1:9464";  // "off": no HTTP listener
  std::string config_file;
  int writers = 2;
  int commits_in_flight = 8;  // per writer (EngineOptions::max_commits_in_flight)
  int max_queue_delay_ms = 500;
  int max_concurrent_calls = 512;
  int idempotency_window_s = 3600;
  std::int64_t idempotency_max_requests = 20'000'000;  // 0: no bound
  std::string sync = "full";
  std::string node_id;  // default: the host name
  std::string log_level = "info";
  bool verify = false;
  std::string store = "sqlite";  // "postgres": a cluster member
  std::string pg_dsn;
  std::string pg_standby_dsn;  // optional: dashboard reads
  std::string advertise;  // resolved: --listen when not given
  int lease_ttl_s = 5;
};

// $XDG_DATA_HOME/depot, else $HOME/.local/share/depot, else ./depot-data.
std::string defaultDataDir();

struct ParseOutcome {
  std::optional<int> exit_code;  // set: print `output` and exit with it (help: 0, usage error: 2)
  std::string output;            // help text or "error: ...\n" plus usage
};

// Fills `config` from argv (and the --config file). Never throws.
ParseOutcome parseCommandLine(int argc, const char* const* argv, DaemonConfig& config);

}  // namespace depot::server
