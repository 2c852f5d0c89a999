// The tasks extension (SEP-2663, `io.modelcontextprotocol/tasks`, MCP
// 2026-07-28) done by the gateway itself: a modern tools/call for a tool
// whose upstream definition says `execution.taskSupport` is answered at once
// with a task (resultType "task"); the call runs upstream in the background
// as a plain call, so any upstream gets durable, pollable calls without
// knowing tasks. The client polls tasks/get (the result is inlined there),
// cancels with tasks/cancel (the upstream hears notifications/cancelled).
//
// The task is created only once the call can proceed (SEP-2663: MRTR
// exchanges are resolved synchronously before the CreateTaskResult). The
// call first runs as an input-required call (input_required_flow.cpp) for
// kSettleMs: questions the upstream asks in that time are answered with an
// InputRequiredResult and the client's retry resumes the call; once the
// upstream has been quiet for kSettleMs (from the call's start, or from the
// last answer it got) the call becomes the task, or the task is created
// finished when the call answered within that time. A sampling/elicitation/
// roots request the upstream sends later parks the task in input_required
// (`inputRequests` on tasks/get) until tasks/update brings the answers,
// which go back upstream.
//
// The store is node-local, in memory: a task id is 128 random bits, bound to
// the route and consumer that made it (anyone else gets the spec's
// not-found, -32602), counted against per-route and per-consumer bounds and
// dropped ttlMs after its creation. A tasks/* request reaching another node
// (or this one after a restart) finds nothing: the spec's Mcp-Name routing
// header carries the task id so a load balancer can keep a task's requests
// on one node. Shards of mutex + map: tasks/* are a few requests per call,
// each also waiting on an upstream, never the proxy's hot path.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mcp/jsonrpc/message.hpp"
#include "mcp/server/handler.hpp"
#include "mcp/server/modern.hpp"
#include "mcp/upstream/call.hpp"

namespace gatehouse::mcp::tasks {

namespace json = boost::json;

inline constexpr std::string_view kExtension = "io.modelcontextprotocol/tasks";
using modern::kMissingCapability;
// A task lives this long after its creation (the spec's ttlMs: it may be
// discarded afterwards); clients are asked to poll no faster than this.
inline constexpr int64_t kTtlMs = 3'600'000;
inline constexpr int64_t kPollIntervalMs = 500;
// How long an upstream that has not asked anything is given to ask before
// its call becomes a task. An upstream's first question normally follows the
// call (or the answer to its previous one) within a round trip; a question
// after this is a task's later input need, asked through tasks/get. Each
// task creation waits this long, a small part of a call worth a task.
inline constexpr int64_t kSettleMs = 250;
// Live (not yet expired) tasks per route, and per consumer of a route.
inline constexpr size_t kMaxPerRoute = 10'000;
inline constexpr size_t kMaxPerConsumer = 1'000;

enum class Status { kWorking, kInputRequired, kCompleted, kFailed, kCancelled };
std::string_view status_name(Status s);

// What a tool's definition allows (2025-11-25 `execution.taskSupport`):
// absent, "forbidden" or anything else is kNone.
enum class Support { kNone, kOptional, kRequired };
Support tool_support(const json::object& tool);

// Whether the request's _meta declares the extension among its client
// capabilities (2026-07-28 declares them per request).
bool declared(const jsonrpc::Message& msg);

// The -32021 answer naming the extension as the required capability.
std::string missing_capability(const json::value& id, std::string_view why);

// ISO 8601 UTC with milliseconds, from Unix milliseconds.
std::string iso_time(int64_t unix_ms);

struct Owner {
  std::string route;
  std::string consumer;
};

// Where a task's call runs, for cancelling it upstream.
struct Upstream {
  std::string server;
  std::string session_id;
  std::string protocol_version;
  json::value request_id;  // the id the gateway gave the upstream request
};

class Store {
 public:
  struct Limits {
    size_t max_per_route = kMaxPerRoute;
    size_t max_per_consumer = kMaxPerConsumer;
    int64_t ttl_ms = kTtlMs;
    int64_t poll_interval_ms = kPollIntervalMs;
  };
  Store();
  explicit Store(Limits limits);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // A new working task: its id, or empty when the owner or its route is at
  // its bound. `created` gets the task's fields (CreateTaskResult minus
  // resultType).
  std::string create(const Owner& owner, int64_t now_ms, json::object& created);
  // The call started: where it went, and the Call cancel() wakes its runner
  // through. False when the task was cancelled (or dropped) meanwhile.
  bool attach(const std::string& id, Upstream upstream, std::weak_ptr<Call> call);
  // The upstream asks the client something (`request`: method and params):
  // the task becomes input_required with it under a new key, returned;
  // empty when the task is no longer running.
  std::string ask(const std::string& id, json::object request, json::value upstream_id,
                  int64_t now_ms);
  // tasks/update: the answers to outstanding keys (others are ignored, as
  // the spec says), each to be sent upstream as the result of the request
  // with `upstream_id`; the task is working again once none is left.
  // nullopt when the task is unknown to the owner.
  struct Answer {
    json::value upstream_id;
    json::value result;
  };
  std::optional<std::vector<Answer>> update(const std::string& id, const Owner& owner,
                                            const json::object& responses, int64_t now_ms,
                                            Upstream& upstream);
  // The call's answer (a JSON-RPC response object; an `error` member makes
  // the task failed, else completed with the result inlined). False when the
  // task is gone or no longer working (cancelled): the answer is dropped.
  bool finish(const std::string& id, const json::object& response, int64_t now_ms);
  // A transport failure before any answer: failed with -32603.
  bool fail(const std::string& id, std::string_view why, int64_t now_ms);
  // tasks/get's DetailedTask (without resultType); nullopt when the id is
  // unknown, expired or another owner's.
  std::optional<json::object> get(const std::string& id, const Owner& owner, int64_t now_ms);

  enum class Cancel { kUnknown, kTerminal, kCancelled };
  // kCancelled: the task was running and is now cancelled; `upstream` and
  // `call` say where to tell it (empty before the call started).
  // kTerminal: it had finished (no change).
  Cancel cancel(const std::string& id, const Owner& owner, int64_t now_ms, Upstream& upstream,
                std::shared_ptr<Call>& call);

  size_t size();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The node's store.
Store& store();

// The CreateTaskResult for a task as tasks/get shows it (`detailed`): the
// same fields with resultType "task", without what only tasks/get carries
// (result, error, inputRequests).
json::object creation_result(json::object detailed);

// The time a call is given to ask before it becomes a task: running from
// the call's start and again from each answer the upstream gets.
class Settle {
 public:
  explicit Settle(int64_t now_ms, int64_t window_ms = kSettleMs)
      : window_ms_(window_ms), end_ms_(now_ms + window_ms) {}
  // Milliseconds left; 0 once the call has settled.
  int64_t left(int64_t now_ms) const { return end_ms_ > now_ms ? end_ms_ - now_ms : 0; }
  void restart(int64_t now_ms) { end_ms_ = now_ms + window_ms_; }

 private:
  int64_t window_ms_;
  int64_t end_ms_;
};

// ------------------------------------------------------------ the handler

// How a modern tools/call runs: kSync as before, kTask as a task once it
// can proceed, kRefuse (-32021) for a task-required tool from a client
// without the extension.
enum class Mode { kSync, kTask, kRefuse };
Mode mode_for(const Request& rq, const json::object* tool);

// The request id a task's upstream call is sent with: unique on the node
// (requests of many clients share an upstream session) and never a task id
// (the upstream is not the task's owner).
json::value call_id();

// A tools/call that ran synchronously so far (input_required_flow.cpp)
// becomes a task: created now and answered with the CreateTaskResult.
// `call` (sent as `where`, started at `start_us`) is then followed on the
// worker by a detached runner that keeps the snapshot alive; when `done`
// is given the call already answered and the task is created finished.
// nullopt when the bounds are reached: the caller carries on synchronously.
std::optional<Reply> adopt(Request& rq, Outcome& out, Upstream where, std::shared_ptr<Call> call,
                           int64_t start_us, const Event* done);

// tasks/get, tasks/update and tasks/cancel of a modern request.
awaitable<Reply> serve(Request& rq, Outcome& out);
bool is_task_method(std::string_view method);

}  // namespace gatehouse::mcp::tasks
