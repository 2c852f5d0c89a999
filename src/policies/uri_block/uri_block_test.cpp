#include <gtest/gtest.h>

#include "net/http1/path.hpp"
#include "policies/policy.hpp"
#include "policies/uri_block/regex_set.hpp"

namespace gatehouse::policy {

void register_uri_block(Registry& r);

namespace {

Result<std::shared_ptr<const Policy>> build(const std::string& yaml) {
  Registry r;
  register_uri_block(r);
  config::PolicyRef ref;
  ref.name = "uri-block";
  ref.config_yaml = yaml;
  BuildContext bc;
  bc.field = "policies[1]";
  return (*r.find("uri-block"))(ref, bc);
}

// Runs the policy on a raw target, normalised as the codec does it.
Action run(const Policy& p, const std::string& raw, Respond* out = nullptr) {
  auto t = http1::normalize_target(raw);
  EXPECT_TRUE(t) << raw;
  http1::RequestHead head;
  head.method = "GET";
  head.target = raw;
  RequestContext ctx;
  ctx.head = &head;
  ctx.target = &t.value();
  ctx.client_ip = "127.0.0.1";
  Respond local;
  return p.on_request(ctx, out ? *out : local);
}

TEST(RegexSet, AnyMatchUnanchored) {
  RegexSet s;
  std::string err;
  ASSERT_TRUE(s.add("^/admin", err));
  ASSERT_TRUE(s.add("/\\.git", err));
  ASSERT_TRUE(s.compile(err));
  EXPECT_TRUE(s.matches("/admin/users"));
  EXPECT_FALSE(s.matches("/x/admin"));
  EXPECT_TRUE(s.matches("/repo/.git/config"));
  EXPECT_FALSE(s.matches("/repo/git"));
  EXPECT_FALSE(s.add("(unclosed", err));
  EXPECT_FALSE(err.empty());
  RegexSet none;
  ASSERT_TRUE(none.compile(err));
  EXPECT_FALSE(none.matches("anything"));
}

TEST(UriBlock, BlocksCanonicalPath) {
  auto p = build(R"({patterns: ["~^/admin", "/\\.git", "(?i)\\.php$"]})");
  ASSERT_TRUE(p) << p.error().message;
  Respond out;
  ASSERT_EQ(run(**p, "/admin", &out), Action::kRespond);
  EXPECT_EQ(out.status, 403);
  EXPECT_EQ(out.code, "uri_blocked");
  EXPECT_EQ(run(**p, "/.git/HEAD"), Action::kRespond);
  EXPECT_EQ(run(**p, "/a/b/../../.git/HEAD"), Action::kRespond);  // dot-segments removed
  EXPECT_EQ(run(**p, "/%2egit/HEAD"), Action::kRespond);         // unreserved escape decoded
  EXPECT_EQ(run(**p, "/%61dmin"), Action::kRespond);
  EXPECT_EQ(run(**p, "//admin"), Action::kRespond);               // '//' runs collapsed
  EXPECT_EQ(run(**p, "/INDEX.PHP"), Action::kRespond);
  EXPECT_EQ(run(**p, "/api/admin"), Action::kContinue);
  EXPECT_EQ(run(**p, "/gitlab"), Action::kContinue);
  EXPECT_EQ(run(**p, "/users?x=/admin"), Action::kContinue);     // query not looked at
}

TEST(UriBlock, DecodesRemainingEscapes) {
  auto p = build(R"({patterns: ["<script", "/etc/passwd"]})");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(run(**p, "/x/%3Cscript%3E"), Action::kRespond);
  EXPECT_EQ(run(**p, "/x/%3cscript"), Action::kRespond);
  EXPECT_EQ(run(**p, "/x/script"), Action::kContinue);
}

TEST(UriBlock, MatchQuery) {
  auto p = build(R"({patterns: ["(?i)union\\s+select", "[?&]debug=1", "^/private$"], match_query: true,
                   status: 404})");
  ASSERT_TRUE(p) << p.error().message;
  Respond out;
  ASSERT_EQ(run(**p, "/search?q=1+UNION+SELECT+pw", &out), Action::kRespond);
  EXPECT_EQ(out.status, 404);
  EXPECT_EQ(run(**p, "/search?q=1%20union%20%53ELECT"), Action::kRespond);
  EXPECT_EQ(run(**p, "/a?x=2&debug=1"), Action::kRespond);
  EXPECT_EQ(run(**p, "/private?x=1"), Action::kRespond);  // path alone still checked
  EXPECT_EQ(run(**p, "/a?debug=0"), Action::kContinue);
  EXPECT_EQ(run(**p, "/a?q=unionselect"), Action::kContinue);
}

TEST(UriBlock, ConfigErrors) {
  auto r = build("{}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "missing_field");
  EXPECT_EQ(r.error().field, "policies[1].config.patterns");

  r = build(R"({patterns: ["^/ok", "~(unclosed"]})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "invalid_regex");
  EXPECT_EQ(r.error().field, "policies[1].config.patterns[1]");
  EXPECT_NE(r.error().message.find("missing )"), std::string::npos) << r.error().message;

  r = build(R"({patterns: ["~"]})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "policies[1].config.patterns[0]");

  r = build(R"({patterns: []})");
  ASSERT_FALSE(r);

  r = build(R"({patterns: ["x"], match_querry: true})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "unknown_field");

  r = build(R"({patterns: ["x"], status: 99})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "policies[1].config.status");
}

}  // namespace
}  // namespace gatehouse::policy
