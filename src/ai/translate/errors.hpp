// Provider error bodies -> neutral ErrorInfo -> the client's error format and status.
#pragma once

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

#include "ai/translate/ir.hpp"
#include "common/result.hpp"

namespace gatehouse::ai {

// Reads an upstream error body. The shape is detected (OpenAI `{"error":{...}}` or
// Anthropic `{"type":"error","error":{...}}`), so a misconfigured provider kind still
// gives a readable error; a body that is neither keeps the status and a generic message.
ErrorInfo parse_error(int status, std::string_view body);
ErrorInfo parse_error_json(const boost::json::object& o, int status);

// Our own errors (field errors of a bad request, stream faults) in neutral form.
ErrorInfo from_error(const Error& e);

struct ErrorBody {
  int status = 500;
  std::string body;  // JSON
};

// The status a client of `client` format gets for `e`.
int error_status(Format client, const ErrorInfo& e);
// The JSON error object in the client's format (also used in-band in streams).
boost::json::object error_json(Format client, const ErrorInfo& e);
ErrorBody write_error(Format client, const ErrorInfo& e);
inline ErrorBody translate_error(Format client, int upstream_status, std::string_view body) {
  return write_error(client, parse_error(upstream_status, body));
}

}  // namespace gatehouse::ai
