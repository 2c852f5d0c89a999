// Downstream TLS: the contexts the proxy_tls listener hands its connections.
// Built from config::TlsConfig when a snapshot is built (certificate reload
// is a config reload); immutable afterwards and shared by every worker, so
// the session cache and ticket keys (which OpenSSL keeps in the context the
// connection started with) work across workers.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "config/entities.hpp"
#include "net/asio.hpp"
#include "net/tls/sni.hpp"

namespace gatehouse::net::tls {

// ALPN protocols the proxy_tls listener offers, in preference order: h2 first
// when HTTP/2 is enabled (RFC 9113 3.2), then http/1.1. The session dispatches
// on what was negotiated (ConnectionInfo::alpn).
inline constexpr std::string_view kServerAlpnH2[] = {"h2", "http/1.1"};
inline constexpr std::string_view kServerAlpn[] = {"http/1.1"};

class TlsServer {
 public:
  // Reads and checks every certificate and key; the error names the field
  // (tls.certificates[i].cert/key) and its position. When `previous` was
  // built from identical files and settings it is returned as is, so a
  // reload that changes nothing keeps the session cache.
  // `http2` offers h2 in ALPN (config http2.enabled).
  static Result<std::shared_ptr<const TlsServer>> build(
      const config::TlsConfig& cfg, const std::shared_ptr<const TlsServer>& previous,
      bool http2 = false);

  // The context new connections start with (the first certificate); the
  // SNI callback moves a connection to another certificate's context.
  asio::ssl::context& context() const { return *contexts_.front(); }
  int64_t handshake_timeout_ms() const { return handshake_timeout_ms_; }
  bool verifies_clients() const { return verify_clients_; }
  bool offers_h2() const { return offer_h2_; }
  size_t certificate_count() const { return contexts_.size(); }

  TlsServer(const TlsServer&) = delete;
  TlsServer& operator=(const TlsServer&) = delete;
  TlsServer() = default;

 private:
  static int on_servername(SSL* ssl, int* alert, void* arg);

  std::vector<std::unique_ptr<asio::ssl::context>> contexts_;  // one per certificate
  SniIndex names_;
  int64_t handshake_timeout_ms_ = 10'000;
  bool verify_clients_ = false;
  bool offer_h2_ = false;
  std::string identity_;  // file contents + settings: reuse decision on reload
};

}  // namespace gatehouse::net::tls
