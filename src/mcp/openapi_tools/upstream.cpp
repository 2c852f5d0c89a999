// A REST API as an MCP server (REST to MCP). The MCP thread answers
// initialize and the lists; a tools/call is made on the worker: one HTTP
// request (tools.hpp builds it) sent through the gateway route that serves
// it (the caller's RestSend), whose answer becomes the tool result.
#include "mcp/openapi_tools/upstream.hpp"

#include "common/json.hpp"
#include "mcp/jsonrpc/message.hpp"

namespace gatehouse::mcp {

namespace {

class OpenApiUpstream final : public Upstream,
                              public std::enable_shared_from_this<OpenApiUpstream> {
 public:
  OpenApiUpstream(asio::io_context& ioc, std::shared_ptr<const OpenApiBinding> b)
      : ioc_(ioc), b_(std::move(b)) {}

  void submit(Op op, std::shared_ptr<Call> call) override {
    if (stopped_) return Call::deliver(call, Event::failure("server stopped"));
    if (op.type != Op::Type::kRequest) {
      Event e = Event::ok();
      if (op.type == Op::Type::kOpen) {
        e.message = json::object{{"jsonrpc", "2.0"}, {"result", init_result()}};
        e.protocol_version = kSupportedVersions[0];
      }
      return Call::deliver(call, std::move(e));
    }
    asio::co_spawn(ioc_, run(shared_from_this(), std::move(op), std::move(call)), asio::detached);
  }

  void stop(bool) override { stopped_ = true; }

 private:
  json::object init_result() const {
    return json::object{{"protocolVersion", kSupportedVersions[0]},
                        {"capabilities", json::object{{"tools", json::object{}}}},
                        {"serverInfo", json::object{{"name", b_->server}, {"version", kVersion}}}};
  }

  static awaitable<void> run(std::shared_ptr<OpenApiUpstream> self, Op op,
                             std::shared_ptr<Call> call) {
    json::value id = op.message["id"];
    std::string method = op.message["method"].is_string()
                             ? std::string(op.message["method"].as_string())
                             : std::string();
    auto answer = [&](json::object result) {
      Call::deliver(call, Event::ok(parse_json(jsonrpc::result_response(id, result)).as_object()));
    };
    if (method == "tools/list") {
      json::array tools;
      for (const auto& t : self->b_->tools) tools.push_back(t.definition);
      co_return answer(json::object{{"tools", std::move(tools)}});
    }
    if (method == "prompts/list") co_return answer(json::object{{"prompts", json::array{}}});
    if (method == "resources/list") co_return answer(json::object{{"resources", json::array{}}});
    if (method == "resources/templates/list")
      co_return answer(json::object{{"resourceTemplates", json::array{}}});
    if (method == "ping") co_return answer(json::object{});
    // tools/call is served on the worker (call_openapi_tool): it goes
    // through the gateway's own pipeline, which lives there.
    Call::deliver(call, Event::ok(parse_json(jsonrpc::error_response(id, jsonrpc::kMethodNotFound,
                                                                     "Method not found: " + method))
                                      .as_object()));
    co_return;
  }

  asio::io_context& ioc_;
  std::shared_ptr<const OpenApiBinding> b_;
  bool stopped_ = false;
};

}  // namespace

std::shared_ptr<Upstream> make_openapi_upstream(asio::io_context& ioc,
                                                std::shared_ptr<const OpenApiBinding> binding) {
  return std::make_shared<OpenApiUpstream>(ioc, std::move(binding));
}

awaitable<Event> call_openapi_tool(
    const OpenApiBinding& b, const json::object& message,
    const std::function<awaitable<openapi_tools::HttpAnswer>(openapi_tools::HttpCall, int64_t)>&
        send) {
  const json::value* idp = message.if_contains("id");
  json::value id = idp ? *idp : json::value();
  auto fail = [&](int code, std::string_view why) {
    return Event::ok(parse_json(jsonrpc::error_response(id, code, why)).as_object());
  };
  const json::value* pv = message.if_contains("params");
  const json::object* params = pv ? pv->if_object() : nullptr;
  const json::value* name = params ? params->if_contains("name") : nullptr;
  const openapi_tools::Tool* tool = nullptr;
  for (const auto& t : b.tools)
    if (name && name->is_string() && name->as_string() == t.name) tool = &t;
  if (!tool) co_return fail(jsonrpc::kInvalidParams, "Unknown tool");
  const json::value* args = params->if_contains("arguments");
  static const json::object kNone;
  std::string why;
  auto req = openapi_tools::build_call(*tool->operation, b.base_path,
                                       args && args->is_object() ? args->as_object() : kNone, why);
  if (!req) co_return fail(jsonrpc::kInvalidParams, why);
  if (!send) co_return Event::failure("REST-to-MCP calls are not available on this transport");
  openapi_tools::HttpAnswer a = co_await send(std::move(*req), b.timeout_ms);
  if (!a.error.empty()) co_return Event::failure(a.error);
  json::object result = openapi_tools::answer_result(a, tool->definition.contains("outputSchema"));
  co_return Event::ok(parse_json(jsonrpc::result_response(id, result)).as_object());
}

}  // namespace gatehouse::mcp
