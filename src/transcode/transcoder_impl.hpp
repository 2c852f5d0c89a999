// Transcoder's libprotobuf state, shared by transcoder.cpp (descriptors,
// JSON) and http_body.cpp (google.api.HttpBody); nothing else includes it,
// so libprotobuf's headers stay in those two files.
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/type_resolver.h>
#include <google/protobuf/util/type_resolver_util.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "transcode/transcoder.hpp"

namespace gatehouse::transcode {

inline constexpr const char* kUrlPrefix = "type.googleapis.com";

struct Transcoder::Impl {
  google::protobuf::DescriptorPool pool;
  std::vector<const google::protobuf::MethodDescriptor*> methods;  // by Method index
  google::protobuf::util::JsonPrintOptions print;
  std::unique_ptr<google::protobuf::util::TypeResolver> resolver() const {
    return std::unique_ptr<google::protobuf::util::TypeResolver>(
        google::protobuf::util::NewTypeResolverForDescriptorPool(kUrlPrefix, &pool));
  }
};

// google.api.HttpBody as googleapis defines it: a string content_type and
// bytes data (extensions are carried as they come). A message of that name
// with another shape is an ordinary message.
bool is_http_body(const google::protobuf::Descriptor* d);

// Appends the request's raw body to `out` (the message's bytes so far): the
// HttpBody fields themselves for body "*", else the HttpBody field `field` of
// `in`. Protobuf concatenation is a merge, and the JSON part never sets these
// fields, so the result is one message.
void append_http_body(const google::protobuf::Descriptor* in, const std::string& field,
                      std::string_view content_type, std::string_view data, std::string& out);

}  // namespace gatehouse::transcode
