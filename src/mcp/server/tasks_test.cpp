#include "mcp/server/tasks.hpp"

#include <gtest/gtest.h>

#include <set>

namespace gatehouse::mcp::tasks {
namespace {

jsonrpc::Message msg(std::string_view text) {
  auto p = jsonrpc::parse(text);
  EXPECT_TRUE(p.items[0].msg);
  return *p.items[0].msg;
}

json::object obj(std::string_view text) {
  return json::parse(text).as_object();
}

const Owner kAlice{"r1", "alice"};
const Owner kBob{"r1", "bob"};
constexpr int64_t kT0 = 1'780'000'000'000;  // some time in 2026

std::string make(Store& s, const Owner& o, int64_t now = kT0) {
  json::object created;
  std::string id = s.create(o, now, created);
  if (!id.empty()) {
    EXPECT_TRUE(s.attach(id, Upstream{"srv", "sess", "2025-11-25", "gh-task-1"}, {}));
  }
  return id;
}

TEST(Tasks, ToolSupportFromTheDefinition) {
  EXPECT_EQ(tool_support(obj(R"({"name":"a"})")), Support::kNone);
  EXPECT_EQ(tool_support(obj(R"({"execution":{"taskSupport":"forbidden"}})")), Support::kNone);
  EXPECT_EQ(tool_support(obj(R"({"execution":{"taskSupport":"optional"}})")), Support::kOptional);
  EXPECT_EQ(tool_support(obj(R"({"execution":{"taskSupport":"required"}})")), Support::kRequired);
  EXPECT_EQ(tool_support(obj(R"({"execution":{"taskSupport":true}})")), Support::kNone);
  EXPECT_EQ(tool_support(obj(R"({"execution":"required"})")), Support::kNone);
}

TEST(Tasks, DeclaredPerRequest) {
  EXPECT_TRUE(declared(msg(
      R"({"jsonrpc":"2.0","id":1,"method":"tasks/get","params":{"taskId":"x","_meta":{)"
      R"("io.modelcontextprotocol/clientCapabilities":{"extensions":{"io.modelcontextprotocol/tasks":{}}}}}})")));
  EXPECT_FALSE(
      declared(msg(R"({"jsonrpc":"2.0","id":1,"method":"tasks/get","params":{"_meta":{)"
                   R"("io.modelcontextprotocol/clientCapabilities":{"extensions":{}}}}})")));
  EXPECT_FALSE(declared(msg(
      R"({"jsonrpc":"2.0","id":1,"method":"tasks/get","params":{"_meta":{)"
      R"("io.modelcontextprotocol/clientCapabilities":{"extensions":{"io.modelcontextprotocol/tasks":true}}}}})")));
  EXPECT_FALSE(declared(msg(R"({"jsonrpc":"2.0","id":1,"method":"tasks/get"})")));
}

TEST(Tasks, ModeForACall) {
  Request rq;
  rq.modern = true;
  rq.msg = msg(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t"}})");
  json::object optional = obj(R"({"execution":{"taskSupport":"optional"}})");
  json::object required = obj(R"({"execution":{"taskSupport":"required"}})");
  EXPECT_EQ(mode_for(rq, &optional), Mode::kSync);
  EXPECT_EQ(mode_for(rq, &required), Mode::kRefuse);
  EXPECT_EQ(mode_for(rq, nullptr), Mode::kSync);
  rq.msg = msg(
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","_meta":{)"
      R"("io.modelcontextprotocol/clientCapabilities":{"extensions":{"io.modelcontextprotocol/tasks":{}}}}}})");
  EXPECT_EQ(mode_for(rq, &optional), Mode::kTask);
  EXPECT_EQ(mode_for(rq, &required), Mode::kTask);
  json::object none = obj(R"({"name":"t"})");
  EXPECT_EQ(mode_for(rq, &none), Mode::kSync);
  rq.modern = false;  // 2025-11-25 clients: never a gateway task
  EXPECT_EQ(mode_for(rq, &required), Mode::kSync);
}

TEST(Tasks, MissingCapabilityNamesTheExtension) {
  json::object e = obj(missing_capability(json::value(7), "no"));
  EXPECT_EQ(e.at("error").at("code").as_int64(), kMissingCapability);
  EXPECT_TRUE(e.at("error")
                  .at("data")
                  .at("requiredCapabilities")
                  .at("extensions")
                  .as_object()
                  .contains(kExtension));
}

TEST(Tasks, IsoTime) {
  EXPECT_EQ(iso_time(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso_time(1'780'000'000'123), "2026-05-28T20:26:40.123Z");
}

TEST(Tasks, IdsAreRandomAndCreationIsVisibleAtOnce) {
  Store s;
  std::set<std::string> ids;
  for (int i = 0; i < 200; ++i) {
    json::object created;
    std::string id = s.create(kAlice, kT0, created);
    ASSERT_EQ(id.size(), 22u);  // 128 bits, base64url
    EXPECT_EQ(
        id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos);
    EXPECT_EQ(created.at("taskId").as_string(), id);
    EXPECT_EQ(created.at("status").as_string(), "working");
    EXPECT_EQ(created.at("ttlMs").as_int64(), kTtlMs);
    EXPECT_EQ(created.at("pollIntervalMs").as_int64(), kPollIntervalMs);
    EXPECT_FALSE(created.contains("ttl"));
    EXPECT_TRUE(s.get(id, kAlice, kT0));
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 200u);
}

TEST(Tasks, BoundToRouteAndConsumer) {
  Store s;
  std::string id = make(s, kAlice);
  EXPECT_TRUE(s.get(id, kAlice, kT0));
  EXPECT_FALSE(s.get(id, kBob, kT0));
  EXPECT_FALSE(s.get(id, Owner{"r2", "alice"}, kT0));
  Upstream u;
  EXPECT_FALSE(s.update(id, kBob, json::object{}, kT0, u));
  std::shared_ptr<Call> call;
  EXPECT_EQ(s.cancel(id, kBob, kT0, u, call), Store::Cancel::kUnknown);
  EXPECT_EQ(s.get(id, kAlice, kT0)->at("status").as_string(), "working");
  EXPECT_FALSE(s.get("no-such-task", kAlice, kT0));
}

TEST(Tasks, CompletedInlinesTheResultWithoutRelatedTaskMeta) {
  Store s;
  std::string id = make(s, kAlice);
  EXPECT_TRUE(s.finish(
      id,
      obj(R"({"jsonrpc":"2.0","id":"gh-task-1","result":{"content":[{"type":"text","text":"hi"}],)"
          R"("isError":true,"resultType":"complete","_meta":{"io.modelcontextprotocol/related-task":{"taskId":"x"}}}})"),
      kT0 + 5));
  auto t = s.get(id, kAlice, kT0 + 6);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->at("status").as_string(), "completed");
  EXPECT_TRUE(t->at("result").at("isError").as_bool());  // a tool error is still completed
  EXPECT_FALSE(t->at("result").as_object().contains("_meta"));
  EXPECT_FALSE(t->at("result").as_object().contains("resultType"));
  EXPECT_FALSE(t->contains("error"));
  EXPECT_EQ(t->at("lastUpdatedAt").as_string(), iso_time(kT0 + 5));
  // Later answers change nothing.
  EXPECT_FALSE(s.fail(id, "late", kT0 + 7));
}

TEST(Tasks, AJsonRpcErrorFails) {
  Store s;
  std::string id = make(s, kAlice);
  EXPECT_TRUE(s.finish(id, obj(R"({"error":{"code":-32603,"message":"boom"}})"), kT0));
  auto t = s.get(id, kAlice, kT0);
  EXPECT_EQ(t->at("status").as_string(), "failed");
  EXPECT_EQ(t->at("error").at("code").as_int64(), -32603);
  EXPECT_EQ(t->at("statusMessage").as_string(), "boom");
  EXPECT_FALSE(t->contains("result"));
  std::string id2 = make(s, kAlice);
  EXPECT_TRUE(s.fail(id2, "transport broke", kT0));
  EXPECT_EQ(s.get(id2, kAlice, kT0)->at("error").at("message").as_string(), "transport broke");
}

TEST(Tasks, CancelIsIdempotentAndDropsTheLateAnswer) {
  Store s;
  std::string id = make(s, kAlice);
  Upstream u;
  std::shared_ptr<Call> call;
  EXPECT_EQ(s.cancel(id, kAlice, kT0, u, call), Store::Cancel::kCancelled);
  EXPECT_EQ(u.server, "srv");
  EXPECT_EQ(u.session_id, "sess");
  EXPECT_EQ(u.request_id.as_string(), "gh-task-1");
  EXPECT_EQ(s.cancel(id, kAlice, kT0, u, call), Store::Cancel::kTerminal);
  EXPECT_FALSE(s.finish(id, obj(R"({"result":{"content":[]}})"), kT0));
  EXPECT_EQ(s.get(id, kAlice, kT0)->at("status").as_string(), "cancelled");
  std::string done = make(s, kAlice);
  s.finish(done, obj(R"({"result":{"content":[]}})"), kT0);
  EXPECT_EQ(s.cancel(done, kAlice, kT0, u, call), Store::Cancel::kTerminal);
  EXPECT_EQ(s.get(done, kAlice, kT0)->at("status").as_string(), "completed");
}

TEST(Tasks, CancelBeforeTheCallStarted) {
  Store s;
  json::object created;
  std::string id = s.create(kAlice, kT0, created);
  Upstream u;
  std::shared_ptr<Call> call;
  EXPECT_EQ(s.cancel(id, kAlice, kT0, u, call), Store::Cancel::kCancelled);
  EXPECT_TRUE(u.server.empty());  // nothing went upstream yet
  EXPECT_FALSE(s.attach(id, Upstream{"srv", "", "", "gh-task-2"}, {}));  // its runner stops
}

TEST(Tasks, InputRequestsAndPartialUpdates) {
  Store s;
  std::string id = make(s, kAlice);
  std::string k1 = s.ask(id, obj(R"({"method":"elicitation/create","params":{"message":"a"}})"),
                         json::value(7), kT0 + 1);
  std::string k2 = s.ask(id, obj(R"({"method":"elicitation/create","params":{"message":"b"}})"),
                         json::value("u8"), kT0 + 1);
  ASSERT_FALSE(k1.empty());
  EXPECT_NE(k1, k2);
  auto t = s.get(id, kAlice, kT0 + 2);
  EXPECT_EQ(t->at("status").as_string(), "input_required");
  EXPECT_EQ(t->at("inputRequests").as_object().size(), 2u);
  EXPECT_EQ(t->at("inputRequests").at(k1).at("method").as_string(), "elicitation/create");
  // One answer (and an unknown key, ignored): still waiting for the other.
  Upstream u;
  json::object responses{{k1, json::object{{"action", "accept"}}}, {"input-99", json::object{}}};
  auto answers = s.update(id, kAlice, responses, kT0 + 3, u);
  ASSERT_TRUE(answers);
  ASSERT_EQ(answers->size(), 1u);
  EXPECT_EQ((*answers)[0].upstream_id.as_int64(), 7);
  EXPECT_EQ((*answers)[0].result.at("action").as_string(), "accept");
  EXPECT_EQ(u.session_id, "sess");
  t = s.get(id, kAlice, kT0 + 3);
  EXPECT_EQ(t->at("status").as_string(), "input_required");
  EXPECT_FALSE(t->at("inputRequests").as_object().contains(k1));
  EXPECT_TRUE(t->at("inputRequests").as_object().contains(k2));
  // An answered key is not outstanding any more.
  EXPECT_TRUE(s.update(id, kAlice, responses, kT0 + 3, u)->empty());
  answers = s.update(id, kAlice, json::object{{k2, json::object{}}}, kT0 + 4, u);
  EXPECT_EQ(answers->size(), 1u);
  EXPECT_EQ(s.get(id, kAlice, kT0 + 4)->at("status").as_string(), "working");
  EXPECT_FALSE(s.get(id, kAlice, kT0 + 4)->contains("inputRequests"));
  // Keys are never reused within a task.
  std::string k3 = s.ask(id, obj(R"({"method":"roots/list"})"), json::value(9), kT0 + 5);
  EXPECT_NE(k3, k1);
  EXPECT_NE(k3, k2);
  // Cancelling an input_required task works; asking a finished one does not.
  std::shared_ptr<Call> call;
  EXPECT_EQ(s.cancel(id, kAlice, kT0 + 6, u, call), Store::Cancel::kCancelled);
  EXPECT_TRUE(s.ask(id, obj(R"({"method":"roots/list"})"), json::value(10), kT0 + 7).empty());
}

TEST(Tasks, ExpireAfterTheirTtlNotBefore) {
  Store s(Store::Limits{10, 10, 1000, 100});
  std::string id = make(s, kAlice);
  EXPECT_TRUE(s.get(id, kAlice, kT0 + 999));
  EXPECT_FALSE(s.get(id, kAlice, kT0 + 1000));
  EXPECT_FALSE(s.finish(id, obj(R"({"result":{}})"), kT0 + 1001));
  EXPECT_EQ(s.size(), 0u);
}

TEST(Tasks, BoundedPerConsumerAndRoute) {
  Store s(Store::Limits{3, 2, 1000, 100});
  EXPECT_FALSE(make(s, kAlice).empty());
  EXPECT_FALSE(make(s, kAlice).empty());
  EXPECT_TRUE(make(s, kAlice).empty());  // alice's bound
  EXPECT_FALSE(make(s, kBob).empty());
  EXPECT_TRUE(make(s, kBob).empty());                 // the route's bound
  EXPECT_FALSE(make(s, Owner{"r2", "bob"}).empty());  // another route
  // Finished tasks count until they expire; then the room comes back.
  EXPECT_TRUE(make(s, kBob, kT0 + 999).empty());
  EXPECT_FALSE(make(s, kBob, kT0 + 1000).empty());
  EXPECT_FALSE(make(s, kAlice, kT0 + 1000).empty());
}

TEST(Tasks, SettlesAfterTheWindowFromTheStartOrTheLastAnswer) {
  Settle settle(1000);
  EXPECT_EQ(settle.left(1000), kSettleMs);
  EXPECT_EQ(settle.left(1000 + kSettleMs - 1), 1);
  EXPECT_EQ(settle.left(1000 + kSettleMs), 0);  // quiet that long: the call proceeds
  EXPECT_EQ(settle.left(1000 + 10 * kSettleMs), 0);
  settle.restart(5000);  // the upstream got an answer: it may ask again
  EXPECT_EQ(settle.left(5000), kSettleMs);
  Settle short_window(0, 10);
  EXPECT_EQ(short_window.left(4), 6);
  EXPECT_EQ(short_window.left(11), 0);
}

TEST(Tasks, CreationResultLeavesOutWhatOnlyTasksGetCarries) {
  Store s;
  std::string id = make(s, kAlice);
  // A call that answered before it settled: the task is created finished,
  // and the CreateTaskResult says so without the result.
  ASSERT_TRUE(s.finish(
      id, obj(R"({"result":{"content":[{"type":"text","text":"Hello, Alice!"}]}})"), kT0 + 1));
  json::object created = creation_result(*s.get(id, kAlice, kT0 + 2));
  EXPECT_EQ(created.at("resultType").as_string(), "task");
  EXPECT_EQ(created.at("taskId").as_string(), id);
  EXPECT_EQ(created.at("status").as_string(), "completed");
  for (const char* k : {"result", "error", "inputRequests", "requestState"})
    EXPECT_FALSE(created.contains(k)) << k;
  EXPECT_TRUE(created.contains("ttlMs"));
  EXPECT_TRUE(created.contains("pollIntervalMs"));
  // tasks/get still inlines it.
  EXPECT_EQ(s.get(id, kAlice, kT0 + 3)->at("result").at("content").at(0).at("text").as_string(),
            "Hello, Alice!");

  std::string id2 = make(s, kAlice);
  ASSERT_TRUE(s.finish(id2, obj(R"({"error":{"code":-32602,"message":"bad"}})"), kT0 + 1));
  created = creation_result(*s.get(id2, kAlice, kT0 + 2));
  EXPECT_EQ(created.at("status").as_string(), "failed");
  EXPECT_FALSE(created.contains("error"));

  std::string id3 = make(s, kAlice);
  ASSERT_FALSE(s.ask(id3, obj(R"({"method":"elicitation/create"})"), 7, kT0 + 1).empty());
  created = creation_result(*s.get(id3, kAlice, kT0 + 2));
  EXPECT_EQ(created.at("status").as_string(), "input_required");
  EXPECT_FALSE(created.contains("inputRequests"));
}

TEST(Tasks, UpstreamCallIdsAreUniqueAndNeverTaskIds) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    json::value id = call_id();
    ASSERT_TRUE(id.is_string());
    EXPECT_TRUE(id.as_string().starts_with("gh-task-"));
    EXPECT_TRUE(seen.insert(std::string(id.as_string())).second);
  }
}

}  // namespace
}  // namespace gatehouse::mcp::tasks
