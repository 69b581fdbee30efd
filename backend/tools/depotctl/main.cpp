// depotctl: command-line client for Depot. See context.h for the exit codes
// and the README section of each command (--help) for usage.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <exception>
#include <iostream>

#include "context.h"

int main(int argc, char** argv) {
  using namespace depot::ctl;
  Context ctx;
  CLI::App app{"depotctl — command-line client for the Depot inventory service"};
  app.name("depotctl");
  app.require_subcommand(1);
  app.fallthrough();  // global options are accepted after the subcommand too

  const char* env_server = std::getenv("DEPOT_SERVER");
  ctx.global.server = env_server && *env_server ? env_server : "127.0.0.1:7070";
  app.add_option("--server", ctx.global.server,
                 "HOST:PORT[,HOST:PORT...] (default: $DEPOT_SERVER, else 127.0.0.1:7070)");
  app.add_flag("--json", ctx.global.json, "Machine-readable JSON on stdout");
  app.add_option("--timeout", ctx.global.timeout_s, "Deadline per attempt, in seconds (default 5)");

  addMovementCommands(app, ctx);
  addStockCommands(app, ctx);
  addCatalogCommands(app, ctx);
  addStocktakeCommands(app, ctx);
  addOperationsCommands(app, ctx);
  addWatchCommand(app, ctx);
  addDemoTrafficCommand(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help is a "success" ParseError; everything else is a usage error.
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (!ctx.action) return ctx.usage("no command given (see --help)");
  try {
    return ctx.action();
  } catch (const std::exception& e) {
    std::cerr << "depotctl: internal error: " << e.what() << '\n';
    return kExitRefused;
  }
}
