#include "admin/declarative.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <map>

#include "admin/config_bridge.hpp"
#include "admin/llm_entities.hpp"
#include "store/codec.hpp"

namespace gatehouse::admin {

namespace json = boost::json;
using store::Entity;

namespace {

bool has_tag(const Entity& e, const std::string& tag) {
  return std::find(e.tags.begin(), e.tags.end(), tag) != e.tags.end();
}

bool managed(const Entity& e, const std::string& ws, const std::string& owner) {
  if (e.workspace != ws) return false;
  // LLM providers and models are node-wide: the default workspace's document holds them.
  bool llm = is_llm_kind(e.kind) && ws == store::kDefaultWorkspace;
  if (!llm &&
      std::find(std::begin(kConfigKinds), std::end(kConfigKinds), e.kind) == std::end(kConfigKinds))
    return false;
  return owner.empty() || has_tag(e, owner);
}

// Provider secrets (and their sealed form's parts) are never shown in a diff.
constexpr std::string_view kProviderSecretNames[] = {"api_key", "secret_access_key",
                                                     "session_token"};

bool secret_field(const std::string& path) {
  for (const char* k : {"key", "secret", "password", "key_hash", "password_hash"}) {
    std::string s = std::string(".") + k;
    if (path.size() >= s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0)
      return true;
  }
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('.', i);
    if (j == std::string::npos) j = path.size();
    std::string seg = path.substr(i, j - i);
    seg = seg.substr(0, seg.find('['));
    for (auto n : kProviderSecretNames)
      if (seg == n) return true;
    i = j + 1;
  }
  return false;
}

void redact_all(json::value& v) {
  if (v.is_array())
    for (auto& x : v.get_array()) redact_all(x);
  if (!v.is_object()) return;
  redact_credential(v.get_object());
  for (auto n : kProviderSecretNames)
    if (auto* x = v.get_object().if_contains(n)) *x = json::string(kRedacted);
  for (auto& kv : v.get_object()) redact_all(kv.value());
}

std::string show(json::value v) {
  redact_all(v);
  std::string s = json::serialize(v);
  if (s.size() > 120) s = s.substr(0, 117) + "...";
  return s;
}

void diff_values(const std::string& path, const json::value* a, const json::value* b,
                 std::vector<std::string>& out) {
  if (a && b && *a == *b) return;
  // Before recursing: a sealed key is an object, and its parts are secret too.
  if (secret_field(path)) {
    out.push_back(path + ": (secret changed)");
    return;
  }
  if (a && b && a->is_object() && b->is_object()) {
    std::vector<std::string> keys;
    for (const auto& kv : a->get_object()) keys.emplace_back(kv.key());
    for (const auto& kv : b->get_object())
      if (!a->get_object().contains(kv.key())) keys.emplace_back(kv.key());
    for (const auto& k : keys)
      diff_values(path.empty() ? k : path + "." + k, a->get_object().if_contains(k),
                  b->get_object().if_contains(k), out);
    return;
  }
  if (a && b && a->is_array() && b->is_array()) {
    size_t n = std::max(a->get_array().size(), b->get_array().size());
    for (size_t i = 0; i < n; ++i)
      diff_values(path + "[" + std::to_string(i) + "]",
                  i < a->get_array().size() ? &a->get_array()[i] : nullptr,
                  i < b->get_array().size() ? &b->get_array()[i] : nullptr, out);
    return;
  }
  out.push_back(path + ": " + (a ? show(*a) : "(none)") + " -> " + (b ? show(*b) : "(none)"));
}

json::value comparable(const Entity& e) {
  json::object o = entity_item(e, false);
  o.erase("name");
  json::array tags;
  for (const auto& t : e.tags) tags.emplace_back(t);
  o["tags"] = std::move(tags);
  // Credential ids are bookkeeping, not config.
  if (auto* creds = o.if_contains("credentials"); creds && creds->is_array())
    for (auto& c : creds->get_array())
      if (c.is_object()) c.get_object().erase("id");
  return o;
}

// "routes[2]" for the third route of the document.
std::string doc_path(const Plan& plan, const std::string& kind, const std::string& name) {
  size_t i = 0;
  for (const auto& w : plan.wanted) {
    if (w.kind != kind) continue;
    if (w.name == name) return doc_section(kind) + "[" + std::to_string(i) + "]";
    ++i;
  }
  return {};
}

}  // namespace

Result<Plan> plan_apply(store::Store& store, const json::value& doc, const std::string& ws,
                        const std::string& owner, const json::value* settings_llm) {
  Plan plan;
  plan.workspace = ws;
  plan.owner = owner;
  auto wanted = document_entities(doc, ws, &plan.ignored);
  if (!wanted) return wanted.error();
  auto snap = store.load_all();
  if (!snap) return snap.error();
  std::map<std::pair<std::string, std::string>, const Entity*> current;
  for (const auto& e : snap->entities)
    if (e.workspace == ws) current[{e.kind, e.name}] = &e;
  std::map<std::string, size_t> counts;
  std::map<std::pair<std::string, std::string>, bool> seen;
  for (auto& w : *wanted) {
    std::string path = doc_section(w.kind) + "[" + std::to_string(counts[w.kind]++) + "]";
    if (seen[{w.kind, w.name}])
      return make_error("duplicate_name", "another " + w.kind + " is named \"" + w.name + "\"",
                        path + ".name", 400, ErrorSide::kDownstream);
    seen[{w.kind, w.name}] = true;
    // The --settings file's providers and models are read-only: a stored one
    // of the same name would be ambiguous, so it is refused (as by the API).
    if (is_llm_kind(w.kind) && settings_llm && settings_llm->is_object())
      if (auto* list = settings_llm->get_object().if_contains(
              w.kind == kLlmProviderKind ? "providers" : "models");
          list && list->is_array())
        for (const auto& item : list->get_array())
          if (item.is_object())
            if (auto* n = item.get_object().if_contains("name");
                n && n->is_string() && n->get_string() == w.name)
              return make_error("managed_by_settings",
                                w.kind + " \"" + w.name +
                                    "\" comes from the --settings file; edit the file and "
                                    "restart to change it",
                                path + ".name", 409, ErrorSide::kDownstream);
    if (!owner.empty() && !has_tag(w, owner)) w.tags.push_back(owner);
    const Entity* cur = nullptr;
    if (auto it = current.find({w.kind, w.name}); it != current.end()) cur = it->second;
    if (cur && !managed(*cur, ws, owner))
      return make_error(
          "not_owned",
          w.kind + " \"" + w.name + "\" exists and is not managed by owner tag \"" + owner + "\"",
          path + ".name", 409, ErrorSide::kDownstream);
    w.id = cur ? cur->id : store::new_uuid();
    if (auto n = normalize_for_write(w, cur); !n) {
      Error e = n.error();
      e.field = path + (e.field.empty() ? "" : "." + e.field);
      return e;
    }
    if (!cur) {
      plan.diff.push_back({'+', w.kind, w.name, {}});
      continue;
    }
    DiffEntry d{'~', w.kind, w.name, {}};
    json::value a = comparable(*cur), b = comparable(w);
    diff_values("", &a, &b, d.details);
    if (!d.details.empty()) plan.diff.push_back(std::move(d));
  }
  for (const auto& e : snap->entities)
    if (managed(e, ws, owner) && !seen[{e.kind, e.name}])
      plan.diff.push_back({'-', e.kind, e.name, {}});
  plan.wanted = std::move(wanted.value());
  return plan;
}

Result<store::CommitResult> commit_plan(store::Store& store, const std::string& actor,
                                        const Plan& plan) {
  auto tx = store.begin(actor);
  store::ReplaceSpec spec;
  spec.workspace = plan.workspace;
  for (auto k : kConfigKinds) spec.kinds.emplace_back(k);
  if (plan.workspace == store::kDefaultWorkspace)
    for (auto k : kLlmKinds) spec.kinds.emplace_back(k);
  spec.owner_tag = plan.owner;
  spec.entities = plan.wanted;
  tx.replace_all(std::move(spec));
  auto res = tx.commit();
  if (!res) {
    Error e = res.error();
    // The store names wanted entities "entities[i]": say where they are in the document.
    if (e.field.rfind("entities[", 0) == 0) {
      auto close = e.field.find(']');
      std::string n = e.field.substr(9, close == std::string::npos ? 0 : close - 9);
      if (!n.empty() && n.size() < 9 && n.find_first_not_of("0123456789") == std::string::npos &&
          std::stoul(n) < plan.wanted.size()) {
        const Entity& w = plan.wanted[std::stoul(n)];
        e.field = doc_path(plan, w.kind, w.name) + e.field.substr(close + 1);
      }
    }
    // Point at the document item when the problem is in one of its entities.
    if (!e.file.empty()) {
      auto s1 = e.file.find('/');
      auto s2 = s1 == std::string::npos ? s1 : e.file.find('/', s1 + 1);
      if (s2 != std::string::npos) {
        std::string kind = e.file.substr(0, s1), name = e.file.substr(s2 + 1);
        std::string p = doc_path(plan, kind, name);
        if (!p.empty()) {
          e.field = p + (e.field.empty() ? "" : "." + e.field);
          e.file.clear();
        }
      }
    }
    return e;
  }
  return res;
}

std::string format_diff(const std::vector<DiffEntry>& diff) {
  std::string out;
  for (const auto& d : diff) {
    out += std::string(1, d.op) + " " + d.kind + " " + d.name + "\n";
    for (const auto& line : d.details) out += "    " + line + "\n";
  }
  return out;
}

json::value diff_json(const std::vector<DiffEntry>& diff) {
  json::array out;
  for (const auto& d : diff) {
    json::array details;
    for (const auto& l : d.details) details.emplace_back(l);
    out.push_back(json::object{{"action", d.op == '+'   ? "create"
                                          : d.op == '~' ? "update"
                                                        : "delete"},
                               {"kind", d.kind},
                               {"name", d.name},
                               {"changes", std::move(details)}});
  }
  return out;
}

Result<json::value> export_document(store::Store& store, const std::string& ws, bool redact,
                                    int64_t* revision) {
  auto snap = store.load_all();
  if (!snap) return snap.error();
  std::vector<Entity> mine;
  for (auto& e : snap->entities)
    if (e.workspace == ws) mine.push_back(std::move(e));
  if (revision) *revision = snap->revision;
  return json::value(entities_document(mine, redact));
}

}  // namespace gatehouse::admin
