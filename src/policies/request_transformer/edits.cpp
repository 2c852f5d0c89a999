#include "policies/request_transformer/edits.hpp"

#include <algorithm>
#include <cstdio>

#include "common/strings.hpp"
#include "policies/query.hpp"

namespace gatehouse::policy {

namespace {

const char* describe_byte(unsigned char c) {
  switch (c) {
    case '\r':
      return "a carriage return (CR)";
    case '\n':
      return "a line feed (LF)";
    case '\0':
      return "a NUL byte";
    default:
      return nullptr;
  }
}

std::string value_problem(std::string_view v) {
  for (unsigned char c : v) {
    if ((c >= 0x20 && c != 0x7f) || c == '\t') continue;
    if (const char* d = describe_byte(c)) return std::string("header values cannot contain ") + d;
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02X", c);
    return std::string("header values cannot contain control byte ") + buf;
  }
  return {};
}

std::string quoted(std::string_view s) {
  return "'" + std::string(s) + "'";
}

// Checks a name for the target; reports through `cr` and returns false when bad.
bool check_name(ConfigReader& cr, const std::string& field, std::string_view name,
                std::string_view op, EditTarget target) {
  if (name.empty()) {
    cr.fail(field, "invalid_value", "a name cannot be empty");
    return false;
  }
  if (target == EditTarget::kQuery) return true;
  for (char c : name) {
    if (!http1::is_tchar(static_cast<unsigned char>(c))) {
      cr.fail(field, "invalid_value", quoted(name) + " is not a valid header name");
      return false;
    }
  }
  if (auto p = header_name_problem(name, op, target); !p.empty()) {
    cr.fail(field, "forbidden_header", p);
    return false;
  }
  return true;
}

void read_value_ops(ConfigReader& cr, const YAML::Node& n, const std::string& field,
                    const std::string& op, EditTarget target, std::vector<ValueOp>& out) {
  if (n.IsNull()) return;
  if (!n.IsMap()) {
    cr.fail(field, "invalid_type", "expected a mapping of names to values");
    return;
  }
  for (const auto& kv : n) {
    std::string name = kv.first.Scalar();
    std::string f = field + "." + name;
    if (!check_name(cr, f, name, op, target)) continue;
    if (!kv.second.IsScalar()) {
      cr.fail(
          f, "invalid_type",
          kv.second.IsNull() ? "needs a value (quote \"\" for an empty one)" : "expected a string");
      continue;
    }
    auto t = Template::compile(kv.second.Scalar());
    if (!t) {
      cr.fail(f, t.error().code, t.error().message);
      continue;
    }
    if (target != EditTarget::kQuery) {
      if (auto p = value_problem(t->literal_text()); !p.empty()) {
        cr.fail(f, "invalid_value", "the value of " + quoted(name) + " is invalid: " + p);
        continue;
      }
    }
    out.push_back({std::move(name), std::move(t).value()});
  }
}

void read_remove(ConfigReader& cr, const YAML::Node& n, const std::string& field, EditTarget target,
                 std::vector<std::string>& out) {
  if (n.IsNull()) return;
  auto one = [&](const YAML::Node& item, const std::string& f) {
    if (!item.IsScalar()) {
      cr.fail(f, "invalid_type", "expected a name");
      return;
    }
    if (check_name(cr, f, item.Scalar(), "remove", target)) out.push_back(item.Scalar());
  };
  if (n.IsScalar()) {
    one(n, field);
  } else if (n.IsSequence()) {
    for (size_t i = 0; i < n.size(); ++i) one(n[i], field + "[" + std::to_string(i) + "]");
  } else {
    cr.fail(field, "invalid_type", "expected a list of names");
  }
}

void read_rename(ConfigReader& cr, const YAML::Node& n, const std::string& field, EditTarget target,
                 std::vector<std::pair<std::string, std::string>>& out) {
  if (n.IsNull()) return;
  if (!n.IsMap()) {
    cr.fail(field, "invalid_type", "expected a mapping of old names to new names");
    return;
  }
  for (const auto& kv : n) {
    std::string from = kv.first.Scalar();
    std::string f = field + "." + from;
    if (!kv.second.IsScalar()) {
      cr.fail(f, "invalid_type", "expected the new name");
      continue;
    }
    std::string to = kv.second.Scalar();
    if (check_name(cr, f, from, "rename", target) && check_name(cr, f, to, "rename", target))
      out.emplace_back(std::move(from), std::move(to));
  }
}

bool named(const http1::Header& h, std::string_view n) {
  return iequals(h.name, n);
}

void erase_named(std::vector<http1::Header>& headers, std::string_view name, size_t from = 0) {
  headers.erase(std::remove_if(headers.begin() + static_cast<std::ptrdiff_t>(from), headers.end(),
                               [&](const http1::Header& h) { return named(h, name); }),
                headers.end());
}

bool has_named(const std::vector<http1::Header>& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const http1::Header& h) { return named(h, name); });
}

struct QueryPair {
  std::string name;  // decoded, for comparison
  std::string text;  // the pair as sent upstream
};

}  // namespace

std::string header_name_problem(std::string_view name, std::string_view op, EditTarget target) {
  std::string n = quoted(name);
  if (iequals(name, "content-length") || iequals(name, "transfer-encoding"))
    return n +
           " is a framing header: the gateway writes it from the body it actually sends, so it "
           "cannot be edited";
  static constexpr std::string_view kHopByHop[] = {"connection", "keep-alive", "proxy-connection",
                                                   "te",         "upgrade",    "trailer"};
  for (auto h : kHopByHop)
    if (iequals(name, h))
      return n +
             " is a hop-by-hop header: it describes one connection and is never forwarded, so "
             "it cannot be edited";
  if (target != EditTarget::kRequestHeaders) return {};
  if (iequals(name, "expect"))
    return n +
           " is answered by the gateway (100-continue) and never forwarded, so it cannot be "
           "edited";
  if (iequals(name, "x-request-id"))
    return n +
           " is assigned by the gateway to every request, so it cannot be edited (copy it "
           "into another header with $(request_id))";
  if (iequals(name, "host") && op != "set")
    return n + " can only be changed with 'set' (a request carries exactly one Host)";
  return {};
}

bool valid_header_value(std::string_view v) {
  return value_problem(v).empty();
}

void read_edits(ConfigReader& cr, const char* key, EditTarget target, Edits& out) {
  YAML::Node n = cr.node(key);
  if (!n || n.IsNull()) return;
  const std::string base = key;
  if (!n.IsMap()) {
    cr.fail(base, "invalid_type", "expected a mapping with add, set, append, remove and rename");
    return;
  }
  for (const auto& kv : n) {
    std::string op = kv.first.Scalar();
    std::string f = base + "." + op;
    if (op == "remove") {
      read_remove(cr, kv.second, f, target, out.remove);
    } else if (op == "rename") {
      read_rename(cr, kv.second, f, target, out.rename);
    } else if (op == "set") {
      read_value_ops(cr, kv.second, f, op, target, out.set);
    } else if (op == "add") {
      read_value_ops(cr, kv.second, f, op, target, out.add);
    } else if (op == "append") {
      read_value_ops(cr, kv.second, f, op, target, out.append);
    } else {
      cr.fail(f, "unknown_field",
              "unknown field " + quoted(op) + " (expected add, set, append, remove or rename)");
    }
  }
}

void expand_edits(const Edits& e, const TemplateEnv& env, bool header_values, Expanded& out) {
  out.clear();
  out.reserve(e.set.size() + e.add.size() + e.append.size());
  expand_values(e.set, env, out);
  expand_values(e.add, env, out);
  expand_values(e.append, env, out);
  if (!header_values) return;
  // A template can pull CR/LF from a decoded query parameter or a var: such a
  // value is dropped, never sent (header injection).
  for (auto& v : out)
    if (v && !valid_header_value(*v)) v.reset();
}

void apply_header_edits(const Edits& e, Expanded& values, std::vector<http1::Header>& headers) {
  for (const auto& name : e.remove) erase_named(headers, name);
  for (const auto& [from, to] : e.rename) {
    if (!has_named(headers, from)) continue;
    if (!iequals(from, to)) erase_named(headers, to);  // the renamed value wins
    for (auto& h : headers)
      if (named(h, from)) h.name = to;
  }
  size_t k = 0;
  for (const auto& op : e.set) {
    auto& v = values[k++];
    if (!v) {
      // Host must stay; everything else the config owns must not keep a
      // client-sent value it could not vouch for.
      if (!iequals(op.name, "host")) erase_named(headers, op.name);
      continue;
    }
    auto first = std::find_if(headers.begin(), headers.end(),
                              [&](const http1::Header& h) { return named(h, op.name); });
    if (first == headers.end()) {
      headers.push_back({op.name, std::move(*v)});
      continue;
    }
    size_t pos = static_cast<size_t>(first - headers.begin());
    first->name = op.name;
    first->value = std::move(*v);
    erase_named(headers, op.name, pos + 1);
  }
  for (const auto& op : e.add) {
    auto& v = values[k++];
    if (v && !has_named(headers, op.name)) headers.push_back({op.name, std::move(*v)});
  }
  for (const auto& op : e.append) {
    auto& v = values[k++];
    if (v) headers.push_back({op.name, std::move(*v)});
  }
}

bool apply_query_edits(const Edits& e, Expanded& values, std::string_view query, std::string& out) {
  std::vector<QueryPair> pairs;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    pairs.push_back({percent_decode(pair.substr(0, pair.find('=')), true), std::string(pair)});
  }
  bool changed = false;
  auto erase = [&](std::string_view name, size_t from = 0) {
    auto it = std::remove_if(pairs.begin() + static_cast<std::ptrdiff_t>(from), pairs.end(),
                             [&](const QueryPair& p) { return p.name == name; });
    changed = changed || it != pairs.end();
    pairs.erase(it, pairs.end());
  };
  auto has = [&](std::string_view name) {
    return std::any_of(pairs.begin(), pairs.end(),
                       [&](const QueryPair& p) { return p.name == name; });
  };
  auto make = [](std::string_view name, std::string_view value) {
    return QueryPair{std::string(name), percent_encode(name) + "=" + percent_encode(value)};
  };

  for (const auto& name : e.remove) erase(name);
  for (const auto& [from, to] : e.rename) {
    if (!has(from)) continue;
    if (from != to) erase(to);
    for (auto& p : pairs) {
      if (p.name != from) continue;
      size_t eq = p.text.find('=');
      p.text = percent_encode(to) + (eq == std::string::npos ? "" : p.text.substr(eq));
      p.name = to;
    }
    changed = true;
  }
  size_t k = 0;
  for (const auto& op : e.set) {
    auto& v = values[k++];
    if (!v) {
      erase(op.name);
      continue;
    }
    QueryPair np = make(op.name, *v);
    auto first = std::find_if(pairs.begin(), pairs.end(),
                              [&](const QueryPair& p) { return p.name == op.name; });
    if (first == pairs.end()) {
      pairs.push_back(std::move(np));
      changed = true;
      continue;
    }
    size_t pos = static_cast<size_t>(first - pairs.begin());
    if (first->text != np.text) {
      *first = std::move(np);
      changed = true;
    }
    erase(op.name, pos + 1);
  }
  for (const auto& op : e.add) {
    auto& v = values[k++];
    if (!v || has(op.name)) continue;
    pairs.push_back(make(op.name, *v));
    changed = true;
  }
  for (const auto& op : e.append) {
    auto& v = values[k++];
    if (!v) continue;
    pairs.push_back(make(op.name, *v));
    changed = true;
  }
  if (!changed) return false;
  out.clear();
  for (const auto& p : pairs) {
    if (!out.empty()) out += '&';
    out += p.text;
  }
  return true;
}

}  // namespace gatehouse::policy
