// The usage API's query parameters, apart from the database so the fuzz
// target can link them alone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::ai::usage {

enum class GroupBy { kNone, kConsumer, kModel, kProvider, kRoute, kDay, kHour };

// "consumer" -> kConsumer ...; nullopt for an unknown name.
std::optional<GroupBy> parse_group_by(std::string_view s);
std::string_view group_by_name(GroupBy g);

// RFC 3339 ("2026-11-29T12:00:00Z", "...T12:00:00.250+01:00") or unix
// milliseconds -> unix milliseconds; nullopt when it is neither.
std::optional<int64_t> parse_time(std::string_view s);
// Unix milliseconds -> "2026-11-29T12:00:00.250Z".
std::string format_time(int64_t ms);

}  // namespace gatehouse::ai::usage
