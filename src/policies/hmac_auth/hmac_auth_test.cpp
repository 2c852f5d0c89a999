#include <gtest/gtest.h>
#include <openssl/hmac.h>

#include <chrono>
#include <ctime>

#include "policies/crypto.hpp"
#include "policies/hmac_auth/signature.hpp"
#include "policies/policy.hpp"

namespace gatehouse::policy {
void register_hmac_auth(Registry& r);
}

namespace gatehouse::policy {
namespace {

using config::ConsumerConfig;

ConsumerConfig consumer(std::string name, std::vector<std::map<std::string, std::string>> creds) {
  ConsumerConfig c;
  c.name = std::move(name);
  c.credentials = std::move(creds);
  return c;
}

std::vector<ConsumerConfig> default_consumers() {
  return {
      consumer("alice",
               {{{"type", "hmac-auth"}, {"username", "alice"}, {"secret", "alice-secret"}}}),
      consumer("bob", {{{"type", "hmac-auth"}, {"username", "bob"}, {"secret", "bob-secret"}}}),
      consumer("guest", {}),
  };
}

struct Fixture {
  std::shared_ptr<const ConsumerSet> consumers;
  std::shared_ptr<const Policy> policy;
  Error error;
};

Fixture make(const std::string& yaml, std::vector<ConsumerConfig> cs = default_consumers()) {
  register_hmac_auth(Registry::instance());
  Fixture f;
  auto set = build_consumers(cs);
  EXPECT_TRUE(set.ok());
  f.consumers = set.value();
  BuildContext b;
  b.consumers = f.consumers.get();
  b.field = "policies[0]";
  config::PolicyRef ref;
  ref.name = "hmac-auth";
  ref.config_yaml = yaml;
  auto p = compile(ref, b);
  if (p)
    f.policy = p.value();
  else
    f.error = p.error();
  return f;
}

std::string http_date(int64_t offset_s = 0) {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()) +
                  static_cast<std::time_t>(offset_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

std::string sign(const EVP_MD* md, std::string_view secret, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(md, secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return base64_encode(std::string_view(reinterpret_cast<char*>(out), len));
}

struct Req {
  http1::RequestHead head;
  http1::NormalizedTarget target;
  RequestContext ctx;
  Respond out;

  explicit Req(const Fixture& f, std::vector<http1::Header> headers = {},
               std::string raw_target = "/orders/7?x=1") {
    head.method = "POST";
    head.target = std::move(raw_target);
    head.headers = {{"Host", "api.test"}};
    for (auto& h : headers) head.headers.push_back(std::move(h));
    target.path = "/orders/7";
    ctx.head = &head;
    ctx.target = &target;
    ctx.consumers = f.consumers.get();
  }
  // Signs this request as a client would, and adds the Authorization header.
  Req& signed_as(const std::string& user, const std::string& secret,
                 const std::string& headers = "date request-line x-foo",
                 const std::string& algorithm = "hmac-sha256", const EVP_MD* md = EVP_sha256()) {
    std::string text;
    size_t start = 0;
    bool first = true;
    while (start <= headers.size()) {
      size_t sp = headers.find(' ', start);
      std::string name = headers.substr(start, sp == std::string::npos ? sp : sp - start);
      start = sp == std::string::npos ? headers.size() + 1 : sp + 1;
      if (name.empty()) continue;
      if (!first) text += "\n";
      first = false;
      if (name == "request-line") {
        text += head.method + " " + head.target + " HTTP/1.1";
      } else {
        const std::string* v = head.find(name);
        text += name + ": " + (v ? *v : "");
      }
    }
    head.headers.push_back({"Authorization", "hmac username=\"" + user + "\", algorithm=\"" +
                                                 algorithm + "\", headers=\"" + headers +
                                                 "\", signature=\"" + sign(md, secret, text) +
                                                 "\""});
    return *this;
  }
  Action run(const Fixture& f) { return f.policy->on_request(ctx, out); }
  const std::string* header(std::string_view n) const { return head.find(n); }
};

void expect_invalid(Req& r, const Fixture& f, const std::string& reason) {
  ASSERT_EQ(r.run(f), Action::kRespond) << reason;
  EXPECT_EQ(r.out.status, 401);
  EXPECT_EQ(r.out.code, "invalid_credentials");
  EXPECT_EQ(r.out.detail.substr(0, reason.size() + 1), reason + ":") << r.out.detail;
  ASSERT_EQ(r.out.headers.size(), 1u);
  EXPECT_EQ(r.out.headers[0].name, "WWW-Authenticate");
  EXPECT_EQ(r.ctx.consumer, nullptr);
}

TEST(HmacAuth, ValidSignatureAuthenticatesAndHidesHeader) {
  auto f = make("");
  ASSERT_TRUE(f.policy) << f.error.message;
  EXPECT_EQ(f.policy->name(), "hmac-auth");
  EXPECT_EQ(f.policy->phase(), Phase::kAuthn);
  Req r(f, {{"Date", http_date()}, {"X-Foo", "bar"}});
  r.signed_as("alice", "alice-secret");
  ASSERT_EQ(r.run(f), Action::kContinue) << r.out.detail;
  EXPECT_EQ(r.ctx.consumer->name, "alice");
  EXPECT_EQ(r.ctx.credential_id, "hmac-auth:alice");
  EXPECT_FALSE(r.header("Authorization"));
  EXPECT_TRUE(r.header("Date"));
}

TEST(HmacAuth, Algorithms) {
  auto f = make("");
  for (auto [name, md] : {std::pair{"hmac-sha384", EVP_sha384()},
                          {"hmac-sha512", EVP_sha512()},
                          {"HMAC-SHA256", EVP_sha256()}}) {
    Req r(f, {{"Date", http_date()}});
    r.signed_as("bob", "bob-secret", "date", name, md);
    ASSERT_EQ(r.run(f), Action::kContinue) << name << r.out.detail;
    EXPECT_EQ(r.ctx.consumer->name, "bob");
  }
  Req sha1(f, {{"Date", http_date()}});
  sha1.signed_as("bob", "bob-secret", "date", "hmac-sha1", EVP_sha1());
  expect_invalid(sha1, f, "unsupported_algorithm");
  Req md5(f, {{"Date", http_date()}});
  md5.signed_as("bob", "bob-secret", "date", "hmac-md5", EVP_md5());
  expect_invalid(md5, f, "unsupported_algorithm");

  auto legacy = make("algorithms: [hmac-sha1]\n");
  Req ok(legacy, {{"Date", http_date()}});
  ok.signed_as("bob", "bob-secret", "date", "hmac-sha1", EVP_sha1());
  EXPECT_EQ(ok.run(legacy), Action::kContinue) << ok.out.detail;
  Req sha256(legacy, {{"Date", http_date()}});
  sha256.signed_as("bob", "bob-secret", "date");
  expect_invalid(sha256, legacy, "unsupported_algorithm");
}

TEST(HmacAuth, XDateAndDefaultHeaders) {
  auto f = make("");
  Req x(f, {{"X-Date", http_date()}, {"Date", "garbage"}});
  x.signed_as("alice", "alice-secret", "x-date request-line");
  EXPECT_EQ(x.run(f), Action::kContinue) << x.out.detail;
  // No headers parameter: the signature covers "date" alone.
  Req d(f, {{"Date", http_date()}});
  std::string sig = sign(EVP_sha256(), "alice-secret", "date: " + *d.head.find("Date"));
  d.head.headers.push_back(
      {"Authorization", "HMAC username=alice, algorithm=hmac-sha256, signature=\"" + sig + "\""});
  EXPECT_EQ(d.run(f), Action::kContinue) << d.out.detail;
}

TEST(HmacAuth, RepeatedHeadersAreCombined) {
  auto f = make("");
  Req r(f, {{"Date", http_date()}, {"X-Foo", "a"}, {"x-foo", "b"}});
  std::string text = "date: " + *r.head.find("Date") + "\nx-foo: a, b";
  r.head.headers.push_back({"Authorization",
                            "hmac username=\"alice\", algorithm=\"hmac-sha256\", "
                            "headers=\"date x-foo\", signature=\"" +
                                sign(EVP_sha256(), "alice-secret", text) + "\""});
  EXPECT_EQ(r.run(f), Action::kContinue) << r.out.detail;
}

TEST(HmacAuth, MissingCredentialsAndAnonymous) {
  auto f = make("realm: partners\n");
  for (auto headers : std::vector<std::vector<http1::Header>>{
           {}, {{"Authorization", "Bearer abc"}}, {{"Authorization", "hmacfoo"}}}) {
    Req r(f, headers);
    ASSERT_EQ(r.run(f), Action::kRespond);
    EXPECT_EQ(r.out.status, 401);
    EXPECT_EQ(r.out.code, "missing_credentials");
    ASSERT_EQ(r.out.headers.size(), 1u);
    EXPECT_EQ(r.out.headers[0].value, "hmac realm=\"partners\"");
  }
  auto anon = make("anonymous: guest\n");
  Req none(anon, {});
  ASSERT_EQ(none.run(anon), Action::kContinue);
  EXPECT_EQ(none.ctx.consumer->name, "guest");
  Req bad(anon, {{"Date", http_date()}});
  bad.signed_as("alice", "wrong", "date");
  expect_invalid(bad, anon, "bad_signature");
}

TEST(HmacAuth, InvalidRequests) {
  auto f = make("enforce_headers: [request-line]\n");
  ASSERT_TRUE(f.policy) << f.error.message;
  auto with = [&](std::vector<http1::Header> hs) { return Req(f, std::move(hs)); };
  {
    Req r = with({{"Date", http_date()}, {"Authorization", "hmac username=\"alice\""}});
    expect_invalid(r, f, "malformed");
  }
  {
    Req r = with({{"Date", http_date()},
                  {"Authorization",
                   "hmac username=\"a\", username=\"b\", algorithm=\"hmac-sha256\", "
                   "signature=\"eA==\""}});
    expect_invalid(r, f, "malformed");
  }
  {
    Req r = with({{"Authorization", "hmac username=\"alice, algorithm=\"hmac-sha256\""}});
    expect_invalid(r, f, "malformed");
  }
  {
    Req r = with({{"Date", http_date()}});
    r.signed_as("alice", "alice-secret", "date");  // request-line is enforced
    expect_invalid(r, f, "header_not_signed");
  }
  {
    Req r = with({{"Date", http_date()}});
    r.signed_as("alice", "alice-secret", "request-line");  // no date signed
    expect_invalid(r, f, "header_not_signed");
  }
  {
    Req r = with({});
    r.signed_as("alice", "alice-secret", "date request-line");
    expect_invalid(r, f, "missing_header");
  }
  {
    Req r = with({{"Date", http_date()}});
    r.signed_as("alice", "alice-secret", "date request-line x-absent");
    expect_invalid(r, f, "missing_header");
  }
  {
    Req r = with({{"Date", "yesterday"}});
    r.signed_as("alice", "alice-secret", "date request-line");
    expect_invalid(r, f, "bad_date");
  }
  for (int64_t off : {-301, 301, -86400}) {
    Req r = with({{"Date", http_date(off)}});
    r.signed_as("alice", "alice-secret", "date request-line");
    expect_invalid(r, f, "clock_skew");
  }
  {
    Req r = with({{"Date", http_date(-200)}});  // within the default 300s
    r.signed_as("alice", "alice-secret", "date request-line");
    EXPECT_EQ(r.run(f), Action::kContinue) << r.out.detail;
  }
  {
    Req r = with({{"Date", http_date()}});
    r.signed_as("alice", "bob-secret", "date request-line");
    expect_invalid(r, f, "bad_signature");
  }
  {
    Req r = with({{"Date", http_date()}});
    r.signed_as("mallory", "alice-secret", "date request-line");
    expect_invalid(r, f, "bad_signature");
  }
  {
    Req r = with({{"Date", http_date()}});
    r.signed_as("alice", "alice-secret", "date request-line");
    r.head.target = "/orders/8?x=1";  // the request line changed after signing
    expect_invalid(r, f, "bad_signature");
  }
  {
    Req r = with({{"Date", http_date()},
                  {"Authorization",
                   "hmac username=\"alice\", algorithm=\"hmac-sha256\", "
                   "headers=\"date request-line\", signature=\"!!!\""}});
    expect_invalid(r, f, "bad_signature");
  }
}

TEST(HmacAuth, TighterClockSkew) {
  auto f = make("clock_skew: 10s\n");
  Req r(f, {{"Date", http_date(-30)}});
  r.signed_as("alice", "alice-secret", "date");
  expect_invalid(r, f, "clock_skew");
}

TEST(HmacAuth, KeepsHeaderWhenNotHidingAndEarlierWins) {
  auto f = make("hide_credentials: false\n");
  Req r(f, {{"Date", http_date()}});
  r.signed_as("alice", "alice-secret", "date");
  ASSERT_EQ(r.run(f), Action::kContinue);
  EXPECT_TRUE(r.header("Authorization"));
  Req e(f, {{"Authorization", "hmac garbage"}});
  e.ctx.consumer = f.consumers->find("bob");
  e.ctx.credential_id = "jwt:bob-key";
  EXPECT_EQ(e.run(f), Action::kContinue);
  EXPECT_EQ(e.ctx.consumer->name, "bob");
  Req anon(f, {{"Date", http_date()}});  // an earlier anonymous fallback is overridden
  anon.signed_as("alice", "alice-secret", "date");
  anon.ctx.consumer = f.consumers->find("guest");
  ASSERT_EQ(anon.run(f), Action::kContinue) << anon.out.detail;
  EXPECT_EQ(anon.ctx.consumer->name, "alice");
}

TEST(HmacAuth, ConfigErrors) {
  struct Case {
    std::string yaml;
    std::string field;
    std::string code;
  };
  for (const auto& c : std::vector<Case>{
           {"clock_skw: 5s\n", "policies[0].config.clock_skw", "unknown_field"},
           {"clock_skew: 0s\n", "policies[0].config.clock_skew", "invalid_value"},
           {"clock_skew: later\n", "policies[0].config.clock_skew", "invalid_value"},
           {"algorithms: [hmac-md5]\n", "policies[0].config.algorithms", "invalid_value"},
           {"algorithms: []\n", "policies[0].config.algorithms", "invalid_value"},
           {"enforce_headers: {a: b}\n", "policies[0].config.enforce_headers", "invalid_type"},
           {"enforce_headers: ['x y']\n", "policies[0].config.enforce_headers", "invalid_value"},
           {"anonymous: nobody\n", "policies[0].config.anonymous", "unknown_consumer"},
           {"realm: \"a\\\\b\"\n", "policies[0].config.realm", "invalid_value"},
       }) {
    auto f = make(c.yaml);
    ASSERT_FALSE(f.policy) << c.yaml;
    EXPECT_EQ(f.error.field, c.field) << c.yaml << f.error.message;
    EXPECT_EQ(f.error.code, c.code) << c.yaml << f.error.message;
  }
  using Cred = std::map<std::string, std::string>;
  struct CredCase {
    Cred cred;
    std::string field;
    std::string code;
  };
  for (const auto& c : std::vector<CredCase>{
           {{{"type", "hmac-auth"}, {"secret", "s"}},
            "consumers[2].credentials[0].username",
            "missing_field"},
           {{{"type", "hmac-auth"}, {"username", "g"}},
            "consumers[2].credentials[0].secret",
            "missing_field"},
           {{{"type", "hmac-auth"}, {"username", "g"}, {"secret", "s"}, {"algorithm", "x"}},
            "consumers[2].credentials[0].algorithm",
            "unknown_field"},
           {{{"type", "hmac-auth"}, {"username", "alice"}, {"secret", "s"}},
            "consumers[2].credentials[0].username",
            "duplicate_credential"},
       }) {
    auto cs = default_consumers();
    cs[2].credentials = {c.cred};
    auto f = make("", cs);
    ASSERT_FALSE(f.policy) << c.field;
    EXPECT_EQ(f.error.field, c.field) << f.error.message;
    EXPECT_EQ(f.error.code, c.code) << f.error.message;
  }
}

TEST(HmacAuthSignature, ParsesParameters) {
  hmac_auth::SignatureParams p;
  std::string why;
  ASSERT_TRUE(hmac_auth::parse_authorization(
      "Hmac  username=\"al\\\"ice\" ,algorithm=hmac-sha512, keyId=\"ignored\", "
      "headers=\"date  request-line\",signature=\"c2ln\"",
      p, why))
      << why;
  EXPECT_EQ(p.username, "al\"ice");
  EXPECT_EQ(p.algorithm, "hmac-sha512");
  EXPECT_EQ(p.headers, (std::vector<std::string>{"date", "request-line"}));
  EXPECT_EQ(p.signature, "c2ln");
  EXPECT_FALSE(hmac_auth::is_hmac_scheme("Basic abc"));
  EXPECT_TRUE(hmac_auth::is_hmac_scheme("HMAC x"));
  for (const char* bad : {"hmac ", "hmac username=\"a\" algorithm=\"b\"", "hmac =x",
                          "hmac username=\"a\", algorithm=\"b\"", "Bearer x"}) {
    hmac_auth::SignatureParams q;
    EXPECT_FALSE(hmac_auth::parse_authorization(bad, q, why)) << bad;
  }
}

TEST(HmacAuthSignature, SigningString) {
  http1::RequestHead h;
  h.method = "GET";
  h.target = "/a%20b?q=1";
  h.version_minor = 0;
  h.headers = {{"Date", "D"}, {"X-A", "1"}};
  std::string out, missing;
  ASSERT_TRUE(hmac_auth::signing_string(h, {"Date", "request-line", "x-a"}, out, missing));
  EXPECT_EQ(out, "Date: D\nGET /a%20b?q=1 HTTP/1.0\nx-a: 1");
  EXPECT_FALSE(hmac_auth::signing_string(h, {"date", "x-b"}, out, missing));
  EXPECT_EQ(missing, "x-b");
}

TEST(HmacAuthSignature, HttpDate) {
  EXPECT_EQ(hmac_auth::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(hmac_auth::parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
  EXPECT_EQ(hmac_auth::parse_http_date("Tue, 29 Feb 2028 23:59:59 GMT"), 1835481599);
  for (const char* bad : {"", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
                          "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 6 Nov 1994 08:49:37 GMT",
                          "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
                          "Xyz, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 19a4 08:49:37 GMT"}) {
    EXPECT_FALSE(hmac_auth::parse_http_date(bad)) << bad;
  }
}

}  // namespace
}  // namespace gatehouse::policy
