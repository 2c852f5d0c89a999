#include "transcode/transcoder.hpp"

#include <google/protobuf/unknown_field_set.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <map>

namespace gatehouse::transcode {

namespace {

// The fixture's descriptor set, compiled once with protoc (as users do).
const std::string& shelf_pb() {
  static const std::string path = [] {
    std::string out = (std::filesystem::temp_directory_path() /
                       ("gatehouse-shelf-" + std::to_string(::getpid()) + ".pb"))
                          .string();
    std::string cmd = std::string("protoc -I ") + GATEHOUSE_SOURCE_DIR +
                      "/tests/fixtures/transcode -I "
                      "/usr/share/gocode/src/github.com/gogo/googleapis --include_imports "
                      "--descriptor_set_out=" +
                      out + " shelf.proto";
    if (std::system(cmd.c_str()) != 0) return std::string();
    return out;
  }();
  return path;
}

config::RouteGrpcTranscodeConfig base() {
  config::RouteGrpcTranscodeConfig c;
  c.descriptor = shelf_pb();
  return c;
}

std::shared_ptr<const Transcoder> build(const config::RouteGrpcTranscodeConfig& c) {
  std::vector<BuildProblem> p;
  auto t = Transcoder::build(c, p);
  for (const auto& x : p) ADD_FAILURE() << x.where << ": " << x.message;
  return t;
}

// True when the request converts (failures are reported).
bool builds(const Transcoder& t, std::string_view verb, std::string_view path,
            std::string_view query, std::string_view body) {
  auto m = t.match(verb, path);
  EXPECT_NE(m.binding, nullptr) << verb << " " << path;
  if (!m.binding) return false;
  std::string bytes;
  Problem why;
  bool ok = t.request(m, query, body, bytes, why);
  EXPECT_TRUE(ok) << why.message;
  return ok && !bytes.empty();
}

}  // namespace

class TranscoderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (shelf_pb().empty()) GTEST_SKIP() << "protoc or googleapis protos missing";
  }
};

TEST_F(TranscoderTest, ReadsAnnotationsAndAdditionalBindings) {
  auto t = build(base());
  ASSERT_TRUE(t);
  auto m = t->match("GET", "/v1/items/abc");
  ASSERT_NE(m.binding, nullptr);
  EXPECT_EQ(m.method->grpc_path, "/gh.test.v1.Shelf/GetItem");
  m = t->match("GET", "/v1/shelves/s1/items:flat");
  ASSERT_NE(m.binding, nullptr);
  EXPECT_EQ(m.binding->response_body, "items");
  m = t->match("GET", "/v1/shelves/s1/watch");
  ASSERT_NE(m.binding, nullptr);
  EXPECT_TRUE(m.method->server_streaming);
  m = t->match("DELETE", "/v1/items/abc");
  EXPECT_EQ(m.binding, nullptr);
  EXPECT_TRUE(m.path_known);
  m = t->match("GET", "/v2/nothing");
  EXPECT_EQ(m.binding, nullptr);
  EXPECT_FALSE(m.path_known);
  EXPECT_EQ(t->match("POST", "/gh.test.v1.Shelf/Plain").binding, nullptr);
}

TEST_F(TranscoderTest, RequestFromPathQueryAndBody) {
  auto t = build(base());
  ASSERT_TRUE(t);
  EXPECT_TRUE(builds(*t, "GET", "/v1/shelves/s1/items",
                     "tags=a&tags=b&color=RED&filter.owner=x&active=true&count=12", ""));
  auto m = t->match("GET", "/v1/shelves/s1/items");
  std::string bytes;
  Problem why;
  EXPECT_FALSE(t->request(m, "nosuch=1", "", bytes, why));
  EXPECT_EQ(why.status, 400);
  EXPECT_EQ(why.field, "nosuch");
  EXPECT_FALSE(t->request(m, "active=maybe", "", bytes, why));
  EXPECT_EQ(why.field, "active");
  EXPECT_FALSE(t->request(m, "page_size=abc", "", bytes, why));
  EXPECT_FALSE(t->request(m, "color=PURPLE", "", bytes, why));
  auto post = t->match("POST", "/v1/echo");
  ASSERT_NE(post.binding, nullptr);
  EXPECT_FALSE(t->request(post, "", "{\"id\": ", bytes, why));
  EXPECT_EQ(why.code, "invalid_json");
  EXPECT_FALSE(t->request(post, "", "[1]", bytes, why));
  EXPECT_FALSE(t->request(post, "", "{\"nope\": 1}", bytes, why));
  EXPECT_TRUE(
      t->request(post, "", "{\"id\": \"x\", \"displayName\": \"y\", \"count\": \"5\"}", bytes, why))
      << why.message;
  // The body field cannot carry other fields: it is one JSON value.
  auto create = t->match("POST", "/v1/shelves/s1/items");
  ASSERT_NE(create.binding, nullptr);
  EXPECT_TRUE(t->request(create, "", "{\"id\": \"i\"}", bytes, why)) << why.message;
}

TEST_F(TranscoderTest, IgnoresUnknownQueryWhenAsked) {
  auto c = base();
  c.ignore_unknown_query_parameters = true;
  auto t = build(c);
  ASSERT_TRUE(t);
  auto m = t->match("GET", "/v1/shelves/s1/items");
  std::string bytes;
  Problem why;
  EXPECT_TRUE(t->request(m, "nosuch=1&_=123", "", bytes, why)) << why.message;
}

TEST_F(TranscoderTest, ExplicitMappingAndServiceFilter) {
  auto c = base();
  c.services = {"gh.test.v1.Shelf"};
  c.mapping.push_back({"gh.test.v1.Shelf/Plain", "GET", "/v1/plain/{id}", "", ""});
  auto t = build(c);
  ASSERT_TRUE(t);
  auto m = t->match("GET", "/v1/plain/7");
  ASSERT_NE(m.binding, nullptr);
  EXPECT_EQ(m.method->grpc_path, "/gh.test.v1.Shelf/Plain");
}

TEST_F(TranscoderTest, ConfigProblemsNameTheirField) {
  auto c = base();
  c.services = {"gh.test.v1.Nope"};
  c.mapping.push_back({"gh.test.v1.Shelf/Nope", "GET", "/x", "", ""});
  c.mapping.push_back({"gh.test.v1.Shelf/Plain", "GET", "/x/{", "", ""});
  c.mapping.push_back({"gh.test.v1.Shelf/Plain", "GET", "/x/{nosuch}", "", ""});
  c.mapping.push_back({"gh.test.v1.Shelf/Plain", "POST", "/y", "nosuch", ""});
  std::vector<BuildProblem> p;
  EXPECT_FALSE(Transcoder::build(c, p));
  ASSERT_EQ(p.size(), 5u);
  EXPECT_EQ(p[0].where, "services[0]");
  EXPECT_NE(p[0].message.find("gh.test.v1.Shelf"), std::string::npos) << p[0].message;
  EXPECT_EQ(p[1].where, "mapping[0].method");
  EXPECT_EQ(p[2].where, "mapping[1].get");
  EXPECT_EQ(p[3].where, "mapping[2].get");
  EXPECT_EQ(p[4].where, "mapping[3].body");
  auto missing = base();
  missing.descriptor = "/nonexistent/x.pb";
  p.clear();
  EXPECT_FALSE(Transcoder::build(missing, p));
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].where, "descriptor");
}

TEST_F(TranscoderTest, ResponseAndErrorJson) {
  auto c = base();
  auto t = build(c);
  ASSERT_TRUE(t);
  // Build an Item through the request direction of Echo (body "*").
  auto echo = t->match("POST", "/v1/echo");
  std::string bytes;
  Problem why;
  ASSERT_TRUE(t->request(
      echo, "", R"({"id":"x","display_name":"n","count":"5","color":"GREEN","tags":["a"]})", bytes,
      why));
  std::string json;
  ASSERT_TRUE(t->response(echo, bytes, json, why)) << why.message;
  auto v = boost::json::parse(json);
  EXPECT_EQ(v.at("displayName"), "n");
  EXPECT_EQ(v.at("count"), "5");
  EXPECT_EQ(v.at("color"), "GREEN");
  EXPECT_FALSE(t->response(echo, std::string_view("\x0a\x05" "ab", 4), json, why));  // cut field
  auto body = boost::json::parse(t->error_body(5, "gone", ""));
  EXPECT_EQ(body.at("code"), 5);
  EXPECT_EQ(body.at("message"), "gone");
  EXPECT_TRUE(body.at("details").as_array().empty());
}

TEST_F(TranscoderTest, PrintOptions) {
  auto c = base();
  c.enums_as_ints = true;
  c.preserve_proto_field_names = true;
  c.always_print_primitive_fields = true;
  auto t = build(c);
  ASSERT_TRUE(t);
  auto echo = t->match("POST", "/v1/echo");
  std::string bytes, json;
  Problem why;
  ASSERT_TRUE(t->request(echo, "", R"({"displayName":"n","color":"GREEN"})", bytes, why));
  ASSERT_TRUE(t->response(echo, bytes, json, why)) << why.message;
  auto v = boost::json::parse(json);
  EXPECT_EQ(v.at("color"), 2);
  EXPECT_EQ(v.at("display_name"), "n");
  EXPECT_EQ(v.at("active"), false);  // a default, printed
  EXPECT_EQ(v.at("count"), "0");
  // An unset response_body field prints as its default ([] when repeated).
  auto flat = t->match("GET", "/v1/shelves/s/items:flat");
  ASSERT_TRUE(t->response(flat, "", json, why));
  EXPECT_EQ(json, "[]");
}

TEST_F(TranscoderTest, HttpBodyBindingsAreRaw) {
  auto t = build(base());
  ASSERT_TRUE(t);
  auto up = t->match("POST", "/v1/shelves/s1/files");
  ASSERT_NE(up.binding, nullptr);
  EXPECT_TRUE(up.binding->raw_request);
  EXPECT_FALSE(up.binding->raw_response);
  auto echo = t->match("POST", "/v1/raw-echo");
  ASSERT_NE(echo.binding, nullptr);
  EXPECT_TRUE(echo.binding->raw_request);
  EXPECT_TRUE(echo.binding->raw_response);
  auto att = t->match("GET", "/v1/attachments/a1");
  ASSERT_NE(att.binding, nullptr);
  EXPECT_FALSE(att.binding->raw_request);
  EXPECT_TRUE(att.binding->raw_response);
  // JSON bindings stay JSON.
  auto create = t->match("POST", "/v1/shelves/s1/items");
  EXPECT_FALSE(create.binding->raw_request);
  EXPECT_FALSE(create.binding->raw_response);
}

TEST_F(TranscoderTest, HttpBodyRequestTakesBytesAsSent) {
  auto t = build(base());
  ASSERT_TRUE(t);
  namespace pb = google::protobuf;
  // The body field: raw bytes and content type in `file`, the path and
  // query fields beside it; bytes that are not JSON (or UTF-8) pass.
  const std::string data("\x00\xff{not json", 11);
  auto up = t->match("POST", "/v1/shelves/s1/files");
  std::string bytes;
  Problem why;
  ASSERT_TRUE(t->request(up, "name=n%201", data, bytes, why, "image/png")) << why.message;
  pb::UnknownFieldSet msg;
  ASSERT_TRUE(msg.ParseFromString(bytes));
  std::map<int, std::string> top;
  for (int i = 0; i < msg.field_count(); ++i)
    top[msg.field(i).number()] = msg.field(i).length_delimited();
  EXPECT_EQ(top[1], "s1");
  EXPECT_EQ(top[2], "n 1");
  pb::UnknownFieldSet file;
  ASSERT_TRUE(file.ParseFromString(top[3]));
  ASSERT_EQ(file.field_count(), 2);
  EXPECT_EQ(file.field(0).number(), 1);
  EXPECT_EQ(file.field(0).length_delimited(), "image/png");
  EXPECT_EQ(file.field(1).number(), 2);
  EXPECT_EQ(file.field(1).length_delimited(), data);
  // The query cannot reach into the raw field, and unknown parameters are
  // still refused.
  EXPECT_TRUE(t->request(up, "file.content_type=x", data, bytes, why, "a/b")) << why.message;
  EXPECT_FALSE(t->request(up, "nosuch=1", data, bytes, why, "a/b"));
  EXPECT_EQ(why.field, "nosuch");
  // No body and no content type: the field stays unset.
  ASSERT_TRUE(t->request(up, "", "", bytes, why));
  ASSERT_TRUE(msg.ParseFromString(bytes));
  for (int i = 0; i < msg.field_count(); ++i) EXPECT_NE(msg.field(i).number(), 3);
}

TEST_F(TranscoderTest, HttpBodyResponseRoundTrip) {
  auto t = build(base());
  ASSERT_TRUE(t);
  // EchoRaw: HttpBody in (body "*"), HttpBody out.
  auto echo = t->match("POST", "/v1/raw-echo");
  std::string bytes;
  Problem why;
  const std::string data("line 1\n\x01\x02", 9);
  ASSERT_TRUE(t->request(echo, "", data, bytes, why, "text/csv; charset=utf-8"));
  std::string type, out;
  ASSERT_TRUE(t->raw_response(echo, bytes, type, out, why)) << why.message;
  EXPECT_EQ(type, "text/csv; charset=utf-8");
  EXPECT_EQ(out, data);
  // An empty HttpBody: no type, no bytes.
  ASSERT_TRUE(t->raw_response(echo, "", type, out, why));
  EXPECT_EQ(type, "");
  EXPECT_EQ(out, "");
  // A cut message is an error, not a short body.
  EXPECT_FALSE(t->raw_response(echo,
                               std::string_view("\x12\x05"
                                                "ab",
                                                4),
                               type, out, why));
  EXPECT_EQ(why.status, 502);
  // response_body naming an HttpBody field: Attachment{id = 1, body = 2}.
  auto att = t->match("GET", "/v1/attachments/a1");
  google::protobuf::UnknownFieldSet inner, outer;
  inner.AddLengthDelimited(1, "application/pdf");
  inner.AddLengthDelimited(2, "%PDF-1.7");
  std::string inner_bytes, outer_bytes;
  inner.SerializeToString(&inner_bytes);
  outer.AddLengthDelimited(1, "a1");
  outer.AddLengthDelimited(2, inner_bytes);
  outer.SerializeToString(&outer_bytes);
  ASSERT_TRUE(t->raw_response(att, outer_bytes, type, out, why)) << why.message;
  EXPECT_EQ(type, "application/pdf");
  EXPECT_EQ(out, "%PDF-1.7");
  // The field as a varint on the wire: not an HttpBody.
  EXPECT_FALSE(t->raw_response(att, std::string_view("\x10\x01", 2), type, out, why));
}

}  // namespace gatehouse::transcode
