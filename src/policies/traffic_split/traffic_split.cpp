// traffic-split: sends some requests of a route to another upstream (canary,
// blue/green, per-customer pinning). Rules are checked first, in order; the
// rest are split by weight, where the weights are percentages and whatever
// they leave over stays on the route's own upstream.
//
// The weighted split maps each request to a bucket 0..99. With `sticky`, the
// bucket is a stable hash of a key (a header, a cookie, the consumer or the
// client IP), so one user keeps seeing one version across requests, workers,
// nodes and restarts; without a key, the bucket is random.
#include <algorithm>
#include <charconv>
#include <random>

#include "common/strings.hpp"
#include "policies/config_reader.hpp"
#include "policies/policy.hpp"
#include "policies/traffic_split/match.hpp"

namespace gatehouse::policy {

namespace {

constexpr int kBuckets = 100;  // weights are whole percentages

enum class StickyBy { kNone, kHeader, kCookie, kConsumer, kIp };

struct Rule {
  RuleMatch match;
  int upstream = -1;
  std::string upstream_name;
  std::string label;  // "rules[2]", for ctx.vars
};

struct Share {
  int upstream = -1;
  std::string upstream_name;
  int end = 0;  // buckets [previous end, end) go to this upstream
};

int random_bucket() {
  // Per thread (per worker): no lock, and a worker's sequence is independent.
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return static_cast<int>(rng() % kBuckets);
}

class TrafficSplit final : public Policy {
 public:
  std::vector<Rule> rules;
  std::vector<Share> shares;
  StickyBy sticky = StickyBy::kNone;
  std::string sticky_name;   // header (any case) or cookie name
  std::string own_upstream;  // the route's upstream, when attached to a route

  std::string_view name() const override { return "traffic-split"; }
  Phase phase() const override { return Phase::kRoute; }

  Action on_request(RequestContext& ctx, Respond& /*out*/) const override {
    // Global policies run first: a global split that already chose wins.
    if (ctx.upstream_override >= 0) return Action::kContinue;
    for (const auto& r : rules) {
      if (r.match.matches(ctx)) {
        choose(ctx, r.upstream, r.upstream_name, r.label);
        return Action::kContinue;
      }
    }
    if (!shares.empty()) {
      int b = bucket(ctx);
      for (const auto& s : shares) {
        if (b < s.end) {
          choose(ctx, s.upstream, s.upstream_name, "weighted");
          return Action::kContinue;
        }
      }
    }
    if (!own_upstream.empty()) ctx.vars["traffic_split.upstream"] = own_upstream;
    ctx.vars["traffic_split.match"] = "default";
    return Action::kContinue;
  }

 private:
  static void choose(RequestContext& ctx, int upstream, const std::string& name,
                     const std::string& label) {
    ctx.upstream_override = upstream;
    ctx.vars["traffic_split.upstream"] = name;
    ctx.vars["traffic_split.match"] = label;
  }

  int bucket(const RequestContext& ctx) const {
    std::string_view key;
    switch (sticky) {
      case StickyBy::kNone:
        break;
      case StickyBy::kHeader:
        if (const std::string* v = ctx.head->find(sticky_name)) key = *v;
        break;
      case StickyBy::kCookie:
        if (auto v = cookie_value(*ctx.head, sticky_name)) key = *v;
        break;
      case StickyBy::kConsumer:
        if (ctx.consumer) key = ctx.consumer->name;
        break;
      case StickyBy::kIp:
        key = ctx.client_ip;
        break;
    }
    if (key.empty()) return random_bucket();
    return static_cast<int>(stable_hash(key) % kBuckets);
  }
};

// The upstream of the route this attachment belongs to ("routes[3].policies[0]"),
// or empty for a global attachment.
std::string route_upstream(const BuildContext& ctx) {
  constexpr std::string_view kPrefix = "routes[";
  std::string_view f = ctx.field;
  if (!ctx.config || f.substr(0, kPrefix.size()) != kPrefix) return {};
  size_t i = 0;
  auto [end, ec] = std::from_chars(f.data() + kPrefix.size(), f.data() + f.size(), i);
  if (ec != std::errc() || end == f.data() + f.size() || *end != ']') return {};
  return i < ctx.config->routes.size() ? ctx.config->routes[i].upstream : std::string{};
}

std::string known_upstreams(const BuildContext& ctx) {
  std::string out;
  if (!ctx.config) return out;
  for (const auto& u : ctx.config->upstreams) out += (out.empty() ? "" : ", ") + u.name;
  return out.empty() ? "" : " (known: " + out + ")";
}

// Resolves `n` (an upstream name) or reports at `field`; -1 on failure.
int read_upstream(ConfigReader& cr, const BuildContext& ctx, const YAML::Node& n,
                  const std::string& field, std::string& name) {
  if (!n) {
    cr.fail(field, "missing_field", "an upstream name is required");
    return -1;
  }
  if (!n.IsScalar() || n.Scalar().empty()) {
    cr.fail(field, "invalid_type", "expected an upstream name");
    return -1;
  }
  name = n.Scalar();
  int idx = ctx.upstream_index ? ctx.upstream_index(name) : -1;
  if (idx < 0)
    cr.fail(field, "unknown_upstream", "unknown upstream '" + name + "'" + known_upstreams(ctx));
  return idx;
}

void check_keys(ConfigReader& cr, const YAML::Node& n, const std::string& field,
                std::initializer_list<std::string_view> known) {
  for (const auto& kv : n) {
    std::string k = kv.first.Scalar();
    if (std::find(known.begin(), known.end(), k) != known.end()) continue;
    std::string list;
    for (auto x : known) list += (list.empty() ? "" : ", ") + std::string(x);
    cr.fail(field + "." + k, "unknown_field", "unknown field '" + k + "' (expected " + list + ")");
  }
}

void read_rules(ConfigReader& cr, const BuildContext& ctx, TrafficSplit& p) {
  YAML::Node n = cr.node("rules");
  if (!n || n.IsNull()) return;
  if (!n.IsSequence()) {
    cr.fail("rules", "invalid_type", "expected a list of {match, upstream}");
    return;
  }
  for (size_t i = 0; i < n.size(); ++i) {
    std::string f = "rules[" + std::to_string(i) + "]";
    const YAML::Node item = n[i];
    if (!item.IsMap()) {
      cr.fail(f, "invalid_type", "expected a mapping with match and upstream");
      continue;
    }
    check_keys(cr, item, f, {"match", "upstream"});
    Rule r;
    r.label = f;
    if (!item["match"]) {
      cr.fail(f + ".match", "missing_field", "a rule needs a match");
    } else {
      read_rule_match(cr, item["match"], f + ".match", ctx.consumers, r.match);
      // An empty match would take every request and make the rest dead config.
      if (item["match"].IsMap() && item["match"].size() == 0)
        cr.fail(f + ".match", "invalid_value",
                "a rule needs at least one condition (use weighted: [{upstream, weight: 100}] "
                "to move all traffic)");
    }
    r.upstream = read_upstream(cr, ctx, item["upstream"], f + ".upstream", r.upstream_name);
    p.rules.push_back(std::move(r));
  }
}

void read_weighted(ConfigReader& cr, const BuildContext& ctx, TrafficSplit& p) {
  YAML::Node n = cr.node("weighted");
  if (!n || n.IsNull()) return;
  if (!n.IsSequence()) {
    cr.fail("weighted", "invalid_type", "expected a list of {upstream, weight}");
    return;
  }
  int total = 0;
  for (size_t i = 0; i < n.size(); ++i) {
    std::string f = "weighted[" + std::to_string(i) + "]";
    const YAML::Node item = n[i];
    if (!item.IsMap()) {
      cr.fail(f, "invalid_type", "expected a mapping with upstream and weight");
      continue;
    }
    check_keys(cr, item, f, {"upstream", "weight"});
    Share s;
    s.upstream = read_upstream(cr, ctx, item["upstream"], f + ".upstream", s.upstream_name);
    for (const auto& other : p.shares) {
      if (!s.upstream_name.empty() && other.upstream_name == s.upstream_name)
        cr.fail(f + ".upstream", "duplicate_value",
                "upstream '" + s.upstream_name + "' is listed twice; give it one weight");
    }
    const YAML::Node w = item["weight"];
    int weight = -1;
    if (!w) {
      cr.fail(f + ".weight", "missing_field", "a weight (percentage 0..100) is required");
    } else if (w.IsScalar()) {
      const std::string& t = w.Scalar();
      auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), weight);
      if (ec != std::errc() || end != t.data() + t.size()) weight = -1;
    }
    if (w && (weight < 0 || weight > kBuckets)) {
      cr.fail(f + ".weight", "invalid_value", "must be a whole percentage between 0 and 100");
      weight = 0;
    }
    total += std::max(weight, 0);
    s.end = total;
    p.shares.push_back(std::move(s));
  }
  if (total > kBuckets)
    cr.fail("weighted", "invalid_value",
            "weights add up to " + std::to_string(total) +
                "; they are percentages of the route's traffic and must total at most 100 (the "
                "rest stays on the route's own upstream)");
}

void read_sticky(ConfigReader& cr, TrafficSplit& p) {
  YAML::Node n = cr.node("sticky");
  if (!n || n.IsNull()) return;
  if (!n.IsMap()) {
    cr.fail("sticky", "invalid_type", "expected a mapping such as {by: header, name: x-user}");
    return;
  }
  check_keys(cr, n, "sticky", {"by", "name"});
  const YAML::Node by = n["by"];
  std::string how = by && by.IsScalar() ? by.Scalar() : "";
  if (how == "header") {
    p.sticky = StickyBy::kHeader;
  } else if (how == "cookie") {
    p.sticky = StickyBy::kCookie;
  } else if (how == "consumer") {
    p.sticky = StickyBy::kConsumer;
  } else if (how == "ip") {
    p.sticky = StickyBy::kIp;
  } else {
    cr.fail("sticky.by", by ? "invalid_value" : "missing_field",
            (by ? "'" + how + "' is not one of: " : std::string("required, one of: ")) +
                "header, cookie, consumer, ip");
    return;
  }
  const YAML::Node name = n["name"];
  bool named = p.sticky == StickyBy::kHeader || p.sticky == StickyBy::kCookie;
  if (named) {
    if (!name || !name.IsScalar() || name.Scalar().empty()) {
      cr.fail("sticky.name", "missing_field",
              "sticky by " + how + " needs the " + how + " name (e.g. name: x-user)");
      return;
    }
    p.sticky_name = name.Scalar();
    if (p.sticky == StickyBy::kHeader &&
        !std::all_of(p.sticky_name.begin(), p.sticky_name.end(),
                     [](char c) { return http1::is_tchar(static_cast<unsigned char>(c)); }))
      cr.fail("sticky.name", "invalid_value", "'" + p.sticky_name + "' is not a valid header name");
  } else if (name) {
    cr.fail("sticky.name", "invalid_value", "sticky by " + how + " takes no name");
  }
}

}  // namespace

void register_traffic_split(Registry& r) {
  r.add("traffic-split",
        [](const config::PolicyRef& ref,
           const BuildContext& ctx) -> Result<std::shared_ptr<const Policy>> {
          ConfigReader cr(ref, ctx.field);
          cr.allow_only({"rules", "weighted", "sticky"});
          auto p = std::make_shared<TrafficSplit>();
          read_rules(cr, ctx, *p);
          read_weighted(cr, ctx, *p);
          read_sticky(cr, *p);
          if (p->rules.empty() && p->shares.empty() && !cr.has("rules") && !cr.has("weighted"))
            cr.fail("", "missing_field", "traffic-split needs rules, weighted, or both");
          if (auto r2 = cr.finish(); !r2) return r2.error();
          p->own_upstream = route_upstream(ctx);
          return std::shared_ptr<const Policy>(p);
        });
}

}  // namespace gatehouse::policy
