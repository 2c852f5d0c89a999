// An outbound `tls:` block (sni, verify, ca_file, client_cert, client_key),
// read and checked in one place for the two things that have one: an
// upstream's targets and an https MCP server (docs/tls.md "Upstream TLS").
#pragma once

#include <functional>
#include <string>

#include "config/loader_reader.hpp"

namespace gatehouse::config {

// Reports each problem of an enabled block through `error`, field paths
// under `field` ("upstreams[0].tls"). Semantic rules only: whether the files
// hold usable PEM is known when the client context is built
// (net/tls/client.hpp), which `gatehouse check` does too.
using TlsErrorFn = std::function<void(const SourcePos& fallback, const std::string& field,
                                      std::string code, std::string message)>;
void check_upstream_tls(const UpstreamTlsConfig& t, const std::string& field,
                        const TlsErrorFn& error);

namespace detail {

// Writing the block turns TLS on. `with_enabled`: the `enabled` key is known
// (upstreams; an MCP server's URL scheme says it instead). `relative_to_file`:
// relative file paths are taken from the config file's folder.
void parse_upstream_tls(Reader& r, const Slot& s, UpstreamTlsConfig& t, bool with_enabled,
                        bool relative_to_file);

// `path` as seen from the folder of the config file `config_file` (as
// compose files do), unchanged when absolute, empty, or when the config did
// not come from a file (a name like "<admin>" or "store:...").
std::string config_relative(const std::string& config_file, const std::string& path);

}  // namespace detail

}  // namespace gatehouse::config
