// The usage table on both engines: inserts, filters, grouping, totals,
// pagination and retention (a real PostgreSQL as in the store suites).
#include "ai/usage/usage_db.hpp"

#include <gtest/gtest.h>

#include "ai/usage/recorder.hpp"
#include "store/test_support/store_fixture.hpp"

namespace gatehouse::ai::usage {
namespace {

namespace json = boost::json;
using store::testing::BackendName;
using store::testing::Backends;
using store::testing::StoreFixture;

constexpr int64_t kT0 = 1'790'000'000'000;  // 2026-09-21T...Z
constexpr int64_t kHour = 3'600'000;

Record rec(int64_t at, std::string consumer, std::string model, std::string provider, int64_t in,
           int64_t out, double cost) {
  Record r;
  r.at_ms = at;
  r.request_id = "req-" + std::to_string(at);
  r.route = "ai";
  r.consumer = std::move(consumer);
  r.credential = "cred-1";
  r.endpoint = "chat";
  r.requested_model = model;
  r.model = std::move(model);
  r.provider = std::move(provider);
  r.provider_model = "gpt-4o-mini";
  r.input_tokens = in;
  r.output_tokens = out;
  r.usage_known = true;
  r.cost = cost;
  r.status = 200;
  r.stream = true;
  r.ttft_us = 1500;
  r.duration_us = 20'000;
  r.attempts = 1;
  return r;
}

template <class B>
class UsageDbTest : public StoreFixture<B> {
 protected:
  void SetUp() override {
    StoreFixture<B>::SetUp();
    auto db = UsageDb::open(this->url_, this->dir_);
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(db.value());
    std::vector<Record> rs = {
        rec(kT0, "alice", "smart", "openai", 10, 5, 0.001),
        rec(kT0 + 1, "bob", "smart", "openai", 20, 10, 0.002),
        rec(kT0 + kHour, "alice", "fast", "claude", 30, 15, -1),  // no price
        rec(kT0 + 25 * kHour, "alice", "smart", "openai", 40, 20, 0.004),
    };
    rs[1].status = 429;
    rs[1].error = "llm_token_limit";
    rs[3].partial = true;
    rs[3].ttft_us = -1;
    ASSERT_TRUE(db_->insert(rs).ok());
  }
  json::object q(Query query) {
    auto r = db_->query(query);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? r.value() : json::object{};
  }
  std::unique_ptr<UsageDb> db_;
};

TYPED_TEST_SUITE(UsageDbTest, Backends, BackendName);

TYPED_TEST(UsageDbTest, RecordsNewestFirstWithTotals) {
  auto o = this->q({});
  const auto& t = o.at("totals").as_object();
  EXPECT_EQ(t.at("requests").as_int64(), 4);
  EXPECT_EQ(t.at("input_tokens").as_int64(), 100);
  EXPECT_EQ(t.at("output_tokens").as_int64(), 50);
  EXPECT_EQ(t.at("total_tokens").as_int64(), 150);
  EXPECT_NEAR(t.at("cost").as_double(), 0.007, 1e-12);
  EXPECT_EQ(t.at("errors").as_int64(), 1);
  EXPECT_EQ(t.at("partial").as_int64(), 1);
  const auto& items = o.at("items").as_array();
  ASSERT_EQ(items.size(), 4u);
  const auto& first = items[0].as_object();
  EXPECT_EQ(first.at("at").as_string(), format_time(kT0 + 25 * kHour));
  EXPECT_TRUE(first.at("partial").as_bool());
  EXPECT_TRUE(first.at("ttft_ms").is_null());
  EXPECT_TRUE(items[1].as_object().at("cost").is_null());
  EXPECT_EQ(items[2].as_object().at("error").as_string(), "llm_token_limit");
  EXPECT_EQ(items[3].as_object().at("ttft_ms").as_double(), 1.5);
  EXPECT_TRUE(o.at("next_cursor").is_null());
}

TYPED_TEST(UsageDbTest, FiltersAndTimeRange) {
  Query f;
  f.consumer = "alice";
  f.model = "smart";
  auto o = this->q(f);
  EXPECT_EQ(o.at("totals").as_object().at("requests").as_int64(), 2);
  Query range;
  range.from_ms = kT0 + 1;
  range.to_ms = kT0 + 25 * kHour;  // exclusive
  o = this->q(range);
  EXPECT_EQ(o.at("totals").as_object().at("requests").as_int64(), 2);
  Query none;
  none.provider = "nobody";
  o = this->q(none);
  EXPECT_EQ(o.at("totals").as_object().at("requests").as_int64(), 0);
  EXPECT_TRUE(o.at("totals").as_object().at("cost").is_null());
  EXPECT_TRUE(o.at("items").as_array().empty());
}

TYPED_TEST(UsageDbTest, GroupsByConsumerAndDay) {
  Query g;
  g.group_by = GroupBy::kConsumer;
  auto o = this->q(g);
  const auto& items = o.at("items").as_array();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].as_object().at("key").as_string(), "alice");
  EXPECT_EQ(items[0].as_object().at("requests").as_int64(), 3);
  EXPECT_NEAR(items[0].as_object().at("cost").as_double(), 0.005, 1e-12);
  EXPECT_EQ(items[1].as_object().at("key").as_string(), "bob");
  g.group_by = GroupBy::kDay;
  o = this->q(g);
  const auto& days = o.at("items").as_array();
  ASSERT_EQ(days.size(), 2u);
  int64_t day0 = kT0 / 86'400'000 * 86'400'000;
  EXPECT_EQ(days[0].as_object().at("key").as_string(), format_time(day0));
  EXPECT_EQ(days[0].as_object().at("end").as_string(), format_time(day0 + 86'400'000));
  EXPECT_EQ(days[0].as_object().at("requests").as_int64(), 3);
  EXPECT_EQ(days[1].as_object().at("requests").as_int64(), 1);
}

TYPED_TEST(UsageDbTest, PagesWithCursors) {
  Query p;
  p.limit = 3;
  auto o = this->q(p);
  ASSERT_EQ(o.at("items").as_array().size(), 3u);
  ASSERT_TRUE(o.at("next_cursor").is_string());
  p.cursor = std::string(o.at("next_cursor").as_string());
  o = this->q(p);
  ASSERT_EQ(o.at("items").as_array().size(), 1u);
  EXPECT_EQ(o.at("items").as_array()[0].as_object().at("at").as_string(), format_time(kT0));
  EXPECT_EQ(o.at("totals").as_object().at("requests").as_int64(), 4);  // the whole filter
  EXPECT_TRUE(o.at("next_cursor").is_null());

  Query g;
  g.group_by = GroupBy::kHour;
  g.limit = 1;
  std::vector<std::string> keys;
  for (int i = 0; i < 5; ++i) {
    o = this->q(g);
    for (const auto& it : o.at("items").as_array())
      keys.push_back(std::string(it.as_object().at("key").as_string()));
    if (o.at("next_cursor").is_null()) break;
    g.cursor = std::string(o.at("next_cursor").as_string());
  }
  EXPECT_EQ(keys.size(), 3u);  // three distinct hours

  Query bad;
  bad.cursor = "not-a-cursor";
  auto r = this->db_->query(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "invalid_cursor");
}

TYPED_TEST(UsageDbTest, RetentionDeletesOldRecords) {
  auto n = this->db_->delete_before(kT0 + kHour);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2);
  EXPECT_EQ(this->q({}).at("totals").as_object().at("requests").as_int64(), 2);
}

TYPED_TEST(UsageDbTest, RecorderBuffersPerWorkerAndFlushes) {
  Recorder r;
  r.use_db(std::move(this->db_));
  config::LlmUsageConfig cfg;
  cfg.flush_interval_ms = 60'000;  // only the explicit flush below writes
  for (size_t w = 0; w < 3; ++w)
    r.submit(w, rec(kT0 + 2 * kHour, "carol", "smart", "openai", 1, 1, 0), cfg);
  Query q;
  q.consumer = "carol";
  auto o = r.query(q);  // flushes first
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(o->at("totals").as_object().at("requests").as_int64(), 3);
  EXPECT_EQ(r.written(), 3u);
  cfg.max_pending = 1;
  r.submit(0, rec(kT0, "carol", "smart", "openai", 1, 1, 0), cfg);
  r.submit(0, rec(kT0, "carol", "smart", "openai", 1, 1, 0), cfg);
  EXPECT_EQ(r.dropped(), 1u);
  r.shutdown();  // the final flush writes the buffered one
  EXPECT_EQ(r.written(), 4u);
}

TEST(UsageTime, ParsesRfc3339AndMillis) {
  EXPECT_EQ(parse_time("1790000000000"), 1'790'000'000'000);
  EXPECT_EQ(parse_time("1970-01-01T00:00:01Z"), 1000);
  EXPECT_EQ(parse_time("1970-01-01T00:00:01.25Z"), 1250);
  EXPECT_EQ(parse_time("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_EQ(parse_time("1970-01-02"), 86'400'000);
  EXPECT_EQ(format_time(1250), "1970-01-01T00:00:01.250Z");
  for (const char* bad : {"", "yesterday", "2026-13-01", "2026-02-31", "2026-01-01T10:00",
                          "2026-01-01T10:00:00", "2026-01-01T25:00:00Z", "2026-01-01T10:00:00+1"})
    EXPECT_FALSE(parse_time(bad).has_value()) << bad;
}

}  // namespace
}  // namespace gatehouse::ai::usage
