// Calendar periods in UTC: what "per day / week / month / year" means for a
// quota. Time is passed in (Unix seconds) so tests never depend on the clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace gatehouse::policy::quota {

enum class Period { kDay, kWeek, kMonth, kYear };

std::optional<Period> parse_period(std::string_view s);
std::string_view period_name(Period p);

// Start of the period containing `unix_s`, in Unix seconds: 00:00 UTC of the
// day, of the Monday (ISO weeks), of the 1st of the month, of January 1st.
int64_t period_start(Period p, int64_t unix_s);

// Start of the period after the one starting at `start_s` (Dec -> Jan of the
// next year; February has 28 or 29 days).
int64_t next_period_start(Period p, int64_t start_s);

}  // namespace gatehouse::policy::quota
