// Config entities: plain data parsed from YAML (and later the store). The
// snapshot builder compiles them into the structures the data plane reads.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace gatehouse::config {

// Where an entity or field came from, for file:line:column errors.
struct SourcePos {
  std::string file;
  int line = 0;    // 1-based, 0 when unknown
  int column = 0;  // 1-based
};

struct TargetConfig {
  std::string address;  // "host:port" or "[v6]:port"; host may be a DNS name
  std::string host;     // split out of address
  uint16_t port = 0;
  uint32_t weight = 1;  // 0 = drained (kept, never picked)
};

enum class BalancerKind { kRoundRobin, kLeastRequest, kConsistentHash, kEwma };
enum class HashOn { kClientIp, kHeader, kCookie, kConsumer, kPath };

struct BalancerConfig {
  BalancerKind kind = BalancerKind::kRoundRobin;
  HashOn hash_on = HashOn::kClientIp;  // consistent-hash only
  std::string hash_key;                // header or cookie name for kHeader/kCookie
};

struct TimeoutsConfig {
  int64_t connect_ms = 5'000;
  int64_t request_ms = 60'000;  // whole exchange incl. retries, 0 = none
  int64_t idle_ms = 60'000;     // no bytes either way for this long
  // Response bodies (SSE, long downloads): once the head is sent, silence from
  // the upstream longer than stream_idle, or a body lasting longer than
  // stream_total, ends the response. 0 = idle_ms applies / no total limit.
  int64_t stream_idle_ms = 0;
  int64_t stream_total_ms = 0;
};

struct RetryConfig {
  int attempts = 1;               // extra tries after the first; 0 disables
  int64_t per_try_timeout_ms = 0; // 0 = bounded only by request_ms
  int64_t backoff_base_ms = 25;
  int64_t backoff_max_ms = 250;
  std::vector<int> on_statuses = {502, 503, 504};  // retried when the method is idempotent
  std::vector<int> on_grpc_statuses;  // gRPC codes retried (trailers-only answers), docs/grpc.md
  double budget_percent = 20.0;   // retries allowed as % of active requests
  int min_retry_concurrency = 3;  // retries always allowed up to this many at once
};

struct ActiveHealthConfig {
  bool enabled = false;
  std::string path = "/";
  std::string host;  // Host header for probes, default target address
  int64_t interval_ms = 5'000;
  int64_t timeout_ms = 1'000;
  int healthy_threshold = 2;
  int unhealthy_threshold = 3;
  std::vector<int> healthy_statuses = {200, 201, 202, 204, 301, 302, 304};
};

struct PassiveHealthConfig {
  bool enabled = true;
  int consecutive_5xx = 5;
  int consecutive_connect_failures = 3;
  int64_t base_ejection_ms = 30'000;  // doubles for each repeat ejection
  int64_t max_ejection_ms = 300'000;
  double max_ejection_percent = 50.0;
};

struct PoolConfig {
  int max_idle_per_target = 64;        // per worker
  int64_t idle_timeout_ms = 60'000;
  int max_requests_per_connection = 0; // 0 = unlimited
};

struct BreakerConfig {
  int max_connections = 10'000;  // per upstream, node-wide
  int max_pending = 1'000;       // requests waiting for a connection
  int max_requests = 10'000;     // requests in flight
};

// TLS to the upstream's targets: on when `tls.enabled` or the targets are
// written https://host:port.
struct UpstreamTlsConfig {
  bool enabled = false;
  std::string sni;          // server name sent and verified; default: the target's host
  bool verify = true;       // certificate chain and name
  std::string ca_file;      // empty: the system CA bundle
  std::string client_cert;  // PEM, for mTLS to the upstream (with client_key)
  std::string client_key;
  SourcePos pos;
};

// What the gateway speaks to the targets: HTTP/1.1, or HTTP/2 (h2c with
// prior knowledge on plain targets, ALPN h2 on TLS ones; docs/grpc.md).
enum class UpstreamProtocol { kHttp1, kHttp2 };

// upstreams[].http2 (protocol: http2 only): PING keep-alive on idle
// connections, so a peer or middlebox that silently dropped one is found
// before a call is sent on it (docs/http2.md).
struct UpstreamHttp2Config {
  int64_t ping_interval_ms = 0;     // 0: no PINGs
  int64_t ping_timeout_ms = 10'000;  // no ACK within it: the connection is closed
};

struct UpstreamConfig {
  std::string name;
  UpstreamProtocol protocol = UpstreamProtocol::kHttp1;
  std::vector<TargetConfig> targets;
  BalancerConfig balancer;
  TimeoutsConfig timeouts;
  RetryConfig retries;
  ActiveHealthConfig health_active;
  PassiveHealthConfig health_passive;
  PoolConfig pool;
  BreakerConfig breaker;
  UpstreamTlsConfig tls;
  UpstreamHttp2Config http2;
  int64_t dns_refresh_ms = 30'000;
  std::vector<std::string> tags;
  SourcePos pos;
};

// One path pattern of a route. Syntax in YAML:
//   "=/exact"          exact match
//   "/users/{id}"      template; {name} matches one non-empty segment
//   "~^/v[0-9]+/.*$"   RE2 regex, must match the whole path
//   "/prefix"          prefix on a segment boundary: /prefix, /prefix/, /prefix/x
//                      (but not /prefixx); "/" matches everything
enum class PathKind { kExact, kTemplate, kRegex, kPrefix };

struct PathPattern {
  PathKind kind = PathKind::kPrefix;
  std::string value;  // the pattern without its "=" or "~" marker
};

// A predicate on a header, query parameter or cookie.
//   value "x"       equals x (headers: case-sensitive value, case-insensitive name)
//   value "~re"     RE2 full match
//   value "*"       present with any value
struct ValueMatch {
  std::string name;
  std::string value;
};

struct RouteMatchConfig {
  std::vector<std::string> hosts;   // "api.example.com", "*.example.com"; empty = any
  std::vector<PathPattern> paths;   // empty = any path ("/")
  std::vector<std::string> methods; // upper-case; empty = any
  std::vector<ValueMatch> headers;
  std::vector<ValueMatch> query;
  std::vector<ValueMatch> cookies;
};

struct RewriteConfig {
  bool strip_prefix = false;     // remove the matched prefix (prefix paths only)
  std::string regex;             // RE2 on the canonical path
  std::string replacement;       // \1 .. \9 for groups
  std::string path_prefix;       // prepended after strip/regex (e.g. "/internal")
  std::string host;              // Host sent upstream; empty = per preserve_host
  bool preserve_host = false;    // send the client's Host instead of the target's
};

// A policy attachment kept as raw YAML text until policy modules compile it.
struct PolicyRef {
  std::string name;
  std::string config_yaml;  // the "config" node re-emitted as YAML, may be empty
  SourcePos pos;
};

// AI gateway (llm:). Providers are where requests go, models are the names
// clients send; a route with `llm` is served by src/ai/gateway instead of an
// upstream.
enum class LlmProviderKind { kOpenAi, kAnthropic, kOpenAiCompatible, kMock, kGemini, kAzureOpenAi, kOllama, kBedrock };

struct LlmMockConfig {
  std::string reply;              // empty: echo the last user message
  int64_t latency_ms = 0;         // before the first byte
  double tokens_per_second = 0;   // streaming pace; 0 = as fast as possible
};

struct LlmProviderConfig {
  std::string name;
  LlmProviderKind kind = LlmProviderKind::kOpenAi;
  std::string base_url;  // http://host[:port][/prefix]
  std::string api_key;   // ${ENV} expanded at load
  std::string ca_file;   // https base_url: extra CA bundle (system CAs are always trusted)
  std::vector<std::pair<std::string, std::string>> headers;  // extra upstream headers
  // azure-openai: "v1" (or empty) for /openai/v1/, else the api-version of the
  // /openai/deployments/{deployment}/ form.
  std::string api_version;
  // azure-openai: target model -> deployment name (unlisted models name their deployment).
  std::vector<std::pair<std::string, std::string>> deployments;
  // bedrock: the AWS region (SigV4 scope; base_url defaults to
  // https://bedrock-runtime.{region}.amazonaws.com) and credentials (`aws:`),
  // ${ENV} expanded at load.
  std::string region;
  std::string aws_access_key_id;
  std::string aws_secret_access_key;
  std::string aws_session_token;
  // bedrock: no static keys; credentials come from the AWS SDKs' chain at run
  // time (environment, shared files, container, EC2 instance metadata), see
  // ai/providers/aws_credentials.hpp. aws_profile names the shared-file profile
  // (else AWS_PROFILE, else "default").
  bool aws_chain = false;
  std::string aws_profile;
  TimeoutsConfig timeouts{5'000, 600'000, 120'000};
  LlmMockConfig mock;
  SourcePos pos;
};

struct LlmTargetConfig {
  std::string provider;
  std::string model;     // the provider's model name
  uint32_t weight = 1;   // 0 = never picked
};

// How a model entry picks the target to try first (the others follow as
// fallbacks): by weight, fewest requests in flight on this node, lowest
// latency (EWMA of time to first token), or lowest estimated cost.
enum class LlmStrategy { kWeighted, kLeastInflight, kLatency, kCost };

// Retries before the first byte reaches the client (llm.retry, or a model
// entry's own `retry`).
struct LlmRetryConfig {
  uint32_t attempts = 0;     // extra tries of a target after a retryable failure
  int64_t backoff_ms = 200;  // first delay; doubled per retry, with jitter
  int64_t max_backoff_ms = 5'000;
  int64_t max_retry_after_ms = 10'000;  // a longer Retry-After moves on instead of waiting
  int64_t first_token_timeout_ms = 0;   // no body byte by then: the attempt fails (0: off)
  SourcePos pos;
};

struct LlmModelConfig {
  std::string name;
  std::vector<LlmTargetConfig> targets;
  std::vector<std::string> fallbacks;  // other models, tried in order
  std::vector<std::string> aliases;
  LlmStrategy strategy = LlmStrategy::kWeighted;
  std::optional<LlmRetryConfig> retry;  // unset: llm.retry
  SourcePos pos;
};

// A row of the price table (llm.prices): money per million tokens of a
// provider model, per usage-ledger type. Negative: unset (cache prices
// default to the input price, reasoning to the output price).
struct LlmPriceConfig {
  std::string provider;  // empty: this model at any provider
  std::string model;     // the provider's model name, as a target names it
  double input = 0;
  double output = 0;
  double cache_read = -1;
  double cache_write = -1;
  double reasoning = -1;
  SourcePos pos;
};

// llm.usage: one record per LLM request, written in batches off the data
// path to the control-plane store's database (src/ai/usage/recorder.hpp).
struct LlmUsageConfig {
  bool enabled = true;
  int64_t retention_ms = 30LL * 86'400'000;  // records older than this are deleted
  int64_t flush_interval_ms = 1'000;         // how often buffered records are written
  uint64_t max_pending = 100'000;            // records buffered while the database is down
  SourcePos pos;
};

struct LlmConfig {
  std::vector<LlmProviderConfig> providers;
  std::vector<LlmModelConfig> models;
  std::vector<LlmPriceConfig> prices;
  std::string currency = "USD";  // what the prices are in (labels and docs only)
  LlmUsageConfig usage;
  LlmRetryConfig retry;  // for model entries without their own
};

struct RouteLlmConfig {
  std::vector<std::string> models;           // names the route serves (aliases follow)
  uint64_t max_body = 8 * 1024 * 1024;       // request body limit (413 beyond)
};

// MCP gateway (mcp:). Servers are the upstream MCP servers; a route with
// `mcp` is one virtual MCP server aggregating some of them (src/mcp).
// kSse: the deprecated HTTP+SSE transport (2024-11-05), for old servers.
enum class McpTransport { kStdio, kStreamableHttp, kOpenApi, kSse };

struct McpServerConfig {
  std::string name;
  McpTransport transport = McpTransport::kStdio;
  std::vector<std::string> command;  // stdio: argv, from the operator's file only
  std::vector<std::pair<std::string, std::string>> env;  // stdio: the child's whole environment
  std::string cwd;                   // stdio: working directory, empty = ours
  // stdio: client capabilities (sampling, elicitation, roots) the shared
  // child is told about; its requests are relayed to the one client whose
  // call is in flight. Empty = none (the child is never asked to relay).
  std::vector<std::string> client_capabilities;
  std::string url;                   // streamable-http, sse: http://host[:port]/path
  std::vector<std::pair<std::string, std::string>> headers;  // streamable-http, sse: sent upstream
  // streamable-http, sse with an https url: an upstream's tls: block without
  // `enabled` (enabled = the block was written); files are taken from the
  // config file's folder when relative.
  UpstreamTlsConfig tls;
  std::string openapi_api;           // openapi: a managed API (its newest deployed version)
  std::string openapi_spec;          // openapi: a specs: entry
  std::vector<std::string> openapi_operations;  // openapi: operationIds to expose; empty = all
  std::string openapi_upstream;      // openapi: where calls go; empty = the deployed API's
  int64_t timeout_ms = 60'000;       // one upstream request (a tools/call may be long)
  std::string on_change;             // registry: a changed tool allow | warn | block; "" = warn
  SourcePos pos;
};

// An OpenAPI document the running config refers to by name (request
// validation, mock routes, REST-to-MCP tools). Exactly one source: `file`
// (resolved against the config file's folder), `text` (an inline document),
// or `sha256` (a deployed API revision's document in the store).
struct SpecConfig {
  std::string name;
  std::string file;
  std::string text;
  std::string sha256;
  // Deployed API versions only: which API and version, the upstream and base
  // path their routes use.
  std::string api, version, upstream, base_path;
  SourcePos pos;
};

struct McpConfig {
  std::vector<McpServerConfig> servers;
  // Origins a browser-based client may call from; requests with another
  // Origin header get 403 (DNS-rebinding defence). No Origin = not a browser.
  std::vector<std::string> allowed_origins;
  // Key material for Mcp-Session-Id tokens; empty = a random per-process key.
  std::string session_secret;
  int64_t session_ttl_ms = 24 * 3'600'000LL;
};

enum class McpPrefix { kAlways, kOnCollision, kNever };

// Who a per-tool rule is about: any listed consumer, group, scope or claim
// value matches. All lists empty = everyone.
struct McpCallerMatch {
  std::vector<std::string> consumers;
  std::vector<std::string> groups;
  std::vector<std::string> scopes;                           // from the JWT's scope / scp
  std::vector<std::pair<std::string, std::string>> claims;  // claim -> value (a word of it)
};

// One per-tool authorization rule (mcp/server/tool_rules.hpp): the first rule
// whose tools (and arguments) match a call decides.
struct McpToolRuleConfig {
  std::vector<std::string> tools;                               // globs, exposed or upstream name
  std::vector<std::pair<std::string, std::string>> arguments;  // argument -> glob on its value
  bool allow = true;  // allow: only `who` may call; deny: `who` may not
  McpCallerMatch who;
};

// A per-tool rate limit or quota (mcp/server/tool_limits.hpp): every rule
// whose tools match a tools/call counts it; the first that runs out refuses.
// Exactly one of `requests` (a rate: per `window`) and `quota` (per `period`);
// the checks are in validate_mcp_limits.cpp.
struct McpToolLimitConfig {
  std::vector<std::string> tools;  // globs, exposed or upstream name
  std::string by = "consumer";     // consumer | credential | ip | header | route | global
  std::string header;              // by: header (lower-cased)
  bool per_tool = false;           // a budget per tool instead of one for all it matches
  std::optional<int64_t> requests;  // a rate: calls per window
  std::optional<int64_t> window_ms;
  std::string algorithm = "sliding-window";  // or token-bucket
  std::optional<int64_t> burst;              // token-bucket capacity; absent = requests
  std::optional<int64_t> quota;              // a quota: calls per calendar period
  std::string period;                        // day | week | month | year (UTC)
  SourcePos pos;
};

// The route as an OAuth 2.1 resource server (MCP authorization, RFC 9728,
// RFC 8707): tokens are verified by the route's jwt policy; this adds the
// metadata document, the challenge and the audience and scope checks.
struct McpAuthorizationConfig {
  std::string resource;                            // the endpoint's canonical URL = the audience
  std::vector<std::string> authorization_servers;  // issuers' URLs, advertised
  std::vector<std::string> scopes;                 // required on every request (all of them)
  std::vector<std::string> scopes_supported;       // advertised; default: `scopes`
};

struct RouteMcpConfig {
  std::vector<std::string> servers;
  McpPrefix prefix = McpPrefix::kOnCollision;
  std::vector<std::string> tools_allow;  // globs; empty = all
  std::vector<std::string> tools_deny;   // globs
  std::vector<McpToolRuleConfig> tool_rules;  // per-caller authorization, in order
  std::vector<McpToolLimitConfig> tool_limits;  // per-tool rate limits and quotas
  uint64_t max_body = 4 * 1024 * 1024;   // one JSON-RPC request body
  uint64_t page_size = 0;                // list page size; 0 = one page
  bool log_arguments = false;            // tools/call arguments in the audit line
  std::optional<McpAuthorizationConfig> authorization;
};

// Mock routes (mock:): answered from an OpenAPI document of `specs:` (or a
// deployed API version, "API@VERSION") instead of an upstream (src/apim/mock).
struct RouteMockConfig {
  std::string spec;
  std::string operation;             // operationId; empty = the request's method and path pick it
  bool dynamic = false;              // generated data differs per request (Prism's -d)
  uint64_t max_body = 1024 * 1024;   // request body read (and validated) before answering
  bool validate = true;              // requests checked against the operation first (400/415)
};

// grpc_web: gRPC-Web clients (browsers) converted to gRPC for an HTTP/2
// upstream (docs/grpc.md). `true` is the defaults below.
struct RouteGrpcWebConfig {
  bool cors = true;                 // answer preflights, expose grpc-status (no cors policy)
  uint64_t max_body = 4 * 1024 * 1024;  // request body as sent (base64 in text mode)
};

// grpc_transcode: HTTP/JSON clients converted to gRPC for an HTTP/2 upstream
// from a protobuf descriptor set (docs/grpc.md#httpjson-transcoding).
struct GrpcTranscodeMapping {  // one explicit HttpRule
  std::string method;          // "pkg.Service/Method"
  std::string verb;            // GET, POST, ... or a custom one
  std::string path;            // the path template
  std::string body;            // "", "*" or a field name
  std::string response_body;   // "" or a field name
};
struct RouteGrpcTranscodeConfig {
  std::string descriptor;             // FileDescriptorSet file (relative: config's folder)
  std::vector<std::string> services;  // empty: every service with google.api.http rules
  std::vector<GrpcTranscodeMapping> mapping;
  bool always_print_primitive_fields = false;
  bool preserve_proto_field_names = false;
  bool enums_as_ints = false;
  bool ignore_unknown_query_parameters = false;
  bool ndjson = false;                  // server streaming: one message a line, not an array
  uint64_t max_body = 4 * 1024 * 1024;  // JSON request body
};

// websocket: bounds on WebSocket tunnels through this route (docs/proxy.md#websocket).
// Frame headers are always checked (RFC 6455 5); 0 turns a size limit off.
struct RouteWebSocketConfig {
  uint64_t max_frame_size = 16 * 1024 * 1024;    // one frame's payload
  uint64_t max_message_size = 64 * 1024 * 1024;  // a data message's payload, all fragments
  int64_t idle_timeout_ms = 0;                   // 0: the route's timeouts.idle
};

struct RouteConfig {
  std::string name;
  RouteMatchConfig match;
  int priority = 0;  // higher wins among otherwise equal candidates
  std::string upstream;
  std::optional<RouteLlmConfig> llm;  // set: an AI route (no upstream)
  std::optional<RouteMcpConfig> mcp;  // set: an MCP route (no upstream)
  std::optional<RouteMockConfig> mock;  // set: a mock route (no upstream)
  std::optional<RouteGrpcWebConfig> grpc_web;  // set: gRPC-Web to gRPC on this route
  std::optional<RouteGrpcTranscodeConfig> grpc_transcode;  // set: HTTP/JSON to gRPC
  RewriteConfig rewrite;
  std::optional<TimeoutsConfig> timeouts;  // overrides the upstream's
  RouteWebSocketConfig websocket;
  std::vector<PolicyRef> policies;
  std::vector<std::string> tags;
  size_t order = 0;  // position in the file; the last tie-breaker
  SourcePos pos;
};

struct ConsumerConfig {
  std::string name;
  std::vector<std::string> groups;
  std::vector<std::map<std::string, std::string>> credentials;  // raw fields
  // Run for this consumer on every route once it is identified; a policy of
  // the same name on the route steps aside for it (the more specific wins).
  std::vector<PolicyRef> policies;
  std::vector<std::string> tags;
  // consumers[].llm.models: the LLM models (names or aliases) this consumer
  // may use on AI routes; unset: every model of the route.
  std::optional<std::vector<std::string>> llm_models;
  SourcePos pos;
};

struct ListenersConfig {
  std::string proxy = "0.0.0.0:8080";
  std::string admin = "127.0.0.1:9080";
  std::string proxy_tls;  // empty: no TLS listener
};

// Downstream TLS (the proxy_tls listener). An entry is PEM files (cert, key)
// or PEM text (cert_pem, key_pem): inline in the config, or a certificate
// from the store. Files are read when a snapshot is built, so a reload picks
// up new files.
struct TlsCertificateConfig {
  std::string cert;      // PEM file: leaf first, then the chain
  std::string key;       // PEM private key file
  std::string cert_pem;  // or the PEM text itself (exactly one form per entry)
  std::string key_pem;
  std::string store_name;  // set for a certificate from the store: its entity name
  SourcePos pos;
  SourcePos cert_pos;  // where cert / cert_pem was written
  SourcePos key_pos;
};

enum class TlsVersion { kTls12, kTls13 };
enum class ClientAuthMode { kNone, kOptional, kRequired };

struct ClientAuthConfig {
  ClientAuthMode mode = ClientAuthMode::kNone;
  std::string ca_file;  // CAs client certificates must chain to
  int verify_depth = 4;
};

struct TlsConfig {
  std::vector<TlsCertificateConfig> certificates;  // first = default (no/unknown SNI)
  TlsVersion min_version = TlsVersion::kTls12;
  ClientAuthConfig client_auth;
  int64_t handshake_timeout_ms = 10'000;
  bool session_tickets = true;
  int64_t session_timeout_ms = 300'000;  // resumption window (cache and tickets)
  SourcePos pos;
};

struct HttpLimitsConfig {
  uint64_t max_request_line = 8 * 1024;
  uint64_t max_header_bytes = 64 * 1024;
  uint64_t max_headers = 100;
  int64_t client_header_timeout_ms = 30'000;  // slowloris bound for one head
  int64_t client_idle_timeout_ms = 60'000;    // keep-alive idle between requests
  uint64_t max_pipelined = 16;                // queued requests per connection
  // Request and response bodies with a Content-Length of at least this many
  // bytes are relayed with splice(2), never entering user space; 0 turns that off.
  uint64_t splice_threshold = 16 * 1024;
};

// Downstream HTTP/2 (h2c prior knowledge on the proxy listener; docs/http2.md).
struct Http2Config {
  bool enabled = true;
  uint64_t max_concurrent_streams = 100;
  uint64_t initial_window_size = 65'535;  // per stream, request body bytes in flight
  uint64_t max_header_list_size = 64 * 1024;
};

struct AccessLogConfig {
  bool enabled = true;
  std::string path = "-";  // "-" = stdout
};

struct ServerConfig {
  ListenersConfig listeners;
  TlsConfig tls;
  HttpLimitsConfig http;
  Http2Config http2;
  AccessLogConfig access_log;
  int64_t drain_timeout_ms = 15'000;
  bool trust_forwarded = false;  // keep incoming X-Forwarded-* (behind a trusted LB)
};

// The whole declarative document.
struct Config {
  ServerConfig server;
  std::vector<UpstreamConfig> upstreams;
  std::vector<RouteConfig> routes;
  std::vector<ConsumerConfig> consumers;
  std::vector<PolicyRef> policies;  // global
  LlmConfig llm;
  McpConfig mcp;
  std::vector<SpecConfig> specs;
};

}  // namespace gatehouse::config
