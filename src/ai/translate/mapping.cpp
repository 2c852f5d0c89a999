#include "ai/translate/mapping.hpp"

#include <algorithm>

#include "ai/translate/json_util.hpp"

namespace gatehouse::ai {

std::string_view format_name(Format f) {
  switch (f) {
    case Format::kChat: return "openai-chat";
    case Format::kMessages: return "anthropic-messages";
    case Format::kResponses: return "openai-responses";
    case Format::kGemini: return "gemini";
    case Format::kOllama: return "ollama";
    case Format::kBedrock: return "bedrock";
  }
  return "unknown";
}

namespace detail {

StopReason stop_from_chat(std::string_view r) {
  if (r == "stop") return StopReason::kEndTurn;
  if (r == "length") return StopReason::kMaxTokens;
  if (r == "tool_calls" || r == "function_call") return StopReason::kToolUse;
  if (r == "content_filter") return StopReason::kContentFilter;
  return r.empty() ? StopReason::kUnknown : StopReason::kEndTurn;
}

std::string_view stop_to_chat(StopReason s) {
  switch (s) {
    case StopReason::kMaxTokens: return "length";
    case StopReason::kToolUse: return "tool_calls";
    case StopReason::kContentFilter:
    case StopReason::kRefusal: return "content_filter";
    default: return "stop";
  }
}

StopReason stop_from_messages(std::string_view r) {
  if (r == "end_turn") return StopReason::kEndTurn;
  if (r == "max_tokens" || r == "model_context_window_exceeded") return StopReason::kMaxTokens;
  if (r == "tool_use") return StopReason::kToolUse;
  if (r == "stop_sequence") return StopReason::kStopSequence;
  if (r == "refusal") return StopReason::kRefusal;
  if (r == "pause_turn") return StopReason::kPauseTurn;
  return r.empty() ? StopReason::kUnknown : StopReason::kEndTurn;
}

std::string_view stop_to_messages(StopReason s) {
  switch (s) {
    case StopReason::kMaxTokens: return "max_tokens";
    case StopReason::kToolUse: return "tool_use";
    case StopReason::kStopSequence: return "stop_sequence";
    case StopReason::kContentFilter:
    case StopReason::kRefusal: return "refusal";
    case StopReason::kPauseTurn: return "pause_turn";
    default: return "end_turn";
  }
}

StopReason stop_from_responses(std::string_view status, std::string_view reason,
                               bool had_tool_call) {
  if (status == "incomplete") {
    if (reason == "content_filter") return StopReason::kContentFilter;
    return StopReason::kMaxTokens;
  }
  if (status == "failed" || status == "cancelled") return StopReason::kError;
  return had_tool_call ? StopReason::kToolUse : StopReason::kEndTurn;
}

std::string_view status_to_responses(StopReason s) {
  switch (s) {
    case StopReason::kMaxTokens:
    case StopReason::kContentFilter: return "incomplete";
    case StopReason::kError: return "failed";
    default: return "completed";
  }
}

std::string_view incomplete_reason_to_responses(StopReason s) {
  if (s == StopReason::kMaxTokens) return "max_output_tokens";
  if (s == StopReason::kContentFilter) return "content_filter";
  return {};
}

namespace {
void set_if(const boost::json::object& o, std::string_view key, int64_t& out, bool& known) {
  if (has_int(o, key)) {
    out = std::max<int64_t>(0, int_or(o, key));
    known = true;
  }
}
}  // namespace

// OpenAI prompt_tokens includes cached tokens; the ledger keeps them apart.
void usage_from_chat(const boost::json::object& u, Usage& out) {
  int64_t prompt = -1, cached = -1;
  if (has_int(u, "prompt_tokens")) prompt = int_or(u, "prompt_tokens");
  if (auto* d = obj_or_null(u, "prompt_tokens_details"); d && has_int(*d, "cached_tokens"))
    cached = int_or(*d, "cached_tokens");
  else if (has_int(u, "prompt_cache_hit_tokens"))  // DeepSeek
    cached = int_or(u, "prompt_cache_hit_tokens");
  if (prompt >= 0) {
    out.cache_read = std::max<int64_t>(0, cached);
    out.cache_write = 0;
    out.input_uncached = std::max<int64_t>(0, prompt - out.cache_read);
    out.known = true;
  }
  set_if(u, "completion_tokens", out.output, out.known);
  if (auto* d = obj_or_null(u, "completion_tokens_details"))
    set_if(*d, "reasoning_tokens", out.reasoning, out.known);
}

boost::json::object usage_to_chat(const Usage& u) {
  boost::json::object o;
  o["prompt_tokens"] = u.input_total();
  o["completion_tokens"] = u.output;
  o["total_tokens"] = u.input_total() + u.output;
  o["prompt_tokens_details"] = boost::json::object{{"cached_tokens", u.cache_read}};
  o["completion_tokens_details"] = boost::json::object{{"reasoning_tokens", u.reasoning}};
  return o;
}

void usage_from_messages(const boost::json::object& u, Usage& out) {
  set_if(u, "input_tokens", out.input_uncached, out.known);
  set_if(u, "cache_read_input_tokens", out.cache_read, out.known);
  set_if(u, "cache_creation_input_tokens", out.cache_write, out.known);
  set_if(u, "output_tokens", out.output, out.known);
}

boost::json::object usage_to_messages(const Usage& u) {
  boost::json::object o;
  o["input_tokens"] = u.input_uncached;
  o["cache_creation_input_tokens"] = u.cache_write;
  o["cache_read_input_tokens"] = u.cache_read;
  o["output_tokens"] = u.output;
  return o;
}

void usage_from_responses(const boost::json::object& u, Usage& out) {
  if (has_int(u, "input_tokens")) {
    int64_t total = int_or(u, "input_tokens");
    int64_t cached = 0;
    if (auto* d = obj_or_null(u, "input_tokens_details")) cached = int_or(*d, "cached_tokens");
    out.cache_read = std::max<int64_t>(0, cached);
    out.cache_write = 0;
    out.input_uncached = std::max<int64_t>(0, total - out.cache_read);
    out.known = true;
  }
  set_if(u, "output_tokens", out.output, out.known);
  if (auto* d = obj_or_null(u, "output_tokens_details"))
    set_if(*d, "reasoning_tokens", out.reasoning, out.known);
}

boost::json::object usage_to_responses(const Usage& u) {
  boost::json::object o;
  o["input_tokens"] = u.input_total();
  o["input_tokens_details"] = boost::json::object{{"cached_tokens", u.cache_read}};
  o["output_tokens"] = u.output;
  o["output_tokens_details"] = boost::json::object{{"reasoning_tokens", u.reasoning}};
  o["total_tokens"] = u.input_total() + u.output;
  return o;
}

int64_t effort_to_budget(std::string_view effort) {
  if (effort == "none") return 0;
  if (effort == "minimal") return 1024;
  if (effort == "low") return 2048;
  if (effort == "high") return 16384;
  return 8192;  // medium and anything newer we do not know
}

std::string budget_to_effort(int64_t budget) {
  if (budget <= 2048) return "low";
  if (budget <= 8192) return "medium";
  return "high";
}

bool parse_data_url(std::string_view url, std::string& media_type, std::string& data) {
  if (url.substr(0, 5) != "data:") return false;
  size_t comma = url.find(',');
  if (comma == std::string_view::npos) return false;
  std::string_view meta = url.substr(5, comma - 5);
  constexpr std::string_view kB64 = ";base64";
  if (meta.size() < kB64.size() || meta.substr(meta.size() - kB64.size()) != kB64) return false;
  media_type.assign(meta.substr(0, meta.size() - kB64.size()));
  data.assign(url.substr(comma + 1));
  return true;
}

std::string image_url(const Image& img) {
  if (!img.url.empty()) return img.url;
  return "data:" + img.media_type + ";base64," + img.data;
}

}  // namespace detail
}  // namespace gatehouse::ai

#include <ctime>

namespace gatehouse::ai::detail {

std::string response_id(Format f, std::string_view upstream_id) {
  std::string_view core = id_core(upstream_id);
  if (core.empty()) core = "gatehouse";
  switch (f) {
    case Format::kChat: return "chatcmpl-" + std::string(core);
    case Format::kMessages: return "msg_" + std::string(core);
    case Format::kResponses: return "resp_" + std::string(core);
    case Format::kGemini:
    case Format::kOllama:
    case Format::kBedrock: return std::string(upstream_id);
  }
  return std::string(core);
}

std::string item_id(std::string_view prefix, std::string_view response_id, size_t output_index) {
  std::string_view core = id_core(response_id);
  return std::string(prefix) + std::string(core) + "_" + std::to_string(output_index);
}

int64_t created_or_now(int64_t created, int64_t fallback) {
  if (created > 0) return created;
  if (fallback > 0) return fallback;
  return static_cast<int64_t>(std::time(nullptr));
}

}  // namespace gatehouse::ai::detail

namespace gatehouse::ai::detail {

std::string wrap_openai_reasoning(std::string_view item_id, std::string_view encrypted) {
  return "ghrs:" + std::string(item_id) + ":" + std::string(encrypted);
}

bool unwrap_openai_reasoning(std::string_view signature, std::string& item_id,
                             std::string& encrypted) {
  if (signature.substr(0, 5) != "ghrs:") return false;
  std::string_view rest = signature.substr(5);
  size_t colon = rest.find(':');
  if (colon == std::string_view::npos) return false;
  item_id.assign(rest.substr(0, colon));
  encrypted.assign(rest.substr(colon + 1));
  return true;
}

}  // namespace gatehouse::ai::detail
