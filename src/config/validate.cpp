// Semantic checks on a parsed Config. They live apart from the YAML reader so
// the admin API and the store can run exactly the same rules on entities that
// never were YAML; the reader only contributes positions (FieldPositions).
#include <arpa/inet.h>
#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "common/percent.hpp"
#include "common/strings.hpp"
#include "config/load_tls.hpp"
#include "config/loader.hpp"
#include "config/loader_reader.hpp"

namespace gatehouse::config {

namespace {

using detail::in_quotes;
constexpr auto& idx = detail::index_field;  // "f" + 2 -> "f[2]"

constexpr size_t kMaxNameLength = 128;
constexpr uint32_t kMaxWeight = 1000;
constexpr int kMaxRetryAttempts = 10;
constexpr size_t kMaxSuggestLength = 64;  // longer words are never typos worth O(n*m)

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
// RFC 9110 tchar: methods, header names and cookie names are tokens.
bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (is_alpha(c) || is_digit(c)) continue;
    if (std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) return false;
  }
  return true;
}

bool is_identifier(std::string_view s) {
  if (s.empty() || is_digit(s[0])) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return is_alpha(c) || is_digit(c) || c == '_'; });
}

// Entity names end up in metrics labels, admin URLs and logs: keep them boring.
bool is_valid_name(std::string_view s) {
  if (s.empty() || s.size() > kMaxNameLength) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return is_alpha(c) || is_digit(c) || c == '.' || c == '_' || c == '-';
  });
}

// Control bytes are escaped so a hostile value cannot forge terminal output.
bool is_ipv4(std::string_view s) {
  in_addr a{};
  return inet_pton(AF_INET, std::string(s).c_str(), &a) == 1;
}

bool is_ipv6(std::string_view s) {
  in6_addr a{};
  return inet_pton(AF_INET6, std::string(s).c_str(), &a) == 1;
}

// Empty when `h` is a DNS name or IPv4 literal, else why not.
std::string dns_name_problem(std::string_view h) {
  if (h.empty()) return "empty host";
  if (h.size() > 253) return "host name longer than 253 characters";
  std::string_view last;
  size_t start = 0;
  while (true) {
    size_t dot = h.find('.', start);
    std::string_view label = h.substr(start, dot == std::string_view::npos ? h.npos : dot - start);
    if (label.empty()) return "empty label in host name " + in_quotes(h);
    if (label.size() > 63) return "label longer than 63 characters in " + in_quotes(h);
    for (char c : label) {
      // '_' is not RFC 1123 but appears in real service names (SRV-style, docker).
      if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '_')
        return "invalid character in host name " + in_quotes(h);
    }
    if (label.front() == '-' || label.back() == '-')
      return "a label cannot start or end with '-' in " + in_quotes(h);
    last = label;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  // A numeric last label means the writer meant an IPv4 address.
  if (std::all_of(last.begin(), last.end(), is_digit) && !is_ipv4(h))
    return in_quotes(h) + " is not a valid IPv4 address";
  return {};
}

// Empty when a route `hosts` entry (already lower-case) can ever match.
std::string route_host_problem(std::string_view h) {
  if (h.empty()) return "empty host";
  if (h == "*") return {};  // any host, like an empty list (docs/routing.md)
  if (h.front() == '[') {
    if (h.back() != ']') return "ports are not part of host matching; remove the \":port\"";
    if (!is_ipv6(h.substr(1, h.size() - 2))) return in_quotes(h) + " is not a valid IPv6 address";
    return {};
  }
  if (h.find(':') != std::string_view::npos)
    return "ports are not part of host matching; remove the \":port\"";
  std::string_view rest = h;
  if (rest.size() > 2 && rest.substr(0, 2) == "*.") rest.remove_prefix(2);
  if (rest.find('*') != std::string_view::npos)
    return "a wildcard is allowed only as the leading \"*.\" label";
  return dns_name_problem(rest);
}

// Empty when `p` could equal (or prefix) a canonical path as produced by
// http1::normalize_target; anything else would silently never match.
std::string path_problem(std::string_view p) {
  if (p.empty() || p.front() != '/') return "a path must start with \"/\"";
  for (size_t i = 0; i < p.size(); ++i) {
    auto c = static_cast<unsigned char>(p[i]);
    if (c <= 0x20 || c == 0x7f) return "a path cannot contain spaces or control characters";
    if (c == '?') return "a path cannot contain '?'; match query parameters with match.query";
    if (c == '#') return "a path cannot contain '#'; fragments never reach the server";
    if (c == '\\') return "a path cannot contain a backslash";
    if (c == '%') {
      if (i + 2 >= p.size() || !is_hex_digit(p[i + 1]) || !is_hex_digit(p[i + 2]))
        return "bad percent-encoding in path";
      std::string_view hex = p.substr(i + 1, 2);
      if (hex.find_first_of("abcdef") != std::string_view::npos)
        return "use upper-case hex in %XX; canonical paths do";
      unsigned v = 0;
      std::from_chars(hex.data(), hex.data() + 2, v, 16);
      if (is_alpha(static_cast<char>(v)) || is_digit(static_cast<char>(v)) || v == '-' ||
          v == '.' || v == '_' || v == '~')
        return "%" + std::string(hex) + " is an unreserved character; write it literally";
      if (v == '/' || v == '\\' || v == 0)
        return "encoded '/', '\\' or NUL is rejected by the proxy, so this can never match";
    }
  }
  if (p.find("//") != std::string_view::npos) return "a path cannot contain \"//\"";
  if (p.find("/./") != std::string_view::npos || p.find("/../") != std::string_view::npos ||
      p.ends_with("/.") || p.ends_with("/.."))
    return "a path cannot contain \".\" or \"..\" segments";
  return {};
}

// Empty when every {param} is a whole segment with a unique identifier name.
std::string template_problem(std::string_view p) {
  std::set<std::string_view> seen;
  size_t start = 1;
  while (start <= p.size()) {
    size_t slash = p.find('/', start);
    std::string_view seg =
        p.substr(start, slash == std::string_view::npos ? p.npos : slash - start);
    auto opens = std::count(seg.begin(), seg.end(), '{');
    auto closes = std::count(seg.begin(), seg.end(), '}');
    if (opens != 0 || closes != 0) {
      if (opens != closes) return "unbalanced braces in segment " + in_quotes(seg);
      if (opens != 1 || seg.front() != '{' || seg.back() != '}')
        return "a parameter must be a whole segment, like /users/{id}; got " + in_quotes(seg);
      std::string_view name = seg.substr(1, seg.size() - 2);
      if (name.empty()) return "empty parameter name";
      if (!is_identifier(name))
        return "parameter name " + in_quotes(name) + " is not an identifier";
      if (!seen.insert(name).second) return "parameter " + in_quotes(name) + " appears twice";
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return {};
}

// Empty when RE2 accepts `re`; logging off so a bad pattern is reported once,
// as a config error, not also on stderr.
std::string regex_problem(std::string_view re, const std::string* rewrite = nullptr,
                          std::string* rewrite_error = nullptr) {
  RE2::Options opts;
  opts.set_log_errors(false);
  RE2 compiled(re2::StringPiece(re.data(), re.size()), opts);
  if (!compiled.ok()) return "invalid regex: " + compiled.error();
  if (rewrite != nullptr && !compiled.CheckRewriteString(*rewrite, rewrite_error) &&
      rewrite_error->empty())
    *rewrite_error = "invalid replacement";
  return {};
}

// Optimal string alignment distance: a transposition ("pahts") counts as one.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

const char* path_kind_name(PathKind k) {
  switch (k) {
    case PathKind::kExact:
      return "an exact path";
    case PathKind::kTemplate:
      return "a template";
    case PathKind::kRegex:
      return "a regex";
    case PathKind::kPrefix:
      return "a prefix";
  }
  return "?";
}

class Validator {
 public:
  Validator(const FieldPositions& positions, std::vector<ConfigError>& errors)
      : positions_(positions), errors_(errors) {}

  void run(const Config& cfg) {
    check_server(cfg.server);
    std::map<std::string, std::string> upstream_first;  // name -> field of its first definition
    std::vector<std::string> upstream_names;
    for (size_t i = 0; i < cfg.upstreams.size(); ++i) {
      const auto& u = cfg.upstreams[i];
      std::string f = idx("upstreams", i);
      check_name("upstream", u.name, u.pos, f, upstream_first);
      upstream_names.push_back(u.name);
      check_upstream(u, f);
    }
    std::map<std::string, std::string> route_first;
    for (size_t i = 0; i < cfg.routes.size(); ++i) {
      const auto& r = cfg.routes[i];
      std::string f = idx("routes", i);
      check_name("route", r.name, r.pos, f, route_first);
      check_route(r, f, upstream_names);
    }
    std::map<std::string, std::string> consumer_first;
    std::map<std::pair<std::string, std::string>, std::string> credential_first;
    for (size_t i = 0; i < cfg.consumers.size(); ++i) {
      const auto& c = cfg.consumers[i];
      std::string f = idx("consumers", i);
      check_name("consumer", c.name, c.pos, f, consumer_first);
      check_consumer(c, f, credential_first);
    }
    check_policies(cfg.policies, SourcePos{}, "policies");
    std::map<std::string, std::string> spec_first;
    for (size_t i = 0; i < cfg.specs.size(); ++i) {
      const auto& s = cfg.specs[i];
      std::string f = idx("specs", i);
      if (!s.sha256.empty()) continue;  // a deployed API revision, named by the store
      check_name("spec", s.name, s.pos, f, spec_first);
      if (s.file.empty() == s.text.empty())
        error(s.pos, f, s.file.empty() ? "missing_field" : "invalid_value",
              "a spec needs exactly one of file or document");
    }
    check_mock_specs(cfg);
    validate_llm(cfg, positions_, errors_);
    validate_mcp(cfg, positions_, errors_);
    validate_grpc(cfg, positions_, errors_);
    validate_grpc_transcode(cfg, positions_, errors_);
  }

 private:
  // Mock routes name a spec of `specs:` (deployed API versions are there too,
  // as API@VERSION); operations are checked when the snapshot loads the spec.
  void check_mock_specs(const Config& cfg) {
    std::vector<std::string> names;
    for (const auto& s : cfg.specs) names.push_back(s.name);
    for (size_t i = 0; i < cfg.routes.size(); ++i) {
      const auto& r = cfg.routes[i];
      if (!r.mock || r.mock->spec.empty() || !r.upstream.empty() || r.llm || r.mcp) continue;
      // "API@VERSION" names a deployed API version: the store adds those
      // specs after this check, and the snapshot build reports a missing one.
      if (r.mock->spec.find('@') != std::string::npos) continue;
      if (std::find(names.begin(), names.end(), r.mock->spec) == names.end())
        error(r.pos, idx("routes", i) + ".mock.spec", "unknown_spec",
              "unknown spec " + in_quotes(r.mock->spec) + did_you_mean(r.mock->spec, names));
    }
  }

  SourcePos locate(const std::string& field, const SourcePos& fallback) const {
    return detail::locate_field(positions_, field, fallback);
  }

  void error(const SourcePos& fallback, const std::string& field, std::string code,
             std::string message) {
    errors_.push_back(
        ConfigError{locate(field, fallback), field, std::move(code), std::move(message)});
  }

  void in_range(int64_t v, int64_t lo, int64_t hi, const SourcePos& at, const std::string& f) {
    if (v >= lo && v <= hi) return;
    if (hi == std::numeric_limits<int64_t>::max())
      error(at, f, "invalid_value",
            "must be at least " + std::to_string(lo) + ", got " + std::to_string(v));
    else
      error(at, f, "invalid_value",
            "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " +
                std::to_string(v));
  }
  void at_least(int64_t v, int64_t lo, const SourcePos& at, const std::string& f) {
    in_range(v, lo, std::numeric_limits<int64_t>::max(), at, f);
  }
  void percent(double v, const SourcePos& at, const std::string& f) {
    if (!(v >= 0.0 && v <= 100.0))  // also rejects NaN
      error(at, f, "invalid_value", "must be a percentage between 0 and 100");
  }
  void positive_duration(int64_t ms, const SourcePos& at, const std::string& f) {
    if (ms <= 0)
      error(at, f, "invalid_value",
            "must be a positive duration, got " + std::to_string(ms) + "ms");
  }
  void non_negative_duration(int64_t ms, const SourcePos& at, const std::string& f) {
    if (ms < 0) error(at, f, "invalid_value", "cannot be negative");
  }
  void statuses(const std::vector<int>& v, const SourcePos& at, const std::string& f) {
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i] < 100 || v[i] > 599)
        error(at, idx(f, i), "invalid_value",
              "HTTP status must be between 100 and 599, got " + std::to_string(v[i]));
    }
  }

  void check_name(const char* kind, const std::string& name, const SourcePos& at,
                  const std::string& f, std::map<std::string, std::string>& first) {
    std::string nf = f + ".name";
    if (name.empty()) {
      error(at, nf, "missing_field", std::string("a ") + kind + " needs a name");
      return;
    }
    if (!is_valid_name(name)) {
      error(at, nf, "invalid_name",
            std::string(kind) + " name " + in_quotes(name) +
                " must be 1-128 characters of A-Z a-z 0-9 . _ -");
    }
    auto [it, inserted] = first.emplace(name, nf);
    if (!inserted) {
      SourcePos prev = locate(it->second, SourcePos{});
      std::string where = prev.line > 0
                              ? " (first defined at line " + std::to_string(prev.line) + ")"
                              : " (first defined at " + it->second + ")";
      error(at, nf, "duplicate_name",
            std::string("duplicate ") + kind + " name " + in_quotes(name) + where);
    }
  }

  void check_listener(const std::string& addr, const std::string& f) {
    std::string host, why;
    uint16_t port = 0;
    if (!split_host_port(addr, host, port, why)) error(SourcePos{}, f, "invalid_address", why);
  }

  // File contents (readable, parsable, key matches) are checked when the
  // snapshot is built; here only the shape.
  void check_tls(const TlsConfig& t, bool listener) {
    const SourcePos& at = t.pos;
    if (listener && t.certificates.empty())
      error(locate("listeners.proxy_tls", at), "tls.certificates", "missing_field",
            "listeners.proxy_tls needs at least one certificate in tls.certificates");
    for (size_t i = 0; i < t.certificates.size(); ++i) {
      const auto& c = t.certificates[i];
      std::string f = idx("tls.certificates", i);
      // Each half is a file or inline PEM, exactly one of the two.
      if (!c.cert.empty() && !c.cert_pem.empty())
        error(c.cert_pos, f + ".cert_pem", "conflicting_fields",
              "cert and cert_pem are two forms of one certificate: give one");
      else if (c.cert.empty() && c.cert_pem.empty())
        error(c.pos, f + ".cert", "missing_field",
              "a certificate is needed: a PEM file (cert) or the PEM text (cert_pem)");
      if (!c.key.empty() && !c.key_pem.empty())
        error(c.key_pos, f + ".key_pem", "conflicting_fields",
              "key and key_pem are two forms of one private key: give one");
      else if (c.key.empty() && c.key_pem.empty())
        error(c.pos, f + ".key", "missing_field",
              "a private key is needed: a PEM file (key) or the PEM text (key_pem)");
    }
    if (t.client_auth.mode != ClientAuthMode::kNone && t.client_auth.ca_file.empty())
      error(at, "tls.client_auth.ca_file", "missing_field",
            "client_auth optional/required needs the CA file client certificates chain to");
    if (t.client_auth.verify_depth < 1 || t.client_auth.verify_depth > 16)
      error(at, "tls.client_auth.verify_depth", "invalid_value", "must be 1 to 16");
    positive_duration(t.handshake_timeout_ms, at, "tls.handshake_timeout");
    positive_duration(t.session_timeout_ms, at, "tls.session_timeout");
  }

  void check_server(const ServerConfig& s) {
    const SourcePos none;
    check_listener(s.listeners.proxy, "listeners.proxy");
    check_listener(s.listeners.admin, "listeners.admin");
    if (!s.listeners.proxy_tls.empty())
      check_listener(s.listeners.proxy_tls, "listeners.proxy_tls");
    check_tls(s.tls, !s.listeners.proxy_tls.empty());
    const auto& h = s.http;
    auto positive = [&](uint64_t v, const char* f) {
      if (v == 0) error(none, f, "invalid_value", "must be greater than 0");
    };
    positive(h.max_request_line, "http.max_request_line");
    positive(h.max_header_bytes, "http.max_header_bytes");
    positive(h.max_headers, "http.max_headers");
    positive(h.max_pipelined, "http.max_pipelined");
    positive_duration(h.client_header_timeout_ms, none, "http.client_header_timeout");
    positive_duration(h.client_idle_timeout_ms, none, "http.client_idle_timeout");
    const auto& h2 = s.http2;
    if (h2.max_concurrent_streams == 0 || h2.max_concurrent_streams > 10'000)
      error(none, "http2.max_concurrent_streams", "invalid_value", "must be between 1 and 10000");
    // RFC 9113 6.5.2: windows above 2^31-1 are a protocol error.
    if (h2.initial_window_size == 0 || h2.initial_window_size > 0x7fffffff)
      error(none, "http2.initial_window_size", "invalid_value",
            "must be between 1 and 2147483647 bytes");
    if (h2.max_header_list_size < 1024 || h2.max_header_list_size > 16 * 1024 * 1024)
      error(none, "http2.max_header_list_size", "invalid_value", "must be between 1k and 16m");
    if (s.access_log.path.empty())
      error(none, "access_log.path", "invalid_value", "use \"-\" for stdout or a file path");
    non_negative_duration(s.drain_timeout_ms, none, "drain_timeout");
  }

  void check_timeouts(const TimeoutsConfig& t, const SourcePos& at, const std::string& f) {
    positive_duration(t.connect_ms, at, f + ".connect");
    non_negative_duration(t.request_ms, at, f + ".request");
    positive_duration(t.idle_ms, at, f + ".idle");
    non_negative_duration(t.stream_idle_ms, at, f + ".stream_idle");
    non_negative_duration(t.stream_total_ms, at, f + ".stream_total");
  }

  void check_tags(const std::vector<std::string>& tags, const SourcePos& at, const std::string& f) {
    for (size_t i = 0; i < tags.size(); ++i)
      if (tags[i].empty()) error(at, idx(f, i), "invalid_value", "a tag cannot be empty");
  }

  void check_policies(const std::vector<PolicyRef>& policies, const SourcePos& at,
                      const std::string& f) {
    for (size_t i = 0; i < policies.size(); ++i) {
      if (policies[i].name.empty())
        error(policies[i].pos.line > 0 ? policies[i].pos : at, idx(f, i) + ".name", "missing_field",
              "a policy needs a name");
    }
  }

  void check_upstream(const UpstreamConfig& u, const std::string& f) {
    const SourcePos& at = u.pos;
    check_upstream_tls(
        u.tls, f + ".tls",
        [&](const SourcePos& at, const std::string& field, std::string code, std::string message) {
          error(at, field, std::move(code), std::move(message));
        });
    if (u.targets.empty())
      error(at, f + ".targets", "missing_field", "an upstream needs at least one target");
    std::map<std::string, size_t> seen;
    for (size_t i = 0; i < u.targets.size(); ++i) {
      const auto& t = u.targets[i];
      std::string tf = idx(f + ".targets", i);
      std::string host, why;
      uint16_t port = 0;
      if (t.address.empty()) {
        error(at, tf + ".address", "missing_field", "a target needs an address (host:port)");
      } else if (!split_host_port(t.address, host, port, why)) {
        error(at, tf + ".address", "invalid_address", why);
      } else if (port == 0) {
        error(at, tf + ".address", "invalid_address", "port must be between 1 and 65535");
      } else if (auto [it, inserted] = seen.emplace(t.address, i); !inserted) {
        error(at, tf + ".address", "duplicate_target",
              "target " + in_quotes(t.address) + " is listed twice (also " +
                  idx(f + ".targets", it->second) + ")");
      }
      if (t.weight > kMaxWeight)
        error(at, tf + ".weight", "invalid_value",
              "must be between 0 and 1000, got " + std::to_string(t.weight));
    }

    const auto& b = u.balancer;
    bool keyed = b.kind == BalancerKind::kConsistentHash &&
                 (b.hash_on == HashOn::kHeader || b.hash_on == HashOn::kCookie);
    if (keyed && b.hash_key.empty()) {
      error(at, f + ".balancer.key", "missing_field",
            "hash_on header or cookie needs key: the header or cookie name");
    } else if (!keyed && !b.hash_key.empty()) {
      error(at, f + ".balancer.key", "invalid_value",
            "key is only used with kind consistent-hash and hash_on header or cookie");
    } else if (keyed && !is_token(b.hash_key)) {
      error(at, f + ".balancer.key", "invalid_value",
            in_quotes(b.hash_key) + " is not a valid name");
    }

    check_timeouts(u.timeouts, at, f + ".timeouts");

    const auto& r = u.retries;
    std::string rf = f + ".retries";
    in_range(r.attempts, 0, kMaxRetryAttempts, at, rf + ".attempts");
    non_negative_duration(r.per_try_timeout_ms, at, rf + ".per_try_timeout");
    non_negative_duration(r.backoff_base_ms, at, rf + ".backoff_base");
    non_negative_duration(r.backoff_max_ms, at, rf + ".backoff_max");
    if (r.backoff_max_ms < r.backoff_base_ms)
      error(at, rf + ".backoff_max", "invalid_value", "must not be less than backoff_base");
    statuses(r.on_statuses, at, rf + ".on_statuses");
    percent(r.budget_percent, at, rf + ".budget_percent");
    at_least(r.min_retry_concurrency, 0, at, rf + ".min_retry_concurrency");

    const auto& a = u.health_active;
    std::string af = f + ".health_checks.active";
    if (a.path.empty() || a.path.front() != '/' ||
        std::any_of(a.path.begin(), a.path.end(),
                    [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; }))
      error(at, af + ".path", "invalid_path",
            "a probe path must start with \"/\" and contain no spaces or control characters");
    if (!a.host.empty()) check_host_header(a.host, at, af + ".host");
    positive_duration(a.interval_ms, at, af + ".interval");
    positive_duration(a.timeout_ms, at, af + ".timeout");
    at_least(a.healthy_threshold, 1, at, af + ".healthy_threshold");
    at_least(a.unhealthy_threshold, 1, at, af + ".unhealthy_threshold");
    if (a.healthy_statuses.empty())
      error(at, af + ".healthy_statuses", "invalid_value", "needs at least one status");
    statuses(a.healthy_statuses, at, af + ".healthy_statuses");

    const auto& p = u.health_passive;
    std::string pf = f + ".health_checks.passive";
    at_least(p.consecutive_5xx, 0, at, pf + ".consecutive_5xx");
    at_least(p.consecutive_connect_failures, 0, at, pf + ".consecutive_connect_failures");
    positive_duration(p.base_ejection_ms, at, pf + ".base_ejection");
    if (p.max_ejection_ms < p.base_ejection_ms)
      error(at, pf + ".max_ejection", "invalid_value", "must not be less than base_ejection");
    percent(p.max_ejection_percent, at, pf + ".max_ejection_percent");

    at_least(u.pool.max_idle_per_target, 0, at, f + ".pool.max_idle_per_target");
    positive_duration(u.pool.idle_timeout_ms, at, f + ".pool.idle_timeout");
    at_least(u.pool.max_requests_per_connection, 0, at, f + ".pool.max_requests_per_connection");

    at_least(u.breaker.max_connections, 1, at, f + ".circuit_breaker.max_connections");
    at_least(u.breaker.max_pending, 1, at, f + ".circuit_breaker.max_pending");
    at_least(u.breaker.max_requests, 1, at, f + ".circuit_breaker.max_requests");

    positive_duration(u.dns_refresh_ms, at, f + ".dns_refresh");
    check_tags(u.tags, at, f + ".tags");
  }

  // A Host header value we send: "name" or "name:port".
  void check_host_header(const std::string& h, const SourcePos& at, const std::string& f) {
    std::string why, host;
    uint16_t port = 0;
    bool has_port =
        h.front() == '[' ? h.find("]:") != std::string::npos : h.find(':') != std::string::npos;
    if (has_port) {
      if (!split_host_port(h, host, port, why)) error(at, f, "invalid_host", why);
    } else if (h.front() == '[') {
      if (h.back() != ']' || !is_ipv6(std::string_view(h).substr(1, h.size() - 2)))
        error(at, f, "invalid_host", in_quotes(h) + " is not a valid IPv6 literal");
    } else if (auto p = dns_name_problem(h); !p.empty()) {
      error(at, f, "invalid_host", p);
    }
  }

  void check_value_matches(const std::vector<ValueMatch>& v, const SourcePos& at,
                           const std::string& f, bool token_names) {
    for (const auto& m : v) {
      std::string mf = f + "." + m.name;
      if (m.name.empty() || (token_names && !is_token(m.name)))
        error(at, mf, "invalid_value", in_quotes(m.name) + " is not a valid name");
      if (m.value.size() > 0 && m.value.front() == '~') {
        if (auto p = regex_problem(std::string_view(m.value).substr(1)); !p.empty())
          error(at, mf, "invalid_regex", p);
      }
    }
  }

  void check_route(const RouteConfig& r, const std::string& f,
                   const std::vector<std::string>& upstreams) {
    const SourcePos& at = r.pos;
    if (r.mock) {
      // A mock route answers from a spec (src/apim/mock): no upstream. The
      // spec name is checked against `specs:` in check_mock_specs().
      if (!r.upstream.empty() || r.llm || r.mcp)
        error(at, f + ".mock", "conflicting_fields",
              "a route has one of upstream, llm, mcp or mock");
      else if (r.mock->spec.empty())
        error(at, f + ".mock.spec", "missing_field",
              "a mock route needs the spec it answers from (a specs[].name)");
    } else if (r.llm || r.mcp) {
      // AI and MCP routes are checked by validate_llm() and validate_mcp();
      // they have no upstream.
      if (!r.upstream.empty() || (r.llm && r.mcp))
        error(at, f + (r.llm && r.mcp ? ".mcp" : ".upstream"), "conflicting_fields",
              "a route has one of upstream, llm or mcp");
    } else if (r.upstream.empty()) {
      error(at, f + ".upstream", "missing_field",
            "a route needs an upstream (or llm, mcp or mock)");
    } else if (std::find(upstreams.begin(), upstreams.end(), r.upstream) == upstreams.end()) {
      error(at, f + ".upstream", "unknown_upstream",
            "unknown upstream " + in_quotes(r.upstream) + did_you_mean(r.upstream, upstreams));
    }

    const auto& m = r.match;
    std::string mf = f + ".match";
    for (size_t i = 0; i < m.paths.size(); ++i) {
      const auto& p = m.paths[i];
      std::string pf = idx(mf + ".paths", i);
      if (p.kind == PathKind::kRegex) {
        if (p.value.empty())
          error(at, pf, "invalid_regex", "empty regex after \"~\"");
        else if (auto e = regex_problem(p.value); !e.empty())
          error(at, pf, "invalid_regex", e);
        continue;
      }
      if (auto e = path_problem(p.value); !e.empty()) {
        error(at, pf, "invalid_path", e);
      } else if (p.kind == PathKind::kTemplate) {
        if (auto t = template_problem(p.value); !t.empty()) error(at, pf, "invalid_template", t);
      }
    }
    for (size_t i = 0; i < m.methods.size(); ++i) {
      if (!is_token(m.methods[i]))
        error(at, idx(mf + ".methods", i), "invalid_method",
              in_quotes(m.methods[i]) + " is not an HTTP method token");
    }
    for (size_t i = 0; i < m.hosts.size(); ++i) {
      if (auto e = route_host_problem(m.hosts[i]); !e.empty())
        error(at, idx(mf + ".hosts", i), "invalid_host", e);
    }
    check_value_matches(m.headers, at, mf + ".headers", true);
    check_value_matches(m.query, at, mf + ".query", false);
    check_value_matches(m.cookies, at, mf + ".cookies", true);

    const auto& w = r.rewrite;
    std::string wf = f + ".rewrite";
    if (w.strip_prefix) {
      for (size_t i = 0; i < m.paths.size(); ++i) {
        if (m.paths[i].kind != PathKind::kPrefix) {
          error(at, wf + ".strip_prefix", "invalid_rewrite",
                "strip_prefix works only with prefix paths, but " + idx(mf + ".paths", i) + " is " +
                    path_kind_name(m.paths[i].kind));
          break;
        }
      }
    }
    if (!w.regex.empty() && w.replacement.empty()) {
      error(at, wf + ".regex", "invalid_rewrite", "regex needs a replacement");
    } else if (w.regex.empty() && !w.replacement.empty()) {
      error(at, wf + ".replacement", "invalid_rewrite", "replacement needs a regex");
    } else if (!w.regex.empty()) {
      std::string rewrite_error;
      if (auto e = regex_problem(w.regex, &w.replacement, &rewrite_error); !e.empty())
        error(at, wf + ".regex", "invalid_regex", e);
      else if (!rewrite_error.empty())
        error(at, wf + ".replacement", "invalid_replacement", rewrite_error);
    }
    if (!w.path_prefix.empty()) {
      if (auto e = path_problem(w.path_prefix); !e.empty())
        error(at, wf + ".path_prefix", "invalid_path", e);
    }
    if (!w.host.empty()) {
      check_host_header(w.host, at, wf + ".host");
      if (w.preserve_host)
        error(at, wf + ".preserve_host", "invalid_rewrite",
              "preserve_host and host both set the upstream Host header; pick one");
    }

    if (r.timeouts) check_timeouts(*r.timeouts, at, f + ".timeouts");
    check_policies(r.policies, at, f + ".policies");
    check_tags(r.tags, at, f + ".tags");
  }

  void check_consumer(const ConsumerConfig& c, const std::string& f,
                      std::map<std::pair<std::string, std::string>, std::string>& seen) {
    const SourcePos& at = c.pos;
    for (size_t i = 0; i < c.groups.size(); ++i) {
      if (!is_valid_name(c.groups[i]))
        error(at, idx(f + ".groups", i), "invalid_name",
              "group " + in_quotes(c.groups[i]) + " must be 1-128 characters of A-Z a-z 0-9 . _ -");
    }
    for (size_t i = 0; i < c.credentials.size(); ++i) {
      const auto& cred = c.credentials[i];
      std::string cf = idx(f + ".credentials", i);
      auto type = cred.find("type");
      if (type == cred.end() || type->second.empty()) {
        error(at, cf + ".type", "missing_field", "a credential needs a type, e.g. key-auth");
        continue;
      }
      // Two consumers holding one key would make authentication ambiguous.
      auto key = cred.find("key");
      if (key == cred.end()) continue;
      auto [it, inserted] = seen.emplace(std::make_pair(type->second, key->second), cf + ".key");
      if (!inserted) {
        SourcePos prev = locate(it->second, SourcePos{});
        error(at, cf + ".key", "duplicate_credential",
              type->second + " key is already used by " + it->second +
                  (prev.line > 0 ? " (line " + std::to_string(prev.line) + ")" : ""));
      }
    }
    check_tags(c.tags, at, f + ".tags");
  }

  const FieldPositions& positions_;
  std::vector<ConfigError>& errors_;
};

}  // namespace

bool split_host_port(std::string_view address, std::string& host, uint16_t& port,
                     std::string& why) {
  host.clear();
  port = 0;
  if (address.empty()) {
    why = "empty address (expected host:port)";
    return false;
  }
  std::string_view h, p;
  if (address.front() == '[') {
    size_t close = address.find(']');
    if (close == std::string_view::npos) {
      why = "missing ']' in IPv6 address";
      return false;
    }
    h = address.substr(1, close - 1);
    std::string_view rest = address.substr(close + 1);
    if (rest.empty() || rest.front() != ':') {
      why = "missing port (expected [v6]:port)";
      return false;
    }
    p = rest.substr(1);
    if (!is_ipv6(h)) {
      why = in_quotes(h) + " is not a valid IPv6 address";
      return false;
    }
  } else {
    size_t colon = address.rfind(':');
    if (colon == std::string_view::npos) {
      why = "missing port (expected host:port)";
      return false;
    }
    h = address.substr(0, colon);
    p = address.substr(colon + 1);
    if (h.find(':') != std::string_view::npos) {
      why = "IPv6 addresses need brackets: [addr]:port";
      return false;
    }
    if (auto e = dns_name_problem(h); !e.empty()) {
      why = e;
      return false;
    }
  }
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (p.empty() || p.size() > 5 || ec != std::errc() || ptr != p.data() + p.size() ||
      value > 65535) {
    why = "invalid port " + in_quotes(p) + " (expected 1-65535)";
    return false;
  }
  host = std::string(h);
  port = static_cast<uint16_t>(value);
  return true;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  if (word.empty() || word.size() > kMaxSuggestLength) return {};
  std::string w = to_lower(word);
  const std::string* best = nullptr;
  size_t best_distance = 0;
  for (const auto& c : candidates) {
    if (c.empty() || c.size() > kMaxSuggestLength || c == word) continue;
    size_t d = edit_distance(w, to_lower(c));
    if (best == nullptr || d < best_distance) {
      best = &c;
      best_distance = d;
    }
  }
  if (best == nullptr) return {};
  // Short words tolerate fewer edits, or every 3-letter key "looks like" another.
  size_t limit = w.size() <= 3 ? 1 : w.size() <= 6 ? 2 : 3;
  if (best_distance > limit) return {};
  return " (did you mean " + in_quotes(*best) + "?)";
}

void validate(const Config& cfg, const FieldPositions& positions,
              std::vector<ConfigError>& errors) {
  Validator(positions, errors).run(cfg);
}

void validate(const Config& cfg, std::vector<ConfigError>& errors) {
  validate(cfg, FieldPositions{}, errors);
}

}  // namespace gatehouse::config
