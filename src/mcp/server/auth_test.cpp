#include "mcp/server/auth.hpp"

#include <gtest/gtest.h>

namespace gatehouse::mcp::auth {
namespace {

config::McpAuthorizationConfig cfg() {
  config::McpAuthorizationConfig a;
  a.resource = "https://gw.example.com/mcp";
  a.authorization_servers = {"https://idp.example.com"};
  a.scopes = {"mcp:tools"};
  return a;
}

TEST(McpAuth, MetadataUrlInsertsTheWellKnownSegment) {
  EXPECT_EQ(metadata_path("https://gw.example.com/mcp"), "/.well-known/oauth-protected-resource/mcp");
  EXPECT_EQ(metadata_path("https://gw.example.com/a/b/"),
            "/.well-known/oauth-protected-resource/a/b");
  EXPECT_EQ(metadata_path("http://127.0.0.1:8080"), "/.well-known/oauth-protected-resource");
  EXPECT_EQ(metadata_url("http://127.0.0.1:8080/mcp"),
            "http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp");
}

TEST(McpAuth, MetadataDocument) {
  auto a = cfg();
  EXPECT_EQ(metadata_document(a),
            R"({"resource":"https://gw.example.com/mcp","authorization_servers":)"
            R"(["https://idp.example.com"],"bearer_methods_supported":["header"],)"
            R"("scopes_supported":["mcp:tools"]})");
  a.scopes_supported = {"mcp:tools", "mcp:admin"};
  EXPECT_NE(metadata_document(a).find(R"("scopes_supported":["mcp:tools","mcp:admin"])"),
            std::string::npos);
  a.scopes.clear();
  a.scopes_supported.clear();
  EXPECT_EQ(metadata_document(a).find("scopes_supported"), std::string::npos);
}

TEST(McpAuth, AudienceMustNameTheResource) {
  auto a = cfg();
  a.scopes.clear();
  std::unordered_map<std::string, std::string> v;
  auto d = check(a, v);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->status, 401);
  EXPECT_EQ(d->error, "invalid_token");
  v["jwt.sub"] = "alice";
  d = check(a, v);
  ASSERT_TRUE(d);  // no aud at all
  EXPECT_EQ(d->description, "the token's audience is not https://gw.example.com/mcp");
  v["jwt.aud"] = "https://gw.example.com/mcp2";
  EXPECT_TRUE(check(a, v));  // a prefix is not the resource
  v["jwt.aud"] = "https://other.example https://gw.example.com/mcp";
  EXPECT_FALSE(check(a, v));
}

TEST(McpAuth, EveryRequiredScope) {
  auto a = cfg();
  a.scopes = {"mcp:tools", "mcp:read"};
  std::unordered_map<std::string, std::string> v{{"jwt.aud", "https://gw.example.com/mcp"}};
  auto d = check(a, v);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->status, 403);
  EXPECT_EQ(d->error, "insufficient_scope");
  v["jwt.scope"] = "mcp:tools";
  d = check(a, v);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->description, "the token lacks the scope mcp:read");
  v["jwt.scope"] = "mcp:read openid mcp:tools";
  EXPECT_FALSE(check(a, v));
  v.erase("jwt.scope");
  v["jwt.scp"] = "mcp:read mcp:tools";  // an array claim, exported space-joined
  EXPECT_FALSE(check(a, v));
  v["jwt.scp"] = "mcp:tools:read mcp:read";  // whole words only
  EXPECT_TRUE(check(a, v));
}

TEST(McpAuth, Challenges) {
  auto a = cfg();
  EXPECT_EQ(challenge(a, nullptr),
            "Bearer scope=\"mcp:tools\", resource_metadata=\"https://gw.example.com/.well-known/"
            "oauth-protected-resource/mcp\"");
  Denial d{403, "insufficient_scope", "lacks \"x\""};
  EXPECT_EQ(challenge(a, &d).rfind("Bearer error=\"insufficient_scope\", error_description=\"lacks 'x'\", scope=", 0), 0u);

  std::vector<http1::Header> h{{"WWW-Authenticate", "Bearer realm=\"gatehouse\""},
                               {"WWW-Authenticate", "Basic realm=\"x\""}};
  extend_challenges(a, h);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].value, "Bearer realm=\"gatehouse\", " + challenge(a, nullptr).substr(7));
  EXPECT_EQ(h[1].value, "Basic realm=\"x\"");
  extend_challenges(a, h);  // idempotent
  EXPECT_EQ(h[0].value, "Bearer realm=\"gatehouse\", " + challenge(a, nullptr).substr(7));

  std::vector<http1::Header> none;  // key-auth's 401 has no Bearer challenge
  extend_challenges(a, none);
  ASSERT_EQ(none.size(), 1u);
  EXPECT_EQ(none[0].value, challenge(a, nullptr));
}

}  // namespace
}  // namespace gatehouse::mcp::auth
