#include "proxy/grpc_web.hpp"

#include <array>
#include <cctype>
#include <cstdint>

#include "common/strings.hpp"

namespace gatehouse::proxy::grpc_web {

namespace {

constexpr std::string_view kWeb = "application/grpc-web";
constexpr std::string_view kTextSuffix = "-text";
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
// Headers a gRPC-Web client sends that a browser preflights.
constexpr std::string_view kAllowHeaders =
    "content-type, x-grpc-web, x-user-agent, grpc-timeout, grpc-accept-encoding, authorization, "
    "x-request-id";
constexpr std::string_view kExposeHeaders = "grpc-status, grpc-message, grpc-status-details-bin";

int b64_value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool token_char(unsigned char c) {
  return std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) !=
                                std::string_view::npos;
}

uint32_t frame_length(std::string_view b, size_t at) {
  return static_cast<uint32_t>(static_cast<unsigned char>(b[at + 1])) << 24 |
         static_cast<uint32_t>(static_cast<unsigned char>(b[at + 2])) << 16 |
         static_cast<uint32_t>(static_cast<unsigned char>(b[at + 3])) << 8 |
         static_cast<uint32_t>(static_cast<unsigned char>(b[at + 4]));
}

}  // namespace

bool parse_content_type(std::string_view ct, Kind& out) {
  if (ct.size() < kWeb.size() || !iequals(ct.substr(0, kWeb.size()), kWeb)) return false;
  std::string_view rest = ct.substr(kWeb.size());
  if (size_t semi = rest.find(';'); semi != std::string_view::npos) rest = rest.substr(0, semi);
  rest = trim_ows(rest);
  Kind k;
  if (rest.size() >= kTextSuffix.size() && iequals(rest.substr(0, kTextSuffix.size()), kTextSuffix)) {
    k.text = true;
    rest.remove_prefix(kTextSuffix.size());
  }
  if (!rest.empty()) {
    if (rest[0] != '+' || rest.size() < 2) return false;
    for (char c : rest.substr(1))
      if (!token_char(static_cast<unsigned char>(c))) return false;
    k.subtype = to_lower(rest);
  }
  out = std::move(k);
  return true;
}

bool is_grpc_web_request(const http1::RequestHead& head) {
  const std::string* ct = head.find("content-type");
  Kind k;
  return ct && parse_content_type(*ct, k);
}

bool wants_text(const http1::RequestHead& head, const Kind& k) {
  if (k.text) return true;
  for (const auto& h : head.headers) {
    if (!iequals(h.name, "accept")) continue;
    std::string_view v = h.value;
    while (!v.empty()) {
      size_t comma = v.find(',');
      std::string_view item = trim_ows(v.substr(0, comma));
      v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
      Kind a;
      if (parse_content_type(item, a) && a.text) return true;
    }
  }
  return false;
}

std::string upstream_content_type(const Kind& k) { return "application/grpc" + k.subtype; }

std::string response_content_type(bool text, std::string_view upstream, const Kind& fallback) {
  constexpr std::string_view kGrpc = "application/grpc";
  std::string subtype = fallback.subtype;
  if (upstream.size() >= kGrpc.size() && iequals(upstream.substr(0, kGrpc.size()), kGrpc)) {
    std::string_view rest = upstream.substr(kGrpc.size());
    if (size_t semi = rest.find(';'); semi != std::string_view::npos) rest = rest.substr(0, semi);
    rest = trim_ows(rest);
    // A bare application/grpc (what most servers answer whatever was
    // asked) keeps the client's subtype; a named one wins.
    if (!rest.empty() && rest[0] == '+') subtype = to_lower(rest);
  }
  return std::string(kWeb) + (text ? "-text" : "") + subtype;
}

bool base64_decode(std::string_view in, std::string& out, Problem& why) {
  if (in.size() % 4 != 0) {
    why = {"grpc_web_bad_base64",
           "grpc-web-text body is " + std::to_string(in.size()) +
               " characters, not a multiple of 4 (base64 with padding)"};
    return false;
  }
  out.clear();
  out.reserve(in.size() / 4 * 3);
  for (size_t at = 0; at < in.size(); at += 4) {
    std::array<int, 4> v{};
    int pad = 0;
    for (size_t i = 0; i < 4; ++i) {
      auto c = static_cast<unsigned char>(in[at + i]);
      if (c == '=' && i >= 2) {
        ++pad;
        v[i] = 0;
        continue;
      }
      v[i] = pad ? -1 : b64_value(c);
      if (v[i] < 0) {
        why = {"grpc_web_bad_base64",
               pad ? "grpc-web-text body has data after '=' padding at offset " +
                         std::to_string(at + i)
                   : "grpc-web-text body has a character that is not base64 at offset " +
                         std::to_string(at + i)};
        return false;
      }
    }
    uint32_t n = static_cast<uint32_t>(v[0]) << 18 | static_cast<uint32_t>(v[1]) << 12 |
                 static_cast<uint32_t>(v[2]) << 6 | static_cast<uint32_t>(v[3]);
    out += static_cast<char>(n >> 16 & 0xff);
    if (pad < 2) out += static_cast<char>(n >> 8 & 0xff);
    if (pad < 1) out += static_cast<char>(n & 0xff);
  }
  return true;
}

std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << 16 |
                 static_cast<uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8 |
                 static_cast<uint32_t>(static_cast<unsigned char>(in[i + 2]));
    out += kAlphabet[n >> 18 & 63];
    out += kAlphabet[n >> 12 & 63];
    out += kAlphabet[n >> 6 & 63];
    out += kAlphabet[n & 63];
  }
  if (size_t left = in.size() - i; left > 0) {
    uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << 16;
    if (left == 2) n |= static_cast<uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
    out += kAlphabet[n >> 18 & 63];
    out += kAlphabet[n >> 12 & 63];
    out += left == 2 ? kAlphabet[n >> 6 & 63] : '=';
    out += '=';
  }
  return out;
}

bool check_request_frames(std::string_view body, Problem& why) {
  size_t at = 0;
  while (at < body.size()) {
    if (body.size() - at < 5) {
      why = {"grpc_web_bad_frame", "request body ends inside a frame header at offset " +
                                       std::to_string(at) + " (" +
                                       std::to_string(body.size() - at) + " of 5 bytes)"};
      return false;
    }
    auto flag = static_cast<unsigned char>(body[at]);
    if (flag & 0x80) {
      why = {"grpc_web_bad_frame",
             "request frame at offset " + std::to_string(at) + " is a trailer frame (flag 0x80)"};
      return false;
    }
    if (flag > 1) {
      why = {"grpc_web_bad_frame", "request frame at offset " + std::to_string(at) +
                                       " has unknown flags 0x" +
                                       std::string(1, "0123456789abcdef"[flag >> 4]) +
                                       std::string(1, "0123456789abcdef"[flag & 15])};
      return false;
    }
    uint64_t len = frame_length(body, at);
    if (len > body.size() - at - 5) {
      why = {"grpc_web_bad_frame", "request frame at offset " + std::to_string(at) +
                                       " declares " + std::to_string(len) + " bytes but " +
                                       std::to_string(body.size() - at - 5) + " follow"};
      return false;
    }
    at += 5 + static_cast<size_t>(len);
  }
  return true;
}

std::string trailer_frame(const std::vector<http1::Header>& trailers) {
  std::string block;
  for (const auto& t : trailers) {
    block += to_lower(t.name);
    block += ": ";
    block += t.value;
    block += "\r\n";
  }
  std::string out;
  out.reserve(5 + block.size());
  out += static_cast<char>(0x80);
  auto n = static_cast<uint32_t>(block.size());
  out += static_cast<char>(n >> 24 & 0xff);
  out += static_cast<char>(n >> 16 & 0xff);
  out += static_cast<char>(n >> 8 & 0xff);
  out += static_cast<char>(n & 0xff);
  out += block;
  return out;
}

std::vector<http1::Header> cors_response_headers(const http1::RequestHead& head) {
  const std::string* origin = head.find("origin");
  if (!origin) return {};
  return {{"Access-Control-Allow-Origin", *origin},
          {"Access-Control-Expose-Headers", std::string(kExposeHeaders)},
          {"Vary", "Origin"}};
}

bool is_preflight(const http1::RequestHead& head) {
  return head.method == "OPTIONS" && head.find("origin") &&
         head.find("access-control-request-method");
}

std::string preflight_head(const http1::RequestHead& head, std::string_view request_id,
                           bool close) {
  // Allowed headers: the gRPC-Web set plus what the preflight asks for
  // (the spec: "to whatever the preflight request carries"), token names only.
  std::string allow(kAllowHeaders);
  for (const auto& h : head.headers) {
    if (!iequals(h.name, "access-control-request-headers")) continue;
    std::string_view v = h.value;
    while (!v.empty()) {
      size_t comma = v.find(',');
      std::string_view item = trim_ows(v.substr(0, comma));
      v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
      bool ok = !item.empty();
      for (char c : item) ok = ok && token_char(static_cast<unsigned char>(c));
      if (!ok) continue;
      allow += ", ";
      allow += to_lower(item);
    }
  }
  std::string out = "HTTP/1.1 204 No Content\r\nAccess-Control-Allow-Origin: ";
  out += *head.find("origin");
  out += "\r\nAccess-Control-Allow-Methods: POST, OPTIONS\r\nAccess-Control-Allow-Headers: ";
  out += allow;
  out += "\r\nAccess-Control-Expose-Headers: ";
  out += kExposeHeaders;
  out += "\r\nAccess-Control-Max-Age: 86400\r\n"
         "Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers\r\n"
         "X-Request-Id: ";
  out += request_id;
  out += "\r\n";
  if (close) out += "Connection: close\r\n";
  out += "\r\n";
  return out;
}

}  // namespace gatehouse::proxy::grpc_web
