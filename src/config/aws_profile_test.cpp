// The AWS shared files: INI dialect, profile lookup, region default.
#include "config/aws_profile.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "config/loader_test_util.hpp"

namespace gatehouse::config::aws {
namespace {

const std::string* find(const IniSection& s, std::string_view k) {
  for (const auto& [key, v] : s.props)
    if (key == k) return &v;
  return nullptr;
}

TEST(AwsIni, SectionsPropertiesAndComments) {
  auto r = parse_ini(
      "\xEF\xBB\xBF# a comment\r\n"
      "[default]\r\n"
      "aws_access_key_id = AKIDEXAMPLE\r\n"
      "AWS_Secret_Access_Key=wJalr/K7MDENG+bPxRfiCY#notacomment ; but this is\n"
      "\n"
      "; another comment\n"
      "[ profile  dev ]   # trailing comment\n"
      "region = eu-west-3\n"
      "s3 =\n"
      "  addressing_style = path\n"
      "[default]\n"
      "aws_session_token = tok=en==\n",
      "creds");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  const auto& d = (*r)[0];
  EXPECT_EQ(d.name, "default");
  EXPECT_EQ(*find(d, "aws_access_key_id"), "AKIDEXAMPLE");
  EXPECT_EQ(*find(d, "aws_secret_access_key"), "wJalr/K7MDENG+bPxRfiCY#notacomment");
  EXPECT_EQ(*find(d, "aws_session_token"), "tok=en==");  // a repeated section merges
  const auto& p = (*r)[1];
  EXPECT_EQ(p.name, "profile  dev");
  EXPECT_EQ(p.line, 7);
  EXPECT_EQ(*find(p, "region"), "eu-west-3");
  EXPECT_EQ(*find(p, "s3"), "\naddressing_style = path");
}

TEST(AwsIni, ErrorsNameFileAndLineNotContent) {
  struct Case {
    const char* text;
    const char* want;
  };
  for (const Case& c :
       {Case{"key = secret-value\n", "f:1: a property before the first [section]"},
        Case{"[default\nx=1\n", "f:1: a section header needs a closing ']'"},
        Case{"[default]\nAKIDSECRETLINE\n", "f:2: expected a [section] or 'name = value'"},
        Case{"[]\n", "f:1: a section needs a name"},
        Case{"[a] b\n", "f:1: text after a section header's ']'"},
        Case{"  indented = first\n", "f:1: an indented line continues no property"},
        Case{"[a]\n= v\n", "f:2: a property needs a name before '='"}}) {
    auto r = parse_ini(c.text, "f");
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().message, c.want);
    EXPECT_EQ(r.error().message.find("secret"), std::string::npos);
    EXPECT_EQ(r.error().message.find("AKID"), std::string::npos);
  }
}

TEST(AwsIni, ProfileLookupLikeTheSdks) {
  auto creds = parse_ini(
      "[default]\naws_access_key_id = CRED_DEFAULT\naws_secret_access_key = s1\n"
      "[dev]\naws_access_key_id = CRED_DEV\naws_secret_access_key = s2\n"
      "[profile odd]\naws_access_key_id = LITERAL\naws_secret_access_key = s3\n",
      "credentials");
  auto conf = parse_ini(
      "[default]\nregion = us-east-1\naws_access_key_id = CONF_DEFAULT\n"
      "[profile default]\nregion = us-east-2\n"
      "[profile dev]\nregion = eu-central-1\naws_access_key_id = CONF_DEV\n"
      "[ci]\naws_access_key_id = IGNORED\n"
      "[profile assume]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = dev\n"
      "[profile conf-only]\naws_access_key_id = C\naws_secret_access_key = S\n"
      "aws_session_token = T\n",
      "config");
  ASSERT_TRUE(creds && conf);
  auto d = find_profile(*creds, *conf, "default");
  EXPECT_TRUE(d.found);
  EXPECT_EQ(d.access_key_id, "CRED_DEFAULT");  // the credentials file wins
  EXPECT_EQ(d.region, "us-east-2");            // [profile default] over [default]
  auto dev = find_profile(*creds, *conf, "dev");
  EXPECT_EQ(dev.access_key_id, "CRED_DEV");
  EXPECT_EQ(dev.secret_access_key, "s2");
  EXPECT_EQ(dev.region, "eu-central-1");
  // [ci] in the config file is not a profile; [profile odd] in the
  // credentials file is a profile literally named "profile odd".
  EXPECT_FALSE(find_profile(*creds, *conf, "ci").found);
  EXPECT_FALSE(find_profile(*creds, *conf, "odd").found);
  EXPECT_EQ(find_profile(*creds, *conf, "profile odd").access_key_id, "LITERAL");
  auto assume = find_profile(*creds, *conf, "assume");
  EXPECT_TRUE(assume.found);
  EXPECT_TRUE(assume.access_key_id.empty());
  EXPECT_EQ(assume.unsupported, "role_arn");
  auto c = find_profile(*creds, *conf, "conf-only");
  EXPECT_EQ(c.access_key_id, "C");
  EXPECT_EQ(c.session_token, "T");
  EXPECT_FALSE(find_profile(*creds, *conf, "missing").found);
}

TEST(AwsIni, PathsProfileAndRegionFromTheEnvironment) {
  const std::string dir = ::testing::TempDir();
  const std::string conf = dir + "/aws_profile_test_config";
  {
    std::ofstream f(conf);
    f << "[default]\nregion = ap-south-1\n[profile dev]\nregion = sa-east-1\n";
  }
  EnvGuard cf("AWS_CONFIG_FILE", conf.c_str());
  EnvGuard sf("AWS_SHARED_CREDENTIALS_FILE", (dir + "/absent-credentials").c_str());
  EnvGuard r1("AWS_REGION", nullptr), r2("AWS_DEFAULT_REGION", nullptr), p("AWS_PROFILE", nullptr);
  EXPECT_EQ(config_file_path(), conf);
  EXPECT_EQ(profile_name(""), "default");
  EXPECT_EQ(profile_name("x"), "x");
  EXPECT_EQ(default_region(""), "ap-south-1");
  EXPECT_EQ(default_region("dev"), "sa-east-1");
  {
    EnvGuard prof("AWS_PROFILE", "dev");
    EXPECT_EQ(profile_name(""), "dev");
    EXPECT_EQ(default_region(""), "sa-east-1");
  }
  {
    EnvGuard def("AWS_DEFAULT_REGION", "eu-north-1");
    EXPECT_EQ(default_region("dev"), "eu-north-1");
    EnvGuard reg("AWS_REGION", "us-west-1");
    EXPECT_EQ(default_region("dev"), "us-west-1");  // AWS_REGION first
  }
  auto missing = read_shared_file(dir + "/absent-credentials");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->found);
  std::remove(conf.c_str());
}

TEST(AwsIni, ProfileNames) {
  EXPECT_TRUE(valid_profile_name("dev"));
  EXPECT_TRUE(valid_profile_name("team.prod-1_a@x"));
  for (const char* bad : {"", "a b", "a]", "[a", "a\"", "a#", "a;b", "tab\tx"})
    EXPECT_FALSE(valid_profile_name(bad)) << bad;
}

}  // namespace
}  // namespace gatehouse::config::aws
