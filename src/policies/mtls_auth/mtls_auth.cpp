// mtls-auth: identifies the consumer by the client's TLS certificate, which
// the proxy_tls listener verified against tls.client_auth.ca_file. The
// policy only maps an already verified certificate to a consumer: by its
// SHA-256 fingerprint, its subject DN, or one of its SANs (in that order).
#include <unordered_map>

#include "net/tls/cert_info.hpp"
#include "policies/authenticator.hpp"
#include "policies/config_reader.hpp"
#include "policies/mtls_auth/dn.hpp"
#include "policies/policy.hpp"

namespace gatehouse::policy {

namespace {

struct MtlsIndex {
  std::unordered_map<std::string, size_t> by_fingerprint;  // 64 hex digits -> consumer
  std::unordered_map<std::string, size_t> by_subject;      // canonical DN -> consumer
  std::unordered_map<std::string, size_t> by_san;          // DNS, URI or email -> consumer
  std::optional<Error> problem;  // first bad credential, reported by every factory
};

std::shared_ptr<const MtlsIndex> build_mtls_index(const ConsumerSet& set) {
  auto idx = std::make_shared<MtlsIndex>();
  const auto& cfgs = set.configs();
  auto fail = [&](Error e) {
    if (!idx->problem) idx->problem = std::move(e);
  };
  for (size_t i = 0; i < cfgs.size(); ++i) {
    for (size_t j = 0; j < cfgs[i].credentials.size(); ++j) {
      const auto& cred = cfgs[i].credentials[j];
      auto t = cred.find("type");
      if (t == cred.end() || t->second != "mtls-auth") continue;
      int given = 0;
      for (const auto& [k, v] : cred) {
        if (k == "type") continue;
        if (k != "subject" && k != "fingerprint" && k != "san") {
          fail(credential_error(cfgs[i], i, j, k, "unknown_field",
                                "unknown field '" + k + "' in an mtls-auth credential"));
          continue;
        }
        ++given;
        std::unordered_map<std::string, size_t>* map = nullptr;
        std::optional<std::string> key;
        if (k == "subject") {
          key = mtls::canonical_dn(v);
          map = &idx->by_subject;
          if (!key)
            fail(credential_error(cfgs[i], i, j, k, "invalid_value",
                                  "subject must be a DN like \"CN=alice,O=Acme\""));
        } else if (k == "fingerprint") {
          key = mtls::canonical_fingerprint(v);
          map = &idx->by_fingerprint;
          if (!key)
            fail(credential_error(cfgs[i], i, j, k, "invalid_value",
                                  "fingerprint must be \"sha256:\" and 64 hex digits"));
        } else {
          key = v;
          map = &idx->by_san;
          if (v.empty())
            fail(credential_error(cfgs[i], i, j, k, "invalid_value", "san must not be empty"));
        }
        if (!key || key->empty()) continue;
        if (!map->emplace(*key, i).second)
          fail(credential_error(cfgs[i], i, j, k, "duplicate_credential",
                                "another mtls-auth credential has the same " + k));
      }
      if (given != 1)
        fail(credential_error(cfgs[i], i, j, "", "invalid_value",
                              "an mtls-auth credential needs exactly one of subject, "
                              "fingerprint and san"));
    }
  }
  return idx;
}

class MtlsAuth final : public Authenticator {
 public:
  const Consumer* anonymous = nullptr;
  const MtlsIndex* index = nullptr;
  std::string challenge;

  std::string_view name() const override { return "mtls-auth"; }

 protected:
  Action authenticate(RequestContext& ctx, Respond& out) const override {
    const net::tls::PeerCertificate* cert = ctx.client_cert;
    if (!cert) {
      if (anonymous) {
        if (!ctx.consumer) ctx.consumer = anonymous;
        return Action::kContinue;
      }
      return reject(out, "missing_client_certificate",
                    ctx.tls ? "no verified client certificate was presented"
                            : "a client certificate over TLS is required");
    }
    const std::string* via = nullptr;
    size_t consumer = 0;
    auto look = [&](const std::unordered_map<std::string, size_t>& m, const std::string& key) {
      if (via) return;
      if (auto it = m.find(key); it != m.end()) {
        via = &it->first;
        consumer = it->second;
      }
    };
    look(index->by_fingerprint, cert->fingerprint_sha256);
    if (!via && !index->by_subject.empty()) {
      if (auto dn = mtls::canonical_dn(cert->subject)) look(index->by_subject, *dn);
    }
    for (const auto* list : {&cert->san_dns, &cert->san_uri, &cert->san_email})
      for (const auto& s : *list) look(index->by_san, s);
    if (!via) {
      // A verified certificate that maps to nobody is still nobody: the
      // anonymous fallback is for clients without a certificate.
      return reject(out, "unknown_client_certificate",
                    "the client certificate does not belong to a consumer");
    }
    ctx.consumer = &ctx.consumers->all()[consumer];
    ctx.credential_id = "mtls-auth:" + cert->fingerprint_sha256.substr(0, 12);
    return Action::kContinue;
  }

 private:
  Action reject(Respond& out, const char* code, const char* detail) const {
    out.status = 401;
    out.code = code;
    out.detail = detail;
    out.headers.push_back({"WWW-Authenticate", challenge});
    return Action::kRespond;
  }
};

}  // namespace

void register_mtls_auth(Registry& r) {
  r.add("mtls-auth",
        [](const config::PolicyRef& ref,
           const BuildContext& ctx) -> Result<std::shared_ptr<const Policy>> {
          ConfigReader cr(ref, ctx.field);
          cr.allow_only({"anonymous", "realm"});
          auto p = std::make_shared<MtlsAuth>();
          // No registered HTTP scheme exists for TLS client certificates; the
          // challenge names one so clients see which method was expected.
          p->challenge = "MutualTLS " + read_realm_attr(cr);
          p->anonymous = read_anonymous(cr, ctx);
          if (auto r2 = cr.finish(); !r2) return r2.error();
          p->index = ctx.consumers->index<MtlsIndex>("mtls-auth", build_mtls_index);
          if (p->index->problem) return *p->index->problem;
          return std::shared_ptr<const Policy>(p);
        });
}

}  // namespace gatehouse::policy
