// /api/v1/audit: every change with who, what, before and after (newest
// first). Credential secrets inside consumer snapshots are redacted.
#include "admin/api.hpp"
#include "admin/certificates.hpp"
#include "admin/config_bridge.hpp"
#include "admin/llm_entities.hpp"

namespace gatehouse::admin {

namespace json = boost::json;

namespace {

void redact_snapshot(json::value& v) {
  if (!v.is_object()) return;
  for (const char* where : {"body", ""}) {
    json::object* o = &v.get_object();
    if (*where) {
      auto* b = o->if_contains(where);
      if (!b || !b->is_object()) continue;
      o = &b->get_object();
    }
    if (auto* creds = o->if_contains("credentials"); creds && creds->is_array())
      for (auto& c : creds->get_array())
        if (c.is_object()) redact_credential(c.get_object());
    mask_sealed_values(*o);  // provider keys: never even their ciphertext
    drop_sealed_key(*o);     // certificate keys: not even there
  }
}

AdminResponse list(Ctx& c) {
  auto limit = limit_param(c.req);
  if (!limit) return error_response(limit.error());
  store::AuditQuery q;
  q.kind = c.req.param("kind").value_or("");
  q.entity_id = c.req.param("entity_id").value_or("");
  q.actor = c.req.param("actor").value_or("");
  q.workspace = c.who.workspace.empty() ? c.req.param("workspace").value_or("") : c.who.workspace;
  if (auto s = c.req.param("since_revision")) {
    if (s->empty() || s->size() > 18 || s->find_first_not_of("0123456789") != std::string::npos)
      return problem(400, "invalid_query", "since_revision must be a number", "since_revision");
    q.since_revision = std::stoll(*s);
  }
  q.limit = *limit;
  q.cursor = c.req.param("cursor").value_or("");
  auto page = c.store().audit(q);
  if (!page) return error_response(page.error());
  json::array items;
  for (auto& a : page->items) {
    json::value before = a.before, after = a.after;
    redact_snapshot(before);
    redact_snapshot(after);
    items.push_back(json::object{{"id", a.id},
                                 {"revision", a.revision},
                                 {"at", a.at},
                                 {"actor", a.actor},
                                 {"action", a.action},
                                 {"kind", a.kind},
                                 {"entity_id", a.entity_id},
                                 {"workspace", a.workspace},
                                 {"name", a.name},
                                 {"before", before},
                                 {"after", after}});
  }
  json::object out{{"items", std::move(items)},
                   {"next_cursor", page->next_cursor.empty() ? json::value(nullptr)
                                                             : json::value(page->next_cursor)}};
  return json_response(200, out);
}

}  // namespace

void register_audit_routes(Api& api) {
  api.add({"GET", "/api/v1/audit", store::Role::kViewer, false,
           "The audit log, newest first (?kind, entity_id, actor, since_revision, limit, cursor)",
           "audit", list});
}

}  // namespace gatehouse::admin
