#include "apim/spec_set.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "apim/openapi/loader.hpp"
#include "config/loader.hpp"

namespace gatehouse::apim {
namespace {

constexpr const char* kPets = R"(openapi: 3.1.0
info: {title: Pets, version: "1"}
paths:
  /pets:
    get: {operationId: listPets, responses: {"200": {description: ok}}}
    post: {operationId: createPet, responses: {"201": {description: made}}}
  /pets/mine:
    get: {operationId: myPets, responses: {"200": {description: ok}}}
  /pets/{petId}:
    get: {operationId: getPet, responses: {"200": {description: ok}}}
    delete: {operationId: deletePet, responses: {"204": {description: gone}}}
  /files/{name}.{ext}:
    get: {operationId: getFile, responses: {"200": {description: ok}}}
)";

openapi::Document pets() {
  auto d = openapi::load_document(kPets, "pets.yaml");
  EXPECT_TRUE(d.ok());
  return d.ok() ? d.value() : openapi::Document{};
}

TEST(MatchOperation, TemplatesAndParameters) {
  auto d = pets();
  auto m = match_operation(d, "", "GET", "/pets/42");
  ASSERT_NE(m.operation, nullptr);
  EXPECT_EQ(m.operation->operation_id, "getPet");
  ASSERT_EQ(m.path_params.size(), 1u);
  EXPECT_EQ(m.path_params[0].first, "petId");
  EXPECT_EQ(m.path_params[0].second, "42");
}

TEST(MatchOperation, LiteralSegmentBeatsTemplate) {
  auto d = pets();
  auto m = match_operation(d, "", "GET", "/pets/mine");
  ASSERT_NE(m.operation, nullptr);
  EXPECT_EQ(m.operation->operation_id, "myPets");
  EXPECT_TRUE(m.path_params.empty());
}

TEST(MatchOperation, KnownPathOtherMethodIs405WithAllow) {
  auto d = pets();
  auto m = match_operation(d, "", "PUT", "/pets/7");
  EXPECT_EQ(m.operation, nullptr);
  EXPECT_TRUE(m.path_known);
  EXPECT_EQ(m.allowed_methods, (std::vector<std::string>{"GET", "DELETE"}));
}

TEST(MatchOperation, UnknownPathAndBasePath) {
  auto d = pets();
  EXPECT_FALSE(match_operation(d, "", "GET", "/owners").path_known);
  EXPECT_FALSE(match_operation(d, "", "GET", "/pets/1/toys").path_known);
  auto m = match_operation(d, "/v1", "post", "/v1/pets?x=1");
  ASSERT_NE(m.operation, nullptr);
  EXPECT_EQ(m.operation->operation_id, "createPet");
  EXPECT_FALSE(match_operation(d, "/v1", "GET", "/v2/pets").path_known);
  EXPECT_FALSE(match_operation(d, "/v1", "GET", "/v1pets").path_known);
}

TEST(MatchOperation, MixedSegment) {
  auto d = pets();
  auto m = match_operation(d, "", "GET", "/files/report.tar.gz");
  ASSERT_NE(m.operation, nullptr);
  ASSERT_EQ(m.path_params.size(), 2u);
  // A parameter followed by a literal ends at the literal's first occurrence.
  EXPECT_EQ(m.path_params[0].second, "report");
  EXPECT_EQ(m.path_params[1].second, "tar.gz");
  EXPECT_EQ(match_operation(d, "", "GET", "/files/.gz").operation, nullptr);
}

TEST(FindOperation, ById) {
  auto d = pets();
  ASSERT_NE(find_operation(d, "deletePet"), nullptr);
  EXPECT_EQ(find_operation(d, "deletePet")->method, "DELETE");
  EXPECT_EQ(find_operation(d, "nope"), nullptr);
}

TEST(SpecSet, InlineAndFileSpecsFromConfig) {
  auto dir = std::filesystem::temp_directory_path() / "gatehouse_spec_set_test";
  std::filesystem::create_directories(dir / "specs");
  std::ofstream(dir / "specs" / "pets.yaml") << kPets;
  std::ofstream(dir / "gatehouse.yaml") << R"(specs:
  - {name: pets, file: specs/pets.yaml}
  - name: tiny
    document:
      openapi: 3.0.3
      info: {title: Tiny, version: "0.1"}
      paths: {/ping: {get: {responses: {"200": {description: pong}}}}}
)";
  auto r = config::load_config_file((dir / "gatehouse.yaml").string());
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].to_string());
  ASSERT_EQ(r.config.specs.size(), 2u);
  EXPECT_EQ(r.config.specs[0].file, (dir / "specs" / "pets.yaml").string());
  auto set = SpecSet::build(r.config.specs);
  ASSERT_TRUE(set.ok()) << set.error().message;
  ASSERT_NE((*set)->find("pets"), nullptr);
  EXPECT_EQ((*set)->find("pets")->document->operations.size(), 6u);
  ASSERT_NE((*set)->find("tiny"), nullptr);
  EXPECT_EQ((*set)->find("tiny")->document->title, "Tiny");
  EXPECT_EQ((*set)->find("other"), nullptr);
  // Unchanged inline text is taken over from the previous set.
  auto again = SpecSet::build(r.config.specs, set->get());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->find("tiny")->document, (*set)->find("tiny")->document);
  std::filesystem::remove_all(dir);
}

TEST(SpecSet, ConfigErrorsNameTheField) {
  auto r =
      config::load_config_text("specs:\n  - {name: a}\n  - {name: a, document: x}\n", "c.yaml");
  ASSERT_GE(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].field, "specs[0]");
  EXPECT_EQ(r.errors[0].code, "missing_field");
  EXPECT_EQ(r.errors[1].field, "specs[1].name");
  EXPECT_EQ(r.errors[1].code, "duplicate_name");
}

TEST(SpecSet, BadDocumentIsAConfigError) {
  std::vector<config::SpecConfig> specs(1);
  specs[0].name = "broken";
  specs[0].text = "openapi: 3.1.0\npaths: 5\n";
  specs[0].pos = {"c.yaml", 4, 5};
  auto set = SpecSet::build(specs);
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.error().field, "specs[0].document");
  EXPECT_EQ(set.error().code, "invalid_spec");
  EXPECT_EQ(set.error().line, 4);

  specs[0].text.clear();
  specs[0].file = "/nonexistent/spec.yaml";
  set = SpecSet::build(specs);
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.error().field, "specs[0].file");
  EXPECT_EQ(set.error().code, "spec_unreadable");
}

TEST(SpecSet, StoreDocumentsComeFromTheCacheAndFindApiTakesTheHighestVersion) {
  std::vector<config::SpecConfig> specs;
  for (std::string v : {"1.9", "1.10", "1.2"}) {
    config::SpecConfig s;
    s.name = "pets@" + v;
    s.api = "pets";
    s.version = v;
    s.sha256 = "sha-" + v;
    specs.push_back(s);
  }
  auto missing = SpecSet::build(specs);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "spec_unavailable");

  int fetched = 0;
  auto primed = prime_documents(specs, [&](const std::string&) -> Result<std::string> {
    ++fetched;
    return std::string(kPets);
  });
  ASSERT_TRUE(primed.ok());
  EXPECT_EQ(fetched, 3);
  EXPECT_TRUE(prime_documents(specs, [&](const std::string&) -> Result<std::string> {
                ++fetched;
                return std::string(kPets);
              }).ok());
  EXPECT_EQ(fetched, 3);  // parsed once per process
  auto set = SpecSet::build(specs);
  ASSERT_TRUE(set.ok()) << set.error().message;
  ASSERT_NE((*set)->find_api("pets"), nullptr);
  EXPECT_EQ((*set)->find_api("pets")->version, "1.10");
  EXPECT_EQ((*set)->find_api("cats"), nullptr);
  DocumentCache::instance().retain({});
  EXPECT_EQ(DocumentCache::instance().find("sha-1.9"), nullptr);
}

}  // namespace
}  // namespace gatehouse::apim
