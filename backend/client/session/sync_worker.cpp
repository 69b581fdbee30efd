#include "session/sync_worker.h"

#include <QDateTime>
#include <QRandomGenerator>

#include "client/request_id.h"
#include "client/status.h"
#include "session/cache.h"
#include "session/error_text.h"

namespace depot::session {
namespace {

constexpr int kOfflineAfterFailures = 4;
constexpr int kTickMs = 200;
constexpr auto kProbeEvery = std::chrono::seconds(2);

qint64 nowMs() { return QDateTime::currentMSecsSinceEpoch(); }

QString str(const std::string& s) { return QString::fromStdString(s); }


AlertValue alertValue(const v1::Alert& a) {
  AlertValue v;
  v.id = a.id();
  v.kind = a.kind();
  v.severity = a.severity();
  v.state = a.state();
  v.subject = str(a.subject());
  v.summary = str(a.summary());
  v.firedAtUs = a.fired_at_us();
  v.updatedAtUs = a.updated_at_us();
  v.ackedBy = str(a.acked_by());
  v.ackNote = str(a.ack_note());
  v.silenced = a.silenced();
  return v;
}

bool linkFailure(absl::StatusCode code) {
  return code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kDeadlineExceeded ||
         code == absl::StatusCode::kResourceExhausted;
}

}  // namespace

LedgerEntryValue entryValue(const v1::LedgerEntry& e) {
  LedgerEntryValue v;
  v.shard = e.shard();
  v.seq = e.seq();
  v.kind = e.kind();
  v.sku = str(e.sku());
  v.location = str(e.location());
  v.dOnHand = e.d_on_hand();
  v.dReserved = e.d_reserved();
  v.onHandAfter = e.on_hand_after();
  v.reservedAfter = e.reserved_after();
  v.actor = str(e.actor());
  v.reason = str(e.reason());
  v.ref = str(e.ref());
  v.requestId = str(e.request_id());
  v.tsUs = e.ts_us();
  return v;
}

SyncWorker::SyncWorker(Session& session, Cache& cache, const Session::Options& options)
    : m_session(session), m_cache(cache), m_options(options) {
  if (!options.profile.endpoints.isEmpty()) {
    client::ClientOptions co;
    for (const auto& e : options.profile.endpoints) co.endpoints.push_back(e.toStdString());
    co.deadline = std::chrono::milliseconds(options.rpcDeadlineMs);
    co.max_attempts = std::max<int>(2, static_cast<int>(co.endpoints.size()));
    co.initial_backoff = std::chrono::milliseconds(50);
    co.max_backoff = std::chrono::milliseconds(1000);
    auto c = client::Client::create(std::move(co));
    if (c.ok()) {
      m_client = std::move(*c);
    } else {
      m_clientError = userText(c.status());
    }
  } else {
    m_clientError = QStringLiteral("no server configured: working offline");
  }
}

SyncWorker::~SyncWorker() {
  m_stop = true;
  m_wake.notify_all();
  if (m_thread.joinable()) m_thread.join();
}

void SyncWorker::start() {
  m_thread = std::thread([this] { run(); });
}

void SyncWorker::post(std::function<void()> fn) {
  {
    std::lock_guard lock(m_mutex);
    m_posted.push_back(std::move(fn));
  }
  m_wake.notify_all();
}

void SyncWorker::reconnectNow() {
  post([this] {
    m_nextAttempt = Clock::now();
    m_failures = std::min(m_failures, 1);
  });
}

bool SyncWorker::sleepInterruptible(int ms) {
  std::unique_lock lock(m_mutex);
  m_wake.wait_for(lock, std::chrono::milliseconds(ms), [this] { return m_stop.load(); });
  return !m_stop;
}

void SyncWorker::run() {
  loadCache();
  while (!m_stop) {
    std::deque<std::function<void()>> work;
    {
      std::lock_guard lock(m_mutex);
      work.swap(m_posted);
    }
    for (auto& fn : work) {
      if (m_stop) break;
      fn();
    }
    if (m_stop) break;
    tick();
    std::unique_lock lock(m_mutex);
    m_wake.wait_for(lock, std::chrono::milliseconds(kTickMs),
                    [this] { return m_stop.load() || !m_posted.empty() || m_outboxDirty.load(); });
  }
  stopStreams();
}

void SyncWorker::loadCache() {
  auto contents = m_cache.run<Cache::Contents>([](QSqlDatabase& db) { return Cache::loadAll(db); });
  m_cursor = contents.cursor;
  if (!contents.items.isEmpty() || !contents.locations.isEmpty())
    emit m_session.catalogLoaded(contents.items, contents.locations);
  emit m_session.stockReplaced(contents.rows, true);
  emit m_session.alertsReplaced(contents.alerts);
  auto recent = m_cache.run<QVector<Cache::OutboxRow>>(
      [](QSqlDatabase& db) { return Cache::recentCounts(db, 1000); });
  QVector<CountDraft> drafts;
  QVector<CountOutcome> outcomes;
  for (const auto& r : recent) {
    v1::SubmitCountsRequest req;
    if (!req.ParseFromArray(r.payload.constData(), static_cast<int>(r.payload.size())) ||
        req.lines_size() != 1)
      continue;
    const auto& l = req.lines(0);
    drafts.push_back({r.requestId, str(l.sku()), str(l.location()), l.counted(), l.counted_at_us(),
                      str(req.session_id()), req.blind()});
    CountOutcome o;
    o.requestId = r.requestId;
    o.blind = req.blind();
    o.kind = r.state == Cache::kDone ? static_cast<CountOutcomeKind>(r.outcome) : CountOutcomeKind::kQueued;
    o.expected = r.expected;
    o.variance = r.variance;
    o.text = r.outcomeText;
    outcomes.push_back(o);
  }
  emit m_session.countsLoaded(drafts, outcomes);
  if (contents.lastSyncUs > 0) m_status.dataAsOf = QDateTime::fromMSecsSinceEpoch(contents.lastSyncUs / 1000);
  m_status.state = m_client ? LinkState::kConnecting : LinkState::kOffline;
  m_status.lastError = m_clientError;
  refreshOutboxCount();
  publish(true);
}

void SyncWorker::refreshOutboxCount() {
  m_outboxDirty = false;
  m_status.outboxCount = m_cache.run<int>([](QSqlDatabase& db) { return Cache::outboxPending(db); });
}

void SyncWorker::tick() {
  if (m_outboxDirty) refreshOutboxCount();
  if (!m_client) {
    publish(false);
    return;
  }
  const auto now = Clock::now();
  if (m_needSnapshot.exchange(false)) {
    // The server refused the cursor (another ledger, or a gap): start over
    // from a fresh snapshot. The UI keeps the old rows until it arrives.
    if (m_watch) m_watch->stop();
    m_watch.reset();
    m_cursor.reset();
    m_probeOk = false;
    m_nextAttempt = now;
  }
  if (m_watchLost.exchange(false) && m_probeOk) {
    m_probeOk = false;
    m_nextAttempt = now + std::chrono::milliseconds(m_options.initialBackoffMs);
  }
  if (!m_probeOk && now >= m_nextAttempt) {
    attempt();
  } else if (m_probeOk && now >= m_nextProbe) {
    m_nextProbe = now + kProbeEvery;
    auto cs = m_client->clusterStatus({});
    if (cs.ok()) {
      ClusterValue cv;
      for (const auto& n : cs->nodes())
        cv.nodes.push_back({str(n.node_id()), str(n.endpoint()), n.healthy(), n.shards_owned(), str(n.role())});
      for (const auto& s : cs->shards())
        cv.shards.push_back({s.shard(), str(s.owner_node()), s.epoch(), s.last_seq(), s.lag()});
      emit m_session.cluster(cv);
    } else if (linkFailure(cs.status().code())) {
      failed(userText(cs.status()));
    }
  }
  if (m_probeOk && m_watchConnected && m_status.outboxCount > 0) flushOutbox();
  updateState();
  publish(false);
}

void SyncWorker::attempt() {
  auto h = m_client->health();
  if (!h.ok()) return failed(userText(h.status()));
  if (*h != client::HealthStatus::kServing) return failed(QStringLiteral("the server is not serving yet"));
  m_status.endpoint = str(m_client->endpointAddress(m_client->preferredEndpoint()));
  if (!m_catalogLoaded && !loadCatalog()) return;
  if (!m_watch) {
    if (!m_cursor && !snapshot()) return;
    startStreams();
  }
  m_failures = 0;
  m_probeOk = true;
  m_status.lastError.clear();
  m_nextProbe = Clock::now();
}

void SyncWorker::failed(const QString& why) {
  m_probeOk = false;
  ++m_failures;
  const int exp = std::min(m_failures - 1, 10);
  qint64 delay = std::min<qint64>(m_options.maxBackoffMs, qint64(m_options.initialBackoffMs) << exp);
  delay = delay / 2 + QRandomGenerator::global()->bounded(delay / 2 + 1);  // jitter
  m_nextAttempt = Clock::now() + std::chrono::milliseconds(delay);
  m_status.nextAttempt = QDateTime::currentDateTime().addMSecs(delay);
  m_status.lastError = why;
  m_status.snapshotProgress = -1;
}

bool SyncWorker::loadCatalog() {
  QVector<ItemValue> items;
  v1::ListItemsRequest req;
  req.set_page_size(1000);
  for (;;) {
    auto page = m_client->listItems(req);
    if (!page.ok()) {
      failed(userText(page.status(), QStringLiteral("load the item catalog")));
      return false;
    }
    for (const auto& i : page->items())
      items.push_back({str(i.sku()), str(i.description()), str(i.unit()), i.reorder_point()});
    if (page->next_page_token().empty()) break;
    req.set_page_token(page->next_page_token());
  }
  auto locs = m_client->listLocations({});
  if (!locs.ok()) {
    failed(userText(locs.status(), QStringLiteral("load the locations")));
    return false;
  }
  QStringList locations;
  for (const auto& l : locs->locations()) locations << str(l.warehouse()) + '/' + str(l.code());
  m_cache.post([items, locations](QSqlDatabase& db) { Cache::replaceCatalog(db, items, locations); });
  emit m_session.catalogLoaded(items, locations);
  m_catalogLoaded = true;
  return true;
}

bool SyncWorker::snapshot() {
  m_status.snapshotProgress = 0;
  publish(true);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(5));
  v1::SnapshotRequest req;
  auto reader = m_client->inventoryStub(m_client->preferredEndpoint()).Snapshot(&ctx, req);
  client::LedgerCursor cursor;
  QVector<StockRowValue> rows;
  v1::SnapshotChunk chunk;
  int shardsDone = 0;
  while (reader->Read(&chunk)) {
    if (m_stop) {
      ctx.TryCancel();
      break;
    }
    if (!chunk.ledger_id().empty()) cursor.ledger_id = chunk.ledger_id();
    for (const auto& r : chunk.rows()) {
      rows.push_back({str(r.sku()), str(r.location()), r.on_hand(), r.reserved(), r.reorder_point(),
                      r.updated_at_us(), str(r.description())});
    }
    if (chunk.last_of_shard() && chunk.shard() < 256) {
      cursor.seqs[chunk.shard()] = chunk.seq();
      ++shardsDone;
      if (shardsDone % 16 == 0) {
        m_status.snapshotProgress = shardsDone;
        publish(true);
      }
    }
  }
  auto st = client::fromGrpc(reader->Finish());
  if (m_stop) return false;
  if (!st.ok() || shardsDone != 256 || cursor.ledger_id.empty()) {
    failed(st.ok() ? QStringLiteral("the snapshot ended early") : userText(st, QStringLiteral("take a snapshot")));
    return false;
  }
  m_cache.post([rows, cursor](QSqlDatabase& db) {
    Cache::replaceBalances(db, rows, cursor);
    Cache::setMeta(db, QStringLiteral("last_sync_us"), QString::number(nowMs() * 1000));
  });
  emit m_session.stockReplaced(rows, false);
  m_cursor = cursor;
  m_status.snapshotProgress = -1;
  m_lastDataMs = nowMs();
  return true;
}

void SyncWorker::startStreams() {
  client::WatchStream::Options wo;
  wo.from = m_cursor;
  wo.stream.initial_backoff = std::chrono::milliseconds(m_options.initialBackoffMs);
  wo.stream.max_backoff = std::chrono::milliseconds(std::min(m_options.maxBackoffMs, 2000));
  client::WatchStream::Callbacks cb;
  cb.on_entries = [this](std::vector<v1::LedgerEntry>&& entries) {
    QVector<LedgerEntryValue> batch;
    batch.reserve(static_cast<qsizetype>(entries.size()));
    for (const auto& e : entries) batch.push_back(entryValue(e));
    m_cache.post([batch](QSqlDatabase& db) { Cache::applyEntries(db, batch); });
    m_lastDataMs = nowMs();
    emit m_session.ledgerEntries(batch);
  };
  cb.on_heartbeat = [this](const v1::WatchEvent& hb) {
    qint64 lag = 0;
    const auto& c = hb.committed().seqs();
    const auto& p = hb.position().seqs();
    for (int i = 0; i < std::min(c.size(), p.size()); ++i) {
      if (c[i] > p[i]) lag += static_cast<qint64>(c[i] - p[i]);
    }
    m_lagEntries = lag;
    const qint64 now = nowMs();
    m_lastDataMs = now;
    // The heartbeat's position covers every entry already delivered (the
    // callbacks are in order), and the cache applies jobs in order: saving it
    // after the entries' job keeps the cursor consistent with the balances.
    if (now - m_lastCursorSaveMs >= 1000 && hb.position().seqs_size() == 256) {
      m_lastCursorSaveMs = now;
      auto cursor = client::LedgerCursor::fromProto(hb.position());
      if (cursor.ledger_id.empty()) cursor.ledger_id = hb.committed().ledger_id();
      m_cache.post([cursor, now](QSqlDatabase& db) {
        Cache::saveCursor(db, cursor);
        Cache::setMeta(db, QStringLiteral("last_sync_us"), QString::number(now * 1000));
      });
    }
  };
  cb.on_state = [this](client::StreamState state, const absl::Status&) {
    if (state == client::StreamState::kConnected) {
      m_watchConnected = true;
    } else if (state == client::StreamState::kReconnecting) {
      if (m_watchConnected.exchange(false)) m_watchLost = true;
    }
    wake();
  };
  cb.on_error = [this](const absl::Status& status) {
    qWarning("session: watch ended (%s); re-snapshotting", qPrintable(userText(status)));
    m_watchConnected = false;
    m_needSnapshot = true;
    wake();
  };
  m_watch = std::make_unique<client::WatchStream>(*m_client, std::move(wo), std::move(cb));
  m_watch->start();

  if (!m_options.streams || m_alerts) return;
  client::StreamOptions so;
  so.initial_backoff = std::chrono::milliseconds(m_options.initialBackoffMs);
  so.max_backoff = std::chrono::milliseconds(std::min(m_options.maxBackoffMs, 2000));
  client::AlertStream::Callbacks acb;
  acb.on_event = [this](const v1::AlertEvent& ev) {
    if (ev.initial_complete()) {
      auto all = std::move(m_initialAlerts);
      m_initialAlerts.clear();
      m_cache.post([all](QSqlDatabase& db) { Cache::replaceAlerts(db, all); });
      emit m_session.alertsReplaced(all);
    } else if (ev.initial()) {
      m_initialAlerts.push_back(alertValue(ev.alert()));
    } else {
      auto v = alertValue(ev.alert());
      m_cache.post([v](QSqlDatabase& db) { Cache::upsertAlert(db, v); });
      emit m_session.alertChanged(v);
    }
  };
  m_alerts = std::make_unique<client::AlertStream>(*m_client, false, so, std::move(acb));
  m_alerts->start();
  client::MetricsStream::Callbacks mcb;
  mcb.on_sample = [this](const v1::MetricsSample& s) {
    emit m_session.metricsSample({str(s.node_id()), s.at_us(), s.movements_per_s(), s.rejections_per_s(),
                                  s.p50_ms(), s.p99_ms(), s.queue_depth()});
  };
  m_metrics = std::make_unique<client::MetricsStream>(*m_client, 1000, so, std::move(mcb));
  m_metrics->start();
}

void SyncWorker::stopStreams() {
  if (m_watch) m_watch->stop();
  if (m_alerts) m_alerts->stop();
  if (m_metrics) m_metrics->stop();
  m_watch.reset();
  m_alerts.reset();
  m_metrics.reset();
}

void SyncWorker::flushOutbox() {
  const int batch = std::max(1, m_options.flushBatch);
  while (!m_stop && m_probeOk) {
    auto rows = m_cache.run<QVector<Cache::OutboxRow>>(
        [batch](QSqlDatabase& db) { return Cache::nextOutbox(db, batch); });
    if (rows.isEmpty()) break;
    bool ok = true;
    if (rows.front().kind == QLatin1String("ack")) {
      ok = flushAck(rows.front());
    } else {
      // The longest prefix of count lines with the same session fields.
      v1::SubmitCountsRequest first;
      first.ParseFromArray(rows.front().payload.constData(), static_cast<int>(rows.front().payload.size()));
      QVector<Cache::OutboxRow> group;
      for (const auto& r : rows) {
        if (r.kind != QLatin1String("count")) break;
        v1::SubmitCountsRequest req;
        req.ParseFromArray(r.payload.constData(), static_cast<int>(r.payload.size()));
        if (req.session_id() != first.session_id() || req.counter() != first.counter() ||
            req.blind() != first.blind())
          break;
        group.push_back(r);
      }
      ok = flushCounts(group);
    }
    refreshOutboxCount();
    publish(false);
    if (!ok) break;
    if (m_options.flushDelayMs > 0 && !sleepInterruptible(m_options.flushDelayMs)) break;
  }
}

bool SyncWorker::flushCounts(const QVector<Cache::OutboxRow>& rows) {
  v1::SubmitCountsRequest req;
  for (const auto& r : rows) {
    v1::SubmitCountsRequest one;
    one.ParseFromArray(r.payload.constData(), static_cast<int>(r.payload.size()));
    if (req.lines_size() == 0) {
      req.set_session_id(one.session_id());
      req.set_counter(one.counter());
      req.set_blind(one.blind());
    }
    *req.add_lines() = one.lines(0);
  }
  // "sending" first: after a crash these rows are re-sent (same request ids;
  // the server replays its first answer) and can no longer be undone.
  QStringList ids;
  for (const auto& r : rows) ids << r.requestId;
  m_cache.run<bool>([ids](QSqlDatabase& db) {
    for (const auto& id : ids) Cache::setOutboxState(db, id, Cache::kSending);
    return true;
  });
  auto resp = m_client->submitCounts(req);
  if (!resp.ok() && linkFailure(resp.status().code())) {
    failed(userText(resp.status()));
    return false;
  }
  QVector<Cache::OutboxRow> finished;
  QVector<CountOutcome> outcomes;
  bool linkOk = true;
  for (int i = 0; i < rows.size(); ++i) {
    Cache::OutboxRow done = rows[i];
    CountOutcome o;
    o.requestId = done.requestId;
    o.blind = req.blind();
    if (!resp.ok()) {
      o.kind = CountOutcomeKind::kRejected;
      o.text = userText(resp.status());
    } else {
      const auto& r = resp->results(i);
      if (r.code() == 0) {
        o.kind = r.state() == v1::COUNT_STATE_PENDING_APPROVAL ? CountOutcomeKind::kPendingApproval
                                                                : CountOutcomeKind::kApplied;
        o.expected = r.expected();
        o.variance = r.variance();
      } else if (linkFailure(static_cast<absl::StatusCode>(r.code()))) {
        linkOk = false;  // stays "sending"; re-sent on the next flush
        continue;
      } else {
        o.kind = CountOutcomeKind::kRejected;
        o.text = userTextForCode(r.code(), r.message());
      }
    }
    done.outcome = static_cast<int>(o.kind);
    done.outcomeText = o.text;
    done.expected = o.expected;
    done.variance = o.variance;
    finished.push_back(done);
    outcomes.push_back(o);
  }
  m_cache.run<bool>([finished](QSqlDatabase& db) {
    for (const auto& r : finished) Cache::finishOutbox(db, r);
    return true;
  });
  for (const auto& o : outcomes) emit m_session.countOutcome(o);
  return linkOk;
}

bool SyncWorker::flushAck(const Cache::OutboxRow& row) {
  v1::AckRequest req;
  req.ParseFromArray(row.payload.constData(), static_cast<int>(row.payload.size()));
  auto resp = m_client->ack(req);
  if (!resp.ok() && linkFailure(resp.status().code())) {
    failed(userText(resp.status()));
    return false;
  }
  Cache::OutboxRow done = row;
  done.outcomeText = resp.ok() ? QString() : userText(resp.status());
  m_cache.run<bool>([done](QSqlDatabase& db) {
    Cache::finishOutbox(db, done);
    return true;
  });
  if (resp.ok()) {
    auto v = alertValue(*resp);
    emit m_session.alertChanged(v);
    emit m_session.actionResult(true, QStringLiteral("Alert %1 acknowledged").arg(v.id));
  } else {
    emit m_session.actionResult(false, userText(resp.status(), QStringLiteral("acknowledge alert %1").arg(req.alert_id())));
  }
  return true;
}

void SyncWorker::updateState() {
  if (!m_client) {
    m_status.state = LinkState::kOffline;
  } else if (m_probeOk && m_watchConnected) {
    m_status.state = LinkState::kOnline;
    m_everOnline = true;
  } else if (m_probeOk) {
    m_status.state = m_everOnline ? LinkState::kReconnecting : LinkState::kConnecting;
  } else if (!m_everOnline && m_failures == 0) {
    m_status.state = LinkState::kConnecting;
  } else {
    m_status.state = m_failures >= kOfflineAfterFailures ? LinkState::kOffline : LinkState::kReconnecting;
  }
  if (m_status.state == LinkState::kOnline) {
    m_status.lastError.clear();
    m_status.watchLagEntries = m_lagEntries;
  }
  const qint64 last = m_lastDataMs;
  if (last > 0) m_status.dataAsOf = QDateTime::fromMSecsSinceEpoch(last);
}

void SyncWorker::publish(bool force) {
  const auto now = Clock::now();
  const bool changed = m_status.state != m_published.state || m_status.outboxCount != m_published.outboxCount ||
                       m_status.snapshotProgress != m_published.snapshotProgress ||
                       m_status.endpoint != m_published.endpoint || m_status.lastError != m_published.lastError;
  if (!force && !changed && now - m_lastPublish < std::chrono::seconds(1)) return;
  m_lastPublish = now;
  m_published = m_status;
  emit m_session.linkStatus(m_status);
}

}  // namespace depot::session
