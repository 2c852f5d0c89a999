// Declarative YAML -> Config. This file checks the document's shape and types,
// expands ${VAR} references and records where every field was written; the
// semantic rules (names, addresses, paths, cross references) live in
// validate.cpp so the admin API runs the same ones on entities that never were
// YAML.
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <tuple>
#include <type_traits>
#include <utility>

#include "common/strings.hpp"
#include "config/loader.hpp"

namespace gatehouse::config {

namespace {

using YAML::Node;

// Aliases let a few bytes reference one big node many times (and nested
// aliases grow exponentially when re-emitted). These caps bound the work.
constexpr size_t kMaxNodes = 1'000'000;
constexpr size_t kMaxPolicyConfigNodes = 100'000;
constexpr int kMaxPolicyConfigDepth = 64;
constexpr int kMaxMergeDepth = 16;

// A value in the document together with where it is and what it is called.
struct Slot {
  Node node;
  SourcePos pos;      // of the value, or of its key when the value is null
  std::string field;  // "routes[2].match.paths[0]"
};

struct Entry {
  std::string key;
  SourcePos key_pos;
  Slot value;
};

std::string join(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

std::string index_field(const std::string& parent, size_t i) {
  return parent + "[" + std::to_string(i) + "]";
}

// Control bytes are escaped so a hostile value cannot forge terminal output.
std::string in_quotes(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

const char* kind_name(const Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return "a scalar";
    case YAML::NodeType::Null: return "nothing";
    case YAML::NodeType::Undefined: break;
  }
  return "nothing";
}

bool is_env_name(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// ${VAR} and ${VAR:-default} (default when unset or empty, as in sh); "$${"
// is a literal "${". Any other '$' is literal, so regexes ending in '$' work.
bool expand_env(std::string_view in, std::string& out, std::string& code, std::string& why) {
  out.clear();
  size_t i = 0;
  while (i < in.size()) {
    size_t dollar = in.find('$', i);
    if (dollar == std::string_view::npos) {
      out.append(in.substr(i));
      break;
    }
    out.append(in.substr(i, dollar - i));
    if (in.substr(dollar, 3) == "$${") {
      out += "${";
      i = dollar + 3;
      continue;
    }
    if (dollar + 1 >= in.size() || in[dollar + 1] != '{') {
      out += '$';
      i = dollar + 1;
      continue;
    }
    size_t close = in.find('}', dollar + 2);
    if (close == std::string_view::npos) {
      code = "invalid_value";
      why = "unterminated \"${\" (write \"$${\" for a literal \"${\")";
      return false;
    }
    std::string_view body = in.substr(dollar + 2, close - dollar - 2);
    std::string_view name = body;
    std::optional<std::string_view> fallback;
    if (size_t sep = body.find(":-"); sep != std::string_view::npos) {
      name = body.substr(0, sep);
      fallback = body.substr(sep + 2);
    }
    if (!is_env_name(name)) {
      code = "invalid_value";
      why = "invalid variable reference \"${" + std::string(body) + "}\"";
      return false;
    }
    const char* value = std::getenv(std::string(name).c_str());
    if (fallback) {
      out.append(value != nullptr && *value != '\0' ? std::string_view(value) : *fallback);
    } else if (value == nullptr) {
      code = "unset_variable";
      why = "environment variable " + std::string(name) + " is not set (use ${" +
            std::string(name) + ":-default} to give a default)";
      return false;
    } else {
      out.append(value);
    }
    i = close + 1;
  }
  return true;
}

bool parse_int(std::string_view s, int64_t& out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && ptr == s.data() + s.size();
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// Generic typed access to the document: every problem becomes a ConfigError at
// the value's position, and reading goes on so that all errors are collected.
class Reader {
 public:
  Reader(std::string file, std::string_view source, std::vector<ConfigError>& errors,
         FieldPositions& positions)
      : file_(std::move(file)), source_(source), errors_(errors), positions_(positions) {}

  SourcePos pos_of(const Node& n) const {
    YAML::Mark m = n.Mark();
    return SourcePos{file_, m.line >= 0 ? m.line + 1 : 0, m.column >= 0 ? m.column + 1 : 0};
  }

  // yaml-cpp marks an empty value ("key:" at the end of a line) at the next
  // token, often on a later line; only a written "~" or "null" has a mark
  // worth reporting. Otherwise point at `fallback` (its key or its list).
  SourcePos null_pos(const Node& n, const SourcePos& fallback) const {
    YAML::Mark m = n.Mark();
    if (m.pos < 0 || static_cast<size_t>(m.pos) >= source_.size()) return fallback;
    std::string_view at = source_.substr(static_cast<size_t>(m.pos));
    if (at.starts_with("~") || at.starts_with("null") || at.starts_with("Null") ||
        at.starts_with("NULL"))
      return pos_of(n);
    return fallback;
  }

  void fail(const SourcePos& at, std::string field, std::string code, std::string message) {
    errors_.push_back(ConfigError{at, std::move(field), std::move(code), std::move(message)});
  }
  void fail(const Slot& s, std::string code, std::string message) {
    fail(s.pos, s.field, std::move(code), std::move(message));
  }
  void type_error(const Slot& s, const char* expected) {
    fail(s, "invalid_type", std::string("expected ") + expected + ", got " + kind_name(s.node));
  }

  // Counts visited nodes; false (reported once) when the document is too big.
  bool spend(const SourcePos& at) {
    if (++spent_ <= kMaxNodes) return true;
    if (!exhausted_) {
      exhausted_ = true;
      fail(at, "", "too_large",
           "document expands to more than " + std::to_string(kMaxNodes) + " nodes");
    }
    return false;
  }
  bool exhausted() const { return exhausted_; }

  // A map's entries in document order with "<<" merge keys applied (explicit
  // keys win, earlier merge sources win). Repeated keys are errors: YAML
  // forbids them and yaml-cpp would silently keep both.
  std::vector<Entry> entries(const Slot& s, int merge_depth = 0) {
    std::vector<Entry> out;
    if (!s.node.IsMap()) {
      type_error(s, "a map");
      return out;
    }
    std::vector<Slot> merges;
    for (auto it = s.node.begin(); it != s.node.end(); ++it) {
      if (!spend(s.pos)) return out;
      Node key = it->first;
      Node value = it->second;
      SourcePos key_pos = pos_of(key);
      if (!key.IsScalar()) {
        fail(key_pos, s.field, "invalid_type",
             std::string("map keys must be plain strings, got ") + kind_name(key));
        continue;
      }
      const std::string& k = key.Scalar();
      SourcePos value_pos = value.IsNull() ? null_pos(value, key_pos) : pos_of(value);
      if (k == "<<" && key.Tag() == "?") {
        merges.push_back(Slot{value, value_pos, s.field});
        continue;
      }
      std::string f = join(s.field, k);
      auto first = std::find_if(out.begin(), out.end(), [&](const Entry& e) { return e.key == k; });
      if (first != out.end()) {
        fail(key_pos, f, "duplicate_key",
             in_quotes(k) + " is repeated (first at line " + std::to_string(first->key_pos.line) + ")");
        continue;
      }
      if (merge_depth == 0) positions_[f] = value_pos;
      out.push_back(Entry{k, key_pos, Slot{value, value_pos, f}});
    }
    for (const auto& m : merges) {
      if (merge_depth >= kMaxMergeDepth) {
        fail(m, "too_deep", "merge keys (<<) nested too deeply");
        break;
      }
      std::vector<Slot> sources;
      if (m.node.IsMap()) {
        sources.push_back(m);
      } else if (m.node.IsSequence()) {
        for (auto it = m.node.begin(); it != m.node.end(); ++it)
          sources.push_back(Slot{*it, pos_of(*it), m.field});
      } else {
        type_error(m, "a map or a list of maps after \"<<\"");
        continue;
      }
      for (const auto& src : sources) {
        for (auto& e : entries(src, merge_depth + 1)) {
          bool present = std::any_of(out.begin(), out.end(),
                                     [&](const Entry& o) { return o.key == e.key; });
          if (present) continue;
          if (merge_depth == 0) positions_[e.value.field] = e.value.pos;
          out.push_back(std::move(e));
        }
      }
    }
    return out;
  }

  std::vector<Slot> items(const Slot& s) {
    std::vector<Slot> out;
    if (!s.node.IsSequence()) {
      type_error(s, "a list");
      return out;
    }
    size_t i = 0;
    for (auto it = s.node.begin(); it != s.node.end(); ++it, ++i) {
      if (!spend(s.pos)) break;
      Node n = *it;
      std::string f = index_field(s.field, i);
      Slot item{n, n.IsNull() ? null_pos(n, s.pos) : pos_of(n), f};
      positions_[f] = item.pos;
      out.push_back(std::move(item));
    }
    return out;
  }

  // The scalar's text with ${VAR} references expanded.
  std::optional<std::string> text(const Slot& s) {
    if (!s.node.IsScalar()) {
      type_error(s, "a scalar value");
      return std::nullopt;
    }
    std::string out, code, why;
    if (!expand_env(s.node.Scalar(), out, code, why)) {
      fail(s, code, why);
      return std::nullopt;
    }
    return out;
  }

  void read(const Slot& s, std::string& out) {
    if (auto t = text(s)) out = std::move(*t);
  }

  void read(const Slot& s, bool& out) {
    auto t = text(s);
    if (!t) return;
    // YAML 1.2 booleans only: "yes"/"on" meaning true is a classic YAML trap.
    if (iequals(*t, "true")) out = true;
    else if (iequals(*t, "false")) out = false;
    else fail(s, "invalid_value", "expected true or false, got " + in_quotes(*t));
  }

  template <class T>
    requires(std::is_integral_v<T> && !std::is_same_v<T, bool>)
  void read(const Slot& s, T& out) {
    auto t = text(s);
    if (!t) return;
    int64_t v = 0;
    if (!parse_int(*t, v)) {
      fail(s, "invalid_value", "expected an integer, got " + in_quotes(*t));
      return;
    }
    if constexpr (std::is_unsigned_v<T>) {
      if (v < 0) {
        fail(s, "invalid_value", "cannot be negative, got " + *t);
        return;
      }
      if (static_cast<uint64_t>(v) > std::numeric_limits<T>::max()) {
        fail(s, "invalid_value", "too large: " + *t);
        return;
      }
    } else {
      if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) {
        fail(s, "invalid_value", "out of range: " + *t);
        return;
      }
    }
    out = static_cast<T>(v);
  }

  void read(const Slot& s, double& out) {
    auto t = text(s);
    if (!t) return;
    double v = 0;
    auto [ptr, ec] = std::from_chars(t->data(), t->data() + t->size(), v);
    if (t->empty() || ec != std::errc() || ptr != t->data() + t->size() || !std::isfinite(v)) {
      fail(s, "invalid_value", "expected a number, got " + in_quotes(*t));
      return;
    }
    out = v;
  }

  void duration(const Slot& s, int64_t& out) {
    auto t = text(s);
    if (!t) return;
    if (auto ms = parse_duration_ms(*t)) {
      out = *ms;
    } else {
      fail(s, "invalid_value",
           "invalid duration " + in_quotes(*t) +
               " (expected e.g. 250ms, 5s, 2m, 1h or a non-negative number of milliseconds)");
    }
  }

  void size(const Slot& s, uint64_t& out) {
    auto t = text(s);
    if (!t) return;
    if (auto n = parse_size(*t)) {
      out = *n;
    } else {
      fail(s, "invalid_value",
           "invalid size " + in_quotes(*t) + " (expected e.g. 8k, 64KiB, 1m or a number of bytes)");
    }
  }

  void strings(const Slot& s, std::vector<std::string>& out) {
    out.clear();
    for (const auto& item : items(s)) {
      if (auto t = text(item)) out.push_back(std::move(*t));
    }
  }

  void ints(const Slot& s, std::vector<int>& out) {
    out.clear();
    for (const auto& item : items(s)) {
      int v = 0;
      size_t before = errors_.size();
      read(item, v);
      if (errors_.size() == before) out.push_back(v);
    }
  }

  template <class E>
  void choice(const Slot& s, const std::vector<std::pair<std::string, E>>& options, E& out) {
    auto t = text(s);
    if (!t) return;
    std::vector<std::string> names;
    for (const auto& [name, value] : options) {
      if (*t == name) {
        out = value;
        return;
      }
      names.push_back(name);
    }
    fail(s, "invalid_value",
         "unknown value " + in_quotes(*t) + did_you_mean(*t, names) + "; expected one of: " +
             joined(names));
  }

  const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::string_view source_;
  std::vector<ConfigError>& errors_;
  FieldPositions& positions_;
  size_t spent_ = 0;
  bool exhausted_ = false;
};

// The keys of one map, checked against the keys it may have.
class Fields {
 public:
  Fields(Reader& r, const Slot& s, std::vector<std::string> known,
         std::string_view ignored_prefix = {})
      : r_(r) {
    for (auto& e : r.entries(s)) {
      if (!ignored_prefix.empty() && e.key.starts_with(ignored_prefix)) continue;
      if (std::find(known.begin(), known.end(), e.key) == known.end()) {
        r.fail(e.key_pos, e.value.field, "unknown_field",
               "unknown field " + in_quotes(e.key) + did_you_mean(e.key, known));
        continue;
      }
      entries_.push_back(std::move(e));
    }
  }

  // Present, even if written with no value.
  bool has(std::string_view key) const { return find(key) != nullptr; }

  // Present with a value; a bare "key:" keeps the default.
  const Slot* get(std::string_view key) const {
    const Entry* e = find(key);
    return e != nullptr && !e->value.node.IsNull() ? &e->value : nullptr;
  }

  template <class T>
  void read(std::string_view key, T& out) {
    if (const Slot* s = get(key)) r_.read(*s, out);
  }
  void duration(std::string_view key, int64_t& out) {
    if (const Slot* s = get(key)) r_.duration(*s, out);
  }
  void size(std::string_view key, uint64_t& out) {
    if (const Slot* s = get(key)) r_.size(*s, out);
  }
  void strings(std::string_view key, std::vector<std::string>& out) {
    if (const Slot* s = get(key)) r_.strings(*s, out);
  }
  void ints(std::string_view key, std::vector<int>& out) {
    if (const Slot* s = get(key)) r_.ints(*s, out);
  }

 private:
  const Entry* find(std::string_view key) const {
    for (const auto& e : entries_)
      if (e.key == key) return &e;
    return nullptr;
  }

  Reader& r_;
  std::vector<Entry> entries_;
};

const std::vector<std::pair<std::string, BalancerKind>> kBalancerKinds = {
    {"round-robin", BalancerKind::kRoundRobin},
    {"least-request", BalancerKind::kLeastRequest},
    {"consistent-hash", BalancerKind::kConsistentHash},
    {"ewma", BalancerKind::kEwma},
};

const std::vector<std::pair<std::string, HashOn>> kHashOn = {
    {"ip", HashOn::kClientIp}, {"header", HashOn::kHeader}, {"cookie", HashOn::kCookie},
    {"consumer", HashOn::kConsumer}, {"path", HashOn::kPath},
};

// Which route timeout fields were written, so the rest inherit the upstream's.
enum : unsigned { kConnectSet = 1, kRequestSet = 2, kIdleSet = 4 };

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
             {"listeners", "http", "access_log", "drain_timeout", "trust_forwarded", "upstreams",
              "routes", "consumers", "policies"},
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
    inherit_route_timeouts(cfg);
  }

 private:
  void parse_server(Fields& f, ServerConfig& out) {
    if (const Slot* s = f.get("listeners")) {
      Fields l(r_, *s, {"proxy", "admin"});
      l.read("proxy", out.listeners.proxy);
      l.read("admin", out.listeners.admin);
    }
    if (const Slot* s = f.get("http")) {
      Fields h(r_, *s, {"max_request_line", "max_header_bytes", "max_headers",
                        "client_header_timeout", "client_idle_timeout", "max_pipelined"});
      h.size("max_request_line", out.http.max_request_line);
      h.size("max_header_bytes", out.http.max_header_bytes);
      h.read("max_headers", out.http.max_headers);
      h.duration("client_header_timeout", out.http.client_header_timeout_ms);
      h.duration("client_idle_timeout", out.http.client_idle_timeout_ms);
      h.read("max_pipelined", out.http.max_pipelined);
    }
    if (const Slot* s = f.get("access_log")) {
      Fields a(r_, *s, {"enabled", "path"});
      a.read("enabled", out.access_log.enabled);
      a.read("path", out.access_log.path);
    }
    f.duration("drain_timeout", out.drain_timeout_ms);
    f.read("trust_forwarded", out.trust_forwarded);
  }

  UpstreamConfig parse_upstream(const Slot& s) {
    UpstreamConfig u;
    u.pos = s.pos;
    Fields f(r_, s, {"name", "targets", "balancer", "timeouts", "retries", "health_checks",
                     "pool", "circuit_breaker", "dns_refresh", "tags"});
    f.read("name", u.name);
    if (const Slot* t = f.get("targets"))
      for (const auto& item : r_.items(*t)) u.targets.push_back(parse_target(item));
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

  TargetConfig parse_target(const Slot& s) {
    TargetConfig t;
    if (s.node.IsScalar()) {
      r_.read(s, t.address);  // shorthand: "host:port" with weight 1
    } else {
      Fields f(r_, s, {"address", "weight"});
      f.read("address", t.address);
      f.read("weight", t.weight);
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
    Fields f(r_, s, {"connect", "request", "idle"});
    f.duration("connect", t.connect_ms);
    f.duration("request", t.request_ms);
    f.duration("idle", t.idle_ms);
    return (f.get("connect") ? kConnectSet : 0u) | (f.get("request") ? kRequestSet : 0u) |
           (f.get("idle") ? kIdleSet : 0u);
  }

  void parse_retries(const Slot& s, RetryConfig& r) {
    Fields f(r_, s, {"attempts", "per_try_timeout", "backoff_base", "backoff_max", "on_statuses",
                     "budget_percent", "min_retry_concurrency"});
    f.read("attempts", r.attempts);
    f.duration("per_try_timeout", r.per_try_timeout_ms);
    f.duration("backoff_base", r.backoff_base_ms);
    f.duration("backoff_max", r.backoff_max_ms);
    f.ints("on_statuses", r.on_statuses);
    f.read("budget_percent", r.budget_percent);
    f.read("min_retry_concurrency", r.min_retry_concurrency);
  }

  void parse_health(const Slot& s, UpstreamConfig& u) {
    Fields f(r_, s, {"active", "passive"});
    // Writing an `active` block is how probes are turned on.
    u.health_active.enabled = f.has("active");
    if (const Slot* a = f.get("active")) {
      auto& h = u.health_active;
      Fields af(r_, *a, {"enabled", "path", "host", "interval", "timeout", "healthy_threshold",
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
      Fields pf(r_, *p, {"enabled", "consecutive_5xx", "consecutive_connect_failures",
                         "base_ejection", "max_ejection", "max_ejection_percent"});
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
    Fields f(r_, s, {"name", "match", "priority", "upstream", "rewrite", "timeouts", "policies",
                     "tags"});
    f.read("name", r.name);
    if (const Slot* m = f.get("match")) parse_match(*m, r.match);
    f.read("priority", r.priority);
    f.read("upstream", r.upstream);
    if (const Slot* w = f.get("rewrite")) {
      Fields wf(r_, *w, {"strip_prefix", "regex", "replacement", "path_prefix", "host",
                         "preserve_host"});
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

  ConsumerConfig parse_consumer(const Slot& s) {
    ConsumerConfig c;
    c.pos = s.pos;
    Fields f(r_, s, {"name", "groups", "credentials", "tags"});
    f.read("name", c.name);
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
      r_.fail(s, "too_deep", "policy config nested deeper than " +
                                 std::to_string(kMaxPolicyConfigDepth) + " levels");
      return false;
    }
    if (++count > kMaxPolicyConfigNodes) {
      r_.fail(s, "too_large", "policy config has more than " +
                                  std::to_string(kMaxPolicyConfigNodes) + " nodes");
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
    }
  }

  Reader r_;
  std::vector<std::pair<size_t, unsigned>> route_timeouts_set_;
};

// Notes where a document's first node starts, ignoring empty documents.
class ContentProbe : public YAML::EventHandler {
 public:
  std::optional<YAML::Mark> first;
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { note(m); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                const std::string&) override {
    note(m);
  }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    note(m);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    note(m);
  }
  void OnMapEnd() override {}

 private:
  void note(const YAML::Mark& m) {
    if (!first) first = m;
  }
};

// Where a second, non-empty document starts, if any. Not YAML::LoadAll: in
// yaml-cpp 0.7 it loops forever on input such as "," (each pass yields an
// empty document without consuming the token), so at most two passes here.
std::optional<YAML::Mark> second_document(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  ContentProbe skip, probe;
  if (!parser.HandleNextDocument(skip)) return std::nullopt;
  if (!parser.HandleNextDocument(probe)) return std::nullopt;
  return probe.first;
}

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

std::string ConfigError::to_string() const {
  std::string out = pos.file.empty() ? "<config>" : pos.file;
  if (pos.line > 0) {
    out += ":" + std::to_string(pos.line);
    if (pos.column > 0) out += ":" + std::to_string(pos.column);
  }
  out += ": ";
  if (!field.empty()) out += field + ": ";
  out += message;
  return out;
}

LoadResult load_config_text(std::string_view yaml, const std::string& file) {
  LoadResult result;
  auto& errors = result.errors;
  Node root;
  try {
    std::string text(yaml);
    root = YAML::Load(text);
    if (auto second = second_document(text)) {
      errors.push_back({mark_pos(file, *second), "", "yaml_syntax",
                        "only one YAML document is allowed"});
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
