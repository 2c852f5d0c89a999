#include "mcp/aggregate/merge.hpp"

#include <map>
#include <set>
#include <vector>

#include "policies/crypto.hpp"

namespace gatehouse::mcp::aggregate {

bool glob_match(std::string_view p, std::string_view t) {
  // Iterative with one backtrack point: linear in practice, no recursion.
  size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == t[ti])) {
      ++pi;
      ++ti;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

bool tool_allowed(const config::RouteMcpConfig& route, std::string_view original,
                  std::string_view exposed) {
  for (const auto& g : route.tools_deny)
    if (glob_match(g, original) || glob_match(g, exposed)) return false;
  if (route.tools_allow.empty()) return true;
  for (const auto& g : route.tools_allow)
    if (glob_match(g, original) || glob_match(g, exposed)) return true;
  return false;
}

namespace {

std::string item_key(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

Merged merge_named(const PerServer& lists, const std::vector<std::string>& servers,
                   config::McpPrefix mode, const config::RouteMcpConfig* filter) {
  Merged out;
  // How many servers offer each original name (for on-collision).
  std::map<std::string, size_t> owners;
  for (const auto& list : lists) {
    std::set<std::string> mine;
    for (const auto& item : list) mine.insert(item_key(item, "name"));
    for (const auto& n : mine) ++owners[n];
  }
  for (size_t s = 0; s < lists.size(); ++s) {
    for (const auto& item : lists[s]) {
      std::string original = item_key(item, "name");
      if (original.empty()) {
        out.skipped.push_back({servers[s], original, "no name"});
        continue;
      }
      bool prefix = mode == config::McpPrefix::kAlways ||
                    (mode == config::McpPrefix::kOnCollision && owners[original] > 1);
      std::string exposed = prefix ? servers[s] + std::string(kSeparator) + original : original;
      if (filter && !tool_allowed(*filter, original, exposed)) continue;
      if (exposed.size() > kMaxName) {
        out.skipped.push_back({servers[s], original,
                               "exposed name \"" + exposed.substr(0, 40) + "...\" is longer than " +
                                   std::to_string(kMaxName) + " characters"});
        continue;
      }
      auto [it, fresh] = out.index.emplace(exposed, Target{s, original});
      if (!fresh) {
        out.skipped.push_back({servers[s], original,
                               "name \"" + exposed + "\" collides with one from server \"" +
                                   servers[it->second.server] + "\""});
        continue;
      }
      json::object copy = item;
      copy["name"] = exposed;
      out.items.push_back(std::move(copy));
    }
  }
  return out;
}

Merged merge_uris(const PerServer& lists, const std::vector<std::string>& servers,
                  std::string_view key) {
  Merged out;
  for (size_t s = 0; s < lists.size(); ++s) {
    for (const auto& item : lists[s]) {
      std::string uri = item_key(item, key);
      if (uri.empty()) {
        out.skipped.push_back({servers[s], uri, std::string("no ") + std::string(key)});
        continue;
      }
      auto [it, fresh] = out.index.emplace(uri, Target{s, uri});
      if (!fresh) {
        out.skipped.push_back(
            {servers[s], uri, "also offered by server \"" + servers[it->second.server] + "\""});
        continue;
      }
      out.items.push_back(item);
    }
  }
  return out;
}

bool uri_template_match(std::string_view tmpl, std::string_view uri) {
  // Dynamic programming over (segment, position), backwards: linear in
  // segments x URI length, so hostile templates cannot make it explode.
  struct Segment {
    bool var = false;
    bool any = false;  // {+x}, {#x}, {/x}: may span '/'
    std::string_view literal;
  };
  std::vector<Segment> segs;
  for (size_t i = 0; i < tmpl.size();) {
    if (tmpl[i] == '{') {
      size_t close = tmpl.find('}', i);
      if (close == std::string_view::npos) return false;
      char op = close > i + 1 ? tmpl[i + 1] : '\0';
      segs.push_back({true, op == '+' || op == '#' || op == '/', {}});
      i = close + 1;
    } else {
      size_t next = tmpl.find('{', i);
      if (next == std::string_view::npos) next = tmpl.size();
      segs.push_back({false, false, tmpl.substr(i, next - i)});
      i = next;
    }
  }
  const size_t n = uri.size();
  // next_slash[u]: index of the first '/' at or after u (n when none).
  std::vector<size_t> next_slash(n + 1, n);
  for (size_t u = n; u-- > 0;) next_slash[u] = uri[u] == '/' ? u : next_slash[u + 1];
  std::vector<char> after(n + 1, 0), cur(n + 1, 0);
  after[n] = 1;                         // past the last segment: only the end of the URI matches
  std::vector<size_t> count(n + 2, 0);  // count[u] = trues in after[u..n]
  for (size_t k = segs.size(); k-- > 0;) {
    for (size_t u = n + 1; u-- > 0;) count[u] = count[u + 1] + static_cast<size_t>(after[u]);
    const Segment& sg = segs[k];
    for (size_t u = 0; u <= n; ++u) {
      if (!sg.var) {
        size_t len = sg.literal.size();
        cur[u] = u + len <= n && uri.compare(u, len, sg.literal) == 0 && after[u + len];
      } else {
        // One or more characters: an end e in (u, limit].
        size_t limit = sg.any ? n : next_slash[u];
        cur[u] = u < limit && count[u + 1] - count[limit + 1] > 0;
      }
    }
    std::swap(after, cur);
  }
  return after[0] != 0;
}

std::string encode_cursor(std::string_view list, size_t offset) {
  std::string plain = "gh1:" + std::string(list) + ":" + std::to_string(offset);
  return policy::base64_encode(plain, true);
}

std::optional<size_t> decode_cursor(std::string_view list, std::string_view cursor) {
  if (cursor.size() > 256) return std::nullopt;
  bool ok = false;
  std::string plain = policy::base64_decode(cursor, true, &ok);
  std::string want = "gh1:" + std::string(list) + ":";
  if (!ok || plain.compare(0, want.size(), want) != 0) return std::nullopt;
  std::string_view num = std::string_view(plain).substr(want.size());
  if (num.empty() || num.size() > 9) return std::nullopt;
  size_t v = 0;
  for (char c : num) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<size_t>(c - '0');
  }
  return v;
}

}  // namespace gatehouse::mcp::aggregate
