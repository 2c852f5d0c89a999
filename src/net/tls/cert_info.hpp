// What a certificate says about its holder, read once per connection (a
// client certificate) or per load (a server certificate's names).
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <optional>
#include <string>
#include <vector>

namespace gatehouse::net::tls {

// A verified client certificate, as policies see it.
struct PeerCertificate {
  std::string subject;  // RFC 2253: "CN=alice,O=Acme"
  std::string issuer;   // RFC 2253
  std::vector<std::string> san_dns;
  std::vector<std::string> san_uri;
  std::vector<std::string> san_email;
  std::string fingerprint_sha256;  // lower-case hex of the DER encoding
};

PeerCertificate describe_certificate(X509* cert);

// A finished downstream handshake: for the access log and policies.
struct ConnectionInfo {
  std::string version;  // "TLSv1.3"
  std::string cipher;
  std::string sni;   // as the client sent it, "" without SNI
  std::string alpn;  // negotiated protocol, "" without ALPN
  bool resumed = false;
  // Present only when the client sent a certificate and it verified.
  std::optional<PeerCertificate> peer;
};

ConnectionInfo describe_connection(SSL* ssl);

// The DNS names a server certificate answers for: its SAN DNS entries, or
// its subject CN when it has none (the old convention clients still accept).
std::vector<std::string> server_names(X509* cert);

// The latest OpenSSL error as text ("" when the queue is empty); clears it.
std::string last_openssl_error();

}  // namespace gatehouse::net::tls
