// Declarative YAML -> Config: the document schema (which keys each map may
// have and what they mean) and the document-level checks. Typed reading, ${VAR}
// expansion and positions are in loader_reader.cpp; the semantic rules (names,
// addresses, paths, cross references) are in validate.cpp, so the admin API
// runs the same ones on entities that never were YAML.
#include "config/loader.hpp"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <tuple>
#include <utility>

#include "common/strings.hpp"
#include "config/load_aws.hpp"
#include "config/load_grpc.hpp"
#include "config/load_grpc_transcode.hpp"
#include "config/load_llm_extras.hpp"
#include "config/load_llm_prices.hpp"
#include "config/load_mcp.hpp"
#include "config/load_tls.hpp"
#include "config/load_websocket.hpp"
#include "config/loader_reader.hpp"
#include "config/yaml_document.hpp"

namespace gatehouse::config {

namespace {

using detail::Fields;
using detail::in_quotes;
using detail::Reader;
using detail::second_document;
using detail::Slot;
using detail::stray_content;
using YAML::Node;

// Nested aliases grow exponentially when re-emitted; these caps bound one
// policy's config text.
constexpr size_t kMaxPolicyConfigNodes = 100'000;
constexpr int kMaxPolicyConfigDepth = 64;

const std::vector<std::pair<std::string, UpstreamProtocol>> kUpstreamProtocols = {
    {"http1", UpstreamProtocol::kHttp1},
    {"http2", UpstreamProtocol::kHttp2},
};

const std::vector<std::pair<std::string, BalancerKind>> kBalancerKinds = {
    {"round-robin", BalancerKind::kRoundRobin},
    {"least-request", BalancerKind::kLeastRequest},
    {"consistent-hash", BalancerKind::kConsistentHash},
    {"ewma", BalancerKind::kEwma},
};

const std::vector<std::pair<std::string, HashOn>> kHashOn = {
    {"ip", HashOn::kClientIp},       {"header", HashOn::kHeader}, {"cookie", HashOn::kCookie},
    {"consumer", HashOn::kConsumer}, {"path", HashOn::kPath},
};

const std::vector<std::pair<std::string, TlsVersion>> kTlsVersions = {{"1.2", TlsVersion::kTls12},
                                                                      {"1.3", TlsVersion::kTls13}};

const std::vector<std::pair<std::string, ClientAuthMode>> kClientAuthModes = {
    {"none", ClientAuthMode::kNone},
    {"optional", ClientAuthMode::kOptional},
    {"required", ClientAuthMode::kRequired}};

// Which route timeout fields were written, so the rest inherit the upstream's.
enum : unsigned {
  kConnectSet = 1,
  kRequestSet = 2,
  kIdleSet = 4,
  kStreamIdleSet = 8,
  kStreamTotalSet = 16
};

PathPattern classify_path(const std::string& p) {
  if (!p.empty() && p.front() == '=') return {PathKind::kExact, p.substr(1)};
  if (!p.empty() && p.front() == '~') return {PathKind::kRegex, p.substr(1)};
  if (p.find_first_of("{}") != std::string::npos) return {PathKind::kTemplate, p};
  return {PathKind::kPrefix, p};
}

// The document schema: one function per map shape.
class Loader {
 public:
  Loader(const std::string& file, std::string_view source, std::vector<ConfigError>& errors,
         FieldPositions& positions)
      : r_(file, source, errors, positions) {}

  bool exhausted() const { return r_.exhausted(); }

  void load(const Node& root, Config& cfg) {
    if (root.IsNull()) return;  // an empty document is a valid, empty config
    Slot doc{root, r_.pos_of(root), ""};
    // Top-level "x-" keys are ignored (as in docker-compose): a home for YAML
    // anchors that other entries merge or alias.
    Fields f(r_, doc,
             {"listeners", "http", "http2", "access_log", "drain_timeout", "trust_forwarded",
              "upstreams", "routes", "consumers", "policies", "llm", "mcp", "tls", "specs"},
             "x-");
    parse_server(f, cfg.server);
    if (const Slot* s = f.get("upstreams"))
      for (const auto& item : r_.items(*s)) cfg.upstreams.push_back(parse_upstream(item));
    if (const Slot* s = f.get("routes")) {
      for (const auto& item : r_.items(*s)) {
        cfg.routes.push_back(parse_route(item, cfg.routes.size()));
      }
    }
    if (const Slot* s = f.get("consumers"))
      for (const auto& item : r_.items(*s)) cfg.consumers.push_back(parse_consumer(item));
    if (const Slot* s = f.get("policies")) cfg.policies = parse_policies(*s);
    if (const Slot* s = f.get("llm")) parse_llm(*s, cfg.llm);
    if (const Slot* s = f.get("mcp")) parse_mcp(r_, *s, cfg.mcp);
    if (const Slot* s = f.get("specs"))
      for (const auto& item : r_.items(*s)) cfg.specs.push_back(parse_spec(item));
    inherit_route_timeouts(cfg);
  }

 private:
  void parse_server(Fields& f, ServerConfig& out) {
    if (const Slot* s = f.get("listeners")) {
      Fields l(r_, *s, {"proxy", "admin", "proxy_tls"});
      l.read("proxy", out.listeners.proxy);
      l.read("admin", out.listeners.admin);
      if (const Slot* t = l.get("proxy_tls")) {
        // `{address: ...}` (room for per-listener settings) or a bare address.
        if (t->node.IsScalar()) {
          r_.read(*t, out.listeners.proxy_tls);
        } else {
          Fields tf(r_, *t, {"address"});
          tf.read("address", out.listeners.proxy_tls);
        }
      }
    }
    if (const Slot* s = f.get("tls")) parse_tls(*s, out.tls);
    if (const Slot* s = f.get("http")) {
      Fields h(r_, *s,
               {"max_request_line", "max_header_bytes", "max_headers", "client_header_timeout",
                "client_idle_timeout", "max_pipelined", "splice_threshold"});
      h.size("max_request_line", out.http.max_request_line);
      h.size("max_header_bytes", out.http.max_header_bytes);
      h.read("max_headers", out.http.max_headers);
      h.duration("client_header_timeout", out.http.client_header_timeout_ms);
      h.duration("client_idle_timeout", out.http.client_idle_timeout_ms);
      h.read("max_pipelined", out.http.max_pipelined);
      h.size("splice_threshold", out.http.splice_threshold);
    }
    if (const Slot* s = f.get("http2")) {
      Fields h(
          r_, *s,
          {"enabled", "max_concurrent_streams", "initial_window_size", "max_header_list_size"});
      h.read("enabled", out.http2.enabled);
      h.read("max_concurrent_streams", out.http2.max_concurrent_streams);
      h.size("initial_window_size", out.http2.initial_window_size);
      h.size("max_header_list_size", out.http2.max_header_list_size);
    }
    if (const Slot* s = f.get("access_log")) {
      Fields a(r_, *s, {"enabled", "path"});
      a.read("enabled", out.access_log.enabled);
      a.read("path", out.access_log.path);
    }
    f.duration("drain_timeout", out.drain_timeout_ms);
    f.read("trust_forwarded", out.trust_forwarded);
  }

  // A relative `file` is taken from the config file's folder (as compose
  // files do), so a config and its specs move together.
  SpecConfig parse_spec(const Slot& s) {
    SpecConfig sc;
    sc.pos = s.pos;
    Fields f(r_, s, {"name", "file", "document"});
    f.read("name", sc.name);
    f.read("file", sc.file);
    sc.file = detail::config_relative(s.pos.file, sc.file);
    if (const Slot* d = f.get("document")) {
      if (d->node.IsScalar()) {
        sc.text = d->node.Scalar();
      } else {
        YAML::Emitter out;
        out << d->node;
        sc.text = out.c_str();
      }
    }
    return sc;
  }

  void parse_tls(const Slot& s, TlsConfig& t) {
    t.pos = s.pos;
    Fields f(r_, s,
             {"certificates", "min_version", "client_auth", "handshake_timeout", "session_tickets",
              "session_timeout"});
    if (const Slot* c = f.get("certificates")) {
      for (const auto& item : r_.items(*c)) {
        TlsCertificateConfig cc;
        cc.pos = item.pos;
        Fields cf(r_, item, {"cert", "key", "cert_pem", "key_pem"});
        cf.read("cert", cc.cert);
        cf.read("key", cc.key);
        cf.read("cert_pem", cc.cert_pem);
        cf.read("key_pem", cc.key_pem);
        cc.cert_pos = cc.key_pos = item.pos;
        for (const char* k : {"cert", "cert_pem"})
          if (const Slot* v = cf.get(k)) cc.cert_pos = v->pos;
        for (const char* k : {"key", "key_pem"})
          if (const Slot* v = cf.get(k)) cc.key_pos = v->pos;
        t.certificates.push_back(std::move(cc));
      }
    }
    if (const Slot* v = f.get("min_version")) r_.choice(*v, kTlsVersions, t.min_version);
    if (const Slot* a = f.get("client_auth")) {
      Fields af(r_, *a, {"mode", "ca_file", "verify_depth"});
      if (const Slot* m = af.get("mode")) r_.choice(*m, kClientAuthModes, t.client_auth.mode);
      af.read("ca_file", t.client_auth.ca_file);
      af.read("verify_depth", t.client_auth.verify_depth);
    }
    f.duration("handshake_timeout", t.handshake_timeout_ms);
    f.read("session_tickets", t.session_tickets);
    f.duration("session_timeout", t.session_timeout_ms);
  }

  UpstreamConfig parse_upstream(const Slot& s) {
    UpstreamConfig u;
    u.pos = s.pos;
    Fields f(r_, s,
             {"name", "targets", "balancer", "timeouts", "retries", "health_checks", "pool",
              "circuit_breaker", "dns_refresh", "tags", "tls", "protocol", "http2"});
    f.read("name", u.name);
    if (const Slot* p = f.get("protocol")) r_.choice(*p, kUpstreamProtocols, u.protocol);
    if (const Slot* h = f.get("http2")) detail::parse_upstream_http2(r_, *h, u.http2);
    // Upstream files stay as written (the process's folder), as they always were.
    if (const Slot* t = f.get("tls")) detail::parse_upstream_tls(r_, *t, u.tls, true, false);
    if (const Slot* t = f.get("targets")) {
      // https://host:port targets turn TLS on for the upstream; one upstream
      // speaks one protocol, so http:// and https:// cannot be mixed.
      int https = 0, http = 0;
      bool mixed_reported = false;
      for (const auto& item : r_.items(*t)) {
        std::string_view scheme;
        u.targets.push_back(parse_target(item, &scheme));
        int* seen = scheme == "https://" ? &https : scheme == "http://" ? &http : nullptr;
        if (!seen) continue;
        ++*seen;
        if (https && http && !mixed_reported) {
          mixed_reported = true;
          r_.fail(item, "invalid_value", "an upstream's targets are all http:// or all https://");
        }
      }
      if (https && !f.has("tls")) {
        u.tls.enabled = true;
        u.tls.pos = t->pos;
      }
    }
    if (const Slot* b = f.get("balancer")) parse_balancer(*b, u.balancer);
    if (const Slot* t = f.get("timeouts")) parse_timeouts(*t, u.timeouts);
    if (const Slot* t = f.get("retries")) parse_retries(*t, u.retries);
    if (const Slot* h = f.get("health_checks")) parse_health(*h, u);
    if (const Slot* p = f.get("pool")) {
      Fields pf(r_, *p, {"max_idle_per_target", "idle_timeout", "max_requests_per_connection"});
      pf.read("max_idle_per_target", u.pool.max_idle_per_target);
      pf.duration("idle_timeout", u.pool.idle_timeout_ms);
      pf.read("max_requests_per_connection", u.pool.max_requests_per_connection);
    }
    if (const Slot* b = f.get("circuit_breaker")) {
      Fields bf(r_, *b, {"max_connections", "max_pending", "max_requests"});
      bf.read("max_connections", u.breaker.max_connections);
      bf.read("max_pending", u.breaker.max_pending);
      bf.read("max_requests", u.breaker.max_requests);
    }
    f.duration("dns_refresh", u.dns_refresh_ms);
    f.strings("tags", u.tags);
    return u;
  }

  TargetConfig parse_target(const Slot& s, std::string_view* scheme_out = nullptr) {
    TargetConfig t;
    if (s.node.IsScalar()) {
      r_.read(s, t.address);  // shorthand: "host:port" with weight 1
    } else {
      Fields f(r_, s, {"address", "weight"});
      f.read("address", t.address);
      f.read("weight", t.weight);
    }
    for (std::string_view scheme : {"https://", "http://"}) {
      if (t.address.rfind(scheme, 0) == 0) {
        std::string rest = t.address.substr(scheme.size());
        if (!rest.empty() && rest.back() == '/') rest.pop_back();
        if (scheme_out) *scheme_out = scheme;
        t.address = std::move(rest);
        break;
      }
    }
    std::string why;
    if (!split_host_port(t.address, t.host, t.port, why)) {
      t.host.clear();  // validate() reports it with the field's position
      t.port = 0;
    }
    return t;
  }

  void parse_balancer(const Slot& s, BalancerConfig& b) {
    if (s.node.IsScalar()) {
      r_.choice(s, kBalancerKinds, b.kind);
      return;
    }
    Fields f(r_, s, {"kind", "hash_on", "key"});
    if (const Slot* k = f.get("kind")) r_.choice(*k, kBalancerKinds, b.kind);
    if (const Slot* h = f.get("hash_on")) {
      if (b.kind != BalancerKind::kConsistentHash)
        r_.fail(*h, "invalid_value", "hash_on is only used with kind consistent-hash");
      else
        r_.choice(*h, kHashOn, b.hash_on);
    }
    f.read("key", b.hash_key);
    // Header names are case-insensitive; cookie names are not.
    if (b.hash_on == HashOn::kHeader) b.hash_key = to_lower(b.hash_key);
  }

  unsigned parse_timeouts(const Slot& s, TimeoutsConfig& t) {
    Fields f(r_, s, {"connect", "request", "idle", "stream_idle", "stream_total"});
    f.duration("connect", t.connect_ms);
    f.duration("request", t.request_ms);
    f.duration("idle", t.idle_ms);
    f.duration("stream_idle", t.stream_idle_ms);
    f.duration("stream_total", t.stream_total_ms);
    return (f.get("connect") ? kConnectSet : 0u) | (f.get("request") ? kRequestSet : 0u) |
           (f.get("idle") ? kIdleSet : 0u) | (f.get("stream_idle") ? kStreamIdleSet : 0u) |
           (f.get("stream_total") ? kStreamTotalSet : 0u);
  }

  void parse_retries(const Slot& s, RetryConfig& r) {
    Fields f(r_, s,
             {"attempts", "per_try_timeout", "backoff_base", "backoff_max", "on_statuses",
              "budget_percent", "min_retry_concurrency", "on_grpc_statuses"});
    f.read("attempts", r.attempts);
    f.duration("per_try_timeout", r.per_try_timeout_ms);
    f.duration("backoff_base", r.backoff_base_ms);
    f.duration("backoff_max", r.backoff_max_ms);
    f.ints("on_statuses", r.on_statuses);
    f.ints("on_grpc_statuses", r.on_grpc_statuses);
    if (const Slot* g = f.get("on_grpc_statuses"))
      for (int code : r.on_grpc_statuses)
        if (code < 1 || code > 16) r_.fail(*g, "invalid_value", "gRPC status codes are 1..16");
    f.read("budget_percent", r.budget_percent);
    f.read("min_retry_concurrency", r.min_retry_concurrency);
  }

  void parse_health(const Slot& s, UpstreamConfig& u) {
    Fields f(r_, s, {"active", "passive"});
    // Writing an `active` block is how probes are turned on.
    u.health_active.enabled = f.has("active");
    if (const Slot* a = f.get("active")) {
      auto& h = u.health_active;
      Fields af(r_, *a,
                {"enabled", "path", "host", "interval", "timeout", "healthy_threshold",
                 "unhealthy_threshold", "healthy_statuses"});
      af.read("enabled", h.enabled);
      af.read("path", h.path);
      af.read("host", h.host);
      af.duration("interval", h.interval_ms);
      af.duration("timeout", h.timeout_ms);
      af.read("healthy_threshold", h.healthy_threshold);
      af.read("unhealthy_threshold", h.unhealthy_threshold);
      af.ints("healthy_statuses", h.healthy_statuses);
    }
    if (const Slot* p = f.get("passive")) {
      auto& h = u.health_passive;
      Fields pf(r_, *p,
                {"enabled", "consecutive_5xx", "consecutive_connect_failures", "base_ejection",
                 "max_ejection", "max_ejection_percent"});
      pf.read("enabled", h.enabled);
      pf.read("consecutive_5xx", h.consecutive_5xx);
      pf.read("consecutive_connect_failures", h.consecutive_connect_failures);
      pf.duration("base_ejection", h.base_ejection_ms);
      pf.duration("max_ejection", h.max_ejection_ms);
      pf.read("max_ejection_percent", h.max_ejection_percent);
    }
  }

  RouteConfig parse_route(const Slot& s, size_t order) {
    RouteConfig r;
    r.pos = s.pos;
    r.order = order;
    Fields f(r_, s,
             {"name", "match", "priority", "upstream", "llm", "mcp", "mock", "rewrite", "timeouts",
              "policies", "tags", "grpc_web", "grpc_transcode", "websocket"});
    f.read("name", r.name);
    if (const Slot* m = f.get("match")) parse_match(*m, r.match);
    f.read("priority", r.priority);
    f.read("upstream", r.upstream);
    if (const Slot* l = f.get("llm")) {
      Fields lf(r_, *l, {"models", "max_body"});
      r.llm = RouteLlmConfig{};
      lf.strings("models", r.llm->models);
      lf.size("max_body", r.llm->max_body);
    }
    if (const Slot* m = f.get("mcp")) r.mcp = parse_route_mcp(r_, *m);
    if (const Slot* m = f.get("mock")) {
      Fields mf(r_, *m, {"spec", "operation", "dynamic", "max_body", "validate"});
      r.mock = RouteMockConfig{};
      mf.read("spec", r.mock->spec);
      mf.read("operation", r.mock->operation);
      mf.read("dynamic", r.mock->dynamic);
      mf.size("max_body", r.mock->max_body);
      mf.read("validate", r.mock->validate);
    }
    if (const Slot* w = f.get("rewrite")) {
      Fields wf(r_, *w,
                {"strip_prefix", "regex", "replacement", "path_prefix", "host", "preserve_host"});
      wf.read("strip_prefix", r.rewrite.strip_prefix);
      wf.read("regex", r.rewrite.regex);
      wf.read("replacement", r.rewrite.replacement);
      wf.read("path_prefix", r.rewrite.path_prefix);
      wf.read("host", r.rewrite.host);
      wf.read("preserve_host", r.rewrite.preserve_host);
    }
    if (const Slot* t = f.get("timeouts")) {
      r.timeouts = TimeoutsConfig{};
      route_timeouts_set_.emplace_back(order, parse_timeouts(*t, *r.timeouts));
    }
    if (const Slot* p = f.get("policies")) r.policies = parse_policies(*p);
    f.strings("tags", r.tags);
    if (const Slot* g = f.get("grpc_web")) r.grpc_web = detail::parse_route_grpc_web(r_, *g);
    if (const Slot* g = f.get("grpc_transcode"))
      r.grpc_transcode = detail::parse_route_grpc_transcode(r_, *g);
    if (const Slot* w = f.get("websocket")) detail::parse_route_websocket(r_, *w, r.websocket);
    return r;
  }

  void parse_match(const Slot& s, RouteMatchConfig& m) {
    Fields f(r_, s, {"paths", "methods", "hosts", "headers", "query", "cookies"});
    std::vector<std::string> paths;
    f.strings("paths", paths);
    for (const auto& p : paths) m.paths.push_back(classify_path(p));
    // Methods are case-sensitive on the wire, but "get" in a config can only
    // mean GET; upper-casing is kinder than rejecting.
    f.strings("methods", m.methods);
    for (auto& method : m.methods)
      for (auto& c : method) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
    f.strings("hosts", m.hosts);
    for (auto& h : m.hosts) h = to_lower(h);
    if (const Slot* h = f.get("headers")) m.headers = parse_value_matches(*h, true);
    if (const Slot* q = f.get("query")) m.query = parse_value_matches(*q, false);
    if (const Slot* c = f.get("cookies")) m.cookies = parse_value_matches(*c, false);
  }

  std::vector<ValueMatch> parse_value_matches(const Slot& s, bool lower_names) {
    std::vector<ValueMatch> out;
    for (const auto& e : r_.entries(s)) {
      if (e.value.node.IsNull()) {
        r_.fail(e.value, "invalid_value", "needs a value; use \"*\" to require any value");
        continue;
      }
      ValueMatch vm;
      vm.name = lower_names ? to_lower(e.key) : e.key;
      if (auto t = r_.text(e.value)) {
        vm.value = std::move(*t);
        out.push_back(std::move(vm));
      }
    }
    return out;
  }

  void parse_llm(const Slot& s, LlmConfig& out) {
    Fields f(r_, s, {"providers", "models", "prices", "currency", "usage", "retry"});
    if (const Slot* p = f.get("providers"))
      for (const auto& item : r_.items(*p)) out.providers.push_back(parse_llm_provider(item));
    if (const Slot* m = f.get("models"))
      for (const auto& item : r_.items(*m)) out.models.push_back(parse_llm_model(item));
    if (const Slot* p = f.get("prices"))
      for (const auto& item : r_.items(*p)) out.prices.push_back(parse_llm_price(r_, item));
    f.read("currency", out.currency);
    if (const Slot* u = f.get("usage")) parse_llm_usage(r_, *u, out.usage);
    if (const Slot* rt = f.get("retry")) parse_llm_retry(r_, *rt, out.retry);
  }

  LlmProviderConfig parse_llm_provider(const Slot& s) {
    LlmProviderConfig p;
    p.pos = s.pos;
    Fields f(r_, s,
             {"name", "kind", "base_url", "api_key", "ca_file", "headers", "timeouts", "mock",
              "api_version", "deployments", "region", "aws", "tags"});
    f.read("name", p.name);
    std::vector<std::string> tags;  // ownership for declarative sync only
    f.strings("tags", tags);
    if (const Slot* k = f.get("kind"))
      r_.choice(*k,
                std::vector<std::pair<std::string, LlmProviderKind>>{
                    {"openai", LlmProviderKind::kOpenAi},
                    {"anthropic", LlmProviderKind::kAnthropic},
                    {"openai-compatible", LlmProviderKind::kOpenAiCompatible},
                    {"mock", LlmProviderKind::kMock},
                    {"gemini", LlmProviderKind::kGemini},
                    {"azure-openai", LlmProviderKind::kAzureOpenAi},
                    {"ollama", LlmProviderKind::kOllama},
                    {"bedrock", LlmProviderKind::kBedrock}},
                p.kind);
    else
      r_.fail(s, "missing_field",
              "a provider needs a kind (openai, anthropic, openai-compatible, gemini, "
              "azure-openai, ollama, bedrock, mock)");
    f.read("base_url", p.base_url);
    f.read("api_key", p.api_key);
    f.read("ca_file", p.ca_file);
    if (const Slot* h = f.get("headers")) {
      for (const auto& e : r_.entries(*h)) {
        std::string v;
        r_.read(e.value, v);
        p.headers.emplace_back(e.key, std::move(v));
      }
    }
    f.read("api_version", p.api_version);
    if (const Slot* d = f.get("deployments")) {
      for (const auto& e : r_.entries(*d)) {
        std::string v;
        r_.read(e.value, v);
        p.deployments.emplace_back(e.key, std::move(v));
      }
    }
    f.read("region", p.region);
    parse_llm_aws(r_, f.get("aws"), p);
    // Bedrock's endpoint follows from the region (a bad region is reported as such).
    if (p.kind == LlmProviderKind::kBedrock && p.base_url.empty() && !p.region.empty() &&
        std::all_of(p.region.begin(), p.region.end(),
                    [](unsigned char c) { return std::islower(c) || std::isdigit(c) || c == '-'; }))
      p.base_url = "https://bedrock-runtime." + p.region + ".amazonaws.com";
    if (const Slot* t = f.get("timeouts")) parse_timeouts(*t, p.timeouts);
    if (const Slot* m = f.get("mock")) {
      Fields mf(r_, *m, {"reply", "latency", "tokens_per_second"});
      mf.read("reply", p.mock.reply);
      mf.duration("latency", p.mock.latency_ms);
      mf.read("tokens_per_second", p.mock.tokens_per_second);
    }
    return p;
  }

  LlmModelConfig parse_llm_model(const Slot& s) {
    LlmModelConfig m;
    m.pos = s.pos;
    Fields f(r_, s, {"name", "targets", "fallbacks", "aliases", "strategy", "retry", "tags"});
    f.read("name", m.name);
    std::vector<std::string> tags;  // ownership for declarative sync only
    f.strings("tags", tags);
    if (const Slot* st = f.get("strategy")) parse_llm_strategy(r_, *st, m.strategy);
    if (const Slot* rt = f.get("retry")) parse_llm_retry(r_, *rt, m.retry.emplace());
    if (const Slot* t = f.get("targets")) {
      for (const auto& item : r_.items(*t)) {
        LlmTargetConfig tc;
        Fields tf(r_, item, {"provider", "model", "weight"});
        tf.read("provider", tc.provider);
        tf.read("model", tc.model);
        tf.read("weight", tc.weight);
        m.targets.push_back(std::move(tc));
      }
    }
    f.strings("fallbacks", m.fallbacks);
    f.strings("aliases", m.aliases);
    return m;
  }

  ConsumerConfig parse_consumer(const Slot& s) {
    ConsumerConfig c;
    c.pos = s.pos;
    Fields f(r_, s, {"name", "groups", "credentials", "policies", "tags", "llm"});
    f.read("name", c.name);
    if (const Slot* l = f.get("llm")) {
      Fields lf(r_, *l, {"models"});
      c.llm_models.emplace();
      lf.strings("models", *c.llm_models);
    }
    if (const Slot* p = f.get("policies")) c.policies = parse_policies(*p);
    f.strings("groups", c.groups);
    if (const Slot* creds = f.get("credentials")) {
      for (const auto& item : r_.items(*creds)) {
        std::map<std::string, std::string> fields;
        for (const auto& e : r_.entries(item)) {
          if (e.value.node.IsNull()) {
            r_.fail(e.value, "invalid_value", "needs a value");
            continue;
          }
          if (auto t = r_.text(e.value)) fields[e.key] = std::move(*t);
        }
        c.credentials.push_back(std::move(fields));
      }
    }
    f.strings("tags", c.tags);
    return c;
  }

  std::vector<PolicyRef> parse_policies(const Slot& s) {
    std::vector<PolicyRef> out;
    for (const auto& item : r_.items(s)) {
      PolicyRef p;
      p.pos = item.pos;
      if (item.node.IsScalar()) {
        r_.read(item, p.name);  // shorthand: "- key-auth" for a policy with no config
      } else {
        Fields f(r_, item, {"name", "config"});
        f.read("name", p.name);
        if (const Slot* c = f.get("config")) p.config_yaml = emit_policy_config(*c);
      }
      out.push_back(std::move(p));
    }
    return out;
  }

  // Re-emits the config node as YAML text with ${VAR} expanded and merge keys
  // applied, so policy modules parse plain YAML and never see the environment.
  std::string emit_policy_config(const Slot& s) {
    YAML::Emitter out;
    size_t count = 0;
    if (!emit(out, s, 0, count)) return {};
    if (!out.good()) {
      r_.fail(s, "invalid_value", "cannot re-emit policy config: " + out.GetLastError());
      return {};
    }
    return out.c_str();
  }

  bool emit(YAML::Emitter& out, const Slot& s, int depth, size_t& count) {
    if (depth > kMaxPolicyConfigDepth) {
      r_.fail(
          s, "too_deep",
          "policy config nested deeper than " + std::to_string(kMaxPolicyConfigDepth) + " levels");
      return false;
    }
    if (++count > kMaxPolicyConfigNodes) {
      r_.fail(s, "too_large",
              "policy config has more than " + std::to_string(kMaxPolicyConfigNodes) + " nodes");
      return false;
    }
    switch (s.node.Type()) {
      case YAML::NodeType::Scalar: {
        std::string text = r_.text(s).value_or("");
        // A quoted or tagged scalar stays a string: "5" must not become 5.
        if (s.node.Tag() != "?") out << YAML::DoubleQuoted;
        out << text;
        return true;
      }
      case YAML::NodeType::Sequence:
        out << YAML::BeginSeq;
        for (const auto& item : r_.items(s))
          if (!emit(out, item, depth + 1, count)) return false;
        out << YAML::EndSeq;
        return true;
      case YAML::NodeType::Map:
        out << YAML::BeginMap;
        for (const auto& e : r_.entries(s)) {
          out << YAML::Key << e.key << YAML::Value;
          if (!emit(out, e.value, depth + 1, count)) return false;
        }
        out << YAML::EndMap;
        return true;
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        out << YAML::Null;
        return true;
    }
    return true;
  }

  void inherit_route_timeouts(Config& cfg) {
    for (const auto& [index, set] : route_timeouts_set_) {
      RouteConfig& r = cfg.routes[index];
      auto u = std::find_if(cfg.upstreams.begin(), cfg.upstreams.end(),
                            [&](const UpstreamConfig& x) { return x.name == r.upstream; });
      if (u == cfg.upstreams.end()) continue;
      if (!(set & kConnectSet)) r.timeouts->connect_ms = u->timeouts.connect_ms;
      if (!(set & kRequestSet)) r.timeouts->request_ms = u->timeouts.request_ms;
      if (!(set & kIdleSet)) r.timeouts->idle_ms = u->timeouts.idle_ms;
      if (!(set & kStreamIdleSet)) r.timeouts->stream_idle_ms = u->timeouts.stream_idle_ms;
      if (!(set & kStreamTotalSet)) r.timeouts->stream_total_ms = u->timeouts.stream_total_ms;
    }
  }

  Reader r_;
  std::vector<std::pair<size_t, unsigned>> route_timeouts_set_;
};

SourcePos mark_pos(const std::string& file, const YAML::Mark& m) {
  return SourcePos{file, m.line >= 0 ? m.line + 1 : 0, m.column >= 0 ? m.column + 1 : 0};
}

// True when `field` is `parent` or lies inside it.
bool within(const std::string& field, const std::string& parent) {
  if (parent.empty() || field.compare(0, parent.size(), parent) != 0) return false;
  return field.size() == parent.size() || field[parent.size()] == '.' ||
         field[parent.size()] == '[';
}

}  // namespace

LoadResult load_config_text(std::string_view yaml, const std::string& file) {
  LoadResult result;
  auto& errors = result.errors;
  Node root;
  try {
    std::string text(yaml);
    root = YAML::Load(text);
    if (root.IsNull()) {
      if (auto stray = stray_content(text)) {
        errors.push_back({SourcePos{file, stray->first, stray->second}, "", "yaml_syntax",
                          "YAML syntax error: unexpected content"});
        return result;
      }
    }
    if (auto second = second_document(text)) {
      errors.push_back(
          {mark_pos(file, *second), "", "yaml_syntax", "only one YAML document is allowed"});
      return result;
    }
  } catch (const YAML::DeepRecursion& e) {
    errors.push_back({mark_pos(file, e.mark), "", "too_deep", "document nested too deeply"});
    return result;
  } catch (const YAML::Exception& e) {
    errors.push_back({mark_pos(file, e.mark), "", "yaml_syntax", "YAML syntax error: " + e.msg});
    return result;
  }

  FieldPositions positions;
  bool complete = true;
  try {
    Loader loader(file, yaml, errors, positions);
    loader.load(root, result.config);
    complete = !loader.exhausted();
  } catch (const YAML::Exception& e) {
    // Not expected after a successful parse; reported rather than thrown so
    // `gatehouse check` never dies on a config file.
    errors.push_back({mark_pos(file, e.mark), "", "yaml_syntax", "YAML error: " + e.msg});
    complete = false;
  }

  // Semantic checks run even after shape errors (all problems at once), but
  // not on fields the reader already rejected: one mistake, one message.
  if (complete) {
    std::vector<ConfigError> semantic;
    validate(result.config, positions, semantic);
    size_t shape_errors = errors.size();
    for (auto& e : semantic) {
      auto shape_end = errors.begin() + static_cast<std::ptrdiff_t>(shape_errors);
      bool seen = std::any_of(errors.begin(), shape_end,
                              [&](const ConfigError& p) { return within(e.field, p.field); });
      if (!seen) errors.push_back(std::move(e));
    }
  }
  std::stable_sort(errors.begin(), errors.end(), [](const ConfigError& a, const ConfigError& b) {
    return std::tie(a.pos.line, a.pos.column) < std::tie(b.pos.line, b.pos.column);
  });
  return result;
}

LoadResult load_config_file(const std::string& path) {
  LoadResult result;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    result.errors.push_back({SourcePos{path, 0, 0}, "", "file_not_found", "no such file"});
    return result;
  }
  if (std::filesystem::is_directory(path, ec)) {
    result.errors.push_back({SourcePos{path, 0, 0}, "", "file_unreadable", "is a directory"});
    return result;
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in || in.bad()) {
    result.errors.push_back({SourcePos{path, 0, 0}, "", "file_unreadable", "cannot read file"});
    return result;
  }
  return load_config_text(text.str(), path);
}

}  // namespace gatehouse::config
