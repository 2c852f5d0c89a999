#include "mcp/server/handler.hpp"

#include <algorithm>
#include <chrono>

#include "common/clock.hpp"
#include "common/json.hpp"
#include "common/log.hpp"
#include "mcp/aggregate/merge.hpp"
#include "mcp/hub.hpp"
#include "mcp/metrics.hpp"
#include "mcp/openapi_tools/upstream.hpp"
#include "mcp/server/audit.hpp"
#include "mcp/server/auth.hpp"
#include "mcp/server/handler_internal.hpp"
#include "mcp/server/input_required.hpp"
#include "mcp/server/list_cache.hpp"
#include "mcp/server/modern.hpp"
#include "mcp/server/outside.hpp"
#include "mcp/server/tasks.hpp"
#include "mcp/server/tool_limits.hpp"
#include "mcp/server/tool_rules.hpp"
#include "mcp/upstream/upstream.hpp"
#include "net/tls/client.hpp"

namespace gatehouse::mcp {

namespace agg = aggregate;
using detail::caller;
using detail::error_body;
using detail::index_for;
using detail::item_name;
using detail::list;
using detail::params_of;
using detail::relay_note;
using detail::route_mcp;
using detail::send;
using detail::str_param;
using detail::usable;

const config::McpServerConfig* Runtime::server(std::string_view name) const {
  for (const auto& s : cfg.servers)
    if (s.name == name) return &s;
  return nullptr;
}

std::shared_ptr<const OpenApiBinding> Runtime::binding(const std::string& name) const {
  auto it = openapi.find(name);
  return it == openapi.end() ? nullptr : it->second;
}

ServerParts Runtime::parts(const std::string& name) const {
  ServerParts p;
  p.binding = binding(name);
  if (auto it = tls.find(name); it != tls.end()) p.tls = it->second;
  return p;
}

Result<std::shared_ptr<const Runtime>> Runtime::build(const config::Config& cfg,
                                                      const apim::SpecSet* specs, size_t workers,
                                                      uint64_t generation,
                                                      const Runtime* previous) {
  auto rt = std::make_shared<Runtime>();
  rt->cfg = cfg.mcp;
  rt->key = SessionKey::derive(cfg.mcp.session_secret);
  rt->workers = workers;
  rt->generation = generation;
  for (size_t i = 0; i < cfg.mcp.servers.size(); ++i) {
    const auto& s = cfg.mcp.servers[i];
    if (s.transport != config::McpTransport::kOpenApi) continue;
    auto b = bind_openapi(cfg, s, "mcp.servers[" + std::to_string(i) + "].openapi", specs);
    if (!b) return b.error();
    rt->openapi[s.name] = b.value();
  }
  // Files are read when a server's tls: block changes (or at start), as for
  // upstreams: an unchanged block keeps its context, and the hub keeps the
  // client made with it.
  for (size_t i = 0; i < cfg.mcp.servers.size(); ++i) {
    const auto& s = cfg.mcp.servers[i];
    if (!s.tls.enabled) continue;
    const config::McpServerConfig* old = previous ? previous->server(s.name) : nullptr;
    if (old && net::tls::upstream_tls_key(old->tls) == net::tls::upstream_tls_key(s.tls)) {
      if (auto it = previous->tls.find(s.name); it != previous->tls.end()) {
        rt->tls[s.name] = it->second;
        continue;
      }
    }
    auto ctx = net::tls::make_upstream_context(s.tls, "mcp.servers[" + std::to_string(i) + "].tls");
    if (!ctx) return ctx.error();
    rt->tls[s.name] = ctx.value();
  }
  for (size_t i = 0; i < cfg.routes.size(); ++i) {
    const auto& r = cfg.routes[i];
    if (!r.mcp || r.mcp->tool_limits.empty()) continue;
    auto l = limits::ToolLimits::build(r, "routes[" + std::to_string(i) + "].mcp.tools.limits");
    if (!l) return l.error();
    rt->tool_limits[r.name] = l.value();
  }
  for (const auto& r : cfg.routes) {
    if (!r.mcp || !r.mcp->authorization) continue;
    const auto& a = *r.mcp->authorization;
    std::string doc = auth::metadata_document(a);
    rt->resource_metadata.emplace(std::string(auth::kWellKnown), doc);
    rt->resource_metadata[auth::metadata_path(a.resource)] = std::move(doc);
  }
  return std::shared_ptr<const Runtime>(std::move(rt));
}

namespace {

// ------------------------------------------------------------------ calls

// list_changed concerns the whole session, not the request it came with.
bool is_list_changed(const json::object& note) {
  const json::value* m = note.if_contains("method");
  return m && m->is_string() && m->as_string().ends_with("/list_changed");
}

}  // namespace

// A notification an upstream sent while answering: one the request's own
// SSE stream cannot carry (the client gets JSON, or it concerns the whole
// session) goes to the session's standalone stream (GET).
void detail::relay_note(Request& rq, const std::string& server, const json::object& note) {
  if (is_list_changed(note)) list_cache::invalidate(server);
  if (rq.session_token.empty()) {
    // A modern request shares its upstream session: a list change there
    // goes to every subscriptions/listen stream of a route using it.
    if (rq.modern && is_list_changed(note)) stream_broadcast_post(server, json::serialize(note));
    return;
  }
  if (rq.on_note && !is_list_changed(note)) return;
  const json::value* m = note.if_contains("method");
  if (!rq.on_note && m && m->is_string() && m->as_string() == "notifications/progress") return;
  stream_publish(rq.session_token, json::serialize(note));
}

namespace {

// The client capabilities the gateway relays requests for (so the only ones
// it tells upstreams about): sampling, elicitation and roots.
json::object relayed_capabilities(const json::value* caps) {
  json::object out;
  if (!caps || !caps->is_object()) return out;
  for (const char* k : {"sampling", "elicitation", "roots"})
    if (const json::value* v = caps->as_object().if_contains(k); v && v->is_object()) out[k] = *v;
  return out;
}

// A server-to-client request an upstream sent while answering: to the
// client, on the request's stream, when the client declared the capability
// and the transport can carry it; else the upstream is answered -32601 at
// once (so it never waits for an answer that cannot come).
awaitable<void> relay_server_request(Request& rq, const std::string& server, json::object req) {
  std::string method = req["method"].is_string() ? std::string(req["method"].as_string()) : "";
  json::value upstream_id = req["id"];
  std::string answer;
  bool client_has = rq.session && client_declared(*rq.session, needed_capability(method));
  if (method == "ping") {
    answer = jsonrpc::result_response(upstream_id, json::object{});
  } else if (!client_has || !rq.on_request) {
    answer = jsonrpc::error_response(upstream_id, jsonrpc::kMethodNotFound,
                                     method +
                                         " cannot be relayed to this client (capability not "
                                         "declared, or not on its transport)");
  } else {
    const auto* u = rq.session->find(server);
    RelayTarget to{rq.route->name, rq.consumer, server, u ? u->session_id : std::string(),
                   u ? u->protocol_version : std::string()};
    req["id"] = relay_id(*rq.rt->key, to, upstream_id);
    co_await rq.on_request(req);
    co_return;
  }
  Op op;
  op.type = Op::Type::kRespond;
  op.message = parse_json(answer).as_object();
  co_await send(rq, server, std::move(op))->result();
}

// Sends the client's request to `server` with `rewrite` applied to its
// params, relays notifications, and answers with the upstream's response.
// A 2026-07-28 request that may take input goes the MRTR way
// (input_required_flow.cpp), a task-augmented call (`task`) too, until it
// becomes a task.
awaitable<Reply> forward(Request& rq, Outcome& out, const std::string& server,
                         const std::function<void(json::object&)>& rewrite, bool task = false) {
  out.server = server;
  json::object msg = rq.msg.raw;
  if (auto* p = msg["params"].if_object()) rewrite(*p);
  // A REST API's tools never ask the client anything: they skip the MRTR way.
  auto b = rq.msg.method == "tools/call" ? rq.rt->binding(server) : nullptr;
  if (!b && rq.modern && mrtr::applies(rq.msg.method))
    co_return co_await detail::forward_input_required(rq, out, server, std::move(msg), task);
  int64_t start = steady_us();
  Event e;
  if (b) {
    // A REST API's tool: a request through the gateway route serving it,
    // made here on the worker (the pipeline's home), not on the MCP thread.
    e = co_await call_openapi_tool(*b, msg, rq.rest);
  } else {
    Op op;
    op.message = std::move(msg);
    auto call = send(rq, server, std::move(op));
    for (;;) {
      e = co_await call->next();
      if (e.done) break;
      if (e.message.contains("id") && e.message.contains("method")) {
        co_await relay_server_request(rq, server, std::move(e.message));
        continue;
      }
      relay_note(rq, server, e.message);
      if (rq.on_note && !is_list_changed(e.message)) co_await rq.on_note(e.message);
    }
  }
  co_return detail::finish_call(rq, out, server, std::move(e), start);
}

}  // namespace

Reply detail::finish_call(Request& rq, Outcome& out, const std::string& server, Event e,
                          int64_t start) {
  Reply reply;
  out.upstream_us = steady_us() - start;
  auto& shard = mcp_shard(server, rq.msg.method, out.name, rq.worker_index, rq.rt->workers);
  shard.calls.inc();
  shard.latency.observe_us(static_cast<uint64_t>(out.upstream_us));
  if (e.session_gone) {
    shard.errors.inc();
    reply.session_gone = true;
    return reply;
  }
  if (!e.error.empty() || e.message.empty()) {
    shard.errors.inc();
    out.rpc_error = jsonrpc::kInternalError;
    log::warn(
        "mcp server failed a request",
        {log::f("server", server), log::f("method", rq.msg.method), log::f("error", e.error)});
    reply.body = error_body(rq.msg.id, jsonrpc::kInternalError,
                            "MCP server \"" + server + "\" failed: " + e.error);
    return reply;
  }
  e.message["id"] = rq.msg.id;
  if (const json::value* err = e.message.if_contains("error"); err && err->is_object()) {
    const json::value* code = err->as_object().if_contains("code");
    out.rpc_error = code && code->is_int64() ? code->as_int64() : jsonrpc::kInternalError;
    shard.errors.inc();
  } else if (const json::value* r = e.message.if_contains("result"); r && r->is_object()) {
    const json::value* is_error = r->as_object().if_contains("isError");
    out.tool_error = is_error && is_error->is_bool() && is_error->as_bool();
    if (out.tool_error) shard.errors.inc();
  }
  reply.body = json::serialize(e.message);
  return reply;
}

namespace {

// Per-tool rate limits and quotas, after authorization (a refused call
// spends no budget). The refusal is a JSON-RPC error with the retry
// information; a JSON answer also carries Retry-After and the limit headers.
std::optional<std::string> refuse_over_limit(Request& rq, Outcome& out, const std::string& server,
                                             const std::string& original,
                                             const std::string& exposed) {
  auto it = rq.rt->tool_limits.find(rq.route->name);
  if (it == rq.rt->tool_limits.end()) return std::nullopt;
  int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  auto refusal = it->second->admit(*rq.pctx, original, exposed, steady_ms(), now_s);
  if (!refusal) return std::nullopt;
  out.server = server;
  out.rpc_error = limits::kToolLimited;
  out.limited = refusal->quota ? "quota" : "rate";
  mcp_shard(server, rq.msg.method, out.name, rq.worker_index, rq.rt->workers).limited.inc();
  for (auto& h : refusal->headers) rq.pctx->response_headers.push_back(std::move(h));
  json::value data = std::move(refusal->data);
  return jsonrpc::error_response(rq.msg.id, limits::kToolLimited, refusal->message, &data);
}

// An item's definition as listed (so a prefixed name finds it too).
const json::object* definition(const agg::Merged& idx, const std::string& name) {
  for (const auto& item : idx.items)
    if (item.is_object() && item_name(item.as_object()) == name) return &item.as_object();
  return nullptr;
}

// SEP-2243: the tool's x-mcp-header arguments against their Mcp-Param-*
// headers.
std::string param_header_mismatch(const Request& rq, const agg::Merged& idx,
                                  const std::string& name) {
  const json::object* p = params_of(rq);
  const json::value* a = p ? p->if_contains("arguments") : nullptr;
  if (const json::object* tool = definition(idx, name))
    return modern::check_param_headers(*tool, a ? a->if_object() : nullptr, rq.header);
  return {};
}

awaitable<Reply> call_named(Request& rq, Outcome& out, const std::string& list_method,
                            const std::string& key, const char* what) {
  Reply reply;
  std::string name = str_param(rq, "name");
  out.name = name;
  if (name.empty()) {
    reply.body = error_body(rq.msg.id, jsonrpc::kInvalidParams, "params.name is required");
    co_return reply;
  }
  bool gone = false;
  const agg::Merged* idx = co_await index_for(rq, list_method, key, false, gone);
  auto it = idx->index.find(name);
  if (it == idx->index.end()) {  // maybe new upstream: look again once
    idx = co_await index_for(rq, list_method, key, true, gone);
    it = idx->index.find(name);
  }
  if (gone) {
    reply.session_gone = true;
    co_return reply;
  }
  if (it == idx->index.end()) {
    out.rpc_error = jsonrpc::kInvalidParams;
    reply.body = error_body(rq.msg.id, jsonrpc::kInvalidParams,
                            std::string("Unknown ") + what + ": " + name);
    co_return reply;
  }
  const std::string server = route_mcp(rq).servers[it->second.server];
  const std::string original = it->second.original;
  if (rq.modern && rq.header && list_method == "tools/list") {
    if (std::string bad = param_header_mismatch(rq, *idx, name); !bad.empty()) {
      out.rpc_error = modern::kHeaderMismatch;
      reply.body = error_body(rq.msg.id, modern::kHeaderMismatch, "Header mismatch: " + bad);
      co_return reply;
    }
  }
  // The audit line has the arguments of refused calls too.
  if (route_mcp(rq).log_arguments && list_method == "tools/list") {
    const json::object* p = params_of(rq);
    if (const json::value* a = p ? p->if_contains("arguments") : nullptr)
      out.arguments = audit::redacted(*a);
  }
  if (list_method == "tools/list" && !route_mcp(rq).tool_rules.empty()) {
    static const json::object kNoArguments;
    const json::object* p = params_of(rq);
    const json::value* a = p ? p->if_contains("arguments") : nullptr;
    const json::object* args = a && a->is_object() ? &a->as_object() : &kNoArguments;
    if (!rules::allowed(route_mcp(rq).tool_rules, caller(rq), original, name, args)) {
      out.server = server;
      out.rpc_error = rules::kToolForbidden;
      json::value data = json::object{{"tool", name}};
      reply.body = jsonrpc::error_response(
          rq.msg.id, rules::kToolForbidden,
          "Tool not allowed: " + name + (rq.consumer.empty() ? "" : " for " + rq.consumer), &data);
      co_return reply;
    }
  }
  // SEP-2663 (after the rules, before the limits spend anything): the
  // tool's execution.taskSupport decides whether the gateway runs the call
  // as a task (server/tasks.hpp).
  tasks::Mode task_mode = list_method == "tools/list" ? tasks::mode_for(rq, definition(*idx, name))
                                                      : tasks::Mode::kSync;
  if (task_mode == tasks::Mode::kRefuse) {
    out.server = server;
    out.rpc_error = tasks::kMissingCapability;
    reply.body = tasks::missing_capability(
        rq.msg.id, "Tool " + name + " runs only as a task: declare the client capability " +
                       std::string(tasks::kExtension));
    co_return reply;
  }
  if (list_method == "tools/list" && rq.pctx) {
    if (auto r = refuse_over_limit(rq, out, server, original, name)) {
      reply.body = std::move(*r);
      co_return reply;
    }
  }
  // A task-augmented call runs as an input-required call until it can
  // proceed, then becomes the task (server/tasks.hpp); at the task bounds
  // it stays synchronous (the server decides).
  co_return co_await forward(
      rq, out, server,
      [&](json::object& p) {
        p["name"] = original;
        if (rq.modern) p.erase("task");  // a 2025-11-25 task hint: the gateway decides
      },
      task_mode == tasks::Mode::kTask);
}

// The server a resource URI belongs to: listed, else matching a template,
// else the only server.
awaitable<std::optional<size_t>> resource_owner(Request& rq, const std::string& uri, bool& gone) {
  std::optional<size_t> owner;
  const agg::Merged* res = co_await index_for(rq, "resources/list", "resources", false, gone);
  if (auto it = res->index.find(uri); it != res->index.end()) owner = it->second.server;
  if (!owner) {
    const agg::Merged* tpl =
        co_await index_for(rq, "resources/templates/list", "resourceTemplates", false, gone);
    for (const auto& [t, target] : tpl->index) {
      if (t == uri || agg::uri_template_match(t, uri)) {  // a completion names the template
        owner = target.server;
        break;
      }
    }
  }
  if (!owner && route_mcp(rq).servers.size() == 1) owner = 0;
  co_return owner;
}

// resources/read, and (sessions only) resources/subscribe and unsubscribe:
// to the server owning the URI, whose notifications/resources/updated then
// reach the session's stream.
awaitable<Reply> read_resource(Request& rq, Outcome& out) {
  Reply reply;
  std::string uri = str_param(rq, "uri");
  out.name = uri;
  if (uri.empty()) {
    reply.body = error_body(rq.msg.id, jsonrpc::kInvalidParams, "params.uri is required");
    co_return reply;
  }
  bool gone = false;
  std::optional<size_t> owner = co_await resource_owner(rq, uri, gone);
  if (gone) {
    reply.session_gone = true;
    co_return reply;
  }
  if (!owner) {
    out.rpc_error = -32002;
    json::value data = json::object{{"uri", uri}};
    reply.body = jsonrpc::error_response(rq.msg.id, -32002, "Resource not found", &data);
    co_return reply;
  }
  co_return co_await forward(rq, out, route_mcp(rq).servers[*owner], [](json::object&) {});
}

// completion/complete: to the server of the prompt (its original name) or of
// the resource template the reference names.
awaitable<Reply> complete(Request& rq, Outcome& out) {
  const json::object* p = params_of(rq);
  const json::value* ref = p ? p->if_contains("ref") : nullptr;
  const json::object* r = ref ? ref->if_object() : nullptr;
  auto member = [&](const char* k) {
    const json::value* v = r ? r->if_contains(k) : nullptr;
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  std::string type = member("type"), key = type == "ref/prompt" ? member("name") : member("uri");
  out.name = key;
  bool gone = false;
  std::optional<size_t> owner;
  std::string original = key;
  if (type == "ref/prompt" && !key.empty()) {
    const agg::Merged* idx = co_await index_for(rq, "prompts/list", "prompts", false, gone);
    if (auto it = idx->index.find(key); it != idx->index.end()) {
      owner = it->second.server;
      original = it->second.original;
    }
  } else if (type == "ref/resource" && !key.empty()) {
    owner = co_await resource_owner(rq, key, gone);
  }
  if (gone) co_return Reply{{}, {}, true};
  if (!owner) {
    out.rpc_error = jsonrpc::kInvalidParams;
    co_return Reply{error_body(rq.msg.id, jsonrpc::kInvalidParams,
                               "params.ref names no prompt or resource of this server: " + key),
                    {},
                    false};
  }
  co_return co_await forward(rq, out, route_mcp(rq).servers[*owner], [&](json::object& params) {
    if (type == "ref/prompt") params["ref"].as_object()["name"] = original;
  });
}

// logging/setLevel: every server of the session gets the level; one that
// refuses it is logged and does not fail the others.
awaitable<Reply> set_level(Request& rq) {
  std::vector<std::pair<std::string, std::shared_ptr<Call>>> calls;
  for (const auto& s : route_mcp(rq).servers) {
    if (!usable(rq, s)) continue;
    Op op;
    op.message = rq.msg.raw;
    calls.emplace_back(s, send(rq, s, std::move(op)));
  }
  for (auto& [s, call] : calls) {
    Event e = co_await call->result();
    if (e.session_gone) co_return Reply{{}, {}, true};
    if (!e.error.empty() || e.message.contains("error"))
      log::warn("mcp server refused logging/setLevel",
                {log::f("server", s),
                 log::f("error", e.error.empty() ? json::serialize(e.message["error"]) : e.error)});
  }
  co_return Reply{jsonrpc::result_response(rq.msg.id, json::object{}), {}, false};
}

// -------------------------------------------------------------- initialize

// Opens the route's upstream sessions, concurrently; a server whose
// initialize fails is marked and skipped for this session.
awaitable<SessionState> open_upstreams(Request& rq, const std::string& version,
                                       const json::value* client_info,
                                       const json::object& client_caps) {
  json::object params;
  params["protocolVersion"] = version;
  // Only what the client has and the gateway relays: an upstream must not
  // ask for sampling from a client that cannot answer.
  params["capabilities"] = client_caps;
  params["clientInfo"] =
      client_info && client_info->is_object()
          ? *client_info
          : json::value(json::object{{"name", kClientName}, {"version", kVersion}});
  SessionState st;
  st.route = rq.route->name;
  st.consumer = rq.consumer;
  st.protocol_version = version;
  if (!client_caps.empty()) st.client_capabilities = json::serialize(client_caps);
  st.issued_s = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  std::vector<std::pair<std::string, std::shared_ptr<Call>>> calls;
  for (const auto& s : route_mcp(rq).servers) {
    Op op;
    op.type = Op::Type::kOpen;
    op.message = params;
    calls.emplace_back(s, submit(*rq.rt->server(s), std::move(op), rq.worker, rq.rt->parts(s)));
  }
  for (auto& [s, call] : calls) {
    Event e = co_await call->result();
    SessionState::Upstream u;
    u.server = s;
    if (!e.error.empty()) {
      u.failed = true;
      u.error = e.error;
      log::warn("mcp server initialize failed; skipped for this session",
                {log::f("server", s), log::f("error", e.error)});
    } else {
      u.session_id = e.session_id;
      u.protocol_version = e.protocol_version;
    }
    st.upstreams.push_back(std::move(u));
  }
  co_return st;
}

awaitable<Reply> initialize(Request& rq) {
  Reply reply;
  std::string asked = str_param(rq, "protocolVersion");
  std::string version = supported_version(asked) ? asked : kSupportedVersions[0];
  const json::object* p = params_of(rq);
  SessionState st =
      co_await open_upstreams(rq, version, p ? p->if_contains("clientInfo") : nullptr,
                              relayed_capabilities(p ? p->if_contains("capabilities") : nullptr));
  json::object result;
  result["protocolVersion"] = version;
  // list_changed from upstreams is relayed on the session's GET stream.
  // Subscriptions, log levels and completions go to the owning upstreams.
  result["capabilities"] =
      json::object{{"tools", json::object{{"listChanged", true}}},
                   {"resources", json::object{{"listChanged", true}, {"subscribe", true}}},
                   {"prompts", json::object{{"listChanged", true}}},
                   {"logging", json::object{}},
                   {"completions", json::object{}}};
  result["serverInfo"] = json::object{{"name", kClientName}, {"version", kVersion}};
  reply.new_session_token = rq.rt->key->seal(st.encode());
  reply.body = jsonrpc::result_response(rq.msg.id, result);
  co_return reply;
}

// ------------------------------------------------------- 2026-07-28 era

// Modern requests carry no session: each worker keeps one set of upstream
// sessions per route (opened on first use, like a shared stdio child) and
// reopens it when an upstream forgets it.
std::unordered_map<std::string, SessionState>& stateless_sessions() {
  thread_local std::unordered_map<std::string, SessionState> m;
  return m;
}

awaitable<void> stateless_session(Request& rq, bool reopen) {
  std::string key = std::to_string(rq.rt->generation) + '\n' + rq.route->name;
  auto& m = stateless_sessions();
  if (reopen) m.erase(key);
  if (auto it = m.find(key); it != m.end()) {
    rq.session = it->second;
    co_return;
  }
  // Told every capability the gateway turns into input requests; each
  // request's own capabilities are checked as the upstream asks.
  SessionState st =
      co_await open_upstreams(rq, kSupportedVersions[0], nullptr, mrtr::upstream_capabilities());
  st.protocol_version = std::string(modern::kVersion);
  std::erase_if(m, [&](const auto& kv) {  // earlier generations' sessions
    return !kv.first.starts_with(std::to_string(rq.rt->generation) + '\n');
  });
  m[key] = st;
  rq.session = std::move(st);
}

awaitable<Reply> dispatch(Request& rq, Outcome& out) {
  const std::string& m = rq.msg.method;
  if (m == "initialize" && !rq.modern) co_return co_await initialize(rq);
  if (rq.modern && modern::removed_method(m)) {
    out.rpc_error = jsonrpc::kMethodNotFound;
    co_return Reply{error_body(rq.msg.id, jsonrpc::kMethodNotFound,
                               "Method not found: " + m + " (removed in MCP 2026-07-28)"),
                    {},
                    false};
  }
  if (m == "ping") co_return Reply{jsonrpc::result_response(rq.msg.id, json::object{}), {}, false};
  if (m == "server/discover")
    co_return Reply{jsonrpc::result_response(rq.msg.id, modern::discover_result()), {}, false};
  if (m == "tools/list") co_return co_await list(rq, m, "tools");
  if (m == "prompts/list") co_return co_await list(rq, m, "prompts");
  if (m == "resources/list") co_return co_await list(rq, m, "resources");
  if (m == "resources/templates/list") co_return co_await list(rq, m, "resourceTemplates");
  if (m == "tools/call") co_return co_await call_named(rq, out, "tools/list", "tools", "tool");
  if (m == "prompts/get")
    co_return co_await call_named(rq, out, "prompts/list", "prompts", "prompt");
  if (m == "resources/read" || m == "resources/subscribe" || m == "resources/unsubscribe")
    co_return co_await read_resource(rq, out);
  if (m == "completion/complete") co_return co_await complete(rq, out);
  if (rq.modern && tasks::is_task_method(m)) co_return co_await tasks::serve(rq, out);
  if (m == "logging/setLevel") co_return co_await set_level(rq);
  out.rpc_error = jsonrpc::kMethodNotFound;
  co_return Reply{
      error_body(rq.msg.id, jsonrpc::kMethodNotFound, "Method not found: " + m), {}, false};
}

}  // namespace

awaitable<Reply> handle_request(Request& rq, Outcome& out) {
  out.method = rq.msg.method;
  if (!rq.modern) co_return co_await dispatch(rq, out);
  bool local = rq.msg.method == "server/discover" || rq.msg.method == "ping" ||
               tasks::is_task_method(rq.msg.method);
  if (!local) co_await stateless_session(rq, false);
  Reply r = co_await dispatch(rq, out);
  if (r.session_gone) {  // an upstream restarted: open again, once
    co_await stateless_session(rq, true);
    out = Outcome{};
    out.method = rq.msg.method;
    r = co_await dispatch(rq, out);
  }
  co_return r;
}

awaitable<void> handle_notification(Request& rq) {
  // notifications/initialized was sent upstream by us at initialize. A
  // cancellation goes to the session-scoped (HTTP) upstreams, which ignore
  // ids they do not know; a shared stdio child is not told (ids repeat
  // across sessions), documented.
  // roots/list_changed goes to the session-scoped upstreams (HTTP, SSE),
  // which were told the client has roots.
  bool cancel = rq.msg.method == "notifications/cancelled";
  bool roots = rq.msg.method == "notifications/roots/list_changed";
  if (!cancel && !roots) co_return;
  for (const auto& s : route_mcp(rq).servers) {
    const auto* cfg = rq.rt->server(s);
    // A shared stdio child told of roots hears every client's change (it
    // then asks roots/list, relayed only while one call is in flight).
    bool told_roots = cfg && cfg->transport == config::McpTransport::kStdio &&
                      std::find(cfg->client_capabilities.begin(), cfg->client_capabilities.end(),
                                "roots") != cfg->client_capabilities.end();
    bool scoped = cfg && (cfg->transport == config::McpTransport::kStreamableHttp ||
                          (roots && (cfg->transport == config::McpTransport::kSse || told_roots)));
    if (!scoped || !usable(rq, s)) continue;
    Op op;
    op.type = Op::Type::kNotify;
    op.message = rq.msg.raw;
    co_await send(rq, s, std::move(op))->result();
  }
}

awaitable<bool> handle_client_response(Request& rq) {
  const json::value& id = rq.msg.id;
  if (!id.is_string() || !id.as_string().starts_with(kRelayIdPrefix)) co_return false;
  auto plain = rq.rt->key->open(std::string_view(id.as_string()).substr(kRelayIdPrefix.size()));
  if (!plain) co_return false;
  boost::system::error_code ec;
  json::value w = parse_json(*plain, ec);
  if (ec || !w.is_object()) co_return false;
  const json::object& o = w.as_object();
  auto str = [&](const char* k) {
    const json::value* v = o.if_contains(k);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  const std::string server = str("s");
  const auto* cfg = rq.rt->server(server);
  if (str("r") != rq.route->name || str("c") != rq.consumer || !cfg || !o.contains("i"))
    co_return false;
  Op op;
  op.type = Op::Type::kRespond;
  op.message = rq.msg.raw;
  op.message["id"] = o.at("i");
  op.session_id = str("u");
  op.protocol_version = str("v");
  Event e = co_await submit(*cfg, std::move(op), rq.worker, rq.rt->parts(server))->result();
  if (!e.error.empty())
    log::warn("mcp server did not take a client's answer",
              {log::f("server", server), log::f("error", e.error)});
  co_return true;
}

awaitable<void> close_session(Request& rq) {
  std::vector<std::shared_ptr<Call>> calls;
  for (const auto& u : rq.session->upstreams) {
    if (u.session_id.empty() || !rq.rt->server(u.server)) continue;
    Op op;
    op.type = Op::Type::kClose;
    calls.push_back(send(rq, u.server, std::move(op)));
  }
  for (auto& c : calls) co_await c->result();
}

}  // namespace gatehouse::mcp
