#include "apim/schema/compiled.hpp"

#include <map>
#include <mutex>

#include "common/log.hpp"

namespace gatehouse::apim::schema {

namespace {

namespace oa = openapi;

struct CompiledCache {
  std::mutex mu;
  struct Entry {
    std::weak_ptr<const oa::Document> doc;
    std::weak_ptr<const RequestValidator> validator;
  };
  // Keyed by addresses, checked against the weak document pointer: a new
  // document at a reused address never finds the old entry.
  std::map<std::pair<const oa::Document*, const oa::Operation*>, Entry> entries;
};

CompiledCache& cache() {
  static CompiledCache c;
  return c;
}

void json_string(std::string& out, std::string_view s) {
  out += '"';
  log::json_escape(out, s);
  out += '"';
}

}  // namespace

Result<std::shared_ptr<const RequestValidator>> compiled_validator(
    const std::shared_ptr<const oa::Document>& doc, const oa::Operation& op) {
  auto& c = cache();
  std::lock_guard lock(c.mu);
  auto key = std::make_pair(doc.get(), &op);
  auto it = c.entries.find(key);
  if (it != c.entries.end() && it->second.doc.lock() == doc)
    if (auto v = it->second.validator.lock()) return v;
  auto v = RequestValidator::compile(*doc, op);
  if (!v) return v.error();
  // Drop entries whose documents are gone (old snapshots).
  for (auto e = c.entries.begin(); e != c.entries.end();)
    e = e->second.doc.expired() ? c.entries.erase(e) : std::next(e);
  c.entries[key] = {doc, *v};
  return *v;
}

ViolationProblem violation_problem(const std::vector<Violation>& v, std::string_view request_id) {
  ViolationProblem p;
  p.status = RequestValidator::status_for(v);
  if (p.status == 0) p.status = 400;
  std::string code = p.status == 415 ? "unsupported_media_type" : "request_invalid";
  std::string detail = p.status == 415 || v.empty()
                           ? (v.empty() ? std::string("the request is invalid") : v.front().message)
                           : "the request does not match the API description (" +
                                 std::to_string(v.size()) +
                                 (v.size() == 1 ? " violation)" : " violations)");
  std::string& b = p.body;
  b = "{\"type\":\"urn:gatehouse:problem:" + code + "\",\"title\":\"" +
      (p.status == 415 ? "Unsupported Media Type" : "Bad Request") +
      "\",\"status\":" + std::to_string(p.status) + ",\"detail\":";
  json_string(b, detail);
  b += ",\"code\":\"" + code + "\",\"request_id\":";
  json_string(b, request_id);
  b += ",\"errors\":[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) b += ',';
    b += "{\"location\":";
    json_string(b, v[i].instance);
    b += ",\"keyword\":";
    json_string(b, v[i].keyword);
    b += ",\"message\":";
    json_string(b, v[i].message);
    if (!v[i].schema.empty()) {
      b += ",\"schema\":";
      json_string(b, v[i].schema);
    }
    b += '}';
  }
  b += "]}";
  return p;
}

std::string violation_summary(const std::vector<Violation>& v) {
  std::string out;
  for (size_t i = 0; i < v.size() && i < 3; ++i) {
    if (i) out += "; ";
    out += v[i].instance + " " + v[i].keyword + ": " + v[i].message;
  }
  if (v.size() > 3) out += "; +" + std::to_string(v.size() - 3) + " more";
  return out;
}

}  // namespace gatehouse::apim::schema
