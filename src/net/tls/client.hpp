// Upstream TLS: one client context per upstream (built with the snapshot),
// and the per-connection settings (SNI, the name the certificate must carry).
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "common/result.hpp"
#include "config/entities.hpp"
#include "net/asio.hpp"

namespace gatehouse::net::tls {

// Verifies peers against `ca_file` (or the system bundle when empty) unless
// verify is off; presents client_cert/client_key when set. TLS 1.2+, ALPN
// http/1.1. `field` prefixes error field paths ("upstreams[0].tls").
Result<std::shared_ptr<asio::ssl::context>> make_upstream_context(
    const config::UpstreamTlsConfig& cfg, const std::string& field);

// The settings of a tls: block that connections made with it depend on
// (not its position; file contents are read when the block changes): equal
// keys, interchangeable contexts and clients across reloads.
std::string upstream_tls_key(const config::UpstreamTlsConfig& cfg);

// Per connection: SNI (DNS names only; never an IP literal, RFC 6066 3) and
// the expected name or IP in the peer certificate when verifying. False when
// OpenSSL refused the name.
bool prepare_client_ssl(SSL* ssl, const std::string& name, bool verify);

}  // namespace gatehouse::net::tls
