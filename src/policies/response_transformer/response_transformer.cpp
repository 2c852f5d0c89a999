// response-transformer: edits the response headers from the upstream before
// they are sent to the client (add / set / append / remove / rename, values
// with the same templates as request-transformer), and the fields of JSON
// response bodies (bounded buffering: bodies larger than max_body pass
// through untouched, or are a 502 with on_oversize: reject).
#include "common/log.hpp"
#include "common/strings.hpp"
#include "policies/config_reader.hpp"
#include "policies/policy.hpp"
#include "policies/request_transformer/body_edits.hpp"
#include "policies/request_transformer/edits.hpp"

namespace gatehouse::policy {

namespace {

const std::string* find_header(const std::vector<http1::Header>& headers, std::string_view name) {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return &h.value;
  return nullptr;
}

class ResponseTransformer final : public Policy {
 public:
  Edits headers;
  BodyEdits body;
  uint64_t max_body = kDefaultMaxBody;
  bool reject_oversize = false;

  std::string_view name() const override { return "response-transformer"; }
  Phase phase() const override { return Phase::kTransform; }

  Action on_request(RequestContext& /*ctx*/, Respond& /*out*/) const override {
    return Action::kContinue;
  }

  void on_response(RequestContext& ctx, int /*status*/,
                   std::vector<http1::Header>& response) const override {
    if (headers.empty()) return;
    Expanded values;
    expand_edits(headers, env(ctx), true, values);
    apply_header_edits(headers, values, response);
  }

  ResponseBodyWant response_body_want(const RequestContext& /*ctx*/, int /*status*/,
                                      const std::vector<http1::Header>& h) const override {
    if (body.empty()) return {};
    const std::string* ct = find_header(h, "content-type");
    if (!ct || !is_json_media_type(*ct)) return {};
    // Compressed bodies are not decoded (no zlib in the gateway): they pass
    // through untouched.
    const std::string* ce = find_header(h, "content-encoding");
    if (ce && !trim_ows(*ce).empty() && !iequals(trim_ows(*ce), "identity")) return {};
    return {max_body, reject_oversize};
  }

  void on_response_body(RequestContext& ctx, int /*status*/, std::vector<http1::Header>& /*h*/,
                        std::string& data) const override {
    if (data.empty() || data.size() > max_body) return;
    auto r = transform_json_body(body, env(ctx), data);
    if (!r) {
      // The upstream's answer is passed on as it came; the operator learns
      // why the edits did not apply.
      log::warn("response-transformer: body not transformed",
                {log::f("route", std::string(ctx.route_name)),
                 log::f("request_id", std::string(ctx.request_id)),
                 log::f("reason", "response body is " + r.error().message)});
    }
  }

 private:
  static TemplateEnv env(const RequestContext& ctx) {
    return TemplateEnv{&ctx, ctx.query_overridden ? std::string_view(ctx.query_override)
                             : ctx.target         ? std::string_view(ctx.target->query)
                                                  : std::string_view{}};
  }
};

}  // namespace

void register_response_transformer(Registry& r) {
  r.add("response-transformer",
        [](const config::PolicyRef& ref,
           const BuildContext& ctx) -> Result<std::shared_ptr<const Policy>> {
          ConfigReader cr(ref, ctx.field);
          cr.allow_only({"headers", "body", "max_body", "on_oversize", "json"});
          // An earlier name for the body edits, kept so a config written for it
          // points at the right key instead of "unknown field".
          if (cr.has("json"))
            cr.fail("json", "renamed", "JSON body edits are configured under 'body'");
          auto p = std::make_shared<ResponseTransformer>();
          read_edits(cr, "headers", EditTarget::kResponseHeaders, p->headers);
          read_body_edits(cr, "body", p->body);
          p->max_body = read_max_body(cr);
          p->reject_oversize = cr.choice("on_oversize", {"pass", "reject"}, "pass") == "reject";
          if (auto r2 = cr.finish(); !r2) return r2.error();
          return std::shared_ptr<const Policy>(p);
        });
}

}  // namespace gatehouse::policy
