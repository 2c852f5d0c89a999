// Routes with `mcp:` are one virtual MCP server (src/mcp) speaking the
// Streamable HTTP transport (2025-11-25) on the route's path: POST carries
// one JSON-RPC message and gets JSON, or an SSE stream when the request asked
// for progress; notifications and responses get 202; DELETE ends a session;
// GET opens the session's standalone stream (mcp/server/stream_bus.hpp), and
// with it the upstreams' (mcp/server/outside.hpp).
// A GET without a session is the deprecated HTTP+SSE transport's stream,
// and a POST with ?sessionId= one of its messages (proxy/mcp_legacy.hpp).
#include <array>
#include <cstdio>

#include "common/clock.hpp"
#include "common/json.hpp"
#include "common/strings.hpp"
#include "mcp/hub.hpp"
#include "mcp/server/auth.hpp"
#include "mcp/server/handler.hpp"
#include "mcp/server/input_required.hpp"
#include "mcp/server/modern.hpp"
#include "mcp/server/origin.hpp"
#include "mcp/server/outside.hpp"
#include "mcp/server/tasks.hpp"
#include "mcp/upstream/upstream.hpp"
#include "net/worker.hpp"
#include "policies/query.hpp"
#include "proxy/exchange.hpp"
#include "proxy/http_util.hpp"
#include "proxy/mcp_downstream.hpp"
#include "proxy/mcp_legacy.hpp"
#include "proxy/mcp_rest.hpp"
#include "proxy/session.hpp"
#include "proxy/snapshot.hpp"

namespace gatehouse::proxy {

namespace json = boost::json;

namespace {
constexpr int64_t kBodyTimeoutMs = 60'000;
// A quiet standalone stream gets a comment this often.
constexpr int64_t kKeepAliveMs = 15'000;

bool accepts(const std::string* accept, std::string_view type) {
  if (!accept) return false;
  std::string a = to_lower(*accept);
  return a.find(type) != std::string::npos || a.find("*/*") != std::string::npos;
}
}  // namespace

namespace {

// UnsupportedProtocolVersionError (-32022, 2026-07-28), naming what we speak:
// modern clients retry with one of them, legacy ones just see the 400.
awaitable<bool> unsupported_version(McpDownstream& down, const json::value& id,
                                    std::string_view requested) {
  json::array supported;
  for (const auto& v : mcp::modern::supported_versions()) supported.emplace_back(v);
  json::value data = json::object{{"supported", std::move(supported)}, {"requested", requested}};
  co_return co_await down.rpc_error(400, id, mcp::modern::kUnsupportedVersion,
                                    "Unsupported protocol version: " + std::string(requested),
                                    "mcp_bad_protocol_version", &data);
}

// subscriptions/listen (2026-07-28): an SSE stream that opens with the
// acknowledgement and then carries the list changes asked for, stamped
// with the subscription id, until the client closes it.
awaitable<bool> serve_listen(McpDownstream& down, mcp::Request& rq, Exchange& ex,
                             asio::any_io_executor worker) {
  namespace jr = mcp::jsonrpc;
  std::string why;
  auto filter = mcp::modern::ListenFilter::parse(rq.msg.params(), why);
  if (!filter) {
    ex.mcp->rpc_error = jr::kInvalidParams;
    co_return co_await down.respond(200, "application/json",
                                    jr::error_response(rq.msg.id, jr::kInvalidParams, why));
  }
  std::string key = "listen-" + std::to_string(mcp::next_stream_number());
  auto feed = std::make_shared<mcp::Feed>(worker);
  mcp::stream_listen(key, rq.route->mcp->servers, std::nullopt, feed);
  json::object ack = jr::make_notification("notifications/subscriptions/acknowledged",
                                           json::object{{"notifications", filter->acknowledged()}});
  bool ok = co_await down.start_stream() &&
            co_await down.event({}, mcp::modern::stamp(std::move(ack), rq.msg.id));
  while (ok) {
    std::optional<mcp::FeedItem> item = co_await feed->next(kKeepAliveMs);
    if (!item) {
      ok = co_await down.keep_alive();
      continue;
    }
    if (item->end) break;
    boost::system::error_code ec;
    json::value note = parse_json(item->data, ec);
    if (ec || !note.is_object()) continue;
    const json::value* m = note.as_object().if_contains("method");
    if (!m || !m->is_string() || !filter->wants(m->as_string())) continue;
    ok = co_await down.event({}, mcp::modern::stamp(std::move(note.as_object()), rq.msg.id));
  }
  feed->closed.store(true, std::memory_order_relaxed);
  mcp::stream_forget(key);
  co_return ok&& co_await down.end_stream();
}

}  // namespace

awaitable<bool> Session::serve_mcp(Exchange& ex) {
  namespace jr = mcp::jsonrpc;
  http1::RequestHead& head = *ex.head;
  const config::RouteConfig& route = *ex.match.route;
  const config::RouteMcpConfig& rm = *route.mcp;
  ex.mcp = std::make_unique<mcp::Outcome>();
  McpDownstream down(*this, ex);
  const json::value null_id;
  bool has_body = head.body != http1::BodyKind::kNone;
  auto refuse = [&](int status, std::string_view message,
                    std::string_view code) -> awaitable<bool> {
    // The body (if any) was not read: answer and close.
    closing_ = has_body;
    down.close_after = closing_;
    co_return co_await down.rpc_error(status, null_id, jr::kInvalidRequest, message, code) &&
        !closing_;
  };

  const auto* rt = ex.snap->mcp.get();
  if (!rt) co_return co_await refuse(500, "no mcp: section in the config", "mcp_not_configured");

  // DNS-rebinding defence: a browser always sends Origin; it must be allowed.
  if (const std::string* origin = head.find("origin")) {
    const std::string* host = head.find("host");
    if (!mcp::origin_allowed(rt->cfg.allowed_origins, *origin, host ? *host : std::string()))
      co_return co_await refuse(403, "Origin not allowed: " + *origin, "mcp_origin_forbidden");
  }
  // MCP authorization: the jwt policy verified the token; the token must
  // also be meant for this resource (RFC 8707) and carry the scopes.
  if (rm.authorization) {
    if (auto denial = mcp::auth::check(*rm.authorization, ex.pctx.vars)) {
      ex.pctx.response_headers.push_back(
          {"WWW-Authenticate", mcp::auth::challenge(*rm.authorization, &*denial)});
      co_return co_await refuse(denial->status, denial->description,
                                denial->status == 403 ? "mcp_insufficient_scope"
                                                      : "mcp_invalid_token");
    }
  }
  if (head.method != "POST" && head.method != "DELETE" && head.method != "GET") {
    ex.pctx.response_headers.push_back({"Allow", "GET, POST, DELETE"});
    co_return co_await refuse(405, "an MCP endpoint takes GET, POST and DELETE",
                              "method_not_allowed");
  }
  const std::string* version = head.find("mcp-protocol-version");
  bool modern_header = version && *version == mcp::modern::kVersion;
  bool bad_version = version && !modern_header && !mcp::supported_version(*version);
  if (bad_version && head.method != "POST") {
    closing_ = has_body;
    down.close_after = closing_;
    co_return co_await unsupported_version(down, null_id, *version) && !closing_;
  }
  if (modern_header && head.method != "POST") {
    // 2026-07-28 has no sessions and no GET stream.
    ex.pctx.response_headers.push_back({"Allow", "POST"});
    co_return co_await refuse(405, "MCP " + *version + " takes POST only", "method_not_allowed");
  }

  mcp::Request rq;
  rq.rt = rt;
  rq.route = &route;
  rq.keep_alive = ex.snap;
  rq.consumer = ex.pctx.consumer ? ex.pctx.consumer->name : std::string();
  rq.groups = ex.pctx.consumer ? &ex.pctx.consumer->groups : nullptr;
  rq.vars = &ex.pctx.vars;
  rq.pctx = &ex.pctx;
  rq.worker = worker_.ioc().get_executor();
  rq.worker_index = worker_.index();
  if (!rt->openapi.empty()) rq.rest = rest_sender(*this, ex);
  const std::string* sid = head.find("mcp-session-id");
  auto open_session = [&]() -> bool {
    if (!sid) return false;
    auto plain = rt->key->open(*sid);
    if (!plain) return false;
    auto st = mcp::SessionState::decode(*plain);
    if (!st || st->route != route.name || st->consumer != rq.consumer) return false;
    int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    if (now_s - st->issued_s > rt->cfg.session_ttl_ms / 1000) return false;
    rq.session = std::move(st);
    rq.session_token = *sid;
    return true;
  };

  if (head.method == "DELETE") {
    if (!sid) co_return co_await refuse(400, "DELETE needs an Mcp-Session-Id", "mcp_no_session");
    if (!open_session())
      co_return co_await refuse(404, "unknown or expired session", "mcp_unknown_session");
    ex.mcp->method = "session/delete";
    co_await mcp::close_session(rq);
    mcp::stream_forget(*sid);
    closing_ = has_body;
    down.close_after = closing_;
    co_return co_await down.respond(204, {}, {}) && !closing_;
  }
  if (head.method == "GET") {
    // The session's standalone stream: notifications not tied to a request
    // (list_changed, logs of calls answered as JSON), and resumption of any
    // of the session's streams with Last-Event-ID.
    closing_ = has_body;
    down.close_after = closing_;
    if (!accepts(head.find("accept"), "text/event-stream"))
      co_return co_await refuse(406, "Accept must list text/event-stream", "mcp_not_acceptable");
    // No session: an HTTP+SSE (2024-11-05) client opening its stream.
    if (!sid) co_return co_await serve_mcp_legacy_stream(down, rq, ex.target.path, *ex.mcp) &&
        !closing_;
    if (!open_session())
      co_return co_await refuse(404, "unknown or expired session", "mcp_unknown_session");
    std::optional<mcp::EventId> resume;
    if (const std::string* last = head.find("last-event-id")) {
      resume = mcp::EventId::parse(*last);
      if (!resume)
        co_return co_await refuse(400, "Last-Event-ID is not an id this server sent: " + *last,
                                  "mcp_bad_last_event_id");
    }
    ex.mcp->method = resume ? "stream/resume" : "stream/open";
    auto feed = std::make_shared<mcp::Feed>(worker_.ioc().get_executor());
    mcp::stream_listen(*sid, rm.servers, resume, feed);
    // While this stream is open, what upstreams send outside any call
    // (their own standalone streams) comes here too.
    mcp::OutsideRelay outside(rq, feed);
    bool ok = co_await down.start_stream();
    while (ok) {
      std::optional<mcp::FeedItem> item = co_await feed->next(kKeepAliveMs);
      if (!item) {
        ok = co_await down.keep_alive();
      } else if (item->end) {
        break;
      } else {
        ok = co_await down.event(item->id, item->data);
      }
    }
    feed->closed.store(true, std::memory_order_relaxed);
    if (!ok) co_return false;
    co_return co_await down.end_stream() && !closing_;
  }

  // ---- POST: one JSON-RPC message
  const std::string* ctype = head.find("content-type");
  if (!ctype || to_lower(*ctype).rfind("application/json", 0) != 0)
    co_return co_await refuse(415, "Content-Type must be application/json", "mcp_bad_content_type");
  // An HTTP+SSE client's message names its stream; its answer goes there.
  std::optional<std::string> legacy_id = policy::query_param(ex.target.query, "sessionId");
  const std::string* accept = head.find("accept");
  if (!legacy_id && (!accepts(accept, "application/json") || !accepts(accept, "text/event-stream")))
    co_return co_await refuse(406, "Accept must list application/json and text/event-stream",
                              "mcp_not_acceptable");
  if (!has_body)
    co_return co_await refuse(400, "a POST carries one JSON-RPC message", "mcp_no_body");
  std::string body;
  {
    auto got = co_await read_whole_body(head, body, rm.max_body, {kBodyTimeoutMs, false});
    ex.bytes_in = body.size();
    if (got.kind == WholeBody::kTooLarge)
      co_return co_await refuse(
          413, "request body exceeds " + std::to_string(rm.max_body) + " bytes", "body_too_large");
    if (got.kind == WholeBody::kBadChunked)
      co_return co_await refuse(400, "invalid chunked request body", got.error_code);
    if (got.kind == WholeBody::kIncomplete) {
      ex.status = 400;
      ex.error = "client_body_incomplete";
      closing_ = true;
      co_return false;
    }
  }
  has_body = false;  // read whole: the connection stays usable

  jr::Parsed parsed = jr::parse(body);
  if (parsed.batch) {
    // JSON-RPC batching left MCP in 2025-06-18; 2025-03-26 clients do not
    // batch in practice. Answered as one invalid request.
    co_return co_await down.rpc_error(400, null_id, jr::kInvalidRequest,
                                      "JSON-RPC batches are not supported (removed from MCP in "
                                      "2025-06-18); send one message per POST",
                                      "mcp_batch");
  }
  auto& item = parsed.items[0];
  if (!item.msg)
    co_return co_await down.rpc_error(
        400, item.fail.id, item.fail.code, item.fail.message,
        item.fail.code == jr::kParseError ? "mcp_parse_error" : "mcp_invalid_request");
  rq.msg = std::move(*item.msg);
  ex.mcp->method = rq.msg.is_request() || rq.msg.is_notification() ? rq.msg.method : "response";
  if (legacy_id) co_return co_await serve_mcp_legacy_message(down, rq, *legacy_id, *ex.mcp);
  // Read first, so the refusal carries the request's id.
  if (bad_version) co_return co_await unsupported_version(down, rq.msg.id, *version);

  // The era is the request's: modern when the body or the header says so.
  std::optional<std::string> body_version = mcp::modern::body_version(rq.msg);
  rq.modern = body_version || modern_header;
  rq.header = [&head](std::string_view name) { return head.find(name); };
  if (rq.modern) {
    // Every modern request carries its own _meta (InvalidParams without).
    std::string incomplete = rq.msg.is_request() ? mcp::modern::check_meta(rq.msg) : std::string();
    if (!incomplete.empty())
      co_return co_await down.rpc_error(400, rq.msg.id, jr::kInvalidParams, incomplete,
                                        "mcp_invalid_meta");
    mcp::modern::Headers mh{version, head.find("mcp-method"), head.find("mcp-name")};
    std::string mismatch = mcp::modern::check_headers(rq.msg, mh);
    if (!mismatch.empty())
      co_return co_await down.rpc_error(400, rq.msg.id, mcp::modern::kHeaderMismatch,
                                        "Header mismatch: " + mismatch, "mcp_header_mismatch");
    if (*body_version != mcp::modern::kVersion)
      co_return co_await unsupported_version(down, rq.msg.id, *body_version);
    if (rq.msg.is_response())
      co_return co_await down.rpc_error(400, rq.msg.id, jr::kInvalidRequest,
                                        "MCP " + *body_version + " clients send no responses",
                                        "mcp_invalid_request");
  }

  bool is_init = rq.msg.is_request() && rq.msg.method == "initialize";
  if (!is_init && !rq.modern) {
    if (!sid)
      co_return co_await down.rpc_error(400, rq.msg.id, jr::kInvalidRequest,
                                        "Mcp-Session-Id is required (initialize first)",
                                        "mcp_no_session");
    if (!open_session())
      co_return co_await down.rpc_error(404, rq.msg.id, jr::kInvalidRequest,
                                        "unknown or expired session; initialize again",
                                        "mcp_unknown_session");
  }

  if (!rq.msg.is_request()) {
    // Notifications and responses: accepted with no body. (2026-07-28
    // defines none over HTTP: closing a stream is the cancellation.) A
    // response answers a server-to-client request the gateway relayed.
    if (rq.msg.is_notification() && !rq.modern) co_await mcp::handle_notification(rq);
    if (rq.msg.is_response() && !rq.modern) co_await mcp::handle_client_response(rq);
    co_return co_await down.respond(202, {}, {});
  }
  if (rq.modern && rq.msg.method == "subscriptions/listen")
    co_return co_await serve_listen(down, rq, ex, worker_.ioc().get_executor());

  // Progress needs a stream: answer with SSE when the client asked for it.
  bool wants_progress = false;
  if (const auto* p = rq.msg.params()) {
    if (const auto* meta = p->if_contains("_meta"); meta && meta->is_object())
      wants_progress = meta->as_object().contains("progressToken");
  }
  // 2026-07-28: log messages only when the request names a level (and then
  // on its stream, as progress).
  if (rq.modern && mcp::modern::wants_logs(rq.msg)) wants_progress = true;
  // The stream (once started) is numbered and every event recorded on the
  // MCP thread, so a client that loses it can GET it back with
  // Last-Event-ID, including the response if it came after the loss.
  bool stream_broken = false;
  mcp::EventId next_id{0, 0};
  auto send_event = [&](std::string data, bool final) -> awaitable<void> {
    if (rq.modern) {  // 2026-07-28 streams are not resumable: no ids
      if (!stream_broken && !co_await down.event({}, data)) stream_broken = true;
      co_return;
    }
    ++next_id.seq;
    if (!stream_broken && !co_await down.event(next_id.str(), data)) stream_broken = true;
    mcp::stream_record(rq.session_token, next_id, std::move(data), final);
  };
  auto open_stream = [&]() -> awaitable<void> {
    if (down.streaming) co_return;
    next_id.stream = mcp::next_stream_number();
    if (!co_await down.start_stream()) stream_broken = true;
    // The priming event (2025-11-25): an id before any message, so the
    // client knows the stream can be resumed.
    if (!stream_broken && !rq.modern && rq.session->protocol_version >= "2025-11-25" &&
        !co_await down.event(next_id.str(), {}))
      stream_broken = true;
  };
  if (wants_progress) {
    rq.on_note = [&](const json::object& note) -> awaitable<void> {
      if (rq.modern && !mcp::modern::note_wanted(rq.msg, note)) co_return;
      co_await open_stream();
      co_await send_event(json::serialize(note), false);
    };
  }
  // A server-to-client request (sampling, elicitation, roots) goes on this
  // request's stream (opened for it if the answer was to be JSON); the
  // client POSTs its answer, which handle_client_response routes back.
  if (!rq.modern && rq.session) {
    rq.on_request = [&](const json::object& req) -> awaitable<void> {
      co_await open_stream();
      co_await send_event(json::serialize(req), false);
    };
  }
  int64_t start = steady_us();
  mcp::Reply reply = co_await mcp::handle_request(rq, *ex.mcp);
  if (ex.mcp->upstream_us < 0) ex.mcp->upstream_us = steady_us() - start;
  if (reply.session_gone) {
    ex.mcp->rpc_error = jr::kInvalidRequest;
    if (down.streaming) {
      co_await send_event(
          jr::error_response(rq.msg.id, jr::kInvalidRequest, "session expired upstream"), true);
      co_return !stream_broken && co_await down.end_stream();
    }
    co_return co_await down.rpc_error(404, rq.msg.id, jr::kInvalidRequest,
                                      "an upstream server ended this session; initialize again",
                                      "mcp_session_gone");
  }
  // 2026-07-28: a method this server does not implement is a 404.
  int status =
      rq.modern && ex.mcp->rpc_error == jr::kMethodNotFound && ex.mcp->server.empty() ? 404 : 200;
  // -32020, and -32021 (an upstream asked for a capability the request did
  // not declare, or a task call without the tasks extension): the revision's 400s.
  if (rq.modern && (ex.mcp->rpc_error == mcp::modern::kHeaderMismatch ||
                    ex.mcp->rpc_error == mcp::modern::kMissingCapability))
    status = 400;
  if (rq.modern) {
    // A list or read may differ per caller when the route knows the caller.
    bool per_caller = !rq.consumer.empty() || !rm.tool_rules.empty();
    reply.body = mcp::modern::shape_result(reply.body, rq.msg.method, per_caller);
  }
  if (down.streaming) {
    co_await send_event(std::move(reply.body), true);
    if (stream_broken) co_return false;
    co_return co_await down.end_stream();
  }
  co_return co_await down.respond(status, "application/json", reply.body, reply.new_session_token);
}

// RFC 9728 protected-resource metadata of an MCP route with authorization,
// answered before routing (the well-known path is no route's). Public: an
// MCP client reads it before it has a token, possibly from a browser.
const std::string* Session::mcp_resource_metadata(const Exchange& ex) const {
  if (!ex.snap->mcp || !ex.target.path.starts_with(mcp::auth::kWellKnown)) return nullptr;
  const auto& docs = ex.snap->mcp->resource_metadata;
  auto it = docs.find(ex.target.path);
  return it == docs.end() ? nullptr : &it->second;
}

awaitable<bool> Session::serve_mcp_metadata(Exchange& ex, const std::string& doc) {
  McpDownstream down(*this, ex);
  bool has_body = ex.head->body != http1::BodyKind::kNone;
  closing_ = has_body;
  down.close_after = closing_;
  ex.pctx.response_headers.push_back({"Access-Control-Allow-Origin", "*"});
  if (ex.head->method != "GET" && ex.head->method != "HEAD") {
    ex.pctx.response_headers.push_back({"Allow", "GET, HEAD"});
    ex.error = "method_not_allowed";
    co_return co_await down.respond(405, {}, {}) && !closing_;
  }
  ex.pctx.response_headers.push_back({"Cache-Control", "max-age=300"});
  co_return co_await down.respond(200, "application/json", doc) && !closing_;
}

}  // namespace gatehouse::proxy
