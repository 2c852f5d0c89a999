#include "net/http1/path.hpp"

#include <cstdio>

#include "common/strings.hpp"

namespace gatehouse::http1 {

namespace {

// What to do with each raw byte of a path (RFC 3986 3.3: pchar = unreserved / pct-encoded /
// sub-delims / ":" / "@").
enum PathClass : uint8_t {
  kBad = 0,      // CTL, SP, '#', '\', DEL, non-ASCII: rejected
  kRaw,          // pchar: copied as is
  kUnreserved,   // ALPHA DIGIT - . _ ~ : copied; also what %XX decodes to
  kEncode,       // printable but not allowed in a path (" < > [ ] ^ ` { | }): emitted as %XX
  kPercent,      // '%'
  kSlash,        // '/'
  kQuestion,     // '?': end of path
};

struct PathTable {
  uint8_t cls[256] = {};
};

constexpr PathTable make_path_table() {
  PathTable t;
  for (int c = 0; c < 256; ++c) {
    uint8_t k = kBad;
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      k = kUnreserved;
    } else {
      switch (c) {
        case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case '+':
        case ',': case ';': case '=': case ':': case '@':
          k = kRaw;
          break;
        case '"': case '<': case '>': case '[': case ']': case '^': case '`': case '{':
        case '|': case '}':
          k = kEncode;
          break;
        case '%': k = kPercent; break;
        case '/': k = kSlash; break;
        case '?': k = kQuestion; break;
        default: break;
      }
    }
    t.cls[c] = k;
  }
  return t;
}

constexpr PathTable kPath = make_path_table();
constexpr char kHexUpper[] = "0123456789ABCDEF";

inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Error path_error(const char* code, std::string message) {
  return make_error(code, std::move(message), "path", 400, ErrorSide::kDownstream);
}

std::string byte_at(const char* what, unsigned char c, size_t offset) {
  char buf[96];
  snprintf(buf, sizeof buf, "invalid byte 0x%02X in %s at offset %zu", c, what, offset);
  return buf;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// authority = host [ ":" port ], host = IP-literal / IPv4address / reg-name. userinfo is
// refused (RFC 9110 4.2.4: treat it as an error), so an "http://trusted@evil/" target
// cannot confuse a log reader or a policy.
Result<std::string> check_authority(std::string_view a) {
  if (a.empty()) return path_error("bad_authority", "absolute-form target without a host");
  std::string_view host = a;
  std::string_view port;
  if (a.front() == '[') {
    const size_t close = a.find(']');
    if (close == std::string_view::npos)
      return path_error("bad_authority", "unterminated IP literal in authority");
    host = a.substr(0, close + 1);
    std::string_view after = a.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return path_error("bad_authority", "junk after IP literal");
      port = after.substr(1);
      if (port.empty()) return path_error("bad_authority", "empty port in authority");
    }
    for (char c : host.substr(1, host.size() - 2)) {
      const bool ok = hex_value(c) >= 0 || c == ':' || c == '.';
      if (!ok) return path_error("bad_authority", byte_at("IP literal", c, 0));
    }
  } else {
    // Before the port split: "user:pass@host" would otherwise read as a bad port.
    if (a.find('@') != std::string_view::npos)
      return path_error("bad_authority", "userinfo in authority is not accepted");
    const size_t colon = a.rfind(':');
    if (colon != std::string_view::npos) {
      host = a.substr(0, colon);
      port = a.substr(colon + 1);
      if (port.empty()) return path_error("bad_authority", "empty port in authority");
    }
    if (host.empty()) return path_error("bad_authority", "empty host in authority");
    for (size_t i = 0; i < host.size(); ++i) {
      const unsigned char c = static_cast<unsigned char>(host[i]);
      const uint8_t k = kPath.cls[c];
      // reg-name = *( unreserved / pct-encoded / sub-delims ); ':' already split off.
      if (k == kUnreserved || (k == kRaw && c != ':')) continue;
      if (c == '%' && i + 2 < host.size() && hex_value(host[i + 1]) >= 0 &&
          hex_value(host[i + 2]) >= 0) {
        i += 2;
        continue;
      }
      return path_error("bad_authority", byte_at("authority", c, i));
    }
  }
  if (port.size() > 5) return path_error("bad_authority", "port out of range");
  uint32_t port_value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return path_error("bad_authority", "non-digit in port");
    port_value = port_value * 10 + static_cast<uint32_t>(c - '0');
  }
  if (port_value > 65535) return path_error("bad_authority", "port out of range");
  return to_lower(a);
}

}  // namespace

Result<NormalizedTarget> normalize_target(std::string_view target) {
  NormalizedTarget out;
  if (target.empty()) return path_error("bad_target", "empty request-target");
  // asterisk-form (RFC 9112 3.2.4): returned as path "*"; only the caller knows the method
  // and must refuse it for anything but OPTIONS.
  if (target == "*") {
    out.path = "*";
    return out;
  }

  std::string_view rest = target;
  size_t base = 0;  // offset of `rest` inside `target`, for error messages
  if (target.front() != '/') {
    size_t scheme_len = 0;
    if (starts_with_ci(target, "http://")) scheme_len = 7;
    else if (starts_with_ci(target, "https://")) scheme_len = 8;
    else {
      return path_error("bad_target",
                        "request-target must be origin-form (\"/path\") or absolute-form "
                        "(\"http://host/path\")");
    }
    rest = target.substr(scheme_len);
    const size_t auth_end = rest.find_first_of("/?");
    auto authority = check_authority(rest.substr(0, auth_end));
    if (!authority) return authority.error();
    out.authority = std::move(authority.value());
    base = scheme_len + (auth_end == std::string_view::npos ? rest.size() : auth_end);
    rest = auth_end == std::string_view::npos ? std::string_view() : rest.substr(auth_end);
  }

  const char* d = rest.data();
  const size_t n = rest.size();
  std::string& o = out.path;
  o.reserve(n + 8);
  o.push_back('/');
  size_t i = 0;
  while (i < n && d[i] != '?') {
    // d[i] == '/': collapse the run, then read one segment.
    while (i < n && d[i] == '/') ++i;
    if (o.back() != '/') o.push_back('/');
    if (i >= n || d[i] == '?') break;

    const size_t seg0 = o.size();
    for (; i < n; ++i) {
      const unsigned char c = static_cast<unsigned char>(d[i]);
      const uint8_t k = kPath.cls[c];
      if (k == kRaw || k == kUnreserved) {
        // Copy the whole run at once: most paths are nothing but such runs.
        size_t j = i + 1;
        while (j < n) {
          const uint8_t kj = kPath.cls[static_cast<unsigned char>(d[j])];
          if (kj != kRaw && kj != kUnreserved) break;
          ++j;
        }
        o.append(d + i, j - i);
        i = j - 1;
      } else if (k == kSlash || k == kQuestion) {
        break;
      } else if (k == kPercent) {
        if (i + 2 >= n) {
          return path_error("bad_percent_encoding",
                            "truncated %XX escape at offset " + std::to_string(base + i));
        }
        const int hi = hex_value(d[i + 1]);
        const int lo = hex_value(d[i + 2]);
        if (hi < 0 || lo < 0) {
          return path_error("bad_percent_encoding",
                            "invalid %XX escape at offset " + std::to_string(base + i));
        }
        const unsigned char v = static_cast<unsigned char>(hi * 16 + lo);
        if (v == 0) return path_error("encoded_nul", "%00 in path");
        if (v == '/' || v == '\\') {
          // Decoding would change the segment structure, keeping it means two spellings of
          // one resource that routers and upstreams disagree on: refuse both.
          return path_error("encoded_slash", "encoded '/' or '\\' (%2F, %5C) in path");
        }
        if (kPath.cls[v] == kUnreserved) {
          o.push_back(static_cast<char>(v));
        } else {
          o.push_back('%');
          o.push_back(kHexUpper[v >> 4]);
          o.push_back(kHexUpper[v & 15]);
        }
        i += 2;
      } else if (k == kEncode) {
        o.push_back('%');
        o.push_back(kHexUpper[c >> 4]);
        o.push_back(kHexUpper[c & 15]);
      } else {
        return path_error("bad_path_char", byte_at("path", c, base + i));
      }
    }

    // RFC 3986 5.2.4 on the decoded segment, so "%2e%2e" is a ".." like any other.
    const std::string_view seg(o.data() + seg0, o.size() - seg0);
    if (seg[0] != '.') continue;
    const size_t semi = seg.find(';');
    const std::string_view core = seg.substr(0, semi);
    if (core != "." && core != "..") continue;
    if (semi != std::string_view::npos) {
      // "..;x" is ".." to Tomcat/Jetty but a plain segment to us: a classic ACL bypass.
      return path_error("dot_segment_params", "dot-segment with ';' parameters in path");
    }
    const bool up = core.size() == 2;
    o.resize(seg0);
    if (up && seg0 > 1) o.resize(o.rfind('/', seg0 - 2) + 1);
    // o ends with '/', so a dot-segment at the end leaves a trailing slash ("/a/b/.." is
    // "/a/"), exactly as RFC 3986 does.
  }

  if (i < n) {
    // d[i] == '?': the query is kept raw (its encoding is the application's business) but
    // must not carry bytes that could split or hide anything downstream.
    ++i;
    for (size_t j = i; j < n; ++j) {
      const unsigned char c = static_cast<unsigned char>(d[j]);
      if (c <= 0x20 || c >= 0x7f || c == '#')
        return path_error("bad_query_char", byte_at("query", c, base + j));
    }
    out.query.assign(d + i, n - i);
  }
  return out;
}

}  // namespace gatehouse::http1
