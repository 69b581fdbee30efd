// depot-console: command line, profile choice and wiring — nothing else.
//
//   depot-console [--server HOST:PORT[,HOST:PORT...]] [--profile NAME]
//                 [--cache FILE] [--user NAME] [--role ROLE] [--screenshots DIR]
//
// --server connects straight to those endpoints (no dialog); with --profile
// too, the endpoints are saved under that profile name. --profile alone
// uses a saved profile. Neither: the connection dialog. --role (clerk,
// supervisor or manager; default: the profile's, else supervisor) sets what
// the console lets the user do; with --server --profile it is saved too.
// Test seams (environment): DEPOT_CONSOLE_FLUSH_BATCH (count lines per
// SubmitCounts while flushing the outbox), DEPOT_CONSOLE_FLUSH_DELAY_MS
// (pause between flush batches).
#include <QApplication>
#include <QCommandLineParser>
#include <QSettings>
#include <cstdio>

#include "screenshots.h"
#include "session/profile.h"
#include "session/session.h"
#include "ui/main_window.h"
#include "ui/profile_dialog.h"

namespace {

int usageError(const QString& text) {
  std::fprintf(stderr, "depot-console: %s\n", qPrintable(text));
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName(QStringLiteral("Depot"));
  QApplication::setApplicationName(QStringLiteral("depot-console"));
  QApplication::setApplicationVersion(QStringLiteral("0.1.0"));

  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral("Depot operations console"));
  parser.addHelpOption();
  parser.addVersionOption();
  QCommandLineOption server(QStringLiteral("server"), QStringLiteral("Cluster endpoints, HOST:PORT[,HOST:PORT...]."), QStringLiteral("endpoints"));
  QCommandLineOption profileOpt(QStringLiteral("profile"), QStringLiteral("Saved connection profile."), QStringLiteral("name"));
  QCommandLineOption cache(QStringLiteral("cache"), QStringLiteral("Cache file (default: one per profile)."), QStringLiteral("file"));
  QCommandLineOption user(QStringLiteral("user"), QStringLiteral("User name recorded with counts and acknowledgements."), QStringLiteral("name"));
  QCommandLineOption role(QStringLiteral("role"), QStringLiteral("clerk, supervisor or manager (default: the profile's role, else supervisor)."), QStringLiteral("role"));
  QCommandLineOption shots(QStringLiteral("screenshots"), QStringLiteral("Save a PNG of each view into DIR once data arrived, then quit."), QStringLiteral("dir"));
  QCommandLineOption shotsTimeout(QStringLiteral("screenshots-timeout"), QStringLiteral("Seconds to wait for data before taking screenshots anyway (default 40)."), QStringLiteral("seconds"), QStringLiteral("40"));
  parser.addOptions({server, profileOpt, cache, user, role, shots, shotsTimeout});
  parser.process(app);

  depot::session::Role roleValue = depot::session::kDefaultRole;
  if (parser.isSet(role)) {
    const QString reason = depot::session::parseRole(parser.value(role), &roleValue);
    if (!reason.isEmpty()) return usageError(QStringLiteral("--role: %1").arg(reason));
  }

  QSettings settings;
  depot::session::ProfileStore store(settings);
  depot::session::Profile profile;
  if (parser.isSet(server)) {
    QStringList endpoints;
    const QString reason = depot::session::parseEndpoints(parser.value(server), &endpoints);
    if (!reason.isEmpty()) return usageError(QStringLiteral("--server: %1").arg(reason));
    profile.name = parser.isSet(profileOpt) ? parser.value(profileOpt) : QStringLiteral("server-") + endpoints.join('_');
    profile.endpoints = endpoints;
    profile.role = roleValue;
    if (parser.isSet(profileOpt)) store.save(profile);
  } else if (parser.isSet(profileOpt)) {
    if (!store.load(parser.value(profileOpt), &profile))
      return usageError(QStringLiteral("--profile: no saved profile named '%1' (saved: %2)")
                            .arg(parser.value(profileOpt), store.names().join(", ")));
  } else {
    depot::ui::ProfileDialog dialog(store);
    if (dialog.exec() != QDialog::Accepted) return 0;
    profile = dialog.profile();
  }
  if (parser.isSet(user)) profile.user = parser.value(user);
  if (parser.isSet(role)) profile.role = roleValue;

  depot::session::Session::Options options;
  options.profile = profile;
  options.cacheFile = parser.value(cache);
  bool ok = false;
  if (const int n = qEnvironmentVariableIntValue("DEPOT_CONSOLE_FLUSH_BATCH", &ok); ok && n > 0) options.flushBatch = n;
  if (const int n = qEnvironmentVariableIntValue("DEPOT_CONSOLE_FLUSH_DELAY_MS", &ok); ok && n >= 0) options.flushDelayMs = n;
  depot::session::Session session(options);
  // The window connects before start(): the cached data is the first thing shown.
  depot::ui::MainWindow window(&session);
  const QString error = session.start();
  if (!error.isEmpty()) return usageError(error);
  window.show();
  if (parser.isSet(shots)) {
    depot::app::startScreenshots(&window, parser.value(shots), parser.value(shotsTimeout).toInt() * 1000);
  }
  return app.exec();
}
