// The admin API's handlers against a real SQLite store in a temp folder.
#include "admin/api.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <set>

#include "admin/config_bridge.hpp"
#include "admin/declarative.hpp"
#include "admin/yaml_json.hpp"

namespace gatehouse::admin {
namespace {

namespace json = boost::json;

class AdminApi : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gatehouse-admin-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto s = store::open_store("sqlite:" + dir_ + "/g.db", dir_);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(s.value());
    store_->set_validator(make_validator());
    ApiHost host;
    host.store = store_.get();
    host.revision = [] { return int64_t{0}; };
    api_ = std::make_unique<Api>(std::move(host));
    admin_ = store_->create_token("test", "admin", store::Role::kAdmin, "")->secret;
    viewer_ = store_->create_token("test", "viewer", store::Role::kViewer, "")->secret;
    editor_ = store_->create_token("test", "editor", store::Role::kEditor, "")->secret;
  }
  void TearDown() override {
    api_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  AdminResponse call(const std::string& method, const std::string& target,
                     const std::string& body = "", const std::string& token = "",
                     std::vector<std::pair<std::string, std::string>> headers = {}) {
    ApiRequest r;
    r.method = method;
    auto q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) r.query = target.substr(q + 1);
    r.body = body;
    r.headers = std::move(headers);
    r.headers.emplace_back("Authorization", "Bearer " + (token.empty() ? admin_ : token));
    return api_->handle(r);
  }
  static std::string header(const AdminResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers)
      if (k == name) return v;
    return {};
  }
  static json::object body(const AdminResponse& r) { return json::parse(r.body).as_object(); }

  void make_upstream() {
    ASSERT_EQ(
        call("POST", "/api/v1/upstreams", R"({"name":"svc","targets":[{"address":"127.0.0.1:9"}]})")
            .status,
        201);
  }

  std::string dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Api> api_;
  std::string admin_, viewer_, editor_;
};

TEST_F(AdminApi, UnauthenticatedIs401WithChallenge) {
  ApiRequest r;
  r.method = "GET";
  r.path = "/api/v1/routes";
  auto resp = api_->handle(r);
  EXPECT_EQ(resp.status, 401);
  EXPECT_EQ(header(resp, "WWW-Authenticate"), "Bearer realm=\"gatehouse-admin\"");
  EXPECT_EQ(resp.content_type, "application/problem+json");
  EXPECT_EQ(call("GET", "/api/v1/routes", "", "ght_0000000000000000_nope").status, 401);
}

TEST_F(AdminApi, RolesAreEnforced) {
  EXPECT_EQ(call("GET", "/api/v1/routes", "", viewer_).status, 200);
  EXPECT_EQ(call("POST", "/api/v1/upstreams", R"({"name":"a","targets":["127.0.0.1:9"]})", viewer_)
                .status,
            403);
  EXPECT_EQ(call("POST", "/api/v1/upstreams", R"({"name":"a","targets":["127.0.0.1:9"]})", editor_)
                .status,
            201);
  EXPECT_EQ(call("GET", "/api/v1/tokens", "", editor_).status, 403);
  EXPECT_EQ(call("GET", "/api/v1/tokens").status, 200);
}

TEST_F(AdminApi, CreateGetPatchDeleteWithEtags) {
  make_upstream();
  auto created = call("POST", "/api/v1/routes",
                      R"({"name":"r1","match":{"paths":["/a"]},"upstream":"svc","tags":["t"]})");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(header(created, "ETag"), "\"1\"");
  std::string id(body(created)["id"].as_string());
  EXPECT_EQ(header(created, "Location"), "/api/v1/routes/" + id);
  EXPECT_EQ(call("GET", "/api/v1/routes/r1").status, 200);
  EXPECT_EQ(call("GET", "/api/v1/routes/" + id).status, 200);
  auto stale = call("PATCH", "/api/v1/routes/r1", R"({"priority":5})", "", {{"If-Match", "\"9\""}});
  EXPECT_EQ(stale.status, 412) << stale.body;
  auto ok = call("PATCH", "/api/v1/routes/r1", R"({"priority":5})", "", {{"If-Match", "\"1\""}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(body(ok)["priority"].as_int64(), 5);
  EXPECT_EQ(header(ok, "ETag"), "\"2\"");
  EXPECT_EQ(call("DELETE", "/api/v1/routes/r1", "", "", {{"If-Match", "\"1\""}}).status, 412);
  EXPECT_EQ(call("DELETE", "/api/v1/routes/r1").status, 204);
  EXPECT_EQ(call("GET", "/api/v1/routes/r1").status, 404);
}

TEST_F(AdminApi, ValidationErrorNamesTheFieldAndChangesNothing) {
  make_upstream();
  auto bad = call("POST", "/api/v1/routes",
                  R"({"name":"r1","match":{"paths":["/a","nope"]},"upstream":"svc"})");
  ASSERT_EQ(bad.status, 400);
  EXPECT_EQ(bad.content_type, "application/problem+json");
  auto p = body(bad);
  EXPECT_EQ(p["field"].as_string(), "match.paths[1]");
  for (const char* k : {"type", "title", "status", "detail", "code"})
    EXPECT_TRUE(p.contains(k)) << k;
  auto unknown =
      body(call("POST", "/api/v1/routes", R"({"name":"r2","mathc":{},"upstream":"svc"})"));
  EXPECT_EQ(unknown["code"].as_string(), "unknown_field");
  EXPECT_EQ(unknown["field"].as_string(), "mathc");
  EXPECT_EQ(*store_->current_revision(), 1);
  // Deleting an upstream a route uses is refused, naming the route.
  ASSERT_EQ(call("POST", "/api/v1/routes", R"({"name":"r3","upstream":"svc"})").status, 201);
  auto del = body(call("DELETE", "/api/v1/upstreams/svc"));
  EXPECT_EQ(del["field"].as_string(), "route:r3.upstream");
}

TEST_F(AdminApi, CredentialsAreHashedAndRedacted) {
  ASSERT_EQ(call("POST", "/api/v1/consumers", R"({"name":"alice"})").status, 201);
  auto c =
      call("POST", "/api/v1/consumers/alice/credentials", R"({"type":"key-auth","key":"sekrit"})");
  ASSERT_EQ(c.status, 201) << c.body;
  EXPECT_EQ(c.body.find("sekrit"), std::string::npos);
  auto stored = store_->get(store::Ref::by_name("consumer", "alice"));
  std::string text = json::serialize(stored->body);
  EXPECT_EQ(text.find("sekrit"), std::string::npos);
  EXPECT_NE(text.find("sha256:"), std::string::npos);
  auto list = body(call("GET", "/api/v1/consumers/alice/credentials"));
  EXPECT_EQ(list["items"].as_array()[0].as_object()["key_hash"].as_string(), "<redacted>");
  // A second consumer cannot hold the same key.
  ASSERT_EQ(call("POST", "/api/v1/consumers", R"({"name":"bob"})").status, 201);
  EXPECT_EQ(
      call("POST", "/api/v1/consumers/bob/credentials", R"({"type":"key-auth","key":"sekrit"})")
          .status,
      400);
}

TEST_F(AdminApi, PaginationWalksEveryItemOnce) {
  make_upstream();
  std::string doc =
      "{\"upstreams\":[{\"name\":\"svc\",\"targets\":[\"127.0.0.1:9\"]}],\"routes\":[";
  for (int i = 0; i < 25; ++i)
    doc += std::string(i ? "," : "") + "{\"name\":\"r" + std::to_string(i) +
           "\",\"match\":{\"paths\":[\"/r" + std::to_string(i) + "\"]},\"upstream\":\"svc\"}";
  doc += "]}";
  auto put = call("PUT", "/api/v1/config", doc, "", {{"Content-Type", "application/json"}});
  ASSERT_EQ(put.status, 200) << put.body;
  std::set<std::string> seen;
  std::string cursor;
  for (int pages = 0; pages < 10; ++pages) {
    auto r =
        body(call("GET", "/api/v1/routes?limit=10" + (cursor.empty() ? "" : "&cursor=" + cursor)));
    for (const auto& it : r["items"].as_array())
      seen.insert(std::string(it.as_object().at("name").as_string()));
    if (r["next_cursor"].is_null()) break;
    cursor = r["next_cursor"].as_string();
  }
  EXPECT_EQ(seen.size(), 25u);
}

TEST_F(AdminApi, OpenApiListsEveryRoute) {
  auto doc = openapi_document(*api_);
  const auto& paths = doc.as_object().at("paths").as_object();
  for (const auto& r : api_->routes()) {
    std::string m = r.method;
    for (auto& ch : m) ch = static_cast<char>(std::tolower(ch));
    ASSERT_TRUE(paths.contains(r.pattern)) << r.pattern;
    EXPECT_TRUE(paths.at(r.pattern).as_object().contains(m)) << r.method << " " << r.pattern;
  }
  EXPECT_EQ(doc.as_object().at("openapi").as_string(), "3.1.0");
  ApiRequest anon;
  anon.method = "GET";
  anon.path = "/api/v1/openapi.json";
  EXPECT_EQ(api_->handle(anon).status, 200);
}

TEST_F(AdminApi, YamlRoundTripKeepsTypesAndDollars) {
  auto v = yaml_to_json("a: 1\nb: \"1\"\nc: true\nd: x${Y}\ne: [1.5, null]\n", false);
  ASSERT_TRUE(v.ok());
  const auto& o = v->as_object();
  EXPECT_TRUE(o.at("a").is_int64());
  EXPECT_TRUE(o.at("b").is_string());
  EXPECT_TRUE(o.at("c").is_bool());
  EXPECT_EQ(o.at("d").as_string(), "x${Y}");
  auto back = yaml_to_json(json_to_block_yaml(*v), false);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->as_object().at("b"), o.at("b"));
  EXPECT_EQ(json_to_loader_yaml(json::parse(R"({"k":"${HOME}"})")), R"({"k": "$${HOME}"})");
  auto dup = yaml_to_json("a: 1\nb: 2\na: 3\n", false);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, "duplicate_key");
  EXPECT_EQ(dup.error().line, 3);
}

TEST_F(AdminApi, OwnerTagApplyLeavesOtherEntitiesAlone) {
  make_upstream();  // made "in the UI": no owner tag
  std::string file = R"({"upstreams":[{"name":"team","targets":["127.0.0.1:9"]}]})";
  auto r =
      call("PUT", "/api/v1/config?owner=team-a", file, "", {{"Content-Type", "application/json"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(call("GET", "/api/v1/upstreams/svc").status, 200);
  auto dry = body(call("PUT", "/api/v1/config?owner=team-a&dry_run=true", "{}", "",
                       {{"Content-Type", "application/json"}}));
  ASSERT_EQ(dry["changes"].as_array().size(), 1u);
  EXPECT_EQ(dry["changes"].as_array()[0].as_object().at("action").as_string(), "delete");
  auto claim = call("PUT", "/api/v1/config?owner=team-a",
                    R"({"upstreams":[{"name":"svc","targets":["127.0.0.1:9"]}]})", "",
                    {{"Content-Type", "application/json"}});
  EXPECT_EQ(claim.status, 409) << claim.body;
}

TEST_F(AdminApi, WorkspaceTokensSeeOnlyTheirWorkspace) {
  auto team = store_->create_token("test", "team-a", store::Role::kEditor, "team-a")->secret;
  make_upstream();  // default workspace
  auto r = call("POST", "/api/v1/upstreams", R"({"name":"svc","targets":["127.0.0.1:9"]})", team);
  ASSERT_EQ(r.status, 201) << r.body;  // same name, other workspace
  EXPECT_EQ(body(r)["workspace"].as_string(), "team-a");
  ASSERT_EQ(call("POST", "/api/v1/routes",
                 R"({"name":"r","upstream":"svc","match":{"paths":["/t"]}})", team)
                .status,
            201);
  auto list = body(call("GET", "/api/v1/upstreams", "", team));
  ASSERT_EQ(list["items"].as_array().size(), 1u);
  EXPECT_EQ(call("GET", "/api/v1/upstreams?workspace=default", "", team).status, 403);
  EXPECT_EQ(call("POST", "/api/v1/upstreams",
                 R"({"name":"x","workspace":"default","targets":["127.0.0.1:9"]})", team)
                .status,
            403);
  // The data plane serves every workspace; other workspaces' names are qualified.
  auto cfg = build_config(store_->load_all()->entities);
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  ASSERT_EQ(cfg->routes.size(), 1u);
  EXPECT_EQ(cfg->routes[0].name, "team-a/r");
  EXPECT_EQ(cfg->routes[0].upstream, "team-a/svc");
}

TEST_F(AdminApi, AuditRedactsSecretsAndRecordsActor) {
  ASSERT_EQ(
      call("POST", "/api/v1/consumers",
           R"({"name":"c","credentials":[{"type":"basic-auth","username":"u","password":"p4ss"}]})")
          .status,
      201);
  auto a = call("GET", "/api/v1/audit?kind=consumer");
  ASSERT_EQ(a.status, 200);
  EXPECT_EQ(a.body.find("pbkdf2"), std::string::npos);
  EXPECT_EQ(a.body.find("p4ss"), std::string::npos);
  auto item = body(a)["items"].as_array()[0].as_object();
  EXPECT_EQ(item["actor"].as_string(), "token:admin");
  EXPECT_EQ(item["action"].as_string(), "create");
  EXPECT_TRUE(item["before"].is_null());
}

}  // namespace
}  // namespace gatehouse::admin
