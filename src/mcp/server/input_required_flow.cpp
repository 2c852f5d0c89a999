// The MRTR flow (input_required.hpp) of a 2026-07-28 tools/call,
// prompts/get or resources/read: the upstream call runs until the upstream
// asks the client something; its questions become an InputRequiredResult
// and the call is held (the upstream waits for its answers) on this worker,
// named by the sealed requestState. The retry resumes it here; a retry that
// cannot (another worker or node, the hold expired, too many held) sends
// the request again from scratch and answers the upstream's questions from
// the answers the client gave so far, asking it only for new ones.
//
// A task-augmented tools/call (server/tasks.hpp) runs this way until it can
// proceed: once the upstream has asked nothing for tasks::kSettleMs (from
// the start, and from each answer it got) the call becomes the task, which
// is what answers that round; the upstream's later questions are the
// task's (tasks/get, tasks/update).
#include <openssl/rand.h>

#include <chrono>
#include <set>
#include <unordered_map>

#include "common/clock.hpp"
#include "common/json.hpp"
#include "common/log.hpp"
#include "mcp/hub.hpp"
#include "mcp/server/handler_internal.hpp"
#include "mcp/server/input_required.hpp"
#include "mcp/server/tasks.hpp"
#include "policies/crypto.hpp"

namespace gatehouse::mcp::detail {

namespace {

// How long a held call waits for the client's retry; then the upstream's
// questions are answered with an error and the call is dropped.
constexpr auto kHold = std::chrono::seconds(60);
// Questions an upstream sends together (e.g. several awaited at once) reach
// the gateway one by one: after each, this long for another.
constexpr auto kGather = std::chrono::milliseconds(100);
// Held calls per route and worker; beyond, a call is not held (the retry
// re-issues it).
constexpr size_t kMaxHeldPerRoute = 64;
// How long a requestState is honoured at all (re-issue included).
constexpr int64_t kStateLifetimeS = 3600;

// This process: a held call's state names it, so a state from another node
// or from before a restart is never taken for one held here.
const std::string& node_id() {
  static const std::string id = [] {
    unsigned char raw[8] = {};
    if (RAND_bytes(raw, sizeof raw) != 1)  // a clock value is unique enough
      return std::to_string(steady_us());
    return policy::hex(std::string_view(reinterpret_cast<const char*>(raw), sizeof raw));
  }();
  return id;
}

uint64_t random_id() {
  uint64_t v = 0;
  while (v == 0)
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v) != 1)
      v = static_cast<uint64_t>(steady_us());
  return v;
}

int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Asked {
  json::value upstream_id;
  json::object request;  // {method, params} as the client gets it
};

// One upstream call in MRTR form.
struct Flow {
  std::shared_ptr<Call> call;
  std::string route, server, method, target, consumer;
  config::McpServerConfig cfg;  // a copy: the hold may outlive the snapshot
  ServerParts parts;
  std::string session_id, protocol_version;
  json::value upstream_id;             // the id the upstream request went with
  std::map<std::string, int> seen;     // keys asked in this run (repeats)
  std::map<std::string, Asked> asked;  // waiting for the client
  json::object answers;                // every answer the client gave, by key
  std::set<std::string> used;          // answers already given in this run
  int64_t start_us = 0;
  // While held: the hold's end (cancelled on resume and on drain).
  std::shared_ptr<asio::steady_timer> expiry;
};

// Held calls of this worker (a Call is only touched on its worker).
std::unordered_map<uint64_t, Flow>& held() {
  thread_local std::unordered_map<uint64_t, Flow> m;
  return m;
}

awaitable<void> answer_upstream(Flow& f, const json::value& id, std::string body,
                                asio::any_io_executor worker) {
  Op op;
  op.type = Op::Type::kRespond;
  op.message = parse_json(body).as_object();
  op.session_id = f.session_id;
  op.protocol_version = f.protocol_version;
  Event e = co_await submit(f.cfg, std::move(op), worker, f.parts)->result();
  if (!e.error.empty())
    log::warn(
        "mcp server did not take an input response",
        {log::f("server", f.server), log::f("id", json::serialize(id)), log::f("error", e.error)});
}

// Every question still open gets an error, so the upstream never waits for
// an answer that will not come.
awaitable<void> release(Flow& f, std::string_view why, asio::any_io_executor worker) {
  for (auto& [key, a] : f.asked)
    co_await answer_upstream(
        f, a.upstream_id,
        jsonrpc::error_response(a.upstream_id, jsonrpc::kInternalError, std::string(why)), worker);
  f.asked.clear();
}

// Ends a hold: after kHold, or at once when the timer is cancelled (the
// call was resumed: then it is no longer held; or the worker drains).
awaitable<void> expire(uint64_t id, std::shared_ptr<asio::steady_timer> timer,
                       asio::any_io_executor worker) {
  auto [ec] = co_await timer->async_wait(use_nothrow);
  auto it = held().find(id);
  if (it == held().end()) co_return;
  Flow f = std::move(it->second);
  held().erase(it);
  if (!ec)
    log::info("mcp input-required call expired; the client did not retry in time",
              {log::f("server", f.server), log::f("route", f.route)});
  co_await release(f, ec ? "the gateway is shutting down" : "the client did not answer within 60 s",
                   worker);
}

size_t held_for(const std::string& route) {
  size_t n = 0;
  for (const auto& [id, f] : held()) n += f.route == route;
  return n;
}

const json::object* declared_capabilities(const Request& rq) {
  const json::object* p = params_of(rq);
  const json::value* meta = p ? p->if_contains("_meta") : nullptr;
  const json::value* caps =
      meta && meta->is_object()
          ? meta->as_object().if_contains("io.modelcontextprotocol/clientCapabilities")
          : nullptr;
  return caps ? caps->if_object() : nullptr;
}

Reply invalid(Request& rq, Outcome& out, const std::string& why) {
  out.rpc_error = jsonrpc::kInvalidParams;
  return Reply{error_body(rq.msg.id, jsonrpc::kInvalidParams, why), {}, false};
}

// Parks the flow (or, when it cannot be held, releases its questions) and
// answers the client with the questions and the sealed state.
awaitable<Reply> ask_client(Request& rq, Outcome& out, Flow f) {
  mrtr::State st;
  st.route = f.route;
  st.consumer = f.consumer;
  st.method = f.method;
  st.target = f.target;
  st.node = node_id();
  st.worker = rq.worker_index;
  st.expires_s = now_s() + kStateLifetimeS;
  json::object requests;
  for (const auto& [key, a] : f.asked) {
    st.keys.push_back(key);
    requests[key] = a.request;
  }
  st.answers = mrtr::carried_answers(f.answers);
  out.server = f.server;
  if (held_for(f.route) < kMaxHeldPerRoute) {
    st.pending = random_id();
    auto timer = std::make_shared<asio::steady_timer>(rq.worker, kHold);
    f.expiry = timer;
    held().emplace(st.pending, std::move(f));
    asio::co_spawn(rq.worker, expire(st.pending, std::move(timer), rq.worker), asio::detached);
  } else {
    log::warn("mcp input-required call not held: too many held for the route",
              {log::f("route", f.route), log::f("server", f.server)});
    co_await release(f, "the gateway asks the client and re-issues the request on its retry",
                     rq.worker);
  }
  co_return Reply{
      mrtr::input_required_response(rq.msg.id, requests, st.seal(*rq.rt->key)), {}, false};
}

tasks::Upstream where(const Flow& f) {
  return tasks::Upstream{f.server, f.session_id, f.protocol_version, f.upstream_id};
}

// Reads the call's events: notifications relayed, the upstream's questions
// answered from what the client gave or gathered for it, the result
// answered. Ends with the result, an InputRequiredResult or -32021; for a
// task-augmented call (`task`), with the CreateTaskResult once the call
// settles or answers without an open question.
awaitable<Reply> drive(Request& rq, Outcome& out, Flow f, bool task) {
  const json::object* declared = declared_capabilities(rq);
  tasks::Settle settle(steady_ms());
  for (;;) {
    if (!f.asked.empty()) {
      if (!co_await f.call->wait_for(kGather)) co_return co_await ask_client(rq, out, std::move(f));
    } else if (task) {
      int64_t left = settle.left(steady_ms());
      if (left == 0 || !co_await f.call->wait_for(std::chrono::milliseconds(left))) {
        if (settle.left(steady_ms()) > 0) continue;  // woken early with nothing queued
        if (auto r = tasks::adopt(rq, out, where(f), f.call, f.start_us, nullptr))
          co_return std::move(*r);
        task = false;  // at the task bounds the call goes on synchronously
      }
    }
    Event e = co_await f.call->next();
    if (e.done) {
      if (!f.asked.empty()) co_await release(f, "the request already ended", rq.worker);
      // An answer before the call settled is the task's: it is created
      // finished (the client asked for a task and may poll for it).
      if (task && f.asked.empty() && !e.session_gone)
        if (auto r = tasks::adopt(rq, out, where(f), f.call, f.start_us, &e))
          co_return std::move(*r);
      co_return finish_call(rq, out, f.server, std::move(e), f.start_us);
    }
    if (!(e.message.contains("id") && e.message.contains("method"))) {
      relay_note(rq, f.server, e.message);
      const json::value* m = e.message.if_contains("method");
      bool list_changed = m && m->is_string() && m->as_string().ends_with("/list_changed");
      if (rq.on_note && !list_changed) co_await rq.on_note(e.message);
      continue;
    }
    json::object& req = e.message;
    json::value uid = req["id"];
    std::string method = req["method"].is_string() ? std::string(req["method"].as_string()) : "";
    if (method == "ping") {
      co_await answer_upstream(f, uid, jsonrpc::result_response(uid, json::object{}), rq.worker);
      continue;
    }
    if (!mrtr::input_method(method)) {
      co_await answer_upstream(
          f, uid,
          jsonrpc::error_response(uid, jsonrpc::kMethodNotFound,
                                  method + " cannot be relayed to a 2026-07-28 client"),
          rq.worker);
      continue;
    }
    if (auto need = mrtr::missing_capability(req, declared)) {
      // The request cannot be served for this client: the upstream is told
      // (and every question it has open), the client gets -32021.
      std::string cap = need->begin()->key();
      co_await answer_upstream(f, uid,
                               jsonrpc::error_response(uid, jsonrpc::kMethodNotFound,
                                                       "the client did not declare " + cap),
                               rq.worker);
      co_await release(f, "the client did not declare " + cap, rq.worker);
      out.server = f.server;
      out.rpc_error = mrtr::kMissingCapability;
      json::value data = json::object{{"requiredCapabilities", std::move(*need)}};
      co_return Reply{
          jsonrpc::error_response(rq.msg.id, mrtr::kMissingCapability,
                                  "Missing required client capability: " + cap + " (for " + method +
                                      " from MCP server \"" + f.server + "\")",
                                  &data),
          {},
          false};
    }
    std::string key = mrtr::input_key(req, f.seen);
    if (const json::value* a = f.answers.if_contains(key); a && !f.used.contains(key)) {
      f.used.insert(key);
      co_await answer_upstream(f, uid, jsonrpc::result_response(uid, *a), rq.worker);
      settle.restart(steady_ms());  // it may ask again right after an answer
      continue;
    }
    f.asked[key] = Asked{uid, mrtr::input_request(req)};
  }
}

}  // namespace

awaitable<Reply> forward_input_required(Request& rq, Outcome& out, const std::string& server,
                                        json::object msg, bool task) {
  out.server = server;
  mrtr::Retry retry = mrtr::Retry::parse(params_of(rq));
  if (!retry.error.empty()) co_return invalid(rq, out, retry.error);
  // A state not of ours is the upstream's own (it answered input_required
  // itself): the retry goes to it as the client sent it.
  if (retry.state && !mrtr::State::ours(*retry.state))
    retry.state.reset();
  else if (auto* p = msg["params"].if_object())
    mrtr::strip_retry(*p);
  Flow f;
  f.route = rq.route->name;
  f.server = server;
  f.method = rq.msg.method;
  f.target = mrtr::target_of(rq.msg.method, params_of(rq));
  f.consumer = rq.consumer;
  f.cfg = *rq.rt->server(server);
  f.parts = rq.rt->parts(server);
  if (rq.session)
    if (const auto* u = rq.session->find(server)) {
      f.session_id = u->session_id;
      f.protocol_version = u->protocol_version;
    }
  if (retry.state) {
    auto st = mrtr::State::open(*rq.rt->key, *retry.state);
    if (!st)
      co_return invalid(rq, out,
                        "params.requestState is not one this server issued (altered, "
                        "truncated or sealed with another key)");
    std::string why = mrtr::refusal(*st, f.route, f.consumer, f.method, f.target, now_s());
    if (!why.empty()) co_return invalid(rq, out, why);
    uint64_t pending = mrtr::held_here(*st, node_id(), rq.worker_index);
    auto it = pending ? held().find(pending) : held().end();
    if (it != held().end() && it->second.server == server) {
      // Resume the held call: answer what the client answered, ask again
      // for what it did not.
      Flow h = std::move(it->second);
      held().erase(it);
      h.expiry->cancel();  // its expire() finds nothing held and ends
      h.expiry.reset();
      h.start_us = steady_us();  // upstream time, not the client's
      for (auto a = h.asked.begin(); a != h.asked.end();) {
        const json::value* resp = retry.responses.if_contains(a->first);
        if (!resp) {
          ++a;
          continue;
        }
        h.answers[a->first] = *resp;
        h.used.insert(a->first);
        co_await answer_upstream(h, a->second.upstream_id,
                                 jsonrpc::result_response(a->second.upstream_id, *resp), rq.worker);
        a = h.asked.erase(a);
      }
      if (!h.asked.empty()) co_return co_await ask_client(rq, out, std::move(h));
      co_return co_await drive(rq, out, std::move(h), task);
    }
    f.answers = mrtr::reissue_answers(&*st, retry.responses);
  } else {
    f.answers = mrtr::reissue_answers(nullptr, retry.responses);
  }
  // A fresh request, or a retry whose call is not held here: (re)issued,
  // with every answer the client gave so far at hand. A task's upstream
  // request gets an id of its own: the shared upstream session carries many
  // clients' ids, and tasks/cancel names it.
  if (task) msg["id"] = tasks::call_id();
  f.upstream_id = msg["id"];
  Op op;
  op.message = std::move(msg);
  f.start_us = steady_us();
  f.call = send(rq, server, std::move(op));
  co_return co_await drive(rq, out, std::move(f), task);
}

}  // namespace gatehouse::mcp::detail

namespace gatehouse::mcp::mrtr {

void release_held() {
  for (auto& [id, f] : detail::held())
    if (f.expiry) f.expiry->cancel();
}

}  // namespace gatehouse::mcp::mrtr
