// MCP 2026-07-28 multi round-trip requests (MRTR, SEP-2322) in front of an
// upstream that speaks 2025-11-25: the upstream's server-to-client requests
// (sampling, elicitation, roots) become an InputRequiredResult's
// `inputRequests`, and the client's retry (`inputResponses` + our
// `requestState`) becomes the upstream's answers. Pure rules here (keys,
// capability checks, the sealed state, the result); the flow that holds the
// upstream call open is in input_required_flow.cpp.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mcp/server/modern.hpp"
#include "mcp/server/session_token.hpp"

namespace gatehouse::mcp::mrtr {

namespace json = boost::json;

using modern::kMissingCapability;
inline constexpr std::string_view kResultType = "input_required";
// An upstream may name the key its request gets in `inputRequests` (so a
// 2026-07-28 client sees a stable, meaningful name): params._meta[this].
inline constexpr std::string_view kMetaInputKey = "io.gatehouse/inputKey";
// The state's answers carried for a retry that cannot resume the held call
// (another node, or expired): beyond this they are dropped, and the client
// is asked again for what the re-issued request needs.
inline constexpr size_t kMaxCarriedAnswers = 16 * 1024;
// Our requestState starts with this; a state without it is an upstream's own
// (one that answers input_required itself) and goes to it unchanged.
inline constexpr std::string_view kStatePrefix = "gh-mrtr.";

// The methods a 2026-07-28 server may answer with an InputRequiredResult
// (tasks/result aside): the only ones whose upstream requests we turn into one.
bool applies(std::string_view method);
// Server-to-client methods that can travel as an input request.
bool input_method(std::string_view method);

// The ClientCapabilities the request's `_meta` must declare for an upstream
// request (e.g. {"sampling": {}}, {"elicitation": {"url": {}}} for a URL-mode
// elicitation); nullopt when `declared` covers it. `declared` may be null.
std::optional<json::object> missing_capability(const json::object& upstream_request,
                                               const json::object* declared);
// The client capabilities the shared 2026-07-28 upstream sessions are opened
// with: all the gateway can turn into input requests.
json::object upstream_capabilities();

// The key an upstream request gets in `inputRequests`: the upstream's
// params._meta["io.gatehouse/inputKey"] when it is a short plain name, else
// `<method kind>-<hash of method and params>`; a repeat of the same key in
// one call gets `-2`, `-3`, ... (`seen` counts them). Deterministic, so a
// re-issued request's questions get the keys the client answered.
std::string input_key(const json::object& upstream_request, std::map<std::string, int>& seen);
// {method, params} as the client is to get it (our key hint removed).
json::object input_request(const json::object& upstream_request);

// What `requestState` carries, sealed with the route's key.
struct State {
  std::string route, consumer, method, target;  // the request it continues
  std::string node;                             // the process that holds the call
  uint64_t worker = 0;                          // and its worker
  uint64_t pending = 0;                         // the held call; 0 = none held
  std::vector<std::string> keys;                // the input requests asked
  json::object answers;                         // every answer so far, by key
  int64_t expires_s = 0;                        // unix seconds; refused after

  // kStatePrefix + the sealed encoding.
  std::string seal(const SessionKey& key) const;
  static bool ours(std::string_view token) { return token.starts_with(kStatePrefix); }
  // nullopt for a token not sealed with `key`, altered, or not a State.
  static std::optional<State> open(const SessionKey& key, std::string_view token);
  static std::optional<State> decode(std::string_view plain);
  std::string encode() const;
};

// Why a retry may not continue `st` (InvalidParams message: made for
// another route, consumer, method or target, or expired); empty when it may.
std::string refusal(const State& st, std::string_view route, std::string_view consumer,
                    std::string_view method, std::string_view target, int64_t now_s);
// The held call a state names, when this node's worker `worker` holds it
// (0 otherwise: the retry re-issues the request).
uint64_t held_here(const State& st, std::string_view node, uint64_t worker);
// The answers a re-issued request's questions are answered from: the
// state's (earlier rounds), then the retry's, which win.
json::object reissue_answers(const State* st, const json::object& responses);
// The answers a new state carries: all, or none past kMaxCarriedAnswers.
json::object carried_answers(const json::object& answers);

// A request's retry members: `inputResponses` (an object of objects) and
// `requestState` (a string). `error` is the InvalidParams message for a
// malformed one.
struct Retry {
  json::object responses;
  std::optional<std::string> state;
  std::string error;
  static Retry parse(const json::object* params);
};
// The request's params as the upstream gets them: without the retry members.
void strip_retry(json::object& params);

// The target a state is bound to: params.name (tools/call, prompts/get) or
// params.uri (resources/read).
std::string target_of(std::string_view method, const json::object* params);

// The InputRequiredResult (a JSON-RPC response).
std::string input_required_response(const json::value& id, const json::object& requests,
                                    const std::string& state);

// Worker drain: every call held on this worker is let go now (its open
// questions answered with an error), so the worker's loop can end
// (input_required_flow.cpp).
void release_held();

}  // namespace gatehouse::mcp::mrtr
