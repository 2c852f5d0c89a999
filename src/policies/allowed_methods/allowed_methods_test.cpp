#include <gtest/gtest.h>

#include "policies/policy.hpp"

namespace gatehouse::policy {

void register_allowed_methods(Registry& r);

namespace {

Result<std::shared_ptr<const Policy>> build(const std::string& yaml) {
  Registry r;
  register_allowed_methods(r);
  config::PolicyRef ref;
  ref.name = "allowed-methods";
  ref.config_yaml = yaml;
  BuildContext bc;
  bc.field = "policies[0]";
  return (*r.find("allowed-methods"))(ref, bc);
}

Action run(const Policy& p, const std::string& method, Respond& out) {
  http1::RequestHead head;
  head.method = method;
  head.target = "/";
  http1::NormalizedTarget target{"/", "", ""};
  RequestContext ctx;
  ctx.head = &head;
  ctx.target = &target;
  ctx.client_ip = "127.0.0.1";
  return p.on_request(ctx, out);
}

TEST(AllowedMethods, AllowsListedAndHeadWithGet) {
  auto p = build("{methods: [get, POST]}");
  ASSERT_TRUE(p) << p.error().message;
  Respond out;
  EXPECT_EQ(run(**p, "GET", out), Action::kContinue);
  EXPECT_EQ(run(**p, "HEAD", out), Action::kContinue);
  EXPECT_EQ(run(**p, "POST", out), Action::kContinue);
}

TEST(AllowedMethods, RejectsOthersWithAllow) {
  auto p = build("{methods: [GET, POST, POST]}");
  ASSERT_TRUE(p) << p.error().message;
  for (const char* m : {"DELETE", "OPTIONS", "get", "PATCH"}) {
    Respond out;
    ASSERT_EQ(run(**p, m, out), Action::kRespond) << m;
    EXPECT_EQ(out.status, 405);
    EXPECT_EQ(out.code, "method_not_allowed");
    ASSERT_EQ(out.headers.size(), 1u);
    EXPECT_EQ(out.headers[0].name, "Allow");
    EXPECT_EQ(out.headers[0].value, "GET, HEAD, POST");
  }
}

TEST(AllowedMethods, HeadNotImpliedWithoutGet) {
  auto p = build("{methods: POST}");
  ASSERT_TRUE(p) << p.error().message;
  Respond out;
  EXPECT_EQ(run(**p, "HEAD", out), Action::kRespond);
  EXPECT_EQ(out.headers[0].value, "POST");
}

TEST(AllowedMethods, ConfigErrors) {
  auto r = build("");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "missing_field");
  EXPECT_EQ(r.error().field, "policies[0].config.methods");

  r = build("{methods: []}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "policies[0].config.methods");

  r = build("{methods: [GET, 'BAD METHOD']}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "invalid_value");
  EXPECT_EQ(r.error().field, "policies[0].config.methods[1]");

  r = build("{methods: [GET], method: [POST]}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "unknown_field");
  EXPECT_NE(r.error().message.find("did you mean 'methods'"), std::string::npos);
}

}  // namespace
}  // namespace gatehouse::policy
