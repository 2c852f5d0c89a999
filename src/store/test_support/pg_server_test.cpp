// Test support, not tests: the *_test.cpp suffix keeps it in the unit_tests
// binary and out of the core library.
#include "store/test_support/pg_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <vector>

namespace gatehouse::store::testing {

namespace fs = std::filesystem;

namespace {

constexpr const char* kAdminUser = "gatehouse";

std::mutex g_mu;
std::unique_ptr<PgServer> g_server;
std::string g_start_error;  // a failed start is not retried by every test
bool g_tried = false;

std::string find_bindir() {
  if (const char* env = std::getenv("GATEHOUSE_PG_BINDIR")) return env;
  for (const char* v : {"17", "16", "15"}) {
    fs::path p = fs::path("/usr/lib/postgresql") / v / "bin";
    std::error_code ec;
    if (fs::exists(p / "initdb", ec) && fs::exists(p / "pg_ctl", ec)) return p.string();
  }
  return {};
}

std::string find_runuser() {
  for (const char* p : {"/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"})
    if (access(p, X_OK) == 0) return p;
  return {};
}

int free_port() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  close(s);
  return port;
}

// Runs argv (argv[0] an absolute path) with output appended to `log` and the
// working directory `cwd`; returns the exit status (-1 when it could not run).
int run(const std::vector<std::string>& argv, const std::string& cwd, const std::string& log) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  pid_t pid = fork();
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec: other test
    // threads may hold locks.
    if (chdir(cwd.c_str()) != 0) _exit(126);
    if (out >= 0) {
      dup2(out, 1);
      dup2(out, 2);
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    execv(args[0], args.data());
    _exit(127);
  }
  if (out >= 0) close(out);
  if (pid < 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  return s.size() > 4000 ? s.substr(s.size() - 4000) : s;
}

}  // namespace

PgServer* PgServer::shared(std::string* error) {
  std::lock_guard g(g_mu);
  if (!g_tried) {
    g_tried = true;
    std::unique_ptr<PgServer> s(new PgServer());
    if (s->start(&g_start_error)) g_server = std::move(s);
  }
  if (!g_server && error) *error = g_start_error;
  return g_server.get();
}

void PgServer::stop_shared() {
  std::lock_guard g(g_mu);
  g_server.reset();
}

PgServer::~PgServer() {
  stop();
}

bool PgServer::start(std::string* error) {
  bindir_ = find_bindir();
  if (bindir_.empty()) {
    *error =
        "PostgreSQL server binaries not found (looked in /usr/lib/postgresql/{17,16,15}/bin and "
        "$GATEHOUSE_PG_BINDIR); install postgresql-15 (scripts/bootstrap does)";
    return false;
  }
  char tmpl[] = "/tmp/gatehouse-pg-XXXXXX";
  if (!mkdtemp(tmpl)) {
    *error = std::string("mkdtemp failed: ") + std::strerror(errno);
    return false;
  }
  dir_ = tmpl;
  std::vector<std::string> as_user;
  if (geteuid() == 0) {
    // PostgreSQL refuses to run as root: hand the folder to an unprivileged
    // account and run the server binaries as it.
    std::string runuser = find_runuser();
    const passwd* pw = getpwnam("postgres");
    if (!pw) pw = getpwnam("nobody");
    if (runuser.empty() || !pw) {
      *error = "running as root needs runuser and a 'postgres' (or 'nobody') user";
      return false;
    }
    user_ = pw->pw_name;
    if (chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      *error = "cannot chown " + dir_ + ": " + std::strerror(errno);
      return false;
    }
    as_user = {runuser, "-u", user_, "--"};
  }
  auto cmd = [&](std::vector<std::string> tail) {
    std::vector<std::string> v = as_user;
    v.insert(v.end(), tail.begin(), tail.end());
    return v;
  };

  // The watchdog: blocks on a pipe only this process holds open; when this
  // process exits in any way, it stops the server and removes the folder.
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    *error = "pipe2 failed";
    return false;
  }
  std::string stop_cmd;
  for (const auto& a : as_user) stop_cmd += a + " ";
  stop_cmd +=
      bindir_ + "/pg_ctl -D " + dir_ + "/data stop -m immediate >/dev/null 2>&1; rm -rf " + dir_;
  std::string script = "cat >/dev/null; " + stop_cmd;
  const char* sh_args[] = {"/bin/sh", "-c", script.c_str(), nullptr};
  pid_t dog = fork();
  if (dog == 0) {
    setsid();  // a ^C to the test must not take the cleanup down with it
    dup2(fds[0], 0);
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) {
      dup2(devnull, 1);
      dup2(devnull, 2);
    }
    execv("/bin/sh", const_cast<char* const*>(sh_args));
    _exit(127);
  }
  close(fds[0]);
  watchdog_fd_ = fds[1];

  std::string log = dir_ + "/setup.log";
  if (run(cmd({bindir_ + "/initdb", "-D", dir_ + "/data", "-U", kAdminUser, "-A", "trust", "-E",
               "UTF8", "--locale=C", "--no-sync"}),
          dir_, log) != 0) {
    *error = "initdb failed:\n" + read_file(log);
    return false;
  }
  for (int attempt = 0; attempt < 3 && !running_; ++attempt) {
    port_ = free_port();
    // fsync off: a test database need not survive a power cut, and the
    // suite runs on a shared machine.
    std::string opts = "-p " + std::to_string(port_) + " -k " + dir_ +
                       " -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
                       " -c full_page_writes=off -c max_connections=200";
    running_ = run(cmd({bindir_ + "/pg_ctl", "-D", dir_ + "/data", "-l", dir_ + "/postgres.log",
                        "-w", "-t", "60", "-o", opts, "start"}),
                   dir_, log) == 0;
  }
  if (!running_) {
    *error = "pg_ctl start failed:\n" + read_file(log) + "\n" + read_file(dir_ + "/postgres.log");
    return false;
  }
  return true;
}

void PgServer::stop() {
  if (running_) {
    std::vector<std::string> v;
    if (!user_.empty()) v = {find_runuser(), "-u", user_, "--"};
    v.insert(v.end(), {bindir_ + "/pg_ctl", "-D", dir_ + "/data", "stop", "-m", "fast"});
    (void)run(v, dir_, "/dev/null");
    running_ = false;
  }
  if (watchdog_fd_ >= 0) close(watchdog_fd_);  // the watchdog removes the folder
  watchdog_fd_ = -1;
}

std::string PgServer::url(const std::string& db) const {
  return "postgresql://" + std::string(kAdminUser) + "@127.0.0.1:" + std::to_string(port_) + "/" +
         db;
}

namespace {

bool admin_exec(const std::string& url, const std::string& sql, std::string* error) {
  PGconn* c = PQconnectdb(url.c_str());
  bool ok = PQstatus(c) == CONNECTION_OK;
  if (ok) {
    PGresult* r = PQexec(c, sql.c_str());
    ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
  }
  if (!ok && error) *error = sql + ": " + PQerrorMessage(c);
  PQfinish(c);
  return ok;
}

}  // namespace

std::string PgServer::create_database(std::string* error) {
  std::string name;
  {
    std::lock_guard g(g_mu);
    name = "t" + std::to_string(++next_db_);
  }
  if (!admin_exec(url("postgres"), "CREATE DATABASE " + name, error)) return {};
  return url(name);
}

bool PgServer::terminate(const std::string& app, std::string* error) {
  return admin_exec(url("postgres"),
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                    "application_name = '" +
                        app + "'",
                    error);
}

namespace {

// Stops the shared server when the test binary is done.
class PgEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { PgServer::stop_shared(); }
};

[[maybe_unused]] const ::testing::Environment* const kPgEnvironment =
    ::testing::AddGlobalTestEnvironment(new PgEnvironment);

}  // namespace

}  // namespace gatehouse::store::testing
