// /api/v1/consumers/{consumer}/credentials: the credentials kept inside their
// consumer's body (so a consumer and its credentials change atomically and a
// YAML consumer item is the whole story). Each credential has its own id;
// its ETag is the consumer's version. Secrets are hashed on write and
// redacted on read.
#include "admin/api.hpp"
#include "admin/config_bridge.hpp"
#include "store/codec.hpp"

namespace gatehouse::admin {

namespace json = boost::json;
using store::Entity;
using store::Ref;

namespace {

constexpr int kAttempts = 3;  // retries when the consumer changed under us

Ref consumer_ref(const std::string& ws, const std::string& key) {
  if (auto id = store::normalize_uuid(key)) return Ref::by_id("consumer", *id, ws);
  return Ref::by_name("consumer", key, ws);
}

json::array& creds_of(Entity& e) {
  if (!e.body.is_object()) e.body = json::object();
  auto& o = e.body.get_object();
  if (!o.contains("credentials") || !o["credentials"].is_array()) o["credentials"] = json::array();
  return o["credentials"].get_array();
}

json::object present(const json::object& cred, const Entity& consumer) {
  json::object out = cred;
  redact_credential(out);
  out["consumer"] = json::object{{"id", consumer.id}, {"name", consumer.name}};
  return out;
}

long find_cred(json::array& creds, const std::string& id) {
  auto norm = store::normalize_uuid(id).value_or(id);
  for (size_t i = 0; i < creds.size(); ++i)
    if (creds[i].is_object())
      if (auto* v = creds[i].get_object().if_contains("id");
          v && v->is_string() && v->get_string() == norm)
        return static_cast<long>(i);
  return -1;
}

AdminResponse not_found_cred(const std::string& id) {
  return problem(404, "not_found", "credential " + id + " not found");
}

// Reads the consumer, lets `edit` change it, commits with the read version as
// precondition; retries when someone else changed the consumer meanwhile
// (unless the client gave If-Match).
AdminResponse modify(Ctx& c, const std::function<AdminResponse(Entity&, long& index)>& edit,
                     int ok_status) {
  auto ws = c.workspace();
  if (!ws) return error_response(ws.error());
  auto expected = if_match(c.req);
  if (!expected) return error_response(expected.error());
  for (int attempt = 0;; ++attempt) {
    auto cons = c.store().get(consumer_ref(*ws, c.vars["consumer"]));
    if (!cons) return error_response(cons.error());
    Entity before = *cons;
    Entity e = *cons;
    long index = -1;
    AdminResponse early = edit(e, index);
    if (early.status != 0) return early;
    if (auto n = normalize_for_write(e, &before); !n) {
      Error err = n.error();
      std::string prefix = "credentials[" + std::to_string(index) + "]";
      if (err.field.rfind(prefix, 0) == 0)
        err.field = err.field.substr(std::min(err.field.size(), prefix.size() + 1));
      return error_response(err);
    }
    auto tx = c.store().begin(c.who.actor);
    tx.update(e, *expected ? *expected : before.version);
    auto res = tx.commit();
    if (!res) {
      const Error& err = res.error();
      if (err.code == "version_conflict" && !*expected && attempt + 1 < kAttempts) continue;
      Error mapped = err;
      std::string prefix = "credentials[" + std::to_string(index) + "]";
      if (mapped.field.rfind(prefix, 0) == 0 && mapped.file.rfind("consumer/" + e.id, 0) == 0)
        mapped.field = mapped.field.substr(std::min(mapped.field.size(), prefix.size() + 1));
      return error_response(mapped, "consumer", e.id);
    }
    auto after = c.store().get(Ref::by_id("consumer", e.id, e.workspace));
    if (!after) return error_response(after.error());
    AdminResponse r;
    if (ok_status == 204) {
      r.status = 204;
    } else {
      auto& creds = creds_of(*after);
      r = json_response(ok_status, present(creds[static_cast<size_t>(index)].get_object(), *after));
      if (ok_status == 201)
        r.headers.emplace_back(
            "Location",
            "/api/v1/consumers/" + after->id + "/credentials/" +
                std::string(creds[static_cast<size_t>(index)].get_object().at("id").get_string()));
    }
    r.headers.emplace_back("ETag", etag(after->version));
    return r;
  }
}

Result<json::object> cred_body(Ctx& c) {
  auto v = parse_json_body(c.req);
  if (!v) return v.error();
  if (!v->is_object())
    return make_error("invalid_body", "the body must be a JSON object", {}, 400,
                      ErrorSide::kDownstream);
  json::object o = std::move(v->get_object());
  o.erase("consumer");  // read-only: the URL names the consumer
  return o;
}

AdminResponse list(Ctx& c) {
  auto ws = c.workspace();
  if (!ws) return error_response(ws.error());
  auto cons = c.store().get(consumer_ref(*ws, c.vars["consumer"]));
  if (!cons) return error_response(cons.error());
  json::array items;
  for (const auto& cr : creds_of(*cons))
    if (cr.is_object()) items.push_back(present(cr.get_object(), *cons));
  auto r = json_response(200, json::object{{"items", std::move(items)}, {"next_cursor", nullptr}});
  r.headers.emplace_back("ETag", etag(cons->version));
  return r;
}

AdminResponse get_one(Ctx& c) {
  auto ws = c.workspace();
  if (!ws) return error_response(ws.error());
  auto cons = c.store().get(consumer_ref(*ws, c.vars["consumer"]));
  if (!cons) return error_response(cons.error());
  auto& creds = creds_of(*cons);
  long i = find_cred(creds, c.vars["id"]);
  if (i < 0) return not_found_cred(c.vars["id"]);
  auto r = json_response(200, present(creds[static_cast<size_t>(i)].get_object(), *cons));
  r.headers.emplace_back("ETag", etag(cons->version));
  return r;
}

}  // namespace

void register_credential_routes(Api& api) {
  using store::Role;
  const std::string base = "/api/v1/consumers/{consumer}/credentials";
  const std::string tag = "credentials";
  api.add({"GET", base, Role::kViewer, false, "List a consumer's credentials (secrets redacted)",
           tag, list});
  api.add({"POST", base, Role::kEditor, true,
           "Add a credential (key-auth keys and basic-auth passwords are stored hashed)", tag,
           [](Ctx& c) {
             auto body = cred_body(c);
             if (!body) return error_response(body.error());
             if (auto* id = body->if_contains("id");
                 id && !(id->is_string() && is_uuid(id->get_string())))
               return problem(400, "invalid_entity", "a credential id must be a UUID", "id");
             return modify(
                 c,
                 [&](Entity& e, long& index) {
                   auto& creds = creds_of(e);
                   json::object cred = *body;
                   if (auto* id = cred.if_contains("id");
                       id && find_cred(creds, std::string(id->get_string())) >= 0)
                     return problem(409, "id_conflict",
                                    "the consumer already has a credential with this id", "id");
                   if (!cred.contains("id")) cred["id"] = store::new_uuid();
                   creds.push_back(std::move(cred));
                   index = static_cast<long>(creds.size()) - 1;
                   return AdminResponse{0, {}, {}, {}};
                 },
                 201);
           }});
  api.add({"GET", base + "/{id}", Role::kViewer, false, "Get one credential (secrets redacted)",
           tag, get_one});
  auto put = [](bool patch) {
    return [patch](Ctx& c) {
      auto body = cred_body(c);
      if (!body) return error_response(body.error());
      return modify(
          c,
          [&](Entity& e, long& index) {
            auto& creds = creds_of(e);
            index = find_cred(creds, c.vars["id"]);
            if (index < 0) return not_found_cred(c.vars["id"]);
            json::value& slot = creds[static_cast<size_t>(index)];
            json::value id = slot.get_object().at("id");
            if (patch) {
              merge_patch(slot, *body);
            } else {
              slot = *body;
            }
            slot.get_object()["id"] = id;
            return AdminResponse{0, {}, {}, {}};
          },
          200);
    };
  };
  api.add({"PUT", base + "/{id}", Role::kEditor, true,
           "Replace a credential; \"<redacted>\" keeps a stored secret", tag, put(false)});
  api.add({"PATCH", base + "/{id}", Role::kEditor, true, "Update a credential (JSON merge patch)",
           tag, put(true)});
  api.add({"DELETE", base + "/{id}", Role::kEditor, true, "Delete a credential", tag, [](Ctx& c) {
             return modify(
                 c,
                 [&](Entity& e, long& index) {
                   auto& creds = creds_of(e);
                   long i = find_cred(creds, c.vars["id"]);
                   if (i < 0) return not_found_cred(c.vars["id"]);
                   creds.erase(creds.begin() + i);
                   index = -1;
                   return AdminResponse{0, {}, {}, {}};
                 },
                 204);
           }});
}

}  // namespace gatehouse::admin
