// /api/v1/apis against a real SQLite store: versions, revisions, deploy,
// rollback, lifecycle and the breaking-change rule.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>

#include "admin/api.hpp"
#include "admin/config_bridge.hpp"

namespace gatehouse::admin {
namespace {

namespace json = boost::json;

const char* kV1 = R"(openapi: 3.0.3
info: {title: Pets, version: 1.0.0}
servers: [{url: 'http://127.0.0.1:9/v1'}]
paths:
  /pets:
    get:
      operationId: listPets
      parameters: [{name: limit, in: query, schema: {type: integer}}]
      responses: {'200': {description: ok}}
  /pets/{id}:
    get:
      operationId: getPet
      responses: {'200': {description: ok}}
)";

// Compatible: one more operation.
const char* kV1b = R"(openapi: 3.0.3
info: {title: Pets, version: 1.1.0}
servers: [{url: 'http://127.0.0.1:9/v1'}]
paths:
  /pets:
    get:
      operationId: listPets
      parameters: [{name: limit, in: query, schema: {type: integer}}]
      responses: {'200': {description: ok}}
    post:
      operationId: createPet
      responses: {'201': {description: created}}
  /pets/{id}:
    get:
      operationId: getPet
      responses: {'200': {description: ok}}
)";

// Breaking: getPet removed.
const char* kBreaking = R"(openapi: 3.0.3
info: {title: Pets, version: 1.2.0}
servers: [{url: 'http://127.0.0.1:9/v1'}]
paths:
  /pets:
    get:
      operationId: listPets
      responses: {'200': {description: ok}}
)";

class AdminApis : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gatehouse-apis-test-XXXXXX";
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
    token_ = store_->create_token("test", "admin", store::Role::kAdmin, "")->secret;
  }
  void TearDown() override {
    api_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  AdminResponse call(const std::string& method, const std::string& target,
                     const std::string& body = "") {
    ApiRequest r;
    r.method = method;
    auto q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) r.query = target.substr(q + 1);
    r.body = body;
    r.headers.emplace_back("Authorization", "Bearer " + token_);
    return api_->handle(r);
  }
  static json::value js(const AdminResponse& r) { return json::parse(r.body); }

  // Route names and their policies' names, from the store.
  std::map<std::string, std::vector<std::string>> routes() {
    std::map<std::string, std::vector<std::string>> out;
    auto snap = store_->load_all();
    for (const auto& e : snap->entities) {
      if (e.kind != "route") continue;
      auto& ps = out[e.name];
      if (auto* p = e.body.get_object().if_contains("policies"))
        for (const auto& v : p->get_array()) ps.emplace_back(v.at("name").as_string());
    }
    return out;
  }

  void make_version() {
    ASSERT_EQ(
        call("POST", "/api/v1/apis", R"({"name":"pets","owner_team":"zoo","tags":["public"]})")
            .status,
        201);
    ASSERT_EQ(call("POST", "/api/v1/apis/pets/versions", R"({"version":"1.0.0"})").status, 201);
  }

  std::string dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Api> api_;
  std::string token_;
};

TEST_F(AdminApis, CreateApiValidates) {
  auto r = call("POST", "/api/v1/apis", R"({"name":"pets"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(js(r).at("field").as_string(), "owner_team");
  EXPECT_EQ(call("POST", "/api/v1/apis", R"({"name":"a b","owner_team":"x"})").status, 400);
  make_version();
  EXPECT_EQ(call("POST", "/api/v1/apis", R"({"name":"pets","owner_team":"x"})").status, 409);
  auto bad = call("POST", "/api/v1/apis/pets/versions", R"({"version":"v1"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(js(bad).at("code").as_string(), "invalid_version");
  auto got = call("GET", "/api/v1/apis/pets");
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(js(got).at("owner_team").as_string(), "zoo");
  EXPECT_EQ(js(got).at("versions").at(0).at("state").as_string(), "draft");
  EXPECT_EQ(call("DELETE", "/api/v1/apis/pets").status, 409);  // has versions
}

TEST_F(AdminApis, RevisionDeployRollback) {
  make_version();
  auto r1 = call("POST", "/api/v1/apis/pets/versions/1.0.0/revisions?deploy=true", kV1);
  ASSERT_EQ(r1.status, 201) << r1.body;
  EXPECT_EQ(js(r1).at("number").as_int64(), 1);
  EXPECT_EQ(js(r1).at("operations").as_int64(), 2);
  auto rs = routes();
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_TRUE(rs.count("pets.1.0.0.listPets"));
  // A second revision, deployed through the envelope form.
  json::object env{{"document", kV1b}, {"deploy", true}, {"description", "adds createPet"}};
  auto r2 = call("POST", "/api/v1/apis/pets/versions/1.0.0/revisions", json::serialize(env));
  ASSERT_EQ(r2.status, 201) << r2.body;
  EXPECT_EQ(routes().size(), 3u);
  auto v = js(call("GET", "/api/v1/apis/pets/versions/1.0.0"));
  EXPECT_EQ(v.at("deployed_revision").as_int64(), 2);
  EXPECT_EQ(v.at("base_path").as_string(), "/v1");
  // Rollback is one call.
  auto back = call("POST", "/api/v1/apis/pets/versions/1.0.0/deploy", R"({"revision":1})");
  ASSERT_EQ(back.status, 200) << back.body;
  EXPECT_EQ(routes().size(), 2u);
  EXPECT_EQ(js(back).at("deployed_revision").as_int64(), 1);
  auto list = js(call("GET", "/api/v1/apis/pets/versions/1.0.0/revisions"));
  ASSERT_EQ(list.at("items").as_array().size(), 2u);
  EXPECT_TRUE(list.at("items").at(0).at("deployed").as_bool());
  auto doc = call("GET", "/api/v1/apis/pets/versions/1.0.0/revisions/2/document");
  EXPECT_EQ(doc.status, 200);
  EXPECT_EQ(doc.body, kV1b);
  EXPECT_EQ(call("GET", "/api/v1/apis/pets/versions/1.0.0/revisions/9").status, 404);
  // Every step is in the audit log.
  store::AuditQuery aq;
  aq.kind = "api_version";
  auto audit = store_->audit(aq);
  ASSERT_TRUE(audit.ok());
  EXPECT_GE(audit->items.size(), 4u);
}

TEST_F(AdminApis, BadDocumentIsLocated) {
  make_version();
  auto r = call("POST", "/api/v1/apis/pets/versions/1.0.0/revisions",
                "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /a: {$ref: '#/nope'}\n");
  ASSERT_EQ(r.status, 400);
  auto b = js(r);
  EXPECT_EQ(b.at("code").as_string(), "unresolved_ref");
  EXPECT_EQ(b.at("pointer").as_string(), "/paths/~1a/$ref");
  EXPECT_EQ(b.at("line").as_int64(), 4);
  auto ext =
      call("POST", "/api/v1/apis/pets/versions/1.0.0/revisions",
           "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /a: {$ref: '/etc/passwd'}\n");
  EXPECT_EQ(js(ext).at("code").as_string(), "external_ref_not_allowed");
}

TEST_F(AdminApis, LifecycleTransitionsAndPolicies) {
  make_version();
  ASSERT_EQ(call("POST", "/api/v1/apis/pets/versions/1.0.0/revisions?deploy=true", kV1).status,
            201);
  auto bad = call("POST", "/api/v1/apis/pets/versions/1.0.0/lifecycle", R"({"state":"retired"})");
  EXPECT_EQ(bad.status, 409);
  EXPECT_EQ(js(bad).at("code").as_string(), "invalid_transition");
  ASSERT_EQ(
      call("POST", "/api/v1/apis/pets/versions/1.0.0/lifecycle", R"({"state":"published"})").status,
      200);
  for (const auto& [name, ps] : routes()) EXPECT_TRUE(ps.empty()) << name;
  auto dep = call("POST", "/api/v1/apis/pets/versions/1.0.0/lifecycle",
                  R"({"state":"deprecated","sunset":"2026-12-31","successor":"2.0.0"})");
  ASSERT_EQ(dep.status, 200) << dep.body;
  EXPECT_EQ(js(dep).at("sunset").as_string(), "Thu, 31 Dec 2026 00:00:00 GMT");
  for (const auto& [name, ps] : routes())
    EXPECT_EQ(ps, std::vector<std::string>{"api-lifecycle"}) << name;
  ASSERT_EQ(
      call("POST", "/api/v1/apis/pets/versions/1.0.0/lifecycle", R"({"state":"retired"})").status,
      200);
  auto snap = store_->load_all();
  for (const auto& e : snap->entities) {
    if (e.kind != "route") continue;
    EXPECT_EQ(e.body.at("policies").at(0).at("config").at("state").as_string(), "retired");
  }
  // Final.
  EXPECT_EQ(
      call("POST", "/api/v1/apis/pets/versions/1.0.0/lifecycle", R"({"state":"published"})").status,
      409);
  EXPECT_EQ(call("POST", "/api/v1/apis/pets/versions/1.0.0/revisions", kV1).status, 409);
  // Retired versions can be deleted, with their routes.
  EXPECT_EQ(call("DELETE", "/api/v1/apis/pets/versions/1.0.0").status, 204);
  EXPECT_TRUE(routes().empty());
}

TEST_F(AdminApis, BreakingChangeInPublishedVersionNeedsForce) {
  make_version();
  ASSERT_EQ(call("POST", "/api/v1/apis/pets/versions/1.0.0/revisions?deploy=true", kV1).status,
            201);
  ASSERT_EQ(
      call("POST", "/api/v1/apis/pets/versions/1.0.0/lifecycle", R"({"state":"published"})").status,
      200);
  ASSERT_EQ(call("POST", "/api/v1/apis/pets/versions/1.0.0/revisions?deploy=true", kV1b).status,
            201);
  auto r = call("POST", "/api/v1/apis/pets/versions/1.0.0/revisions?deploy=true", kBreaking);
  ASSERT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(js(r).at("code").as_string(), "breaking_change");
  EXPECT_EQ(routes().size(), 3u);  // nothing changed
  auto forced =
      call("POST", "/api/v1/apis/pets/versions/1.0.0/revisions?deploy=true&force=true", kBreaking);
  ASSERT_EQ(forced.status, 201) << forced.body;
  EXPECT_EQ(routes().size(), 1u);
  // Publishing 1.1.0 (same major) with a document that breaks 1.0.0 is refused.
  ASSERT_EQ(call("POST", "/api/v1/apis/pets/versions", R"({"version":"1.1.0"})").status, 201);
  ASSERT_EQ(call("POST", "/api/v1/apis/pets/versions/1.1.0/revisions?deploy=true", kV1).status,
            201);
  // 1.0.0 now serves kBreaking (listPets only); 1.1.0 adds getPet: compatible.
  EXPECT_EQ(
      call("POST", "/api/v1/apis/pets/versions/1.1.0/lifecycle", R"({"state":"published"})").status,
      200);
  ASSERT_EQ(call("POST", "/api/v1/apis/pets/versions", R"({"version":"1.2.0"})").status, 201);
  ASSERT_EQ(
      call("POST", "/api/v1/apis/pets/versions/1.2.0/revisions?deploy=true", kBreaking).status,
      201);
  auto pub = call("POST", "/api/v1/apis/pets/versions/1.2.0/lifecycle", R"({"state":"published"})");
  EXPECT_EQ(pub.status, 409) << pub.body;
  ASSERT_EQ(call("POST", "/api/v1/apis/pets/versions", R"({"version":"2.0.0"})").status, 201);
  ASSERT_EQ(
      call("POST", "/api/v1/apis/pets/versions/2.0.0/revisions?deploy=true", kBreaking).status,
      201);
  EXPECT_EQ(
      call("POST", "/api/v1/apis/pets/versions/2.0.0/lifecycle", R"({"state":"published"})").status,
      200);
}

TEST_F(AdminApis, RoutesOfOneVersionDoNotClaimOthers) {
  make_version();
  // A hand-made route with a generated name is not taken over by a deploy.
  ASSERT_EQ(
      call("POST", "/api/v1/upstreams", R"({"name":"svc","targets":[{"address":"127.0.0.1:9"}]})")
          .status,
      201);
  ASSERT_EQ(call("POST", "/api/v1/routes",
                 R"({"name":"pets.1.0.0.listPets","match":{"paths":["/x"]},"upstream":"svc"})")
                .status,
            201);
  auto r = call("POST", "/api/v1/apis/pets/versions/1.0.0/revisions?deploy=true", kV1);
  EXPECT_EQ(r.status, 409) << r.body;
}

}  // namespace
}  // namespace gatehouse::admin

namespace gatehouse::admin {
namespace {

TEST_F(AdminApis, DeployedRevisionIsASpecOfTheRunningConfig) {
  store_->set_validator(
      make_validator([s = store_.get()](const std::string& sha) { return s->get_document(sha); }));
  make_version();
  ASSERT_EQ(call("POST", "/api/v1/apis/pets/versions/1.0.0/revisions?deploy=true", kV1).status,
            201);
  // Forget every parsed document: the next commit's validation must read the
  // store from inside the store's own transaction (recursive lock).
  apim::DocumentCache::instance().retain({});
  auto up = call("POST", "/api/v1/upstreams",
                 R"({"name":"other","targets":[{"address":"127.0.0.1:9"}]})");
  ASSERT_EQ(up.status, 201) << up.body;

  auto all = store_->load_all();
  ASSERT_TRUE(all.ok());
  apim::DocumentFetch fetch = [s = store_.get()](const std::string& sha) {
    return s->get_document(sha);
  };
  auto cfg = build_config(all->entities, nullptr, &fetch);
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  ASSERT_EQ(cfg->specs.size(), 1u);
  const auto& s = cfg->specs[0];
  EXPECT_EQ(s.name, "pets@1.0.0");
  EXPECT_EQ(s.api, "pets");
  EXPECT_EQ(s.version, "1.0.0");
  EXPECT_EQ(s.base_path, "/v1");
  EXPECT_FALSE(s.upstream.empty());
  auto set = apim::SpecSet::build(cfg->specs);
  ASSERT_TRUE(set.ok()) << set.error().message;
  ASSERT_NE((*set)->find_api("pets"), nullptr);
  EXPECT_EQ((*set)->find_api("pets")->document->operations.size(), 2u);
}

}  // namespace
}  // namespace gatehouse::admin
