// `llm` in declarative sync (PUT/GET /api/v1/config, the plan behind
// `gatehouse apply/diff/export`) against a real SQLite store: providers and
// models are created, changed and deleted in the same plan as the other
// entities, keys are sealed on the way in and exported sealed or masked, an
// export applies back with no change and no revision, errors name the
// document path and leave the store alone.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "admin/api.hpp"
#include "admin/config_bridge.hpp"
#include "admin/declarative.hpp"
#include "admin/llm_entities.hpp"
#include "admin/secrets.hpp"
#include "admin/yaml_json.hpp"
#include "admin/yaml_locate.hpp"
#include "policies/crypto.hpp"

namespace gatehouse::admin {
namespace {

namespace json = boost::json;

const std::string kKey = policy::base64_encode(std::string(32, 'k'));
constexpr const char* kSecret = "sk-decl-PLAINTEXT-0123456789wxyz";

// The whole document: an upstream and route beside the llm section.
std::string document(const std::string& key = kSecret, const std::string& extra_model = "") {
  return R"({"upstreams":[{"name":"u","targets":["127.0.0.1:9"]}],)"
         R"("routes":[{"name":"ai","match":{"paths":["/v1/"]},"llm":{"models":["smart"]}}],)"
         R"("llm":{"providers":[)"
         R"({"name":"oa","kind":"openai","base_url":"http://127.0.0.1:9","api_key":")" +
         key +
         R"("},)"
         R"({"name":"local","kind":"openai-compatible","base_url":"http://127.0.0.1:9",)"
         R"("api_key":"${GH_DECL_TEST_KEY}"}],)"
         R"("models":[{"name":"smart","targets":[{"provider":"oa","model":"gpt-4o-mini"}],)"
         R"("fallbacks":["cheap"]},{"name":"cheap","targets":[{"provider":"local","model":"q"}]})" +
         extra_model + "]}}";
}

class DeclarativeLlm : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gatehouse-decl-llm-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    setenv("GH_DECL_TEST_KEY", "sk-from-env", 1);
    secrets::process_keyring() = *secrets::Keyring::parse(kKey, "test");
    auto s = store::open_store("sqlite:" + dir_ + "/g.db", dir_);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(s.value());
    settings_ = *yaml_to_json(
        "providers:\n"
        "  - {name: file-openai, kind: openai, base_url: \"http://127.0.0.1:9\", api_key: "
        "sk-from-settings-file-5678}\n",
        false);
    store_->set_validator(make_validator({}, settings_));
    ApiHost host;
    host.store = store_.get();
    host.revision = [] { return int64_t{0}; };
    host.settings_llm = settings_;
    api_ = std::make_unique<Api>(std::move(host));
    admin_ = store_->create_token("test", "admin", store::Role::kAdmin, "")->secret;
  }
  void TearDown() override {
    api_.reset();
    store_.reset();
    secrets::process_keyring() = secrets::Keyring{};
    unsetenv("GH_DECL_TEST_KEY");
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
    r.headers.emplace_back("Authorization", "Bearer " + admin_);
    r.headers.emplace_back("Content-Type", "application/json");
    return api_->handle(r);
  }
  static json::object body(const AdminResponse& r) { return json::parse(r.body).as_object(); }
  int64_t revision() { return *store_->current_revision(); }

  std::string db_bytes() {
    std::string all;
    for (const char* f : {"/g.db", "/g.db-wal"}) {
      std::ifstream in(dir_ + f, std::ios::binary);
      std::ostringstream ss;
      ss << in.rdbuf();
      all += ss.str();
    }
    return all;
  }

  Result<config::Config> built() {
    auto snap = store_->load_all();
    return build_config(snap->entities, nullptr, nullptr, &settings_);
  }

  std::string dir_;
  json::value settings_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Api> api_;
  std::string admin_;
};

TEST_F(DeclarativeLlm, PutCreatesSealedEntitiesInOneRevision) {
  int64_t before = revision();
  auto r = call("PUT", "/api/v1/config", document());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(revision(), before + 1);
  auto changes = body(r)["changes"].as_array();
  EXPECT_EQ(changes.size(), 6u);  // upstream, route, 2 providers, 2 models
  EXPECT_NE(r.body.find(R"("kind":"llm_provider","name":"oa")"), std::string::npos);
  EXPECT_NE(r.body.find(R"("kind":"llm_model","name":"cheap")"), std::string::npos);
  EXPECT_EQ(db_bytes().find("PLAINTEXT"), std::string::npos);
  EXPECT_NE(db_bytes().find("gh1."), std::string::npos);
  // The entity API sees them; the data plane gets the plaintext.
  EXPECT_EQ(body(call("GET", "/api/v1/llm/providers/oa"))["api_key"].as_string(), "****wxyz");
  auto cfg = built();
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  ASSERT_EQ(cfg->llm.providers.size(), 3u);  // the settings file's first
  EXPECT_EQ(cfg->llm.providers[2].name, "oa");
  EXPECT_EQ(cfg->llm.providers[2].api_key, kSecret);
  EXPECT_EQ(cfg->llm.providers[1].api_key, "sk-from-env");
}

TEST_F(DeclarativeLlm, ExportsApplyBackWithoutARevision) {
  ASSERT_EQ(call("PUT", "/api/v1/config", document()).status, 200);
  int64_t rev = revision();
  // Masked for everyone, sealed for admins (?secrets=true) and the CLI.
  auto masked = call("GET", "/api/v1/config");
  ASSERT_EQ(masked.status, 200);
  EXPECT_EQ(masked.body.find("PLAINTEXT"), std::string::npos);
  EXPECT_EQ(masked.body.find("gh1."), std::string::npos);
  auto m = body(masked);
  EXPECT_EQ(m["llm"].at("providers").at(1).at("api_key").as_string(), "****wxyz");
  EXPECT_EQ(m["llm"].at("providers").at(0).at("api_key").as_string(), "${GH_DECL_TEST_KEY}");
  auto sealed = call("GET", "/api/v1/config?secrets=true");
  EXPECT_EQ(sealed.body.find("PLAINTEXT"), std::string::npos);
  auto s = body(sealed);
  EXPECT_TRUE(
      s["llm"].at("providers").at(1).at("api_key").at("sealed").as_string().starts_with("gh1."));
  auto exported = export_document(*store_, "default", false);
  ASSERT_TRUE(exported.ok());
  EXPECT_NE(json::serialize(*exported).find("gh1."), std::string::npos);
  EXPECT_EQ(json::serialize(*exported).find("PLAINTEXT"), std::string::npos);
  // Each form applies back as no change and no new revision, as does the
  // original document with the plaintext key.
  for (const auto& doc : {masked.body, sealed.body, document()}) {
    auto again = call("PUT", "/api/v1/config", doc);
    ASSERT_EQ(again.status, 200) << again.body;
    EXPECT_EQ(body(again)["changes"].as_array().size(), 0u) << again.body;
    EXPECT_EQ(revision(), rev);
  }
  // The YAML export too (what `gatehouse export` writes).
  auto y = yaml_to_json(json_to_block_yaml(*exported), false);
  ASSERT_TRUE(y.ok());
  auto plan = plan_apply(*store_, *y, "default", "", &settings_);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_TRUE(plan->diff.empty()) << format_diff(plan->diff);
}

TEST_F(DeclarativeLlm, DiffShowsChangesWithSecretsMasked) {
  ASSERT_EQ(call("PUT", "/api/v1/config", document()).status, 200);
  std::string changed = document("sk-decl-OTHERKEY-0123456789abcd");
  auto pos = changed.find("gpt-4o-mini");
  changed.replace(pos, 11, "gpt-4o");
  auto dry = call("PUT", "/api/v1/config?dry_run=true", changed);
  ASSERT_EQ(dry.status, 200) << dry.body;
  EXPECT_EQ(dry.body.find("OTHERKEY"), std::string::npos);
  EXPECT_EQ(dry.body.find("PLAINTEXT"), std::string::npos);
  EXPECT_EQ(dry.body.find("gh1."), std::string::npos);
  EXPECT_NE(dry.body.find("api_key: (secret changed)"), std::string::npos) << dry.body;
  EXPECT_NE(dry.body.find(R"(targets[0].model: \"gpt-4o-mini\" -> \"gpt-4o\")"), std::string::npos)
      << dry.body;
  // The new key takes effect on apply.
  ASSERT_EQ(call("PUT", "/api/v1/config", changed).status, 200);
  EXPECT_EQ(built()->llm.providers[2].api_key, "sk-decl-OTHERKEY-0123456789abcd");
}

TEST_F(DeclarativeLlm, ABadItemLeavesTheStoreAlone) {
  ASSERT_EQ(call("PUT", "/api/v1/config", document()).status, 200);
  int64_t rev = revision();
  std::string bad = document();
  bad.replace(bad.find(R"("kind":"openai")"), 15, R"("kind":"opanai")");
  auto r = call("PUT", "/api/v1/config", bad);
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(body(r)["field"].as_string(), "llm.providers[0].kind");
  // A model naming a provider the document deletes.
  std::string gone = R"({"llm":{"models":[{"name":"smart","targets":[{"provider":"oa",)"
                     R"("model":"x"}]}]}})";
  r = call("PUT", "/api/v1/config", gone);
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(body(r)["code"].as_string(), "unknown_provider");
  EXPECT_EQ(body(r)["field"].as_string(), "llm.models[0].targets[0].provider");
  // A forged sealed value.
  std::string forged = document();
  forged.replace(forged.find(std::string("\"") + kSecret + "\""), std::strlen(kSecret) + 2,
                 R"({"sealed":"gh1.00000000.AAAA","last4":""})");
  r = call("PUT", "/api/v1/config", forged);
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(body(r)["field"].as_string(), "llm.providers[0].api_key");
  EXPECT_EQ(revision(), rev);
  EXPECT_EQ(built()->llm.providers[2].api_key, kSecret);
}

TEST_F(DeclarativeLlm, SettingsNamesWorkspacesAndIgnoredKeys) {
  // A settings provider may be named by a model, not redefined.
  std::string redefine = R"({"llm":{"providers":[{"name":"file-openai","kind":"openai",)"
                         R"("base_url":"http://127.0.0.1:9","api_key":"sk-x"}]}})";
  auto r = call("PUT", "/api/v1/config", redefine);
  ASSERT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(body(r)["code"].as_string(), "managed_by_settings");
  EXPECT_EQ(body(r)["field"].as_string(), "llm.providers[0].name");
  r = call("PUT", "/api/v1/config",
           R"({"llm":{"models":[{"name":"f","targets":[{"provider":"file-openai","model":"m"}]}],)"
           R"("prices":[]}})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body(r)["ignored"].as_array(), json::array{"llm.prices"});
  // Node-wide: another workspace's document cannot hold them.
  r = call("PUT", "/api/v1/config?workspace=team", document());
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(body(r)["code"].as_string(), "node_wide");
  EXPECT_EQ(body(r)["field"].as_string(), "llm.providers");
}

TEST_F(DeclarativeLlm, OwnerTagManagesOnlyItsOwn) {
  ASSERT_EQ(call("POST", "/api/v1/llm/providers",
                 R"({"name":"ui","kind":"openai-compatible","base_url":"http://127.0.0.1:9"})")
                .status,
            201);
  std::string mine = R"({"llm":{"providers":[{"name":"team","kind":"openai-compatible",)"
                     R"("base_url":"http://127.0.0.1:9"}],"models":[{"name":"tm","targets":)"
                     R"([{"provider":"ui","model":"m"}]}]}})";
  auto r = call("PUT", "/api/v1/config?owner=team-a", mine);
  ASSERT_EQ(r.status, 200) << r.body;
  auto team = body(call("GET", "/api/v1/llm/providers/team"));
  EXPECT_EQ(team["tags"].as_array(), json::array{"team-a"});
  // Not named any more: only the owner's go.
  r = call("PUT", "/api/v1/config?owner=team-a", "{}");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body(r)["changes"].as_array().size(), 2u);
  EXPECT_EQ(call("GET", "/api/v1/llm/providers/team").status, 404);
  EXPECT_EQ(call("GET", "/api/v1/llm/providers/ui").status, 200);
  // Claiming the UI's provider is refused.
  r = call("PUT", "/api/v1/config?owner=team-a",
           R"({"llm":{"providers":[{"name":"ui","kind":"openai-compatible",)"
           R"("base_url":"http://127.0.0.1:9"}]}})");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(body(r)["code"].as_string(), "not_owned");
  // Without an owner the document is the whole truth: no llm section, none left.
  r = call("PUT", "/api/v1/config", "{}");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(call("GET", "/api/v1/llm/providers/ui").status, 404);
}

TEST_F(DeclarativeLlm, NoKeyEncryptionKeyIsTheApisError) {
  secrets::process_keyring() = secrets::Keyring{};
  auto r = call("PUT", "/api/v1/config", document());
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(body(r)["code"].as_string(), "secret_key_missing");
  EXPECT_EQ(body(r)["field"].as_string(), "llm.providers[0].api_key");
  EXPECT_EQ(revision(), 0);
}

// "line:column", or "-" when not found.
std::string at(std::string_view text, std::string_view path) {
  auto p = locate_in_yaml(text, path);
  return p ? std::to_string(p->first) + ":" + std::to_string(p->second) : "-";
}

TEST(YamlLocate, FindsValuesAndFallsBackToParents) {
  std::string text =
      "routes:\n  - name: a\n    upstream: x\nllm:\n  models:\n    - name: m\n"
      "      targets: [{provider: p, model: q}]\n";
  EXPECT_EQ(at(text, "routes[0].upstream"), "3:15");
  EXPECT_EQ(at(text, "llm.models[0].targets[0].provider"), "7:28");
  EXPECT_EQ(at(text, "llm.models[0].fallbacks[2]"), "6:7");  // the model
  EXPECT_EQ(at(text, "routes[5].name"), "2:3");              // the list
  EXPECT_EQ(at(text, "nothing"), "-");
  EXPECT_EQ(at("a: [", "a"), "-");
  EXPECT_EQ(at(text, "routes[99999999999].x"), "2:3");
}

}  // namespace
}  // namespace gatehouse::admin
