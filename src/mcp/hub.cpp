#include "mcp/hub.hpp"

#include <cstdint>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "common/thread.hpp"
#include "mcp/openapi_tools/upstream.hpp"
#include "mcp/upstream/upstream.hpp"
#include "net/tls/client.hpp"

namespace gatehouse::mcp {

bool supported_version(std::string_view v) {
  for (const char* s : kSupportedVersions)
    if (v == s) return true;
  return false;
}

namespace {

std::string fingerprint(const config::McpServerConfig& c) {
  json::object o;
  o["t"] = static_cast<int>(c.transport);
  json::array cmd;
  for (const auto& a : c.command) cmd.push_back(json::string(a));
  o["c"] = std::move(cmd);
  json::array env;
  for (const auto& [k, v] : c.env) env.push_back(json::array{json::string(k), json::string(v)});
  o["e"] = std::move(env);
  o["d"] = c.cwd;
  o["u"] = c.url;
  json::array hs;
  for (const auto& [k, v] : c.headers) hs.push_back(json::array{json::string(k), json::string(v)});
  o["h"] = std::move(hs);
  o["to"] = c.timeout_ms;
  json::array caps;
  for (const auto& k : c.client_capabilities) caps.push_back(json::string(k));
  o["cc"] = std::move(caps);
  // The TLS context is built from these (Runtime::build): a change of them
  // makes a new client with the new context.
  o["tls"] = net::tls::upstream_tls_key(c.tls);
  return json::serialize(o);
}

class Hub {
 public:
  Hub()
      : guard_(ioc_.get_executor()), thread_([this] {
          name_this_thread("gh-mcp-hub");
          ioc_.run();
        }) {}

  asio::io_context& ioc() { return ioc_; }

  // MCP thread.
  Upstream* upstream_for(const config::McpServerConfig& cfg, const ServerParts& parts) {
    const auto& binding = parts.binding;
    std::string fp = fingerprint(cfg);
    // A REST-API server is rebuilt with each snapshot (its document and
    // tools are the snapshot's); it holds no state worth keeping.
    if (binding) fp += '\n' + std::to_string(reinterpret_cast<uintptr_t>(binding.get()));
    auto it = upstreams_.find(cfg.name);
    if (it != upstreams_.end() && it->second.fingerprint == fp) return it->second.client.get();
    if (it != upstreams_.end()) {
      log::info("mcp server config changed; restarting its client", {log::f("server", cfg.name)});
      it->second.client->stop(false);
      upstreams_.erase(it);
    }
    std::shared_ptr<Upstream> client;
    if (cfg.transport == config::McpTransport::kOpenApi && binding)
      client = make_openapi_upstream(ioc_, binding);
    else if (cfg.transport == config::McpTransport::kStdio)
      client = make_stdio_upstream(ioc_, cfg);
    else if (cfg.transport == config::McpTransport::kSse)
      client = make_sse_upstream(ioc_, cfg, parts.tls);
    else
      client = make_http_upstream(ioc_, cfg, parts.tls);
    Upstream* raw = client.get();
    upstreams_[cfg.name] = Entry{fp, std::move(client)};
    return raw;
  }

  // MCP thread: the running client of `cfg`, or null (never started, or
  // started with another config: a listener of the old one is gone with it).
  Upstream* running(const config::McpServerConfig& cfg) {
    auto it = upstreams_.find(cfg.name);
    return it != upstreams_.end() && it->second.fingerprint == fingerprint(cfg)
               ? it->second.client.get()
               : nullptr;
  }

  // MCP thread.
  void retain(const std::unordered_map<std::string, std::string>& keep) {
    for (auto it = upstreams_.begin(); it != upstreams_.end();) {
      auto k = keep.find(it->first);
      if (k == keep.end() || k->second != it->second.fingerprint) {
        log::info("mcp server removed from the config; stopping it", {log::f("server", it->first)});
        it->second.client->stop(false);
        it = upstreams_.erase(it);
      } else {
        ++it;
      }
    }
  }

  SessionBus& bus() { return bus_; }

  void stop_all() {
    std::promise<void> done;
    asio::post(ioc_, [&] {
      bus_.end_all();
      for (auto& [name, e] : upstreams_) e.client->stop(true);
      upstreams_.clear();
      done.set_value();
    });
    done.get_future().wait();
    guard_.reset();
    ioc_.stop();
    thread_.join();
  }

 private:
  struct Entry {
    std::string fingerprint;
    std::shared_ptr<Upstream> client;
  };
  asio::io_context ioc_{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::unordered_map<std::string, Entry> upstreams_;
  SessionBus bus_;
  std::thread thread_;
};

std::mutex g_mu;  // creation and shutdown only, never per request
std::atomic<Hub*> g_hub{nullptr};

Hub& hub() {
  Hub* h = g_hub.load(std::memory_order_acquire);
  if (h) return *h;
  std::lock_guard lock(g_mu);
  h = g_hub.load(std::memory_order_relaxed);
  if (!h) {
    h = new Hub();
    g_hub.store(h, std::memory_order_release);
  }
  return *h;
}

}  // namespace

std::shared_ptr<Call> submit(const config::McpServerConfig& cfg, Op op,
                             asio::any_io_executor worker, ServerParts parts) {
  auto call = std::make_shared<Call>(worker);
  Hub& h = hub();
  asio::post(h.ioc(), [&h, cfg, op = std::move(op), call, parts = std::move(parts)]() mutable {
    h.upstream_for(cfg, parts)->submit(std::move(op), call);
  });
  return call;
}

void upstream_listen(const config::McpServerConfig& cfg, ServerParts parts, std::string session_id,
                     std::string version, std::shared_ptr<OutsideSink> sink) {
  Hub& h = hub();
  asio::post(h.ioc(), [&h, cfg, parts = std::move(parts), session_id = std::move(session_id),
                       version = std::move(version), sink = std::move(sink)]() mutable {
    h.upstream_for(cfg, parts)->listen(session_id, version, std::move(sink));
  });
}

void upstream_unlisten(const config::McpServerConfig& cfg, std::string session_id,
                       std::shared_ptr<OutsideSink> sink) {
  Hub* h = g_hub.load(std::memory_order_acquire);
  if (!h) return;
  asio::post(h->ioc(), [h, cfg, session_id = std::move(session_id), sink = std::move(sink)] {
    if (Upstream* u = h->running(cfg)) u->unlisten(session_id, sink);
  });
}

void retain(const config::McpConfig& cfg) {
  Hub* h = g_hub.load(std::memory_order_acquire);
  if (!h) return;
  std::unordered_map<std::string, std::string> keep;
  for (const auto& s : cfg.servers) keep[s.name] = fingerprint(s);
  asio::post(h->ioc(), [h, keep = std::move(keep)] { h->retain(keep); });
}

void stream_listen(std::string session, std::vector<std::string> servers,
                   std::optional<EventId> resume, std::shared_ptr<Feed> feed) {
  Hub& h = hub();
  asio::post(h.ioc(), [&h, session = std::move(session), servers = std::move(servers), resume,
                       feed = std::move(feed)]() mutable {
    h.bus().listen(session, std::move(servers), resume, std::move(feed), steady_ms());
  });
}

void stream_publish(std::string session, std::string data) {
  Hub& h = hub();
  asio::post(h.ioc(), [&h, session = std::move(session), data = std::move(data)]() mutable {
    h.bus().publish(session, std::move(data), steady_ms());
  });
}

void stream_record(std::string session, EventId id, std::string data, bool final) {
  Hub& h = hub();
  asio::post(h.ioc(),
             [&h, session = std::move(session), id, data = std::move(data), final]() mutable {
               h.bus().record(session, id, std::move(data), final, steady_ms());
             });
}

void stream_forget(std::string session) {
  Hub* h = g_hub.load(std::memory_order_acquire);
  if (!h) return;
  asio::post(h->ioc(), [h, session = std::move(session)] { h->bus().forget(session); });
}

void stream_broadcast(const std::string& server, const std::string& data) {
  Hub* h = g_hub.load(std::memory_order_acquire);
  if (h) h->bus().broadcast(server, data, steady_ms());
}

void stream_broadcast_post(std::string server, std::string data) {
  Hub& h = hub();
  asio::post(h.ioc(), [&h, server = std::move(server), data = std::move(data)] {
    h.bus().broadcast(server, data, steady_ms());
  });
}

void shutdown() {
  std::lock_guard lock(g_mu);
  Hub* h = g_hub.exchange(nullptr);
  if (!h) return;
  h->stop_all();
  delete h;
}

}  // namespace gatehouse::mcp
