// AWS SigV4 against AWS's published Signature Version 4 test suite
// (aws-sig-v4-test-suite: the .req inputs and .authz signatures), credentials
// AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20150830T123600Z,
// us-east-1, service "service"; plus the IAM ListUsers example from AWS's
// signing documentation.
#include "ai/providers/sigv4.hpp"

#include <gtest/gtest.h>

namespace gatehouse::ai::sigv4 {
namespace {

constexpr const char* kDate = "20150830T123600Z";
constexpr const char* kSessionToken =
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSP"
    "fIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT"
    "7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8"
    "FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

Credentials example() { return {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""}; }

Signed suite(std::string method, std::string path, std::string query,
             std::vector<std::pair<std::string, std::string>> extra = {},
             std::string_view body = {}) {
  Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.query = std::move(query);
  r.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", kDate}};
  for (auto& h : extra) r.headers.push_back(std::move(h));
  r.body = body;
  return sign(r, example(), "us-east-1", "service", kDate);
}

TEST(SigV4, GetVanilla) {
  Signed s = suite("GET", "/", "");
  EXPECT_EQ(s.canonical_request,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "host;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4, SuiteSignatures) {
  EXPECT_EQ(suite("POST", "/", "").signature,
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");  // post-vanilla
  EXPECT_EQ(suite("GET", "/", "Param2=value2&Param1=value1").signature,
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
  EXPECT_EQ(suite("GET", "/", "Param1=value2&Param1=Value1").signature,
            "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1");
  EXPECT_EQ(suite("GET", "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", "")
                .signature,
            "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f");  // get-unreserved
  // normalize-path/get-special-character: the path is encoded again when signed.
  EXPECT_EQ(suite("GET", "/example/$delete", "").signature,
            "a853c9b21b528b19643d00910d35b83a10c366a10833ceefb45edd6c80e40f27");
  Signed trim = suite("GET", "/", "", {{"My-Header1", " value1"}, {"My-Header2", "\"a   b   c\""}});
  EXPECT_NE(trim.canonical_request.find("my-header1:value1\nmy-header2:\"a b c\"\n"),
            std::string::npos);
  EXPECT_EQ(trim.signature, "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736");
  EXPECT_EQ(suite("POST", "/", "", {{"Content-Type", "application/x-www-form-urlencoded"}},
                  "Param1=value1")
                .signature,
            "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a");
}

TEST(SigV4, SessionTokenIsSigned) {
  // post-sts-token/post-sts-header-before.
  Signed s = suite("POST", "/", "", {{"X-Amz-Security-Token", kSessionToken}});
  EXPECT_EQ(s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date;x-amz-security-token, "
            "Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead");
}

TEST(SigV4, IamListUsersExample) {
  Request r;
  r.method = "GET";
  r.path = "/";
  r.query = "Action=ListUsers&Version=2010-05-08";
  r.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
               {"Host", "iam.amazonaws.com"},
               {"X-Amz-Date", kDate}};
  Signed s = sign(r, example(), "us-east-1", "iam", kDate);
  EXPECT_EQ(s.signature, "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
}

TEST(SigV4, BedrockModelIdIsEncodedTwice) {
  // The wire path carries "%3A" for ':'; the canonical URI encodes it again.
  Request r;
  r.method = "POST";
  r.path = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse";
  r.headers = {{"host", "bedrock-runtime.us-east-1.amazonaws.com"}, {"x-amz-date", kDate}};
  Signed s = sign(r, example(), "us-east-1", "bedrock", kDate);
  EXPECT_EQ(s.canonical_request.substr(0, s.canonical_request.find('\n', 5)),
            "POST\n/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse");
  EXPECT_EQ(uri_encode("a b/c:d", true), "a%20b/c%3Ad");
  EXPECT_EQ(uri_encode("a b/c", false), "a%20b%2Fc");
}

TEST(SigV4, AmzDate) {
  EXPECT_EQ(amz_date(std::chrono::system_clock::from_time_t(1440938160)), kDate);
}

}  // namespace
}  // namespace gatehouse::ai::sigv4
