// libprotobuf's half of transcoding. Decisions (README.md):
// - The descriptor set is built into a private DescriptorPool; imports it
//   lacks that libprotobuf itself carries (google/protobuf/*.proto) are taken
//   from the generated pool, anything else is a config error.
// - google.api.http is read from the method options' unknown fields
//   (extension 72295728) of the set as written, so the set need not be
//   compiled with http.proto linked into us; HttpRule is decoded by field
//   number.
// - JSON goes through util::JsonToBinaryString / BinaryToJsonString with a
//   TypeResolver over the pool (proto3 JSON mapping, no DynamicMessage).
//   Path and query values are merged into the request JSON as typed JSON
//   values before that one conversion, so a body can never smuggle fields.
#include "transcode/transcoder.hpp"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/unknown_field_set.h>
#include <google/protobuf/util/json_util.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "common/json.hpp"
#include "transcode/query.hpp"
#include "transcode/transcoder_impl.hpp"

namespace gatehouse::transcode {

namespace pb = google::protobuf;
namespace json = boost::json;

namespace {

constexpr int kHttpExtension = 72295728;  // google.api.http on MethodOptions
constexpr uintmax_t kMaxDescriptorBytes = 64 * 1024 * 1024;

std::string type_url(const std::string& full_name) {
  return std::string(kUrlPrefix) + "/" + full_name;
}

class Collector : public pb::DescriptorPool::ErrorCollector {
 public:
  void AddError(const std::string& filename, const std::string& element, const pb::Message*,
                ErrorLocation, const std::string& message) override {
    if (first.empty()) first = filename + ": " + element + ": " + message;
  }
  std::string first;
};

struct RawRule {
  std::string verb, path, body, response_body;
};

// HttpRule by field number: 2-6 get/put/post/delete/patch, 8 custom
// {1 kind, 2 path}, 7 body, 12 response_body, 11 additional_bindings.
void decode_rule(const pb::UnknownFieldSet& f, std::vector<RawRule>& out, int depth) {
  RawRule r;
  static constexpr const char* kVerbs[] = {"GET", "PUT", "POST", "DELETE", "PATCH"};
  std::vector<std::unique_ptr<pb::UnknownFieldSet>> nested;
  for (int i = 0; i < f.field_count(); ++i) {
    const pb::UnknownField& u = f.field(i);
    if (u.type() != pb::UnknownField::TYPE_LENGTH_DELIMITED) continue;
    const std::string& v = u.length_delimited();
    int n = u.number();
    if (n >= 2 && n <= 6) {
      r.verb = kVerbs[n - 2];
      r.path = v;
    } else if (n == 8) {
      pb::UnknownFieldSet c;
      if (c.ParseFromString(v))
        for (int j = 0; j < c.field_count(); ++j) {
          const auto& cf = c.field(j);
          if (cf.type() != pb::UnknownField::TYPE_LENGTH_DELIMITED) continue;
          if (cf.number() == 1) r.verb = cf.length_delimited();
          if (cf.number() == 2) r.path = cf.length_delimited();
        }
    } else if (n == 7) {
      r.body = v;
    } else if (n == 12) {
      r.response_body = v;
    } else if (n == 11 && depth == 0) {  // additional bindings do not nest (http.proto)
      auto n = std::make_unique<pb::UnknownFieldSet>();
      if (n->ParseFromString(v)) nested.push_back(std::move(n));
    }
  }
  if (!r.verb.empty()) out.push_back(std::move(r));
  for (const auto& n : nested) decode_rule(*n, out, depth + 1);
}

const pb::FieldDescriptor* find_field(const pb::Descriptor* d, const std::string& name) {
  if (const auto* f = d->FindFieldByName(name)) return f;
  for (int i = 0; i < d->field_count(); ++i)
    if (d->field(i)->json_name() == name) return d->field(i);
  return nullptr;
}

bool is_string_wkt(const pb::Descriptor* d) {
  static const std::set<std::string> kNames = {
      "google.protobuf.Timestamp",   "google.protobuf.Duration",    "google.protobuf.FieldMask",
      "google.protobuf.StringValue", "google.protobuf.BytesValue",  "google.protobuf.Int32Value",
      "google.protobuf.Int64Value",  "google.protobuf.UInt32Value", "google.protobuf.UInt64Value",
      "google.protobuf.FloatValue",  "google.protobuf.DoubleValue", "google.protobuf.BoolValue"};
  return kNames.count(d->full_name()) > 0;
}

// A field path ("a.b.c") resolved in `d`: every step but the last a singular
// message; the last a scalar, an enum, or a well-known type written as a
// string. Empty result with `why` set otherwise.
std::vector<const pb::FieldDescriptor*> resolve(const pb::Descriptor* d,
                                                const std::vector<std::string>& path,
                                                bool allow_repeated, std::string& why) {
  std::vector<const pb::FieldDescriptor*> out;
  for (size_t i = 0; i < path.size(); ++i) {
    const pb::FieldDescriptor* f = find_field(d, path[i]);
    if (!f) {
      why = "message " + d->full_name() + " has no field '" + path[i] + "'";
      return {};
    }
    out.push_back(f);
    const bool last = i + 1 == path.size();
    const bool msg = f->type() == pb::FieldDescriptor::TYPE_MESSAGE;
    if (!last) {
      if (!msg || f->is_repeated()) {
        why = "field '" + path[i] + "' of " + d->full_name() + " is not a singular message";
        return {};
      }
      d = f->message_type();
      continue;
    }
    if (f->is_map() || (f->is_repeated() && !allow_repeated) ||
        (msg && !is_string_wkt(f->message_type()))) {
      why = "field '" + path[i] + "' of " + d->full_name() +
            " cannot take a value from a URL (a message, map or repeated field)";
      return {};
    }
  }
  return out;
}

std::vector<std::string> split_dots(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t dot = s.find('.', start);
    out.emplace_back(s.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return out;
}

std::string join_dots(const std::vector<std::string>& p) {
  std::string s;
  for (const auto& x : p) {
    if (!s.empty()) s += '.';
    s += x;
  }
  return s;
}

// A URL value as the JSON value proto3 JSON expects for the field.
bool url_value(const pb::FieldDescriptor* f, const std::string& v, json::value& out,
               std::string& why) {
  const bool boolish = f->type() == pb::FieldDescriptor::TYPE_BOOL ||
                       (f->type() == pb::FieldDescriptor::TYPE_MESSAGE &&
                        f->message_type()->full_name() == "google.protobuf.BoolValue");
  if (boolish) {
    if (v == "true" || v == "1")
      out = true;
    else if (v == "false" || v == "0")
      out = false;
    else {
      why = "'" + v + "' is not a boolean (true or false)";
      return false;
    }
    return true;
  }
  if (f->type() == pb::FieldDescriptor::TYPE_ENUM && !v.empty() &&
      v.find_first_not_of("-0123456789") == std::string::npos) {
    errno = 0;
    char* end = nullptr;
    long long n = std::strtoll(v.c_str(), &end, 10);
    if (*end || errno) {
      why = "'" + v + "' is not an enum value";
      return false;
    }
    out = static_cast<int64_t>(n);
    return true;
  }
  // Numbers go as strings: proto3 JSON accepts quoted numbers for every
  // numeric type and checks range and syntax itself.
  out = json::string(v);
  return true;
}

// Sets (or, for repeated leaves, appends) the value at the field path, making
// nested objects as needed; a member spelled the other way (json_name vs
// proto name) is dropped so the field is not set twice.
void set_path(json::object& root, const std::vector<const pb::FieldDescriptor*>& fields,
              json::value v, bool append) {
  json::object* o = &root;
  for (size_t i = 0; i < fields.size(); ++i) {
    const pb::FieldDescriptor* f = fields[i];
    if (f->json_name() != f->name()) {
      if (auto* other = o->if_contains(f->json_name())) {
        if (!o->contains(f->name())) (*o)[f->name()] = std::move(*other);
        o->erase(f->json_name());
      }
    }
    json::value& slot = (*o)[f->name()];
    if (i + 1 < fields.size()) {
      if (!slot.is_object()) slot = json::object();
      o = &slot.as_object();
      continue;
    }
    if (append) {
      if (!slot.is_array()) slot = json::array();
      slot.as_array().push_back(std::move(v));
    } else {
      slot = std::move(v);
    }
  }
}

// Lenient base64 (standard or URL alphabet, padding optional): gRPC metadata
// values may come unpadded.
bool base64_any(std::string_view in, std::string& out) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    int v = val(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return true;
}

std::string base64_std(std::string_view in) {
  static constexpr char kAlpha[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) |
                 static_cast<uint8_t>(in[i + 2]);
    out += kAlpha[n >> 18];
    out += kAlpha[(n >> 12) & 63];
    out += kAlpha[(n >> 6) & 63];
    out += kAlpha[n & 63];
  }
  if (i < in.size()) {
    uint32_t n = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<uint8_t>(in[i + 1]) << 8;
    out += kAlpha[n >> 18];
    out += kAlpha[(n >> 12) & 63];
    out += i + 1 < in.size() ? kAlpha[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// A libprotobuf status message without its "INVALID_ARGUMENT:" prefix.
std::string status_text(const pb::util::Status& st) {
  return std::string(st.message());
}

}  // namespace

Transcoder::~Transcoder() = default;

std::shared_ptr<const Transcoder> Transcoder::build(const config::RouteGrpcTranscodeConfig& cfg,
                                                    std::vector<BuildProblem>& problems) {
  std::shared_ptr<Transcoder> t(new Transcoder());
  t->cfg_ = cfg;
  t->impl_ = std::make_unique<Impl>();
  Impl& im = *t->impl_;
  auto problem = [&](std::string where, std::string message) {
    problems.push_back({std::move(where), std::move(message)});
  };
  if (cfg.descriptor.empty()) {
    problem("descriptor",
            "a descriptor set file is needed (protoc --include_imports --descriptor_set_out)");
    return nullptr;
  }
  // A regular file of sane size: the path is config input (and fuzz input),
  // and /dev/zero or a directory must not hang or crash a config load.
  std::error_code fec;
  const bool regular = std::filesystem::is_regular_file(cfg.descriptor, fec);
  const auto fsize = regular ? std::filesystem::file_size(cfg.descriptor, fec) : 0;
  if (regular && !fec && fsize > kMaxDescriptorBytes) {
    problem("descriptor", "descriptor set '" + cfg.descriptor + "' is larger than 64 MiB");
    return nullptr;
  }
  std::ifstream in(cfg.descriptor, std::ios::binary);
  if (!regular || fec || !in) {
    problem("descriptor", "cannot read descriptor set '" + cfg.descriptor + "'");
    return nullptr;
  }
  std::ostringstream data;
  data << in.rdbuf();
  pb::FileDescriptorSet set;
  if (!set.ParseFromString(data.str()) || set.file_size() == 0) {
    problem("descriptor", "'" + cfg.descriptor +
                              "' is not a FileDescriptorSet (protoc --include_imports "
                              "--descriptor_set_out)");
    return nullptr;
  }

  // Files in dependency order; imports missing from the set come from
  // libprotobuf's own (well-known types) or are an error.
  std::map<std::string, const pb::FileDescriptorProto*> by_name;
  for (const auto& f : set.file()) by_name.emplace(f.name(), &f);
  Collector errors;
  std::set<std::string> visiting;
  std::function<bool(const std::string&)> add = [&](const std::string& name) -> bool {
    if (im.pool.FindFileByName(name)) return true;
    if (!visiting.insert(name).second) {
      problem("descriptor", "import cycle through " + name);
      return false;
    }
    pb::FileDescriptorProto fallback;
    const pb::FileDescriptorProto* fp = nullptr;
    if (auto it = by_name.find(name); it != by_name.end()) {
      fp = it->second;
    } else if (const auto* g = pb::DescriptorPool::generated_pool()->FindFileByName(name)) {
      g->CopyTo(&fallback);
      fp = &fallback;
    } else {
      problem("descriptor", "the descriptor set lacks " + name +
                                ", an import; compile it with protoc --include_imports");
      return false;
    }
    for (const auto& dep : fp->dependency())
      if (!add(dep)) return false;
    if (!im.pool.BuildFileCollectingErrors(*fp, &errors)) {
      problem("descriptor", "invalid descriptor: " + errors.first);
      return false;
    }
    return true;
  };
  for (const auto& f : set.file())
    if (!add(f.name())) return nullptr;
  // google.rpc.Status, to print grpc-status-details-bin, when the set has none.
  const bool have_any =
      by_name.count("google/protobuf/any.proto") ||
      pb::DescriptorPool::generated_pool()->FindFileByName("google/protobuf/any.proto");
  if (!im.pool.FindMessageTypeByName("google.rpc.Status") && have_any &&
      add("google/protobuf/any.proto")) {
    pb::FileDescriptorProto st;
    st.set_name("gatehouse/google_rpc_status.proto");
    st.set_package("google.rpc");
    st.set_syntax("proto3");
    st.add_dependency("google/protobuf/any.proto");
    auto* m = st.add_message_type();
    m->set_name("Status");
    auto field = [&](const char* name, int n, pb::FieldDescriptorProto::Type type) {
      auto* f = m->add_field();
      f->set_name(name);
      f->set_number(n);
      f->set_type(type);
      f->set_label(pb::FieldDescriptorProto::LABEL_OPTIONAL);
      return f;
    };
    field("code", 1, pb::FieldDescriptorProto::TYPE_INT32);
    field("message", 2, pb::FieldDescriptorProto::TYPE_STRING);
    auto* d = field("details", 3, pb::FieldDescriptorProto::TYPE_MESSAGE);
    d->set_label(pb::FieldDescriptorProto::LABEL_REPEATED);
    d->set_type_name(".google.protobuf.Any");
    im.pool.BuildFileCollectingErrors(st, &errors);
  }

  // Methods are numbered as bindings first need them.
  std::map<const pb::MethodDescriptor*, size_t> method_index;
  auto method_of = [&](const pb::MethodDescriptor* md) {
    auto [it, fresh] = method_index.emplace(md, t->methods_.size());
    if (fresh) {
      Method m;
      m.grpc_path = "/" + md->service()->full_name() + "/" + md->name();
      m.input_type = md->input_type()->full_name();
      m.output_type = md->output_type()->full_name();
      m.client_streaming = md->client_streaming();
      m.server_streaming = md->server_streaming();
      t->methods_.push_back(std::move(m));
      im.methods.push_back(md);
    }
    return it->second;
  };
  auto add_binding = [&](const pb::MethodDescriptor* md, const RawRule& r, const std::string& where,
                         const std::string& verb_where) {
    Binding b;
    b.verb = r.verb;
    b.path = r.path;
    auto tmpl = parse_path_template(r.path);
    if (!tmpl) {
      problem(verb_where,
              md->full_name() + ": path template '" + r.path + "': " + tmpl.error().message);
      return;
    }
    b.tmpl = std::move(tmpl.value());
    std::string why;
    for (const auto& v : b.tmpl.variables) {
      if (resolve(md->input_type(), v.field_path, false, why).empty()) {
        problem(verb_where, md->full_name() + ": path template '" + r.path + "' binds {" +
                                join_dots(v.field_path) + "}: " + why);
        return;
      }
    }
    if (!r.body.empty() && r.body != "*") {
      const auto* f = md->input_type()->FindFieldByName(r.body);
      if (!f) {
        problem(where + "body", md->full_name() + ": body '" + r.body + "' is not a field of " +
                                    md->input_type()->full_name());
        return;
      }
    }
    if (!r.response_body.empty() && !md->output_type()->FindFieldByName(r.response_body)) {
      problem(where + "response_body", md->full_name() + ": response_body '" + r.response_body +
                                           "' is not a field of " + md->output_type()->full_name());
      return;
    }
    b.body = r.body;
    b.response_body = r.response_body;
    // google.api.HttpBody: the whole message, or a singular field of it.
    auto http_body = [](const pb::Descriptor* d, const std::string& field) {
      if (field.empty() || field == "*") return is_http_body(d);
      const pb::FieldDescriptor* f = d->FindFieldByName(field);
      return f && !f->is_repeated() && f->type() == pb::FieldDescriptor::TYPE_MESSAGE &&
             is_http_body(f->message_type());
    };
    b.raw_request = !r.body.empty() && http_body(md->input_type(), r.body);
    b.raw_response = http_body(md->output_type(), r.response_body);
    b.method = method_of(md);
    t->bindings_.push_back(std::move(b));
  };

  // Annotated methods of the chosen services (every service when none named).
  std::set<std::string> wanted(cfg.services.begin(), cfg.services.end());
  for (size_t i = 0; i < cfg.services.size(); ++i)
    if (!im.pool.FindServiceByName(cfg.services[i])) {
      std::string have;
      for (const auto& f : set.file())
        for (const auto& s : f.service())
          have += (have.empty() ? "" : ", ") + (f.package().empty() ? "" : f.package() + ".") +
                  s.name();
      problem("services[" + std::to_string(i) + "]",
              "no service '" + cfg.services[i] +
                  "' in the descriptor set (it has: " + (have.empty() ? "none" : have) + ")");
    }
  for (const auto& f : set.file()) {
    for (const auto& s : f.service()) {
      std::string sname = (f.package().empty() ? "" : f.package() + ".") + s.name();
      if (!wanted.empty() && !wanted.count(sname)) continue;
      const pb::ServiceDescriptor* sd = im.pool.FindServiceByName(sname);
      if (!sd) continue;
      for (const auto& m : s.method()) {
        const auto& uf = m.options().unknown_fields();
        for (int k = 0; k < uf.field_count(); ++k) {
          const auto& u = uf.field(k);
          if (u.number() != kHttpExtension || u.type() != pb::UnknownField::TYPE_LENGTH_DELIMITED)
            continue;
          pb::UnknownFieldSet rule;
          if (!rule.ParseFromString(u.length_delimited())) continue;
          std::vector<RawRule> rules;
          decode_rule(rule, rules, 0);
          for (const auto& r : rules)
            add_binding(sd->FindMethodByName(m.name()), r, "", "descriptor");
        }
      }
    }
  }
  for (size_t i = 0; i < cfg.mapping.size(); ++i) {
    const auto& mp = cfg.mapping[i];
    const std::string where = "mapping[" + std::to_string(i) + "].";
    std::string name = mp.method;
    if (auto slash = name.find('/'); slash != std::string::npos) name[slash] = '.';
    const pb::MethodDescriptor* md = im.pool.FindMethodByName(name);
    if (!md) {
      problem(where + "method", "no method '" + mp.method + "' in the descriptor set");
      continue;
    }
    std::string verb_key = mp.verb;
    for (auto& c : verb_key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const bool standard = verb_key == "get" || verb_key == "put" || verb_key == "post" ||
                          verb_key == "delete" || verb_key == "patch";
    add_binding(md, RawRule{mp.verb, mp.path, mp.body, mp.response_body}, where,
                where + (standard ? verb_key : "custom"));
  }
  if (problems.empty() && t->bindings_.empty())
    problem("descriptor",
            "no method has a google.api.http rule and no mapping is given: nothing to serve");
  if (!problems.empty()) return nullptr;
  im.print.always_print_primitive_fields = cfg.always_print_primitive_fields;
  im.print.preserve_proto_field_names = cfg.preserve_proto_field_names;
  im.print.always_print_enums_as_ints = cfg.enums_as_ints;
  return t;
}

Transcoder::Match Transcoder::match(std::string_view verb, std::string_view path) const {
  Match best;
  std::vector<int> best_key;
  std::vector<Capture> caps;
  for (const auto& b : bindings_) {
    if (!match_path(b.tmpl, path, caps)) continue;
    if (b.verb != verb) {
      best.path_known = true;
      continue;
    }
    // Most specific wins: literal before '*' before '**', left to right.
    std::vector<int> key;
    for (const auto& s : b.tmpl.segments) key.push_back(static_cast<int>(s.kind));
    if (best.binding && !(key < best_key)) continue;
    best.binding = &b;
    best.method = &methods_[b.method];
    best.captures = caps;
    best_key = std::move(key);
  }
  if (best.binding) best.path_known = false;
  return best;
}

bool Transcoder::request(const Match& m, std::string_view query, std::string_view body,
                         std::string& out, Problem& why, std::string_view content_type) const {
  const Binding& b = *m.binding;
  const pb::Descriptor* in = impl_->methods[b.method]->input_type();
  json::object root;
  if (!b.body.empty() && !body.empty() && !b.raw_request) {
    boost::system::error_code ec;
    json::value v = parse_json(std::string_view(body.data(), body.size()), ec);
    if (ec) {
      why = {400, "invalid_json", "request body is not JSON: " + ec.message(),
             b.body == "*" ? "" : b.body};
      return false;
    }
    if (b.body == "*") {
      if (!v.is_object()) {
        why = {400, "invalid_json", "request body must be a JSON object (" + in->full_name() + ")",
               ""};
        return false;
      }
      root = std::move(v.as_object());
    } else {
      root[in->FindFieldByName(b.body)->name()] = std::move(v);
    }
  }
  // Query parameters fill what neither the path nor the body field binds.
  auto q = parse_query(query);
  if (!q) {
    why = {400, q.error().code, q.error().message, q.error().field};
    return false;
  }
  std::string err;
  for (const auto& [name, value] : q.value()) {
    auto path = split_dots(name);
    bool bound = false;
    for (const auto& c : m.captures)
      if (c.var->field_path == path) bound = true;
    if (bound || (!b.body.empty() && b.body != "*" && path[0] == b.body)) continue;
    auto fields = resolve(in, path, true, err);
    if (fields.empty()) {
      if (cfg_.ignore_unknown_query_parameters) continue;
      why = {400, "unknown_query_parameter", "query parameter '" + name + "': " + err, name};
      return false;
    }
    json::value v;
    if (!url_value(fields.back(), value, v, err)) {
      why = {400, "invalid_query_parameter", "query parameter '" + name + "': " + err, name};
      return false;
    }
    set_path(root, fields, std::move(v), fields.back()->is_repeated());
  }
  // Path variables last: they win over the body and the query.
  for (const auto& c : m.captures) {
    auto fields = resolve(in, c.var->field_path, false, err);
    json::value v;
    if (fields.empty() || !url_value(fields.back(), c.value, v, err)) {
      why = {400, "invalid_path_parameter",
             "path parameter {" + join_dots(c.var->field_path) + "}: " + err,
             join_dots(c.var->field_path)};
      return false;
    }
    set_path(root, fields, std::move(v), false);
  }
  auto resolver = impl_->resolver();
  pb::util::JsonParseOptions po;
  out.clear();  // the conversion appends
  auto st = pb::util::JsonToBinaryString(resolver.get(), type_url(in->full_name()),
                                         json::serialize(root), &out, po);
  if (!st.ok()) {
    why = {400, "invalid_argument",
           "request does not fit " + in->full_name() + ": " + status_text(st), ""};
    return false;
  }
  if (b.raw_request) append_http_body(in, b.body, content_type, body, out);
  return true;
}

bool Transcoder::response(const Match& m, std::string_view message, std::string& out,
                          Problem& why) const {
  const Binding& b = *m.binding;
  const pb::Descriptor* d = impl_->methods[b.method]->output_type();
  // BinaryToJsonString prints what it could of a cut message and reports
  // success; the wire format is checked first so a broken one is an error.
  pb::UnknownFieldSet wire;
  if (!wire.ParseFromString(std::string(message))) {
    why = {502, "bad_upstream_message",
           "upstream message is not valid protobuf (" + d->full_name() + ")", ""};
    return false;
  }
  auto resolver = impl_->resolver();
  out.clear();
  auto st = pb::util::BinaryToJsonString(resolver.get(), type_url(d->full_name()),
                                         std::string(message), &out, impl_->print);
  if (!st.ok()) {
    why = {502, "bad_upstream_message",
           "upstream message is not a " + d->full_name() + ": " + status_text(st), ""};
    return false;
  }
  if (b.response_body.empty()) return true;
  const pb::FieldDescriptor* f = d->FindFieldByName(b.response_body);
  boost::system::error_code ec;
  json::value v = parse_json(out, ec);
  const std::string key = cfg_.preserve_proto_field_names ? f->name() : f->json_name();
  if (!ec && v.is_object())
    if (auto* x = v.as_object().if_contains(key)) {
      out = json::serialize(*x);
      return true;
    }
  // Unset in proto3: the field's default as proto3 JSON would print it.
  if (f->is_repeated())
    out = f->is_map() ? "{}" : "[]";
  else if (f->type() == pb::FieldDescriptor::TYPE_MESSAGE)
    out = "{}";
  else if (f->type() == pb::FieldDescriptor::TYPE_STRING ||
           f->type() == pb::FieldDescriptor::TYPE_BYTES)
    out = "\"\"";
  else if (f->type() == pb::FieldDescriptor::TYPE_BOOL)
    out = "false";
  else if (f->type() == pb::FieldDescriptor::TYPE_ENUM)
    out = cfg_.enums_as_ints ? "0" : json::serialize(json::value(f->enum_type()->value(0)->name()));
  else if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_INT64 ||
           f->cpp_type() == pb::FieldDescriptor::CPPTYPE_UINT64)
    out = "\"0\"";
  else
    out = "0";
  return true;
}

std::string Transcoder::error_body(int code, std::string_view message,
                                   std::string_view details_bin) const {
  json::object o;
  o["code"] = code;
  o["message"] = json::string(message);
  json::array details;
  std::string raw;
  if (!details_bin.empty() && base64_any(details_bin, raw)) {
    auto resolver = impl_->resolver();
    std::string text;
    auto st = pb::util::BinaryToJsonString(resolver.get(), type_url("google.rpc.Status"), raw,
                                           &text, pb::util::JsonPrintOptions());
    boost::system::error_code ec;
    json::value v = st.ok() ? parse_json(text, ec) : json::value();
    if (st.ok() && !ec && v.is_object() && v.as_object().contains("details")) {
      if (v.as_object()["details"].is_array()) details = v.as_object()["details"].as_array();
    } else {
      // Detail types the set does not describe: each Any as its type URL
      // and base64 value (proto3 JSON's form for an unknown Any).
      pb::UnknownFieldSet s;
      if (s.ParseFromString(raw))
        for (int i = 0; i < s.field_count(); ++i) {
          const auto& f = s.field(i);
          if (f.number() != 3 || f.type() != pb::UnknownField::TYPE_LENGTH_DELIMITED) continue;
          pb::UnknownFieldSet any;
          if (!any.ParseFromString(f.length_delimited())) continue;
          json::object d;
          for (int j = 0; j < any.field_count(); ++j) {
            const auto& a = any.field(j);
            if (a.type() != pb::UnknownField::TYPE_LENGTH_DELIMITED) continue;
            if (a.number() == 1) d["@type"] = json::string(a.length_delimited());
            if (a.number() == 2) d["value"] = json::string(base64_std(a.length_delimited()));
          }
          details.push_back(std::move(d));
        }
    }
  }
  o["details"] = std::move(details);
  return json::serialize(o);
}

}  // namespace gatehouse::transcode
