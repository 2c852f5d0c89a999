#include "config/load_mcp_limits.hpp"

#include <cctype>

namespace gatehouse::config::detail {

McpToolLimitConfig parse_mcp_tool_limit(Reader& r, const Slot& s) {
  McpToolLimitConfig l;
  l.pos = s.pos;
  Fields f(r, s,
           {"tools", "by", "header", "per_tool", "requests", "window", "algorithm", "burst",
            "quota", "period"});
  f.strings("tools", l.tools);
  f.read("by", l.by);
  f.read("header", l.header);
  for (auto& c : l.header) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  f.read("per_tool", l.per_tool);
  auto opt_int = [&](std::string_view key, std::optional<int64_t>& out) {
    if (const Slot* v = f.get(key)) {
      int64_t n = 0;
      r.read(*v, n);
      out = n;
    }
  };
  opt_int("requests", l.requests);
  if (const Slot* w = f.get("window")) {
    int64_t ms = 0;
    r.duration(*w, ms);
    l.window_ms = ms;
  }
  f.read("algorithm", l.algorithm);
  opt_int("burst", l.burst);
  opt_int("quota", l.quota);
  f.read("period", l.period);
  return l;
}

}  // namespace gatehouse::config::detail
