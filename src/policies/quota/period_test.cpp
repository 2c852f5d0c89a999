// Calendar period arithmetic: UTC days, ISO weeks (Monday), months (Dec ->
// Jan, February in leap and common years) and years.
#include "policies/quota/period.hpp"

#include <gtest/gtest.h>

namespace gatehouse::policy::quota {
namespace {

// Unix seconds of a UTC civil time, computed independently of <chrono>
// (H. Hinnant's days_from_civil) so the tests check the library use.
int64_t utc(int64_t y, int64_t m, int64_t d, int64_t hh = 0, int64_t mm = 0, int64_t ss = 0) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t days = era * 146097 + doe - 719468;
  return days * 86400 + hh * 3600 + mm * 60 + ss;
}

constexpr int64_t kDay = 86400;

TEST(QuotaPeriod, HelperMatchesKnownInstants) {
  EXPECT_EQ(utc(1970, 1, 1), 0);
  EXPECT_EQ(utc(2024, 1, 1), 1704067200);
  EXPECT_EQ(utc(2024, 3, 1), 1709251200);
}

TEST(QuotaPeriod, Parse) {
  EXPECT_EQ(parse_period("day"), Period::kDay);
  EXPECT_EQ(parse_period("week"), Period::kWeek);
  EXPECT_EQ(parse_period("month"), Period::kMonth);
  EXPECT_EQ(parse_period("year"), Period::kYear);
  EXPECT_FALSE(parse_period("Day"));
  EXPECT_FALSE(parse_period("1d"));
  EXPECT_EQ(period_name(Period::kMonth), "month");
}

TEST(QuotaPeriod, DayStartsAtMidnightUtc) {
  EXPECT_EQ(period_start(Period::kDay, utc(2024, 3, 15, 13, 45, 10)), utc(2024, 3, 15));
  EXPECT_EQ(period_start(Period::kDay, utc(2024, 3, 15)), utc(2024, 3, 15));
  EXPECT_EQ(period_start(Period::kDay, utc(2024, 3, 15, 23, 59, 59)), utc(2024, 3, 15));
  EXPECT_EQ(next_period_start(Period::kDay, utc(2024, 3, 15)), utc(2024, 3, 16));
  EXPECT_EQ(next_period_start(Period::kDay, utc(2024, 2, 28)), utc(2024, 2, 29));
  EXPECT_EQ(next_period_start(Period::kDay, utc(2023, 12, 31)), utc(2024, 1, 1));
  // Given any instant, the next period starts after that instant's period.
  EXPECT_EQ(next_period_start(Period::kDay, utc(2024, 3, 15, 18)), utc(2024, 3, 16));
}

TEST(QuotaPeriod, WeekStartsOnMondayUtc) {
  // 2024-01-01 was a Monday.
  for (int d = 1; d <= 7; ++d)
    EXPECT_EQ(period_start(Period::kWeek, utc(2024, 1, d, 12)), utc(2024, 1, 1)) << d;
  EXPECT_EQ(period_start(Period::kWeek, utc(2024, 1, 7, 23, 59, 59)), utc(2024, 1, 1));
  EXPECT_EQ(period_start(Period::kWeek, utc(2024, 1, 8)), utc(2024, 1, 8));
  // Weeks cross month and year ends: Sunday 2023-12-31 belongs to Monday 12-25,
  // Wednesday 2025-01-01 to Monday 2024-12-30.
  EXPECT_EQ(period_start(Period::kWeek, utc(2023, 12, 31, 9)), utc(2023, 12, 25));
  EXPECT_EQ(period_start(Period::kWeek, utc(2025, 1, 1, 9)), utc(2024, 12, 30));
  EXPECT_EQ(next_period_start(Period::kWeek, utc(2024, 12, 30)), utc(2025, 1, 6));
  // 1970-01-01 was a Thursday: its week began before the epoch.
  EXPECT_EQ(period_start(Period::kWeek, 0), utc(1969, 12, 29));
  EXPECT_EQ(period_start(Period::kWeek, 0), -3 * kDay);
}

TEST(QuotaPeriod, MonthStartsOnTheFirst) {
  EXPECT_EQ(period_start(Period::kMonth, utc(2024, 3, 15, 13)), utc(2024, 3, 1));
  EXPECT_EQ(period_start(Period::kMonth, utc(2024, 3, 1)), utc(2024, 3, 1));
  EXPECT_EQ(period_start(Period::kMonth, utc(2024, 3, 31, 23, 59, 59)), utc(2024, 3, 1));
  EXPECT_EQ(next_period_start(Period::kMonth, utc(2024, 3, 1)), utc(2024, 4, 1));
  EXPECT_EQ(next_period_start(Period::kMonth, utc(2024, 1, 31, 12)), utc(2024, 2, 1));
}

TEST(QuotaPeriod, DecemberRollsIntoJanuary) {
  EXPECT_EQ(period_start(Period::kMonth, utc(2023, 12, 31, 23, 59, 59)), utc(2023, 12, 1));
  EXPECT_EQ(next_period_start(Period::kMonth, utc(2023, 12, 1)), utc(2024, 1, 1));
  EXPECT_EQ(period_start(Period::kMonth, utc(2024, 1, 1)), utc(2024, 1, 1));
}

TEST(QuotaPeriod, FebruaryInLeapAndCommonYears) {
  auto feb_days = [](int64_t y) {
    int64_t s = period_start(Period::kMonth, utc(y, 2, 10));
    return (next_period_start(Period::kMonth, s) - s) / kDay;
  };
  EXPECT_EQ(feb_days(2023), 28);
  EXPECT_EQ(feb_days(2024), 29);
  EXPECT_EQ(feb_days(2100), 28);  // divisible by 100: common
  EXPECT_EQ(feb_days(2000), 29);  // divisible by 400: leap
  EXPECT_EQ(period_start(Period::kMonth, utc(2024, 2, 29, 23)), utc(2024, 2, 1));
  EXPECT_EQ(next_period_start(Period::kMonth, utc(2024, 2, 1)), utc(2024, 3, 1));
  // Every month of a year has the right length.
  const int64_t lengths[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  for (int m = 1; m <= 12; ++m) {
    int64_t s = utc(2024, m, 1);
    EXPECT_EQ(next_period_start(Period::kMonth, s) - s, lengths[m - 1] * kDay) << m;
  }
}

TEST(QuotaPeriod, YearStartsOnJanuaryFirst) {
  EXPECT_EQ(period_start(Period::kYear, utc(2024, 7, 4, 12)), utc(2024, 1, 1));
  EXPECT_EQ(period_start(Period::kYear, utc(2024, 12, 31, 23, 59, 59)), utc(2024, 1, 1));
  EXPECT_EQ(next_period_start(Period::kYear, utc(2024, 1, 1)), utc(2025, 1, 1));
  EXPECT_EQ(next_period_start(Period::kYear, utc(2024, 1, 1)) - utc(2024, 1, 1), 366 * kDay);
  EXPECT_EQ(next_period_start(Period::kYear, utc(2023, 1, 1)) - utc(2023, 1, 1), 365 * kDay);
}

}  // namespace
}  // namespace gatehouse::policy::quota
