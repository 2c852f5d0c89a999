#include "server/server.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/signal_set.hpp>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "admin/admin_server.hpp"
#include "admin/certificates.hpp"
#include "admin/config_bridge.hpp"
#include "admin/declarative.hpp"
#include "admin/llm_entities.hpp"
#include "admin/secrets.hpp"
#include "admin/yaml_json.hpp"
#include "ai/gateway/metrics.hpp"
#include "common/clock.hpp"
#include "common/log.hpp"
#include "common/settings.hpp"
#include "config/loader.hpp"
#include "mcp/hub.hpp"
#include "mcp/metrics.hpp"
#include "net/worker.hpp"
#include "policies/proxy_cache/cache_store.hpp"
#include "policies/request_validation/request_validation.hpp"
#include "proxy/upstream/health.hpp"

namespace gatehouse::server {

struct Server::Admin {
  std::unique_ptr<admin::AdminServer> server;
};

Result<tcp::endpoint> parse_listen(const std::string& s, const std::string& field) {
  std::string host, port;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':')
      return make_error("invalid_listen", "expected [v6]:port, got '" + s + "'", field);
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string::npos)
      return make_error("invalid_listen", "expected HOST:PORT, got '" + s + "'", field);
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  if (host.empty() || host == "*") host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) return make_error("invalid_listen", "'" + host + "' is not an IP address", field);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
    return make_error("invalid_listen", "invalid port in '" + s + "'", field);
  int p = std::stoi(port);
  if (p > 65535) return make_error("invalid_listen", "port out of range in '" + s + "'", field);
  return tcp::endpoint(addr, static_cast<uint16_t>(p));
}

Server::Server(Options opts) : opts_(std::move(opts)) {
  if (opts_.workers == 0) opts_.workers = std::max(1u, std::thread::hardware_concurrency());
  registry_ = std::make_unique<metrics::Registry>(opts_.workers);
}

Server::~Server() {
  store_watch_.reset();
  for (auto& w : workers_) w->stop();
  for (auto& w : workers_) w->join();
  if (access_log_fd_ > STDERR_FILENO) ::close(access_log_fd_);
}

namespace {

bool stat_file(const std::string& path, int64_t& mtime_ns, int64_t& size, uint64_t& inode) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;
  mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  size = st.st_size;
  inode = st.st_ino;
  return true;
}

}  // namespace

bool Server::apply(const config::Config& cfg, int64_t started_us) {
  auto snap = proxy::build_snapshot(cfg, snapshot_.get(), *registry_, generation_ + 1);
  if (!snap) {
    const auto& e = snap.error();
    log::error("config rejected",
               {log::f("code", e.code), log::f("field", e.field), log::f("message", e.message)});
    return false;
  }
  ++generation_;
  std::vector<std::string> used;  // store documents the new config still names
  for (const auto& s : cfg.specs)
    if (!s.sha256.empty()) used.push_back(s.sha256);
  apim::DocumentCache::instance().retain(used);
  publish(snap.value());
  registry_->config_generation.store(generation_);
  registry_->last_reload_ms.store((steady_us() - started_us) / 1000);
  return true;
}

void Server::publish(std::shared_ptr<const proxy::Snapshot> snap) {
  if (snapshot_) {
    for (const auto& old : snapshot_->upstreams) {
      bool kept = std::any_of(snap->upstreams.begin(), snap->upstreams.end(),
                              [&](const auto& u) { return u == old; });
      if (!kept) old->retired.store(true);
    }
  }
  snapshot_ = snap;
  mcp::retain(snap->config.mcp);  // stops MCP servers the new config dropped
  start_background_tasks(snap);
  for (auto& w : workers_) {
    asio::post(w->ioc(), [w = w.get(), snap] { w->set_snapshot(snap); });
  }
}

void Server::start_background_tasks(const std::shared_ptr<const proxy::Snapshot>& snap) {
  for (const auto& up : snap->upstreams) proxy::start_upstream_tasks(control_, up);
}

std::string Server::config_file_text() const {
  std::ifstream in(opts_.config_path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool Server::open_config_store(config::Config& cfg) {
  if (!opts_.settings_path.empty()) {
    auto res = config::load_config_file(opts_.settings_path);
    // Certificates may live in the store: a TLS listener with none in the file is fine here.
    std::erase_if(res.errors, [](const config::ConfigError& e) {
      return e.field == "tls.certificates" && e.code == "missing_field";
    });
    for (const auto& e : res.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
    if (!res.ok()) return false;
    const auto& c = res.config;
    if (!c.upstreams.empty() || !c.routes.empty() || !c.consumers.empty() || !c.policies.empty()) {
      log::error(
          "a --settings file holds server settings only; the entities live in the store "
          "(load them with: gatehouse apply -f FILE)",
          {log::f("file", opts_.settings_path)});
      return false;
    }
    store_server_ = c.server;
    store_mcp_ = c.mcp;
    std::ifstream in(opts_.settings_path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    auto doc = admin::yaml_to_json(text.str(), true);
    if (doc && doc->is_object())
      if (auto* l = doc->get_object().if_contains("llm")) store_llm_json_ = *l;
    if (doc && doc->is_object())
      if (auto* m = doc->get_object().if_contains("mcp")) {
        store_mcp_json_ = *m;
        admin::resolve_settings_mcp_files(store_mcp_json_, opts_.settings_path);
      }
  }
  const auto& ps = process_settings();
  auto st = store::open_store(ps.store_url, ps.data_dir);
  if (!st) {
    log::error("cannot open the config store",
               {log::f("code", st.error().code), log::f("message", st.error().message)});
    return false;
  }
  store_ = std::move(st.value());
  // Stored routes may name the settings file's MCP servers: the validator
  // sees that section (the snapshot build takes store_mcp_ itself).
  store_->set_validator(admin::make_validator(document_fetch(), store_llm_json_, store_mcp_json_));
  bootstrap_admin_token();
  auto snap = store_->load_all();
  if (!snap) {
    log::error("cannot read the config store", {log::f("message", snap.error().message)});
    return false;
  }
  // Provider secrets are sealed; the key must be here before the first build.
  bool embedded = ps.store_url.empty() || ps.store_url.rfind("sqlite:", 0) == 0;
  auto keys = admin::secrets::prepare_process_keyring(ps.secret_key_file, ps.data_dir, embedded,
                                                      admin::sealed_key_ids(snap->entities));
  if (!keys) {
    log::error("cannot unlock provider secrets",
               {log::f("code", keys.error().code), log::f("message", keys.error().message)});
    return false;
  }
  if (!keys->empty()) log::warn(*keys, {});
  auto fetch = document_fetch();
  auto built =
      admin::build_config(snap->entities, nullptr, &fetch, &store_llm_json_, &store_mcp_json_);
  if (!built) {
    // Written by another version or by hand: refuse rather than serve half.
    log::error("config in the store is invalid",
               {log::f("code", built.error().code), log::f("entity", built.error().file),
                log::f("field", built.error().field), log::f("message", built.error().message)});
    return false;
  }
  cfg = std::move(built.value());
  admin::apply_server_settings(cfg, store_server_);
  cfg.mcp = store_mcp_;
  revision_ = snap->revision;
  log::info("config loaded from store",
            {log::f("store", store_->describe()),
             log::n("revision", static_cast<long long>(snap->revision)),
             log::n("routes", static_cast<long long>(cfg.routes.size()))});
  return true;
}

void Server::bootstrap_admin_token() {
  auto tokens = store_->list_tokens();
  if (!tokens) {
    log::error("cannot read admin tokens", {log::f("message", tokens.error().message)});
    return;
  }
  if (!tokens->empty()) return;
  const char* env = std::getenv("GATEHOUSE_ADMIN_TOKEN");
  std::string given = env ? env : "";
  auto made =
      store_->create_token("bootstrap", given.empty() ? "bootstrap" : "GATEHOUSE_ADMIN_TOKEN",
                           store::Role::kAdmin, "", 0, given);
  if (!made) {
    log::error("cannot create the first admin token",
               {log::f("code", made.error().code), log::f("message", made.error().message)});
    return;
  }
  if (given.empty()) {
    // Shown once; only its hash is kept.
    log::warn(
        "first admin token created; it is shown only this once",
        {log::f("token", made->secret), log::f("id", made->token.id), log::f("role", "admin")});
  } else {
    log::info("first admin token taken from GATEHOUSE_ADMIN_TOKEN",
              {log::f("id", made->token.id), log::f("role", "admin")});
  }
}

void Server::reload_from_store(int64_t revision, const std::string& reason, bool force) {
  if (!store_ || shutting_down_ || (!force && revision <= revision_.load())) return;
  int64_t t0 = steady_us();
  auto snap = store_->load_all();
  if (!snap) {
    registry_->reload_errors_total.fetch_add(1);
    log::error("config reload from store failed", {log::f("message", snap.error().message)});
    return;
  }
  if (!force && snap->revision <= revision_.load()) return;
  auto fetch = document_fetch();
  auto built =
      admin::build_config(snap->entities, nullptr, &fetch, &store_llm_json_, &store_mcp_json_);
  if (!built) {
    registry_->reload_errors_total.fetch_add(1);
    log::error("config in the store is invalid; keeping the running config",
               {log::n("revision", static_cast<long long>(snap->revision)),
                log::f("entity", built.error().file), log::f("field", built.error().field),
                log::f("message", built.error().message)});
    return;
  }
  admin::apply_server_settings(*built, store_server_);
  built->mcp = store_mcp_;
  if (!apply(built.value(), t0)) {
    registry_->reload_errors_total.fetch_add(1);
    return;
  }
  revision_ = snap->revision;
  registry_->reloads_total.fetch_add(1);
  log::info("config reloaded",
            {log::f("reason", reason), log::n("revision", static_cast<long long>(snap->revision)),
             log::n("generation", static_cast<long long>(generation_)),
             log::n("routes", static_cast<long long>(built->routes.size())),
             log::n("build_ms", (steady_us() - t0) / 1000)});
}

void Server::mirror_file() {
  if (!mirror_) {
    auto st = store::open_store("sqlite::memory:", process_settings().data_dir);
    if (!st) {
      log::warn("admin API reads unavailable in file mode",
                {log::f("message", st.error().message)});
      return;
    }
    mirror_ = std::move(st.value());
    if (const char* env = std::getenv("GATEHOUSE_ADMIN_TOKEN"); env && *env) {
      auto t = mirror_->create_token("bootstrap", "GATEHOUSE_ADMIN_TOKEN", store::Role::kAdmin, "",
                                     0, env);
      if (!t) log::warn("GATEHOUSE_ADMIN_TOKEN not usable", {log::f("message", t.error().message)});
    }
  }
  // ${VAR} stays as written: the API shows the file, not the environment.
  auto doc = admin::yaml_to_json(config_file_text(), false);
  if (!doc) return;
  // The file's llm section is node settings here, not entities (keys stay unsealed).
  if (doc->is_object()) doc->get_object().erase("llm");
  auto plan = admin::plan_apply(*mirror_, *doc, store::kDefaultWorkspace, "");
  if (plan) {
    auto r = admin::commit_plan(*mirror_, "file:" + opts_.config_path, *plan);
    if (r) return;
    log::warn("admin API view of the file not updated", {log::f("message", r.error().message)});
    return;
  }
  log::warn("admin API view of the file not updated", {log::f("message", plan.error().message)});
}

bool Server::load_initial() {
  config::Config cfg;
  if (opts_.config_path.empty()) {
    if (!open_config_store(cfg)) return false;
  } else {
    auto res = config::load_config_file(opts_.config_path);
    if (!res.ok()) {
      for (const auto& e : res.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
      log::error("config invalid", {log::f("file", opts_.config_path),
                                    log::n("errors", static_cast<long long>(res.errors.size()))});
      return false;
    }
    cfg = std::move(res.config);
    stat_file(opts_.config_path, stamp_.mtime_ns, stamp_.size, stamp_.inode);
  }
  server_cfg_ = cfg.server;
  if (!opts_.proxy_listen.empty()) server_cfg_.listeners.proxy = opts_.proxy_listen;
  if (!opts_.admin_listen.empty()) server_cfg_.listeners.admin = opts_.admin_listen;
  if (!opts_.proxy_tls_listen.empty()) server_cfg_.listeners.proxy_tls = opts_.proxy_tls_listen;
  if (!apply(cfg, steady_us())) return false;
  if (!server_cfg_.listeners.proxy_tls.empty() && !snapshot_->tls && opts_.config_path.empty()) {
    // Store mode: the first certificate may come through the admin API.
    log::warn("the TLS listener has no certificate yet; handshakes fail until one is added",
              {log::f("field", "tls.certificates")});
  } else if (!server_cfg_.listeners.proxy_tls.empty() && !snapshot_->tls) {
    log::error("config invalid",
               {log::f("field", "tls.certificates"),
                log::f("message", "the TLS listener needs at least one certificate")});
    return false;
  }
  if (!opts_.config_path.empty()) mirror_file();
  return true;
}

void Server::reload(const std::string& reason) {
  if (opts_.config_path.empty() || shutting_down_) return;
  int64_t t0 = steady_us();
  auto res = config::load_config_file(opts_.config_path);
  if (!res.ok()) {
    registry_->reload_errors_total.fetch_add(1);
    for (const auto& e : res.errors)
      log::error("config reload rejected",
                 {log::f("error", e.to_string()), log::f("code", e.code)});
    return;
  }
  if ((res.config.server.listeners.proxy != server_cfg_.listeners.proxy &&
       opts_.proxy_listen.empty()) ||
      (res.config.server.listeners.proxy_tls != server_cfg_.listeners.proxy_tls &&
       opts_.proxy_tls_listen.empty())) {
    log::warn("listener changes need a restart; keeping the current listeners");
  }
  if (!apply(res.config, t0)) {
    registry_->reload_errors_total.fetch_add(1);
    return;
  }
  registry_->reloads_total.fetch_add(1);
  mirror_file();
  log::info("config reloaded",
            {log::f("reason", reason), log::n("generation", static_cast<long long>(generation_)),
             log::n("routes", static_cast<long long>(res.config.routes.size())),
             log::n("build_ms", (steady_us() - t0) / 1000)});
}

awaitable<void> Server::watch_file() {
  asio::steady_timer timer(control_);
  for (;;) {
    timer.expires_after(std::chrono::milliseconds(500));
    auto [ec] = co_await timer.async_wait(use_nothrow);
    if (ec || shutting_down_) co_return;
    FileStamp now;
    if (!stat_file(opts_.config_path, now.mtime_ns, now.size, now.inode)) continue;
    if (now == stamp_) continue;
    // Editors write in several steps: wait until the file holds still.
    timer.expires_after(std::chrono::milliseconds(100));
    co_await timer.async_wait(use_nothrow);
    FileStamp again;
    if (!stat_file(opts_.config_path, again.mtime_ns, again.size, again.inode) || !(again == now))
      continue;
    stamp_ = now;
    reload("file_changed");
  }
}

awaitable<void> Server::handle_signals() {
  asio::signal_set signals(control_, SIGHUP, SIGTERM, SIGINT);
  for (;;) {
    auto [ec, sig] = co_await signals.async_wait(use_nothrow);
    if (ec) co_return;
    if (sig == SIGHUP) {
      if (store_) {
        // Re-read the store now, whatever the watch has seen.
        reload_from_store(0, "sighup", true);
        continue;
      }
      if (!opts_.config_path.empty()) {
        int64_t m = 0, s = 0;
        uint64_t i = 0;
        if (stat_file(opts_.config_path, m, s, i)) stamp_ = {m, s, i};
      }
      reload("sighup");
      continue;
    }
    if (shutting_down_) {
      // A second SIGTERM/SIGINT: the operator wants out now.
      log::warn("second signal during drain; stopping now");
      for (auto& w : workers_) w->stop();
      control_.stop();
      co_return;
    }
    begin_shutdown();
  }
}

void Server::begin_shutdown() {
  if (shutting_down_.exchange(true)) return;
  ready_ = false;
  log::info("shutting down", {log::n("drain_timeout_ms", server_cfg_.drain_timeout_ms)});
  if (admin_ && admin_->server) admin_->server->stop_accepting();
  for (auto& w : workers_) asio::post(w->ioc(), [w = w.get()] { w->begin_drain(); });
  // Workers exit their loops once drained; the deadline stops the rest.
  auto deadline = std::make_shared<asio::steady_timer>(
      control_, std::chrono::milliseconds(server_cfg_.drain_timeout_ms));
  deadline->async_wait([this, deadline](boost::system::error_code ec) {
    if (ec) return;
    log::warn("drain deadline reached; closing remaining connections");
    for (auto& w : workers_) w->stop();
    control_.stop();
  });
  // Poll for drained workers (their io_context runs out of work).
  auto poll = std::make_shared<asio::steady_timer>(control_);
  auto check = std::make_shared<std::function<void()>>();
  *check = [this, poll, check] {
    bool all =
        std::all_of(workers_.begin(), workers_.end(), [](const auto& w) { return w->finished(); });
    if (all) {
      control_.stop();
      return;
    }
    poll->expires_after(std::chrono::milliseconds(50));
    poll->async_wait([check](boost::system::error_code ec) {
      if (!ec) (*check)();
    });
  };
  (*check)();
}

std::string Server::render_metrics() const {
  std::string extra;
  extra +=
      "# HELP gatehouse_upstream_target_healthy 1 when the target may receive traffic.\n"
      "# TYPE gatehouse_upstream_target_healthy gauge\n";
  std::string ejected =
      "# HELP gatehouse_upstream_target_ejected 1 while passive outlier detection ejects the "
      "target.\n"
      "# TYPE gatehouse_upstream_target_ejected gauge\n";
  std::string conns =
      "# HELP gatehouse_upstream_connections Open upstream connections, node-wide.\n"
      "# TYPE gatehouse_upstream_connections gauge\n";
  if (snapshot_) {
    int64_t now = steady_ms();
    for (const auto& up : snapshot_->upstreams) {
      std::string u = metrics::label_escape(up->cfg.name);
      conns += "gatehouse_upstream_connections{upstream=\"" + u + "\"} " +
               std::to_string(up->connections.load()) + "\n";
      for (size_t i = 0; i < up->cfg.targets.size(); ++i) {
        std::string labels = "upstream=\"" + u + "\",target=\"" +
                             metrics::label_escape(up->cfg.targets[i].address) + "\"";
        extra += "gatehouse_upstream_target_healthy{" + labels + "} " +
                 (up->states[i]->available(now) ? "1" : "0") + "\n";
        ejected += "gatehouse_upstream_target_ejected{" + labels + "} " +
                   (up->states[i]->ejected_until_ms.load() > now ? "1" : "0") + "\n";
      }
    }
  }
  extra += ejected;
  extra += conns;
  extra +=
      "# HELP gatehouse_ready 1 when config is loaded and listeners are up.\n"
      "# TYPE gatehouse_ready gauge\ngatehouse_ready " +
      std::string(ready_ ? "1" : "0") + "\n";
  extra += ai::gateway::render_ai_metrics();
  extra += mcp::render_metrics();
  extra += policy::render_cache_metrics();
  extra += policy::render_validation_metrics();
  return registry_->render(extra);
}

std::string Server::status_json() const {
  std::string out = "{\"status\":\"";
  out += ready_ ? "ready" : (shutting_down_ ? "draining" : "starting");
  out += "\",\"config_loaded\":";
  out += snapshot_ ? "true" : "false";
  out += ",\"listeners_up\":";
  out += ready_ ? "true" : "false";
  out += ",\"generation\":" + std::to_string(generation_);
  if (store_) out += ",\"config_revision\":" + std::to_string(revision_.load());
  out += ",\"workers\":" + std::to_string(workers_.size());
  out += ",\"proxy_listen\":\"" + proxy_address_ + "\",\"admin_listen\":\"" + admin_address_ + "\"";
  if (!proxy_tls_address_.empty()) out += ",\"proxy_tls_listen\":\"" + proxy_tls_address_ + "\"";
  if (snapshot_) {
    out += ",\"routes\":" + std::to_string(snapshot_->config.routes.size());
    out += ",\"upstreams\":" + std::to_string(snapshot_->upstreams.size());
  }
  out += "}";
  return out;
}

int Server::run() {
  if (!load_initial()) return 1;

  if (server_cfg_.access_log.enabled) {
    if (server_cfg_.access_log.path == "-") {
      access_log_fd_ = STDOUT_FILENO;
    } else {
      access_log_fd_ = ::open(server_cfg_.access_log.path.c_str(),
                              O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      if (access_log_fd_ < 0) {
        log::error("cannot open access log", {log::f("path", server_cfg_.access_log.path)});
        return 1;
      }
    }
  }

  auto proxy_ep = parse_listen(server_cfg_.listeners.proxy, "listeners.proxy");
  auto admin_ep = parse_listen(server_cfg_.listeners.admin, "listeners.admin");
  for (const auto* r : {&proxy_ep, &admin_ep}) {
    if (!*r) {
      log::error("invalid listener",
                 {log::f("field", r->error().field), log::f("message", r->error().message)});
      return 1;
    }
  }

  for (size_t i = 0; i < opts_.workers; ++i)
    workers_.push_back(std::make_unique<net::Worker>(i, *registry_, access_log_fd_));
  // The first worker binds (port 0 picks a port); the rest join that port.
  tcp::endpoint bound = proxy_ep.value();
  for (size_t i = 0; i < workers_.size(); ++i) {
    auto r = workers_[i]->listen(bound, 4096);
    if (!r) {
      log::error("listen failed", {log::f("message", r.error().message)});
      return 1;
    }
    bound = r.value();
  }
  if (!server_cfg_.listeners.proxy_tls.empty()) {
    auto tls_ep = parse_listen(server_cfg_.listeners.proxy_tls, "listeners.proxy_tls");
    if (!tls_ep) {
      log::error("invalid listener", {log::f("field", tls_ep.error().field),
                                      log::f("message", tls_ep.error().message)});
      return 1;
    }
    tcp::endpoint tls_bound = tls_ep.value();
    for (auto& w : workers_) {
      auto r = w->listen_tls(tls_bound, 4096);
      if (!r) {
        log::error("listen failed", {log::f("message", r.error().message)});
        return 1;
      }
      tls_bound = r.value();
    }
    auto a = tls_bound.address();
    proxy_tls_address_ = (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" +
                         std::to_string(tls_bound.port());
  }
  for (auto& w : workers_) w->set_snapshot(snapshot_);  // before threads start

  admin_ = std::make_unique<Admin>();
  admin_->server = std::make_unique<admin::AdminServer>(control_, *this);
  auto admin_bound = admin_->server->listen(admin_ep.value());
  if (!admin_bound) {
    log::error("listen failed", {log::f("message", admin_bound.error().message)});
    return 1;
  }

  auto fmt = [](const tcp::endpoint& ep) {
    auto a = ep.address();
    return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" +
           std::to_string(ep.port());
  };
  proxy_address_ = fmt(bound);
  admin_address_ = fmt(admin_bound.value());

  for (auto& w : workers_) w->start();
  asio::co_spawn(control_, handle_signals(), asio::detached);
  if (!opts_.config_path.empty() && opts_.watch_config)
    asio::co_spawn(control_, watch_file(), asio::detached);
  if (store_) {
    // Commits by this node and by every other node sharing the database.
    store_watch_ = store_->watch([this](int64_t rev) {
      asio::post(control_, [this, rev] { reload_from_store(rev, "store_changed"); });
    });
    // A commit between the initial load and the subscription is not missed.
    if (auto rev = store_->current_revision()) reload_from_store(*rev, "store_changed");
  }
  ready_ = true;
  log::info("listening", {log::f("listener", "proxy"), log::f("address", proxy_address_),
                          log::n("workers", static_cast<long long>(workers_.size()))});
  if (!proxy_tls_address_.empty())
    log::info("listening",
              {log::f("listener", "proxy_tls"), log::f("address", proxy_tls_address_)});
  log::info("listening", {log::f("listener", "admin"), log::f("address", admin_address_)});
  if (opts_.on_listening) opts_.on_listening(proxy_address_, admin_address_);

  control_.run();
  store_watch_.reset();
  for (auto& w : workers_) w->stop();
  for (auto& w : workers_) w->join();
  mcp::shutdown();  // stdio MCP servers are terminated and reaped
  log::info("stopped");
  return 0;
}

}  // namespace gatehouse::server
