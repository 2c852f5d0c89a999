// request-size-limit: per-route limits tighter than the listener's parser
// limits. Everything is decided from the head: a Content-Length over the
// limit is refused before any upstream is contacted, and a chunked body (which
// announces no length) is handed to the proxy as ctx.vars["max_body"], which it
// enforces while streaming.
#include <algorithm>
#include <charconv>
#include <limits>
#include <string>

#include "policies/config_reader.hpp"
#include "policies/policy.hpp"

namespace gatehouse::policy {

namespace {

constexpr uint64_t kUnset = std::numeric_limits<uint64_t>::max();

class RequestSizeLimit final : public Policy {
 public:
  uint64_t max_body = kUnset;
  uint64_t max_headers_bytes = kUnset;
  uint64_t max_header_count = kUnset;
  uint64_t max_uri = kUnset;

  std::string_view name() const override { return "request-size-limit"; }
  Phase phase() const override { return Phase::kPreAuth; }

  Action on_request(RequestContext& ctx, Respond& out) const override {
    const http1::RequestHead& h = *ctx.head;
    if (max_uri != kUnset && h.target.size() > max_uri)
      return reject(out, 414, "uri_too_long",
                    "request target is " + std::to_string(h.target.size()) +
                        " bytes; the limit is " + std::to_string(max_uri));
    if (max_header_count != kUnset && h.headers.size() > max_header_count)
      return reject(out, 431, "too_many_headers",
                    "request has " + std::to_string(h.headers.size()) +
                        " header fields; the limit is " + std::to_string(max_header_count));
    if (max_headers_bytes != kUnset) {
      // Counted from the parsed fields ("name: value\r\n"), not from raw bytes,
      // so the answer does not depend on optional whitespace.
      uint64_t bytes = 0;
      for (const auto& f : h.headers) bytes += f.name.size() + f.value.size() + 4;
      if (bytes > max_headers_bytes)
        return reject(out, 431, "headers_too_large",
                      "request header fields are " + std::to_string(bytes) +
                          " bytes; the limit is " + std::to_string(max_headers_bytes));
    }
    if (max_body == kUnset) return Action::kContinue;
    if (h.body == http1::BodyKind::kContentLength && h.content_length > max_body)
      return reject(out, 413, "body_too_large",
                    "request body is " + std::to_string(h.content_length) +
                        " bytes; the limit is " + std::to_string(max_body));
    if (h.body == http1::BodyKind::kChunked) {
      // 0 tells the proxy "no limit", so a zero limit is settled here.
      if (max_body == 0)
        return reject(out, 413, "body_too_large", "this route accepts no request body");
      // A global and a route policy may both set a limit: the tighter wins.
      auto it = ctx.vars.find("max_body");
      uint64_t current = 0;
      if (it != ctx.vars.end()) {
        const std::string& v = it->second;
        std::from_chars(v.data(), v.data() + v.size(), current);
      }
      if (current == 0 || max_body < current) ctx.vars["max_body"] = std::to_string(max_body);
    }
    return Action::kContinue;
  }

 private:
  static Action reject(Respond& out, int status, const char* code, std::string detail) {
    out.status = status;
    out.code = code;
    out.detail = std::move(detail);
    return Action::kRespond;
  }
};

}  // namespace

void register_request_size_limit(Registry& r) {
  r.add("request-size-limit", [](const config::PolicyRef& ref,
                                 const BuildContext& ctx) -> Result<std::shared_ptr<const Policy>> {
    ConfigReader cr(ref, ctx.field);
    cr.allow_only({"max_body", "max_headers_bytes", "max_header_count", "max_uri"});
    auto p = std::make_shared<RequestSizeLimit>();
    if (cr.has("max_body")) p->max_body = cr.size("max_body", kUnset);
    auto at_least_one = [&](const char* key, uint64_t& field) {
      if (!cr.has(key)) return;
      field = cr.size(key, kUnset);
      if (field == 0) {
        cr.fail(key, "invalid_value", "must be at least 1 byte");
        field = kUnset;
      }
    };
    at_least_one("max_headers_bytes", p->max_headers_bytes);
    at_least_one("max_uri", p->max_uri);
    if (cr.has("max_header_count"))
      p->max_header_count = static_cast<uint64_t>(cr.integer("max_header_count", 0, 1, 100000));
    if (!cr.has("max_body") && !cr.has("max_headers_bytes") && !cr.has("max_header_count") &&
        !cr.has("max_uri"))
      cr.fail("", "invalid_value",
              "set at least one of max_body, max_headers_bytes, max_header_count, max_uri");
    if (auto r2 = cr.finish(); !r2) return r2.error();
    return std::shared_ptr<const Policy>(p);
  });
}

}  // namespace gatehouse::policy
