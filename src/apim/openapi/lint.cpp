#include "apim/openapi/lint.hpp"

#include <boost/json/serialize.hpp>
#include <map>
#include <set>

namespace gatehouse::apim::openapi {

namespace json = boost::json;

namespace {

std::vector<std::string> template_names(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while ((i = path.find('{', i)) != std::string::npos) {
    size_t j = path.find('}', i);
    if (j == std::string::npos) break;
    out.push_back(path.substr(i + 1, j - i - 1));
    i = j + 1;
  }
  return out;
}

bool is_type(const json::value& v, std::string_view t) {
  if (t == "null") return v.is_null();
  if (t == "boolean") return v.is_bool();
  if (t == "string") return v.is_string();
  if (t == "array") return v.is_array();
  if (t == "object") return v.is_object();
  if (t == "number") return v.is_number();
  if (t == "integer") {
    if (v.is_int64() || v.is_uint64()) return true;
    return v.is_double() &&
           v.get_double() == static_cast<double>(static_cast<int64_t>(v.get_double()));
  }
  return true;  // unknown type names are not ours to judge
}

void collect_refs(const json::value& v, std::set<std::string>& out) {
  if (v.is_object()) {
    for (const auto& kv : v.get_object()) {
      if (kv.key() == "$ref" && kv.value().is_string()) {
        std::string_view r = kv.value().get_string();
        constexpr std::string_view kPrefix = "#/components/schemas/";
        if (r.starts_with(kPrefix)) out.insert(std::string(r.substr(kPrefix.size())));
      } else {
        collect_refs(kv.value(), out);
      }
    }
  } else if (v.is_array()) {
    for (const auto& x : v.get_array()) collect_refs(x, out);
  }
}

struct Linter {
  const Document& d;
  const SourceDoc* src;
  std::vector<Finding> out;

  void add(std::string rule, Level sev, const std::string& pointer, std::string message) {
    Finding f{std::move(rule), sev, pointer, 0, 0, std::move(message)};
    if (src) std::tie(f.line, f.column) = src->position(pointer);
    out.push_back(std::move(f));
  }

  void examples(const std::vector<MediaType>& content, const std::string& base) {
    for (const auto& mt : content) {
      std::string at = base + "/content/" + pointer_escape(mt.type);
      if (!mt.example.is_null()) {
        std::string why = check_example(d, mt.schema, mt.example);
        if (!why.empty())
          add("oas3-valid-media-example", Level::kError, at + "/example",
              "example does not match the schema: " + why);
      }
      for (const auto& kv : mt.examples) {
        const json::value& ex = kv.value();
        if (!ex.is_object() || !ex.get_object().contains("value")) continue;
        std::string why = check_example(d, mt.schema, ex.get_object().at("value"));
        if (!why.empty())
          add("oas3-valid-media-example", Level::kError,
              at + "/examples/" + pointer_escape(kv.key()) + "/value",
              "example '" + std::string(kv.key()) + "' does not match the schema: " + why);
      }
    }
  }

  void schema_examples(const json::value& s, const std::string& at, int depth) {
    if (depth > 64 || !s.is_object()) return;
    const auto& o = s.get_object();
    if (auto* ex = o.if_contains("example"); ex && !o.contains("$ref")) {
      std::string why = check_example(d, s, *ex);
      if (!why.empty())
        add("oas3-valid-schema-example", Level::kError, at + "/example",
            "example does not match its schema: " + why);
    }
    if (auto* e = o.if_contains("enum"); e && e->is_array()) {
      const auto& a = e->get_array();
      for (size_t i = 0; i < a.size(); ++i)
        for (size_t j = 0; j < i; ++j)
          if (a[i] == a[j]) {
            add("duplicated-entry-in-enum", Level::kWarning, at + "/enum/" + std::to_string(i),
                "enum value " + json::serialize(a[i]) + " is listed twice");
            break;
          }
    }
    if (auto* p = o.if_contains("properties"); p && p->is_object())
      for (const auto& kv : p->get_object())
        schema_examples(kv.value(), at + "/properties/" + pointer_escape(kv.key()), depth + 1);
    if (auto* i = o.if_contains("items")) schema_examples(*i, at + "/items", depth + 1);
  }

  void run() {
    const json::value* root = src ? &src->root : nullptr;
    auto info = root && root->is_object() ? root->get_object().if_contains("info") : nullptr;
    if (!info || !info->is_object() || !info->get_object().contains("contact"))
      add("info-contact", Level::kWarning, "/info",
          "info should have a contact (who owns this API)");
    if (!info || !info->is_object() || !info->get_object().contains("description"))
      add("info-description", Level::kWarning, "/info", "info should have a description");
    if (d.servers.empty())
      add(d.version == SpecVersion::kSwagger2 ? "oas2-api-host" : "oas3-api-servers",
          Level::kWarning, d.version == SpecVersion::kSwagger2 ? "" : "/servers",
          "no server: clients and the gateway import need a base URL");
    std::map<std::string, std::string> ids;  // operationId -> first pointer
    std::set<std::string> paths_seen;
    for (const auto& op : d.operations) {
      std::string path_ptr = "/paths/" + pointer_escape(op.path);
      if (paths_seen.insert(op.path).second && op.path.size() > 1 && op.path.back() == '/')
        add("path-keys-no-trailing-slash", Level::kWarning, path_ptr,
            "path '" + op.path + "' ends with a slash");
      if (op.operation_id.empty()) {
        add("operation-operationId", Level::kWarning, op.pointer,
            op.method + " " + op.path + " has no operationId");
      } else if (auto [it, fresh] = ids.emplace(op.operation_id, op.pointer); !fresh) {
        add("operation-operationId-unique", Level::kError, op.pointer + "/operationId",
            "operationId '" + op.operation_id + "' is also used at " + it->second);
      }
      if (op.tags.empty())
        add("operation-tags", Level::kWarning, op.pointer,
            op.method + " " + op.path + " has no tags");
      bool success = false;
      for (const auto& r : op.responses)
        success = success || (!r.status.empty() && (r.status[0] == '2' || r.status[0] == '3'));
      if (!success)
        add("operation-success-response", Level::kWarning, op.pointer + "/responses",
            op.method + " " + op.path + " has no 2xx or 3xx response");
      // Path templates and path parameters must agree.
      auto names = template_names(op.path);
      std::set<std::string> declared;
      for (const auto& p : op.parameters) {
        if (p.in != "path") continue;
        declared.insert(p.name);
        if (std::find(names.begin(), names.end(), p.name) == names.end())
          add("path-params", Level::kError, p.pointer,
              "path parameter '" + p.name + "' is not in the path " + op.path);
      }
      std::set<std::string> seen;
      for (const auto& n : names) {
        if (!seen.insert(n).second)
          add("path-params", Level::kError, path_ptr,
              "path " + op.path + " uses {" + n + "} twice");
        else if (!declared.count(n))
          add("path-params", Level::kError, op.pointer,
              op.method + " " + op.path + " does not define path parameter '" + n + "'");
      }
      if (op.request_body) examples(op.request_body->content, op.request_body->pointer);
      for (const auto& r : op.responses)
        examples(r.content, op.pointer + "/responses/" + pointer_escape(r.status));
    }
    // Schemas: examples, enums, and whether anything refers to them.
    std::set<std::string> used;
    for (const auto& op : d.operations) {
      for (const auto& p : op.parameters) collect_refs(p.schema, used);
      if (op.request_body)
        for (const auto& m : op.request_body->content) collect_refs(m.schema, used);
      for (const auto& r : op.responses)
        for (const auto& m : r.content) collect_refs(m.schema, used);
    }
    // Follow references between schemas to a fixed point.
    for (bool grew = true; grew;) {
      grew = false;
      std::set<std::string> more;
      for (const auto& n : used)
        if (auto it = d.schemas.find(n); it != d.schemas.end()) collect_refs(it->second, more);
      for (const auto& n : more) grew = used.insert(n).second || grew;
    }
    std::string base =
        d.version == SpecVersion::kSwagger2 ? "/definitions/" : "/components/schemas/";
    for (const auto& [name, s] : d.schemas) {
      schema_examples(s, base + pointer_escape(name), 0);
      if (!used.count(name))
        add(d.version == SpecVersion::kSwagger2 ? "oas2-unused-definition"
                                                : "oas3-unused-component",
            Level::kWarning, base + pointer_escape(name), "schema '" + name + "' is never used");
    }
  }
};

}  // namespace

std::string check_example(const Document& d, const json::value& schema_in, const json::value& v,
                          const std::string& at) {
  const json::value& s = resolve_schema(d, schema_in);
  if (!s.is_object()) return {};
  const auto& o = s.get_object();
  std::string where = at.empty() ? "the value" : at;
  if (auto* t = o.if_contains("type")) {
    bool nullable = false;
    if (auto* n = o.if_contains("nullable"); n && n->is_bool()) nullable = n->get_bool();
    bool ok = nullable && v.is_null();
    std::string names;
    if (t->is_string()) {
      ok = ok || is_type(v, t->get_string());
      names = std::string(t->get_string());
    } else if (t->is_array()) {
      for (const auto& x : t->get_array())
        if (x.is_string()) {
          ok = ok || is_type(v, x.get_string());
          names += (names.empty() ? "" : " or ") + std::string(x.get_string());
        }
    } else {
      ok = true;
    }
    if (!ok) return where + " is not " + names;
  }
  if (auto* e = o.if_contains("enum"); e && e->is_array()) {
    bool found = false;
    for (const auto& x : e->get_array()) found = found || x == v;
    if (!found) return where + " (" + json::serialize(v) + ") is not one of the enum values";
  }
  if (auto* c = o.if_contains("const"); c && *c != v)
    return where + " is not " + json::serialize(*c);
  auto num = [&](const char* k) -> std::optional<double> {
    auto* x = o.if_contains(k);
    if (!x || !x->is_number()) return std::nullopt;
    return x->to_number<double>();
  };
  if (v.is_number()) {
    double x = v.to_number<double>();
    if (auto m = num("minimum"); m && x < *m)
      return where + " is below the minimum " + json::serialize(o.at("minimum"));
    if (auto m = num("maximum"); m && x > *m)
      return where + " is above the maximum " + json::serialize(o.at("maximum"));
  }
  if (v.is_string()) {
    // Length in code points, as JSON Schema counts.
    size_t n = 0;
    for (unsigned char c : v.get_string()) n += (c & 0xC0) != 0x80;
    if (auto m = num("minLength"); m && n < *m) return where + " is shorter than minLength";
    if (auto m = num("maxLength"); m && n > *m) return where + " is longer than maxLength";
  }
  if (v.is_array()) {
    const auto& a = v.get_array();
    if (auto m = num("minItems"); m && a.size() < *m)
      return where + " has fewer than minItems items";
    if (auto m = num("maxItems"); m && a.size() > *m)
      return where + " has more than maxItems items";
    if (auto* items = o.if_contains("items"))
      for (size_t i = 0; i < a.size() && i < 1000; ++i) {
        auto why = check_example(d, *items, a[i], where + "[" + std::to_string(i) + "]");
        if (!why.empty()) return why;
      }
  }
  if (v.is_object()) {
    const auto& obj = v.get_object();
    if (auto* r = o.if_contains("required"); r && r->is_array())
      for (const auto& k : r->get_array())
        if (k.is_string() && !obj.contains(k.get_string()))
          return where + " lacks the required property '" + std::string(k.get_string()) + "'";
    if (auto* p = o.if_contains("properties"); p && p->is_object())
      for (const auto& kv : obj)
        if (auto* ps = p->get_object().if_contains(kv.key())) {
          auto why = check_example(d, *ps, kv.value(), where + "." + std::string(kv.key()));
          if (!why.empty()) return why;
        }
  }
  return {};
}

std::vector<Finding> lint(const Document& d, const SourceDoc* source) {
  Linter l{d, source, {}};
  l.run();
  return std::move(l.out);
}

}  // namespace gatehouse::apim::openapi
