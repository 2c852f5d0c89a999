// A stdio MCP server: a child process (command from the operator's config
// only) speaking newline-delimited JSON-RPC on its stdin/stdout; stderr lines
// go to our log. One child per server, shared by every client session: the
// gateway initializes it once and rewrites request ids (and progress tokens)
// so answers find their caller. Restarted with exponential back-off.
// Server-to-client requests: the wire does not say which call a request
// belongs to, so one is relayed only when exactly one call is in flight
// (then it can only be that call's) and the operator told the child about
// the capability (`client_capabilities`); otherwise it is refused at once.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read_until.hpp>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "mcp/hub.hpp"
#include "mcp/jsonrpc/message.hpp"
#include "mcp/server/list_cache.hpp"
#include "mcp/upstream/upstream.hpp"

extern char** environ;

namespace gatehouse::mcp {

namespace {

using stream = asio::posix::stream_descriptor;

constexpr size_t kMaxLine = 16 * 1024 * 1024;
constexpr int64_t kMinBackoffMs = 500;
constexpr int64_t kMaxBackoffMs = 30'000;
constexpr int64_t kStableMs = 60'000;  // up this long: the next failure starts back-off afresh
constexpr size_t kMaxLoggedLine = 2048;
// Relayed requests still waiting for a client's answer, at most.
constexpr size_t kMaxAsked = 1024;

// The child's environment: only what the operator wrote, plus PATH, HOME and
// LANG from ours unless overridden, so the gateway's own secrets never leak.
std::vector<std::string> child_env(const config::McpServerConfig& cfg) {
  std::vector<std::string> env;
  for (const char* k : {"PATH", "HOME", "LANG"}) {
    bool overridden =
        std::any_of(cfg.env.begin(), cfg.env.end(), [&](const auto& kv) { return kv.first == k; });
    const char* v = std::getenv(k);
    if (!overridden && v) env.push_back(std::string(k) + "=" + v);
  }
  for (const auto& [k, v] : cfg.env) env.push_back(k + "=" + v);
  return env;
}

class StdioUpstream final : public Upstream, public std::enable_shared_from_this<StdioUpstream> {
 public:
  StdioUpstream(asio::io_context& ioc, config::McpServerConfig cfg)
      : ioc_(ioc), cfg_(std::move(cfg)), restart_(ioc) {}

  void submit(Op op, std::shared_ptr<Call> call) override {
    if (stopped_) return fail(call, "server stopped");
    if (op.type == Op::Type::kClose) {  // the child is shared: nothing to end
      Call::deliver(call, Event::ok());
      return;
    }
    if (op.type == Op::Type::kRespond) {
      // A client's answer (its id restored to the child's). A child that
      // restarted since it asked no longer waits: the answer is dropped.
      if (state_ == State::kReady && op.message.if_contains("id") &&
          asked_.erase(json::serialize(op.message["id"])) > 0)
        write_line(json::serialize(op.message));
      Call::deliver(call, Event::ok());
      return;
    }
    if (state_ == State::kReady) return run(std::move(op), std::move(call));
    if (state_ == State::kBackoff)
      return fail(call, "server is restarting after a failure: " + last_failure_);
    waiting_.emplace_back(std::move(op), std::move(call));
    if (state_ == State::kIdle) start();
  }

  void stop(bool wait) override {
    stopped_ = true;
    restart_.cancel();
    fail_all("server stopped");
    kill_child(wait);
  }

 private:
  enum class State { kIdle, kStarting, kReady, kBackoff };
  struct Pending {
    std::shared_ptr<Call> call;  // null: our own initialize
    json::value client_id;
    std::string progress_key;
    std::shared_ptr<asio::steady_timer> timer;
    std::string method;
  };
  struct Progress {
    int64_t id;
    json::value token;
  };

  static void fail(const std::shared_ptr<Call>& call, std::string why) {
    Call::deliver(call, Event::failure(std::move(why)));
  }

  void start() {
    state_ = State::kStarting;
    int in[2], out[2], err[2];
    if (::pipe2(in, O_CLOEXEC) != 0) return spawn_failed("pipe: " + std::string(strerror(errno)));
    if (::pipe2(out, O_CLOEXEC) != 0) {
      ::close(in[0]), ::close(in[1]);
      return spawn_failed("pipe: " + std::string(strerror(errno)));
    }
    if (::pipe2(err, O_CLOEXEC) != 0) {
      ::close(in[0]), ::close(in[1]), ::close(out[0]), ::close(out[1]);
      return spawn_failed("pipe: " + std::string(strerror(errno)));
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    if (!cfg_.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, cfg_.cwd.c_str());
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // Its own process group (a launcher such as npx starts grandchildren that
    // must die with it), default signal handling and an empty signal mask.
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (int s : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&defaults, s);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(
        &attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    std::vector<char*> argv;
    for (auto& a : cfg_.command) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env = child_env(cfg_);
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_t pid = -1;
    int rc = posix_spawnp(&pid, argv[0], &fa, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    if (rc != 0) {
      ::close(in[1]), ::close(out[0]), ::close(err[0]);
      return spawn_failed("cannot start " + cfg_.command.front() + ": " + strerror(rc));
    }
    pid_ = pid;
    asked_.clear();
    started_ms_ = steady_ms();
    ++generation_;
    in_ = std::make_unique<stream>(ioc_, in[1]);
    out_ = std::make_unique<stream>(ioc_, out[0]);
    err_ = std::make_unique<stream>(ioc_, err[0]);
    log::info("mcp server started", {log::f("server", cfg_.name), log::n("pid", pid)});
    auto self = shared_from_this();
    asio::co_spawn(ioc_, read_stdout(self, generation_), asio::detached);
    asio::co_spawn(ioc_, read_stderr(self, generation_), asio::detached);

    json::object params;
    params["protocolVersion"] = kSupportedVersions[0];
    json::object caps;
    for (const auto& c : cfg_.client_capabilities)
      caps[c] = c == "roots" ? json::value(json::object{{"listChanged", true}}) : json::object{};
    params["capabilities"] = std::move(caps);
    params["clientInfo"] = json::object{{"name", kClientName}, {"version", kVersion}};
    int64_t id = next_id_++;
    track(id, Pending{}, jsonrpc::make_request(id, "initialize", std::move(params)));
  }

  void spawn_failed(std::string why) {
    log::error("mcp server failed to start", {log::f("server", cfg_.name), log::f("error", why)});
    failed(std::move(why));
  }

  // The child is gone or unusable: fail what waits, back off, restart.
  void failed(std::string why) {
    last_failure_ = why;
    fail_all("server failed: " + why);
    kill_child(false);
    if (stopped_) return;
    int64_t up = steady_ms() - started_ms_;
    backoff_ms_ =
        up > kStableMs ? kMinBackoffMs : std::clamp(backoff_ms_ * 2, kMinBackoffMs, kMaxBackoffMs);
    state_ = State::kBackoff;
    log::warn("mcp server restarts after back-off",
              {log::f("server", cfg_.name), log::n("backoff_ms", backoff_ms_)});
    restart_.expires_after(std::chrono::milliseconds(backoff_ms_));
    restart_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->stopped_) return;
      self->start();
    });
  }

  void fail_all(const std::string& why) {
    auto pending = std::move(pending_);
    pending_.clear();
    progress_.clear();
    for (auto& [id, p] : pending) {
      if (p.timer) p.timer->cancel();
      if (p.call) fail(p.call, why);
    }
    auto waiting = std::move(waiting_);
    waiting_.clear();
    for (auto& [op, call] : waiting) fail(call, why);
  }

  void kill_child(bool wait) {
    ++generation_;  // read loops of this child stop dispatching
    boost::system::error_code ec;
    if (in_) in_->close(ec);
    if (out_) out_->close(ec);
    if (err_) err_->close(ec);
    in_.reset();
    out_.reset();
    err_.reset();
    writing_ = false;
    writes_.clear();
    if (pid_ <= 0) return;
    pid_t pid = pid_;
    pid_ = -1;
    ::kill(-pid, SIGTERM);
    if (wait) {
      for (int i = 0; i < 200; ++i) {  // up to 2 s, then SIGKILL
        if (::waitpid(pid, nullptr, WNOHANG) == pid) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      return;
    }
    auto t = std::make_shared<asio::steady_timer>(ioc_);
    reap(t, pid, 0);
  }

  void reap(std::shared_ptr<asio::steady_timer> t, pid_t pid, int tries) {
    if (::waitpid(pid, nullptr, WNOHANG) == pid) return;
    if (tries == 50) ::kill(-pid, SIGKILL);  // 5 s after SIGTERM
    t->expires_after(std::chrono::milliseconds(100));
    t->async_wait([this, self = shared_from_this(), t, pid, tries](boost::system::error_code) {
      reap(t, pid, tries + 1);
    });
  }

  void run(Op op, std::shared_ptr<Call> call) {
    if (op.type == Op::Type::kOpen) {
      json::object resp;
      resp["jsonrpc"] = "2.0";
      resp["result"] = init_result_;
      Event e = Event::ok(std::move(resp));
      e.protocol_version = protocol_version_;
      Call::deliver(call, std::move(e));
      return;
    }
    if (op.type == Op::Type::kNotify) {
      // A cancellation names the client's request id: translate it. Matched
      // on the client id alone (the child is shared by sessions, whose ids
      // may repeat): best effort, documented.
      if (op.message["method"] == "notifications/cancelled") {
        auto* params = op.message["params"].if_object();
        const json::value* rid = params ? params->if_contains("requestId") : nullptr;
        bool found = false;
        for (auto& [id, p] : pending_) {
          if (rid && p.call && p.client_id == *rid) {
            (*params)["requestId"] = id;
            found = true;
            break;
          }
        }
        if (!found) {
          Call::deliver(call, Event::ok());
          return;
        }
      }
      write_line(json::serialize(op.message));
      Call::deliver(call, Event::ok());
      return;
    }
    int64_t id = next_id_++;
    Pending p;
    p.call = call;
    p.client_id = op.message["id"];
    if (const auto* m = op.message.if_contains("method"); m && m->is_string())
      p.method = std::string(m->as_string());
    if (auto* params = op.message["params"].if_object()) {
      if (auto* meta = params->if_contains("_meta"); meta && meta->is_object()) {
        if (auto* tok = meta->as_object().if_contains("progressToken")) {
          p.progress_key = "gh-" + std::to_string(id);
          progress_[p.progress_key] = Progress{id, *tok};
          meta->as_object()["progressToken"] = p.progress_key;
        }
      }
    }
    op.message["id"] = id;
    track(id, std::move(p), std::move(op.message));
  }

  void track(int64_t id, Pending p, json::object message) {
    p.timer = std::make_shared<asio::steady_timer>(ioc_);
    p.timer->expires_after(std::chrono::milliseconds(cfg_.timeout_ms));
    p.timer->async_wait([self = shared_from_this(), id](boost::system::error_code ec) {
      if (ec) return;
      self->timed_out(id);
    });
    pending_[id] = std::move(p);
    write_line(json::serialize(message));
  }

  void timed_out(int64_t id) {
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    Pending p = std::move(it->second);
    pending_.erase(it);
    if (!p.progress_key.empty()) progress_.erase(p.progress_key);
    std::string why = "no answer within " + std::to_string(cfg_.timeout_ms) + " ms";
    if (!p.call) {  // our initialize
      log::error("mcp server did not answer initialize",
                 {log::f("server", cfg_.name), log::f("error", why)});
      failed(why);
      return;
    }
    json::object params{{"requestId", id}, {"reason", "timeout"}};
    write_line(json::serialize(jsonrpc::make_notification("notifications/cancelled", params)));
    fail(p.call, why);
  }

  void write_line(std::string line) {
    if (!in_) return;
    line += '\n';
    writes_.push_back(std::move(line));
    if (writing_) return;
    writing_ = true;
    asio::co_spawn(ioc_, write_loop(shared_from_this(), generation_), asio::detached);
  }

  static awaitable<void> write_loop(std::shared_ptr<StdioUpstream> self, uint64_t gen) {
    while (self->generation_ == gen && !self->writes_.empty() && self->in_) {
      std::string line = std::move(self->writes_.front());
      self->writes_.pop_front();
      auto [ec, n] = co_await asio::async_write(*self->in_, asio::buffer(line), use_nothrow);
      if (ec) {
        if (self->generation_ == gen) self->failed("writing to its stdin: " + ec.message());
        co_return;
      }
    }
    if (self->generation_ == gen) self->writing_ = false;
  }

  static awaitable<void> read_stdout(std::shared_ptr<StdioUpstream> self, uint64_t gen) {
    std::string buf;
    for (;;) {
      if (self->generation_ != gen || !self->out_) co_return;
      auto [ec, n] = co_await asio::async_read_until(
          *self->out_, asio::dynamic_buffer(buf, kMaxLine), '\n', use_nothrow);
      if (self->generation_ != gen) co_return;
      if (ec) {
        self->failed(ec == asio::error::eof         ? "exited (stdout closed)"
                     : ec == asio::error::not_found ? "a stdout line longer than 16 MiB"
                                                    : "reading its stdout: " + ec.message());
        co_return;
      }
      std::string line = buf.substr(0, n - 1);
      buf.erase(0, n);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      self->dispatch(line);
    }
  }

  static awaitable<void> read_stderr(std::shared_ptr<StdioUpstream> self, uint64_t gen) {
    std::string buf;
    for (;;) {
      if (self->generation_ != gen || !self->err_) co_return;
      auto [ec, n] = co_await asio::async_read_until(
          *self->err_, asio::dynamic_buffer(buf, 64 * 1024), '\n', use_nothrow);
      if (self->generation_ != gen) co_return;
      if (ec == asio::error::not_found) {  // an endless line: log what we have
        n = buf.size();
      } else if (ec) {
        co_return;
      }
      std::string line = buf.substr(0, std::min(n, kMaxLoggedLine));
      buf.erase(0, n);
      while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
      if (!line.empty())
        log::info("mcp server stderr", {log::f("server", self->cfg_.name), log::f("line", line)});
    }
  }

  void dispatch(const std::string& line) {
    auto parsed = jsonrpc::parse(line);
    if (parsed.batch || !parsed.items[0].msg) {
      log::warn("mcp server wrote a line that is not a JSON-RPC message",
                {log::f("server", cfg_.name),
                 log::f("line", line.substr(0, std::min(line.size(), kMaxLoggedLine)))});
      return;
    }
    jsonrpc::Message& m = *parsed.items[0].msg;
    if (m.is_response()) return on_response(m);
    if (m.is_notification()) return on_notification(m);
    // A request from the server (sampling, elicitation, roots...).
    if (m.method != "ping" && told(m.method)) {
      if (Pending* only = only_call_in_flight()) {
        // The handler relays it to that call's client, or refuses it when
        // that client lacks the capability (kRespond either way).
        if (asked_.size() >= kMaxAsked) asked_.clear();  // clients that never answer
        asked_.insert(json::serialize(m.id));
        Call::deliver(only->call, Event::note(std::move(m.raw)));
        return;
      }
    }
    std::string answer =
        m.method == "ping"
            ? jsonrpc::result_response(m.id, json::object{})
            : jsonrpc::error_response(
                  m.id, jsonrpc::kMethodNotFound,
                  m.method + (told(m.method) ? " cannot be relayed: not exactly one call in flight"
                                             : " is not relayed by the gateway"));
    write_line(std::move(answer));
  }

  // Whether the child was told the client can answer `method`.
  bool told(const std::string& method) const {
    std::string_view cap = method == "sampling/createMessage" ? "sampling"
                           : method == "elicitation/create"   ? "elicitation"
                           : method == "roots/list"           ? "roots"
                                                              : "";
    return !cap.empty() &&
           std::find(cfg_.client_capabilities.begin(), cfg_.client_capabilities.end(), cap) !=
               cfg_.client_capabilities.end();
  }

  // The one client call the child is working on (lists and our own
  // initialize do not count: they never ask the client anything).
  Pending* only_call_in_flight() {
    Pending* found = nullptr;
    for (auto& [id, p] : pending_) {
      if (!p.call || p.method.ends_with("/list")) continue;
      if (found) return nullptr;
      found = &p;
    }
    return found;
  }

  void on_response(jsonrpc::Message& m) {
    if (!m.id.is_int64()) return;
    auto it = pending_.find(m.id.as_int64());
    if (it == pending_.end()) return;  // timed out already
    Pending p = std::move(it->second);
    pending_.erase(it);
    if (p.timer) p.timer->cancel();
    if (!p.progress_key.empty()) progress_.erase(p.progress_key);
    if (!p.call) return on_initialized(m);
    m.raw["id"] = p.client_id;
    Call::deliver(p.call, Event::ok(std::move(m.raw)));
  }

  void on_initialized(jsonrpc::Message& m) {
    const json::value* result = m.raw.if_contains("result");
    if (m.kind != jsonrpc::Kind::kResult || !result || !result->is_object()) {
      std::string why = "initialize failed: " + m.error_message;
      log::error("mcp server refused initialize",
                 {log::f("server", cfg_.name), log::f("error", why)});
      failed(why);
      return;
    }
    init_result_ = result->as_object();
    const json::value* v = init_result_.if_contains("protocolVersion");
    protocol_version_ = v && v->is_string() ? std::string(v->as_string()) : "";
    write_line(json::serialize(jsonrpc::make_notification("notifications/initialized", {})));
    state_ = State::kReady;
    list_cache::invalidate(cfg_.name);  // a restarted child may offer other tools
    log::info("mcp server ready",
              {log::f("server", cfg_.name), log::f("protocol_version", protocol_version_)});
    auto waiting = std::move(waiting_);
    waiting_.clear();
    for (auto& [op, call] : waiting) run(std::move(op), std::move(call));
  }

  void on_notification(jsonrpc::Message& m) {
    if (m.method == "notifications/progress") {
      auto* params = m.raw["params"].if_object();
      const json::value* tok = params ? params->if_contains("progressToken") : nullptr;
      if (!tok || !tok->is_string()) return;
      auto it = progress_.find(std::string(tok->as_string()));
      if (it == progress_.end()) return;
      auto p = pending_.find(it->second.id);
      if (p == pending_.end() || !p->second.call) return;
      (*params)["progressToken"] = it->second.token;
      Call::deliver(p->second.call, Event::note(std::move(m.raw)));
      return;
    }
    if (m.method == "notifications/message") {
      log::info("mcp server log",
                {log::f("server", cfg_.name), log::f("message", json::serialize(m.raw["params"]))});
    }
    // list_changed of a shared child concerns every session that uses it:
    // each one with a standalone stream open gets it, and every worker's
    // cached lists of this server are stale (server/list_cache.hpp).
    if (m.method.ends_with("/list_changed")) {
      list_cache::invalidate(cfg_.name);
      stream_broadcast(cfg_.name, json::serialize(m.raw));
    }
  }

  asio::io_context& ioc_;
  config::McpServerConfig cfg_;
  State state_ = State::kIdle;
  bool stopped_ = false;
  pid_t pid_ = -1;
  uint64_t generation_ = 0;
  int64_t started_ms_ = 0;
  int64_t backoff_ms_ = 0;
  std::string last_failure_;
  std::unique_ptr<stream> in_, out_, err_;
  std::deque<std::string> writes_;
  bool writing_ = false;
  std::deque<std::pair<Op, std::shared_ptr<Call>>> waiting_;
  std::unordered_map<int64_t, Pending> pending_;
  std::unordered_map<std::string, Progress> progress_;
  // Ids (serialized) of the child's requests handed to a client, so only
  // an answer it waits for is written to it.
  std::unordered_set<std::string> asked_;
  int64_t next_id_ = 1;
  json::object init_result_;
  std::string protocol_version_;
  asio::steady_timer restart_;
};

}  // namespace

std::shared_ptr<Upstream> make_stdio_upstream(asio::io_context& ioc,
                                              const config::McpServerConfig& cfg) {
  return std::make_shared<StdioUpstream>(ioc, cfg);
}

}  // namespace gatehouse::mcp
