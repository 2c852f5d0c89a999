// The 2026-07-28 ("modern") revision on the same endpoint as 2025-11-25
// ("legacy"): a dual-era server picks the era per request. A POST whose body
// carries `_meta["io.modelcontextprotocol/protocolVersion"]` (or whose
// MCP-Protocol-Version header names a modern revision) is served
// statelessly: no initialize, no Mcp-Session-Id, headers mirrored from the
// body and validated against it. Pure functions here; the route does I/O.
#pragma once

#include <boost/json.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mcp/jsonrpc/message.hpp"

namespace gatehouse::mcp::modern {

namespace json = boost::json;

inline constexpr std::string_view kVersion = "2026-07-28";
inline constexpr std::string_view kMetaVersion = "io.modelcontextprotocol/protocolVersion";
inline constexpr std::string_view kMetaSubscription = "io.modelcontextprotocol/subscriptionId";
inline constexpr std::string_view kMetaCapabilities = "io.modelcontextprotocol/clientCapabilities";
inline constexpr std::string_view kMetaServerInfo = "io.modelcontextprotocol/serverInfo";
inline constexpr int kHeaderMismatch = -32020;
// MissingRequiredClientCapability: what the request declared does not cover
// what answering it needs (an upstream's sampling/elicitation/roots, tasks).
inline constexpr int kMissingCapability = -32021;
inline constexpr int kUnsupportedVersion = -32022;

// Every revision the endpoint serves, newest first (discover, -32022 data).
std::vector<std::string> supported_versions();
bool is_modern_version(std::string_view v);

// The version the body's _meta declares; nullopt when it declares none
// (a legacy message), "" when the member is there but not a string.
std::optional<std::string> body_version(const jsonrpc::Message& msg);

// `=?base64?...?=` (the sentinel for values that are not plain header
// text) decoded; a plain value as is; nullopt for a malformed sentinel or a
// plain value with characters a header cannot carry.
std::optional<std::string> decode_header_value(std::string_view v);

struct Headers {
  const std::string* protocol_version = nullptr;
  const std::string* method = nullptr;
  const std::string* name = nullptr;
};

// The HeaderMismatch message for a modern request whose headers are missing
// or disagree with its body; empty when they agree.
std::string check_headers(const jsonrpc::Message& msg, const Headers& h);

// The InvalidParams message (-32602, HTTP 400) for a modern request whose
// _meta lacks what every request must carry (protocolVersion and
// clientCapabilities); empty when it has them. clientInfo is optional.
std::string check_meta(const jsonrpc::Message& msg);

// Methods 2026-07-28 removed (the handshake, ping, logging/setLevel, the
// per-resource subscriptions): a modern request for one is Method not found.
bool removed_method(std::string_view method);

// A modern answer as the revision shapes it: every result says
// `resultType` ("complete" unless the upstream said otherwise), and the
// cacheable ones (discover, lists, resources/read) carry `ttlMs` and
// `cacheScope` when the upstream gave none. `body` is a JSON-RPC response;
// errors and unparsable bodies come back unchanged.
std::string shape_result(std::string_view body, std::string_view method, bool private_scope);

// SEP-2243 custom headers: each string/number/boolean argument a tool's
// inputSchema marks with `"x-mcp-header": "Region"` travels also as the
// header `Mcp-Param-Region` (plain text or the base64 sentinel), and the two
// must agree: a header without the argument, the argument without the
// header, a bad sentinel or another value is a HeaderMismatch. Returns its
// message; empty when they agree. `header` looks a request header up.
std::string check_param_headers(const json::object& tool, const json::object* arguments,
                                const std::function<const std::string*(std::string_view)>& header);

// Logging (2026-07-28 has no logging/setLevel): a request asks for log
// messages with `_meta["io.modelcontextprotocol/logLevel"]`; without it no
// notifications/message may reach the client, with it those at or above it.
inline constexpr std::string_view kMetaLogLevel = "io.modelcontextprotocol/logLevel";
bool wants_logs(const jsonrpc::Message& req);
// False for a notifications/message below (or without) the request's level;
// true for every other notification.
bool note_wanted(const jsonrpc::Message& req, const json::object& note);

// server/discover's result for a route.
json::object discover_result();

// subscriptions/listen: the notification types asked for. The gateway
// honours the list_changed ones; resource subscriptions are not relayed
// (the acknowledgement leaves them out, as the spec says to).
struct ListenFilter {
  bool tools = false, prompts = false, resources = false;
  static std::optional<ListenFilter> parse(const json::object* params, std::string& error);
  json::object acknowledged() const;
  bool wants(std::string_view method) const;
};

// A notification for a listen stream: stamped with the subscription id.
std::string stamp(json::object note, const json::value& listen_id);

}  // namespace gatehouse::mcp::modern
