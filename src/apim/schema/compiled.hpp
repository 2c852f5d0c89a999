// What the gateway's request-validation policy and the mock routes share:
// compiled validators cached per document and operation, and the 400/415
// problem+json body listing violations.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "apim/openapi/document.hpp"
#include "apim/schema/request_validator.hpp"
#include "common/result.hpp"

namespace gatehouse::apim::schema {

// The validator of `op` in `doc`, compiled once for as long as the document
// lives: a spec deployed on 1,000 routes (or mocked on one route answering
// all its operations) compiles each operation once, node-wide. Thread-safe.
Result<std::shared_ptr<const RequestValidator>> compiled_validator(
    const std::shared_ptr<const openapi::Document>& doc, const openapi::Operation& op);

struct ViolationProblem {
  int status = 400;  // 400, or 415 when the body's media type is not accepted
  std::string body;  // application/problem+json with errors[] (location, keyword, message, schema)
};
ViolationProblem violation_problem(const std::vector<Violation>& v, std::string_view request_id);

// "query.limit keyword: message; ...; +N more": the first three, for logs.
std::string violation_summary(const std::vector<Violation>& v);

}  // namespace gatehouse::apim::schema
