#include "net/http1/path.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gatehouse::http1 {
namespace {

using namespace std::string_literals;

struct Case {
  std::string in;
  std::string path;
  std::string query;
};

TEST(NormalizeTarget, Table) {
  const Case cases[] = {
      {"/", "/", ""},
      {"/a/b", "/a/b", ""},
      {"/a/./b/../c", "/a/c", ""},
      {"//a///b", "/a/b", ""},
      {"/%7euser", "/~user", ""},
      {"/%7Euser", "/~user", ""},
      {"/%2e%2e/x", "/x", ""},
      {"/%2E%2e/%2e/x", "/x", ""},
      {"/.%2e/x", "/x", ""},
      {"/a/..", "/", ""},
      {"/a/b/..", "/a/", ""},
      {"/a/.", "/a/", ""},
      {"/a/./", "/a/", ""},
      {"/..", "/", ""},
      {"/../../..", "/", ""},
      {"/../a/../../b", "/b", ""},
      {"/.", "/", ""},
      {"/./", "/", ""},
      {"//", "/", ""},
      {"/a/b/", "/a/b/", ""},
      {"/a//b//", "/a/b/", ""},
      {"/%41", "/A", ""},
      {"/%61%62c", "/abc", ""},
      {"/%3a", "/%3A", ""},
      {"/%3A", "/%3A", ""},
      {"/%c3%a9", "/%C3%A9", ""},
      {"/%25", "/%25", ""},
      {"/%2541", "/%2541", ""},
      {"/a%20b", "/a%20b", ""},
      {"/...", "/...", ""},
      {"/a/.../b", "/a/.../b", ""},
      {"/.a/..b/c.", "/.a/..b/c.", ""},
      {"/a;b=c/d", "/a;b=c/d", ""},
      {"/a:b@c!$&'()*+,=", "/a:b@c!$&'()*+,=", ""},
      {"/a|b", "/a%7Cb", ""},
      {"/a%7cb", "/a%7Cb", ""},
      {"/{x}/[y]/\"q\"/<>/^/`", "/%7Bx%7D/%5By%5D/%22q%22/%3C%3E/%5E/%60", ""},
      {"/a?b=c", "/a", "b=c"},
      {"/a?", "/a", ""},
      {"/?x", "/", "x"},
      {"/a/../?x=/../y", "/", "x=/../y"},
      {"/a?b=%zz&c=\\&d=?e", "/a", "b=%zz&c=\\&d=?e"},
      {"/p/%2e%2e?q", "/", "q"},
      {"/%2E", "/", ""},
  };
  for (const Case& c : cases) {
    auto r = normalize_target(c.in);
    ASSERT_TRUE(r.ok()) << c.in << ": " << r.error().code;
    EXPECT_EQ(r->path, c.path) << c.in;
    EXPECT_EQ(r->query, c.query) << c.in;
    EXPECT_EQ(r->authority, "") << c.in;
    // Normalising the output again changes nothing.
    auto again = normalize_target(r->path);
    ASSERT_TRUE(again.ok()) << r->path;
    EXPECT_EQ(again->path, r->path);
  }
}

void expect_reject(std::string_view in, const std::string& code) {
  auto r = normalize_target(in);
  ASSERT_FALSE(r.ok()) << in << " -> " << r->path;
  EXPECT_EQ(r.error().code, code) << in;
  EXPECT_EQ(r.error().status, 400);
  EXPECT_EQ(r.error().side, ErrorSide::kDownstream);
  EXPECT_EQ(r.error().field, "path");
  EXPECT_FALSE(r.error().message.empty());
}

TEST(NormalizeTarget, PercentEncodingErrors) {
  expect_reject("/a%", "bad_percent_encoding");
  expect_reject("/a%4", "bad_percent_encoding");
  expect_reject("/a%4?x", "bad_percent_encoding");
  expect_reject("/a%zz", "bad_percent_encoding");
  expect_reject("/a%g0", "bad_percent_encoding");
  expect_reject("/a%%41", "bad_percent_encoding");
  expect_reject("/a%00b", "encoded_nul");
  expect_reject("/a%2fb", "encoded_slash");
  expect_reject("/a%2Fb", "encoded_slash");
  expect_reject("/a%5cb", "encoded_slash");
  expect_reject("/a%5Cb", "encoded_slash");
  expect_reject("/..%2f..%2fetc/passwd", "encoded_slash");
}

TEST(NormalizeTarget, BadPathChars) {
  expect_reject("/a\\b", "bad_path_char");
  expect_reject("/..\\..\\x", "bad_path_char");
  expect_reject("/a#frag", "bad_path_char");
  expect_reject("/a b", "bad_path_char");
  expect_reject("/a\tb", "bad_path_char");
  expect_reject("/a\x7f", "bad_path_char");
  expect_reject("/a\r\nX: y", "bad_path_char");
  expect_reject("/a\0b"s, "bad_path_char");
  expect_reject("/caf\xc3\xa9", "bad_path_char");
  expect_reject("/a/..;/admin", "dot_segment_params");
  expect_reject("/a/.;x/b", "dot_segment_params");
  expect_reject("/%2e%2e;/admin", "dot_segment_params");
}

TEST(NormalizeTarget, BadQueryChars) {
  expect_reject("/a?b c", "bad_query_char");
  expect_reject("/a?b#c", "bad_query_char");
  expect_reject("/a?b\x01", "bad_query_char");
  expect_reject("/a?\xc3\xa9", "bad_query_char");
  expect_reject("/a?x\x7f", "bad_query_char");
}

TEST(NormalizeTarget, TargetForms) {
  expect_reject("", "bad_target");
  expect_reject("a/b", "bad_target");
  expect_reject("example.com:443", "bad_target");
  expect_reject("?x", "bad_target");
  expect_reject("ftp://h/a", "bad_target");
  expect_reject("**", "bad_target");

  auto star = normalize_target("*");
  ASSERT_TRUE(star.ok());
  EXPECT_EQ(star->path, "*");

  auto r = normalize_target("http://Example.COM:8080/a/../b?x=1");
  ASSERT_TRUE(r.ok()) << r.error().code;
  EXPECT_EQ(r->authority, "example.com:8080");
  EXPECT_EQ(r->path, "/b");
  EXPECT_EQ(r->query, "x=1");

  r = normalize_target("HTTPS://h");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->authority, "h");
  EXPECT_EQ(r->path, "/");

  r = normalize_target("http://h?q");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->path, "/");
  EXPECT_EQ(r->query, "q");

  r = normalize_target("http://[::1]:80//x");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->authority, "[::1]:80");
  EXPECT_EQ(r->path, "/x");

  r = normalize_target("http://a-b.c_d~e!$&'()*+,;=/");
  ASSERT_TRUE(r.ok()) << r.error().message;
}

TEST(NormalizeTarget, BadAuthority) {
  expect_reject("http:///a", "bad_authority");
  expect_reject("http://", "bad_authority");
  expect_reject("http://user@h/a", "bad_authority");
  expect_reject("http://user:pw@h/a", "bad_authority");
  EXPECT_NE(normalize_target("http://user:pw@h/a").error().message.find("userinfo"),
            std::string::npos);
  expect_reject("http://h:/a", "bad_authority");
  expect_reject("http://h:99999/a", "bad_authority");
  expect_reject("http://h:8o/a", "bad_authority");
  expect_reject("http://:80/a", "bad_authority");
  expect_reject("http://h#x/a", "bad_authority");
  expect_reject("http://h\\x/a", "bad_authority");
  expect_reject("http://[::1/a", "bad_authority");
  expect_reject("http://[::1]x/a", "bad_authority");
  expect_reject("http://[zz]/a", "bad_authority");
  expect_reject("http://h/a%2fb", "encoded_slash");
}

TEST(NormalizeTarget, LongTargetsStayLinear) {
  std::string in;
  for (int i = 0; i < 2000; ++i) in += "/a/..";
  auto r = normalize_target(in);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->path, "/");
  in.clear();
  for (int i = 0; i < 2000; ++i) in += "/%2e%2e//./seg";
  r = normalize_target(in);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->path, "/seg");
}

}  // namespace
}  // namespace gatehouse::http1
