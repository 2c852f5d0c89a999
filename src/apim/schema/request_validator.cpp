#include "apim/schema/request_validator.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>

#include "apim/schema/program.hpp"
#include "common/json.hpp"

namespace gatehouse::apim::schema {

namespace json = boost::json;

namespace {

constexpr int kMaxBodyDepth = 128;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::optional<std::string_view> header(const RequestView& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (iequals(k, name)) return v;
  return std::nullopt;
}

Dialect dialect_of(const openapi::Document& d) {
  return d.version == openapi::SpecVersion::kOpenApi31 ? Dialect::kDraft2020 : Dialect::kOpenApi30;
}

// Matches the operation's template ("/pets/{petId}") against a raw path;
// returns the raw values, or nullopt when the path does not fit.
std::optional<std::vector<std::pair<std::string, std::string>>> template_params(
    std::string_view tmpl, std::string_view path) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t ti = 0, pi = 0;
  while (ti < tmpl.size()) {
    if (tmpl[ti] == '{') {
      size_t close = tmpl.find('}', ti);
      if (close == std::string_view::npos) return std::nullopt;
      std::string name(tmpl.substr(ti + 1, close - ti - 1));
      ti = close + 1;
      // The value runs to the next literal character of the template (or the segment's end).
      char stop = ti < tmpl.size() ? tmpl[ti] : '/';
      size_t end = pi;
      while (end < path.size() && path[end] != stop && path[end] != '/') ++end;
      out.emplace_back(std::move(name), std::string(path.substr(pi, end - pi)));
      pi = end;
    } else {
      if (pi >= path.size() || path[pi] != tmpl[ti]) return std::nullopt;
      ++ti;
      ++pi;
    }
  }
  if (pi != path.size() && !(pi + 1 == path.size() && path[pi] == '/')) return std::nullopt;
  return out;
}

std::string pointer_escape_(std::string_view s) {
  return detail::pointer_escape(s);
}

// Picks the content entry for a media type: exact, then "type/*", then "*/*".
template <class M>
const M* pick(const std::vector<M>& content, const std::string& media) {
  for (const auto& m : content)
    if (m.type == media) return &m;
  size_t slash = media.find('/');
  std::string range = media.substr(0, slash) + "/*";
  for (const auto& m : content)
    if (m.type == range) return &m;
  for (const auto& m : content)
    if (m.type == "*/*") return &m;
  return nullptr;
}

void prefix(std::vector<Violation>& v, size_t from, const std::string& where) {
  for (size_t i = from; i < v.size(); ++i) v[i].instance = where + v[i].instance;
}

}  // namespace

std::string media_type_of(std::string_view content_type) {
  size_t semi = content_type.find(';');
  std::string_view t = content_type.substr(0, semi);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  return lower(t);
}

bool is_json_media_type(std::string_view m) {
  return m == "application/json" || m.ends_with("+json") || m == "text/json";
}

Result<std::shared_ptr<const RequestValidator>> RequestValidator::compile(
    const openapi::Document& d, const openapi::Operation& op, const ValidatorOptions& o) {
  auto rv = std::make_shared<RequestValidator>();
  rv->op_ = op;
  rv->options_ = o;
  CompileOptions co;
  co.dialect = dialect_of(d);
  co.components = &d.schemas;
  co.formats = o.formats;
  auto where = [](const Error& e, const std::string& what) {
    Error out = e;
    out.message = what + ": " + e.message;
    return out;
  };
  for (const auto& p : rv->op_.parameters) {
    Param pp{&p, shape_of(d, p.schema), std::nullopt, p.in + "." + p.name};
    if (!p.schema.is_null()) {
      co.base =
          "#" + p.pointer +
          (p.content_type.empty() ? "/schema"
                                  : "/content/" + pointer_escape_(p.content_type) + "/schema");
      auto v = Validator::compile(p.schema, co);
      if (!v) return where(v.error(), op.method + " " + op.path + " parameter '" + p.name + "'");
      pp.validator = std::move(*v);
    }
    rv->params_.push_back(std::move(pp));
  }
  if (op.request_body) {
    rv->has_body_ = true;
    rv->body_required_ = op.request_body->required;
    for (const auto& mt : op.request_body->content) {
      Media m{lower(mt.type), std::nullopt};
      if (!mt.schema.is_null()) {
        co.base =
            "#" + op.request_body->pointer + "/content/" + pointer_escape_(mt.type) + "/schema";
        auto v = Validator::compile(mt.schema, co);
        if (!v)
          return where(v.error(), op.method + " " + op.path + " request body (" + mt.type + ")");
        m.validator = std::move(*v);
      }
      rv->body_.push_back(std::move(m));
    }
  }
  for (const auto& r : op.responses) {
    ResponseSchemas rs{r.status, {}};
    for (const auto& mt : r.content) {
      if (mt.schema.is_null() || !is_json_media_type(media_type_of(mt.type))) continue;
      co.base = "#" + op.pointer + "/responses/" + r.status + "/content/" +
                pointer_escape_(mt.type) + "/schema";
      auto v = Validator::compile(mt.schema, co);
      if (!v) return where(v.error(), op.method + " " + op.path + " response " + r.status);
      rs.content.push_back({lower(mt.type), std::move(*v)});
    }
    if (!rs.content.empty()) rv->responses_.push_back(std::move(rs));
  }
  return std::shared_ptr<const RequestValidator>(std::move(rv));
}

std::vector<Violation> RequestValidator::validate(const RequestView& r) const {
  std::vector<Violation> out;
  validate_parameters(r, out);
  validate_body(r, out);
  return out;
}

void RequestValidator::validate_parameters(const RequestView& r,
                                           std::vector<Violation>& out) const {
  const size_t max = options_.max_errors;
  auto add = [&](std::string location, std::string keyword, std::string message) {
    if (out.size() < max)
      out.push_back({std::move(location), "", std::move(keyword), std::move(message)});
  };
  if (options_.parameters) {
    std::optional<std::vector<std::pair<std::string, std::string>>> from_path;
    std::vector<std::pair<std::string_view, std::string_view>> query;
    bool query_split = false;
    std::optional<std::vector<std::pair<std::string_view, std::string_view>>> cookies;
    for (const auto& pp : params_) {
      if (out.size() >= max) break;
      const openapi::Parameter& p = *pp.p;
      Deserialized d;
      if (p.in == "path") {
        const std::string* raw = nullptr;
        for (const auto& [k, v] : r.path_params)
          if (k == p.name) raw = &v;
        if (!raw && r.path_params.empty()) {
          if (!from_path) {
            std::string_view path = r.path;
            if (!r.base_path.empty() && path.starts_with(r.base_path))
              path.remove_prefix(r.base_path.size());
            from_path = template_params(op_.path, path)
                            .value_or(std::vector<std::pair<std::string, std::string>>{});
          }
          for (const auto& [k, v] : *from_path)
            if (k == p.name) raw = &v;
        }
        if (raw) d = deserialize_path(p, pp.shape, *raw);
      } else if (p.in == "query") {
        if (!query_split) {
          query = split_query(r.query);
          query_split = true;
        }
        d = deserialize_query(p, pp.shape, query);
      } else if (p.in == "header") {
        if (auto h = header(r, p.name)) d = deserialize_header(p, pp.shape, *h);
      } else if (p.in == "cookie") {
        if (!cookies) cookies = split_cookies(header(r, "cookie").value_or(""));
        for (const auto& [k, v] : *cookies)
          if (k == p.name) {
            d = deserialize_cookie(p, pp.shape, v);
            break;
          }
      }
      if (!d.error.empty()) {
        add(pp.location, "style", p.in + " parameter '" + p.name + "' " + d.error);
        continue;
      }
      if (!d.value) {
        if (p.required)
          add(pp.location, "required",
              "required " + p.in + " parameter '" + p.name + "' is missing");
        continue;
      }
      if (!pp.validator) continue;
      size_t from = out.size();
      if (!pp.validator->validate(*d.value, Direction::kRequest, &out, max)) {
        for (size_t i = from; i < out.size(); ++i) out[i].instance = pp.location + out[i].instance;
      }
    }
  }
}

void RequestValidator::validate_body(const RequestView& r, std::vector<Violation>& out) const {
  const size_t max = options_.max_errors;
  auto add = [&](std::string location, std::string keyword, std::string message) {
    if (out.size() < max)
      out.push_back({std::move(location), "", std::move(keyword), std::move(message)});
  };
  if (options_.body && has_body_ && out.size() < max) {
    const bool present = r.body && !r.body->empty();
    if (!present) {
      if (body_required_) add("body", "required", "a request body is required");
    } else {
      auto ct = header(r, "content-type");
      std::string media = media_type_of(ct.value_or(""));
      const Media* m = media.empty() ? nullptr : pick(body_, media);
      if (!m && !body_.empty()) {
        std::string accepted;
        for (const auto& b : body_) accepted += (accepted.empty() ? "" : ", ") + b.type;
        add("header.Content-Type", "contentType",
            (media.empty() ? std::string("the body has no Content-Type")
                           : "media type '" + media + "' is not accepted") +
                "; expected " + accepted);
      } else if (m && m->validator && is_json_media_type(media)) {
        json::error_code ec;
        json::parse_options po;
        po.max_depth = kMaxBodyDepth;
        json::value v = parse_json(*r.body, ec, {}, po);
        if (ec) {
          add("body", "json", "the body is not valid JSON: " + ec.message());
        } else {
          size_t from = out.size();
          m->validator->validate(v, Direction::kRequest, &out, max);
          prefix(out, from, "body");
        }
      }
    }
  }
}

int RequestValidator::status_for(const std::vector<Violation>& v) {
  if (v.empty()) return 0;
  for (const auto& x : v)
    if (x.keyword == "contentType") return 415;
  return 400;
}

std::vector<Violation> RequestValidator::validate_response(int status,
                                                           std::string_view content_type,
                                                           std::string_view body) const {
  std::vector<Violation> out;
  std::string code = std::to_string(status);
  std::string range = code.substr(0, 1) + "XX";
  const ResponseSchemas* rs = nullptr;
  for (const auto& r : responses_)
    if (r.status == code) rs = &r;
  if (!rs)
    for (const auto& r : responses_)
      if (r.status == range || r.status == lower(range)) rs = &r;
  if (!rs)
    for (const auto& r : responses_)
      if (r.status == "default") rs = &r;
  if (!rs) return out;
  std::string media = media_type_of(content_type);
  if (!is_json_media_type(media)) return out;
  const Media* m = pick(rs->content, media);
  if (!m || !m->validator) return out;
  json::error_code ec;
  json::parse_options po;
  po.max_depth = kMaxBodyDepth;
  json::value v = parse_json(body, ec, {}, po);
  if (ec) {
    out.push_back({"response", "", "json", "the response body is not valid JSON: " + ec.message()});
    return out;
  }
  m->validator->validate(v, Direction::kResponse, &out, options_.max_errors);
  prefix(out, 0, "response");
  return out;
}

}  // namespace gatehouse::apim::schema
