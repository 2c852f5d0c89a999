// JSON-RPC 2.0 messages as MCP carries them (one JSON object per message;
// batches only where a protocol revision allows them). Parsing classifies a
// message and checks exactly the members the specification requires; every
// other member is kept verbatim in `raw` so a relay forwards what it did not
// need to understand.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::mcp::jsonrpc {

namespace json = boost::json;

// Error codes from the JSON-RPC 2.0 specification, section 5.1.
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;

enum class Kind { kRequest, kNotification, kResult, kError };

struct Message {
  Kind kind = Kind::kRequest;
  json::object raw;    // the whole message as received
  json::value id;      // requests and responses (null for a notification)
  std::string method;  // requests and notifications
  // Error responses: code and message, already checked to be present.
  int64_t error_code = 0;
  std::string error_message;

  bool is_request() const { return kind == Kind::kRequest; }
  bool is_notification() const { return kind == Kind::kNotification; }
  bool is_response() const { return kind == Kind::kResult || kind == Kind::kError; }
  // params as an object, or nullptr when absent (or not an object).
  const json::object* params() const;
};

// Why a message was rejected; `id` is the request id when it could be read
// (so the error response can name it), otherwise null as the spec requires.
struct Failure {
  int code = kInvalidRequest;
  std::string message;
  json::value id;
};

struct Parsed {
  bool batch = false;
  // One entry per message; a batch keeps its order. Exactly one of msg/fail.
  struct Item {
    std::optional<Message> msg;
    Failure fail;
  };
  std::vector<Item> items;
};

// Limits for untrusted input.
struct ParseLimits {
  size_t max_depth = 64;
  size_t max_batch = 100;
};

// Parses one body. A body that is not JSON at all, or an empty batch, is a
// single Failure (returned in items[0] with batch=false): -32700 or -32600.
Parsed parse(std::string_view body, const ParseLimits& limits = {});

// Classifies one JSON value already parsed.
std::optional<Message> classify(const json::value& v, Failure& why);

// Serialisers for messages the gateway makes itself.
std::string error_response(const json::value& id, int code, std::string_view message,
                           const json::value* data = nullptr);
std::string result_response(const json::value& id, const json::value& result);
json::object make_request(const json::value& id, std::string_view method, json::object params);
json::object make_notification(std::string_view method, json::object params);

}  // namespace gatehouse::mcp::jsonrpc
