#include "config/load_grpc_transcode.hpp"

#include <filesystem>

namespace gatehouse::config::detail {

namespace {

constexpr const char* kVerbs[] = {"get", "put", "post", "delete", "patch"};

GrpcTranscodeMapping parse_mapping(Reader& r, const Slot& s) {
  GrpcTranscodeMapping m;
  Fields f(r, s,
           {"method", "get", "put", "post", "delete", "patch", "custom", "body", "response_body"});
  f.read("method", m.method);
  int verbs = 0;
  for (const char* v : kVerbs) {
    if (const Slot* p = f.get(v)) {
      ++verbs;
      m.verb = v;
      for (auto& c : m.verb) c = static_cast<char>(c - 'a' + 'A');
      r.read(*p, m.path);
    }
  }
  if (const Slot* c = f.get("custom")) {
    ++verbs;
    Fields cf(r, *c, {"kind", "path"});
    cf.read("kind", m.verb);
    cf.read("path", m.path);
    if (m.verb.empty()) r.fail(*c, "missing_field", "custom needs a kind (the HTTP method)");
  }
  if (m.method.empty())
    r.fail(s, "missing_field", "a mapping names its method (pkg.Service/Method)");
  if (verbs == 0)
    r.fail(s, "missing_field", "a mapping needs one of get, put, post, delete, patch, custom");
  else if (verbs > 1)
    r.fail(s, "conflicting_fields", "a mapping has one of get, put, post, delete, patch, custom");
  f.read("body", m.body);
  f.read("response_body", m.response_body);
  return m;
}

}  // namespace

RouteGrpcTranscodeConfig parse_route_grpc_transcode(Reader& r, const Slot& s) {
  RouteGrpcTranscodeConfig g;
  Fields f(r, s,
           {"descriptor", "services", "mapping", "print", "ignore_unknown_query_parameters",
            "stream", "max_body"});
  f.read("descriptor", g.descriptor);
  // Relative to the config file's folder, as specs[].file: a config and its
  // descriptor set move together.
  if (!g.descriptor.empty() && g.descriptor.front() != '/') {
    auto dir = std::filesystem::path(s.pos.file).parent_path();
    if (!dir.empty() && s.pos.file.find(':') == std::string::npos)
      g.descriptor = (dir / g.descriptor).lexically_normal().string();
  }
  f.strings("services", g.services);
  if (const Slot* m = f.get("mapping"))
    for (const Slot& item : r.items(*m)) g.mapping.push_back(parse_mapping(r, item));
  if (const Slot* p = f.get("print")) {
    Fields pf(r, *p,
              {"always_print_primitive_fields", "preserve_proto_field_names", "enums_as_ints"});
    pf.read("always_print_primitive_fields", g.always_print_primitive_fields);
    pf.read("preserve_proto_field_names", g.preserve_proto_field_names);
    pf.read("enums_as_ints", g.enums_as_ints);
  }
  f.read("ignore_unknown_query_parameters", g.ignore_unknown_query_parameters);
  if (const Slot* st = f.get("stream")) {
    bool nd = false;
    r.choice<bool>(*st, {{"array", false}, {"ndjson", true}}, nd);
    g.ndjson = nd;
  }
  f.size("max_body", g.max_body);
  return g;
}

}  // namespace gatehouse::config::detail
