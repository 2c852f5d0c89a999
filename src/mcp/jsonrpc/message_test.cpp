#include "mcp/jsonrpc/message.hpp"

#include <gtest/gtest.h>

namespace gatehouse::mcp::jsonrpc {
namespace {

const Parsed::Item& one(const Parsed& p) {
  EXPECT_FALSE(p.batch);
  EXPECT_EQ(p.items.size(), 1u);
  return p.items.front();
}

TEST(JsonRpc, ClassifiesRequestNotificationAndResponses) {
  auto r = parse(R"({"jsonrpc":"2.0","id":7,"method":"tools/list","params":{"cursor":"x"}})");
  ASSERT_TRUE(one(r).msg);
  EXPECT_EQ(one(r).msg->kind, Kind::kRequest);
  EXPECT_EQ(one(r).msg->method, "tools/list");
  EXPECT_EQ(one(r).msg->id.as_int64(), 7);
  ASSERT_NE(one(r).msg->params(), nullptr);

  auto n = parse(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  ASSERT_TRUE(one(n).msg);
  EXPECT_TRUE(one(n).msg->is_notification());
  EXPECT_EQ(one(n).msg->params(), nullptr);

  auto ok = parse(R"({"jsonrpc":"2.0","id":"a","result":{}})");
  ASSERT_TRUE(one(ok).msg);
  EXPECT_EQ(one(ok).msg->kind, Kind::kResult);

  auto err = parse(R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"bad"}})");
  ASSERT_TRUE(one(err).msg);
  EXPECT_EQ(one(err).msg->kind, Kind::kError);
  EXPECT_EQ(one(err).msg->error_code, -32600);
  EXPECT_EQ(one(err).msg->error_message, "bad");
}

TEST(JsonRpc, InvalidJsonIsParseError) {
  auto p = parse(R"({"jsonrpc":"2.0",)");
  EXPECT_FALSE(one(p).msg);
  EXPECT_EQ(one(p).fail.code, kParseError);
  EXPECT_TRUE(one(p).fail.id.is_null());
}

TEST(JsonRpc, InvalidRequestsKeepTheirIdWhenReadable) {
  struct Case {
    const char* body;
    const char* why;
    bool has_id;
  } cases[] = {
      {R"({"jsonrpc":"1.0","id":3,"method":"ping"})", "\"jsonrpc\" must be exactly \"2.0\"", true},
      {R"({"id":3,"method":"ping"})", "\"jsonrpc\" must be exactly \"2.0\"", true},
      {R"({"jsonrpc":"2.0","id":3,"method":5})", "\"method\" must be a string", true},
      {R"({"jsonrpc":"2.0","id":null,"method":"ping"})", "\"id\" must be a string or an integer",
       false},
      {R"({"jsonrpc":"2.0","id":1.5,"method":"ping"})", "\"id\" must be a string or an integer",
       false},
      {R"({"jsonrpc":"2.0","id":3,"method":"ping","params":1})",
       "\"params\" must be an object or an array", true},
      {R"({"jsonrpc":"2.0","id":3,"result":{},"error":{"code":1,"message":"x"}})",
       "a response has either \"result\" or \"error\", not both", true},
      {R"({"jsonrpc":"2.0","id":3,"error":{"code":"x","message":"x"}})",
       "\"error\" must be an object with an integer \"code\" and a string \"message\"", true},
      {R"({"jsonrpc":"2.0","id":3})",
       "not a request (no \"method\") nor a response (no \"result\" or \"error\")", true},
      {R"([1])", "a JSON-RPC message must be an object", false},
  };
  for (const auto& c : cases) {
    auto p = parse(c.body);
    ASSERT_EQ(p.items.size(), 1u) << c.body;
    const auto& it = p.items[0];
    EXPECT_FALSE(it.msg) << c.body;
    EXPECT_EQ(it.fail.code, kInvalidRequest) << c.body;
    EXPECT_EQ(it.fail.message, c.why) << c.body;
    EXPECT_EQ(!it.fail.id.is_null(), c.has_id) << c.body;
  }
}

TEST(JsonRpc, Batches) {
  auto p = parse(R"([{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"x"},{}])");
  EXPECT_TRUE(p.batch);
  ASSERT_EQ(p.items.size(), 3u);
  EXPECT_TRUE(p.items[0].msg && p.items[0].msg->is_request());
  EXPECT_TRUE(p.items[1].msg && p.items[1].msg->is_notification());
  EXPECT_FALSE(p.items[2].msg);

  auto empty = parse("[]");
  EXPECT_FALSE(empty.batch);
  EXPECT_EQ(empty.items[0].fail.code, kInvalidRequest);

  ParseLimits small;
  small.max_batch = 1;
  auto big = parse(R"([{"jsonrpc":"2.0","method":"x"},{"jsonrpc":"2.0","method":"y"}])", small);
  EXPECT_FALSE(big.batch);
  EXPECT_EQ(big.items[0].fail.code, kInvalidRequest);
}

TEST(JsonRpc, DepthIsBounded) {
  std::string deep(200, '[');
  deep += std::string(200, ']');
  auto p = parse(deep);
  EXPECT_EQ(p.items[0].fail.code, kParseError);
}

TEST(JsonRpc, Serialisers) {
  EXPECT_EQ(error_response(json::value(nullptr), kParseError, "bad"),
            R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"bad"}})");
  EXPECT_EQ(result_response(json::value("x"), json::object{}),
            R"({"jsonrpc":"2.0","id":"x","result":{}})");
  EXPECT_EQ(json::serialize(make_notification("notifications/initialized", {})),
            R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
}

}  // namespace
}  // namespace gatehouse::mcp::jsonrpc
