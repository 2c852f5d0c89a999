#include "common/percent.hpp"

#include <gtest/gtest.h>

namespace gatehouse {
namespace {

TEST(Percent, LenientDecodesEscapesAndKeepsMalformedOnes) {
  EXPECT_EQ(percent_decode("a%20b+c%zz", true), "a b c%zz");
  EXPECT_EQ(percent_decode("a+b", false), "a+b");
  EXPECT_EQ(percent_decode("%41%4a%4A", false), "AJJ");
  EXPECT_EQ(percent_decode("%4", false), "%4");  // truncated at the end
  EXPECT_EQ(percent_decode("%", true), "%");
  EXPECT_EQ(percent_decode("", true), "");
  EXPECT_EQ(percent_decode("%00x", false), std::string("\0x", 2));
}

TEST(Percent, StrictRejectsMalformedEscapes) {
  EXPECT_EQ(percent_decode_strict("a%2Fb+c", true), "a/b c");
  EXPECT_EQ(percent_decode_strict("a+b", false), "a+b");
  EXPECT_FALSE(percent_decode_strict("%zz", false));
  EXPECT_FALSE(percent_decode_strict("ab%4", false));
  EXPECT_FALSE(percent_decode_strict("%", true));
  EXPECT_EQ(percent_decode_strict("%00", false), std::string(1, '\0'));
  EXPECT_FALSE(percent_decode_strict("%00", false, true));
}

TEST(Percent, HexDigits) {
  EXPECT_EQ(hex_digit_value('0'), 0);
  EXPECT_EQ(hex_digit_value('f'), 15);
  EXPECT_EQ(hex_digit_value('F'), 15);
  EXPECT_EQ(hex_digit_value('g'), -1);
  EXPECT_TRUE(is_hex_digit('a'));
  EXPECT_FALSE(is_hex_digit('/'));
}

TEST(Percent, DecodedEqualsAndIntoAgreeWithDecode) {
  for (std::string_view raw : {"a%20b+c%zz", "%41%4a", "%4", "%", "", "x+y", "%2", "caf%C3%A9"}) {
    for (bool plus : {true, false}) {
      std::string want = percent_decode(raw, plus);
      EXPECT_TRUE(percent_decoded_equals(raw, want, plus)) << raw;
      EXPECT_FALSE(percent_decoded_equals(raw, want + "x", plus)) << raw;
      if (!want.empty()) {
        EXPECT_FALSE(percent_decoded_equals(raw, want.substr(1), plus)) << raw;
      }
      std::string into = "left over";
      percent_decode_into(raw, plus, into);
      EXPECT_EQ(into, want);
    }
  }
  EXPECT_TRUE(percent_decoded_equals("a+b", "a b", true));
  EXPECT_FALSE(percent_decoded_equals("a+b", "a b", false));
}

}  // namespace
}  // namespace gatehouse
