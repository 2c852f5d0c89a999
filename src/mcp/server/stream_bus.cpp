#include "mcp/server/stream_bus.hpp"

#include <algorithm>
#include <charconv>

namespace gatehouse::mcp {

std::optional<EventId> EventId::parse(std::string_view s) {
  size_t dash = s.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == s.size()) return std::nullopt;
  EventId id;
  auto num = [](std::string_view t, uint64_t& out) {
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
    return ec == std::errc() && p == t.data() + t.size();
  };
  if (!num(s.substr(0, dash), id.stream) || !num(s.substr(dash + 1), id.seq)) return std::nullopt;
  return id;
}

uint64_t next_stream_number() {
  // Only POST streams that answer with SSE take one: an atomic, not a lock.
  static std::atomic<uint64_t> n{0};
  return n.fetch_add(1, std::memory_order_relaxed) + 1;
}

namespace {
bool gone(const std::shared_ptr<Feed>& f) {
  return !f || f->closed.load(std::memory_order_relaxed);
}
void end(const std::shared_ptr<Feed>& f) {
  if (!gone(f)) Feed::deliver(f, FeedItem{{}, {}, true});
}
}  // namespace

SessionBus::Log& SessionBus::log_for(const std::string& session, int64_t now_ms) {
  if (++ops_ % 1024 == 0 || logs_.size() >= limits_.sessions) sweep(now_ms);
  Log& log = logs_[session];
  log.touched_ms = now_ms;
  return log;
}

void SessionBus::sweep(int64_t now_ms) {
  for (auto it = logs_.begin(); it != logs_.end();) {
    Log& l = it->second;
    if (gone(l.live)) l.live.reset();
    std::erase_if(l.followers, [](const auto& kv) { return gone(kv.second); });
    bool idle = !l.live && l.followers.empty() && now_ms - l.touched_ms > limits_.idle_ms;
    it = idle ? logs_.erase(it) : std::next(it);
  }
  // Still full (many sessions, all recent): drop the least recently used
  // listener-less ones so the map stays bounded.
  while (logs_.size() >= limits_.sessions) {
    auto victim = logs_.end();
    for (auto it = logs_.begin(); it != logs_.end(); ++it)
      if (!it->second.live &&
          (victim == logs_.end() || it->second.touched_ms < victim->second.touched_ms))
        victim = it;
    if (victim == logs_.end()) victim = logs_.begin();
    end(victim->second.live);
    for (auto& [s, f] : victim->second.followers) end(f);
    logs_.erase(victim);
  }
}

void SessionBus::store(Log& log, Stored s) {
  log.bytes += s.data.size();
  log.events.push_back(std::move(s));
  while (!log.events.empty() && (log.events.size() > limits_.events_per_session ||
                                 log.bytes > limits_.bytes_per_session)) {
    log.bytes -= log.events.front().data.size();
    log.events.pop_front();
  }
}

void SessionBus::listen(const std::string& session, std::vector<std::string> servers,
                        std::optional<EventId> resume, std::shared_ptr<Feed> feed, int64_t now_ms) {
  Log& log = log_for(session, now_ms);
  log.servers = std::move(servers);
  if (resume && resume->stream != 0) {
    // A POST stream the client lost: replay it, then follow it to its end.
    bool finished = false;
    for (const auto& e : log.events) {
      if (e.id.stream != resume->stream || e.id.seq <= resume->seq) continue;
      Feed::deliver(feed, FeedItem{e.id.str(), e.data, false});
      finished = finished || e.final;
    }
    if (finished) {
      end(feed);
      return;
    }
    end(log.followers[resume->stream]);
    log.followers[resume->stream] = std::move(feed);
    return;
  }
  end(log.live);
  // The first stream of a session also gets what was published before it
  // opened (a client opens GET right after initialize, racing its first
  // calls); a later one without Last-Event-ID starts from now.
  if (resume || !log.opened) {
    uint64_t after = resume ? resume->seq : 0;
    for (const auto& e : log.events)
      if (e.id.stream == 0 && e.id.seq > after)
        Feed::deliver(feed, FeedItem{e.id.str(), e.data, false});
  }
  log.opened = true;
  log.live = std::move(feed);
}

void SessionBus::publish(const std::string& session, std::string data, int64_t now_ms) {
  Log& log = log_for(session, now_ms);
  EventId id{0, log.next_seq++};
  if (!gone(log.live)) Feed::deliver(log.live, FeedItem{id.str(), data, false});
  store(log, Stored{id, std::move(data), false});
}

void SessionBus::record(const std::string& session, EventId id, std::string data, bool final,
                        int64_t now_ms) {
  Log& log = log_for(session, now_ms);
  if (auto it = log.followers.find(id.stream); it != log.followers.end()) {
    if (!gone(it->second)) Feed::deliver(it->second, FeedItem{id.str(), data, false});
    if (final) {
      end(it->second);
      log.followers.erase(it);
    }
  }
  store(log, Stored{id, std::move(data), final});
}

void SessionBus::broadcast(const std::string& server, const std::string& data, int64_t now_ms) {
  std::vector<std::string> targets;  // copies: publish() may sweep the map
  for (auto& [session, log] : logs_) {
    if (gone(log.live)) continue;
    if (std::find(log.servers.begin(), log.servers.end(), server) != log.servers.end())
      targets.push_back(session);
  }
  for (const std::string& s : targets) publish(s, data, now_ms);
}

void SessionBus::forget(const std::string& session) {
  auto it = logs_.find(session);
  if (it == logs_.end()) return;
  end(it->second.live);
  for (auto& [s, f] : it->second.followers) end(f);
  logs_.erase(it);
}

void SessionBus::end_all() {
  for (auto& [session, log] : logs_) {
    end(log.live);
    for (auto& [s, f] : log.followers) end(f);
  }
  logs_.clear();
}

size_t SessionBus::buffered(const std::string& session) const {
  auto it = logs_.find(session);
  return it == logs_.end() ? 0 : it->second.events.size();
}

}  // namespace gatehouse::mcp
