#include "session/session.h"

#include <QDateTime>
#include <QFileInfo>
#include <QDir>

#include "client/request_id.h"
#include "depot/v1/operations.pb.h"
#include "depot/v1/stocktake.pb.h"
#include "session/cache.h"
#include "session/error_text.h"
#include "session/sync_worker.h"

namespace depot::session {

namespace {
QString str(const std::string& s) { return QString::fromStdString(s); }
QByteArray bytes(const google::protobuf::Message& m) {
  const std::string s = m.SerializeAsString();
  return QByteArray(s.data(), static_cast<qsizetype>(s.size()));
}
}  // namespace

void registerSessionTypes() {
  qRegisterMetaType<StockRowValue>();
  qRegisterMetaType<LedgerEntryValue>();
  qRegisterMetaType<AlertValue>();
  qRegisterMetaType<MetricsValue>();
  qRegisterMetaType<LinkStatus>();
  qRegisterMetaType<CountDraft>();
  qRegisterMetaType<CountOutcome>();
  qRegisterMetaType<PendingCountValue>();
  qRegisterMetaType<ClusterValue>();
  qRegisterMetaType<ItemDetailValue>();
  qRegisterMetaType<ItemValue>();
  qRegisterMetaType<QVector<StockRowValue>>();
  qRegisterMetaType<QVector<LedgerEntryValue>>();
  qRegisterMetaType<QVector<AlertValue>>();
  qRegisterMetaType<QVector<ItemValue>>();
  qRegisterMetaType<QVector<CountDraft>>();
  qRegisterMetaType<QVector<CountOutcome>>();
  qRegisterMetaType<QVector<PendingCountValue>>();
}

Session::Session(Options options, QObject* parent) : QObject(parent), m_options(std::move(options)) {
  registerSessionTypes();
  if (m_options.cacheFile.isEmpty()) m_options.cacheFile = m_options.profile.cacheFile;
  if (m_options.cacheFile.isEmpty())
    m_options.cacheFile = defaultCachePath(m_options.profile.name.isEmpty() ? QStringLiteral("default")
                                                                            : m_options.profile.name);
}

Session::~Session() {
  m_worker.reset();  // stops streams first: they post to the cache
  m_cache.reset();   // commits what is queued
}

QString Session::start() {
  QDir().mkpath(QFileInfo(m_options.cacheFile).absolutePath());
  m_cache = std::make_unique<Cache>(m_options.cacheFile);
  QString error = m_cache->open();
  if (!error.isEmpty()) {
    m_cache.reset();
    return error;
  }
  m_worker = std::make_unique<SyncWorker>(*this, *m_cache, m_options);
  m_worker->start();
  return {};
}

QString Session::user() const {
  if (!m_options.profile.user.isEmpty()) return m_options.profile.user;
  const QString u = qEnvironmentVariable("USER");
  return u.isEmpty() ? QStringLiteral("console") : u;
}

QString Session::cachePath() const { return m_options.cacheFile; }

void Session::submitCount(const CountDraft& draft) {
  if (!m_cache) return;
  v1::SubmitCountsRequest req;
  req.set_session_id(draft.sessionId.toStdString());
  req.set_counter(user().toStdString());
  req.set_blind(draft.blind);
  auto* line = req.add_lines();
  line->set_request_id(draft.requestId.toStdString());
  line->set_sku(draft.sku.toStdString());
  line->set_location(draft.location.toStdString());
  line->set_counted(draft.counted);
  line->set_counted_at_us(draft.countedAtUs);
  Cache::OutboxRow row;
  row.kind = QStringLiteral("count");
  row.requestId = draft.requestId;
  row.payload = bytes(req);
  auto added = std::make_shared<bool>(false);
  // "kQueued" is reported only after the COMMIT: the line is then durable.
  m_cache->post([row, added](QSqlDatabase& db) { *added = Cache::addOutbox(db, row); },
                [this, added, id = draft.requestId, blind = draft.blind](bool committed) {
                  CountOutcome o;
                  o.requestId = id;
                  o.blind = blind;
                  if (committed && *added) {
                    o.kind = CountOutcomeKind::kQueued;
                  } else {
                    o.kind = CountOutcomeKind::kRejected;
                    o.text = QStringLiteral("could not be saved in the local cache (disk full or file locked?)");
                  }
                  emit countOutcome(o);
                  if (m_worker) m_worker->markOutboxDirty();
                });
}

void Session::undoCount(const QString& requestId) {
  if (!m_cache) return;
  auto removed = std::make_shared<bool>(false);
  m_cache->post([requestId, removed](QSqlDatabase& db) { *removed = Cache::removeQueued(db, requestId); },
                [this, requestId, removed](bool committed) {
                  const bool ok = committed && *removed;
                  emit countUndone(requestId, ok,
                                   ok ? QString()
                                      : QStringLiteral("already sent to the server; count the bin again to correct it"));
                  if (m_worker) m_worker->markOutboxDirty();
                });
}

void Session::acknowledge(quint64 alertId, const QString& note) {
  if (!m_cache) return;
  v1::AckRequest req;
  req.set_alert_id(alertId);
  req.set_actor(user().toStdString());
  req.set_note(note.toStdString());
  Cache::OutboxRow row;
  row.kind = QStringLiteral("ack");
  row.requestId = QString::fromStdString(client::newRequestId());
  row.payload = bytes(req);
  m_cache->post([row](QSqlDatabase& db) { Cache::addOutbox(db, row); },
                [this, alertId](bool committed) {
                  emit actionResult(committed, committed ? QStringLiteral("Acknowledgement of alert %1 queued").arg(alertId)
                                                         : QStringLiteral("Could not save the acknowledgement locally"));
                  if (m_worker) m_worker->markOutboxDirty();
                });
}

void Session::silence(int alertKind, const QString& subjectPrefix, qint64 durationSeconds, const QString& comment) {
  if (!m_worker) return;
  v1::SilenceRequest req;
  req.set_kind(static_cast<v1::AlertKind>(alertKind));
  req.set_subject_prefix(subjectPrefix.toStdString());
  req.set_owner(user().toStdString());
  req.set_comment(comment.toStdString());
  req.set_duration_seconds(durationSeconds);
  m_worker->post([this, req] {
    auto* c = m_worker->client();
    if (!c) {
      emit actionResult(false, QStringLiteral("Silencing needs a connection to the server"));
      return;
    }
    auto r = c->silence(req);
    emit actionResult(r.ok(), r.ok() ? QStringLiteral("Silenced until %1")
                                           .arg(QDateTime::fromMSecsSinceEpoch(r->expires_at_us() / 1000)
                                                    .toString(QStringLiteral("yyyy-MM-dd HH:mm")))
                                     : userText(r.status(), QStringLiteral("silence alerts")));
  });
}

void Session::requestItemDetail(const QString& sku, qint64 fromUs, qint64 toUs) {
  if (!m_worker) return;
  m_worker->post([this, sku, fromUs, toUs] {
    ItemDetailValue d;
    d.sku = sku;
    d.fromUs = fromUs;
    d.toUs = toUs;
    auto* c = m_worker->client();
    if (!c) {
      d.error = QStringLiteral("Item history needs a connection to the server");
      emit itemDetail(d);
      return;
    }
    v1::GetStockRequest gs;
    gs.set_sku(sku.toStdString());
    auto stock = c->getStock(gs);
    if (!stock.ok()) {
      d.error = userText(stock.status(), QStringLiteral("load item %1").arg(sku));
      emit itemDetail(d);
      return;
    }
    d.item = {str(stock->item().sku()), str(stock->item().description()), str(stock->item().unit()),
              stock->item().reorder_point()};
    for (const auto& b : stock->balances())
      d.balances.push_back({str(b.sku()), str(b.location()), b.on_hand(), b.reserved(),
                            stock->item().reorder_point(), 0, d.item.description});
    v1::HistoryRequest hr;
    hr.set_sku(sku.toStdString());
    hr.set_from_us(fromUs);
    hr.set_to_us(toUs);
    hr.set_page_size(1000);
    for (int page = 0; page < 20; ++page) {
      auto h = c->history(hr);
      if (!h.ok()) {
        d.error = userText(h.status(), QStringLiteral("load the history of %1").arg(sku));
        break;
      }
      for (const auto& e : h->entries()) d.history.push_back(entryValue(e));
      if (h->next_page_token().empty()) break;
      hr.set_page_token(h->next_page_token());
    }
    if (fromUs > 0) {
      for (const auto& b : d.balances) {
        v1::BalanceAtRequest br;
        br.set_sku(sku.toStdString());
        br.set_location(b.location.toStdString());
        br.set_at_us(fromUs);
        auto at = c->balanceAt(br);
        if (at.ok()) {
          d.startLocations << b.location;
          d.startOnHand << at->on_hand();
        }
      }
    }
    emit itemDetail(d);
  });
}

void Session::requestPending() {
  if (!m_worker) return;
  m_worker->post([this] {
    auto* c = m_worker->client();
    QVector<PendingCountValue> out;
    if (!c) {
      emit pendingCounts(out, QStringLiteral("Approvals need a connection to the server"));
      return;
    }
    v1::ListPendingRequest req;
    req.set_limit(1000);
    auto r = c->listPending(req);
    if (!r.ok()) {
      emit pendingCounts(out, userText(r.status(), QStringLiteral("list pending counts")));
      return;
    }
    for (const auto& p : r->counts())
      out.push_back({str(p.count_id()), str(p.sku()), str(p.location()), p.counted(), p.expected(),
                     p.variance(), str(p.counter()), p.counted_at_us()});
    emit pendingCounts(out, {});
  });
}

void Session::decide(const QString& countId, bool approve, const QString& note) {
  if (!m_worker) return;
  m_worker->post([this, countId, approve, note] {
    auto* c = m_worker->client();
    if (!c) {
      emit decisionDone(countId, false, QStringLiteral("Approvals need a connection to the server"));
      return;
    }
    v1::CountDecisionRequest req;
    req.set_request_id(client::newRequestId());
    req.set_count_id(countId.toStdString());
    req.set_actor(user().toStdString());
    req.set_note(note.toStdString());
    auto r = approve ? c->approve(req) : c->reject(req);
    emit decisionDone(countId, r.ok(),
                      r.ok() ? (approve ? QStringLiteral("Count approved and applied") : QStringLiteral("Count rejected"))
                             : userText(r.status(), approve ? QStringLiteral("approve the count")
                                                            : QStringLiteral("reject the count")));
  });
}

void Session::requestCluster() {
  if (m_worker) m_worker->reconnectNow();
}

void Session::reconnectNow() {
  if (m_worker) m_worker->reconnectNow();
}

}  // namespace depot::session
