#include "admin/admin_server.hpp"

#include <cstdlib>

#include "admin/mcp_registry.hpp"
#include "common/log.hpp"
#include "net/http1/parser.hpp"
#include "net/http1/path.hpp"
#include "proxy/http_util.hpp"
#include "server/server.hpp"

namespace gatehouse::admin {

namespace {
constexpr uint64_t kMaxBody = 16 * 1024 * 1024;  // a whole config document fits
}  // namespace

AdminServer::AdminServer(asio::io_context& ioc, server::Server& server)
    : ioc_(ioc), server_(server) {
  ApiHost host;
  host.store = server_.store();
  host.file_mode = server_.file_mode();
  host.file_path = server_.config_path();
  host.revision = [this] { return server_.config_revision(); };
  host.file_text = [this] { return server_.config_file_text(); };
  if (const char* t = std::getenv("GATEHOUSE_ADMIN_TOKEN")) host.env_token = t;
  if (!host.file_mode) host.settings_llm = server_.settings_llm();
  McpRegistry::Host reg_host;
  reg_host.store = host.store;
  reg_host.snapshot = [this] { return server_.snapshot(); };
  reg_host.public_url = [this] {
    if (const char* u = std::getenv("GATEHOUSE_PUBLIC_URL"); u && *u) {
      std::string s = u;
      while (!s.empty() && s.back() == '/') s.pop_back();
      return s;
    }
    return "http://" + server_.proxy_address();
  };
  mcp_registry_ = std::make_shared<McpRegistry>(std::move(reg_host));
  host.mcp_registry = mcp_registry_;
  api_ = std::make_unique<Api>(std::move(host));
  start_mcp_registry();
}

AdminServer::~AdminServer() {
  mcp::registry::set_sink({});
  if (pin_timer_) pin_timer_->cancel();
}

void AdminServer::start_mcp_registry() {
  if (auto r = mcp_registry_->refresh_pins(); !r)
    log::warn("mcp registry: cannot load pins", {log::f("error", r.error().message)});
  // Workers report on their threads; the registry is the control thread's.
  mcp::registry::set_sink([ex = ioc_.get_executor(), reg = std::weak_ptr(mcp_registry_)](
                              mcp::registry::Report r) {
    asio::post(ex, [reg, r = std::move(r)] {
      if (auto p = reg.lock()) p->on_report(r);
    });
  });
  // Pins approved (and policies set) on other nodes sharing the store.
  pin_timer_ = std::make_shared<asio::steady_timer>(ioc_);
  asio::co_spawn(
      ioc_,
      [timer = pin_timer_, reg = std::weak_ptr(mcp_registry_)]() -> awaitable<void> {
        for (;;) {
          timer->expires_after(std::chrono::seconds(5));
          auto [ec] = co_await timer->async_wait(use_nothrow);
          if (ec) co_return;
          auto p = reg.lock();
          if (!p) co_return;
          (void)p->refresh_pins();
        }
      },
      asio::detached);
}

Result<tcp::endpoint> AdminServer::listen(const tcp::endpoint& ep) {
  auto acc = std::make_unique<tcp::acceptor>(ioc_);
  boost::system::error_code ec;
  acc->open(ep.protocol(), ec);
  if (!ec) acc->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc->bind(ep, ec);
  if (!ec) acc->listen(128, ec);
  if (ec) {
    return make_error("listen_failed",
                      "cannot listen on " + ep.address().to_string() + ":" +
                          std::to_string(ep.port()) + ": " + ec.message(),
                      "listeners.admin");
  }
  auto bound = acc->local_endpoint(ec);
  acceptor_ = std::move(acc);
  asio::co_spawn(ioc_, accept_loop(), asio::detached);
  return bound;
}

void AdminServer::stop_accepting() {
  // The admin listener stays up while draining so /status can report it;
  // nothing to do until the admin API needs write fencing.
}

AdminResponse AdminServer::dispatch(const ApiRequest& req) {
  if (req.path == "/api/v1" || req.path.rfind("/api/v1/", 0) == 0) return api_->handle(req);
  if (!req.body.empty())
    return {413,
            "application/problem+json",
            proxy::problem_json(413, "body_not_accepted",
                                "this admin resource takes no request body", ""),
            {}};
  return dispatch(req.method, req.path);
}

AdminResponse AdminServer::dispatch(std::string_view method, std::string_view path) {
  AdminResponse r;
  bool get = method == "GET" || method == "HEAD";
  if (path == "/metrics") {
    if (!get)
      return {405,
              "application/problem+json",
              proxy::problem_json(405, "method_not_allowed", "use GET", ""),
              {}};
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = server_.render_metrics();
    return r;
  }
  if (path == "/status" || path == "/status/ready") {
    if (!get)
      return {405,
              "application/problem+json",
              proxy::problem_json(405, "method_not_allowed", "use GET", ""),
              {}};
    r.status = server_.ready() ? 200 : 503;
    r.body = server_.status_json();
    return r;
  }
  if (path == "/status/live") {
    r.body = "{\"status\":\"alive\"}";
    return r;
  }
  return {404,
          "application/problem+json",
          proxy::problem_json(404, "not_found", "no admin resource at " + std::string(path), ""),
          {}};
}

awaitable<void> AdminServer::accept_loop() {
  for (;;) {
    auto [ec, sock] = co_await acceptor_->async_accept(use_nothrow);
    if (ec) {
      if (!acceptor_->is_open() || ec == asio::error::operation_aborted) co_return;
      continue;
    }
    asio::co_spawn(ioc_, serve(std::move(sock)), asio::detached);
  }
}

awaitable<void> AdminServer::serve(tcp::socket sock) {
  std::string buf;
  http1::Limits limits;
  for (;;) {
    http1::RequestHead head;
    http1::ParseError err;
    http1::ParseStatus st = http1::ParseStatus::kIncomplete;
    while (true) {
      if (!buf.empty()) {
        st = http1::parse_request_head(buf, limits, head, err);
        if (st != http1::ParseStatus::kIncomplete) break;
      }
      char tmp[4096];
      auto [ec, n] = co_await sock.async_read_some(asio::buffer(tmp), use_nothrow);
      if (ec || n == 0) co_return;
      buf.append(tmp, n);
    }
    AdminResponse resp;
    bool close = true;
    std::string method;
    if (st == http1::ParseStatus::kError) {
      resp = {err.status,
              "application/problem+json",
              proxy::problem_json(err.status, err.code, err.message, ""),
              {}};
    } else {
      close = !head.keep_alive;
      method = head.method;
      buf.erase(0, head.head_bytes);
      ApiRequest req;
      bool ok = true;
      if (head.body == http1::BodyKind::kChunked) {
        resp = {
            411,
            "application/problem+json",
            proxy::problem_json(411, "length_required", "send the body with a Content-Length", ""),
            {}};
        close = true;
        ok = false;
      } else if (head.body == http1::BodyKind::kContentLength && head.content_length > kMaxBody) {
        resp = {413,
                "application/problem+json",
                proxy::problem_json(413, "body_too_large",
                                    "admin request bodies are limited to 16 MiB", ""),
                {}};
        close = true;
        ok = false;
      } else if (head.body == http1::BodyKind::kContentLength) {
        if (head.expect_continue && buf.size() < head.content_length) {
          std::string cont = "HTTP/1.1 100 Continue\r\n\r\n";
          auto [cec, cn] = co_await asio::async_write(sock, asio::buffer(cont), use_nothrow);
          if (cec) co_return;
        }
        while (buf.size() < head.content_length) {
          char tmp[16384];
          auto [ec, n] = co_await sock.async_read_some(asio::buffer(tmp), use_nothrow);
          if (ec || n == 0) co_return;
          buf.append(tmp, n);
        }
        req.body = buf.substr(0, head.content_length);
        buf.erase(0, head.content_length);
      }
      if (ok && is_registry_target(head.target)) {
        resp = registry_v0(*mcp_registry_, head.method, head.target);
      } else if (ok) {
        auto target = http1::normalize_target(head.target);
        if (!target) {
          resp = {400,
                  "application/problem+json",
                  proxy::problem_json(400, target.error().code, target.error().message, ""),
                  {}};
        } else {
          req.method = head.method;
          req.path = target->path;
          req.query = target->query;
          for (const auto& h : head.headers) req.headers.emplace_back(h.name, h.value);
          resp = dispatch(req);
        }
      }
    }
    std::string out =
        "HTTP/1.1 " + std::to_string(resp.status) + " " + proxy::reason_phrase(resp.status) +
        (resp.status == 204 ? std::string()
                            : "\r\nContent-Type: " + resp.content_type +
                                  "\r\nContent-Length: " + std::to_string(resp.body.size())) +
        "\r\nCache-Control: no-store\r\n" + (close ? "Connection: close\r\n" : "");
    for (const auto& [k, v] : resp.headers) out += k + ": " + v + "\r\n";
    out += "\r\n";
    if (method != "HEAD") out += resp.body;
    auto [wec, wn] = co_await asio::async_write(sock, asio::buffer(out), use_nothrow);
    if (wec || close) break;
  }
  boost::system::error_code ec;
  sock.shutdown(tcp::socket::shutdown_both, ec);
}

}  // namespace gatehouse::admin
