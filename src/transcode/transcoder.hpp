// HTTP/JSON <-> gRPC transcoding for one route (docs/grpc.md#httpjson-transcoding):
// the descriptor set, the HTTP bindings (google.api.http annotations and the
// route's explicit mapping), request JSON + path + query -> protobuf bytes,
// protobuf bytes -> JSON. Built once at config load; const and shared by every
// worker afterwards. libprotobuf stays inside transcoder.cpp (pimpl), so only
// that file pays for its headers.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/entities.hpp"
#include "transcode/path_template.hpp"

namespace gatehouse::transcode {

// A request the transcoder refuses: HTTP status, stable code, message, and
// the field (path variable, query parameter or body member) at fault.
struct Problem {
  int status = 400;
  std::string code;
  std::string message;
  std::string field;
};

// A config problem; `where` is relative to the route's grpc_transcode block
// ("descriptor", "services[1]", "mapping[0].get").
struct BuildProblem {
  std::string where;
  std::string message;
};

struct Method {
  std::string grpc_path;  // "/pkg.Service/Method"
  std::string input_type;
  std::string output_type;
  bool client_streaming = false;
  bool server_streaming = false;
};

struct Binding {
  std::string verb;  // GET, POST, ... (upper case), or a custom method
  std::string path;  // as written
  PathTemplate tmpl;
  std::string body;           // "", "*" or a top-level field of the request
  std::string response_body;  // "" or a top-level field of the response
  size_t method = 0;          // into Transcoder::methods()
  // google.api.HttpBody (docs/grpc.md#raw-bodies-googleapihttpbody): the
  // request body goes raw into the message (body "*" of an HttpBody request)
  // or into the HttpBody `body` field, with its Content-Type; the answer is
  // the HttpBody's bytes (the whole response, or its response_body field).
  bool raw_request = false;
  bool raw_response = false;
};

class Transcoder {
 public:
  static std::shared_ptr<const Transcoder> build(const config::RouteGrpcTranscodeConfig& cfg,
                                                 std::vector<BuildProblem>& problems);
  ~Transcoder();
  Transcoder(const Transcoder&) = delete;
  Transcoder& operator=(const Transcoder&) = delete;

  struct Match {
    const Binding* binding = nullptr;
    const Method* method = nullptr;
    std::vector<Capture> captures;
    bool path_known = false;  // no binding, but one with another verb has this path (405)
  };
  Match match(std::string_view verb, std::string_view path) const;

  // The request message (protobuf bytes, not framed) from the JSON body, the
  // path captures and the query string. For a raw_request binding `body` is
  // the HttpBody's data as sent and `content_type` the request's.
  bool request(const Match& m, std::string_view query, std::string_view body, std::string& out,
               Problem& why, std::string_view content_type = {}) const;
  // One response message as JSON (the whole message or its response_body).
  bool response(const Match& m, std::string_view message, std::string& json, Problem& why) const;
  // One response message of a raw_response binding: the HttpBody's
  // content_type (empty when unset) and data.
  bool raw_response(const Match& m, std::string_view message, std::string& content_type,
                    std::string& data, Problem& why) const;
  // {"code": N, "message": "...", "details": [...]} for a gRPC error;
  // `details_bin` is grpc-status-details-bin as sent (base64 google.rpc.Status).
  std::string error_body(int code, std::string_view message, std::string_view details_bin) const;

  const std::vector<Method>& methods() const { return methods_; }
  const std::vector<Binding>& bindings() const { return bindings_; }
  const config::RouteGrpcTranscodeConfig& config() const { return cfg_; }

 private:
  Transcoder() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  config::RouteGrpcTranscodeConfig cfg_;
  std::vector<Method> methods_;
  std::vector<Binding> bindings_;
};

}  // namespace gatehouse::transcode
