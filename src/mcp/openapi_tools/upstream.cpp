// A REST API as an MCP server (REST to MCP), on the MCP thread: answers
// initialize and the lists itself, and turns a tools/call into one HTTP
// request to the API's upstream (tools.hpp builds it), whose answer becomes
// the tool result, through net/http_client (one connection per call).
#include "mcp/openapi_tools/upstream.hpp"

#include "mcp/jsonrpc/message.hpp"
#include "net/http_client.hpp"

namespace gatehouse::mcp {

namespace {

constexpr size_t kMaxBody = 16 * 1024 * 1024;

struct HttpAnswer {
  int status = 0;
  std::string content_type;
  std::string body;
  std::string error;  // transport failure
};

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
      Call::deliver(call, Event::ok(json::parse(jsonrpc::result_response(id, result)).as_object()));
    };
    auto fail = [&](int code, std::string_view message) {
      Call::deliver(call,
                    Event::ok(json::parse(jsonrpc::error_response(id, code, message)).as_object()));
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
    if (method != "tools/call")
      co_return fail(jsonrpc::kMethodNotFound, "Method not found: " + method);
    const json::object* params = op.message["params"].if_object();
    const json::value* name = params ? params->if_contains("name") : nullptr;
    const openapi_tools::Tool* tool = nullptr;
    for (const auto& t : self->b_->tools)
      if (name && name->is_string() && name->as_string() == t.name) tool = &t;
    if (!tool) co_return fail(jsonrpc::kInvalidParams, "Unknown tool");
    const json::value* args = params->if_contains("arguments");
    static const json::object kNone;
    std::string why;
    auto req =
        openapi_tools::build_call(*tool->operation, self->b_->base_path,
                                  args && args->is_object() ? args->as_object() : kNone, why);
    if (!req) co_return fail(jsonrpc::kInvalidParams, why);
    HttpAnswer a = co_await self->send(*req);
    if (!a.error.empty()) co_return Call::deliver(call, Event::failure(a.error));
    answer(openapi_tools::to_result(a.status, a.content_type, a.body,
                                    tool->definition.contains("outputSchema")));
  }

  // One request through net/http_client (the gateway's one outbound client).
  awaitable<HttpAnswer> send(const openapi_tools::HttpCall& c) {
    HttpAnswer a;
    const OpenApiBinding& b = *b_;
    net::HttpClientRequest req;
    req.method = c.method;
    req.url = "http://" + b.host + ":" + std::to_string(b.port) + c.target;
    req.timeout_ms = b.timeout_ms;
    req.max_body = kMaxBody;
    req.headers.emplace_back("Accept", "application/json");
    for (const auto& [k, v] : c.headers) req.headers.emplace_back(k, v);
    req.body = c.body;
    auto res = co_await net::http_call(req, nullptr);
    if (!res) {
      a.error = res.error().message;
      co_return a;
    }
    a.status = res.value().status;
    a.content_type = std::move(res.value().content_type);
    a.body = std::move(res.value().body);
    co_return a;
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

}  // namespace gatehouse::mcp
