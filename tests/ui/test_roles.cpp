// Roles: the profile's role decides which controls the console enables.
// Clerks can count but the Acknowledge, Silence, Approve and Reject controls
// are disabled for them, with a tooltip saying why; supervisors and managers
// can use them. The role is stored with the profile in QSettings.
#include <QSettings>
#include <algorithm>
#include <QTemporaryDir>
#include <QtTest>

#include "session/profile.h"
#include "session/session.h"
#include "ui/alerts_view.h"
#include "ui/stocktake_view.h"

using namespace depot;
using namespace depot::ui;

class TestRoles : public QObject {
  Q_OBJECT
 private:
  static session::Session::Options options(const QTemporaryDir& dir, session::Role role) {
    session::Session::Options o;
    o.profile.name = QStringLiteral("roles");  // no endpoints: offline only
    o.profile.role = role;
    o.cacheFile = dir.filePath(QStringLiteral("c.sqlite"));
    return o;
  }

 private slots:
  void profileRoundTrip() {
    QTemporaryDir dir;
    QSettings settings(dir.filePath(QStringLiteral("s.ini")), QSettings::IniFormat);
    session::ProfileStore store(settings);
    session::Profile p;
    p.name = QStringLiteral("site-a");
    p.endpoints = {QStringLiteral("127.0.0.1:7070")};
    p.role = session::Role::kClerk;
    store.save(p);
    session::Profile q;
    QVERIFY(store.load(QStringLiteral("site-a"), &q));
    QCOMPARE(q.role, session::Role::kClerk);
    // Profiles saved before roles existed get the default (supervisor).
    settings.remove(QStringLiteral("profiles/site-a/role"));
    QVERIFY(store.load(QStringLiteral("site-a"), &q));
    QCOMPARE(q.role, session::Role::kSupervisor);
    session::Role r = session::Role::kClerk;
    QCOMPARE(session::parseRole(QStringLiteral(" Manager "), &r), QString());
    QCOMPARE(r, session::Role::kManager);
    QVERIFY(!session::parseRole(QStringLiteral("boss"), &r).isEmpty());
    QCOMPARE(r, session::Role::kManager);
  }

  void controlsFollowRole_data() {
    QTest::addColumn<int>("role");
    QTest::addColumn<bool>("enabled");
    QTest::newRow("clerk") << int(session::Role::kClerk) << false;
    QTest::newRow("supervisor") << int(session::Role::kSupervisor) << true;
    QTest::newRow("manager") << int(session::Role::kManager) << true;
  }

  void controlsFollowRole() {
    QFETCH(int, role);
    QFETCH(bool, enabled);
    QTemporaryDir dir;
    session::Session s(options(dir, static_cast<session::Role>(role)));
    AlertsModel alerts;
    AlertsView alertsView(&s, &alerts);
    StocktakeView stocktake(&s);
    QCOMPARE(s.start(), QString());
    for (QPushButton* b : {alertsView.acknowledgeButton(), alertsView.silenceButton(), stocktake.approveButton(),
                           stocktake.rejectButton()}) {
      QCOMPARE(b->isEnabled(), enabled);
      if (!enabled) QVERIFY2(b->toolTip().contains(QStringLiteral("Clerks cannot")), qPrintable(b->toolTip()));
    }
    // Counting is open to every role.
    QVERIFY(stocktake.scanField()->isEnabled());
    // The role can change at run time (e.g. another profile).
    const auto other = enabled ? session::Role::kClerk : session::Role::kManager;
    alertsView.setRole(other);
    stocktake.setRole(other);
    QCOMPARE(alertsView.acknowledgeButton()->isEnabled(), !enabled);
    QCOMPARE(stocktake.approveButton()->isEnabled(), !enabled);
  }

  // The shortcut path (Ctrl+Shift+A calls the slot) refuses for a clerk, in words.
  void clerkShortcutRefused() {
    QTemporaryDir dir;
    session::Session s(options(dir, session::Role::kClerk));
    AlertsModel alerts;
    AlertsView view(&s, &alerts);
    view.acknowledgeSelected();  // refused before the selection is looked at
    const auto labels = view.findChildren<QLabel*>();
    QVERIFY(std::any_of(labels.begin(), labels.end(), [](QLabel* l) { return l->text().contains(QStringLiteral("Clerks cannot")); }));
  }
};

QTEST_MAIN(TestRoles)
#include "test_roles.moc"
