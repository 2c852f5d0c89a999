#include "policies/quota/period.hpp"

#include <chrono>

namespace gatehouse::policy::quota {

namespace {

namespace chr = std::chrono;

chr::sys_days day_of(int64_t unix_s) {
  // floor, not truncation: instants before 1970 still land in their own day.
  return chr::floor<chr::days>(chr::sys_seconds{chr::seconds{unix_s}});
}

int64_t to_unix(chr::sys_days d) {
  return chr::duration_cast<chr::seconds>(d.time_since_epoch()).count();
}

}  // namespace

std::optional<Period> parse_period(std::string_view s) {
  if (s == "day") return Period::kDay;
  if (s == "week") return Period::kWeek;
  if (s == "month") return Period::kMonth;
  if (s == "year") return Period::kYear;
  return std::nullopt;
}

std::string_view period_name(Period p) {
  switch (p) {
    case Period::kDay:
      return "day";
    case Period::kWeek:
      return "week";
    case Period::kMonth:
      return "month";
    case Period::kYear:
      return "year";
  }
  return "day";
}

int64_t period_start(Period p, int64_t unix_s) {
  chr::sys_days d = day_of(unix_s);
  switch (p) {
    case Period::kDay:
      return to_unix(d);
    case Period::kWeek:
      // weekday subtraction is modulo 7, always 0..6 days back to Monday.
      return to_unix(d - (chr::weekday{d} - chr::Monday));
    case Period::kMonth: {
      chr::year_month_day ymd{d};
      return to_unix(chr::sys_days{ymd.year() / ymd.month() / 1});
    }
    case Period::kYear: {
      chr::year_month_day ymd{d};
      return to_unix(chr::sys_days{ymd.year() / chr::January / 1});
    }
  }
  return to_unix(d);
}

int64_t next_period_start(Period p, int64_t start_s) {
  chr::sys_days d = day_of(period_start(p, start_s));
  switch (p) {
    case Period::kDay:
      return to_unix(d + chr::days{1});
    case Period::kWeek:
      return to_unix(d + chr::days{7});
    case Period::kMonth:
      // year_month_day + months carries December into January.
      return to_unix(chr::sys_days{chr::year_month_day{d} + chr::months{1}});
    case Period::kYear:
      return to_unix(chr::sys_days{chr::year_month_day{d} + chr::years{1}});
  }
  return to_unix(d + chr::days{1});
}

}  // namespace gatehouse::policy::quota
