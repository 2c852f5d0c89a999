#include "admin/llm_entities.hpp"

#include <algorithm>
#include <cstdlib>
#include <set>

#include "admin/certificates.hpp"
#include "admin/config_bridge.hpp"

namespace gatehouse::admin {

namespace json = boost::json;
using store::Entity;

namespace {

constexpr std::string_view kMask = "****";

// Set by `gatehouse apply/diff`: they validate for nodes whose environment
// they do not share, so an unset ${VAR} must not fail there.
bool g_refs_unresolved = false;

Error bad(std::string field, std::string message, std::string code = "invalid_entity") {
  return make_error(std::move(code), std::move(message), std::move(field), 400,
                    ErrorSide::kDownstream);
}

// The object holding the last segment of `path` ("aws.session_token" -> body["aws"]).
json::object* parent_of(json::object& body, std::string_view path, std::string_view& leaf) {
  size_t dot = path.find('.');
  if (dot == std::string_view::npos) {
    leaf = path;
    return &body;
  }
  leaf = path.substr(dot + 1);
  auto* p = body.if_contains(path.substr(0, dot));
  return p && p->is_object() ? &p->get_object() : nullptr;
}

const json::value* at_path(const json::value& body, std::string_view path) {
  if (!body.is_object()) return nullptr;
  std::string_view leaf;
  auto* parent = parent_of(const_cast<json::object&>(body.get_object()), path, leaf);
  return parent ? parent->if_contains(leaf) : nullptr;
}

// A sealed value as stored: {"sealed": "gh1...", "last4": "abcd"}.
bool is_sealed(const json::value& v) {
  if (!v.is_object()) return false;
  auto* s = v.get_object().if_contains("sealed");
  return s && s->is_string();
}

bool is_env_ref(std::string_view s) {
  if (s.size() < 4 || s.substr(0, 2) != "${" || s.back() != '}') return false;
  auto name = s.substr(2, s.size() - 3);
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '_'; });
}

std::string aad_for(std::string_view path) {
  return "gatehouse/llm_provider/" + std::string(path);
}

Result<json::value> make_sealed(const secrets::Keyring& ring, std::string_view plain,
                                std::string_view path) {
  auto s = secrets::seal(ring, plain, aad_for(path));
  if (!s) {
    Error e = s.error();
    e.field = std::string(path);
    return e;
  }
  json::object o;
  o["sealed"] = *s;
  // Only long keys show a tail: for a short one it would be most of the key.
  o["last4"] = plain.size() >= 12 ? std::string(plain.substr(plain.size() - 4)) : std::string();
  return json::value(std::move(o));
}

}  // namespace

void validate_refs_unresolved(bool on) {
  g_refs_unresolved = on;
}

bool is_llm_kind(std::string_view kind) {
  return std::find(std::begin(kLlmKinds), std::end(kLlmKinds), kind) != std::end(kLlmKinds);
}

Result<void> seal_provider_secrets(Entity& e, const Entity* existing,
                                   const secrets::Keyring& ring) {
  if (e.kind != kLlmProviderKind || !e.body.is_object()) return Ok{};
  auto& body = e.body.get_object();
  if (auto* aws = body.if_contains("aws"); aws && !aws->is_object())
    return bad("aws",
               "aws must be a map of access_key_id, secret_access_key, session_token "
               "(static keys) or source: chain and profile");
  for (auto path : kProviderSecrets) {
    std::string_view leaf;
    json::object* parent = parent_of(body, path, leaf);
    if (!parent) continue;
    json::value* v = parent->if_contains(leaf);
    if (!v) continue;
    const json::value* old = existing ? at_path(existing->body, path) : nullptr;
    std::string field(path);
    if (v->is_object()) {
      // Only the stored value can come back (a GET -> PUT round trip without
      // masking, or a merge patch that left it alone).
      if (!old || *old != *v)
        return bad(field, "a sealed value can only be kept as stored; send the key in plaintext");
      continue;
    }
    if (!v->is_string()) return bad(field, field + " must be a string");
    std::string_view s = v->get_string();
    if (s == kRedacted || s.substr(0, kMask.size()) == kMask) {
      if (!old)
        return bad(field, "\"" + std::string(s) +
                              "\" keeps the stored secret; this provider has none to keep");
      *v = *old;
      continue;
    }
    if (s.empty()) {
      parent->erase(leaf);
      continue;
    }
    if (is_env_ref(s)) continue;  // not a secret: resolved from the environment at build
    // The same key again keeps its stored ciphertext (a fresh nonce would
    // make every re-applied file a change and a new revision).
    if (old && is_sealed(*old)) {
      auto prev = secrets::unseal(ring, old->get_object().at("sealed").get_string(), aad_for(path));
      if (prev && *prev == s) {
        *v = *old;
        continue;
      }
    }
    auto sealed = make_sealed(ring, s, path);
    if (!sealed) return sealed.error();
    *v = std::move(*sealed);
  }
  return Ok{};
}

void mask_provider_secrets(json::object& body) {
  mask_sealed_values(body);
  body["has_api_key"] = body.contains("api_key");
}

void mask_sealed_values(json::object& body) {
  for (auto path : kProviderSecrets) {
    std::string_view leaf;
    json::object* parent = parent_of(body, path, leaf);
    if (!parent) continue;
    json::value* v = parent->if_contains(leaf);
    if (!v || !is_sealed(*v)) continue;
    std::string tail;
    if (auto* l = v->get_object().if_contains("last4"); l && l->is_string()) tail = l->get_string();
    *v = json::string(std::string(kMask) + tail);
  }
}

Result<json::object> provider_loader_item(const Entity& e, const secrets::Keyring& ring) {
  json::object item = entity_item(e, true);
  for (auto path : kProviderSecrets) {
    std::string_view leaf;
    json::object* parent = parent_of(item, path, leaf);
    if (!parent) continue;
    json::value* v = parent->if_contains(leaf);
    if (!v) continue;
    std::string field(path);
    if (is_sealed(*v)) {
      auto plain = secrets::unseal(ring, v->get_object().at("sealed").get_string(), aad_for(path));
      if (!plain) {
        Error err = plain.error();
        err.field = field;
        err.status = 400;
        return err;
      }
      *v = json::string(*plain);
    } else if (v->is_string() && is_env_ref(v->get_string())) {
      std::string name(v->get_string().subview(2, v->get_string().size() - 3));
      if (name.rfind("GATEHOUSE_", 0) == 0)
        return bad(field, "${" + name + "} is the gateway's own setting, not a provider secret",
                   "invalid_value");
      const char* env = std::getenv(name.c_str());
      if ((!env || !*env) && g_refs_unresolved) {
        *v = json::string("${" + name + "}");  // validated only; never sent
        continue;
      }
      if (!env || !*env)
        return bad(field, "environment variable " + name + " is not set on this node",
                   "unset_variable");
      *v = json::string(env);
    }
  }
  return item;
}

void mask_plain_secrets(json::object& item) {
  for (auto path : kProviderSecrets) {
    std::string_view leaf;
    json::object* parent = parent_of(item, path, leaf);
    json::value* s = parent ? parent->if_contains(leaf) : nullptr;
    if (!s || !s->is_string() || is_env_ref(s->get_string())) continue;
    std::string_view plain = s->get_string();
    *s = json::string(std::string(kMask) +
                      (plain.size() >= 12 ? std::string(plain.substr(plain.size() - 4)) : ""));
  }
}

json::array settings_items(const json::value& settings_llm, std::string_view section) {
  json::array out;
  const json::value* list =
      settings_llm.is_object() ? settings_llm.get_object().if_contains(section) : nullptr;
  if (!list || !list->is_array()) return out;
  for (const auto& v : list->get_array()) {
    if (!v.is_object()) continue;
    json::object item = v.get_object();
    if (section == "providers") {
      mask_plain_secrets(item);  // expanded at start: no reference is left
      item["has_api_key"] = item.contains("api_key");
    }
    item["origin"] = "settings";
    item["read_only"] = true;
    out.push_back(std::move(item));
  }
  return out;
}

std::vector<std::string> sealed_key_ids(const std::vector<Entity>& entities) {
  std::set<std::string> ids;
  for (const auto& e : entities) {
    if (e.kind != kLlmProviderKind) continue;
    for (auto path : kProviderSecrets)
      if (auto* v = at_path(e.body, path); v && is_sealed(*v))
        ids.insert(secrets::key_id_of(v->get_object().at("sealed").get_string()));
  }
  std::vector<std::string> out(ids.begin(), ids.end());
  certificate_key_ids(entities, out);  // certificate keys share the keyring
  return out;
}

Result<bool> reseal_provider(Entity& e, const secrets::Keyring& ring) {
  if (e.kind != kLlmProviderKind || !e.body.is_object() || !ring.current()) return false;
  bool changed = false;
  for (auto path : kProviderSecrets) {
    std::string_view leaf;
    json::object* parent = parent_of(e.body.get_object(), path, leaf);
    if (!parent) continue;
    json::value* v = parent->if_contains(leaf);
    if (!v || !is_sealed(*v)) continue;
    std::string sealed(v->get_object().at("sealed").get_string());
    if (secrets::key_id_of(sealed) == ring.current()->id) continue;
    auto plain = secrets::unseal(ring, sealed, aad_for(path));
    if (!plain) {
      Error err = plain.error();
      err.field = std::string(path);
      return err;
    }
    auto fresh = make_sealed(ring, *plain, path);
    if (!fresh) return fresh.error();
    *v = std::move(*fresh);
    changed = true;
  }
  return changed;
}

}  // namespace gatehouse::admin
