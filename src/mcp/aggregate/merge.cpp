#include "mcp/aggregate/merge.hpp"

#include <map>
#include <set>

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
      std::string exposed =
          prefix ? servers[s] + std::string(kSeparator) + original : original;
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
        out.skipped.push_back({servers[s], uri,
                               "also offered by server \"" + servers[it->second.server] + "\""});
        continue;
      }
      out.items.push_back(item);
    }
  }
  return out;
}

namespace {

// Matches tmpl[ti..] against uri[ui..]; `depth` bounds the backtracking.
bool match_from(std::string_view tmpl, size_t ti, std::string_view uri, size_t ui, int depth) {
  if (depth > 32) return false;
  while (ti < tmpl.size()) {
    if (tmpl[ti] != '{') {
      if (ui >= uri.size() || uri[ui] != tmpl[ti]) return false;
      ++ti;
      ++ui;
      continue;
    }
    size_t close = tmpl.find('}', ti);
    if (close == std::string_view::npos) return false;
    char op = close > ti + 1 ? tmpl[ti + 1] : '\0';
    bool any = op == '+' || op == '#' || op == '/';
    size_t next = close + 1;
    // Try every length for this expression (at least one character).
    for (size_t end = ui + 1; end <= uri.size(); ++end) {
      if (!any && uri[end - 1] == '/') break;
      if (match_from(tmpl, next, uri, end, depth + 1)) return true;
    }
    return false;
  }
  return ui == uri.size();
}

}  // namespace

bool uri_template_match(std::string_view tmpl, std::string_view uri) {
  return match_from(tmpl, 0, uri, 0, 0);
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
