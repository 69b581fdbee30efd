#include "context.h"

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <iostream>

#include "absl/strings/str_split.h"
#include "client/request_id.h"
#include "client/status.h"

namespace depot::ctl {

client::Client* Context::client() {
  if (m_client) return m_client.get();
  client::ClientOptions options;
  for (auto part : absl::StrSplit(global.server, ',', absl::SkipWhitespace())) {
    std::string endpoint(part);
    while (!endpoint.empty() && endpoint.front() == ' ') endpoint.erase(0, 1);
    while (!endpoint.empty() && endpoint.back() == ' ') endpoint.pop_back();
    options.endpoints.push_back(endpoint);
  }
  if (!std::isfinite(global.timeout_s) || global.timeout_s <= 0 || global.timeout_s > 86400) {
    usage("--timeout: must be a number of seconds in (0, 86400]");
    return nullptr;
  }
  options.deadline = std::chrono::milliseconds(
      std::max<std::int64_t>(1, static_cast<std::int64_t>(global.timeout_s * 1000)));
  auto created = client::Client::create(std::move(options));
  if (!created.ok()) {
    usage(std::string("--server: ") + std::string(created.status().message()));
    return nullptr;
  }
  m_client = std::move(*created);
  return m_client.get();
}

int Context::fail(const absl::Status& status, std::string_view what, Json extra) {
  const auto cls = client::classify(status);
  const char* label = cls == client::ErrorClass::kUnreachable ? "unreachable" : "refused";
  std::cerr << "depotctl: " << what << ": " << label << ": " << client::codeName(status.code())
            << ": " << status.message() << '\n';
  if (json()) {
    if (!extra.is_object()) extra = Json::object();
    extra["ok"] = false;
    extra["error"] = Json{{"class", label},
                          {"code", client::codeName(status.code())},
                          {"message", std::string(status.message())}};
    printJson(extra);
  }
  return cls == client::ErrorClass::kUnreachable ? kExitUnreachable : kExitRefused;
}

int Context::usage(std::string_view message) {
  std::cerr << "depotctl: error: " << message << '\n';
  return kExitUsage;
}

std::string defaultActor() {
  if (const char* user = std::getenv("USER"); user && *user) return user;
  if (const char* name = std::getenv("LOGNAME"); name && *name) return name;
  return "depotctl";
}

void addWriteOptions(CLI::App* cmd, WriteOptions& options) {
  cmd->add_option("--request-id", options.request_id,
                  "Idempotency key (generated when absent; re-use it to retry safely)");
  cmd->add_option("--actor", options.actor, "Who is doing this (default: $USER)");
}

void completeWriteOptions(WriteOptions& options) {
  if (options.request_id.empty()) options.request_id = client::newRequestId();
  if (options.actor.empty()) options.actor = defaultActor();
}

namespace {
std::atomic<bool> g_stop{false};
extern "C" void onStopSignal(int) { g_stop.store(true); }
}  // namespace

void installStopSignals() {
  struct sigaction action {};
  action.sa_handler = onStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  // A closed stdout pipe (depotctl watch | head) ends the program through
  // a failed write, not a signal.
  std::signal(SIGPIPE, SIG_IGN);
}

bool stopRequested() { return g_stop.load(); }

}  // namespace depot::ctl
