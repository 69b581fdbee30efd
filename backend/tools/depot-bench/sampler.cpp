#include "sampler.h"

#include <httplib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>

namespace depot::bench {

ProcessSampler::ProcessSampler(std::int64_t pid) : m_pid(pid) {
  if (m_pid <= 0) return;
  m_thread = std::thread([this] {
    while (!m_stop.load()) {
      if (m_active.load()) {
        const std::int64_t rss = rssKb(m_pid);
        std::int64_t seen = m_peak.load();
        while (rss > seen && !m_peak.compare_exchange_weak(seen, rss)) {
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
}

ProcessSampler::~ProcessSampler() {
  m_stop.store(true);
  if (m_thread.joinable()) m_thread.join();
}

void ProcessSampler::begin() {
  if (m_pid <= 0) return;
  m_peak.store(rssKb(m_pid));
  m_cpuStart = cpuSecondsOf(m_pid);
  m_active.store(true);
}

void ProcessSampler::end() {
  if (m_pid <= 0) return;
  m_active.store(false);
  const std::int64_t rss = rssKb(m_pid);
  if (rss > m_peak.load()) m_peak.store(rss);
  const double now = cpuSecondsOf(m_pid);
  m_cpu = (now >= 0 && m_cpuStart >= 0) ? now - m_cpuStart : -1;
}

std::int64_t ProcessSampler::rssKb(std::int64_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

double ProcessSampler::cpuSecondsOf(std::int64_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 2));
  std::string f;
  long long utime = 0, stime = 0;
  // Fields after the command: state(3) ... utime(14) stime(15).
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stoll(f);
    if (i == 15) stime = std::stoll(f);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double ProcessSampler::selfCpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto sec = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return sec(u.ru_utime) + sec(u.ru_stime);
}

ServerMetricsScraper::ServerMetricsScraper(std::string metrics, std::string rpc)
    : m_rpc(std::move(rpc)) {
  const auto colon = metrics.rfind(':');
  if (metrics.empty() || colon == std::string::npos) return;
  m_host = metrics.substr(0, colon);
  m_port = std::atoi(metrics.c_str() + colon + 1);
}

namespace {

// The value of an unlabelled series ("name value" at the start of a line).
std::optional<double> seriesValue(const std::string& body, const std::string& name) {
  const std::string line = "\n" + name + " ";
  const auto pos = body.find(line);
  if (pos == std::string::npos) return std::nullopt;
  return std::strtod(body.c_str() + pos + line.size(), nullptr);
}

}  // namespace

bool ServerMetricsScraper::scrape(Snapshot* out) {
  httplib::Client http(m_host, m_port);
  http.set_connection_timeout(5);
  http.set_read_timeout(10);
  auto res = http.Get("/metrics");
  if (!res || res->status != 200) {
    m_error = "cannot read http://" + m_host + ":" + std::to_string(m_port) + "/metrics";
    return false;
  }
  const std::string body = "\n" + res->body;
  const auto commits = seriesValue(body, "depot_commits_total");
  const auto batch = seriesValue(body, "depot_commit_batch_size_sum");
  const auto seconds = seriesValue(body, "depot_commit_duration_seconds_sum");
  if (!commits || !batch || !seconds) {
    m_error = "no depot_commits_total / depot_commit_batch_size / depot_commit_duration_seconds";
    return false;
  }
  out->commits = *commits;
  out->batch_size_sum = *batch;
  out->commit_seconds_sum = *seconds;
  out->log_syncs = seriesValue(body, "depot_commit_log_syncs_total").value_or(-1);
  out->latency.clear();
  if (m_rpc.empty()) return true;
  const std::string prefix = "depot_request_duration_seconds_bucket{rpc=\"" + m_rpc + "\",le=\"";
  std::size_t pos = 0;
  while ((pos = body.find(prefix, pos)) != std::string::npos) {
    pos += prefix.size();
    const auto quote = body.find('"', pos);
    const auto space = body.find(' ', quote);
    if (quote == std::string::npos || space == std::string::npos) break;
    const std::string le = body.substr(pos, quote - pos);
    const double bound = le == "+Inf" ? std::numeric_limits<double>::infinity() : std::atof(le.c_str());
    out->latency.emplace_back(bound, std::strtoull(body.c_str() + space + 1, nullptr, 10));
    pos = space;
  }
  if (out->latency.empty()) m_error = "no depot_request_duration_seconds series for rpc " + m_rpc;
  return !out->latency.empty();
}

void ServerMetricsScraper::begin() {
  if (m_port > 0) m_ok = scrape(&m_begin);
}

void ServerMetricsScraper::end() {
  if (m_ok) m_ok = scrape(&m_end) && m_end.latency.size() == m_begin.latency.size();
}

std::optional<ServerMetricsScraper::Quantiles> ServerMetricsScraper::quantiles() const {
  if (!m_ok || m_rpc.empty()) return std::nullopt;
  const Buckets& b0 = m_begin.latency;
  const Buckets& b1 = m_end.latency;
  Quantiles q;
  q.calls = b1.back().second - b0.back().second;
  if (q.calls == 0) return q;
  auto at = [&](double fraction) {
    const auto need = static_cast<std::uint64_t>(std::ceil(fraction * static_cast<double>(q.calls)));
    for (std::size_t i = 0; i < b1.size(); ++i)
      if (b1[i].second - b0[i].second >= need) return b1[i].first * 1000.0;
    return std::numeric_limits<double>::infinity();
  };
  q.p50_ms = at(0.50);
  q.p90_ms = at(0.90);
  q.p99_ms = at(0.99);
  return q;
}

std::optional<ServerMetricsScraper::Commits> ServerMetricsScraper::commits(double window_s) const {
  if (!m_ok || window_s <= 0) return std::nullopt;
  Commits c;
  const double n = m_end.commits - m_begin.commits;
  c.per_second = n / window_s;
  c.requests_each = n > 0 ? (m_end.batch_size_sum - m_begin.batch_size_sum) / n : 0;
  c.busy_s_per_s = (m_end.commit_seconds_sum - m_begin.commit_seconds_sum) / window_s;
  if (m_begin.log_syncs >= 0 && m_end.log_syncs >= 0)
    c.log_syncs_per_s = (m_end.log_syncs - m_begin.log_syncs) / window_s;
  return c;
}

}  // namespace depot::bench
