// watch: live ledger events, one line each (JSON Lines with --json), until
// Ctrl-C. Resumes across server restarts through WatchStream; a cursor the
// server refuses (another ledger) ends the command with exit 1.
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include "client/parse.h"
#include "client/streams.h"
#include "context.h"

namespace depot::ctl {
namespace {

struct WatchArgs {
  bool from_now = false;
  std::vector<std::uint32_t> shards;
  std::string duration;  // optional bound, for scripts and tests
};

int runWatch(Context& ctx, const WatchArgs& a) {
  for (auto s : a.shards) {
    if (s >= 256) return ctx.usage("--shard: must be 0..255");
  }
  client::Micros limit = 0;
  if (!a.duration.empty()) {
    auto d = client::parseDuration("--duration", a.duration);
    if (!d.ok()) return ctx.usage(d.status());
    limit = *d;
  }
  auto* client = ctx.client();
  if (!client) return kExitUsage;
  installStopSignals();

  std::mutex out_mutex;  // callbacks and the main thread both write
  absl::Status terminal;
  client::WatchStream::Options options;
  if (!a.from_now) options.from = client::LedgerCursor{};  // every shard from seq 0
  options.shards = a.shards;
  client::WatchStream::Callbacks callbacks;
  const bool json = ctx.json();
  callbacks.on_entries = [&](std::vector<v1::LedgerEntry>&& entries) {
    std::lock_guard lock(out_mutex);
    for (const auto& e : entries) {
      if (json) {
        std::cout << toJson(e).dump(-1, ' ', false, Json::error_handler_t::replace) << '\n';
      } else {
        std::cout << entryLine(e) << '\n';
      }
    }
    std::cout.flush();
  };
  // One line per transition, not per failed attempt while the server is down.
  bool connected = false;
  bool lost_reported = false;
  callbacks.on_state = [&](client::StreamState state, const absl::Status& status) {
    std::lock_guard lock(out_mutex);
    if (state == client::StreamState::kReconnecting && (connected || !lost_reported)) {
      std::cerr << "depotctl: watch: " << (connected ? "stream lost" : "cannot connect") << " ("
                << status.message() << "); reconnecting\n";
      connected = false;
      lost_reported = true;
    } else if (state == client::StreamState::kConnected) {
      std::cerr << "depotctl: watch: connected\n";
      connected = true;
      lost_reported = false;
    }
  };
  callbacks.on_error = [&](const absl::Status& status) {
    std::lock_guard lock(out_mutex);
    terminal = status;
  };
  client::WatchStream stream(*client, std::move(options), std::move(callbacks));
  stream.start();
  const auto started = std::chrono::steady_clock::now();
  while (!stopRequested() && stream.running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (limit > 0 &&
        std::chrono::steady_clock::now() - started >= std::chrono::microseconds(limit)) {
      break;
    }
    if (!std::cout) break;  // stdout closed (e.g. piped into head)
  }
  stream.stop();
  std::lock_guard lock(out_mutex);
  if (!terminal.ok()) return ctx.fail(terminal, "watch");
  return kExitOk;
}

}  // namespace

void addWatchCommand(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<WatchArgs>();
  auto* cmd = app.add_subcommand(
      "watch", "Print ledger events as they commit until Ctrl-C (default: from the beginning)");
  cmd->add_flag("--from-now", args->from_now, "Only events committed from now on");
  cmd->add_option("--shard", args->shards, "Only these shards (repeatable)");
  cmd->add_option("--duration", args->duration, "Stop after this long (e.g. 30s)");
  cmd->callback([&ctx, args] { ctx.action = [&ctx, args] { return runWatch(ctx, *args); }; });
}

}  // namespace depot::ctl
