#include "mcp/server/modern.hpp"

#include <gtest/gtest.h>

#include <unordered_map>

namespace gatehouse::mcp::modern {
namespace {

jsonrpc::Message msg(std::string_view text) {
  auto p = jsonrpc::parse(text);
  EXPECT_TRUE(p.items[0].msg);
  return *p.items[0].msg;
}

constexpr std::string_view kCall =
    R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"weather",)"
    R"("_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}})";

TEST(Modern, BodyVersion) {
  EXPECT_EQ(body_version(msg(kCall)), std::optional<std::string>("2026-07-28"));
  EXPECT_FALSE(body_version(msg(R"({"jsonrpc":"2.0","id":1,"method":"ping"})")));
  EXPECT_EQ(
      body_version(msg(
          R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":5}}})")),
      std::optional<std::string>(""));
}

TEST(Modern, HeadersMustMirrorTheBody) {
  std::string v = "2026-07-28", m = "tools/call", n = "weather";
  auto m1 = msg(kCall);
  EXPECT_EQ(check_headers(m1, {&v, &m, &n}), "");
  EXPECT_EQ(check_headers(m1, {nullptr, &m, &n}), "the MCP-Protocol-Version header is required");
  EXPECT_EQ(check_headers(m1, {&v, nullptr, &n}), "the Mcp-Method header is required");
  EXPECT_EQ(check_headers(m1, {&v, &m, nullptr}), "the Mcp-Name header is required for tools/call");
  std::string other = "tools/list";
  EXPECT_EQ(check_headers(m1, {&v, &other, &n}),
            "Mcp-Method header value 'tools/list' does not match body value 'tools/call'");
  std::string foo = "foo";
  EXPECT_EQ(check_headers(m1, {&v, &m, &foo}),
            "Mcp-Name header value 'foo' does not match body value 'weather'");
  std::string old = "2025-11-25";
  EXPECT_EQ(check_headers(m1, {&old, &m, &n}),
            "MCP-Protocol-Version header value '2025-11-25' does not match body value "
            "'2026-07-28'");
  // Base64 sentinel for names that are not plain header text.
  std::string b64 = "=?base64?d2VhdGhlcg==?=";
  EXPECT_EQ(check_headers(m1, {&v, &m, &b64}), "");
  std::string bad = "=?base64?***?=";
  EXPECT_EQ(check_headers(m1, {&v, &m, &bad}),
            "the Mcp-Name header value is not valid header text or base64");
  // Methods without a name need only Mcp-Method.
  auto list = msg(
      R"({"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}})");
  EXPECT_EQ(check_headers(list, {&v, &other, nullptr}), "");
  // resources/read mirrors the uri.
  auto read = msg(
      R"({"jsonrpc":"2.0","id":3,"method":"resources/read","params":{"uri":"a://b","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}})");
  std::string rr = "resources/read", uri = "a://b";
  EXPECT_EQ(check_headers(read, {&v, &rr, &uri}), "");
  // SEP-2663: tasks/get, tasks/update and tasks/cancel mirror the taskId.
  auto get = msg(
      R"({"jsonrpc":"2.0","id":4,"method":"tasks/get","params":{"taskId":"t1","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}})");
  std::string tg = "tasks/get", t1 = "t1", t2 = "t2";
  EXPECT_EQ(check_headers(get, {&v, &tg, &t1}), "");
  EXPECT_EQ(check_headers(get, {&v, &tg, &t2}),
            "Mcp-Name header value 't2' does not match body value 't1'");
  EXPECT_EQ(check_headers(get, {&v, &tg, nullptr}),
            "the Mcp-Name header is required for tasks/get");
}

TEST(Modern, DecodeHeaderValue) {
  EXPECT_EQ(decode_header_value("plain"), std::optional<std::string>("plain"));
  EXPECT_EQ(decode_header_value("=?base64?SGVsbG8sIOS4lueVjA==?="),
            std::optional<std::string>("Hello, \xe4\xb8\x96\xe7\x95\x8c"));
  EXPECT_FALSE(decode_header_value("caf\xc3\xa9"));
  EXPECT_FALSE(decode_header_value("=?base64?!!?="));
}

TEST(Modern, Versions) {
  EXPECT_TRUE(is_modern_version("2026-07-28"));
  EXPECT_TRUE(is_modern_version("2027-01-01"));
  EXPECT_FALSE(is_modern_version("2025-11-25"));
  EXPECT_EQ(supported_versions().front(), "2026-07-28");
  json::object d = discover_result();
  EXPECT_EQ(d["resultType"], "complete");
  EXPECT_EQ(d["supportedVersions"].as_array().size(), 5u);
  EXPECT_EQ(d["supportedVersions"].as_array().back(), "2024-11-05");  // HTTP+SSE clients
  // The tasks extension, and not the v1 capabilities.tasks slot.
  EXPECT_TRUE(
      d["capabilities"].at("extensions").as_object().contains("io.modelcontextprotocol/tasks"));
  EXPECT_FALSE(d["capabilities"].as_object().contains("tasks"));
}

TEST(Modern, ListenFilter) {
  std::string why;
  json::object p =
      json::parse(
          R"({"notifications":{"toolsListChanged":true,"resourceSubscriptions":["a://b"]}})")
          .as_object();
  auto f = ListenFilter::parse(&p, why);
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->wants("notifications/tools/list_changed"));
  EXPECT_FALSE(f->wants("notifications/prompts/list_changed"));
  // Resource subscriptions are not relayed, so not acknowledged.
  EXPECT_EQ(json::serialize(f->acknowledged()), R"({"toolsListChanged":true})");
  json::object bad = json::parse(R"({"notifications":{"toolsListChanged":"yes"}})").as_object();
  EXPECT_FALSE(ListenFilter::parse(&bad, why));
  EXPECT_EQ(why, "params.notifications.toolsListChanged must be a boolean");
  EXPECT_FALSE(ListenFilter::parse(nullptr, why));
  EXPECT_EQ(
      stamp(jsonrpc::make_notification("notifications/tools/list_changed", {}), 7),
      R"({"jsonrpc":"2.0","method":"notifications/tools/list_changed","params":{"_meta":{"io.modelcontextprotocol/subscriptionId":"7"}}})");
}

TEST(Modern, EveryRequestCarriesVersionAndCapabilities) {
  EXPECT_EQ(check_meta(msg(R"({"jsonrpc":"2.0","id":1,"method":"server/discover","params":{}})")),
            "params._meta is required (MCP 2026-07-28)");
  EXPECT_EQ(check_meta(msg(R"({"jsonrpc":"2.0","id":1,"method":"server/discover","params":)"
                           R"({"_meta":{"io.modelcontextprotocol/clientCapabilities":{}}}})")),
            "params._meta[\"io.modelcontextprotocol/protocolVersion\"] (a string) is required");
  EXPECT_EQ(check_meta(msg(kCall)),
            "params._meta[\"io.modelcontextprotocol/clientCapabilities\"] (an object) is required");
  EXPECT_EQ(check_meta(msg(R"({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":)"
                           R"({"io.modelcontextprotocol/protocolVersion":"2026-07-28",)"
                           R"("io.modelcontextprotocol/clientCapabilities":{}}}})")),
            "");  // clientInfo is optional
}

TEST(Modern, RemovedMethods) {
  for (const char* m :
       {"initialize", "ping", "logging/setLevel", "resources/subscribe", "resources/unsubscribe"})
    EXPECT_TRUE(removed_method(m)) << m;
  EXPECT_FALSE(removed_method("completion/complete"));
  EXPECT_FALSE(removed_method("tools/call"));
}

TEST(Modern, ResultsSayTheirTypeAndCacheability) {
  EXPECT_EQ(shape_result(R"({"jsonrpc":"2.0","id":1,"result":{"tools":[]}})", "tools/list", false),
            R"({"jsonrpc":"2.0","id":1,"result":{"tools":[],"resultType":"complete","ttlMs":0,)"
            R"("cacheScope":"public"}})");
  EXPECT_EQ(
      shape_result(R"({"jsonrpc":"2.0","id":1,"result":{"contents":[]}})", "resources/read", true),
      R"({"jsonrpc":"2.0","id":1,"result":{"contents":[],"resultType":"complete","ttlMs":0,)"
      R"("cacheScope":"private"}})");
  // Not cacheable: only the type.
  EXPECT_EQ(
      shape_result(R"({"jsonrpc":"2.0","id":1,"result":{"content":[]}})", "tools/call", false),
      R"({"jsonrpc":"2.0","id":1,"result":{"content":[],"resultType":"complete"}})");
  // The upstream's own hints and interim results are kept as they are.
  EXPECT_EQ(shape_result(R"({"jsonrpc":"2.0","id":1,"result":{"tools":[],"ttlMs":5000}})",
                         "tools/list", false),
            R"({"jsonrpc":"2.0","id":1,"result":{"tools":[],"ttlMs":5000,"resultType":"complete",)"
            R"("cacheScope":"public"}})");
  EXPECT_EQ(shape_result(R"({"jsonrpc":"2.0","id":1,"result":{"resultType":"input_required"}})",
                         "resources/read", false),
            R"({"jsonrpc":"2.0","id":1,"result":{"resultType":"input_required"}})");
  std::string err = R"({"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"x"}})";
  EXPECT_EQ(shape_result(err, "tools/list", false), err);
  EXPECT_EQ(shape_result("not json", "tools/list", false), "not json");
}

TEST(Modern, ParamHeadersMirrorMarkedArguments) {
  json::object tool = json::parse(R"({"name":"t","inputSchema":{"type":"object","properties":{)"
                                  R"("region":{"type":"string","x-mcp-header":"Region"},)"
                                  R"("n":{"type":"integer","x-mcp-header":"N"},"free":{}}}})")
                          .as_object();
  std::unordered_map<std::string, std::string> h;
  auto header = [&](std::string_view name) -> const std::string* {
    auto it = h.find(std::string(name));
    return it == h.end() ? nullptr : &it->second;
  };
  json::object args = json::parse(R"({"region":"Hello","n":3,"free":"x"})").as_object();
  EXPECT_EQ(check_param_headers(tool, &args, header),
            "the Mcp-Param-Region header is required when arguments.region is given");
  h["Mcp-Param-Region"] = "Hello";
  h["Mcp-Param-N"] = "3";
  EXPECT_EQ(check_param_headers(tool, &args, header), "");
  h["Mcp-Param-Region"] = "=?base64?SGVsbG8=?=";
  EXPECT_EQ(check_param_headers(tool, &args, header), "");
  h["Mcp-Param-Region"] = "=?base64?SGVsbG8?=";  // padding missing
  EXPECT_EQ(check_param_headers(tool, &args, header),
            "the Mcp-Param-Region header value is not valid header text or base64");
  h["Mcp-Param-Region"] = "=?base64?SGVs!!!bG8=?=";
  EXPECT_NE(check_param_headers(tool, &args, header), "");
  h["Mcp-Param-Region"] = "SGVsbG8=";  // no sentinel: literal text
  EXPECT_EQ(check_param_headers(tool, &args, header),
            "Mcp-Param-Region header value 'SGVsbG8=' does not match body value 'Hello'");
  h["Mcp-Param-Region"] = "Hello";
  args.erase("region");
  EXPECT_EQ(check_param_headers(tool, &args, header),
            "the Mcp-Param-Region header is given but arguments.region is not");
  h.erase("Mcp-Param-Region");
  EXPECT_EQ(check_param_headers(tool, &args, header), "");
}

TEST(Modern, LogsOnlyAtTheRequestedLevel) {
  auto quiet = msg(kCall);
  auto warn = msg(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x",)"
                  R"("_meta":{"io.modelcontextprotocol/logLevel":"warning"}}})");
  auto note = [](const char* level) {
    return json::parse(std::string(R"({"method":"notifications/message","params":{"level":")") +
                       level + R"(","data":"x"}})")
        .as_object();
  };
  EXPECT_FALSE(wants_logs(quiet));
  EXPECT_TRUE(wants_logs(warn));
  EXPECT_FALSE(note_wanted(quiet, note("error")));
  EXPECT_FALSE(note_wanted(warn, note("info")));
  EXPECT_TRUE(note_wanted(warn, note("warning")));
  EXPECT_TRUE(note_wanted(warn, note("emergency")));
  json::object progress = json::parse(R"({"method":"notifications/progress"})").as_object();
  EXPECT_TRUE(note_wanted(quiet, progress));
}

}  // namespace
}  // namespace gatehouse::mcp::modern
