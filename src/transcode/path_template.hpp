// google.api.http path templates (http.proto's grammar): parse once at config
// load, match per request. No protobuf here, so the fuzz target links it alone.
//
//   Template = "/" Segments [ Verb ] ;
//   Segments = Segment { "/" Segment } ;
//   Segment  = "*" | "**" | LITERAL | Variable ;
//   Variable = "{" FieldPath [ "=" Segments ] "}" ;
//   FieldPath = IDENT { "." IDENT } ;
//   Verb     = ":" LITERAL ;
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace gatehouse::transcode {

struct PathTemplate {
  enum class Kind { kLiteral, kStar, kDoubleStar };
  struct Segment {
    Kind kind = Kind::kLiteral;
    std::string text;  // literals only
  };
  struct Variable {
    std::vector<std::string> field_path;  // "a.b" -> {"a", "b"}
    size_t first = 0;                     // segments [first, last) it captures
    size_t last = 0;
  };
  std::vector<Segment> segments;
  std::vector<Variable> variables;
  std::string verb;  // custom verb after ':', empty when none
  bool double_star() const {
    return !segments.empty() && segments.back().kind == Kind::kDoubleStar;
  }
};

// Errors name the offset in the template ("column N").
Result<PathTemplate> parse_path_template(std::string_view text);

// One variable's captured value, percent-decoded ('/' kept between segments of
// a multi-segment variable).
struct Capture {
  const PathTemplate::Variable* var = nullptr;
  std::string value;
};

// Matches a request path (no query; %XX as the client sent it). On a match,
// `out` holds one capture per variable. False when the path does not fit or a
// captured segment's percent-encoding is malformed.
bool match_path(const PathTemplate& t, std::string_view path, std::vector<Capture>& out);

}  // namespace gatehouse::transcode
