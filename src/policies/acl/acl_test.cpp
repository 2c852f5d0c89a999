#include <gtest/gtest.h>

#include "common/strings.hpp"
#include "policies/policy.hpp"

namespace gatehouse::policy {

void register_acl(Registry& r);

namespace {

Result<std::shared_ptr<const Policy>> build(const std::string& yaml) {
  Registry r;
  register_acl(r);
  config::PolicyRef ref;
  ref.name = "acl";
  ref.config_yaml = yaml;
  BuildContext bc;
  bc.field = "routes[0].policies[2]";
  return (*r.find("acl"))(ref, bc);
}

struct Fixture {
  http1::RequestHead head;
  http1::NormalizedTarget target{"/", "", ""};
  RequestContext ctx;
  Respond out;
  Consumer alice{"alice", {"gold", "staff"}, 0};
  Consumer bob{"bob", {"silver"}, 1};
  Consumer mallory{"mallory", {"gold", "banned"}, 2};
  Consumer admin{"root", {}, 3};
  Fixture() {
    head.method = "GET";
    head.target = "/";
    head.headers = {{"Host", "h"}, {"x-consumer-groups", "admins"}, {"X-Consumer-Username", "x"}};
    ctx.head = &head;
    ctx.target = &target;
    ctx.client_ip = "127.0.0.1";
  }
  Action run(const Policy& p, const Consumer* c) {
    out = {};
    ctx.consumer = c;
    return p.on_request(ctx, out);
  }
  std::vector<std::string> values(std::string_view name) const {
    std::vector<std::string> v;
    for (const auto& h : head.headers)
      if (iequals(h.name, name)) v.push_back(h.value);
    return v;
  }
};

TEST(Acl, AllowByGroupOrName) {
  auto p = build("{allow: [gold, root], deny: [banned]}");
  ASSERT_TRUE(p) << p.error().message;
  Fixture f;
  EXPECT_EQ(f.run(**p, &f.alice), Action::kContinue);
  EXPECT_EQ(f.run(**p, &f.admin), Action::kContinue);  // by consumer name
  ASSERT_EQ(f.run(**p, &f.bob), Action::kRespond);
  EXPECT_EQ(f.out.status, 403);
  EXPECT_EQ(f.out.code, "acl_forbidden");
  EXPECT_EQ(f.out.detail, "consumer 'bob' is not in an allowed group");
  ASSERT_EQ(f.run(**p, &f.mallory), Action::kRespond);  // deny wins
  EXPECT_EQ(f.out.detail, "consumer 'mallory' is denied");
}

TEST(Acl, DenyOnly) {
  auto p = build("{deny: [banned, bob]}");
  ASSERT_TRUE(p) << p.error().message;
  Fixture f;
  EXPECT_EQ(f.run(**p, &f.alice), Action::kContinue);
  EXPECT_EQ(f.run(**p, &f.admin), Action::kContinue);
  EXPECT_EQ(f.run(**p, &f.bob), Action::kRespond);
  EXPECT_EQ(f.run(**p, &f.mallory), Action::kRespond);
}

TEST(Acl, NoConsumerIsForbidden) {
  auto p = build("{deny: [banned]}");
  ASSERT_TRUE(p) << p.error().message;
  Fixture f;
  ASSERT_EQ(f.run(**p, nullptr), Action::kRespond);
  EXPECT_EQ(f.out.status, 403);
  EXPECT_EQ(f.out.code, "acl_forbidden");
  EXPECT_NE(f.out.detail.find("no consumer was identified"), std::string::npos);
  EXPECT_TRUE(f.values("X-Consumer-Groups").empty());
}

TEST(Acl, ForwardsConsumerHeadersReplacingClientCopies) {
  auto p = build("{allow: [gold]}");
  ASSERT_TRUE(p) << p.error().message;
  Fixture f;
  ASSERT_EQ(f.run(**p, &f.alice), Action::kContinue);
  EXPECT_EQ(f.values("X-Consumer-Username"), std::vector<std::string>{"alice"});
  EXPECT_EQ(f.values("X-Consumer-Groups"), std::vector<std::string>{"gold, staff"});
  EXPECT_EQ(f.values("Host"), std::vector<std::string>{"h"});

  auto q = build("{allow: [root]}");
  Fixture g;
  ASSERT_EQ(g.run(**q, &g.admin), Action::kContinue);
  EXPECT_EQ(g.values("X-Consumer-Username"), std::vector<std::string>{"root"});
  EXPECT_TRUE(g.values("X-Consumer-Groups").empty());  // no groups, no header
}

TEST(Acl, ForwardingOffStillStripsClientCopies) {
  auto p = build("{allow: [gold], forward_consumer_headers: false}");
  ASSERT_TRUE(p) << p.error().message;
  Fixture f;
  ASSERT_EQ(f.run(**p, &f.alice), Action::kContinue);
  EXPECT_TRUE(f.values("X-Consumer-Username").empty());
  EXPECT_TRUE(f.values("X-Consumer-Groups").empty());
  EXPECT_EQ(f.head.headers.size(), 1u);
}

TEST(Acl, ConfigErrors) {
  auto r = build("");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "routes[0].policies[2].config");

  r = build("{allow: []}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "routes[0].policies[2].config.allow");

  r = build("{allow: [gold, 'has space']}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "invalid_value");
  EXPECT_EQ(r.error().field, "routes[0].policies[2].config.allow[1]");

  r = build("{allow: [gold], hide_groups_header: true}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "unknown_field");

  r = build("{deny: [x], forward_consumer_headers: maybe}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "invalid_type");
  EXPECT_EQ(r.error().field, "routes[0].policies[2].config.forward_consumer_headers");
}

}  // namespace
}  // namespace gatehouse::policy
