// `gatehouse mock SPEC --listen HOST:PORT [--dynamic]`: a mock server for one
// OpenAPI document, Prism-style. It is the normal server on a generated
// config (one `specs:` entry, one catch-all mock route), so the CLI and a
// mock route answer exactly alike.
#pragma once

#include <string>
#include <vector>

namespace gatehouse::cli {

// args: what follows "mock" on the command line. Returns the exit code.
int mock_command(const std::vector<std::string>& args);

// The YAML config the command runs (exposed for tests).
std::string mock_config_yaml(const std::string& spec_path, const std::string& listen,
                             bool dynamic);

}  // namespace gatehouse::cli
