#include "transcode/path_template.hpp"

#include <cctype>

#include "common/percent.hpp"

namespace gatehouse::transcode {

namespace {

// Characters a literal segment may hold: RFC 3986 pchar minus the ones the
// grammar gives a meaning ('{', '}', '=', '*', ':' ends a literal only when a
// verb follows the last segment, handled by the caller).
bool literal_char(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  switch (c) {
    case '-':
    case '.':
    case '_':
    case '~':
    case '%':
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '+':
    case ',':
    case ';':
    case '@':
      return true;
    default:
      return false;
  }
}

bool ident_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool ident_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

class Parser {
 public:
  explicit Parser(std::string_view t) : t_(t) {}

  Result<PathTemplate> run() {
    if (t_.empty() || t_[0] != '/') return fail(0, "a path template starts with '/'");
    // The verb is what follows the last ':' outside braces.
    size_t verb_at = std::string_view::npos;
    int depth = 0;
    for (size_t i = 0; i < t_.size(); ++i) {
      if (t_[i] == '{')
        ++depth;
      else if (t_[i] == '}')
        --depth;
      else if (t_[i] == ':' && depth == 0)
        verb_at = i;
    }
    std::string_view body = t_;
    if (verb_at != std::string_view::npos) {
      std::string_view verb = t_.substr(verb_at + 1);
      if (verb.empty()) return fail(verb_at, "':' must be followed by a verb");
      for (size_t i = 0; i < verb.size(); ++i)
        if (!literal_char(verb[i])) return fail(verb_at + 1 + i, "a verb is a literal");
      out_.verb = std::string(verb);
      body = t_.substr(0, verb_at);
    }
    end_ = body.size();
    pos_ = 1;
    if (!segments(false)) return error_;
    if (pos_ != end_) return fail(pos_, "unexpected character");
    for (size_t i = 0; i < out_.segments.size(); ++i)
      if (out_.segments[i].kind == PathTemplate::Kind::kDoubleStar && i + 1 != out_.segments.size())
        return fail(0, "'**' is allowed only as the last segment");
    return out_;
  }

 private:
  Error fail(size_t at, std::string why) {
    error_ = make_error("bad_template", why + " (column " + std::to_string(at + 1) + ")");
    return error_;
  }

  bool segments(bool in_var) {
    for (;;) {
      if (!segment(in_var)) return false;
      if (pos_ < end_ && t_[pos_] == '/') {
        ++pos_;
        continue;
      }
      return true;
    }
  }

  bool segment(bool in_var) {
    if (pos_ >= end_) {
      fail(pos_, "empty segment");
      return false;
    }
    char c = t_[pos_];
    if (c == '*') {
      if (pos_ + 1 < end_ && t_[pos_ + 1] == '*') {
        out_.segments.push_back({PathTemplate::Kind::kDoubleStar, {}});
        pos_ += 2;
      } else {
        out_.segments.push_back({PathTemplate::Kind::kStar, {}});
        ++pos_;
      }
      return true;
    }
    if (c == '{') {
      if (in_var) {
        fail(pos_, "variables cannot nest");
        return false;
      }
      return variable();
    }
    size_t start = pos_;
    while (pos_ < end_ && literal_char(t_[pos_])) ++pos_;
    if (pos_ == start) {
      fail(pos_, c == '/' ? "empty segment" : std::string("unexpected character '") + c + "'");
      return false;
    }
    out_.segments.push_back(
        {PathTemplate::Kind::kLiteral, std::string(t_.substr(start, pos_ - start))});
    return true;
  }

  bool variable() {
    ++pos_;  // '{'
    PathTemplate::Variable v;
    for (;;) {
      size_t start = pos_;
      if (pos_ >= end_ || !ident_start(t_[pos_])) {
        fail(pos_, "a variable names a field");
        return false;
      }
      while (pos_ < end_ && ident_char(t_[pos_])) ++pos_;
      v.field_path.emplace_back(t_.substr(start, pos_ - start));
      if (pos_ < end_ && t_[pos_] == '.') {
        ++pos_;
        continue;
      }
      break;
    }
    for (const auto& other : out_.variables)
      if (other.field_path == v.field_path) {
        fail(pos_, "field bound twice");
        return false;
      }
    v.first = out_.segments.size();
    if (pos_ < end_ && t_[pos_] == '=') {
      ++pos_;
      if (!segments(true)) return false;
    } else {
      out_.segments.push_back({PathTemplate::Kind::kStar, {}});
    }
    if (pos_ >= end_ || t_[pos_] != '}') {
      fail(pos_, "'}' expected");
      return false;
    }
    ++pos_;
    v.last = out_.segments.size();
    out_.variables.push_back(std::move(v));
    return true;
  }

  std::string_view t_;
  size_t pos_ = 0;
  size_t end_ = 0;
  PathTemplate out_;
  Error error_;
};

}  // namespace

Result<PathTemplate> parse_path_template(std::string_view text) {
  return Parser(text).run();
}

bool match_path(const PathTemplate& t, std::string_view path, std::vector<Capture>& out) {
  out.clear();
  if (path.empty() || path[0] != '/') return false;
  std::string_view rest = path.substr(1);
  if (!t.verb.empty()) {
    if (rest.size() < t.verb.size() + 1 || rest.substr(rest.size() - t.verb.size()) != t.verb ||
        rest[rest.size() - t.verb.size() - 1] != ':')
      return false;
    rest = rest.substr(0, rest.size() - t.verb.size() - 1);
  }
  std::vector<std::string_view> segs;
  size_t start = 0;
  for (;;) {
    size_t slash = rest.find('/', start);
    segs.push_back(rest.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  const size_t n = t.segments.size();
  if (t.double_star() ? segs.size() < n - 1 : segs.size() != n) return false;
  // Without a verb in the template, a path whose last segment carries one
  // (":cancel") is another method's.
  if (t.verb.empty() && !t.double_star() && segs.back().find(':') != std::string_view::npos)
    return false;
  for (size_t i = 0; i < n; ++i) {
    const auto& s = t.segments[i];
    if (s.kind == PathTemplate::Kind::kDoubleStar) break;
    if (s.kind == PathTemplate::Kind::kLiteral ? segs[i] != s.text : segs[i].empty()) return false;
  }
  // Where each template segment's capture ends in the request: '**' takes the rest.
  auto seg_end = [&](size_t i) { return i + 1 == n && t.double_star() ? segs.size() : i + 1; };
  for (const auto& v : t.variables) {
    Capture c;
    c.var = &v;
    size_t from = v.first, to = v.last == 0 ? 0 : seg_end(v.last - 1);
    for (size_t i = from; i < to; ++i) {
      auto piece = percent_decode_strict(segs[i], false);
      if (!piece) return false;
      if (i > from) c.value += '/';
      c.value += *piece;
    }
    out.push_back(std::move(c));
  }
  return true;
}

}  // namespace gatehouse::transcode
