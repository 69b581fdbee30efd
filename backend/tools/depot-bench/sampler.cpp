#include "sampler.h"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
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

}  // namespace depot::bench
