#include "admin/admin_server.hpp"

#include "common/log.hpp"
#include "net/http1/parser.hpp"
#include "net/http1/path.hpp"
#include "proxy/http_util.hpp"
#include "server/server.hpp"

namespace gatehouse::admin {

AdminServer::AdminServer(asio::io_context& ioc, server::Server& server)
    : ioc_(ioc), server_(server) {}

AdminServer::~AdminServer() = default;

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

AdminResponse AdminServer::dispatch(std::string_view method, std::string_view path) {
  AdminResponse r;
  bool get = method == "GET" || method == "HEAD";
  if (path == "/metrics") {
    if (!get) return {405, "application/problem+json", proxy::problem_json(405, "method_not_allowed", "use GET", "")};
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = server_.render_metrics();
    return r;
  }
  if (path == "/status" || path == "/status/ready") {
    if (!get) return {405, "application/problem+json", proxy::problem_json(405, "method_not_allowed", "use GET", "")};
    r.status = server_.ready() ? 200 : 503;
    r.body = server_.status_json();
    return r;
  }
  if (path == "/status/live") {
    r.body = "{\"status\":\"alive\"}";
    return r;
  }
  return {404, "application/problem+json",
          proxy::problem_json(404, "not_found", "no admin resource at " + std::string(path), "")};
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
      resp = {err.status, "application/problem+json", proxy::problem_json(err.status, err.code, err.message, "")};
    } else {
      close = !head.keep_alive;
      method = head.method;
      buf.erase(0, head.head_bytes);
      if (head.body == http1::BodyKind::kChunked ||
          (head.body == http1::BodyKind::kContentLength && head.content_length > 0)) {
        // Until the admin API lands, the admin listener takes no bodies.
        resp = {413, "application/problem+json", proxy::problem_json(413, "body_not_accepted", "admin resources here take no request body", "")};
        close = true;
      } else {
        auto target = http1::normalize_target(head.target);
        if (!target) {
          resp = {400, "application/problem+json", proxy::problem_json(400, target.error().code, target.error().message, "")};
        } else {
          resp = dispatch(head.method, target->path);
        }
      }
    }
    std::string out = "HTTP/1.1 " + std::to_string(resp.status) + " " +
                      proxy::reason_phrase(resp.status) + "\r\nContent-Type: " + resp.content_type +
                      "\r\nContent-Length: " + std::to_string(resp.body.size()) +
                      "\r\nCache-Control: no-store\r\n" + (close ? "Connection: close\r\n" : "") +
                      "\r\n";
    if (method != "HEAD") out += resp.body;
    auto [wec, wn] = co_await asio::async_write(sock, asio::buffer(out), use_nothrow);
    if (wec || close) break;
  }
  boost::system::error_code ec;
  sock.shutdown(tcp::socket::shutdown_both, ec);
}

}  // namespace gatehouse::admin
