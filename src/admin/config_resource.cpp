// /api/v1/config (the whole config of a workspace as one document: GET as
// JSON or YAML, PUT replaces it atomically, ?owner=TAG manages only the
// entities carrying TAG, ?dry_run=true answers the diff) and /api/v1/status.
#include <boost/json/parse.hpp>

#include "admin/api.hpp"
#include "admin/config_bridge.hpp"
#include "admin/declarative.hpp"
#include "admin/llm_entities.hpp"
#include "admin/yaml_json.hpp"
#include "common/json.hpp"
#include "common/strings.hpp"

namespace gatehouse::admin {

namespace json = boost::json;

namespace {

bool wants_yaml(const ApiRequest& req) {
  if (auto f = req.param("format")) return *f == "yaml";
  const std::string* a = req.header("accept");
  return a && (a->find("yaml") != std::string::npos);
}

AdminResponse document_response(const ApiRequest& req, const json::value& doc, int64_t revision) {
  AdminResponse r;
  if (wants_yaml(req)) {
    r.content_type = "application/yaml";
    r.body = json_to_block_yaml(doc);
  } else {
    r = json_response(200, doc);
  }
  if (revision >= 0) r.headers.emplace_back("X-Gatehouse-Revision", std::to_string(revision));
  return r;
}

AdminResponse get_config(Ctx& c) {
  if (c.api.host().file_mode) {
    auto doc = yaml_to_json(c.api.host().file_text ? c.api.host().file_text() : "", false);
    if (!doc) return error_response(doc.error());
    if (doc->is_object())
      if (auto* cons = doc->get_object().if_contains("consumers"); cons && cons->is_array())
        for (auto& cs : cons->get_array())
          if (cs.is_object())
            if (auto* creds = cs.get_object().if_contains("credentials");
                creds && creds->is_array())
              for (auto& cr : creds->get_array())
                if (cr.is_object()) redact_credential(cr.get_object());
    // Provider keys written inline in the file are masked; ${VAR} stays.
    if (doc->is_object())
      if (auto* llm = doc->get_object().if_contains("llm"); llm && llm->is_object())
        if (auto* ps = llm->get_object().if_contains("providers"); ps && ps->is_array())
          for (auto& p : ps->get_array())
            if (p.is_object()) mask_plain_secrets(p.get_object());
    return document_response(c.req, *doc, -1);
  }
  auto ws = c.workspace();
  if (!ws) return error_response(ws.error());
  bool secrets = c.req.param("secrets") == std::optional<std::string>("true");
  if (secrets && c.who.role != store::Role::kAdmin)
    return problem(403, "forbidden", "?secrets=true needs the admin role");
  int64_t rev = 0;
  auto doc = export_document(c.store(), *ws, !secrets, &rev);
  if (!doc) return error_response(doc.error());
  return document_response(c.req, *doc, rev);
}

AdminResponse put_config(Ctx& c) {
  auto ws = c.workspace();
  if (!ws) return error_response(ws.error());
  std::string owner = c.req.param("owner").value_or("");
  bool dry_run = c.req.param("dry_run") == std::optional<std::string>("true");
  const std::string* ct = c.req.header("content-type");
  json::value doc;
  if (ct && ct->find("json") != std::string::npos) {
    boost::system::error_code ec;
    doc = parse_json(c.req.body, ec);
    if (ec) return problem(400, "invalid_json", "the body is not valid JSON: " + ec.message());
  } else {
    // YAML (JSON is YAML too). ${VAR} is not expanded: the server's
    // environment is not the caller's to read.
    auto y = yaml_to_json(c.req.body, false);
    if (!y) {
      Error e = y.error();
      if (e.line > 0)
        e.message = "line " + std::to_string(e.line) + ", column " + std::to_string(e.column) +
                    ": " + e.message;
      return error_response(e);
    }
    doc = std::move(*y);
  }
  auto plan = plan_apply(c.store(), doc, *ws, owner, &c.api.host().settings_llm);
  if (!plan) return error_response(plan.error());
  json::array ignored;
  for (const auto& k : plan->ignored) ignored.emplace_back(k);
  if (dry_run) {
    auto rev = c.store().current_revision();
    if (!rev) return error_response(rev.error());
    return json_response(200, json::object{{"dry_run", true},
                                           {"revision", *rev},
                                           {"changes", diff_json(plan->diff)},
                                           {"ignored", std::move(ignored)}});
  }
  auto res = commit_plan(c.store(), c.who.actor, *plan);
  if (!res) return error_response(res.error());
  auto r = json_response(200, json::object{{"dry_run", false},
                                           {"revision", res->revision},
                                           {"changes", diff_json(plan->diff)},
                                           {"ignored", std::move(ignored)}});
  r.headers.emplace_back("X-Gatehouse-Revision", std::to_string(res->revision));
  return r;
}

AdminResponse status(Ctx& c) {
  json::object o;
  auto& host = c.api.host();
  o["data_plane_revision"] = host.revision ? host.revision() : 0;
  if (!host.file_mode && host.store) {
    auto rev = host.store->current_revision();
    if (!rev) return error_response(rev.error());
    o["mode"] = "store";
    o["store"] = host.store->describe();
    o["revision"] = *rev;
  } else {
    o["mode"] = "file";
    o["file"] = host.file_path;
  }
  return json_response(200, o);
}

}  // namespace

void register_config_routes(Api& api) {
  using store::Role;
  api.add({"GET", "/api/v1/config", Role::kViewer, false,
           "The whole config of a workspace as JSON, or YAML with Accept: application/yaml "
           "(secrets redacted unless ?secrets=true by an admin)",
           "config", get_config});
  api.add({"PUT", "/api/v1/config", Role::kEditor, true,
           "Replace the config atomically (JSON or YAML body); ?owner=TAG manages only entities "
           "tagged TAG; ?dry_run=true returns the diff",
           "config", put_config});
  api.add({"GET", "/api/v1/status", Role::kViewer, false,
           "Config revision in the store and the one the data plane runs", "config", status});
}

}  // namespace gatehouse::admin
