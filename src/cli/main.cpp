// gatehouse: one binary for the gateway and its tooling.
//   gatehouse serve [-c FILE] [--proxy-listen H:P] [--admin-listen H:P] [--workers N]
//   gatehouse check -c FILE
//   gatehouse version
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common/metrics.hpp"
#include "common/settings.hpp"
#include "config/loader.hpp"
#include "proxy/snapshot.hpp"
#include "server/server.hpp"

namespace {

constexpr const char* kVersion = "0.1.0";

void usage(FILE* out) {
  std::fprintf(out,
               "usage: gatehouse <command> [options]\n"
               "\n"
               "commands:\n"
               "  serve     run the gateway\n"
               "  check     validate a config file and print every error\n"
               "  version   print the version\n"
               "\n"
               "serve options:\n"
               "  -c, --config FILE        declarative YAML config (hot-reloaded on change and SIGHUP)\n"
               "  --proxy-listen HOST:PORT proxy listener (default 0.0.0.0:8080; port 0 = any)\n"
               "  --admin-listen HOST:PORT admin listener (default 127.0.0.1:9080)\n"
               "  --workers N              worker threads (default: number of cores)\n"
               "  --no-watch               do not reload when the file changes (SIGHUP still does)\n"
               "  --data-dir DIR           durable state such as quota counters (default ./gatehouse-data)\n"
               "  --store URL              config store: sqlite:PATH or postgres://... (default: SQLite in\n"
               "                           the data folder); parsed, not used by serve yet\n"
               "\n"
               "check options:\n"
               "  -c, --config FILE        the file to validate\n");
}

struct Args {
  std::vector<std::string> v;
  size_t i = 0;
  bool more() const { return i < v.size(); }
  const std::string& next() { return v[i++]; }
};

int fail(const std::string& msg) {
  std::fprintf(stderr, "gatehouse: %s\n", msg.c_str());
  return 2;
}

int cmd_check(Args& a) {
  std::string file;
  while (a.more()) {
    const std::string& o = a.next();
    if ((o == "-c" || o == "--config" || o == "-f") && a.more()) file = a.next();
    else if (o.rfind("--config=", 0) == 0) file = o.substr(9);
    else return fail("check: unknown option '" + o + "'");
  }
  if (file.empty()) return fail("check: -c FILE is required");
  auto res = gatehouse::config::load_config_file(file);
  for (const auto& e : res.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
  if (!res.ok()) {
    std::fprintf(stderr, "%s: %zu error%s\n", file.c_str(), res.errors.size(),
                 res.errors.size() == 1 ? "" : "s");
    return 1;
  }
  // Compile everything the gateway would (router, policies) so that a file
  // that passes check also loads.
  gatehouse::metrics::Registry registry(1);
  auto snap = gatehouse::proxy::build_snapshot(res.config, nullptr, registry, 1);
  if (!snap) {
    const auto& e = snap.error();
    std::string where = file;
    if (e.line > 0) where += ":" + std::to_string(e.line) + ":" + std::to_string(e.column);
    std::fprintf(stderr, "%s: %s: %s\n", where.c_str(), e.field.c_str(), e.message.c_str());
    std::fprintf(stderr, "%s: 1 error\n", file.c_str());
    return 1;
  }
  std::printf("%s: ok (%zu upstreams, %zu routes, %zu consumers, %zu global policies)\n",
              file.c_str(), res.config.upstreams.size(), res.config.routes.size(),
              res.config.consumers.size(), res.config.policies.size());
  return 0;
}

int cmd_serve(Args& a) {
  gatehouse::server::Options opts;
  while (a.more()) {
    const std::string& o = a.next();
    auto value = [&](const char* name) -> std::string {
      if (!a.more()) throw std::runtime_error(std::string(name) + " needs a value");
      return a.next();
    };
    try {
      if (o == "-c" || o == "--config") opts.config_path = value("--config");
      else if (o.rfind("--config=", 0) == 0) opts.config_path = o.substr(9);
      else if (o == "--proxy-listen") opts.proxy_listen = value("--proxy-listen");
      else if (o == "--admin-listen") opts.admin_listen = value("--admin-listen");
      else if (o == "--workers") {
        std::string n = value("--workers");
        if (n.empty() || n.find_first_not_of("0123456789") != std::string::npos || n.size() > 4)
          return fail("--workers needs a positive number");
        opts.workers = static_cast<size_t>(std::stoul(n));
        if (opts.workers == 0) return fail("--workers needs a positive number");
      } else if (o == "--no-watch") opts.watch_config = false;
      else if (o == "--data-dir") gatehouse::process_settings().data_dir = value("--data-dir");
      else if (o == "--store") {
        std::string url = value("--store");
        if (!url.empty() && url.rfind("sqlite:", 0) != 0 && url.rfind("postgres://", 0) != 0 &&
            url.rfind("postgresql://", 0) != 0)
          return fail("--store must be sqlite:PATH or postgres://user@host:port/database");
        gatehouse::process_settings().store_url = std::move(url);
      }
      else return fail("serve: unknown option '" + o + "'");
    } catch (const std::exception& e) {
      return fail(e.what());
    }
  }
  gatehouse::server::Server server(std::move(opts));
  return server.run();
}

}  // namespace

int main(int argc, char** argv) {
  // A peer closing a socket must be an error code, not a process kill.
  std::signal(SIGPIPE, SIG_IGN);
  Args a;
  for (int i = 1; i < argc; ++i) a.v.emplace_back(argv[i]);
  if (!a.more()) {
    usage(stderr);
    return 2;
  }
  std::string cmd = a.next();
  if (cmd == "serve") return cmd_serve(a);
  if (cmd == "check") return cmd_check(a);
  if (cmd == "version" || cmd == "--version") {
    std::printf("gatehouse %s\n", kVersion);
    return 0;
  }
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    usage(stdout);
    return 0;
  }
  usage(stderr);
  return 2;
}
