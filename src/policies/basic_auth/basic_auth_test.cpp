#include <gtest/gtest.h>

#include "policies/basic_auth/password.hpp"
#include "policies/basic_auth/verify_cache.hpp"
#include "policies/crypto.hpp"
#include "policies/policy.hpp"

namespace gatehouse::policy {
void register_basic_auth(Registry& r);
}

namespace gatehouse::policy {
namespace {

using config::ConsumerConfig;

// Low iteration count: the tests exercise logic, not PBKDF2's cost.
constexpr const char* kFast = "pbkdf2_iterations: 1000\n";
// python3: hashlib.pbkdf2_hmac('sha256', b'correct horse', b'NaCl-salt-16byte', 1000)
constexpr const char* kBobHash =
    "pbkdf2-sha256$1000$TmFDbC1zYWx0LTE2Ynl0ZQ==$P9ie5W1CBV7fO0gFVTJFaCJVtGVq/TRjtFlDXxH4lso=";

ConsumerConfig consumer(std::string name, std::vector<std::map<std::string, std::string>> creds) {
  ConsumerConfig c;
  c.name = std::move(name);
  c.credentials = std::move(creds);
  return c;
}

std::vector<ConsumerConfig> default_consumers() {
  return {
      consumer("alice", {{{"type", "basic-auth"}, {"username", "alice"}, {"password", "s3cret"}},
                         {{"type", "key-auth"}, {"key", "alice-key"}}}),
      consumer("bob", {{{"type", "basic-auth"}, {"username", "bob"}, {"password_hash", kBobHash}}}),
      consumer("carol",
               {{{"type", "basic-auth"}, {"username", "carol"}, {"password", "pa:ss:wörd"}}}),
      consumer("guest", {}),
  };
}

struct Fixture {
  std::shared_ptr<const ConsumerSet> consumers;
  std::shared_ptr<const Policy> policy;
  Error error;
};

Fixture make(const std::string& yaml, std::vector<ConsumerConfig> cs = default_consumers(),
             size_t workers = 2) {
  register_basic_auth(Registry::instance());
  Fixture f;
  auto set = build_consumers(cs);
  EXPECT_TRUE(set.ok());
  f.consumers = set.value();
  BuildContext b;
  b.consumers = f.consumers.get();
  b.workers = workers;
  b.field = "routes[0].policies[0]";
  config::PolicyRef ref;
  ref.name = "basic-auth";
  ref.config_yaml = yaml;
  auto p = compile(ref, b);
  if (p)
    f.policy = p.value();
  else
    f.error = p.error();
  return f;
}

struct Req {
  http1::RequestHead head;
  http1::NormalizedTarget target;
  RequestContext ctx;
  Respond out;

  Req(const Fixture& f, std::vector<http1::Header> headers, size_t worker = 0) {
    head.method = "GET";
    head.target = "/orders";
    head.headers = std::move(headers);
    head.headers.push_back({"Host", "api.test"});
    target.path = "/orders";
    ctx.head = &head;
    ctx.target = &target;
    ctx.consumers = f.consumers.get();
    ctx.worker = worker;
  }
  Action run(const Fixture& f) { return f.policy->on_request(ctx, out); }
  bool has_header(std::string_view n) const { return head.find(n) != nullptr; }
};

std::string basic(std::string_view user_pass) {
  return "Basic " + base64_encode(user_pass);
}

const std::string* find_header(const std::vector<http1::Header>& hs, std::string_view n) {
  for (const auto& h : hs)
    if (h.name == n) return &h.value;
  return nullptr;
}

TEST(BasicAuth, PlaintextPasswordAuthenticatesAndHidesHeader) {
  auto f = make(kFast);
  ASSERT_TRUE(f.policy) << f.error.message;
  EXPECT_EQ(f.policy->name(), "basic-auth");
  EXPECT_EQ(f.policy->phase(), Phase::kAuthn);
  Req r(f, {{"Authorization", basic("alice:s3cret")}});
  ASSERT_EQ(r.run(f), Action::kContinue) << r.out.code;
  ASSERT_TRUE(r.ctx.consumer);
  EXPECT_EQ(r.ctx.consumer->name, "alice");
  EXPECT_EQ(r.ctx.credential_id, "basic-auth:alice");
  EXPECT_FALSE(r.has_header("Authorization"));
  EXPECT_TRUE(r.has_header("Host"));
}

TEST(BasicAuth, PasswordHashFromPythonVerifies) {
  auto f = make(kFast);
  ASSERT_TRUE(f.policy) << f.error.message;
  Req r(f, {{"authorization", basic("bob:correct horse")}});
  ASSERT_EQ(r.run(f), Action::kContinue) << r.out.code;
  EXPECT_EQ(r.ctx.consumer->name, "bob");
  Req bad(f, {{"Authorization", basic("bob:correct horsE")}});
  EXPECT_EQ(bad.run(f), Action::kRespond);
  EXPECT_EQ(bad.out.code, "invalid_credentials");
}

TEST(BasicAuth, PasswordMayContainColonsAndUtf8) {
  auto f = make(kFast);
  Req r(f, {{"Authorization", basic("carol:pa:ss:wörd")}});
  ASSERT_EQ(r.run(f), Action::kContinue) << r.out.code;
  EXPECT_EQ(r.ctx.consumer->name, "carol");
}

TEST(BasicAuth, SchemeIsCaseInsensitive) {
  auto f = make(kFast);
  Req r(f, {{"Authorization", "bAsIc   " + base64_encode("alice:s3cret") + " "}});
  EXPECT_EQ(r.run(f), Action::kContinue) << r.out.code;
}

TEST(BasicAuth, KeepsHeaderWhenNotHiding) {
  auto f = make(std::string(kFast) + "hide_credentials: false\n");
  Req r(f, {{"Authorization", basic("alice:s3cret")}});
  ASSERT_EQ(r.run(f), Action::kContinue);
  EXPECT_TRUE(r.has_header("Authorization"));
}

TEST(BasicAuth, MissingCredentials) {
  auto f = make(kFast);
  for (auto headers :
       std::vector<std::vector<http1::Header>>{{},
                                               {{"Authorization", "Bearer abc.def.ghi"}},
                                               {{"Authorization", "Basic"}},
                                               {{"Authorization", "Basicabc"}}}) {
    Req r(f, headers);
    ASSERT_EQ(r.run(f), Action::kRespond);
    EXPECT_EQ(r.out.status, 401);
    EXPECT_EQ(r.out.code, "missing_credentials");
    const std::string* www = find_header(r.out.headers, "WWW-Authenticate");
    ASSERT_TRUE(www);
    EXPECT_EQ(*www, "Basic realm=\"gatehouse\", charset=\"UTF-8\"");
    EXPECT_EQ(r.ctx.consumer, nullptr);
  }
}

TEST(BasicAuth, InvalidCredentials) {
  auto f = make(kFast);
  for (std::string v :
       {basic("alice:wrong"), basic("mallory:s3cret"), basic("alice"), basic(":s3cret"),
        basic("alice:"), std::string("Basic !!!notbase64"), basic("ALICE:s3cret")}) {
    Req r(f, {{"Authorization", v}});
    ASSERT_EQ(r.run(f), Action::kRespond) << v;
    EXPECT_EQ(r.out.status, 401);
    EXPECT_EQ(r.out.code, "invalid_credentials") << v;
    EXPECT_TRUE(find_header(r.out.headers, "WWW-Authenticate"));
    EXPECT_TRUE(r.has_header("Authorization"));  // untouched on failure
  }
}

TEST(BasicAuth, CustomRealm) {
  auto f = make(std::string(kFast) + "realm: internal api\n");
  Req r(f, {});
  ASSERT_EQ(r.run(f), Action::kRespond);
  EXPECT_EQ(*find_header(r.out.headers, "WWW-Authenticate"),
            "Basic realm=\"internal api\", charset=\"UTF-8\"");
}

TEST(BasicAuth, AnonymousOnlyWhenNothingIsSent) {
  auto f = make(std::string(kFast) + "anonymous: guest\n");
  Req none(f, {});
  ASSERT_EQ(none.run(f), Action::kContinue);
  EXPECT_EQ(none.ctx.consumer->name, "guest");
  Req wrong(f, {{"Authorization", basic("alice:nope")}});
  ASSERT_EQ(wrong.run(f), Action::kRespond);
  EXPECT_EQ(wrong.out.code, "invalid_credentials");
}

TEST(BasicAuth, EarlierAuthenticatorWins) {
  auto f = make(kFast);
  Req r(f, {{"Authorization", basic("alice:wrong")}});
  r.ctx.consumer = f.consumers->find("bob");
  r.ctx.credential_id = "key-auth:0123";
  EXPECT_EQ(r.run(f), Action::kContinue);
  EXPECT_EQ(r.ctx.consumer->name, "bob");
  EXPECT_TRUE(r.has_header("Authorization"));
}

TEST(BasicAuth, EarlierAnonymousFallbackDoesNotStopUs) {
  auto f = make(kFast);
  Req r(f, {{"Authorization", basic("alice:s3cret")}});
  r.ctx.consumer = f.consumers->find("guest");  // another method's anonymous: no credential
  ASSERT_EQ(r.run(f), Action::kContinue);
  EXPECT_EQ(r.ctx.consumer->name, "alice");
  Req none(f, {});
  none.ctx.consumer = f.consumers->find("guest");
  EXPECT_EQ(none.run(f), Action::kRespond);  // this method has no anonymous of its own
  EXPECT_EQ(none.out.code, "missing_credentials");
  EXPECT_EQ(none.ctx.consumer, nullptr);  // a rejected request is not guest in the log
}

TEST(BasicAuth, RepeatRequestsAndWorkerSlots) {
  auto f = make(kFast, default_consumers(), 2);
  for (size_t worker : {0, 0, 1, 1, 7 /* no slot: still verifies, uncached */}) {
    Req r(f, {{"Authorization", basic("alice:s3cret")}}, worker);
    ASSERT_EQ(r.run(f), Action::kContinue) << worker;
    EXPECT_EQ(r.ctx.consumer->name, "alice");
  }
  // A cached success must not make a different password pass.
  Req wrong(f, {{"Authorization", basic("alice:s3cret2")}});
  EXPECT_EQ(wrong.run(f), Action::kRespond);
}

TEST(BasicAuth, CacheDisabled) {
  auto f = make(std::string(kFast) + "cache_size: 0\n");
  ASSERT_TRUE(f.policy) << f.error.message;
  for (int i = 0; i < 2; ++i) {
    Req r(f, {{"Authorization", basic("alice:s3cret")}});
    EXPECT_EQ(r.run(f), Action::kContinue);
  }
}

TEST(BasicAuth, ConfigErrors) {
  struct Case {
    std::string yaml;
    std::string field;
    std::string code;
  };
  for (const auto& c : std::vector<Case>{
           {"hide_credential: true\n", "routes[0].policies[0].config.hide_credential",
            "unknown_field"},
           {"pbkdf2_iterations: 10\n", "routes[0].policies[0].config.pbkdf2_iterations",
            "invalid_value"},
           {"pbkdf2_iterations: lots\n", "routes[0].policies[0].config.pbkdf2_iterations",
            "invalid_type"},
           {"hide_credentials: maybe\n", "routes[0].policies[0].config.hide_credentials",
            "invalid_type"},
           {"anonymous: nobody\n", "routes[0].policies[0].config.anonymous", "unknown_consumer"},
           {"realm: 'a\"b'\n", "routes[0].policies[0].config.realm", "invalid_value"},
           {"cache_size: -1\n", "routes[0].policies[0].config.cache_size", "invalid_value"},
           {"[1, 2]\n", "routes[0].policies[0].config", "invalid_type"},
       }) {
    auto f = make(c.yaml);
    ASSERT_FALSE(f.policy) << c.yaml;
    EXPECT_EQ(f.error.field, c.field) << c.yaml;
    EXPECT_EQ(f.error.code, c.code) << c.yaml;
  }
}

TEST(BasicAuth, CredentialErrors) {
  using Cred = std::map<std::string, std::string>;
  struct Case {
    std::vector<ConsumerConfig> consumers;
    std::string field;
    std::string code;
  };
  for (const auto& c : std::vector<Case>{
           {{consumer("a", {Cred{{"type", "basic-auth"}, {"username", "a"}, {"pasword", "x"}}})},
            "consumers[0].credentials[0].pasword",
            "unknown_field"},
           {{consumer("a", {Cred{{"type", "basic-auth"}, {"password", "x"}}})},
            "consumers[0].credentials[0].username",
            "missing_field"},
           {{consumer("a", {Cred{{"type", "basic-auth"}, {"username", "a:b"}, {"password", "x"}}})},
            "consumers[0].credentials[0].username",
            "invalid_value"},
           {{consumer("a", {Cred{{"type", "basic-auth"}, {"username", "a"}}})},
            "consumers[0].credentials[0]",
            "invalid_value"},
           {{consumer("a", {Cred{{"type", "basic-auth"},
                                 {"username", "a"},
                                 {"password", "x"},
                                 {"password_hash", kBobHash}}})},
            "consumers[0].credentials[0]",
            "invalid_value"},
           {{consumer("a", {Cred{{"type", "basic-auth"},
                                 {"username", "a"},
                                 {"password_hash", "sha256$abc"}}})},
            "consumers[0].credentials[0].password_hash",
            "invalid_value"},
           {{consumer("a", {Cred{{"type", "basic-auth"}, {"username", "a"}, {"password", "x"}}}),
             consumer("b", {Cred{{"type", "key-auth"}, {"key", "k"}},
                            Cred{{"type", "basic-auth"}, {"username", "a"}, {"password", "y"}}})},
            "consumers[1].credentials[1].username",
            "duplicate_credential"},
       }) {
    auto f = make(kFast, c.consumers);
    ASSERT_FALSE(f.policy) << c.field;
    EXPECT_EQ(f.error.field, c.field);
    EXPECT_EQ(f.error.code, c.code);
  }
}

TEST(BasicAuthPassword, ParseErrors) {
  for (const char* bad : {"", "pbkdf2-sha256$1000$c2FsdHNhbHQ=",
                          "pbkdf2-sha1$1000$c2FsdHNhbHQ=$"
                          "AAAAAAAAAAAAAAAAAAAAAA==",
                          "pbkdf2-sha256$10$c2FsdHNhbHQ=$AAAAAAAAAAAAAAAAAAAAAA==",
                          "pbkdf2-sha256$1e4$c2FsdHNhbHQ=$AAAAAAAAAAAAAAAAAAAAAA==",
                          "pbkdf2-sha256$1000$c2Fs$AAAAAAAAAAAAAAAAAAAAAA==",  // salt too short
                          "pbkdf2-sha256$1000$c2FsdHNhbHQ=$AAAA",              // hash too short
                          "pbkdf2-sha256$1000$c2FsdHNhbHQ=$!!!!AAAAAAAAAAAAAAAAAA==",  // not base64
                          "pbkdf2-sha256$1000$c2FsdHNhbHQ=$AAAAAAAAAAAAAAAAAAAAAA==$x"}) {
    auto r = basic_auth::parse_password_hash(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
}

TEST(BasicAuthPassword, RoundTripAndVerify) {
  auto made = basic_auth::hash_password("hunter2", 1000);
  ASSERT_TRUE(made.ok());
  EXPECT_EQ(made->salt.size(), basic_auth::kSaltBytes);
  auto again = basic_auth::parse_password_hash(basic_auth::format_password_hash(*made));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->salt, made->salt);
  EXPECT_EQ(again->hash, made->hash);
  EXPECT_TRUE(basic_auth::verify_password(*again, "hunter2"));
  EXPECT_FALSE(basic_auth::verify_password(*again, "hunter3"));
  EXPECT_FALSE(basic_auth::verify_password(*again, ""));
  // Two records of one password differ (random salt).
  auto other = basic_auth::hash_password("hunter2", 1000);
  EXPECT_NE(other->hash, made->hash);
}

TEST(BasicAuthCache, BoundedPerWorkerWithPromotion) {
  basic_auth::VerifyCache<int> c(2, 4);  // two generations of two entries
  c.insert(0, "a", 1);
  c.insert(0, "b", 2);
  c.insert(0, "c", 3);  // young {a,b} becomes old; young {c}
  EXPECT_EQ(c.size(0), 3u);
  ASSERT_TRUE(c.find(0, "a"));  // promoted into young {c,a}
  EXPECT_EQ(*c.find(0, "a"), 1);
  c.insert(0, "d", 4);  // young {c,a} becomes old (b dropped); young {d}
  EXPECT_FALSE(c.find(0, "b"));
  EXPECT_TRUE(c.find(0, "a"));
  EXPECT_LE(c.size(0), 4u);
  EXPECT_EQ(c.size(1), 0u);  // worker 1 has its own slot
  EXPECT_FALSE(c.find(1, "a"));
  c.insert(5, "x", 1);  // out of range: ignored
  EXPECT_FALSE(c.find(5, "x"));
  for (int i = 0; i < 100; ++i) c.insert(1, std::to_string(i), i);
  EXPECT_LE(c.size(1), 4u);
}

TEST(BasicAuthCache, ZeroCapacityDisables) {
  basic_auth::VerifyCache<int> c(2, 0);
  c.insert(0, "a", 1);
  EXPECT_FALSE(c.find(0, "a"));
}

}  // namespace
}  // namespace gatehouse::policy
