#include "net/http1/status.hpp"

#include <string>

#include "common/log.hpp"

namespace gatehouse::http1 {

const char* reason_phrase(int status) {
  // clang-format off
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 103: return "Early Hints";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 412: return "Precondition Failed";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 417: return "Expectation Failed";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return status < 400 ? "OK" : (status < 500 ? "Bad Request" : "Internal Server Error");
  }
  // clang-format on
}

std::string problem_json(int status, std::string_view code, std::string_view detail,
                         std::string_view request_id) {
  std::string out;
  out.reserve(160 + detail.size());
  out += "{\"type\":\"urn:gatehouse:problem:";
  log::json_escape(out, code);
  out += "\",\"title\":\"";
  out += reason_phrase(status);
  out += "\",\"status\":";
  out += std::to_string(status);
  out += ",\"detail\":\"";
  log::json_escape(out, detail);
  out += "\",\"code\":\"";
  log::json_escape(out, code);
  out += "\",\"request_id\":\"";
  log::json_escape(out, request_id);
  out += "\"}";
  return out;
}

}  // namespace gatehouse::http1
