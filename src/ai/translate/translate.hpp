// Wire format <-> IR for requests and non-streaming responses. Streams: stream.hpp.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ai/translate/ir.hpp"
#include "common/result.hpp"

namespace gatehouse::ai {

struct WriteOptions {
  // Anthropic requires max_tokens; used when the client gave none.
  int64_t default_max_tokens = 4096;
  // Chat: write max_completion_tokens (current OpenAI) or max_tokens (older compatibles).
  bool chat_max_completion_tokens = true;
  // Chat: a streamed upstream request always asks for the usage chunk (the ledger needs it).
  bool chat_force_include_usage = true;
  // Chat: replay earlier thinking as assistant `reasoning_content`. Off by default:
  // DeepSeek-style endpoints reject it on input.
  bool chat_send_reasoning_content = false;
  // Chat/Responses `created` when the source format has none (Anthropic). 0: the clock.
  int64_t created = 0;
};

// Requests (client -> IR -> upstream).
Result<Request> parse_request(Format f, std::string_view body);
std::string write_request(Format f, const Request& r, const WriteOptions& opt = {});

// Non-streaming responses (upstream -> IR -> client). Parsing provider output is lenient
// about extra or odd fields; it fails only on bad JSON or a body that is not a response.
Result<Response> parse_response(Format f, std::string_view body);
std::string write_response(Format f, const Response& r, const WriteOptions& opt = {});

namespace chat {
Result<Request> parse_request(std::string_view body);
std::string write_request(const Request& r, const WriteOptions& opt);
Result<Response> parse_response(std::string_view body);
std::string write_response(const Response& r, const WriteOptions& opt);
}  // namespace chat

namespace messages {
Result<Request> parse_request(std::string_view body);
std::string write_request(const Request& r, const WriteOptions& opt);
Result<Response> parse_response(std::string_view body);
std::string write_response(const Response& r, const WriteOptions& opt);
}  // namespace messages

namespace responses {
Result<Request> parse_request(std::string_view body);
std::string write_request(const Request& r, const WriteOptions& opt);
Result<Response> parse_response(std::string_view body);
std::string write_response(const Response& r, const WriteOptions& opt);
}  // namespace responses

// Provider-only format: requests are written and responses read, never the reverse.
namespace gemini {
std::string write_request(const Request& r, const WriteOptions& opt);
Result<Response> parse_response(std::string_view body);
}  // namespace gemini
namespace ollama {
std::string write_request(const Request& r, const WriteOptions& opt);
Result<Response> parse_response(std::string_view body);
}  // namespace ollama
namespace bedrock {  // Converse / ConverseStream
std::string write_request(const Request& r, const WriteOptions& opt);
Result<Response> parse_response(std::string_view body);
}  // namespace bedrock

}  // namespace gatehouse::ai
