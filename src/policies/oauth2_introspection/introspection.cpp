// oauth2-introspection: opaque bearer tokens checked with the issuer's
// introspection endpoint (RFC 7662), answers cached per worker. The call is
// made on the worker's io_context (the one asynchronous request hook), so a
// slow issuer delays only the requests that wait for it.
#include <boost/json.hpp>

#include <chrono>
#include <unordered_map>

#include "common/json.hpp"
#include "common/clock.hpp"
#include "common/strings.hpp"
#include "net/http_client.hpp"
#include "policies/authenticator.hpp"
#include "policies/config_reader.hpp"
#include "policies/crypto.hpp"
#include "policies/policy.hpp"
#include "policies/query.hpp"

namespace gatehouse::policy {

namespace {

struct Verdict {
  bool active = false;
  const Consumer* consumer = nullptr;
  bool unknown_consumer = false;
  std::string credential;  // client_id or sub: a non-secret id for logs
  std::vector<std::pair<std::string, std::string>> vars;
  std::string scope;
  int64_t expires_ms = 0;  // steady clock
};

class IntrospectionPolicy final : public Policy {
 public:
  std::string endpoint;
  std::string authorization;  // header value sent to the endpoint
  std::string token_type_hint;
  std::shared_ptr<asio::ssl::context> tls;
  int64_t timeout_ms = 5'000;
  int64_t cache_ttl_ms = 60'000;
  int64_t negative_ttl_ms = 10'000;
  size_t max_entries = 10'000;  // per worker
  std::string consumer_claim;
  const Consumer* anonymous = nullptr;
  bool hide_credentials = true;
  std::vector<std::string> required_scopes;
  std::string realm_attr;
  // One cache per worker, keyed by SHA-256 of the token (tokens themselves
  // are never kept); touched only by its worker's thread.
  mutable std::vector<std::unordered_map<std::string, Verdict>> caches;

  std::string_view name() const override { return "oauth2-introspection"; }
  Phase phase() const override { return Phase::kAuthn; }
  bool is_async() const override { return true; }

  Action on_request(RequestContext&, Respond& out) const override {
    // Never called: the chain awaits on_request_async for this policy.
    out.status = 500;
    out.code = "internal_error";
    return Action::kRespond;
  }

  awaitable<Action> on_request_async(RequestContext& ctx, Respond& out) const override {
    if (!ctx.credential_id.empty()) co_return Action::kContinue;  // another method won
    std::string token = bearer(ctx);
    if (token.empty()) {
      if (anonymous) {
        ctx.consumer = anonymous;
        co_return Action::kContinue;
      }
      co_return challenge(out, 401, "missing_token", "no bearer token in the request", "");
    }
    auto& cache = caches[ctx.worker % caches.size()];
    std::string key = sha256(token);
    int64_t now = steady_ms();
    const Verdict* v = nullptr;
    if (auto it = cache.find(key); it != cache.end() && it->second.expires_ms > now) {
      v = &it->second;
    } else {
      auto fresh = co_await introspect(ctx, token, now);
      if (!fresh) {
        ctx.consumer = nullptr;
        out.status = 503;
        out.code = "introspection_unavailable";
        out.detail = fresh.error().message;
        out.headers.push_back({"Retry-After", "1"});
        co_return Action::kRespond;
      }
      if (cache.size() >= max_entries) cache.clear();  // crude bound, refills in one TTL
      v = &(cache[key] = std::move(fresh.value()));
    }
    if (!v->active) {
      ctx.consumer = nullptr;
      co_return challenge(out, 401, "invalid_token", "the token is not active",
                          "error=\"invalid_token\"");
    }
    if (v->unknown_consumer) {
      ctx.consumer = nullptr;
      co_return challenge(out, 401, "unknown_consumer",
                          "the \"" + consumer_claim + "\" of the token names no known consumer",
                          "error=\"invalid_token\"");
    }
    if (!required_scopes.empty()) {
      for (const auto& s : required_scopes) {
        if (!has_scope(v->scope, s)) {
          ctx.consumer = nullptr;
          std::string all;
          for (const auto& r : required_scopes) all += (all.empty() ? "" : " ") + r;
          co_return challenge(out, 403, "insufficient_scope",
                              "the token lacks the scope \"" + s + "\"",
                              "error=\"insufficient_scope\", scope=\"" + all + "\"");
        }
      }
    }
    ctx.consumer = v->consumer;
    ctx.credential_id = v->credential.empty() ? "oauth2-introspection" : v->credential;
    for (const auto& [k, val] : v->vars) ctx.vars[k] = val;
    if (hide_credentials) remove_authorization(ctx);
    co_return Action::kContinue;
  }

 private:
  static bool has_scope(std::string_view scopes, std::string_view want) {
    while (!scopes.empty()) {
      size_t sp = scopes.find(' ');
      if (scopes.substr(0, sp) == want) return true;
      if (sp == std::string_view::npos) break;
      scopes.remove_prefix(sp + 1);
    }
    return false;
  }

  Action challenge(Respond& out, int status, std::string code, std::string detail,
                   const std::string& extra) const {
    out.status = status;
    out.code = std::move(code);
    out.detail = std::move(detail);
    out.headers.push_back(
        {"WWW-Authenticate", "Bearer " + realm_attr + (extra.empty() ? "" : ", " + extra)});
    return Action::kRespond;
  }

  static std::string bearer(const RequestContext& ctx) {
    const std::string* h = ctx.head->find("authorization");
    if (!h || h->size() < 7 || !iequals(std::string_view(*h).substr(0, 7), "bearer ")) return {};
    return std::string(trim_ows(std::string_view(*h).substr(7)));
  }

  static void remove_authorization(RequestContext& ctx) {
    auto& hs = ctx.head->headers;
    std::erase_if(hs, [](const http1::Header& h) { return iequals(h.name, "authorization"); });
  }

  awaitable<Result<Verdict>> introspect(const RequestContext& ctx, const std::string& token,
                                        int64_t now) const {
    net::HttpClientRequest req;
    req.method = "POST";
    req.url = endpoint;
    req.timeout_ms = timeout_ms;
    req.max_body = 256 * 1024;
    req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    req.headers.emplace_back("Accept", "application/json");
    if (!authorization.empty()) req.headers.emplace_back("Authorization", authorization);
    req.body = "token=" + percent_encode(token);
    if (!token_type_hint.empty()) req.body += "&token_type_hint=" + percent_encode(token_type_hint);
    auto res = co_await net::http_call(req, tls);
    if (!res) co_return make_error("introspection_unavailable", res.error().message);
    if (res->status != 200)
      co_return make_error("introspection_unavailable",
                           "introspection endpoint answered " + std::to_string(res->status));
    boost::system::error_code ec;
    auto doc = parse_json(res->body, ec);
    const boost::json::object* o = ec ? nullptr : doc.if_object();
    const boost::json::value* active = o ? o->if_contains("active") : nullptr;
    if (!active || !active->is_bool())
      co_return make_error("introspection_unavailable",
                           "introspection answer is not a JSON object with a boolean \"active\"");
    Verdict v;
    v.active = active->as_bool();
    v.expires_ms = now + (v.active ? cache_ttl_ms : negative_ttl_ms);
    if (!v.active) co_return v;
    auto str = [&](const char* k) -> std::string {
      const boost::json::value* x = o->if_contains(k);
      return x && x->is_string() ? std::string(x->as_string()) : std::string();
    };
    // Never cache past the token's own expiry.
    if (const auto* exp = o->if_contains("exp"); exp && exp->is_number()) {
      double left_s = exp->to_number<double>() -
                      std::chrono::duration<double>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
      if (left_s <= 0) {
        v.active = false;
        v.expires_ms = now + negative_ttl_ms;
        co_return v;
      }
      v.expires_ms = std::min<int64_t>(v.expires_ms, now + static_cast<int64_t>(left_s * 1000));
    }
    v.scope = str("scope");
    std::string client_id = str("client_id"), sub = str("sub"), username = str("username");
    v.credential = !client_id.empty() ? client_id : sub;
    for (const char* k : {"sub", "client_id", "username", "scope", "iss"}) {
      std::string val = str(k);
      if (!val.empty()) v.vars.emplace_back(std::string("introspection.") + k, val);
    }
    if (!consumer_claim.empty()) {
      std::string name = str(consumer_claim.c_str());
      v.consumer = name.empty() ? nullptr : ctx.consumers->find(name);
      v.unknown_consumer = v.consumer == nullptr;
    }
    co_return v;
  }
};

}  // namespace

void register_oauth2_introspection(Registry& r) {
  r.add("oauth2-introspection",
        [](const config::PolicyRef& ref,
           const BuildContext& ctx) -> Result<std::shared_ptr<const Policy>> {
          ConfigReader cr(ref, ctx.field);
          cr.allow_only({"endpoint", "client_id", "client_secret", "authorization",
                         "token_type_hint", "timeout", "cache_ttl", "negative_cache_ttl",
                         "max_cache_entries", "ca_file", "consumer_claim", "anonymous", "realm",
                         "hide_credentials", "required_scopes"});
          auto p = std::make_shared<IntrospectionPolicy>();
          p->endpoint = cr.str("endpoint");
          if (p->endpoint.empty()) {
            cr.fail("endpoint", "missing_field", "the introspection endpoint URL is required");
          } else if (auto ok = net::check_http_url(p->endpoint); !ok) {
            cr.fail("endpoint", "invalid_value", "endpoint " + ok.error().message);
          }
          std::string id = cr.str("client_id"), secret = cr.str("client_secret");
          std::string auth = cr.str("authorization");
          if (!id.empty() && !auth.empty())
            cr.fail("authorization", "invalid_value",
                    "give either client_id/client_secret or authorization, not both");
          if (id.empty() != secret.empty())
            cr.fail(id.empty() ? "client_id" : "client_secret", "missing_field",
                    "client_id and client_secret go together");
          // RFC 6749 2.3.1: both parts form-encoded before Basic.
          p->authorization = !id.empty()
                                 ? "Basic " + base64_encode(percent_encode(id) + ":" + percent_encode(secret))
                                 : auth;
          p->token_type_hint = cr.str("token_type_hint", "access_token");
          p->timeout_ms = cr.duration_ms("timeout", 5'000, 50);
          p->cache_ttl_ms = cr.duration_ms("cache_ttl", 60'000, 0);
          p->negative_ttl_ms = cr.duration_ms("negative_cache_ttl", 10'000, 0);
          p->max_entries = static_cast<size_t>(cr.integer("max_cache_entries", 10'000, 1, 10'000'000));
          p->consumer_claim = cr.str("consumer_claim");
          p->hide_credentials = cr.boolean("hide_credentials", true);
          p->required_scopes = cr.strings("required_scopes");
          p->realm_attr = read_realm_attr(cr);
          p->anonymous = read_anonymous(cr, ctx);
          if (p->endpoint.rfind("https:", 0) == 0) {
            auto tls = net::make_tls_client_context(cr.str("ca_file"));
            if (!tls) cr.fail("ca_file", "invalid_value", tls.error().message);
            else p->tls = tls.value();
          } else if (cr.has("ca_file")) {
            cr.fail("ca_file", "invalid_value", "ca_file applies to an https endpoint");
          }
          if (auto r2 = cr.finish(); !r2) return r2.error();
          p->caches.resize(std::max<size_t>(ctx.workers, 1));
          return std::shared_ptr<const Policy>(p);
        });
}

}  // namespace gatehouse::policy
