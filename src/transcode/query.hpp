// The query string of a transcoded request: name=value pairs, decoded
// (application/x-www-form-urlencoded: '+' is a space). Names are field paths
// ("a.b"); the transcoder resolves them against the request message.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace gatehouse::transcode {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// Empty pieces ("a=1&&b=2") are skipped; a name without '=' has an empty
// value. A malformed %XX is an error naming the parameter.
Result<QueryParams> parse_query(std::string_view query);

}  // namespace gatehouse::transcode
