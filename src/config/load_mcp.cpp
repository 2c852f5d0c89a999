// The `mcp` section and a route's `mcp:` block (src/mcp): servers, tool
// filters, per-tool rules and limits, authorization. Called by loader.cpp.
#include "config/load_mcp.hpp"

#include "config/load_mcp_limits.hpp"
#include "config/load_tls.hpp"

namespace gatehouse::config::detail {

namespace {

McpServerConfig parse_mcp_server(Reader& r, const Slot& s) {
  McpServerConfig m;
  m.pos = s.pos;
  Fields f(r, s,
           {"name", "transport", "command", "env", "cwd", "url", "headers", "tls", "openapi",
            "timeout", "on_change", "client_capabilities"});
  f.read("name", m.name);
  if (const Slot* t = f.get("transport")) {
    r.choice(*t,
             std::vector<std::pair<std::string, McpTransport>>{
                 {"stdio", McpTransport::kStdio},
                 {"streamable-http", McpTransport::kStreamableHttp},
                 {"sse", McpTransport::kSse}},
             m.transport);
  } else if (f.has("openapi")) {
    m.transport = McpTransport::kOpenApi;
  } else if (f.has("url")) {
    m.transport = McpTransport::kStreamableHttp;
  }
  f.strings("command", m.command);
  if (const Slot* e = f.get("env")) {
    for (const auto& entry : r.entries(*e)) {
      std::string v;
      r.read(entry.value, v);
      m.env.emplace_back(entry.key, std::move(v));
    }
  }
  f.read("cwd", m.cwd);
  f.strings("client_capabilities", m.client_capabilities);
  f.read("url", m.url);
  if (const Slot* h = f.get("headers")) {
    for (const auto& entry : r.entries(*h)) {
      std::string v;
      r.read(entry.value, v);
      m.headers.emplace_back(entry.key, std::move(v));
    }
  }
  // Whether tls: fits the transport and URL is validate_mcp.cpp's to say.
  if (const Slot* t = f.get("tls")) parse_upstream_tls(r, *t, m.tls, false, true);
  if (const Slot* o = f.get("openapi")) {
    Fields of(r, *o, {"api", "spec", "operations", "upstream"});
    of.read("api", m.openapi_api);
    of.read("spec", m.openapi_spec);
    of.strings("operations", m.openapi_operations);
    of.read("upstream", m.openapi_upstream);
  }
  f.duration("timeout", m.timeout_ms);
  if (const Slot* c = f.get("on_change"))  // the registry's tool pinning (mcp/registry)
    r.choice(*c,
             std::vector<std::pair<std::string, std::string>>{
                 {"allow", "allow"}, {"warn", "warn"}, {"block", "block"}},
             m.on_change);
  return m;
}

McpToolRuleConfig parse_tool_rule(Reader& r, const Slot& s) {
  McpToolRuleConfig rule;
  Fields f(r, s, {"tools", "arguments", "allow", "deny"});
  f.strings("tools", rule.tools);
  auto pairs = [&](const Slot& m, std::vector<std::pair<std::string, std::string>>& out) {
    for (const auto& e : r.entries(m)) {
      std::string v;
      r.read(e.value, v);
      out.emplace_back(e.key, std::move(v));
    }
  };
  if (const Slot* a = f.get("arguments")) pairs(*a, rule.arguments);
  const Slot* who = f.get("allow");
  rule.allow = who != nullptr;
  if (const Slot* d = f.get("deny")) {
    if (who) r.fail(*d, "conflicting_fields", "a tool rule has one of allow and deny");
    who = d;
  }
  if (!who) {
    r.fail(s, "missing_field", "a tool rule needs allow: {...} or deny: {...}");
    return rule;
  }
  Fields wf(r, *who, {"consumers", "groups", "scopes", "claims"});
  wf.strings("consumers", rule.who.consumers);
  wf.strings("groups", rule.who.groups);
  wf.strings("scopes", rule.who.scopes);
  if (const Slot* c = wf.get("claims")) pairs(*c, rule.who.claims);
  return rule;
}

}  // namespace

void parse_mcp(Reader& r, const Slot& s, McpConfig& out) {
  Fields f(r, s, {"servers", "allowed_origins", "session_secret", "session_ttl"});
  if (const Slot* p = f.get("servers"))
    for (const auto& item : r.items(*p)) out.servers.push_back(parse_mcp_server(r, item));
  f.strings("allowed_origins", out.allowed_origins);
  f.read("session_secret", out.session_secret);
  f.duration("session_ttl", out.session_ttl_ms);
}

RouteMcpConfig parse_route_mcp(Reader& r, const Slot& s) {
  RouteMcpConfig m;
  Fields f(
      r, s,
      {"servers", "prefix", "tools", "max_body", "page_size", "log_arguments", "authorization"});
  f.strings("servers", m.servers);
  if (const Slot* p = f.get("prefix"))
    r.choice(
        *p,
        std::vector<std::pair<std::string, McpPrefix>>{{"always", McpPrefix::kAlways},
                                                       {"on-collision", McpPrefix::kOnCollision},
                                                       {"never", McpPrefix::kNever}},
        m.prefix);
  if (const Slot* t = f.get("tools")) {
    Fields tf(r, *t, {"allow", "deny", "rules", "limits"});
    tf.strings("allow", m.tools_allow);
    tf.strings("deny", m.tools_deny);
    if (const Slot* rs = tf.get("rules"))
      for (const auto& item : r.items(*rs)) m.tool_rules.push_back(parse_tool_rule(r, item));
    if (const Slot* ls = tf.get("limits"))
      for (const auto& item : r.items(*ls)) m.tool_limits.push_back(parse_mcp_tool_limit(r, item));
  }
  f.size("max_body", m.max_body);
  f.read("page_size", m.page_size);
  f.read("log_arguments", m.log_arguments);
  if (const Slot* a = f.get("authorization")) {
    Fields af(r, *a, {"resource", "authorization_servers", "scopes", "scopes_supported"});
    auto& out = m.authorization.emplace();
    af.read("resource", out.resource);
    af.strings("authorization_servers", out.authorization_servers);
    af.strings("scopes", out.scopes);
    af.strings("scopes_supported", out.scopes_supported);
  }
  return m;
}

}  // namespace gatehouse::config::detail
