// key-auth: identifies the consumer by an API key in a header or the query.
// Keys are kept only as SHA-256 digests; the presented key is hashed and the
// digests compared in constant time.
#include <unordered_map>

#include "common/strings.hpp"
#include "policies/config_reader.hpp"
#include "policies/crypto.hpp"
#include "policies/authenticator.hpp"
#include "policies/policy.hpp"
#include "policies/query.hpp"

namespace gatehouse::policy {

namespace {

struct KeyIndex {
  std::unordered_map<std::string, size_t> by_digest;  // sha256(key) -> consumer index
};

std::shared_ptr<const KeyIndex> build_key_index(const ConsumerSet& set) {
  auto idx = std::make_shared<KeyIndex>();
  const auto& cfgs = set.configs();
  for (size_t i = 0; i < cfgs.size(); ++i) {
    for (const auto& cred : cfgs[i].credentials) {
      auto t = cred.find("type");
      if (t == cred.end() || t->second != "key-auth") continue;
      if (auto k = cred.find("key"); k != cred.end()) idx->by_digest.emplace(sha256(k->second), i);
      // Pre-hashed keys ("sha256:<hex>") keep plaintext out of the config.
      if (auto h = cred.find("key_hash"); h != cred.end() && h->second.rfind("sha256:", 0) == 0) {
        std::string hexd = h->second.substr(7), raw;
        for (size_t j = 0; j + 1 < hexd.size(); j += 2)
          raw += static_cast<char>(std::stoi(hexd.substr(j, 2), nullptr, 16));
        if (raw.size() == 32) idx->by_digest.emplace(raw, i);
      }
    }
  }
  return idx;
}

class KeyAuth final : public Authenticator {
 public:
  std::vector<std::string> header_names;
  std::vector<std::string> query_names;
  bool hide_credentials = true;
  const Consumer* anonymous = nullptr;
  const KeyIndex* index = nullptr;

  std::string_view name() const override { return "key-auth"; }

 protected:
  Action authenticate(RequestContext& ctx, Respond& out) const override {
    std::string key;
    bool from_query = false;
    std::string query_name;
    for (const auto& h : header_names) {
      if (const std::string* v = ctx.head->find(h)) {
        key = *v;
        // `Authorization: Bearer <key>` (what the OpenAI SDKs send) carries
        // the key after the scheme.
        if (iequals(h, "authorization") && key.size() > 7 && iequals(key.substr(0, 7), "bearer "))
          key.erase(0, 7);
        break;
      }
    }
    if (key.empty()) {
      std::string_view q = ctx.query_overridden ? std::string_view(ctx.query_override)
                                                : std::string_view(ctx.target->query);
      for (const auto& n : query_names) {
        if (auto v = query_param(q, n)) {
          key = *v;
          from_query = true;
          query_name = n;
          break;
        }
      }
    }
    if (key.empty()) {
      if (anonymous) {
        if (!ctx.consumer) ctx.consumer = anonymous;
        return Action::kContinue;
      }
      return reject(ctx, out, "missing_credentials", "no API key found in the request");
    }
    const std::string digest = sha256(key);
    auto it = index->by_digest.find(digest);
    if (it == index->by_digest.end() || !constant_time_equal(it->first, digest)) {
      return reject(ctx, out, "invalid_credentials", "the API key is not valid");
    }
    ctx.consumer = &ctx.consumers->all()[it->second];
    ctx.credential_id = "key-auth:" + hex(it->first).substr(0, 12);
    if (hide_credentials) {
      for (const auto& h : header_names) {
        std::erase_if(ctx.head->headers,
                      [&](const http1::Header& x) { return iequals(x.name, h); });
      }
      if (from_query) {
        std::string_view q = ctx.query_overridden ? std::string_view(ctx.query_override)
                                                  : std::string_view(ctx.target->query);
        ctx.query_override = remove_query_param(q, query_name);
        ctx.query_overridden = true;
      }
    }
    return Action::kContinue;
  }

 private:
  Action reject(RequestContext&, Respond& out, const char* code, const char* detail) const {
    out.status = 401;
    out.code = code;
    out.detail = detail;
    out.headers.push_back(
        {"WWW-Authenticate", "ApiKey realm=\"gatehouse\", header=\"" + header_names.front() + "\""});
    return Action::kRespond;
  }
};

}  // namespace

void register_key_auth(Registry& r) {
  r.add("key-auth", [](const config::PolicyRef& ref,
                       const BuildContext& ctx) -> Result<std::shared_ptr<const Policy>> {
    ConfigReader cr(ref, ctx.field);
    cr.allow_only({"key_names", "query_names", "hide_credentials", "anonymous"});
    auto p = std::make_shared<KeyAuth>();
    p->header_names = cr.has("key_names") ? cr.strings("key_names")
                                          : std::vector<std::string>{"apikey", "X-API-Key"};
    p->query_names =
        cr.has("query_names") ? cr.strings("query_names") : std::vector<std::string>{"apikey"};
    p->hide_credentials = cr.boolean("hide_credentials", true);
    if (p->header_names.empty() && p->query_names.empty())
      cr.fail("key_names", "invalid_value", "at least one header or query name is needed");
    p->anonymous = read_anonymous(cr, ctx);
    if (auto r2 = cr.finish(); !r2) return r2.error();
    p->index = ctx.consumers->index<KeyIndex>("key-auth", build_key_index);
    return std::shared_ptr<const Policy>(p);
  });
}

}  // namespace gatehouse::policy
