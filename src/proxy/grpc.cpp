#include "proxy/grpc.hpp"

#include <charconv>

#include "common/strings.hpp"
#include "proxy/grpc_web.hpp"

namespace gatehouse::proxy::grpc {

bool is_grpc(std::string_view ct) {
  constexpr std::string_view kType = "application/grpc";
  if (ct.size() < kType.size() || !iequals(ct.substr(0, kType.size()), kType)) return false;
  if (ct.size() == kType.size()) return true;
  char next = ct[kType.size()];
  return next == '+' || next == ';';
}

bool is_grpc_request(const http1::RequestHead& head) {
  const std::string* ct = head.find("content-type");
  return ct && is_grpc(*ct);
}

bool answers_in_grpc(const http1::RequestHead& head) {
  const std::string* ct = head.find("content-type");
  grpc_web::Kind k;
  return ct && (is_grpc(*ct) || grpc_web::parse_content_type(*ct, k));
}

int64_t parse_timeout(std::string_view v) {
  if (v.size() < 2 || v.size() > 9) return -1;
  uint64_t n = 0;
  auto digits = v.substr(0, v.size() - 1);
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || p != digits.data() + digits.size()) return -1;
  switch (v.back()) {
    case 'H': return static_cast<int64_t>(n) * 3'600'000;
    case 'M': return static_cast<int64_t>(n) * 60'000;
    case 'S': return static_cast<int64_t>(n) * 1'000;
    case 'm': return static_cast<int64_t>(n);
    case 'u': return static_cast<int64_t>((n + 999) / 1'000);
    case 'n': return static_cast<int64_t>((n + 999'999) / 1'000'000);
    default: return -1;
  }
}

std::string format_timeout(int64_t ms) {
  if (ms < 0) ms = 0;
  if (ms <= 99'999'999) return std::to_string(ms) + "m";
  int64_t s = (ms + 999) / 1000;
  if (s <= 99'999'999) return std::to_string(s) + "S";
  return "99999999S";
}

int status_for_http(int s) {
  switch (s) {
    case 400: return kInternal;  // the gRPC spec's mapping: a framing problem, not the message
    case 401: return kUnauthenticated;
    case 403: return kPermissionDenied;
    case 404: return kUnimplemented;
    case 405: return kUnimplemented;
    case 408: return kDeadlineExceeded;
    case 413: return kResourceExhausted;
    case 429: return kResourceExhausted;
    case 431: return kResourceExhausted;
    case 501: return kUnimplemented;
    case 502: return kUnavailable;
    case 503: return kUnavailable;
    case 504: return kDeadlineExceeded;
    default: return s >= 500 ? kInternal : kUnknown;
  }
}

std::string encode_message(std::string_view m) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(m.size());
  for (char ch : m) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c <= 0x7e && c != '%') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

int parse_status(const std::string* v) {
  if (!v || v->empty() || v->size() > 3) return -1;
  int n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size()) return -1;
  return n;
}

std::string trailers_only_head(int status, std::string_view message, std::string_view request_id,
                               const std::vector<http1::Header>& extra, bool close,
                               std::string_view content_type) {
  std::string h = "HTTP/1.1 200 OK\r\ncontent-type: ";
  h += content_type;
  h += "\r\ngrpc-status: ";
  h += std::to_string(status);
  h += "\r\ngrpc-message: ";
  h += encode_message(message);
  h += "\r\nx-request-id: ";
  h += request_id;
  h += "\r\n";
  for (const auto& x : extra) {
    h += x.name;
    h += ": ";
    h += x.value;
    h += "\r\n";
  }
  h += "content-length: 0\r\n";
  if (close) h += "connection: close\r\n";
  h += "\r\n";
  return h;
}

}  // namespace gatehouse::proxy::grpc
