#include <gtest/gtest.h>
#include <strings.h>

#include "policies/policy.hpp"

namespace gatehouse::policy {

void register_response_transformer(Registry& r);

namespace {

struct Exchange {
  http1::RequestHead head;
  http1::NormalizedTarget target;
  RequestContext ctx;
  std::vector<http1::Header> response;

  Exchange(std::initializer_list<http1::Header> request, std::initializer_list<http1::Header> resp,
           std::string query = {}) {
    head.method = "GET";
    head.headers = request;
    target.path = "/";
    target.query = std::move(query);
    ctx.head = &head;
    ctx.target = &target;
    ctx.client_ip = "192.0.2.7";
    ctx.route_name = "orders";
    ctx.request_id = "rid-7";
    response = resp;
  }
  std::vector<std::string> all(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& h : response)
      if (h.name.size() == name.size() &&
          strncasecmp(h.name.c_str(), name.data(), name.size()) == 0)
        out.push_back(h.value);
    return out;
  }
};

Result<std::shared_ptr<const Policy>> build(const std::string& yaml) {
  Registry reg;
  register_response_transformer(reg);
  config::PolicyRef ref{"response-transformer", yaml, {}};
  BuildContext bctx;
  bctx.field = "routes[1].policies[2]";
  return (*reg.find("response-transformer"))(ref, bctx);
}

std::shared_ptr<const Policy> must(const std::string& yaml) {
  auto p = build(yaml);
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().field + ": " + p.error().message);
  return p.ok() ? p.value() : nullptr;
}

void run(const Policy& p, Exchange& ex) {
  Respond out;
  EXPECT_EQ(p.on_request(ex.ctx, out), Action::kContinue);  // nothing to do on the way in
  p.on_response(ex.ctx, 200, ex.response);
}

TEST(ResponseTransformer, PhaseAndName) {
  auto p = must("headers: {add: {X-A: '1'}}");
  EXPECT_EQ(p->name(), "response-transformer");
  EXPECT_EQ(p->phase(), Phase::kTransform);
}

TEST(ResponseTransformer, RequestIsUntouched) {
  auto p = must("headers: {remove: [X-A], set: {X-B: '1'}}");
  Exchange ex({{"x-a", "1"}}, {});
  Respond out;
  p->on_request(ex.ctx, out);
  EXPECT_EQ(ex.head.headers.size(), 1u);
  EXPECT_FALSE(ex.ctx.query_overridden);
}

TEST(ResponseTransformer, EveryOperation) {
  auto p = must(
      "headers:\n"
      "  remove: [Server, X-Powered-By]\n"
      "  rename: {X-Internal-Trace: X-Trace}\n"
      "  set: {Cache-Control: no-store}\n"
      "  add: {X-Frame-Options: DENY, Content-Type: text/plain}\n"
      "  append: {Set-Cookie: 'seen=1; Path=/'}\n");
  Exchange ex({}, {{"Content-Type", "application/json"},
                   {"server", "nginx/1.2"},
                   {"X-Powered-By", "PHP"},
                   {"x-internal-trace", "abc"},
                   {"cache-control", "public"},
                   {"Cache-Control", "max-age=60"},
                   {"Set-Cookie", "sid=1"}});
  run(*p, ex);
  EXPECT_TRUE(ex.all("Server").empty());
  EXPECT_TRUE(ex.all("X-Powered-By").empty());
  EXPECT_TRUE(ex.all("X-Internal-Trace").empty());
  EXPECT_EQ(ex.all("X-Trace"), std::vector<std::string>{"abc"});
  EXPECT_EQ(ex.all("Cache-Control"), std::vector<std::string>{"no-store"});
  EXPECT_EQ(ex.all("X-Frame-Options"), std::vector<std::string>{"DENY"});
  EXPECT_EQ(ex.all("Content-Type"), std::vector<std::string>{"application/json"});  // add: kept
  EXPECT_EQ(ex.all("Set-Cookie"), (std::vector<std::string>{"sid=1", "seen=1; Path=/"}));
}

TEST(ResponseTransformer, TemplatesReadTheRequest) {
  auto p = must(
      "headers: {set: {X-Request: '$(request_id)', X-Served-To: '$(consumer.name)',"
      " X-Tenant: '$(header.x-tenant)', X-Lang: '$(query.lang)', X-Route: '$(route.name)',"
      " X-Version: '$(var.traffic_split.upstream)'}}");
  Exchange ex({{"X-Tenant", "acme"}}, {{"X-Served-To", "upstream-value"}}, "lang=fr");
  ex.ctx.vars["traffic_split.upstream"] = "checkout-v2";
  run(*p, ex);
  EXPECT_EQ(ex.all("X-Request"), std::vector<std::string>{"rid-7"});
  EXPECT_TRUE(ex.all("X-Served-To").empty());  // no consumer: a set header is removed
  EXPECT_EQ(ex.all("X-Tenant"), std::vector<std::string>{"acme"});
  EXPECT_EQ(ex.all("X-Lang"), std::vector<std::string>{"fr"});
  EXPECT_EQ(ex.all("X-Route"), std::vector<std::string>{"orders"});
  EXPECT_EQ(ex.all("X-Version"), std::vector<std::string>{"checkout-v2"});
}

TEST(ResponseTransformer, UsesTheRewrittenQuery) {
  auto p = must("headers: {add: {X-Lang: '$(query.lang)'}}");
  Exchange ex({}, {}, "lang=fr");
  ex.ctx.query_override = "lang=de";
  ex.ctx.query_overridden = true;
  run(*p, ex);
  EXPECT_EQ(ex.all("X-Lang"), std::vector<std::string>{"de"});
}

TEST(ResponseTransformer, InjectedValuesAreDropped) {
  auto p = must("headers: {add: {X-Echo: '$(query.v)'}}");
  Exchange ex({}, {}, "v=1%0D%0ASet-Cookie:%20admin=1");
  run(*p, ex);
  EXPECT_TRUE(ex.all("X-Echo").empty());
  EXPECT_TRUE(ex.all("Set-Cookie").empty());
}

TEST(ResponseTransformerConfig, Errors) {
  constexpr const char* kBase = "routes[1].policies[2].config.";
  auto cl = build("headers: {set: {Content-Length: '0'}}");
  ASSERT_FALSE(cl.ok());
  EXPECT_EQ(cl.error().code, "forbidden_header");
  EXPECT_EQ(cl.error().field, std::string(kBase) + "headers.set.Content-Length");
  auto te = build("headers: {remove: [Transfer-Encoding]}");
  ASSERT_FALSE(te.ok());
  EXPECT_EQ(te.error().field, std::string(kBase) + "headers.remove[0]");
  auto conn = build("headers: {add: {Connection: close}}");
  ASSERT_FALSE(conn.ok());
  EXPECT_NE(conn.error().message.find("hop-by-hop"), std::string::npos);
  auto crlf = build("headers: {add: {X-A: \"x\\r\\nSet-Cookie: a=1\"}}");
  ASSERT_FALSE(crlf.ok());
  EXPECT_EQ(crlf.error().code, "invalid_value");
  auto json = build("json: {remove: [password]}");
  ASSERT_FALSE(json.ok());
  EXPECT_EQ(json.error().code, "renamed");
  EXPECT_EQ(json.error().field, std::string(kBase) + "json");
  auto query = build("query: {add: {a: b}}");
  ASSERT_FALSE(query.ok());
  EXPECT_EQ(query.error().code, "unknown_field");
  // Request-only rules do not apply to responses.
  EXPECT_TRUE(build("headers: {set: {X-Request-Id: fixed}, remove: [Expect]}").ok());
}

}  // namespace
}  // namespace gatehouse::policy
