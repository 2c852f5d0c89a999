// Request (and response) validation against one OpenAPI operation: its
// parameters, deserialized per style/explode and typed by their schemas,
// and its JSON request body. Compiled once (per snapshot at the gateway, per
// spec in the mock server), then used from any thread.
//
//   auto rv = RequestValidator::compile(doc, op);        // config time
//   auto violations = (*rv)->validate(view);             // per request
//   int status = RequestValidator::status_for(violations);  // 400 or 415
#pragma once

#include <boost/json/value.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "apim/openapi/document.hpp"
#include "apim/schema/params.hpp"
#include "apim/schema/validator.hpp"
#include "common/result.hpp"

namespace gatehouse::apim::schema {

// One request as the validator needs it; everything is borrowed.
struct RequestView {
  std::string_view path;   // raw path as received (percent-encoded), no query
  std::string_view query;  // raw query, without '?'
  std::vector<std::pair<std::string_view, std::string_view>> headers;  // any case
  // The whole body; nullopt when the request has none.
  std::optional<std::string_view> body;
  // Raw path parameter values, when the caller matched the path already
  // (match_operation's path_params). Empty: taken from `path` with the
  // operation's template after `base_path`.
  std::vector<std::pair<std::string, std::string>> path_params;
  std::string_view base_path;
};

struct ValidatorOptions {
  bool parameters = true;
  bool body = true;
  size_t max_errors = 16;
  bool formats = true;
};

// Violations of a request use Violation::instance for the request location:
// "query.limit", "path.petId", "header.X-Rate", "cookie.session",
// "query.filter/status" (inside an object parameter), "body", "body/items/0/id".
class RequestValidator {
 public:
  static Result<std::shared_ptr<const RequestValidator>> compile(const openapi::Document& d,
                                                                 const openapi::Operation& op,
                                                                 const ValidatorOptions& o = {});

  std::vector<Violation> validate(const RequestView& r) const;
  // The two halves of validate(), for callers that see the head before the
  // body (the gateway): each appends up to the error cap.
  void validate_parameters(const RequestView& r, std::vector<Violation>& out) const;
  void validate_body(const RequestView& r, std::vector<Violation>& out) const;
  // The operation describes a request body (so the body must be looked at).
  bool has_body() const { return has_body_; }

  // 415 when the body's media type is not accepted (keyword "contentType"),
  // 400 for everything else; 0 when there is nothing to report.
  static int status_for(const std::vector<Violation>& v);

  // Response bodies (report-only validation at the gateway, the mock's own
  // checks): the schema for this status and media type, if any. `body`
  // must be the whole body. Locations read "response/items/0".
  std::vector<Violation> validate_response(int status, std::string_view content_type,
                                           std::string_view body) const;
  bool has_response_schemas() const { return !responses_.empty(); }

  const openapi::Operation& operation() const { return op_; }

 private:
  struct Param {
    const openapi::Parameter* p;
    ParamShape shape;
    std::optional<Validator> validator;  // none without a schema
    std::string location;                // "query.limit"
  };
  struct Media {
    std::string type;  // lower case, "application/json", "application/*", "*/*"
    std::optional<Validator> validator;
  };
  struct ResponseSchemas {
    std::string status;  // "200", "2XX", "default"
    std::vector<Media> content;
  };

  openapi::Operation op_;  // a copy: validators outlive a document swap
  ValidatorOptions options_;
  std::vector<Param> params_;
  bool body_required_ = false;
  bool has_body_ = false;
  std::vector<Media> body_;
  std::vector<ResponseSchemas> responses_;
};

// "application/json; charset=utf-8" -> "application/json".
std::string media_type_of(std::string_view content_type);
bool is_json_media_type(std::string_view media_type);

}  // namespace gatehouse::apim::schema
