#include <gtest/gtest.h>

#include "policies/policy.hpp"
#include "policies/request_transformer/body_edits.hpp"
#include "policies/request_transformer/json_doc.hpp"

namespace gatehouse::policy {

void register_request_transformer(Registry& r);
void register_response_transformer(Registry& r);

namespace {

constexpr const char* kBase = "routes[0].policies[0].config.";

Result<std::shared_ptr<const Policy>> build(const char* name, const std::string& yaml) {
  Registry reg;
  register_request_transformer(reg);
  register_response_transformer(reg);
  config::PolicyRef ref{name, yaml, {}};
  BuildContext bctx;
  bctx.field = "routes[0].policies[0]";
  return (*reg.find(name))(ref, bctx);
}

// A request as the session presents it, with a JSON body.
struct Req {
  http1::RequestHead head;
  http1::NormalizedTarget target;
  RequestContext ctx;
  Consumer consumer;
  explicit Req(std::string content_type = "application/json") {
    head.method = "POST";
    head.body = http1::BodyKind::kContentLength;
    if (!content_type.empty()) head.headers.push_back({"Content-Type", content_type});
    head.headers.push_back({"X-Tenant", "acme"});
    target.path = "/orders";
    ctx.head = &head;
    ctx.target = &target;
    ctx.route_name = "orders";
    ctx.request_id = "rid-1";
    consumer.name = "alice";
  }
};

std::string edit(const std::string& yaml, std::string body, Req* req = nullptr) {
  auto p = build("request-transformer", yaml);
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().field + ": " + p.error().message);
  if (!p.ok()) return {};
  Req local;
  Req& r = req ? *req : local;
  EXPECT_GT((*p)->request_body_limit(r.ctx), 0u);
  Respond out;
  EXPECT_EQ((*p)->on_request_body(r.ctx, body, out), Action::kContinue) << out.body;
  return body;
}

TEST(JsonDoc, KeepsNumbersOrderAndEscapes) {
  auto d = parse_json(R"( {"b":19.99, "a":[1e400, 12345678901234567890123, -0.0],
                         "s":"x\"y\\\u0001\u00e9", "n":null, "t":true} )");
  ASSERT_TRUE(d.ok());
  std::string out;
  print_json(*d, out);
  EXPECT_EQ(out,
            "{\"b\":19.99,\"a\":[1e400,12345678901234567890123,-0.0],\"s\":\"x\\\"y\\\\\\u0001\xC3\xA9\","
            "\"n\":null,\"t\":true}");
}

TEST(JsonDoc, ErrorsNameTheOffset) {
  auto d = parse_json(R"({"a": tru})");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, "invalid_json");
  EXPECT_NE(d.error().message.find("at byte "), std::string::npos) << d.error().message;
  EXPECT_FALSE(parse_json("{\"a\":1} x").ok());
  EXPECT_FALSE(parse_json("").ok());
  EXPECT_FALSE(parse_json("\"\xff\"").ok());  // invalid UTF-8
  std::string deep(200, '[');
  EXPECT_FALSE(parse_json(deep + std::string(200, ']')).ok());
}

TEST(JsonDoc, NumberSyntax) {
  for (const char* ok : {"0", "-1", "1.5", "1e5", "-0.25E-3", "10"}) EXPECT_TRUE(is_json_number(ok)) << ok;
  for (const char* bad : {"", "01", "+1", ".5", "1.", "1e", "0x1F", "1_000", "inf"})
    EXPECT_FALSE(is_json_number(bad)) << bad;
}

TEST(BodyEdits, SetAddRemoveRenameByDottedPath) {
  std::string out = edit(R"(body:
  remove: [password, items.*.internal]
  rename: {user.mail: user.email}
  set: {user.address.city: Paris, items.0.id: 7, meta.flag: true, meta.none: null}
  add: {user.name: nobody, created_by: gateway})",
                         R"({"password":"x","user":{"name":"bob","mail":"b@x"},)"
                         R"("items":[{"id":1,"internal":"a"},{"id":2,"internal":"b"}]})");
  EXPECT_EQ(out,
            R"({"user":{"name":"bob","email":"b@x","address":{"city":"Paris"}},)"
            R"("items":[{"id":7},{"id":2}],"meta":{"flag":true,"none":null},"created_by":"gateway"})");
}

TEST(BodyEdits, TypedValuesFollowYaml) {
  std::string out = edit(R"(body:
  set: {n: 42, f: -1.5, s: "42", b: false, q: 'true', l: [1, two], o: {k: v}, plain: hello})",
                         "{}");
  EXPECT_EQ(out, R"({"n":42,"f":-1.5,"s":"42","b":false,"q":"true","l":[1,"two"],"o":{"k":"v"},"plain":"hello"})");
}

TEST(BodyEdits, TemplatesReadTheRequest) {
  Req r;
  r.ctx.consumer = &r.consumer;
  std::string out = edit(R"y(body:
  set: {owner: "$(consumer.name)", tenant: "t-$(header.x-tenant)"})y",
                         R"({"owner":"mallory"})", &r);
  EXPECT_EQ(out, R"({"owner":"alice","tenant":"t-acme"})");
  // Anonymous: set removes the field the config owns; add writes nothing.
  Req anon;
  out = edit(R"y(body: {set: {owner: "$(consumer.name)"}, add: {by: "$(consumer.name)"}})y",
             R"({"owner":"mallory","x":1})", &anon);
  EXPECT_EQ(out, R"({"x":1})");
}

TEST(BodyEdits, UntouchedBodyKeepsItsBytes) {
  std::string body = "{ \"a\" : 1.10 }";
  EXPECT_EQ(edit("body: {remove: [b]}", body), body);
}

TEST(BodyEdits, PathsThroughScalarsAreSkipped) {
  EXPECT_EQ(edit("body: {set: {user.city: Paris}, remove: [items.5]}",
                 R"({"user":"bob","items":[1]})"),
            R"({"user":"bob","items":[1]})");
}

TEST(BodyEdits, TopLevelArray) {
  EXPECT_EQ(edit("body: {remove: ['*.secret'], set: {'1.id': 9}}",
                 R"([{"id":1,"secret":1},{"id":2}])"),
            R"([{"id":1},{"id":9}])");
}

TEST(BodyEdits, InvalidJsonRequestIs400WithField) {
  auto p = build("request-transformer", "body: {remove: [a]}");
  ASSERT_TRUE(p.ok());
  Req r;
  std::string body = "{\"a\":";
  Respond out;
  ASSERT_EQ((*p)->on_request_body(r.ctx, body, out), Action::kRespond);
  EXPECT_EQ(out.status, 400);
  EXPECT_EQ(out.content_type, "application/problem+json");
  EXPECT_NE(out.body.find("\"field\":\"body\""), std::string::npos) << out.body;
  EXPECT_NE(out.body.find("\"code\":\"invalid_json_body\""), std::string::npos);
  EXPECT_NE(out.body.find("at byte "), std::string::npos) << out.body;
  EXPECT_NE(out.body.find("\"request_id\":\"rid-1\""), std::string::npos);
}

TEST(BodyEdits, OnlyJsonRequestsAreBuffered) {
  auto p = build("request-transformer", "body: {remove: [a]}\nmax_body: 4k");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)->request_body_limit(Req("application/json; charset=utf-8").ctx), 4096u);
  EXPECT_EQ((*p)->request_body_limit(Req("application/vnd.api+json").ctx), 4096u);
  EXPECT_EQ((*p)->request_body_limit(Req("text/plain").ctx), 0u);
  EXPECT_EQ((*p)->request_body_limit(Req("").ctx), 0u);
  Req get;
  get.head.body = http1::BodyKind::kNone;
  EXPECT_EQ((*p)->request_body_limit(get.ctx), 0u);
  auto headers_only = build("request-transformer", "headers: {add: {X-A: b}}");
  ASSERT_TRUE(headers_only.ok());
  EXPECT_EQ((*headers_only)->request_body_limit(Req().ctx), 0u);
}

TEST(BodyEdits, ConfigErrorsCarryTheFieldPath) {
  struct Case {
    const char* yaml;
    const char* field;
  } cases[] = {
      {"body: {set: {'a..b': 1}}", "body.set.a..b"},
      {"body: {rename: {'a.*': b}}", "body.rename.a.*"},
      {"body: {remove: {a: 1}}", "body.remove"},
      {"body: {replace: {a: 1}}", "body.replace"},
      {"body: {set: {a: \"$(nope)\"}}", "body.set.a"},
      {"body: [a]", "body"},
      {"max_body: 0", "max_body"},
      {"max_body: 1g", "max_body"},
  };
  for (const auto& c : cases) {
    auto p = build("request-transformer", c.yaml);
    ASSERT_FALSE(p.ok()) << c.yaml;
    EXPECT_EQ(p.error().field, std::string(kBase) + c.field) << c.yaml << ": " << p.error().message;
  }
}

TEST(ResponseBodyEdits, WantsOnlyUncompressedJson) {
  auto p = build("response-transformer", "body: {remove: [secret]}\nmax_body: 1k\non_oversize: reject");
  ASSERT_TRUE(p.ok()) << p.error().message;
  Req r;
  auto w = (*p)->response_body_want(r.ctx, 200, {{"Content-Type", "application/json"}});
  EXPECT_EQ(w.limit, 1024u);
  EXPECT_TRUE(w.reject_larger);
  EXPECT_EQ((*p)->response_body_want(r.ctx, 200, {{"Content-Type", "text/html"}}).limit, 0u);
  EXPECT_EQ((*p)->response_body_want(r.ctx, 200, {{"Content-Type", "application/json"},
                                                  {"Content-Encoding", "gzip"}})
                .limit,
            0u);
  std::string body = R"({"id":1,"secret":"s"})";
  std::vector<http1::Header> h;
  (*p)->on_response_body(r.ctx, 200, h, body);
  EXPECT_EQ(body, R"({"id":1})");
  std::string bad = "not json";
  (*p)->on_response_body(r.ctx, 200, h, bad);
  EXPECT_EQ(bad, "not json");  // passed through
  EXPECT_FALSE(build("response-transformer", "on_oversize: drop").ok());
}

}  // namespace
}  // namespace gatehouse::policy
