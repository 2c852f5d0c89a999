// The translation layer's internal representation (IR): one request, response and stream
// event model that the three client-facing wire formats (OpenAI Chat Completions,
// Anthropic Messages, OpenAI Responses) are parsed into and written from.
#pragma once

#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gatehouse::ai {

// kChat, kMessages and kResponses are client and provider formats; the rest are
// provider formats only (no client endpoint speaks them).
enum class Format { kChat, kMessages, kResponses, kGemini, kOllama, kBedrock };
std::string_view format_name(Format f);

enum class Role { kSystem, kDeveloper, kUser, kAssistant, kTool };

enum class PartKind { kText, kImage, kToolCall, kToolResult, kThinking, kRedactedThinking, kRefusal };

struct Image {
  std::string url;         // http(s) URL; empty when the image is inline
  std::string media_type;  // inline only, e.g. "image/png"
  std::string data;        // inline only: base64 (no data: prefix)
  std::string detail;      // OpenAI detail hint (auto/low/high); Anthropic drops it
};

struct Part {
  PartKind kind = PartKind::kText;
  std::string text;        // text, thinking, refusal; redacted_thinking: its opaque data
  Image image;
  std::string id;          // tool call: its id; tool result: the id of the call it answers
  std::string name;        // tool call: function name
  std::string arguments;   // tool call: arguments as JSON text (possibly "" while streaming)
  std::vector<Part> content;  // tool result: text and image parts
  bool is_error = false;   // tool result
  std::string signature;   // thinking: Anthropic signature or Responses encrypted_content
  std::string item_id;     // Responses reasoning item id, kept so a round trip keeps it
  boost::json::value cache_control;  // Anthropic cache_control, written to Messages only
};

struct Message {
  Role role = Role::kUser;
  std::vector<Part> parts;
  std::string name;  // OpenAI participant name (dropped by Messages and Responses)
};

struct Tool {
  std::string name;
  std::string description;
  boost::json::value parameters;  // JSON Schema object
  std::optional<bool> strict;     // OpenAI only
  boost::json::value cache_control;
};

enum class ToolChoiceMode { kAuto, kNone, kRequired, kTool };
struct ToolChoice {
  ToolChoiceMode mode = ToolChoiceMode::kAuto;
  std::string name;  // kTool only
};

struct Reasoning {
  std::string effort;         // minimal/low/medium/high (OpenAI)
  int64_t budget_tokens = 0;  // Anthropic thinking budget, 0 when not given
  std::string summary;        // Responses reasoning.summary (auto/concise/detailed)
};

struct Request {
  std::string model;
  std::vector<Message> messages;  // system/developer messages stay where they were
  std::vector<Tool> tools;
  std::optional<ToolChoice> tool_choice;
  std::optional<bool> parallel_tool_calls;
  std::optional<int64_t> max_tokens;
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<int64_t> top_k;  // Anthropic only
  std::vector<std::string> stop;
  bool stream = false;
  bool include_usage = false;  // Chat clients only get a usage chunk when they ask
  std::string user;            // end user: OpenAI `user`, Anthropic metadata.user_id
  std::vector<std::pair<std::string, std::string>> metadata;  // OpenAI string map
  std::optional<Reasoning> reasoning;
  std::vector<std::string> dropped;  // paths of client fields the IR cannot hold
};

// The usage ledger. Counts are disjoint: input_uncached + cache_read + cache_write is the
// whole prompt; `output` includes reasoning tokens and `reasoning` says how many of them
// were reasoning. Cumulative provider counts are assigned, never added.
struct Usage {
  int64_t input_uncached = 0;
  int64_t cache_read = 0;
  int64_t cache_write = 0;
  int64_t output = 0;
  int64_t reasoning = 0;
  bool partial = false;  // the stream or response was cut: counts are a lower bound
  bool known = false;    // the provider reported usage at all

  int64_t input_total() const { return input_uncached + cache_read + cache_write; }
  bool operator==(const Usage&) const = default;
};
using UsageLedger = Usage;

enum class StopReason {
  kUnknown,
  kEndTurn,
  kMaxTokens,
  kToolUse,
  kStopSequence,
  kContentFilter,
  kRefusal,
  kPauseTurn,
  kError,
};

// An upstream or translation error in neutral form; see errors.hpp for the wire forms.
struct ErrorInfo {
  std::string type;     // neutral type: invalid_request, authentication, permission,
                        // not_found, request_too_large, rate_limit, overloaded, api_error
  std::string message;
  std::string code;     // provider's own code when it had one
  std::string param;    // the offending request field, when known
  int status = 0;
};

struct Response {
  std::string id;
  std::string model;
  int64_t created = 0;
  std::vector<Part> content;  // assistant output, in order
  StopReason stop = StopReason::kUnknown;
  std::string stop_sequence;
  Usage usage;
  std::optional<ErrorInfo> error;  // Responses status "failed"
};

// One normalized stream event. Decoders guarantee: kStart first; every block is opened
// by kBlockStart before its deltas and closed by kBlockStop; block indexes count from 0 in
// opening order; kStop at most once; kEnd (provider's terminal event) last.
enum class EventKind { kStart, kBlockStart, kDelta, kBlockStop, kUsage, kStop, kEnd, kError, kPing };
enum class DeltaKind { kText, kThinking, kSignature, kArguments, kRefusal };

struct StreamEvent {
  EventKind kind = EventKind::kPing;
  size_t index = 0;            // block index (kBlockStart/kDelta/kBlockStop)
  PartKind part = PartKind::kText;  // kBlockStart
  DeltaKind delta = DeltaKind::kText;
  std::string text;            // delta payload; redacted_thinking data at kBlockStart
  std::string id;              // kStart: message id; kBlockStart: tool call id
  std::string name;            // kBlockStart: tool name
  std::string item_id;         // kBlockStart: Responses reasoning item id
  std::string model;           // kStart
  Usage usage;                 // kUsage (and kStart when the provider says it up front)
  StopReason stop = StopReason::kUnknown;  // kStop
  std::string stop_sequence;   // kStop
  ErrorInfo error;             // kError
};

}  // namespace gatehouse::ai
