#include <gtest/gtest.h>

#include "policies/policy.hpp"

namespace gatehouse::policy {

void register_request_size_limit(Registry& r);

namespace {

Result<std::shared_ptr<const Policy>> build(const std::string& yaml) {
  Registry r;
  register_request_size_limit(r);
  config::PolicyRef ref;
  ref.name = "request-size-limit";
  ref.config_yaml = yaml;
  BuildContext bc;
  bc.field = "routes[3].policies[0]";
  return (*r.find("request-size-limit"))(ref, bc);
}

struct Fixture {
  http1::RequestHead head;
  http1::NormalizedTarget target{"/upload", "", ""};
  RequestContext ctx;
  Respond out;
  Fixture() {
    head.method = "POST";
    head.target = "/upload";
    head.headers = {{"Host", "example.com"}, {"User-Agent", "t"}};
    ctx.head = &head;
    ctx.target = &target;
    ctx.client_ip = "127.0.0.1";
  }
  Action run(const Policy& p) {
    out = {};
    return p.on_request(ctx, out);
  }
};

TEST(RequestSizeLimit, ContentLength) {
  auto p = build("{max_body: 1m}");
  ASSERT_TRUE(p) << p.error().message;
  Fixture f;
  EXPECT_EQ(f.run(**p), Action::kContinue);  // no body
  f.head.body = http1::BodyKind::kContentLength;
  f.head.content_length = 1024 * 1024;
  EXPECT_EQ(f.run(**p), Action::kContinue);  // exactly the limit
  f.head.content_length += 1;
  ASSERT_EQ(f.run(**p), Action::kRespond);
  EXPECT_EQ(f.out.status, 413);
  EXPECT_EQ(f.out.code, "body_too_large");
  EXPECT_EQ(f.out.detail, "request body is 1048577 bytes; the limit is 1048576");
  EXPECT_TRUE(f.ctx.vars.empty());
}

TEST(RequestSizeLimit, ChunkedHandsTheLimitToTheProxy) {
  auto p = build("{max_body: 64k}");
  ASSERT_TRUE(p) << p.error().message;
  Fixture f;
  f.head.body = http1::BodyKind::kChunked;
  EXPECT_EQ(f.run(**p), Action::kContinue);
  EXPECT_EQ(f.ctx.vars["max_body"], "65536");
  // A looser second policy keeps the tighter limit; a tighter one lowers it.
  auto looser = build("{max_body: 1m}");
  EXPECT_EQ(f.run(**looser), Action::kContinue);
  EXPECT_EQ(f.ctx.vars["max_body"], "65536");
  auto tighter = build("{max_body: 100}");
  EXPECT_EQ(f.run(**tighter), Action::kContinue);
  EXPECT_EQ(f.ctx.vars["max_body"], "100");
}

TEST(RequestSizeLimit, ZeroMeansNoBody) {
  auto p = build("{max_body: 0}");
  ASSERT_TRUE(p) << p.error().message;
  Fixture f;
  EXPECT_EQ(f.run(**p), Action::kContinue);
  f.head.body = http1::BodyKind::kContentLength;
  f.head.content_length = 0;
  EXPECT_EQ(f.run(**p), Action::kContinue);
  f.head.content_length = 1;
  EXPECT_EQ(f.run(**p), Action::kRespond);
  f.head.body = http1::BodyKind::kChunked;
  ASSERT_EQ(f.run(**p), Action::kRespond);
  EXPECT_EQ(f.out.status, 413);
}

TEST(RequestSizeLimit, Headers) {
  auto p = build("{max_headers_bytes: 100, max_header_count: 3}");
  ASSERT_TRUE(p) << p.error().message;
  Fixture f;
  EXPECT_EQ(f.run(**p), Action::kContinue);
  f.head.headers.push_back({"X-A", "1"});
  EXPECT_EQ(f.run(**p), Action::kContinue);
  f.head.headers.push_back({"X-B", "2"});
  ASSERT_EQ(f.run(**p), Action::kRespond);
  EXPECT_EQ(f.out.status, 431);
  EXPECT_EQ(f.out.code, "too_many_headers");

  f.head.headers = {{"Host", "example.com"}, {"Cookie", std::string(80, 'c')}};
  ASSERT_EQ(f.run(**p), Action::kRespond);
  EXPECT_EQ(f.out.status, 431);
  EXPECT_EQ(f.out.code, "headers_too_large");
  // 4 + 11 + 4 + 6 + 74 + 4 = 103 > 100; 71 bytes of value fit exactly.
  f.head.headers[1].value.resize(71);
  EXPECT_EQ(f.run(**p), Action::kContinue);
}

TEST(RequestSizeLimit, Uri) {
  auto p = build("{max_uri: 16}");
  ASSERT_TRUE(p) << p.error().message;
  Fixture f;
  f.head.target = "/0123456789abcde";  // 16
  EXPECT_EQ(f.run(**p), Action::kContinue);
  f.head.target += "?";
  ASSERT_EQ(f.run(**p), Action::kRespond);
  EXPECT_EQ(f.out.status, 414);
  EXPECT_EQ(f.out.code, "uri_too_long");
}

TEST(RequestSizeLimit, ConfigErrors) {
  auto r = build("");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "routes[3].policies[0].config");

  r = build("{max_body: 1q}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "invalid_value");
  EXPECT_EQ(r.error().field, "routes[3].policies[0].config.max_body");

  r = build("{max_uri: 0}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "routes[3].policies[0].config.max_uri");

  r = build("{max_header_count: 0}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "routes[3].policies[0].config.max_header_count");

  r = build("{max_body: 1m, max_header: 10}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "unknown_field");
  EXPECT_EQ(r.error().field, "routes[3].policies[0].config.max_header");
}

}  // namespace
}  // namespace gatehouse::policy
