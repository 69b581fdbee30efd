// Value types the session layer hands to the UI through queued signals.
// Plain copyable data only (no protobuf, no pointers into session state), so
// a signal carrying them can cross threads safely. Registered with the Qt
// meta-type system by registerSessionTypes().
#pragma once

#include <QDateTime>
#include <QList>
#include <QMetaType>
#include <QString>
#include <QStringList>
#include <QVector>
#include <cstdint>

namespace depot::session {

// One (sku, location) balance with the item fields the stock view shows.
struct StockRowValue {
  QString sku;
  QString location;  // "warehouse/code"
  qint64 onHand = 0;
  qint64 reserved = 0;
  qint64 reorderPoint = 0;
  qint64 updatedUs = 0;
  QString description;
};

// One ledger entry (the parts the console uses).
struct LedgerEntryValue {
  quint32 shard = 0;
  quint64 seq = 0;
  int kind = 0;  // depot.v1.MovementKind
  QString sku;
  QString location;
  qint64 dOnHand = 0;
  qint64 dReserved = 0;
  qint64 onHandAfter = 0;
  qint64 reservedAfter = 0;
  QString actor;
  QString reason;
  QString ref;
  QString requestId;
  qint64 tsUs = 0;
};

struct ItemValue {
  QString sku;
  QString description;
  QString unit;
  qint64 reorderPoint = 0;
};

struct AlertValue {
  quint64 id = 0;
  int kind = 0;      // depot.v1.AlertKind
  int severity = 0;  // depot.v1.Severity
  int state = 0;     // depot.v1.AlertState
  QString subject;
  QString summary;
  qint64 firedAtUs = 0;
  qint64 updatedAtUs = 0;
  QString ackedBy;
  QString ackNote;
  bool silenced = false;
  bool ackQueued = false;  // an acknowledgement waits in the outbox
};

struct MetricsValue {
  QString nodeId;
  qint64 atUs = 0;
  double movementsPerS = 0;
  double rejectionsPerS = 0;
  double p50Ms = 0;
  double p99Ms = 0;
  quint64 queueDepth = 0;
};

enum class LinkState {
  kConnecting,    // first attempt in progress
  kOnline,        // the server answers and Watch is live
  kReconnecting,  // lost or not yet reached; retrying (see nextAttempt)
  kOffline,       // no endpoint configured, or several attempts failed in a row
};

// Everything the status bar shows, sent whenever it changes (and once a second).
struct LinkStatus {
  LinkState state = LinkState::kConnecting;
  QString endpoint;        // the endpoint that last answered
  QDateTime nextAttempt;   // Reconnecting/Offline: when the next try happens
  QString lastError;       // words, never a status number
  QDateTime dataAsOf;      // the last moment the data was known current
  qint64 watchLagEntries = -1;  // committed - position, all shards; -1 unknown
  int outboxCount = 0;
  int snapshotProgress = -1;  // 0..256 shards while re-snapshotting, else -1
};

// One stocktake count as the clerk entered it.
struct CountDraft {
  QString requestId;
  QString sku;
  QString location;
  qint64 counted = 0;
  qint64 countedAtUs = 0;
  QString sessionId;
  bool blind = false;
};

enum class CountOutcomeKind {
  kSaving,           // being written to the outbox
  kQueued,           // durable in the outbox, not yet sent
  kApplied,          // the server applied the variance
  kPendingApproval,  // variance waits for a supervisor
  kRejected,         // refused by the server (text says why)
};

struct CountOutcome {
  QString requestId;
  CountOutcomeKind kind = CountOutcomeKind::kSaving;
  qint64 expected = 0;
  qint64 variance = 0;
  bool blind = false;
  QString text;  // the server's reason in words, for kRejected
};

struct PendingCountValue {
  QString countId;
  QString sku;
  QString location;
  qint64 counted = 0;
  qint64 expected = 0;
  qint64 variance = 0;
  QString counter;
  qint64 countedAtUs = 0;
};

struct NodeValue {
  QString nodeId;
  QString endpoint;
  bool healthy = false;
  quint32 shardsOwned = 0;
  QString role;
};

struct ShardValue {
  quint32 shard = 0;
  QString owner;
  quint64 epoch = 0;
  quint64 lastSeq = 0;
  quint64 lag = 0;
};

struct ClusterValue {
  QVector<NodeValue> nodes;
  QVector<ShardValue> shards;
};

struct ItemDetailValue {
  QString sku;
  QString error;  // non-empty: the request failed (words)
  ItemValue item;
  QVector<StockRowValue> balances;
  QVector<LedgerEntryValue> history;  // ascending seq, within [fromUs, toUs)
  // Balance per location at fromUs (BalanceAt), the plot's starting points.
  QStringList startLocations;
  QVector<qint64> startOnHand;
  qint64 fromUs = 0;
  qint64 toUs = 0;
};

// Registers the types above for queued connections. Idempotent.
void registerSessionTypes();

}  // namespace depot::session

Q_DECLARE_METATYPE(depot::session::StockRowValue)
Q_DECLARE_METATYPE(depot::session::LedgerEntryValue)
Q_DECLARE_METATYPE(depot::session::AlertValue)
Q_DECLARE_METATYPE(depot::session::MetricsValue)
Q_DECLARE_METATYPE(depot::session::LinkStatus)
Q_DECLARE_METATYPE(depot::session::CountDraft)
Q_DECLARE_METATYPE(depot::session::CountOutcome)
Q_DECLARE_METATYPE(depot::session::PendingCountValue)
Q_DECLARE_METATYPE(depot::session::ClusterValue)
Q_DECLARE_METATYPE(depot::session::ItemDetailValue)
Q_DECLARE_METATYPE(depot::session::ItemValue)
