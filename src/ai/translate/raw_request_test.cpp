// Same-format requests: the client's bytes with only `model` (and a streamed
// Chat call's stream_options) replaced.
#include "ai/translate/raw_request.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace gatehouse::ai {
namespace {

namespace json = boost::json;

TEST(RawRequest, ScansTopLevelMembersWithNesting) {
  std::string t = R"( {"a": {"x": [1, "}", {"y": "\"]"}]}, "b":true ,"c" : -1.5e3, "d":"q\\"} )";
  auto m = scan_top_level(t);
  ASSERT_TRUE(m);
  ASSERT_EQ(m->size(), 4u);
  EXPECT_EQ((*m)[0].key, "a");
  EXPECT_EQ(t.substr((*m)[0].value_begin, (*m)[0].value_end - (*m)[0].value_begin),
            R"({"x": [1, "}", {"y": "\"]"}]})");
  EXPECT_EQ(t.substr((*m)[1].value_begin, (*m)[1].value_end - (*m)[1].value_begin), "true");
  EXPECT_EQ(t.substr((*m)[2].value_begin, (*m)[2].value_end - (*m)[2].value_begin), "-1.5e3");
  EXPECT_EQ((*m)[3].key, "d");
  EXPECT_EQ(t.substr((*m)[3].value_begin, (*m)[3].value_end - (*m)[3].value_begin), R"("q\\")");
}

TEST(RawRequest, RefusesWhatIsNotOneObject) {
  EXPECT_FALSE(scan_top_level("[1]"));
  EXPECT_FALSE(scan_top_level(R"({"a":1} x)"));
  EXPECT_FALSE(scan_top_level(R"({"a":1)"));
  EXPECT_FALSE(scan_top_level(R"({"a":"cut)"));
  EXPECT_FALSE(scan_top_level(R"({"a" 1})"));
  EXPECT_FALSE(scan_top_level(R"({"a":})"));
  auto empty = scan_top_level(" {} ");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST(RawRequest, ReplacesOnlyTheModelKeepingEveryOtherByte) {
  std::string body =
      "{\n  \"model\": \"smart\",\n  \"temperature\": 0.70,\n  \"response_format\": "
      "{\"type\": \"json_object\"},\n  \"seed\": 42, \"messages\": [{\"role\":\"user\","
      "\"content\":\"hi\"}]\n}";
  auto out = rewrite_same_format(body, "gpt-4o-mini", false);
  ASSERT_TRUE(out);
  std::string want = body;
  want.replace(want.find("\"smart\""), 7, "\"gpt-4o-mini\"");
  EXPECT_EQ(*out, want);  // 0.70 stays 0.70, the layout stays the client's
}

TEST(RawRequest, EscapesTheModelName) {
  auto out = rewrite_same_format(R"({"model":"a","messages":[]})", "we\"ird\\name", false);
  ASSERT_TRUE(out);
  EXPECT_EQ(json::parse(*out).at("model").as_string(), "we\"ird\\name");
}

TEST(RawRequest, ForcesTheUsageChunkOnStreamedChat) {
  auto added = rewrite_same_format(R"({"messages":[],"model":"m","stream":true})", "x", true);
  ASSERT_TRUE(added);
  EXPECT_EQ(*added,
            R"({"stream_options":{"include_usage":true},"messages":[],"model":"x","stream":true})");

  auto merged = rewrite_same_format(
      R"({"model":"m","stream":true,"stream_options":{"include_usage":false,"x":1}})", "x", true);
  ASSERT_TRUE(merged);
  json::value v = json::parse(*merged);
  EXPECT_EQ(v.at("stream_options").at("include_usage").as_bool(), true);
  EXPECT_EQ(v.at("stream_options").at("x").as_int64(), 1);

  std::string asked = R"({"model":"m","stream":true,"stream_options": {"include_usage": true}})";
  auto kept = rewrite_same_format(asked, "m", true);
  ASSERT_TRUE(kept);
  EXPECT_EQ(*kept, asked);  // already asked: untouched
}

TEST(RawRequest, FallsBackWhenItCannotRewriteInPlace) {
  EXPECT_FALSE(rewrite_same_format(R"({"messages":[]})", "m", false));            // no model
  EXPECT_FALSE(rewrite_same_format(R"({"model":"a","model":"b"})", "m", false));  // twice
  EXPECT_FALSE(rewrite_same_format(R"({"mod\u0065l":"a","x":1})", "m", false));   // escaped key
  EXPECT_FALSE(rewrite_same_format(R"([{"model":"a"}])", "m", false));            // not an object
}

}  // namespace
}  // namespace gatehouse::ai
