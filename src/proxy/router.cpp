// Compiled router. build() turns the route configs into one PathIndex per host
// group; match() probes the groups in precedence order and, inside a group, the
// path kinds in precedence order. Candidate lists are pre-sorted at build so the
// first candidate whose predicates pass is the winner: match() never sorts and
// never allocates except for template captures (and, for a regex hit when a
// group holds many regexes, the scratch RE2::Set itself allocates).
#include "proxy/router.hpp"

#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <array>
#include <functional>
#include <tuple>
#include <unordered_map>

#include "common/percent.hpp"
#include "common/strings.hpp"

namespace gatehouse::proxy {

namespace {

// Transparent hashing so string_view probes never build a std::string.
// operator() is deliberately not noexcept: libstdc++ then caches each node's
// hash code, so a bucket walk compares cached codes instead of rehashing every
// key it passes (that rehashing was ~60% of a prefix lookup).
struct SvHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <class T>
using SvMap = std::unordered_map<std::string, T, SvHash, std::equal_to<>>;

// Deeper templates are rejected at build so match() can split the path into a
// fixed stack array.
constexpr size_t kMaxTemplateSegments = 64;
constexpr size_t kTemplateLinearChildren = 4;
// Up to this many distinct regexes in a group are scanned one by one; beyond it
// an RE2::Set rejects non-matching paths in one DFA pass first.
constexpr size_t kRegexLinearMax = 16;
// DFA budget for a regex set; on exhaustion match() falls back to the scan.
constexpr int64_t kRegexSetMaxMem = 64 << 20;

enum class ValueKind { kExact, kRegex, kPresent };

struct CompiledValue {
  std::string name;
  ValueKind kind = ValueKind::kExact;
  std::string value;
  std::shared_ptr<const RE2> re;
};

struct TemplateEntry {
  uint32_t route = 0;
  std::vector<std::pair<uint16_t, std::string>> params;  // segment index, name
};

struct TemplateNode {
  // Literal children: a hash map only for wide nodes (boxed, to keep nodes
  // small and cache-friendly); a handful of short strings compare faster than
  // hashing the segment.
  std::unique_ptr<SvMap<std::unique_ptr<TemplateNode>>> literals;
  std::vector<std::pair<std::string, std::unique_ptr<TemplateNode>>> few_literals;
  std::unique_ptr<TemplateNode> param;
  std::vector<TemplateEntry> entries;  // routes whose template ends here
  int literals_here = 0;               // literal segments on the way from the root
  int max_literals = -1;               // best literals_here of any terminal below
};

const TemplateNode* literal_child(const TemplateNode& node, std::string_view seg) {
  for (const auto& [lit, child] : node.few_literals)
    if (lit == seg) return child.get();
  if (!node.literals) return nullptr;
  auto it = node.literals->find(seg);
  return it == node.literals->end() ? nullptr : it->second.get();
}

struct RegexGroup {
  std::shared_ptr<const RE2> re;
  std::vector<uint32_t> routes;
  int max_priority = 0;
  size_t min_order = 0;
  uint32_t min_index = 0;
};

// The path index of one host group.
struct PathIndex {
  SvMap<std::vector<uint32_t>> exact;
  SvMap<std::vector<uint32_t>> prefix;
  std::vector<bool> prefix_lengths;  // [n] = some prefix key has length n; skips most probes
  TemplateNode templates;
  size_t max_template_segments = 0;  // 0 = no templates
  SvMap<RegexGroup> regex_build;     // by pattern; moved into `regexes` at finalise
  std::vector<RegexGroup> regexes;   // precedence order
  std::unique_ptr<RE2::Set> regex_set;
};

RE2::Options regex_options() {
  RE2::Options o;
  o.set_log_errors(false);  // errors are reported through Result, not stderr
  return o;
}

bool needs_decode(std::string_view raw) {
  return raw.find_first_of("%+") != std::string_view::npos;
}

bool value_matches(const CompiledValue& v, std::string_view actual) {
  switch (v.kind) {
    case ValueKind::kPresent:
      return true;
    case ValueKind::kExact:
      return actual == v.value;
    case ValueKind::kRegex:
      return RE2::FullMatch(actual, *v.re);
  }
  return false;
}

std::string route_field(size_t i, std::string_view rest) {
  std::string f = "routes[" + std::to_string(i) + "]";
  f += rest;
  return f;
}

Error config_error(std::string code, std::string message, std::string field) {
  return make_error(std::move(code), std::move(message), std::move(field), 0, ErrorSide::kConfig);
}

}  // namespace

struct CompiledRoute {
  std::vector<std::string> methods;  // upper-case
  bool lists_get = false;
  bool lists_head = false;
  std::vector<CompiledValue> headers;
  std::vector<CompiledValue> query;
  std::vector<CompiledValue> cookies;
  int predicates = 0;
  int priority = 0;
  size_t order = 0;
  uint32_t index = 0;
  std::shared_ptr<const RE2> rewrite_re;
};

struct Router::Impl {
  std::vector<CompiledRoute> compiled;
  SvMap<PathIndex> exact_hosts;
  SvMap<PathIndex> wildcard_hosts;  // key is the suffix with its dot: ".example.com"
  PathIndex any_host;
  SvMap<std::shared_ptr<const RE2>> regex_cache;  // build only: one RE2 per pattern

  // Same-path-key order: more predicates, higher priority, earlier in config.
  bool ranks_before(uint32_t a, uint32_t b) const {
    const CompiledRoute& x = compiled[a];
    const CompiledRoute& y = compiled[b];
    if (x.predicates != y.predicates) return x.predicates > y.predicates;
    if (x.priority != y.priority) return x.priority > y.priority;
    if (x.order != y.order) return x.order < y.order;
    return x.index < y.index;
  }

  Result<std::shared_ptr<const RE2>> compile(const std::string& pattern, const std::string& field) {
    auto it = regex_cache.find(pattern);
    if (it != regex_cache.end()) return it->second;
    auto re = std::make_shared<const RE2>(pattern, regex_options());
    if (!re->ok()) {
      return config_error("invalid_regex",
                          "invalid regular expression '" + pattern + "': " + re->error(), field);
    }
    regex_cache.emplace(pattern, re);
    return std::shared_ptr<const RE2>(re);
  }

  Result<void> compile_values(const std::vector<config::ValueMatch>& in, bool lower_names,
                              const std::string& field_base, std::vector<CompiledValue>& out) {
    for (const auto& vm : in) {
      CompiledValue cv;
      cv.name = lower_names ? to_lower(vm.name) : vm.name;
      if (vm.value == "*") {
        cv.kind = ValueKind::kPresent;
      } else if (!vm.value.empty() && vm.value.front() == '~') {
        cv.kind = ValueKind::kRegex;
        auto re = compile(vm.value.substr(1), field_base + "." + vm.name);
        if (!re.ok()) return re.error();
        cv.re = std::move(re).value();
      } else {
        cv.kind = ValueKind::kExact;
        cv.value = vm.value;
      }
      out.push_back(std::move(cv));
    }
    return Ok{};
  }

  // --- matching ---------------------------------------------------------------

  bool headers_match(const CompiledRoute& r, const RequestView& req) const {
    for (const auto& v : r.headers) {
      bool found = false;
      if (req.headers) {
        for (const auto& h : *req.headers) {
          if (iequals(h.name, v.name) && value_matches(v, h.value)) {
            found = true;
            break;
          }
        }
      }
      if (!found) return false;
    }
    return true;
  }

  static bool query_value_matches(const CompiledValue& v, std::string_view raw) {
    switch (v.kind) {
      case ValueKind::kPresent:
        return true;
      case ValueKind::kExact:
        return percent_decoded_equals(raw, v.value, true);
      case ValueKind::kRegex: {
        if (!needs_decode(raw)) return RE2::FullMatch(raw, *v.re);
        // Reused per thread so steady-state matching does not allocate.
        thread_local std::string scratch;
        percent_decode_into(raw, true, scratch);
        return RE2::FullMatch(scratch, *v.re);
      }
    }
    return false;
  }

  static bool query_match_one(const CompiledValue& v, std::string_view query) {
    while (!query.empty()) {
      size_t amp = query.find('&');
      std::string_view pair = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
      if (pair.empty()) continue;
      size_t eq = pair.find('=');
      std::string_view name = pair.substr(0, eq);
      std::string_view value =
          eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
      if (percent_decoded_equals(name, v.name, true) && query_value_matches(v, value)) return true;
    }
    return false;
  }

  static bool cookie_match_one(const CompiledValue& v, const RequestView& req) {
    if (!req.headers) return false;
    for (const auto& h : *req.headers) {
      if (!iequals(h.name, "cookie")) continue;
      std::string_view rest = h.value;
      while (!rest.empty()) {
        size_t semi = rest.find(';');
        std::string_view pair = trim_ows(rest.substr(0, semi));
        rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
        size_t eq = pair.find('=');
        if (eq == std::string_view::npos) continue;
        std::string_view name = trim_ows(pair.substr(0, eq));
        std::string_view value = trim_ows(pair.substr(eq + 1));
        // RFC 6265 allows a DQUOTE-wrapped cookie-value; compare its content.
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
          value = value.substr(1, value.size() - 2);
        if (name == v.name && value_matches(v, value)) return true;
      }
    }
    return false;
  }

  bool predicates_match(const CompiledRoute& r, const RequestView& req) const {
    if (!headers_match(r, req)) return false;
    for (const auto& v : r.query)
      if (!query_match_one(v, req.query)) return false;
    for (const auto& v : r.cookies)
      if (!cookie_match_one(v, req)) return false;
    return true;
  }

  // 0 = method does not fit; 1 = fits; 2 = HEAD request on a route that lists
  // HEAD itself (preferred over routes that take HEAD through GET or "any").
  static int method_fit(const CompiledRoute& r, std::string_view method, bool is_head) {
    if (r.methods.empty()) return 1;
    if (is_head) {
      if (r.lists_head) return 2;
      return r.lists_get ? 1 : 0;
    }
    for (const auto& m : r.methods)
      if (m == method) return 1;
    return 0;
  }

  // First candidate (in the pre-sorted order) whose method and predicates fit;
  // -1 when none does.
  template <class Range, class Proj>
  int64_t pick(const Range& candidates, Proj route_of, const RequestView& req, bool is_head,
               size_t* picked_pos = nullptr) const {
    int64_t fallback = -1;
    size_t fallback_pos = 0;
    size_t pos = 0;
    for (const auto& c : candidates) {
      uint32_t idx = route_of(c);
      const CompiledRoute& r = compiled[idx];
      int fit = method_fit(r, req.method, is_head);
      if (fit == 0 || (fit == 1 && fallback >= 0) || !predicates_match(r, req)) {
        ++pos;
        continue;
      }
      if (fit == 1 && is_head) {  // keep looking for a route that lists HEAD
        fallback = idx;
        fallback_pos = pos++;
        continue;
      }
      if (picked_pos) *picked_pos = pos;
      return idx;
    }
    if (picked_pos) *picked_pos = fallback_pos;
    return fallback;
  }

  int64_t pick_ids(const std::vector<uint32_t>& ids, const RequestView& req, bool is_head) const {
    return pick(
        ids, [](uint32_t id) { return id; }, req, is_head);
  }

  struct TemplateBest {
    const TemplateNode* node = nullptr;
    size_t entry = 0;
    int64_t route = -1;
  };

  // Depth-first, literal child before the param child. Visiting order equals
  // precedence order among equal literal counts, so a later terminal only wins
  // with strictly more literals; subtrees that cannot beat the best are skipped.
  void template_dfs(const TemplateNode& node, const std::string_view* segs, size_t n, size_t i,
                    const RequestView& req, bool is_head, TemplateBest& best) const {
    if (node.max_literals < 0) return;
    if (best.node && node.max_literals <= best.node->literals_here) return;
    if (i == n) {
      if (node.entries.empty()) return;
      if (best.node && node.literals_here <= best.node->literals_here) return;
      size_t pos = 0;
      int64_t r = pick(
          node.entries, [](const TemplateEntry& e) { return e.route; }, req, is_head, &pos);
      if (r >= 0) best = TemplateBest{&node, pos, r};
      return;
    }
    if (const TemplateNode* child = literal_child(node, segs[i]))
      template_dfs(*child, segs, n, i + 1, req, is_head, best);
    if (node.param && !segs[i].empty())
      template_dfs(*node.param, segs, n, i + 1, req, is_head, best);
  }

  bool match_templates(const PathIndex& idx, const RequestView& req, bool is_head,
                       RouteMatch& out) const {
    std::string_view path = req.path;
    if (path.empty() || path.front() != '/') return false;
    // Most paths that reach here belong to other kinds: reject them on the
    // first segment before splitting the whole path.
    if (!idx.templates.param &&
        !literal_child(idx.templates, path.substr(1, path.find('/', 1) - 1)))
      return false;
    std::array<std::string_view, kMaxTemplateSegments> segs;
    size_t n = 0;
    std::string_view rest = path.substr(1);
    for (;;) {
      if (n == idx.max_template_segments) return false;  // deeper than any template
      size_t slash = rest.find('/');
      segs[n++] = rest.substr(0, slash);
      if (slash == std::string_view::npos) break;
      rest = rest.substr(slash + 1);
    }
    TemplateBest best;
    template_dfs(idx.templates, segs.data(), n, 0, req, is_head, best);
    if (!best.node) return false;
    const TemplateEntry& e = best.node->entries[best.entry];
    out.route_index = static_cast<size_t>(best.route);
    for (const auto& [seg, name] : e.params) out.params.emplace_back(name, segs[seg]);
    return true;
  }

  bool match_regexes(const PathIndex& idx, const RequestView& req, bool is_head,
                     RouteMatch& out) const {
    if (idx.regexes.empty()) return false;
    if (idx.regex_set) {
      RE2::Set::ErrorInfo info{};
      // Quick reject: one DFA pass over the path for all patterns at once,
      // without RE2 allocating (it only builds its match list when asked).
      bool any = idx.regex_set->Match(req.path, nullptr, &info);
      if (!any && info.kind != RE2::Set::kOutOfMemory) return false;
      if (any) {
        // Which patterns matched: the set's indices are precedence positions,
        // so sorting them gives the order to try. RE2 allocates its match list
        // here (a regex hit only); the vector is reused per thread.
        thread_local std::vector<int> hits;
        if (idx.regex_set->Match(req.path, &hits, &info)) {
          std::sort(hits.begin(), hits.end());
          for (int h : hits) {
            int64_t r = pick_ids(idx.regexes[static_cast<size_t>(h)].routes, req, is_head);
            if (r >= 0) {
              out.route_index = static_cast<size_t>(r);
              return true;
            }
          }
          return false;
        }
        // The DFA ran out of memory on the second pass: fall through to the scan.
      }
    }
    for (const auto& g : idx.regexes) {
      if (!RE2::FullMatch(req.path, *g.re)) continue;
      int64_t r = pick_ids(g.routes, req, is_head);
      if (r >= 0) {
        out.route_index = static_cast<size_t>(r);
        return true;
      }
    }
    return false;
  }

  bool match_prefixes(const PathIndex& idx, const RequestView& req, bool is_head,
                      RouteMatch& out) const {
    if (idx.prefix.empty()) return false;
    std::string_view p = req.path;
    auto probe = [&](std::string_view key) {
      if (key.size() >= idx.prefix_lengths.size() || !idx.prefix_lengths[key.size()]) return false;
      auto it = idx.prefix.find(key);
      if (it == idx.prefix.end()) return false;
      int64_t r = pick_ids(it->second, req, is_head);
      if (r < 0) return false;
      out.route_index = static_cast<size_t>(r);
      out.matched_prefix = it->first;
      return true;
    };
    // Segment-boundary prefixes, longest first: the whole path, then for each
    // '/' from the right "<..>/" and "<..>".
    if (probe(p)) return true;
    for (size_t i = p.rfind('/'); i != std::string_view::npos;
         i = i == 0 ? std::string_view::npos : p.rfind('/', i - 1)) {
      if (i + 1 < p.size() && probe(p.substr(0, i + 1))) return true;
      if (i > 0 && probe(p.substr(0, i))) return true;
    }
    return false;
  }

  bool match_index(const PathIndex& idx, const RequestView& req, bool is_head,
                   RouteMatch& out) const {
    if (!idx.exact.empty()) {
      auto it = idx.exact.find(req.path);
      if (it != idx.exact.end()) {
        int64_t r = pick_ids(it->second, req, is_head);
        if (r >= 0) {
          out.route_index = static_cast<size_t>(r);
          return true;
        }
      }
    }
    if (idx.max_template_segments > 0 && match_templates(idx, req, is_head, out)) return true;
    if (match_regexes(idx, req, is_head, out)) return true;
    return match_prefixes(idx, req, is_head, out);
  }

  // --- building ---------------------------------------------------------------

  Result<void> add_template(PathIndex& idx, uint32_t route, const std::string& value,
                            const std::string& field) {
    if (value.empty() || value.front() != '/')
      return config_error("invalid_template", "template must start with '/'", field);
    std::string_view rest = std::string_view(value).substr(1);
    std::vector<std::string_view> segs;
    for (;;) {
      size_t slash = rest.find('/');
      segs.push_back(rest.substr(0, slash));
      if (slash == std::string_view::npos) break;
      rest = rest.substr(slash + 1);
    }
    if (segs.size() > kMaxTemplateSegments)
      return config_error(
          "invalid_template",
          "template has more than " + std::to_string(kMaxTemplateSegments) + " segments", field);
    TemplateEntry entry{route, {}};
    TemplateNode* node = &idx.templates;
    int literals = 0;
    for (size_t s = 0; s < segs.size(); ++s) {
      std::string_view seg = segs[s];
      bool open = seg.find('{') != std::string_view::npos;
      bool close = seg.find('}') != std::string_view::npos;
      if (open || close) {
        std::string_view name = seg.size() >= 2 ? seg.substr(1, seg.size() - 2) : seg;
        if (seg.size() < 3 || seg.front() != '{' || seg.back() != '}' ||
            name.find_first_of("{}") != std::string_view::npos)
          return config_error(
              "invalid_template",
              "segment '" + std::string(seg) + "' must be a whole {name} or contain no braces",
              field);
        for (const auto& p : entry.params)
          if (p.second == name)
            return config_error("invalid_template",
                                "parameter '" + std::string(name) + "' appears twice", field);
        entry.params.emplace_back(static_cast<uint16_t>(s), std::string(name));
        if (!node->param) node->param = std::make_unique<TemplateNode>();
        node->param->literals_here = literals;
        node = node->param.get();
      } else {
        ++literals;
        if (!node->literals)
          node->literals = std::make_unique<SvMap<std::unique_ptr<TemplateNode>>>();
        auto& child = (*node->literals)[std::string(seg)];
        if (!child) child = std::make_unique<TemplateNode>();
        child->literals_here = literals;
        node = child.get();
      }
    }
    node->entries.push_back(std::move(entry));
    idx.max_template_segments = std::max(idx.max_template_segments, segs.size());
    return Ok{};
  }

  Result<void> add_path(PathIndex& idx, uint32_t route, const config::PathPattern& pat,
                        const std::string& field) {
    switch (pat.kind) {
      case config::PathKind::kExact:
        idx.exact[pat.value].push_back(route);
        return Ok{};
      case config::PathKind::kPrefix:
        idx.prefix[pat.value.empty() ? std::string("/") : pat.value].push_back(route);
        return Ok{};
      case config::PathKind::kTemplate:
        return add_template(idx, route, pat.value, field);
      case config::PathKind::kRegex: {
        auto re = compile(pat.value, field);
        if (!re.ok()) return re.error();
        RegexGroup& g = idx.regex_build[pat.value];
        if (!g.re) g.re = std::move(re).value();
        g.routes.push_back(route);
        return Ok{};
      }
    }
    return Ok{};
  }

  void sort_ids(std::vector<uint32_t>& ids) const {
    std::sort(ids.begin(), ids.end(),
              [this](uint32_t a, uint32_t b) { return ranks_before(a, b); });
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());  // a route listing a path twice
  }

  int finalize_templates(TemplateNode& node) const {
    std::sort(node.entries.begin(), node.entries.end(),
              [this](const TemplateEntry& a, const TemplateEntry& b) {
                return ranks_before(a.route, b.route);
              });
    node.entries.erase(std::unique(node.entries.begin(), node.entries.end(),
                                   [](const TemplateEntry& a, const TemplateEntry& b) {
                                     return a.route == b.route;
                                   }),
                       node.entries.end());
    int best = node.entries.empty() ? -1 : node.literals_here;
    if (node.literals) {
      for (auto& [_, child] : *node.literals) best = std::max(best, finalize_templates(*child));
      if (node.literals->size() <= kTemplateLinearChildren) {
        for (auto& [lit, child] : *node.literals)
          node.few_literals.emplace_back(lit, std::move(child));
        // Sorted so the layout, like everything else here, is independent of hashing.
        std::sort(node.few_literals.begin(), node.few_literals.end(),
                  [](const auto& a, const auto& b) { return a.first < b.first; });
        node.literals.reset();
      }
    }
    if (node.param) best = std::max(best, finalize_templates(*node.param));
    node.max_literals = best;
    return best;
  }

  void finalize(PathIndex& idx) const {
    for (auto& [_, ids] : idx.exact) sort_ids(ids);
    for (auto& [key, ids] : idx.prefix) {
      sort_ids(ids);
      if (key.size() >= idx.prefix_lengths.size()) idx.prefix_lengths.resize(key.size() + 1);
      idx.prefix_lengths[key.size()] = true;
    }
    finalize_templates(idx.templates);
    for (auto& [_, g] : idx.regex_build) {
      sort_ids(g.routes);
      g.max_priority = compiled[g.routes.front()].priority;
      g.min_order = compiled[g.routes.front()].order;
      g.min_index = g.routes.front();
      for (uint32_t id : g.routes) {
        g.max_priority = std::max(g.max_priority, compiled[id].priority);
        g.min_order = std::min(g.min_order, compiled[id].order);
        g.min_index = std::min(g.min_index, id);
      }
      idx.regexes.push_back(std::move(g));
    }
    idx.regex_build.clear();
    std::sort(idx.regexes.begin(), idx.regexes.end(), [](const RegexGroup& a, const RegexGroup& b) {
      if (a.max_priority != b.max_priority) return a.max_priority > b.max_priority;
      if (a.min_order != b.min_order) return a.min_order < b.min_order;
      if (a.min_index != b.min_index) return a.min_index < b.min_index;
      return a.re->pattern() < b.re->pattern();
    });
    if (idx.regexes.size() > kRegexLinearMax) {
      RE2::Options o = regex_options();
      o.set_max_mem(kRegexSetMaxMem);
      auto set = std::make_unique<RE2::Set>(o, RE2::ANCHOR_BOTH);
      bool ok = true;
      for (const auto& g : idx.regexes) ok = ok && set->Add(g.re->pattern(), nullptr) >= 0;
      // A set that fails to compile only costs speed: the scan stays exact.
      if (ok && set->Compile()) idx.regex_set = std::move(set);
    }
  }
};

Router::Router() : impl_(std::make_unique<Impl>()) {}
Router::~Router() = default;

Result<std::unique_ptr<Router>> Router::build(std::vector<config::RouteConfig> routes) {
  std::unique_ptr<Router> router(new Router());
  router->routes_ = std::move(routes);
  Impl& impl = *router->impl_;
  const auto& cfgs = router->routes_;
  impl.compiled.resize(cfgs.size());

  for (size_t i = 0; i < cfgs.size(); ++i) {
    const config::RouteConfig& rc = cfgs[i];
    CompiledRoute& cr = impl.compiled[i];
    cr.index = static_cast<uint32_t>(i);
    cr.priority = rc.priority;
    cr.order = rc.order;
    for (const auto& m : rc.match.methods) {
      std::string up(m);
      for (auto& c : up) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
      cr.lists_get = cr.lists_get || up == "GET";
      cr.lists_head = cr.lists_head || up == "HEAD";
      cr.methods.push_back(std::move(up));
    }
    // Header names are case-insensitive; query and cookie names are not.
    const std::tuple<const std::vector<config::ValueMatch>*, bool, const char*,
                     std::vector<CompiledValue>*>
        kinds[] = {{&rc.match.headers, true, ".match.headers", &cr.headers},
                   {&rc.match.query, false, ".match.query", &cr.query},
                   {&rc.match.cookies, false, ".match.cookies", &cr.cookies}};
    for (const auto& [in, lower, field, out] : kinds) {
      if (auto r = impl.compile_values(*in, lower, route_field(i, field), *out); !r.ok())
        return r.error();
    }
    cr.predicates = (cr.methods.empty() ? 0 : 1) +
                    static_cast<int>(cr.headers.size() + cr.query.size() + cr.cookies.size());
    if (!rc.rewrite.regex.empty()) {
      auto re = impl.compile(rc.rewrite.regex, route_field(i, ".rewrite.regex"));
      if (!re.ok()) return re.error();
      std::string why;
      if (!(*re)->CheckRewriteString(rc.rewrite.replacement, &why))
        return config_error("invalid_replacement", why, route_field(i, ".rewrite.replacement"));
      cr.rewrite_re = std::move(re).value();
    }

    // Every host group this route belongs to.
    std::vector<PathIndex*> groups;
    for (size_t h = 0; h < rc.match.hosts.size(); ++h) {
      std::string host = to_lower(rc.match.hosts[h]);
      std::string field = route_field(i, ".match.hosts[" + std::to_string(h) + "]");
      if (host == "*") {
        groups.push_back(&impl.any_host);
      } else if (host.rfind("*.", 0) == 0) {
        std::string suffix = host.substr(1);
        if (suffix.size() < 2 || suffix.find('*') != std::string::npos)
          return config_error("invalid_host", "wildcard host must look like '*.example.com'",
                              field);
        groups.push_back(&impl.wildcard_hosts[suffix]);
      } else if (host.empty() || host.find('*') != std::string::npos) {
        return config_error("invalid_host",
                            "host must be a name or a leading wildcard like '*.example.com'",
                            field);
      } else {
        groups.push_back(&impl.exact_hosts[host]);
      }
    }
    if (rc.match.hosts.empty()) groups.push_back(&impl.any_host);
    std::sort(groups.begin(), groups.end());
    groups.erase(std::unique(groups.begin(), groups.end()), groups.end());

    static const config::PathPattern kRoot{config::PathKind::kPrefix, "/"};
    size_t npaths = std::max<size_t>(rc.match.paths.size(), 1);
    for (size_t j = 0; j < npaths; ++j) {
      const config::PathPattern& pat = rc.match.paths.empty() ? kRoot : rc.match.paths[j];
      std::string field = route_field(i, ".match.paths[" + std::to_string(j) + "]");
      for (PathIndex* idx : groups) {
        if (auto r = impl.add_path(*idx, static_cast<uint32_t>(i), pat, field); !r.ok())
          return r.error();
      }
    }
  }

  for (auto& [_, idx] : impl.exact_hosts) impl.finalize(idx);
  for (auto& [_, idx] : impl.wildcard_hosts) impl.finalize(idx);
  impl.finalize(impl.any_host);
  impl.regex_cache.clear();
  return router;
}

bool Router::match(const RequestView& req, RouteMatch& out) const {
  out.params.clear();
  out.matched_prefix = {};
  out.route = nullptr;
  const Impl& impl = *impl_;
  const bool is_head = req.method == "HEAD";
  auto done = [&]() {
    out.route = &routes_[out.route_index];
    return true;
  };

  if (!req.host.empty()) {
    if (!impl.exact_hosts.empty()) {
      auto it = impl.exact_hosts.find(req.host);
      if (it != impl.exact_hosts.end() && impl.match_index(it->second, req, is_head, out))
        return done();
    }
    if (!impl.wildcard_hosts.empty()) {
      // Strip one label at a time: the longest matching suffix is probed first.
      // A dot at position 0 would leave an empty label for the '*', so skip it.
      for (size_t dot = req.host.find('.', 1); dot != std::string_view::npos;
           dot = req.host.find('.', dot + 1)) {
        auto it = impl.wildcard_hosts.find(req.host.substr(dot));
        if (it != impl.wildcard_hosts.end() && impl.match_index(it->second, req, is_head, out))
          return done();
      }
    }
  }
  if (impl.match_index(impl.any_host, req, is_head, out)) return done();
  return false;
}

std::string Router::rewrite_path(const RouteMatch& m, std::string_view path) const {
  if (m.route_index >= routes_.size()) return std::string(path);
  const config::RewriteConfig& rw = routes_[m.route_index].rewrite;
  const CompiledRoute& cr = impl_->compiled[m.route_index];

  std::string base;
  bool stripped_to_nothing = false;
  if (rw.strip_prefix && !m.matched_prefix.empty() &&
      path.substr(0, m.matched_prefix.size()) == m.matched_prefix) {
    std::string_view rest = path.substr(m.matched_prefix.size());
    // "/api" requested on prefix "/api" (not "/api/" on "/api/": that client
    // did send the slash).
    stripped_to_nothing = rest.empty() && m.matched_prefix.back() != '/';
    if (rest.empty() || rest.front() != '/') base.push_back('/');
    base.append(rest);
  } else if (cr.rewrite_re) {
    base.assign(path);
    RE2::Replace(&base, *cr.rewrite_re, rw.replacement);
  } else {
    base.assign(path);
  }

  if (!rw.path_prefix.empty()) {
    std::string out;
    if (rw.path_prefix.front() != '/') out.push_back('/');
    out.append(rw.path_prefix);
    // The request was exactly the prefix: send exactly path_prefix rather than
    // inventing a trailing slash the client never sent.
    if (stripped_to_nothing) return out;
    bool left = out.back() == '/';
    bool right = !base.empty() && base.front() == '/';
    if (left && right) {
      out.append(base, 1);
    } else {
      if (!left && !right && !base.empty()) out.push_back('/');
      out.append(base);
    }
    return out;
  }
  if (base.empty() || base.front() != '/') base.insert(base.begin(), '/');
  return base;
}

}  // namespace gatehouse::proxy
