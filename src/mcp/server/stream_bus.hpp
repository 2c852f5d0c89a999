// Server-to-client SSE streams of the 2025-11-25 transport: the session's
// standalone stream (GET) and the replay buffer behind `Last-Event-ID`.
//
// A session is a sealed token (no table), but the streams a session has open
// on this node are node-local facts, so they live here, on the MCP thread
// (hub.cpp owns the one SessionBus): upstream notifications arrive on that
// thread anyway, and workers only post to it. Each listener is a Feed whose
// queue is touched only on its worker, as with Call.
//
// Event ids are "<stream>-<seq>": stream 0 is the session's standalone (GET)
// stream, numbered by the bus; a POST's SSE stream takes a node-wide number
// and numbers its own events (the worker that writes them records them here).
// So an id says which stream it resumes, as the spec asks.
#pragma once

#include <atomic>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "net/asio.hpp"

namespace gatehouse::mcp {

struct EventId {
  uint64_t stream = 0;
  uint64_t seq = 0;
  std::string str() const { return std::to_string(stream) + '-' + std::to_string(seq); }
  static std::optional<EventId> parse(std::string_view s);
};

// A node-wide number for a new POST SSE stream (never 0).
uint64_t next_stream_number();

struct FeedItem {
  std::string id;    // SSE id
  std::string data;  // one JSON-RPC message
  bool end = false;  // the stream is over (no data)
};

// The worker side of one live SSE stream.
class Feed {
 public:
  explicit Feed(asio::any_io_executor worker) : worker_(worker), timer_(worker) {}

  // MCP thread.
  static void deliver(const std::shared_ptr<Feed>& f, FeedItem item) {
    asio::post(f->worker_, [f, item = std::move(item)]() mutable {
      f->queue_.push_back(std::move(item));
      f->timer_.cancel();
    });
  }

  // Worker: the next item, or nullopt after `idle_ms` without one (time for
  // a keep-alive comment, which is also how a gone client is noticed).
  awaitable<std::optional<FeedItem>> next(int64_t idle_ms) {
    if (queue_.empty()) {
      timer_.expires_after(std::chrono::milliseconds(idle_ms));
      co_await timer_.async_wait(use_nothrow);
    }
    if (queue_.empty()) co_return std::nullopt;
    FeedItem it = std::move(queue_.front());
    queue_.pop_front();
    co_return it;
  }

  // Set by the worker when its stream is gone; the bus drops closed feeds.
  std::atomic<bool> closed{false};

 private:
  asio::any_io_executor worker_;
  asio::steady_timer timer_;
  std::deque<FeedItem> queue_;
};

// MCP thread only.
class SessionBus {
 public:
  struct Limits {
    size_t events_per_session = 64;
    size_t bytes_per_session = 256 * 1024;
    size_t sessions = 10'000;
    int64_t idle_ms = 10 * 60 * 1000;  // a log without listener is dropped after this
  };
  SessionBus() = default;
  explicit SessionBus(Limits l) : limits_(l) {}

  // GET: `feed` becomes the session's standalone stream (a previous one is
  // ended: one message goes to one stream only). With `resume`, the events
  // after it are replayed first; resuming a POST stream replays it and then
  // follows it until its response.
  void listen(const std::string& session, std::vector<std::string> servers,
              std::optional<EventId> resume, std::shared_ptr<Feed> feed, int64_t now_ms);
  // A notification for the standalone stream.
  void publish(const std::string& session, std::string data, int64_t now_ms);
  // An event a worker wrote (or would have written) on a POST stream.
  void record(const std::string& session, EventId id, std::string data, bool final, int64_t now_ms);
  // A notification an upstream sent on its own (a shared stdio child's
  // list_changed): every session with a live standalone stream on a route
  // that uses `server` gets it.
  void broadcast(const std::string& server, const std::string& data, int64_t now_ms);
  // DELETE: the session's streams end and its buffer goes.
  void forget(const std::string& session);
  void end_all();

  size_t sessions() const { return logs_.size(); }
  size_t buffered(const std::string& session) const;

 private:
  struct Stored {
    EventId id;
    std::string data;
    bool final = false;
  };
  struct Log {
    std::deque<Stored> events;
    size_t bytes = 0;
    uint64_t next_seq = 1;  // standalone stream
    bool opened = false;    // a standalone stream was opened once
    std::vector<std::string> servers;
    std::shared_ptr<Feed> live;                                     // standalone
    std::unordered_map<uint64_t, std::shared_ptr<Feed>> followers;  // resumed POST streams
    int64_t touched_ms = 0;
  };
  Log& log_for(const std::string& session, int64_t now_ms);
  void store(Log& log, Stored s);
  void sweep(int64_t now_ms);

  Limits limits_;
  std::unordered_map<std::string, Log> logs_;
  uint64_t ops_ = 0;
};

}  // namespace gatehouse::mcp
