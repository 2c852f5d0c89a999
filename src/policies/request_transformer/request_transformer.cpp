// request-transformer: edits the request's headers, query string and JSON
// body before it is proxied (add / set / append / remove / rename, values
// with templates). Everything is validated and compiled when the config is
// built; a request only expands values and edits its header list, and only
// requests with a JSON body are buffered (bounded by max_body).
#include "policies/config_reader.hpp"
#include "common/log.hpp"
#include "common/strings.hpp"
#include "policies/policy.hpp"
#include "policies/request_transformer/body_edits.hpp"
#include "policies/request_transformer/edits.hpp"

namespace gatehouse::policy {

namespace {

class RequestTransformer final : public Policy {
 public:
  Edits headers;
  Edits query;
  BodyEdits body;
  uint64_t max_body = kDefaultMaxBody;

  std::string_view name() const override { return "request-transformer"; }
  Phase phase() const override { return Phase::kTransform; }

  Action on_request(RequestContext& ctx, Respond& /*out*/) const override {
    TemplateEnv env{&ctx, ctx.query_overridden ? std::string_view(ctx.query_override)
                                               : std::string_view(ctx.target->query)};
    // Both sets of values are expanded before either is applied, so a query
    // template sees the request headers as they arrived, and vice versa.
    Expanded header_values, query_values;
    if (!headers.empty()) expand_edits(headers, env, true, header_values);
    if (!query.empty()) expand_edits(query, env, false, query_values);
    if (!headers.empty()) {
      apply_header_edits(headers, header_values, ctx.head->headers);
      // The proxy writes Host itself; a `set: {Host: ..}` must reach it.
      for (const auto& op : headers.set) {
        if (iequals(op.name, "host")) {
          if (const std::string* h = ctx.head->find("host")) ctx.upstream_host = *h;
        }
      }
    }
    if (!query.empty()) {
      std::string out;
      if (apply_query_edits(query, query_values, env.query, out)) {
        ctx.query_override = std::move(out);
        ctx.query_overridden = true;
      }
    }
    return Action::kContinue;
  }

  uint64_t request_body_limit(const RequestContext& ctx) const override {
    if (body.empty() || ctx.head->body == http1::BodyKind::kNone) return 0;
    const std::string* ct = ctx.head->find("content-type");
    return ct && is_json_media_type(*ct) ? max_body : 0;
  }

  Action on_request_body(RequestContext& ctx, std::string& data, Respond& out) const override {
    // Nothing to edit; or larger than this policy's own limit (another
    // policy asked for more): left alone.
    if (data.empty() || data.size() > max_body) return Action::kContinue;
    TemplateEnv env{&ctx, ctx.query_overridden ? std::string_view(ctx.query_override)
                                               : std::string_view(ctx.target->query)};
    auto r = transform_json_body(body, env, data);
    if (r) return Action::kContinue;
    // The client said JSON and sent something else: tell it where.
    out.status = 400;
    out.code = "invalid_json_body";
    out.content_type = "application/problem+json";
    out.body = "{\"type\":\"urn:gatehouse:problem:invalid_json_body\",\"title\":\"Bad Request\","
               "\"status\":400,\"detail\":\"request body is ";
    log::json_escape(out.body, r.error().message);
    out.body += "\",\"code\":\"invalid_json_body\",\"field\":\"body\",\"request_id\":\"";
    log::json_escape(out.body, ctx.request_id);
    out.body += "\"}";
    return Action::kRespond;
  }
};

}  // namespace

void register_request_transformer(Registry& r) {
  r.add("request-transformer",
        [](const config::PolicyRef& ref,
           const BuildContext& ctx) -> Result<std::shared_ptr<const Policy>> {
          ConfigReader cr(ref, ctx.field);
          cr.allow_only({"headers", "query", "body", "max_body"});
          auto p = std::make_shared<RequestTransformer>();
          read_edits(cr, "headers", EditTarget::kRequestHeaders, p->headers);
          read_edits(cr, "query", EditTarget::kQuery, p->query);
          read_body_edits(cr, "body", p->body);
          p->max_body = read_max_body(cr);
          if (auto r2 = cr.finish(); !r2) return r2.error();
          return std::shared_ptr<const Policy>(p);
        });
}

}  // namespace gatehouse::policy
