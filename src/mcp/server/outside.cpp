#include "mcp/server/outside.hpp"

#include <algorithm>

#include "common/json.hpp"
#include "mcp/hub.hpp"
#include "mcp/jsonrpc/message.hpp"
#include "mcp/server/list_cache.hpp"

namespace gatehouse::mcp {

std::string relay_id(const SessionKey& key, const RelayTarget& to, const json::value& upstream_id) {
  json::object where{{"r", to.route},
                     {"c", to.consumer},
                     {"s", to.server},
                     {"u", to.upstream_session},
                     {"v", to.protocol_version},
                     {"i", upstream_id}};
  return std::string(kRelayIdPrefix) + key.seal(json::serialize(where));
}

std::string_view needed_capability(std::string_view method) {
  if (method == "sampling/createMessage") return "sampling";
  if (method == "elicitation/create") return "elicitation";
  if (method == "roots/list") return "roots";
  return {};
}

bool client_declared(const SessionState& st, std::string_view capability) {
  if (capability.empty() || st.client_capabilities.empty()) return false;
  boost::system::error_code ec;
  json::value caps = parse_json(st.client_capabilities, ec);
  return !ec && caps.is_object() && caps.as_object().contains(capability);
}

namespace {

// One upstream session's messages for one client stream. Made on the worker,
// then touched only on the MCP thread (the feed's `closed` is atomic).
class ClientStream final : public OutsideSink {
 public:
  ClientStream(std::string session_token, std::shared_ptr<Feed> feed, RelayTarget to,
               std::shared_ptr<const SessionKey> key, const SessionState& st)
      : session_token_(std::move(session_token)),
        feed_(std::move(feed)),
        to_(std::move(to)),
        key_(std::move(key)) {
    for (const char* c : {"sampling", "elicitation", "roots"})
      if (client_declared(st, c)) declared_.emplace_back(c);
  }

  std::optional<json::object> take(json::object msg) override {
    const json::value* m = msg.if_contains("method");
    std::string method = m && m->is_string() ? std::string(m->as_string()) : std::string();
    if (!msg.contains("id")) {
      note(method, std::move(msg));
      return std::nullopt;
    }
    json::value upstream_id = msg["id"];
    if (method == "ping")
      return parse_json(jsonrpc::result_response(upstream_id, json::object{})).as_object();
    std::string_view cap = needed_capability(method);
    const char* why = nullptr;
    if (feed_->closed.load(std::memory_order_relaxed))
      why = " cannot be relayed: the client has no standalone stream (GET) open";
    else if (cap.empty() || std::find(declared_.begin(), declared_.end(), cap) == declared_.end())
      why = " cannot be relayed to this client (capability not declared)";
    if (why)
      return parse_json(
                 jsonrpc::error_response(upstream_id, jsonrpc::kMethodNotFound, method + why))
          .as_object();
    msg["id"] = relay_id(*key_, to_, upstream_id);
    stream_publish(session_token_, json::serialize(msg));
    return std::nullopt;
  }

 private:
  // As relay_note does for a call's notifications that concern the whole
  // session: to the standalone stream. Progress belongs to a request and
  // has no place there.
  void note(const std::string& method, json::object msg) {
    if (method == "notifications/progress") return;
    if (method.ends_with("/list_changed")) list_cache::invalidate(to_.server);
    stream_publish(session_token_, json::serialize(msg));
  }

  std::string session_token_;
  std::shared_ptr<Feed> feed_;
  RelayTarget to_;
  std::shared_ptr<const SessionKey> key_;
  std::vector<std::string_view> declared_;
};

}  // namespace

std::shared_ptr<OutsideSink> make_client_sink(std::string session_token, std::shared_ptr<Feed> feed,
                                              RelayTarget to, std::shared_ptr<const SessionKey> key,
                                              const SessionState& st) {
  return std::make_shared<ClientStream>(std::move(session_token), std::move(feed), std::move(to),
                                        std::move(key), st);
}

OutsideRelay::OutsideRelay(const Request& rq, std::shared_ptr<Feed> feed) {
  if (!rq.session || rq.session_token.empty()) return;
  for (const auto& u : rq.session->upstreams) {
    const config::McpServerConfig* cfg = rq.rt->server(u.server);
    if (!cfg || u.failed || u.session_id.empty()) continue;
    // Only these have sessions of their own; a stdio child is shared by
    // every session, so what it sends on its own belongs to none of them.
    if (cfg->transport != config::McpTransport::kStreamableHttp &&
        cfg->transport != config::McpTransport::kSse)
      continue;
    RelayTarget to{rq.route->name, rq.consumer, u.server, u.session_id, u.protocol_version};
    auto sink = make_client_sink(rq.session_token, feed, std::move(to), rq.rt->key, *rq.session);
    upstream_listen(*cfg, rq.rt->parts(u.server), u.session_id, u.protocol_version, sink);
    listening_.push_back(Listening{*cfg, u.session_id, std::move(sink)});
  }
}

OutsideRelay::~OutsideRelay() {
  for (auto& l : listening_) upstream_unlisten(l.cfg, std::move(l.session_id), std::move(l.sink));
}

}  // namespace gatehouse::mcp
