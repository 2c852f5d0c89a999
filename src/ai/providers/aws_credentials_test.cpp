// AWS credentials: the JSON of container/IMDS answers, dates, the refresh
// decision, and the shared cache (one fetch for many callers, renewal ahead
// of expiry, old keys kept after a failed renewal until they expire).
#include "ai/providers/aws_credentials.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

namespace gatehouse::ai::aws {
namespace {

using namespace std::chrono_literals;

Clock::time_point at(int64_t unix_s) {
  return Clock::time_point(std::chrono::seconds(unix_s));
}

TEST(AwsCredentials, ParsesContainerAndImdsAnswers) {
  auto c = parse_credentials_json(
      R"({"RoleArn":"arn:aws:iam::1:role/task","AccessKeyId":"ASIACONTAINER",)"
      R"("SecretAccessKey":"sec/ret+","Token":"tok==","Expiration":"2026-11-29T21:00:00Z"})",
      "container credentials");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->keys.access_key_id, "ASIACONTAINER");
  EXPECT_EQ(c->keys.secret_access_key, "sec/ret+");
  EXPECT_EQ(c->keys.session_token, "tok==");
  EXPECT_EQ(c->source, "container credentials");
  ASSERT_TRUE(c->expires);
  EXPECT_EQ(*c->expires, at(1795986000));

  auto i = parse_credentials_json(
      R"({"Code":"Success","LastUpdated":"2026-11-29T19:00:00Z","Type":"AWS-HMAC",)"
      R"("AccessKeyId":"ASIAIMDS","SecretAccessKey":"s","Token":"t",)"
      R"("Expiration":"2026-11-29T21:00:00.123+01:00"})",
      "instance metadata");
  ASSERT_TRUE(i);
  EXPECT_EQ(*i->expires, at(1795986000 - 3600));

  // Long-term keys: no Expiration.
  auto l = parse_credentials_json(R"({"AccessKeyId":"A","SecretAccessKey":"S"})", "x");
  ASSERT_TRUE(l);
  EXPECT_FALSE(l->expires);
}

TEST(AwsCredentials, BadAnswersArePreciseAndKeepKeysOut) {
  struct Case {
    const char* body;
    const char* part;
  };
  for (const Case& c :
       {Case{"not json", "not a JSON object"}, Case{"[1]", "not a JSON object"},
        Case{R"({"Code":"AssumeRoleUnauthorizedAccess","AccessKeyId":"A"})",
             "Code \"AssumeRoleUnauthorizedAccess\""},
        Case{R"({"AccessKeyId":"AKIDLEAK"})", "no AccessKeyId and SecretAccessKey"},
        Case{R"({"AccessKeyId":"A","SecretAccessKey":"SECRETLEAK","Expiration":"tomorrow"})",
             "Expiration that is not a date-time"}}) {
    auto r = parse_credentials_json(c.body, "imds");
    ASSERT_FALSE(r) << c.body;
    EXPECT_EQ(r.error().code, "ai_provider_auth");
    EXPECT_EQ(r.error().status, 502);
    EXPECT_NE(r.error().message.find(c.part), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find("LEAK"), std::string::npos);
  }
}

TEST(AwsCredentials, Dates) {
  EXPECT_EQ(parse_time("1970-01-01T00:00:00Z"), at(0));
  EXPECT_EQ(parse_time("2000-02-29T12:34:56Z"), at(951827696));
  EXPECT_EQ(parse_time("2000-02-29T12:34:56.999999Z"), at(951827696));
  EXPECT_EQ(parse_time("2000-02-29T14:34:56+02:00"), at(951827696));
  EXPECT_EQ(parse_time("2000-02-29t12:34:56z"), at(951827696));
  for (const char* bad : {"", "2000-02-29", "2000-13-01T00:00:00Z", "2000-02-30T00:00:00Z",
                          "2000-02-29T24:00:00Z", "2000-02-29T12:34:56", "2000-02-29T12:34:56.Z",
                          "2000-02-29T12:34:56Zjunk", "2000-02-29T12:34:56+2:00"})
    EXPECT_FALSE(parse_time(bad)) << bad;
}

TEST(AwsCredentials, RefreshTimes) {
  Credentials c;
  const auto now = at(1000000);
  EXPECT_EQ(refresh_time(c, now), now + 300s);  // long-term: read again in 5 minutes
  c.expires = now + 1h;
  EXPECT_EQ(refresh_time(c, now), now + 55min);  // 5 minutes ahead
  c.expires = now + 2min;                        // already inside the window
  EXPECT_EQ(refresh_time(c, now), now + 5s);     // not before the minimum gap
}

TEST(AwsCredentials, PlanDecisions) {
  const auto now = at(1000000);
  CacheView v;
  // Nothing cached: fetch and wait; a fetch running: wait.
  Plan p = plan(v, now);
  EXPECT_TRUE(p.start_refresh && p.wait && !p.use && !p.fail);
  v.refreshing = true;
  p = plan(v, now);
  EXPECT_TRUE(p.wait && !p.start_refresh);
  // A fetch failed just now: fail at once; later: try again.
  v.refreshing = false;
  v.failed_at = now - 1s;
  p = plan(v, now);
  EXPECT_TRUE(p.fail && !p.wait && !p.start_refresh);
  p = plan(v, now + 5s);
  EXPECT_TRUE(p.start_refresh && p.wait);
  // Fresh keys: use.
  v = CacheView{};
  v.have = true;
  v.expires = now + 1h;
  v.refresh_at = now + 55min;
  p = plan(v, now);
  EXPECT_TRUE(p.use && !p.start_refresh && !p.wait);
  // Due: use and renew in the background, unless a renewal runs or just failed.
  p = plan(v, now + 56min);
  EXPECT_TRUE(p.use && p.start_refresh && !p.wait);
  v.refreshing = true;
  p = plan(v, now + 56min);
  EXPECT_TRUE(p.use && !p.start_refresh);
  v.refreshing = false;
  v.failed_at = now + 56min;
  p = plan(v, now + 56min + 2s);  // a renewal failed 2 s ago: no new one yet
  EXPECT_TRUE(p.use && !p.start_refresh);
  p = plan(v, now + 56min + 5s);
  EXPECT_TRUE(p.use && p.start_refresh);
  // Expired: fail when the last fetch failed just now, else fetch and wait.
  v.failed_at = now + 1h - 1s;
  p = plan(v, now + 1h + 1s);
  EXPECT_TRUE(p.fail && !p.use && !p.wait);
  v.failed_at.reset();
  p = plan(v, now + 1h);
  EXPECT_TRUE(p.start_refresh && p.wait && !p.use);
  // Long-term keys never expire.
  v.expires.reset();
  p = plan(v, now + 1000h);
  EXPECT_TRUE(p.use && p.start_refresh);
}

// A scripted fetch: answers in order, each after `delay`.
struct Script {
  std::vector<Result<Credentials>> answers;
  std::chrono::milliseconds delay{0};
  int calls = 0;
  awaitable<Result<Credentials>> fetch() {
    const size_t i = static_cast<size_t>(calls++);
    if (delay.count() > 0) {
      asio::steady_timer t(co_await asio::this_coro::executor, delay);
      co_await t.async_wait(use_nothrow);
    }
    co_return answers[std::min(i, answers.size() - 1)];
  }
};

Credentials keys(std::string id, std::optional<Clock::duration> ttl) {
  Credentials c;
  c.keys = {id, "secret-" + id, "token-" + id};
  if (ttl) c.expires = Clock::now() + *ttl;
  c.source = "script";
  return c;
}

std::string key_of(const Result<std::shared_ptr<const Credentials>>& r) {
  return r ? (*r)->keys.access_key_id : "error: " + r.error().message;
}

awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(use_nothrow);
}

TEST(AwsCredentials, ConcurrentCallersShareOneFetch) {
  Script s;
  s.answers = {keys("AK1", 1h)};
  s.delay = 20ms;
  auto src = CredentialSource::with_fetch([&] { return s.fetch(); }, "test");
  asio::io_context io;
  std::vector<std::string> got;
  auto one = [&]() -> awaitable<void> { got.push_back(key_of(co_await src->get())); };
  for (int i = 0; i < 10; ++i) asio::co_spawn(io, one(), asio::detached);
  io.run();
  EXPECT_EQ(s.calls, 1);
  EXPECT_EQ(got, std::vector<std::string>(10, "AK1"));
}

TEST(AwsCredentials, WaitersOnOtherThreadsAreWoken) {
  Script s;
  s.answers = {keys("AK1", 1h)};
  s.delay = 30ms;
  auto src = CredentialSource::with_fetch([&] { return s.fetch(); }, "test");
  std::string a, b;
  asio::io_context io1, io2;
  auto job = [&](std::string& out) -> awaitable<void> { out = key_of(co_await src->get()); };
  asio::co_spawn(io1, job(a), asio::detached);
  asio::co_spawn(io2, job(b), asio::detached);
  std::thread t([&] { io2.run(); });
  io1.run();
  t.join();
  EXPECT_EQ(s.calls, 1);
  EXPECT_EQ(a, "AK1");
  EXPECT_EQ(b, "AK1");
}

TEST(AwsCredentials, RenewsAheadWhileServingTheOldKeys) {
  Script s;
  // AK1 expires within the renewal window at once; AK2 is good for an hour.
  s.answers = {keys("AK1", 2min), keys("AK2", 1h)};
  Timing t;
  t.min_gap = 0ms;
  auto src = CredentialSource::with_fetch([&] { return s.fetch(); }, "test", t);
  asio::io_context io;
  std::vector<std::string> got;
  auto job = [&]() -> awaitable<void> {
    got.push_back(key_of(co_await src->get()));  // waits for the first fetch
    s.delay = 50ms;
    got.push_back(key_of(co_await src->get()));  // due: old keys, renewal starts
    got.push_back(key_of(co_await src->get()));  // renewal running: old keys
    co_await sleep_for(100ms);
    got.push_back(key_of(co_await src->get()));  // renewed
    got.push_back(key_of(co_await src->get()));
  };
  asio::co_spawn(io, job(), asio::detached);  // job outlives the coroutine
  io.run();
  EXPECT_EQ(got, (std::vector<std::string>{"AK1", "AK1", "AK1", "AK2", "AK2"}));
  EXPECT_EQ(s.calls, 2);
}

TEST(AwsCredentials, FailedRenewalKeepsOldKeysUntilTheyExpire) {
  Script s;
  s.answers = {keys("AK1", 300ms),
               make_error("x", "instance metadata: role r answered HTTP 500", {}, 0)};
  Timing t;
  t.min_gap = 0ms;
  t.retry_after_failure = 1h;  // one failed renewal, then no more tries in this test
  auto src = CredentialSource::with_fetch([&] { return s.fetch(); }, "chain", t);
  asio::io_context io;
  std::vector<std::string> got;
  Error last;
  auto job = [&]() -> awaitable<void> {
    got.push_back(key_of(co_await src->get()));
    got.push_back(key_of(co_await src->get()));  // renewal starts, and fails
    co_await sleep_for(50ms);
    got.push_back(key_of(co_await src->get()));  // still valid: still served
    co_await sleep_for(400ms);
    auto r = co_await src->get();  // expired, renewal failed: precise error
    if (!r) last = r.error();
    got.push_back(key_of(r).substr(0, 5));
  };
  asio::co_spawn(io, job(), asio::detached);  // job outlives the coroutine
  io.run();
  EXPECT_EQ(got, (std::vector<std::string>{"AK1", "AK1", "AK1", "error"}));
  EXPECT_EQ(s.calls, 2);
  EXPECT_EQ(last.code, "ai_provider_auth");
  EXPECT_EQ(last.status, 502);
  EXPECT_NE(last.message.find("answered HTTP 500"), std::string::npos) << last.message;
}

TEST(AwsCredentials, ExpiredOnArrivalIsAFailure) {
  Script s;
  s.answers = {keys("AK1", -1s)};
  auto src = CredentialSource::with_fetch([&] { return s.fetch(); }, "chain");
  asio::io_context io;
  std::string got;
  auto job = [&]() -> awaitable<void> { got = key_of(co_await src->get()); };
  asio::co_spawn(io, job(), asio::detached);
  io.run();
  EXPECT_NE(got.find("expired already"), std::string::npos) << got;
}

TEST(AwsCredentials, StaticKeysNeverFetch) {
  auto src = CredentialSource::fixed({"AKIDSTATIC", "s", ""});
  asio::io_context io;
  std::string got;
  auto job = [&]() -> awaitable<void> { got = key_of(co_await src->get()); };
  asio::co_spawn(io, job(), asio::detached);
  io.run();
  EXPECT_EQ(got, "AKIDSTATIC");
}

struct Env {
  Env(const char* n, const char* v) : name(n) {
    if (v)
      setenv(n, v, 1);
    else
      unsetenv(n);
  }
  ~Env() { unsetenv(name); }
  const char* name;
};

TEST(AwsCredentials, ContainerEndpointFromTheEnvironment) {
  Env a("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", nullptr),
      b("AWS_CONTAINER_CREDENTIALS_FULL_URI", nullptr),
      c("AWS_CONTAINER_AUTHORIZATION_TOKEN", nullptr),
      d("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", nullptr);
  auto none = container_endpoint();
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->url.empty());
  {
    Env rel("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc");
    Env full("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/ignored");
    auto e = container_endpoint();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->url, "http://169.254.170.2/v2/credentials/abc");  // relative wins
  }
  for (const char* ok : {"http://127.0.0.1:8080/creds", "http://localhost/x", "http://[::1]:1/x",
                         "http://169.254.170.23/v1/credentials", "https://creds.example.com/x"}) {
    Env full("AWS_CONTAINER_CREDENTIALS_FULL_URI", ok);
    auto e = container_endpoint();
    ASSERT_TRUE(e) << ok << ": " << e.error().message;
    EXPECT_EQ(e->url, ok);
  }
  for (const char* bad : {"http://10.0.0.1/creds", "http://creds.example.com/x", "ftp://x/y"}) {
    Env full("AWS_CONTAINER_CREDENTIALS_FULL_URI", bad);
    auto e = container_endpoint();
    ASSERT_FALSE(e) << bad;
    EXPECT_EQ(e.error().code, "ai_provider_auth");
  }
  Env full("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/c");
  {
    Env tok("AWS_CONTAINER_AUTHORIZATION_TOKEN", "plain-token");
    EXPECT_EQ(container_endpoint()->authorization, "plain-token");
    // The file wins over the variable, its trailing newline trimmed.
    const std::string path = ::testing::TempDir() + "/aws_container_token";
    FILE* f = std::fopen(path.c_str(), "w");
    std::fputs("file-token\n", f);
    std::fclose(f);
    Env file("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", path.c_str());
    EXPECT_EQ(container_endpoint()->authorization, "file-token");
    std::remove(path.c_str());
    auto gone = container_endpoint();
    ASSERT_FALSE(gone);
    EXPECT_NE(gone.error().message.find("cannot be read"), std::string::npos);
  }
  Env tok("AWS_CONTAINER_AUTHORIZATION_TOKEN", "a\r\nInjected: 1");
  EXPECT_FALSE(container_endpoint());
}

}  // namespace
}  // namespace gatehouse::ai::aws
