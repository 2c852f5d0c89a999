#include <gtest/gtest.h>

#include "policies/policy.hpp"

namespace gatehouse::policy {

void register_bot_detection(Registry& r);

namespace {

Result<std::shared_ptr<const Policy>> build(const std::string& yaml) {
  Registry r;
  register_bot_detection(r);
  config::PolicyRef ref;
  ref.name = "bot-detection";
  ref.config_yaml = yaml;
  BuildContext bc;
  bc.field = "policies[0]";
  return (*r.find("bot-detection"))(ref, bc);
}

Action run(const Policy& p, std::vector<http1::Header> headers, Respond* out = nullptr) {
  http1::RequestHead head;
  head.method = "GET";
  head.target = "/";
  head.headers = std::move(headers);
  http1::NormalizedTarget target{"/", "", ""};
  RequestContext ctx;
  ctx.head = &head;
  ctx.target = &target;
  ctx.client_ip = "127.0.0.1";
  Respond local;
  return p.on_request(ctx, out ? *out : local);
}

Action ua(const Policy& p, const std::string& agent, Respond* out = nullptr) {
  return run(p, {{"Host", "h"}, {"User-Agent", agent}}, out);
}

constexpr const char* kChrome =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36";

TEST(BotDetection, UserDenyList) {
  auto p = build(R"({deny: ["~(?i)curl|python-requests"], builtin_deny: false})");
  ASSERT_TRUE(p) << p.error().message;
  Respond out;
  ASSERT_EQ(ua(**p, "curl/8.5.0", &out), Action::kRespond);
  EXPECT_EQ(out.status, 403);
  EXPECT_EQ(out.code, "bot_forbidden");
  EXPECT_EQ(ua(**p, "CURL/7"), Action::kRespond);
  EXPECT_EQ(ua(**p, "python-requests/2.31.0"), Action::kRespond);
  EXPECT_EQ(ua(**p, kChrome), Action::kContinue);
  EXPECT_EQ(ua(**p, "sqlmap/1.7"), Action::kContinue);  // built-ins off
  EXPECT_EQ(run(**p, {{"Host", "h"}}), Action::kContinue);  // no User-Agent
}

TEST(BotDetection, BuiltinListIsOnByDefault) {
  auto p = build("");
  ASSERT_TRUE(p) << p.error().message;
  for (const char* bad : {"sqlmap/1.7.2#stable (https://sqlmap.org)", "Mozilla/5.00 (Nikto/2.5.0)",
                          "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org)",
                          "masscan/1.3 (https://github.com/robertdavidgraham/masscan)",
                          "Fuzz Faster U Fool v2.1.0", "WPScan v3.8.25 (https://wpscan.com/)",
                          "Mozilla/5.0 (compatible; Nuclei - Open-source project)"})
    EXPECT_EQ(ua(**p, bad), Action::kRespond) << bad;
  for (const char* good : {kChrome, "curl/8.5.0", "okhttp/4.12.0", "Go-http-client/2.0",
                           "Mozilla/5.0 (compatible; Googlebot/2.1)", "nucleii-app/1"})
    EXPECT_EQ(ua(**p, good), Action::kContinue) << good;
}

TEST(BotDetection, AllowWins) {
  auto p = build(R"({deny: ["(?i)bot|crawler|spider"], allow: ["Googlebot/", "^internal-probe/"]})");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(ua(**p, "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
            Action::kContinue);
  EXPECT_EQ(ua(**p, "internal-probe/1 (crawler)"), Action::kContinue);
  EXPECT_EQ(ua(**p, "EvilCrawler/0.1"), Action::kRespond);
  EXPECT_EQ(ua(**p, "sqlmap/1.7 Googlebot/"), Action::kContinue);  // allow beats built-ins too
}

TEST(BotDetection, EveryUserAgentFieldIsJudged) {
  auto p = build(R"({deny: ["curl"], allow: ["^good$"]})");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(run(**p, {{"User-Agent", "good"}, {"user-agent", "curl/8"}}), Action::kRespond);
  EXPECT_EQ(run(**p, {{"User-Agent", "good"}, {"user-agent", "fine"}}), Action::kContinue);
}

TEST(BotDetection, DenyMissing) {
  auto p = build("{deny_missing: true, builtin_deny: false}");
  ASSERT_TRUE(p) << p.error().message;
  Respond out;
  ASSERT_EQ(run(**p, {{"Host", "h"}}, &out), Action::kRespond);
  EXPECT_EQ(out.code, "bot_forbidden");
  EXPECT_EQ(run(**p, {{"User-Agent", ""}}), Action::kRespond);
  EXPECT_EQ(ua(**p, "x"), Action::kContinue);
}

TEST(BotDetection, ConfigErrors) {
  auto r = build(R"({deny: ["ok", "~(?i)curl|(python"]})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "invalid_regex");
  EXPECT_EQ(r.error().field, "policies[0].config.deny[1]");

  r = build(R"({allow: ["a["]})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "policies[0].config.allow[0]");

  r = build("{builtin_deny: false}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "policies[0].config.deny");

  r = build("{denny: [x]}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "unknown_field");
  EXPECT_EQ(r.error().field, "policies[0].config.denny");

  r = build("{builtin_deny: yes please}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "invalid_type");
}

}  // namespace
}  // namespace gatehouse::policy
