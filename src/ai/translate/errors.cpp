#include "ai/translate/errors.hpp"

#include "ai/translate/json_util.hpp"
#include "common/json.hpp"

namespace gatehouse::ai {

using namespace detail;

namespace {

std::string type_from_status(int status) {
  switch (status) {
    case 400: case 422: return "invalid_request";
    case 401: return "authentication";
    case 402: case 403: return "permission";
    case 404: return "not_found";
    case 413: return "request_too_large";
    case 429: return "rate_limit";
    case 503: case 529: return "overloaded";
    default: return status >= 400 && status < 500 ? "invalid_request" : "api_error";
  }
}

std::string type_from_anthropic(std::string_view t, int status) {
  if (t == "invalid_request_error") return "invalid_request";
  if (t == "authentication_error") return "authentication";
  if (t == "permission_error" || t == "billing_error") return "permission";
  if (t == "not_found_error") return "not_found";
  if (t == "request_too_large") return "request_too_large";
  if (t == "rate_limit_error") return "rate_limit";
  if (t == "overloaded_error") return "overloaded";
  if (t == "api_error" || t == "timeout_error") return "api_error";
  return type_from_status(status);
}

int default_status(std::string_view type) {
  if (type == "invalid_request") return 400;
  if (type == "authentication") return 401;
  if (type == "permission") return 403;
  if (type == "not_found") return 404;
  if (type == "request_too_large") return 413;
  if (type == "rate_limit") return 429;
  if (type == "overloaded") return 529;
  return 500;
}

}  // namespace

ErrorInfo parse_error_json(const json::object& o, int status) {
  ErrorInfo e;
  e.status = status;
  const json::object* err = obj_or_null(o, "error");
  if (str_or(o, "type") == "error" && err) {  // Anthropic
    e.message = str_or(*err, "message");
    e.code = str_or(*err, "type");
    e.type = type_from_anthropic(e.code, status);
  } else if (err) {  // OpenAI (Chat and Responses)
    e.message = str_or(*err, "message");
    e.code = str_or(*err, "code");
    if (e.code.empty()) e.code = str_or(*err, "type");
    std::string_view t = str_or(*err, "type");
    if (status == 0) {
      if (t == "rate_limit_error" || e.code == "rate_limit_exceeded") e.type = "rate_limit";
      else if (t == "invalid_request_error") e.type = "invalid_request";
      else e.type = "api_error";
    } else {
      e.type = type_from_status(status);
    }
  } else if (const json::value* es = find(o, "error"); es && es->is_string()) {
    // {"error": "text"}: Ollama and some OpenAI-compatible servers.
    e.message = es->as_string();
    e.type = type_from_status(status);
  } else if (str_or(o, "type") == "error") {  // Responses stream `error` event
    e.message = str_or(o, "message");
    e.code = str_or(o, "code");
    e.type = e.code == "rate_limit_exceeded" ? "rate_limit" : type_from_status(status);
  } else if (const json::value* m = find(o, "message"); m && m->is_string()) {
    // {"message": "text"}: AWS (Bedrock) errors; the type is in a header.
    e.message = m->as_string();
    e.type = type_from_status(status);
  } else {
    e.type = type_from_status(status);
  }
  if (e.message.empty()) e.message = "upstream error (HTTP " + std::to_string(status) + ")";
  if (e.status == 0) e.status = default_status(e.type);
  return e;
}

ErrorInfo parse_error(int status, std::string_view body) {
  boost::system::error_code ec;
  json::value v = parse_json(body, ec);
  if (!ec && v.is_object()) return parse_error_json(v.as_object(), status);
  ErrorInfo e;
  e.status = status;
  e.type = type_from_status(status);
  e.message = "upstream error (HTTP " + std::to_string(status) + ")";
  return e;
}

ErrorInfo from_error(const Error& err) {
  ErrorInfo e;
  e.status = err.status ? err.status : 500;
  e.type = type_from_status(e.status);
  e.code = err.code;
  e.message = err.message;
  e.param = err.field;
  return e;
}

int error_status(Format client, const ErrorInfo& e) {
  if (e.type == "overloaded") return client == Format::kMessages ? 529 : 503;
  // Gateway-side 5xx (502 bad upstream, 504 timeout) keep their status.
  if (e.type == "api_error" && e.status >= 500 && e.status <= 599 && e.status != 529)
    return e.status;
  return default_status(e.type);
}

json::object error_json(Format client, const ErrorInfo& e) {
  const std::string& t = e.type;
  if (client == Format::kMessages) {
    std::string at = "api_error";
    if (t == "invalid_request") at = "invalid_request_error";
    else if (t == "authentication") at = "authentication_error";
    else if (t == "permission") at = "permission_error";
    else if (t == "not_found") at = "not_found_error";
    else if (t == "request_too_large") at = "request_too_large";
    else if (t == "rate_limit") at = "rate_limit_error";
    else if (t == "overloaded") at = "overloaded_error";
    return json::object{{"type", "error"},
                        {"error", json::object{{"type", at}, {"message", e.message}}}};
  }
  std::string ot = "server_error";
  if (t == "invalid_request" || t == "not_found" || t == "request_too_large")
    ot = "invalid_request_error";
  else if (t == "authentication") ot = "authentication_error";
  else if (t == "permission") ot = "permission_error";
  else if (t == "rate_limit") ot = "rate_limit_error";
  json::object err{{"message", e.message}, {"type", ot}};
  err["param"] = e.param.empty() ? json::value(nullptr) : json::value(json::string(e.param));
  err["code"] = e.code.empty() ? json::value(nullptr) : json::value(json::string(e.code));
  return json::object{{"error", std::move(err)}};
}

ErrorBody write_error(Format client, const ErrorInfo& e) {
  return ErrorBody{error_status(client, e), dump(error_json(client, e))};
}

}  // namespace gatehouse::ai
