// The quota policy as the chain sees it: config errors with field paths,
// keys, headers, 429s, both counting modes, and counts that survive a reload
// and a restart (a temp data folder, the real SQLite file).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "common/settings.hpp"
#include "common/strings.hpp"
#include "policies/policy.hpp"
#include "policies/quota/period.hpp"
#include "policies/quota/writer.hpp"

namespace gatehouse::policy {
void register_quota(Registry& r);

namespace {

namespace fs = std::filesystem;

struct Env {
  config::Config cfg;
  Env() {
    register_quota(Registry::instance());
    for (const char* n : {"orders", "users"}) {
      config::RouteConfig r;
      r.name = n;
      cfg.routes.push_back(r);
    }
  }
};

Env& env() {
  static Env e;
  return e;
}

// A fresh data folder per test, removed afterwards; the policy reads the
// folder from the process settings, as `--data-dir` sets them.
class DataDir {
 public:
  DataDir() {
    char tmpl[] = "/tmp/gatehouse-quota-XXXXXX";
    root_ = mkdtemp(tmpl);
    process_settings().data_dir = (fs::path(root_) / "data").string();  // created when first needed
  }
  ~DataDir() {
    (void)quota::flush_usage();  // close the file before it goes
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  fs::path db() const { return fs::path(root_) / "data" / "quotas.db"; }
  fs::path root() const { return root_; }

 private:
  std::string root_;
};

Result<std::shared_ptr<const Policy>> build(const std::string& yaml,
                                            const std::string& field = "routes[0].policies[1]") {
  config::PolicyRef ref;
  ref.name = "quota";
  ref.config_yaml = yaml;
  ref.pos = {"gatehouse.yaml", 12, 7};
  BuildContext bc;
  bc.config = &env().cfg;
  bc.field = field;
  return compile(ref, bc);
}

std::shared_ptr<const Policy> must(const std::string& yaml,
                                   const std::string& field = "routes[0].policies[1]") {
  auto p = build(yaml, field);
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().field + ": " + p.error().message);
  return p.ok() ? p.value() : nullptr;
}

struct Req {
  http1::RequestHead head;
  http1::NormalizedTarget target;
  RequestContext ctx;
  std::string ip;
  explicit Req(std::string client = "198.51.100.1") : ip(std::move(client)) {
    ctx.head = &head;
    ctx.target = &target;
    ctx.client_ip = ip;
    ctx.route_name = "orders";
  }
  Req& as(const Consumer* c) {
    ctx.consumer = c;
    ctx.credential_id = c ? "key-auth:" + c->name : "";
    return *this;
  }
  const std::string* header(std::string_view name) const {
    for (const auto& h : ctx.response_headers)
      if (iequals(h.name, name)) return &h.value;
    return nullptr;
  }
};

const Consumer kAlice{"alice", {}, 0};
const Consumer kBob{"bob", {}, 1};

// One call through the policy, answered with `status` when admitted.
bool pass(const Policy& p, Req& r, Respond* out = nullptr, int status = 200) {
  Respond tmp;
  bool ok = p.on_request(r.ctx, out ? *out : tmp) == Action::kContinue;
  p.on_log(r.ctx, ok ? status : 429);
  return ok;
}

int passes(const Policy& p, int n, const Consumer* who, std::string ip = "198.51.100.1",
           int status = 200) {
  int ok = 0;
  for (int i = 0; i < n; ++i) {
    Req r(ip);
    r.as(who);
    ok += pass(p, r, nullptr, status);
  }
  return ok;
}

int64_t now_s() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

struct Row {
  std::string scope, key;
  int64_t period_start = 0, count = 0;
};

std::vector<Row> rows_in(const fs::path& db) {
  std::vector<Row> out;
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(h);
    return out;
  }
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(h, "SELECT scope, key, period_start, count FROM quota_usage ORDER BY key", -1,
                     &s, nullptr);
  while (s && sqlite3_step(s) == SQLITE_ROW) {
    out.push_back({reinterpret_cast<const char*>(sqlite3_column_text(s, 0)),
                   reinterpret_cast<const char*>(sqlite3_column_text(s, 1)),
                   sqlite3_column_int64(s, 2), sqlite3_column_int64(s, 3)});
  }
  sqlite3_finalize(s);
  sqlite3_close(h);
  return out;
}

// ------------------------------------------------------------------- config

struct BadCase {
  const char* yaml;
  const char* field;
  const char* code;
};

TEST(QuotaPolicy, ConfigErrorsNameTheField) {
  DataDir dir;
  const BadCase cases[] = {
      {"{period: day}", "routes[0].policies[1].config.limit", "missing_field"},
      {"{limit: 5}", "routes[0].policies[1].config.period", "missing_field"},
      {"{limit: 0, period: day}", "routes[0].policies[1].config.limit", "invalid_value"},
      {"{limit: many, period: day}", "routes[0].policies[1].config.limit", "invalid_type"},
      {"{limit: 5, period: fortnight}", "routes[0].policies[1].config.period", "invalid_value"},
      {"{limit: 5, period: 1d}", "routes[0].policies[1].config.period", "invalid_value"},
      {"{limit: 5, period: day, by: plan}", "routes[0].policies[1].config.by", "not_supported"},
      {"{limit: 5, period: day, by: route}", "routes[0].policies[1].config.by", "invalid_value"},
      {"{limit: 5, period: day, by: header}", "routes[0].policies[1].config.header",
       "missing_field"},
      {"{limit: 5, period: day, by: ip, header: x-t}", "routes[0].policies[1].config.header",
       "invalid_value"},
      {"{limit: 5, period: day, count: failures}", "routes[0].policies[1].config.count",
       "invalid_value"},
      {"{limit: 5, period: day, headers: maybe}", "routes[0].policies[1].config.headers",
       "invalid_type"},
      {"{limit: 5, period: day, window: 1d}", "routes[0].policies[1].config.window",
       "unknown_field"},
  };
  for (const auto& c : cases) {
    auto p = build(c.yaml);
    ASSERT_FALSE(p.ok()) << c.yaml;
    EXPECT_EQ(p.error().field, c.field) << c.yaml;
    EXPECT_EQ(p.error().code, c.code) << c.yaml << ": " << p.error().message;
    EXPECT_EQ(p.error().line, 12) << c.yaml;
    EXPECT_EQ(p.error().side, ErrorSide::kConfig) << c.yaml;
  }
  auto plan = build("{limit: 5, period: day, by: plan}");
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.error().message.find("API management"), std::string::npos);
  // A valid config builds without creating anything on disk: nothing was counted.
  EXPECT_TRUE(build("{limit: 5, period: day}").ok());
  EXPECT_FALSE(fs::exists(dir.db().parent_path()));
}

TEST(QuotaPolicy, UnreadableDatabaseIsAConfigError) {
  DataDir dir;
  fs::create_directories(dir.db());  // a folder where the file should be
  auto p = build("{limit: 5, period: day}");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, "quota_store_error");
  EXPECT_EQ(p.error().field, "routes[0].policies[1]");
  EXPECT_EQ(p.error().line, 12);
}

// ------------------------------------------------------------------- basics

TEST(QuotaPolicy, AllowsExactlyTheLimitPerConsumer) {
  DataDir dir;
  auto p = must("{limit: 5, period: year, by: consumer}");
  EXPECT_EQ(p->name(), "quota");
  EXPECT_EQ(p->phase(), Phase::kLimit);
  EXPECT_EQ(passes(*p, 8, &kAlice), 5);
  EXPECT_EQ(passes(*p, 8, &kBob), 5);
  // Anonymous callers are counted per client IP.
  EXPECT_EQ(passes(*p, 8, nullptr, "203.0.113.1"), 5);
  EXPECT_EQ(passes(*p, 8, nullptr, "203.0.113.2"), 5);
}

TEST(QuotaPolicy, HeadersAndTheRefusal) {
  DataDir dir;
  auto p = must("{limit: 2, period: day}");
  int64_t reset = quota::next_period_start(quota::Period::kDay, now_s()) - now_s();
  for (int i = 0; i < 2; ++i) {
    Req r;
    r.as(&kAlice);
    ASSERT_TRUE(pass(*p, r));
    ASSERT_TRUE(r.header("X-Quota-Limit"));
    EXPECT_EQ(*r.header("X-Quota-Limit"), "2");
    EXPECT_EQ(*r.header("X-Quota-Remaining"), std::to_string(1 - i));
    int64_t got = std::stoll(*r.header("X-Quota-Reset"));
    EXPECT_GE(got, 1);
    EXPECT_LE(std::abs(got - reset), 2);
  }
  Req r;
  r.as(&kAlice);
  Respond out;
  ASSERT_FALSE(pass(*p, r, &out));
  EXPECT_EQ(out.status, 429);
  EXPECT_EQ(out.code, "quota_exceeded");
  EXPECT_EQ(out.detail, "quota of 2 calls per day exceeded");
  ASSERT_EQ(out.headers.size(), 1u);
  EXPECT_EQ(out.headers[0].name, "Retry-After");
  int64_t retry = std::stoll(out.headers[0].value);
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 86400);
  EXPECT_LE(std::abs(retry - reset), 2);
  EXPECT_EQ(*r.header("X-Quota-Remaining"), "0");
  EXPECT_EQ(*r.header("X-Quota-Reset"), out.headers[0].value);
}

TEST(QuotaPolicy, HeadersFalseStillSendsRetryAfter) {
  DataDir dir;
  auto p = must("{limit: 1, period: week, headers: false}");
  Req a;
  a.as(&kAlice);
  EXPECT_TRUE(pass(*p, a));
  EXPECT_TRUE(a.ctx.response_headers.empty());
  Req b;
  b.as(&kAlice);
  Respond out;
  EXPECT_FALSE(pass(*p, b, &out));
  EXPECT_TRUE(b.ctx.response_headers.empty());
  ASSERT_EQ(out.headers.size(), 1u);
  EXPECT_EQ(out.headers[0].name, "Retry-After");
}

TEST(QuotaPolicy, TwoQuotasReportTheTighterOne) {
  DataDir dir;
  auto monthly = must("{limit: 100, period: month}", "routes[0].policies[1]");
  auto daily = must("{limit: 3, period: day}", "routes[0].policies[2]");
  Req r;
  r.as(&kAlice);
  Respond out;
  ASSERT_EQ(monthly->on_request(r.ctx, out), Action::kContinue);
  ASSERT_EQ(daily->on_request(r.ctx, out), Action::kContinue);
  EXPECT_EQ(*r.header("X-Quota-Limit"), "3");
  EXPECT_EQ(*r.header("X-Quota-Remaining"), "2");
  int n = 0;
  for (const auto& h : r.ctx.response_headers) n += iequals(h.name, "X-Quota-Limit");
  EXPECT_EQ(n, 1);
}

TEST(QuotaPolicy, KeysByCredentialIpAndHeader) {
  DataDir dir;
  auto by_cred = must("{limit: 1, period: year, by: credential}", "routes[0].policies[1]");
  Req a1, a2;
  a1.as(&kAlice);
  a2.as(&kAlice);
  a2.ctx.credential_id = "key-auth:second";  // alice's other key has its own quota
  EXPECT_TRUE(pass(*by_cred, a1));
  EXPECT_TRUE(pass(*by_cred, a2));
  EXPECT_EQ(passes(*by_cred, 1, &kAlice), 0);

  auto by_ip = must("{limit: 2, period: year, by: ip}", "routes[0].policies[2]");
  EXPECT_EQ(passes(*by_ip, 3, &kAlice, "192.0.2.1"), 2);
  EXPECT_EQ(passes(*by_ip, 3, &kBob, "192.0.2.1"), 0);  // same IP, same quota
  EXPECT_EQ(passes(*by_ip, 3, &kBob, "192.0.2.2"), 2);

  auto by_header =
      must("{limit: 1, period: year, by: header, header: X-Tenant}", "routes[0].policies[3]");
  auto with = [&](std::string v, std::string ip = "192.0.2.9") {
    Req r(ip);
    r.head.headers.push_back({"x-tenant", v});
    return pass(*by_header, r);
  };
  EXPECT_TRUE(with("acme"));
  EXPECT_FALSE(with(" acme "));  // surrounding blanks ignored
  EXPECT_TRUE(with("globex"));
  EXPECT_TRUE(with(std::string(300, 'x')));  // long values are hashed
  EXPECT_FALSE(with(std::string(300, 'x')));
  Req none("192.0.2.77");  // no header: counted by client IP
  EXPECT_TRUE(pass(*by_header, none));
  Req none2("192.0.2.77");
  EXPECT_FALSE(pass(*by_header, none2));
}

// ------------------------------------------------------------ counting modes

TEST(QuotaPolicy, CountAllCountsFailuresToo) {
  DataDir dir;
  auto p = must("{limit: 3, period: year, count: all}");
  EXPECT_EQ(passes(*p, 3, &kAlice, "198.51.100.1", 500), 3);
  EXPECT_EQ(passes(*p, 3, &kAlice), 0);
}

TEST(QuotaPolicy, CountSuccessCountsOnlyResponsesBelow400) {
  DataDir dir;
  auto p = must("{limit: 3, period: year, count: success}");
  EXPECT_EQ(passes(*p, 5, &kAlice, "198.51.100.1", 500), 5);  // failures are free
  EXPECT_EQ(passes(*p, 5, &kAlice, "198.51.100.1", 404), 5);
  EXPECT_EQ(passes(*p, 2, &kAlice, "198.51.100.1", 304), 2);  // < 400 counts
  EXPECT_EQ(passes(*p, 5, &kAlice), 1);
  Req r;
  r.as(&kAlice);
  Respond out;
  EXPECT_FALSE(pass(*p, r, &out));
  EXPECT_EQ(out.code, "quota_exceeded");
}

TEST(QuotaPolicy, CountSuccessHoldsSlotsForCallsInFlight) {
  DataDir dir;
  auto p = must("{limit: 2, period: year, count: success}");
  Req a, b, c;
  a.as(&kAlice);
  b.as(&kAlice);
  c.as(&kAlice);
  Respond out;
  ASSERT_EQ(p->on_request(a.ctx, out), Action::kContinue);
  ASSERT_EQ(p->on_request(b.ctx, out), Action::kContinue);
  EXPECT_EQ(*b.header("X-Quota-Remaining"), "0");
  EXPECT_EQ(p->on_request(c.ctx, out), Action::kRespond);  // both might still succeed
  p->on_log(c.ctx, 429);
  p->on_log(a.ctx, 502);  // a failed: its slot is free again
  Req d;
  d.as(&kAlice);
  EXPECT_EQ(p->on_request(d.ctx, out), Action::kContinue);
  p->on_log(b.ctx, 200);
  p->on_log(d.ctx, 201);
  EXPECT_EQ(passes(*p, 1, &kAlice), 0);
}

TEST(QuotaPolicy, ARefusalByALaterPolicyIsNotASuccess) {
  DataDir dir;
  auto p = must("{limit: 1, period: year, count: success}");
  EXPECT_EQ(passes(*p, 3, &kAlice, "198.51.100.1", 403), 3);
  EXPECT_EQ(passes(*p, 3, &kAlice), 1);
}

// ------------------------------------------------------ reloads and restarts

TEST(QuotaPolicy, ReloadKeepsCountsOfAnUnchangedPolicy) {
  DataDir dir;
  auto p1 = must("{limit: 4, period: month, headers: true}");
  EXPECT_EQ(passes(*p1, 3, &kAlice), 3);
  // Recompiled while the old snapshot is alive, as a reload does; `headers`
  // does not change what a count means.
  auto p2 = must("{limit: 4, period: month, headers: false}");
  EXPECT_EQ(passes(*p2, 3, &kAlice), 1);
  // Another limit is another quota.
  auto p3 = must("{limit: 5, period: month}");
  EXPECT_EQ(passes(*p3, 9, &kAlice), 5);
  // The same config at another position is another quota too.
  auto p4 = must("{limit: 4, period: month}", "routes[1].policies[1]");
  EXPECT_EQ(passes(*p4, 9, &kAlice), 4);
}

TEST(QuotaPolicy, CountsSurviveARestart) {
  DataDir dir;
  const char* cfg = "{limit: 5, period: month, by: consumer}";
  {
    auto p = must(cfg);
    EXPECT_EQ(passes(*p, 3, &kAlice), 3);
    EXPECT_EQ(passes(*p, 1, &kBob), 1);
    auto f = quota::flush_usage();
    ASSERT_TRUE(f.ok()) << f.error().message;
    EXPECT_EQ(passes(*p, 1, &kAlice), 1);  // saved when the policy goes away
  }
  ASSERT_TRUE(quota::flush_usage().ok());  // nothing holds the file any more: closed

  ASSERT_TRUE(fs::exists(dir.db()));
  auto rows = rows_in(dir.db());
  ASSERT_EQ(rows.size(), 2u);
  int64_t month = quota::period_start(quota::Period::kMonth, now_s());
  EXPECT_EQ(rows[0].key, "consumer:alice");
  EXPECT_EQ(rows[0].count, 4);
  EXPECT_EQ(rows[0].period_start, month);
  EXPECT_EQ(rows[0].scope,
            "quota|route:orders/policies[1]|limit=5;period=month;by=consumer;count=all");
  EXPECT_EQ(rows[1].key, "consumer:bob");
  EXPECT_EQ(rows[1].count, 1);

  // A new process: a new policy reads the current month's counts back.
  auto p = must(cfg);
  EXPECT_EQ(passes(*p, 5, &kAlice), 1);
  EXPECT_EQ(passes(*p, 9, &kBob), 4);
  ASSERT_TRUE(quota::flush_usage().ok());
  rows = rows_in(dir.db());
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].count, 5);
  EXPECT_EQ(rows[1].count, 5);
}

TEST(QuotaPolicy, CountsOfADeadPolicyAreSavedBeforeItsSuccessorReads) {
  DataDir dir;
  const char* cfg = "{limit: 3, period: year, by: ip}";
  {
    auto p = must(cfg);
    EXPECT_EQ(passes(*p, 2, nullptr, "192.0.2.5"), 2);
  }  // gone, not flushed yet: its counts wait in the writer
  auto p = must(cfg);
  EXPECT_EQ(passes(*p, 5, nullptr, "192.0.2.5"), 1);
}

TEST(QuotaPolicy, TheWriterSavesInTheBackground) {
  DataDir dir;
  auto p = must("{limit: 10, period: day, by: consumer, count: success}");
  EXPECT_EQ(passes(*p, 2, &kAlice), 2);
  EXPECT_EQ(passes(*p, 2, &kAlice, "198.51.100.1", 500), 2);
  // Flushed every second while the policy lives; nobody calls flush here.
  bool saved = false;
  for (int i = 0; i < 50 && !saved; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto rows = rows_in(dir.db());
    saved = rows.size() == 1 && rows[0].count == 2;
  }
  EXPECT_TRUE(saved);
  // WAL mode, so the writer never blocks a reader.
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open_v2(dir.db().c_str(), &h, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &s, nullptr);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), "wal");
  sqlite3_finalize(s);
  sqlite3_close(h);
}

}  // namespace
}  // namespace gatehouse::policy
