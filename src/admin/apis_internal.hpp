// What the /api/v1/apis handlers share: apis.cpp (APIs and versions) and
// apis_revisions.cpp (revisions, deploy, lifecycle). Internal to the admin
// module; the two files were one until it outgrew the file-size rule.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "admin/api.hpp"
#include "apim/openapi/loader.hpp"
#include "store/store.hpp"

namespace gatehouse::admin::apis_detail {

namespace json = boost::json;

std::string str(const json::value& body, std::string_view key);
int64_t num(const json::value& body, std::string_view key);
bool flag(const json::value& body, std::string_view key);
// The tag owning the routes a deployed version generates: "api:NAME@VERSION".
std::string owner_tag(const std::string& api, const std::string& version);

json::object api_view(const store::Entity& e);
json::object version_view(const store::Entity& e);
json::object revision_view(const store::Entity& e);

AdminResponse fail(const Error& e);
Error bad(std::string code, std::string message, std::string field = {}, int status = 400);
// A problem in the OpenAPI document: the JSON pointer and line:column.
AdminResponse document_problem(const Error& e);
AdminResponse answer(int status, json::object o);

// The API named by the path's {api} and, when asked, its {version}.
struct Loaded {
  std::string ws;
  store::Entity api;
  std::optional<store::Entity> version;
};
Result<Loaded> load(Ctx& c, bool with_version);
// Every revision of the loaded version, in store order (all pages).
Result<std::vector<store::Entity>> version_revisions(Ctx& c, const Loaded& l);
Result<store::Entity> get_revision(Ctx& c, const Loaded& l, int64_t n);
Result<apim::openapi::Document> revision_document(Ctx& c, const store::Entity& rev);

// Adds to `tx` what deploying `rev` of `version` means (see apis.cpp).
Result<void> stage_deploy(Ctx& c, store::Transaction& tx, const Loaded& l, store::Entity version,
                          const store::Entity& rev);
// The breaking-change rule for a published or deprecated version's document.
Result<void> check_compatible(Ctx& c, const Loaded& l, const store::Entity& next_rev, bool force);
// Reads a version's settings (upstream, auth, successor, ...) from a request body.
Result<void> read_version_settings(const json::object& b, json::object& body);
// Adds to `tx` the version `v` with changed settings: redeployed (its routes
// made again from the deployed revision) when it has one, else just updated.
Result<void> stage_version_update(Ctx& c, store::Transaction& tx, const Loaded& l,
                                  const store::Entity& v);
// Commits `tx` and answers with the version as stored.
AdminResponse commit_version(Ctx& c, store::Transaction& tx, const Loaded& l, int status);

// apis_revisions.cpp
AdminResponse create_revision(Ctx& c);
AdminResponse list_revisions(Ctx& c);
AdminResponse get_revision_handler(Ctx& c, bool document);
AdminResponse deploy(Ctx& c);
AdminResponse lifecycle(Ctx& c);

}  // namespace gatehouse::admin::apis_detail
