// The request-validation policy (request_validation.cpp): registration and
// its Prometheus lines, appended to /metrics by the server.
#pragma once

#include <string>

namespace gatehouse::policy {

class Registry;
void register_request_validation(Registry& r);
std::string render_validation_metrics();

}  // namespace gatehouse::policy
