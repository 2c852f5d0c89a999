// What the two halves of a route's virtual MCP server share: handler.cpp
// (calls, initialize, notifications, dispatch) and handler_lists.cpp (the
// merged lists and the name index calls are routed by).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "mcp/aggregate/merge.hpp"
#include "mcp/server/handler.hpp"
#include "mcp/server/tool_rules.hpp"
#include "mcp/upstream/upstream.hpp"

namespace gatehouse::mcp::detail {

const config::RouteMcpConfig& route_mcp(const Request& rq);
std::string error_body(const json::value& id, int code, std::string_view message);
const json::object* params_of(const Request& rq);
rules::Caller caller(const Request& rq);
std::string item_name(const json::object& o);  // "" when absent or not a string
std::string str_param(const Request& rq, std::string_view key);
// Sends op to the server, in the request's upstream session when it has one.
std::shared_ptr<Call> send(Request& rq, const std::string& server, Op op);
// False for a server the runtime lacks or whose initialize failed for this session.
bool usable(const Request& rq, const std::string& server);

// A notification an upstream sent while answering a request, where it goes
// besides the request's own stream (handler.cpp).
void relay_note(Request& rq, const std::string& server, const json::object& note);
// The end of a forwarded call: metrics, the audit outcome and the client's
// answer from the upstream's final event (started at `start_us`).
Reply finish_call(Request& rq, Outcome& out, const std::string& server, Event e, int64_t start_us);
// A 2026-07-28 tools/call, prompts/get or resources/read: the upstream's
// sampling/elicitation/roots requests become an InputRequiredResult and the
// retry resumes (or re-issues) the call (input_required_flow.cpp). `msg` is
// the request as the upstream is to get it; `task`: a task-augmented
// tools/call, which becomes a task once it can proceed (server/tasks.hpp).
awaitable<Reply> forward_input_required(Request& rq, Outcome& out, const std::string& server,
                                        json::object msg, bool task);

// The route's merged `method` list (items under `key`), kept per worker for
// calls to be routed by name; `refresh` lists again even when it is fresh.
awaitable<const aggregate::Merged*> index_for(Request& rq, const std::string& method,
                                              const std::string& key, bool refresh,
                                              bool& session_gone);
// A client's tools/list, prompts/list, resources/list or
// resources/templates/list: every upstream's list merged, filtered for the
// caller and paged; the fresh merge also becomes the index.
awaitable<Reply> list(Request& rq, const std::string& method, const std::string& key);

}  // namespace gatehouse::mcp::detail
