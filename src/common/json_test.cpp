#include "common/json.hpp"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <boost/system/system_error.hpp>
#include <cstdint>
#include <cstring>
#include <random>

namespace gatehouse {
namespace {

namespace json = boost::json;

double parsed_double(std::string_view text) {
  return parse_json(text).as_double();
}

TEST(Json, DoublesComeBackExactlyFromTheirShortestText) {
  // Values Boost.JSON 1.81's own parser reads one unit in the last place off.
  EXPECT_EQ(parsed_double("113.17408141314563"), 113.17408141314563);
  EXPECT_EQ(parsed_double("494.31128204553835"), 494.31128204553835);
  EXPECT_EQ(parsed_double("0.30000000000000004"), 0.1 + 0.2);
  // Every finite double survives print (Boost.JSON's shortest form) and parse.
  std::mt19937_64 gen(7);
  int wrong = 0;
  for (int i = 0; i < 200000; ++i) {
    uint64_t bits = gen();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    if (!std::isfinite(d)) continue;
    if (parse_json(json::serialize(json::value(d))).as_double() != d) ++wrong;
  }
  EXPECT_EQ(wrong, 0);
}

TEST(Json, LongNumbersReachAFixedPointAtOnce) {
  std::string text(120, '7');
  json::value first = parse_json(text);
  json::value second = parse_json(json::serialize(first));
  EXPECT_EQ(first, second);
  EXPECT_EQ(json::serialize(second), json::serialize(parse_json(json::serialize(second))));
}

TEST(Json, IntegersStayIntegers) {
  EXPECT_TRUE(parse_json("9223372036854775807").is_int64());
  EXPECT_TRUE(parse_json("18446744073709551615").is_uint64());
  EXPECT_TRUE(parse_json("18446744073709551616").is_double());
  EXPECT_EQ(parse_json("-12").as_int64(), -12);
}

TEST(Json, NumbersNoDoubleHoldsAreRefused) {
  boost::system::error_code ec;
  parse_json(R"({"a":1e400})", ec);
  EXPECT_EQ(ec, json::error::exponent_overflow);
  parse_json("-1e309", ec);
  EXPECT_EQ(ec, json::error::exponent_overflow);
  // Boost.JSON's own reading of 0e400 is NaN; the exact one is zero.
  EXPECT_EQ(parsed_double("0e400"), 0.0);
  // Underflow is a zero, as the grammar's value nearest to it.
  EXPECT_EQ(parsed_double("1e-400"), 0.0);
}

TEST(Json, ErrorsAreBoostJsonsOwn) {
  boost::system::error_code ec;
  EXPECT_TRUE(parse_json("[1] x", ec).is_null());
  EXPECT_EQ(ec, json::error::extra_data);
  parse_json("", ec);
  EXPECT_EQ(ec, json::error::incomplete);
  parse_json("[1,]", ec);
  EXPECT_EQ(ec, json::error::syntax);
  parse_json(R"({"a":/*c*/1})", ec);
  EXPECT_EQ(ec, json::error::syntax);
  EXPECT_THROW(parse_json("{"), boost::system::system_error);
}

TEST(Json, OptionsApply) {
  json::parse_options opt;
  opt.allow_comments = true;
  opt.allow_trailing_commas = true;
  boost::system::error_code ec;
  json::value v = parse_json(R"({"a":/*c*/[1.5,],})", ec, {}, opt);
  ASSERT_FALSE(ec);
  EXPECT_EQ(v.at("a").as_array().size(), 1u);
  opt.max_depth = 2;
  parse_json("[[[1]]]", ec, {}, opt);
  EXPECT_EQ(ec, json::error::too_deep);
}

TEST(Json, StringsKeysAndEscapesAreKept) {
  json::value v = parse_json(R"({"k\u00e9y":"a\"b\n","n":null,"t":true,"e":[]})");
  EXPECT_EQ(v.at("k\xc3\xa9y").as_string(), "a\"b\n");
  EXPECT_TRUE(v.at("n").is_null());
  EXPECT_TRUE(v.at("t").as_bool());
  EXPECT_TRUE(v.at("e").as_array().empty());
}

}  // namespace
}  // namespace gatehouse
