// The hand-over between a worker and the MCP thread. Upstream clients live
// on one dedicated MCP io_context (a stdio child has one set of pipes, so it
// cannot belong to a worker); a worker posts an Op there and awaits a Call,
// whose events are posted back to the worker's io_context. The Call's queue
// and timer are only ever touched on the worker's thread: no locks.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <string>

#include "net/asio.hpp"

namespace gatehouse::mcp {

namespace json = boost::json;

// What a worker asks an upstream to do.
struct Op {
  enum class Type {
    kRequest,  // send a request, relay its notifications, return its response
    kNotify,   // send a notification
    kOpen,     // start a session: initialize (+ notifications/initialized)
    kClose,    // end a session (HTTP DELETE)
    kRespond,  // send the client's answer to a server-to-client request
  };
  Type type = Type::kRequest;
  json::object message;          // kRequest/kNotify: the message; kOpen: initialize params
  std::string session_id;        // the upstream session (streamable HTTP), may be empty
  std::string protocol_version;  // sent as MCP-Protocol-Version (streamable HTTP)
};

struct Event {
  bool done = false;             // false: a notification in `message`
  json::object message;          // notification, or the response (done)
  std::string error;             // done: transport failure (then `message` is empty)
  bool session_gone = false;     // done: the upstream no longer knows the session (HTTP 404)
  std::string session_id;        // done, kOpen: the upstream's Mcp-Session-Id
  std::string protocol_version;  // done, kOpen: negotiated with the upstream

  static Event ok(json::object response = {}) {
    Event e;
    e.done = true;
    e.message = std::move(response);
    return e;
  }
  static Event failure(std::string why) {
    Event e;
    e.done = true;
    e.error = std::move(why);
    return e;
  }
  static Event note(json::object notification) {
    Event e;
    e.message = std::move(notification);
    return e;
  }
};

class Call {
 public:
  explicit Call(asio::any_io_executor worker) : worker_(worker), timer_(worker) {}

  // MCP thread: hand an event to the worker.
  static void deliver(const std::shared_ptr<Call>& c, Event e) {
    asio::post(c->worker_, [c, e = std::move(e)]() mutable {
      if (c->finished_) return;
      c->finished_ = e.done;
      c->queue_.push_back(std::move(e));
      c->timer_.cancel();
    });
  }

  // Worker: the next event; the last one has done = true.
  awaitable<Event> next() {
    while (queue_.empty()) {
      timer_.expires_at(asio::steady_timer::time_point::max());
      co_await timer_.async_wait(use_nothrow);
    }
    Event e = std::move(queue_.front());
    queue_.pop_front();
    co_return e;
  }

  // Worker: true when an event is ready within `d` (a delivery wakes it
  // early); the event stays queued for next().
  awaitable<bool> wait_for(std::chrono::milliseconds d) {
    if (queue_.empty()) {
      timer_.expires_after(d);
      co_await timer_.async_wait(use_nothrow);
    }
    co_return !queue_.empty();
  }

  // Worker: skips notifications, returns the final event.
  awaitable<Event> result() {
    for (;;) {
      Event e = co_await next();
      if (e.done) co_return e;
    }
  }

 private:
  asio::any_io_executor worker_;
  asio::steady_timer timer_;
  std::deque<Event> queue_;
  bool finished_ = false;
};

}  // namespace gatehouse::mcp
