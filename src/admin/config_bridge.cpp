#include "admin/config_bridge.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <ctime>
#include <map>
#include <set>

#include "admin/certificates.hpp"
#include "admin/llm_entities.hpp"
#include "admin/yaml_json.hpp"
#include "common/metrics.hpp"
#include "config/load_tls.hpp"
#include "config/loader.hpp"
#include "policies/basic_auth/password.hpp"
#include "proxy/snapshot.hpp"
#include "store/codec.hpp"

namespace gatehouse::admin {

namespace json = boost::json;
using store::Entity;

namespace {

constexpr int64_t kPasswordIterations = 10'000;

Error bad(std::string field, std::string message, std::string code = "invalid_entity") {
  return make_error(std::move(code), std::move(message), std::move(field), 400,
                    ErrorSide::kDownstream);
}

bool is_config_kind(std::string_view k) {
  return std::find(std::begin(kConfigKinds), std::end(kConfigKinds), k) != std::end(kConfigKinds);
}

// "routes[3].match.paths[1]" -> ("routes", 3, "match.paths[1]").
bool split_doc_path(const std::string& path, std::string& section, size_t& index,
                    std::string& rest) {
  auto open = path.find('[');
  if (open == std::string::npos) return false;
  auto close = path.find(']', open);
  if (close == std::string::npos || close == open + 1) return false;
  section = path.substr(0, open);
  std::string n = path.substr(open + 1, close - open - 1);
  if (n.find_first_not_of("0123456789") != std::string::npos || n.size() > 9) return false;
  index = std::stoul(n);
  rest = path.substr(close + 1);
  if (!rest.empty() && rest[0] == '.') rest.erase(0, 1);
  return true;
}

// Entities of one document, by section, in document order.
struct DocIndex {
  std::map<std::string, std::vector<const Entity*>> sections;
  const Entity* find(const std::string& path, std::string& rest) const {
    std::string section;
    size_t i = 0;
    if (!split_doc_path(path, section, i, rest)) return nullptr;
    auto it = sections.find(section);
    if (it == sections.end() || i >= it->second.size()) return nullptr;
    return it->second[i];
  }
};

EntityProblem problem_at(const DocIndex& idx, Error e) {
  EntityProblem p;
  std::string rest;
  p.entity = idx.find(e.field, rest);
  if (p.entity) p.field = rest;
  p.error = std::move(e);
  return p;
}

Error problem_error(const EntityProblem& p) {
  Error e = p.error;
  e.status = 400;
  e.side = ErrorSide::kDownstream;
  e.line = 0;
  e.column = 0;
  if (p.entity) {
    e.file = p.entity->kind + "/" + p.entity->id + "/" + p.entity->name;
    e.field = p.field;
  } else {
    e.file.clear();
  }
  return e;
}

std::string qualify(const std::string& ws, const std::string& name) {
  return ws == store::kDefaultWorkspace ? name : ws + "/" + name;
}

std::string credential_identity(const json::object& c) {
  auto str = [&](const char* k) -> std::string {
    auto* v = c.if_contains(k);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  std::string type = str("type");
  if (type == "key-auth") {
    std::string h = str("key_hash");
    if (h.empty() && !str("key").empty()) h = "sha256:" + store::sha256_hex(str("key"));
    return type + "|" + h;
  }
  if (type == "jwt") return type + "|" + str("key");
  return type + "|" + str("username");
}

}  // namespace

std::string plural(std::string_view kind) {
  if (kind == "policy") return "policies";
  if (kind == kLlmProviderKind) return "llm/providers";
  if (kind == kLlmModelKind) return "llm/models";
  return std::string(kind) + "s";
}

std::optional<std::string> kind_of_section(std::string_view section) {
  for (auto k : kConfigKinds)
    if (plural(k) == section) return std::string(k);
  return std::nullopt;
}

json::object entity_item(const Entity& e, bool for_loader) {
  json::object item;
  item["name"] = e.name;
  if (e.kind != "policy" && !e.tags.empty()) {
    json::array tags;
    for (const auto& t : e.tags) tags.emplace_back(t);
    item["tags"] = std::move(tags);
  }
  if (e.body.is_object()) {
    for (const auto& kv : e.body.get_object()) {
      if (kv.key() == "name" || kv.key() == "tags") continue;
      item[kv.key()] = kv.value();
    }
  }
  if (e.kind == "consumer" && for_loader) {
    if (auto* creds = item.if_contains("credentials"); creds && creds->is_array()) {
      for (auto& c : creds->get_array())
        if (c.is_object()) c.get_object().erase("id");
    }
  }
  return item;
}

namespace {

// The deployed revision of every API version, as a spec named "API@VERSION"
// whose document is the store's (by hash).
void deployed_specs(const std::vector<Entity>& entities, config::Config& out) {
  auto str = [](const json::value& b, std::string_view k) -> std::string {
    const auto* v = b.is_object() ? b.get_object().if_contains(k) : nullptr;
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  for (const auto& v : entities) {
    if (v.kind != "api_version" || !v.body.is_object()) continue;
    const auto* dep = v.body.get_object().if_contains("deployed_revision");
    if (!dep || !dep->is_number()) continue;
    std::error_code ec;
    auto n = dep->to_number<int64_t>(ec);
    if (ec || n <= 0) continue;
    std::string rev_name = v.name + "#" + std::to_string(n);
    auto rev = std::find_if(entities.begin(), entities.end(), [&](const Entity& e) {
      return e.kind == "api_revision" && e.workspace == v.workspace && e.name == rev_name;
    });
    if (rev == entities.end() || str(rev->body, "sha256").empty()) continue;
    config::SpecConfig s;
    s.name = qualify(v.workspace, v.name);
    s.sha256 = str(rev->body, "sha256");
    auto at = v.name.rfind('@');
    s.api = qualify(v.workspace, v.name.substr(0, at));
    s.version = at == std::string::npos ? "" : v.name.substr(at + 1);
    s.base_path = str(v.body, "base_path");
    std::string up = str(v.body, "upstream");
    if (up.empty()) {
      // Generated by the deployment: the upstream the version owns.
      std::string owner = "api:" + v.name;
      for (const auto& e : entities)
        if (e.kind == "upstream" && e.workspace == v.workspace &&
            std::find(e.tags.begin(), e.tags.end(), owner) != e.tags.end())
          up = e.name;
    }
    s.upstream = up.empty() ? "" : qualify(v.workspace, up);
    s.pos.file = "api_version/" + v.id;
    out.specs.push_back(std::move(s));
  }
}

}  // namespace

Result<config::Config> build_config(const std::vector<Entity>& entities,
                                    std::vector<EntityProblem>* problems_out,
                                    const apim::DocumentFetch* fetch,
                                    const json::value* settings_llm,
                                    const json::value* settings_mcp) {
  std::map<std::string, std::map<std::string, std::vector<const Entity*>>> by_ws;
  std::vector<const Entity*> llm_providers, llm_models, certificates;
  for (const auto& e : entities) {
    if (is_config_kind(e.kind)) by_ws[e.workspace][e.kind].push_back(&e);
    // LLM providers and models are node-wide: the default workspace's.
    if (e.workspace != store::kDefaultWorkspace) continue;
    if (e.kind == kLlmProviderKind) llm_providers.push_back(&e);
    if (e.kind == kLlmModelKind) llm_models.push_back(&e);
    if (e.kind == kCertificateKind) certificates.push_back(&e);
  }

  std::vector<EntityProblem> problems;
  // The llm section: the settings file's, plus the stored providers and
  // models (secrets unsealed) after its own. Settings items map to no entity.
  json::object llm;
  bool has_llm = !llm_providers.empty() || !llm_models.empty();
  if (settings_llm && settings_llm->is_object()) {
    llm = settings_llm->get_object();
    has_llm = true;
  }
  std::vector<const Entity*> llm_index[2];
  for (int s = 0; s < 2; ++s) {
    const char* key = s == 0 ? "providers" : "models";
    auto& list = s == 0 ? llm_providers : llm_models;
    std::sort(list.begin(), list.end(),
              [](const Entity* a, const Entity* b) { return a->name < b->name; });
    json::array arr;
    if (auto* given = llm.if_contains(key); given && given->is_array()) arr = given->get_array();
    llm_index[s].assign(arr.size(), nullptr);
    for (const Entity* e : list) {
      if (s == 0) {
        auto item = provider_loader_item(*e, secrets::process_keyring());
        if (!item) {
          problems.push_back({item.error(), e, item.error().field});
          continue;
        }
        arr.push_back(std::move(*item));
      } else {
        arr.push_back(entity_item(*e, true));
      }
      llm_index[s].push_back(e);
    }
    if (!arr.empty() || llm.contains(key)) llm[key] = std::move(arr);
  }
  if (has_llm) by_ws[store::kDefaultWorkspace];
  config::Config merged;
  DocIndex merged_idx;
  std::map<std::string, const Entity*> key_hashes;  // hashed keys escape validate()'s check
  for (auto& [ws, kinds] : by_ws) {
    json::object doc;
    DocIndex idx;
    for (auto k : kConfigKinds) {
      auto it = kinds.find(std::string(k));
      if (it == kinds.end()) continue;
      auto& list = it->second;
      std::sort(list.begin(), list.end(),
                [](const Entity* a, const Entity* b) { return a->name < b->name; });
      json::array arr;
      for (const Entity* e : list) arr.push_back(entity_item(*e, true));
      doc[plural(k)] = std::move(arr);
      idx.sections[plural(k)] = list;
    }
    bool home = ws == store::kDefaultWorkspace;
    if (has_llm) {
      doc["llm"] = llm;
      if (home) {
        idx.sections["llm.providers"] = llm_index[0];
        idx.sections["llm.models"] = llm_index[1];
      }
    }
    if (settings_mcp && settings_mcp->is_object()) doc["mcp"] = *settings_mcp;
    auto res = config::load_config_text(json_to_loader_yaml(doc), "store:" + ws);
    for (const auto& ce : res.errors) {
      // Every workspace sees the one llm and mcp section; their own problems
      // are reported once, by the default workspace.
      if (!home && (ce.field.rfind("llm.", 0) == 0 || ce.field.rfind("mcp.", 0) == 0)) continue;
      Error e = make_error(ce.code, ce.message, ce.field, 400, ErrorSide::kDownstream);
      problems.push_back(problem_at(idx, std::move(e)));
    }
    if (!res.ok()) continue;
    config::Config& c = res.config;
    // Two consumers holding one key would make key-auth ambiguous.
    for (size_t i = 0; i < c.consumers.size(); ++i) {
      const Entity* owner = idx.sections["consumers"][i];
      for (size_t j = 0; j < c.consumers[i].credentials.size(); ++j) {
        const auto& cred = c.consumers[i].credentials[j];
        auto h = cred.find("key_hash");
        auto t = cred.find("type");
        if (h == cred.end() || t == cred.end() || t->second != "key-auth") continue;
        auto [it, inserted] = key_hashes.emplace(h->second, owner);
        if (!inserted) {
          EntityProblem p;
          p.entity = owner;
          p.field = "credentials[" + std::to_string(j) + "].key";
          p.error =
              bad(p.field, "key-auth key is already used by consumer \"" + it->second->name + "\"",
                  "duplicate_credential");
          problems.push_back(std::move(p));
        }
      }
    }
    if (ws != store::kDefaultWorkspace) {
      // Names are per workspace; the data plane is one namespace. A
      // workspace's global policies apply to its own routes only.
      for (auto& u : c.upstreams) u.name = qualify(ws, u.name);
      for (auto& r : c.routes) {
        r.name = qualify(ws, r.name);
        r.upstream = qualify(ws, r.upstream);
        for (const auto& g : c.policies) {
          bool has = std::any_of(r.policies.begin(), r.policies.end(),
                                 [&](const config::PolicyRef& p) { return p.name == g.name; });
          if (!has) r.policies.push_back(g);
        }
      }
      for (auto& cons : c.consumers) cons.name = qualify(ws, cons.name);
      c.policies.clear();
      idx.sections["policies"].clear();
    }
    for (auto& u : c.upstreams) merged.upstreams.push_back(std::move(u));
    for (auto& r : c.routes) {
      r.order = merged.routes.size();
      merged.routes.push_back(std::move(r));
    }
    for (auto& cons : c.consumers) merged.consumers.push_back(std::move(cons));
    for (auto& p : c.policies) merged.policies.push_back(std::move(p));
    if (home) merged.llm = std::move(c.llm);
    if (home && settings_mcp) merged.mcp = std::move(c.mcp);
    for (auto& [section, list] : idx.sections) {
      auto& dst = merged_idx.sections[section];
      dst.insert(dst.end(), list.begin(), list.end());
    }
  }
  // Stored certificates (node-wide, by name) for the proxy_tls listener; the
  // node puts its settings file's own before them (apply_server_settings).
  std::sort(certificates.begin(), certificates.end(),
            [](const Entity* a, const Entity* b) { return a->name < b->name; });
  for (const Entity* e : certificates) {
    auto c = certificate_entry(*e, secrets::process_keyring());
    if (!c) {
      problems.push_back({c.error(), e, c.error().field});
      continue;
    }
    merged.server.tls.certificates.push_back(std::move(*c));
    merged_idx.sections["tls.certificates"].push_back(e);
  }
  if (problems.empty()) {
    deployed_specs(entities, merged);
    if (fetch) {
      if (auto r = apim::prime_documents(merged.specs, *fetch); !r) {
        EntityProblem p;
        p.error = r.error();
        problems.push_back(std::move(p));
      }
    }
  }
  if (problems.empty()) {
    metrics::Registry scratch(1);
    auto snap = proxy::build_snapshot(merged, nullptr, scratch, 1);
    if (!snap) {
      Error e = snap.error();
      e.status = 400;
      auto p = problem_at(merged_idx, std::move(e));
      // The listener's field names for a stored certificate's two halves.
      if (p.entity && p.entity->kind == kCertificateKind)
        p.field = p.field.rfind("key", 0) == 0 ? "key" : "cert";
      problems.push_back(std::move(p));
    }
  }
  if (!problems.empty()) {
    Error first = problem_error(problems.front());
    if (problems_out) *problems_out = std::move(problems);
    return first;
  }
  return merged;
}

Result<void> validate_entities(const std::vector<Entity>& entities,
                               const apim::DocumentFetch* fetch, const json::value* settings_llm,
                               const json::value* settings_mcp) {
  auto r = build_config(entities, nullptr, fetch, settings_llm, settings_mcp);
  if (!r) return r.error();
  return Ok{};
}

store::Validator make_validator(apim::DocumentFetch fetch, json::value settings_llm,
                                json::value settings_mcp) {
  return [fetch = std::move(fetch), settings_llm = std::move(settings_llm),
          settings_mcp = std::move(settings_mcp)](const store::ChangeSet& cs) -> Result<void> {
    return validate_entities(cs.entities, fetch ? &fetch : nullptr,
                             settings_llm.is_null() ? nullptr : &settings_llm,
                             settings_mcp.is_null() ? nullptr : &settings_mcp);
  };
}

void resolve_settings_mcp_files(json::value& mcp, const std::string& settings_path) {
  json::object* m = mcp.if_object();
  json::value* servers = m ? m->if_contains("servers") : nullptr;
  if (!servers || !servers->is_array()) return;
  for (auto& s : servers->as_array()) {
    json::value* tls = s.is_object() ? s.as_object().if_contains("tls") : nullptr;
    if (!tls || !tls->is_object()) continue;
    for (const char* k : {"ca_file", "client_cert", "client_key"}) {
      json::value* v = tls->as_object().if_contains(k);
      if (!v || !v->is_string() || (!v->as_string().empty() && v->as_string()[0] == '$')) continue;
      *v =
          json::string(config::detail::config_relative(settings_path, std::string(v->as_string())));
    }
  }
}

std::string doc_section(std::string_view kind) {
  if (kind == kLlmProviderKind) return "llm.providers";
  if (kind == kLlmModelKind) return "llm.models";
  return plural(kind);
}

json::object entities_document(const std::vector<Entity>& entities, bool redact) {
  json::object doc;
  for (auto k : kConfigKinds) {
    json::array arr;
    for (const auto& e : entities) {
      if (e.kind != k) continue;
      json::object item = entity_item(e, true);
      if (e.kind == "policy" && !e.tags.empty()) {
        // Policies have no tags in YAML; keep them out of the document.
      }
      if (redact)
        if (auto* creds = item.if_contains("credentials"); creds && creds->is_array())
          for (auto& c : creds->get_array())
            if (c.is_object()) redact_credential(c.get_object());
      arr.push_back(std::move(item));
    }
    if (!arr.empty()) doc[plural(k)] = std::move(arr);
  }
  // Provider secrets go out sealed as stored ({sealed, last4}: apply keeps
  // them when they equal the stored value), or masked when redacting.
  json::object llm;
  for (auto k : kLlmKinds) {
    json::array arr;
    for (const auto& e : entities) {
      if (e.kind != k || e.workspace != store::kDefaultWorkspace) continue;
      json::object item = entity_item(e, true);
      if (redact) mask_sealed_values(item);
      arr.push_back(std::move(item));
    }
    if (!arr.empty()) llm[k == kLlmProviderKind ? "providers" : "models"] = std::move(arr);
  }
  if (!llm.empty()) doc["llm"] = std::move(llm);
  return doc;
}

Result<std::vector<Entity>> document_entities(const json::value& doc, const std::string& workspace,
                                              std::vector<std::string>* ignored) {
  std::vector<Entity> out;
  if (doc.is_null()) return out;
  if (!doc.is_object()) return bad("", "a config document must be a map");
  // Node-level sections: the file's to set, not entities (the file-mode
  // mirror of a config holding them must not fail on them).
  static const std::set<std::string> kServerKeys = {
      "listeners", "http", "access_log", "drain_timeout", "trust_forwarded", "mcp", "tls"};
  // llm.providers and llm.models are entities (node-wide: default workspace
  // only); the rest of llm (prices, retry, usage) is the settings file's.
  std::vector<std::pair<std::string, const json::value*>> sections;
  for (const auto& kv : doc.get_object()) {
    std::string key(kv.key());
    if (key != "llm" || kv.value().is_null()) {
      sections.emplace_back(key, &kv.value());
      continue;
    }
    if (!kv.value().is_object()) return bad("llm", "llm must be a map");
    for (const auto& lk : kv.value().get_object()) {
      std::string sub(lk.key());
      if (sub == "providers" || sub == "models") {
        if (workspace != store::kDefaultWorkspace && !lk.value().is_null())
          return bad("llm." + sub,
                     "LLM providers and models are node-wide: they live in workspace \"default\"",
                     "node_wide");
        sections.emplace_back("llm." + sub, &lk.value());
      } else if (sub == "prices" || sub == "currency" || sub == "usage" || sub == "retry") {
        if (ignored) ignored->push_back("llm." + sub);
      } else {
        return bad("llm." + sub, "unknown field \"" + sub + "\"", "unknown_field");
      }
    }
  }
  for (const auto& [key, value] : sections) {
    const json::value& v = *value;
    auto kind = kind_of_section(key);
    if (key == "llm.providers") kind = std::string(kLlmProviderKind);
    if (key == "llm.models") kind = std::string(kLlmModelKind);
    if (!kind) {
      if (kServerKeys.count(key) || key.rfind("x-", 0) == 0) {
        if (ignored && key.rfind("x-", 0) != 0) ignored->push_back(key);
        continue;
      }
      return bad(key, "unknown field \"" + key + "\"", "unknown_field");
    }
    if (v.is_null()) continue;
    if (!v.is_array()) return bad(key, key + " must be a list");
    const auto& arr = v.get_array();
    for (size_t i = 0; i < arr.size(); ++i) {
      std::string f = key + "[" + std::to_string(i) + "]";
      json::object item;
      if (*kind == "policy" && arr[i].is_string()) {
        item["name"] = arr[i].get_string();
      } else if (!arr[i].is_object()) {
        return bad(f, "must be a map");
      } else {
        item = arr[i].get_object();
      }
      auto e = entity_from_json(*kind, item);
      if (!e) {
        Error err = e.error();
        err.field = f + (err.field.empty() ? "" : "." + err.field);
        return err;
      }
      if (e->name.empty()) return bad(f + ".name", "a " + *kind + " needs a name", "missing_field");
      e->workspace = workspace;
      out.push_back(std::move(e.value()));
    }
  }
  return out;
}

Result<Entity> entity_from_json(const std::string& kind, const json::object& in) {
  Entity e;
  e.kind = kind;
  json::object body;
  for (const auto& kv : in) {
    std::string_view k = kv.key();
    const json::value& v = kv.value();
    if (k == "name") {
      if (!v.is_string()) return bad("name", "name must be a string");
      e.name = v.get_string();
    } else if (k == "tags") {
      if (v.is_null()) continue;
      if (!v.is_array()) return bad("tags", "tags must be a list of strings");
      for (size_t i = 0; i < v.get_array().size(); ++i) {
        const auto& t = v.get_array()[i];
        if (!t.is_string())
          return bad("tags[" + std::to_string(i) + "]", "tags must be a list of strings");
        e.tags.emplace_back(t.get_string());
      }
    } else if (k == "id") {
      if (v.is_null()) continue;
      if (!v.is_string()) return bad("id", "id must be a UUID string");
      e.id = v.get_string();
    } else if (k == "workspace") {
      if (!v.is_string()) return bad("workspace", "workspace must be a string");
      e.workspace = v.get_string();
    } else if (k == "created_at" || k == "updated_at" || k == "version" || k == "revision") {
      continue;  // read-only; accepted so a GET body can be sent back
    } else if (v.is_null()) {
      continue;  // null = absent (as in a merge patch)
    } else {
      body[k] = v;
    }
  }
  e.body = std::move(body);
  return e;
}

json::object entity_to_json(const Entity& e, bool redact) {
  json::object out;
  out["id"] = e.id;
  out["name"] = e.name;
  out["workspace"] = e.workspace;
  json::array tags;
  for (const auto& t : e.tags) tags.emplace_back(t);
  out["tags"] = std::move(tags);
  if (e.body.is_object())
    for (const auto& kv : e.body.get_object()) out[kv.key()] = kv.value();
  if (redact)
    if (auto* creds = out.if_contains("credentials"); creds && creds->is_array())
      for (auto& c : creds->get_array())
        if (c.is_object()) redact_credential(c.get_object());
  if (redact && e.kind == kLlmProviderKind) mask_provider_secrets(out);
  if (redact && e.kind == kCertificateKind)
    show_certificate(out, static_cast<int64_t>(std::time(nullptr)));
  out["created_at"] = e.created_at;
  out["updated_at"] = e.updated_at;
  out["version"] = e.version;
  return out;
}

void redact_credential(json::object& cred) {
  for (const char* k : {"key", "secret", "password", "key_hash", "password_hash"})
    if (auto* v = cred.if_contains(k)) *v = json::string(kRedacted);
}

Result<void> normalize_for_write(Entity& e, const Entity* existing) {
  if (e.kind == kLlmProviderKind) {
    e.body.get_object().erase("has_api_key");  // read-only, shown by GET
    return seal_provider_secrets(e, existing, secrets::process_keyring());
  }
  if (e.kind == kCertificateKind)
    return prepare_certificate(e, existing, secrets::process_keyring(),
                               static_cast<int64_t>(std::time(nullptr)));
  if (e.kind != "consumer" || !e.body.is_object()) return Ok{};
  auto* creds = e.body.get_object().if_contains("credentials");
  if (!creds) return Ok{};
  if (!creds->is_array()) return bad("credentials", "credentials must be a list");
  const json::array* old = nullptr;
  if (existing && existing->body.is_object())
    if (auto* o = existing->body.get_object().if_contains("credentials"); o && o->is_array())
      old = &o->get_array();
  auto find_old = [&](const json::object& c) -> const json::object* {
    if (!old) return nullptr;
    auto* id = c.if_contains("id");
    std::string ident = credential_identity(c);
    for (const auto& o : *old) {
      if (!o.is_object()) continue;
      const auto& oo = o.get_object();
      if (id && id->is_string()) {
        if (auto* oid = oo.if_contains("id"); oid && *oid == *id) return &oo;
      } else if (credential_identity(oo) == ident) {
        return &oo;
      }
    }
    return nullptr;
  };
  auto& arr = creds->get_array();
  for (size_t i = 0; i < arr.size(); ++i) {
    std::string f = "credentials[" + std::to_string(i) + "]";
    if (!arr[i].is_object()) return bad(f, "a credential must be a map");
    auto& c = arr[i].get_object();
    for (const auto& kv : c)
      if (!kv.value().is_string() && !kv.value().is_number() && !kv.value().is_bool())
        return bad(f + "." + std::string(kv.key()), "credential fields must be scalars");
    // A key whose value is the redaction marker keeps the stored value, so
    // a GET body can be sent back unchanged.
    bool has_marker = false;
    for (const auto& kv : c)
      if (kv.value().is_string() && kv.value().get_string() == kRedacted) has_marker = true;
    const json::object* match = nullptr;
    if (has_marker) {
      auto* id = c.if_contains("id");
      if (old && id && id->is_string())
        for (const auto& o : *old)
          if (o.is_object() && o.get_object().if_contains("id") && o.get_object().at("id") == *id)
            match = &o.get_object();
      for (auto& kv : c) {
        if (!kv.value().is_string() || kv.value().get_string() != kRedacted) continue;
        const json::value* prev = match ? match->if_contains(kv.key()) : nullptr;
        if (!prev)
          return bad(f + "." + std::string(kv.key()),
                     "\"<redacted>\" keeps a stored secret; this credential has none to keep");
        kv.value() = *prev;
      }
    }
    if (!match) match = find_old(c);
    auto type = c.if_contains("type");
    std::string t = type && type->is_string() ? std::string(type->get_string()) : "";
    if (t == "key-auth") {
      if (auto* k = c.if_contains("key"); k && k->is_string()) {
        c["key_hash"] = "sha256:" + store::sha256_hex(k->get_string());
        c.erase("key");
      }
    } else if (t == "basic-auth") {
      if (auto* p = c.if_contains("password"); p && p->is_string()) {
        std::string pw(p->get_string());
        std::string record;
        if (match)
          if (auto* h = match->if_contains("password_hash"); h && h->is_string())
            if (auto parsed = policy::basic_auth::parse_password_hash(h->get_string());
                parsed && policy::basic_auth::verify_password(*parsed, pw))
              record = h->get_string();
        if (record.empty()) {
          auto h = policy::basic_auth::hash_password(pw, kPasswordIterations);
          if (!h) return bad(f + ".password", h.error().message);
          record = policy::basic_auth::format_password_hash(*h);
        }
        c["password_hash"] = record;
        c.erase("password");
      }
    }
    if (auto* id = c.if_contains("id")) {
      if (!id->is_string() || !store::normalize_uuid(id->get_string()))
        return bad(f + ".id", "a credential id must be a UUID");
      *id = json::string(*store::normalize_uuid(id->get_string()));
    } else {
      c["id"] =
          match && match->if_contains("id") ? match->at("id") : json::value(store::new_uuid());
    }
  }
  return Ok{};
}

}  // namespace gatehouse::admin
