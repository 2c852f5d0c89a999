#include "net/http1/parser.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "common/strings.hpp"
#include "net/http1/char_class.hpp"

namespace gatehouse::http1 {

namespace {

using detail::has;
using detail::is_ws;
using detail::kFieldBit;
using detail::kHexBit;
using detail::kMaxLength;
using detail::kTargetBit;
using detail::kTokenBit;


// Eight bytes at a time (SWAR) over the long runs of a head: header values such as Cookie or
// User-Agent and the request-target. A word that might hold a stop byte falls back to the
// table; false positives only cost speed.
constexpr uint64_t kOnes = 0x0101010101010101ULL;
constexpr uint64_t kHigh = 0x8080808080808080ULL;

inline uint64_t load8(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline bool any_below(uint64_t x, uint8_t n) { return ((x - kOnes * n) & ~x & kHigh) != 0; }
inline bool any_equal(uint64_t x, uint8_t b) {
  const uint64_t y = x ^ (kOnes * b);
  return ((y - kOnes) & ~y & kHigh) != 0;
}

// Returns the first index >= p whose byte lacks `bit`, or n.
template <uint8_t kBit>
size_t skip_class(const char* d, size_t p, size_t n) {
  for (;;) {
    while (p + 8 <= n) {
      const uint64_t x = load8(d + p);
      const bool maybe_stop = kBit == kFieldBit
                                  ? (any_below(x, 0x20) || any_equal(x, 0x7f))
                                  : (any_below(x, 0x21) || any_equal(x, 0x7f) || (x & kHigh));
      if (maybe_stop) break;
      p += 8;
    }
    const size_t stop = std::min(n, p + 8);
    while (p < stop && has(d[p], kBit)) ++p;
    if (p < stop || p >= n) return p;
  }
}


// Which kind of message is being parsed: responses come from an upstream, so every
// failure there is a 502 for our client rather than the 4xx a bad client gets.
enum class Side { kRequest, kResponse };

struct Ctx {
  const char* d;
  size_t n;             // bytes visible to the parser (capped at max_header_bytes)
  size_t full_size;     // bytes the caller actually has
  const Limits& limits;
  Side side;
  ParseError& err;

  ParseStatus fail(int status, const char* code, std::string message) const {
    err.status = side == Side::kResponse ? 502 : status;
    err.code = code;
    err.message = std::move(message);
    return ParseStatus::kError;
  }

  // The head has not ended within what we can see: either wait for more bytes or, when it
  // can no longer fit, reject now instead of buffering an attacker's megabytes.
  ParseStatus incomplete() const {
    if (full_size >= limits.max_header_bytes) {
      return fail(431, "headers_too_large",
                  "message head exceeds " + std::to_string(limits.max_header_bytes) + " bytes");
    }
    return ParseStatus::kIncomplete;
  }

  ParseStatus start_line_too_long() const {
    const bool req = side == Side::kRequest;
    return fail(414, req ? "uri_too_long" : "status_line_too_long",
                std::string(req ? "request line" : "status line") + " exceeds " +
                    std::to_string(limits.max_request_line) + " bytes");
  }

  ParseStatus incomplete_start_line(size_t line_start, size_t p) const {
    if (p - line_start > limits.max_request_line) return start_line_too_long();
    return incomplete();
  }

  // A byte at `p` stopped a scan where it does not belong. CR and LF get their own codes
  // because they are what smuggling attempts play with.
  ParseStatus bad_byte(size_t p, int status, const char* code, const char* what) const {
    const char c = d[p];
    if (c == '\n') return fail(400, "bare_lf", "line terminated by LF without CR");
    if (c == '\r' && p + 1 < n && d[p + 1] != '\n')
      return fail(400, "bare_cr", "CR not followed by LF");
    char hex[8];
    snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(c));
    return fail(status, code, std::string("unexpected byte ") + hex + " in " + what);
  }
};

enum class VersionMatch { kOk, kNeedMore, kBad };

// Matches "HTTP/" DIGIT "." DIGIT at d[p..]; case-sensitive (RFC 9112 2.3).
VersionMatch match_version(const Ctx& c, size_t p, int& major, int& minor) {
  static constexpr char kPrefix[] = "HTTP/";
  const size_t avail = c.n - p;
  const size_t check = std::min<size_t>(avail, 8);
  for (size_t i = 0; i < check; ++i) {
    const char ch = c.d[p + i];
    const bool ok = i < 5    ? ch == kPrefix[i]
                    : i == 6 ? ch == '.'
                             : (ch >= '0' && ch <= '9');
    if (!ok) return VersionMatch::kBad;
  }
  if (avail < 8) return VersionMatch::kNeedMore;
  major = c.d[p + 5] - '0';
  minor = c.d[p + 7] - '0';
  return VersionMatch::kOk;
}

// Skips the empty lines RFC 9112 2.2 lets a server ignore before the start line (left over
// from a previous message's body on a reused connection).
ParseStatus skip_leading_crlf(const Ctx& c, size_t& p) {
  while (p < c.n && c.d[p] == '\r') {
    if (p + 1 >= c.n) return c.incomplete();
    if (c.d[p + 1] != '\n') return c.fail(400, "bare_cr", "CR not followed by LF");
    p += 2;
  }
  if (p < c.n && c.d[p] == '\n') return c.fail(400, "bare_lf", "line terminated by LF without CR");
  return ParseStatus::kComplete;
}

// Parses field lines from `p` up to and including the empty line into headers[0, used).
// Entries left over from the previous message are overwritten rather than freed, so a head
// object kept per connection parses without allocating once its strings have grown.
ParseStatus parse_fields(const Ctx& c, size_t& p, std::vector<Header>& headers, size_t& used) {
  const char* d = c.d;
  const size_t n = c.n;
  for (;;) {
    if (p >= n) return c.incomplete();
    const char first = d[p];
    if (first == '\r') {
      if (p + 1 >= n) return c.incomplete();
      if (d[p + 1] != '\n') return c.fail(400, "bare_cr", "CR not followed by LF");
      p += 2;
      return ParseStatus::kComplete;
    }
    if (first == '\n') return c.fail(400, "bare_lf", "line terminated by LF without CR");
    if (is_ws(first)) {
      return c.fail(400, "obs_fold",
                    "header line starts with whitespace (obsolete line folding is not accepted)");
    }
    if (used >= c.limits.max_headers) {
      return c.fail(431, "headers_too_large",
                    "more than " + std::to_string(c.limits.max_headers) + " header fields");
    }

    const size_t name0 = p;
    while (p < n && has(d[p], kTokenBit)) ++p;
    if (p >= n) return c.incomplete();
    if (d[p] != ':') {
      if (is_ws(d[p])) {
        return c.fail(400, "space_before_colon",
                      "whitespace between header name '" + std::string(d + name0, p - name0) +
                          "' and ':'");
      }
      if (d[p] == '\r' && p + 1 >= n) return c.incomplete();
      if (d[p] == '\r' && d[p + 1] == '\n')
        return c.fail(400, "bad_header_name", "header line without ':'");
      return c.bad_byte(p, 400, "bad_header_name", "header name");
    }
    if (p == name0) return c.fail(400, "bad_header_name", "empty header name");
    const size_t name_end = p++;

    while (p < n && is_ws(d[p])) ++p;
    const size_t v0 = p;
    p = skip_class<kFieldBit>(d, p, n);
    if (p >= n) return c.incomplete();
    if (d[p] != '\r') {
      return c.bad_byte(p, 400, "bad_header_value",
                        ("value of header '" + std::string(d + name0, name_end - name0) + "'")
                            .c_str());
    }
    if (p + 1 >= n) return c.incomplete();
    if (d[p + 1] != '\n') return c.fail(400, "bare_cr", "CR not followed by LF");
    size_t v1 = p;
    while (v1 > v0 && is_ws(d[v1 - 1])) --v1;
    Header& h = used < headers.size() ? headers[used] : headers.emplace_back();
    ++used;
    h.name.assign(d + name0, name_end - name0);
    h.value.assign(d + v0, v1 - v0);
    p += 2;
  }
}

// Calls f(element) for each comma-separated element with OWS trimmed (RFC 9110 5.6.1).
template <class F>
void for_each_element(std::string_view v, F&& f) {
  for (;;) {
    const size_t comma = v.find(',');
    f(trim_ows(v.substr(0, comma)));
    if (comma == std::string_view::npos) return;
    v.remove_prefix(comma + 1);
  }
}

// Content-Length = 1*DIGIT, possibly as a list of identical values (RFC 9110 8.6).
// Returns false on anything else, including signs, hex, empty elements and overflow.
bool parse_content_length(std::string_view v, bool& seen, uint64_t& value) {
  bool ok = true;
  for_each_element(v, [&](std::string_view e) {
    if (!ok) return;
    if (e.empty()) { ok = false; return; }
    uint64_t x = 0;
    for (char ch : e) {
      if (ch < '0' || ch > '9') { ok = false; return; }
      const uint64_t digit = static_cast<uint64_t>(ch - '0');
      // Checked before multiplying: 2^64 would wrap to 0 and pass a check made after.
      if (x > (kMaxLength - digit) / 10) { ok = false; return; }
      x = x * 10 + digit;
    }
    if (seen && x != value) { ok = false; return; }
    seen = true;
    value = x;
  });
  return ok;
}

// What the framing-relevant headers said; gathered in one walk over the fields.
struct Framing {
  bool cl_seen = false;
  bool cl_bad = false;
  uint64_t cl = 0;
  bool te_seen = false;
  size_t te_codings = 0;
  bool te_only_chunked = true;  // every coding so far is "chunked"
  int hosts = 0;
  bool conn_close = false;
  bool conn_keep_alive = false;
  bool conn_upgrade = false;
  bool has_upgrade = false;
  bool expect_seen = false;
  bool expect_other = false;
};

Framing scan_framing(const std::vector<Header>& headers) {
  Framing f;
  for (const Header& h : headers) {
    const std::string_view name = h.name;
    switch (name.size()) {
      case 4:
        if (iequals(name, "host")) ++f.hosts;
        break;
      case 6:
        if (iequals(name, "expect")) {
          f.expect_seen = true;
          if (!iequals(h.value, "100-continue")) f.expect_other = true;
        }
        break;
      case 7:
        if (iequals(name, "upgrade")) f.has_upgrade = true;
        break;
      case 10:
        if (iequals(name, "connection")) {
          for_each_element(h.value, [&](std::string_view e) {
            if (iequals(e, "close")) f.conn_close = true;
            else if (iequals(e, "keep-alive")) f.conn_keep_alive = true;
            else if (iequals(e, "upgrade")) f.conn_upgrade = true;
          });
        }
        break;
      case 14:
        if (iequals(name, "content-length") && !f.cl_bad) {
          if (!parse_content_length(h.value, f.cl_seen, f.cl)) f.cl_bad = true;
          f.cl_seen = true;
        }
        break;
      case 17:
        if (iequals(name, "transfer-encoding")) {
          f.te_seen = true;
          for_each_element(h.value, [&](std::string_view e) {
            ++f.te_codings;
            if (!iequals(e, "chunked")) f.te_only_chunked = false;
          });
        }
        break;
      default:
        break;
    }
  }
  return f;
}

// Only a lone "chunked" is accepted: anything layered under it would reach the upstream
// as a coding we never looked at, and "chunked, chunked" is forbidden (RFC 9112 7.1).
bool te_is_plain_chunked(const Framing& f) { return f.te_codings == 1 && f.te_only_chunked; }

// Trims the header vector to what this parse produced, on every return path.
struct HeaderCount {
  std::vector<Header>& headers;
  size_t used = 0;
  ~HeaderCount() { headers.resize(used); }
};

template <class Head>
const std::string* find_header(const Head& head, std::string_view name) {
  for (const Header& h : head.headers)
    if (iequals(h.name, name)) return &h.value;
  return nullptr;
}

}  // namespace

bool is_tchar(unsigned char c) { return (detail::kTable.bits[c] & kTokenBit) != 0; }

const std::string* RequestHead::find(std::string_view name) const { return find_header(*this, name); }
const std::string* ResponseHead::find(std::string_view name) const {
  return find_header(*this, name);
}

ParseStatus parse_request_head(std::string_view buf, const Limits& limits, RequestHead& out,
                               ParseError& err) {
  out.version_minor = 1;
  if (out.headers.capacity() < 16) out.headers.reserve(16);
  out.body = BodyKind::kNone;
  out.content_length = 0;
  out.keep_alive = true;
  out.expect_continue = false;
  out.upgrade = false;
  out.head_bytes = 0;

  // Never look past max_header_bytes: a head that has not ended by then is rejected, so the
  // work per call is bounded whatever the peer sends.
  const Ctx c{buf.data(), std::min(buf.size(), limits.max_header_bytes), buf.size(), limits,
              Side::kRequest, err};
  const char* d = c.d;
  const size_t n = c.n;
  size_t p = 0;
  out.method.clear();
  out.target.clear();
  HeaderCount fields{out.headers};
  if (ParseStatus s = skip_leading_crlf(c, p); s != ParseStatus::kComplete) return s;

  // request-line = method SP request-target SP HTTP-version CRLF, single SPs only.
  const size_t line0 = p;
  while (p < n && has(d[p], kTokenBit)) ++p;
  if (p >= n) return c.incomplete_start_line(line0, p);
  if (d[p] != ' ' || p == line0) {
    if (d[p] == '\r' && p + 1 >= n) return c.incomplete_start_line(line0, p);
    if (d[p] == '\r' && d[p + 1] == '\n')
      return c.fail(400, "bad_request_line", "request line has no request-target");
    return c.bad_byte(p, 400, "bad_method", "method");
  }
  const size_t method_end = p++;

  const size_t t0 = p;
  p = skip_class<kTargetBit>(d, p, std::min(n, line0 + limits.max_request_line + 1));
  if (p - line0 > limits.max_request_line) return c.start_line_too_long();
  if (p >= n) return c.incomplete_start_line(line0, p);
  if (d[p] != ' ' || p == t0) {
    if (p == t0 && d[p] == ' ')
      return c.fail(400, "bad_request_line", "more than one SP after the method");
    if (d[p] == '\r' && p + 1 >= n) return c.incomplete_start_line(line0, p);
    if (d[p] == '\r' && d[p + 1] == '\n')
      return c.fail(400, "bad_request_line", "request line has no HTTP version");
    return c.bad_byte(p, 400, "bad_request_target", "request-target");
  }
  const size_t target_end = p++;

  int major = 0;
  int minor = 0;
  switch (match_version(c, p, major, minor)) {
    case VersionMatch::kNeedMore:
      return c.incomplete_start_line(line0, n);
    case VersionMatch::kBad:
      return c.fail(400, "bad_version", "malformed HTTP version in request line");
    case VersionMatch::kOk:
      break;
  }
  p += 8;
  if (p - line0 > limits.max_request_line) return c.start_line_too_long();
  if (p >= n) return c.incomplete_start_line(line0, p);
  if (d[p] != '\r') {
    if (d[p] == '\n') return c.fail(400, "bare_lf", "line terminated by LF without CR");
    return c.fail(400, "bad_request_line", "unexpected bytes after the HTTP version");
  }
  if (p + 1 >= n) return c.incomplete_start_line(line0, p);
  if (d[p + 1] != '\n') return c.fail(400, "bare_cr", "CR not followed by LF");
  p += 2;

  if (major != 1 || minor > 1) {
    return c.fail(505, "unsupported_version",
                  "HTTP/" + std::to_string(major) + "." + std::to_string(minor) +
                      " is not supported (HTTP/1.0 and HTTP/1.1 only)");
  }

  if (ParseStatus s = parse_fields(c, p, out.headers, fields.used); s != ParseStatus::kComplete) return s;
  out.headers.resize(fields.used);

  out.method.assign(d + line0, method_end - line0);
  out.target.assign(d + t0, target_end - t0);
  out.version_minor = minor;
  out.head_bytes = p;

  const Framing f = scan_framing(out.headers);
  if (f.cl_bad) {
    return c.fail(400, "bad_content_length",
                  "Content-Length must be digits only, and repeated values must be identical");
  }
  if (f.cl_seen && f.te_seen) {
    return c.fail(400, "cl_and_te", "both Content-Length and Transfer-Encoding are present");
  }
  if (f.te_seen && minor == 0) {
    return c.fail(400, "te_in_http10", "Transfer-Encoding is not allowed in an HTTP/1.0 request");
  }
  if (f.te_seen && !te_is_plain_chunked(f)) {
    return c.fail(501, "unsupported_transfer_encoding",
                  "only 'Transfer-Encoding: chunked' is supported");
  }
  if (f.hosts > 1) return c.fail(400, "duplicate_host", "more than one Host header");
  if (f.hosts == 0 && minor == 1) return c.fail(400, "missing_host", "HTTP/1.1 request without Host");
  if (f.expect_other) {
    return c.fail(417, "expectation_failed", "only 'Expect: 100-continue' is supported");
  }

  if (f.te_seen) {
    out.body = BodyKind::kChunked;
  } else if (f.cl_seen) {
    out.body = BodyKind::kContentLength;
    out.content_length = f.cl;
  }
  out.keep_alive = minor == 1 ? !f.conn_close : (f.conn_keep_alive && !f.conn_close);
  // An HTTP/1.0 client cannot know 100-continue; RFC 9110 10.1.1 says ignore it.
  out.expect_continue = f.expect_seen && minor == 1;
  out.upgrade = f.conn_upgrade && f.has_upgrade;
  return ParseStatus::kComplete;
}

ParseStatus parse_response_head(std::string_view buf, const Limits& limits,
                                std::string_view request_method, ResponseHead& out,
                                ParseError& err) {
  out.status = 0;
  out.version_minor = 1;
  if (out.headers.capacity() < 16) out.headers.reserve(16);
  out.body = BodyKind::kNone;
  out.content_length = 0;
  out.keep_alive = true;
  out.head_bytes = 0;

  const Ctx c{buf.data(), std::min(buf.size(), limits.max_header_bytes), buf.size(), limits,
              Side::kResponse, err};
  const char* d = c.d;
  const size_t n = c.n;
  size_t p = 0;
  out.reason.clear();
  HeaderCount fields{out.headers};
  if (ParseStatus s = skip_leading_crlf(c, p); s != ParseStatus::kComplete) return s;

  // status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF
  const size_t line0 = p;
  int major = 0;
  int minor = 0;
  switch (match_version(c, p, major, minor)) {
    case VersionMatch::kNeedMore:
      return c.incomplete_start_line(line0, n);
    case VersionMatch::kBad:
      return c.fail(502, "bad_version", "malformed HTTP version in status line");
    case VersionMatch::kOk:
      break;
  }
  if (major != 1 || minor > 1) {
    return c.fail(502, "unsupported_version",
                  "upstream answered HTTP/" + std::to_string(major) + "." +
                      std::to_string(minor));
  }
  p += 8;
  // SP and three digits.
  for (size_t i = 0; i < 4; ++i, ++p) {
    if (p >= n) return c.incomplete_start_line(line0, p);
    const char ch = d[p];
    const bool ok = i == 0 ? ch == ' ' : (ch >= '0' && ch <= '9');
    if (!ok) return c.fail(502, "bad_status", "malformed status code in status line");
  }
  const int status = (d[p - 3] - '0') * 100 + (d[p - 2] - '0') * 10 + (d[p - 1] - '0');
  if (status < 100) return c.fail(502, "bad_status", "status code below 100");
  if (p >= n) return c.incomplete_start_line(line0, p);
  size_t r0 = p;
  // The SP before an empty reason is often omitted by real servers; tolerate its absence
  // since it cannot change framing.
  if (d[p] == ' ') {
    r0 = ++p;
    while (p < n && has(d[p], kFieldBit)) ++p;
  }
  if (p - line0 > limits.max_request_line) return c.start_line_too_long();
  if (p >= n) return c.incomplete_start_line(line0, p);
  if (d[p] != '\r') return c.bad_byte(p, 502, "bad_status_line", "status line");
  if (p + 1 >= n) return c.incomplete_start_line(line0, p);
  if (d[p + 1] != '\n') return c.fail(502, "bare_cr", "CR not followed by LF");
  const size_t r1 = p;
  p += 2;

  if (ParseStatus s = parse_fields(c, p, out.headers, fields.used); s != ParseStatus::kComplete) return s;
  out.headers.resize(fields.used);

  out.status = status;
  out.reason.assign(d + r0, r1 - r0);
  out.version_minor = minor;
  out.head_bytes = p;

  const Framing f = scan_framing(out.headers);
  if (f.cl_bad) return c.fail(502, "bad_content_length", "upstream sent a malformed Content-Length");
  if (f.cl_seen && f.te_seen) {
    return c.fail(502, "cl_and_te", "upstream sent both Content-Length and Transfer-Encoding");
  }
  if (f.te_seen && minor == 0) {
    // RFC 9112 6.1: framing of an HTTP/1.0 message with Transfer-Encoding is faulty.
    return c.fail(502, "te_in_http10", "upstream sent Transfer-Encoding in an HTTP/1.0 response");
  }
  if (f.te_seen && !te_is_plain_chunked(f)) {
    return c.fail(502, "unsupported_transfer_encoding",
                  "upstream sent a Transfer-Encoding other than 'chunked'");
  }

  out.keep_alive = minor == 1 ? !f.conn_close : (f.conn_keep_alive && !f.conn_close);
  const bool connect_ok = request_method == "CONNECT" && status >= 200 && status < 300;
  if (request_method == "HEAD" || status < 200 || status == 204 || status == 304 || connect_ok) {
    // RFC 9112 6.3 rules 1-2: no body whatever the framing headers say (for HEAD and 304
    // they describe the representation, not this message).
    out.body = BodyKind::kNone;
  } else if (f.te_seen) {
    out.body = BodyKind::kChunked;
  } else if (f.cl_seen) {
    out.body = BodyKind::kContentLength;
    out.content_length = f.cl;
  } else {
    out.body = BodyKind::kUntilClose;
    out.keep_alive = false;
  }
  return ParseStatus::kComplete;
}

}  // namespace gatehouse::http1
