// The policy (filter) API. A factory validates a policy's config once, when
// a snapshot is built, and returns an immutable Policy shared by all workers.
// Per request, the chain calls the policy's hooks in fixed phases; a hook
// either continues or answers the request itself.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "net/asio.hpp"
#include "common/result.hpp"
#include "config/entities.hpp"
#include "net/http1/parser.hpp"
#include "net/http1/path.hpp"

namespace gatehouse::net::tls {
struct PeerCertificate;  // net/tls/cert_info.hpp
}

namespace gatehouse::apim {
class SpecSet;  // apim/spec_set.hpp
}

namespace gatehouse::policy {

// Phases run in this order; within a phase, global policies first, then the
// route's, then the consumer's, each in list order.
enum class Phase : int {
  kPreAuth = 10,     // ip-restriction, cors preflight, request-size, bot and URI blocks
  kAuthn = 20,       // key-auth, basic-auth, jwt, hmac-auth, ...
  kAuthz = 30,       // acl, claim requirements
  kLimit = 40,       // rate-limit, quotas, concurrency
  kTransform = 50,   // header / query / body transformations
  kRoute = 60,       // traffic-split, mirroring
};

struct Consumer {
  std::string name;
  std::vector<std::string> groups;
  size_t index = 0;  // position in ConsumerSet
};

// Consumers of a snapshot plus credential indexes. Authentication policies
// register their own index builders (see CredentialIndex).
class ConsumerSet {
 public:
  const Consumer* find(std::string_view name) const;
  const std::vector<Consumer>& all() const { return consumers_; }
  const std::vector<config::ConsumerConfig>& configs() const { return configs_; }

  // Credential indexes (key hash -> consumer, username -> secret, ...) are
  // built once per snapshot by the first policy that needs them. Only called
  // while the snapshot is being built on the control thread, before workers
  // can see it, hence mutable without a lock.
  template <class T>
  const T* index(const std::string& type,
                 const std::function<std::shared_ptr<const T>(const ConsumerSet&)>& build) const {
    auto it = indexes_.find(type);
    if (it == indexes_.end())
      it = indexes_.emplace(type, std::static_pointer_cast<const void>(build(*this))).first;
    return static_cast<const T*>(it->second.get());
  }

 private:
  friend Result<std::shared_ptr<const ConsumerSet>> build_consumers(
      const std::vector<config::ConsumerConfig>&);
  std::vector<Consumer> consumers_;
  std::vector<config::ConsumerConfig> configs_;
  std::unordered_map<std::string, size_t> by_name_;
  mutable std::unordered_map<std::string, std::shared_ptr<const void>> indexes_;
};

// A gateway-made answer (401, 403, 429, CORS preflight 204, ...).
struct Respond {
  int status = 0;
  std::string code;     // problem code; empty with a custom body
  std::string detail;
  std::vector<http1::Header> headers;
  std::string body;     // when set, sent as-is with content_type
  std::string content_type;
};

// A complete response a policy holds (proxy-cache). When a request hook sets
// RequestContext::serve_stored, the proxy sends it instead of contacting the
// upstream, through the same response hooks as an upstream's answer.
struct StoredResponse {
  int status = 200;
  std::vector<http1::Header> headers;  // as the upstream sent them (no framing fields)
  std::string body;
};

// What policies may read and change about a request.
struct RequestContext {
  http1::RequestHead* head = nullptr;          // headers may be edited
  const http1::NormalizedTarget* target = nullptr;
  std::string_view client_ip;
  std::string_view route_name;
  std::string_view request_id;
  const ConsumerSet* consumers = nullptr;
  const Consumer* consumer = nullptr;          // set by an authentication policy
  bool tls = false;                            // the request came over TLS
  // The client's verified TLS certificate (tls.client_auth), else null.
  const net::tls::PeerCertificate* client_cert = nullptr;
  std::string credential_id;                   // non-secret id of the credential used
  std::string query_override;                  // set when a policy rewrote the query
  bool query_overridden = false;
  int upstream_override = -1;                  // traffic-split: snapshot upstream index
  int mirror_upstream = -1;                    // proxy-mirror: shadow copy goes here
  std::string upstream_host;                   // request-transformer `set: {Host: ..}`
  std::vector<http1::Header> response_headers; // added to the response (RateLimit-*, CORS)
  std::unordered_map<std::string, std::string> vars;  // policy-to-policy notes
  std::shared_ptr<const StoredResponse> serve_stored;  // answer from a store, not the upstream
  // State a policy keeps between its hooks for this request, keyed by the policy.
  std::vector<std::pair<const void*, std::shared_ptr<void>>> policy_state;
  size_t worker = 0;
  int64_t now_ms = 0;                          // steady clock at request start
};

enum class Action { kContinue, kRespond };

class Policy {
 public:
  virtual ~Policy() = default;
  virtual std::string_view name() const = 0;
  virtual Phase phase() const = 0;
  // Request headers are complete. Synchronous: most policies need no I/O.
  virtual Action on_request(RequestContext& ctx, Respond& out) const = 0;
  // Policies that must wait on the network (token introspection) say so;
  // the chain then awaits on_request_async on the worker's io_context
  // instead of calling on_request.
  virtual bool is_async() const { return false; }
  virtual awaitable<Action> on_request_async(RequestContext& ctx, Respond& out) const {
    co_return on_request(ctx, out);
  }
  // The response head from the upstream (or from another policy) is about to
  // be sent; headers may be edited.
  virtual void on_response(RequestContext& /*ctx*/, int /*status*/,
                           std::vector<http1::Header>& /*headers*/) const {}
  // The exchange is over (metrics, concurrency release, quotas).
  virtual void on_log(RequestContext& /*ctx*/, int /*status*/) const {}

  // Whole-body hooks (JSON body transforms, request validation). Bodies stream unless a policy
  // whose request hook ran asks for one here, with a size limit for this
  // request (0: not wanted). The proxy then buffers the body (413 past the
  // largest request limit asked for) and calls the body hook: request bodies
  // in chain order, response bodies in reverse, after on_response.
  virtual uint64_t request_body_limit(const RequestContext& /*ctx*/) const { return 0; }
  virtual Action on_request_body(RequestContext& /*ctx*/, std::string& /*body*/,
                                 Respond& /*out*/) const {
    return Action::kContinue;
  }
  struct ResponseBodyWant {
    uint64_t limit = 0;          // 0: not wanted
    bool reject_larger = false;  // a larger body is a 502 instead of passing through untouched
  };
  virtual ResponseBodyWant response_body_want(const RequestContext& /*ctx*/, int /*status*/,
                                              const std::vector<http1::Header>& /*headers*/) const {
    return {};
  }
  virtual void on_response_body(RequestContext& /*ctx*/, int /*status*/,
                                std::vector<http1::Header>& /*headers*/,
                                std::string& /*body*/) const {}
};

// What a factory may look at besides its own config.
struct BuildContext {
  const config::Config* config = nullptr;
  const ConsumerSet* consumers = nullptr;
  std::function<int(std::string_view upstream)> upstream_index;  // -1 when unknown
  size_t workers = 1;
  const config::RouteConfig* route = nullptr;  // null for global policies
  const apim::SpecSet* specs = nullptr;        // the config's OpenAPI documents; never null
  std::string field;  // e.g. "routes[2].policies[0]" for error paths
};

using Factory = std::function<Result<std::shared_ptr<const Policy>>(
    const config::PolicyRef& ref, const BuildContext& ctx)>;

// Registry of policy kinds by name ("key-auth", "rate-limit", ...).
class Registry {
 public:
  static Registry& instance();
  void add(std::string name, Factory f);
  const Factory* find(std::string_view name) const;
  std::vector<std::string> names() const;

 private:
  std::unordered_map<std::string, Factory> factories_;
};

// Compiles one attachment; unknown names and bad configs are errors whose
// field is ctx.field (plus ".config.<key>" where the factory knows it).
Result<std::shared_ptr<const Policy>> compile(const config::PolicyRef& ref,
                                              const BuildContext& ctx);

// An ordered, compiled chain for one route.
struct Chain {
  std::vector<std::shared_ptr<const Policy>> policies;  // sorted by phase, stable
  bool empty() const { return policies.empty(); }
};

Result<std::shared_ptr<const ConsumerSet>> build_consumers(
    const std::vector<config::ConsumerConfig>& consumers);

// Registers the built-in policies (called once at start, and by tests).
void register_builtin_policies();

}  // namespace gatehouse::policy
