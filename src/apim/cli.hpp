// `gatehouse openapi ...`: import (document -> gateway config YAML), diff
// (breaking changes between two documents) and lint.
#pragma once

#include <string>
#include <vector>

namespace gatehouse::apim {

// args: what follows "openapi" on the command line. Returns the exit code.
int openapi_command(const std::vector<std::string>& args);

}  // namespace gatehouse::apim
