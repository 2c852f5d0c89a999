// Swagger 2.0 -> the normalised model, the way the OpenAPI 3.0 migration
// guide maps it: host/basePath/schemes become a server; body and formData
// parameters become a request body with the operation's `consumes` types;
// response schemas become content for each `produces` type; definitions are
// the components' schemas; securityDefinitions become security schemes.
#include "apim/openapi/loader_impl.hpp"

namespace gatehouse::apim::openapi::detail {

namespace json = boost::json;

namespace {

constexpr const char* kMethods[] = {"get", "put", "post", "delete", "options", "head", "patch"};
// Keys of a 2.0 non-body parameter that describe its value: they form its schema.
constexpr const char* kSchemaKeys[] = {
    "type",      "format",           "items",    "collectionFormat", "default",
    "maximum",   "exclusiveMaximum", "minimum",  "exclusiveMinimum", "maxLength",
    "minLength", "pattern",          "maxItems", "minItems",         "uniqueItems",
    "enum",      "multipleOf"};

std::vector<std::string> strings(const Loc& at) {
  std::vector<std::string> out;
  if (auto* a = at.arr())
    for (const auto& v : *a)
      if (v.is_string()) out.emplace_back(v.get_string());
  return out;
}

struct Ctx2 {
  Loader& l;
  std::vector<std::string> consumes, produces;
};

Result<json::value> value_schema(Loader& l, const Loc& p) {
  json::object s;
  for (const char* k : kSchemaKeys) {
    if (!p.obj() || !p.obj()->contains(k) || std::string_view(k) == "collectionFormat") continue;
    if (std::string_view(k) == "items") {
      auto items = l.import_schema(p.at("items"));
      if (!items) return items.error();
      s["items"] = std::move(*items);
    } else {
      s[k] = p.obj()->at(k);
    }
  }
  return json::value(std::move(s));
}

}  // namespace

Result<void> load_swagger2(Loader& l) {
  Loc r{l.root.get(), &l.root->root, ""};
  l.schemas_root = "/definitions";
  auto& out = l.out;
  // Server: the first scheme listed (https when none is), host, basePath.
  std::string host = r.str("host"), base = r.str("basePath");
  auto schemes = strings(r.at("schemes"));
  std::string scheme = schemes.empty() ? "https" : schemes.front();
  if (!host.empty())
    out.servers.push_back({scheme + "://" + host + (base == "/" ? "" : base), ""});
  else if (!base.empty() && base != "/")
    out.servers.push_back({base, ""});
  if (auto defs = r.at("definitions"); defs.obj()) {
    for (const auto& kv : *defs.obj()) {
      auto s = l.import_schema(defs.at(kv.key()));
      if (!s) return s.error();
      out.schemas[std::string(kv.key())] = std::move(*s);
    }
  }
  if (auto sd = r.at("securityDefinitions"); sd.obj()) {
    for (const auto& kv : *sd.obj()) {
      Loc d = sd.at(kv.key());
      if (auto rr = l.require_object(d, "a security definition"); !rr) return rr.error();
      SecurityScheme s;
      s.name = std::string(kv.key());
      std::string type = d.str("type");
      s.extensions = l.extensions(d);
      if (type == "basic") {
        s.type = "http";
        s.scheme = "basic";
      } else if (type == "apiKey") {
        s.type = "apiKey";
        s.in = d.str("in");
        s.parameter_name = d.str("name");
        if (s.in.empty() || s.parameter_name.empty())
          return l.fail(d, "missing_field",
                        "apiKey definition '" + s.name + "' needs 'name' and 'in'");
      } else if (type == "oauth2") {
        s.type = "oauth2";
        // 2.0 names the flows differently: implicit, password, application, accessCode.
        std::string flow = d.str("flow");
        std::string name = flow == "application"  ? "clientCredentials"
                           : flow == "accessCode" ? "authorizationCode"
                                                  : flow;
        json::object f;
        if (!d.str("authorizationUrl").empty()) f["authorizationUrl"] = d.str("authorizationUrl");
        if (!d.str("tokenUrl").empty()) f["tokenUrl"] = d.str("tokenUrl");
        f["scopes"] = d.at("scopes").obj() ? json::value(*d.at("scopes").obj()) : json::object();
        json::object flows;
        flows[name] = std::move(f);
        s.flows = std::move(flows);
      } else {
        return l.fail(d.at("type"), "invalid_value",
                      "security definition '" + s.name + "': type must be basic, apiKey or oauth2");
      }
      out.security_schemes[s.name] = std::move(s);
    }
  }
  if (auto sec = r.at("security"); sec.exists()) {
    auto s = l.security(sec);
    if (!s) return s.error();
    out.security = std::move(*s);
  }
  auto global_consumes = strings(r.at("consumes"));
  auto global_produces = strings(r.at("produces"));
  auto paths = r.at("paths");
  if (!paths.exists()) return l.fail(r, "missing_field", "a Swagger 2.0 document needs 'paths'");
  if (auto rr = l.require_object(paths, "paths"); !rr) return rr;
  for (const auto& pk : *paths.obj()) {
    if (pk.key().starts_with("x-")) continue;
    std::string path(pk.key());
    if (!path.starts_with("/"))
      return l.fail(paths.at(pk.key()), "invalid_path", "path '" + path + "' must start with '/'");
    auto pi = l.deref(paths.at(pk.key()));
    if (!pi) return pi.error();
    if (auto rr = l.require_object(*pi, "a path item"); !rr) return rr;
    json::object path_ext = l.extensions(*pi);
    for (const char* m : kMethods) {
      Loc op = pi->at(m);
      if (!op.exists()) continue;
      if (auto rr = l.require_object(op, "an operation"); !rr) return rr;
      Operation o;
      for (const char* c = m; *c; ++c) o.method += static_cast<char>(*c - 32);
      o.path = path;
      o.pointer = op.ptr;
      o.operation_id = op.str("operationId");
      o.summary = op.str("summary");
      o.deprecated = op.flag("deprecated");
      o.tags = strings(op.at("tags"));
      auto consumes = op.at("consumes").exists() ? strings(op.at("consumes")) : global_consumes;
      auto produces = op.at("produces").exists() ? strings(op.at("produces")) : global_produces;
      if (consumes.empty()) consumes = {"application/json"};
      if (produces.empty()) produces = {"application/json"};
      // Path-level parameters first; the operation's replace same name+in.
      std::vector<Loc> params;
      for (Loc list : {pi->at("parameters"), op.at("parameters")}) {
        if (!list.exists()) continue;
        if (!list.arr()) return l.fail(list, "invalid_type", "parameters must be an array");
        for (size_t i = 0; i < list.arr()->size(); ++i) {
          auto p = l.deref(list.at(i));
          if (!p) return p.error();
          if (auto rr = l.require_object(*p, "a parameter"); !rr) return rr;
          bool replaced = false;
          for (auto& q : params)
            if (q.str("name") == p->str("name") && q.str("in") == p->str("in")) {
              q = *p;
              replaced = true;
            }
          if (!replaced) params.push_back(*p);
        }
      }
      json::object form_props;
      json::array form_required;
      bool form_file = false;
      for (const auto& p : params) {
        std::string name = p.str("name"), in = p.str("in");
        if (name.empty()) return l.fail(p, "missing_field", "a parameter needs a 'name'");
        if (in == "body") {
          auto s = l.import_schema(p.at("schema"));
          if (!s) return s.error();
          RequestBody b;
          b.required = p.flag("required");
          b.pointer = p.ptr;
          for (const auto& c : consumes) b.content.push_back({c, *s, nullptr, {}});
          o.request_body = std::move(b);
          continue;
        }
        auto s = value_schema(l, p);
        if (!s) return s.error();
        if (in == "formData") {
          if (p.str("type") == "file") {
            form_file = true;
            s->get_object()["type"] = "string";
            s->get_object()["format"] = "binary";
          }
          form_props[name] = std::move(*s);
          if (p.flag("required")) form_required.emplace_back(name);
          continue;
        }
        if (in != "path" && in != "query" && in != "header")
          return l.fail(
              p.at("in"), "invalid_value",
              "parameter '" + name + "': 'in' must be path, query, header, body or formData");
        Parameter out_p;
        out_p.name = name;
        out_p.in = in;
        out_p.required = p.flag("required") || in == "path";
        out_p.schema = std::move(*s);
        out_p.pointer = p.ptr;
        // collectionFormat -> OpenAPI 3 style/explode (the 3.0 migration guide's mapping).
        std::string cf = p.str("collectionFormat");
        bool form = in == "query";
        out_p.style = form ? "form" : "simple";
        if (cf == "multi" && form) out_p.explode = true;
        if (cf == "ssv") out_p.style = "spaceDelimited";
        if (cf == "pipes") out_p.style = "pipeDelimited";
        if (cf == "tsv") out_p.style = "tabDelimited";
        o.parameters.push_back(std::move(out_p));
      }
      if (!form_props.empty()) {
        json::object schema{{"type", "object"}, {"properties", std::move(form_props)}};
        bool any_required = !form_required.empty();
        if (any_required) schema["required"] = std::move(form_required);
        RequestBody b;
        b.required = any_required;
        b.pointer = op.ptr + "/parameters";
        std::string type = form_file ? "multipart/form-data" : "application/x-www-form-urlencoded";
        for (const auto& c : consumes)
          if (c == "multipart/form-data" || c == "application/x-www-form-urlencoded") type = c;
        b.content.push_back({type, json::value(std::move(schema)), nullptr, {}});
        o.request_body = std::move(b);
      }
      if (auto rs = op.at("responses"); rs.obj()) {
        for (const auto& kv : *rs.obj()) {
          if (kv.key().starts_with("x-")) continue;
          auto resp = l.deref(rs.at(kv.key()));
          if (!resp) return resp.error();
          if (auto rr = l.require_object(*resp, "a response"); !rr) return rr;
          Response out_r;
          out_r.status = std::string(kv.key());
          out_r.description = resp->str("description");
          if (resp->at("schema").exists()) {
            auto s = l.import_schema(resp->at("schema"));
            if (!s) return s.error();
            for (const auto& c : produces) {
              MediaType mt{c, *s, nullptr, {}};
              if (auto ex = resp->at("examples").at(c); ex.exists()) mt.example = *ex.v;
              out_r.content.push_back(std::move(mt));
            }
          }
          if (auto h = resp->at("headers"); h.obj())
            for (const auto& hk : *h.obj()) {
              out_r.headers.emplace_back(hk.key());
              // A 2.0 header object is itself schema-like (type, format, enum, default).
              HeaderSpec spec;
              spec.name = std::string(hk.key());
              auto hd = l.deref(h.at(hk.key()));
              if (!hd) return hd.error();
              if (hd->obj()) {
                auto sch = l.import_schema(*hd);
                if (!sch) return sch.error();
                if (sch->is_object()) sch->get_object().erase("description");
                spec.schema = std::move(*sch);
                if (auto* ex = hd->obj()->if_contains("x-example")) spec.example = *ex;
              }
              out_r.header_specs.push_back(std::move(spec));
            }
          o.responses.push_back(std::move(out_r));
        }
      }
      if (auto sec = op.at("security"); sec.exists()) {
        auto s = l.security(sec);
        if (!s) return s.error();
        o.security = std::move(*s);
      }
      o.extensions = path_ext;
      for (const auto& kv : l.extensions(op)) o.extensions[kv.key()] = kv.value();
      out.operations.push_back(std::move(o));
    }
  }
  return Ok{};
}

}  // namespace gatehouse::apim::openapi::detail
