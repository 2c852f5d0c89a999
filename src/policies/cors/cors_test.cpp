#include <gtest/gtest.h>

#include "common/strings.hpp"
#include "policies/cors/origin_matcher.hpp"
#include "policies/policy.hpp"

namespace gatehouse::policy {

void register_cors(Registry& r);

namespace {

Result<std::shared_ptr<const Policy>> build(const std::string& yaml) {
  Registry r;
  register_cors(r);
  config::PolicyRef ref;
  ref.name = "cors";
  ref.config_yaml = yaml;
  BuildContext bc;
  bc.field = "policies[0]";
  return (*r.find("cors"))(ref, bc);
}

const std::string* find(const std::vector<http1::Header>& hs, std::string_view name) {
  for (const auto& h : hs)
    if (iequals(h.name, name)) return &h.value;
  return nullptr;
}

size_t count(const std::vector<http1::Header>& hs, std::string_view name) {
  size_t n = 0;
  for (const auto& h : hs) n += iequals(h.name, name);
  return n;
}

struct Exchange {
  http1::RequestHead head;
  http1::NormalizedTarget target{"/api", "", ""};
  RequestContext ctx;
  Respond out;
  Action action = Action::kContinue;

  Exchange(const Policy& p, std::string method, std::vector<http1::Header> headers) {
    head.method = std::move(method);
    head.target = "/api";
    head.headers = std::move(headers);
    ctx.head = &head;
    ctx.target = &target;
    ctx.client_ip = "127.0.0.1";
    action = p.on_request(ctx, out);
  }
  // The response as the proxy would send it after the upstream answered.
  std::vector<http1::Header> respond(const Policy& p, std::vector<http1::Header> upstream) {
    p.on_response(ctx, 200, upstream);
    for (auto& h : ctx.response_headers) upstream.push_back(h);
    return upstream;
  }
};

Exchange preflight(const Policy& p, const std::string& origin, const std::string& method,
                   const std::string& req_headers = "") {
  std::vector<http1::Header> hs{{"Host", "api.example.com"},
                                {"Origin", origin},
                                {"Access-Control-Request-Method", method}};
  if (!req_headers.empty()) hs.push_back({"Access-Control-Request-Headers", req_headers});
  return Exchange(p, "OPTIONS", std::move(hs));
}

// ---------------------------------------------------------------- origins

TEST(CorsOrigins, ExactWildcardAndAny) {
  cors::OriginMatcher m;
  std::string why;
  ASSERT_TRUE(m.add("https://App.Example.com", why)) << why;
  ASSERT_TRUE(m.add("http://localhost:3000", why)) << why;
  ASSERT_TRUE(m.add("https://api.example.org:443", why)) << why;  // default port dropped
  ASSERT_TRUE(m.add("*.example.net", why)) << why;
  ASSERT_TRUE(m.add("https://*.example.io:8443", why)) << why;
  EXPECT_TRUE(m.matches("https://app.example.com"));
  EXPECT_TRUE(m.matches("HTTPS://APP.EXAMPLE.COM"));
  EXPECT_FALSE(m.matches("http://app.example.com"));
  EXPECT_FALSE(m.matches("https://app.example.com.evil.com"));
  EXPECT_FALSE(m.matches("https://evilapp.example.com"));
  EXPECT_TRUE(m.matches("http://localhost:3000"));
  EXPECT_FALSE(m.matches("http://localhost:3001"));
  EXPECT_TRUE(m.matches("https://api.example.org"));
  EXPECT_TRUE(m.matches("https://a.example.net"));
  EXPECT_TRUE(m.matches("http://a.b.example.net"));
  EXPECT_FALSE(m.matches("https://example.net"));  // the apex is not a subdomain
  EXPECT_FALSE(m.matches("https://evilexample.net"));
  EXPECT_FALSE(m.matches("https://a.example.net:8443"));
  EXPECT_FALSE(m.matches("ftp://a.example.net"));
  EXPECT_TRUE(m.matches("https://x.example.io:8443"));
  EXPECT_FALSE(m.matches("https://x.example.io"));
  EXPECT_FALSE(m.matches("null"));
  EXPECT_FALSE(m.matches(""));
  EXPECT_FALSE(m.any());

  cors::OriginMatcher any;
  ASSERT_TRUE(any.add("*", why));
  EXPECT_TRUE(any.matches("https://whatever.test"));
}

TEST(CorsOrigins, BadEntries) {
  cors::OriginMatcher m;
  std::string why;
  EXPECT_FALSE(m.add("app.example.com", why));
  EXPECT_NE(why.find("needs a scheme"), std::string::npos) << why;
  EXPECT_FALSE(m.add("https://app.example.com/", why));
  EXPECT_NE(why.find("no path"), std::string::npos) << why;
  EXPECT_FALSE(m.add("null", why));
  EXPECT_FALSE(m.add("https://a.*.example.com", why));
  EXPECT_FALSE(m.add("https://*example.com", why));
  EXPECT_FALSE(m.add("*.", why));
  EXPECT_FALSE(m.add("*.example.com:8080", why));
  EXPECT_FALSE(m.add("https://app.example.com:99999", why));
  EXPECT_FALSE(m.add("https://", why));
  EXPECT_TRUE(m.empty());
}

// -------------------------------------------------------------- preflight

TEST(Cors, PreflightAnsweredAtTheGateway) {
  auto p = build(R"({origins: ["https://app.example.com", "*.example.com"], methods: [GET, post],
                   headers: [Content-Type, X-Request-Id], expose_headers: [X-Total-Count],
                   max_age: 600s})");
  ASSERT_TRUE(p) << p.error().message;
  auto e = preflight(**p, "https://app.example.com", "POST", "content-type,x-request-id");
  ASSERT_EQ(e.action, Action::kRespond);
  EXPECT_EQ(e.out.status, 204);
  EXPECT_TRUE(e.out.code.empty());
  EXPECT_TRUE(e.out.body.empty());
  const auto& h = e.out.headers;
  EXPECT_EQ(*find(h, "Access-Control-Allow-Origin"), "https://app.example.com");
  EXPECT_EQ(*find(h, "Access-Control-Allow-Methods"), "GET, POST");
  EXPECT_EQ(*find(h, "Access-Control-Allow-Headers"), "Content-Type, X-Request-Id");
  EXPECT_EQ(*find(h, "Access-Control-Max-Age"), "600");
  EXPECT_EQ(find(h, "Access-Control-Allow-Credentials"), nullptr);
  EXPECT_NE(find(h, "Vary")->find("Access-Control-Request-Headers"), std::string::npos);

  auto w = preflight(**p, "https://shop.example.com", "GET");
  ASSERT_EQ(w.action, Action::kRespond);
  EXPECT_EQ(w.out.status, 204);
  EXPECT_EQ(find(w.out.headers, "Access-Control-Allow-Headers"), nullptr);
}

TEST(Cors, PreflightRejections) {
  auto p = build(R"({origins: ["https://app.example.com"], methods: [GET, POST],
                   headers: [Content-Type]})");
  ASSERT_TRUE(p) << p.error().message;
  for (auto e : {preflight(**p, "https://evil.example", "GET"),
                 preflight(**p, "https://app.example.com", "DELETE"),
                 preflight(**p, "https://app.example.com", "GET", "content-type, x-secret"),
                 preflight(**p, "https://app.example.com", "GET", "bad header"),
                 preflight(**p, "null", "GET")}) {
    ASSERT_EQ(e.action, Action::kRespond);
    EXPECT_EQ(e.out.status, 403);
    EXPECT_EQ(e.out.code, "cors_rejected");
    EXPECT_EQ(find(e.out.headers, "Access-Control-Allow-Origin"), nullptr);
  }
  auto e = preflight(**p, "https://app.example.com", "GET", "x-secret");
  EXPECT_EQ(e.out.detail, "request header 'x-secret' is not allowed");
}

TEST(Cors, DefaultsReflectHeadersAndSafelistedMethods) {
  auto p = build(R"({origins: ["*"]})");
  ASSERT_TRUE(p) << p.error().message;
  auto e = preflight(**p, "https://anyone.test", "POST", "X-A, x-b");
  ASSERT_EQ(e.out.status, 204);
  EXPECT_EQ(*find(e.out.headers, "Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(*find(e.out.headers, "Access-Control-Allow-Methods"), "GET, HEAD, POST");
  EXPECT_EQ(*find(e.out.headers, "Access-Control-Allow-Headers"), "x-a, x-b");
  EXPECT_EQ(preflight(**p, "https://anyone.test", "PUT").out.status, 403);

  auto any = build(R"({origins: ["*"], methods: ["*"]})");
  auto m = preflight(**any, "https://anyone.test", "PATCH");
  ASSERT_EQ(m.out.status, 204);
  EXPECT_EQ(*find(m.out.headers, "Access-Control-Allow-Methods"), "PATCH");
}

TEST(Cors, OptionsWithoutPreflightHeadersIsAnOrdinaryRequest) {
  auto p = build(R"({origins: ["https://app.example.com"]})");
  Exchange e(**p, "OPTIONS", {{"Origin", "https://app.example.com"}});
  EXPECT_EQ(e.action, Action::kContinue);
  Exchange f(**p, "OPTIONS", {{"Access-Control-Request-Method", "GET"}});  // no Origin
  EXPECT_EQ(f.action, Action::kContinue);
}

// --------------------------------------------------------- actual requests

TEST(Cors, ActualRequestGetsGrantAndVary) {
  auto p = build(R"({origins: ["https://app.example.com"], expose_headers: [X-Total-Count, ETag],
                   credentials: true})");
  ASSERT_TRUE(p) << p.error().message;
  Exchange e(**p, "GET", {{"Origin", "https://app.example.com"}});
  ASSERT_EQ(e.action, Action::kContinue);
  auto resp = e.respond(**p, {{"Content-Type", "application/json"},
                              {"Access-Control-Allow-Origin", "*"},  // the upstream's own
                              {"access-control-allow-credentials", "false"}});
  EXPECT_EQ(count(resp, "Access-Control-Allow-Origin"), 1u);
  EXPECT_EQ(*find(resp, "Access-Control-Allow-Origin"), "https://app.example.com");
  EXPECT_EQ(*find(resp, "Access-Control-Allow-Credentials"), "true");
  EXPECT_EQ(*find(resp, "Access-Control-Expose-Headers"), "X-Total-Count, ETag");
  EXPECT_EQ(*find(resp, "Vary"), "Origin");
  EXPECT_EQ(*find(resp, "Content-Type"), "application/json");
}

TEST(Cors, VaryMergesWithTheUpstreams) {
  auto p = build(R"({origins: ["https://app.example.com"]})");
  Exchange e(**p, "GET", {{"Origin", "https://app.example.com"}});
  auto resp = e.respond(**p, {{"Vary", "Accept-Encoding"}});
  EXPECT_EQ(count(resp, "Vary"), 1u);
  EXPECT_EQ(*find(resp, "Vary"), "Accept-Encoding, Origin");
  Exchange f(**p, "GET", {{"Origin", "https://app.example.com"}});
  resp = f.respond(**p, {{"vary", "origin"}});
  EXPECT_EQ(count(resp, "Vary"), 1u);
  EXPECT_EQ(*find(resp, "Vary"), "origin");
}

TEST(Cors, DisallowedOriginGetsNoGrant) {
  auto p = build(R"({origins: ["https://app.example.com"]})");
  Exchange e(**p, "GET", {{"Origin", "https://evil.example"}});
  ASSERT_EQ(e.action, Action::kContinue);
  auto resp = e.respond(**p, {{"Access-Control-Allow-Origin", "https://evil.example"}});
  EXPECT_EQ(find(resp, "Access-Control-Allow-Origin"), nullptr);  // upstream grant dropped too
  EXPECT_EQ(*find(resp, "Vary"), "Origin");
  Exchange none(**p, "GET", {});
  EXPECT_EQ(*find(none.respond(**p, {}), "Vary"), "Origin");  // cacheable without Origin
}

TEST(Cors, StarWithoutCredentialsIsStatic) {
  auto p = build(R"({origins: ["*"], expose_headers: ["*"]})");
  ASSERT_TRUE(p) << p.error().message;
  Exchange e(**p, "GET", {{"Origin", "https://x.test"}});
  auto resp = e.respond(**p, {});
  EXPECT_EQ(*find(resp, "Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(*find(resp, "Access-Control-Expose-Headers"), "*");
  EXPECT_EQ(find(resp, "Vary"), nullptr);
}

TEST(Cors, WildcardWithCredentialsEchoesTheOrigin) {
  auto p = build(R"({origins: ["*.example.com"], credentials: true})");
  ASSERT_TRUE(p) << p.error().message;
  Exchange e(**p, "GET", {{"Origin", "https://a.example.com"}});
  auto resp = e.respond(**p, {});
  EXPECT_EQ(*find(resp, "Access-Control-Allow-Origin"), "https://a.example.com");
  auto pf = preflight(**p, "https://a.example.com", "GET");
  EXPECT_EQ(*find(pf.out.headers, "Access-Control-Allow-Origin"), "https://a.example.com");
  EXPECT_EQ(*find(pf.out.headers, "Access-Control-Allow-Credentials"), "true");
}

// ------------------------------------------------------------------ config

TEST(Cors, ConfigErrors) {
  auto r = build("{}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "missing_field");
  EXPECT_EQ(r.error().field, "policies[0].config.origins");

  r = build(R"({origins: ["*"], credentials: true})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "policies[0].config.origins");
  EXPECT_NE(r.error().message.find("credentials"), std::string::npos);

  r = build(R"({origins: ["https://a.test"], credentials: true, expose_headers: ["*"]})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "policies[0].config.expose_headers");

  r = build(R"({origins: ["https://a.test", "https://b.test/"]})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "invalid_origin");
  EXPECT_EQ(r.error().field, "policies[0].config.origins[1]");

  r = build(R"({origins: ["https://a.test"], headers: ["X-Ok", "Bad Header"]})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "policies[0].config.headers[1]");

  r = build(R"({origins: ["https://a.test"], max_age: 1500ms})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "policies[0].config.max_age");
  r = build(R"({origins: ["https://a.test"], max_age: 2d})");
  ASSERT_FALSE(r);

  r = build(R"({origins: ["https://a.test"], methods: []})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "policies[0].config.methods");

  r = build(R"({origins: ["https://a.test"], allow_credentials: true})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "unknown_field");
  EXPECT_EQ(r.error().field, "policies[0].config.allow_credentials");
}

TEST(Cors, MaxAgeForms) {
  for (auto [in, want] : std::vector<std::pair<std::string, std::string>>{
           {"600", "600"}, {"600s", "600"}, {"10m", "600"}, {"0", "0"}, {"24h", "86400"}}) {
    auto p = build(R"({origins: ["https://a.test"], max_age: )" + in + "}");
    ASSERT_TRUE(p) << in << ": " << p.error().message;
    auto e = preflight(**p, "https://a.test", "GET");
    EXPECT_EQ(*find(e.out.headers, "Access-Control-Max-Age"), want) << in;
  }
}

}  // namespace
}  // namespace gatehouse::policy
