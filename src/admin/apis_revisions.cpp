// /api/v1/apis revisions, deploy and lifecycle: adding an immutable revision
// (an OpenAPI document, stored once by its sha256), listing and reading them,
// deploying one (its operations become the version's routes; rollback is
// deploying an earlier one) and moving a version through its states with the
// breaking-change rule. The APIs and versions themselves are in apis.cpp.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "admin/apis_internal.hpp"
#include "admin/config_bridge.hpp"
#include "apim/lifecycle.hpp"
#include "apim/openapi/diff.hpp"
#include "apim/openapi/to_routes.hpp"
#include "apim/spec_set.hpp"
#include "common/json.hpp"
#include "store/codec.hpp"

namespace gatehouse::admin::apis_detail {

using store::Entity;
using store::Ref;
namespace oa = apim::openapi;

namespace {

bool truthy(const std::optional<std::string>& p) {
  return p && (*p == "true" || *p == "1");
}

Result<int64_t> revision_number(const std::string& s) {
  if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos)
    return bad("invalid_revision", "a revision is a positive number", "revision");
  return std::stoll(s);
}

// Publishing must not break clients of another version with the same major:
// compare with each published or deprecated sibling's deployed document.
Result<void> check_publish(Ctx& c, const Loaded& l) {
  std::string vname = str(l.version->body, "version");
  int64_t mine = num(l.version->body, "deployed_revision");
  if (mine == 0) return Ok{};
  auto my_rev = get_revision(c, l, mine);
  if (!my_rev) return my_rev.error();
  auto my_doc = revision_document(c, *my_rev);
  if (!my_doc) return my_doc.error();
  store::ListQuery q;
  q.kind = "api_version";
  q.workspace = l.ws;
  q.name_prefix = l.api.name + "@";
  q.limit = 1000;
  auto page = c.store().list(q);
  if (!page) return page.error();
  for (const auto& other : page->items) {
    std::string ov = str(other.body, "version");
    std::string st = str(other.body, "state");
    if (ov == vname || apim::major_of(ov) != apim::major_of(vname)) continue;
    if (st != "published" && st != "deprecated") continue;
    int64_t dep = num(other.body, "deployed_revision");
    if (dep == 0) continue;
    Loaded ol = l;
    ol.version = other;
    auto orev = get_revision(c, ol, dep);
    if (!orev) return orev.error();
    auto odoc = revision_document(c, *orev);
    if (!odoc) return odoc.error();
    for (const auto& ch : oa::diff(*odoc, *my_doc))
      if (ch.level == oa::Level::kError)
        return bad("breaking_change",
                   "version " + vname + " breaks clients of published version " + ov +
                       " (same major): " + ch.location + ": " + ch.message +
                       "; use a new major version, or pass force: true",
                   "state", 409);
  }
  return Ok{};
}
}  // namespace

AdminResponse create_revision(Ctx& c) {
  auto l = load(c, true);
  if (!l) return fail(l.error());
  if (str(l->version->body, "state") == "retired")
    return problem(409, "invalid_state", "a retired version takes no new revisions", "state");
  // The body is the document itself (YAML or JSON), or a JSON envelope
  // {document, deploy, force, description} with the document as a string or object.
  std::string text = c.req.body;
  bool deploy = truthy(c.req.param("deploy")), force = truthy(c.req.param("force"));
  std::string description;
  boost::system::error_code ec;
  json::value env = parse_json(c.req.body, ec);
  if (!ec && env.is_object() && env.get_object().contains("document")) {
    const auto& o = env.get_object();
    const auto& d = o.at("document");
    if (d.is_string())
      text = std::string(d.get_string());
    else if (d.is_object())
      text = json::serialize(d);
    else
      return problem(400, "invalid_body", "document must be a string or an object", "document");
    if (auto* b = o.if_contains("deploy"); b && b->is_bool()) deploy = b->get_bool();
    if (auto* b = o.if_contains("force"); b && b->is_bool()) force = b->get_bool();
    description = str(env, "description");
  }
  if (text.empty())
    return problem(400, "invalid_body", "an OpenAPI document is required", "document");
  auto doc = oa::load_document(text, "document");
  if (!doc) return document_problem(doc.error());
  auto sha = c.store().put_document(text);
  if (!sha) return fail(sha.error());
  Entity v = *l->version;
  int64_t n = num(v.body, "latest_revision") + 1;
  v.body.get_object()["latest_revision"] = n;
  std::string vname = str(v.body, "version");
  Entity rev;
  rev.kind = "api_revision";
  rev.workspace = l->ws;
  rev.name = v.name + "#" + std::to_string(n);
  rev.body = json::object{{"api", l->api.name},
                          {"version", vname},
                          {"number", n},
                          {"sha256", *sha},
                          {"size", static_cast<int64_t>(text.size())},
                          {"spec_version", oa::spec_version_name(doc->version)},
                          {"title", doc->title},
                          {"info_version", doc->api_version},
                          {"operations", static_cast<int64_t>(doc->operations.size())},
                          {"description", description},
                          {"created_by", c.who.actor}};
  auto tx = c.store().begin(c.who.actor);
  tx.create(rev);
  if (deploy) {
    if (auto r = check_compatible(c, *l, rev, force); !r) return fail(r.error());
    if (auto r = stage_deploy(c, tx, *l, v, rev); !r) return fail(r.error());
  } else {
    tx.update(v, v.version);
  }
  if (auto r = tx.commit(); !r) return fail(r.error());
  auto got = c.store().get(Ref::by_name("api_revision", rev.name, l->ws));
  if (!got) return fail(got.error());
  auto r = answer(201, revision_view(*got));
  r.headers.emplace_back("Location", "/api/v1/apis/" + l->api.name + "/versions/" + vname +
                                         "/revisions/" + std::to_string(n));
  return r;
}

AdminResponse list_revisions(Ctx& c) {
  auto l = load(c, true);
  if (!l) return fail(l.error());
  auto revs = version_revisions(c, *l);
  if (!revs) return fail(revs.error());
  std::vector<Entity>& all = *revs;
  std::sort(all.begin(), all.end(), [](const Entity& a, const Entity& b) {
    return num(a.body, "number") < num(b.body, "number");
  });
  json::array items;
  int64_t deployed = num(l->version->body, "deployed_revision");
  for (const auto& e : all) {
    auto v = revision_view(e);
    v["deployed"] = num(e.body, "number") == deployed;
    items.push_back(std::move(v));
  }
  return answer(200, {{"items", std::move(items)}});
}

AdminResponse get_revision_handler(Ctx& c, bool document) {
  auto l = load(c, true);
  if (!l) return fail(l.error());
  auto n = revision_number(c.vars["n"]);
  if (!n) return fail(n.error());
  auto rev = get_revision(c, *l, *n);
  if (!rev) return fail(rev.error());
  if (!document) return answer(200, revision_view(*rev));
  auto text = c.store().get_document(str(rev->body, "sha256"));
  if (!text) return fail(text.error());
  AdminResponse r;
  r.status = 200;
  size_t i = text->find_first_not_of(" \t\r\n");
  r.content_type =
      i != std::string::npos && (*text)[i] == '{' ? "application/json" : "application/yaml";
  r.body = std::move(*text);
  return r;
}

// ---- deploy and lifecycle -------------------------------------------------

AdminResponse deploy(Ctx& c) {
  auto l = load(c, true);
  if (!l) return fail(l.error());
  auto body = parse_json_body(c.req);
  if (!body) return fail(body.error());
  if (!body->is_object() || !body->get_object().contains("revision") ||
      !body->get_object().at("revision").is_int64())
    return problem(400, "invalid_body", "the body is {\"revision\": N, \"force\": false}",
                   "revision");
  auto rev = get_revision(c, *l, body->get_object().at("revision").as_int64());
  if (!rev) return fail(rev.error());
  bool force = false;
  if (auto* f = body->get_object().if_contains("force"); f && f->is_bool()) force = f->get_bool();
  if (auto r = check_compatible(c, *l, *rev, force); !r) return fail(r.error());
  auto tx = c.store().begin(c.who.actor);
  if (auto r = stage_deploy(c, tx, *l, *l->version, *rev); !r) return fail(r.error());
  return commit_version(c, tx, *l, 200);
}

AdminResponse lifecycle(Ctx& c) {
  auto l = load(c, true);
  if (!l) return fail(l.error());
  auto body = parse_json_body(c.req);
  if (!body) return fail(body.error());
  if (!body->is_object()) return problem(400, "invalid_body", "the body must be a JSON object");
  auto from = apim::parse_state(str(l->version->body, "state")).value_or(apim::State::kDraft);
  auto to = apim::parse_state(str(*body, "state"));
  if (!to)
    return problem(400, "invalid_state",
                   "state must be draft, published, deprecated, retired or blocked", "state");
  if (!apim::transition_allowed(from, *to)) {
    std::string allowed;
    for (auto s : apim::next_states(from))
      allowed += (allowed.empty() ? "" : ", ") + std::string(apim::state_name(s));
    return problem(409, "invalid_transition",
                   "a " + std::string(apim::state_name(from)) + " version cannot become " +
                       std::string(apim::state_name(*to)) +
                       (allowed.empty() ? " (it is final)" : " (allowed: " + allowed + ")"),
                   "state");
  }
  bool force = false;
  if (auto* f = body->get_object().if_contains("force"); f && f->is_bool()) force = f->get_bool();
  if (*to == apim::State::kPublished && !force)
    if (auto r = check_publish(c, *l); !r) return fail(r.error());
  Entity v = *l->version;
  auto& vb = v.body.get_object();
  vb["state"] = apim::state_name(*to);
  if (*to == apim::State::kDeprecated && from != apim::State::kDeprecated)
    vb["deprecated_at"] = store::now_ms();
  if (*to == apim::State::kPublished) {
    vb.erase("deprecated_at");
    vb.erase("sunset");
  }
  if (auto* s = body->get_object().if_contains("sunset")) {
    auto t = s->is_string() ? apim::parse_http_date(s->get_string()) : std::nullopt;
    if (!t)
      return problem(
          400, "invalid_value",
          "sunset must be an HTTP-date or an ISO date (2026-12-31, 2026-12-31T23:59:59Z)",
          "sunset");
    vb["sunset"] = apim::http_date(*t);
  }
  if (auto r = read_version_settings(body->get_object(), vb); !r) return fail(r.error());
  auto tx = c.store().begin(c.who.actor);
  if (auto r = stage_version_update(c, tx, *l, v); !r) return fail(r.error());
  return commit_version(c, tx, *l, 200);
}

}  // namespace gatehouse::admin::apis_detail
