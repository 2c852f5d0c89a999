#include "transcode/metadata.hpp"

#include <gtest/gtest.h>

namespace gatehouse::transcode {

namespace {
struct Field {
  std::string name, value;
};
}  // namespace

TEST(TranscodeMetadata, HeadersAndTrailersGetTheirPrefix) {
  std::vector<Field> in = {{"x-served-by", "peer-1"},
                           {"x-cost-bin", "AAH/"},
                           {"content-type", "application/grpc"},
                           {"grpc-status", "0"},
                           {"grpc-message", "ok"},
                           {"grpc-status-details-bin", "CAE"},
                           {"grpc-encoding", "identity"},
                           {":status", "200"},
                           {"te", "trailers"},
                           {"connection", "close"},
                           {"x-bad", "a\r\nx-injected: 1"}};
  std::vector<http1::Header> out;
  metadata_headers(in, false, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].name, "grpc-metadata-x-served-by");
  EXPECT_EQ(out[0].value, "peer-1");
  // -bin stays as it travelled: base64.
  EXPECT_EQ(out[1].name, "grpc-metadata-x-cost-bin");
  EXPECT_EQ(out[1].value, "AAH/");
  out.clear();
  metadata_headers(in, true, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].name, "grpc-trailer-x-served-by");
}

TEST(TranscodeMetadata, ReservedAndMalformedKeys) {
  EXPECT_TRUE(is_forwarded_metadata("x-request-id"));
  EXPECT_TRUE(is_forwarded_metadata("date"));
  EXPECT_FALSE(is_forwarded_metadata(""));
  EXPECT_FALSE(is_forwarded_metadata("GRPC-Status"));
  EXPECT_FALSE(is_forwarded_metadata("grpc-accept-encoding"));
  EXPECT_FALSE(is_forwarded_metadata("content-length"));
  EXPECT_FALSE(is_forwarded_metadata("transfer-encoding"));
  EXPECT_FALSE(is_forwarded_metadata("bad name"));
  EXPECT_FALSE(is_forwarded_metadata("x:y"));
  EXPECT_TRUE(valid_field_value("text/plain; charset=utf-8"));
  EXPECT_FALSE(valid_field_value("a\nb"));
  EXPECT_FALSE(valid_field_value(std::string_view("a\0b", 3)));
}

}  // namespace gatehouse::transcode
