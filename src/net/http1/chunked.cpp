// The chunked transfer coding (RFC 9112 7.1): a strict, incremental decoder
// of chunk sizes, extensions and the trailer section.
#include <algorithm>
#include <cstring>

#include "common/strings.hpp"
#include "net/http1/char_class.hpp"
#include "net/http1/parser.hpp"

namespace gatehouse::http1 {

using detail::has;
using detail::is_ws;
using detail::kFieldBit;
using detail::kHexBit;
using detail::kMaxLength;
using detail::kTokenBit;

namespace {

enum class LineStep { kLine, kNeedMore, kTooLong, kBareLf };

// Quoted-string per RFC 9110 5.6.4, starting at s[i] == '"'. Advances i past the closing quote.
bool skip_quoted_string(std::string_view s, size_t& i) {
  ++i;
  while (i < s.size()) {
    const unsigned char ch = static_cast<unsigned char>(s[i]);
    if (ch == '"') {
      ++i;
      return true;
    }
    if (ch == '\\') {
      if (i + 1 >= s.size()) return false;
      const unsigned char q = static_cast<unsigned char>(s[i + 1]);
      if (!(q == '\t' || q == ' ' || (q >= 0x21 && q != 0x7f))) return false;
      i += 2;
      continue;
    }
    if (!(ch == '\t' || ch == ' ' || ch == 0x21 || (ch >= 0x23 && ch != 0x7f))) return false;
    ++i;
  }
  return false;
}

// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
// Whitespace only where the grammar has BWS; anything else is an error, because lenient
// extension parsing is a known smuggling vector between disagreeing parsers.
bool valid_chunk_ext(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_ws(s[i])) ++i;
    if (i >= s.size() || s[i] != ';') return false;
    ++i;
    while (i < s.size() && is_ws(s[i])) ++i;
    const size_t name0 = i;
    while (i < s.size() && has(s[i], kTokenBit)) ++i;
    if (i == name0) return false;
    size_t j = i;
    while (j < s.size() && is_ws(s[j])) ++j;
    if (j < s.size() && s[j] == '=') {
      i = j + 1;
      while (i < s.size() && is_ws(s[i])) ++i;
      if (i >= s.size()) return false;
      if (s[i] == '"') {
        if (!skip_quoted_string(s, i)) return false;
      } else {
        const size_t v0 = i;
        while (i < s.size() && has(s[i], kTokenBit)) ++i;
        if (i == v0) return false;
      }
    }
  }
  return true;
}

// Returns nullptr when `line` (without CRLF) is a valid field line, else the error code.
const char* check_field_line(std::string_view line) {
  if (is_ws(line.front())) return "obs_fold";
  size_t i = 0;
  while (i < line.size() && has(line[i], kTokenBit)) ++i;
  if (i >= line.size()) return "bad_header_name";
  if (line[i] != ':') return is_ws(line[i]) ? "space_before_colon" : "bad_header_name";
  if (i == 0) return "bad_header_name";
  for (++i; i < line.size(); ++i)
    if (!has(line[i], kFieldBit)) return "bad_header_value";
  return nullptr;
}

}  // namespace

bool is_forbidden_trailer(std::string_view name) {
  static constexpr std::string_view kForbidden[] = {
      // framing and hop-by-hop
      "content-length", "transfer-encoding", "trailer", "connection", "keep-alive",
      "proxy-connection", "te", "upgrade",
      // routing and request modifiers
      "host", "cache-control", "expect", "max-forwards", "pragma", "range", "if-match",
      "if-none-match", "if-modified-since", "if-unmodified-since", "if-range",
      // authentication
      "authorization", "proxy-authorization", "www-authenticate", "proxy-authenticate",
      "cookie", "set-cookie",
      // response control data and content metadata
      "age", "expires", "date", "location", "retry-after", "vary", "warning",
      "content-encoding", "content-type", "content-range"};
  if (!name.empty() && name.front() == ':') return true;
  for (auto f : kForbidden)
    if (iequals(name, f)) return true;
  return false;
}

ChunkedDecoder::Output ChunkedDecoder::feed(std::string_view in) {
  Output o;
  if (state_ == State::kDone) {
    o.done = true;
    return o;
  }
  if (state_ == State::kError) {
    o.error = true;
    o.error_code = error_code_;
    return o;
  }

  size_t p = 0;
  auto fail = [&](const char* code) {
    state_ = State::kError;
    error_code_ = code;
    o.error = true;
    o.error_code = code;
    o.consumed = p;
    line_.clear();
    return o;
  };

  // Takes one line ending in LF. Complete lines wholly inside `in` are viewed in place;
  // only lines split across feeds are copied into line_.
  auto take_line = [&](size_t limit, std::string_view& line) {
    const char* start = in.data() + p;
    const size_t avail = in.size() - p;
    const void* lf = std::memchr(start, '\n', avail);
    if (lf == nullptr) {
      // Content is at least (bytes so far - 1): the last byte may be the CR.
      if (line_.size() + avail > limit + 1) return LineStep::kTooLong;
      line_.append(start, avail);
      p = in.size();
      return LineStep::kNeedMore;
    }
    const size_t len = static_cast<size_t>(static_cast<const char*>(lf) - start);
    if (line_.size() + len > limit + 1) return LineStep::kTooLong;
    if (line_.empty()) {
      line = std::string_view(start, len);
    } else {
      line_.append(start, len);
      line = line_;
    }
    p += len + 1;
    if (line.empty() || line.back() != '\r') return LineStep::kBareLf;
    line.remove_suffix(1);
    return LineStep::kLine;
  };

  while (p < in.size()) {
    switch (state_) {
      case State::kSize: {
        std::string_view line;
        const LineStep step = take_line(max_line_, line);
        if (step == LineStep::kNeedMore) break;
        if (step == LineStep::kTooLong) return fail("chunk_line_too_long");
        if (line.find('\r') != std::string_view::npos) return fail("bare_cr");
        if (step == LineStep::kBareLf) return fail("bare_lf");
        size_t i = 0;
        uint64_t size = 0;
        while (i < line.size() && has(line[i], kHexBit)) {
          const char ch = line[i];
          const uint64_t digit = ch <= '9' ? ch - '0' : (ascii_lower(ch) - 'a' + 10);
          // Checked before shifting: bits shifted out of 64 would silently vanish.
          if (size > (kMaxLength - digit) >> 4) return fail("chunk_size_overflow");
          size = (size << 4) | digit;
          ++i;
        }
        if (i == 0) return fail("bad_chunk_size");
        if (i < line.size() && line[i] != ';' && !is_ws(line[i])) return fail("bad_chunk_size");
        if (!valid_chunk_ext(line.substr(i))) return fail("bad_chunk_ext");
        line_.clear();
        if (size == 0) {
          state_ = State::kTrailer;
          trailer_bytes_ = 0;
        } else {
          remaining_ = size;
          state_ = State::kData;
        }
        break;
      }
      case State::kData: {
        const size_t take = static_cast<size_t>(
            std::min<uint64_t>(remaining_, static_cast<uint64_t>(in.size() - p)));
        o.data.push_back(in.substr(p, take));
        p += take;
        remaining_ -= take;
        if (remaining_ == 0) state_ = State::kDataCr;
        break;
      }
      case State::kDataCr:
        if (in[p] != '\r') return fail(in[p] == '\n' ? "bare_lf" : "bad_chunk_terminator");
        ++p;
        state_ = State::kDataLf;
        break;
      case State::kDataLf:
        if (in[p] != '\n') return fail("bare_cr");
        ++p;
        state_ = State::kSize;
        break;
      case State::kTrailer: {
        std::string_view line;
        const size_t limit = std::min(max_line_, max_trailer_bytes_);
        const LineStep step = take_line(limit, line);
        if (step == LineStep::kNeedMore) break;
        if (step == LineStep::kTooLong)
          return fail(limit == max_line_ ? "chunk_line_too_long" : "trailers_too_large");
        if (line.find('\r') != std::string_view::npos) return fail("bare_cr");
        if (step == LineStep::kBareLf) return fail("bare_lf");
        trailer_bytes_ += line.size() + 2;
        if (trailer_bytes_ > max_trailer_bytes_) return fail("trailers_too_large");
        if (line.empty()) {
          line_.clear();
          state_ = State::kDone;
          o.done = true;
          o.consumed = p;
          return o;
        }
        if (const char* code = check_field_line(line)) return fail(code);
        if (keep_trailers_) {
          size_t colon = line.find(':');
          std::string_view name = line.substr(0, colon);
          if (!is_forbidden_trailer(name)) {
            std::string_view value = line.substr(colon + 1);
            while (!value.empty() && is_ws(value.front())) value.remove_prefix(1);
            while (!value.empty() && is_ws(value.back())) value.remove_suffix(1);
            trailers_.push_back({std::string(name), std::string(value)});
          }
        }
        line_.clear();
        break;
      }
      case State::kDone:
      case State::kError:
        break;  // unreachable: handled before the loop
    }
  }
  o.consumed = p;
  return o;
}

}  // namespace gatehouse::http1
