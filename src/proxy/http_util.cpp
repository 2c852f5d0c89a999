#include "proxy/http_util.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

#include "common/log.hpp"
#include "common/strings.hpp"

namespace gatehouse::proxy {

bool is_idempotent(std::string_view m) {
  return m == "GET" || m == "HEAD" || m == "OPTIONS" || m == "PUT" || m == "DELETE" ||
         m == "TRACE";
}

bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != ',';
  });
}

bool split_host(std::string_view a, std::string& out) {
  out.clear();
  if (a.empty()) return true;  // HTTP/1.0 without Host: routes without hosts only
  std::string_view host = a;
  std::string_view port;
  const bool literal = a.front() == '[';  // an IPv6 literal (RFC 3986 3.2.2)
  if (literal) {
    size_t close = a.find(']');
    if (close == std::string_view::npos) return false;
    host = a.substr(0, close + 1);
    std::string_view rest = a.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return false;
    if (!rest.empty()) port = rest.substr(1);
  } else if (size_t colon = a.find(':'); colon != std::string_view::npos) {
    host = a.substr(0, colon);
    port = a.substr(colon + 1);
  }
  // The port is digits (it may be empty: "host:") naming a TCP port.
  if (port.size() > 5) return false;
  uint32_t n = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint32_t>(c - '0');
  }
  if (n > 65535) return false;
  if (host.empty() || (literal && host.size() < 3)) return false;
  std::string_view inner = literal ? host.substr(1, host.size() - 2) : host;
  for (char c : inner) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_' || (literal && c == ':');
    if (!ok) return false;
  }
  out = to_lower(host);
  return true;
}

ConnectionTokens::ConnectionTokens(const std::vector<http1::Header>& headers) {
  for (const auto& h : headers) {
    if (!iequals(h.name, "connection")) continue;
    std::string_view v = h.value;
    while (!v.empty()) {
      size_t comma = v.find(',');
      std::string_view tok = trim_ows(v.substr(0, comma));
      if (!tok.empty()) {
        if (n_ < kInline) first_[n_++] = tok;
        else more_.push_back(tok);
      }
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
}

bool ConnectionTokens::contains(std::string_view name) const {
  for (size_t i = 0; i < n_; ++i)
    if (iequals(name, first_[i])) return true;
  for (auto t : more_)
    if (iequals(name, t)) return true;
  return false;
}

FieldKind classify_field(std::string_view n) {
  // By length first: most names of a head match no candidate at all, and
  // the builders asked up to fifteen questions of every header.
  switch (n.size()) {
    case 2:
      return iequals(n, "te") ? FieldKind::kHopByHop : FieldKind::kOther;
    case 3:
      return iequals(n, "via") ? FieldKind::kVia : FieldKind::kOther;
    case 4:
      return iequals(n, "host") ? FieldKind::kHost : FieldKind::kOther;
    case 6:
      return iequals(n, "expect") ? FieldKind::kHopByHop : FieldKind::kOther;
    case 7:
      return iequals(n, "upgrade") || iequals(n, "trailer") ? FieldKind::kHopByHop
                                                            : FieldKind::kOther;
    case 9:
      return iequals(n, "forwarded") ? FieldKind::kForwarded : FieldKind::kOther;
    case 10:
      return iequals(n, "connection") || iequals(n, "keep-alive") ? FieldKind::kHopByHop
                                                                  : FieldKind::kOther;
    case 12:
      return iequals(n, "x-request-id") ? FieldKind::kRequestId : FieldKind::kOther;
    case 14:
      return iequals(n, "content-length") ? FieldKind::kContentLength : FieldKind::kOther;
    case 15:
      return iequals(n, "x-forwarded-for") ? FieldKind::kXForwardedFor : FieldKind::kOther;
    case 16:
      if (iequals(n, "proxy-connection")) return FieldKind::kHopByHop;
      return iequals(n, "x-forwarded-host") ? FieldKind::kXForwardedHost : FieldKind::kOther;
    case 17:
      if (iequals(n, "transfer-encoding")) return FieldKind::kHopByHop;
      return iequals(n, "x-forwarded-proto") ? FieldKind::kXForwardedProto : FieldKind::kOther;
    default:
      return FieldKind::kOther;
  }
}

namespace {

// A list field (RFC 9110 5.3) may come as several field lines that make one
// list. The builders keep the first line's value and whether more followed,
// so the usual single line is appended without a second pass.
struct ListField {
  const std::string* first = nullptr;
  bool more = false;
  void see(const std::string& v) {
    if (!first)
      first = &v;
    else
      more = true;
  }
};

// Appends the list's elements in order, each followed by ", " (the caller's
// own element comes last); empty lines add nothing (empty list elements do
// not count, 5.6.1).
void append_list(std::string& out, const std::vector<http1::Header>& headers,
                 const ConnectionTokens& tokens, FieldKind kind, const ListField& f) {
  if (!f.first) return;
  if (!f.more) {
    if (trim_ows(*f.first).empty()) return;
    out += *f.first;
    out += ", ";
    return;
  }
  for (const auto& h : headers) {
    if (classify_field(h.name) != kind || tokens.contains(h.name) || trim_ows(h.value).empty())
      continue;
    out += h.value;
    out += ", ";
  }
}

// A Forwarded parameter value (RFC 7239 4): a token as it is, otherwise a
// quoted-string (an IPv6 node is also bracketed, 6).
void append_forwarded_value(std::string& out, std::string_view v, bool node) {
  // ':' is no tchar, so an IPv6 node is never a token.
  const bool v6 = node && v.find(':') != std::string_view::npos;
  const bool token = !v.empty() && std::all_of(v.begin(), v.end(), [](char c) {
    return http1::is_tchar(static_cast<unsigned char>(c));
  });
  if (token) {
    out += v;
    return;
  }
  out += '"';
  if (v6) out += '[';
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  if (v6) out += ']';
  out += '"';
}

}  // namespace

std::string build_upstream_head(const http1::RequestHead& req, const ForwardOptions& o) {
  std::string out;
  out.reserve(256 + req.head_bytes);
  out += o.method;
  out += ' ';
  out += o.path_and_query;
  out += " HTTP/1.1\r\nHost: ";
  out += o.upstream_host;
  out += "\r\n";
  const ConnectionTokens tokens(req.headers);
  ListField xff, via, fwd;
  const std::string* xfp = nullptr;
  const std::string* xfh = nullptr;
  for (const auto& h : req.headers) {
    const FieldKind kind = classify_field(h.name);
    if (kind == FieldKind::kHopByHop || kind == FieldKind::kContentLength ||
        kind == FieldKind::kHost || kind == FieldKind::kRequestId)
      continue;
    // A name the Connection header lists is hop-by-hop too (RFC 9110 7.6.1).
    if (tokens.contains(h.name)) continue;
    // Forwarding fields and Via are rewritten below: the lists from all
    // their lines, X-Forwarded-Proto and -Host from the first.
    switch (kind) {
      case FieldKind::kXForwardedFor:
        xff.see(h.value);
        continue;
      case FieldKind::kVia:
        via.see(h.value);
        continue;
      case FieldKind::kForwarded:
        fwd.see(h.value);
        continue;
      case FieldKind::kXForwardedProto:
        if (!xfp) xfp = &h.value;
        continue;
      case FieldKind::kXForwardedHost:
        if (!xfh) xfh = &h.value;
        continue;
      default:
        break;
    }
    append_field(out, h.name, h.value);
  }
  // Forwarding headers: the client's claims are kept only behind a trusted
  // LB. Forwarded (RFC 7239) is dropped from an untrusted client like the
  // X-Forwarded-* claims; behind a trusted LB that sent it, this hop's
  // element is appended to it.
  if (o.trust_forwarded && fwd.first) {
    out += "Forwarded: ";
    append_list(out, req.headers, tokens, FieldKind::kForwarded, fwd);
    out += "for=";
    append_forwarded_value(out, o.client_ip, true);
    if (!o.original_host.empty()) {
      out += ";host=";
      append_forwarded_value(out, o.original_host, false);
    }
    out += o.https ? ";proto=https\r\n" : ";proto=http\r\n";
  }
  out += "X-Forwarded-For: ";
  if (o.trust_forwarded) append_list(out, req.headers, tokens, FieldKind::kXForwardedFor, xff);
  out += o.client_ip;
  out += "\r\nX-Forwarded-Proto: ";
  out += (o.trust_forwarded && xfp) ? std::string_view(*xfp)
         : o.https                  ? std::string_view("https")
                                    : std::string_view("http");
  if (!o.original_host.empty() || (o.trust_forwarded && xfh)) {
    out += "\r\nX-Forwarded-Host: ";
    out += (o.trust_forwarded && xfh) ? std::string_view(*xfh) : o.original_host;
  }
  out += "\r\nVia: ";
  append_list(out, req.headers, tokens, FieldKind::kVia, via);
  out += req.version_minor == 0 ? "1.0 gatehouse" : "1.1 gatehouse";
  out += "\r\nX-Request-Id: ";
  out += o.request_id;
  out += "\r\n";
  if (!o.upgrade.empty()) {
    out += "Connection: Upgrade\r\nUpgrade: ";
    out += o.upgrade;
    out += "\r\n";
  }
  if (o.chunked) {
    out += "Transfer-Encoding: chunked\r\n";
  } else if (o.has_length) {
    out += "Content-Length: ";
    out += std::to_string(o.content_length);
    out += "\r\n";
  }
  out += "\r\n";
  return out;
}

std::string build_downstream_head(const http1::ResponseHead& resp, int client_minor, int framing,
                                  bool close, std::string_view request_id,
                                  bool keep_content_length) {
  std::string out;
  out.reserve(256 + resp.head_bytes);
  out += client_minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(resp.status);
  out += ' ';
  out += resp.reason.empty() ? std::string_view(reason_phrase(resp.status))
                             : std::string_view(resp.reason);
  out += "\r\n";
  const ConnectionTokens tokens(resp.headers);
  bool has_rid = false;
  ListField via;
  for (const auto& h : resp.headers) {
    const FieldKind kind = classify_field(h.name);
    if (kind == FieldKind::kContentLength) {
      // Never on a 204 (RFC 9110 8.6), whatever the upstream sent.
      if (keep_content_length && resp.status != 204) {
        out += "Content-Length: ";
        out += h.value;
        out += "\r\n";
      }
      continue;
    }
    if (kind == FieldKind::kHopByHop) continue;
    if (tokens.contains(h.name)) continue;
    if (kind == FieldKind::kVia) {
      via.see(h.value);
      continue;
    }
    if (kind == FieldKind::kRequestId) has_rid = true;
    append_field(out, h.name, h.value);
  }
  out += "Via: ";
  append_list(out, resp.headers, tokens, FieldKind::kVia, via);
  out += resp.version_minor == 0 ? "1.0 gatehouse" : "1.1 gatehouse";
  out += "\r\n";
  if (!has_rid) {
    out += "X-Request-Id: ";
    out += request_id;
    out += "\r\n";
  }
  if (framing == 1) out += "Transfer-Encoding: chunked\r\n";
  if (close) {
    out += "Connection: close\r\n";
  } else if (client_minor == 0) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
  return out;
}

bool accepts_trailers(const http1::RequestHead& head) {
  for (const auto& h : head.headers) {
    if (!iequals(h.name, "te")) continue;
    std::string_view v = h.value;
    while (!v.empty()) {
      size_t comma = v.find(',');
      std::string_view item = v.substr(0, comma);
      item = item.substr(0, item.find(';'));
      while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
      while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
      if (iequals(item, "trailers")) return true;
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
  return false;
}

namespace {
constexpr uint64_t kMaxForwardsCeiling = 255;  // the most we pass on
}  // namespace

MaxForwards step_max_forwards(http1::RequestHead& head) {
  const bool trace = head.method == "TRACE";
  if (!trace && head.method != "OPTIONS") return MaxForwards::kAbsent;
  if (trace && (head.body == http1::BodyKind::kChunked ||
                (head.body == http1::BodyKind::kContentLength && head.content_length > 0)))
    return MaxForwards::kTraceContent;
  std::string* field = nullptr;
  for (auto& h : head.headers) {
    if (!iequals(h.name, "max-forwards")) continue;
    if (field) return MaxForwards::kInvalid;  // a list is not a Max-Forwards value
    field = &h.value;
  }
  if (!field) return MaxForwards::kAbsent;
  std::string_view v = trim_ows(*field);
  if (v.empty()) return MaxForwards::kInvalid;
  uint64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return MaxForwards::kInvalid;
    // Past the ceiling the exact value no longer matters (7.6.2 lets us cap it).
    if (n <= kMaxForwardsCeiling) n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (n == 0) return MaxForwards::kAnswerHere;
  *field = std::to_string(std::min(n - 1, kMaxForwardsCeiling));
  return MaxForwards::kForward;
}

namespace {

// Fields a TRACE reflection leaves out: credentials a cross-site script could
// otherwise read back from the body (the reason browsers and servers distrust TRACE).
bool carries_credentials(std::string_view name) {
  if (iequals(name, "cookie")) return true;
  // "auth" covers Authorization and Proxy-Authorization.
  std::string lower = to_lower(name);
  for (std::string_view part : {"key", "token", "secret", "auth", "session", "signature"})
    if (lower.find(part) != std::string::npos) return true;
  return false;
}

}  // namespace

std::string trace_reflection(const http1::RequestHead& head) {
  std::string out;
  out.reserve(head.target.size() + 64 + head.headers.size() * 32);
  out += head.method;
  out += ' ';
  out += head.target;
  out += head.version_minor == 0 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n";
  for (const auto& h : head.headers) {
    if (carries_credentials(h.name)) continue;
    append_field(out, h.name, h.value);
  }
  out += "\r\n";
  return out;
}

std::string chunk_line(size_t n) {
  std::array<char, 24> b;
  int len = std::snprintf(b.data(), b.size(), "%zx\r\n", n);
  return {b.data(), static_cast<size_t>(len)};
}

std::string last_chunk(const std::vector<http1::Header>& trailers) {
  std::string out = "0\r\n";
  for (const auto& t : trailers) {
    append_field(out, t.name, t.value);
  }
  out += "\r\n";
  return out;
}

}  // namespace gatehouse::proxy
