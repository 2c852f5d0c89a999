// The route's lists (tools, prompts, resources, templates): fetched from every
// upstream with paging, cached per upstream session, merged and prefixed,
// and the worker-local name index calls are routed by. Split from
// handler.cpp, which answers calls, initialize and the rest.
#include <algorithm>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "mcp/hub.hpp"
#include "mcp/registry/pins.hpp"
#include "mcp/server/handler_internal.hpp"
#include "mcp/server/list_cache.hpp"

namespace gatehouse::mcp::detail {

namespace agg = aggregate;

const config::RouteMcpConfig& route_mcp(const Request& rq) {
  return *rq.route->mcp;
}

std::string error_body(const json::value& id, int code, std::string_view message) {
  return jsonrpc::error_response(id, code, message);
}

const json::object* params_of(const Request& rq) {
  return rq.msg.params();
}

rules::Caller caller(const Request& rq) {
  return {rq.consumer, rq.groups, rq.vars};
}

std::string item_name(const json::object& o) {
  const json::value* v = o.if_contains("name");
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::string str_param(const Request& rq, std::string_view key) {
  const json::object* p = params_of(rq);
  const json::value* v = p ? p->if_contains(key) : nullptr;
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::shared_ptr<Call> send(Request& rq, const std::string& server, Op op) {
  const auto* cfg = rq.rt->server(server);
  if (rq.session) {
    if (const auto* u = rq.session->find(server)) {
      op.session_id = u->session_id;
      op.protocol_version = u->protocol_version;
    }
  }
  return submit(*cfg, std::move(op), rq.worker, rq.rt->parts(server));
}

bool usable(const Request& rq, const std::string& server) {
  if (!rq.rt->server(server)) return false;
  if (!rq.session) return true;
  const auto* u = rq.session->find(server);
  return u && !u->failed;
}

namespace {

// Pages of one upstream list followed per request; beyond this the list is
// cut (and the cut reported).
constexpr int kMaxPages = 20;
// How long a worker reuses a route's name index for calls before listing
// again (a miss also lists again).
constexpr int64_t kIndexTtlMs = 30'000;
constexpr std::string_view kMetaUnavailable = "io.gatehouse/unavailable";
constexpr std::string_view kMetaSkipped = "io.gatehouse/skipped";

struct Fetched {
  agg::PerServer lists;
  std::vector<std::pair<std::string, std::string>> unavailable;  // server, why
  bool session_gone = false;
};

awaitable<Fetched> fetch_all(Request& rq, const std::string& method, const std::string& key) {
  const auto& servers = route_mcp(rq).servers;
  Fetched f;
  f.lists.resize(servers.size());
  std::vector<std::optional<std::string>> cursor(servers.size());
  std::vector<bool> active(servers.size());
  // Lists are cached per upstream (and upstream session) on the worker until
  // the server announces a change or the entry expires (list_cache.hpp); a
  // failed or cut list is not cached, so it is asked again next time.
  std::vector<std::string> cache_keys(servers.size());
  std::vector<uint64_t> epochs(servers.size());
  std::vector<bool> cacheable(servers.size());
  const int64_t now = steady_ms();
  for (size_t i = 0; i < servers.size(); ++i) {
    active[i] = usable(rq, servers[i]);
    const auto* u = rq.session ? rq.session->find(servers[i]) : nullptr;
    if (!active[i]) {
      std::string why = "initialize failed for this session";
      if (u && !u->error.empty()) why += ": " + u->error;
      f.unavailable.emplace_back(servers[i], std::move(why));
      continue;
    }
    cache_keys[i] = std::to_string(rq.rt->generation) + '\n' + servers[i] + '\n' +
                    (u ? u->session_id : std::string()) + '\n' + method;
    if (const auto* hit = list_cache::find(cache_keys[i], servers[i], now)) {
      f.lists[i] = *hit;
      active[i] = false;
      continue;
    }
    epochs[i] = list_cache::epoch(servers[i]);
    cacheable[i] = true;
  }
  for (int page = 0; page < kMaxPages; ++page) {
    std::vector<std::pair<size_t, std::shared_ptr<Call>>> calls;
    for (size_t i = 0; i < servers.size(); ++i) {
      if (!active[i]) continue;
      json::object params;
      if (cursor[i]) params["cursor"] = *cursor[i];
      Op op;
      op.message = jsonrpc::make_request("gh-list", method, std::move(params));
      calls.emplace_back(i, send(rq, servers[i], std::move(op)));
    }
    if (calls.empty()) break;
    for (auto& [i, call] : calls) {
      Event e = co_await call->result();
      active[i] = false;
      if (e.session_gone) f.session_gone = true;
      const json::value* result = e.message.if_contains("result");
      if (!e.error.empty() || !result || !result->is_object()) {
        std::string why = !e.error.empty() ? e.error : json::serialize(e.message["error"]);
        log::warn("mcp server failed a list; skipped",
                  {log::f("server", servers[i]), log::f("method", method), log::f("error", why)});
        f.unavailable.emplace_back(servers[i], why);
        cacheable[i] = false;
        continue;
      }
      const json::object& r = result->as_object();
      if (const json::value* items = r.if_contains(key); items && items->is_array())
        for (const auto& it : items->as_array())
          if (it.is_object()) f.lists[i].push_back(it.as_object());
      const json::value* next = r.if_contains("nextCursor");
      if (next && next->is_string()) {
        if (page + 1 == kMaxPages) {
          f.unavailable.emplace_back(servers[i],
                                     "list cut after " + std::to_string(kMaxPages) + " pages");
          cacheable[i] = false;
        } else {
          cursor[i] = std::string(next->as_string());
          active[i] = true;
        }
      }
    }
  }
  if (!f.session_gone)
    for (size_t i = 0; i < servers.size(); ++i)
      if (cacheable[i]) list_cache::store(cache_keys[i], servers[i], epochs[i], f.lists[i], now);
  // The registry: record what each server listed, hide tools whose changed
  // definition waits for approval, and note which servers answered.
  for (size_t i = 0; i < servers.size(); ++i) {
    registry::screen(servers[i], method, f.lists[i]);
    auto down = std::find_if(f.unavailable.begin(), f.unavailable.end(),
                             [&](const auto& u) { return u.first == servers[i]; });
    registry::report_health(servers[i], down == f.unavailable.end(),
                            down == f.unavailable.end() ? std::string_view() : down->second);
  }
  co_return f;
}

agg::Merged merge(const Request& rq, const std::string& method, const Fetched& f) {
  const auto& m = route_mcp(rq);
  if (method == "tools/list") return agg::merge_named(f.lists, m.servers, m.prefix, &m);
  if (method == "prompts/list") return agg::merge_named(f.lists, m.servers, m.prefix, nullptr);
  if (method == "resources/list") return agg::merge_uris(f.lists, m.servers, "uri");
  return agg::merge_uris(f.lists, m.servers, "uriTemplate");
}

// Worker-local cache of merged lists, for routing calls by name.
struct CacheEntry {
  agg::Merged merged;
  int64_t at_ms = 0;
};
std::unordered_map<std::string, CacheEntry>& cache() {
  thread_local std::unordered_map<std::string, CacheEntry> c;
  return c;
}
std::string cache_key(const Request& rq, const std::string& method) {
  return std::to_string(rq.rt->generation) + '\n' + rq.route->name + '\n' + method;
}

}  // namespace

awaitable<const agg::Merged*> index_for(Request& rq, const std::string& method,
                                        const std::string& key, bool refresh, bool& session_gone) {
  std::string ck = cache_key(rq, method);
  auto it = cache().find(ck);
  if (!refresh && it != cache().end() && steady_ms() - it->second.at_ms < kIndexTtlMs)
    co_return &it->second.merged;
  Fetched f = co_await fetch_all(rq, method, key);
  session_gone = f.session_gone;
  auto& slot = cache()[ck];
  slot.merged = merge(rq, method, f);
  slot.at_ms = steady_ms();
  co_return &slot.merged;
}

awaitable<Reply> list(Request& rq, const std::string& method, const std::string& key) {
  Reply reply;
  std::string cursor_text = str_param(rq, "cursor");
  size_t offset = 0;
  if (!cursor_text.empty()) {
    auto c = agg::decode_cursor(method, cursor_text);
    if (!c) {
      reply.body = error_body(rq.msg.id, jsonrpc::kInvalidParams, "invalid cursor");
      co_return reply;
    }
    offset = *c;
  }
  Fetched f = co_await fetch_all(rq, method, key);
  if (f.session_gone) {
    reply.session_gone = true;
    co_return reply;
  }
  agg::Merged m = merge(rq, method, f);
  // Calls route through the same index: keep the fresh one.
  auto& slot = cache()[cache_key(rq, method)];
  json::object result;
  const size_t page = route_mcp(rq).page_size;
  // Tools this caller may not call are not shown to it (before paging, so
  // a caller's cursors stay consistent). The cached index keeps them all.
  const json::array* visible = &m.items;
  json::array mine;
  if (method == "tools/list" && !route_mcp(rq).tool_rules.empty()) {
    for (const auto& item : m.items) {
      std::string exposed = item.is_object() ? item_name(item.as_object()) : std::string();
      auto t = m.index.find(exposed);
      const std::string& original = t == m.index.end() ? exposed : t->second.original;
      if (rules::allowed(route_mcp(rq).tool_rules, caller(rq), original, exposed, nullptr))
        mine.push_back(item);
    }
    visible = &mine;
  }
  json::array items;
  size_t end = page == 0 ? visible->size() : std::min(visible->size(), offset + page);
  for (size_t i = std::min(offset, visible->size()); i < end; ++i) items.push_back((*visible)[i]);
  result[key] = std::move(items);
  if (end < visible->size()) result["nextCursor"] = agg::encode_cursor(method, end);
  if (!f.unavailable.empty() || !m.skipped.empty()) {
    json::object meta;
    if (!f.unavailable.empty()) {
      json::array a;
      for (const auto& [s, why] : f.unavailable)
        a.push_back(json::object{{"server", s}, {"error", why}});
      meta[kMetaUnavailable] = std::move(a);
    }
    if (!m.skipped.empty()) {
      json::array a;
      for (const auto& s : m.skipped) {
        a.push_back(json::object{{"server", s.server}, {"name", s.name}, {"reason", s.reason}});
        log::warn("mcp name skipped", {log::f("route", rq.route->name), log::f("server", s.server),
                                       log::f("name", s.name), log::f("reason", s.reason)});
      }
      meta[kMetaSkipped] = std::move(a);
    }
    result["_meta"] = std::move(meta);
  }
  slot.merged = std::move(m);
  slot.at_ms = steady_ms();
  reply.body = jsonrpc::result_response(rq.msg.id, result);
  co_return reply;
}

}  // namespace gatehouse::mcp::detail
