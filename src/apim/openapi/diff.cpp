#include "apim/openapi/diff.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <map>
#include <set>

namespace gatehouse::apim::openapi {

namespace json = boost::json;

namespace {

enum class Direction { kRequest, kResponse };

// "/pets/{petId}" and "/pets/{id}" are the same endpoint.
std::string path_key(const std::string& path) {
  std::string out;
  bool in = false;
  for (char c : path) {
    if (c == '{') {
      in = true;
      out += "{}";
    } else if (c == '}') {
      in = false;
    } else if (!in) {
      out += c;
    }
  }
  return out;
}

std::set<std::string> types_of(const json::value& s) {
  std::set<std::string> out;
  if (!s.is_object()) return out;
  if (auto* t = s.get_object().if_contains("type")) {
    if (t->is_string()) out.insert(std::string(t->get_string()));
    if (t->is_array())
      for (const auto& v : t->get_array())
        if (v.is_string()) out.insert(std::string(v.get_string()));
  }
  if (auto* n = s.get_object().if_contains("nullable"); n && n->is_bool() && n->get_bool())
    out.insert("null");
  return out;
}

// Every type of `a` accepted by `b` (an integer is a number).
bool types_within(const std::set<std::string>& a, const std::set<std::string>& b) {
  if (b.empty()) return true;  // no type: anything
  if (a.empty()) return false;
  for (const auto& t : a)
    if (!b.count(t) && !(t == "integer" && b.count("number"))) return false;
  return true;
}

std::string join(const std::set<std::string>& s) {
  std::string out;
  for (const auto& t : s) out += (out.empty() ? "" : "|") + t;
  return out.empty() ? "any" : out;
}

const json::value* field(const json::value& s, std::string_view k) {
  return s.is_object() ? s.get_object().if_contains(k) : nullptr;
}

std::optional<double> number(const json::value& s, std::string_view k) {
  auto* v = field(s, k);
  if (!v || !v->is_number()) return std::nullopt;
  return v->to_number<double>();
}

std::set<std::string> required_of(const json::value& s) {
  std::set<std::string> out;
  if (auto* r = field(s, "required"); r && r->is_array())
    for (const auto& v : r->get_array())
      if (v.is_string()) out.insert(std::string(v.get_string()));
  return out;
}

struct Differ {
  const Document& a;
  const Document& b;
  std::vector<Change> out;
  std::string op;  // current operation label

  void add(Level level, std::string id, const std::string& where, std::string message) {
    std::string location = op.empty() ? where : where.empty() ? op : op + " " + where;
    out.push_back({level, std::move(id), op, std::move(location), std::move(message)});
  }

  // `what` is "request-parameter", "request-property", "response-property".
  void schema(const json::value& sa_in, const json::value& sb_in, Direction dir,
              const std::string& what, const std::string& where, int depth,
              std::set<std::pair<const void*, const void*>>& seen) {
    const json::value& sa = resolve_schema(a, sa_in);
    const json::value& sb = resolve_schema(b, sb_in);
    if (depth > 32 || !sa.is_object() || !sb.is_object()) return;
    if (!seen.insert({&sa, &sb}).second) return;  // recursive schemas: compared once
    bool req = dir == Direction::kRequest;
    auto ta = types_of(sa), tb = types_of(sb);
    if (ta != tb && (req ? !types_within(ta, tb) : !types_within(tb, ta)))
      add(Level::kError, what + "-type-changed", where,
          "type changed from " + join(ta) + " to " + join(tb));
    // Enums: a request may no longer send a value; a response may send a new one.
    auto* ea = field(sa, "enum");
    auto* eb = field(sb, "enum");
    if (ea && ea->is_array() && eb && eb->is_array()) {
      for (const auto& v : ea->get_array())
        if (req &&
            std::find(eb->get_array().begin(), eb->get_array().end(), v) == eb->get_array().end())
          add(Level::kError, what + "-enum-value-removed", where,
              "enum value " + json::serialize(v) + " was removed");
      for (const auto& v : eb->get_array())
        if (!req &&
            std::find(ea->get_array().begin(), ea->get_array().end(), v) == ea->get_array().end())
          add(Level::kWarning, what + "-enum-value-added", where,
              "enum value " + json::serialize(v) + " was added: clients may not expect it");
    } else if (!ea && eb && eb->is_array() && req) {
      add(Level::kError, what + "-enum-added", where, "values are now restricted to an enum");
    }
    if (req) {
      // Narrowed constraints refuse requests that used to be valid.
      struct Bound {
        const char* key;
        bool upper;
        const char* name;
      };
      for (const Bound& bd :
           {Bound{"maximum", true, "max"}, Bound{"maxLength", true, "max-length"},
            Bound{"maxItems", true, "max-items"}, Bound{"minimum", false, "min"},
            Bound{"minLength", false, "min-length"}, Bound{"minItems", false, "min-items"}}) {
        auto va = number(sa, bd.key), vb = number(sb, bd.key);
        bool narrowed = bd.upper ? (vb && (!va || *vb < *va)) : (vb && (!va || *vb > *va));
        if (narrowed)
          add(Level::kError, what + "-" + bd.name + (bd.upper ? "-decreased" : "-increased"), where,
              std::string(bd.key) +
                  (va ? " changed from " + json::serialize(*field(sa, bd.key)) : " added") +
                  " to " + json::serialize(*field(sb, bd.key)));
      }
      auto* pa = field(sa, "pattern");
      auto* pb = field(sb, "pattern");
      if (pb && (!pa || *pa != *pb))
        add(Level::kWarning, what + "-pattern-changed", where,
            "pattern " + (pa ? "changed" : std::string("added")) + ": " + json::serialize(*pb));
    }
    // Object properties.
    auto ra = required_of(sa), rb = required_of(sb);
    auto* pa = field(sa, "properties");
    auto* pb = field(sb, "properties");
    static const json::object kEmpty;
    const json::object& propa = pa && pa->is_object() ? pa->get_object() : kEmpty;
    const json::object& propb = pb && pb->is_object() ? pb->get_object() : kEmpty;
    std::string prefix = req ? "request-property" : "response-property";
    for (const auto& kv : propa) {
      std::string name(kv.key());
      std::string at = where + "/" + name;
      if (!propb.contains(kv.key())) {
        if (req)
          add(Level::kWarning, "request-property-removed", at,
              "property '" + name + "' was removed");
        else
          add(Level::kError, "response-property-removed", at,
              "property '" + name + "' was removed from the response");
        continue;
      }
      if (req && !ra.count(name) && rb.count(name))
        add(Level::kError, "request-property-became-required", at,
            "property '" + name + "' became required");
      if (!req && ra.count(name) && !rb.count(name))
        add(Level::kError, "response-property-became-optional", at,
            "property '" + name + "' is no longer always present");
      schema(kv.value(), propb.at(kv.key()), dir, prefix, at, depth + 1, seen);
    }
    for (const auto& kv : propb) {
      if (propa.contains(kv.key())) continue;
      std::string name(kv.key());
      if (req && rb.count(name))
        add(Level::kError, "new-required-request-property", where + "/" + name,
            "new required property '" + name + "'");
      else
        add(Level::kInfo, req ? "new-optional-request-property" : "response-property-added",
            where + "/" + name, "property '" + name + "' was added");
    }
    if (auto* ia = field(sa, "items"))
      if (auto* ib = field(sb, "items"))
        schema(*ia, *ib, dir, what, where + "/items", depth + 1, seen);
  }

  void schema_top(const json::value& sa, const json::value& sb, Direction dir,
                  const std::string& what, const std::string& where) {
    std::set<std::pair<const void*, const void*>> seen;
    schema(sa, sb, dir, what, where, 0, seen);
  }

  void parameters(const Operation& oa, const Operation& ob) {
    for (const auto& pa : oa.parameters) {
      const Parameter* pb = nullptr;
      for (const auto& p : ob.parameters)
        if (p.name == pa.name && p.in == pa.in) pb = &p;
      std::string where = pa.in + " parameter '" + pa.name + "'";
      if (!pb && pa.in == "path") continue;  // renamed with its path template
      if (!pb) {
        add(Level::kWarning, "request-parameter-removed", where,
            "parameter removed: clients sending it will have it ignored or refused");
        continue;
      }
      if (!pa.required && pb->required)
        add(Level::kError, "request-parameter-became-required", where,
            "the parameter became required");
      schema_top(pa.schema, pb->schema, Direction::kRequest, "request-parameter", where);
    }
    for (const auto& pb : ob.parameters) {
      bool known = false;
      for (const auto& p : oa.parameters) known = known || (p.name == pb.name && p.in == pb.in);
      if (known) continue;
      std::string where = pb.in + " parameter '" + pb.name + "'";
      // A renamed path parameter is the same parameter.
      if (pb.in == "path") continue;
      if (pb.required)
        add(Level::kError, "new-required-request-parameter", where, "new required parameter");
      else
        add(Level::kInfo, "new-optional-request-parameter", where, "new optional parameter");
    }
  }

  void request_body(const Operation& oa, const Operation& ob) {
    if (!oa.request_body && !ob.request_body) return;
    if (!oa.request_body) {
      if (ob.request_body->required)
        add(Level::kError, "new-required-request-body", "request body",
            "a required request body was added");
      return;
    }
    if (!ob.request_body) {
      add(Level::kWarning, "request-body-removed", "request body", "the request body was removed");
      return;
    }
    if (!oa.request_body->required && ob.request_body->required)
      add(Level::kError, "request-body-became-required", "request body",
          "the request body became required");
    for (const auto& ma : oa.request_body->content) {
      const MediaType* mb = nullptr;
      for (const auto& m : ob.request_body->content)
        if (m.type == ma.type) mb = &m;
      std::string where = "request body " + ma.type;
      if (!mb) {
        add(Level::kError, "request-body-media-type-removed", where,
            "media type " + ma.type + " is no longer accepted");
        continue;
      }
      schema_top(ma.schema, mb->schema, Direction::kRequest, "request-body", where);
    }
  }

  void responses(const Operation& oa, const Operation& ob) {
    for (const auto& ra : oa.responses) {
      const Response* rb = nullptr;
      for (const auto& r : ob.responses)
        if (r.status == ra.status) rb = &r;
      std::string where = "response " + ra.status;
      if (!rb) {
        bool success = !ra.status.empty() && ra.status[0] == '2';
        add(success ? Level::kError : Level::kWarning,
            success ? "response-success-status-removed" : "response-non-success-status-removed",
            where, "status " + ra.status + " was removed");
        continue;
      }
      for (const auto& ma : ra.content) {
        const MediaType* mb = nullptr;
        for (const auto& m : rb->content)
          if (m.type == ma.type) mb = &m;
        if (!mb) {
          add(Level::kError, "response-media-type-removed", where + " " + ma.type,
              "media type " + ma.type + " is no longer returned");
          continue;
        }
        schema_top(ma.schema, mb->schema, Direction::kResponse, "response-body",
                   where + " " + ma.type);
      }
    }
    for (const auto& rb : ob.responses) {
      bool known = false;
      for (const auto& r : oa.responses) known = known || r.status == rb.status;
      if (!known)
        add(Level::kInfo, "response-status-added", "response " + rb.status,
            "status " + rb.status + " was added");
    }
  }

  // Scheme names every alternative needs, plus scopes.
  void security(const Operation& oa, const Operation& ob) {
    const auto& sa = effective_security(a, oa);
    const auto& sb = effective_security(b, ob);
    auto open = [](const std::vector<SecurityAlternative>& s) {
      if (s.empty()) return true;
      for (const auto& alt : s)
        if (alt.schemes.empty()) return true;
      return false;
    };
    bool was_open = open(sa), is_open = open(sb);
    if (was_open && !is_open) {
      add(Level::kError, "api-security-added", "security", "authentication is now required");
      return;
    }
    if (!was_open && is_open) {
      add(Level::kInfo, "api-security-removed", "security", "authentication is no longer required");
      return;
    }
    if (is_open) return;
    // Clients that satisfied an old alternative must satisfy some new one:
    // a new alternative whose schemes (and scopes) they already present.
    for (const auto& old : sa) {
      bool covered = false;
      for (const auto& alt : sb) {
        bool ok = true;
        for (const auto& [name, scopes] : alt.schemes) {
          const std::vector<std::string>* old_scopes = nullptr;
          for (const auto& [on, os] : old.schemes)
            if (on == name) old_scopes = &os;
          if (!old_scopes) {
            ok = false;
            break;
          }
          for (const auto& sc : scopes)
            if (std::find(old_scopes->begin(), old_scopes->end(), sc) == old_scopes->end())
              ok = false;
        }
        covered = covered || ok;
      }
      if (!covered) {
        std::string names;
        for (const auto& [name, scopes] : old.schemes) names += (names.empty() ? "" : " + ") + name;
        add(Level::kError, "api-security-requirement-changed", "security",
            "clients authenticating with " + names +
                " are no longer accepted (other schemes or more scopes are required)");
      }
    }
  }

  void schemes() {
    op.clear();
    for (const auto& [name, sa] : a.security_schemes) {
      auto it = b.security_schemes.find(name);
      if (it == b.security_schemes.end()) continue;  // unused removals show up per operation
      const auto& sb = it->second;
      if (sa.type != sb.type || sa.scheme != sb.scheme)
        add(Level::kError, "security-scheme-type-changed", "security scheme '" + name + "'",
            "type changed from " + sa.type + (sa.scheme.empty() ? "" : " " + sa.scheme) + " to " +
                sb.type + (sb.scheme.empty() ? "" : " " + sb.scheme));
      else if (sa.type == "apiKey" && (sa.in != sb.in || sa.parameter_name != sb.parameter_name))
        add(Level::kError, "security-scheme-api-key-changed", "security scheme '" + name + "'",
            "the API key moved from " + sa.in + " '" + sa.parameter_name + "' to " + sb.in + " '" +
                sb.parameter_name + "'");
    }
  }

  void run() {
    // Matched by exact path first, then by shape (parameter names ignored);
    // two paths of one shape are invalid OpenAPI but must still compare sanely.
    std::map<std::string, const Operation*> exact, bops;
    std::set<std::string> bpaths;
    for (const auto& o : b.operations) {
      exact[o.method + " " + o.path] = &o;
      bops.emplace(o.method + " " + path_key(o.path), &o);
      bpaths.insert(path_key(o.path));
    }
    std::set<std::string> aops, aexact;
    for (const auto& oa : a.operations) {
      std::string key = oa.method + " " + path_key(oa.path);
      aops.insert(key);
      aexact.insert(oa.method + " " + oa.path);
      op = oa.method + " " + oa.path;
      const Operation* match = nullptr;
      if (auto e = exact.find(oa.method + " " + oa.path); e != exact.end())
        match = e->second;
      else if (auto sh = bops.find(key); sh != bops.end())
        match = sh->second;
      if (!match) {
        bool path_gone = !bpaths.count(path_key(oa.path));
        if (oa.deprecated)
          add(Level::kWarning, "api-removed-with-deprecation", "",
              "the deprecated operation was removed");
        else
          add(Level::kError,
              path_gone ? "api-path-removed-without-deprecation"
                        : "api-removed-without-deprecation",
              "", path_gone ? "the path was removed" : "the operation was removed");
        continue;
      }
      const Operation& ob = *match;
      if (!oa.deprecated && ob.deprecated)
        add(Level::kInfo, "api-deprecated", "", "the operation is now deprecated");
      parameters(oa, ob);
      request_body(oa, ob);
      responses(oa, ob);
      security(oa, ob);
    }
    for (const auto& ob : b.operations) {
      if (aexact.count(ob.method + " " + ob.path) ||
          aops.count(ob.method + " " + path_key(ob.path)))
        continue;
      op = ob.method + " " + ob.path;
      add(Level::kInfo, "endpoint-added", "", "new operation");
    }
    schemes();
  }
};

}  // namespace

std::string_view level_name(Level l) {
  switch (l) {
    case Level::kError:
      return "error";
    case Level::kWarning:
      return "warning";
    case Level::kInfo:
      return "info";
  }
  return "";
}

std::vector<Change> diff(const Document& base, const Document& revision) {
  Differ d{base, revision, {}, {}};
  d.run();
  return std::move(d.out);
}

bool has_breaking(const std::vector<Change>& changes) {
  for (const auto& c : changes)
    if (c.level == Level::kError) return true;
  return false;
}

}  // namespace gatehouse::apim::openapi
