// proxy-cache: answers GET and HEAD from an in-memory store of upstream
// responses, honouring Cache-Control, Expires and Vary (RFC 9111, as a
// shared cache). The store is bounded in bytes and entries and shared by the
// node's workers (cache_store.hpp). A response is stored only when it fits
// the per-entry limit: the proxy buffers at most that much (the body hooks),
// and larger bodies stream through uncached.
#include <algorithm>
#include <chrono>

#include "common/clock.hpp"
#include "common/strings.hpp"
#include "policies/config_reader.hpp"
#include "policies/policy.hpp"
#include "policies/proxy_cache/cache_control.hpp"
#include "policies/proxy_cache/cache_store.hpp"
#include "policies/query.hpp"

namespace gatehouse::policy {

namespace {

int64_t wall_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<uint64_t> parse_uint(std::string_view s) {
  s = trim_ows(s);
  if (s.empty() || s.size() > 18) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

const std::string* header(const std::vector<http1::Header>& hs, std::string_view name) {
  for (const auto& h : hs)
    if (iequals(h.name, name)) return &h.value;
  return nullptr;
}

// Every value of a header, joined with "," (how Vary picks a variant).
std::string joined(const std::vector<http1::Header>& hs, std::string_view name) {
  std::string out;
  for (const auto& h : hs) {
    if (!iequals(h.name, name)) continue;
    if (!out.empty()) out += ',';
    out += h.value;
  }
  return out;
}

struct State {
  enum class Outcome { kMiss, kExpired, kBypass, kHit } outcome = Outcome::kMiss;
  std::string primary;      // key without the Vary part
  bool may_store = false;   // the request allows storing its response
  bool store = false;       // the response is storable (decided on its head)
  int64_t lifetime_s = 0;
  int64_t age_s = 0;        // the upstream's Age (store) or ours (hit)
  std::vector<std::string> vary;
  std::vector<http1::Header> headers;  // the upstream's, as they came
};

const char* outcome_name(State::Outcome o) {
  switch (o) {
    case State::Outcome::kMiss: return "MISS";
    case State::Outcome::kExpired: return "EXPIRED";
    case State::Outcome::kBypass: return "BYPASS";
    case State::Outcome::kHit: return "HIT";
  }
  return "MISS";
}

class ProxyCache final : public Policy {
 public:
  std::shared_ptr<ResponseCache> cache;
  int64_t default_ttl_s = 60;  // when the response gives no freshness; 0: never
  uint64_t max_entry = 1024 * 1024;
  std::vector<int> statuses = {200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501};
  enum class QueryKey { kAll, kNone, kSome } query_key = QueryKey::kAll;
  std::vector<std::string> query_names;  // kSome, sorted
  std::vector<std::string> key_headers;  // lower-case
  bool key_consumer = false;
  bool request_no_cache_bypasses = true;

  std::string_view name() const override { return "proxy-cache"; }
  Phase phase() const override { return Phase::kRoute; }

  Action on_request(RequestContext& ctx, Respond& /*out*/) const override {
    auto st = std::make_shared<State>();
    ctx.policy_state.emplace_back(this, st);
    const http1::RequestHead& head = *ctx.head;
    const bool get = head.method == "GET", is_head = head.method == "HEAD";
    if ((!get && !is_head) || head.body != http1::BodyKind::kNone) {
      st->outcome = State::Outcome::kBypass;
      return Action::kContinue;
    }
    st->primary = primary_key(ctx);
    CacheControl req_cc = parse_cache_control(head.headers);
    const std::string* pragma = head.find("pragma");
    const bool no_cache =
        req_cc.no_cache || (pragma && iequals(trim_ows(*pragma), "no-cache"));
    st->may_store = get && !req_cc.no_store;
    if (req_cc.no_store || (no_cache && request_no_cache_bypasses)) {
      st->outcome = State::Outcome::kBypass;
      cache->count(st->primary, ResponseCache::Count::kBypass);
      return Action::kContinue;
    }
    std::string key = st->primary;
    auto e = cache->get(key);
    if (e && !e->response) {  // a Vary marker: the variant has its own key
      key = variant_key(st->primary, e->vary, head.headers);
      e = cache->get(key);
    }
    const int64_t now = steady_ms();
    if (e && e->response && now < e->expires_ms) {
      st->outcome = State::Outcome::kHit;
      st->age_s = e->age_s + (now - e->stored_ms) / 1000;
      ctx.serve_stored = e->response;
      cache->count(st->primary, ResponseCache::Count::kHit,
                   is_head ? 0 : e->response->body.size());
      return Action::kContinue;
    }
    if (e) {
      st->outcome = State::Outcome::kExpired;
      cache->erase(key);
      cache->count(st->primary, ResponseCache::Count::kExpired);
    } else {
      cache->count(st->primary, ResponseCache::Count::kMiss);
    }
    return Action::kContinue;
  }

  void on_response(RequestContext& ctx, int status,
                   std::vector<http1::Header>& headers) const override {
    State* st = state(ctx);
    if (!st) return;
    if (st->outcome == State::Outcome::kHit) {
      std::erase_if(headers, [](const http1::Header& h) {
        return iequals(h.name, "age") || iequals(h.name, "x-cache-status");
      });
      headers.push_back({"Age", std::to_string(st->age_s)});
    } else if (st->may_store && storable(ctx, status, headers, *st)) {
      st->store = true;
      st->headers = headers;  // before later hooks edit them: the store keeps the upstream's
    }
    std::erase_if(headers, [](const http1::Header& h) { return iequals(h.name, "x-cache-status"); });
    headers.push_back({"X-Cache-Status", outcome_name(st->outcome)});
  }

  ResponseBodyWant response_body_want(const RequestContext& ctx, int /*status*/,
                                      const std::vector<http1::Header>& /*h*/) const override {
    const State* st = state(ctx);
    if (!st || !st->store) return {};
    return {max_entry, false};
  }

  void on_response_body(RequestContext& ctx, int status, std::vector<http1::Header>& /*h*/,
                        std::string& body) const override {
    State* st = state(ctx);
    if (!st || !st->store || body.size() > max_entry) return;
    st->store = false;
    auto resp = std::make_shared<StoredResponse>();
    resp->status = status;
    resp->headers = std::move(st->headers);
    std::erase_if(resp->headers, [](const http1::Header& h) {
      return iequals(h.name, "age") || iequals(h.name, "x-cache-status") ||
             iequals(h.name, "content-length") || iequals(h.name, "transfer-encoding");
    });
    resp->body = body;
    auto e = std::make_shared<CacheEntry>();
    e->route = std::string(ctx.route_name);
    e->stored_ms = steady_ms();
    e->age_s = st->age_s;
    e->expires_ms = e->stored_ms + (st->lifetime_s - st->age_s) * 1000;
    std::string key = st->primary;
    if (!st->vary.empty()) {
      auto marker = std::make_shared<CacheEntry>();
      marker->vary = st->vary;
      marker->route = e->route;
      marker->stored_ms = e->stored_ms;
      marker->expires_ms = e->expires_ms;
      marker->bytes = key.size() + 128;
      for (const auto& v : st->vary) marker->bytes += v.size();
      cache->put(key, std::move(marker));
      key = variant_key(st->primary, st->vary, ctx.head->headers);
    }
    e->bytes = key.size() + resp->body.size() + 256;
    for (const auto& h : resp->headers) e->bytes += h.name.size() + h.value.size() + 32;
    e->response = std::move(resp);
    cache->put(key, std::move(e));
  }

 private:
  State* state(const RequestContext& ctx) const {
    for (const auto& [who, s] : ctx.policy_state)
      if (who == this) return static_cast<State*>(s.get());
    return nullptr;
  }

  std::string primary_key(const RequestContext& ctx) const {
    const http1::RequestHead& head = *ctx.head;
    std::string k;
    k.reserve(128);
    k += ctx.route_name;
    k += '\n';
    if (const std::string* h = head.find("host")) k += to_lower(*h);
    k += '\n';
    k += ctx.target->path;
    k += '\n';
    std::string_view query = ctx.query_overridden ? std::string_view(ctx.query_override)
                                                  : std::string_view(ctx.target->query);
    if (query_key == QueryKey::kAll) {
      k += query;
    } else if (query_key == QueryKey::kSome) {
      for (const auto& name : query_names) {
        k += name;
        k += '=';
        if (auto v = query_param(query, name)) k += *v;
        k += '&';
      }
    }
    for (const auto& name : key_headers) {
      k += '\n';
      k += joined(head.headers, name);
    }
    if (key_consumer) {
      k += "\nconsumer=";
      if (ctx.consumer) k += ctx.consumer->name;
    }
    return k;
  }

  static std::string variant_key(const std::string& primary, const std::vector<std::string>& vary,
                                 const std::vector<http1::Header>& req) {
    std::string k = primary;
    k += "\nvary";
    for (const auto& name : vary) {
      k += '\n';
      k += name;
      k += ':';
      k += joined(req, name);
    }
    return k;
  }

  // RFC 9111 3: may a shared cache store this response?
  bool storable(const RequestContext& ctx, int status, const std::vector<http1::Header>& headers,
                State& st) const {
    if (std::find(statuses.begin(), statuses.end(), status) == statuses.end()) return false;
    if (header(headers, "set-cookie")) return false;  // per-user state is never shared
    CacheControl cc = parse_cache_control(headers);
    if (cc.no_store || cc.is_private || cc.no_cache) return false;
    if (ctx.head->find("authorization") && !cc.is_public && !cc.s_maxage && !cc.must_revalidate)
      return false;
    st.vary.clear();
    for (const auto& h : headers) {
      if (!iequals(h.name, "vary")) continue;
      std::string_view v = h.value;
      while (!v.empty()) {
        size_t comma = v.find(',');
        std::string_view name = trim_ows(v.substr(0, comma));
        if (name == "*") return false;
        if (!name.empty()) st.vary.push_back(to_lower(name));
        v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
      }
    }
    int64_t lifetime = -1;
    if (cc.s_maxage) {
      lifetime = *cc.s_maxage;
    } else if (cc.max_age) {
      lifetime = *cc.max_age;
    } else if (const std::string* exp = header(headers, "expires")) {
      auto e = parse_http_date(*exp);
      const std::string* date = header(headers, "date");
      auto d = date ? parse_http_date(*date) : std::nullopt;
      lifetime = e ? *e - (d ? *d : wall_s()) : 0;
    } else {
      lifetime = default_ttl_s;
    }
    int64_t age = 0;
    if (const std::string* a = header(headers, "age")) {
      auto v = parse_uint(*a);
      age = v ? static_cast<int64_t>(std::min<uint64_t>(*v, 1u << 31)) : 0;
    }
    if (lifetime - age <= 0) return false;
    st.lifetime_s = lifetime;
    st.age_s = age;
    return true;
  }
};

void read_key(ConfigReader& cr, ProxyCache& p) {
  YAML::Node n = cr.node("key");
  if (!n || n.IsNull()) return;
  if (!n.IsMap()) {
    cr.fail("key", "invalid_type", "expected a mapping with query, headers and consumer");
    return;
  }
  for (const auto& kv : n) {
    std::string k = kv.first.Scalar();
    const YAML::Node& v = kv.second;
    std::string f = "key." + k;
    if (k == "query") {
      if (v.IsScalar() && (v.Scalar() == "true" || v.Scalar() == "false")) {
        p.query_key = v.Scalar() == "true" ? ProxyCache::QueryKey::kAll : ProxyCache::QueryKey::kNone;
      } else if (v.IsSequence()) {
        p.query_key = ProxyCache::QueryKey::kSome;
        for (size_t i = 0; i < v.size(); ++i) {
          if (!v[i].IsScalar() || v[i].Scalar().empty()) {
            cr.fail(f + "[" + std::to_string(i) + "]", "invalid_type", "expected a parameter name");
            continue;
          }
          p.query_names.push_back(v[i].Scalar());
        }
        std::sort(p.query_names.begin(), p.query_names.end());
      } else {
        cr.fail(f, "invalid_type", "expected true, false or a list of parameter names");
      }
    } else if (k == "headers") {
      if (!v.IsSequence()) {
        cr.fail(f, "invalid_type", "expected a list of header names");
        continue;
      }
      for (size_t i = 0; i < v.size(); ++i) {
        if (!v[i].IsScalar() || v[i].Scalar().empty()) {
          cr.fail(f + "[" + std::to_string(i) + "]", "invalid_type", "expected a header name");
          continue;
        }
        p.key_headers.push_back(to_lower(v[i].Scalar()));
      }
    } else if (k == "consumer") {
      if (!v.IsScalar() || (v.Scalar() != "true" && v.Scalar() != "false")) {
        cr.fail(f, "invalid_type", "expected true or false");
        continue;
      }
      p.key_consumer = v.Scalar() == "true";
    } else {
      cr.fail(f, "unknown_field",
              "unknown field '" + k + "' (expected query, headers or consumer)");
    }
  }
}

}  // namespace

void register_proxy_cache(Registry& r) {
  r.add("proxy-cache",
        [](const config::PolicyRef& ref,
           const BuildContext& ctx) -> Result<std::shared_ptr<const Policy>> {
          ConfigReader cr(ref, ctx.field);
          cr.allow_only({"ttl", "max_entry", "memory", "max_entries", "statuses", "key",
                         "request_no_cache"});
          auto p = std::make_shared<ProxyCache>();
          p->default_ttl_s = cr.duration_ms("ttl", 60'000, 0) / 1000;
          constexpr uint64_t kMaxEntryCap = 64ull * 1024 * 1024;
          p->max_entry = cr.size("max_entry", 1024 * 1024);
          if (p->max_entry < 1 || p->max_entry > kMaxEntryCap)
            cr.fail("max_entry", "invalid_value", "max_entry must be between 1 byte and 64 MiB");
          CacheLimits limits;
          limits.memory = cr.size("memory", limits.memory);
          limits.max_entries = static_cast<uint64_t>(
              cr.integer("max_entries", static_cast<int64_t>(limits.max_entries), 1, 100'000'000));
          // The store is split in shards; one entry must fit one shard.
          if (limits.memory / ResponseCache::kShards < p->max_entry)
            cr.fail("memory", "invalid_value",
                    "memory must be at least " + std::to_string(ResponseCache::kShards) +
                        " x max_entry (the store is split in " +
                        std::to_string(ResponseCache::kShards) + " shards)");
          if (YAML::Node s = cr.node("statuses"); s && !s.IsNull()) {
            p->statuses.clear();
            if (!s.IsSequence()) cr.fail("statuses", "invalid_type", "expected a list of statuses");
            for (size_t i = 0; s.IsSequence() && i < s.size(); ++i) {
              auto v = s[i].IsScalar() ? parse_uint(s[i].Scalar()) : std::nullopt;
              if (!v || *v < 200 || *v > 599) {
                cr.fail("statuses[" + std::to_string(i) + "]", "invalid_value",
                        "expected a status between 200 and 599");
                continue;
              }
              p->statuses.push_back(static_cast<int>(*v));
            }
          }
          read_key(cr, *p);
          p->request_no_cache_bypasses =
              cr.choice("request_no_cache", {"bypass", "ignore"}, "bypass") == "bypass";
          if (auto r2 = cr.finish(); !r2) return r2.error();
          std::string cache_name = ctx.route ? ctx.route->name : ctx.field;
          p->cache = CacheRegistry::instance().get(cache_name, limits);
          return std::shared_ptr<const Policy>(p);
        });
}

}  // namespace gatehouse::policy
