// The process: workers, the control thread (config load and hot reload,
// signals, health checks, DNS refresh, admin listener) and shutdown.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/metrics.hpp"
#include "config/entities.hpp"
#include "net/asio.hpp"
#include "proxy/snapshot.hpp"
#include "store/store.hpp"

namespace gatehouse::net {
class Worker;
}

namespace gatehouse::server {

struct Options {
  std::string config_path;   // empty = the config store (see docs/admin-api.md)
  std::string proxy_listen;  // flag overrides; empty = from file/default
  std::string admin_listen;
  std::string proxy_tls_listen;  // --proxy-tls-listen: the TLS listener
  // Store mode: a YAML file with server settings only (listeners, http,
  // access_log, drain_timeout, trust_forwarded); the entities are in the store.
  std::string settings_path;
  size_t workers = 0;        // 0 = hardware concurrency
  bool watch_config = true;  // reload when the file changes
  // Called once the listeners are bound, with their addresses (`gatehouse
  // mock` prints where it serves).
  std::function<void(const std::string& proxy, const std::string& admin)> on_listening;
};

class Server {
 public:
  explicit Server(Options opts);
  ~Server();
  // Runs until SIGTERM/SIGINT and the drain finish. Returns the exit code.
  int run();

  // Control-thread API (also used by the admin listener).
  const std::shared_ptr<const proxy::Snapshot>& snapshot() const { return snapshot_; }
  metrics::Registry& registry() { return *registry_; }
  bool ready() const { return ready_.load(); }
  std::string render_metrics() const;
  std::string status_json() const;
  // Store mode (no -c): the config store; null when a file is the source.
  store::Store* store() { return store_ ? store_.get() : mirror_.get(); }
  bool file_mode() const { return !opts_.config_path.empty(); }
  const std::string& config_path() const { return opts_.config_path; }
  // The store revision the published snapshot was built from (0 in file mode).
  int64_t config_revision() const { return revision_.load(); }
  std::string config_file_text() const;
  // The proxy listener's bound address ("127.0.0.1:8080"), once listening.
  const std::string& proxy_address() const { return proxy_address_; }
  // Store mode: the --settings file's llm section as JSON (${VAR} expanded).
  const boost::json::value& settings_llm() const { return store_llm_json_; }

 private:
  bool load_initial();
  bool open_config_store(config::Config& cfg);
  void bootstrap_admin_token();
  // Reads API documents from the store by hash (deployed API versions' specs).
  apim::DocumentFetch document_fetch() const {
    return [s = store_.get()](const std::string& sha) { return s->get_document(sha); };
  }
  // Rebuilds from the store when it is past `revision` (or always, forced).
  void reload_from_store(int64_t revision, const std::string& reason, bool force = false);
  void mirror_file();
  void reload(const std::string& reason);
  bool apply(const config::Config& cfg, int64_t started_us);
  void publish(std::shared_ptr<const proxy::Snapshot> snap);
  void start_background_tasks(const std::shared_ptr<const proxy::Snapshot>& snap);
  awaitable<void> watch_file();
  awaitable<void> handle_signals();
  void begin_shutdown();

  Options opts_;
  asio::io_context control_;
  std::unique_ptr<metrics::Registry> registry_;
  std::vector<std::unique_ptr<net::Worker>> workers_;
  std::shared_ptr<const proxy::Snapshot> snapshot_;
  config::ServerConfig server_cfg_;  // listener settings fixed at start
  std::atomic<bool> ready_{false};
  std::atomic<bool> shutting_down_{false};
  uint64_t generation_ = 0;
  std::string proxy_address_;
  std::string proxy_tls_address_;
  std::string admin_address_;
  struct FileStamp {
    int64_t mtime_ns = 0;
    int64_t size = -1;
    uint64_t inode = 0;
    bool operator==(const FileStamp&) const = default;
  } stamp_;
  int access_log_fd_ = -1;
  struct Admin;
  std::unique_ptr<Admin> admin_;
  std::unique_ptr<store::Store> store_;
  // File mode: an in-memory store holding the file's entities, so the admin
  // API's reads work the same; writes are refused.
  std::unique_ptr<store::Store> mirror_;
  store::Subscription store_watch_;
  std::atomic<int64_t> revision_{0};
  config::ServerConfig store_server_;  // store mode: from --settings, else defaults
  // Store mode: the --settings file's `llm` and `mcp` sections, which the store
  // does not carry (yet); kept across every reload from the store.
  // The llm section travels as JSON: stored providers and models are added
  // to it and validated together (admin::build_config).
  boost::json::value store_llm_json_;
  boost::json::value store_mcp_json_;  // the settings file's mcp section, for the validator
  config::McpConfig store_mcp_;
};

// Parses "host:port" / "[v6]:port" / ":port" into an endpoint.
Result<tcp::endpoint> parse_listen(const std::string& s, const std::string& field);

}  // namespace gatehouse::server
