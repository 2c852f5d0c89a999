// request-validation: checks requests against the operation of an OpenAPI
// document in the snapshot's SpecSet: parameters (per style/explode, typed
// by their schemas) at the request head, the JSON body once it was read
// whole (Policy::request_body_limit), answering 400 (415 for a media type
// the operation does not accept) with every violation. Responses can be
// checked in report mode: counted and logged, never changed.
#include "policies/request_validation/request_validation.hpp"

#include <strings.h>

#include <atomic>
#include <map>
#include <mutex>
#include <unordered_map>

#include "apim/schema/compiled.hpp"
#include "apim/schema/request_validator.hpp"
#include "apim/spec_set.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "policies/config_reader.hpp"
#include "policies/policy.hpp"

namespace gatehouse::policy {

namespace {

namespace schema = apim::schema;
namespace oa = apim::openapi;

constexpr uint64_t kDefaultMaxBody = 1 << 20;

// Counters per route, node-wide. Only bumped on a violation, so a shared
// atomic is fine; families live for the process like route metrics.
struct Counters {
  std::atomic<uint64_t> rejected{0};
  std::atomic<uint64_t> responses_invalid{0};
};

struct MetricsTable {
  std::mutex mu;
  std::map<std::string, std::unique_ptr<Counters>> by_route;
  static MetricsTable& instance() {
    static MetricsTable t;
    return t;
  }
  Counters* get(const std::string& route) {
    std::lock_guard lock(mu);
    auto& c = by_route[route];
    if (!c) c = std::make_unique<Counters>();
    return c.get();
  }
};

class RequestValidation final : public Policy {
 public:
  std::shared_ptr<const oa::Document> doc;
  std::string spec, base_path;
  std::shared_ptr<const schema::RequestValidator> fixed;
  std::unordered_map<const oa::Operation*, std::shared_ptr<const schema::RequestValidator>> by_op;
  bool parameters = true, body = true, report = false;
  uint64_t max_body = kDefaultMaxBody;
  Counters* counters = nullptr;

  std::string_view name() const override { return "request-validation"; }
  // After authentication, authorization and limits; before transformations,
  // so the request checked is the one the client sent.
  Phase phase() const override { return Phase::kLimit; }

  const schema::RequestValidator* find(
      const RequestContext& ctx, std::vector<std::pair<std::string, std::string>>* params) const {
    if (fixed) return fixed.get();
    auto m = apim::match_operation(*doc, base_path, ctx.head->method, ctx.target->path);
    if (!m.operation) return nullptr;  // not described: another policy's business (documented)
    if (params) *params = std::move(m.path_params);
    auto it = by_op.find(m.operation);
    return it == by_op.end() ? nullptr : it->second.get();
  }

  schema::RequestView view(const RequestContext& ctx) const {
    schema::RequestView r;
    r.path = ctx.target->path;
    r.query = ctx.query_overridden ? std::string_view(ctx.query_override)
                                   : std::string_view(ctx.target->query);
    r.base_path = base_path;
    r.headers.reserve(ctx.head->headers.size());
    for (const auto& h : ctx.head->headers) r.headers.emplace_back(h.name, h.value);
    return r;
  }

  Action reject(RequestContext& ctx, const std::vector<schema::Violation>& v, Respond& out) const {
    counters->rejected.fetch_add(1, std::memory_order_relaxed);
    ctx.vars["validation"] = schema::violation_summary(v);
    auto p = schema::violation_problem(v, ctx.request_id);
    out.status = p.status;
    out.body = std::move(p.body);
    out.content_type = "application/problem+json";
    return Action::kRespond;
  }

  Action on_request(RequestContext& ctx, Respond& out) const override {
    if (!parameters && !body) return Action::kContinue;
    std::vector<std::pair<std::string, std::string>> params;
    const auto* rv = find(ctx, &params);
    if (!rv) return Action::kContinue;
    auto r = view(ctx);
    r.path_params = std::move(params);
    std::vector<schema::Violation> v;
    if (parameters) rv->validate_parameters(r, v);
    // No body on the wire: a required one is missing (checked now, not later).
    if (body && rv->has_body() && ctx.head->body == http1::BodyKind::kNone) rv->validate_body(r, v);
    if (!v.empty()) return reject(ctx, v, out);
    return Action::kContinue;
  }

  uint64_t request_body_limit(const RequestContext& ctx) const override {
    if (!body) return 0;
    const auto* rv = find(ctx, nullptr);
    return rv && rv->has_body() ? max_body : 0;
  }

  Action on_request_body(RequestContext& ctx, std::string& data, Respond& out) const override {
    const auto* rv = find(ctx, nullptr);
    if (!rv) return Action::kContinue;
    auto r = view(ctx);
    r.body = data;
    std::vector<schema::Violation> v;
    rv->validate_body(r, v);
    if (!v.empty()) return reject(ctx, v, out);
    return Action::kContinue;
  }

  // Report mode reads response bodies up to max_body whole (the proxy holds
  // them back until complete); larger ones pass through unvalidated.
  ResponseBodyWant response_body_want(const RequestContext& ctx, int /*status*/,
                                      const std::vector<http1::Header>& /*headers*/) const override {
    if (!report) return {};
    const auto* rv = find(ctx, nullptr);
    if (!rv || !rv->has_response_schemas()) return {};
    return {max_body, false};
  }

  void on_response_body(RequestContext& ctx, int status, std::vector<http1::Header>& headers,
                        std::string& data) const override {
    const auto* rv = find(ctx, nullptr);
    if (!rv) return;
    std::string_view type;
    for (const auto& h : headers)
      if (h.name.size() == 12 && strncasecmp(h.name.c_str(), "content-type", 12) == 0)
        type = h.value;
    auto v = rv->validate_response(status, type, data);
    if (v.empty()) return;
    counters->responses_invalid.fetch_add(1, std::memory_order_relaxed);
    ctx.vars["validation"] = schema::violation_summary(v);
  }
};

}  // namespace

std::string render_validation_metrics() {
  auto& t = MetricsTable::instance();
  std::lock_guard lock(t.mu);
  if (t.by_route.empty()) return {};
  std::string out =
      "# HELP gatehouse_validation_rejected_total Requests "
      "answered 400/415 by request-validation.\n"
      "# TYPE gatehouse_validation_rejected_total counter\n";
  std::string resp =
      "# HELP gatehouse_validation_response_violations_total Responses that "
      "did not match the API "
      "description (report mode).\n"
      "# TYPE gatehouse_validation_response_violations_total counter\n";
  for (const auto& [route, c] : t.by_route) {
    std::string l = "{route=\"" + metrics::label_escape(route) + "\"} ";
    out += "gatehouse_validation_rejected_total" + l + std::to_string(c->rejected.load()) + "\n";
    resp += "gatehouse_validation_response_violations_total" + l +
            std::to_string(c->responses_invalid.load()) + "\n";
  }
  return out + resp;
}

void register_request_validation(Registry& r) {
  r.add("request-validation",
        [](const config::PolicyRef& ref,
           const BuildContext& ctx) -> Result<std::shared_ptr<const Policy>> {
          ConfigReader cr(ref, ctx.field);
          cr.allow_only({"spec", "operation", "body", "parameters", "responses", "max_body"});
          auto p = std::make_shared<RequestValidation>();
          p->spec = cr.str("spec");
          std::string op_id = cr.str("operation");
          p->body = cr.boolean("body", true);
          p->parameters = cr.boolean("parameters", true);
          p->report = cr.choice("responses", {"off", "report"}, "off") == "report";
          p->max_body = cr.size("max_body", kDefaultMaxBody);
          if (p->max_body == 0) cr.fail("max_body", "invalid_value", "'max_body' must be above 0");
          if (!cr.has("spec")) cr.fail("spec", "missing_field", "'spec' is required");
          if (!cr.ok()) {
            if (auto f = cr.finish(); !f) return f.error();
          }
          const apim::SpecEntry* entry = ctx.specs ? ctx.specs->find(p->spec) : nullptr;
          if (!entry) {
            std::string known;
            if (ctx.specs)
              for (const auto& e : ctx.specs->entries())
                known += (known.empty() ? "" : ", ") + e.name;
            cr.fail("spec", "unknown_spec",
                    "no spec named '" + p->spec + "'" +
                        (known.empty() ? " (the config has no specs)" : " (known: " + known + ")"));
            return cr.finish().error();
          }
          p->doc = entry->document;
          p->base_path = entry->base_path;
          auto compile_one = [&](const oa::Operation& op) -> bool {
            auto v = schema::compiled_validator(p->doc, op);
            if (!v) {
              cr.fail(cr.has("operation") ? "operation" : "spec", v.error().code,
                      v.error().message + " (schema at " + v.error().field + ")");
              return false;
            }
            p->by_op[&op] = *v;
            return true;
          };
          if (!op_id.empty()) {
            const oa::Operation* op = apim::find_operation(*p->doc, op_id);
            if (!op) {
              cr.fail("operation", "unknown_operation",
                      "spec '" + p->spec + "' has no operation '" + op_id + "'");
              return cr.finish().error();
            }
            if (!compile_one(*op)) return cr.finish().error();
            p->fixed = p->by_op[op];
          } else {
            for (const auto& op : p->doc->operations)
              if (!compile_one(op)) return cr.finish().error();
          }
          p->counters = MetricsTable::instance().get(ctx.route ? ctx.route->name : "(global)");
          return std::shared_ptr<const Policy>(std::move(p));
        });
}

}  // namespace gatehouse::policy
