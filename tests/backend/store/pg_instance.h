// A private PostgreSQL 15 server for one test process: initdb into a temp
// directory owned by `postgres`, started with pg_ctl on 127.0.0.1 at a port
// in 25000-25999 (retried on conflict), stopped by pid when destroyed.
//
// PostgreSQL refuses to run as root, so the server runs as the `postgres`
// user through runuser; that needs root. start() returns nullptr and a
// reason (for QSKIP) when not root or the binaries are missing. Every
// external command and every wait is bounded. No Qt: the benchmark uses it.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace depot::testing {

class PgInstance {
 public:
  static constexpr const char* kBinDir = "/usr/lib/postgresql/15/bin";

  static std::unique_ptr<PgInstance> start(std::string* why) {
    namespace fs = std::filesystem;
    if (::geteuid() != 0) {
      *why = "PostgreSQL tests need root (the server runs as user postgres via runuser)";
      return nullptr;
    }
    for (const char* tool : {"initdb", "pg_ctl", "postgres"}) {
      if (!fs::exists(fs::path(kBinDir) / tool)) {
        *why = std::string("PostgreSQL 15 is not installed (no ") + kBinDir + "/" + tool + ")";
        return nullptr;
      }
    }
    const passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr) {
      *why = "there is no postgres user";
      return nullptr;
    }
    std::string tmpl = (fs::temp_directory_path() / "depot-pg-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr || ::chown(tmpl.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      *why = "cannot create a temp dir for PostgreSQL";
      return nullptr;
    }
    std::unique_ptr<PgInstance> pg(new PgInstance(tmpl));
    const std::string initdb = std::string(kBinDir) + "/initdb";
    if (pg->runAsPostgres({initdb, "-D", pg->data(), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                           "--locale=C.UTF-8", "--no-sync"},
                          60) != 0) {
      *why = "initdb failed; see " + pg->m_dir + "/commands.log";
      return nullptr;
    }
    std::mt19937 rng(static_cast<unsigned>(::getpid()) ^
                     static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count()));
    for (int attempt = 0; attempt < 10; ++attempt) {
      pg->m_port = 25000 + static_cast<int>(rng() % 1000);
      std::ofstream conf(pg->data() + "/postgresql.conf", std::ios::app);
      // The last setting of a key wins: each attempt appends its port.
      conf << "\nlisten_addresses = '127.0.0.1'\nport = " << pg->m_port
           << "\nunix_socket_directories = '" << pg->m_dir << "'\nmax_connections = 200\n";
      conf.close();
      if (pg->startServer()) return pg;
    }
    *why = "PostgreSQL did not start on any of 10 ports; see " + pg->m_dir + "/server.log";
    return nullptr;
  }

  ~PgInstance() {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(m_dir, ec);
  }
  PgInstance(const PgInstance&) = delete;
  PgInstance& operator=(const PgInstance&) = delete;

  int port() const { return m_port; }
  std::string dsn(const std::string& dbname) const {
    return "host=127.0.0.1 port=" + std::to_string(m_port) + " user=postgres dbname=" + dbname;
  }

  // Runs `sql` (one or more statements) on `dbname`; "" on success, else the error.
  std::string exec(const std::string& dbname, const std::string& sql) const {
    PGconn* conn = PQconnectdb((dsn(dbname) + " connect_timeout=10").c_str());
    std::string error;
    if (PQstatus(conn) != CONNECTION_OK) {
      error = PQerrorMessage(conn);
    } else {
      PGresult* r = PQexec(conn, sql.c_str());
      const ExecStatusType st = PQresultStatus(r);
      if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) error = PQresultErrorMessage(r);
      PQclear(r);
    }
    PQfinish(conn);
    return error;
  }

  // Fast shutdown by pid (SIGINT), bounded; SIGKILL for what is left.
  void stop() {
    const pid_t pid = postmasterPid();
    if (pid <= 0) return;
    resume();
    const std::vector<pid_t> children = childrenOf(pid);
    ::kill(pid, SIGINT);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (alive(pid) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (alive(pid)) ::kill(pid, SIGKILL);
    for (pid_t child : children) {
      if (alive(child)) ::kill(child, SIGKILL);
    }
    m_pid = 0;
  }
  // Starts the stopped server again on the same port.
  bool restart() { return startServer(); }

  // SIGSTOP / SIGCONT every server process: a server that accepts TCP
  // connections (the kernel does) but never answers.
  void pause() {
    const pid_t pid = postmasterPid();
    if (pid <= 0) return;
    m_paused = childrenOf(pid);
    m_paused.push_back(pid);
    for (pid_t p : m_paused) ::kill(p, SIGSTOP);
  }
  void resume() {
    for (pid_t p : m_paused) ::kill(p, SIGCONT);
    m_paused.clear();
  }

 private:
  explicit PgInstance(std::string dir) : m_dir(std::move(dir)) {}
  std::string data() const { return m_dir + "/data"; }

  pid_t postmasterPid() const { return m_pid; }

  bool startServer() {
    const std::string pg_ctl = std::string(kBinDir) + "/pg_ctl";
    if (runAsPostgres({pg_ctl, "-D", data(), "-l", m_dir + "/server.log", "-w", "-t", "60", "start"},
                      90) != 0) {
      return false;
    }
    std::ifstream pidfile(data() + "/postmaster.pid");
    pid_t pid = 0;
    pidfile >> pid;
    m_pid = pid;
    return pid > 0;
  }

  // Runs argv as user postgres (stdin /dev/null, output appended to
  // commands.log); the exit code, or -1 on spawn failure or timeout.
  int runAsPostgres(const std::vector<std::string>& argv, int timeout_s) const {
    std::vector<std::string> full = {"/usr/sbin/runuser", "-u", "postgres", "--"};
    full.insert(full.end(), argv.begin(), argv.end());
    std::vector<char*> args;
    for (std::string& a : full) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    const std::string log = m_dir + "/commands.log";
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    pid_t child = 0;
    const int rc = posix_spawn(&child, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return -1;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    for (;;) {
      int status = 0;
      const pid_t done = ::waitpid(child, &status, WNOHANG);
      if (done == child) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(child, SIGKILL);
        ::waitpid(child, &status, 0);
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  // Gone, or a zombie nobody has reaped yet.
  static bool alive(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return false;
    const auto close = line.rfind(')');
    return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
  }

  static std::vector<pid_t> childrenOf(pid_t parent) {
    std::vector<pid_t> out;
    DIR* proc = ::opendir("/proc");
    if (proc == nullptr) return out;
    while (dirent* e = ::readdir(proc)) {
      const pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
      if (pid <= 0) continue;
      std::ifstream stat(std::string("/proc/") + e->d_name + "/stat");
      std::string line;
      if (!std::getline(stat, line)) continue;
      const auto close = line.rfind(')');
      if (close == std::string::npos) continue;
      std::istringstream rest(line.substr(close + 2));
      char state = 0;
      pid_t ppid = 0;
      rest >> state >> ppid;
      if (ppid == parent) out.push_back(pid);
    }
    ::closedir(proc);
    return out;
  }

  std::string m_dir;
  int m_port = 0;
  pid_t m_pid = 0;
  std::vector<pid_t> m_paused;
};

}  // namespace depot::testing
