// hmac-auth: authenticates signed requests (Kong/APISIX-compatible format,
// see signature.hpp). The client proves it holds the consumer's secret and
// binds the signature to a fresh Date, so a captured request can be replayed
// only within clock_skew. Secrets must be held in plaintext (HMAC needs the
// key itself), unlike key-auth and basic-auth.
#include <openssl/hmac.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <unordered_map>

#include "common/strings.hpp"
#include "policies/config_reader.hpp"
#include "policies/crypto.hpp"
#include "policies/hmac_auth/signature.hpp"
#include "policies/authenticator.hpp"
#include "policies/policy.hpp"

namespace gatehouse::policy {

namespace {

struct HmacUser {
  size_t consumer = 0;
  std::string username;
  std::string secret;
};

struct HmacIndex {
  std::unordered_map<std::string, HmacUser> by_username;
  std::optional<Error> problem;  // first bad credential
};

std::shared_ptr<const HmacIndex> build_index(const ConsumerSet& set) {
  auto idx = std::make_shared<HmacIndex>();
  const auto& cfgs = set.configs();
  auto fail = [&](Error e) {
    if (!idx->problem) idx->problem = std::move(e);
  };
  for (size_t i = 0; i < cfgs.size(); ++i) {
    for (size_t j = 0; j < cfgs[i].credentials.size(); ++j) {
      const auto& cred = cfgs[i].credentials[j];
      auto t = cred.find("type");
      if (t == cred.end() || t->second != "hmac-auth") continue;
      for (const auto& [k, v] : cred) {
        if (k != "type" && k != "username" && k != "secret")
          fail(credential_error(cfgs[i], i, j, k, "unknown_field",
                                "unknown field '" + k + "' in an hmac-auth credential"));
      }
      auto u = cred.find("username");
      auto s = cred.find("secret");
      if (u == cred.end() || u->second.empty()) {
        fail(credential_error(cfgs[i], i, j, "username", "missing_field",
                              "an hmac-auth credential needs a username"));
        continue;
      }
      if (s == cred.end() || s->second.empty()) {
        fail(credential_error(cfgs[i], i, j, "secret", "missing_field",
                              "an hmac-auth credential needs a secret"));
        continue;
      }
      if (!idx->by_username.emplace(u->second, HmacUser{i, u->second, s->second}).second)
        fail(credential_error(
            cfgs[i], i, j, "username", "duplicate_credential",
            "hmac-auth username '" + u->second + "' is used by another credential"));
    }
  }
  return idx;
}

const EVP_MD* digest_for(std::string_view algorithm) {
  if (algorithm == "hmac-sha1") return EVP_sha1();
  if (algorithm == "hmac-sha256") return EVP_sha256();
  if (algorithm == "hmac-sha384") return EVP_sha384();
  if (algorithm == "hmac-sha512") return EVP_sha512();
  return nullptr;
}

std::string hmac(const EVP_MD* md, std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(md, key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len))
    return {};
  return std::string(reinterpret_cast<char*>(out), len);
}

bool listed(const std::vector<std::string>& names, std::string_view name) {
  return std::any_of(names.begin(), names.end(),
                     [&](const std::string& n) { return iequals(n, name); });
}

class HmacAuth final : public Authenticator {
 public:
  bool hide_credentials = true;
  const Consumer* anonymous = nullptr;
  const HmacIndex* index = nullptr;
  int64_t clock_skew_s = 300;
  std::vector<std::string> enforce_headers;
  std::vector<std::string> algorithms;
  std::string challenge;

  std::string_view name() const override { return "hmac-auth"; }

 private:
  Action authenticate(RequestContext& ctx, Respond& out) const override {
    const std::string* header = ctx.head->find("Authorization");
    if (!header || !hmac_auth::is_hmac_scheme(*header)) {
      if (anonymous) {
        ctx.consumer = anonymous;
        return Action::kContinue;
      }
      out.status = 401;
      out.code = "missing_credentials";
      out.detail = "no hmac Authorization header in the request";
      out.headers.push_back({"WWW-Authenticate", challenge});
      return Action::kRespond;
    }
    hmac_auth::SignatureParams params;
    std::string why;
    if (!hmac_auth::parse_authorization(*header, params, why))
      return invalid(out, "malformed", why);
    const EVP_MD* md = digest_for(params.algorithm);
    if (!md ||
        std::find(algorithms.begin(), algorithms.end(), params.algorithm) == algorithms.end())
      return invalid(out, "unsupported_algorithm",
                     "algorithm '" + params.algorithm + "' is not accepted");
    for (const auto& h : enforce_headers)
      if (!listed(params.headers, h))
        return invalid(out, "header_not_signed", "'" + h + "' must be among the signed headers");

    // The date that is checked must be signed, or the skew check would
    // protect nothing (any captured signature could get a fresh Date).
    const char* date_name = listed(params.headers, "x-date") ? "x-date"
                            : listed(params.headers, "date") ? "date"
                                                             : nullptr;
    if (!date_name)
      return invalid(out, "header_not_signed",
                     "'date' or 'x-date' must be among the signed headers");
    const std::string* date = ctx.head->find(date_name);
    if (!date)
      return invalid(out, "missing_header", std::string("'") + date_name + "' is not sent");
    auto when = hmac_auth::parse_http_date(*date);
    if (!when)
      return invalid(out, "bad_date", std::string("'") + date_name + "' is not an HTTP date");
    int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    int64_t skew = now > *when ? now - *when : *when - now;
    if (skew > clock_skew_s)
      return invalid(out, "clock_skew",
                     std::string("'") + date_name + "' is " + std::to_string(skew) +
                         "s away from the gateway clock");

    std::string to_sign, missing;
    if (!hmac_auth::signing_string(*ctx.head, params.headers, to_sign, missing))
      return invalid(out, "missing_header", "'" + missing + "' is signed but not sent");

    bool ok = false;
    std::string presented = base64_decode(params.signature, false, &ok);
    auto it = index->by_username.find(params.username);
    // An unknown user costs the same HMAC as a wrong signature.
    std::string expected =
        hmac(md, it == index->by_username.end() ? "" : it->second.secret, to_sign);
    if (it == index->by_username.end() || !ok || expected.empty() ||
        !constant_time_equal(expected, presented))
      return invalid(out, "bad_signature", "the signature does not verify");

    ctx.consumer = &ctx.consumers->all()[it->second.consumer];
    ctx.credential_id = "hmac-auth:" + it->second.username;
    if (hide_credentials) {
      std::erase_if(ctx.head->headers,
                    [](const http1::Header& h) { return iequals(h.name, "Authorization"); });
    }
    return Action::kContinue;
  }

  Action invalid(Respond& out, std::string_view reason, std::string_view text) const {
    out.status = 401;
    out.code = "invalid_credentials";
    out.detail = std::string(reason) + ": " + std::string(text);
    out.headers.push_back({"WWW-Authenticate", challenge});
    return Action::kRespond;
  }
};

}  // namespace

void register_hmac_auth(Registry& r) {
  r.add("hmac-auth",
        [](const config::PolicyRef& ref,
           const BuildContext& ctx) -> Result<std::shared_ptr<const Policy>> {
          ConfigReader cr(ref, ctx.field);
          cr.allow_only({"hide_credentials", "anonymous", "realm", "clock_skew", "enforce_headers",
                         "algorithms"});
          auto p = std::make_shared<HmacAuth>();
          p->hide_credentials = cr.boolean("hide_credentials", true);
          std::string realm = cr.str("realm", "gatehouse");
          if (!valid_realm(realm))
            cr.fail("realm", "invalid_value",
                    "realm must be non-empty printable text without '\"' or '\\'");
          p->challenge = "hmac realm=\"" + realm + "\"";
          p->clock_skew_s = cr.duration_ms("clock_skew", 300'000, 1'000) / 1000;
          p->enforce_headers = cr.strings("enforce_headers");
          for (auto& h : p->enforce_headers) {
            h = to_lower(h);
            if (h.empty() || h.find(' ') != std::string::npos)
              cr.fail("enforce_headers", "invalid_value",
                      "header names cannot be empty or hold spaces");
          }
          if (cr.has("algorithms")) {
            p->algorithms = cr.strings("algorithms");
            if (p->algorithms.empty())
              cr.fail("algorithms", "invalid_value", "at least one algorithm is needed");
            for (const auto& a : p->algorithms)
              if (!digest_for(a))
                cr.fail(
                    "algorithms", "invalid_value",
                    "'" + a + "' is not one of: hmac-sha1, hmac-sha256, hmac-sha384, hmac-sha512");
          } else {
            p->algorithms = {"hmac-sha256", "hmac-sha384", "hmac-sha512"};
          }
          p->anonymous = read_anonymous(cr, ctx);
          if (auto r2 = cr.finish(); !r2) return r2.error();
          p->index = ctx.consumers->index<HmacIndex>("hmac-auth", build_index);
          if (p->index->problem) return *p->index->problem;
          return std::shared_ptr<const Policy>(p);
        });
}

}  // namespace gatehouse::policy
