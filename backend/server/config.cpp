#include "server/config.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>

namespace depot::server {
namespace {

// HOST:PORT with a numeric port 0..65535; [v6]:PORT allowed.
std::string checkHostPort(const std::string& value) {
  const auto colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == value.size()) {
    return "expected HOST:PORT, got '" + value + "'";
  }
  const std::string port = value.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port) > 65535) {
    return "bad port in '" + value + "'";
  }
  return {};
}

std::string hostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) == 0 && buf[0] != '\0') return buf;
  return "depot-1";
}

}  // namespace

std::string defaultDataDir() {
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && xdg[0] == '/') {
    return std::string(xdg) + "/depot";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && home[0] != '\0') {
    return std::string(home) + "/.local/share/depot";
  }
  return "depot-data";
}

ParseOutcome parseCommandLine(int argc, const char* const* argv, DaemonConfig& config) {
  CLI::App app("depotd — Depot inventory server", "depotd");
  app.set_config("--config", "", "Read flags from a TOML or INI file (keys are long flag names)")
      ->type_name("FILE");
  app.add_option("--data-dir", config.data_dir,
                 "Data directory (the SQLite file is DIR/depot.db); created if absent "
                 "[default: $XDG_DATA_HOME/depot or ~/.local/share/depot]")
      ->type_name("DIR");
  app.add_option("--listen", config.listen, "gRPC listen address HOST:PORT")
      ->capture_default_str()
      ->type_name("HOST:PORT")
      ->check(CLI::Validator(checkHostPort, ""));
  app.add_option("--metrics-listen", config.metrics_listen,
                 "Prometheus /metrics HTTP address HOST:PORT, or 'off'")
      ->capture_default_str()
      ->type_name("HOST:PORT|off")
      ->check(CLI::Validator(
          [](const std::string& v) { return v == "off" ? std::string() : checkHostPort(v); }, ""));
  app.add_option("--writers", config.writers, "Shard writer threads")
      ->capture_default_str()
      ->type_name("N")
      ->check(CLI::Range(1, 256));
  app.add_option("--commits-in-flight", config.commits_in_flight,
                 "Commits a shard writer may have started and not yet seen durable: it runs "
                 "the next batch while the disk syncs the previous ones (1: it waits for each)")
      ->capture_default_str()
      ->type_name("N")
      ->check(CLI::Range(1, 64));
  app.add_option("--max-queue-delay-ms", config.max_queue_delay_ms,
                 "Admission control: a shard writer refuses new commands (RESOURCE_EXHAUSTED "
                 "with a retry-after) past this much queued work")
      ->capture_default_str()
      ->type_name("MS")
      ->check(CLI::Range(1, 60000));
  app.add_option("--max-concurrent-calls", config.max_concurrent_calls,
                 "Admission control before parsing: unary calls served at once; more are "
                 "refused at arrival (RESOURCE_EXHAUSTED with a retry-after); 0 = no limit")
      ->capture_default_str()
      ->type_name("N")
      ->check(CLI::Range(0, 1000000));
  app.add_option("--idempotency-window", config.idempotency_window_s,
                 "How long a request id is remembered: a retry within it gets the first "
                 "answer, not a second movement. Memory grows with requests/s x this window")
      ->capture_default_str()
      ->type_name("SECONDS")
      ->check(CLI::Range(60, 7 * 24 * 3600));
  app.add_option("--idempotency-max-requests", config.idempotency_max_requests,
                 "Memory bound of the idempotency window (~130 bytes each): past this many "
                 "remembered request ids the oldest are forgotten early "
                 "(depot_idempotency_forgotten_early_total); 0 = no bound")
      ->capture_default_str()
      ->type_name("N")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{2'000'000'000}));
  app.add_option("--sync", config.sync, "SQLite durability: full (default), normal or off")
      ->capture_default_str()
      ->check(CLI::IsMember({"full", "normal", "off"}));
  app.add_option("--node-id", config.node_id, "Node id reported to clients [default: host name]")
      ->type_name("ID");
  app.add_option("--log-level", config.log_level, "debug, info, warn or error")
      ->capture_default_str()
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  app.add_option("--store", config.store,
                 "Store engine: sqlite (embedded, one node) or postgres (a cluster member)")
      ->capture_default_str()
      ->check(CLI::IsMember({"sqlite", "postgres"}));
  app.add_option("--pg-dsn", config.pg_dsn,
                 "PostgreSQL connection string (--store postgres); a multi-host string with "
                 "target_session_attrs=read-write follows a promoted standby")
      ->type_name("DSN");
  app.add_option("--pg-standby-dsn", config.pg_standby_dsn,
                 "PostgreSQL hot standby for dashboard reads (ListStock, Snapshot of shards other "
                 "nodes write); responses report their staleness")
      ->type_name("DSN");
  app.add_option("--advertise", config.advertise,
                 "gRPC address other nodes use to reach this one [default: --listen]")
      ->type_name("HOST:PORT")
      ->check(CLI::Validator(checkHostPort, ""));
  app.add_option("--lease-ttl", config.lease_ttl_s,
                 "Shard lease time-to-live in seconds (--store postgres); a dead node's shards "
                 "move after about this long")
      ->capture_default_str()
      ->type_name("SECONDS")
      ->check(CLI::Range(1, 600));
  app.add_flag("--verify", config.verify,
               "Audit the ledger of --data-dir against the balances and exit "
               "(0 clean, 1 mismatches, 2 usage error)");

  ParseOutcome outcome;
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    outcome.exit_code = 0;
    outcome.output = app.help();
    return outcome;
  } catch (const CLI::CallForAllHelp&) {
    outcome.exit_code = 0;
    outcome.output = app.help("", CLI::AppFormatMode::All);
    return outcome;
  } catch (const CLI::ParseError& e) {
    outcome.exit_code = 2;
    outcome.output = std::string("error: ") + e.what() + "\n\n" + app.help();
    return outcome;
  }
  if (config.store == "postgres" && config.pg_dsn.empty()) {
    outcome.exit_code = 2;
    outcome.output = "error: --store postgres requires --pg-dsn DSN\n\n" + app.help();
    return outcome;
  }
  if (config.store == "sqlite" && (!config.pg_dsn.empty() || !config.pg_standby_dsn.empty())) {
    outcome.exit_code = 2;
    outcome.output = "error: --pg-dsn and --pg-standby-dsn need --store postgres\n\n" + app.help();
    return outcome;
  }
  if (config.advertise.empty()) config.advertise = config.listen;
  if (config.verify && config.data_dir.empty() && config.store == "sqlite") {
    outcome.exit_code = 2;
    outcome.output = "error: --verify requires --data-dir DIR\n\n" + app.help();
    return outcome;
  }
  if (config.data_dir.empty()) config.data_dir = defaultDataDir();
  if (config.node_id.empty()) config.node_id = hostName();
  config.config_file = app.get_config_ptr()->as<std::string>();
  return outcome;
}

}  // namespace depot::server
