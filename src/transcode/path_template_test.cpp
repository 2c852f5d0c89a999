#include "transcode/path_template.hpp"

#include <gtest/gtest.h>

#include "transcode/query.hpp"
#include "transcode/status.hpp"

namespace gatehouse::transcode {

namespace {

std::vector<std::string> values(const PathTemplate& t, std::string_view path, bool& ok) {
  std::vector<Capture> caps;
  ok = match_path(t, path, caps);
  std::vector<std::string> out;
  for (const auto& c : caps) out.push_back(c.value);
  return out;
}

PathTemplate parsed(std::string_view s) {
  auto r = parse_path_template(s);
  EXPECT_TRUE(r.ok()) << s << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? r.value() : PathTemplate{};
}

}  // namespace

TEST(PathTemplate, ParsesVariablesAndVerb) {
  auto t = parsed("/v1/{name=shelves/*/books/*}:publish");
  ASSERT_EQ(t.segments.size(), 5u);
  EXPECT_EQ(t.verb, "publish");
  ASSERT_EQ(t.variables.size(), 1u);
  EXPECT_EQ(t.variables[0].field_path, std::vector<std::string>{"name"});
  EXPECT_EQ(t.variables[0].first, 1u);
  EXPECT_EQ(t.variables[0].last, 5u);
  auto n = parsed("/v1/{a.b.c}/x");
  ASSERT_EQ(n.variables.size(), 1u);
  EXPECT_EQ(n.variables[0].field_path, (std::vector<std::string>{"a", "b", "c"}));
}

TEST(PathTemplate, RejectsMalformed) {
  for (const char* bad :
       {"", "v1/x", "/v1/{", "/v1/{}", "/v1/{a=}", "/v1/{a={b}}", "/v1//x", "/v1/**/x",
        "/v1/x:", "/v1/{1a}", "/v1/{a}/{a}", "/v1/x y", "/v1/{a=**}/b"}) {
    auto r = parse_path_template(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.error().message.find("column"), std::string::npos) << bad;
    }
  }
}

TEST(PathTemplate, MatchesSingleSegmentVariables) {
  auto t = parsed("/v1/shelves/{shelf}/items/{id}");
  bool ok = false;
  auto v = values(t, "/v1/shelves/s1/items/a%20b", ok);
  ASSERT_TRUE(ok);
  EXPECT_EQ(v, (std::vector<std::string>{"s1", "a b"}));
  values(t, "/v1/shelves/s1/items", ok);
  EXPECT_FALSE(ok);
  values(t, "/v1/shelves/s1/items/x/y", ok);
  EXPECT_FALSE(ok);
  values(t, "/v1/shelves//items/x", ok);
  EXPECT_FALSE(ok);  // '*' needs a non-empty segment
  values(t, "/v1/shelves/s1/items/x:cancel", ok);
  EXPECT_FALSE(ok);  // another method's custom verb
}

TEST(PathTemplate, MatchesMultiSegmentAndDoubleStar) {
  auto t = parsed("/v1/{name=shelves/*}/items/{item.id}");
  bool ok = false;
  auto v = values(t, "/v1/shelves/s9/items/i1", ok);
  ASSERT_TRUE(ok);
  EXPECT_EQ(v, (std::vector<std::string>{"shelves/s9", "i1"}));
  values(t, "/v1/racks/s9/items/i1", ok);
  EXPECT_FALSE(ok);
  auto d = parsed("/v1/files/{path=**}");
  v = values(d, "/v1/files/a/b/c.txt", ok);
  ASSERT_TRUE(ok);
  EXPECT_EQ(v, std::vector<std::string>{"a/b/c.txt"});
  v = values(d, "/v1/files/one", ok);
  ASSERT_TRUE(ok);
  EXPECT_EQ(v, std::vector<std::string>{"one"});
}

TEST(PathTemplate, MatchesVerb) {
  auto t = parsed("/v1/items/{id}:flat");
  bool ok = false;
  auto v = values(t, "/v1/items/7:flat", ok);
  ASSERT_TRUE(ok);
  EXPECT_EQ(v, std::vector<std::string>{"7"});
  values(t, "/v1/items/7", ok);
  EXPECT_FALSE(ok);
  values(t, "/v1/items/7:other", ok);
  EXPECT_FALSE(ok);
}

TEST(PathTemplate, BadEscapeInCaptureDoesNotMatch) {
  auto t = parsed("/v1/{id}");
  bool ok = true;
  values(t, "/v1/%zz", ok);
  EXPECT_FALSE(ok);
}

TEST(Query, DecodesPairs) {
  auto q = parse_query("a=1&b.c=x+y&&tags=a&tags=b%26c&flag");
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(q->size(), 5u);
  EXPECT_EQ((*q)[1], (std::pair<std::string, std::string>{"b.c", "x y"}));
  EXPECT_EQ((*q)[3].second, "b&c");
  EXPECT_EQ((*q)[4], (std::pair<std::string, std::string>{"flag", ""}));
  auto bad = parse_query("a=%4");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "a");
  EXPECT_FALSE(parse_query("=1").ok());
  EXPECT_TRUE(parse_query("")->empty());
}

TEST(Status, MapsGrpcToHttp) {
  EXPECT_EQ(http_status_for_grpc(0), 200);
  EXPECT_EQ(http_status_for_grpc(3), 400);
  EXPECT_EQ(http_status_for_grpc(4), 504);
  EXPECT_EQ(http_status_for_grpc(5), 404);
  EXPECT_EQ(http_status_for_grpc(6), 409);
  EXPECT_EQ(http_status_for_grpc(7), 403);
  EXPECT_EQ(http_status_for_grpc(8), 429);
  EXPECT_EQ(http_status_for_grpc(9), 400);
  EXPECT_EQ(http_status_for_grpc(12), 501);
  EXPECT_EQ(http_status_for_grpc(14), 503);
  EXPECT_EQ(http_status_for_grpc(16), 401);
  EXPECT_EQ(http_status_for_grpc(99), 500);
  EXPECT_EQ(grpc_code_name(5), "NOT_FOUND");
  EXPECT_EQ(grpc_code_name(-1), "UNKNOWN");
}

}  // namespace gatehouse::transcode
