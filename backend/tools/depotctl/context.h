// depotctl's shared state and conventions.
//
// Exit codes (the command-line contract):
//   0 ok; 1 refused by the server (a non-OK per-movement/per-line result or
//   an RPC status other than a transport failure); 2 usage (bad arguments,
//   checked before anything is sent); 3 unreachable (UNAVAILABLE or
//   DEADLINE_EXCEEDED after the client's retries).
//
// Each command registers itself on the CLI11 app; its callback stores the
// action to run in Context::action, and main() runs it after parsing so that
// CLI11 errors and command errors are reported in one place.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "client/client.h"
#include "output.h"

namespace depot::ctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRefused = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnreachable = 3;

struct GlobalOptions {
  std::string server;  // "host:port[,host:port...]"
  bool json = false;
  double timeout_s = 5.0;  // per attempt
};

// --request-id / --actor of a mutating command.
struct WriteOptions {
  std::string request_id;  // empty: generated
  std::string actor;       // default: $USER
};

class Context {
 public:
  GlobalOptions global;
  std::function<int()> action;  // set by the parsed subcommand's callback

  // The client for --server/--timeout, created on first use. On a bad
  // --server or --timeout prints the reason and returns nullptr (exit 2).
  client::Client* client();

  // Reports `status` on stderr ("depotctl: <context>: CODE: message") and,
  // with --json, as {"error": {...}} on stdout (merged into `extra`).
  // Returns the exit code for its class (1 refused, 3 unreachable).
  int fail(const absl::Status& status, std::string_view what, Json extra = Json::object());
  // A usage error: message on stderr, exit 2.
  int usage(std::string_view message);
  int usage(const absl::Status& status) { return usage(std::string(status.message())); }

  bool json() const { return global.json; }

 private:
  std::unique_ptr<client::Client> m_client;
};

// Adds --request-id and --actor to a mutating command.
void addWriteOptions(CLI::App* cmd, WriteOptions& options);
// Fills in a generated request id and the default actor.
void completeWriteOptions(WriteOptions& options);
std::string defaultActor();

// Command groups (one file each).
void addMovementCommands(CLI::App& app,
                         Context& ctx);  // receive ship transfer adjust reserve commit release
void addStockCommands(CLI::App& app, Context& ctx);       // stock list history balance-at
void addCatalogCommands(CLI::App& app, Context& ctx);     // import items locations
void addStocktakeCommands(CLI::App& app, Context& ctx);   // counts
void addOperationsCommands(CLI::App& app, Context& ctx);  // alerts cluster health
void addWatchCommand(CLI::App& app, Context& ctx);        // watch
void addDemoTrafficCommand(CLI::App& app, Context& ctx);  // demo-traffic

// Ctrl-C / SIGTERM: installStopSignals() once; stopRequested() polls.
void installStopSignals();
bool stopRequested();

}  // namespace depot::ctl
