// /api/v1/llm/{providers,models} against a real SQLite store: sealed keys,
// masks, references, settings-file items, rekey, and the built config.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "admin/api.hpp"
#include "admin/config_bridge.hpp"
#include "admin/llm_entities.hpp"
#include "admin/secrets.hpp"
#include "admin/yaml_json.hpp"
#include "policies/crypto.hpp"

namespace gatehouse::admin {
namespace {

namespace json = boost::json;

const std::string kKeyA = policy::base64_encode(std::string(32, 'a'));
const std::string kKeyB = policy::base64_encode(std::string(32, 'b'));
constexpr const char* kSecret = "sk-test-PLAINTEXT-0123456789wxyz";

class LlmApi : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gatehouse-llm-api-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    secrets::process_keyring() = *secrets::Keyring::parse(kKeyA, "test");
    auto s = store::open_store("sqlite:" + dir_ + "/g.db", dir_);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(s.value());
    settings_ = *yaml_to_json(
        "providers:\n"
        "  - {name: file-openai, kind: openai, base_url: \"http://127.0.0.1:9\", api_key: "
        "sk-from-settings-file-5678}\n"
        "models:\n"
        "  - {name: file-model, targets: [{provider: file-openai, model: gpt-4o}]}\n",
        false);
    store_->set_validator(make_validator({}, settings_));
    ApiHost host;
    host.store = store_.get();
    host.revision = [] { return int64_t{0}; };
    host.settings_llm = settings_;
    api_ = std::make_unique<Api>(std::move(host));
    admin_ = store_->create_token("test", "admin", store::Role::kAdmin, "")->secret;
    editor_ = store_->create_token("test", "editor", store::Role::kEditor, "")->secret;
  }
  void TearDown() override {
    api_.reset();
    store_.reset();
    secrets::process_keyring() = secrets::Keyring{};
    std::filesystem::remove_all(dir_);
  }

  AdminResponse call(const std::string& method, const std::string& target,
                     const std::string& body = "", const std::string& token = "") {
    ApiRequest r;
    r.method = method;
    auto q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) r.query = target.substr(q + 1);
    r.body = body;
    r.headers.emplace_back("Authorization", "Bearer " + (token.empty() ? admin_ : token));
    return api_->handle(r);
  }
  static json::object body(const AdminResponse& r) { return json::parse(r.body).as_object(); }

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

  void make_provider() {
    auto r = call("POST", "/api/v1/llm/providers",
                  std::string(R"({"name":"oa","kind":"openai","base_url":"http://127.0.0.1:9",)") +
                      R"("api_key":")" + kSecret + R"("})");
    ASSERT_EQ(r.status, 201) << r.body;
  }

  Result<config::Config> built() {
    auto snap = store_->load_all();
    return build_config(snap->entities, nullptr, nullptr, &settings_);
  }

  std::string dir_;
  json::value settings_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Api> api_;
  std::string admin_, editor_;
};

TEST_F(LlmApi, KeyIsSealedAtRestAndMaskedOnRead) {
  make_provider();
  auto got = call("GET", "/api/v1/llm/providers/oa");
  ASSERT_EQ(got.status, 200);
  auto b = body(got);
  EXPECT_EQ(b["api_key"].as_string(), "****wxyz");
  EXPECT_TRUE(b["has_api_key"].as_bool());
  for (const auto* r : {&got}) EXPECT_EQ(r->body.find("PLAINTEXT"), std::string::npos);
  EXPECT_EQ(call("GET", "/api/v1/llm/providers").body.find("PLAINTEXT"), std::string::npos);
  EXPECT_EQ(call("GET", "/api/v1/audit").body.find("PLAINTEXT"), std::string::npos);
  EXPECT_EQ(call("GET", "/api/v1/audit").body.find("gh1."), std::string::npos);
  EXPECT_EQ(db_bytes().find("PLAINTEXT"), std::string::npos);
  EXPECT_NE(db_bytes().find("gh1."), std::string::npos);
  // The data plane gets the plaintext.
  auto cfg = built();
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  ASSERT_EQ(cfg->llm.providers.size(), 2u);
  EXPECT_EQ(cfg->llm.providers[0].name, "file-openai");
  EXPECT_EQ(cfg->llm.providers[1].name, "oa");
  EXPECT_EQ(cfg->llm.providers[1].api_key, kSecret);
}

TEST_F(LlmApi, GetPutRoundTripKeepsTheKeyAndPatchChangesIt) {
  make_provider();
  auto b = body(call("GET", "/api/v1/llm/providers/oa"));
  b["timeouts"] = json::object{{"connect", "2s"}};
  auto put = call("PUT", "/api/v1/llm/providers/oa", json::serialize(b));
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(built()->llm.providers[1].api_key, kSecret);
  auto patched =
      call("PATCH", "/api/v1/llm/providers/oa", R"({"api_key":"sk-new-key-000000009999"})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(body(patched)["api_key"].as_string(), "****9999");
  EXPECT_EQ(built()->llm.providers[1].api_key, "sk-new-key-000000009999");
  // A PATCH not naming the key keeps it.
  ASSERT_EQ(
      call("PATCH", "/api/v1/llm/providers/oa", R"({"base_url":"http://127.0.0.1:10"})").status,
      200);
  EXPECT_EQ(built()->llm.providers[1].api_key, "sk-new-key-000000009999");
  // Clearing it: an openai provider needs one, with the field named.
  auto cleared = call("PATCH", "/api/v1/llm/providers/oa", R"({"api_key":null})");
  EXPECT_EQ(cleared.status, 400) << cleared.body;
  EXPECT_EQ(body(cleared)["field"].as_string(), "api_key");
  // A sealed value cannot be forged from outside.
  auto forged = call("PATCH", "/api/v1/llm/providers/oa",
                     R"({"api_key":{"sealed":"gh1.00000000.AAAA","last4":""}})");
  EXPECT_EQ(forged.status, 400) << forged.body;
}

TEST_F(LlmApi, OpenAiCompatibleKeyCanBeClearedAndEnvReferencesResolve) {
  auto r = call(
      "POST", "/api/v1/llm/providers",
      R"({"name":"v","kind":"openai-compatible","base_url":"http://127.0.0.1:9","api_key":"${GH_TEST_LLM_KEY}"})");
  ASSERT_EQ(r.status, 400) << r.body;  // not set on this node
  EXPECT_EQ(body(r)["field"].as_string(), "api_key");
  setenv("GH_TEST_LLM_KEY", "sk-env-value", 1);
  r = call(
      "POST", "/api/v1/llm/providers",
      R"({"name":"v","kind":"openai-compatible","base_url":"http://127.0.0.1:9","api_key":"${GH_TEST_LLM_KEY}"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(body(r)["api_key"].as_string(), "${GH_TEST_LLM_KEY}");
  EXPECT_EQ(built()->llm.providers[1].api_key, "sk-env-value");
  auto c = call("PATCH", "/api/v1/llm/providers/v", R"({"api_key":null})");
  ASSERT_EQ(c.status, 200) << c.body;
  EXPECT_FALSE(body(c)["has_api_key"].as_bool());
  auto gh = call("PATCH", "/api/v1/llm/providers/v", R"({"api_key":"${GATEHOUSE_SECRET_KEY}"})");
  EXPECT_EQ(gh.status, 400) << gh.body;
  unsetenv("GH_TEST_LLM_KEY");
}

TEST_F(LlmApi, ModelsCheckReferencesAndProvidersInUseCannotGo) {
  make_provider();
  auto bad = call("POST", "/api/v1/llm/models",
                  R"({"name":"m","targets":[{"provider":"nope","model":"gpt-4o"}]})");
  ASSERT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(body(bad)["code"].as_string(), "unknown_provider");
  EXPECT_EQ(body(bad)["field"].as_string(), "targets[0].provider");
  auto ok = call(
      "POST", "/api/v1/llm/models",
      R"({"name":"m","targets":[{"provider":"oa","model":"gpt-4o"}],"fallbacks":["file-model"]})");
  ASSERT_EQ(ok.status, 201) << ok.body;
  EXPECT_EQ(call("GET", "/api/v1/llm/models/m").status, 200);
  auto del = call("DELETE", "/api/v1/llm/providers/oa");
  EXPECT_EQ(del.status, 409) << del.body;
  EXPECT_EQ(body(del)["code"].as_string(), "in_use");
  // A route serving the model: the model is in use too.
  ASSERT_EQ(call("POST", "/api/v1/routes",
                 R"({"name":"ai","match":{"paths":["/v1/"]},"llm":{"models":["m"]}})")
                .status,
            201);
  EXPECT_EQ(call("DELETE", "/api/v1/llm/models/m").status, 409);
  ASSERT_EQ(call("DELETE", "/api/v1/routes/ai").status, 204);
  EXPECT_EQ(call("DELETE", "/api/v1/llm/models/m").status, 204);
  EXPECT_EQ(call("DELETE", "/api/v1/llm/providers/oa").status, 204);
}

TEST_F(LlmApi, SettingsItemsAreListedReadOnly) {
  auto list = call("GET", "/api/v1/llm/providers");
  ASSERT_EQ(list.status, 200);
  auto items = body(list)["items"].as_array();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].at("origin").as_string(), "settings");
  EXPECT_EQ(items[0].at("api_key").as_string(), "****5678");
  EXPECT_EQ(list.body.find("sk-from-settings"), std::string::npos);
  EXPECT_EQ(call("GET", "/api/v1/llm/models/file-model").status, 200);
  EXPECT_EQ(call("DELETE", "/api/v1/llm/providers/file-openai").status, 409);
  EXPECT_EQ(call("PATCH", "/api/v1/llm/providers/file-openai", "{}").status, 409);
  EXPECT_EQ(
      call("POST", "/api/v1/llm/providers",
           R"({"name":"file-openai","kind":"openai-compatible","base_url":"http://127.0.0.1:9"})")
          .status,
      409);
}

TEST_F(LlmApi, NodeWideOnlyInTheDefaultWorkspace) {
  auto r = call("POST", "/api/v1/llm/providers?workspace=team",
                R"({"name":"x","kind":"openai-compatible","base_url":"http://127.0.0.1:9"})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(body(r)["code"].as_string(), "node_wide");
}

TEST_F(LlmApi, RekeyMovesSecretsToTheCurrentKey) {
  make_provider();
  std::string old_id = secrets::process_keyring().current()->id;
  EXPECT_EQ(sealed_key_ids(store_->load_all()->entities), std::vector<std::string>{old_id});
  // Rotation: the new key first, the old one kept for reading.
  secrets::process_keyring() = *secrets::Keyring::parse(kKeyB + "\n" + kKeyA, "test");
  EXPECT_EQ(call("POST", "/api/v1/llm/rekey", "", editor_).status, 403);
  auto r = call("POST", "/api/v1/llm/rekey");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body(r)["resealed"].as_int64(), 1);
  std::string new_id = secrets::process_keyring().current()->id;
  EXPECT_EQ(sealed_key_ids(store_->load_all()->entities), std::vector<std::string>{new_id});
  // The old key can go now.
  secrets::process_keyring() = *secrets::Keyring::parse(kKeyB, "test");
  EXPECT_EQ(built()->llm.providers[1].api_key, kSecret);
  EXPECT_EQ(body(call("POST", "/api/v1/llm/rekey"))["resealed"].as_int64(), 0);
  // Without the key the config does not build, and says why.
  secrets::process_keyring() = *secrets::Keyring::parse(kKeyA, "test");
  auto cfg = built();
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.error().code, "secret_key_missing");
  EXPECT_EQ(cfg.error().field, "api_key");
}

}  // namespace
}  // namespace gatehouse::admin
