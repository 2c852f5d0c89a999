#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "policies/policy.hpp"

namespace gatehouse::policy {

void register_api_lifecycle(Registry& r);

namespace {

Result<std::shared_ptr<const Policy>> build(const std::string& yaml) {
  Registry r;
  register_api_lifecycle(r);
  config::PolicyRef ref;
  ref.name = "api-lifecycle";
  ref.config_yaml = yaml;
  BuildContext bc;
  bc.field = "routes[0].policies[0]";
  return (*r.find("api-lifecycle"))(ref, bc);
}

Action run(const Policy& p, Respond& out, RequestContext& ctx) {
  static http1::RequestHead head;
  head.method = "GET";
  head.target = "/";
  static http1::NormalizedTarget target{"/", "", ""};
  ctx.head = &head;
  ctx.target = &target;
  return p.on_request(ctx, out);
}

TEST(ApiLifecycle, DeprecatedAddsHeadersAndContinues) {
  auto p = build(
      "{state: deprecated, deprecation: 1767225600, sunset: 'Thu, 31 Dec 2026 23:59:59 GMT', "
      "successor: /v2}");
  ASSERT_TRUE(p) << p.error().message;
  RequestContext ctx;
  Respond out;
  EXPECT_EQ(run(**p, out, ctx), Action::kContinue);
  ASSERT_EQ(ctx.response_headers.size(), 3u);
  EXPECT_EQ(ctx.response_headers[0].name, "Deprecation");
  EXPECT_EQ(ctx.response_headers[0].value, "@1767225600");
  EXPECT_EQ(ctx.response_headers[1].name, "Sunset");
  EXPECT_EQ(ctx.response_headers[1].value, "Thu, 31 Dec 2026 23:59:59 GMT");
  EXPECT_EQ(ctx.response_headers[2].value, "</v2>; rel=\"successor-version\"");
}

TEST(ApiLifecycle, RetiredAnswers410WithSuccessor) {
  auto p =
      build("{state: retired, api: 'petstore 1.0.0', successor: /v2, successor_version: 2.0.0}");
  ASSERT_TRUE(p) << p.error().message;
  RequestContext ctx;
  Respond out;
  ASSERT_EQ(run(**p, out, ctx), Action::kRespond);
  EXPECT_EQ(out.status, 410);
  EXPECT_EQ(out.content_type, "application/problem+json");
  auto body = boost::json::parse(out.body);
  EXPECT_EQ(body.at("code").as_string(), "api_retired");
  EXPECT_EQ(body.at("successor").as_string(), "/v2");
  EXPECT_EQ(body.at("successor_version").as_string(), "2.0.0");
  ASSERT_EQ(out.headers.size(), 1u);
  EXPECT_EQ(out.headers[0].name, "Link");
}

TEST(ApiLifecycle, Blocked) {
  auto p = build("{state: blocked}");
  ASSERT_TRUE(p) << p.error().message;
  RequestContext ctx;
  Respond out;
  ASSERT_EQ(run(**p, out, ctx), Action::kRespond);
  EXPECT_EQ(out.status, 403);
  EXPECT_EQ(out.code, "api_blocked");
}

TEST(ApiLifecycle, BadConfig) {
  EXPECT_FALSE(build("{}"));
  EXPECT_FALSE(build("{state: gone}"));
  EXPECT_FALSE(build("{state: deprecated, successor: 'a b'}"));
  EXPECT_FALSE(build("{state: deprecated, deprecation: -1}"));
  EXPECT_FALSE(build("{state: deprecated, extra: 1}"));
}

}  // namespace
}  // namespace gatehouse::policy
