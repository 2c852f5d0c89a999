#include "apim/openapi/loader.hpp"

#include <boost/json/serialize.hpp>
#include <fstream>
#include <sstream>

#include "apim/openapi/loader_impl.hpp"
#include "common/percent.hpp"

namespace gatehouse::apim::openapi {

namespace json = boost::json;

namespace detail {

namespace {

constexpr int kMaxRefHops = 64;
constexpr int kMaxSchemaDepth = 512;
constexpr const char* kMethods[] = {"get",     "put",  "post",  "delete",
                                    "options", "head", "patch", "trace"};

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
  return s;
}

std::string dirname(const std::string& p) {
  auto slash = p.rfind('/');
  return slash == std::string::npos ? std::string() : p.substr(0, slash + 1);
}

// "a/./b/../c" -> "a/c"; keeps a leading "/" and leading ".." segments.
std::string normalize_path(const std::string& p) {
  std::vector<std::string> parts;
  bool absolute = !p.empty() && p[0] == '/';
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    std::string seg = p.substr(i, j - i);
    if (seg == "..") {
      if (!parts.empty() && parts.back() != "..")
        parts.pop_back();
      else if (!absolute)
        parts.push_back(seg);
    } else if (!seg.empty() && seg != ".") {
      parts.push_back(seg);
    }
    i = j + 1;
  }
  std::string out = absolute ? "/" : "";
  for (size_t k = 0; k < parts.size(); ++k) out += (k ? "/" : "") + parts[k];
  return out;
}

std::string last_token(const std::string& ptr) {
  auto slash = ptr.rfind('/');
  std::string t = slash == std::string::npos ? ptr : ptr.substr(slash + 1);
  std::string out;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '~' && i + 1 < t.size()) {
      out += t[i + 1] == '1' ? '/' : '~';
      ++i;
    } else {
      out += t[i];
    }
  }
  return out;
}

std::string file_stem(const std::string& path) {
  auto slash = path.rfind('/');
  std::string f = slash == std::string::npos ? path : path.substr(slash + 1);
  auto dot = f.find('.');
  return dot == std::string::npos || dot == 0 ? f : f.substr(0, dot);
}

std::string substitute_server_variables(const Loc& server) {
  std::string url = server.str("url");
  auto vars = server.at("variables");
  if (!vars.obj()) return url;
  for (const auto& kv : *vars.obj()) {
    std::string key = "{" + std::string(kv.key()) + "}";
    std::string value;
    if (kv.value().is_object())
      if (auto* d = kv.value().get_object().if_contains("default"); d && d->is_string())
        value = std::string(d->get_string());
    for (size_t at = url.find(key); at != std::string::npos; at = url.find(key, at + value.size()))
      url.replace(at, key.size(), value);
  }
  return url;
}

}  // namespace

Loc Loc::at(std::string_view key) const {
  Loc l{doc, nullptr, pointer_append(ptr, key)};
  if (auto* o = obj()) l.v = o->if_contains(key);
  return l;
}

Loc Loc::at(size_t index) const {
  Loc l{doc, nullptr, ptr + "/" + std::to_string(index)};
  if (auto* a = arr(); a && index < a->size()) l.v = &(*a)[index];
  return l;
}

std::string Loc::str(std::string_view key) const {
  if (auto* o = obj())
    if (auto* s = o->if_contains(key); s && s->is_string()) return std::string(s->get_string());
  return {};
}

bool Loc::flag(std::string_view key) const {
  if (auto* o = obj())
    if (auto* b = o->if_contains(key); b && b->is_bool()) return b->get_bool();
  return false;
}

Error Loader::fail(const Loc& at, std::string code, std::string message) const {
  return located_error(*at.doc, at.ptr, std::move(code), std::move(message));
}

Result<void> Loader::require_object(const Loc& at, std::string_view what) const {
  if (at.obj()) return Ok{};
  return fail(at, "invalid_type", std::string(what) + " must be an object");
}

json::object Loader::extensions(const Loc& at) const {
  json::object x;
  if (auto* o = at.obj())
    for (const auto& kv : *o)
      if (kv.key().starts_with("x-")) x[kv.key()] = kv.value();
  return x;
}

Result<const SourceDoc*> Loader::load_file(const Loc& at, const std::string& path) {
  if (auto it = files_.find(path); it != files_.end()) return it->second.get();
  if (!options_.reader)
    return fail(at, "external_ref_not_allowed",
                "a reference to another file ('" + path +
                    "') cannot be followed here: send one self-contained document");
  if (files_.size() >= options_.max_files)
    return fail(
        at, "too_many_files",
        "the document references more than " + std::to_string(options_.max_files) + " files");
  auto text = options_.reader(path);
  if (!text) {
    Error e = fail(at, "unresolved_ref", "cannot read '" + path + "': " + text.error().message);
    return e;
  }
  auto doc = parse_source(*text, path);
  if (!doc) return doc.error();
  files_[path] = *doc;
  return doc->get();
}

Result<Loc> Loader::resolve(const Loc& at, std::string_view ref) {
  auto hash = ref.find('#');
  std::string file(ref.substr(0, hash));
  std::string fragment =
      hash == std::string_view::npos ? "" : percent_decode(ref.substr(hash + 1), false);
  const SourceDoc* doc = at.doc;
  Loc site = at.at("$ref");
  if (!file.empty()) {
    if (file.find("://") != std::string::npos)
      return fail(site, "external_ref_not_allowed",
                  "'" + std::string(ref) + "': references to URLs are not fetched");
    std::string path = file[0] == '/' ? file : dirname(doc->path) + file;
    auto d = load_file(site, normalize_path(path));
    if (!d) return d.error();
    doc = *d;
  }
  if (!fragment.empty() && fragment[0] != '/')
    return fail(site, "invalid_ref", "'" + std::string(ref) + "' is not a JSON pointer reference");
  const json::value* v = pointer_find(doc->root, fragment);
  if (!v) return fail(site, "unresolved_ref", "'" + std::string(ref) + "' points to nothing");
  return Loc{doc, v, fragment};
}

Result<Loc> Loader::deref(Loc at) {
  std::set<std::string> seen;
  for (int hops = 0;; ++hops) {
    auto* o = at.obj();
    if (!o) return at;
    auto* r = o->if_contains("$ref");
    if (!r) return at;
    if (!r->is_string()) return fail(at.at("$ref"), "invalid_ref", "$ref must be a string");
    if (!seen.insert(at.doc->path + "#" + at.ptr).second || hops > kMaxRefHops)
      return fail(at.at("$ref"), "ref_cycle",
                  "'" + std::string(r->get_string()) + "' leads back to itself");
    auto next = resolve(at, r->get_string());
    if (!next) return next.error();
    at = std::move(*next);
  }
}

Result<std::string> Loader::schema_name_for(const Loc& ref_site, const Loc& target) {
  (void)ref_site;
  // The document's own components keep their names.
  if (target.doc == root.get() && target.ptr.starts_with(schemas_root + "/") &&
      target.ptr.find('/', schemas_root.size() + 1) == std::string::npos)
    return last_token(target.ptr);
  std::string key = target.doc->path + "#" + target.ptr;
  if (auto it = imported_.find(key); it != imported_.end()) return it->second;
  std::string base = target.ptr.empty() ? file_stem(target.doc->path) : last_token(target.ptr);
  if (base.empty()) base = "schema";
  std::string name = base;
  for (int n = 2; names_.count(name); ++n) name = base + "_" + std::to_string(n);
  names_.insert(name);
  // Named before copying, so a schema that refers back to itself finds its name.
  imported_[key] = name;
  auto copy = copy_schema(target, 0);
  if (!copy) return copy.error();
  out.schemas[name] = std::move(*copy);
  return name;
}

Result<json::value> Loader::copy_schema(const Loc& at, int depth) {
  if (depth > kMaxSchemaDepth) return fail(at, "too_deep", "schema nests too deeply");
  if (auto* o = at.obj()) {
    json::object copy;
    for (const auto& kv : *o) {
      if (kv.key() == "$ref") {
        if (!kv.value().is_string())
          return fail(at.at("$ref"), "invalid_ref", "$ref must be a string");
        auto target = resolve(at, kv.value().get_string());
        if (!target) return target.error();
        auto name = schema_name_for(at, *target);
        if (!name) return name.error();
        copy["$ref"] = "#/components/schemas/" + pointer_escape(*name);
        continue;
      }
      // Examples and enums are data, not schemas: their "$ref" keys are values.
      if (kv.key() == "example" || kv.key() == "examples" || kv.key() == "enum" ||
          kv.key() == "default" || kv.key() == "const" || kv.key().starts_with("x-")) {
        copy[kv.key()] = kv.value();
        continue;
      }
      auto c = copy_schema(at.at(kv.key()), depth + 1);
      if (!c) return c.error();
      copy[kv.key()] = std::move(*c);
    }
    return json::value(std::move(copy));
  }
  if (auto* a = at.arr()) {
    json::array copy;
    copy.reserve(a->size());
    for (size_t i = 0; i < a->size(); ++i) {
      auto c = copy_schema(at.at(i), depth + 1);
      if (!c) return c.error();
      copy.push_back(std::move(*c));
    }
    return json::value(std::move(copy));
  }
  return at.v ? *at.v : json::value(nullptr);
}

Result<json::value> Loader::import_schema(const Loc& at) {
  if (!at.exists()) return json::value(nullptr);
  return copy_schema(at, 0);
}

Result<std::vector<SecurityAlternative>> Loader::security(const Loc& at) {
  std::vector<SecurityAlternative> alts;
  auto* a = at.arr();
  if (!a) return fail(at, "invalid_type", "security must be an array of requirement objects");
  for (size_t i = 0; i < a->size(); ++i) {
    Loc req = at.at(i);
    if (!req.obj()) return fail(req, "invalid_type", "a security requirement must be an object");
    SecurityAlternative alt;
    for (const auto& kv : *req.obj()) {
      std::vector<std::string> scopes;
      if (kv.value().is_array())
        for (const auto& s : kv.value().get_array())
          if (s.is_string()) scopes.emplace_back(s.get_string());
      alt.schemes.emplace_back(std::string(kv.key()), std::move(scopes));
    }
    alts.push_back(std::move(alt));
  }
  return alts;
}

Result<std::vector<MediaType>> Loader::content3(const Loc& at) {
  std::vector<MediaType> out_types;
  if (!at.exists()) return out_types;
  if (auto r = require_object(at, "content"); !r) return r.error();
  for (const auto& kv : *at.obj()) {
    Loc m = at.at(kv.key());
    if (auto r = require_object(m, "a media type"); !r) return r.error();
    MediaType mt;
    mt.type = std::string(kv.key());
    auto s = import_schema(m.at("schema"));
    if (!s) return s.error();
    mt.schema = std::move(*s);
    if (auto* ex = m.obj()->if_contains("example")) mt.example = *ex;
    if (auto ex = m.at("examples"); ex.obj()) {
      for (const auto& e : *ex.obj()) {
        auto d = deref(ex.at(e.key()));
        if (!d) return d.error();
        mt.examples[e.key()] = *d->v;
      }
    }
    out_types.push_back(std::move(mt));
  }
  return out_types;
}

Result<HeaderSpec> Loader::header3(std::string name, Loc at) {
  auto d = deref(at);
  if (!d) return d.error();
  at = *d;
  HeaderSpec h;
  h.name = std::move(name);
  if (!at.obj()) return h;  // lint's business, not the loader's
  h.required = at.flag("required");
  if (auto sch = at.at("schema"); sch.exists()) {
    auto s = import_schema(sch);
    if (!s) return s.error();
    h.schema = std::move(*s);
  } else if (auto c = at.at("content"); c.obj() && !c.obj()->empty()) {
    // A header described by content: its one media type's schema and example.
    Loc mt = c.at(c.obj()->begin()->key());
    auto s = import_schema(mt.at("schema"));
    if (!s) return s.error();
    h.schema = std::move(*s);
    if (auto* ex = mt.obj() ? mt.obj()->if_contains("example") : nullptr) h.example = *ex;
  }
  if (auto* ex = at.obj()->if_contains("example")) h.example = *ex;
  if (auto exs = at.at("examples"); h.example.is_null() && exs.obj() && !exs.obj()->empty()) {
    auto first = deref(exs.at(exs.obj()->begin()->key()));
    if (!first) return first.error();
    if (auto* v = first->obj() ? first->obj()->if_contains("value") : nullptr) h.example = *v;
  }
  return h;
}

Result<Parameter> Loader::parameter3(Loc at) {
  auto d = deref(at);
  if (!d) return d.error();
  at = *d;
  if (auto r = require_object(at, "a parameter"); !r) return r.error();
  Parameter p;
  p.name = at.str("name");
  p.in = at.str("in");
  p.pointer = at.ptr;
  if (p.name.empty()) return fail(at, "missing_field", "a parameter needs a 'name'");
  if (p.in != "path" && p.in != "query" && p.in != "header" && p.in != "cookie")
    return fail(at.at("in"), "invalid_value",
                "parameter '" + p.name + "': 'in' must be path, query, header or cookie");
  p.required = at.flag("required") || p.in == "path";
  p.deprecated = at.flag("deprecated");
  if (at.at("schema").exists()) {
    auto s = import_schema(at.at("schema"));
    if (!s) return s.error();
    p.schema = std::move(*s);
  } else if (auto c = at.at("content"); c.obj() && !c.obj()->empty()) {
    auto types = content3(c);
    if (!types) return types.error();
    p.schema = std::move(types->front().schema);
    p.content_type = types->front().type;
  }
  p.style = at.str("style");
  if (p.style.empty()) p.style = p.in == "query" || p.in == "cookie" ? "form" : "simple";
  if (auto* e = at.obj()->if_contains("explode"); e && e->is_bool())
    p.explode = e->get_bool();
  else
    p.explode = p.style == "form";
  return p;
}

Result<void> Loader::load_path_item3(const std::string& path, Loc item) {
  auto d = deref(item);
  if (!d) return d.error();
  Loc pi = *d;
  if (auto r = require_object(pi, "a path item"); !r) return r.error();
  std::vector<Parameter> common;
  if (auto ps = pi.at("parameters"); ps.exists()) {
    if (!ps.arr()) return fail(ps, "invalid_type", "parameters must be an array");
    for (size_t i = 0; i < ps.arr()->size(); ++i) {
      auto p = parameter3(ps.at(i));
      if (!p) return p.error();
      common.push_back(std::move(*p));
    }
  }
  std::vector<Server> servers;
  if (auto s = pi.at("servers"); s.arr())
    for (size_t i = 0; i < s.arr()->size(); ++i)
      servers.push_back({substitute_server_variables(s.at(i)), s.at(i).str("description")});
  json::object path_ext = extensions(pi);
  for (const char* m : kMethods) {
    Loc op = pi.at(m);
    if (!op.exists()) continue;
    if (auto r = require_object(op, "an operation"); !r) return r.error();
    Operation o;
    o.method = upper(m);
    o.path = path;
    o.pointer = op.ptr;
    o.operation_id = op.str("operationId");
    o.summary = op.str("summary");
    o.deprecated = op.flag("deprecated");
    if (auto t = op.at("tags"); t.arr())
      for (const auto& tag : *t.arr())
        if (tag.is_string()) o.tags.emplace_back(tag.get_string());
    o.parameters = common;
    if (auto ps = op.at("parameters"); ps.exists()) {
      if (!ps.arr()) return fail(ps, "invalid_type", "parameters must be an array");
      for (size_t i = 0; i < ps.arr()->size(); ++i) {
        auto p = parameter3(ps.at(i));
        if (!p) return p.error();
        // An operation's parameter overrides the path item's with the same name and place.
        bool replaced = false;
        for (auto& c : o.parameters)
          if (c.name == p->name && c.in == p->in) {
            c = *p;
            replaced = true;
          }
        if (!replaced) o.parameters.push_back(std::move(*p));
      }
    }
    if (auto rb = op.at("requestBody"); rb.exists()) {
      auto body = deref(rb);
      if (!body) return body.error();
      if (auto r = require_object(*body, "a request body"); !r) return r.error();
      RequestBody b;
      b.required = body->flag("required");
      b.pointer = body->ptr;
      auto content = content3(body->at("content"));
      if (!content) return content.error();
      b.content = std::move(*content);
      o.request_body = std::move(b);
    }
    if (auto rs = op.at("responses"); rs.exists()) {
      if (auto r = require_object(rs, "responses"); !r) return r.error();
      for (const auto& kv : *rs.obj()) {
        if (kv.key().starts_with("x-")) continue;
        auto resp = deref(rs.at(kv.key()));
        if (!resp) return resp.error();
        if (auto r = require_object(*resp, "a response"); !r) return r.error();
        Response out_resp;
        out_resp.status = std::string(kv.key());
        out_resp.description = resp->str("description");
        auto content = content3(resp->at("content"));
        if (!content) return content.error();
        out_resp.content = std::move(*content);
        if (auto h = resp->at("headers"); h.obj())
          for (const auto& hk : *h.obj()) {
            out_resp.headers.emplace_back(hk.key());
            auto spec = header3(std::string(hk.key()), h.at(hk.key()));
            if (!spec) return spec.error();
            out_resp.header_specs.push_back(std::move(*spec));
          }
        o.responses.push_back(std::move(out_resp));
      }
    }
    if (auto sec = op.at("security"); sec.exists()) {
      auto s = security(sec);
      if (!s) return s.error();
      o.security = std::move(*s);
    }
    o.servers = servers;
    if (auto s = op.at("servers"); s.arr()) {
      o.servers.clear();
      for (size_t i = 0; i < s.arr()->size(); ++i)
        o.servers.push_back({substitute_server_variables(s.at(i)), s.at(i).str("description")});
    }
    o.extensions = path_ext;
    for (const auto& kv : extensions(op)) o.extensions[kv.key()] = kv.value();
    out.operations.push_back(std::move(o));
  }
  return Ok{};
}

Result<void> Loader::load_openapi3() {
  Loc r{root.get(), &root->root, ""};
  schemas_root = "/components/schemas";
  if (auto comps = r.at("components").at("schemas"); comps.obj())
    for (const auto& kv : *comps.obj()) names_.insert(std::string(kv.key()));
  if (auto s = r.at("servers"); s.exists()) {
    if (!s.arr()) return fail(s, "invalid_type", "servers must be an array");
    for (size_t i = 0; i < s.arr()->size(); ++i) {
      if (s.at(i).str("url").empty())
        return fail(s.at(i), "missing_field", "a server needs a 'url'");
      out.servers.push_back({substitute_server_variables(s.at(i)), s.at(i).str("description")});
    }
  }
  if (auto comps = r.at("components").at("schemas"); comps.obj())
    for (const auto& kv : *comps.obj()) {
      auto s = import_schema(comps.at(kv.key()));
      if (!s) return s.error();
      out.schemas[std::string(kv.key())] = std::move(*s);
    }
  if (auto ss = r.at("components").at("securitySchemes"); ss.obj()) {
    for (const auto& kv : *ss.obj()) {
      auto d = deref(ss.at(kv.key()));
      if (!d) return d.error();
      if (auto rr = require_object(*d, "a security scheme"); !rr) return rr.error();
      SecurityScheme s;
      s.name = std::string(kv.key());
      s.type = d->str("type");
      if (s.type.empty())
        return fail(*d, "missing_field", "security scheme '" + s.name + "' needs a 'type'");
      s.in = d->str("in");
      s.parameter_name = d->str("name");
      s.scheme = d->str("scheme");
      for (auto& c : s.scheme) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
      s.bearer_format = d->str("bearerFormat");
      s.open_id_connect_url = d->str("openIdConnectUrl");
      if (auto f = d->at("flows"); f.exists()) s.flows = *f.v;
      s.extensions = extensions(*d);
      if (s.type == "apiKey" && (s.parameter_name.empty() || s.in.empty()))
        return fail(*d, "missing_field", "apiKey scheme '" + s.name + "' needs 'name' and 'in'");
      out.security_schemes[s.name] = std::move(s);
    }
  }
  if (auto sec = r.at("security"); sec.exists()) {
    auto s = security(sec);
    if (!s) return s.error();
    out.security = std::move(*s);
  }
  auto paths = r.at("paths");
  if (!paths.exists()) {
    if (out.version == SpecVersion::kOpenApi30)
      return fail(r, "missing_field", "an OpenAPI 3.0 document needs 'paths'");
    return Ok{};  // 3.1 allows webhooks- or components-only documents
  }
  if (auto rr = require_object(paths, "paths"); !rr) return rr.error();
  for (const auto& kv : *paths.obj()) {
    if (kv.key().starts_with("x-")) continue;
    if (!kv.key().starts_with("/"))
      return fail(paths.at(kv.key()), "invalid_path",
                  "path '" + std::string(kv.key()) + "' must start with '/'");
    if (auto rr = load_path_item3(std::string(kv.key()), paths.at(kv.key())); !rr) return rr;
  }
  return Ok{};
}

Result<Document> Loader::run(std::string_view text, const std::string& name) {
  auto doc = parse_source(text, name);
  if (!doc) return doc.error();
  root = *doc;
  files_[name] = root;
  Loc r{root.get(), &root->root, ""};
  if (!r.obj()) return fail(r, "invalid_type", "an OpenAPI document must be an object");
  r.v = &root->root;
  std::string swagger = r.str("swagger"), openapi = r.str("openapi");
  if (swagger == "2.0") {
    out.version = SpecVersion::kSwagger2;
    out.spec_version = swagger;
  } else if (openapi.starts_with("3.0.") || openapi == "3.0") {
    out.version = SpecVersion::kOpenApi30;
    out.spec_version = openapi;
  } else if (openapi.starts_with("3.1.") || openapi == "3.1") {
    out.version = SpecVersion::kOpenApi31;
    out.spec_version = openapi;
  } else if (r.at("openapi").exists() || r.at("swagger").exists()) {
    Loc at = r.at("openapi").exists() ? r.at("openapi") : r.at("swagger");
    return fail(at, "unsupported_version",
                "unsupported version (Swagger 2.0, OpenAPI 3.0.x and 3.1.x are understood)");
  } else {
    return fail(r, "missing_field", "not an OpenAPI document: no 'openapi' or 'swagger' field");
  }
  auto info = r.at("info");
  out.title = info.str("title");
  out.api_version = info.str("version");
  // info.version is often written unquoted (1.0): the YAML reader typed it.
  if (out.api_version.empty() && info.obj())
    if (auto* v = info.obj()->if_contains("version"); v && v->is_number()) {
      // As written ("1.5", not the double's "1.5E0").
      out.api_version = boost::json::serialize(*v);
      if (root->is_yaml) {
        try {
          out.api_version = root->yaml["info"]["version"].Scalar();
        } catch (const std::exception&) {
        }
      }
    }
  out.extensions = extensions(r);
  Result<void> loaded =
      out.version == SpecVersion::kSwagger2 ? load_swagger2(*this) : load_openapi3();
  if (!loaded) return loaded.error();
  return std::move(out);
}

}  // namespace detail

std::string_view spec_version_name(SpecVersion v) {
  switch (v) {
    case SpecVersion::kSwagger2:
      return "swagger-2.0";
    case SpecVersion::kOpenApi30:
      return "openapi-3.0";
    case SpecVersion::kOpenApi31:
      return "openapi-3.1";
  }
  return "";
}

const std::vector<SecurityAlternative>& effective_security(const Document& d, const Operation& op) {
  return op.security ? *op.security : d.security;
}

const json::value& resolve_schema(const Document& d, const json::value& schema) {
  const json::value* v = &schema;
  for (int i = 0; i < 16; ++i) {
    if (!v->is_object()) return *v;
    auto* r = v->get_object().if_contains("$ref");
    if (!r || !r->is_string()) return *v;
    std::string_view ref = r->get_string();
    constexpr std::string_view kPrefix = "#/components/schemas/";
    if (!ref.starts_with(kPrefix)) return *v;
    std::string name = detail::last_token(std::string(ref));
    auto it = d.schemas.find(name);
    if (it == d.schemas.end()) return *v;
    v = &it->second;
  }
  return *v;
}

Result<Document> load_document(std::string_view text, const std::string& name,
                               const LoadOptions& options) {
  detail::Loader loader(options);
  return loader.run(text, name);
}

FileReader filesystem_reader() {
  return [](const std::string& path) -> Result<std::string> {
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error("not_found", "no such file");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
}

Result<Document> load_document_file(const std::string& path) {
  auto text = filesystem_reader()(path);
  if (!text) {
    Error e = make_error("not_found", "cannot read " + path, {}, 400, ErrorSide::kDownstream);
    e.file = path;
    return e;
  }
  LoadOptions opt;
  opt.reader = filesystem_reader();
  return load_document(*text, path, opt);
}

}  // namespace gatehouse::apim::openapi
