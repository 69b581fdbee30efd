#include "session/cache.h"

#include <QSqlError>
#include <QSqlQuery>
#include <QUuid>
#include <QVariant>

#include "depot/v1/operations.pb.h"

namespace depot::session {
namespace {

constexpr int kSchemaVersion = 1;

bool exec(QSqlDatabase& db, const QString& sql) {
  QSqlQuery q(db);
  if (!q.exec(sql)) {
    qWarning("cache: %s: %s", qPrintable(sql), qPrintable(q.lastError().text()));
    return false;
  }
  return true;
}

QString migrate(QSqlDatabase& db) {
  QSqlQuery q(db);
  q.exec(QStringLiteral("PRAGMA user_version"));
  const int version = q.next() ? q.value(0).toInt() : 0;
  if (version > kSchemaVersion)
    return QStringLiteral("the cache file was written by a newer console (schema %1)").arg(version);
  if (version < 1) {
    const char* const kV1[] = {
        "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID",
        "CREATE TABLE IF NOT EXISTS balances(sku TEXT NOT NULL, location TEXT NOT NULL,"
        " on_hand INTEGER NOT NULL, reserved INTEGER NOT NULL, updated_us INTEGER NOT NULL,"
        " PRIMARY KEY(sku, location)) WITHOUT ROWID",
        "CREATE TABLE IF NOT EXISTS cursor(shard INTEGER PRIMARY KEY, seq INTEGER NOT NULL)",
        "CREATE TABLE IF NOT EXISTS items(sku TEXT PRIMARY KEY, description TEXT, unit TEXT,"
        " reorder_point INTEGER) WITHOUT ROWID",
        "CREATE TABLE IF NOT EXISTS locations(name TEXT PRIMARY KEY) WITHOUT ROWID",
        "CREATE TABLE IF NOT EXISTS alerts(id INTEGER PRIMARY KEY, payload BLOB NOT NULL)",
        "CREATE TABLE IF NOT EXISTS outbox(id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,"
        " request_id TEXT NOT NULL UNIQUE, payload BLOB NOT NULL, created_us INTEGER NOT NULL,"
        " state INTEGER NOT NULL DEFAULT 0, outcome INTEGER NOT NULL DEFAULT 0, outcome_text TEXT,"
        " expected INTEGER NOT NULL DEFAULT 0, variance INTEGER NOT NULL DEFAULT 0)",
        "CREATE INDEX IF NOT EXISTS outbox_state ON outbox(state, id)",
        "PRAGMA user_version = 1",
    };
    for (const char* sql : kV1) {
      if (!exec(db, QString::fromLatin1(sql))) return QStringLiteral("cannot create the cache tables");
    }
  }
  return {};
}

AlertValue alertFromBlob(const QByteArray& blob) {
  v1::Alert a;
  a.ParseFromArray(blob.constData(), static_cast<int>(blob.size()));
  AlertValue v;
  v.id = a.id();
  v.kind = a.kind();
  v.severity = a.severity();
  v.state = a.state();
  v.subject = QString::fromStdString(a.subject());
  v.summary = QString::fromStdString(a.summary());
  v.firedAtUs = a.fired_at_us();
  v.updatedAtUs = a.updated_at_us();
  v.ackedBy = QString::fromStdString(a.acked_by());
  v.ackNote = QString::fromStdString(a.ack_note());
  v.silenced = a.silenced();
  return v;
}

QByteArray alertToBlob(const AlertValue& v) {
  v1::Alert a;
  a.set_id(v.id);
  a.set_kind(static_cast<v1::AlertKind>(v.kind));
  a.set_severity(static_cast<v1::Severity>(v.severity));
  a.set_state(static_cast<v1::AlertState>(v.state));
  a.set_subject(v.subject.toStdString());
  a.set_summary(v.summary.toStdString());
  a.set_fired_at_us(v.firedAtUs);
  a.set_updated_at_us(v.updatedAtUs);
  a.set_acked_by(v.ackedBy.toStdString());
  a.set_ack_note(v.ackNote.toStdString());
  a.set_silenced(v.silenced);
  const std::string s = a.SerializeAsString();
  return QByteArray(s.data(), static_cast<qsizetype>(s.size()));
}

}  // namespace

Cache::Cache(QString path) : m_path(std::move(path)) {}

Cache::~Cache() {
  if (!m_thread.joinable()) return;
  {
    std::lock_guard lock(m_mutex);
    m_stop = true;
  }
  m_wake.notify_all();
  m_thread.join();
}

QString Cache::open() {
  std::promise<QString> opened;
  auto result = opened.get_future();
  m_connection = QStringLiteral("depot-cache-") + QUuid::createUuid().toString(QUuid::WithoutBraces);
  m_thread = std::thread([this, &opened] {
    QString error;
    {
      QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connection);
      db.setDatabaseName(m_path);
      if (!db.open()) {
        error = QStringLiteral("cannot open the cache file %1: %2").arg(m_path, db.lastError().text());
      } else {
        exec(db, QStringLiteral("PRAGMA journal_mode=WAL"));
        exec(db, QStringLiteral("PRAGMA synchronous=FULL"));
        error = migrate(db);
      }
    }
    const bool ok = error.isEmpty();
    opened.set_value(error);
    if (ok) loop();
    QSqlDatabase::database(m_connection, false).close();
    QSqlDatabase::removeDatabase(m_connection);
  });
  QString error = result.get();
  if (!error.isEmpty()) {
    m_thread.join();
  }
  return error;
}

void Cache::post(Job job, Done done) {
  {
    std::lock_guard lock(m_mutex);
    m_queue.push_back({std::move(job), std::move(done)});
  }
  m_wake.notify_one();
}

void Cache::flush() {
  run<bool>([](QSqlDatabase&) { return true; });
}

void Cache::loop() {
  QSqlDatabase db = QSqlDatabase::database(m_connection, false);
  for (;;) {
    std::deque<Entry> batch;
    {
      std::unique_lock lock(m_mutex);
      m_wake.wait(lock, [&] { return m_stop || !m_queue.empty(); });
      if (m_queue.empty() && m_stop) return;
      batch.swap(m_queue);
    }
    db.transaction();
    for (auto& e : batch) e.job(db);
    const bool committed = db.commit();
    if (!committed) {
      qWarning("cache: commit failed: %s", qPrintable(db.lastError().text()));
      db.rollback();
    }
    for (auto& e : batch) {
      if (e.done) e.done(committed);
    }
  }
}

Cache::Contents Cache::loadAll(QSqlDatabase& db) {
  Contents c;
  QSqlQuery q(db);
  q.setForwardOnly(true);
  q.exec(QStringLiteral("SELECT sku, description, unit, reorder_point FROM items ORDER BY sku"));
  while (q.next()) {
    c.items.push_back({q.value(0).toString(), q.value(1).toString(), q.value(2).toString(),
                       q.value(3).toLongLong()});
  }
  q.exec(QStringLiteral("SELECT name FROM locations ORDER BY name"));
  while (q.next()) c.locations << q.value(0).toString();
  q.exec(QStringLiteral(
      "SELECT b.sku, b.location, b.on_hand, b.reserved, b.updated_us, i.reorder_point, i.description"
      " FROM balances b LEFT JOIN items i ON i.sku = b.sku"));
  while (q.next()) {
    StockRowValue r;
    r.sku = q.value(0).toString();
    r.location = q.value(1).toString();
    r.onHand = q.value(2).toLongLong();
    r.reserved = q.value(3).toLongLong();
    r.updatedUs = q.value(4).toLongLong();
    r.reorderPoint = q.value(5).toLongLong();
    r.description = q.value(6).toString();
    c.rows.push_back(std::move(r));
  }
  q.exec(QStringLiteral("SELECT payload FROM alerts ORDER BY id"));
  while (q.next()) c.alerts.push_back(alertFromBlob(q.value(0).toByteArray()));
  q.exec(QStringLiteral("SELECT key, value FROM meta"));
  QString ledger;
  while (q.next()) {
    if (q.value(0).toString() == QLatin1String("ledger_id")) ledger = q.value(1).toString();
    if (q.value(0).toString() == QLatin1String("last_sync_us")) c.lastSyncUs = q.value(1).toLongLong();
  }
  if (!ledger.isEmpty()) {
    client::LedgerCursor cursor;
    cursor.ledger_id = ledger.toStdString();
    q.exec(QStringLiteral("SELECT shard, seq FROM cursor"));
    while (q.next()) {
      const int s = q.value(0).toInt();
      if (s >= 0 && s < 256) cursor.seqs[static_cast<std::size_t>(s)] = q.value(1).toULongLong();
    }
    c.cursor = cursor;
  }
  return c;
}

void Cache::applyEntries(QSqlDatabase& db, const QVector<LedgerEntryValue>& entries) {
  QSqlQuery up(db);
  up.prepare(QStringLiteral(
      "INSERT INTO balances(sku, location, on_hand, reserved, updated_us) VALUES(?,?,?,?,?)"
      " ON CONFLICT(sku, location) DO UPDATE SET on_hand=excluded.on_hand,"
      " reserved=excluded.reserved, updated_us=excluded.updated_us"));
  std::array<quint64, 256> top{};
  for (const auto& e : entries) {
    up.bindValue(0, e.sku);
    up.bindValue(1, e.location);
    up.bindValue(2, e.onHandAfter);
    up.bindValue(3, e.reservedAfter);
    up.bindValue(4, e.tsUs);
    up.exec();
    if (e.shard < 256) top[e.shard] = std::max<quint64>(top[e.shard], e.seq);
  }
  QSqlQuery cur(db);
  cur.prepare(QStringLiteral(
      "INSERT INTO cursor(shard, seq) VALUES(?,?) ON CONFLICT(shard) DO UPDATE SET seq=max(seq, excluded.seq)"));
  for (int s = 0; s < 256; ++s) {
    if (top[static_cast<std::size_t>(s)] == 0) continue;
    cur.bindValue(0, s);
    cur.bindValue(1, static_cast<qlonglong>(top[static_cast<std::size_t>(s)]));
    cur.exec();
  }
}

void Cache::saveCursor(QSqlDatabase& db, const client::LedgerCursor& cursor) {
  setMeta(db, QStringLiteral("ledger_id"), QString::fromStdString(cursor.ledger_id));
  QSqlQuery cur(db);
  cur.prepare(QStringLiteral(
      "INSERT INTO cursor(shard, seq) VALUES(?,?) ON CONFLICT(shard) DO UPDATE SET seq=excluded.seq"));
  for (int s = 0; s < 256; ++s) {
    cur.bindValue(0, s);
    cur.bindValue(1, static_cast<qlonglong>(cursor.seqs[static_cast<std::size_t>(s)]));
    cur.exec();
  }
}

void Cache::replaceBalances(QSqlDatabase& db, const QVector<StockRowValue>& rows,
                            const client::LedgerCursor& cursor) {
  exec(db, QStringLiteral("DELETE FROM balances"));
  QSqlQuery ins(db);
  ins.prepare(QStringLiteral(
      "INSERT OR REPLACE INTO balances(sku, location, on_hand, reserved, updated_us) VALUES(?,?,?,?,?)"));
  for (const auto& r : rows) {
    ins.bindValue(0, r.sku);
    ins.bindValue(1, r.location);
    ins.bindValue(2, r.onHand);
    ins.bindValue(3, r.reserved);
    ins.bindValue(4, r.updatedUs);
    ins.exec();
  }
  saveCursor(db, cursor);
}

void Cache::replaceCatalog(QSqlDatabase& db, const QVector<ItemValue>& items, const QStringList& locations) {
  exec(db, QStringLiteral("DELETE FROM items"));
  exec(db, QStringLiteral("DELETE FROM locations"));
  QSqlQuery ins(db);
  ins.prepare(QStringLiteral("INSERT OR REPLACE INTO items(sku, description, unit, reorder_point) VALUES(?,?,?,?)"));
  for (const auto& i : items) {
    ins.bindValue(0, i.sku);
    ins.bindValue(1, i.description);
    ins.bindValue(2, i.unit);
    ins.bindValue(3, i.reorderPoint);
    ins.exec();
  }
  QSqlQuery loc(db);
  loc.prepare(QStringLiteral("INSERT OR REPLACE INTO locations(name) VALUES(?)"));
  for (const auto& l : locations) {
    loc.bindValue(0, l);
    loc.exec();
  }
}

void Cache::replaceAlerts(QSqlDatabase& db, const QVector<AlertValue>& alerts) {
  exec(db, QStringLiteral("DELETE FROM alerts"));
  for (const auto& a : alerts) upsertAlert(db, a);
}

void Cache::upsertAlert(QSqlDatabase& db, const AlertValue& alert) {
  QSqlQuery q(db);
  q.prepare(QStringLiteral("INSERT OR REPLACE INTO alerts(id, payload) VALUES(?,?)"));
  q.bindValue(0, static_cast<qlonglong>(alert.id));
  q.bindValue(1, alertToBlob(alert));
  q.exec();
}

void Cache::setMeta(QSqlDatabase& db, const QString& key, const QString& value) {
  QSqlQuery q(db);
  q.prepare(QStringLiteral("INSERT OR REPLACE INTO meta(key, value) VALUES(?,?)"));
  q.bindValue(0, key);
  q.bindValue(1, value);
  q.exec();
}

bool Cache::addOutbox(QSqlDatabase& db, const OutboxRow& row) {
  QSqlQuery q(db);
  q.prepare(QStringLiteral(
      "INSERT INTO outbox(kind, request_id, payload, created_us, state) VALUES(?,?,?,?,0)"));
  q.bindValue(0, row.kind);
  q.bindValue(1, row.requestId);
  q.bindValue(2, row.payload);
  q.bindValue(3, QDateTime::currentMSecsSinceEpoch() * 1000);
  if (!q.exec()) {
    qWarning("cache: outbox insert: %s", qPrintable(q.lastError().text()));
    return false;
  }
  return true;
}

int Cache::outboxPending(QSqlDatabase& db) {
  QSqlQuery q(db);
  q.exec(QStringLiteral("SELECT count(*) FROM outbox WHERE state != 1"));
  return q.next() ? q.value(0).toInt() : 0;
}

namespace {
Cache::OutboxRow readOutbox(QSqlQuery& q) {
  Cache::OutboxRow r;
  r.id = q.value(0).toLongLong();
  r.kind = q.value(1).toString();
  r.requestId = q.value(2).toString();
  r.payload = q.value(3).toByteArray();
  r.state = q.value(4).toInt();
  r.outcome = q.value(5).toInt();
  r.outcomeText = q.value(6).toString();
  r.expected = q.value(7).toLongLong();
  r.variance = q.value(8).toLongLong();
  return r;
}
constexpr const char* kOutboxColumns =
    "SELECT id, kind, request_id, payload, state, outcome, outcome_text, expected, variance FROM outbox ";
}  // namespace

QVector<Cache::OutboxRow> Cache::nextOutbox(QSqlDatabase& db, int limit) {
  QVector<OutboxRow> out;
  QSqlQuery q(db);
  q.prepare(QString::fromLatin1(kOutboxColumns) + QStringLiteral("WHERE state != 1 ORDER BY id LIMIT ?"));
  q.bindValue(0, limit);
  q.exec();
  while (q.next()) out.push_back(readOutbox(q));
  return out;
}

void Cache::setOutboxState(QSqlDatabase& db, const QString& requestId, int state) {
  QSqlQuery q(db);
  q.prepare(QStringLiteral("UPDATE outbox SET state=? WHERE request_id=?"));
  q.bindValue(0, state);
  q.bindValue(1, requestId);
  q.exec();
}

void Cache::finishOutbox(QSqlDatabase& db, const OutboxRow& row) {
  QSqlQuery q(db);
  q.prepare(QStringLiteral(
      "UPDATE outbox SET state=1, outcome=?, outcome_text=?, expected=?, variance=? WHERE request_id=?"));
  q.bindValue(0, row.outcome);
  q.bindValue(1, row.outcomeText);
  q.bindValue(2, row.expected);
  q.bindValue(3, row.variance);
  q.bindValue(4, row.requestId);
  q.exec();
}

bool Cache::removeQueued(QSqlDatabase& db, const QString& requestId) {
  QSqlQuery q(db);
  q.prepare(QStringLiteral("DELETE FROM outbox WHERE request_id=? AND state=0"));
  q.bindValue(0, requestId);
  q.exec();
  return q.numRowsAffected() == 1;
}

QVector<Cache::OutboxRow> Cache::recentCounts(QSqlDatabase& db, int limit) {
  QVector<OutboxRow> out;
  QSqlQuery q(db);
  q.prepare(QString::fromLatin1(kOutboxColumns) +
            QStringLiteral("WHERE kind='count' ORDER BY id DESC LIMIT ?"));
  q.bindValue(0, limit);
  q.exec();
  while (q.next()) out.push_front(readOutbox(q));
  return out;
}

}  // namespace depot::session
