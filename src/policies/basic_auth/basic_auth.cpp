// basic-auth: identifies the consumer by HTTP Basic credentials (RFC 7617).
// Passwords are held only as PBKDF2-HMAC-SHA256 records: plaintext passwords
// from the config are hashed when the snapshot is built, so the index never
// holds a password. Verified pairs are remembered per worker (verify_cache.hpp)
// so only the first request of a client pays for PBKDF2.
#include <openssl/rand.h>

#include <optional>
#include <unordered_map>

#include "common/strings.hpp"
#include "policies/basic_auth/password.hpp"
#include "policies/basic_auth/verify_cache.hpp"
#include "policies/config_reader.hpp"
#include "policies/crypto.hpp"
#include "policies/authenticator.hpp"
#include "policies/policy.hpp"

namespace gatehouse::policy {

namespace {

using basic_auth::PasswordHash;

constexpr int64_t kDefaultIterations = 10'000;
constexpr int64_t kDefaultCacheSize = 1'024;

struct User {
  size_t consumer = 0;
  std::string username;
  PasswordHash hash;
};

struct BasicIndex {
  std::unordered_map<std::string, User> by_username;
  std::optional<Error> problem;  // first bad credential, reported by every factory
};

// Builds username -> PBKDF2 record. `iterations` applies to plaintext
// passwords only; password_hash records keep their own count.
std::shared_ptr<const BasicIndex> build_index(const ConsumerSet& set, int64_t iterations) {
  auto idx = std::make_shared<BasicIndex>();
  const auto& cfgs = set.configs();
  auto fail = [&](Error e) {
    if (!idx->problem) idx->problem = std::move(e);
  };
  for (size_t i = 0; i < cfgs.size(); ++i) {
    for (size_t j = 0; j < cfgs[i].credentials.size(); ++j) {
      const auto& cred = cfgs[i].credentials[j];
      auto t = cred.find("type");
      if (t == cred.end() || t->second != "basic-auth") continue;
      for (const auto& [k, v] : cred) {
        if (k != "type" && k != "username" && k != "password" && k != "password_hash")
          fail(credential_error(cfgs[i], i, j, k, "unknown_field",
                                "unknown field '" + k + "' in a basic-auth credential"));
      }
      auto u = cred.find("username");
      auto p = cred.find("password");
      auto h = cred.find("password_hash");
      if (u == cred.end() || u->second.empty()) {
        fail(credential_error(cfgs[i], i, j, "username", "missing_field",
                              "a basic-auth credential needs a username"));
        continue;
      }
      // RFC 7617: the user-id cannot contain a colon.
      if (u->second.find(':') != std::string::npos) {
        fail(credential_error(cfgs[i], i, j, "username", "invalid_value",
                              "a Basic username cannot contain ':'"));
        continue;
      }
      if ((p == cred.end()) == (h == cred.end())) {
        fail(credential_error(cfgs[i], i, j, "", "invalid_value",
                              "a basic-auth credential needs exactly one of password and "
                              "password_hash"));
        continue;
      }
      User user;
      user.consumer = i;
      user.username = u->second;
      if (h != cred.end()) {
        auto parsed = basic_auth::parse_password_hash(h->second);
        if (!parsed) {
          fail(credential_error(cfgs[i], i, j, "password_hash", "invalid_value",
                                parsed.error().message));
          continue;
        }
        user.hash = std::move(parsed.value());
      } else {
        auto made = basic_auth::hash_password(p->second, iterations);
        if (!made) {
          fail(
              credential_error(cfgs[i], i, j, "password", made.error().code, made.error().message));
          continue;
        }
        user.hash = std::move(made.value());
      }
      if (idx->by_username.count(user.username)) {
        fail(credential_error(
            cfgs[i], i, j, "username", "duplicate_credential",
            "basic-auth username '" + user.username + "' is used by another credential"));
        continue;
      }
      idx->by_username.emplace(user.username, std::move(user));
    }
  }
  return idx;
}

class BasicAuth final : public Authenticator {
 public:
  BasicAuth(size_t workers, size_t cache_size) : cache_(workers, cache_size) {}

  bool hide_credentials = true;
  const Consumer* anonymous = nullptr;
  const BasicIndex* index = nullptr;
  std::string challenge;  // WWW-Authenticate value
  std::string pepper;     // keys the cache so it never holds a plain password digest
  PasswordHash dummy;     // verified against for unknown users (same cost as a wrong password)

  std::string_view name() const override { return "basic-auth"; }

 private:
  Action authenticate(RequestContext& ctx, Respond& out) const override {
    const std::string* header = ctx.head->find("Authorization");
    std::string_view encoded;
    if (!header || !split_basic(*header, encoded)) {
      // Another scheme is not ours to judge: it may be for a later authenticator.
      if (anonymous) {
        ctx.consumer = anonymous;
        return Action::kContinue;
      }
      return reject(out, "missing_credentials", "no Basic credentials in the request");
    }
    bool ok = false;
    std::string pair = base64_decode(encoded, false, &ok);
    size_t colon = pair.find(':');
    if (!ok || colon == std::string::npos || colon == 0)
      return reject(out, "invalid_credentials", "the Basic credentials are malformed");
    std::string_view username = std::string_view(pair).substr(0, colon);
    std::string_view password = std::string_view(pair).substr(colon + 1);

    std::string key = sha256(pepper + pair);
    const User* user = nullptr;
    if (const User* const* hit = cache_.find(ctx.worker, key)) {
      user = *hit;
    } else {
      auto it = index->by_username.find(std::string(username));
      if (it == index->by_username.end()) {
        basic_auth::verify_password(dummy, password);  // no timing hint about who exists
        return reject(out, "invalid_credentials", "the username or password is not valid");
      }
      if (!basic_auth::verify_password(it->second.hash, password))
        return reject(out, "invalid_credentials", "the username or password is not valid");
      user = &it->second;
      cache_.insert(ctx.worker, key, user);
    }
    ctx.consumer = &ctx.consumers->all()[user->consumer];
    ctx.credential_id = "basic-auth:" + user->username;
    if (hide_credentials) {
      std::erase_if(ctx.head->headers,
                    [](const http1::Header& h) { return iequals(h.name, "Authorization"); });
    }
    return Action::kContinue;
  }

  // "Basic <token68>", scheme case-insensitive (RFC 9110 section 11.1).
  static bool split_basic(std::string_view v, std::string_view& token) {
    v = trim_ows(v);
    if (v.size() < 6 || !iequals(v.substr(0, 5), "Basic") || (v[5] != ' ' && v[5] != '\t'))
      return false;
    token = trim_ows(v.substr(6));
    return true;
  }

  Action reject(Respond& out, const char* code, const char* detail) const {
    out.status = 401;
    out.code = code;
    out.detail = detail;
    out.headers.push_back({"WWW-Authenticate", challenge});
    return Action::kRespond;
  }

  // Per-worker slots: see verify_cache.hpp for why this needs no lock.
  mutable basic_auth::VerifyCache<const User*> cache_;
};

}  // namespace

void register_basic_auth(Registry& r) {
  r.add("basic-auth",
        [](const config::PolicyRef& ref,
           const BuildContext& ctx) -> Result<std::shared_ptr<const Policy>> {
          ConfigReader cr(ref, ctx.field);
          cr.allow_only(
              {"hide_credentials", "anonymous", "realm", "pbkdf2_iterations", "cache_size"});
          bool hide = cr.boolean("hide_credentials", true);
          std::string realm = cr.str("realm", "gatehouse");
          if (!valid_realm(realm))
            cr.fail("realm", "invalid_value",
                    "realm must be non-empty printable text without '\"' or '\\'");
          int64_t iterations = cr.integer("pbkdf2_iterations", kDefaultIterations,
                                          basic_auth::kMinIterations, basic_auth::kMaxIterations);
          int64_t cache_size = cr.integer("cache_size", kDefaultCacheSize, 0, 1'000'000);
          const Consumer* anonymous = nullptr;
          anonymous = read_anonymous(cr, ctx);
          if (auto r2 = cr.finish(); !r2) return r2.error();

          auto p = std::make_shared<BasicAuth>(ctx.workers, static_cast<size_t>(cache_size));
          p->hide_credentials = hide;
          p->anonymous = anonymous;
          p->challenge = "Basic realm=\"" + realm + "\", charset=\"UTF-8\"";
          // One index per iteration count: policies that differ in it must not share records.
          p->index = ctx.consumers->index<BasicIndex>(
              "basic-auth/pbkdf2-" + std::to_string(iterations),
              [iterations](const ConsumerSet& set) { return build_index(set, iterations); });
          if (p->index->problem) return *p->index->problem;
          p->pepper.resize(32);
          if (RAND_bytes(reinterpret_cast<unsigned char*>(p->pepper.data()), 32) != 1)
            return make_error("crypto_failure", "no random bytes for the basic-auth cache key",
                              ctx.field, 0, ErrorSide::kInternal);
          p->dummy.iterations = iterations;
          p->dummy.salt = std::string(basic_auth::kSaltBytes, 's');
          p->dummy.hash = std::string(basic_auth::kHashBytes, 'h');
          return std::shared_ptr<const Policy>(p);
        });
}

}  // namespace gatehouse::policy
