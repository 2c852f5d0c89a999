#include "proxy/mcp_legacy.hpp"

#include <chrono>

#include "mcp/hub.hpp"
#include "mcp/server/legacy_sessions.hpp"

namespace gatehouse::proxy {

namespace json = boost::json;
namespace jr = mcp::jsonrpc;

namespace {
// A quiet stream gets a comment this often (as the Streamable HTTP streams).
constexpr int64_t kLegacyKeepAliveMs = 15'000;

// The session `token` names, if it is still good for this caller.
std::optional<mcp::SessionState> open_token(const mcp::Request& rq, const std::string& token) {
  auto plain = rq.rt->key->open(token);
  if (!plain) return std::nullopt;
  auto st = mcp::SessionState::decode(*plain);
  if (!st || st->route != rq.route->name || st->consumer != rq.consumer) return std::nullopt;
  int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  if (now_s - st->issued_s > rq.rt->cfg.session_ttl_ms / 1000) return std::nullopt;
  return st;
}
}  // namespace

awaitable<bool> serve_mcp_legacy_stream(McpDownstream& down, mcp::Request& rq,
                                        const std::string& path, mcp::Outcome& out) {
  out.method = "stream/legacy";
  std::string id = mcp::legacy::open(rq.route->name, rq.consumer);
  if (id.empty()) {
    const json::value null_id;
    co_return co_await down.rpc_error(503, null_id, jr::kInternalError,
                                      "too many HTTP+SSE sessions on this node; use Streamable "
                                      "HTTP or try again later",
                                      "mcp_legacy_sessions_full");
  }
  auto feed = std::make_shared<mcp::Feed>(rq.worker);
  mcp::stream_listen(id, rq.route->mcp->servers, std::nullopt, feed);
  // Relative: the client resolves it against the URL it opened, so the
  // POSTs come back through whatever proxy path and host it used.
  bool ok = co_await down.start_stream() &&
            co_await down.named_event("endpoint", path + "?sessionId=" + id);
  while (ok) {
    std::optional<mcp::FeedItem> item = co_await feed->next(kLegacyKeepAliveMs);
    if (!item) {
      ok = co_await down.keep_alive();
    } else if (item->end) {
      break;
    } else if (!item->data.empty()) {
      // No event ids: the 2024-11-05 transport has no resumption.
      ok = co_await down.event({}, item->data);
    }
  }
  feed->closed.store(true, std::memory_order_relaxed);
  // The stream was the session: end it, and the upstream sessions with it.
  std::string token;
  if (auto e = mcp::legacy::find(id)) token = e->token;
  mcp::legacy::close(id);
  mcp::stream_forget(id);
  if (!token.empty()) {
    if (auto st = open_token(rq, token)) {
      rq.session = std::move(st);
      co_await mcp::close_session(rq);
    }
  }
  if (!ok) co_return false;
  co_return co_await down.end_stream();
}

awaitable<bool> serve_mcp_legacy_message(McpDownstream& down, mcp::Request& rq,
                                         const std::string& id, mcp::Outcome& out) {
  auto entry = mcp::legacy::find(id);
  if (!entry || entry->route != rq.route->name || entry->consumer != rq.consumer)
    co_return co_await down.rpc_error(404, rq.msg.id, jr::kInvalidRequest,
                                      "unknown sessionId; open the SSE stream (GET) again",
                                      "mcp_unknown_session");
  bool is_init = rq.msg.is_request() && rq.msg.method == "initialize";
  if (!is_init) {
    if (entry->token.empty())
      co_return co_await down.rpc_error(400, rq.msg.id, jr::kInvalidRequest,
                                        "initialize first", "mcp_no_session");
    rq.session = open_token(rq, entry->token);
    if (!rq.session)
      co_return co_await down.rpc_error(404, rq.msg.id, jr::kInvalidRequest,
                                        "session expired; open the SSE stream (GET) again",
                                        "mcp_unknown_session");
  }
  // The stream is the session's standalone stream on the node's bus: every
  // message for the client goes there, in the order it was published.
  rq.session_token = id;
  if (rq.msg.is_notification()) {
    co_await mcp::handle_notification(rq);
  } else if (rq.msg.is_request()) {
    rq.on_note = [&id](const json::object& note) -> awaitable<void> {
      mcp::stream_publish(id, json::serialize(note));
      co_return;
    };
    rq.on_request = rq.on_note;  // a server-to-client request goes on the stream too
    mcp::Reply reply = co_await mcp::handle_request(rq, out);
    if (reply.session_gone) {
      out.rpc_error = jr::kInvalidRequest;
      reply.body = jr::error_response(rq.msg.id, jr::kInvalidRequest,
                                      "an upstream server ended this session; open the SSE "
                                      "stream (GET) again");
    }
    if (is_init && !reply.new_session_token.empty())
      mcp::legacy::set_token(id, reply.new_session_token);
    mcp::stream_publish(id, std::move(reply.body));
  }
  if (rq.msg.is_response()) co_await mcp::handle_client_response(rq);
  co_return co_await down.respond(202, "text/plain", "Accepted");
}

}  // namespace gatehouse::proxy
