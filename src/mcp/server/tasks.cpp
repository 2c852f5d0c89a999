#include "mcp/server/tasks.hpp"

#include <openssl/rand.h>

#include <array>
#include <atomic>
#include <chrono>
#include <ctime>
#include <functional>
#include <mutex>
#include <unordered_map>

#include "common/clock.hpp"
#include "common/json.hpp"
#include "common/log.hpp"
#include "mcp/hub.hpp"
#include "mcp/metrics.hpp"
#include "mcp/server/handler_internal.hpp"
#include "mcp/server/list_cache.hpp"
#include "mcp/server/modern.hpp"

namespace gatehouse::mcp::tasks {

std::string_view status_name(Status s) {
  switch (s) {
    case Status::kWorking:
      return "working";
    case Status::kInputRequired:
      return "input_required";
    case Status::kCompleted:
      return "completed";
    case Status::kFailed:
      return "failed";
    case Status::kCancelled:
      return "cancelled";
  }
  return "working";
}

Support tool_support(const json::object& tool) {
  const json::value* e = tool.if_contains("execution");
  const json::value* t = e && e->is_object() ? e->as_object().if_contains("taskSupport") : nullptr;
  if (!t || !t->is_string()) return Support::kNone;
  if (t->as_string() == "optional") return Support::kOptional;
  if (t->as_string() == "required") return Support::kRequired;
  return Support::kNone;
}

bool declared(const jsonrpc::Message& msg) {
  const json::object* p = msg.params();
  const json::value* meta = p ? p->if_contains("_meta") : nullptr;
  const json::value* caps = meta && meta->is_object()
                                ? meta->as_object().if_contains(modern::kMetaCapabilities)
                                : nullptr;
  const json::value* ext =
      caps && caps->is_object() ? caps->as_object().if_contains("extensions") : nullptr;
  const json::value* t =
      ext && ext->is_object() ? ext->as_object().if_contains(kExtension) : nullptr;
  return t && t->is_object();
}

std::string missing_capability(const json::value& id, std::string_view why) {
  json::value data =
      json::object{{"requiredCapabilities",
                    json::object{{"extensions", json::object{{kExtension, json::object{}}}}}}};
  return jsonrpc::error_response(id, kMissingCapability, why, &data);
}

std::string iso_time(int64_t unix_ms) {
  std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];  // room for any int the format could print
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_ms % 1000));
  return buf;
}

// ------------------------------------------------------------------ store

namespace {

constexpr size_t kShards = 16;

struct Record {
  Owner owner;
  Upstream upstream;
  Status status = Status::kWorking;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
  std::string message;  // statusMessage
  json::object result;  // completed
  json::object error;   // failed
  std::weak_ptr<Call> call;
  bool attached = false;
  // input_required: outstanding requests by key, and their upstream ids.
  json::object inputs;
  std::unordered_map<std::string, json::value> pending;
  uint64_t asked = 0;  // keys are never reused within a task
  bool running() const { return status == Status::kWorking || status == Status::kInputRequired; }
};

// 16 random bytes as base64url (22 characters): unguessable, so knowing one
// task id says nothing about another.
std::string new_id() {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) std::abort();
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : b) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
  return out;
}

}  // namespace

struct Store::Impl {
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Record> tasks;
  };
  Limits limits;
  std::array<Shard, kShards> shards;
  // Live tasks by route ("r\n<route>") and by owner ("c\n<route>\n<consumer>").
  std::mutex count_mu;
  std::unordered_map<std::string, size_t> counts;

  Shard& shard(const std::string& id) { return shards[std::hash<std::string>{}(id) % kShards]; }
  static std::string route_key(const Owner& o) { return "r\n" + o.route; }
  static std::string owner_key(const Owner& o) { return "c\n" + o.route + '\n' + o.consumer; }

  bool expired(const Record& r, int64_t now_ms) const {
    return now_ms - r.created_ms >= limits.ttl_ms;
  }
  void uncount(const Owner& o) {
    std::lock_guard lk(count_mu);
    for (const std::string& k : {route_key(o), owner_key(o)}) {
      auto it = counts.find(k);
      if (it != counts.end() && --it->second == 0) counts.erase(it);
    }
  }
  // Drops the shard's expired tasks; the shard's mutex is held.
  void sweep(Shard& s, int64_t now_ms) {
    for (auto it = s.tasks.begin(); it != s.tasks.end();) {
      if (expired(it->second, now_ms)) {
        uncount(it->second.owner);
        it = s.tasks.erase(it);
      } else {
        ++it;
      }
    }
  }
  void sweep_all(int64_t now_ms) {
    for (auto& s : shards) {
      std::lock_guard lk(s.mu);
      sweep(s, now_ms);
    }
  }
  bool reserve(const Owner& o) {
    std::lock_guard lk(count_mu);
    size_t& route = counts[route_key(o)];
    size_t& owner = counts[owner_key(o)];
    if (route >= limits.max_per_route || owner >= limits.max_per_consumer) {
      if (route == 0) counts.erase(route_key(o));
      if (owner == 0) counts.erase(owner_key(o));
      return false;
    }
    ++route;
    ++owner;
    return true;
  }
  // The owner's live record, with its shard locked by `lk`.
  Record* find(const std::string& id, const Owner* owner, int64_t now_ms,
               std::unique_lock<std::mutex>& lk) {
    Shard& s = shard(id);
    lk = std::unique_lock(s.mu);
    auto it = s.tasks.find(id);
    if (it == s.tasks.end()) return nullptr;
    if (expired(it->second, now_ms)) {
      uncount(it->second.owner);
      s.tasks.erase(it);
      return nullptr;
    }
    if (owner &&
        (it->second.owner.route != owner->route || it->second.owner.consumer != owner->consumer))
      return nullptr;
    return &it->second;
  }
  json::object fields(const std::string& id, const Record& r) const {
    json::object o;
    o["taskId"] = id;
    o["status"] = status_name(r.status);
    if (!r.message.empty()) o["statusMessage"] = r.message;
    o["createdAt"] = iso_time(r.created_ms);
    o["lastUpdatedAt"] = iso_time(r.updated_ms);
    o["ttlMs"] = limits.ttl_ms;
    o["pollIntervalMs"] = limits.poll_interval_ms;
    return o;
  }
};

Store::Store() : Store(Limits{}) {}
Store::Store(Limits limits) : impl_(std::make_unique<Impl>()) {
  impl_->limits = limits;
}
Store::~Store() = default;

std::string Store::create(const Owner& owner, int64_t now_ms, json::object& created) {
  if (!impl_->reserve(owner)) {
    impl_->sweep_all(now_ms);  // expired tasks may still be counted
    if (!impl_->reserve(owner)) return {};
  }
  std::string id = new_id();
  Record r;
  r.owner = owner;
  r.created_ms = r.updated_ms = now_ms;
  created = impl_->fields(id, r);
  auto& s = impl_->shard(id);
  std::lock_guard lk(s.mu);
  impl_->sweep(s, now_ms);
  s.tasks.emplace(id, std::move(r));
  return id;
}

bool Store::attach(const std::string& id, Upstream upstream, std::weak_ptr<Call> call) {
  auto& s = impl_->shard(id);
  std::lock_guard lk(s.mu);
  auto it = s.tasks.find(id);
  if (it == s.tasks.end() || !it->second.running()) return false;
  it->second.upstream = std::move(upstream);
  it->second.call = std::move(call);
  it->second.attached = true;
  return true;
}

std::string Store::ask(const std::string& id, json::object request, json::value upstream_id,
                       int64_t now_ms) {
  std::unique_lock<std::mutex> lk;
  Record* r = impl_->find(id, nullptr, now_ms, lk);
  if (!r || !r->running()) return {};
  std::string key = "input-" + std::to_string(++r->asked);
  r->inputs[key] = std::move(request);
  r->pending[key] = std::move(upstream_id);
  r->status = Status::kInputRequired;
  r->updated_ms = now_ms;
  return key;
}

std::optional<std::vector<Store::Answer>> Store::update(const std::string& id, const Owner& owner,
                                                        const json::object& responses,
                                                        int64_t now_ms, Upstream& upstream) {
  std::unique_lock<std::mutex> lk;
  Record* r = impl_->find(id, &owner, now_ms, lk);
  if (!r) return std::nullopt;
  std::vector<Answer> out;
  for (const auto& [k, v] : responses) {
    auto it = r->pending.find(std::string(k));
    if (it == r->pending.end() || r->status != Status::kInputRequired) continue;
    out.push_back(Answer{std::move(it->second), v});
    r->pending.erase(it);
    r->inputs.erase(k);
  }
  if (!out.empty()) {
    upstream = r->upstream;
    r->updated_ms = now_ms;
    if (r->pending.empty()) r->status = Status::kWorking;
  }
  return out;
}

bool Store::finish(const std::string& id, const json::object& response, int64_t now_ms) {
  std::unique_lock<std::mutex> lk;
  Record* r = impl_->find(id, nullptr, now_ms, lk);
  if (!r || !r->running()) return false;
  r->updated_ms = now_ms;
  r->call.reset();
  r->inputs = {};
  r->pending.clear();
  if (const json::value* e = response.if_contains("error"); e && e->is_object()) {
    r->status = Status::kFailed;
    r->error = e->as_object();
    const json::value* m = r->error.if_contains("message");
    r->message = m && m->is_string() ? std::string(m->as_string()) : "the call failed";
    return true;
  }
  const json::value* res = response.if_contains("result");
  if (!res || !res->is_object()) {
    r->status = Status::kFailed;
    r->error = json::object{{"code", jsonrpc::kInternalError},
                            {"message", "the MCP server answered with neither result nor error"}};
    r->message = "invalid upstream answer";
    return true;
  }
  r->status = Status::kCompleted;
  r->result = res->as_object();
  // The answer as a task result: the discriminator belongs to tasks/get's
  // own result, and a v1 related-task note is redundant there.
  r->result.erase("resultType");
  if (auto* meta = r->result.if_contains("_meta"); meta && meta->is_object()) {
    meta->as_object().erase("io.modelcontextprotocol/related-task");
    if (meta->as_object().empty()) r->result.erase("_meta");
  }
  return true;
}

bool Store::fail(const std::string& id, std::string_view why, int64_t now_ms) {
  json::object response{
      {"error", json::object{{"code", jsonrpc::kInternalError}, {"message", why}}}};
  return finish(id, response, now_ms);
}

std::optional<json::object> Store::get(const std::string& id, const Owner& owner, int64_t now_ms) {
  std::unique_lock<std::mutex> lk;
  Record* r = impl_->find(id, &owner, now_ms, lk);
  if (!r) return std::nullopt;
  json::object o = impl_->fields(id, *r);
  if (r->status == Status::kInputRequired) o["inputRequests"] = r->inputs;
  if (r->status == Status::kCompleted) o["result"] = r->result;
  if (r->status == Status::kFailed) o["error"] = r->error;
  return o;
}

Store::Cancel Store::cancel(const std::string& id, const Owner& owner, int64_t now_ms,
                            Upstream& upstream, std::shared_ptr<Call>& call) {
  std::unique_lock<std::mutex> lk;
  Record* r = impl_->find(id, &owner, now_ms, lk);
  if (!r) return Cancel::kUnknown;
  if (!r->running()) return Cancel::kTerminal;
  r->status = Status::kCancelled;
  r->message = "cancelled by the client";
  r->updated_ms = now_ms;
  r->inputs = {};
  r->pending.clear();
  if (r->attached) upstream = r->upstream;
  call = r->call.lock();
  r->call.reset();
  return Cancel::kCancelled;
}

size_t Store::size() {
  size_t n = 0;
  for (auto& s : impl_->shards) {
    std::lock_guard lk(s.mu);
    n += s.tasks.size();
  }
  return n;
}

Store& store() {
  static Store s;
  return s;
}

// ---------------------------------------------------------------- handler

namespace {

int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Upstream request ids of task calls (call_id()).
std::atomic<uint64_t> g_call_number{0};

struct Job {
  std::shared_ptr<const void> keep_alive;  // rt points into it
  const Runtime* rt = nullptr;
  asio::any_io_executor worker;
  size_t worker_index = 0;
  std::string id;
  std::string name;          // as the client named the tool (metrics)
  json::object client_caps;  // what the client answers: sampling, elicitation, roots
  Upstream where;            // where the call went
  std::shared_ptr<Call> call;
  int64_t start_us = 0;
};

bool is_list_changed(const json::object& note) {
  const json::value* m = note.if_contains("method");
  return m && m->is_string() && m->as_string().ends_with("/list_changed");
}

std::string_view needed_capability(std::string_view method) {
  if (method == "sampling/createMessage") return "sampling";
  if (method == "elicitation/create") return "elicitation";
  if (method == "roots/list") return "roots";
  return {};
}

// The client capabilities a task relays, from the request's _meta.
json::object relayed_capabilities(const jsonrpc::Message& msg) {
  json::object out;
  const json::object* p = msg.params();
  const json::value* meta = p ? p->if_contains("_meta") : nullptr;
  const json::value* caps = meta && meta->is_object()
                                ? meta->as_object().if_contains(modern::kMetaCapabilities)
                                : nullptr;
  if (!caps || !caps->is_object()) return out;
  for (const char* k : {"sampling", "elicitation", "roots"})
    if (const json::value* v = caps->as_object().if_contains(k); v && v->is_object()) out[k] = *v;
  return out;
}

awaitable<void> tell_upstream(const Runtime& rt, const Upstream& where, json::object message,
                              Op::Type type, asio::any_io_executor worker) {
  const auto* cfg = rt.server(where.server);
  if (!cfg) co_return;
  Op op;
  op.type = type;
  op.message = std::move(message);
  op.session_id = where.session_id;
  op.protocol_version = where.protocol_version;
  Event e = co_await submit(*cfg, std::move(op), worker, rt.parts(where.server))->result();
  if (!e.error.empty())
    log::warn("mcp server did not take a task's message",
              {log::f("server", where.server), log::f("error", e.error)});
}

json::object cancelled_note(const Upstream& where) {
  return jsonrpc::make_notification(
      "notifications/cancelled",
      json::object{{"requestId", where.request_id}, {"reason", "tasks/cancel"}});
}

// The call's final event into the task, and the call's metrics.
void record(const Job& job, const Event& e) {
  const std::string& server = job.where.server;
  auto& shard = mcp_shard(server, "tools/call", job.name, job.worker_index, job.rt->workers);
  shard.calls.inc();
  shard.latency.observe_us(static_cast<uint64_t>(steady_us() - job.start_us));
  int64_t now = now_unix_ms();
  if (e.session_gone) {
    // The request went out; re-sending it could run the tool twice.
    shard.errors.inc();
    store().fail(job.id, "MCP server \"" + server + "\" forgot the session during the call", now);
  } else if (!e.error.empty() || e.message.empty()) {
    if (store().fail(job.id, "MCP server \"" + server + "\" failed: " + e.error, now)) {
      shard.errors.inc();
      log::warn("mcp task call failed", {log::f("server", server), log::f("error", e.error)});
    }
  } else {
    if (e.message.contains("error")) shard.errors.inc();
    store().finish(job.id, e.message, now);
  }
}

// A task's call, detached from the request that made it: its answer goes
// to the store. A server-to-client request the client can answer parks the
// task in input_required; any other is refused at once (-32601).
awaitable<void> follow(std::shared_ptr<Job> job) {
  Event e;
  for (;;) {
    e = co_await job->call->next();
    if (e.done) break;
    if (e.message.contains("id") && e.message.contains("method")) {
      const json::value* m = e.message.if_contains("method");
      std::string method = m && m->is_string() ? std::string(m->as_string()) : std::string();
      json::value upstream_id = e.message["id"];
      std::string_view cap = needed_capability(method);
      if (!cap.empty() && job->client_caps.contains(cap)) {
        json::object request{{"method", method}};
        if (const json::value* p = e.message.if_contains("params")) request["params"] = *p;
        if (!store().ask(job->id, std::move(request), upstream_id, now_unix_ms()).empty()) continue;
      }
      std::string answer =
          method == "ping"
              ? jsonrpc::result_response(upstream_id, json::object{})
              : jsonrpc::error_response(upstream_id, jsonrpc::kMethodNotFound,
                                        method + " cannot be relayed to this task's client");
      co_await tell_upstream(*job->rt, job->where, parse_json(answer).as_object(),
                             Op::Type::kRespond, job->worker);
      continue;
    }
    // Progress and log messages are not carried for tasks (SEP-2663);
    // a list change still concerns the route's lists.
    if (is_list_changed(e.message)) list_cache::invalidate(job->where.server);
  }
  record(*job, e);
}

}  // namespace

json::object creation_result(json::object detailed) {
  for (const char* k : {"result", "error", "inputRequests"}) detailed.erase(k);
  detailed["resultType"] = "task";
  return detailed;
}

Mode mode_for(const Request& rq, const json::object* tool) {
  if (!rq.modern || !tool) return Mode::kSync;
  Support s = tool_support(*tool);
  if (s == Support::kNone) return Mode::kSync;
  if (declared(rq.msg)) return Mode::kTask;
  return s == Support::kRequired ? Mode::kRefuse : Mode::kSync;
}

json::value call_id() {
  return json::value("gh-task-" + std::to_string(++g_call_number));
}

std::optional<Reply> adopt(Request& rq, Outcome& out, Upstream where, std::shared_ptr<Call> call,
                           int64_t start_us, const Event* done) {
  Owner owner{rq.route->name, rq.consumer};
  int64_t now = now_unix_ms();
  json::object created;
  std::string id = store().create(owner, now, created);
  if (id.empty()) return std::nullopt;
  auto job = std::make_shared<Job>();
  job->keep_alive = rq.keep_alive;
  job->rt = rq.rt;
  job->worker = rq.worker;
  job->worker_index = rq.worker_index;
  job->id = id;
  job->name = out.name;
  job->client_caps = relayed_capabilities(rq.msg);
  job->where = std::move(where);
  job->start_us = start_us;
  out.server = job->where.server;
  out.upstream_us = steady_us() - start_us;  // the synchronous part
  if (done) {
    record(*job, *done);
    // Created finished: the answer says so (tasks/get has the result).
    if (auto t = store().get(id, owner, now_unix_ms())) created = std::move(*t);
  } else {
    // Attached before the answer leaves, so a tasks/cancel right after it
    // reaches the call; the task exists already (the spec's durable
    // creation: a tasks/get right after the answer finds it).
    store().attach(id, job->where, call);
    job->call = std::move(call);
    asio::co_spawn(rq.worker, follow(std::move(job)), asio::detached);
  }
  return Reply{jsonrpc::result_response(rq.msg.id, creation_result(std::move(created))), {}, false};
}

bool is_task_method(std::string_view m) {
  return m == "tasks/get" || m == "tasks/update" || m == "tasks/cancel";
}

awaitable<Reply> serve(Request& rq, Outcome& out) {
  const std::string& m = rq.msg.method;
  auto refuse = [&](int code, std::string message) {
    out.rpc_error = code;
    return Reply{detail::error_body(rq.msg.id, code, message), {}, false};
  };
  const std::string ack =
      jsonrpc::result_response(rq.msg.id, json::object{{"resultType", "complete"}});
  if (!declared(rq.msg)) {
    out.rpc_error = kMissingCapability;
    co_return Reply{missing_capability(
                        rq.msg.id, m + " needs the client capability " + std::string(kExtension)),
                    {},
                    false};
  }
  std::string id = detail::str_param(rq, "taskId");
  out.name = id;
  if (id.empty()) co_return refuse(jsonrpc::kInvalidParams, "params.taskId (a string) is required");
  Owner owner{rq.route->name, rq.consumer};
  int64_t now = now_unix_ms();
  const std::string not_found = "Task not found: " + id;
  if (m == "tasks/get") {
    auto task = store().get(id, owner, now);
    if (!task) co_return refuse(jsonrpc::kInvalidParams, not_found);
    (*task)["resultType"] = "complete";
    co_return Reply{jsonrpc::result_response(rq.msg.id, *task), {}, false};
  }
  Upstream where;
  if (m == "tasks/update") {
    const json::object* p = detail::params_of(rq);
    const json::value* responses = p ? p->if_contains("inputResponses") : nullptr;
    if (!responses || !responses->is_object())
      co_return refuse(jsonrpc::kInvalidParams, "params.inputResponses (an object) is required");
    auto answers = store().update(id, owner, responses->as_object(), now, where);
    if (!answers) co_return refuse(jsonrpc::kInvalidParams, not_found);
    for (auto& a : *answers) {
      json::object msg{
          {"jsonrpc", "2.0"}, {"id", std::move(a.upstream_id)}, {"result", std::move(a.result)}};
      co_await tell_upstream(*rq.rt, where, std::move(msg), Op::Type::kRespond, rq.worker);
    }
    if (!answers->empty()) out.server = where.server;
    co_return Reply{ack, {}, false};
  }
  std::shared_ptr<Call> call;
  auto c = store().cancel(id, owner, now, where, call);
  if (c == Store::Cancel::kUnknown) co_return refuse(jsonrpc::kInvalidParams, not_found);
  if (c == Store::Cancel::kCancelled) {
    // Wake the runner (whatever the upstream answers later is dropped) and
    // tell the upstream, in the session the call went out in; a call not
    // started yet is told by its runner.
    if (call) Call::deliver(call, Event::failure("cancelled by tasks/cancel"));
    if (!where.server.empty()) {
      out.server = where.server;
      co_await tell_upstream(*rq.rt, where, cancelled_note(where), Op::Type::kNotify, rq.worker);
    }
  }
  co_return Reply{ack, {}, false};
}

}  // namespace gatehouse::mcp::tasks
