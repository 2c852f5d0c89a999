#include "common/yaml_scalar.hpp"

#include <gtest/gtest.h>

namespace gatehouse {
namespace {

TEST(YamlPlainScalar, CoreSchema) {
  EXPECT_TRUE(yaml_plain_scalar("", BigIntegers::kString).is_null());
  EXPECT_TRUE(yaml_plain_scalar("~", BigIntegers::kString).is_null());
  EXPECT_TRUE(yaml_plain_scalar("NULL", BigIntegers::kString).is_null());
  EXPECT_EQ(yaml_plain_scalar("True", BigIntegers::kString), true);
  EXPECT_EQ(yaml_plain_scalar("FALSE", BigIntegers::kString), false);
  // YAML 1.1's booleans are strings in 1.2.
  EXPECT_EQ(yaml_plain_scalar("yes", BigIntegers::kString), "yes");
  EXPECT_EQ(yaml_plain_scalar("on", BigIntegers::kDouble), "on");
  EXPECT_EQ(yaml_plain_scalar("200", BigIntegers::kString), 200);
  EXPECT_EQ(yaml_plain_scalar("+7", BigIntegers::kString), 7);
  EXPECT_EQ(yaml_plain_scalar("-12", BigIntegers::kString), -12);
  EXPECT_EQ(yaml_plain_scalar("1.5", BigIntegers::kString), 1.5);
  EXPECT_EQ(yaml_plain_scalar("2e3", BigIntegers::kString), 2000.0);
  EXPECT_EQ(yaml_plain_scalar("1e", BigIntegers::kString), "1e");
  EXPECT_EQ(yaml_plain_scalar(".", BigIntegers::kString), ".");
  EXPECT_EQ(yaml_plain_scalar("1e999", BigIntegers::kString), "1e999");  // not finite
  EXPECT_EQ(yaml_plain_scalar("0x1F", BigIntegers::kString), "0x1F");
}

TEST(YamlPlainScalar, IntegersBeyondInt64) {
  const std::string big = "18446744073709551616";
  EXPECT_EQ(yaml_plain_scalar(big, BigIntegers::kString), boost::json::value(big));
  auto d = yaml_plain_scalar(big, BigIntegers::kDouble);
  ASSERT_TRUE(d.is_double());
  EXPECT_DOUBLE_EQ(d.get_double(), 18446744073709551616.0);
}

}  // namespace
}  // namespace gatehouse
