#include <gtest/gtest.h>

#include "policies/ip_restriction/ip_set.hpp"
#include "policies/policy.hpp"

namespace gatehouse::policy {

void register_ip_restriction(Registry& r);

namespace {

Result<std::shared_ptr<const Policy>> build(const std::string& yaml) {
  Registry r;
  register_ip_restriction(r);
  config::PolicyRef ref;
  ref.name = "ip-restriction";
  ref.config_yaml = yaml;
  BuildContext bc;
  bc.field = "routes[0].policies[1]";
  return (*r.find("ip-restriction"))(ref, bc);
}

struct Call {
  Action action;
  Respond out;
};

Call run(const Policy& p, std::string_view peer, std::vector<http1::Header> headers = {}) {
  http1::RequestHead head;
  head.method = "GET";
  head.target = "/";
  head.headers = std::move(headers);
  http1::NormalizedTarget target{"/", "", ""};
  RequestContext ctx;
  ctx.head = &head;
  ctx.target = &target;
  ctx.client_ip = peer;
  Call c;
  c.action = p.on_request(ctx, c.out);
  return c;
}

bool allowed(const Policy& p, std::string_view peer, std::vector<http1::Header> headers = {}) {
  return run(p, peer, std::move(headers)).action == Action::kContinue;
}

// ------------------------------------------------------------- addresses

TEST(IpSet, ParsesStrictForms) {
  EXPECT_TRUE(ip::parse_address("127.0.0.1"));
  EXPECT_TRUE(ip::parse_address("::1"));
  EXPECT_TRUE(ip::parse_address("2001:db8::8a2e:370:7334"));
  EXPECT_TRUE(ip::parse_address("::ffff:10.1.2.3"));
  EXPECT_FALSE(ip::parse_address(""));
  EXPECT_FALSE(ip::parse_address("010.1.1.1"));  // octal to some parsers
  EXPECT_FALSE(ip::parse_address("1.2.3"));
  EXPECT_FALSE(ip::parse_address("1.2.3.256"));
  EXPECT_FALSE(ip::parse_address(" 1.2.3.4"));
  EXPECT_FALSE(ip::parse_address("1.2.3.4:80"));
  EXPECT_FALSE(ip::parse_address("fe80::1%eth0"));
  EXPECT_FALSE(ip::parse_address("2001:db8:::1"));
  EXPECT_FALSE(ip::parse_address(std::string(100, '1')));
}

TEST(IpSet, MappedIpv4IsIpv4) {
  auto a = ip::parse_address("10.1.2.3");
  auto b = ip::parse_address("::ffff:10.1.2.3");
  auto c = ip::parse_address("::ffff:a01:203");
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(*a, *c);
  EXPECT_TRUE(a->is_v4());
  EXPECT_EQ(ip::format_address(*b), "10.1.2.3");
  EXPECT_EQ(ip::format_address(*ip::parse_address("2001:DB8:0:0::1")), "2001:db8::1");
}

TEST(IpSet, ReportedForms) {
  auto v4 = *ip::parse_address("192.0.2.7");
  auto v6 = *ip::parse_address("2001:db8::7");
  EXPECT_EQ(ip::parse_reported_address(" 192.0.2.7 "), v4);
  EXPECT_EQ(ip::parse_reported_address("192.0.2.7:4711"), v4);
  EXPECT_EQ(ip::parse_reported_address("[2001:db8::7]"), v6);
  EXPECT_EQ(ip::parse_reported_address("[2001:db8::7]:443"), v6);
  EXPECT_EQ(ip::parse_reported_address("2001:db8::7%eth0"), v6);
  EXPECT_FALSE(ip::parse_reported_address("[2001:db8::7"));
  EXPECT_FALSE(ip::parse_reported_address("[2001:db8::7]x"));
  EXPECT_FALSE(ip::parse_reported_address("[192.0.2.7]"));
  EXPECT_FALSE(ip::parse_reported_address("192.0.2.7:http"));
  EXPECT_FALSE(ip::parse_reported_address("192.0.2.7%eth0"));
  EXPECT_FALSE(ip::parse_reported_address("unknown"));
}

TEST(IpSet, Cidrs) {
  std::string why;
  auto c = ip::parse_cidr("10.0.0.0/8", why);
  ASSERT_TRUE(c) << why;
  EXPECT_EQ(ip::format_address(c->first), "10.0.0.0");
  EXPECT_EQ(ip::format_address(c->last), "10.255.255.255");
  c = ip::parse_cidr("2001:db8::/32", why);
  ASSERT_TRUE(c) << why;
  EXPECT_EQ(ip::format_address(c->last), "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
  c = ip::parse_cidr("0.0.0.0/0", why);  // every IPv4 address, and only those
  ASSERT_TRUE(c);
  EXPECT_EQ(ip::format_address(c->last), "255.255.255.255");
  EXPECT_TRUE(ip::parse_cidr("::/0", why));
  EXPECT_TRUE(ip::parse_cidr("127.0.0.1", why));

  EXPECT_FALSE(ip::parse_cidr("10.0.0.0/33", why));
  EXPECT_NE(why.find("0 to 32 for IPv4"), std::string::npos) << why;
  EXPECT_FALSE(ip::parse_cidr("2001:db8::/129", why));
  EXPECT_FALSE(ip::parse_cidr("10.0.0.0/", why));
  EXPECT_FALSE(ip::parse_cidr("10.0.0.0/-1", why));
  EXPECT_FALSE(ip::parse_cidr("10.0.0.0/8/8", why));
  EXPECT_FALSE(ip::parse_cidr("10.0.0/8", why));
  EXPECT_FALSE(ip::parse_cidr("10.1.0.0/8", why));
  EXPECT_NE(why.find("did you mean 10.0.0.0/8?"), std::string::npos) << why;
  EXPECT_FALSE(ip::parse_cidr("2001:db8::1/32", why));
  EXPECT_NE(why.find("did you mean 2001:db8::/32?"), std::string::npos) << why;
}

TEST(IpSet, MergesAndSearches) {
  ip::Set s;
  std::string why;
  for (const char* c : {"10.0.0.0/9", "10.128.0.0/9", "192.168.1.0/24", "192.168.1.128/25",
                        "2001:db8::/32", "::1"})
    s.add(*ip::parse_cidr(c, why));
  s.compile();
  EXPECT_EQ(s.range_count(), 4u);  // the /9 halves merge; the /25 is inside the /24
  EXPECT_TRUE(s.contains(*ip::parse_address("10.0.0.0")));
  EXPECT_TRUE(s.contains(*ip::parse_address("10.255.255.255")));
  EXPECT_FALSE(s.contains(*ip::parse_address("11.0.0.0")));
  EXPECT_FALSE(s.contains(*ip::parse_address("9.255.255.255")));
  EXPECT_TRUE(s.contains(*ip::parse_address("192.168.1.200")));
  EXPECT_FALSE(s.contains(*ip::parse_address("192.168.2.1")));
  EXPECT_TRUE(s.contains(*ip::parse_address("2001:db8:1234::1")));
  EXPECT_FALSE(s.contains(*ip::parse_address("2001:db9::")));
  EXPECT_TRUE(s.contains(*ip::parse_address("::1")));
  EXPECT_FALSE(s.contains(*ip::parse_address("::2")));
  EXPECT_FALSE(s.contains(*ip::parse_address("::")));

  ip::Set everything;
  everything.add(*ip::parse_cidr("::/1", why));
  everything.add(*ip::parse_cidr("8000::/1", why));
  everything.compile();
  EXPECT_EQ(everything.range_count(), 1u);
  EXPECT_TRUE(everything.contains(*ip::parse_address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
}

// ----------------------------------------------------------------- policy

TEST(IpRestriction, AllowList) {
  auto p = build("{allow: ['10.0.0.0/8', '2001:db8::/32', '127.0.0.1']}");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_TRUE(allowed(**p, "127.0.0.1"));
  EXPECT_TRUE(allowed(**p, "::ffff:127.0.0.1"));  // dual-stack listener
  EXPECT_TRUE(allowed(**p, "10.20.30.40"));
  EXPECT_TRUE(allowed(**p, "2001:db8::42"));
  EXPECT_FALSE(allowed(**p, "127.0.0.2"));
  EXPECT_FALSE(allowed(**p, "::1"));
  auto c = run(**p, "192.0.2.1");
  EXPECT_EQ(c.action, Action::kRespond);
  EXPECT_EQ(c.out.status, 403);
  EXPECT_EQ(c.out.code, "ip_forbidden");
  EXPECT_EQ(c.out.detail, "client address 192.0.2.1 is not allowed");
}

TEST(IpRestriction, DenyWinsOverAllow) {
  auto p = build("{allow: ['10.0.0.0/8'], deny: ['10.6.6.0/24'], status: 404}");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_TRUE(allowed(**p, "10.6.5.1"));
  auto c = run(**p, "10.6.6.6");
  EXPECT_EQ(c.action, Action::kRespond);
  EXPECT_EQ(c.out.status, 404);
  EXPECT_EQ(c.out.code, "ip_forbidden");
}

TEST(IpRestriction, DenyOnlyAllowsTheRest) {
  auto p = build("{deny: ['203.0.113.0/24', '::ffff:198.51.100.0/120']}");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_TRUE(allowed(**p, "127.0.0.1"));
  EXPECT_TRUE(allowed(**p, "2001:db8::1"));
  EXPECT_FALSE(allowed(**p, "203.0.113.9"));
  EXPECT_FALSE(allowed(**p, "198.51.100.9"));  // v4 inside a mapped v6 rule
  EXPECT_FALSE(allowed(**p, "not-an-ip"));     // fail closed
}

TEST(IpRestriction, TrustedProxies) {
  auto p = build(
      "{allow: ['192.0.2.0/24'], deny: ['192.0.2.66'], trusted_proxies: ['10.1.0.0/16']}");
  ASSERT_TRUE(p) << p.error().message;
  using H = std::vector<http1::Header>;
  // Direct peer not trusted: X-Forwarded-For is ignored (it is the client's word).
  EXPECT_FALSE(allowed(**p, "198.51.100.1", H{{"X-Forwarded-For", "192.0.2.1"}}));
  EXPECT_TRUE(allowed(**p, "192.0.2.1", H{{"X-Forwarded-For", "198.51.100.1"}}));
  // Trusted peer: right-most non-trusted entry; the spoofed left part is ignored.
  EXPECT_TRUE(allowed(**p, "10.1.0.5", H{{"X-Forwarded-For", "198.51.100.1, 192.0.2.1"}}));
  EXPECT_FALSE(allowed(**p, "10.1.0.5", H{{"X-Forwarded-For", "192.0.2.1, 198.51.100.1"}}));
  // Several trusted hops, several fields, ports and brackets.
  EXPECT_TRUE(allowed(**p, "::ffff:10.1.0.5",
                      H{{"X-Forwarded-For", "1.1.1.1, 192.0.2.9:5555"},
                        {"x-forwarded-for", "10.1.2.2 , 10.1.3.3"}}));
  EXPECT_FALSE(allowed(**p, "10.1.0.5", H{{"X-Forwarded-For", "192.0.2.66, 10.1.9.9"}}));
  // No header: the proxy itself is the client.
  EXPECT_FALSE(allowed(**p, "10.1.0.5"));
  // All hops trusted: the left-most one is the farthest known.
  EXPECT_FALSE(allowed(**p, "10.1.0.5", H{{"X-Forwarded-For", "10.1.0.1"}}));
  // Garbage written by a trusted hop fails closed ...
  auto c = run(**p, "10.1.0.5", H{{"X-Forwarded-For", "192.0.2.1, unknown"}});
  EXPECT_EQ(c.action, Action::kRespond);
  EXPECT_NE(c.out.detail.find("'unknown'"), std::string::npos) << c.out.detail;
  // ... but garbage left of the real client is never looked at.
  EXPECT_TRUE(allowed(**p, "10.1.0.5", H{{"X-Forwarded-For", "unknown, 192.0.2.1"}}));
  EXPECT_TRUE(allowed(**p, "10.1.0.5", H{{"X-Forwarded-For", "[2001:db8::1]:9, 192.0.2.1"}}));
}

TEST(IpRestriction, ConfigErrors) {
  auto r = build("{allow: ['10.0.0.0/8', '10.0.0.0/33']}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "invalid_cidr");
  EXPECT_EQ(r.error().field, "routes[0].policies[1].config.allow[1]");

  r = build("{deny: ['192.168.1.1/24']}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "routes[0].policies[1].config.deny[0]");
  EXPECT_NE(r.error().message.find("did you mean 192.168.1.0/24?"), std::string::npos);

  r = build("{allow: ['::1'], trusted_proxies: [bogus]}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "routes[0].policies[1].config.trusted_proxies[0]");

  r = build("{allow: '300.1.1.1'}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "routes[0].policies[1].config.allow");

  r = build("{allow: ['::1'], denny: ['::2']}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "unknown_field");
  EXPECT_EQ(r.error().field, "routes[0].policies[1].config.denny");

  r = build("{trusted_proxies: ['10.0.0.0/8']}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "routes[0].policies[1].config");

  r = build("{allow: []}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "routes[0].policies[1].config.allow");

  r = build("{allow: ['::1'], status: 200}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "routes[0].policies[1].config.status");

  r = build("{allow: [{a: 1}]}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "invalid_type");
}

}  // namespace
}  // namespace gatehouse::policy
