#include <gtest/gtest.h>

#include "policies/policy.hpp"
#include "policies/request_transformer/edits.hpp"
#include "policies/request_transformer/template.hpp"

namespace gatehouse::policy {

void register_request_transformer(Registry& r);

namespace {

// A hand-made request as the session would present it to the chain.
struct Req {
  http1::RequestHead head;
  http1::NormalizedTarget target;
  RequestContext ctx;
  Consumer consumer;

  explicit Req(std::initializer_list<http1::Header> headers, std::string query = {}) {
    head.method = "GET";
    head.headers = headers;
    target.path = "/orders";
    target.query = std::move(query);
    ctx.head = &head;
    ctx.target = &target;
    ctx.client_ip = "10.1.2.3";
    ctx.route_name = "orders";
    ctx.request_id = "rid-42";
    consumer.name = "alice";
  }
  std::vector<std::string> all(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& h : head.headers)
      if (h.name.size() == name.size() &&
          strncasecmp(h.name.c_str(), name.data(), name.size()) == 0)
        out.push_back(h.value);
    return out;
  }
  std::string query() const { return ctx.query_overridden ? ctx.query_override : target.query; }
};

Result<std::shared_ptr<const Policy>> build(const std::string& yaml) {
  Registry reg;
  register_request_transformer(reg);
  config::PolicyRef ref{"request-transformer", yaml, {}};
  BuildContext bctx;
  bctx.field = "routes[0].policies[0]";
  return (*reg.find("request-transformer"))(ref, bctx);
}

std::shared_ptr<const Policy> must(const std::string& yaml) {
  auto p = build(yaml);
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().field + ": " + p.error().message);
  return p.ok() ? p.value() : nullptr;
}

void run(const Policy& p, Req& r) {
  Respond out;
  EXPECT_EQ(p.on_request(r.ctx, out), Action::kContinue);
}

Error config_error(const std::string& yaml) {
  auto p = build(yaml);
  EXPECT_FALSE(p.ok()) << "accepted: " << yaml;
  return p.ok() ? Error{} : p.error();
}

constexpr const char* kBase = "routes[0].policies[0].config.";

// ---------------------------------------------------------------- templates

TEST(Template, LiteralAndEscapes) {
  auto t = Template::compile("price $5, $$(not a var), $");
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->is_literal());
  Req r({});
  std::string out;
  ASSERT_TRUE(t->expand({&r.ctx, ""}, out));
  EXPECT_EQ(out, "price $5, $(not a var), $");
}

TEST(Template, EveryVariable) {
  auto t = Template::compile(
      "$(consumer.name)|$(route.name)|$(request_id)|$(client_ip)|$(header.X-Foo)|$(query.q)|"
      "$( var.plan )");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_FALSE(t->is_literal());
  Req r({{"x-foo", "bar"}}, "q=a%20b&z=1");
  r.ctx.consumer = &r.consumer;
  r.ctx.vars["plan"] = "gold";
  std::string out;
  ASSERT_TRUE(t->expand({&r.ctx, r.target.query}, out));
  EXPECT_EQ(out, "alice|orders|rid-42|10.1.2.3|bar|a b|gold");
}

TEST(Template, AbsentValuesReportFalse) {
  Req r({});
  for (const char* src : {"$(consumer.name)", "$(header.x-none)", "$(query.none)", "$(var.none)"}) {
    auto t = Template::compile(src);
    ASSERT_TRUE(t.ok());
    std::string out;
    EXPECT_FALSE(t->expand({&r.ctx, ""}, out)) << src;
  }
}

TEST(Template, CompileErrors) {
  auto a = Template::compile("x $(consumer.nam) y");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code, "invalid_template");
  EXPECT_NE(a.error().message.find("unknown template variable '$(consumer.nam)'"),
            std::string::npos);
  auto b = Template::compile("$(header.x");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("unterminated"), std::string::npos);
  EXPECT_FALSE(Template::compile("$(header.)").ok());
  EXPECT_FALSE(Template::compile("$(header.a b)").ok());
}

// --------------------------------------------------------------- header ops

TEST(RequestTransformer, AddOnlyWhenAbsent) {
  auto p = must("headers: {add: {X-A: '1', X-B: '2'}}");
  Req r({{"x-a", "client"}});
  run(*p, r);
  EXPECT_EQ(r.all("X-A"), std::vector<std::string>{"client"});
  EXPECT_EQ(r.all("X-B"), std::vector<std::string>{"2"});
}

TEST(RequestTransformer, SetOverwritesEveryOccurrence) {
  auto p = must("headers: {set: {X-A: 'gw', X-New: 'n'}}");
  Req r({{"x-a", "1"}, {"other", "o"}, {"X-A", "2"}});
  run(*p, r);
  EXPECT_EQ(r.all("X-A"), std::vector<std::string>{"gw"});
  EXPECT_EQ(r.head.headers[0].name, "X-A");  // kept in place, config spelling
  EXPECT_EQ(r.all("X-New"), std::vector<std::string>{"n"});
  EXPECT_EQ(r.head.headers.size(), 3u);
}

TEST(RequestTransformer, AppendAlwaysAdds) {
  auto p = must("headers: {append: {X-A: 'more'}}");
  Req r({{"x-a", "1"}});
  run(*p, r);
  EXPECT_EQ(r.all("X-A"), (std::vector<std::string>{"1", "more"}));
}

TEST(RequestTransformer, RemoveEveryOccurrenceAnyCase) {
  auto p = must("headers: {remove: [X-Secret, x-debug]}");
  Req r({{"x-secret", "1"}, {"keep", "k"}, {"X-SECRET", "2"}, {"X-Debug", "3"}});
  run(*p, r);
  ASSERT_EQ(r.head.headers.size(), 1u);
  EXPECT_EQ(r.head.headers[0].name, "keep");
}

TEST(RequestTransformer, RemoveAcceptsOneName) {
  auto p = must("headers: {remove: X-Secret}");
  Req r({{"x-secret", "1"}});
  run(*p, r);
  EXPECT_TRUE(r.head.headers.empty());
}

TEST(RequestTransformer, RenameMovesValuesAndReplacesTarget) {
  auto p = must("headers: {rename: {X-Old: X-New, X-Absent: X-Other}}");
  Req r({{"x-old", "1"}, {"X-New", "stale"}, {"x-old", "2"}});
  run(*p, r);
  EXPECT_TRUE(r.all("X-Old").empty());
  EXPECT_EQ(r.all("X-New"), (std::vector<std::string>{"1", "2"}));
  EXPECT_TRUE(r.all("X-Other").empty());  // nothing to rename: nothing created
}

TEST(RequestTransformer, RenameCanFixCase) {
  auto p = must("headers: {rename: {x-api-version: X-API-Version}}");
  Req r({{"x-api-version", "3"}});
  run(*p, r);
  ASSERT_EQ(r.head.headers.size(), 1u);
  EXPECT_EQ(r.head.headers[0].name, "X-API-Version");
  EXPECT_EQ(r.head.headers[0].value, "3");
}

TEST(RequestTransformer, FixedOrderRemoveRenameSetAddAppend) {
  // Written in reverse; applied remove, rename, set, add, append.
  auto p = must(
      "headers: {append: {X-B: 'appended'}, add: {X-A: 'added', X-B: 'b-added'}, "
      "set: {X-C: 'set'}, rename: {X-C: X-B}, remove: [X-A]}");
  Req r({{"x-a", "client-a"}, {"x-c", "client-c"}});
  run(*p, r);
  EXPECT_EQ(r.all("X-A"), std::vector<std::string>{"added"});  // removed, then added
  // x-c renamed to X-B, then set X-C (new), add X-B skipped, append X-B.
  EXPECT_EQ(r.all("X-B"), (std::vector<std::string>{"client-c", "appended"}));
  EXPECT_EQ(r.all("X-C"), std::vector<std::string>{"set"});
}

TEST(RequestTransformer, HostOnlyWithSet) {
  auto p = must("headers: {set: {Host: internal.example}}");
  Req r({{"Host", "api.example.com"}});
  run(*p, r);
  EXPECT_EQ(r.all("host"), std::vector<std::string>{"internal.example"});
}

// ---------------------------------------------------------------- templates

TEST(RequestTransformer, TemplatesExpand) {
  auto p = must(
      "headers:\n"
      "  set: {X-Consumer: '$(consumer.name)', X-Route: '$(route.name)', X-Rid: 'r=$(request_id)',"
      "        X-Client: '$(client_ip)', X-Tenant: '$(header.x-tenant-id)', X-Q: '$(query.v)',"
      "        X-Plan: '$(var.plan)'}\n");
  Req r({{"X-Tenant-Id", "t-9"}}, "v=2");
  r.ctx.consumer = &r.consumer;
  r.ctx.vars["plan"] = "gold";
  run(*p, r);
  EXPECT_EQ(r.all("X-Consumer"), std::vector<std::string>{"alice"});
  EXPECT_EQ(r.all("X-Route"), std::vector<std::string>{"orders"});
  EXPECT_EQ(r.all("X-Rid"), std::vector<std::string>{"r=rid-42"});
  EXPECT_EQ(r.all("X-Client"), std::vector<std::string>{"10.1.2.3"});
  EXPECT_EQ(r.all("X-Tenant"), std::vector<std::string>{"t-9"});
  EXPECT_EQ(r.all("X-Q"), std::vector<std::string>{"2"});
  EXPECT_EQ(r.all("X-Plan"), std::vector<std::string>{"gold"});
}

TEST(RequestTransformer, AbsentValueSkipsAddAndSetRemovesSpoof) {
  auto p = must("headers: {set: {X-Consumer: '$(consumer.name)'}, add: {X-Plan: '$(var.plan)'}}");
  Req r({{"X-Consumer", "forged-admin"}, {"x-plan", "client"}});
  run(*p, r);  // anonymous request: no consumer
  EXPECT_TRUE(r.all("X-Consumer").empty());
  EXPECT_EQ(r.all("X-Plan"), std::vector<std::string>{"client"});
}

TEST(RequestTransformer, TemplatesSeeTheRequestAsItArrived) {
  auto p = must(
      "headers: {remove: [X-Token], rename: {X-Old: X-New}, "
      "set: {X-Copy: '$(header.x-old)', X-Had-Token: '$(header.x-token)'}}");
  Req r({{"x-old", "v"}, {"x-token", "t"}});
  run(*p, r);
  EXPECT_EQ(r.all("X-Copy"), std::vector<std::string>{"v"});
  EXPECT_EQ(r.all("X-Had-Token"), std::vector<std::string>{"t"});
  EXPECT_TRUE(r.all("X-Token").empty());
}

TEST(RequestTransformer, ExpandedControlCharactersDropTheHeader) {
  auto p = must("headers: {add: {X-Name: '$(query.name)'}, set: {X-Echo: '$(query.name)'}}");
  Req r({{"x-echo", "old"}}, "name=a%0D%0AX-Injected:%201");
  run(*p, r);
  EXPECT_TRUE(r.all("X-Name").empty());
  EXPECT_TRUE(r.all("X-Echo").empty());
  EXPECT_TRUE(r.all("X-Injected").empty());
  Req nul({}, "name=a%00b");
  run(*p, nul);
  EXPECT_TRUE(nul.all("X-Name").empty());
  Req ok({}, "name=a%09b%20c");  // HTAB and space are fine
  run(*p, ok);
  EXPECT_EQ(ok.all("X-Name"), std::vector<std::string>{"a\tb c"});
}

// -------------------------------------------------------------------- query

TEST(RequestTransformer, QueryOperations) {
  auto p = must(
      "query: {remove: [debug], rename: {q: search}, set: {page: '1'}, add: {lang: en, sort: asc},"
      "        append: {tag: x}}");
  Req r({}, "q=shoes&debug=1&page=7&page=8&sort=desc&tag=a");
  run(*p, r);
  EXPECT_TRUE(r.ctx.query_overridden);
  EXPECT_EQ(r.query(), "search=shoes&page=1&sort=desc&tag=a&lang=en&tag=x");
}

TEST(RequestTransformer, QueryValuesArePercentEncoded) {
  auto p = must("query: {set: {msg: 'a b&c=d/é+%', 'we ird': '$(header.x-v)'}}");
  Req r({{"x-v", "1;2"}});
  run(*p, r);
  EXPECT_EQ(r.query(), "msg=a%20b%26c%3Dd%2F%C3%A9%2B%25&we%20ird=1%3B2");
}

TEST(RequestTransformer, QueryUntouchedKeepsRawBytes) {
  auto p = must("query: {remove: [absent], add: {keep: x}}");
  Req r({}, "keep=%7e&x=a+b&&flag");
  run(*p, r);
  EXPECT_FALSE(r.ctx.query_overridden);  // nothing changed
  auto p2 = must("query: {remove: [x]}");
  run(*p2, r);
  EXPECT_EQ(r.query(), "keep=%7e&flag");  // other pairs byte for byte
}

TEST(RequestTransformer, QueryBuildsOnEarlierOverride) {
  auto p = must("query: {add: {v: '2'}}");
  Req r({}, "apikey=secret&a=1");
  r.ctx.query_override = "a=1";  // e.g. key-auth hid the key
  r.ctx.query_overridden = true;
  run(*p, r);
  EXPECT_EQ(r.query(), "a=1&v=2");
}

TEST(RequestTransformer, QueryFromEmptyAndSetWithAbsentValue) {
  auto p = must("query: {set: {user: '$(consumer.name)', v: '1'}}");
  Req r({}, "user=forged");
  run(*p, r);
  EXPECT_EQ(r.query(), "v=1");
  Req r2({});
  r2.ctx.consumer = &r2.consumer;
  run(*p, r2);
  EXPECT_EQ(r2.query(), "user=alice&v=1");
}

TEST(RequestTransformer, EmptyConfigChangesNothing) {
  auto p = must("");
  Req r({{"a", "b"}}, "x=1");
  run(*p, r);
  EXPECT_EQ(r.head.headers.size(), 1u);
  EXPECT_FALSE(r.ctx.query_overridden);
}

// ----------------------------------------------------------- config errors

TEST(RequestTransformerConfig, FramingAndHopByHopHeadersRejected) {
  struct Case {
    const char* yaml;
    const char* field;
    const char* says;
  } cases[] = {
      {"headers: {add: {Content-Length: '5'}}", "headers.add.Content-Length", "framing header"},
      {"headers: {set: {transfer-encoding: chunked}}", "headers.set.transfer-encoding",
       "framing header"},
      {"headers: {append: {Connection: close}}", "headers.append.Connection", "hop-by-hop"},
      {"headers: {remove: [X-A, Connection]}", "headers.remove[1]", "hop-by-hop"},
      {"headers: {rename: {X-Len: Content-Length}}", "headers.rename.X-Len", "framing header"},
      {"headers: {rename: {Upgrade: X-Up}}", "headers.rename.Upgrade", "hop-by-hop"},
      {"headers: {set: {Keep-Alive: 'timeout=5'}}", "headers.set.Keep-Alive", "hop-by-hop"},
      {"headers: {add: {TE: trailers}}", "headers.add.TE", "hop-by-hop"},
      {"headers: {add: {Expect: 100-continue}}", "headers.add.Expect", "100-continue"},
      {"headers: {set: {X-Request-Id: abc}}", "headers.set.X-Request-Id", "$(request_id)"},
      {"headers: {add: {Host: a.example}}", "headers.add.Host", "only be changed with 'set'"},
      {"headers: {remove: [host]}", "headers.remove[0]", "only be changed with 'set'"},
      {"headers: {rename: {Host: X-Host}}", "headers.rename.Host", "only be changed with 'set'"},
  };
  for (const auto& c : cases) {
    Error e = config_error(c.yaml);
    EXPECT_EQ(e.code, "forbidden_header") << c.yaml;
    EXPECT_EQ(e.field, std::string(kBase) + c.field) << c.yaml;
    EXPECT_NE(e.message.find(c.says), std::string::npos) << e.message;
  }
}

TEST(RequestTransformerConfig, BadValuesAndNames) {
  Error lf = config_error("headers: {set: {X-A: \"a\\nb\"}}");
  EXPECT_EQ(lf.code, "invalid_value");
  EXPECT_EQ(lf.field, std::string(kBase) + "headers.set.X-A");
  EXPECT_NE(lf.message.find("line feed"), std::string::npos) << lf.message;
  Error cr = config_error("headers: {add: {X-A: \"a\\rb$(request_id)\"}}");
  EXPECT_NE(cr.message.find("carriage return"), std::string::npos) << cr.message;
  Error nul = config_error("headers: {add: {X-A: \"a\\0b\"}}");
  EXPECT_NE(nul.message.find("NUL"), std::string::npos) << nul.message;
  Error name = config_error("headers: {add: {'X A': v}}");
  EXPECT_EQ(name.field, std::string(kBase) + "headers.add.X A");
  EXPECT_NE(name.message.find("not a valid header name"), std::string::npos);
  Error null_value = config_error("headers: {add: {X-A: }}");
  EXPECT_EQ(null_value.code, "invalid_type");
  Error tmpl = config_error("query: {add: {who: '$(consumer.id)'}}");
  EXPECT_EQ(tmpl.code, "invalid_template");
  EXPECT_EQ(tmpl.field, std::string(kBase) + "query.add.who");
}

TEST(RequestTransformerConfig, UnknownFieldsAndShapes) {
  EXPECT_EQ(config_error("header: {add: {X-A: '1'}}").code, "unknown_field");
  Error op = config_error("headers: {replace: {X-A: '1'}}");
  EXPECT_EQ(op.code, "unknown_field");
  EXPECT_EQ(op.field, std::string(kBase) + "headers.replace");
  EXPECT_EQ(config_error("headers: [X-A]").code, "invalid_type");
  EXPECT_EQ(config_error("headers: {add: [X-A]}").code, "invalid_type");
  EXPECT_EQ(config_error("headers: {rename: {X-A: [X-B]}}").code, "invalid_type");
  EXPECT_EQ(config_error("query: {remove: [{a: b}]}").field,
            std::string(kBase) + "query.remove[0]");
}

TEST(RequestTransformerConfig, QueryNamesAreFree) {
  // No header rules for query parameters: any non-empty name.
  EXPECT_TRUE(build("query: {set: {'Content-Length': '1', 'a b': '\\r'}}").ok());
  EXPECT_EQ(config_error("query: {add: {'': x}}").code, "invalid_value");
}

TEST(Edits, PercentEncode) {
  EXPECT_EQ(percent_encode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(percent_encode(" +&=#?/%"), "%20%2B%26%3D%23%3F%2F%25");
  EXPECT_EQ(percent_encode(std::string("\0\xff", 2)), "%00%FF");
}

}  // namespace
}  // namespace gatehouse::policy
